"""Partial reruns: after a config or script edit, a dry run against the complete tiny run plans
exactly the jobs that depend on the edit, and nothing else.

Every edit is an extra config file (``--configfile tiny.yaml edit.yaml``, later files win key by
key). Dry runs leave the shared tiny run as it is; the executed reruns (section f) work on a
private copy of it. Expectations are sets of rule
names, compared for equality, plus checks on the planned output files where a rule has both
affected and unaffected jobs (e.g. only the new observation interval's DA runs).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from ddmdyn.catalogue import DA_METHODS, SURROGATE_CONFIGURATIONS
from tests.smk import ROOT, TINY, figure_catalogue, planned_jobs, planned_outputs, snakemake

pytestmark = pytest.mark.slow

FIGURES = {int(name[3:5]): name for name in figure_catalogue()}  # {1: 'fig01_...', ...}
TINY_CONFIG = yaml.safe_load(TINY.read_text())
TRAINING_REPORT = "report_training_diffusion"
DRY_RUN_TIMEOUT_S = 600


class Plan:
    """What a dry run would execute: {rule: count} and output paths (the target rule left out)."""

    def __init__(self, output: str) -> None:
        self.output = output
        self.jobs = {r: n for r, n in planned_jobs(output).items() if r != "all"}
        self.outputs = planned_outputs(output)
        self.rules = set(self.jobs)

    def outputs_of(self, pattern: str) -> set[str]:
        return {o for o in self.outputs if re.search(pattern, o)}


def dry_run(workdir: Path, tmp_path: Path, edit: dict | None = None) -> Plan:
    """`snakemake -n` from the repository root against `workdir`, with `edit` as a config file."""
    configs = [str(TINY)]
    if edit is not None:
        path = tmp_path / "edit.yaml"
        path.write_text(yaml.safe_dump(edit))
        configs.append(str(path))
    proc = snakemake("-n", "--configfile", *configs, workdir=workdir, timeout=DRY_RUN_TIMEOUT_S)
    return Plan(proc.stdout + proc.stderr)


def test_complete_run_plans_nothing(tiny_run, tmp_path) -> None:
    plan = dry_run(tiny_run, tmp_path)
    assert plan.jobs == {}, plan.jobs
    assert NOTHING_TO_DO in plan.output, plan.output[-3000:]


# --------------------------------------------------------------------------------------------
# (a) the observation-interval sweep


#: The report's first page lists where every result was made, so it follows any rerun.
SUMMARY = "report_summary"


def test_obs_interval_sweep_reruns_only_assimilation_and_fig11(tiny_run, tmp_path) -> None:
    sweep = TINY_CONFIG["assimilation"]["obs_interval_sweep"]
    old, new = sweep["obs_every"], [sweep["obs_every"][0], 20]
    assert 20 not in old
    plan = dry_run(tiny_run, tmp_path, {"assimilation": {"obs_interval_sweep": {"obs_every": new}}})
    assert plan.rules == {
        "da_tune",
        "da_tune_diffusion",
        "da_select",
        "da_run",
        "da_run_diffusion",
        "da_obs_interval_sweep",
        FIGURES[11],
        "report_tuning_curves",  # the new interval's tuning curves
        SUMMARY,
    }, plan.jobs
    # Only the new interval's tuning, selection and runs, for the sweep's methods.
    per_interval = plan.outputs_of(r"assimilation/(tuning|tuned|runs)/")
    assert per_interval and all("/obs20/" in o for o in per_interval), sorted(per_interval)
    runs = plan.outputs_of(r"assimilation/runs/")
    assert runs == {f"results/assimilation/runs/obs20/{m}.nc" for m in sweep["methods"]}


# --------------------------------------------------------------------------------------------
# (b) the diffusion-time grids


def test_ensemble_diffusion_steps_rerun_only_the_ensemble_sweep_and_its_figures(
    tiny_run, tmp_path
) -> None:
    steps = TINY_CONFIG["ensembles"]["diffusion_steps"]
    plan = dry_run(tiny_run, tmp_path, {"ensembles": {"diffusion_steps": [*steps[:-1], 2]}})
    # the claims read the sweep (spread grows with S; ensembles stay on the attractor)
    verdict = {"claims", "report_table"}
    assert plan.rules == {"ensemble_sweep", FIGURES[8], FIGURES[9], *verdict, SUMMARY}, plan.jobs


def test_spread_sweep_steps_rerun_only_the_new_spread_runs_and_fig09(tiny_run, tmp_path) -> None:
    steps = TINY_CONFIG["assimilation"]["spread_sweep"]["diffusion_steps"]
    new = [steps[0], 3]
    assert 3 not in steps
    plan = dry_run(tiny_run, tmp_path, {"assimilation": {"spread_sweep": {"diffusion_steps": new}}})
    assert plan.rules == {"da_spread_run", "da_spread_sweep", FIGURES[9], SUMMARY}, plan.jobs
    assert plan.outputs_of(r"assimilation/spread/") == {"results/assimilation/spread/S3.nc"}


def test_both_diffusion_time_grids(tiny_run, tmp_path) -> None:
    edit = {
        "ensembles": {"diffusion_steps": [1, 2, 5]},
        "assimilation": {"spread_sweep": {"diffusion_steps": [1, 3]}},
    }
    plan = dry_run(tiny_run, tmp_path, edit)
    assert plan.rules == {
        "ensemble_sweep",
        "da_spread_run",
        "da_spread_sweep",
        FIGURES[8],
        FIGURES[9],
        "claims",
        "report_table",
        SUMMARY,
    }, plan.jobs


# --------------------------------------------------------------------------------------------
# (c) a figure script


def _repo_copy(dest: Path) -> Path:
    """Copy of the workflow's files (modification times kept, as a checkout would have them)."""
    for name in ("workflow", "scripts", "config", "resources", "envs", "profiles"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _dry_run_from(repo: Path, workdir: Path, *extra: str) -> Plan:
    cmd = [
        sys.executable, "-m", "snakemake", "-s", str(repo / "workflow" / "Snakefile"),
        "--directory", str(workdir), "-n", "--configfile", str(TINY), *extra,
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True, timeout=DRY_RUN_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-6000:]
    return Plan(proc.stdout + proc.stderr)


def test_editing_a_figure_script_reruns_only_that_figure(tiny_run, tmp_path) -> None:
    """Appending a line to fig05's script (in a copy of the repository) reruns fig05 only.

    Snakemake's code trigger for ``script:`` rules compares the script's modification time with
    the outputs' (copytree keeps modification times). The copy lives at another path, and the
    rules name resources by absolute path (``RESOURCES``), so with the default triggers the copy
    may count as a changed set of input files ("Set of input files has changed", rerunning the
    whole DAG). The test then uses the other triggers (mtime, params, code, software-env), after
    checking that under them the unedited copy plans nothing.
    """
    repo = _repo_copy(tmp_path / "repo")
    triggers: list[str] = []
    baseline = _dry_run_from(repo, tiny_run)
    if baseline.jobs:
        reasons = set(re.findall(r"reason: (.*)", baseline.output))
        assert "Set of input files has changed since last execution" in reasons, reasons
        triggers = ["--rerun-triggers", "mtime", "params", "code", "software-env"]
        baseline = _dry_run_from(repo, tiny_run, *triggers)
    assert baseline.jobs == {}, (
        "the unedited copy of the repository should plan nothing, got "
        f"{baseline.jobs}:\n{baseline.output[-4000:]}"
    )
    script = repo / "scripts" / "figures" / f"{FIGURES[5]}.py"
    with script.open("a") as f:
        f.write("# restyled\n")
    plan = _dry_run_from(repo, tiny_run, *triggers)
    assert plan.jobs == {FIGURES[5]: 1}, plan.jobs
    assert "Code has changed since last execution" in plan.output


# --------------------------------------------------------------------------------------------
# (d) a diffusion training hyper-parameter


def _files(workdir: Path, folder: str, name: str) -> set[str]:
    return {str(p.relative_to(workdir)) for p in (workdir / "results" / folder).rglob(name)}


def test_diffusion_learning_rate_reruns_training_and_everything_downstream(
    tiny_run, tmp_path
) -> None:
    plan = dry_run(tiny_run, tmp_path, {"diffusion": {"training": {"learning_rate": 1.0e-3}}})
    assert plan.rules == {
        "train_diffusion",
        # generation
        "generate_samples",
        "score_generation",
        "generation_table",
        # transfer surrogates (network and ridge) and what collects them
        "train_surrogate",
        "fit_surrogate",
        "evaluate_surrogate",
        "surrogate_table",
        "surrogate_study",
        # ensembles and diffusion data assimilation
        "ensemble_sweep",
        "da_tune_diffusion",
        "da_select",
        "da_run_diffusion",
        "da_spread_run",
        "da_spread_sweep",
        "da_obs_interval_sweep",
        "da_table",
        # every figure depends on a diffusion model at this scale
        *FIGURES.values(),
        # the verdict and the report pages built from all of the above
        "claims",
        "report_table",
        "report_training_diffusion",
        "report_training_surrogate",
        "report_tuning_curves",
        SUMMARY,
    }, plan.jobs
    variants, seeds = TINY_CONFIG["diffusion"]["variants"], TINY_CONFIG["diffusion"]["seeds"]
    assert plan.jobs["train_diffusion"] == len(variants) * len(seeds)

    # Surrogates: exactly those built on a diffusion model, none of dense / rff / poly.
    def needs_diffusion(path: str) -> bool:
        return SURROGATE_CONFIGURATIONS[Path(path).parts[-3]].needs_diffusion_model

    done = _files(tiny_run, "surrogate", "model.pt") | _files(tiny_run, "surrogate", "rollout.nc")
    planned = plan.outputs_of(r"results/surrogate/.*/(model\.pt|rollout\.nc)$")
    assert planned, "no transfer surrogate would rerun"
    assert planned == {p for p in done if needs_diffusion(p)}
    assert any(not needs_diffusion(p) for p in done), "the tiny run should have plain surrogates"

    # Assimilation: exactly the diffusion methods' tuning, selection and runs; no static / ETKF.
    def uses_diffusion(path: str) -> bool:
        method = Path(path).stem if "/tuning/" not in path else Path(path).parts[-2]
        return DA_METHODS[method].uses_diffusion

    done = set().union(
        *(_files(tiny_run, f"assimilation/{kind}", "*.*") for kind in ("tuning", "tuned", "runs"))
    )
    done = {p for p in done if p.endswith((".nc", ".json"))}
    planned = plan.outputs_of(r"results/assimilation/(tuning|tuned|runs)/")
    assert planned, "no diffusion DA job would rerun"
    assert planned == {p for p in done if uses_diffusion(p)}
    assert any(not uses_diffusion(p) for p in done), "the tiny run should have static DA runs"


# --------------------------------------------------------------------------------------------
# (e) edits that must not change results: Snakemake itself says there is nothing to do

NOTHING_TO_DO = "Nothing to be done (all requested files are present and up to date)."
NO_RESULT_EDITS = {
    "device": {"device": "cpu"},
    "threads": {
        stage: {"threads": 2} for stage in ("diffusion", "generation", "surrogate", "assimilation")
    },
    "ensembles threads": {"ensembles": {"threads": 2}},
    "batch sizes": {"generation": {"batch_size": 100}},
}


@pytest.mark.parametrize("what", sorted(NO_RESULT_EDITS))
def test_device_threads_and_batch_sizes_plan_nothing(tiny_run, tmp_path, what) -> None:
    plan = dry_run(tiny_run, tmp_path, NO_RESULT_EDITS[what])
    assert NOTHING_TO_DO in plan.output, f"{what}: {plan.jobs}\n{plan.output[-3000:]}"


def test_ema_weights_replan_everything_downstream_of_training_but_no_training(
    tiny_run, tmp_path
) -> None:
    lr = dry_run(tiny_run, tmp_path, {"diffusion": {"training": {"learning_rate": 1.0e-3}}})
    weights = dry_run(tiny_run, tmp_path, {"diffusion": {"weights": "ema"}})
    plan_rules = weights.rules
    assert "train_diffusion" not in plan_rules and "simulate_trajectories" not in plan_rules
    # every consumer of a diffusion model reruns: the learning-rate plan less the training
    # (and the training-curve figure and report page, which show the training history only)
    assert plan_rules == lr.rules - {"train_diffusion", FIGURES[12], TRAINING_REPORT}, (
        sorted(lr.rules - plan_rules),
        sorted(plan_rules - lr.rules),
    )
    # the same jobs as after retraining, job for job
    assert weights.jobs == {r: n for r, n in lr.jobs.items() if r in plan_rules}


# --------------------------------------------------------------------------------------------
# (f) executed reruns in a private copy of the tiny run

RESULT_SUFFIXES = (".nc", ".json", ".csv", ".md", ".pt", ".yaml", ".png")  # PDFs carry a date


def _private_copy(tiny_run: Path, tmp_path: Path) -> Path:
    """A copy of the complete tiny run (results and Snakemake's metadata, mtimes kept)."""
    work = tmp_path / "work"
    shutil.copytree(tiny_run, work, symlinks=True, ignore=shutil.ignore_patterns("*.html"))
    return work


def _run(workdir: Path, tmp_path: Path, edit: dict | None, *extra: str) -> str:
    configs = [str(TINY)]
    if edit is not None:
        path = tmp_path / "edit.yaml"
        path.write_text(yaml.safe_dump(edit))
        configs.append(str(path))
    proc = snakemake("--configfile", *configs, "--cores", "2", *extra, workdir=workdir)
    return proc.stdout + proc.stderr


def _digests(workdir: Path) -> dict[str, str]:
    """SHA-256 of every result file (logs, benchmarks, checkpoints and reports left out)."""
    skip = {"logs", "benchmarks", "checkpoints"}
    out = {}
    for p in (workdir / "results").rglob("*"):
        rel = p.relative_to(workdir)
        if p.is_file() and not skip & set(rel.parts) and p.suffix in RESULT_SUFFIXES:
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _values(path: Path) -> dict[str, np.ndarray]:
    """Every variable and coordinate of a netCDF file (provenance attributes left out)."""
    with xr.open_dataset(path) as ds:
        return {name: np.asarray(ds[name].values) for name in ds.variables}


def test_threads_and_batch_size_rerun_gives_identical_samples_and_scores(tiny_run, tmp_path):
    """Forced rerun of generation with 2 threads and another sampling batch size (100 does not
    divide 1024): the samples equal the original ones bit for bit, the scores to round-off
    (their sums run in a thread-dependent order)."""
    work = _private_copy(tiny_run, tmp_path)
    targets = sorted(
        str(p.relative_to(work)) for p in (work / "results" / "generation").rglob("*.nc")
    )
    before = {t: _values(work / t) for t in targets}
    edit = {"generation": {"threads": 2, "batch_size": 100}}
    # targets first: --forcerun takes every argument after it
    out = _run(work, tmp_path, edit, *targets, "--forcerun", "generate_samples", "score_generation")
    assert "generate_samples" in out and "score_generation" in out
    for t in targets:
        after = _values(work / t)
        assert after.keys() == before[t].keys(), t
        for name, value in before[t].items():
            if t.endswith("scores.nc"):
                # scores sum in a thread-dependent order (BLAS feature covariances, histogram
                # and nearest-neighbour sums): equal to round-off, not bit for bit (measured
                # with 2 threads: Hellinger 1 ulp, Frechet 2e-15, a Frechet floor of 0.03 2e-11)
                np.testing.assert_allclose(after[name], value, rtol=1e-9, atol=1e-10, err_msg=t)
            else:
                np.testing.assert_array_equal(after[name], value, err_msg=f"{t}: {name}")


def test_obs_interval_rerun_changes_exactly_the_planned_outputs(tiny_run, tmp_path) -> None:
    """After the sweep's intervals change, the executed rerun writes every file of the plan
    (the new interval's tuning, runs and the sweep change) and leaves every other result byte
    for byte."""
    work = _private_copy(tiny_run, tmp_path)
    sweep = TINY_CONFIG["assimilation"]["obs_interval_sweep"]
    edit = {"assimilation": {"obs_interval_sweep": {"obs_every": [sweep["obs_every"][0], 20]}}}
    plan = dry_run(work, tmp_path, edit)
    planned = {o for o in plan.outputs if Path(o).suffix in RESULT_SUFFIXES}
    assert planned and all(o.startswith("results/") for o in planned)
    before = _digests(work)
    start = time.time()
    _run(work, tmp_path, edit)
    after = _digests(work)
    changed = {p for p in after if before.get(p) != after[p]}
    assert not set(before) - set(after), "a result disappeared"
    # nothing outside the plan changed; everything in the plan was written (a planned job whose
    # code changed may reproduce its file byte for byte, so "written" is checked by mtime)
    assert changed <= planned, sorted(changed - planned)
    stale = {o for o in planned if (work / o).stat().st_mtime < start - 1}
    assert not stale, sorted(stale)
    # and what the edit is about did change: the new interval's runs and the sweep
    new_interval = {o for o in planned if "/obs20/" in o or "obs_interval" in o}
    assert new_interval and new_interval <= changed, sorted(new_interval - changed)
    assert NOTHING_TO_DO in dry_run(work, tmp_path, edit).output
