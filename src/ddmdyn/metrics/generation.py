"""Scores of unconditionally generated states against a reference set.

The scores of docs/decisions.md, E11, with D11 (exact KD-tree) and D12 (noise floors).

Every function works on NumPy arrays of states in *normalised* space, shape (N, 3), and
accumulates in float64. Large sets (16 M reference states) are processed in chunks, so no
function allocates more than a few chunk-sized temporaries beyond its inputs and outputs.

Scores:
- Hellinger distance between 3-D histograms (70 bins per dimension on [-3.5, 3.5]).
- Frechet distance between Gaussian fits of features (the "Frechet surrogate distance").
- Mean squared nearest-neighbour distance both ways (``dist_gen``, ``dist_test``), exact KD-tree.
- Extreme-value ratio (pooled 1 % / 99 % quantile exceedances; about 0.02 for a perfect generator).
- Noise floors: the same scores between two disjoint random test subsets of the generated size.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # scipy is imported where it is used: it costs ~0.3 s per job otherwise
    from scipy.spatial import cKDTree

HIST_LO: float = -3.5
HIST_HI: float = 3.5
HIST_BINS: int = 70
DEFAULT_CHUNK: int = 1 << 20

__all__ = [
    "GaussianStatsAccumulator",
    "build_tree",
    "extreme_quantiles",
    "extreme_value_ratio_from_quantiles",
    "frechet_distance",
    "generation_scores",
    "hellinger_from_counts",
    "histogram3d",
    "mean_nn_sq_dist",
    "nearest_neighbour_sq_dist",
    "noise_floor_subsets",
]


def _chunks(n: int, chunk_size: int):
    for start in range(0, n, chunk_size):
        yield slice(start, min(start + chunk_size, n))


def _as_states(x: Any) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"expected states of shape (N, 3), got {x.shape}")
    return x


# --------------------------------------------------------------------------------------------
# Histograms and Hellinger distance
# --------------------------------------------------------------------------------------------


def histogram3d(
    x: np.ndarray,
    lo: float = HIST_LO,
    hi: float = HIST_HI,
    n_bins: int = HIST_BINS,
    *,
    out: np.ndarray | None = None,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """Counts of states (N, 3) in a regular 3-D grid of ``n_bins`` cells per axis on [lo, hi].

    Bin edges are ``linspace(lo, hi, n_bins + 1)`` per axis; cells are half-open except the last,
    which includes ``hi`` (as ``np.histogramdd``). Points outside the box or non-finite are
    dropped. Each chunk of ``chunk_size`` points is binned with a single ``np.bincount`` over the
    flattened cell index. Pass ``out`` (int64, shape (n_bins,)*3) to accumulate over calls.
    Returns the int64 count array of shape (n_bins, n_bins, n_bins).
    """
    x = _as_states(x)
    shape = (n_bins,) * 3
    if out is None:
        out = np.zeros(shape, dtype=np.int64)
    elif out.shape != shape or out.dtype != np.int64:
        raise ValueError(f"out must be int64 of shape {shape}, got {out.dtype} {out.shape}")
    edges = np.linspace(lo, hi, n_bins + 1)
    inv_width = n_bins / (hi - lo)
    flat = out.reshape(-1)
    for sl in _chunks(len(x), chunk_size):
        xc = x[sl].astype(np.float64, copy=False)
        inside = np.all((xc >= lo) & (xc <= hi), axis=1)  # NaN compares False: dropped
        xc = xc[inside]
        idx = np.floor((xc - lo) * inv_width).astype(np.int64)
        np.clip(idx, 0, n_bins - 1, out=idx)
        # exact agreement with the edges array despite rounding in the scaled floor
        idx -= xc < edges[idx]
        idx += (xc >= edges[idx + 1]) & (idx < n_bins - 1)
        cell = (idx[:, 0] * n_bins + idx[:, 1]) * n_bins + idx[:, 2]
        flat += np.bincount(cell, minlength=flat.size)
    return out


def hellinger_from_counts(p_counts: np.ndarray, q_counts: np.ndarray) -> float:
    """Hellinger distance H = sqrt(1/2 sum (sqrt p - sqrt q)^2) of two count arrays.

    Both arrays (same shape, any non-negative numbers) are normalised to sum 1 first.
    Returns a float in [0, 1]: 0 for identical distributions, 1 for disjoint supports; NaN
    (with a warning) when a histogram is empty, e.g. every sample fell outside the box.
    """
    p = np.asarray(p_counts, dtype=np.float64)
    q = np.asarray(q_counts, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"histogram shapes differ: {p.shape} vs {q.shape}")
    sp, sq = p.sum(), q.sum()
    if sp <= 0 or sq <= 0:
        warnings.warn("Hellinger distance of an empty histogram is undefined: NaN", stacklevel=2)
        return float("nan")
    d = np.sqrt(p / sp) - np.sqrt(q / sq)
    return float(min(1.0, np.sqrt(0.5 * np.dot(d.ravel(), d.ravel()))))


# --------------------------------------------------------------------------------------------
# Frechet distance
# --------------------------------------------------------------------------------------------


def _chunk_moments(features: Any) -> tuple[int, np.ndarray, np.ndarray]:
    """Count, mean (d,) and centred scatter matrix (d, d) of one chunk (n, d), in float64."""
    is_torch = hasattr(features, "detach")
    f = features.detach().double() if is_torch else np.asarray(features, dtype=np.float64)
    if f.ndim != 2:
        raise ValueError(f"features must be 2-D (n, d), got {tuple(f.shape)}")
    d = f.shape[1]
    if f.shape[0] == 0:
        return 0, np.zeros(d), np.zeros((d, d))
    mean = f.mean(0)
    if is_torch:
        c = f - mean
        scatter = c.T @ c
    else:  # (d, n) C-order makes the BLAS product c c^T several times faster than c^T c
        c = np.ascontiguousarray((f - mean).T)
        scatter = c @ c.T
    if is_torch:  # reduced on the tensor's own device; only (d,) and (d, d) come back
        return f.shape[0], mean.cpu().numpy(), scatter.cpu().numpy()
    return f.shape[0], mean, scatter


class GaussianStatsAccumulator:
    """Streaming mean and unbiased covariance of d-dimensional features, in float64.

    Chunks are merged with Chan's parallel update (chunk means and centred scatter matrices),
    which avoids the cancellation of raw second moments. ``update(chunk (n, d))`` any number of
    times, then read ``mean`` (d,) and ``cov`` (d, d).
    """

    def __init__(self) -> None:
        self.n: int = 0
        self._mean: np.ndarray | None = None
        self._scatter: np.ndarray | None = None

    def update(self, features: Any) -> GaussianStatsAccumulator:
        """Add a chunk of features (n, d); returns self.

        NumPy arrays are reduced on the CPU; torch tensors on their own device (in float64, so a
        GPU feature network need not copy its features to the host). Only (d,) and (d, d)
        results are kept, as NumPy float64.
        """
        nb, mean_b, scatter_b = _chunk_moments(features)
        if nb == 0:
            return self
        if self._mean is None:
            self.n, self._mean, self._scatter = nb, mean_b, scatter_b
            return self
        if mean_b.shape != self._mean.shape:
            raise ValueError("feature dimension changed between chunks")
        n = self.n + nb
        delta = mean_b - self._mean
        self._mean = self._mean + delta * (nb / n)
        self._scatter = self._scatter + scatter_b + np.outer(delta, delta) * (self.n * nb / n)
        self.n = n
        return self

    @property
    def mean(self) -> np.ndarray:
        """Mean (d,) of all features seen."""
        if self._mean is None:
            raise ValueError("no features accumulated")
        return self._mean.copy()

    @property
    def cov(self) -> np.ndarray:
        """Unbiased covariance (d, d) of all features seen (needs n >= 2)."""
        if self._scatter is None or self.n < 2:
            raise ValueError("need at least two samples for an unbiased covariance")
        return self._scatter / (self.n - 1)


def frechet_distance(
    mu1: np.ndarray,
    cov1: np.ndarray,
    mu2: np.ndarray,
    cov2: np.ndarray,
    *,
    eps: float = 1e-6,
) -> float:
    """Frechet distance between N(mu1, cov1) and N(mu2, cov2), in float64.

    FD = |mu1 - mu2|^2 + Tr(cov1 + cov2 - 2 (cov1 cov2)^{1/2}), with the matrix square root from
    ``scipy.linalg.sqrtm``. As in the FID reference code: if the product is singular and the root
    is not finite, ``eps`` * I is added to both covariances; small imaginary parts of the root
    (numerical noise) are discarded, and a warning is issued if they are not small.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    cov1 = np.atleast_2d(np.asarray(cov1, dtype=np.float64))
    cov2 = np.atleast_2d(np.asarray(cov2, dtype=np.float64))
    if mu1.shape != mu2.shape or cov1.shape != cov2.shape or cov1.shape != mu1.shape * 2:
        raise ValueError("inconsistent shapes of means and covariances")
    import scipy.linalg

    diff = mu1 - mu2
    with warnings.catch_warnings():  # singular products are expected (dead ReLU features)
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(cov1 @ cov2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(mu1)) * eps
            covmean = scipy.linalg.sqrtm((cov1 + offset) @ (cov2 + offset))
    if np.iscomplexobj(covmean):
        imag = np.abs(np.diagonal(covmean).imag).max()
        if imag > 1e-3 * max(1.0, np.abs(np.diagonal(covmean).real).max()):
            warnings.warn(
                f"frechet_distance: large imaginary part {imag:.3g} in sqrtm", stacklevel=2
            )
        covmean = covmean.real
    value = diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(covmean)
    return float(value)


