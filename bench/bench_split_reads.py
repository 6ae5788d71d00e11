"""Reading part of a trajectory split: eager load, lazy xarray indexing, dask chunks.

The question behind it: does dask do useful work for this workflow? Jobs that need a subset of a
split (DA tuning keeps `n_truths` of the 16 training trajectories; a figure needs one window)
can load the whole split and slice it (the straightforward baseline), index the lazily opened
file with xarray alone, or open it with dask chunks. Each mode runs in a fresh subprocess and
reports wall time and peak resident memory of the read (VmHWM, reset before it, minus VmRSS).

Usage: python bench/bench_split_reads.py [--n-trajectories 16] [--n-steps 1000000] [--keep 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

MODES = ("eager_then_slice", "lazy_isel", "dask_isel")

CHILD = r"""
import json, sys, time
import numpy as np
import xarray as xr
path, mode, keep = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "dask_isel":
    import dask.array  # noqa: F401  (import cost is part of the baseline, not of the read)

def status_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])

open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
base = status_kib("VmRSS")
t0 = time.perf_counter()
if mode == "eager_then_slice":
    with xr.open_dataset(path) as ds:
        out = np.asarray(ds["state"].values)[:keep]
elif mode == "lazy_isel":
    with xr.open_dataset(path) as ds:
        out = ds["state"].isel(trajectory=slice(0, keep)).values
else:
    with xr.open_dataset(path, chunks={}) as ds:
        out = ds["state"].isel(trajectory=slice(0, keep)).values
seconds = time.perf_counter() - t0
peak = status_kib("VmHWM")
print(json.dumps({"seconds": seconds, "peak_mib": (peak - base) / 1024,
                  "checksum": float(out.astype(np.float64).sum()), "shape": list(out.shape)}))
"""


def write_split(path: Path, n_trajectories: int, n_steps: int, time_chunk: int) -> None:
    """A split shaped and chunked like the data stage's (float32, chunks of one trajectory)."""
    rng = np.random.default_rng(0)
    state = rng.standard_normal((n_trajectories, n_steps + 1, 3), dtype=np.float32)
    ds = xr.Dataset({"state": (("trajectory", "time", "variable"), state)})
    chunks = (1, min(time_chunk, n_steps + 1), 3)
    ds.to_netcdf(path, engine="netcdf4", encoding={"state": {"chunksizes": chunks}})


def run_mode(path: Path, mode: str, keep: int, repeats: int) -> dict:
    """Best wall time and the largest peak memory over `repeats` fresh processes."""
    runs = []
    for _ in range(repeats):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), mode, str(keep)],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(proc.stdout))
    return {
        "seconds": min(r["seconds"] for r in runs),
        "peak_mib": max(r["peak_mib"] for r in runs),
        "checksum": runs[0]["checksum"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-trajectories", type=int, default=16)
    parser.add_argument("--n-steps", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=4, help="trajectories the job needs")
    parser.add_argument("--time-chunk", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "split.nc"
        t0 = time.perf_counter()
        write_split(path, args.n_trajectories, args.n_steps, args.time_chunk)
        size = path.stat().st_size / 2**20
        print(
            f"split {args.n_trajectories} x {args.n_steps + 1:,} x 3 float32, {size:.0f} MiB "
            f"(written in {time.perf_counter() - t0:.1f} s); a job keeps {args.keep} trajectories"
        )
        results = {mode: run_mode(path, mode, args.keep, args.repeats) for mode in MODES}
    if len({r["checksum"] for r in results.values()}) != 1:
        raise SystemExit("the modes read different numbers")
    base = results["eager_then_slice"]
    print(f"{'mode':<18}{'seconds':>10}{'peak MiB':>10}{'time ratio':>12}{'memory ratio':>14}")
    for mode, r in results.items():
        time_ratio = base["seconds"] / r["seconds"]
        memory_ratio = base["peak_mib"] / max(r["peak_mib"], 1)
        print(
            f"{mode:<18}{r['seconds']:>10.3f}{r['peak_mib']:>10.0f}"
            f"{time_ratio:>11.2f}x{memory_ratio:>13.2f}x"
        )
    print("ratios: baseline (eager_then_slice) / mode; above 1 = faster or smaller")
    return 0


if __name__ == "__main__":
    sys.exit(main())
