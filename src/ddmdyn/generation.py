"""Unconditional generation with a trained diffusion model, and its scores.

Samplers and scores as in docs/decisions.md, E10-E11 and D12.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
import xarray as xr

from . import dynamics
from .diffusion.model import DiffusionModel
from .diffusion.samplers import sample
from .metrics.generation import generation_scores

SCORES = ("hellinger", "frechet", "dist_gen", "dist_test", "extreme")
SCORE_ATTRS = {
    "hellinger": ("Hellinger distance of 70^3 histograms on [-3.5, 3.5]^3", "1"),
    "frechet": ("Frechet surrogate distance (dense_two surrogate features)", "1"),
    "dist_gen": ("mean squared distance generated -> nearest test state", "1"),
    "dist_test": ("mean squared distance test -> nearest generated state", "1"),
    "extreme": ("fraction of values beyond the test 1 % / 99 % quantiles", "1"),
}


def generate_states(
    model: DiffusionModel,
    n_samples: int,
    n_coarse_steps: int,
    sampler: str,
    eta: float,
    seed: int,
    batch_size: int,
    device: torch.device,
) -> np.ndarray:
    """Generate `n_samples` states and return them in physical units, float32 (n_samples, 3)."""
    model = model.to(device).eval()
    z = sample(
        model.denoise,
        model.schedule,
        n_samples,
        n_coarse_steps=n_coarse_steps,
        sampler=sampler,
        eta=eta,
        seed=seed,
        batch_size=batch_size,
        device=device,
    )
    return dynamics.denormalise(z.double().cpu().numpy()).astype(np.float32)


def samples_dataset(states: np.ndarray, attrs: dict) -> xr.Dataset:
    """Generated states (sample, variable) in physical units as a dataset."""
    return xr.Dataset(
        {
            "state": (
                ("sample", "variable"),
                states,
                {"long_name": "generated Lorenz 63 state", "units": "1"},
            )
        },
        coords={"variable": ("variable", np.array(["x", "y", "z"]), {"long_name": "variable"})},
        attrs=attrs,
    )


def score_generated(
    generated_norm: np.ndarray,
    reference_norm: np.ndarray,
    feature_fn: Callable[[np.ndarray], np.ndarray] | None,
    seed: int,
) -> xr.Dataset:
    """Every generation score with its noise floor, as a dataset of scalars (normalised space).

    Scores of docs/decisions.md, E11; noise floors of D12.

    `<score>` compares the generated set with the full reference (the paper's score),
    `<score>_floor` two disjoint reference subsets of the generated set's size, and
    `<score>_matched` the generated set with one of those subsets (same footing as the floor).
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    scores = generation_scores(generated_norm, reference_norm, feature_fn=feature_fn, rng=rng)
    data = {}
    for name in SCORES:
        if name not in scores:
            continue
        long_name, units = SCORE_ATTRS[name]
        data[name] = ((), float(scores[name]), {"long_name": long_name, "units": units})
        data[f"{name}_floor"] = (
            (),
            float(scores[f"{name}_floor"]),
            {
                "long_name": f"noise floor of the {name} score (two disjoint test subsets)",
                "units": units,
            },
        )
        if f"{name}_matched" in scores:
            data[f"{name}_matched"] = (
                (),
                float(scores[f"{name}_matched"]),
                {
                    "long_name": f"{name} score against one test subset of equal size",
                    "units": units,
                },
            )
    return xr.Dataset(
        data,
        attrs={
            "n_generated": len(generated_norm),
            "n_reference": len(reference_norm),
        },
    )
