"""Figures made for the report only: DA tuning curves and the training curves of every model.

Same conventions as the paper figures (:mod:`.style`): bare Agg figures inside the project's rc
parameters, legends outside the data, units on the axes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from .style import (
    FALLBACK_COLOURS,
    PAGE_WIDTH,
    label_panels,
    new_figure,
    set_suptitle,
    styled,
)

WARNING_COLOUR = "#B00000"
CHOSEN_COLOUR = "#D55E00"
AUTHORS_COLOUR = "#555555"
EDGE_KEYS = ("at_grid_edge", "at_edge")


# --------------------------------------------------------------------------------------------
# DA tuning curves
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TuningCurve:
    """Tuning score of one method against each value of its grid.

    Attributes:
        method: DA method name.
        parameter_name: the tuned parameter (inflation, diffusion_step).
        values: grid values, ascending (n,).
        objective: the selection's score of each value (n,), normalised nRMSE; NaN = no score.
        per_truth: time-mean analysis nRMSE of each value on each tuning truth (n, n_truths).
        n_diverged: tuning truths on which each value diverged (n,).
        chosen: the selected value.
        at_edge: whether the selected value is the smallest or largest grid value.
        edge_is_bound: whether that edge is a hard bound of the parameter (inflation 1, step 1),
            so the optimum cannot lie beyond it.
        authors_value: the authors' published value, or None.
    """

    method: str
    parameter_name: str
    values: np.ndarray
    objective: np.ndarray
    per_truth: np.ndarray
    n_diverged: np.ndarray
    chosen: float
    at_edge: bool
    edge_is_bound: bool = False
    authors_value: float | None = None

    @property
    def edge_warning(self) -> bool:
        """The choice is on an edge of its grid beyond which the optimum may lie."""
        return self.at_edge and not self.edge_is_bound


def choice_at_grid_edge(choice: Mapping[str, Any], values: Sequence[float]) -> bool:
    """Whether a tuned choice is the smallest or largest value of its grid.

    Also true where the selection itself flagged an edge (key ``at_grid_edge``).
    """
    flagged = any(bool(choice[key]) for key in EDGE_KEYS if choice.get(key) is not None)
    if not len(values):
        return flagged
    value = float(choice["value"])
    return flagged or math.isclose(value, min(values)) or math.isclose(value, max(values))


def tuning_curve(choice: Mapping[str, Any], runs: Sequence[xr.Dataset]) -> TuningCurve:
    """Tuning curve of one method from its selection (the tuned JSON) and its tuning runs.

    The score of each grid value is the one the selection compared (``grid[i].objective`` of
    the JSON) where the JSON records it, else the mean of the run's ``ana_rmse`` over truths.
    Per-truth scores always come from the runs themselves.

    Raises:
        ValueError: no runs, or a run without ``parameter_value`` / ``ana_rmse``.
    """
    if not runs:
        raise ValueError(f"no tuning runs for {choice.get('method', '?')}")
    rows = []
    for run in runs:
        if "parameter_value" not in run.attrs or "ana_rmse" not in run:
            raise ValueError(
                f"tuning run of {choice.get('method', '?')} lacks parameter_value or ana_rmse"
            )
        per_truth = np.asarray(run["ana_rmse"].values, dtype=float).ravel()
        rows.append((float(run.attrs["parameter_value"]), per_truth))
    rows.sort(key=lambda row: row[0])  # by grid value
    values = np.array([value for value, _ in rows])
    scores_by_value = [scores for _, scores in rows]
    n_truths = max(len(scores) for scores in scores_by_value)
    per_truth = np.full((len(rows), n_truths), np.nan)
    for i, scores in enumerate(scores_by_value):
        per_truth[i, : len(scores)] = scores
    recorded = {
        float(point["value"]): point
        for point in choice.get("grid") or []
        if isinstance(point, Mapping) and point.get("value") is not None
    }
    objective = np.full(len(values), np.nan)
    n_diverged = np.zeros(len(values), dtype=int)
    for i, value in enumerate(values):
        entry = recorded.get(value, {})
        if "objective" in entry:
            objective[i] = np.nan if entry["objective"] is None else float(entry["objective"])
        else:
            with np.errstate(invalid="ignore"):
                objective[i] = np.mean(scores_by_value[i])
        n_diverged[i] = int(entry.get("n_diverged") or 0) or int(
            (~np.isfinite(scores_by_value[i])).sum()
        )
    authors = choice.get("authors_value")
    return TuningCurve(
        method=str(choice.get("method") or runs[0].attrs.get("method", "?")),
        parameter_name=str(
            choice.get("parameter_name") or runs[0].attrs.get("parameter_name", "value")
        ),
        values=values,
        objective=objective,
        per_truth=per_truth,
        n_diverged=n_diverged,
        chosen=float(choice["value"]),
        at_edge=choice_at_grid_edge(choice, list(values)),
        edge_is_bound=bool(choice.get("edge_is_hard_bound") or False),
        authors_value=None if authors is None else float(authors),
    )


def _grid_columns(n: int, max_cols: int = 4) -> tuple[int, int]:
    ncols = min(max_cols, max(1, n))
    return math.ceil(n / ncols), ncols


@styled
def tuning_curves_figure(
    curves: Sequence[TuningCurve], title: str | None = None, obs_every: int | None = None
) -> Figure:
    """One panel per method: tuning score against each grid value.

    Each panel shows the selection's score of each grid value (line and dots), each tuning
    truth's analysis nRMSE (small grey dots), the chosen value (star), the authors' value
    (dotted vertical line) and, where the choice sits on an edge of its grid that is not a hard
    bound of the parameter, a red panel with a warning in its title (on a hard bound the title
    says so, in black). Grid values that diverged on some tuning truth get a red cross on the
    bottom axis.
    """
    if not curves:
        raise ValueError("no tuning curves to plot")
    nrows, ncols = _grid_columns(len(curves), max_cols=3)
    fig, axes = new_figure(nrows, ncols, width=PAGE_WIDTH, height=2.1 * nrows + 0.9, squeeze=False)
    flat = axes.ravel()
    for ax, curve in zip(flat, curves, strict=False):
        _draw_tuning_curve(ax, curve)
        _label_tuning_panel(ax, curve)
    for ax in flat[len(curves) :]:
        ax.set_visible(False)
    label_panels(flat[: len(curves)])
    fig.supylabel("tuning score: analysis nRMSE (normalised units)", fontsize=8)
    fig.legend(handles=_tuning_legend_handles(), loc="outside lower center", ncols=5)
    if title is None:
        title = "Grid tuning of the DA methods" + (
            f" (observations every {obs_every} steps)" if obs_every is not None else ""
        )
    set_suptitle(fig, title)
    return fig


def _draw_tuning_curve(ax: Axes, curve: TuningCurve) -> None:
    """Each truth's nRMSE, the score line, diverged values (red crosses on the bottom axis), the
    chosen value (star, or a vertical line when it has no score) and the authors' value."""
    x = curve.values
    finite = np.isfinite(curve.objective)
    if curve.per_truth.shape[1] > 1:
        for j in range(curve.per_truth.shape[1]):
            ax.plot(x, curve.per_truth[:, j], ls="none", marker=".", ms=2.5, color="#AAAAAA")
    ax.plot(x[finite], curve.objective[finite], color="#0072B2", marker="o", ms=3.5, lw=1.0)
    diverged = ~finite | (curve.n_diverged > 0)
    if diverged.any():
        ax.plot(
            x[diverged],
            np.zeros(diverged.sum()),
            ls="none",
            marker="x",
            color=WARNING_COLOUR,
            transform=ax.get_xaxis_transform(),
            clip_on=False,
        )
    chosen = np.isclose(x, curve.chosen)
    if chosen.any() and np.isfinite(curve.objective[chosen]).all():
        ax.plot(
            x[chosen],
            curve.objective[chosen],
            ls="none",
            marker="*",
            ms=11,
            color=CHOSEN_COLOUR,
            markeredgecolor="black",
            markeredgewidth=0.5,
            zorder=5,
        )
    else:  # the chosen value is not a grid point with a score: mark its position
        ax.axvline(curve.chosen, color=CHOSEN_COLOUR, lw=1.2)
    if curve.authors_value is not None:
        ax.axvline(curve.authors_value, color=AUTHORS_COLOUR, ls=":", lw=1.2)
    if len(x) > 1 and x.min() > 0 and x.max() / x.min() > 20:
        ax.set_xscale("log")
    elif np.all(x == np.round(x)):  # diffusion steps: integer ticks
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _label_tuning_panel(ax: Axes, curve: TuningCurve) -> None:
    """x label and title; a red frame and a warning when the choice is on a grid edge that is
    not a hard bound."""
    ax.set_xlabel(curve.parameter_name.replace("_", " "))
    chosen_text = f"chosen {curve.chosen:g}"
    if curve.edge_warning:
        ax.set_title(f"{curve.method}\n{chosen_text}, ⚠ on the grid edge", color=WARNING_COLOUR)
        for spine in ax.spines.values():
            spine.set_edgecolor(WARNING_COLOUR)
    elif curve.at_edge:
        ax.set_title(f"{curve.method}\n{chosen_text} (edge = hard bound)")
    else:
        ax.set_title(f"{curve.method}\n{chosen_text}")


