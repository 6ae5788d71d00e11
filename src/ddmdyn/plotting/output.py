"""Saving figures and reading the inputs figure scripts share."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from ..io import atomic_path, read_dataset


def save_figure(fig: Figure, paths: Iterable[str | os.PathLike[str]], dpi: int = 200) -> None:
    """Write `fig` to every path (format from the suffix, e.g. .pdf and .png), atomically."""
    for path in paths:
        suffix = os.path.splitext(str(path))[1]
        with atomic_path(path, suffix=suffix) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=suffix.lstrip("."))


def test_states(path: str | os.PathLike[str], max_points: int = 100_000) -> xr.DataArray:
    """Up to `max_points` states (n, variable), physical units, evenly thinned from a split."""
    with read_dataset(path, variables={"state": ("trajectory", "time", "variable")}) as ds:
        n_traj, n_time = ds.sizes["trajectory"], ds.sizes["time"]
        stride = max(1, int(np.ceil(n_traj * n_time / max_points)))
        state = ds["state"].isel(time=slice(0, None, stride)).load()
    return state.stack(n=("trajectory", "time")).transpose("n", "variable").reset_index("n")


def load_runs(paths: Iterable[str | os.PathLike[str]], key: str = "method") -> dict:
    """{attrs[key]: dataset} of result files (e.g. DA runs by method)."""
    runs = {}
    for path in paths:
        ds = read_dataset(path).load()
        runs[ds.attrs[key]] = ds
    return runs
