"""Training loop of the diffusion model (docs/decisions.md, E8, D1, D2).

- Adam (lr 3e-4, default betas), no schedule, no clipping; per batch t ~ U{1..T}, eps ~ N(0, I).
- Each epoch visits the training states in a fresh random order; the last batch of an epoch is
  smaller (not dropped), as in the paper's DataLoader.
- Randomness comes only from CPU ``torch.Generator`` objects seeded from ``cfg.seed`` (seed 0 is a
  real seed) and is then moved to the device: epoch permutations from a generator seeded by
  (seed, epoch); (t, eps) from one training stream; validation subsets, t and eps from one
  validation stream. Their states are checkpointed, so a resumed run is bitwise identical to an
  uninterrupted one on CPU.
- EMA of the full state dict with decay 0.999, updated after every optimiser step. Unlike the
  paper's callback (initialised at zeros, no bias correction), the EMA is initialised at the initial
  weights, so EMA weights are usable after the few steps of quick presets.
- Validation every ``val_every`` steps (and at the last step) with the EMA weights on
  ``val_batches`` random batches of the validation states (stochastic loss, as in the paper).
- Checkpoints every ``checkpoint_every`` steps and at the end, written atomically; an existing
  checkpoint is resumed. SIGTERM/SIGUSR1 trigger a checkpoint at the end of the current step and
  raise `TrainingInterrupted`. A non-finite loss raises `NonFiniteLossError` before any further
  checkpoint is written.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch

from ..checkpointing import JobInterrupted, SignalCatcher
from ..io import save_torch
from ..progress import ProgressLog
from .heads import make_head
from .model import DiffusionModel
from .network import DenseResidualDenoiser
from .schedules import make_schedule

__all__ = [
    "DiffusionTrainConfig",
    "NonFiniteLossError",
    "TrainingInterrupted",
    "TrainingResult",
    "build_model",
    "train_diffusion",
]

#: Config fields that may change between a checkpoint and its resumption.
_RESUMABLE_CHANGES = ("n_steps", "log_every", "checkpoint_every")


#: Arithmetic of the training forward pass: plain float32 (the paper), or bfloat16 mixed
#: precision (torch.autocast: matmuls in bfloat16; weights, optimiser, residual stream and loss
#: in float32). Validation always runs in float32.
PRECISIONS = ("float32", "bfloat16")


def check_precision(precision: str) -> None:
    """Raise ValueError unless `precision` is one of `PRECISIONS`."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


def training_autocast(device: torch.device, precision: str) -> contextlib.AbstractContextManager:
    """Context of a training forward pass at `precision` (one of `PRECISIONS`) on `device`."""
    check_precision(precision)
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


@dataclass
class DiffusionTrainConfig:
    """Hyper-parameters of one diffusion training run (defaults = the paper's velocity_cos)."""

    head: str = "velocity"
    schedule: str = "cosine"
    loss: str = "mse"
    timesteps: int = 1000
    hidden: int = 256
    n_blocks: int = 3
    emb_dim: int = 512
    learning_rate: float = 3e-4
    batch_size: int = 16384
    n_steps: int = 97700
    ema_decay: float = 0.999
    val_every: int = 500
    val_batches: int = 16
    checkpoint_every: int = 1000
    seed: int = 0
    log_every: int = 100
    precision: str = "float32"

    def __post_init__(self) -> None:
        check_precision(self.precision)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> DiffusionTrainConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass
class TrainingResult:
    """Outcome of `train_diffusion`: final raw and EMA state dicts (CPU) and the history.

    history: {'step': [...], 'train_loss': [...], 'val_loss': [...] (NaN where not validated),
    'wall_time': [...] seconds since the start of training, summed over resumptions}.
    """

    raw_state: dict[str, torch.Tensor]
    ema_state: dict[str, torch.Tensor]
    history: dict[str, list] = field(default_factory=dict)
    config: DiffusionTrainConfig | None = None
    steps: int = 0


TrainingInterrupted = JobInterrupted  # the name callers of the training know


class NonFiniteLossError(FloatingPointError):
    """Raised when the training loss becomes NaN or infinite."""


