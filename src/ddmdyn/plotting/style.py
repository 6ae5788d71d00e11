"""Shared figure style: journal-column sizes, fonts, and colours per method / variant / config.

All figures are built on a bare :class:`matplotlib.figure.Figure` with an Agg canvas (no pyplot
state, no GUI backend), inside :func:`style_context` so that every figure gets the same fonts.
Colours are fixed for the names the paper uses; unknown names get distinct fallback colours in
the order they are asked for, so a new configuration still plots legibly.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Copernicus (NPG) column widths: 8.3 cm single column, 12 cm 1.5 columns, 17 cm full page.
CM = 1.0 / 2.54
COLUMN_WIDTH = 8.3 * CM
MEDIUM_WIDTH = 12.0 * CM
PAGE_WIDTH = 17.0 * CM

RC_PARAMS: dict[str, Any] = {
    "font.size": 8,
    "axes.titlesize": 8,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.frameon": False,
    "figure.titlesize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.5,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "errorbar.capsize": 2,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "image.cmap": "viridis",
}

# Okabe-Ito colour-blind-safe palette, used for the categorical colours below.
OKABE_ITO = {
    "orange": "#E69F00",
    "skyblue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
}
FALLBACK_COLOURS = (
    "#4477AA",
    "#EE6677",
    "#228833",
    "#CCBB44",
    "#66CCEE",
    "#AA3377",
    "#BBBBBB",
    "#332288",
    "#117733",
    "#882255",
)

VARIABLE_COLOURS = {"x": "#1B9E77", "y": "#D95F02", "z": "#7570B3"}
PARAMETERISATION_COLOURS = {
    "noise": OKABE_ITO["orange"],
    "state": OKABE_ITO["blue"],
    "velocity": OKABE_ITO["vermillion"],
}
PARAMETERISATION_LABELS = {
    "noise": "noise (ε)",
    "state": "state (x)",
    "velocity": "velocity (v)",
}
SCHEDULE_MARKERS = {"cos": "o", "linear": "s", "cos_mae": "D"}
SCHEDULE_LINESTYLES = {"cos": "-", "linear": "--", "cos_mae": ":"}
SCHEDULE_LABELS = {"cos": "cosine", "linear": "linear", "cos_mae": "cosine, L1 loss"}

GENERATED_COLOUR = OKABE_ITO["vermillion"]
REFERENCE_COLOUR = "#555555"
ATTRACTOR_COLOUR = "#C8C8C8"
ANALYSIS_COLOUR = OKABE_ITO["blue"]
BACKGROUND_COLOUR = OKABE_ITO["orange"]


@dataclass(frozen=True)
class LineStyle:
    """Colour, line style, marker and legend label of one named series."""

    color: str
    linestyle: str = "-"
    marker: str = "o"
    label: str = ""

    def kwargs(self, with_marker: bool = True) -> dict[str, Any]:
        """Keyword arguments for ``Axes.plot``."""
        out: dict[str, Any] = {"color": self.color, "linestyle": self.linestyle}
        if with_marker:
            out["marker"] = self.marker
        if self.label:
            out["label"] = self.label
        return out


# Surrogate configurations (docs/decisions.md, E15): families share a hue; MLP heads are dashed.
CONFIGURATION_STYLES: dict[str, LineStyle] = {
    "dense_shallow": LineStyle("#9ECAE1", "-", "v", "Dense, 1 layer"),
    "dense_two": LineStyle("#4292C6", "-", "v", "Dense, 2 layers"),
    "dense_three": LineStyle("#08519C", "-", "v", "Dense, 3 layers"),
    "residual_three": LineStyle("#08306B", "-.", "v", "Residual, 3 blocks"),
    "dense_residual_three": LineStyle("#08306B", "-.", "v", "Residual, 3 blocks"),
    "polynomial": LineStyle("#555555", "-", "x", "Polynomial (deg. 4) + linear"),
    "poly_linear": LineStyle("#555555", "-", "x", "Polynomial (deg. 4) + linear"),
    "rff_linear": LineStyle("#E6550D", "-", "s", "RFF 1536 + linear"),
    "rff_linear_256": LineStyle("#FDAE6B", "-", "s", "RFF 256 + linear"),
    "rff_mlp": LineStyle("#E6550D", "--", "s", "RFF 1536 + MLP"),
    "rff_mlp_256": LineStyle("#FDAE6B", "--", "s", "RFF 256 + MLP"),
    "transfer_linear": LineStyle("#CB181D", "-", "o", "DDM features + linear"),
    "transfer_mlp": LineStyle("#CB181D", "--", "o", "DDM features + MLP"),
    "transfer_single_linear": LineStyle("#31A354", "-", "^", "DDM features (t=400) + linear"),
    "transfer_single_mlp": LineStyle("#31A354", "--", "^", "DDM features (t=400) + MLP"),
    "transfer_untrained_linear": LineStyle("#756BB1", "-", "P", "Untrained DDM + linear"),
}

# Data-assimilation methods (docs/decisions.md, E21).
METHOD_STYLES: dict[str, LineStyle] = {
    "ddm_enoi_50": LineStyle(OKABE_ITO["vermillion"], "-", "o", "EnOI-DDM (50)"),
    "ddm_enoi_10": LineStyle("#F4A582", "-", "o", "EnOI-DDM (10)"),
    "enoi_diag": LineStyle(OKABE_ITO["skyblue"], "-", "s", "EnOI, diagonal B"),
    "enoi_full": LineStyle(OKABE_ITO["blue"], "-", "s", "EnOI, full B"),
    "var3d": LineStyle("#555555", "-", "x", "3D-Var"),
    "etkf_3": LineStyle("#74C476", "-", "^", "ETKF (3)"),
    "etkf_12": LineStyle(OKABE_ITO["green"], "-", "^", "ETKF (12)"),
    "etkf": LineStyle(OKABE_ITO["green"], "-", "^", "ETKF (12)"),
}

_VARIANT_RE = re.compile(r"^(noise|state|velocity)_(.+)$")


def parse_variant(variant: str) -> tuple[str | None, str | None]:
    """Split a diffusion variant name into (parameterisation, schedule), e.g.
    ``"velocity_cos_mae" -> ("velocity", "cos_mae")``; ``(None, None)`` if it does not match."""
    match = _VARIANT_RE.match(str(variant))
    if match is None:
        return None, None
    return match.group(1), match.group(2)


def variant_style(variant: str, fallback_index: int = 0) -> LineStyle:
    """Style of a diffusion variant: colour = parameterisation, marker / dashes = schedule."""
    param, schedule = parse_variant(variant)
    if param is None:
        colour = FALLBACK_COLOURS[fallback_index % len(FALLBACK_COLOURS)]
        return LineStyle(colour, "-", "o", variant)
    sched_label = SCHEDULE_LABELS.get(schedule or "", schedule or "")
    return LineStyle(
        PARAMETERISATION_COLOURS[param],
        SCHEDULE_LINESTYLES.get(schedule or "", "-."),
        SCHEDULE_MARKERS.get(schedule or "", "*"),
        f"{param}, {sched_label}",
    )


def styles_for(names: Iterable[str], kind: str) -> dict[str, LineStyle]:
    """Style for every name of one kind: ``"configuration"``, ``"method"``, ``"variant"``.

    Known names get their fixed style; unknown names get fallback colours not used by the known
    names of the same call (in order), labelled with the name itself.
    """
    names = [str(n) for n in names]
    table = {"configuration": CONFIGURATION_STYLES, "method": METHOD_STYLES}.get(kind)
    if kind not in ("configuration", "method", "variant"):
        raise ValueError(f"unknown style kind {kind!r}")
    out: dict[str, LineStyle] = {}
    unknown: list[str] = []
    for name in names:
        if table is not None and name in table:
            out[name] = table[name]
        elif table is None and parse_variant(name)[0] is not None:
            out[name] = variant_style(name)
        else:
            unknown.append(name)
    used = {s.color for s in out.values()}
    free = [c for c in FALLBACK_COLOURS if c not in used] or list(FALLBACK_COLOURS)
    markers = "odsv^<>ph*"
    for i, name in enumerate(unknown):
        out[name] = LineStyle(free[i % len(free)], "-", markers[i % len(markers)], name)
    return out


def variable_colour(name: str, index: int = 0) -> str:
    """Colour of a Lorenz 63 variable (x, y, z); falls back by position."""
    return VARIABLE_COLOURS.get(str(name), list(VARIABLE_COLOURS.values())[index % 3])


@contextmanager
def style_context() -> Iterator[None]:
    """Context in which the project's rc parameters apply (fonts, grid, line widths)."""
    with mpl.rc_context(RC_PARAMS):
        yield


