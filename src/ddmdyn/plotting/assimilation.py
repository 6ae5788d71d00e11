"""Figures of DDM ensembles and data assimilation (docs/decisions.md, E18-E21)."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ._common import (
    coord_values,
    label_with_units,
    mean_std,
    names_along,
    plot_mean_band,
)
from .style import (
    ANALYSIS_COLOUR,
    ATTRACTOR_COLOUR,
    BACKGROUND_COLOUR,
    PAGE_WIDTH,
    REFERENCE_COLOUR,
    LineStyle,
    label_panels,
    new_figure,
    set_suptitle,
    styled,
    styles_for,
    variable_colour,
)

ENSEMBLE_PLANES = ((0, 2), (0, 1))  # x-z, then x-y


@styled
def fig08_ensembles_around_state(
    sweep: xr.Dataset,
    steps: Sequence[int] = (5, 10, 20, 40),
    state: int = 0,
    *,
    test: xr.DataArray | None = None,
    max_background: int = 20000,
    title: str | None = "DDM ensembles around one state for several diffusion steps",
) -> Figure:
    """Ensemble members (x-z plane, top row; x-y plane, bottom row) around one centre state,
    one column per diffusion step, on a grey attractor background.

    Args:
        sweep: Dataset with ``ensemble`` (diffusion_step, state, member, variable) and ``center``
            (state, variable), physical units.
        steps: diffusion steps to show (the nearest available step is used for each).
        state: index along ``state`` of the centre state.
        test: optional attractor states (n, variable), physical units, drawn as background.
        max_background: at most this many background points (fixed random subset).
    Returns:
        Figure with 2 x len(steps) axes sharing the axis limits.
    """
    ens = sweep["ensemble"].isel(state=state).transpose("diffusion_step", "member", "variable")
    centre = np.asarray(sweep["center"].isel(state=state).values, float)
    var_names = names_along(ens, "variable")
    units = ens.attrs.get("units")
    chosen = ens.sel(diffusion_step=list(steps), method="nearest")
    members = np.asarray(chosen.values, float)  # (steps, member, variable)
    background = None if test is None else _attractor_background(test, max_background)
    lo, hi, pad = _ensemble_limits(members, centre)
    ncols = len(steps)
    fig, axes = new_figure(2, ncols, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.5 + 0.3)
    step_values = coord_values(chosen, "diffusion_step")
    for c in range(ncols):
        for r, (i, j) in enumerate(ENSEMBLE_PLANES):
            ax = axes[r, c]
            _draw_ensemble_plane(ax, (i, j), members[c], centre, background)
            ax.set_xlim(lo[i] - pad[i], hi[i] + pad[i])
            ax.set_ylim(lo[j] - pad[j], hi[j] + pad[j])
            ax.set_xlabel(_var_label(var_names[i], units))
            ax.set_ylabel(_var_label(var_names[j], units))
            ax.set_title(f"S = {step_values[c]}, {var_names[i]}-{var_names[j]}")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    legend = fig.legend(handles, labels, loc="outside lower center", ncols=3)
    for handle in legend.legend_handles:
        handle.set_sizes([25.0])
    label_panels(axes.ravel())
    set_suptitle(fig, title)
    return fig


def _attractor_background(test: xr.DataArray, max_background: int) -> np.ndarray:
    """Finite attractor states (n, 3) of `test`, at most `max_background` (fixed random subset)."""
    background = np.asarray(test.transpose(..., "variable").values, float).reshape(-1, 3)
    background = background[np.all(np.isfinite(background), axis=1)]
    if len(background) > max_background:
        idx = np.random.default_rng(0).choice(len(background), max_background, replace=False)
        background = background[idx]
    return background


def _ensemble_limits(
    members: np.ndarray, centre: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(low, high, padding) per variable of the finite members and the centre state."""
    pts = np.concatenate([members.reshape(-1, 3), centre[None]], axis=0)
    pts = pts[np.all(np.isfinite(pts), axis=1)]
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-3) + 0.5
    return lo, hi, pad


