"""Surrogate model, gradient training and the one-pass ridge fit (docs/decisions.md, E12, D9).

A surrogate predicts the normalised increment g(x) with x_{t+dt} ~= x_t + g(x_t). Training
options, as in the paper:
- from-scratch networks: backbone and ``LinearHead`` trained jointly with Adam (lr 5e-5);
- ``MLPHead`` on a frozen backbone: Adam on the head only;
- ridge head on a frozen backbone: one streaming pass of sufficient statistics, one solve.

Batch order and target corruption are seeded by the ``PairSampler`` (batches are a pure function
of the step), weight initialisation by ``build_surrogate``; so a run is reproducible and can
resume at any step from its checkpoint file, bit for bit (``checkpoint_path``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ddmdyn.checkpointing import load_checkpoint, run_steps, save_checkpoint
from ddmdyn.progress import ProgressLog
from ddmdyn.surrogate.backbones import build_backbone, freeze
from ddmdyn.surrogate.heads import build_head
from ddmdyn.surrogate.pairs import PairSampler
from ddmdyn.surrogate.ridge import RidgeAccumulator

__all__ = [
    "SurrogateModel",
    "TrainHistory",
    "build_surrogate",
    "evaluate",
    "fit_ridge",
    "train_surrogate",
]


class SurrogateModel(nn.Module):
    """head(backbone(x)): normalised states (B, 3) -> predicted normalised increments (B, 3)."""

    def __init__(self, backbone: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(x))

    def step(self, x: torch.Tensor) -> torch.Tensor:
        """One surrogate time step: x + g(x)."""
        return x + self(x)

    def n_trainable(self) -> int:
        """Number of parameters with requires_grad."""
        return sum(p.numel() for p in self.parameters() if p.requires_grad)


def build_surrogate(
    backbone_kind: str,
    head_kind: str,
    backbone_params: dict[str, Any] | None = None,
    head_params: dict[str, Any] | None = None,
    seed: int = 0,
) -> SurrogateModel:
    """Backbone + trainable head with weights initialised under ``torch.manual_seed(seed)``.

    The global RNG state is restored afterwards. ``head_kind`` is ``linear`` or ``mlp``; ridge
    heads come from ``fit_ridge``.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        backbone = build_backbone(backbone_kind, **(backbone_params or {}))
        head = build_head(head_kind, backbone.n_features, **(head_params or {}))
    return SurrogateModel(backbone, head)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    batch_size: int = 16384,
    device: torch.device | str | None = None,
) -> tuple[float, float]:
    """MSE and MAE of ``model(x)`` against increments y (N, 3), averaged over all elements.

    Accumulated in float64 over chunks of ``batch_size``; model evaluated in eval mode on
    ``device`` (default: the device of the model's first parameter or buffer, else x's).
    """
    device = torch.device(device) if device is not None else _model_device(model, x.device)
    was_training = model.training
    model.eval()
    sse = torch.zeros((), dtype=torch.float64, device=device)
    sae = torch.zeros((), dtype=torch.float64, device=device)
    for lo in range(0, x.shape[0], batch_size):
        xb = x[lo : lo + batch_size].to(device)
        err = (model(xb) - y[lo : lo + batch_size].to(device)).to(torch.float64)
        sse += err.square().sum()
        sae += err.abs().sum()
    model.train(was_training)
    n = max(1, y.numel())
    return float(sse) / n, float(sae) / n


def _model_device(model: nn.Module, default: torch.device) -> torch.device:
    for t in (*model.parameters(), *model.buffers()):
        return t.device
    return default


@dataclass
class TrainHistory:
    """Per-validation record: step, mean train loss since the last record, val MSE and MAE."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_mae: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, list]:
        return asdict(self)


def _trainable_parameters(model: SurrogateModel, train_backbone: bool) -> list[nn.Parameter]:
    """Put the model in training mode (backbone frozen unless `train_backbone`) and return the
    parameters the optimiser updates."""
    if train_backbone:
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
    else:
        freeze(model.backbone)
        model.head.train()
        params = [p for p in model.head.parameters() if p.requires_grad]
    if not params:
        raise ValueError("nothing to train: no parameter requires grad")
    return params


@dataclass
class _SurrogateTraining:
    """The state of one surrogate training run and its steps, for `checkpointing.run_steps`:
    model, Adam, the validation history and the running training loss since the last record."""

    model: SurrogateModel
    opt: torch.optim.Optimizer
    sampler: PairSampler
    n_steps: int
    batch_size: int
    train_backbone: bool
    val_pairs: tuple[torch.Tensor, torch.Tensor] | None
    val_every: int
    val_batch_size: int
    checkpoint_every: int | None
    device: torch.device
    path: Path | None
    log: Callable[[str], None]
    history: TrainHistory = field(default_factory=TrainHistory)
    start: int = 0
    loss_sum: torch.Tensor | None = None
    n_loss: int = 0
    meter: ProgressLog | None = None

    def __post_init__(self) -> None:
        self.loss_sum = torch.zeros((), device=self.device)

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint written by `save`."""
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.history = TrainHistory(**state["history"])
        self.start = int(state["step"])
        self.loss_sum = state["loss_sum"].to(self.device)
        self.n_loss = int(state["n_loss"])

    def save(self, step: int) -> None:
        """Write the checkpoint after `step` steps (nothing without a checkpoint path)."""
        if self.path is None:
            return
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.opt.state_dict(),
            "step": step,
            "history": self.history.as_dict(),
            "loss_sum": self.loss_sum.detach().cpu(),
            "n_loss": self.n_loss,
        }
        save_checkpoint(state, self.path)

    def train_step(self, k: int) -> None:
        """Adam step on batch k of the sampler (MSE of the increments)."""
        model, device = self.model, self.device
        x, y = self.sampler.batch(k, self.batch_size)
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if self.train_backbone:
            pred = model(x)
        else:
            with torch.no_grad():
                h = model.backbone(x)
            pred = model.head(h)
        loss = F.mse_loss(pred, y)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.loss_sum += loss.detach()
        self.n_loss += 1

    def after_step(self, step: int) -> bool:
        """Record a validation where due; whether a checkpoint is due after `step`."""
        validated = step % self.val_every == 0 or step == self.n_steps
        if validated:
            self.record(step)
            self.loss_sum.zero_()
            self.n_loss = 0
        return validated or bool(self.checkpoint_every and step % self.checkpoint_every == 0)

    def record(self, step: int) -> None:
        """Append the mean training loss since the last record and the validation scores to the
        history, and log them."""
        train_loss = float(self.loss_sum) / max(1, self.n_loss)
        val_mse, val_mae = math.nan, math.nan
        if self.val_pairs is not None:
            val_mse, val_mae = evaluate(
                self.model, *self.val_pairs, batch_size=self.val_batch_size, device=self.device
            )
            self.model.train(self.train_backbone)
            self.model.head.train()
        history = self.history
        history.step.append(step)
        history.train_loss.append(train_loss)
        history.val_loss.append(val_mse)
        history.val_mae.append(val_mae)
        self.log(self.meter.line(step, train_loss=train_loss, val_loss=val_mse, val_mae=val_mae))


