"""Runner of one surrogate experiment (docs/decisions.md, E15-E17): build a configuration of the
catalogue, train or fit it, save and reload it without the config, and score its roll-outs."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import xarray as xr

from ..catalogue import SURROGATE_CONFIGURATIONS
from ..dynamics import DT
from ..io import save_torch
from .backbones import build_backbone
from .pairs import PairSampler, rollout_starts, validation_pairs
from .ridge import RidgeHead
from .rollout import rollout_scores
from .training import SurrogateModel, build_surrogate, fit_ridge, train_surrogate

FORMAT = "ddmdyn-surrogate-1"


@dataclass(frozen=True)
class SurrogateSpec:
    """Everything needed to rebuild a surrogate's architecture (stored in its model file)."""

    configuration: str
    backbone_kind: str
    backbone_params: dict[str, Any]
    head_kind: str  # ridge | linear | mlp
    head_params: dict[str, Any]
    network_hparams: dict[str, Any] | None = None  # diffusion network of pretrained backbones

    def to_dict(self) -> dict[str, Any]:
        return {
            "configuration": self.configuration,
            "backbone_kind": self.backbone_kind,
            "backbone_params": self.backbone_params,
            "head_kind": self.head_kind,
            "head_params": self.head_params,
            "network_hparams": self.network_hparams,
        }


def make_spec(
    configuration: str, seed: int, mlp_hidden: int = 256, network_hparams: dict | None = None
) -> SurrogateSpec:
    """The spec of a configuration of `experiments.SURROGATE_CONFIGURATIONS`."""
    conf = SURROGATE_CONFIGURATIONS[configuration]
    options = {k: (list(v) if isinstance(v, tuple) else v) for k, v in conf.options}
    kind = conf.backbone
    if kind == "random_fourier":
        options["seed"] = int(seed)
    if kind in {"pretrained", "pretrained_untrained"}:
        options["untrained"] = kind == "pretrained_untrained"
        options["seed"] = int(seed)
        kind = "pretrained"
    head_kind = {"joint": "linear", "mlp": "mlp", "ridge": "ridge"}[conf.head]
    head_params = {"hidden": int(mlp_hidden)} if head_kind == "mlp" else {}
    return SurrogateSpec(configuration, kind, options, head_kind, head_params, network_hparams)


def _backbone_params(spec: SurrogateSpec, network: torch.nn.Module | None) -> dict[str, Any]:
    params = dict(spec.backbone_params)
    if spec.backbone_kind == "pretrained":
        if network is None:
            raise ValueError(f"configuration {spec.configuration} needs a diffusion network")
        params["network"] = network
    return params


def build_model(
    spec: SurrogateSpec, seed: int, network: torch.nn.Module | None = None
) -> SurrogateModel:
    """Untrained surrogate of `spec`: seeded backbone + head (ridge heads start empty)."""
    params = _backbone_params(spec, network)
    if spec.head_kind == "ridge":
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            backbone = build_backbone(spec.backbone_kind, **params)
        return SurrogateModel(backbone, RidgeHead.empty(backbone.n_features))
    return build_surrogate(spec.backbone_kind, spec.head_kind, params, spec.head_params, seed)


@dataclass(frozen=True)
class TrainingSettings:
    """Optimisation of network surrogates and ridge fits (docs/decisions.md, E12, E16, D9)."""

    n_steps: int | None = None  # network surrogates (None for ridge fits)
    batch_size: int | None = None
    learning_rate: float | None = None
    val_every: int | None = None
    val_pairs: int | None = None
    ridge_batch_size: int | None = None  # ridge fits
    ridge_l2: float | None = None
    ridge_pairs: int | None = None  # seeded subset of pairs for ridge fits (None = all)


def train_or_fit(
    spec: SurrogateSpec,
    train_norm: np.ndarray,
    val_norm: np.ndarray,
    dt: int,
    seed: int,
    settings: TrainingSettings,
    device: torch.device,
    n_train_samples: int | None = None,
    corruption: float = 0.0,
    network: torch.nn.Module | None = None,
    log: Callable[[str], None] = print,
    checkpoint_path: str | os.PathLike[str] | None = None,
) -> tuple[SurrogateModel, dict[str, list[float]]]:
    """Train (joint / MLP head, Adam) or fit (ridge, one streaming pass) one surrogate.

    Args:
        train_norm, val_norm: normalised trajectories (n_traj, T, 3).
        dt: surrogate step in integration steps; pairs never straddle trajectories.
        n_train_samples: seeded subset of the training pairs (sample-size study).
        corruption: std of the Gaussian noise added to training targets (redrawn per epoch).
        checkpoint_path: gradient training resumes from / checkpoints to this file, and on
            SIGTERM/SIGUSR1 checkpoints and raises `ddmdyn.checkpointing.JobInterrupted` (the
            ridge fit is one pass and does not checkpoint).
    Returns:
        the model (on `device`, eval mode) and its training history (empty for ridge).
    """
    model = build_model(spec, seed, network).to(device)
    subset = n_train_samples
    if spec.head_kind == "ridge" and subset is None and settings.ridge_pairs is not None:
        subset = min(settings.ridge_pairs, train_norm.shape[0] * (train_norm.shape[1] - dt))
    sampler = PairSampler(
        train_norm,
        dt=dt,
        n_subset=subset,
        subset_seed=seed,
        corruption=corruption,
        seed=seed,
        device=device,
    )
    if spec.head_kind == "ridge":
        fitted = fit_ridge(
            model.backbone, sampler, settings.ridge_batch_size, l2=settings.ridge_l2, device=device
        )
        log(f"ridge fitted on {len(sampler)} pairs")
        return fitted.to(device).eval(), {}

    val = validation_pairs(val_norm, dt=dt, n_max=settings.val_pairs, device=device)

    history = train_surrogate(
        model,
        sampler,
        settings.n_steps,
        settings.batch_size,
        learning_rate=settings.learning_rate,
        train_backbone=spec.head_kind == "linear",
        val_pairs=val,
        val_every=settings.val_every,
        device=device,
        log=log,
        checkpoint_path=checkpoint_path,
        handle_signals=checkpoint_path is not None,
    )
    hist = {k: [float(x) for x in v] for k, v in vars(history).items()}
    return model.eval(), hist