def _draw_ensemble_plane(
    ax: Axes,
    plane: tuple[int, int],
    members: np.ndarray,
    centre: np.ndarray,
    background: np.ndarray | None,
) -> None:
    """Background attractor, ensemble members (member, variable) and centre in plane (i, j)."""
    i, j = plane
    if background is not None:
        ax.scatter(
            background[:, i],
            background[:, j],
            s=0.3,
            color=ATTRACTOR_COLOUR,
            lw=0,
            rasterized=True,
            label="attractor (test data)",
        )
    ax.scatter(
        members[:, i],
        members[:, j],
        s=6,
        color=ANALYSIS_COLOUR,
        alpha=0.7,
        lw=0,
        label="ensemble members",
    )
    ax.scatter(
        centre[i],
        centre[j],
        s=40,
        marker="*",
        color="black",
        lw=0,
        zorder=5,
        label="centre state",
    )


def _var_label(name: str, units: str | None) -> str:
    return name if units in (None, "", "1") else f"{name} ({units})"


@styled
def fig09_spread_vs_diffusion_time(
    sweep: xr.Dataset,
    da_sweep: xr.Dataset | None = None,
    *,
    title: str | None = "Ensemble statistics and assimilation skill vs. diffusion steps",
) -> Figure:
    """(a) ensemble spread per variable, (b) skewness (solid) and excess kurtosis (dashed) per
    variable, (c) DA analysis / background nRMSE (solid) and spread (dashed), mean +- std over
    truths, all against the number of diffusion steps S; one legend below the panels.

    Args:
        sweep: Dataset with ``spread``, ``skewness``, ``excess_kurtosis`` (diffusion_step,
            variable); spread in normalised units.
        da_sweep: optional Dataset (diffusion_step, truth) with ``ana_rmse``, ``ana_spread``,
            ``bg_rmse``, ``bg_spread`` (normalised units); panel (c) is left out without it.
    """
    npanel = 3 if da_sweep is not None else 2
    fig, axes = new_figure(1, npanel, width=PAGE_WIDTH, height=2.7, sharex=True)
    flat = axes.ravel()
    steps = np.asarray(coord_values(sweep, "diffusion_step"), float)
    var_names = names_along(sweep["spread"], "variable")
    ax = flat[0]
    spread = sweep["spread"].transpose("diffusion_step", "variable")
    for k, v in enumerate(var_names):
        ax.plot(steps, spread.values[:, k], color=variable_colour(v, k), marker="o", label=v)
    ax.set_ylabel(label_with_units(sweep["spread"], "ensemble spread (std)", "normalised units"))
    ax.set_title("ensemble spread")
    handles, labels = ax.get_legend_handles_labels()
    ax = flat[1]
    for name, ls in (("skewness", "-"), ("excess_kurtosis", "--")):
        if name not in sweep:
            continue
        da = sweep[name].transpose("diffusion_step", "variable")
        for k, v in enumerate(var_names):
            ax.plot(steps, da.values[:, k], color=variable_colour(v, k), ls=ls, marker=".")
    ax.axhline(0.0, color=REFERENCE_COLOUR, lw=0.8, ls=":")
    handles += [
        Line2D([], [], color="k", ls="-", marker="."),
        Line2D([], [], color="k", ls="--", marker="."),
        Line2D([], [], color=REFERENCE_COLOUR, ls=":"),
    ]
    labels += ["(b) skewness", "(b) excess kurtosis", "(b) Gaussian value 0"]
    ax.set_ylabel("moment (dimensionless)")
    ax.set_title("non-Gaussianity")
    if da_sweep is not None:
        ax = flat[2]
        ds = da_sweep.sortby("diffusion_step")
        s = np.asarray(ds["diffusion_step"].values, float)
        for prefix, colour, label in (
            ("ana", ANALYSIS_COLOUR, "analysis"),
            ("bg", BACKGROUND_COLOUR, "background"),
        ):
            for kind, ls in (("RMSE", "-"), ("spread", "--")):
                var = f"{prefix}_{kind.lower()}"
                if var not in ds:
                    continue
                mean, std = mean_std(ds[var].transpose("diffusion_step", "truth"), "truth")
                st = LineStyle(colour, ls, "o" if kind == "RMSE" else "s", f"{label} {kind}")
                plot_mean_band(ax, s, mean.values, std.values, st, band=kind == "RMSE")
        ax.set_ylabel(label_with_units(ds.get("ana_rmse"), "RMSE / spread", "normalised units"))
        ax.set_title("EnOI-DDM assimilation")
        more_handles, more_labels = ax.get_legend_handles_labels()
        handles += more_handles
        labels += [f"(c) {label}" for label in more_labels]
    for ax in flat:
        of = sweep.attrs.get("n_coarse_steps")
        ax.set_xlabel(f"diffusion steps S (of {of})" if of else "diffusion steps S")
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    label_panels(flat)
    fig.legend(handles, labels, loc="outside lower center", ncols=5)
    set_suptitle(fig, title)
    return fig


