"""Benchmark: the data stage at paper scale against a straightforward per-step NumPy loop.

Generates all three splits (16 + 1 + 16 trajectories x (100,000 burn-in + 1,000,000) RK4 steps)
with the compiled integrator and writes them to netCDF in a temporary folder; the baseline is the
same RK4 written as a per-step NumPy loop vectorised over the 33 trajectories, timed on a slice of
steps in the same run and extrapolated linearly (it runs at a constant rate per step).

    python bench/bench_data_generation.py [--n-steps 1000000] [--n-burn-in 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from ddmdyn import dynamics
from ddmdyn.data import simulate_split
from ddmdyn.io import provenance_attrs, write_netcdf

SPLITS = {"train": (16, 1001), "validation": (1, 1002), "test": (16, 1003)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-steps", type=int, default=1_000_000)
    parser.add_argument("--n-burn-in", type=int, default=100_000)
    parser.add_argument("--baseline-steps", type=int, default=20_000)
    args = parser.parse_args()
    n_traj = sum(n for n, _ in SPLITS.values())
    total_steps = args.n_steps + args.n_burn_in

    dynamics.integrate_trajectories(dynamics.initial_states(1, 0), 10)  # compile outside timing

    t0 = time.perf_counter()
    x0 = dynamics.initial_states(n_traj, 0)
    dynamics.integrate_trajectories(x0, args.n_steps, n_burn_in=args.n_burn_in)
    t_integrate = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        for name, (n, seed) in SPLITS.items():
            ds = simulate_split(n, args.n_steps, args.n_burn_in, seed)
            write_netcdf(ds, Path(tmp) / f"{name}.nc", provenance_attrs({"split": name}))
        t_stage = time.perf_counter() - t0

    x = x0.copy()
    out = np.empty((args.baseline_steps, n_traj, 3))
    t0 = time.perf_counter()
    for i in range(args.baseline_steps):
        x = dynamics.rk4_step(x)
        out[i] = x
    t_base = (time.perf_counter() - t0) * total_steps / args.baseline_steps

    print(f"trajectories x steps          : {n_traj} x {total_steps:,}")
    print(f"compiled integration          : {t_integrate:8.2f} s")
    print(f"whole stage (3 splits, netCDF): {t_stage:8.2f} s   (target <= 60 s)")
    print(
        f"per-step NumPy loop (extrap.) : {t_base:8.2f} s   ({args.baseline_steps:,} steps timed)"
    )
    print(f"speed-up integration vs loop  : {t_base / t_integrate:8.1f}x")
    print(f"speed-up stage vs loop        : {t_base / t_stage:8.1f}x")


if __name__ == "__main__":
    main()
