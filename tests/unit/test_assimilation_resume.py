"""Cycled DA survives a time limit: SIGTERM -> checkpoint -> resumed run equal bit for bit."""

from __future__ import annotations

import dataclasses
import os
import signal

import numpy as np
import pytest

from ddmdyn.assimilation import (
    ETKF,
    EnOI,
    GaussianCovarianceSource,
    draw_initial_states,
    make_observations,
    run_cycled_da,
)
from ddmdyn.checkpointing import JobInterrupted
from ddmdyn.dynamics import initial_states, integrate_trajectories, rk4_step
from tests.resources import C_FULL

OBS_EVERY, BURN_IN, CYCLES = 5, 20, 60


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    x0 = integrate_trajectories(initial_states(3, seed=11), 0, n_burn_in=2000)[:, -1]
    return integrate_trajectories(x0, OBS_EVERY * (BURN_IN + CYCLES))  # (3, 401, 3)


def _methods():
    return {
        "etkf": ETKF(4, 1.05, 2.0),  # deterministic analysis, 4 propagated members
        "enoi": EnOI(GaussianCovarianceSource(C_FULL, 10, 1.8, seed=3), 2.0),  # fresh draws
    }


class _TermAtCall:
    """A model step that sends this process SIGTERM on its `at`-th call (a SLURM time limit)."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return rk4_step(x)


def _da_args(truth, method):
    """Positional arguments of run_cycled_da for `method` on `truth`: obs and initial states from
    seed 4, obs every OBS_EVERY steps, BURN_IN + CYCLES cycles."""
    obs = make_observations(truth, 2.0, seed=4)
    init = draw_initial_states(truth, method.n_state, seed=4)
    return (method, truth, obs, OBS_EVERY, BURN_IN, CYCLES, init)


def _assert_results_equal(a, b):
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        np.testing.assert_array_equal(x, y, err_msg=field.name)


@pytest.mark.parametrize("name", ["etkf", "enoi"])
@pytest.mark.parametrize("interrupt_cycle", [7, 33])  # in the burn-in, in the scored cycles
def test_interrupted_and_resumed_run_equals_uninterrupted(truth, tmp_path, name, interrupt_cycle):
    args = _da_args(truth, _methods()[name])
    ref = run_cycled_da(*args)

    ckpt = tmp_path / "da.npz"
    stepper = _TermAtCall(at=interrupt_cycle * OBS_EVERY + 2)  # inside cycle `interrupt_cycle`
    with pytest.raises(JobInterrupted, match=f"after cycle {interrupt_cycle + 1}") as info:
        run_cycled_da(*args, model_step=stepper, checkpoint_path=ckpt, handle_signals=True)
    assert info.value.step == interrupt_cycle + 1 and ckpt.exists()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL

    lines: list[str] = []
    resumed = run_cycled_da(*args, checkpoint_path=ckpt, log=lines.append)
    _assert_results_equal(resumed, ref)
    assert lines[0] == f"resumed from {ckpt} at cycle {interrupt_cycle + 1}"
    assert lines[-1].startswith(f"cycle {BURN_IN + CYCLES}/{BURN_IN + CYCLES} (100.0 %)")


def test_progress_lines_carry_rate_eta_and_the_running_error(truth):
    lines: list[str] = []
    res = run_cycled_da(*_da_args(truth, ETKF(4, 1.05, 2.0)), log=lines.append)
    last = lines[-1]
    assert last.startswith("cycle 80/80 (100.0 %)") and "cycle/s" in last and "ETA 0 s" in last
    # the last line's running analysis nRMSE is the run's pooled analysis nRMSE
    pooled = np.sqrt(np.mean(res.ana_mse / res.scale**2))
    assert f"analysis_nrmse {pooled:.5g}" in last


def test_checkpoint_of_another_shape_is_refused(truth, tmp_path):
    ckpt = tmp_path / "da.npz"
    stepper = _TermAtCall(at=3)
    with pytest.raises(JobInterrupted):
        run_cycled_da(
            *_da_args(truth, ETKF(4, 1.05, 2.0)),
            model_step=stepper,
            checkpoint_path=ckpt,
            handle_signals=True,
        )
    with pytest.raises(ValueError, match="shape"):
        run_cycled_da(*_da_args(truth, ETKF(6, 1.05, 2.0)), checkpoint_path=ckpt)


def test_signals_need_a_checkpoint(truth):
    with pytest.raises(ValueError, match="checkpoint_path"):
        run_cycled_da(
            None,
            truth,
            None,
            OBS_EVERY,
            0,
            1,
            draw_initial_states(truth, 1, seed=0),
            handle_signals=True,
        )


class _Killed(BaseException):
    """Stands for SIGKILL: the process dies mid-cycle without writing anything."""


def test_killed_without_warning_resumes_from_the_last_periodic_checkpoint(truth, tmp_path):
    args = _da_args(truth, ETKF(4, 1.05, 2.0))
    ref = run_cycled_da(*args)

    def dies_in_cycle_50(x, calls=[0]):  # noqa: B006 (a call counter)
        calls[0] += 1
        if calls[0] == 50 * OBS_EVERY + 3:
            raise _Killed
        return rk4_step(x)

    ckpt = tmp_path / "da.npz"
    with pytest.raises(_Killed):
        run_cycled_da(
            *args, model_step=dies_in_cycle_50, checkpoint_path=ckpt, checkpoint_every_s=0
        )
    lines: list[str] = []
    resumed = run_cycled_da(*args, checkpoint_path=ckpt, log=lines.append)
    assert lines[0].endswith("at cycle 50")  # every cycle was checkpointed (interval 0 s)
    _assert_results_equal(resumed, ref)
