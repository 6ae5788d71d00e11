"""A diffusion training interrupted on the real scheduler resumes from its checkpoint on the retry.

One training job (rule train_diffusion, made long enough to interrupt by a config edit) runs
through the SLURM executor with a profile derived from profiles/slurm (``retries: 1``). Once its
first periodic checkpoint exists the job receives SIGTERM, as at a time limit or on preemption,
in one of two ways:

- ``steps``: ``scancel --signal=TERM JOB`` signals the job steps only (what ``--signal=TERM@N``
  does N seconds before a time limit). The training catches it, checkpoints at the end of the
  current step and fails; the retry must resume at exactly that step.
- ``full``: ``scancel --signal=TERM --full JOB`` also signals the batch step, where ``srun`` then
  kills the training step with SIGKILL ("srun: forcing job termination") before it can write its
  interruption checkpoint; the retry must still resume, from the last periodic checkpoint.

Either way the retry must resume (step N > 0) and end with weights bitwise equal to an
uninterrupted local run of the same config.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from tests.scheduler.test_slurm import derived_profile, slurm_cluster  # noqa: F401
from tests.smk import ROOT, TINY, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow, pytest.mark.usefixtures("slurm_cluster")]

VARIANT, SEED = "velocity_cos", 0
N_STEPS = 3000
TARGET = f"results/diffusion/{VARIANT}/{SEED}/model.pt"
CHECKPOINT = f"results/checkpoints/diffusion/{VARIANT}/{SEED}/state.pt"
JOB_LOG = f"results/logs/diffusion/{VARIANT}/{SEED}.log"
EDIT = {
    "diffusion": {
        "variants": [VARIANT],
        "seeds": [SEED],
        "network": {"hidden": 16},
        "training": {"n_steps": N_STEPS, "checkpoint_every": 100, "val_every": 1000},
    }
}
RUN_TIMEOUT_S = 900


def _write_edit(folder: Path) -> Path:
    path = folder / "long_training.yaml"
    path.write_text(yaml.safe_dump(EDIT))
    return path


def _slurm_jobs_of(log: Path) -> list[str]:
    """The SLURM job ids a job log records, one per attempt (the log is appended to)."""
    jobs = re.findall(r"SLURM job (\d+)", log.read_text())
    assert jobs, f"{log} records no SLURM job id:\n{log.read_text()[-2000:]}"
    return jobs


def _slurm_job_of(log: Path) -> str:
    """The SLURM job id of the latest attempt that a job log records."""
    return _slurm_jobs_of(log)[-1]


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"snakemake ended before {path} appeared:\n{out[-3000:]}\n{err[-6000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} did not appear within {timeout_s} s")
        time.sleep(0.2)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # snakemake cancels its SLURM jobs on SIGINT
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _weights(workdir: Path) -> dict[str, dict[str, torch.Tensor]]:
    blob = torch.load(workdir / TARGET, map_location="cpu", weights_only=True)
    return {"raw": blob["raw"], "ema": blob["ema"]}


@pytest.fixture(scope="module")
def local_reference(tmp_path_factory) -> Path:
    """The same training, uninterrupted, run locally."""
    base = tmp_path_factory.mktemp("resume_local")
    edit = _write_edit(base)
    work = base / "work"
    snakemake(
        "--configfile", str(TINY), str(edit), "--cores", "1", TARGET,
        workdir=work, timeout=RUN_TIMEOUT_S,
    )  # fmt: skip
    return work


def start_with_one_retry(base: Path, edit: Path, target: str) -> tuple[subprocess.Popen, Path]:
    """Start Snakemake on the tiny preset plus `edit` for `target` in the background, through the
    SLURM executor with a profile derived from profiles/slurm that retries a failed job once
    (``retries: 1``); returns (the process, its workdir base / "work")."""
    profile = derived_profile(base / "profile")
    settings = yaml.safe_load((profile / "config.yaml").read_text())
    settings["retries"] = 1
    (profile / "config.yaml").write_text(yaml.safe_dump(settings))
    work = base / "work"
    cmd = [
        sys.executable, "-m", "snakemake", "--profile", str(profile),
        "--configfile", str(TINY), str(edit), "--directory", str(work), target,
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    return proc, work


def _interrupt(tmp_path_factory, mode: str) -> tuple[Path, str]:
    """Run through SLURM, SIGTERM the training job once it has a checkpoint; returns (workdir,
    id of the interrupted job)."""
    base = tmp_path_factory.mktemp(f"resume_slurm_{mode}")
    proc, work = start_with_one_retry(base, _write_edit(base), TARGET)
    try:
        _wait_for(work / CHECKPOINT, proc, timeout_s=RUN_TIMEOUT_S)
        job = _slurm_job_of(work / JOB_LOG)
        full = ["--full"] if mode == "full" else []
        subprocess.run(["scancel", "--signal=TERM", *full, job], check=True, timeout=60)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        _stop(proc)
    assert proc.returncode == 0, f"snakemake failed:\n{out[-3000:]}\n{err[-8000:]}"
    return work, job


@pytest.fixture(scope="module")
def steps_run(tmp_path_factory) -> tuple[Path, str]:
    return _interrupt(tmp_path_factory, "steps")


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> tuple[Path, str]:
    return _interrupt(tmp_path_factory, "full")


@pytest.fixture(params=["steps_run", "full_run"])
def interrupted_run(request) -> tuple[Path, str]:
    return request.getfixturevalue(request.param)


def _resumed_step(work: Path) -> int:
    text = (work / JOB_LOG).read_text()  # rewritten by the retry
    m = re.search(r"resumed from (\S+) at step (\d+)", text)
    assert m, f"the retry started over instead of resuming:\n{text[-4000:]}"
    assert m.group(1).endswith(CHECKPOINT)
    assert f"step {N_STEPS}/{N_STEPS}" in text
    return int(m.group(2))


def test_retry_is_a_new_job_that_resumed(interrupted_run) -> None:
    work, job = interrupted_run
    attempts = _slurm_jobs_of(work / JOB_LOG)
    assert attempts[-1] != job, f"the retry should be a new SLURM job: {attempts}"
    if "resume_slurm_steps" in str(work):
        # a SIGTERM the job survives long enough to log: its lines stay above the retry's
        assert attempts[0] == job, f"the failed attempt's log was lost: {attempts}"
    assert 0 < _resumed_step(work) < N_STEPS
    assert not (work / CHECKPOINT).exists(), "a finished run's checkpoint should be removed"


def test_steps_signal_checkpoints_at_the_signal(steps_run) -> None:
    work, job = steps_run
    # the training is a (one-job) group job: its log sits under group_<name>/, not rule_<name>/
    logs = list((work / ".snakemake" / "slurm_logs").rglob(f"{job}.log"))
    assert len(logs) == 1, logs
    text = logs[0].read_text()
    m = re.search(r"training interrupted by signal (\d+) after step (\d+)", text)
    assert m, f"the interrupted job did not checkpoint on SIGTERM:\n{text[-4000:]}"
    assert int(m.group(1)) == signal.SIGTERM
    assert _resumed_step(work) == int(m.group(2)), "the retry lost steps"


def test_resumed_weights_equal_an_uninterrupted_local_run(interrupted_run, local_reference):
    work, _ = interrupted_run
    resumed, reference = _weights(work), _weights(local_reference)
    assert "resumed from" not in (local_reference / JOB_LOG).read_text()
    for kind in ("raw", "ema"):
        assert resumed[kind].keys() == reference[kind].keys()
        for name, tensor in reference[kind].items():
            assert torch.equal(resumed[kind][name], tensor), f"{kind} {name} differs"