def _tuning_legend_handles() -> list[Line2D]:
    """Legend entries of the tuning figure."""
    return [
        Line2D([], [], color="#0072B2", marker="o", ms=3.5, label="score of the grid value"),
        Line2D([], [], color="#AAAAAA", marker=".", ls="none", label="each truth"),
        Line2D(
            [],
            [],
            color=CHOSEN_COLOUR,
            marker="*",
            ms=9,
            ls="none",
            markeredgecolor="black",
            label="chosen value",
        ),
        Line2D([], [], color=AUTHORS_COLOUR, ls=":", label="authors' value"),
        Line2D([], [], color=WARNING_COLOUR, marker="x", ls="none", label="diverged on some truth"),
    ]


# --------------------------------------------------------------------------------------------
# Training curves
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingCurve:
    """Losses of one training run against the optimiser step (NaN where not recorded)."""

    step: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray


def curve_from_log(log: xr.Dataset) -> TrainingCurve:
    """A diffusion training log (``loss``, ``val_loss`` over ``step``) as a TrainingCurve."""
    return TrainingCurve(
        step=np.asarray(log["step"].values, dtype=float),
        train_loss=np.asarray(log["loss"].values, dtype=float),
        val_loss=np.asarray(log["val_loss"].values, dtype=float),
    )


