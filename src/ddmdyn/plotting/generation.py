"""Figures of the diffusion models themselves: generated attractor, generation scores, training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ._common import coord_values, label_with_units, mean_std, names_along, positive_band_floor
from .style import (
    GENERATED_COLOUR,
    PAGE_WIDTH,
    PARAMETERISATION_COLOURS,
    PARAMETERISATION_LABELS,
    REFERENCE_COLOUR,
    SCHEDULE_LABELS,
    SCHEDULE_LINESTYLES,
    SCHEDULE_MARKERS,
    label_panels,
    new_figure,
    parse_variant,
    set_suptitle,
    styled,
    styles_for,
)

PROJECTIONS = ((0, 1), (0, 2), (1, 2))

# title, short y label, default units of the generation scores (docs/decisions.md, E11). The y
# label is short (the panel title names the score) so that it never runs past its panel.
SCORE_LABELS: dict[str, tuple[str, str, str]] = {
    "hellinger": ("Hellinger distance", "distance", "dimensionless"),
    "frechet": ("Fréchet surrogate distance", "distance", "dimensionless"),
    "dist_gen": ("NN distance generated→test", "distance", "normalised units"),
    "dist_test": ("NN distance test→generated", "distance", "normalised units"),
    "extreme": ("extreme-value ratio", "ratio", "dimensionless"),
}
PARAMETERISATION_ORDER = ("noise", "state", "velocity")
SCHEDULE_ORDER = ("cos", "linear", "cos_mae")


def subsample_rows(values: np.ndarray, max_points: int, seed: int) -> np.ndarray:
    """At most ``max_points`` rows of ``values`` (random, reproducible), NaN rows dropped."""
    values = values[np.all(np.isfinite(values), axis=1)]
    if len(values) <= max_points:
        return values
    idx = np.random.default_rng(seed).choice(len(values), size=max_points, replace=False)
    return values[np.sort(idx)]


@styled
def fig01_attractor_samples(
    samples: xr.Dataset,
    test: xr.DataArray,
    max_points: int = 20000,
    *,
    seed: int = 0,
    title: str | None = "Generated states vs. test states of Lorenz 63",
) -> Figure:
    """Scatter of test (top row) and generated (bottom row) states in the x-y, x-z, y-z planes.

    Args:
        samples: Dataset with ``state`` (sample, variable) in physical units.
        test: reference states (n, variable) in physical units (any first dimension name).
        max_points: at most this many points per row (random subset, ``seed``).
    Returns:
        Figure with 2 x 3 axes; both rows share the axis limits.
    """
    gen = samples["state"].transpose("sample", "variable")
    var_names = names_along(gen, "variable")
    ref = test.transpose(..., "variable")
    ref_values = np.asarray(ref.values, dtype=float).reshape(-1, ref.sizes["variable"])
    gen_values = np.asarray(gen.values, dtype=float)
    rows = [
        ("test data", subsample_rows(ref_values, max_points, seed), REFERENCE_COLOUR),
        ("generated", subsample_rows(gen_values, max_points, seed), GENERATED_COLOUR),
    ]
    units = gen.attrs.get("units")
    fig, axes = new_figure(2, 3, width=PAGE_WIDTH, height=PAGE_WIDTH * 0.62)
    both = np.concatenate([r[1] for r in rows if len(r[1])], axis=0)
    lo, hi = both.min(axis=0), both.max(axis=0)
    pad = 0.04 * (hi - lo)
    for r, (row_name, values, colour) in enumerate(rows):
        for c, (i, j) in enumerate(PROJECTIONS):
            ax = axes[r, c]
            ax.scatter(
                values[:, i],
                values[:, j],
                s=0.5,
                color=colour,
                alpha=0.3,
                linewidths=0,
                rasterized=True,
            )
            ax.set_xlim(lo[i] - pad[i], hi[i] + pad[i])
            ax.set_ylim(lo[j] - pad[j], hi[j] + pad[j])
            ax.set_xlabel(_var_label(var_names[i], units))
            ax.set_ylabel(_var_label(var_names[j], units))
            ax.set_title(f"{row_name}, n = {len(values):,}")
    label_panels(axes.ravel())
    set_suptitle(fig, title)
    return fig


def _var_label(name: str, units: str | None) -> str:
    return name if units in (None, "", "1") else f"{name} ({units})"


def _variant_order(variants: Sequence[str]) -> list[str]:
    """Variants ordered by parameterisation, then schedule; unknown names last, in input order."""

    def key(item: tuple[int, str]) -> tuple[int, int, int]:
        pos, name = item
        param, sched = parse_variant(name)
        if param is None:
            return (len(PARAMETERISATION_ORDER) + 1, 0, pos)
        s = SCHEDULE_ORDER.index(sched) if sched in SCHEDULE_ORDER else len(SCHEDULE_ORDER)
        # the L1-loss ablation is its own group, after the three parameterisations
        if sched == "cos_mae":
            group = len(PARAMETERISATION_ORDER)
        else:
            group = PARAMETERISATION_ORDER.index(param)
        return (group, s, pos)

    return [name for _, name in sorted(enumerate(variants), key=key)]


def _tick_label(variant: str) -> str:
    param, sched = parse_variant(variant)
    if param is None:
        return variant
    short = {"cos": "cos", "linear": "lin", "cos_mae": "cos-L1"}.get(sched or "", sched)
    return f"{param[0]}-{short}"


@styled
def fig02_generation_scores(
    scores: xr.Dataset,
    *,
    score_names: Sequence[str] = ("hellinger", "frechet", "dist_gen", "dist_test", "extreme"),
    show_seeds: bool = True,
    log_scores: Sequence[str] = (),
    title: str | None = "Generation scores per diffusion-model variant (mean ± std over seeds)",
) -> Figure:
    """One panel per generation score: mean +- std over seeds for every diffusion variant.

    Variants are grouped by parameterisation (colour: noise / state / velocity) and schedule
    (marker: cosine / linear); ``*_cos_mae`` (L1 loss) forms its own group. The noise floor
    (mean of ``<score>_floor``) is a dashed grey line.

    Args:
        scores: Dataset (variant, seed) with the score variables and ``<score>_floor``.
        score_names: scores to show, one panel each (missing ones are skipped).
        show_seeds: also draw the individual seeds as small dots.
        log_scores: scores drawn with a log y axis.
    """
    names = [s for s in score_names if s in scores]
    if not names:
        raise KeyError(f"none of {list(score_names)} in scores (has {list(scores.data_vars)})")
    variants = _variant_order(names_along(scores, "variant"))
    styles = styles_for(variants, "variant")
    ncols = min(3, len(names))
    nrows = int(np.ceil(len(names) / ncols))
    fig, axes = new_figure(nrows, ncols, width=PAGE_WIDTH, height=2.1 * nrows + 0.5)
    flat = axes.ravel()
    x = np.arange(len(variants), dtype=float)
    for ax, name in zip(flat, names, strict=False):
        da = scores[name].sel(variant=variants).transpose("variant", "seed")
        mean, std = mean_std(da, "seed")
        for k, variant in enumerate(variants):
            st = styles[variant]
            if show_seeds:
                vals = np.asarray(da.isel(variant=k).values, float)
                jitter = np.linspace(-0.12, 0.12, len(vals)) if len(vals) > 1 else np.zeros(1)
                ax.plot(x[k] + jitter, vals, ls="none", marker=".", ms=2, color=st.color, alpha=0.4)
            ax.errorbar(
                x[k],
                float(mean[k]),
                yerr=float(std[k]),
                color=st.color,
                marker=st.marker,
                markerfacecolor="white" if parse_variant(variant)[1] == "linear" else st.color,
                ls="none",
            )
        floor_name = f"{name}_floor"
        if floor_name in scores and np.isfinite(scores[floor_name]).any():
            floor = float(scores[floor_name].mean(skipna=True))
            ax.axhline(floor, color=REFERENCE_COLOUR, ls="--", lw=1.0, label="noise floor")
        title_text, label, units = SCORE_LABELS.get(name, (name, name, "dimensionless"))
        ax.set_ylabel(label_with_units(scores[name], label, units))
        ax.set_title(title_text)
        ax.set_xticks(x, [_tick_label(v) for v in variants], rotation=60, ha="right")
        ax.set_xlabel("diffusion model")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        if name in log_scores:
            ax.set_yscale("log")
    for ax in flat[len(names) :]:
        ax.set_axis_off()
    _generation_legend(fig, flat[len(names) :], variants)
    label_panels(flat[: len(names)])
    set_suptitle(fig, title)
    return fig


def _generation_legend(fig: Figure, spare_axes: Sequence, variants: Sequence[str]) -> None:
    """Legend of parameterisation colours, schedule markers and the noise floor."""
    params = [p for p in PARAMETERISATION_ORDER if any(parse_variant(v)[0] == p for v in variants)]
    scheds = [s for s in SCHEDULE_ORDER if any(parse_variant(v)[1] == s for v in variants)]
    handles = [
        Line2D([], [], color=PARAMETERISATION_COLOURS[p], marker="o", ls="none") for p in params
    ]
    labels = [PARAMETERISATION_LABELS[p] for p in params]
    handles += [
        Line2D(
            [],
            [],
            color="k",
            marker=SCHEDULE_MARKERS[s],
            ls="none",
            markerfacecolor="white" if s == "linear" else "k",
        )
        for s in scheds
    ]
    labels += [
        "cosine schedule, L1 loss" if s == "cos_mae" else f"{SCHEDULE_LABELS[s]} schedule"
        for s in scheds
    ]
    handles.append(Line2D([], [], color=REFERENCE_COLOUR, ls="--"))
    labels.append("noise floor (test vs. test)")
    title = "ticks: n / s / v = noise / state / velocity;\ncos / lin = cosine / linear schedule"
    if len(spare_axes):
        spare_axes[0].legend(handles, labels, loc="center", title=title)
    else:
        fig.legend(handles, labels, loc="outside lower center", ncols=4, title=title)


def running_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Centred running mean over ``window`` points (NaN-aware, shorter windows at the ends)."""
    values = np.asarray(values, float)
    if window <= 1 or values.size == 0:
        return values
    ok = np.isfinite(values)
    csum = np.concatenate([[0.0], np.cumsum(np.where(ok, values, 0.0))])
    ccount = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(values.size)
    lo = np.clip(i - window // 2, 0, values.size)
    hi = np.clip(i - window // 2 + window, 0, values.size)
    count = ccount[hi] - ccount[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, (csum[hi] - csum[lo]) / count, np.nan)


def _loss_group(name: str) -> str:
    """Panel of a training log: its parameterisation, the L1-loss ablation apart (other scale)."""
    param, schedule = parse_variant(name)
    if param is None:
        return name
    return f"{param}_l1" if schedule == "cos_mae" else param


def _group_title(group: str) -> str:
    param = group.removesuffix("_l1")
    label = PARAMETERISATION_LABELS.get(param, group)
    return f"{label} target, L1 loss" if group.endswith("_l1") else f"{label} target, MSE"


@styled
def fig12_training_curves(
    logs: Mapping[str, xr.Dataset],
    *,
    smooth: int | None = None,
    max_points: int = 1000,
    max_markers: int = 25,
    title: str | None = "Training of the diffusion models",
) -> Figure:
    """Training loss (running mean, lines) and validation loss (markers) against optimiser step,
    log y, one panel per parameterisation (the L1-loss ablation in its own panel): losses of
    different targets (noise, state, velocity) and loss functions are not on one scale.

    Args:
        logs: variant name -> training log Dataset (step) with ``loss`` (per logged step) and
            ``val_loss`` (NaN where not validated). Names that are not variant names each get
            their own panel.
        smooth: running-mean window in logged steps; default: 1/50 of the logged steps.
        max_points: at most this many points per training curve are drawn (evenly thinned
            after smoothing).
        max_markers: at most this many validation markers per model (evenly thinned).
    """
    if not logs:
        raise ValueError("no training logs given")
    styles = styles_for(list(logs), "variant")
    groups: dict[str, list[str]] = {}
    for name in _variant_order(list(logs)):
        groups.setdefault(_loss_group(name), []).append(name)
    ncols = min(2, len(groups))
    nrows = int(np.ceil(len(groups) / ncols))
    fig, axes = new_figure(nrows, ncols, width=PAGE_WIDTH, height=2.0 * nrows + 0.8, sharex=True)
    flat = axes.ravel()
    n_logged = max(log.sizes["step"] for log in logs.values())
    window = max(1, n_logged // 50) if smooth is None else max(1, int(smooth))
    step_spacing = 1.0
    for ax, (group, names) in zip(flat, groups.items(), strict=False):
        for name in names:
            log, st = logs[name], styles[name]
            step = coord_values(log, "step").astype(float)
            if step.size > 1:
                step_spacing = float(np.median(np.diff(step)))
            loss = running_mean(np.asarray(log["loss"].values, float), window)
            ok = np.flatnonzero(np.isfinite(loss) & (loss > 0))
            ok = ok[:: max(1, int(np.ceil(ok.size / max_points)))]
            ax.plot(step[ok], loss[ok], color=st.color, ls=st.linestyle, lw=0.9)
            val = np.asarray(log["val_loss"].values, float)
            ok = np.flatnonzero(np.isfinite(val) & (val > 0))
            ok = ok[:: max(1, int(np.ceil(ok.size / max_markers)))]
            open_marker = parse_variant(name)[1] == "linear"
            ax.plot(
                step[ok],
                val[ok],
                color=st.color,
                ls="none",
                marker=st.marker,
                ms=3,
                mfc="white" if open_marker else st.color,
            )
        ax.set_yscale("log")
        positive_band_floor(ax)
        ax.set_title(_group_title(group) if parse_variant(names[0])[0] else group)
        ax.set_xlabel("optimiser step")
        ax.set_ylabel(label_with_units(logs[names[0]]["loss"], "loss", "dimensionless"))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    for ax in flat[len(groups) :]:
        ax.set_axis_off()
    _training_legend(fig, list(logs), window * step_spacing)
    label_panels(flat[: len(groups)])
    set_suptitle(fig, title)
    return fig


def _training_legend(fig: Figure, names: Sequence[str], window_steps: float) -> None:
    """Legend below the panels: line = training loss, marker = validation loss; schedules."""
    smooth = f", running mean over {window_steps:g} steps" if window_steps > 1 else ""
    handles = [
        Line2D([], [], color=REFERENCE_COLOUR, ls="-"),
        Line2D([], [], color=REFERENCE_COLOUR, ls="none", marker="o", ms=3),
    ]
    labels = [f"training loss{smooth}", "validation loss (EMA weights)"]
    for sched in SCHEDULE_ORDER:
        if sched == "cos_mae" or not any(parse_variant(n)[1] == sched for n in names):
            continue
        open_marker = sched == "linear"
        handles.append(
            Line2D(
                [],
                [],
                color="k",
                ls=SCHEDULE_LINESTYLES[sched],
                marker=SCHEDULE_MARKERS[sched],
                ms=3,
                mfc="white" if open_marker else "k",
            )
        )
        labels.append(f"{SCHEDULE_LABELS[sched]} schedule")
    fig.legend(handles, labels, loc="outside lower center", ncols=2)


__all__ = [
    "fig01_attractor_samples",
    "fig02_generation_scores",
    "fig12_training_curves",
]
