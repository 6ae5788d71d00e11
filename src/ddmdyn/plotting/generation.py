"""Figures of the diffusion models themselves: generated attractor, generation scores, training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ._common import coord_values, label_with_units, mean_std, names_along
from .style import (
    GENERATED_COLOUR,
    PAGE_WIDTH,
    PARAMETERISATION_COLOURS,
    PARAMETERISATION_LABELS,
    REFERENCE_COLOUR,
    SCHEDULE_LABELS,
    SCHEDULE_MARKERS,
    label_panels,
    new_figure,
    parse_variant,
    set_suptitle,
    styled,
    styles_for,
)

PROJECTIONS = ((0, 1), (0, 2), (1, 2))

# name, default units of the generation scores (spec 3.3); scores are in normalised units.
SCORE_LABELS: dict[str, tuple[str, str | None]] = {
    "hellinger": ("Hellinger distance", None),
    "frechet": ("Fréchet surrogate distance", None),
    "dist_gen": ("NN distance generated→test", "normalised units"),
    "dist_test": ("NN distance test→generated", "normalised units"),
    "extreme": ("extreme-value ratio", None),
}
PARAMETERISATION_ORDER = ("noise", "state", "velocity")
SCHEDULE_ORDER = ("cos", "linear", "cos_mae")


def _subsample(values: np.ndarray, max_points: int, seed: int) -> np.ndarray:
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
        ("test data", _subsample(ref_values, max_points, seed), REFERENCE_COLOUR),
        ("generated", _subsample(gen_values, max_points, seed), GENERATED_COLOUR),
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
        label, units = SCORE_LABELS.get(name, (name, None))
        ax.set_ylabel(label_with_units(scores[name], label, units))
        ax.set_title(label)
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


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Running mean over ``window`` points (NaN-aware; same length as input)."""
    if window <= 1:
        return values
    ok = np.isfinite(values)
    kernel = np.ones(window)
    num = np.convolve(np.where(ok, values, 0.0), kernel, mode="same")
    den = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / den, np.nan)


@styled
def fig12_training_curves(
    logs: Mapping[str, xr.Dataset],
    *,
    smooth: int = 1,
    title: str | None = "Training of the diffusion models",
) -> Figure:
    """Training loss (panel a) and validation loss (panel b) against optimiser step, log y.

    Args:
        logs: label -> training log Dataset (step) with ``loss`` and ``val_loss`` (NaN where not
            validated). Labels that are variant names get the variant's colour and dashes.
        smooth: running-mean window (in logged steps) for the training loss.
    """
    if not logs:
        raise ValueError("no training logs given")
    styles = styles_for(list(logs), "variant")
    fig, axes = new_figure(1, 2, width=PAGE_WIDTH, height=2.6, sharex=True)
    ax_train, ax_val = axes[0]
    for label, log in logs.items():
        st = styles[label]
        step = coord_values(log, "step").astype(float)
        loss = _smooth(np.asarray(log["loss"].values, float), smooth)
        ok = np.isfinite(loss) & (loss > 0)
        ax_train.plot(step[ok], loss[ok], color=st.color, ls=st.linestyle, label=label, lw=0.9)
        val = np.asarray(log["val_loss"].values, float)
        ok = np.isfinite(val) & (val > 0)
        ax_val.plot(
            step[ok],
            val[ok],
            color=st.color,
            ls=st.linestyle,
            marker=st.marker,
            ms=2.5,
            label=label,
            lw=0.9,
        )
    first = next(iter(logs.values()))
    ax_train.set_title("training loss" + (f" (running mean over {smooth})" if smooth > 1 else ""))
    ax_val.set_title("validation loss")
    for ax, var in ((ax_train, "loss"), (ax_val, "val_loss")):
        ax.set_yscale("log")
        ax.set_xlabel("optimiser step")
        ax.set_ylabel(label_with_units(first[var], "loss", None))
    ax_val.legend(loc="upper right", ncols=1 if len(logs) < 6 else 2)
    label_panels(axes.ravel())
    set_suptitle(fig, title)
    return fig


__all__ = [
    "fig01_attractor_samples",
    "fig02_generation_scores",
    "fig12_training_curves",
]
