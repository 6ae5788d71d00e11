"""Report figures: DA tuning curves (chosen value, edge warning) and training curves."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ddmdyn.plotting.report_figures import (
    TrainingCurve,
    choice_at_grid_edge,
    curve_from_history,
    training_curves_figure,
    tuning_curve,
    tuning_curves_figure,
)


def _run(method: str, value: float, per_truth: list[float]) -> xr.Dataset:
    return xr.Dataset(
        {"ana_rmse": ("truth", np.array(per_truth), {"units": "1", "long_name": "analysis nRMSE"})},
        attrs={"method": method, "parameter_name": "inflation", "parameter_value": value},
    )


def _runs(method="enoi_diag"):
    # given out of grid order; mean scores 0.5, 0.3, 0.4, nan
    return [
        _run(method, 2.0, [0.2, 0.4]),
        _run(method, 1.0, [0.4, 0.6]),
        _run(method, 4.0, [np.nan, 0.1]),
        _run(method, 3.0, [0.3, 0.5]),
    ]


@pytest.mark.parametrize(
    ("value", "flags", "edge"),
    [
        (1.0, {}, True),
        (4.0, {}, True),
        (2.0, {}, False),
        (2.0, {"at_grid_edge": False}, False),
        (2.0, {"at_grid_edge": True}, True),  # e.g. the edge of the part that did not diverge
        (1.0, {"at_grid_edge": False}, True),  # the grid's own edge is always reported
    ],
)
def test_edge_of_the_grid(value, flags, edge):
    assert choice_at_grid_edge({"value": value, **flags}, [1.0, 2.0, 3.0, 4.0]) is edge


def test_tuning_curve_recomputes_scores_from_the_runs_in_grid_order():
    choice = {"method": "enoi_diag", "parameter_name": "inflation", "value": 2.0}
    curve = tuning_curve(choice, _runs())
    np.testing.assert_array_equal(curve.values, [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(curve.objective[:3], [0.5, 0.3, 0.4])
    assert np.isnan(curve.objective[3])  # a diverged truth makes the grid value diverged
    assert curve.per_truth.shape == (4, 2)
    np.testing.assert_array_equal(curve.n_diverged, [0, 0, 0, 1])
    assert curve.chosen == 2.0 and not curve.at_edge and curve.authors_value is None
    with pytest.raises(ValueError, match="no tuning runs"):
        tuning_curve(choice, [])


def _stars(ax):
    return [ln for ln in ax.get_lines() if ln.get_marker() == "*"]


def test_tuning_figure_marks_the_chosen_value_and_warns_only_at_an_edge():
    inner = tuning_curve({"method": "enoi_diag", "value": 2.0, "authors_value": 3.0}, _runs())
    edge = tuning_curve({"method": "var3d", "value": 1.0}, _runs("var3d"))
    fig = tuning_curves_figure([inner, edge], obs_every=10)
    ax_inner, ax_edge = fig.axes[:2]
    for ax, (x, y) in ((ax_inner, (2.0, 0.3)), (ax_edge, (1.0, 0.5))):
        (star,) = _stars(ax)
        assert (float(star.get_xdata()[0]), float(star.get_ydata()[0])) == pytest.approx((x, y))
    assert "edge" not in ax_inner.get_title()
    assert "edge" in ax_edge.get_title() and "var3d" in ax_edge.get_title()
    # the authors' value is a vertical line at 3.0
    verticals = [ln for ln in ax_inner.get_lines() if ln.get_linestyle() == ":"]
    assert [float(ln.get_xdata()[0]) for ln in verticals] == [3.0]
    assert "nRMSE" in fig.get_supylabel() and ax_inner.get_xlabel() == "inflation"
    assert "every 10 steps" in fig.get_suptitle()
    # the legend is outside the panels
    (legend,) = fig.legends
    fig.canvas.draw()
    box = legend.get_window_extent()
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent())


def test_training_figure_has_one_panel_per_family_and_two_lines_per_run():
    step = np.arange(0, 100, 10.0)
    curve = TrainingCurve(
        step, np.exp(-step / 20), np.where(step % 20 == 0, np.exp(-step / 60), np.nan)
    )
    panels = {
        "velocity_cos": {"seed 0": curve, "seed 1": curve},
        "noise_cos": {"seed 0": curve},
    }
    fig = training_curves_figure(panels, title="t", ylabel="loss (normalised units)")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == ["(a) velocity_cos", "(b) noise_cos"]
    assert [len(ax.get_lines()) for ax in visible] == [4, 2]
    assert all(ax.get_yscale() == "log" for ax in visible)  # exp(-4.5) .. 1 spans a decade
    flat = TrainingCurve(step, np.linspace(0.5, 0.4, 10), np.full(10, 0.45))
    (ax,) = training_curves_figure({"dense_two": {"seed 0": flat}}).axes[:1]
    assert ax.get_yscale() == "linear"
    # validation points: only the finite ones are drawn
    assert len(visible[0].get_lines()[1].get_xdata()) == 5
    with pytest.raises(ValueError, match="without curves"):
        training_curves_figure({"a": {}})


def test_surrogate_history_becomes_a_curve_and_ridge_fits_have_none():
    curve = curve_from_history({"step": [10, 20], "train_loss": [1.0, 0.5], "val_loss": [2.0, 1.0]})
    np.testing.assert_array_equal(curve.val_loss, [2.0, 1.0])
    assert curve_from_history({}) is None
    assert curve_from_history({"step": [], "train_loss": []}) is None


def test_the_selections_own_scores_are_plotted_where_its_json_records_them():
    """The selection of issue 14 scores grid values by pooled nRMSE and divergence counts."""
    grid = [
        {"value": 1.0, "objective": 0.9, "n_diverged": 0},
        {"value": 2.0, "objective": 0.2, "n_diverged": 0},
        {"value": 3.0, "objective": None, "n_diverged": 2},
        {"value": 4.0, "objective": 0.7, "n_diverged": 1},
    ]
    choice = {"method": "enoi_diag", "value": 2.0, "grid": grid}
    curve = tuning_curve(choice, _runs())
    np.testing.assert_allclose(curve.objective, [0.9, 0.2, np.nan, 0.7])
    np.testing.assert_array_equal(curve.n_diverged, [0, 0, 2, 1])
    fig = tuning_curves_figure([curve])
    (star,) = _stars(fig.axes[0])
    assert float(star.get_ydata()[0]) == pytest.approx(0.2)
    crosses = [ln for ln in fig.axes[0].get_lines() if ln.get_marker() == "x"]
    assert [list(ln.get_xdata()) for ln in crosses] == [[3.0, 4.0]]


def test_a_choice_on_a_hard_bound_is_not_warned_about():
    bound = {"method": "etkf_12", "value": 1.0, "at_grid_edge": True, "edge_is_hard_bound": True}
    curve = tuning_curve(bound, _runs("etkf_12"))
    assert curve.at_edge and not curve.edge_warning
    title = tuning_curves_figure([curve]).axes[0].get_title()
    assert "hard bound" in title and "⚠" not in title
    upper = tuning_curve({"method": "etkf_12", "value": 4.0}, _runs("etkf_12"))
    assert upper.edge_warning
    assert "⚠" in tuning_curves_figure([upper]).axes[0].get_title()
