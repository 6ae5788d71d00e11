"""Run-time choices of a job: torch device and thread count."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

import torch

log = logging.getLogger(__name__)


class MissingGPUError(RuntimeError):
    """A job that requested a GPU runs under SLURM on a node where CUDA sees no device."""


def _cuda_available() -> bool:
    return torch.cuda.is_available()


def check_gpu_allocation(
    name: str,
    gpu_requested: bool,
    rule: str | None,
    env: Mapping[str, str] | None = None,
) -> None:
    """Fail at once when a SLURM job that asked for a GPU sees no CUDA device.

    Skipped outside SLURM (no SLURM_JOB_ID), for jobs without a GPU request, and when the user
    chose `device: cpu` explicitly.

    Raises:
        MissingGPUError: naming the rule, the node (SLURMD_NODENAME) and the fixes.
    """
    env = os.environ if env is None else env
    if not gpu_requested or name == "cpu" or "SLURM_JOB_ID" not in env or _cuda_available():
        return
    node = env.get("SLURMD_NODENAME", "unknown node")
    visible = env.get("CUDA_VISIBLE_DEVICES", "unset")
    raise MissingGPUError(
        f"rule {rule or 'unknown'}: the job requested a GPU (resource gpu=1) but SLURM job "
        f"{env['SLURM_JOB_ID']} on node {node} has no visible CUDA device "
        f"(CUDA_VISIBLE_DEVICES={visible}; torch {torch.__version__}, CUDA build "
        f"{torch.version.cuda}). Fix: send GPU rules to a GPU partition with a GPU allocation "
        "(profiles/slurm/config.yaml: slurm_partition of the rule; the rule's gpu=1 becomes "
        "--gpus=1), and install a CUDA build of torch on the node; or run on the CPU on "
        "purpose with `--config device=cpu` (config key `device`)."
    )


def resolve_device(
    name: str = "auto",
    *,
    gpu_requested: bool = False,
    rule: str | None = None,
    env: Mapping[str, str] | None = None,
) -> torch.device:
    """Torch device for `name`: 'auto' (CUDA when available, else CPU), 'cpu' or 'cuda'.

    Args:
        gpu_requested: the job asked the scheduler for a GPU (the rule's `gpu` resource).
        rule: the job's rule, named in errors and warnings.
        env: environment to read SLURM variables from (default os.environ).

    Raises:
        MissingGPUError: a GPU job under SLURM without a CUDA device, unless `name` is 'cpu'.
        RuntimeError: 'cuda' was requested but no CUDA device is visible.
    """
    check_gpu_allocation(name, gpu_requested, rule, env)
    if name == "auto":
        device = torch.device("cuda" if _cuda_available() else "cpu")
        if device.type == "cpu" and gpu_requested:
            log.warning(
                "device: auto found no CUDA device; rule %s requested a GPU but runs on the "
                "CPU (much slower at paper size; set `device: cpu` to silence this)",
                rule or "unknown",
            )
    elif name == "cuda" and not _cuda_available():
        raise RuntimeError("device 'cuda' requested (config key `device`) but CUDA is unavailable")
    else:
        device = torch.device(name)
    if device.type == "cuda":
        log.info("device: %s (%s)", device, torch.cuda.get_device_name(device))
    else:
        log.info("device: cpu, %d threads", torch.get_num_threads())
    return device


def set_threads(n: int) -> None:
    """Use `n` intra-op threads (the job's `threads:`), at least one."""
    torch.set_num_threads(max(1, int(n)))


def job_device(
    threads: int, name: str = "auto", *, gpu_requested: bool = False, rule: str | None = None
) -> torch.device:
    """Set up a job's torch: `threads` intra-op threads, then its device (see `resolve_device`).

    The device is a run-time setting, never a job parameter: changing it must not rerun jobs.
    """
    set_threads(threads)
    return resolve_device(name, gpu_requested=gpu_requested, rule=rule)
