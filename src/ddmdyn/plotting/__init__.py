"""Plotting library: one function per paper figure and the shared style (tables: ddmdyn.tables).

Figures are built without pyplot (Agg canvas), so importing this package never selects an
interactive backend; save a figure with ``fig.savefig(path)``.
"""

from .figures import (
    FIGURES,
    fig01_attractor_samples,
    fig02_generation_scores,
    fig03_surrogate_rmse_vs_lead,
    fig04_error_vs_training_size,
    fig05_error_vs_corruption,
    fig06_error_vs_surrogate_dt,
    fig07_transfer_by_diffusion_model,
    fig08_ensembles_around_state,
    fig09_spread_vs_diffusion_time,
    fig10_rmse_spread_in_window,
    fig11_rmse_vs_obs_interval,
    fig12_training_curves,
    fig13_rank_histograms,
)
from .style import RC_PARAMS, style_context

__all__ = [
    "FIGURES",
    "RC_PARAMS",
    "fig01_attractor_samples",
    "fig02_generation_scores",
    "fig03_surrogate_rmse_vs_lead",
    "fig04_error_vs_training_size",
    "fig05_error_vs_corruption",
    "fig06_error_vs_surrogate_dt",
    "fig07_transfer_by_diffusion_model",
    "fig08_ensembles_around_state",
    "fig09_spread_vs_diffusion_time",
    "fig10_rmse_spread_in_window",
    "fig11_rmse_vs_obs_interval",
    "fig12_training_curves",
    "fig13_rank_histograms",
    "style_context",
]