def build_model(cfg: DiffusionTrainConfig, n_dim: int = 3) -> DiffusionModel:
    """Fresh `DiffusionModel` (network with PyTorch default init) for a config."""
    net = DenseResidualDenoiser(
        n_dim=n_dim, hidden=cfg.hidden, n_blocks=cfg.n_blocks, emb_dim=cfg.emb_dim
    )
    return DiffusionModel(net, make_schedule(cfg.schedule, cfg.timesteps), make_head(cfg.head))


def _make_adam(net: torch.nn.Module, lr: float) -> torch.optim.Adam:
    """Adam with default betas; the fused kernel where available (one kernel for all tensors)."""
    try:
        return torch.optim.Adam(net.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # older torch / unsupported device
        return torch.optim.Adam(net.parameters(), lr=lr)


def _derived_seed(seed: int, *keys: int) -> int:
    """63-bit seed for a torch.Generator from (seed, keys...) via numpy's SeedSequence."""
    entropy = [int(seed) % 2**64, *(int(k) for k in keys)]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> np.uint64(1))


_STREAM_INIT, _STREAM_TRAIN, _STREAM_VAL, _STREAM_PERM = 0, 1, 2, 3


def _clone_state(sd: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in sd.items()}


def _validate(model, ema_net, val_data, cfg, gen_val, device) -> float:
    """Stochastic validation loss with the EMA weights (mean over the drawn validation samples)."""
    n_val = val_data.shape[0]
    n_use = min(n_val, cfg.val_batches * cfg.batch_size)
    perm = torch.randperm(n_val, generator=gen_val)[:n_use]
    T = model.schedule.timesteps
    raw_net = model.network
    model.network = ema_net
    total = 0.0
    try:
        with torch.no_grad():
            for i in range(0, n_use, cfg.batch_size):
                idx = perm[i : i + cfg.batch_size]
                t = torch.randint(1, T + 1, (idx.numel(),), generator=gen_val)
                eps = torch.randn((idx.numel(), val_data.shape[1]), generator=gen_val)
                x0 = val_data[idx.to(val_data.device)]
                loss = model.loss(x0, t.to(device), eps.to(device), cfg.loss)
                total += float(loss) * idx.numel()
    finally:
        model.network = raw_net
    return total / n_use