def train_surrogate(
    model: SurrogateModel,
    sampler: PairSampler,
    n_steps: int,
    batch_size: int = 16384,
    *,
    learning_rate: float = 5e-5,
    train_backbone: bool = True,
    val_pairs: tuple[torch.Tensor, torch.Tensor] | None = None,
    val_every: int = 500,
    val_batch_size: int = 16384,
    device: torch.device | str | None = None,
    log: Callable[[str], None] | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    checkpoint_every: int | None = None,
    handle_signals: bool = False,
) -> TrainHistory:
    """Train with Adam on the MSE of the increments; the model keeps its last weights.

    Args:
        model: surrogate; moved to ``device`` in place.
        sampler: training pairs; batch k is ``sampler.batch(k, batch_size)`` (seeded).
        n_steps: total optimiser steps (a resumed run continues up to this number).
        batch_size: pairs per step (capped at the number of pairs, as the paper).
        learning_rate: Adam learning rate (default betas, no schedule, no weight decay).
        train_backbone: True = joint training of backbone and head; False = backbone frozen
            (eval mode, no gradient), only the head's parameters are optimised.
        val_pairs: (x, y) validation inputs and increments; evaluated every ``val_every`` steps
            and after the last step.
        log: receives a progress line at each validation (step done/total, rate, ETA, train
            and validation losses) and a line when a checkpoint is resumed.
        checkpoint_path: resumable state (weights, Adam state, step, history, the running loss
            since the last record), written atomically at every validation, every
            ``checkpoint_every`` steps and on SIGTERM/SIGUSR1; an existing one is resumed, so the
            result equals an uninterrupted run's bit for bit on CPU. The caller owns the file
            (`ddmdyn.checkpointing.claim_checkpoint` / `release_checkpoint`).
        checkpoint_every: extra checkpoints every this many steps (None: validations only).
        handle_signals: on SIGTERM/SIGUSR1, checkpoint after the current step and raise
            `ddmdyn.checkpointing.JobInterrupted` (needs ``checkpoint_path``).
    Returns:
        TrainHistory of the validations.
    """
    device = torch.device(device) if device is not None else sampler.device
    model.to(device)
    params = _trainable_parameters(model, train_backbone)
    if handle_signals and checkpoint_path is None:
        raise ValueError("handle_signals needs a checkpoint_path to save the state to")
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    run = _SurrogateTraining(
        model,
        torch.optim.Adam(params, lr=learning_rate),
        sampler,
        int(n_steps),
        batch_size,
        train_backbone,
        val_pairs,
        val_every,
        val_batch_size,
        checkpoint_every,
        device,
        path,
        log or (lambda line: None),
    )
    state = load_checkpoint(path, map_location=device)
    if state is not None:
        run.restore(state)
    if run.start:
        run.log(f"resumed from {path} at step {run.start}")
    run.meter = ProgressLog(run.n_steps, run.log, start=run.start, bar=False)
    run_steps(
        run.start, run.n_steps, run.train_step, run.after_step, run.save, path, handle_signals
    )
    model.eval()
    return run.history


@torch.no_grad()
def fit_ridge(
    backbone: nn.Module,
    sampler: PairSampler,
    batch_size: int = 16384,
    *,
    l2: float = 1e-4,
    max_batches: int | None = None,
    device: torch.device | str | None = None,
) -> SurrogateModel:
    """Frozen backbone + ridge head from one streaming pass over the sampler's pairs.

    Pairs are visited once in id order (corruption applied if the sampler has any); at most
    ``max_batches`` batches. Statistics are float64 on ``device``; the head is solved once.
    """
    device = torch.device(device) if device is not None else sampler.device
    backbone = freeze(backbone).to(device)
    acc = RidgeAccumulator(backbone.n_features, 3, device=device)
    n_batches = sampler.batches_per_epoch(batch_size)
    if max_batches is not None:
        n_batches = min(n_batches, int(max_batches))
    for step in range(n_batches):
        x, y = sampler.batch(step, batch_size, shuffle=False)
        x = x.to(device, non_blocking=True)
        acc.update(backbone(x), y.to(device, non_blocking=True))
    head = acc.solve(l2).to(device)
    return SurrogateModel(backbone, head).eval()
