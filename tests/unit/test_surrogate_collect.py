"""Collecting roll-out files into the surrogate table and the scaling-study datasets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ddmdyn.surrogate.collect import scaling_dataset, summary_scores, surrogate_table_dataset


def _run(configuration: str, seed: int, point: str, scale: float, dt_mtu: float = 0.1):
    """A roll-out file whose mse grows linearly with lead: mse[k] = scale * k."""
    leads = np.arange(21)
    return xr.Dataset(
        {
            "mse": ("lead", scale * leads.astype(float)),
            "mae": ("lead", np.sqrt(scale * leads)),
            "hellinger": ((), 0.1 * scale),
        },
        coords={"lead": leads, "lead_time": ("lead", dt_mtu * leads)},
        attrs={"configuration": configuration, "seed": seed, "point": point},
    )


def test_summary_scores_read_the_right_leads():
    s = summary_scores(_run("a", 0, "default", 4.0))
    assert float(s["rmse_one_step"]) == pytest.approx(2.0)
    assert float(s["rmse_1mtu"]) == pytest.approx(np.sqrt(40.0))  # lead 10 = 1 MTU
    assert float(s["rmse_final"]) == pytest.approx(np.sqrt(80.0))
    assert float(s["hellinger"]) == pytest.approx(0.4)
    assert np.isnan(float(summary_scores(_run("a", 0, "d", 1.0, dt_mtu=0.07))["rmse_1mtu"]))


def test_table_places_every_run_by_configuration_and_seed():
    runs = [
        _run(c, seed, "default", 1.0 + i)
        for i, (c, seed) in enumerate([("b", 1), ("a", 0), ("a", 1), ("b", 0)])
    ]
    ds = surrogate_table_dataset(runs, ["a", "b"], [0, 1])
    assert float(ds["hellinger"].sel(configuration="a", seed=1)) == pytest.approx(0.3)
    np.testing.assert_allclose(ds["mse"].sel(configuration="b", seed=0), 4.0 * np.arange(21))


def test_scaling_dataset_uses_run_points_for_runs_shared_with_the_main_experiment():
    runs = [_run("a", 0, "dt5", 1.0), _run("a", 0, "default", 2.0), _run("a", 0, "dt20", 3.0)]
    with pytest.raises(ValueError, match="default"):
        scaling_dataset(runs, "timestep", ["dt5", "dt10", "dt20"], ["a"], [0])
    ds = scaling_dataset(
        runs, "timestep", ["dt5", "dt10", "dt20"], ["a"], [0], run_points=["dt5", "dt10", "dt20"]
    )
    np.testing.assert_array_equal(ds["surrogate_dt"], [5, 10, 20])
    np.testing.assert_allclose(ds["hellinger"].sel(configuration="a", seed=0), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="2 run points"):
        scaling_dataset(runs, "timestep", ["dt5", "dt10"], ["a"], [0], run_points=["dt5", "dt10"])