# --------------------------------------------------------------------------------------------
# Nearest-neighbour distances
# --------------------------------------------------------------------------------------------


def build_tree(reference: np.ndarray) -> cKDTree:
    """Exact KD-tree over reference states (M, 3), stored in float64 (reusable for many queries)."""
    from scipy.spatial import cKDTree

    ref = np.ascontiguousarray(_as_states(reference), dtype=np.float64)
    return cKDTree(ref, balanced_tree=False, compact_nodes=False)


def nearest_neighbour_sq_dist(
    query: np.ndarray,
    reference: np.ndarray | cKDTree,
    *,
    workers: int = -1,
    chunk_size: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """Squared Euclidean distance (N,) from each query state (N, 3) to its nearest reference state.

    ``reference`` is an array (M, 3) or a tree from :func:`build_tree`. The search is exact; the
    returned squared distance is recomputed in float64 from the coordinates of the neighbour
    found, so it equals a brute-force minimum of sum((q - r)^2).
    """
    query = _as_states(query)
    tree = reference if hasattr(reference, "query") else build_tree(reference)
    data = tree.data
    out = np.empty(len(query), dtype=np.float64)
    for sl in _chunks(len(query), chunk_size):
        q = query[sl].astype(np.float64, copy=False)
        _, idx = tree.query(q, k=1, workers=workers)
        d = q - data[idx]
        out[sl] = np.einsum("ij,ij->i", d, d)
    return out


def mean_nn_sq_dist(
    a: np.ndarray,
    b: np.ndarray | cKDTree,
    *,
    workers: int = -1,
    chunk_size: int = DEFAULT_CHUNK,
) -> float:
    """Mean over states of ``a`` (N, 3) of the squared distance to the nearest state of ``b``.

    dist_gen = mean_nn_sq_dist(generated, test); dist_test = mean_nn_sq_dist(test, generated).
    ``b`` may be a prebuilt tree. Streams over chunks of ``a`` with a float64 sum.
    """
    a = _as_states(a)
    if len(a) == 0:
        raise ValueError("empty query set")
    tree = b if hasattr(b, "query") else build_tree(b)
    total = 0.0
    for sl in _chunks(len(a), chunk_size):
        total += float(nearest_neighbour_sq_dist(a[sl], tree, workers=workers).sum())
    return total / len(a)


# --------------------------------------------------------------------------------------------
# Extreme values
# --------------------------------------------------------------------------------------------


def extreme_quantiles(reference: np.ndarray, q: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension ``q`` and ``1 - q`` quantiles (linear interpolation) of reference (M, 3)."""
    reference = _as_states(reference)
    if not 0.0 < q < 0.5:
        raise ValueError(f"q must lie in (0, 0.5), got {q}")
    qs = np.quantile(reference, [q, 1.0 - q], axis=0).astype(np.float64)
    return qs[0], qs[1]


def extreme_value_ratio_from_quantiles(
    generated: np.ndarray, low: np.ndarray, high: np.ndarray, *, chunk_size: int = DEFAULT_CHUNK
) -> float:
    """Extreme-value ratio: fraction of generated values (pooled over dims) <= ``low`` plus
    fraction >= ``high``.

    ``low`` and ``high`` are per-dimension thresholds of shape (3,), the reference's ``q`` and
    ``1 - q`` quantiles (`extreme_quantiles`); a generator that samples the reference
    distribution then scores about 2 q.
    """
    generated = _as_states(generated)
    if len(generated) == 0:
        raise ValueError("empty generated set")
    low = np.asarray(low, dtype=np.float64)
    high = np.asarray(high, dtype=np.float64)
    n_ext = 0
    for sl in _chunks(len(generated), chunk_size):
        g = generated[sl].astype(np.float64, copy=False)
        n_ext += int(np.count_nonzero(g <= low)) + int(np.count_nonzero(g >= high))
    return n_ext / generated.size


# --------------------------------------------------------------------------------------------
# Noise floor and all scores at once
# --------------------------------------------------------------------------------------------


def noise_floor_subsets(
    reference_size: int, subset_size: int, rng: np.random.Generator | int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint random index sets (sorted int64, ``subset_size`` each) into a reference set.

    Used for the noise floor of each score: the score between reference[idx_a] and
    reference[idx_b]. Raises ValueError if 2 * subset_size > reference_size.
    """
    if subset_size < 1:
        raise ValueError(f"subset_size must be positive, got {subset_size}")
    if 2 * subset_size > reference_size:
        raise ValueError(
            f"noise floor needs two disjoint subsets of {subset_size} states, i.e. "
            f"2 * {subset_size} = {2 * subset_size} > reference_size = {reference_size}"
        )
    rng = np.random.default_rng(rng)
    idx = rng.choice(reference_size, size=2 * subset_size, replace=False, shuffle=True)
    return np.sort(idx[:subset_size]), np.sort(idx[subset_size:])


def _feature_stats(
    x: np.ndarray, feature_fn: Callable[[np.ndarray], Any], chunk_size: int
) -> GaussianStatsAccumulator:
    acc = GaussianStatsAccumulator()
    for sl in _chunks(len(x), chunk_size):
        acc.update(feature_fn(x[sl]))
    return acc


def generation_scores(
    generated: np.ndarray,
    reference: np.ndarray,
    feature_fn: Callable[[np.ndarray], Any] | None = None,
    rng: np.random.Generator | int | None = None,
    *,
    lo: float = HIST_LO,
    hi: float = HIST_HI,
    n_bins: int = HIST_BINS,
    q: float = 0.01,
    chunk_size: int = DEFAULT_CHUNK,
    feature_chunk_size: int = 16384,
    workers: int = -1,
) -> dict[str, float]:
    """All generation scores of generated (N, 3) against reference (M, 3), with noise floors.

    Keys (S in hellinger, dist_gen, dist_test, extreme, and frechet if ``feature_fn`` maps a
    NumPy chunk (n, 3) to features (n, d), NumPy or a torch tensor on any device):
    - ``S``: the paper's score, generated vs. the full reference;
    - ``S_floor``: the same score between two disjoint random reference subsets A and B of size N
      (A plays "generated", B the reference; :func:`noise_floor_subsets` with ``rng``);
    - ``S_matched``: generated vs. subset B, directly comparable with ``S_floor`` (same
      reference, same sizes). Note the NN floors use subsets of a time-correlated test set.
    Also ``n_generated``, ``n_reference``. Requires 2 N <= M.
    """
    generated = _as_states(generated)
    reference = _as_states(reference)
    n, m = len(generated), len(reference)
    idx_a, idx_b = noise_floor_subsets(m, n, rng)
    sub_a, sub_b = reference[idx_a], reference[idx_b]
    scores: dict[str, float] = {"n_generated": float(n), "n_reference": float(m)}

    hkw = {"lo": lo, "hi": hi, "n_bins": n_bins, "chunk_size": chunk_size}
    h_gen, h_ref = histogram3d(generated, **hkw), histogram3d(reference, **hkw)
    h_a, h_b = histogram3d(sub_a, **hkw), histogram3d(sub_b, **hkw)
    scores["hellinger"] = hellinger_from_counts(h_gen, h_ref)
    scores["hellinger_floor"] = hellinger_from_counts(h_a, h_b)
    scores["hellinger_matched"] = hellinger_from_counts(h_gen, h_b)

    nkw = {"workers": workers, "chunk_size": chunk_size}
    tree_gen, tree_a, tree_b = build_tree(generated), build_tree(sub_a), build_tree(sub_b)
    scores["dist_test"] = mean_nn_sq_dist(reference, tree_gen, **nkw)
    scores["dist_test_floor"] = mean_nn_sq_dist(sub_b, tree_a, **nkw)
    scores["dist_test_matched"] = mean_nn_sq_dist(sub_b, tree_gen, **nkw)
    del tree_a
    scores["dist_gen_floor"] = mean_nn_sq_dist(sub_a, tree_b, **nkw)
    scores["dist_gen_matched"] = mean_nn_sq_dist(generated, tree_b, **nkw)
    del tree_gen, tree_b
    scores["dist_gen"] = mean_nn_sq_dist(generated, build_tree(reference), **nkw)

    low, high = extreme_quantiles(reference, q)
    low_b, high_b = extreme_quantiles(sub_b, q)
    scores["extreme"] = extreme_value_ratio_from_quantiles(generated, low, high)
    scores["extreme_floor"] = extreme_value_ratio_from_quantiles(sub_a, low_b, high_b)
    scores["extreme_matched"] = extreme_value_ratio_from_quantiles(generated, low_b, high_b)

    if feature_fn is not None:
        st_gen = _feature_stats(generated, feature_fn, feature_chunk_size)
        st_ref = _feature_stats(reference, feature_fn, feature_chunk_size)
        st_a = _feature_stats(sub_a, feature_fn, feature_chunk_size)
        st_b = _feature_stats(sub_b, feature_fn, feature_chunk_size)
        scores["frechet"] = frechet_distance(st_gen.mean, st_gen.cov, st_ref.mean, st_ref.cov)
        scores["frechet_floor"] = frechet_distance(st_a.mean, st_a.cov, st_b.mean, st_b.cov)
        scores["frechet_matched"] = frechet_distance(st_gen.mean, st_gen.cov, st_b.mean, st_b.cov)
    return scores
