"""Small helpers shared by the figure modules: statistics over repeats and axis labels."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes

from .style import LineStyle


def mean_std(da: xr.DataArray, dim: str) -> tuple[xr.DataArray, xr.DataArray]:
    """NaN-skipping mean and standard deviation over ``dim``.

    The std is the sample std (ddof=1) when at least two finite values exist, else 0.
    """
    count = da.notnull().sum(dim)
    mean = da.mean(dim, skipna=True)
    std = da.std(dim, skipna=True, ddof=1)
    std = std.where(count > 1, 0.0)
    return mean, std


def coord_values(obj: xr.Dataset | xr.DataArray, dim: str) -> np.ndarray:
    """Coordinate values along ``dim`` (0..n-1 if the dimension has no coordinate)."""
    if dim in obj.coords:
        return np.asarray(obj[dim].values)
    return np.arange(obj.sizes[dim])


def names_along(obj: xr.Dataset | xr.DataArray, dim: str) -> list[str]:
    """Coordinate values along ``dim`` as strings (for categorical dimensions)."""
    return [str(v) for v in coord_values(obj, dim)]


def select(
    obj: xr.Dataset | xr.DataArray, dim: str, names: Sequence[Hashable] | None
) -> xr.Dataset | xr.DataArray:
    """Restrict ``obj`` to ``names`` along ``dim`` (all if None), keeping their order."""
    if names is None:
        return obj
    have = names_along(obj, dim)
    missing = [n for n in names if str(n) not in have]
    if missing:
        raise KeyError(f"{dim} values {missing} not in data (has {have})")
    return obj.isel({dim: [have.index(str(n)) for n in names]})


def label_with_units(da: xr.DataArray | None, name: str, default_units: str | None = None) -> str:
    """Axis label ``"name (units)"``: units from the variable's attrs, else ``default_units``."""
    units = None
    if da is not None:
        units = da.attrs.get("units")
    if units is None:
        units = default_units
    if units in (None, "", "1", "-"):
        return name
    return f"{name} ({units})"


def plot_mean_band(
    ax: Axes,
    x: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    style: LineStyle,
    *,
    marker: bool = True,
    band: bool = True,
    label: str | None = None,
    linestyle: str | None = None,
) -> None:
    """One line of ``mean`` against ``x`` with a shaded ``mean +- std`` band (NaNs skipped)."""
    x = np.asarray(x, dtype=float)
    mean = np.asarray(mean, dtype=float)
    std = np.asarray(std, dtype=float)
    kwargs = style.kwargs(with_marker=marker)
    kwargs["label"] = style.label if label is None else label
    if linestyle is not None:
        kwargs["linestyle"] = linestyle
    ok = np.isfinite(x) & np.isfinite(mean)
    ax.plot(x[ok], mean[ok], **kwargs)
    if band:
        ok_band = ok & np.isfinite(std)
        ax.fill_between(
            x[ok_band],
            (mean - std)[ok_band],
            (mean + std)[ok_band],
            color=style.color,
            alpha=0.2,
            linewidth=0,
        )


def positive_band_floor(ax: Axes) -> None:
    """On a log y axis, keep the lower limit from collapsing to a band that dips below zero."""
    if ax.get_yscale() != "log":
        return
    lines = [ln.get_ydata() for ln in ax.get_lines()]
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in lines]) if lines else []
    values = np.asarray(values)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size:
        lo, hi = ax.get_ylim()
        ax.set_ylim(max(lo, values.min() / 3.0), hi)