def save_surrogate(
    path: str | os.PathLike[str],
    model: SurrogateModel,
    spec: SurrogateSpec,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Model file (weights_only-loadable) holding the spec and every weight, written atomically."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    save_torch(
        {"format": FORMAT, "spec": spec.to_dict(), "state": state, "extra": dict(extra or {})}, path
    )


def load_surrogate(
    path: str | os.PathLike[str], device: str | torch.device = "cpu"
) -> tuple[SurrogateModel, SurrogateSpec]:
    """Rebuild a surrogate from its model file alone (eval mode, on `device`)."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path}: not a {FORMAT} model file")
    spec = SurrogateSpec(**payload["spec"])
    network = None
    if spec.backbone_kind == "pretrained":
        from ..diffusion.network import DenseResidualDenoiser

        network = DenseResidualDenoiser(**spec.network_hparams)
    state = payload["state"]
    if spec.head_kind == "ridge":
        n_features = state["head.weight"].shape[0]
        backbone = build_backbone(spec.backbone_kind, **_backbone_params(spec, network))
        model = SurrogateModel(backbone, RidgeHead.empty(n_features))
    else:
        model = build_model(spec, 0, network)
    model.load_state_dict(state)
    return model.to(device).eval(), spec


def feature_function(
    path: str | os.PathLike[str], device: str | torch.device = "cpu", batch_size: int = 16384
) -> Callable[[np.ndarray], torch.Tensor]:
    """Backbone features of a saved surrogate, (N, 3) normalised -> (N, F) tensor on `device`.

    Used with the trained dense_two surrogate as the feature network of the Frechet surrogate
    distance (docs/decisions.md, E11).
    """
    model, _ = load_surrogate(path, device)

    @torch.inference_mode()
    def features(x: np.ndarray) -> torch.Tensor:
        xt = torch.as_tensor(np.asarray(x, dtype=np.float32), device=device)
        return torch.cat(
            [model.backbone(xt[i : i + batch_size]) for i in range(0, len(xt), batch_size)]
        )

    return features


def evaluate_rollouts(
    model: SurrogateModel,
    test_norm: np.ndarray,
    dt: int,
    n_leads: int,
    max_starts: int | None,
    batch_size: int,
    device: torch.device,
) -> xr.Dataset:
    """Autoregressive roll-outs from the test starts and their scores as a dataset.

    Roll-outs and scores as in docs/decisions.md, E17.

    `max_starts` (None = every start) is the total number of starts, split evenly over the test
    trajectories and evenly spaced in time within each.

    Returns:
        `mse`, `mae` (lead_time), normalised units; scalar `hellinger` of the pooled second
        half of the leads against the truth; `lead_time` in model time units.
    """
    n_traj, n_time, _ = test_norm.shape
    per_trajectory = None if max_starts is None else max(1, max_starts // n_traj)
    starts = rollout_starts(n_traj, n_time, dt=dt, n_leads=n_leads, max_starts=per_trajectory)
    scores = rollout_scores(
        model,
        test_norm,
        dt=dt,
        n_leads=n_leads,
        starts=starts,
        batch_size=batch_size,
        device=device,
    )
    lead = np.arange(n_leads + 1)
    return xr.Dataset(
        {
            "mse": (
                "lead_time",
                np.asarray(scores["mse"]),
                {"long_name": "mean squared error (normalised state)", "units": "1"},
            ),
            "mae": (
                "lead_time",
                np.asarray(scores["mae"]),
                {"long_name": "mean absolute error (normalised state)", "units": "1"},
            ),
            "hellinger": (
                (),
                float(scores["hellinger"]),
                {
                    "long_name": f"Hellinger distance, leads {n_leads // 2 + 1}-{n_leads}",
                    "units": "1",
                },
            ),
        },
        coords={
            "lead_time": (
                "lead_time",
                lead * dt * DT,
                {"long_name": "lead time", "units": "MTU"},
            ),
            "lead": ("lead_time", lead, {"long_name": "surrogate steps", "units": "1"}),
        },
        attrs={"n_starts": int(scores["n_samples"]), "surrogate_dt_steps": int(dt)},
    )
