"""Figures of the surrogate models (representation learning): errors vs. lead, data and DDM."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from ._common import label_with_units, mean_std, names_along, plot_mean_band, positive_band_floor
from ._common import select as select_along
from .style import (
    COLUMN_WIDTH,
    PAGE_WIDTH,
    REFERENCE_COLOUR,
    label_panels,
    new_figure,
    parse_variant,
    set_suptitle,
    styled,
    styles_for,
)

# title, axis label, default units, y scale of the surrogate scores (normalised units,
# docs/decisions.md, E2).
SURROGATE_SCORES: dict[str, tuple[str, str, str | None, str]] = {
    "rmse_one_step": ("one-step RMSE", "one-step RMSE", "normalised units", "log"),
    "rmse_1mtu": ("RMSE at lead 1 MTU", "RMSE at 1 MTU", "normalised units", "log"),
    "hellinger": ("Hellinger distance", "distance", "dimensionless", "linear"),
}


def _score_labels(var: str) -> tuple[str, str, str | None, str]:
    match = re.fullmatch(r"rmse_at_(.+)mtu", var)
    if match:
        lead = match.group(1)
        return (f"RMSE at lead {lead} MTU", f"RMSE at {lead} MTU", "normalised units", "log")
    return SURROGATE_SCORES.get(var, (var, var, None, "linear"))


def fixed_lead_name(lead_time: float) -> str:
    """Variable name of the RMSE at one fixed lead time, e.g. ``rmse_at_0.1mtu``."""
    return f"rmse_at_{float(lead_time):g}mtu"


def _legend_outside(fig: Figure, ax: Axes, where: str = "lower center", ncols: int = 4) -> None:
    """One figure legend outside the axes, built from ``ax``'s labelled lines."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc=f"outside {where}", ncols=max(1, min(ncols, len(labels))))


@styled
def fig03_surrogate_rmse_vs_lead(
    scores: xr.Dataset,
    *,
    configurations: Sequence[str] | None = None,
    title: str | None = "Surrogate roll-out error vs. lead time (mean ± std over seeds)",
) -> Figure:
    """RMSE = sqrt(mse) of the autoregressive surrogate roll-outs against lead time (MTU), log y.

    Args:
        scores: Dataset (configuration, seed, lead_time) with ``mse`` in normalised units^2;
            ``lead_time`` in model time units.
        configurations: subset / order of configurations (all by default).
    Returns:
        Figure with one axes: one line per configuration (mean over seeds of the per-seed RMSE)
        with a +-std band.
    """
    scores = select_along(scores, "configuration", configurations)
    configs = names_along(scores, "configuration")
    styles = styles_for(configs, "configuration")
    rmse = np.sqrt(scores["mse"]).transpose("configuration", "seed", "lead_time")
    mean, std = mean_std(rmse, "seed")
    lead = np.asarray(scores["lead_time"].values, float)
    height = max(3.0, 0.16 * len(configs) + 0.6)
    fig, axes = new_figure(1, 1, width=PAGE_WIDTH, height=height)
    ax = axes[0, 0]
    for k, name in enumerate(configs):
        plot_mean_band(ax, lead, mean[k].values, std[k].values, styles[name], marker=False)
    ax.set_yscale("log")
    positive_band_floor(ax)
    # a diverging surrogate must not flatten the others: cap the axis at 10x the error of a
    # climatological forecast (about sqrt(2) in normalised units) and say which ones left it
    cap = 10 * np.sqrt(2.0)
    if np.nanmax(np.where(np.isfinite(mean.values), mean.values, np.inf)) > cap:
        ax.set_ylim(top=cap)
        gone = [c for k, c in enumerate(configs) if not np.all(mean[k].values <= cap)]
        ax.text(
            0.01,
            0.98,
            "beyond the axis (diverging): " + ", ".join(gone),
            transform=ax.transAxes,
            va="top",
            fontsize="small",
        )
    ax.set_xlabel(label_with_units(scores["lead_time"], "lead time", "MTU"))
    ax.set_ylabel("RMSE (normalised units)")
    ax.set_title("autoregressive roll-outs from the test initial states")
    _legend_outside(fig, ax, "right center", ncols=1)
    set_suptitle(fig, title)
    return fig


def _set_sweep_xaxis(ax: Axes, values: np.ndarray, base: float | None) -> None:
    """Log x axis (base ``base``); ticks at the sweep values when few and well separated."""
    if base is None:
        return
    ax.set_xscale("log", base=base)
    finite = np.unique(values[np.isfinite(values) & (values > 0)])
    separated = finite.size < 2 or np.min(finite[1:] / finite[:-1]) >= 1.5
    if 0 < finite.size <= 10 and separated:
        ax.xaxis.set_major_locator(FixedLocator(finite))
        ax.xaxis.set_minor_locator(NullLocator())
    if base == 10:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))


