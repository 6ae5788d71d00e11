"""Scores of forecasts and ensembles: nRMSE, ensemble moments, rank of the truth, CRPS.

The nRMSE is that of docs/decisions.md, E20.

Ensembles are (..., N, k): N members on the second-last axis, k variables on the last; the truth
or observation is (..., k). "Normalised" scores divide variable k by ``scale[k]``:
nRMSE = sqrt(mean_k MSE_k / scale_k^2), and the spread likewise from the ensemble variance.
All arithmetic is float64. The running sums of these scores over DA cycles and roll-out batches
are in `ddmdyn.metrics.accumulators`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "ensemble_crps",
    "ensemble_moments",
    "member_sum",
    "nrmse_from_mse",
    "rank_histogram",
    "truth_rank",
]


def nrmse_from_mse(mse: Any, scale: Any | None = None, *, axis: int | None = -1) -> np.ndarray:
    """sqrt(mean_k mse_k / scale_k^2) from per-variable MSEs (..., k) (or variances: spread).

    ``axis=None`` averages over every axis (a pooled score); ``scale=None`` keeps the units.
    """
    m = np.asarray(mse, dtype=np.float64)
    if scale is not None:
        m = m / np.asarray(scale, dtype=np.float64) ** 2
    return np.sqrt(np.mean(m, axis=axis))


def member_sum(a: np.ndarray) -> np.ndarray:
    """Sum over the member axis (-2); einsum is several times faster than a middle-axis reduce."""
    return np.einsum("...nk->...k", a)


def ensemble_moments(ens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ensemble mean (B, k) and (N-1)-normalised covariance (B, k, k) of ens (B, N, k).

    The covariance is zero for a single member (N = 1).
    """
    n = ens.shape[1]
    mean = member_sum(ens) / n
    if n < 2:
        return mean, np.zeros((*mean.shape, mean.shape[-1]))
    Xp = ens - mean[:, None, :]
    return mean, np.swapaxes(Xp, 1, 2) @ Xp / (n - 1)


def truth_rank(ens: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Rank of the truth in the ensemble: number of members strictly below it (no tie-breaking).

    Args:
        ens: (..., N, k); truth: (..., k).
    Returns:
        int64 (..., k) in 0..N.
    """
    return np.einsum("...nk->...k", ens < truth[..., None, :], dtype=np.int64)


def rank_histogram(ens: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Counts of the truth's rank (`truth_rank`) per truth and variable: int64 (B, k, N + 1).

    ens (B, N, k), truth (B, k): one count per (truth, variable); summed over time (cycles) it is
    the rank (Talagrand) histogram, flat for a reliable ensemble and U-shaped for an
    under-dispersed one.
    """
    n_truth, n, k = ens.shape
    counts = np.zeros((n_truth, k, n + 1), dtype=np.int64)
    flat = counts.reshape(-1)  # one distinct bin per (truth, variable): no clashes
    rows = np.arange(n_truth * k).reshape(-1, k) * (n + 1)
    flat[rows + truth_rank(ens, truth)] += 1
    return counts


def ensemble_crps(ens: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """CRPS of the ensemble's empirical distribution, per variable (same units as the input).

    CRPS = mean_i |x_i - y| - 1/(2 N^2) sum_ij |x_i - x_j|, the latter via the sorted members
    in O(N log N): sum_ij |x_i - x_j| = 2 sum_k (2k - N + 1) x_(k), k = 0..N-1.

    Args:
        ens: (..., N, k); truth: (..., k).
    Returns:
        (..., k).
    """
    n = ens.shape[-2]
    skill = member_sum(np.abs(ens - truth[..., None, :])) / n
    coef = (2.0 * np.arange(n) - n + 1.0) / n**2
    spread = np.einsum("...nk,n->...k", np.sort(ens, axis=-2), coef)
    return skill - spread
