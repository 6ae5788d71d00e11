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
  raise `ddmdyn.checkpointing.JobInterrupted`. A non-finite loss raises `NonFiniteLossError`
  before any further checkpoint is written.
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

from ..checkpointing import load_checkpoint, run_steps, save_checkpoint
from ..progress import ProgressLog
from .heads import make_head
from .model import DiffusionModel
from .network import DenseResidualDenoiser
from .schedules import make_schedule

__all__ = [
    "DiffusionTrainConfig",
    "NonFiniteLossError",
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


def _check_resumable(cfg: DiffusionTrainConfig, saved: dict, path: Path) -> None:
    """Raise ValueError unless the checkpoint's config differs from `cfg` only in the fields
    that may change between runs (`_RESUMABLE_CHANGES`)."""
    old = DiffusionTrainConfig.from_dict(saved)
    diff = [
        f.name
        for f in fields(cfg)
        if f.name not in _RESUMABLE_CHANGES and getattr(cfg, f.name) != getattr(old, f.name)
    ]
    if diff:
        raise ValueError(f"checkpoint {path} was written with a different config ({diff})")


class _DiffusionTraining:
    """The state of one diffusion training run and its steps, for `checkpointing.run_steps`.

    Holds the model, its EMA copy, the optimiser, the random streams, the history and the
    losses not yet checked on the host; `checkpoint` / `restore` move all of it to and from a
    checkpoint.
    """

    def __init__(
        self,
        cfg: DiffusionTrainConfig,
        train_data: torch.Tensor,
        val_data: torch.Tensor,
        device: torch.device,
        path: Path,
        log: Callable[[str], None],
    ) -> None:
        self.cfg, self.device, self.path, self.log = cfg, device, path, log
        self.train_data, self.val_data = train_data, val_data
        n_dim = train_data.shape[1]
        with torch.random.fork_rng(devices=[]):  # seeded initialisation, caller's RNG untouched
            torch.manual_seed(_derived_seed(cfg.seed, _STREAM_INIT))
            self.model = build_model(cfg, n_dim=n_dim).to(device)
        self.net = self.model.network
        self.opt = _make_adam(self.net, cfg.learning_rate)
        self.ema_net = copy.deepcopy(self.net).requires_grad_(False)
        self.gen_train = torch.Generator().manual_seed(_derived_seed(cfg.seed, _STREAM_TRAIN))
        self.gen_val = torch.Generator().manual_seed(_derived_seed(cfg.seed, _STREAM_VAL))
        self.history: dict[str, list] = {
            "step": [],
            "train_loss": [],
            "val_loss": [],
            "wall_time": [],
        }
        self.step, self.elapsed_before = 0, 0.0
        self.batches_per_epoch = math.ceil(train_data.shape[0] / cfg.batch_size)
        self.meter: ProgressLog | None = None
        self._pending: list[tuple[int, torch.Tensor]] = []  # (step, loss) not yet on the host
        self._perm_epoch, self._perm = -1, None
        self._params = list(self.net.parameters())
        self._ema_params = list(self.ema_net.parameters())
        self._t_start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds of training, summed over resumptions."""
        return self.elapsed_before + time.perf_counter() - self._t_start

    def restore(self, ckpt: dict) -> None:
        """Continue from a checkpoint written by `checkpoint` (its config checked first)."""
        _check_resumable(self.cfg, ckpt["config"], self.path)
        self.net.load_state_dict(ckpt["raw_state"])
        self.ema_net.load_state_dict(ckpt["ema_state"])
        self.opt.load_state_dict(ckpt["optimizer"])
        self.gen_train.set_state(ckpt["gen_train"])
        self.gen_val.set_state(ckpt["gen_val"])
        self.history = {k: list(v) for k, v in ckpt["history"].items()}
        self.step = int(ckpt["step"])
        self.elapsed_before = float(ckpt["elapsed"])
        self.log(f"resumed from {self.path} at step {self.step}")
        self._t_start = time.perf_counter()

    def checkpoint(self) -> dict:
        """Everything a resumed run needs to continue bit for bit."""
        self.flush()
        return {
            "step": self.step,
            "raw_state": _clone_state(self.net.state_dict()),
            "ema_state": _clone_state(self.ema_net.state_dict()),
            "optimizer": self.opt.state_dict(),
            "gen_train": self.gen_train.get_state(),
            "gen_val": self.gen_val.get_state(),
            "history": self.history,
            "elapsed": self.elapsed(),
            "config": self.cfg.to_dict(),
        }

    def save(self, step: int) -> None:
        """Write the checkpoint after `step` (= `self.step`) steps."""
        save_checkpoint(self.checkpoint(), self.path)

    def _batch_indices(self, k: int) -> torch.Tensor:
        """Indices of batch k: the epoch's seeded permutation, cut into batches (last smaller)."""
        epoch, b = divmod(k, self.batches_per_epoch)
        if epoch != self._perm_epoch:
            g = torch.Generator().manual_seed(_derived_seed(self.cfg.seed, _STREAM_PERM, epoch))
            self._perm = torch.randperm(self.train_data.shape[0], generator=g).to(self.device)
            self._perm_epoch = epoch
        bs = self.cfg.batch_size
        return self._perm[b * bs : (b + 1) * bs]

    def train_step(self, k: int) -> None:
        """Optimiser step k + 1 on a batch with fresh (t, eps), then the EMA update."""
        cfg, device = self.cfg, self.device
        idx = self._batch_indices(k)
        n_b = idx.numel()
        t = torch.randint(1, cfg.timesteps + 1, (n_b,), generator=self.gen_train)
        eps = torch.randn((n_b, self.train_data.shape[1]), generator=self.gen_train)
        with training_autocast(device, cfg.precision):
            loss = self.model.loss(self.train_data[idx], t.to(device), eps.to(device), cfg.loss)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(self._ema_params, self._params, 1.0 - cfg.ema_decay)
        self.step = k + 1
        self._pending.append((self.step, loss.detach()))
        self.meter.move_bar(self.step)

    def after_step(self, step: int) -> bool:
        """Validate, record and log where due; whether a checkpoint is due after `step`."""
        cfg = self.cfg
        validated = step % cfg.val_every == 0 or step == cfg.n_steps
        if validated or step % cfg.log_every == 0 or step % cfg.checkpoint_every == 0:
            self.flush()
        if validated:
            val = _validate(self.model, self.ema_net, self.val_data, cfg, self.gen_val, self.device)
            self.history["val_loss"][-1] = val
        if step % cfg.log_every == 0 or validated:
            scores = {"train_loss": self.history["train_loss"][-1]}
            if validated:
                scores["val_loss(ema)"] = self.history["val_loss"][-1]
            self.log(self.meter.line(step, **scores))
        return step % cfg.checkpoint_every == 0 or step == cfg.n_steps

    def flush(self) -> None:
        """Move pending losses to the host, check them, append them to the history."""
        pending = self._pending
        if not pending:
            return
        values = torch.stack([v for _, v in pending]).cpu().tolist()
        now = self.elapsed()
        for (s, _), v in zip(pending, values, strict=True):
            if not math.isfinite(v):
                pending.clear()
                raise NonFiniteLossError(
                    f"non-finite training loss {v} at step {s}; the last "
                    f"good checkpoint ({self.path}) was left untouched"
                )
            self.history["step"].append(s)
            self.history["train_loss"].append(v)
            self.history["val_loss"].append(float("nan"))
            self.history["wall_time"].append(now)
        pending.clear()

    def result(self) -> TrainingResult:
        self.flush()
        return TrainingResult(
            raw_state=_clone_state(self.net.state_dict()),
            ema_state=_clone_state(self.ema_net.state_dict()),
            history=self.history,
            config=self.cfg,
            steps=self.step,
        )


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
        handle_signals: catch SIGTERM/SIGUSR1 -> checkpoint -> raise
            `ddmdyn.checkpointing.JobInterrupted`.

    Returns:
        `TrainingResult` with CPU copies of the final raw and EMA weights and the full history.
    """
    device = torch.device(device)
    path = Path(checkpoint_path)
    log = log or (lambda msg: None)
    train_data = torch.as_tensor(np.asarray(train_states, dtype=np.float32)).to(device)
    val_data = torch.as_tensor(np.asarray(val_states, dtype=np.float32)).to(device)
    if train_data.shape[0] == 0 or val_data.shape[0] == 0:
        raise ValueError("training and validation sets must not be empty")
    run = _DiffusionTraining(cfg, train_data, val_data, device, path, log)
    ckpt = load_checkpoint(path)
    if ckpt is not None:
        run.restore(ckpt)
    start = run.step
    run.meter = ProgressLog(
        cfg.n_steps, log, start=min(start, cfg.n_steps), bar=None if progress else False
    )
    run.net.train()
    with run.meter:
        run_steps(
            start, cfg.n_steps, run.train_step, run.after_step, run.save, path, handle_signals
        )
    return run.result()
