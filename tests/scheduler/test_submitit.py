"""`python -m ddmdyn.cluster`: the profile check, and the Snakemake controller as a SLURM job.

The unit tests (check, the controller's checkpoint, the controller through submitit's in-process
debug executor) need no scheduler. The scheduler tests submit the controller for the tiny data
targets to the real single-node cluster (tests/scheduler/start_slurm.sh) and check that the data
jobs ran as SLURM jobs of their own; one of them also preempts the controller (SIGUSR2, the
signal submitit handles) and checks that it is requeued and finishes the work.
"""

from __future__ import annotations

import os
import pickle
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import submitit
import xarray as xr
import yaml

from ddmdyn import cluster
from tests.scheduler.test_slurm import derived_profile, slurm_cluster  # noqa: F401
from tests.smk import ROOT, TINY

DATA = [f"results/data/{split}.nc" for split in ("train", "validation", "test")]
CONTROLLER_TIMEOUT_S = 900


def _profile(folder: Path, settings: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yaml").write_text(yaml.safe_dump(settings))
    return folder


# --------------------------------------------------------------------------------------------
# check


def test_check_refuses_placeholders(tmp_path, capsys) -> None:
    profile = _profile(
        tmp_path / "p",
        {"executor": "slurm", "default-resources": {"slurm_account": "CHANGE_ME_account"}},
    )
    assert cluster.main(["check", "--profile", str(profile)]) == 1
    err = capsys.readouterr().err
    assert "CHANGE_ME" in err and "default-resources.slurm_account" in err


def test_check_accepts_a_filled_profile(tmp_path, capsys) -> None:
    profile = _profile(
        tmp_path / "p", {"executor": "slurm", "default-resources": {"slurm_partition": "gpu"}}
    )
    (profile / "README").write_text("# CHANGE_ME in a comment or another file is fine\n")
    assert cluster.main(["check", "--profile", str(profile)]) == 0
    assert capsys.readouterr().out.startswith("OK")


def test_check_ignores_placeholders_in_comments(tmp_path) -> None:
    profile = tmp_path / "p"
    profile.mkdir()
    (profile / "config.yaml").write_text("# set CHANGE_ME below\nexecutor: slurm\n")
    assert cluster.profile_placeholders(profile) == []


def test_check_of_the_shipped_profile_fails_until_edited() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ddmdyn.cluster", "check", "--profile", "profiles/slurm"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "set-resources.train_diffusion.slurm_partition" in proc.stderr


def test_check_reports_a_missing_plugin(tmp_path, monkeypatch, capsys) -> None:
    profile = _profile(tmp_path / "p", {"executor": "slurm"})
    real = cluster.importlib.import_module

    def fake(name: str, *args, **kwargs):
        if name == cluster.PLUGIN_MODULE:
            raise ModuleNotFoundError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(cluster.importlib, "import_module", fake)
    assert cluster.main(["check", "--profile", str(profile)]) == 1
    err = capsys.readouterr().err
    assert "snakemake-executor-plugin-slurm is not importable" in err
    assert "pip install snakemake-executor-plugin-slurm" in err


def test_controller_refuses_placeholders_before_submitting(tmp_path, monkeypatch) -> None:
    profile = _profile(tmp_path / "p", {"default-resources": {"slurm_partition": "CHANGE_ME"}})

    def no_submission(*args, **kwargs):
        raise AssertionError("submitted despite placeholders")

    monkeypatch.setattr(cluster, "submit_controller", no_submission)
    assert cluster.main(["controller", "--profile", str(profile), "--", "-n"]) == 1


# --------------------------------------------------------------------------------------------
# the controller without a scheduler


class _FakeSnakemake(cluster.SnakemakeController):
    """A controller whose "Snakemake" is a given Python snippet."""

    child = ""

    def command(self, *extra: str) -> list[str]:
        return [sys.executable, "-c", self.child]


class _Requeued(Exception):
    """Stands for submitit leaving the job after a checkpoint (it exits the process)."""


@pytest.mark.timeout(300)
def test_checkpoint_in_a_signal_handler_stops_snakemake_and_requeues(tmp_path) -> None:
    """As in a submitit job: while the controller waits for Snakemake, a signal handler calls
    checkpoint(), which must stop the child (SIGINT) and return a picklable resubmission."""
    ready, interrupted = tmp_path / "ready", tmp_path / "interrupted"
    child = (
        "import signal, sys, time\n"
        "def stop(*_):\n"
        f"    open({str(interrupted)!r}, 'w').close(); sys.exit(3)\n"
        "signal.signal(signal.SIGINT, stop)\n"
        f"open({str(ready)!r}, 'w').close()\n"
        "time.sleep(300)\n"
    )
    ctl = _FakeSnakemake("profiles/slurm", ["--configfile", "x.yaml"], cwd=str(tmp_path))
    ctl.child = child
    delayed: list = []

    def handler(signum, frame):
        delayed.append(ctl.checkpoint())
        raise _Requeued

    def send_when_ready() -> None:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGUSR2)

    old = signal.signal(signal.SIGUSR2, handler)
    try:
        threading.Thread(target=send_when_ready, daemon=True).start()
        with pytest.raises(_Requeued):
            ctl()
    finally:
        signal.signal(signal.SIGUSR2, old)
    assert interrupted.exists(), "Snakemake did not get SIGINT"
    assert isinstance(delayed[0], submitit.helpers.DelayedSubmission)
    restored = pickle.loads(pickle.dumps(delayed[0]))
    assert isinstance(restored.function, cluster.SnakemakeController)
    assert restored.function.snakemake_args == ["--configfile", "x.yaml"]
    assert restored.function.starts == 1 and restored.function._proc is None
    assert not restored.function._stopped