def _error_vs_sweep(
    ds: xr.Dataset,
    dim: str,
    *,
    xlabel: str,
    xbase: float | None,
    variables: Sequence[str],
    configurations: Sequence[str] | None,
    title: str | None,
    open_markers: dict[str, np.ndarray] | None = None,
) -> Figure:
    """Shared body of figures 4-6: per score a panel, per configuration a mean +- std line.

    ``open_markers``: variable -> bool mask along ``dim`` (in ``ds``'s order) of points drawn
    with open markers (e.g. interpolated values); the legend explains them.
    """
    ds = select_along(ds, "configuration", configurations)
    names = [v for v in variables if v in ds]
    if not names:
        raise KeyError(f"none of {list(variables)} in dataset (has {list(ds.data_vars)})")
    configs = names_along(ds, "configuration")
    styles = styles_for(configs, "configuration")
    order = np.argsort(np.asarray(ds[dim].values))
    ds = ds.isel({dim: order})
    x = np.asarray(ds[dim].values, float)
    open_markers = {k: np.asarray(v, bool)[order] for k, v in (open_markers or {}).items()}
    height = 2.6 + 0.15 * int(np.ceil(len(configs) / 4))
    fig, axes = new_figure(1, len(names), width=PAGE_WIDTH, height=height, sharex=True)
    flat = axes.ravel()
    for ax, var in zip(flat, names, strict=True):
        mean, std = mean_std(ds[var].transpose("configuration", dim, "seed"), "seed")
        for k, name in enumerate(configs):
            plot_mean_band(ax, x, mean[k].values, std[k].values, styles[name])
            if var in open_markers and open_markers[var].any():
                st, hollow = styles[name], open_markers[var]
                ax.plot(
                    x[hollow],
                    mean[k].values[hollow],
                    ls="none",
                    marker=st.marker,
                    color=st.color,
                    mfc="white",
                    zorder=3,
                )
        title_text, label, units, yscale = _score_labels(var)
        ax.set_yscale(yscale)
        positive_band_floor(ax)
        _set_sweep_xaxis(ax, x, xbase)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(label_with_units(ds[var], label, units))
        ax.set_title(title_text)
    label_panels(flat)
    if any(m.any() for m in open_markers.values()):
        flat[0].plot(
            [],
            [],
            ls="none",
            marker="o",
            color="k",
            mfc="white",
            label="open marker: interpolated",
        )
    _legend_outside(fig, flat[0])
    set_suptitle(fig, title)
    return fig


@styled
def fig04_error_vs_training_size(
    ds: xr.Dataset,
    *,
    variables: Sequence[str] = ("rmse_one_step", "hellinger"),
    configurations: Sequence[str] | None = None,
    title: str | None = "Surrogate error vs. number of training samples (mean ± std over seeds)",
) -> Figure:
    """Scores vs. training-set size (log2 x axis), one line per configuration.

    Args:
        ds: Dataset (configuration, n_train_samples, seed) with ``rmse_one_step`` (normalised
            units) and ``hellinger``.
        variables: scores to show, one panel each.
    """
    return _error_vs_sweep(
        ds,
        "n_train_samples",
        xlabel="number of training samples",
        xbase=2,
        variables=variables,
        configurations=configurations,
        title=title,
    )


@styled
def fig05_error_vs_corruption(
    ds: xr.Dataset,
    *,
    variables: Sequence[str] = ("rmse_one_step", "hellinger"),
    configurations: Sequence[str] | None = None,
    title: str | None = "Surrogate error vs. noise on the training targets (mean ± std over seeds)",
) -> Figure:
    """Scores vs. std of the Gaussian noise added to the training increments (log x).

    Args:
        ds: Dataset (configuration, corruption_level, seed) with ``rmse_one_step`` and
            ``hellinger``; corruption_level in normalised units.
    """
    return _error_vs_sweep(
        ds,
        "corruption_level",
        xlabel=label_with_units(ds["corruption_level"], "target-noise std", "normalised units"),
        xbase=10,
        variables=variables,
        configurations=configurations,
        title=title,
    )


