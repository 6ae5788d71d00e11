"""Runner of one cycled DA experiment from a method name and its parameter (docs/decisions.md,
E21, D2-D5).

All methods of one experiment share the truth, the observation noise and the initial condition:
they are drawn from the experiment seed alone (common random numbers).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from ..catalogue import DA_METHODS
from ..dynamics import NORM_SCALE, denormalise, normalise
from .cycling import CycledDAResult, draw_initial_states, make_observations, run_cycled_da
from .methods import ETKF, EnOI
from .sources import CallableSource, GaussianCovarianceSource, SigmaPointSource


@dataclass(frozen=True)
class DiffusionEnsembleSettings:
    """How the diffusion model turns a forecast into an ensemble (docs/decisions.md, E18, D3)."""

    n_coarse_steps: int = 100
    sampler: str = "ddpm"
    eta: float = 0.0


def diffusion_source(
    model, n_members: int, diffusion_step: int, settings: DiffusionEnsembleSettings, seed: int
) -> CallableSource:
    """Ensemble source: partial diffusion of each forecast to coarse step S, then denoising.

    Members of truth j at cycle c draw their noise from streams keyed by (seed, j, c), so the
    ensemble does not depend on which truths are batched together.
    """
    import torch  # here, not at the top: static methods run without importing torch

    from ..diffusion.ensemble import diffusion_ensemble

    device = next(model.parameters()).device

    def generate(x_b: np.ndarray, cycle: int, truth_index: np.ndarray) -> np.ndarray:
        states = torch.as_tensor(normalise(x_b), dtype=torch.float32, device=device)
        with torch.inference_mode():
            ens = diffusion_ensemble(
                model.denoise,
                model.schedule,
                states,
                n_members=n_members,
                diffusion_steps=[int(diffusion_step)],
                n_coarse_steps=settings.n_coarse_steps,
                seed=seed,
                stream_ids=torch.as_tensor(truth_index, device=device),
                cycle=cycle,
                sampler=settings.sampler,
                eta=settings.eta,
            )
        return denormalise(ens[:, 0].double().cpu().numpy())

    return CallableSource(generate, n_members=n_members, pass_truth_index=True)


def build_method(
    name: str,
    value: float,
    static_cov: np.ndarray,
    obs_std: float,
    seed: int,
    diffusion_model=None,
    diffusion_settings: DiffusionEnsembleSettings | None = None,
):
    """The DA method `name` of `experiments.DA_METHODS` with its tuned parameter `value`.

    Args:
        value: diffusion step S (ddm_enoi), std inflation (enoi_*, var3d) or covariance
            inflation (etkf).
        static_cov: (3, 3) static covariance C, physical units (its diagonal for enoi_diag).
    """
    spec = DA_METHODS[name]
    if spec.kind == "ddm_enoi":
        if diffusion_model is None:
            raise ValueError(f"method {name} needs a diffusion model")
        settings = diffusion_settings or DiffusionEnsembleSettings()
        if not 1 <= int(value) <= settings.n_coarse_steps:
            raise ValueError(f"diffusion step {value} outside 1..{settings.n_coarse_steps}")
        source = diffusion_source(diffusion_model, spec.n_members, int(value), settings, seed)
        return EnOI(source, obs_std)
    if spec.kind == "enoi_diag":
        cov = np.diag(np.diag(static_cov))
        return EnOI(GaussianCovarianceSource(cov, spec.n_members, value, seed), obs_std)
    if spec.kind == "enoi_full":
        return EnOI(GaussianCovarianceSource(static_cov, spec.n_members, value, seed), obs_std)
    if spec.kind == "var3d":
        return EnOI(SigmaPointSource(static_cov, value), obs_std)
    if spec.kind == "etkf":
        return ETKF(spec.n_members, value, obs_std)
    raise ValueError(f"unknown DA method kind {spec.kind!r}")


def run_experiment(
    method,
    truth: np.ndarray,
    obs_std: float,
    obs_every: int,
    n_burn_in: int,
    n_cycles: int,
    seed: int,
    checkpoint_path: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> CycledDAResult:
    """Cycle `method` over all truths (B, T, 3) with common random numbers from `seed`.

    With `checkpoint_path` the run resumes from it, checkpoints periodically and on SIGTERM /
    SIGUSR1 (then raises `ddmdyn.checkpointing.JobInterrupted`); `log` receives progress lines.
    """
    observations = make_observations(truth, obs_std, seed)
    initial = draw_initial_states(truth, method.n_state, seed)
    return run_cycled_da(
        method,
        truth,
        observations,
        obs_every,
        n_burn_in,
        n_cycles,
        initial,
        checkpoint_path=checkpoint_path,
        handle_signals=checkpoint_path is not None,
        log=log,
    )


def result_dataset(res: CycledDAResult, attrs: dict) -> xr.Dataset:
    """Scores of one run as a dataset (truth, lead, variable, rank), normalised units."""
    one = {"units": "1"}
    lead = np.arange(res.rmse_lead.shape[1])
    data = {
        "ana_rmse": ("truth", res.ana_rmse, {**one, "long_name": "analysis nRMSE"}),
        "ana_spread": ("truth", res.ana_spread, {**one, "long_name": "analysis spread"}),
        "bg_rmse": ("truth", res.bg_rmse, {**one, "long_name": "background nRMSE"}),
        "bg_spread": ("truth", res.bg_spread, {**one, "long_name": "background spread"}),
        "crps": ("truth", res.crps_bg, {**one, "long_name": "background CRPS (normalised)"}),
        "spread_skill": (
            "truth",
            res.bg_spread / res.bg_rmse,
            {**one, "long_name": "spread-skill ratio of the background (spread / RMSE)"},
        ),
        "rmse_lead": (
            ("truth", "lead"),
            res.rmse_lead,
            {**one, "long_name": "nRMSE of the forecast inside the window"},
        ),
        "spread_lead": (
            ("truth", "lead"),
            res.spread_lead,
            {**one, "long_name": "ensemble spread inside the window"},
        ),
        "rank_histogram": (
            ("truth", "variable", "rank"),
            res.rank_hist,
            {"units": "count", "long_name": "rank of the truth in the background ensemble"},
        ),
        "cov_bg": (
            ("truth", "variable", "variable_2"),
            res.cov_bg,
            {"units": "1", "long_name": "time-mean background covariance (physical units^2)"},
        ),
    }
    return xr.Dataset(
        data,
        coords={
            "truth": ("truth", np.arange(len(res.ana_rmse)), {"long_name": "truth trajectory"}),
            "lead": ("lead", lead, {"long_name": "integration steps since the analysis"}),
            "variable": ("variable", np.array(["x", "y", "z"])),
            "rank": ("rank", np.arange(res.rank_hist.shape[-1])),
        },
        attrs={
            **attrs,
            "obs_every": res.obs_every,
            "n_burn_in": res.n_burn_in,
            "n_cycles_requested": res.n_cycles_requested,
            "n_cycles_used": res.n_cycles,
            "capped": int(res.capped),
            "normalisation_scale": np.asarray(NORM_SCALE),
        },
    )
