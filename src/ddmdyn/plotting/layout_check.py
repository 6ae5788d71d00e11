"""Automatic layout checks of a Matplotlib figure, after drawing it.

Three rules, each a function returning the problems it finds (an empty list when the figure is
clean), and :func:`check_layout` running all of them:

- :func:`text_overlaps`: no two visible text artists (suptitle, titles, axis labels, tick labels,
  offset texts, legend texts and titles, annotations) overlap. Rotated texts are compared as
  rotated rectangles, not as their axis-aligned bounding boxes.
- :func:`legends_over_data`: no legend box covers more than ``max_fraction`` of the plotted data
  of the axes it can hide (its own axes; every axes for a figure legend). Data are line vertices
  and the segments between them (sampled every ``step_px`` pixels, so a curve counts by its drawn
  length), scatter points, error-bar and vline segments, and bars; shaded bands are not data.
- :func:`clipped_artists`: every text artist, legend and axes decoration lies inside the figure.

Works on any :class:`~matplotlib.figure.Figure` (an Agg canvas is attached when it has none);
geometry is in display pixels of the figure at its own dpi. Typical use in a test::

    from ddmdyn.plotting.layout_check import assert_clean_layout
    assert_clean_layout(fig)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.transforms import Bbox

__all__ = [
    "LayoutProblem",
    "assert_clean_layout",
    "check_layout",
    "clipped_artists",
    "format_problems",
    "legends_over_data",
    "text_artists",
    "text_overlaps",
]


@dataclass(frozen=True)
class LayoutProblem:
    """One layout defect: the rule it breaks and a message naming the artists involved."""

    rule: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.message}"


def draw(fig: Figure) -> RendererBase:
    """Draw ``fig`` on its canvas (an Agg canvas if it has none) and return the renderer."""
    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    return fig.canvas.get_renderer()


# ------------------------------------------------------------------ text artists
def _shown(text: Text) -> bool:
    return bool(text.get_visible() and text.get_text().strip() and text.get_alpha() != 0)


def _axes_name(fig: Figure, ax: Axes) -> str:
    title = ax.get_title() or ax.get_title("left") or ax.get_ylabel() or ax.get_xlabel()
    index = fig.axes.index(ax)
    return f"axes {index}" + (f" {title[:30]!r}" if title else "")


def _tick_labels(axis) -> Iterator[Text]:
    """Tick labels the axis draws (ticks inside the view interval, visible labels only)."""
    if not axis.get_visible():
        return
    try:
        ticks = axis._update_ticks()  # the ticks matplotlib draws: inside the view interval
    except AttributeError:  # pragma: no cover - older/newer matplotlib
        ticks = axis.get_major_ticks() + axis.get_minor_ticks()
    for tick in ticks:
        for label in (tick.label1, tick.label2):
            if label.get_visible():
                yield label


def _legend_texts(legend: Legend) -> Iterator[Text]:
    yield legend.get_title()
    yield from legend.get_texts()


def _legends(fig: Figure) -> Iterator[tuple[Legend, Axes | None]]:
    """Every legend with the axes it belongs to (None for a figure legend)."""
    for legend in fig.legends:
        yield legend, None
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            yield legend, ax


def text_artists(fig: Figure) -> list[tuple[str, Text]]:
    """(description, artist) of every visible, non-empty text artist of ``fig``."""
    out: list[tuple[str, Text]] = []
    for text in fig.texts:
        out.append(("figure text", text))
    for ax in fig.axes:
        name = _axes_name(fig, ax)
        for loc, title in (("", ax.title), ("left ", ax._left_title), ("right ", ax._right_title)):
            out.append((f"{name} {loc}title", title))
        for text in ax.texts:
            out.append((f"{name} annotation", text))
        if not ax.axison:
            continue
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            out.append((f"{name} {axis_name}label", axis.label))
            out.append((f"{name} {axis_name} offset text", axis.offsetText))
            for label in _tick_labels(axis):
                out.append((f"{name} {axis_name}tick", label))
    for legend, ax in _legends(fig):
        owner = "figure legend" if ax is None else f"{_axes_name(fig, ax)} legend"
        if legend.get_visible():
            for text in _legend_texts(legend):
                out.append((owner, text))
    return [(f"{name} {text.get_text()[:40]!r}", text) for name, text in out if _shown(text)]


def _text_polygon(text: Text, renderer: RendererBase) -> np.ndarray:
    """Corners (4, 2) of the text's (possibly rotated) rectangle in display pixels."""
    box = text.get_window_extent(renderer)
    angle = float(text.get_rotation()) % 180.0
    if min(angle % 90.0, 90.0 - angle % 90.0) < 1e-6:
        return np.array([[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]])
    flat = Text(
        0,
        0,
        text.get_text(),
        fontproperties=text.get_fontproperties(),
        linespacing=text.get_linespacing(),
        rotation=0,
    )
    flat.set_figure(text.figure)
    unrotated = flat.get_window_extent(renderer)
    w, h = unrotated.width, unrotated.height
    theta = np.deg2rad(text.get_rotation())
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    corners = np.array([[-w, -h], [w, -h], [w, h], [-w, h]]) / 2.0
    centre = np.array([(box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0])
    return corners @ rot.T + centre


def _penetration(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap depth (pixels) of two convex polygons by separating axes; <= 0 if disjoint."""
    depth = np.inf
    for poly in (a, b):
        edges = np.roll(poly, -1, axis=0) - poly
        for edge in edges:
            normal = np.array([-edge[1], edge[0]])
            norm = np.hypot(*normal)
            if norm == 0:
                continue
            normal /= norm
            pa, pb = a @ normal, b @ normal
            overlap = min(pa.max(), pb.max()) - max(pa.min(), pb.min())
            depth = min(depth, overlap)
            if depth <= 0:
                return float(depth)
    return float(depth)


def text_overlaps(fig: Figure, tolerance_px: float = 0.5) -> list[LayoutProblem]:
    """Pairs of text artists whose rectangles overlap by more than ``tolerance_px`` pixels."""
    renderer = draw(fig)
    texts = text_artists(fig)
    polys = [_text_polygon(t, renderer) for _, t in texts]
    boxes = np.array([[p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()] for p in polys])
    problems = []
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            bi, bj = boxes[i], boxes[j]
            if bi[0] >= bj[2] or bj[0] >= bi[2] or bi[1] >= bj[3] or bj[1] >= bi[3]:
                continue  # bounding boxes apart: no overlap possible
            depth = _penetration(polys[i], polys[j])
            if depth > tolerance_px:
                problems.append(
                    LayoutProblem(
                        "text_overlap",
                        f"{texts[i][0]} overlaps {texts[j][0]} by {depth:.1f} px",
                    )
                )
    return problems


# ------------------------------------------------------------------ legends over data
def _densify(xy: np.ndarray, step_px: float, max_per_segment: int = 10_000) -> np.ndarray:
    """Points along the polyline ``xy`` (n, 2) every ~``step_px`` pixels (segments with a
    non-finite end give NaN points, dropped by the caller)."""
    if len(xy) < 2:
        return xy
    p, q = xy[:-1], xy[1:]
    with np.errstate(invalid="ignore"):
        length = np.hypot(*(q - p).T)
    n = np.where(np.isfinite(length), np.ceil(length / step_px), 1)
    n = np.clip(n, 1, max_per_segment).astype(int)
    segment = np.repeat(np.arange(len(p)), n)
    first = np.repeat(np.cumsum(n) - n, n)
    t = (np.arange(n.sum()) - first + 1) / np.repeat(n, n)
    pts = p[segment] + t[:, None] * (q[segment] - p[segment])
    return np.concatenate([xy[:1], pts])


def data_points(ax: Axes, step_px: float = 2.0) -> np.ndarray:
    """Display coordinates (n, 2) of what ``ax`` plots, inside its own area (see module doc)."""
    pts: list[np.ndarray] = []
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), float))
        if line.get_linestyle() not in ("None", "none", "", " "):
            xy = _densify(xy, step_px)
        pts.append(xy)
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection):
            offsets = np.asarray(coll.get_offsets(), float)
            if offsets.size:
                pts.append(coll.get_offset_transform().transform(offsets))
        elif isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                if len(seg):
                    pts.append(_densify(coll.get_transform().transform(seg), step_px))
    for patch in ax.patches:
        if isinstance(patch, Rectangle) and patch.get_visible():
            box = patch.get_window_extent()
            if box.width > 0 and box.height > 0:
                gx = np.linspace(box.x0, box.x1, 3)
                gy = np.arange(box.y0, box.y1 + step_px, 2 * step_px).clip(box.y0, box.y1)
                pts.append(np.stack(np.meshgrid(gx, gy), -1).reshape(-1, 2))
    if not pts:
        return np.empty((0, 2))
    xy = np.concatenate(pts)
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    area = ax.bbox
    keep = (xy[:, 0] >= area.x0) & (xy[:, 0] <= area.x1) & (xy[:, 1] >= area.y0)
    keep &= xy[:, 1] <= area.y1
    return xy[keep]


def _inside(box: Bbox, xy: np.ndarray) -> np.ndarray:
    return (xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)


def legends_over_data(
    fig: Figure, max_fraction: float = 0.01, step_px: float = 2.0
) -> list[LayoutProblem]:
    """Legends whose box covers more than ``max_fraction`` of an axes' plotted data."""
    renderer = draw(fig)
    problems = []
    for legend, owner in _legends(fig):
        if not legend.get_visible():
            continue
        box = legend.get_window_extent(renderer)
        where = "figure legend" if owner is None else f"legend of {_axes_name(fig, owner)}"
        for ax in fig.axes if owner is None else [owner]:
            if not ax.get_visible():
                continue
            xy = data_points(ax, step_px)
            if not len(xy):
                continue
            frac = float(np.mean(_inside(box, xy)))
            if frac > max_fraction:
                problems.append(
                    LayoutProblem(
                        "legend_over_data",
                        f"{where} covers {frac:.1%} of the data of {_axes_name(fig, ax)}",
                    )
                )
    return problems


# ------------------------------------------------------------------ clipping
def clipped_artists(fig: Figure, tolerance_px: float = 1.0) -> list[LayoutProblem]:
    """Texts, legends and axes (with their decorations) reaching outside the figure."""
    renderer = draw(fig)
    w, h = fig.bbox.width, fig.bbox.height
    items: list[tuple[str, Bbox]] = [
        (name, text.get_window_extent(renderer)) for name, text in text_artists(fig)
    ]
    for legend, owner in _legends(fig):
        if legend.get_visible():
            name = "figure legend" if owner is None else f"legend of {_axes_name(fig, owner)}"
            items.append((name, legend.get_window_extent(renderer)))
    for ax in fig.axes:
        if ax.get_visible() and ax.axison:
            items.append((_axes_name(fig, ax), ax.bbox))
    problems = []
    for name, box in items:
        out = max(-box.x0, -box.y0, box.x1 - w, box.y1 - h)
        if out > tolerance_px:
            problems.append(
                LayoutProblem("clipped", f"{name} reaches {out:.1f} px outside the figure")
            )
    return problems


# ------------------------------------------------------------------ all rules
def check_layout(
    fig: Figure, *, max_legend_fraction: float = 0.01, tolerance_px: float = 0.5
) -> list[LayoutProblem]:
    """Every rule of this module on ``fig``; an empty list means a clean layout."""
    return [
        *text_overlaps(fig, tolerance_px),
        *legends_over_data(fig, max_legend_fraction),
        *clipped_artists(fig),
    ]


def format_problems(problems: list[LayoutProblem]) -> str:
    """One problem per line."""
    return "\n".join(str(p) for p in problems)


def assert_clean_layout(fig: Figure, **kwargs) -> None:
    """Raise AssertionError listing every layout problem of ``fig`` (see :func:`check_layout`)."""
    problems = check_layout(fig, **kwargs)
    if problems:
        raise AssertionError(f"{len(problems)} layout problem(s):\n{format_problems(problems)}")
