"""GPU guard on a real SLURM scheduler: its "GPUs" are device-less stand-ins, so a job that asked
for a GPU with `device: auto` must fail at once, naming the rule, the node and the fix."""

from __future__ import annotations

import socket

import pytest

from tests.scheduler.test_slurm import derived_profile, slurm_cluster  # noqa: F401
from tests.smk import TINY, snakemake

pytestmark = [pytest.mark.slurm, pytest.mark.slow]

TARGET = "results/diffusion/velocity_cos/0/model.pt"
JOB_LOG = "results/logs/diffusion/velocity_cos/0.log"


def test_gpu_job_without_cuda_fails_at_once_under_slurm(slurm_cluster, tmp_path):  # noqa: F811
    profile = derived_profile(tmp_path / "profile")
    work = tmp_path / "work"
    proc = snakemake(
        TARGET, "--profile", str(profile), "--configfile", str(TINY), "--config", "device=auto",
        workdir=work, check=False, timeout=900,
    )  # fmt: skip
    out = proc.stdout[-3000:] + proc.stderr[-5000:]
    assert proc.returncode != 0, "a GPU job without a CUDA device must fail under SLURM"
    assert (work / JOB_LOG).exists(), out
    log = (work / JOB_LOG).read_text()
    assert "MissingGPUError" in log and "rule train_diffusion" in log
    assert socket.gethostname() in log  # SLURMD_NODENAME of the single local node
    assert "device=cpu" in log  # the fix is named
    assert "training velocity_cos" not in log  # it failed before any training
    assert not (work / TARGET).exists()
