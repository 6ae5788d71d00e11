"""Scores of generated states (``generation``) and of forecasts and ensembles (``forecast``).

Pure functions of NumPy arrays, accumulating in float64; see the submodules for details.
"""

from ddmdyn.metrics.forecast import (
    MeanAccumulator,
    crps_ensemble,
    crps_gaussian,
    ensemble_spread,
    ensemble_variance,
    mae_per_lead,
    mse_per_lead,
    nrmse_from_mse,
    rank_histogram,
    rmse,
    spread_skill_ratio,
)
from ddmdyn.metrics.generation import (
    GaussianStatsAccumulator,
    build_tree,
    extreme_quantiles,
    extreme_value_ratio,
    extreme_value_ratio_from_quantiles,
    frechet_distance,
    gaussian_stats,
    generation_scores,
    hellinger,
    hellinger_from_counts,
    histogram3d,
    mean_nn_sq_dist,
    nearest_neighbour_sq_dist,
    noise_floor_subsets,
)

__all__ = [
    "GaussianStatsAccumulator",
    "MeanAccumulator",
    "build_tree",
    "crps_ensemble",
    "crps_gaussian",
    "ensemble_spread",
    "ensemble_variance",
    "extreme_quantiles",
    "extreme_value_ratio",
    "extreme_value_ratio_from_quantiles",
    "frechet_distance",
    "gaussian_stats",
    "generation_scores",
    "hellinger",
    "hellinger_from_counts",
    "histogram3d",
    "mae_per_lead",
    "mean_nn_sq_dist",
    "mse_per_lead",
    "nearest_neighbour_sq_dist",
    "noise_floor_subsets",
    "nrmse_from_mse",
    "rank_histogram",
    "rmse",
    "spread_skill_ratio",
]
