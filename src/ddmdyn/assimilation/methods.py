"""Data-assimilation methods with one uniform call (DAPPER style), batched over truths.

The methods are those of docs/decisions.md, E19.

Every method has ``n_state`` (members in the propagated model state) and is called as

    step = method(forecast (B, n_state, 3), obs (B, 3), cycle, truth_index)

returning an `AnalysisStep`: the new model state and the background / analysis ensembles used
for the statistics. States and observations are in physical units. The observation operator is
a selection of observed variables, `obs_indices` (default all three: H = I, the only case the
paper uses); observations are always passed as full (B, 3) vectors and the method selects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ddmdyn.assimilation.analysis import ensemble_update
from ddmdyn.assimilation.sources import EnsembleSource

__all__ = ["ETKF", "AnalysisStep", "EnOI"]


@dataclass
class AnalysisStep:
    """Result of one analysis.

    Attributes:
        state: new model state (B, n_state, 3), propagated to the next cycle.
        background: background ensemble (B, N_b, 3) used for background statistics.
        analysis: analysis ensemble (B, N_a, 3) used for analysis statistics.
    """

    state: np.ndarray
    background: np.ndarray
    analysis: np.ndarray


def _obs_setup(
    obs_std: float, obs_indices: Sequence[int] | None
) -> tuple[float, np.ndarray | slice]:
    obs_std = float(obs_std)
    if not obs_std > 0:
        raise ValueError(
            f"obs_std must be > 0 (np.inf switches the observations off), got {obs_std}"
        )
    idx = slice(None) if obs_indices is None else np.asarray(obs_indices, dtype=np.int64)
    return obs_std, idx


class EnOI:
    """Ensemble optimal interpolation around the deterministic forecast (docs/decisions.md, E19).

    Each cycle the source generates an ensemble around x_b; perturbations X' are taken about the
    ensemble's own mean, d = (y - H x_b) / sigma_o, rho = 1, and x_a = x_b + X'^T w_mean. Only x_a
    is propagated (n_state = 1); the analysis ensemble x_b + W^T X' is returned for statistics.

    Args:
        source: ensemble source (`GaussianCovarianceSource`, `SigmaPointSource`, `CallableSource`).
        obs_std: observation error std sigma_o (physical units); np.inf disables the update.
        obs_indices: observed variables (default all: H = I).
    """

    n_state = 1

    def __init__(
        self, source: EnsembleSource, obs_std: float, obs_indices: Sequence[int] | None = None
    ) -> None:
        self.source = source
        self.obs_std, self.obs_idx = _obs_setup(obs_std, obs_indices)

    def __call__(
        self,
        forecast: np.ndarray,
        obs: np.ndarray,
        cycle: int,
        truth_index: np.ndarray | None = None,
    ) -> AnalysisStep:
        """Analyse forecast (B, 1, 3) with observations (B, 3); see `AnalysisStep`."""
        x_b = forecast[:, 0, :]
        ens = self.source(x_b, cycle, truth_index)  # (B, N, 3)
        Xp = ens - np.einsum("bnk->bk", ens)[:, None, :] / ens.shape[1]
        Y = Xp[..., self.obs_idx] / self.obs_std
        d = (obs - x_b)[..., self.obs_idx] / self.obs_std
        x_a, members = ensemble_update(x_b, Xp, Y, d, rho=1.0)
        return AnalysisStep(state=x_a[:, None, :], background=ens, analysis=members)


class ETKF:
    """ETKF with multiplicative covariance inflation (docs/decisions.md, E19).

    Base = forecast ensemble mean, d = (y - H mean) / sigma_o; the prior covariance is multiplied
    by `inflation` (rho) through f = (N - 1) / rho. The whole ensemble is propagated.

    Args:
        n_members: ensemble size N (= n_state).
        inflation: covariance inflation factor rho (1.07 for 12 members in the paper).
        obs_std: observation error std sigma_o (physical units).
        obs_indices: observed variables (default all: H = I).
    """

    def __init__(
        self,
        n_members: int,
        inflation: float = 1.0,
        obs_std: float = 2.0,
        obs_indices: Sequence[int] | None = None,
    ) -> None:
        if n_members < 2:
            raise ValueError("ETKF needs at least 2 members")
        self.n_state = int(n_members)
        self.n_members = int(n_members)
        self.inflation = float(inflation)
        self.obs_std, self.obs_idx = _obs_setup(obs_std, obs_indices)

    def __call__(
        self,
        forecast: np.ndarray,
        obs: np.ndarray,
        cycle: int,
        truth_index: np.ndarray | None = None,
    ) -> AnalysisStep:
        """Analyse the forecast ensemble (B, N, 3) with observations (B, 3)."""
        mean = np.einsum("bnk->bk", forecast) / forecast.shape[1]
        Xp = forecast - mean[:, None, :]
        Y = Xp[..., self.obs_idx] / self.obs_std
        d = (obs - mean)[..., self.obs_idx] / self.obs_std
        _, members = ensemble_update(mean, Xp, Y, d, rho=self.inflation)
        return AnalysisStep(state=members, background=forecast, analysis=members)
