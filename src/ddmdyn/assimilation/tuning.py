"""Selecting a method's parameter from grid-search runs (docs/decisions.md, D5; issue 14 item 3).

Score of a grid value, compared lexicographically: first the number of tuning truths on which
the filter diverged (analysis nRMSE above a threshold, or not finite), then the pooled analysis
nRMSE over the truths (the authors' aggregation: mean squared error over truths, then the root).
So a value that diverges on any tuning truth never beats one that diverges on none, however
good its mean. The grid must contain its optimum: a choice on the edge of its grid is an error
unless that edge is a hard bound of the parameter (S = 1, inflation = 1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

__all__ = [
    "HARD_LOWER_BOUNDS",
    "GridEdgeError",
    "diverged_truths",
    "pooled_nrmse",
    "select_optimum",
]

HARD_LOWER_BOUNDS = {"diffusion_step": 1.0, "inflation": 1.0}
"""Smallest meaningful value of each tuned parameter; a choice there is not a grid-edge error."""


class GridEdgeError(ValueError):
    """The selected value lies on an edge of its grid that is not a hard bound."""


def diverged_truths(ana_rmse: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of diverged truths: analysis nRMSE above `threshold` or not finite.

    Args:
        ana_rmse: (..., truth) time-mean analysis nRMSE per truth (normalised units).
        threshold: divergence threshold (normalised nRMSE, config assimilation.divergence_nrmse).
    """
    a = np.asarray(ana_rmse, dtype=float)
    return ~(a <= threshold)  # NaN compares False, so it counts as diverged


def pooled_nrmse(ana_rmse: np.ndarray, axis: int = -1) -> np.ndarray:
    """sqrt(mean over truths of nRMSE^2): the root of the pooled mean squared error.

    Every truth has the same number of scored cycles, so the mean of the per-truth squared
    nRMSE is the mean normalised squared error over all (truth, cycle) pairs. NaN propagates.
    """
    a = np.asarray(ana_rmse, dtype=float)
    return np.sqrt(np.mean(a**2, axis=axis))


def _edge(value: float, grid: Sequence[float]) -> str | None:
    if len(grid) == 0:
        return None
    if math.isclose(value, min(grid)):
        return "lower"
    if math.isclose(value, max(grid)):
        return "upper"
    return None


def select_optimum(
    runs: Sequence[xr.Dataset],
    authors_value: float | None = None,
    divergence_nrmse: float = math.inf,
    on_grid_edge: str = "error",
    obs_every: int | None = None,
) -> dict[str, Any]:
    """The grid value with the fewest diverged tuning truths, then the lowest pooled nRMSE.

    Args:
        runs: one tuning run per grid value (attrs method, parameter_name, parameter_value;
            variable ana_rmse over truths).
        authors_value: the authors' constant, recorded for comparison.
        divergence_nrmse: a truth with analysis nRMSE above this has diverged.
        on_grid_edge: "error" raises `GridEdgeError` when the choice is on an edge of the grid
            that is not a hard bound (`HARD_LOWER_BOUNDS`); "warn" only records it.
        obs_every: observation interval, named in messages and recorded.
    Returns:
        JSON-ready dict: method, parameter_name, value, objective (pooled analysis nRMSE of the
        choice), grid [{value, objective, n_diverged, mean_truth_nrmse}], authors_value,
        at_grid_edge (choice is the smallest or largest grid value), edge_side (lower / upper /
        None), edge_is_hard_bound, edge_error (an edge that is not a hard bound), n_diverged
        (tuning truths of the choice above the threshold), n_truths, divergence_nrmse,
        objective_definition, obs_every.
    Raises:
        ValueError: no runs, every run diverged on every truth, or an unknown `on_grid_edge`.
        GridEdgeError: see `on_grid_edge`.
    """
    if not runs:
        raise ValueError("no tuning runs to select from")
    if on_grid_edge not in ("error", "warn"):
        raise ValueError(f"on_grid_edge must be 'error' or 'warn', got {on_grid_edge!r}")
    method = runs[0].attrs["method"]
    parameter = runs[0].attrs["parameter_name"]
    where = f"{method} at observation interval {obs_every}"
    grid = _score_grid(runs, divergence_nrmse)
    n_truths = int(np.asarray(runs[0]["ana_rmse"].values).size)
    best = _best_grid_value(grid, n_truths, where, divergence_nrmse)
    value = best["value"]
    if parameter == "diffusion_step":
        value = round(value)
    values = [g["value"] for g in grid]
    side, hard = _grid_edge(best["value"], values, parameter)
    edge_error = side is not None and not hard
    if edge_error and on_grid_edge == "error":
        raise GridEdgeError(
            f"tuned {parameter} of {where} is {value}, on the {side} edge of its grid "
            f"{values} (config assimilation.tuning.grids): widen the grid so that it contains "
            "the optimum"
        )
    return {
        "method": method,
        "parameter_name": parameter,
        "value": value,
        "objective": _finite_or_none(best["objective"]),
        "grid": [{k: _finite_or_none(v) for k, v in g.items()} for g in grid],
        "authors_value": authors_value,
        "at_grid_edge": side is not None,
        "edge_side": side,
        "edge_is_hard_bound": hard,
        "edge_error": edge_error,
        "n_diverged": best["n_diverged"],
        "n_truths": n_truths,
        "divergence_nrmse": float(divergence_nrmse),
        "objective_definition": "pooled analysis nRMSE over the tuning truths "
        "(sqrt of the mean squared nRMSE); ranked after the number of diverged truths",
        "obs_every": None if obs_every is None else int(obs_every),
    }


def _grid_edge(value: float, values: list[float], parameter: str) -> tuple[str | None, bool]:
    """(edge side of `value` in the grid `values`: lower / upper / None, whether that edge is
    the parameter's hard lower bound)."""
    side = _edge(value, values)
    hard = side == "lower" and math.isclose(value, HARD_LOWER_BOUNDS.get(parameter, math.nan))
    return side, hard


def _score_grid(runs: Sequence[xr.Dataset], divergence_nrmse: float) -> list[dict[str, Any]]:
    """Score of each run's grid value, in ascending grid order: {value, objective (pooled
    analysis nRMSE), n_diverged, mean_truth_nrmse}."""
    grid = []
    for run in runs:
        per_truth = np.asarray(run["ana_rmse"].values, dtype=float)
        grid.append(
            {
                "value": float(run.attrs["parameter_value"]),
                "objective": float(pooled_nrmse(per_truth)),
                "n_diverged": int(diverged_truths(per_truth, divergence_nrmse).sum()),
                "mean_truth_nrmse": float(np.mean(per_truth)),
            }
        )
    grid.sort(key=lambda g: g["value"])
    return grid


def _best_grid_value(
    grid: list[dict[str, Any]], n_truths: int, where: str, divergence_nrmse: float
) -> dict[str, Any]:
    """The grid entry with the fewest diverged truths, then the lowest finite objective.

    Raises ValueError when every value diverged on every truth."""
    if not any(g["n_diverged"] < n_truths for g in grid):
        raise ValueError(
            f"every tuning run of {where} diverged on every tuning truth "
            f"(analysis nRMSE > {divergence_nrmse} or not finite)"
        )
    return min(
        grid,
        key=lambda g: (
            g["n_diverged"],
            g["objective"] if np.isfinite(g["objective"]) else math.inf,
        ),
    )


def _finite_or_none(v: Any) -> Any:
    """None for a non-finite float (JSON has no NaN), else `v`."""
    return None if isinstance(v, float) and not np.isfinite(v) else v
