"""Collect roll-out score files of many surrogate runs into table and study datasets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..tables import stack_runs

STUDY_DIMS = {
    "samples": ("n_train_samples", "training pairs", int),
    "corruption": ("corruption_level", "std of the noise on training targets", float),
    "timestep": ("surrogate_dt", "surrogate step (integration steps)", int),
    "representation": ("diffusion_variant", "diffusion model of the features", str),
}


def _at_time(run: xr.Dataset, t: float) -> float:
    """RMSE at the lead closest to `t` model time units (NaN if the roll-out is shorter)."""
    lead_time = run["lead_time"].values
    i = int(np.argmin(np.abs(lead_time - t)))
    return float(np.sqrt(run["mse"].values[i])) if abs(lead_time[i] - t) < 1e-9 else np.nan


def summary_scores(run: xr.Dataset) -> xr.Dataset:
    """Scalar scores of one roll-out: RMSE after one step, at 1 MTU and at the end; Hellinger."""
    one = {"units": "1"}
    return xr.Dataset(
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
    study: str,
    points: Sequence[str],
    configurations: Sequence[str],
    seeds: Sequence[int],
    run_points: Sequence[str] | None = None,
) -> xr.Dataset:
    """(configuration, <study dim>, seed) summary scores of a scaling study.

    `points` are the path components of the sweep points (n64, c0.05, dt5, velocity_cos); the
    study dimension holds their numeric values (or the variant names). `run_points` gives the
    sweep point of each run (default: its `point` attribute), for runs shared with the main
    experiment, whose files carry the point "default".
    """
    dim, long_name, kind = STUDY_DIMS[study]
    prefix = {"samples": 1, "corruption": 1, "timestep": 2}.get(study, 0)
    values = [kind(p[prefix:]) for p in points]
    if run_points is None:
        run_points = [r.attrs["point"] for r in runs]
    if len(run_points) != len(runs):
        raise ValueError(f"{len(runs)} runs but {len(run_points)} run points")
    unknown = sorted(set(run_points) - set(points))
    if unknown:
        raise ValueError(f"runs of points {unknown} are not sweep points {list(points)} of {study}")
    keyed = {}
    for r, point in zip(runs, run_points, strict=True):
        value = kind(point[prefix:])
        keyed[(r.attrs["configuration"], value, int(r.attrs["seed"]))] = summary_scores(r)
    ds = stack_runs(keyed, ("configuration", dim, "seed"), (configurations, values, seeds))
    ds[dim].attrs.update(long_name=long_name, units="1")
    return ds.assign_attrs(study=study)
