"""Lorenz 63 trajectory splits as CF-annotated xarray datasets, and reading them back.

The data set of docs/decisions.md, E1.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from . import dynamics
from .io import read_dataset

VARIABLES = ("x", "y", "z")
TRAJECTORY_DIMS = ("trajectory", "time", "variable")


def split_settings(data: Mapping[str, Any], split: str) -> dict[str, Any]:
    """Everything one split's trajectories depend on, from the config's ``data`` section.

    The split's own size and seed (``data.splits.SPLIT``) and the shared integration settings;
    stored as the split's provenance and checked by every stage that reads it.
    """
    own = data["splits"][split]
    return {
        "split": split,
        "n_trajectories": own["n_trajectories"],
        "seed": own["seed"],
        "n_steps": data["n_steps"],
        "n_burn_in": data["n_burn_in"],
        "dt": data["dt"],
        "initial_std": data["initial_std"],
        "sigma": data["sigma"],
        "rho": data["rho"],
        "beta": data["beta"],
        "time_chunk": data["time_chunk"],
    }


def simulate_from_settings(settings: Mapping[str, Any]) -> xr.Dataset:
    """`simulate_split` of one split's `split_settings` (the split's name is not an argument)."""
    return simulate_split(**{key: value for key, value in settings.items() if key != "split"})


def simulate_split(
    n_trajectories: int,
    n_steps: int,
    n_burn_in: int,
    seed: int,
    dt: float = dynamics.DT,
    initial_std: float = 1e-3,
    sigma: float = dynamics.SIGMA,
    rho: float = dynamics.RHO,
    beta: float = dynamics.BETA,
    time_chunk: int = 100_000,
) -> xr.Dataset:
    """Simulate one split of Lorenz 63 trajectories (docs/decisions.md, E1).

    Initial states ~ N(0, initial_std^2 I) from a generator seeded with `seed`; `n_burn_in` RK4
    steps are discarded, then the post-burn-in state and `n_steps` further states are stored.

    Returns:
        Dataset with `state` (trajectory, time, variable) float32 in physical units, a `time`
        coordinate in model time units (0, dt, ...), and the model parameters and
        normalisation constants as attributes. `encoding` chunks it for dask streaming.
    """
    x0 = dynamics.initial_states(n_trajectories, seed, std=initial_std)
    traj = dynamics.integrate_trajectories(
        x0, n_steps, n_burn_in=n_burn_in, dt=dt, sigma=sigma, rho=rho, beta=beta
    ).astype(np.float32)
    ds = xr.Dataset(
        {
            "state": (
                TRAJECTORY_DIMS,
                traj,
                {
                    "long_name": "Lorenz 63 state",
                    "units": "1",
                    "comment": "physical (non-normalised) Lorenz 63 variables",
                },
            )
        },
        coords=_trajectory_coords(n_trajectories, n_steps, dt),
        attrs=_split_attrs(dt, n_burn_in, initial_std, seed, sigma, rho, beta),
    )
    chunk = (1, min(time_chunk, n_steps + 1), 3)
    ds["state"].encoding.update({"chunksizes": chunk, "dtype": "float32", "_FillValue": None})
    ds["time"].encoding.update({"_FillValue": None})
    return ds


def _trajectory_coords(n_trajectories: int, n_steps: int, dt: float) -> dict[str, tuple]:
    """Coordinates of a split: trajectory index, model time (0, dt, ..., n_steps dt), variable."""
    time = np.arange(n_steps + 1, dtype=np.float64) * dt
    return {
        "trajectory": (
            "trajectory",
            np.arange(n_trajectories, dtype=np.int32),
            {"long_name": "trajectory index", "units": "1"},
        ),
        "time": (
            "time",
            time,
            {
                # Lorenz 63 time is dimensionless (model time units, MTU): no UDUNITS time
                # unit applies, so no standard_name "time" or axis "T" (both promise one)
                "long_name": "model time since the end of the burn-in, in model time units",
                "units": "1",
                "comment": f"dimensionless Lorenz 63 model time (MTU); one RK4 step is {dt}",
            },
        ),
        "variable": (
            "variable",
            np.array(VARIABLES),
            {"long_name": "Lorenz 63 state variable", "units": "1"},
        ),
    }


def _split_attrs(
    dt: float,
    n_burn_in: int,
    initial_std: float,
    seed: int,
    sigma: float,
    rho: float,
    beta: float,
) -> dict[str, object]:
    """Global attributes of a split: model, integrator, seed and the normalisation constants."""
    return {
        "title": "Lorenz 63 trajectories (RK4)",
        "lorenz63_sigma": sigma,
        "lorenz63_rho": rho,
        "lorenz63_beta": beta,
        "integrator": "classical fourth-order Runge-Kutta",
        "dt": dt,
        "n_burn_in_steps": n_burn_in,
        "initial_state_std": initial_std,
        "seed": seed,
        "normalisation_shift": dynamics.NORM_SHIFT,
        "normalisation_scale": dynamics.NORM_SCALE,
        "normalisation": "normalised = (state - normalisation_shift) / normalisation_scale",
    }


def read_trajectories(
    path: str | os.PathLike[str],
    expected_params: Mapping[str, Any] | None = None,
    chunks: Mapping[str, int] | str | None = None,
) -> xr.Dataset:
    """Open a split written by the data stage, validating variables, dims and parameters."""
    return read_dataset(
        path, variables={"state": TRAJECTORY_DIMS}, expected_params=expected_params, chunks=chunks
    )


def load_states(
    path: str | os.PathLike[str],
    normalised: bool = True,
    max_time: int | None = None,
    expected_params: Mapping[str, Any] | None = None,
    max_trajectories: int | None = None,
) -> np.ndarray:
    """Load a split into memory as float32 (n_trajectories, n_time, 3).

    Only the selected part is read from disk (lazy xarray indexing, no dask): see
    bench/bench_split_reads.py.

    Args:
        normalised: return (state - shift) / scale (model space) instead of physical units.
        max_time: keep only the first `max_time` states of every trajectory.
        max_trajectories: keep only the first `max_trajectories` trajectories.
    """
    with read_trajectories(path, expected_params=expected_params) as ds:
        state = ds["state"]
        if max_time is not None:
            state = state.isel(time=slice(0, max_time))
        if max_trajectories is not None:
            state = state.isel(trajectory=slice(0, max_trajectories))
        arr = np.asarray(state.values, dtype=np.float32)
    return dynamics.normalise(arr) if normalised else arr
