"""Small helpers shared by the figure modules: statistics over repeats and axis labels."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.legend import Legend
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ..tables import mean_std as table_mean_std
from .layout_check import data_points, draw
from .style import LineStyle


def mean_std(da: xr.DataArray, dim: str) -> tuple[xr.DataArray, xr.DataArray]:
    """Mean and std over ``dim`` as in the tables (`ddmdyn.tables.mean_std`), for a band.

    Where fewer than two values are finite the std is 0 (no band) instead of the tables' NaN.
    """
    mean, std = table_mean_std(da, dim)
    return mean, std.where(da.notnull().sum(dim) > 1, 0.0)


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
    """Axis label ``"name (units)"``: units from the variable's attrs, else ``default_units``
    (also when the attrs only say dimensionless, ``"1"``, so an axis can name its scale, e.g.
    normalised units)."""
    units = None if da is None else da.attrs.get("units")
    if units in (None, "", "1", "-"):
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
    """On a log y axis: keep the lower limit from collapsing to a band that dips below zero, and
    label it readably. Spanning 1.5 decades or more, only powers of ten are labelled; a shorter
    axis is labelled at 1, 2, 5 x 10^k (plain numbers), widened to hold at least two such ticks
    (minor labels such as 3x10^-2 and 4x10^-2 would collide, one label gives no scale)."""
    if ax.get_yscale() != "log":
        return
    lines = [ln.get_ydata() for ln in ax.get_lines()]
    values = np.concatenate([np.asarray(v, dtype=float).ravel() for v in lines]) if lines else []
    values = np.asarray(values)
    values = values[np.isfinite(values) & (values > 0)]
    lo, hi = ax.get_ylim()
    if values.size:
        lo = max(lo, values.min() / 3.0)
    ax.yaxis.set_minor_formatter(NullFormatter())
    if np.log10(hi / lo) < 1.5:
        k0, k1 = int(np.floor(np.log10(lo))) - 1, int(np.ceil(np.log10(hi))) + 1
        nice = np.array([m * 10.0**k for k in range(k0, k1 + 1) for m in (1, 2, 5)])
        while np.sum((nice >= lo) & (nice <= hi)) < 2:
            below, above = nice[nice < lo].max(), nice[nice > hi].min()
            if np.log10(lo / below) <= np.log10(above / hi):
                lo = below
            else:
                hi = above
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.set_ylim(lo, hi)


# Legend positions tried by `legend_in_empty_corner`, in order of preference.
LEGEND_CORNERS = (
    "upper right",
    "upper left",
    "lower right",
    "lower left",
    "center right",
    "center left",
    "upper center",
    "lower center",
)


def legend_in_empty_corner(
    ax: Axes, handles=None, labels=None, *, max_fraction: float = 0.005, **kwargs
) -> Legend:
    """Legend of ``ax`` in the first corner that covers at most ``max_fraction`` of its plotted
    data (lines by drawn length, points, bars; see ``layout_check.data_points``); to the right
    of the axes, outside, when no corner is free. Draws the figure once to measure, so call it
    after everything that changes the layout (titles, other legends outside axes).
    """
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    legend = ax.legend(handles, labels, loc=LEGEND_CORNERS[0], **kwargs)
    renderer = draw(ax.figure)
    to_axes = ax.transAxes.inverted()
    xy = data_points(ax)
    xy = to_axes.transform(xy) if len(xy) else np.empty((0, 2))
    box = legend.get_window_extent(renderer).transformed(to_axes)
    w, h = box.width, box.height
    pad_px = legend.borderaxespad * legend.prop.get_size_in_points() * ax.figure.dpi / 72.0
    px, py = pad_px / ax.bbox.width, pad_px / ax.bbox.height
    best, best_frac = None, np.inf
    for loc in LEGEND_CORNERS:
        x0 = {"right": 1 - px - w, "left": px}.get(loc.split()[-1], 0.5 - w / 2)
        y0 = {"upper": 1 - py - h, "lower": py}.get(loc.split()[0], 0.5 - h / 2)
        inside = (xy[:, 0] > x0) & (xy[:, 0] < x0 + w) & (xy[:, 1] > y0) & (xy[:, 1] < y0 + h)
        frac = float(np.mean(inside)) if len(xy) else 0.0
        if frac < best_frac:
            best, best_frac = loc, frac
        if frac <= max_fraction:
            break
    legend.remove()
    if best_frac <= max_fraction:
        return ax.legend(handles, labels, loc=best, **kwargs)
    return ax.legend(handles, labels, loc="center left", bbox_to_anchor=(1.02, 0.5), **kwargs)
