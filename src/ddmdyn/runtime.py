"""Run-time choices of a job: torch device and thread count."""

from __future__ import annotations

import logging

import torch

log = logging.getLogger(__name__)


def resolve_device(name: str = "auto") -> torch.device:
    """Torch device for `name`: 'auto' (CUDA when available, else CPU), 'cpu' or 'cuda'.

    Raises:
        RuntimeError: 'cuda' was requested but no CUDA device is visible.
    """
    if name == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif name == "cuda" and not torch.cuda.is_available():
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
