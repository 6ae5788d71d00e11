"""Benchmark of the generation / forecast metrics against straightforward baselines.

python bench/bench_metrics.py                 # quick sizes (seconds)
python bench/bench_metrics.py --n-ref 16000016 --n-gen 1048576 --full-nn   # paper sizes

Prints the time of each metric, of its baseline measured in the same run, and their ratio:
- histogram3d (one bincount per chunk) vs. np.histogramdd;
- KD-tree nearest-neighbour squared distances vs. chunked brute force (on a subset of queries
  when the brute force would be too slow; the time is then extrapolated linearly);
- sorted O(M log M) ensemble CRPS vs. the O(M^2) pairwise formula.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ddmdyn.metrics.forecast import ensemble_crps
from ddmdyn.metrics.generation import build_tree, histogram3d, nearest_neighbour_sq_dist


def _timeit(fn, repeat: int = 1) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _brute_nn(query: np.ndarray, ref: np.ndarray, chunk: int = 256) -> np.ndarray:
    out = np.empty(len(query))
    r = ref.astype(np.float64)
    rr = np.einsum("ij,ij->i", r, r)
    for s in range(0, len(query), chunk):
        q = query[s : s + chunk].astype(np.float64)
        d = (q * q).sum(1)[:, None] - 2.0 * q @ r.T + rr[None, :]
        out[s : s + chunk] = d.min(1)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-ref", type=int, default=400_000, help="reference (test) states")
    p.add_argument("--n-gen", type=int, default=50_000, help="generated states")
    p.add_argument("--n-brute", type=int, default=2_000, help="queries timed by brute force")
    p.add_argument("--members", type=int, default=100, help="CRPS ensemble size")
    p.add_argument("--n-crps", type=int, default=20_000, help="CRPS forecasts")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    rng = np.random.default_rng(args.seed)
    ref = rng.normal(size=(args.n_ref, 3)).astype(np.float32)
    gen = rng.normal(size=(args.n_gen, 3)).astype(np.float32)
    print(f"n_ref={args.n_ref:,} n_gen={args.n_gen:,}")

    edges = np.linspace(-3.5, 3.5, 71)
    t_new, h = _timeit(lambda: histogram3d(ref), repeat=2)
    t_base, h_ref = _timeit(lambda: np.histogramdd(ref, bins=[edges] * 3)[0], repeat=2)
    assert np.array_equal(h, h_ref)
    print(
        f"histogram3d       {t_new:8.3f} s | np.histogramdd {t_base:8.3f} s | "
        f"speed-up {t_base / t_new:6.1f}x"
    )

    t_build, tree = _timeit(lambda: build_tree(ref))
    t_query, d_tree = _timeit(lambda: nearest_neighbour_sq_dist(gen, tree))
    nb = min(args.n_brute, args.n_gen)
    t_brute, d_brute = _timeit(lambda: _brute_nn(gen[:nb], ref))
    t_brute_all = t_brute * args.n_gen / nb
    assert np.allclose(d_tree[:nb], d_brute, atol=1e-5)
    t_kd = t_build + t_query
    print(
        f"KD-tree NN        {t_kd:8.3f} s (build {t_build:.3f}, query {t_query:.3f}) | "
        f"brute force {t_brute_all:8.1f} s (extrapolated from {nb:,}) | "
        f"speed-up {t_brute_all / t_kd:8.1f}x"
    )

    ens = rng.normal(size=(args.n_crps, args.members, 1))  # (forecasts, members, variables)
    y = rng.normal(size=(args.n_crps, 1))

    def brute() -> np.ndarray:
        out = np.empty(args.n_crps)
        for s in range(0, args.n_crps, 256):
            e = ens[s : s + 256, :, 0]
            pair = np.abs(e[:, :, None] - e[:, None, :]).sum((1, 2))
            out[s : s + 256] = np.abs(e - y[s : s + 256]).mean(1) - 0.5 * pair / e.shape[1] ** 2
        return out[:, None]

    t_new, c_new = _timeit(lambda: ensemble_crps(ens, y), repeat=2)
    t_base, c_base = _timeit(brute)
    assert np.allclose(c_new, c_base)
    print(
        f"ensemble_crps M={args.members} {t_new:8.3f} s | pairwise {t_base:8.3f} s | "
        f"speed-up {t_base / t_new:6.1f}x"
    )


if __name__ == "__main__":
    main()