@styled
def fig06_error_vs_surrogate_dt(
    ds: xr.Dataset,
    *,
    lead_times: Sequence[float] | None = None,
    title: str | None = "Surrogate error at fixed lead times vs. surrogate time step "
    "(mean ± std over seeds)",
) -> Figure:
    """RMSE at fixed physical lead times and the Hellinger distance vs. the surrogate time step
    (integration steps of 0.01 MTU, log x), one line per configuration.

    The error after one surrogate step would compare 0.01 MTU forecasts (dt 1) with 1 MTU ones
    (dt 100); at a fixed lead time every point forecasts equally far. Points interpolated
    between roll-out leads have open markers; points never reached (a step longer than the lead)
    are missing.

    Args:
        ds: Dataset (configuration, surrogate_dt, seed) with ``hellinger`` and ``rmse_at_lead``
            (..., fixed_lead_time; normalised units) and ``lead_interpolated``; a dataset without
            ``rmse_at_lead`` falls back to ``rmse_one_step``.
        lead_times: the lead times (MTU) to show, one panel each (default: all in ``ds``).
    """
    variables: list[str] = []
    open_markers: dict[str, np.ndarray] = {}
    if "rmse_at_lead" in ds:
        leads = ds["fixed_lead_time"].values if lead_times is None else lead_times
        derived = {}
        for lead in leads:
            name = fixed_lead_name(lead)
            at = ds.sel(fixed_lead_time=float(lead), method="nearest")
            derived[name] = at["rmse_at_lead"].drop_vars("fixed_lead_time")
            if "lead_interpolated" in ds:
                flag = at["lead_interpolated"].max(("configuration", "seed"), skipna=True)
                open_markers[name] = np.asarray(flag.transpose("surrogate_dt").values) > 0.5
            variables.append(name)
        ds = ds.drop_dims("fixed_lead_time").assign(derived)
    else:
        variables.append("rmse_one_step")
    variables.append("hellinger")
    return _error_vs_sweep(
        ds,
        "surrogate_dt",
        xlabel="surrogate step (× 0.01 MTU)",
        xbase=10,
        variables=variables,
        configurations=None,
        title=title,
        open_markers=open_markers,
    )


def _variant_tick(variant: str) -> str:
    """Tick label: the parameterisation, with the full variant name underneath."""
    param = parse_variant(variant)[0]
    return variant if param is None else f"{param}\n({variant})"


@styled
def fig07_transfer_by_diffusion_model(
    ds: xr.Dataset,
    *,
    variables: Sequence[str] = ("rmse_one_step",),
    reference: Mapping[str, float] | None = None,
    title: str | None = "Transfer surrogate vs. pretrained DDM",
) -> Figure:
    """Score of the transfer surrogate per pretrained diffusion model: one dot per DDM seed and
    the mean +- std over seeds.

    Args:
        ds: Dataset (diffusion_variant, seed) with ``rmse_one_step`` (normalised units) etc.
        variables: scores to show, one panel each.
        reference: optional label -> value drawn as dotted horizontal lines (e.g. a network
            trained from scratch), the same in every panel.
    """
    names = [v for v in variables if v in ds]
    if not names:
        raise KeyError(f"none of {list(variables)} in dataset (has {list(ds.data_vars)})")
    variants = names_along(ds, "diffusion_variant")
    styles = styles_for(variants, "variant")
    width = min(PAGE_WIDTH, max(COLUMN_WIDTH, 2.4 * len(names) + 0.6))
    fig, axes = new_figure(1, len(names), width=width, height=2.8)
    flat = axes.ravel()
    x = np.arange(len(variants), dtype=float)
    for ax, var in zip(flat, names, strict=True):
        da = ds[var].transpose("diffusion_variant", "seed")
        mean, std = mean_std(da, "seed")
        for k, variant in enumerate(variants):
            st = styles[variant]
            vals = np.asarray(da.isel(diffusion_variant=k).values, float)
            jitter = np.linspace(-0.15, 0.15, len(vals)) if len(vals) > 1 else np.zeros(1)
            ax.scatter(x[k] - 0.12 + 0.5 * jitter, vals, s=8, color=st.color, alpha=0.5, lw=0)
            ax.errorbar(
                x[k] + 0.18,
                float(mean[k]),
                yerr=float(std[k]),
                color=st.color,
                marker=st.marker,
                ls="none",
            )
        for j, (label, value) in enumerate((reference or {}).items()):
            ax.axhline(value, color=REFERENCE_COLOUR, ls=(0, (1, 1 + j)), lw=1.0, label=label)
        title_text, label, units, _ = _score_labels(var)
        ax.set_ylabel(label_with_units(ds[var], label, units))
        ax.set_title(title_text)
        ax.set_xticks(x, [_variant_tick(v) for v in variants])
        ax.set_xlabel("pretrained diffusion model")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        if reference:
            ax.legend(loc="best")
    if len(names) > 1:
        label_panels(flat)
    set_suptitle(fig, title)
    return fig


__all__ = [
    "fig03_surrogate_rmse_vs_lead",
    "fig04_error_vs_training_size",
    "fig05_error_vs_corruption",
    "fig06_error_vs_surrogate_dt",
    "fig07_transfer_by_diffusion_model",
]
