"""Tuning selection (divergence-robust, grid edges) and the DA table's pooled aggregation."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ddmdyn.assimilation.collect import (
    da_table_frames,
    table_dataset,
    with_divergence,
    with_pooled_scores,
)
from ddmdyn.assimilation.tuning import (
    GridEdgeError,
    diverged_truths,
    pooled_nrmse,
    select_optimum,
)


def _run(value, per_truth, parameter="inflation", method="etkf_3"):
    ds = xr.Dataset({"ana_rmse": ("truth", np.asarray(per_truth, dtype=float))})
    return ds.assign_attrs(method=method, parameter_name=parameter, parameter_value=value)


def test_pooled_nrmse_is_root_of_pooled_mean_square():
    a = np.array([0.1, 0.3])
    assert pooled_nrmse(a) == pytest.approx(np.sqrt((0.01 + 0.09) / 2))
    assert pooled_nrmse(a) > a.mean()  # the root-mean-square weighs the bad truth more
    assert diverged_truths(np.array([0.29, 0.31, np.nan]), 0.3).tolist() == [False, True, True]


def test_a_value_diverging_on_one_truth_loses_to_a_stable_one():
    runs = [
        _run(1.0, [0.30] * 8),
        _run(1.07, [0.02] * 7 + [0.2]),  # best pooled and mean score, but diverges once
        _run(1.2, [0.08] * 8),
        _run(1.4, [0.10] * 8),
    ]
    assert pooled_nrmse(runs[1]["ana_rmse"].values) < 0.08
    choice = select_optimum(runs, authors_value=1.34, divergence_nrmse=0.15, obs_every=10)
    assert choice["value"] == 1.2 and choice["n_diverged"] == 0
    assert choice["objective"] == pytest.approx(0.08)
    assert [g["n_diverged"] for g in choice["grid"]] == [8, 1, 0, 0]
    assert not choice["at_grid_edge"] and choice["edge_side"] is None
    assert choice["n_truths"] == 8 and choice["authors_value"] == 1.34


def test_choice_on_upper_edge_is_an_error_naming_method_and_grid():
    runs = [_run(v, [1 / v] * 2, method="enoi_full") for v in (1.5, 2.0, 2.5)]
    with pytest.raises(GridEdgeError, match=r"enoi_full.*interval 5.*upper.*\[1\.5, 2\.0, 2\.5\]"):
        select_optimum(runs, divergence_nrmse=10.0, obs_every=5)
    warned = select_optimum(runs, divergence_nrmse=10.0, on_grid_edge="warn", obs_every=5)
    assert warned["value"] == 2.5 and warned["edge_error"] and warned["edge_side"] == "upper"


def test_lower_edge_is_an_error_unless_it_is_the_hard_bound():
    low = [_run(v, [v] * 2) for v in (1.02, 1.1, 1.2)]
    with pytest.raises(GridEdgeError, match="lower"):
        select_optimum(low, divergence_nrmse=10.0)
    hard = [_run(v, [v] * 2) for v in (1.0, 1.1, 1.2)]
    choice = select_optimum(hard, divergence_nrmse=10.0)
    assert choice["value"] == 1.0 and choice["edge_is_hard_bound"] and not choice["edge_error"]
    steps = [_run(s, [s] * 2, "diffusion_step", "ddm_enoi_50") for s in (1, 3, 5)]
    choice = select_optimum(steps, divergence_nrmse=10.0)
    assert choice["value"] == 1 and isinstance(choice["value"], int)
    assert choice["edge_is_hard_bound"]


def test_all_diverged_everywhere_is_an_error():
    runs = [_run(v, [np.nan, 1.0]) for v in (1.0, 1.1, 1.2)]
    with pytest.raises(ValueError, match="every tuning run of etkf_3"):
        select_optimum(runs, divergence_nrmse=0.5)


def _table_run(method, ana):
    ana = np.asarray(ana, dtype=float)
    ds = xr.Dataset(
        {
            name: ("truth", ana * f)
            for name, f in [
                ("ana_rmse", 1),
                ("ana_spread", 0.9),
                ("bg_rmse", 2),
                ("bg_spread", 1.8),
            ]
        }
        | {"crps": ("truth", ana), "spread_skill": ("truth", np.full(ana.shape, 0.9))},
        coords={"truth": np.arange(len(ana))},
    )
    return ds.assign_attrs(method=method)


def test_da_table_pools_over_truths_and_counts_divergence():
    runs = [_table_run("etkf_3", [0.1, 0.1, 0.5]), _table_run("etkf_12", [0.08, 0.09, 0.1])]
    table = with_divergence(table_dataset(runs, ["etkf_3", "etkf_12"]), threshold=0.3)
    num, text = da_table_frames(table)
    assert num.loc["etkf_3", "ana_rmse_pooled"] == pytest.approx(np.sqrt((0.01 + 0.01 + 0.25) / 3))
    assert num.loc["etkf_3", "ana_rmse_mean"] == pytest.approx(0.7 / 3)
    assert num.loc["etkf_3", "ana_rmse_std"] == pytest.approx(np.std([0.1, 0.1, 0.5], ddof=1))
    assert num.loc["etkf_3", "spread_skill"] == pytest.approx(0.9)
    assert num["n_diverged"].tolist() == [1, 0]
    assert text.loc["etkf_3", "diverged"] == "1 / 3"
    assert table["diverged"].sel({"method": "etkf_3"}).values.tolist() == [False, False, True]


def test_obs_interval_sweep_gets_pooled_scores_per_method_and_interval():
    ana = np.array([[[0.1, 0.3], [0.2, 0.2]]])  # (method, obs_every, truth)
    ds = xr.Dataset(
        {
            "ana_rmse": (("method", "obs_every", "truth"), ana),
            "ana_spread": (("method", "obs_every", "truth"), ana / 2),
        },
        coords={"method": ["enoi_full"], "obs_every": [5, 20], "truth": [0, 1]},
    )
    out = with_pooled_scores(ds, threshold=0.25)
    np.testing.assert_allclose(out["ana_rmse_pooled"].values, [[np.sqrt(0.05), 0.2]])
    np.testing.assert_allclose(out["ana_spread_pooled"].values, [[np.sqrt(0.05) / 2, 0.1]])
    assert out["n_diverged"].values.tolist() == [[1, 0]]
