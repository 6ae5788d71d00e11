"""Running float64 sums of forecast and ensemble scores, so that time means over many DA cycles
or roll-out batches need no per-cycle storage.

`MeanAccumulator` is a running mean of batch sums (roll-out MSE / MAE per lead, on the device of
its tensors); `EnsembleScoreSums` holds every running sum of a cycled DA run (forecast window,
background and analysis scores) and can be saved to and restored from a checkpoint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .forecast import ensemble_crps, ensemble_moments, member_sum, rank_histogram

__all__ = ["EnsembleScoreSums", "MeanAccumulator"]


class MeanAccumulator:
    """Running mean from batch sums: ``add(batch_sum, n)`` per batch, then ``mean``.

    The sums are added in float64 in the order given; NumPy arrays and torch tensors are
    accepted, tensors stay on their device (no host sync per batch) and ``mean`` is returned as
    a NumPy array.
    """

    def __init__(self) -> None:
        self._total: Any = None
        self.count: int = 0

    def add(self, batch_sum: Any, n: int) -> MeanAccumulator:
        """Add the sum of ``n`` values (an array, tensor or scalar); returns self."""
        if hasattr(batch_sum, "detach"):  # torch tensor: keep it on its device
            v = batch_sum.detach().double()
        else:
            v = np.asarray(batch_sum, dtype=np.float64)
        if self._total is None:
            self._total = v
        else:
            if tuple(v.shape) != tuple(self._total.shape):
                raise ValueError(f"shape changed: {tuple(v.shape)} vs {tuple(self._total.shape)}")
            self._total = self._total + v
        self.count += int(n)
        return self

    @property
    def mean(self) -> np.ndarray:
        """Sum / count as a float64 NumPy array."""
        if self._total is None or self.count <= 0:
            raise ValueError("nothing accumulated")
        m = self._total / float(self.count)
        if hasattr(m, "detach"):
            m = m.cpu().numpy()
        return np.asarray(m, dtype=np.float64)


class EnsembleScoreSums:
    """float64 running sums of a cycled DA run over its scored cycles, per truth.

    ``add_forecast`` takes one window's ensemble trajectory and ``add_analysis`` one
    background/analysis pair; ``time_means`` divides by the number of each (NaN when none).
    ``state`` / ``load`` move every sum and count through a checkpoint.
    """

    def __init__(self, n_truth: int, n_leads: int) -> None:
        self.count = 0
        self.n_analysis = 0
        self.se_lead = np.zeros((n_leads, n_truth, 3))
        self.var_lead = np.zeros((n_leads, n_truth, 3))
        self.bg_se = np.zeros((n_truth, 3))
        self.ana_se = np.zeros((n_truth, 3))
        self.crps = np.zeros((n_truth, 3))
        self.cov_bg = np.zeros((n_truth, 3, 3))
        self.cov_ana = np.zeros((n_truth, 3, 3))
        self.rank_hist: np.ndarray | None = None

    _ARRAYS = ("se_lead", "var_lead", "bg_se", "ana_se", "crps", "cov_bg", "cov_ana")

    def state(self) -> dict[str, np.ndarray]:
        """Every running sum and count as arrays (for a checkpoint)."""
        out = {name: getattr(self, name) for name in self._ARRAYS}
        out["counts"] = np.array([self.count, self.n_analysis], dtype=np.int64)
        if self.rank_hist is not None:
            out["rank_hist"] = self.rank_hist
        return out

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore the sums written by `state` (shapes must match this run's)."""
        for name in self._ARRAYS:
            if arrays[name].shape != getattr(self, name).shape:
                raise ValueError(f"checkpoint {name} has shape {arrays[name].shape}")
            setattr(self, name, np.array(arrays[name], dtype=np.float64))
        self.count, self.n_analysis = (int(c) for c in arrays["counts"])
        self.rank_hist = np.array(arrays["rank_hist"]) if "rank_hist" in arrays else None

    def add_forecast(self, window: np.ndarray, truth_win: np.ndarray) -> None:
        """Squared error of the ensemble mean and ensemble variance at every lead.

        window (L+1, B, n, 3) ensemble trajectory; truth_win (L+1, B, 3).
        """
        self.count += 1
        n = window.shape[2]
        mean = member_sum(window) / n
        self.se_lead += (mean - truth_win) ** 2
        if n > 1:
            dev = window - mean[..., None, :]
            self.var_lead += np.einsum("...nk,...nk->...k", dev, dev) / (n - 1)

    def add_analysis(self, background: np.ndarray, analysis: np.ndarray, truth: np.ndarray) -> None:
        """Errors, covariances, CRPS and truth rank of background and analysis (B, N, 3) against
        the truth (B, 3)."""
        self.n_analysis += 1
        mean_b, cov_b = ensemble_moments(background)
        mean_a, cov_a = ensemble_moments(analysis)
        self.bg_se += (mean_b - truth) ** 2
        self.ana_se += (mean_a - truth) ** 2
        self.cov_bg += cov_b
        self.cov_ana += cov_a
        self.crps += ensemble_crps(background, truth)
        ranks = rank_histogram(background, truth)
        if self.rank_hist is None:
            self.rank_hist = np.zeros(ranks.shape, dtype=np.int64)
        self.rank_hist += ranks

    def time_means(self) -> dict[str, np.ndarray]:
        """Time means in physical units (NaN without scored cycles): mse_lead and var_lead
        (B, L+1, 3), bg_mse, ana_mse, bg_var, ana_var, crps_var (B, 3), cov_bg and cov_ana
        (B, 3, 3)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            c = np.float64(self.count) if self.count else np.nan
            a = np.float64(self.n_analysis) if self.n_analysis else np.nan
            cov_bg, cov_ana = self.cov_bg / a, self.cov_ana / a
            return {
                "mse_lead": np.swapaxes(self.se_lead / c, 0, 1),
                "var_lead": np.swapaxes(self.var_lead / c, 0, 1),
                "bg_mse": self.bg_se / a,
                "ana_mse": self.ana_se / a,
                "cov_bg": cov_bg,
                "cov_ana": cov_ana,
                "bg_var": np.diagonal(cov_bg, axis1=1, axis2=2).copy(),
                "ana_var": np.diagonal(cov_ana, axis1=1, axis2=2).copy(),
                "crps_var": self.crps / a,
            }