def curve_from_history(history: Mapping[str, Sequence[float]]) -> TrainingCurve | None:
    """A surrogate training history ({step, train_loss, val_loss, ...}); None if it is empty."""
    if not history or not len(history.get("step", [])):
        return None
    return TrainingCurve(
        step=np.asarray(history["step"], dtype=float),
        train_loss=np.asarray(history["train_loss"], dtype=float),
        val_loss=np.asarray(history.get("val_loss", [np.nan] * len(history["step"])), float),
    )


def _line_colours(labels: Sequence[str]) -> dict[str, Any]:
    if len(labels) <= len(FALLBACK_COLOURS):
        return {lab: FALLBACK_COLOURS[i] for i, lab in enumerate(labels)}
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    return {lab: cmap(i / max(1, len(labels) - 1)) for i, lab in enumerate(labels)}


@styled
def training_curves_figure(
    panels: Mapping[str, Mapping[str, TrainingCurve]],
    *,
    title: str | None = None,
    ylabel: str = "loss",
    line_title: str = "run",
    max_cols: int = 4,
) -> Figure:
    """One panel per model family, one colour per run: training loss (thin) and validation loss
    (thicker, dots) against the optimiser step; log y axis where the losses span a decade.

    Args:
        panels: panel title -> {line label (e.g. "seed 3"): curve}. Empty panels are an error.
        ylabel: y axis label, with units.
        line_title: legend title of the line labels (e.g. "seed").
    """
    if not panels:
        raise ValueError("no training curves to plot")
    empty = [name for name, lines in panels.items() if not lines]
    if empty:
        raise ValueError(f"panels without curves: {empty}")
    labels: list[str] = []
    for lines in panels.values():
        labels += [lab for lab in lines if lab not in labels]
    colours = _line_colours(labels)
    nrows, ncols = _grid_columns(len(panels), max_cols)
    fig, axes = new_figure(
        nrows, ncols, width=PAGE_WIDTH, height=1.8 * nrows + 1.0, squeeze=False, sharex=False
    )
    flat = axes.ravel()
    for index, (ax, (name, lines)) in enumerate(zip(flat, panels.items(), strict=False)):
        drawn = []
        for label, curve in lines.items():
            colour = colours[label]
            ok = np.isfinite(curve.train_loss) & (curve.train_loss > 0)
            ax.plot(curve.step[ok], curve.train_loss[ok], color=colour, lw=0.6, alpha=0.6)
            drawn.append(curve.train_loss[ok])
            ok = np.isfinite(curve.val_loss) & (curve.val_loss > 0)
            ax.plot(curve.step[ok], curve.val_loss[ok], color=colour, lw=1.2, marker="o", ms=2)
            drawn.append(curve.val_loss[ok])
        values = np.concatenate(drawn)
        if values.size and values.max() >= 10 * values.min():  # log only over a decade or more
            ax.set_yscale("log")
        ax.set_title(name)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("optimiser step")
        if index % ncols == 0:
            ax.set_ylabel(ylabel)
    for ax in flat[len(panels) :]:
        ax.set_visible(False)
    label_panels(flat[: len(panels)])
    handles = [
        Line2D([], [], color="black", lw=0.6, alpha=0.6, label="training loss"),
        Line2D([], [], color="black", lw=1.2, marker="o", ms=2, label="validation loss"),
    ]
    shown = labels if len(labels) <= 12 else labels[:: math.ceil(len(labels) / 12)]
    handles += [Line2D([], [], color=colours[lab], lw=1.5, label=lab) for lab in shown]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=min(len(handles), 7),
        title=f"colour: {line_title}",
    )
    set_suptitle(fig, title)
    return fig
