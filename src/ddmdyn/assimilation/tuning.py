"""Selecting a method's parameter from grid-search runs (decision 11.5)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr


def select_optimum(
    runs: Sequence[xr.Dataset], authors_value: float | None = None
) -> dict[str, Any]:
    """The run with the lowest time-mean analysis nRMSE averaged over truths.

    Runs whose objective is not finite (filter divergence) are never selected; if none is
    finite a ValueError names the method.

    Returns:
        {method, parameter_name, value, objective, grid: [{value, objective}], authors_value}
    """
    if not runs:
        raise ValueError("no tuning runs to select from")
    grid = []
    for run in runs:
        objective = float(np.mean(run["ana_rmse"].values))
        grid.append({"value": float(run.attrs["parameter_value"]), "objective": objective})
    grid.sort(key=lambda g: g["value"])
    finite = [g for g in grid if np.isfinite(g["objective"])]
    method = runs[0].attrs["method"]
    if not finite:
        raise ValueError(f"every tuning run of {method} diverged (analysis nRMSE not finite)")
    best = min(finite, key=lambda g: g["objective"])
    value = best["value"]
    if runs[0].attrs["parameter_name"] == "diffusion_step":
        value = round(value)
    return {
        "method": method,
        "parameter_name": runs[0].attrs["parameter_name"],
        "value": value,
        "objective": best["objective"],
        "grid": [{k: (None if not np.isfinite(v) else v) for k, v in g.items()} for g in grid],
        "authors_value": authors_value,
        "at_grid_edge": best is finite[0] or best is finite[-1],
    }
