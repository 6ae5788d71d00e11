"""Scores of generated states (``generation``), of forecasts and ensembles (``forecast``) and
their running sums over DA cycles and roll-out batches (``accumulators``).

Pure functions of NumPy arrays, accumulating in float64; see the submodules for details.
"""

from ddmdyn.metrics.accumulators import EnsembleScoreSums, MeanAccumulator
from ddmdyn.metrics.forecast import (
    ensemble_crps,
    ensemble_moments,
    member_sum,
    nrmse_from_mse,
    rank_histogram,
    truth_rank,
)
from ddmdyn.metrics.generation import (
    GaussianStatsAccumulator,
    build_tree,
    extreme_quantiles,
    extreme_value_ratio_from_quantiles,
    frechet_distance,
    generation_scores,
    hellinger_from_counts,
    histogram3d,
    mean_nn_sq_dist,
    nearest_neighbour_sq_dist,
    noise_floor_subsets,
)

__all__ = [
    "EnsembleScoreSums",
    "GaussianStatsAccumulator",
    "MeanAccumulator",
    "build_tree",
    "ensemble_crps",
    "ensemble_moments",
    "extreme_quantiles",
    "extreme_value_ratio_from_quantiles",
    "frechet_distance",
    "generation_scores",
    "hellinger_from_counts",
    "histogram3d",
    "mean_nn_sq_dist",
    "member_sum",
    "nearest_neighbour_sq_dist",
    "noise_floor_subsets",
    "nrmse_from_mse",
    "rank_histogram",
    "truth_rank",
]