def train_diffusion(
    cfg: DiffusionTrainConfig,
    train_states: np.ndarray,
    val_states: np.ndarray,
    checkpoint_path: str | os.PathLike,
    device: str | torch.device = "cpu",
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    handle_signals: bool = True,
) -> TrainingResult:
    """Train a diffusion model on normalised states, resuming from `checkpoint_path` if it exists.

    Args:
        cfg: hyper-parameters.
        train_states: (N, D) float32 normalised training states (kept on `device`).
        val_states: (M, D) float32 normalised validation states.
        checkpoint_path: resumable training checkpoint (torch file, weights_only-loadable).
        device: torch device for the model and data.
        progress: an interactive bar on stderr when stderr is a terminal (never in a log file).
        log: callable receiving a progress line (step done/total, rate, ETA, loss) every
            cfg.log_every steps and at validations.
        handle_signals: catch SIGTERM/SIGUSR1 -> checkpoint -> `TrainingInterrupted`.

    Returns:
        `TrainingResult` with CPU copies of the final raw and EMA weights and the full history.
    """
    device = torch.device(device)
    path = Path(checkpoint_path)
    log = log or (lambda msg: None)
    train_data = torch.as_tensor(np.asarray(train_states, dtype=np.float32)).to(device)
    val_data = torch.as_tensor(np.asarray(val_states, dtype=np.float32)).to(device)
    N, D = train_data.shape
    if N == 0 or val_data.shape[0] == 0:
        raise ValueError("training and validation sets must not be empty")
    T = cfg.timesteps
    batches_per_epoch = math.ceil(N / cfg.batch_size)

    with torch.random.fork_rng(devices=[]):  # seeded initialisation, caller's RNG untouched
        torch.manual_seed(_derived_seed(cfg.seed, _STREAM_INIT))
        model = build_model(cfg, n_dim=D).to(device)
    net = model.network
    opt = _make_adam(net, cfg.learning_rate)
    ema_net = copy.deepcopy(net).requires_grad_(False)
    gen_train = torch.Generator().manual_seed(_derived_seed(cfg.seed, _STREAM_TRAIN))
    gen_val = torch.Generator().manual_seed(_derived_seed(cfg.seed, _STREAM_VAL))
    history: dict[str, list] = {"step": [], "train_loss": [], "val_loss": [], "wall_time": []}
    step, elapsed_before = 0, 0.0

    if path.exists():
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        old = DiffusionTrainConfig.from_dict(ckpt["config"])
        diff = [
            f.name
            for f in fields(cfg)
            if f.name not in _RESUMABLE_CHANGES and getattr(cfg, f.name) != getattr(old, f.name)
        ]
        if diff:
            raise ValueError(f"checkpoint {path} was written with a different config ({diff})")
        net.load_state_dict(ckpt["raw_state"])
        ema_net.load_state_dict(ckpt["ema_state"])
        opt.load_state_dict(ckpt["optimizer"])
        gen_train.set_state(ckpt["gen_train"])
        gen_val.set_state(ckpt["gen_val"])
        history = {k: list(v) for k, v in ckpt["history"].items()}
        step = int(ckpt["step"])
        elapsed_before = float(ckpt["elapsed"])
        log(f"resumed from {path} at step {step}")

    params, ema_params = list(net.parameters()), list(ema_net.parameters())
    t_start = time.perf_counter()
    pending: list[tuple[int, torch.Tensor]] = []  # (step, loss) not yet checked on host
    perm_epoch, perm = -1, None

    def elapsed() -> float:
        return elapsed_before + time.perf_counter() - t_start

    def flush() -> None:
        """Move pending losses to the host, check them, append them to the history."""
        if not pending:
            return
        values = torch.stack([v for _, v in pending]).cpu().tolist()
        now = elapsed()
        for (s, _), v in zip(pending, values, strict=True):
            if not math.isfinite(v):
                pending.clear()
                raise NonFiniteLossError(
                    f"non-finite training loss {v} at step {s}; the last "
                    f"good checkpoint ({path}) was left untouched"
                )
            history["step"].append(s)
            history["train_loss"].append(v)
            history["val_loss"].append(float("nan"))
            history["wall_time"].append(now)
        pending.clear()

    def save_checkpoint() -> None:
        flush()
        save_torch(
            {
                "step": step,
                "raw_state": _clone_state(net.state_dict()),
                "ema_state": _clone_state(ema_net.state_dict()),
                "optimizer": opt.state_dict(),
                "gen_train": gen_train.get_state(),
                "gen_val": gen_val.get_state(),
                "history": history,
                "elapsed": elapsed(),
                "config": cfg.to_dict(),
            },
            path,
            checksum=False,
        )

    meter = ProgressLog(
        cfg.n_steps, log, start=min(step, cfg.n_steps), bar=None if progress else False
    )
    net.train()
    with SignalCatcher(handle_signals) as sig, meter:
        while step < cfg.n_steps:
            epoch, b = divmod(step, batches_per_epoch)
            if epoch != perm_epoch:
                g = torch.Generator().manual_seed(_derived_seed(cfg.seed, _STREAM_PERM, epoch))
                perm = torch.randperm(N, generator=g).to(device)
                perm_epoch = epoch
            idx = perm[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            n_b = idx.numel()
            t = torch.randint(1, T + 1, (n_b,), generator=gen_train)
            eps = torch.randn((n_b, D), generator=gen_train)
            with training_autocast(device, cfg.precision):
                loss = model.loss(train_data[idx], t.to(device), eps.to(device), cfg.loss)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                torch._foreach_lerp_(ema_params, params, 1.0 - cfg.ema_decay)
            step += 1
            pending.append((step, loss.detach()))
            meter.move_bar(step)

            validated = step % cfg.val_every == 0 or step == cfg.n_steps
            if validated or step % cfg.log_every == 0 or step % cfg.checkpoint_every == 0:
                flush()
            if validated:
                val = _validate(model, ema_net, val_data, cfg, gen_val, device)
                history["val_loss"][-1] = val
            if step % cfg.log_every == 0 or validated:
                scores = {"train_loss": history["train_loss"][-1]}
                if validated:
                    scores["val_loss(ema)"] = history["val_loss"][-1]
                log(meter.line(step, **scores))
            if step % cfg.checkpoint_every == 0 or step == cfg.n_steps:
                save_checkpoint()
            if sig.received is not None:
                save_checkpoint()
                raise TrainingInterrupted(step, sig.received, path)
    flush()
    return TrainingResult(
        raw_state=_clone_state(net.state_dict()),
        ema_state=_clone_state(ema_net.state_dict()),
        history=history,
        config=cfg,
        steps=step,
    )
