"""GPU guard: a SLURM job that asked for a GPU but sees no CUDA device fails at once."""

from __future__ import annotations

import logging

import pytest
import torch

from ddmdyn import runtime
from ddmdyn.runtime import MissingGPUError, resolve_device

SLURM = {"SLURM_JOB_ID": "4242", "SLURMD_NODENAME": "gpu-node-07", "CUDA_VISIBLE_DEVICES": ""}


@pytest.fixture
def no_cuda(monkeypatch):
    """A node whose CUDA runtime sees no device (as on a CPU node or a device-less GPU stand-in)."""
    monkeypatch.setattr(runtime, "_cuda_available", lambda: False)


@pytest.fixture
def slurm_env(monkeypatch):
    for key, value in SLURM.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("name", ["auto", "cuda"])
def test_gpu_job_under_slurm_without_cuda_fails_naming_rule_node_and_fix(no_cuda, slurm_env, name):
    with pytest.raises(MissingGPUError) as err:
        resolve_device(name, gpu_requested=True, rule="train_diffusion")
    msg = str(err.value)
    assert "rule train_diffusion" in msg
    assert "gpu-node-07" in msg and "4242" in msg
    assert "device=cpu" in msg and "slurm_partition" in msg


def test_explicit_cpu_choice_runs_the_gpu_job_on_the_cpu(no_cuda, slurm_env):
    assert resolve_device("cpu", gpu_requested=True, rule="train_diffusion") == torch.device("cpu")


def test_cpu_rule_under_slurm_is_not_checked(no_cuda, slurm_env):
    assert resolve_device("auto", gpu_requested=False, rule="score_generation").type == "cpu"


def test_env_argument_overrides_the_process_environment(no_cuda, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(MissingGPUError, match="node n1"):
        resolve_device(
            "auto", gpu_requested=True, rule="r", env={"SLURM_JOB_ID": "1", "SLURMD_NODENAME": "n1"}
        )


def test_workstation_auto_falls_back_to_cpu_with_a_warning(no_cuda, monkeypatch, caplog):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with caplog.at_level(logging.INFO, logger="ddmdyn.runtime"):
        device = resolve_device("auto", gpu_requested=True, rule="generate_samples")
    assert device.type == "cpu"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "generate_samples" in warnings[0].getMessage()
    assert "no CUDA device" in warnings[0].getMessage()


def test_gpu_visible_under_slurm_passes(monkeypatch, slurm_env):
    monkeypatch.setattr(runtime, "_cuda_available", lambda: True)
    runtime.check_gpu_allocation("auto", True, "train_diffusion")  # no error


def test_cuda_request_on_a_workstation_without_cuda_still_fails(no_cuda, monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    with pytest.raises(RuntimeError, match="CUDA is unavailable"):
        resolve_device("cuda")
