"""Wall time of each stage of the quick preset, rerun on its own with its upstream in place.

The quick-preset time budgets of the issues are per stage: diffusion (training, generation,
scores, table) <= 6 min, surrogates (every configuration and scaling study) <= 3 min, ensembles
+ DA tuning + DA runs and sweeps <= 4 min, each on a 2-core machine. This script first brings
the quick preset up to date (untimed), then for each stage forces its rules to run again and
times `snakemake --cores N` on that stage's targets. The baseline is the budget itself: the
script prints measured / budget.

    python bench/quick_stage_times.py                  # all three stages (~15 min on 2 cores)
    python bench/quick_stage_times.py --stage surrogate
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICK = ROOT / "config" / "quick.yaml"

#: stage -> (rules rerun, targets, budget in minutes)
STAGES: dict[str, tuple[list[str], list[str], float]] = {
    "diffusion": (
        ["train_diffusion", "generate_samples", "score_generation", "generation_table"],
        ["results/tables/generation_scores.nc"],
        6.0,
    ),
    "surrogate": (
        [
            "train_surrogate",
            "fit_surrogate",
            "evaluate_surrogate",
            "surrogate_table",
            "surrogate_study",
        ],
        ["results/tables/surrogate_scores.nc"]
        + [
            f"results/surrogate/scaling_{s}.nc"
            for s in ("samples", "corruption", "timestep", "representation")
        ],
        3.0,
    ),
    "assimilation": (
        [
            "ensemble_sweep",
            "da_tune",
            "da_tune_diffusion",
            "da_select",
            "da_run",
            "da_run_diffusion",
            "da_spread_run",
            "da_spread_sweep",
            "da_obs_interval_sweep",
            "da_table",
        ],
        [
            "results/ensembles/diffusion_time_sweep.nc",
            "results/tables/assimilation_scores.nc",
            "results/assimilation/spread_sweep.nc",
            "results/assimilation/obs_interval_sweep.nc",
        ],
        4.0,
    ),
}


def snakemake(*args: str, cores: int) -> float:
    """Run snakemake on the quick preset in the repository root; returns the wall time (s)."""
    cmd = ["snakemake", *args, "--cores", str(cores), "--configfile", str(QUICK)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    return elapsed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--stage", choices=list(STAGES), action="append", help="default: all")
    p.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = p.parse_args()
    print(f"bringing the quick preset up to date (untimed), {args.cores} cores ...", flush=True)
    snakemake(cores=args.cores)
    print(f"{'stage':14s} {'wall (min)':>10s} {'budget':>7s} {'ratio':>6s}")
    for stage in args.stage or list(STAGES):
        rules, targets, budget = STAGES[stage]
        wall = snakemake(*targets, "--forcerun", *rules, cores=args.cores) / 60.0
        print(f"{stage:14s} {wall:10.2f} {budget:7.1f} {wall / budget:6.2f}", flush=True)


if __name__ == "__main__":
    main()
