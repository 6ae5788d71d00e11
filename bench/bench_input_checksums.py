"""Benchmark: provenance of a job's inputs at paper size, with and without checksum sidecars.

Every job records the SHA-256 of its inputs. At paper scale a job reads the 16 x 1,000,001 train
split (and often the test split), ~200 MB each, and ~2,000 jobs would re-hash them. Files are now
hashed once, when written (`ddmdyn.io.atomic_path(checksum=True)`), and the value is kept in a
sidecar that `file_checksum` trusts while the file's size and modification time match. This
benchmark writes the paper-size train and test splits like the data rule does, then times the
provenance of a job reading both: the sidecar path against re-hashing the bytes (the baseline, as
every job did before), and checks that both give the same checksums.

    python bench/bench_input_checksums.py [--n-steps 1000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from pathlib import Path

from ddmdyn.data import simulate_split
from ddmdyn.io import checksum_sidecar, file_checksum, provenance_attrs, write_netcdf


def _sha256(path: Path) -> str:
    """The baseline: hash the bytes, as every job did before sidecars."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-steps", type=int, default=1_000_000, help="states per trajectory - 1")
    parser.add_argument("--n-burn-in", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        t0 = time.perf_counter()
        for name, seed in (("train", 1001), ("test", 1003)):
            path = Path(tmp) / f"{name}.nc"
            write_netcdf(simulate_split(16, args.n_steps, args.n_burn_in, seed), path)
            paths.append(path)
        t_write = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        assert all(checksum_sidecar(p).exists() for p in paths)

        baseline = _best_of(lambda: [_sha256(p) for p in paths], args.repeats)
        sidecar = _best_of(lambda: [file_checksum(p) for p in paths], args.repeats)
        same = [file_checksum(p) for p in paths] == [_sha256(p) for p in paths]
        job = _best_of(lambda: provenance_attrs({"rule": "x"}, inputs=paths), args.repeats)

    print(f"inputs                        : train + test splits, 16 x {args.n_steps + 1:,} states")
    print(f"bytes read by a job's inputs  : {size_mb:8.1f} MB")
    print(f"writing both (with sidecars)  : {t_write:8.2f} s (once, by the data rule)")
    print(f"re-hash per job (baseline)    : {baseline:8.3f} s (page cache warm; slower on NFS)")
    print(f"sidecar per job               : {sidecar:8.5f} s")
    print(f"provenance_attrs per job      : {job:8.3f} s (incl. git state)")
    print(f"checksums identical           : {same}")
    print(f"speed-up of the checksum step : {baseline / sidecar:8.0f}x")
    if not same:
        raise SystemExit("sidecar checksums differ from the bytes' SHA-256")


if __name__ == "__main__":
    main()
