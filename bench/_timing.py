"""Timing helpers shared by the throughput benchmarks (imported as `_timing` when a benchmark
runs as a script, which puts bench/ on sys.path)."""

from __future__ import annotations

import time

import torch


def sync(device: torch.device) -> None:
    """Wait for queued CUDA work, so that a wall-clock timing covers it (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(
    device: torch.device, n: int = 2048, reps: int = 5, dtype: torch.dtype = torch.float32
) -> float:
    """FLOP/s of an n x n x n matmul in `dtype` (best of reps)."""
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        sync(device)
        t0 = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return 2 * n**3 / best
