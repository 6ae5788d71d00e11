"""One function per paper figure (Finn et al. 2024, Lorenz 63 experiments).

Every function takes xarray objects laid out as in docs/data_contracts.md plus keyword options
and returns a :class:`matplotlib.figure.Figure` on an Agg canvas; nothing is shown or saved.
The implementations live in :mod:`.generation`, :mod:`.surrogate` and :mod:`.assimilation`.
"""

from __future__ import annotations

from .assimilation import (
    fig08_ensembles_around_state,
    fig09_spread_vs_diffusion_time,
    fig10_rmse_spread_in_window,
    fig11_rmse_vs_obs_interval,
    fig13_rank_histograms,
)
from .generation import fig01_attractor_samples, fig02_generation_scores, fig12_training_curves
from .surrogate import (
    fig03_surrogate_rmse_vs_lead,
    fig04_error_vs_training_size,
    fig05_error_vs_corruption,
    fig06_error_vs_surrogate_dt,
    fig07_transfer_by_diffusion_model,
)

FIGURES = {
    "fig01_attractor_samples": fig01_attractor_samples,
    "fig02_generation_scores": fig02_generation_scores,
    "fig03_surrogate_rmse_vs_lead": fig03_surrogate_rmse_vs_lead,
    "fig04_error_vs_training_size": fig04_error_vs_training_size,
    "fig05_error_vs_corruption": fig05_error_vs_corruption,
    "fig06_error_vs_surrogate_dt": fig06_error_vs_surrogate_dt,
    "fig07_transfer_by_diffusion_model": fig07_transfer_by_diffusion_model,
    "fig08_ensembles_around_state": fig08_ensembles_around_state,
    "fig09_spread_vs_diffusion_time": fig09_spread_vs_diffusion_time,
    "fig10_rmse_spread_in_window": fig10_rmse_spread_in_window,
    "fig11_rmse_vs_obs_interval": fig11_rmse_vs_obs_interval,
    "fig12_training_curves": fig12_training_curves,
    "fig13_rank_histograms": fig13_rank_histograms,
}

__all__ = ["FIGURES", *FIGURES]