def has_spread(da: xr.DataArray | None) -> bool:
    """Whether a spread variable carries an ensemble spread: some finite value above zero.

    A single-state forecast (EnOI, 3D-Var) has spread exactly 0 by construction, not as data.
    """
    if da is None:
        return False
    values = np.asarray(da.values, float)
    return bool(np.any(np.isfinite(values) & (values > 0)))


@styled
def fig10_rmse_spread_in_window(
    runs: Mapping[str, xr.Dataset],
    *,
    title: str | None = "Error and spread within the assimilation window (mean over truths)",
) -> Figure:
    """RMSE (solid) and ensemble spread (dashed) vs. lead inside the window, one colour per
    method. Methods that forecast a single state (spread zero by construction) get no spread
    line; the legend names them.

    Args:
        runs: method -> run Dataset with ``rmse_lead``, ``spread_lead`` (truth, lead); lead in
            integration steps, scores in normalised units.
    """
    if not runs:
        raise ValueError("no runs given")
    styles = styles_for(list(runs), "method")
    fig, axes = new_figure(1, 1, width=PAGE_WIDTH * 0.8, height=3.0)
    ax = axes[0, 0]
    first = next(iter(runs.values()))
    no_spread = []
    for method, run in runs.items():
        st = styles[method]
        lead = np.asarray(coord_values(run, "lead"), float)
        rmse = run["rmse_lead"].transpose("truth", "lead").mean("truth", skipna=True)
        ax.plot(lead, rmse.values, color=st.color, marker=st.marker, label=st.label)
        if has_spread(run.get("spread_lead")):
            spread = run["spread_lead"].transpose("truth", "lead").mean("truth", skipna=True)
            ax.plot(lead, spread.values, color=st.color, ls="--", marker=st.marker, mfc="white")
        else:
            no_spread.append(st.label)
    handles, labels = ax.get_legend_handles_labels()
    handles.append(Line2D([], [], color="k", ls="-"))
    labels.append("RMSE")
    if len(no_spread) < len(runs):
        handles.append(Line2D([], [], color="k", ls="--", marker="o", mfc="w"))
        labels.append("spread")
    if no_spread:
        handles.append(Line2D([], [], ls="none"))
        labels.append("no spread (single-state\nforecast, 0 by construction):\n" + _wrap(no_spread))
    fig.legend(handles, labels, loc="outside right center")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    lead_label = label_with_units(first.get("lead"), "lead within the window", "integration steps")
    ax.set_xlabel(lead_label)
    ax.set_ylabel(label_with_units(first["rmse_lead"], "RMSE / spread", "normalised units"))
    set_suptitle(fig, title)
    return fig


def _wrap(names: Sequence[str], width: int = 30) -> str:
    """Names joined by commas, wrapped to ``width`` characters per line."""
    return textwrap.fill(", ".join(names), width)


