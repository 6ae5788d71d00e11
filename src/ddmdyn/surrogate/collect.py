"""Collect roll-out score files of many surrogate runs into table and study datasets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..tables import stack_runs


def _at_time(run: xr.Dataset, t: float) -> float:
    """RMSE at the lead closest to `t` model time units (NaN if the roll-out is shorter)."""
    lead_time = run["lead_time"].values
    i = int(np.argmin(np.abs(lead_time - t)))
    return float(np.sqrt(run["mse"].values[i])) if abs(lead_time[i] - t) < 1e-9 else np.nan


def rmse_at_lead_times(
    run: xr.Dataset, lead_times: Sequence[float], rtol: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """RMSE of a roll-out at fixed physical lead times, whatever its surrogate step.

    A lead time that is a roll-out lead (a whole number of surrogate steps, within ``rtol``)
    reads that lead's MSE. A lead time between two roll-out leads of at least one step is
    interpolated log-linearly in time (errors grow about exponentially). A lead time shorter
    than one surrogate step or beyond the roll-out is NaN: the surrogate never forecasts it.

    Args:
        run: roll-out scores with ``mse`` (lead) and coordinate ``lead_time`` (lead) in MTU.
        lead_times: lead times in MTU.
    Returns:
        (rmse, interpolated): float arrays (len(lead_times),); interpolated is 1.0 where the
        value is interpolated, 0.0 where exact or NaN.
    """
    t_lead = np.asarray(run["lead_time"].values, float)
    mse = np.asarray(run["mse"].values, float)
    rmse = np.full(len(lead_times), np.nan)
    interpolated = np.zeros(len(lead_times))
    for i, t in enumerate(lead_times):
        t = float(t)
        exact = np.flatnonzero(np.abs(t_lead - t) <= rtol * max(abs(t), 1e-12))
        if exact.size:
            rmse[i] = np.sqrt(mse[exact[0]])
            continue
        k = int(np.searchsorted(t_lead, t)) - 1  # t_lead[k] < t < t_lead[k + 1]
        if k < 1 or k + 1 >= t_lead.size:
            continue  # shorter than one step, or beyond the roll-out
        lo, hi = mse[k], mse[k + 1]
        if not (np.isfinite(lo) and np.isfinite(hi) and lo > 0 and hi > 0):
            continue
        w = (t - t_lead[k]) / (t_lead[k + 1] - t_lead[k])
        rmse[i] = np.sqrt(np.exp((1 - w) * np.log(lo) + w * np.log(hi)))
        interpolated[i] = 1.0
    return rmse, interpolated


def summary_scores(run: xr.Dataset, lead_times: Sequence[float] = ()) -> xr.Dataset:
    """Scalar scores of one roll-out: RMSE after one step, at 1 MTU and at the end; Hellinger;
    with ``lead_times`` (MTU) also the RMSE at each of them (see `rmse_at_lead_times`)."""
    one = {"units": "1"}
    ds = xr.Dataset(
        {
            "rmse_one_step": (
                (),
                float(np.sqrt(run["mse"].values[1])),
                {**one, "long_name": "RMSE after one surrogate step"},
            ),
            "rmse_1mtu": ((), _at_time(run, 1.0), {**one, "long_name": "RMSE at lead 1 MTU"}),
            "rmse_final": (
                (),
                float(np.sqrt(run["mse"].values[-1])),
                {**one, "long_name": "RMSE at the last lead"},
            ),
            "hellinger": (
                (),
                float(run["hellinger"]),
                {**one, "long_name": "Hellinger distance of the long-run climate"},
            ),
        }
    )
    if len(lead_times):
        rmse, interpolated = rmse_at_lead_times(run, lead_times)
        ds["rmse_at_lead"] = (
            "fixed_lead_time",
            rmse,
            {**one, "long_name": "RMSE at a fixed physical lead time (NaN: not reached)"},
        )
        ds["lead_interpolated"] = (
            "fixed_lead_time",
            interpolated,
            {**one, "long_name": "1 where rmse_at_lead is interpolated between roll-out leads"},
        )
        ds = ds.assign_coords(
            fixed_lead_time=(
                "fixed_lead_time",
                np.asarray(lead_times, float),
                {"units": "MTU", "long_name": "fixed physical lead time"},
            )
        )
    return ds


def surrogate_table_dataset(
    runs: Sequence[xr.Dataset], configurations: Sequence[str], seeds: Sequence[int]
) -> xr.Dataset:
    """(configuration, seed) summary scores plus (configuration, seed, lead_time) mse and mae."""
    keyed = {(r.attrs["configuration"], int(r.attrs["seed"])): r for r in runs}
    curves = stack_runs(
        {k: r[["mse", "mae"]] for k, r in keyed.items()},
        ("configuration", "seed"),
        (configurations, seeds),
    )
    scalars = stack_runs(
        {k: summary_scores(r) for k, r in keyed.items()},
        ("configuration", "seed"),
        (configurations, seeds),
    )
    return xr.merge([curves, scalars], combine_attrs="override")


def scaling_dataset(
    runs: Sequence[xr.Dataset],
    quantity: str,
    values: Sequence[object],
    run_values: Sequence[object],
    configurations: Sequence[str],
    seeds: Sequence[int],
    lead_times: Sequence[float] = (),
    description: str = "",
    study: str = "",
) -> xr.Dataset:
    """(configuration, quantity, seed) summary scores of a study that sweeps one surrogate
    parameter; with `lead_times` (MTU) also (configuration, quantity, seed, fixed_lead_time)
    RMSE at those lead times.

    Args:
        runs: roll-out score files, with attributes ``configuration`` and ``seed``.
        quantity: the swept parameter (n_train_samples, corruption_level, ...): the dimension.
        values: its values, in sweep order (the coordinate).
        run_values: the value of each run, in the order of `runs`.
        description: the dimension's long name; study: the dataset's ``study`` attribute.
    """
    if len(run_values) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(run_values)} run values")
    unknown = [v for v in dict.fromkeys(run_values) if v not in list(values)]
    if unknown:
        raise ValueError(f"runs at {quantity} {unknown} are not sweep values {list(values)}")
    keyed = {
        (r.attrs["configuration"], value, int(r.attrs["seed"])): summary_scores(r, lead_times)
        for r, value in zip(runs, run_values, strict=True)
    }
    ds = stack_runs(keyed, ("configuration", quantity, "seed"), (configurations, values, seeds))
    ds[quantity].attrs.update(long_name=description, units="1")
    return ds.assign_attrs(study=study)
