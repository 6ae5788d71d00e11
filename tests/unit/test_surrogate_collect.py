"""Collecting roll-out files into the surrogate table and the scaling-study datasets."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from ddmdyn.surrogate.collect import (
    rmse_at_lead_times,
    scaling_dataset,
    summary_scores,
    surrogate_table_dataset,
)


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


def test_scaling_dataset_places_runs_by_their_values_not_their_files():
    """A run shared with the main experiment (file point "default") sits at its sweep value."""
    runs = [_run("a", 0, "dt5", 1.0), _run("a", 0, "default", 2.0), _run("a", 0, "dt20", 3.0)]
    ds = scaling_dataset(
        runs,
        "surrogate_dt",
        [5, 10, 20],
        [5, 10, 20],
        ["a"],
        [0],
        description="surrogate step (integration steps)",
        study="timestep",
    )
    np.testing.assert_array_equal(ds["surrogate_dt"], [5, 10, 20])
    assert ds["surrogate_dt"].dtype == np.int64
    assert ds["surrogate_dt"].attrs == {
        "long_name": "surrogate step (integration steps)",
        "units": "1",
    }
    assert ds.attrs["study"] == "timestep"
    np.testing.assert_allclose(ds["hellinger"].sel(configuration="a", seed=0), [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="2 run values"):
        scaling_dataset(runs, "surrogate_dt", [5, 10], [5, 10], ["a"], [0])
    with pytest.raises(ValueError, match=r"surrogate_dt \[40\]"):
        scaling_dataset(runs, "surrogate_dt", [5, 10, 20], [5, 10, 40], ["a"], [0])


def test_scaling_dataset_keeps_the_values_type():
    runs = [_run("a", 0, "c0.1", 1.0), _run("a", 0, "c0.5", 2.0)]
    ds = scaling_dataset(runs, "corruption_level", [0.1, 0.5], [0.1, 0.5], ["a"], [0])
    assert ds["corruption_level"].dtype == np.float64
    runs = [_run("a", 0, "noise_cos", 1.0), _run("a", 0, "velocity_cos", 2.0)]
    variants = ["noise_cos", "velocity_cos"]
    ds = scaling_dataset(runs, "diffusion_variant", variants, variants, ["a"], [0])
    assert list(ds["diffusion_variant"].values) == variants


def test_rmse_at_fixed_lead_times_exact_interpolated_or_unreached():
    """mse = 4^k at lead k (log-linear in time), roll-out step 0.04 MTU (dt 4), leads 0-20."""
    leads = np.arange(21)
    run = xr.Dataset(
        {"mse": ("lead", 4.0 ** leads.astype(float)), "hellinger": ((), 0.1)},
        coords={"lead": leads, "lead_time": ("lead", 0.04 * leads)},
    )
    rmse, interpolated = rmse_at_lead_times(run, [0.08, 0.1, 0.02, 1.0, 0.8])
    assert rmse[0] == pytest.approx(4.0)  # lead 2 exactly: sqrt(4^2)
    assert rmse[1] == pytest.approx(2.0**2.5)  # 2.5 steps: between leads 2 and 3, geometric
    assert np.isnan(rmse[2])  # shorter than one surrogate step
    assert np.isnan(rmse[3])  # beyond the roll-out (0.8 MTU)
    assert rmse[4] == pytest.approx(2.0**20)  # the last lead
    np.testing.assert_array_equal(interpolated, [0, 1, 0, 0, 0])


def test_scaling_dataset_carries_the_rmse_at_fixed_lead_times():
    """The same physical lead read from runs with different surrogate steps."""
    runs = [_run("a", 0, "dt5", 1.0, dt_mtu=0.05), _run("a", 0, "dt10", 2.0, dt_mtu=0.1)]
    ds = scaling_dataset(runs, "surrogate_dt", [5, 10], [5, 10], ["a"], [0], lead_times=[0.1, 1.0])
    at = ds["rmse_at_lead"].sel(configuration="a", seed=0)
    # mse = scale * lead index: 0.1 MTU is lead 2 at dt 5 and lead 1 at dt 10
    np.testing.assert_allclose(at.sel(fixed_lead_time=0.1), [np.sqrt(2.0), np.sqrt(2.0)])
    # 1 MTU: lead 20 (the last) at dt 5 (scale 1), lead 10 at dt 10 (scale 2)
    np.testing.assert_allclose(at.sel(fixed_lead_time=1.0), [np.sqrt(20.0), np.sqrt(20.0)])
    np.testing.assert_array_equal(ds["lead_interpolated"].sel(configuration="a", seed=0), 0.0)
    assert ds["fixed_lead_time"].attrs["units"] == "MTU"
    assert "rmse_at_lead" not in scaling_dataset(runs, "surrogate_dt", [5, 10], [5, 10], ["a"], [0])
