"""Deterministic and probabilistic forecast scores (spec 4.6, 5.3).

States have the components (x, y, z) on the last axis. "Normalised" scores divide the error of
component k by ``scale[k]`` before squaring, i.e. nRMSE = sqrt(mean_k MSE_k / scale_k^2)
(spec 5.3); ``scale=None`` leaves the units unchanged. All reductions accumulate in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "MeanAccumulator",
    "crps_ensemble",
    "crps_gaussian",
    "ensemble_spread",
    "ensemble_variance",
    "mae_per_lead",
    "mse_per_lead",
    "nrmse_from_mse",
    "rank_histogram",
    "rmse",
    "spread_skill_ratio",
]

Axis = int | tuple[int, ...] | None


def _scaled_error(pred: Any, truth: Any, scale: Any | None) -> np.ndarray:
    err = np.asarray(pred, dtype=np.float64) - np.asarray(truth, dtype=np.float64)
    if scale is not None:
        err = err / np.asarray(scale, dtype=np.float64)
    return err


def _all_but(ndim: int, axis: int) -> tuple[int, ...]:
    axis = axis % ndim
    return tuple(a for a in range(ndim) if a != axis)


def rmse(pred: Any, truth: Any, *, axis: Axis = None, scale: Any | None = None) -> np.ndarray:
    """Root of the mean squared error over ``axis`` (None: all axes, components included).

    pred, truth: (..., 3). With ``scale`` (3,) the error of component k is divided by scale[k]
    (nRMSE). Returns a float64 array (0-d for axis=None).
    """
    err = _scaled_error(pred, truth, scale)
    return np.sqrt(np.mean(err * err, axis=axis))


def mse_per_lead(
    pred: Any, truth: Any, *, lead_axis: int = -2, scale: Any | None = None
) -> np.ndarray:
    """Mean squared error per lead time, averaged over all other axes (samples and components).

    pred, truth: (..., n_leads, 3) by default (``lead_axis`` selects another axis). With
    ``scale`` (3,) errors are normalised per component. Returns (n_leads,) float64.
    """
    err = _scaled_error(pred, truth, scale)
    return np.mean(err * err, axis=_all_but(err.ndim, lead_axis))


def mae_per_lead(
    pred: Any, truth: Any, *, lead_axis: int = -2, scale: Any | None = None
) -> np.ndarray:
    """Mean absolute error per lead time, averaged over samples and components; (n_leads,)."""
    err = _scaled_error(pred, truth, scale)
    return np.mean(np.abs(err), axis=_all_but(err.ndim, lead_axis))


def nrmse_from_mse(mse: Any, scale: Any | None = None, *, axis: Axis = -1) -> np.ndarray:
    """sqrt(mean_k mse_k / scale_k^2) from per-component MSEs (..., 3) (or variances: spread)."""
    m = np.asarray(mse, dtype=np.float64)
    if scale is not None:
        m = m / np.asarray(scale, dtype=np.float64) ** 2
    return np.sqrt(np.mean(m, axis=axis))


def ensemble_variance(
    ens: Any, *, axis: int = -2, scale: Any | None = None, ddof: int = 1
) -> np.ndarray:
    """Unbiased (ddof=1) ensemble variance over the member ``axis`` of ens (..., M, 3).

    With ``scale`` (3,) the variance of component k is divided by scale[k]^2.
    Returns the array without the member axis, float64.
    """
    e = np.asarray(ens, dtype=np.float64)
    var = np.var(e, axis=axis, ddof=ddof)
    if scale is not None:
        var = var / np.asarray(scale, dtype=np.float64) ** 2
    return var


def ensemble_spread(
    ens: Any,
    *,
    axis: int = -2,
    scale: Any | None = None,
    mean_axis: Axis = None,
) -> np.ndarray:
    """Spread = sqrt of the mean unbiased ensemble variance of ens (..., M, 3).

    ``axis`` is the member axis; ``mean_axis`` indexes the variance array (member axis removed)
    and selects the axes averaged before the root (None: all, components included).
    """
    var = ensemble_variance(ens, axis=axis, scale=scale)
    return np.sqrt(np.mean(var, axis=mean_axis))


def spread_skill_ratio(spread: Any, rmse: Any, *, n_members: int | None = None) -> np.ndarray:
    """Spread / RMSE of the ensemble mean (about 1 for a reliable ensemble).

    With ``n_members`` M the spread is multiplied by sqrt((M + 1) / M), the finite-ensemble
    correction under which a reliable ensemble has a ratio of exactly 1 in expectation.
    """
    s = np.asarray(spread, dtype=np.float64)
    if n_members is not None:
        s = s * np.sqrt((n_members + 1) / n_members)
    return s / np.asarray(rmse, dtype=np.float64)


def crps_ensemble(ens: Any, obs: Any, *, axis: int = -1, fair: bool = False) -> np.ndarray:
    """CRPS of an ensemble: E|X - y| - 1/2 E|X - X'|, per forecast (no averaging).

    ens: (..., M) with members on ``axis``; obs: (...) broadcastable to ens without that axis.
    E|X - X'| uses the sorted members, sum_i (2 i - M - 1) x_(i), in O(M log M); it is divided
    by M^2 (standard, the CRPS of the empirical distribution) or by M (M - 1) with ``fair=True``.
    """
    e = np.moveaxis(np.asarray(ens, dtype=np.float64), axis, -1)
    y = np.asarray(obs, dtype=np.float64)
    m = e.shape[-1]
    if m < 1 or (fair and m < 2):
        raise ValueError(f"need at least {2 if fair else 1} members, got {m}")
    skill = np.mean(np.abs(e - y[..., None]), axis=-1)
    xs = np.sort(e, axis=-1)
    weights = 2.0 * np.arange(1, m + 1) - m - 1
    pair_sum = xs @ weights  # = 1/2 sum_{i,j} |x_i - x_j|
    spread = pair_sum / (m * (m - 1) if fair else m * m)
    return skill - spread


def crps_gaussian(mu: Any, sigma: Any, y: Any) -> np.ndarray:
    """Closed-form CRPS of N(mu, sigma^2) for observation y (broadcast; sigma >= 0).

    sigma (z (2 Phi(z) - 1) + 2 phi(z) - 1 / sqrt(pi)), z = (y - mu) / sigma; |y - mu| at
    sigma = 0.
    """
    from scipy.special import ndtr  # imported here: scipy costs ~0.3 s at import

    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if np.any(sigma < 0):
        raise ValueError("sigma must be non-negative")
    diff = y - mu
    with np.errstate(divide="ignore", invalid="ignore"):
        z = diff / sigma
        pdf = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
        crps = sigma * (z * (2.0 * ndtr(z) - 1.0) + 2.0 * pdf - 1.0 / np.sqrt(np.pi))
    return np.where(sigma > 0, crps, np.abs(diff))


def rank_histogram(ens: Any, obs: Any, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """Rank (Talagrand) histogram: counts (M + 1,) of the rank of obs (T,) among members (T, M).

    The rank is the number of members below the observation plus a uniform random share of the
    members equal to it (random tie-breaking with ``rng``). Flat for a reliable ensemble,
    U-shaped for an under-dispersed one.
    """
    e = np.asarray(ens)
    y = np.asarray(obs)
    if e.ndim != 2 or y.shape != (e.shape[0],):
        raise ValueError(f"expected ens (T, M) and obs (T,), got {e.shape} and {y.shape}")
    m = e.shape[1]
    below = np.count_nonzero(e < y[:, None], axis=1)
    ties = np.count_nonzero(e == y[:, None], axis=1)
    rank = below
    if ties.any():
        rng = np.random.default_rng(rng)
        rank = below + rng.integers(0, ties + 1)
    return np.bincount(rank, minlength=m + 1)


class MeanAccumulator:
    """Running (weighted) mean of arrays of a fixed shape, accumulated in float64.

    For time means over many DA cycles without storing them, e.g. per-cycle squared errors of
    shape (n_leads, n_truths, 3): call ``update(sq_err)`` once per cycle and read ``mean``.
    ``update(value, weight=n)`` combines batch means with weights (batch sizes). NumPy arrays and
    torch tensors are accepted; tensors are summed on their own device in float64 (no host sync
    per update) and ``mean`` is returned as a NumPy array.
    """

    def __init__(self) -> None:
        self._total: Any = None
        self.weight: float = 0.0

    def update(self, value: Any, weight: float = 1.0) -> MeanAccumulator:
        """Add ``weight`` * value (value: an array, tensor or scalar); returns self."""
        if hasattr(value, "detach"):  # torch tensor: keep it on its device
            v = value.detach().double() * weight
        else:
            v = np.asarray(value, dtype=np.float64) * weight
        if self._total is None:
            self._total = v
        else:
            if tuple(v.shape) != tuple(self._total.shape):
                raise ValueError(f"shape changed: {tuple(v.shape)} vs {tuple(self._total.shape)}")
            self._total = self._total + v
        self.weight += float(weight)
        return self

    @property
    def count(self) -> float:
        """Total weight accumulated (number of updates with unit weights)."""
        return self.weight

    @property
    def total(self) -> np.ndarray:
        """Weighted sum as a float64 NumPy array."""
        if self._total is None:
            raise ValueError("nothing accumulated")
        t = self._total
        if hasattr(t, "detach"):
            t = t.cpu().numpy()
        return np.asarray(t, dtype=np.float64)

    @property
    def mean(self) -> np.ndarray:
        """Weighted mean as a float64 NumPy array."""
        if self.weight <= 0:
            raise ValueError("nothing accumulated")
        return self.total / self.weight
