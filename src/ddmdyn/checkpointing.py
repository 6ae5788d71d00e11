"""What every resumable long job shares: checkpoint ownership, and SIGTERM -> checkpoint -> exit.

A long job (diffusion or surrogate training, a data-assimilation run) writes its full state to a
checkpoint file every so often and when SLURM warns it of the time limit (``--signal=TERM@300``)
or of a preemption; the retry of the job finds the checkpoint and continues, so its output equals
that of an uninterrupted run bit for bit (on CPU). This module holds the pieces all of them use:

- `claim_checkpoint` / `release_checkpoint`: a checkpoint belongs to one run (a key such as the
  hash of its parameters and inputs); one written for other parameters is discarded, never mixed.
- `SignalCatcher`: records SIGTERM / SIGUSR1 while a loop runs, so the loop can checkpoint at the
  end of the current unit of work and raise `JobInterrupted`.
- `run_steps`, `load_checkpoint`, `save_checkpoint`: the skeleton of a resumable training loop
  (diffusion and surrogate training): steps from the resumed one to the last, a checkpoint when
  the training says one is due and after the step in which a signal arrived.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .io import atomic_write_text, save_torch

__all__ = [
    "JobInterrupted",
    "SignalCatcher",
    "claim_checkpoint",
    "load_checkpoint",
    "release_checkpoint",
    "run_steps",
    "save_checkpoint",
]


class JobInterrupted(RuntimeError):
    """Raised after a checkpoint was written in response to SIGTERM/SIGUSR1.

    Args:
        step: units of work done and saved (optimiser steps, DA cycles).
        signum: the signal received.
        path: the checkpoint written.
        what: the job's kind for the message ("training", "assimilation").
        unit: the unit of `step` for the message ("step", "cycle").
    """

    def __init__(
        self,
        step: int,
        signum: int,
        path: str | os.PathLike,
        what: str = "training",
        unit: str = "step",
    ) -> None:
        super().__init__(
            f"{what} interrupted by signal {signum} after {unit} {step}; "
            f"checkpoint written to {path}"
        )
        self.step, self.signum, self.path = step, signum, path


class SignalCatcher:
    """Records SIGTERM/SIGUSR1 while active (main thread only); restores handlers on exit."""

    SIGNALS = tuple(
        s
        for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGUSR1", None))
        if s is not None
    )

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.received: int | None = None
        self._old: dict[int, object] = {}

    def __enter__(self) -> SignalCatcher:
        if self.enabled:
            for s in self.SIGNALS:
                self._old[s] = signal.signal(s, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        self.received = signum

    def __exit__(self, *exc) -> None:
        for s, h in self._old.items():
            signal.signal(s, h)


def claim_checkpoint(checkpoint_path: str | os.PathLike, key: str, log=print) -> None:
    """Make `checkpoint_path` belong to the run identified by `key` (e.g. a hash of its
    parameters and input data): a checkpoint left by a run with another key is discarded, so a
    resumed run never mixes states of two configurations. The key is kept beside it."""
    path = Path(checkpoint_path)
    keyfile = path.with_name(path.name + ".key")
    if path.exists() and (not keyfile.exists() or keyfile.read_text() != key):
        log(f"discarding checkpoint {path}: written for other parameters or data")
        path.unlink()
    atomic_write_text(keyfile, key)


def release_checkpoint(checkpoint_path: str | os.PathLike) -> None:
    """Remove a finished run's checkpoint and key (the final result is written elsewhere)."""
    path = Path(checkpoint_path)
    for p in (path, path.with_name(path.name + ".key")):
        p.unlink(missing_ok=True)


def load_checkpoint(
    checkpoint_path: str | os.PathLike | None, map_location: Any = "cpu"
) -> dict[str, Any] | None:
    """The training state saved at `checkpoint_path` (`torch.load`, weights only), or None when
    there is no path or no file yet (a fresh run)."""
    if checkpoint_path is None or not Path(checkpoint_path).exists():
        return None
    import torch

    return torch.load(checkpoint_path, map_location=map_location, weights_only=True)


def save_checkpoint(state: dict[str, Any], checkpoint_path: str | os.PathLike) -> None:
    """Write a training state atomically (no checksum sidecar: no other job reads it)."""
    save_torch(state, checkpoint_path, checksum=False)


def run_steps(
    start: int,
    n_steps: int,
    train_step: Callable[[int], None],
    after_step: Callable[[int], bool],
    save: Callable[[int], None],
    checkpoint_path: str | os.PathLike | None,
    handle_signals: bool,
) -> None:
    """The loop of a resumable training: steps `start` .. `n_steps` - 1, checkpointed.

    Each step k calls `train_step(k)` (the optimiser step; k steps are done before it), then
    `after_step(k + 1)` (validation, history, progress lines), which says whether a checkpoint
    is due; if so, `save(k + 1)` writes it. With `handle_signals`, a SIGTERM/SIGUSR1 received
    during a step makes the loop save after that step (again, if it just saved) and raise
    `JobInterrupted`; the retry resumes from that checkpoint, so its result equals an
    uninterrupted run's.
    """
    with SignalCatcher(handle_signals) as signals:
        for k in range(start, n_steps):
            train_step(k)
            done = k + 1
            if after_step(done):
                save(done)
            if signals.received is not None:
                save(done)
                raise JobInterrupted(done, signals.received, checkpoint_path)
