"""Collect per-run DA score files into sweep and table datasets."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from ..tables import stack_runs

SCALARS = ("ana_rmse", "ana_spread", "bg_rmse", "bg_spread", "crps", "spread_skill")


def _scalars(run: xr.Dataset) -> xr.Dataset:
    return run[list(SCALARS)]


def spread_sweep_dataset(runs: Sequence[xr.Dataset], steps: Sequence[int]) -> xr.Dataset:
    """(diffusion_step, truth) scores of the DA diffusion-step sweep."""
    keyed = {(round(r.attrs["parameter_value"]),): _scalars(r) for r in runs}
    ds = stack_runs(keyed, ("diffusion_step",), ([int(s) for s in steps],))
    ds["diffusion_step"].attrs.update(long_name="diffusion steps S (of K)", units="1")
    return ds


def obs_interval_dataset(
    runs: Sequence[xr.Dataset], methods: Sequence[str], obs_every: Sequence[int]
) -> xr.Dataset:
    """(method, obs_every, truth) scores plus the tuned parameter per (method, obs_every)."""
    keyed = {}
    for r in runs:
        scal = _scalars(r).assign(
            parameter_value=(
                (),
                float(r.attrs["parameter_value"]),
                {"long_name": "tuned parameter", "units": "1"},
            ),
            n_cycles_used=(
                (),
                float(r.attrs["n_cycles_used"]),
                {"long_name": "scored cycles", "units": "1"},
            ),
        )
        keyed[(r.attrs["method"], int(r.attrs["obs_every"]))] = scal
    ds = stack_runs(keyed, ("method", "obs_every"), (list(methods), [int(o) for o in obs_every]))
    ds["obs_every"].attrs.update(long_name="observation interval (integration steps)", units="1")
    return ds


def table_dataset(runs: Sequence[xr.Dataset], methods: Sequence[str]) -> xr.Dataset:
    """(method, truth) scores of the DA scores table."""
    keyed = {(r.attrs["method"],): _scalars(r) for r in runs}
    return stack_runs(keyed, ("method",), (list(methods),))
