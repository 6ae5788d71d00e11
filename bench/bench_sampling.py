"""Sampling throughput (samples x reverse steps / s): table FiLM vs per-sample FiLM (baseline).

Runs `ddmdyn.diffusion.samplers.sample` (DDPM, counter-based noise, inference mode) with the
paper-size network in both FiLM modes, interleaved, in the same run. During sampling all samples
of a batch share one step, so the table path computes the FiLM once per step instead of once per
sample. Also reports the analytic forward FLOP/s relative to a large float32 matmul.

    python bench/bench_sampling.py                    # 16,384 samples x 10 coarse steps
    python bench/bench_sampling.py --n-samples 65536 --steps 100 --device cuda
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _timing import matmul_peak, sync

from ddmdyn.diffusion.heads import make_head
from ddmdyn.diffusion.model import DiffusionModel
from ddmdyn.diffusion.network import DenseResidualDenoiser
from ddmdyn.diffusion.samplers import sample
from ddmdyn.diffusion.schedules import make_schedule


def forward_flops(batch: int, hidden: int, emb: int, n_blocks: int, n_dim: int, mode: str) -> float:
    """Matmul FLOPs of one forward pass when all samples share one step."""
    per_sample = 2 * n_dim * hidden + n_blocks * 4 * hidden * hidden + 2 * hidden * n_dim
    film_rows = batch if mode == "per_sample" else 1
    return float(batch * per_sample + n_blocks * 2 * emb * 2 * hidden * film_rows)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--n-samples", type=int, default=16384)
    p.add_argument("--batch-size", type=int, default=16384)
    p.add_argument("--steps", type=int, default=10, help="coarse DDPM steps K")
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)
    net = DenseResidualDenoiser()
    with torch.no_grad():  # non-trivial residual branches (gamma = 1e-6 at init)
        for blk in net.blocks:
            blk.gamma.fill_(0.1)
    model = DiffusionModel(net, make_schedule("cosine", 1000), make_head("velocity"))
    model = model.to(device).eval()

    def run(mode: str) -> tuple[float, torch.Tensor]:
        net.film_mode = mode
        sync(device)
        t0 = time.perf_counter()
        x = sample(
            model,
            model.schedule,
            args.n_samples,
            args.steps,
            "ddpm",
            seed=0,
            batch_size=args.batch_size,
            device=device,
        )
        sync(device)
        return time.perf_counter() - t0, x

    modes = ("per_sample", "table")
    peak_before = matmul_peak(device)
    outs = {m: run(m)[1] for m in modes}  # warm-up, and the outputs must agree
    diff = (outs["table"] - outs["per_sample"]).abs().max().item()
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.iters):
        for m in modes:
            times[m].append(run(m)[0])
    peak = max(matmul_peak(device), peak_before)
    work = args.n_samples * args.steps
    print(
        f"device={device} threads={args.threads} samples={args.n_samples} "
        f"batch={args.batch_size} coarse_steps={args.steps}"
    )
    print(f"float32 matmul 2048^3: {peak / 1e9:.1f} GFLOP/s; max |table - per_sample| = {diff:.2e}")
    res, fl = {}, {}
    for m in modes:
        med = statistics.median(times[m])
        res[m] = med
        n_calls = args.steps * -(-args.n_samples // args.batch_size)
        flops = n_calls * forward_flops(min(args.batch_size, args.n_samples), 256, 512, 3, 3, m)
        fl[m] = flops
        print(
            f"{m:>10}: {med:7.3f} s  {work / med:12.0f} sample-steps/s  "
            f"{flops / med / 1e9:7.1f} GFLOP/s ({100 * flops / med / peak:.0f}% of matmul)"
        )
    print(
        f"speed-up table vs per_sample: {res['per_sample'] / res['table']:.2f}x "
        f"(target >= 2.5x; network FLOP ratio {fl['per_sample'] / fl['table']:.2f}x)"
    )


if __name__ == "__main__":
    main()