def test_child_ignores_the_requeue_signal() -> None:
    """SIGUSR2 (sent by SLURM to the whole job step) must not kill Snakemake."""
    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(2)"],
        stdout=subprocess.PIPE, text=True, preexec_fn=cluster._ignore_requeue_signal,
    )  # fmt: skip
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGUSR2)
    assert proc.wait(timeout=60) == 0


def test_controller_runs_snakemake_through_submitit(tmp_path) -> None:
    """The controller callable, run by submitit's in-process debug executor, runs Snakemake."""
    profile = _profile(tmp_path / "local_profile", {"cores": 1})
    executor = submitit.AutoExecutor(folder=tmp_path / "logs", cluster="debug")
    args = ["--configfile", str(TINY), "--directory", str(tmp_path / "work"), "-n", DATA[-1]]
    job = cluster.submit_controller(str(profile), args, executor=executor)
    assert job.result() == 0


# --------------------------------------------------------------------------------------------
# the controller on the real scheduler


def _controller(profile: Path, base: Path, *extra: str) -> subprocess.CompletedProcess:
    cmd = [
        sys.executable, "-m", "ddmdyn.cluster", "controller", "--profile", str(profile),
        "--partition", "debug", "--time", "30", "--mem", "1000",
        "--log-dir", str(base / "controller_logs"), *extra,
        "--", "--configfile", str(TINY), "--directory", str(base / "work"), *DATA,
    ]  # fmt: skip
    return subprocess.run(
        cmd, cwd=ROOT, capture_output=True, text=True, timeout=CONTROLLER_TIMEOUT_S
    )


def _job_id(proc: subprocess.CompletedProcess) -> str:
    m = re.search(r"controller job (\d+)", proc.stdout)
    assert m, f"no job id printed:\n{proc.stdout}\n{proc.stderr}"
    return m.group(1)


def _controller_log(base: Path, job: str) -> str:
    logs = [base / "controller_logs" / f"{job}_0_log.{ext}" for ext in ("out", "err")]
    return "\n".join(p.read_text() for p in logs if p.exists())


def _assert_data_ran_as_own_jobs(work: Path, controller_job: str) -> None:
    for target in DATA:
        with xr.open_dataset(work / target) as ds:
            job = ds.attrs["provenance_slurm_job_id"]
        assert job.isdigit(), f"{target} was not written inside a SLURM job ({job})"
        assert job != controller_job, f"{target} was written by the controller job itself"


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.usefixtures("slurm_cluster")
def test_controller_job_runs_the_workflow_through_slurm(tmp_path) -> None:
    profile = derived_profile(tmp_path / "profile")
    proc = _controller(profile, tmp_path)
    job = _job_id(proc)
    log = _controller_log(tmp_path, job)
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}\n{log[-6000:]}"
    assert "controller start 1" in log
    _assert_data_ran_as_own_jobs(tmp_path / "work", job)


def _squeue_state(job: str) -> str:
    proc = subprocess.run(
        ["squeue", "-h", "-j", job, "-o", "%T"], capture_output=True, text=True, timeout=60
    )
    return proc.stdout.strip()


def _wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(1)


@pytest.mark.slurm
@pytest.mark.slow
@pytest.mark.usefixtures("slurm_cluster")
def test_preempted_controller_is_requeued_and_finishes(tmp_path) -> None:
    """SIGUSR2 (submitit's signal at the time limit or on preemption), sent once the data jobs
    are submitted, requeues the controller, whose second start runs Snakemake again and
    completes the targets."""
    profile = derived_profile(tmp_path / "profile")
    proc = _controller(profile, tmp_path, "--no-wait")
    assert proc.returncode == 0, f"{proc.stdout}\n{proc.stderr}"
    job = _job_id(proc)
    submitted = tmp_path / "work" / ".snakemake" / "slurm_logs" / "rule_simulate_trajectories"
    _wait_until(submitted.exists, 300, "the controller to submit the data jobs")
    subprocess.run(["scancel", "--signal=USR2", job], check=True, timeout=60)
    _wait_until(lambda: "controller start 2" in _controller_log(tmp_path, job), 600, "the requeue")
    _wait_until(
        lambda: _squeue_state(job) not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"),
        CONTROLLER_TIMEOUT_S,
        "the requeued controller to end",
    )
    log = _controller_log(tmp_path, job)
    assert "controller stopped for requeue" in log, log[-6000:]
    assert _squeue_state(job) in ("COMPLETED", ""), log[-6000:]
    _assert_data_ran_as_own_jobs(tmp_path / "work", job)
