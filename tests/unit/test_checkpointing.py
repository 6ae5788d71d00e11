"""The resumable-training skeleton (`ddmdyn.checkpointing.run_steps`, `load_checkpoint`,
`save_checkpoint`) on a toy training: a random walk driven by a checkpointed generator."""

from __future__ import annotations

import os
import signal

import pytest
import torch

from ddmdyn.checkpointing import JobInterrupted, load_checkpoint, run_steps, save_checkpoint


class ToyTraining:
    """x += a random draw per step; checkpoint every 4 steps; SIGTERM to itself at `kill_at`."""

    def __init__(self, path, kill_at: int | None = None) -> None:
        self.path, self.kill_at = path, kill_at
        self.gen = torch.Generator().manual_seed(7)
        self.x = torch.zeros(3)
        self.step = 0
        self.saves: list[int] = []
        state = load_checkpoint(path)
        if state is not None:
            self.gen.set_state(state["gen"])
            self.x, self.step = state["x"], state["step"]

    def train_step(self, k: int) -> None:
        assert k == self.step, "steps run in order from the resumed one"
        self.x = self.x + torch.randn(3, generator=self.gen)
        self.step = k + 1
        if self.step == self.kill_at:
            os.kill(os.getpid(), signal.SIGTERM)

    def after_step(self, step: int) -> bool:
        return step % 4 == 0

    def save(self, step: int) -> None:
        self.saves.append(step)
        save_checkpoint({"step": step, "x": self.x, "gen": self.gen.get_state()}, self.path)

    def run(self, n_steps: int, handle_signals: bool = True) -> None:
        run_steps(
            self.step,
            n_steps,
            self.train_step,
            self.after_step,
            self.save,
            self.path,
            handle_signals,
        )


def test_checkpoints_when_due_and_a_fresh_run_has_none(tmp_path):
    path = tmp_path / "ckpt.pt"
    assert load_checkpoint(path) is None and load_checkpoint(None) is None
    toy = ToyTraining(path)
    toy.run(10)
    assert toy.saves == [4, 8] and load_checkpoint(path)["step"] == 8


def test_sigterm_checkpoints_after_the_step_and_the_retry_equals_an_uninterrupted_run(tmp_path):
    plain = ToyTraining(tmp_path / "plain.pt")
    plain.run(12)

    path = tmp_path / "killed.pt"
    killed = ToyTraining(path, kill_at=6)
    with pytest.raises(JobInterrupted) as info:
        killed.run(12)
    assert info.value.step == 6 and info.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    assert killed.saves == [4, 6] and load_checkpoint(path)["step"] == 6

    retry = ToyTraining(path)
    assert retry.step == 6
    retry.run(12)
    assert retry.saves == [8, 12]
    assert torch.equal(retry.x, plain.x)
    assert torch.equal(retry.gen.get_state(), plain.gen.get_state())


def test_a_signal_on_a_due_step_saves_again_and_a_finished_run_does_nothing(tmp_path):
    path = tmp_path / "ckpt.pt"
    toy = ToyTraining(path, kill_at=4)
    with pytest.raises(JobInterrupted):
        toy.run(12)
    assert toy.saves == [4, 4]
    done = ToyTraining(path)
    done.run(4)  # resumed at its last step: no step, no save
    assert done.saves == [] and done.step == 4