P = ParamSpec("P")
R = TypeVar("R")


def styled(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run a figure function inside :func:`style_context`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with style_context():
            return func(*args, **kwargs)

    return wrapper


def new_figure(
    nrows: int = 1,
    ncols: int = 1,
    width: float = PAGE_WIDTH,
    height: float | None = None,
    **subplot_kw: Any,
) -> tuple[Figure, Any]:
    """A constrained-layout Figure with an Agg canvas and an (nrows, ncols) array of axes.

    Args:
        width, height: inches; height defaults to a 0.8 aspect per row of panels.
        subplot_kw: passed to ``Figure.subplots`` (e.g. sharex, squeeze).
    Returns:
        (figure, axes) where axes is a numpy object array unless ``squeeze=True`` is passed.
    """
    if height is None:
        height = min(width / ncols * 0.8 * nrows, 9.0) + 0.3
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    subplot_kw.setdefault("squeeze", False)
    axes = fig.subplots(nrows, ncols, **subplot_kw)
    return fig, axes


def label_panels(axes: Iterable[Axes], start: str = "a") -> None:
    """Prefix each panel's title with (a), (b), ... (sets the title if there is none)."""
    for i, ax in enumerate(axes):
        title = ax.get_title()
        letter = f"({chr(ord(start) + i)})"
        ax.set_title(f"{letter} {title}" if title else letter)


def set_suptitle(fig: Figure, title: str | None) -> None:
    """Figure title, wrapped to the figure width (nothing if ``title`` is empty or None)."""
    if not title:
        return
    size = float(RC_PARAMS["figure.titlesize"])
    chars = max(20, int(fig.get_figwidth() * 72 / (0.55 * size)))
    fig.suptitle(textwrap.fill(title, chars))