@styled
def fig11_rmse_vs_obs_interval(
    ds: xr.Dataset,
    *,
    show_spread: bool = False,
    title: str | None = "Analysis error vs. observation interval (mean ± std over truths)",
) -> Figure:
    """Time-mean analysis nRMSE against the observation interval, one line per method
    (mean +- std over truths); optionally the analysis spread dashed.

    Args:
        ds: Dataset (method, obs_every, truth) with ``ana_rmse`` and ``ana_spread`` (normalised
            units); obs_every in integration steps.
    """
    methods = names_along(ds, "method")
    styles = styles_for(methods, "method")
    ds = ds.sortby("obs_every")
    x = np.asarray(ds["obs_every"].values, float)
    fig, axes = new_figure(1, 1, width=PAGE_WIDTH * 0.8, height=3.0)
    ax = axes[0, 0]
    rmse = ds["ana_rmse"].transpose("method", "obs_every", "truth")
    rmse_mean, rmse_std = mean_std(rmse, "truth")
    for k, method in enumerate(methods):
        plot_mean_band(ax, x, rmse_mean[k].values, rmse_std[k].values, styles[method])
    if show_spread and "ana_spread" in ds:
        sp = ds["ana_spread"].transpose("method", "obs_every", "truth").mean("truth", skipna=True)
        for k, method in enumerate(methods):
            st = styles[method]
            ax.plot(x, sp[k].values, color=st.color, ls="--", marker=st.marker, mfc="white")
    handles, labels = ax.get_legend_handles_labels()
    if show_spread:
        handles += [Line2D([], [], color="k", ls="-"), Line2D([], [], color="k", ls="--")]
        labels += ["analysis RMSE", "analysis spread"]
    fig.legend(handles, labels, loc="outside right center")
    ax.set_xticks(x)
    ax.set_xlabel("observation interval (integration steps of 0.01 MTU)")
    ax.set_ylabel(label_with_units(ds["ana_rmse"], "analysis RMSE", "normalised units"))
    set_suptitle(fig, title)
    return fig


@styled
def fig13_rank_histograms(
    runs: Mapping[str, xr.Dataset],
    *,
    ncols: int = 4,
    title: str | None = "Rank histograms of the background ensembles (all truths and variables)",
) -> Figure:
    """Normalised rank histogram per method (summed over truths and pooled over variables) with
    the uniform frequency 1 / n_rank as a dashed line. Methods without ensemble ranks (all
    counts zero: a single-state background) get no panel; a note names them.

    Args:
        runs: method -> run Dataset with ``rank_histogram`` (truth, variable, rank) counts.
    """
    if not runs:
        raise ValueError("no runs given")
    styles = styles_for(list(runs), "method")
    counts = {
        method: run["rank_histogram"].sum(("truth", "variable")).values.astype(float)
        for method, run in runs.items()
    }
    methods = [m for m, c in counts.items() if np.isfinite(c.sum()) and c.sum() > 0]
    without = [styles[m].label for m in runs if m not in methods]
    n_panels = max(1, len(methods))
    ncols = min(ncols, n_panels)
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = new_figure(nrows, ncols, width=PAGE_WIDTH, height=1.9 * nrows + 0.6)
    flat = axes.ravel()
    for ax, method in zip(flat, methods, strict=False):
        st = styles[method]
        freq = counts[method] / counts[method].sum()
        ranks = np.arange(len(freq))
        edge = "white" if len(freq) <= 20 else "none"
        ax.bar(ranks, freq, width=1.0, color=st.color, alpha=0.8, edgecolor=edge, lw=0.3)
        ax.axhline(1.0 / len(freq), color="black", ls="--", lw=0.9, label="uniform frequency")
        ax.set_xlim(-1.0, len(freq))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        ax.set_title(st.label)
        ax.set_xlabel("rank of the truth")
        ax.set_ylabel("relative frequency")
    for ax in flat[len(methods) :]:
        ax.set_axis_off()
    handles = [Line2D([], [], color="black", ls="--", lw=0.9)]
    labels = ["uniform frequency"]
    if without:
        handles.append(Line2D([], [], ls="none"))
        labels.append("no ensemble ranks (single-state background): " + ", ".join(without))
    if not methods:
        flat[0].set_title("no method has ensemble ranks")
    fig.legend(handles, labels, loc="outside lower center", ncols=1)
    label_panels(flat[: len(methods)])
    set_suptitle(fig, title)
    return fig


__all__ = [
    "fig08_ensembles_around_state",
    "fig09_spread_vs_diffusion_time",
    "fig10_rmse_spread_in_window",
    "fig11_rmse_vs_obs_interval",
    "fig13_rank_histograms",
]
