"""Diffusion-time ensembles around test states and their statistics.

The ensembles of docs/decisions.md, E18.

Spread, Gaussianity (skewness, excess kurtosis, Mardia's multivariate kurtosis) and distance of
the members to the attractor, as functions of the diffusion step S.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
import xarray as xr
from scipy import stats

from . import dynamics
from .diffusion.ensemble import diffusion_ensemble
from .metrics.generation import build_tree, nearest_neighbour_sq_dist


def pick_states(trajectories: np.ndarray, n_states: int, seed: int) -> np.ndarray:
    """`n_states` states drawn without replacement from (n_traj, T, 3), seeded; (n_states, 3)."""
    flat = trajectories.reshape(-1, trajectories.shape[-1])
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    return flat[np.sort(rng.choice(len(flat), size=n_states, replace=False))]


def generate_sweep(
    model,
    centres_phys: np.ndarray,
    diffusion_steps: Sequence[int],
    n_members: int,
    n_coarse_steps: int,
    sampler: str,
    eta: float,
    seed: int,
    device: torch.device,
    chunk: int = 64,
) -> np.ndarray:
    """Ensembles (n_states, n_steps, n_members, 3) in physical units around each centre state.

    States are processed in chunks; members keep their own random streams (keyed by the state
    index), so the result does not depend on `chunk`.
    """
    out = []
    norm = dynamics.normalise(np.asarray(centres_phys, dtype=np.float64))
    with torch.inference_mode():
        for i in range(0, len(norm), chunk):
            states = torch.as_tensor(norm[i : i + chunk], dtype=torch.float32, device=device)
            ids = torch.arange(i, i + len(states), device=device)
            ens = diffusion_ensemble(
                model.denoise,
                model.schedule,
                states,
                n_members=n_members,
                diffusion_steps=list(diffusion_steps),
                n_coarse_steps=n_coarse_steps,
                seed=seed,
                stream_ids=ids,
                cycle=0,
                sampler=sampler,
                eta=eta,
            )
            out.append(dynamics.denormalise(ens.double().cpu().numpy()))
    return np.concatenate(out)


def mardia_excess_kurtosis(ens: np.ndarray) -> np.ndarray:
    """Mardia's multivariate kurtosis b_2,p minus its Gaussian value p(p+2), over axis -2.

    Args:
        ens: (..., M, p) members.
    Returns:
        (...,) excess kurtosis; 0 in expectation for a large Gaussian ensemble.
    """
    x = ens - ens.mean(axis=-2, keepdims=True)
    m, p = x.shape[-2:]
    cov = np.einsum("...mi,...mj->...ij", x, x) / m
    d2 = np.einsum("...mi,...ij,...mj->...m", x, np.linalg.inv(cov), x)
    return (d2**2).mean(axis=-1) - p * (p + 2)


def sweep_statistics(
    ens_phys: np.ndarray,
    centres_phys: np.ndarray,
    diffusion_steps: Sequence[int],
    reference_norm: np.ndarray,
) -> xr.Dataset:
    """Statistics of diffusion ensembles (n_states, n_steps, M, 3) as a dataset.

    Variables as listed in docs/data_contracts.md.
    """
    ens_norm = dynamics.normalise(ens_phys)
    spread = np.sqrt(ens_norm.var(axis=2, ddof=1).mean(axis=0))  # (S, 3)
    skew = stats.skew(ens_phys, axis=2).mean(axis=0)
    kurt = stats.kurtosis(ens_phys, axis=2).mean(axis=0)
    mardia = mardia_excess_kurtosis(ens_norm).mean(axis=0)
    tree = build_tree(reference_norm)
    dist = np.array(
        [
            nearest_neighbour_sq_dist(ens_norm[:, j].reshape(-1, 3), tree).mean()
            for j in range(len(diffusion_steps))
        ]
    )
    one = {"units": "1"}
    return xr.Dataset(
        {
            "ensemble": (
                ("state", "diffusion_step", "member", "variable"),
                ens_phys.astype(np.float32),
                {**one, "long_name": "ensemble member (physical units)"},
            ),
            "center": (
                ("state", "variable"),
                centres_phys,
                {**one, "long_name": "state the ensemble was generated around"},
            ),
            "spread": (
                ("diffusion_step", "variable"),
                spread,
                {**one, "long_name": "ensemble spread (normalised std)"},
            ),
            "skewness": (
                ("diffusion_step", "variable"),
                skew,
                {**one, "long_name": "skewness of the members"},
            ),
            "excess_kurtosis": (
                ("diffusion_step", "variable"),
                kurt,
                {**one, "long_name": "excess kurtosis of the members"},
            ),
            "mardia_kurtosis": (
                "diffusion_step",
                mardia,
                {**one, "long_name": "Mardia multivariate excess kurtosis"},
            ),
            "attractor_distance": (
                "diffusion_step",
                dist,
                {
                    **one,
                    "long_name": "mean squared distance of members to the "
                    "nearest test state (normalised)",
                },
            ),
        },
        coords={
            "diffusion_step": (
                "diffusion_step",
                np.asarray(diffusion_steps, dtype=np.int64),
                {"long_name": "diffusion steps S", "units": "1"},
            ),
            "variable": ("variable", np.array(["x", "y", "z"])),
        },
    ).transpose("diffusion_step", "state", "member", "variable")


def run_sweep(
    model: torch.nn.Module,
    test_states: np.ndarray,
    settings: Mapping[str, Any],
    device: torch.device | str = "cpu",
    diffusion_steps: Sequence[int] | None = None,
) -> xr.Dataset:
    """The ensemble sweep of one diffusion model: ensembles around seeded test states at each
    diffusion step S, and their statistics (`sweep_statistics`).

    Args:
        model: the diffusion model (`load_diffusion_model`).
        test_states: test trajectories (n_traj, T, 3), physical units.
        settings: the config's ``ensembles`` keys n_states, seed, n_members, n_coarse_steps,
            sampler, eta and diffusion_steps.
        device: torch device of the denoising.
        diffusion_steps: steps S to sweep instead of ``settings["diffusion_steps"]``.
    Returns:
        `sweep_statistics`'s dataset, with attribute n_coarse_steps.
    """
    steps = list(settings["diffusion_steps"] if diffusion_steps is None else diffusion_steps)
    centres = pick_states(test_states, settings["n_states"], settings["seed"]).astype("float64")
    ens = generate_sweep(
        model,
        centres,
        steps,
        settings["n_members"],
        settings["n_coarse_steps"],
        settings["sampler"],
        settings["eta"],
        settings["seed"],
        device,
    )
    reference = dynamics.normalise(test_states.reshape(-1, 3)).astype("float64")
    ds = sweep_statistics(ens, centres, steps, reference)
    ds.attrs["n_coarse_steps"] = settings["n_coarse_steps"]
    return ds
