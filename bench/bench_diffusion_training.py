"""Training throughput of the diffusion denoiser: table FiLM vs per-sample FiLM (baseline).

One training step = forward + backward + Adam on a batch of (x0, t ~ U{1..T}, eps) with the
velocity head, exactly as in `ddmdyn.diffusion.training`. Timed in the same run, interleaved:
the baseline (one FiLM Linear per sample) and the table FiLM, each in float32 (the paper's
arithmetic) and with bfloat16 mixed precision (`diffusion.training.precision`).
Reported as samples/s (median over iterations) and as achieved FLOP/s, counted analytically
(matmul FLOPs only, see `training_flops`), relative to a large matmul in the same precision
measured in the same run.

    python bench/bench_diffusion_training.py                 # paper batch 16,384 and network
    python bench/bench_diffusion_training.py --iters 10 --device cuda
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
from ddmdyn.diffusion.schedules import make_schedule
from ddmdyn.diffusion.training import training_autocast


def training_flops(
    batch: int, n_unique: int, hidden: int, emb: int, n_blocks: int, n_dim: int, mode: str
) -> float:
    """Matmul FLOPs (2 per multiply-add) of one forward + backward pass.

    Layers whose input needs no gradient (input Linear on z, FiLM Linear on the embedding) cost
    2x their forward (forward + weight gradient); the others 3x (plus the input gradient).
    """
    film_rows = batch if mode == "per_sample" else n_unique
    first = 2 * batch * n_dim * hidden + n_blocks * 2 * film_rows * emb * 2 * hidden
    rest = batch * (n_blocks * 2 * 2 * hidden * hidden + 2 * hidden * n_dim)
    return float(2 * first + 3 * rest)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--batch-size", type=int, default=16384)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--n-blocks", type=int, default=3)
    p.add_argument("--emb-dim", type=int, default=512)
    p.add_argument("--timesteps", type=int, default=1000)
    p.add_argument("--iters", type=int, default=3, help="timed steps per mode")
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu")
    p.add_argument(
        "--no-fused-adam",
        dest="fused_adam",
        action="store_false",
        help="use the default (for-loop) Adam instead of the fused kernel",
    )
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    torch.manual_seed(0)

    B, T = args.batch_size, args.timesteps
    net = DenseResidualDenoiser(hidden=args.hidden, n_blocks=args.n_blocks, emb_dim=args.emb_dim)
    model = DiffusionModel(net, make_schedule("cosine", T), make_head("velocity")).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=3e-4, fused=args.fused_adam)
    x0 = torch.randn(B, 3, device=device)

    # mode -> (FiLM mode, training precision)
    modes = {
        "per_sample": ("per_sample", "float32"),
        "table": ("table", "float32"),
        "per_sample_bf16": ("per_sample", "bfloat16"),
        "table_bf16": ("table", "bfloat16"),
    }

    def step(mode: str) -> float:
        net.film_mode, precision = modes[mode]
        t = torch.randint(1, T + 1, (B,), device=device)
        eps = torch.randn(B, 3, device=device)
        sync(device)
        t0 = time.perf_counter()
        with training_autocast(device, precision):
            loss = model.loss(x0, t, eps, "mse")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync(device)
        return time.perf_counter() - t0

    peak_before = matmul_peak(device)
    peak_bf16 = matmul_peak(device, dtype=torch.bfloat16)
    for _ in range(args.warmup):
        for m in modes:
            step(m)
    times: dict[str, list[float]] = {m: [] for m in modes}
    for _ in range(args.iters):
        for m in modes:
            times[m].append(step(m))
    peak = max(matmul_peak(device), peak_before)
    n_unique = round(T * (1 - (1 - 1 / T) ** B))  # expected distinct steps in a batch

    print(
        f"device={device} threads={args.threads} batch={B} hidden={args.hidden} "
        f"blocks={args.n_blocks} emb={args.emb_dim} "
        f"params={sum(p.numel() for p in net.parameters()):,}"
    )
    print(
        f"matmul 2048^3: float32 {peak / 1e9:.1f} GFLOP/s, bfloat16 {peak_bf16 / 1e9:.1f} GFLOP/s"
    )
    res, fl = {}, {}
    for m in modes:
        med = statistics.median(times[m])
        film, precision = modes[m]
        flops = training_flops(B, n_unique, args.hidden, args.emb_dim, args.n_blocks, 3, film)
        ref = peak_bf16 if precision == "bfloat16" else peak
        fl[m] = flops
        res[m] = med
        print(
            f"{m:>15}: {med * 1e3:8.1f} ms/step  {B / med:10.0f} samples/s  "
            f"{flops / 1e9:7.1f} GFLOP/step  {flops / med / 1e9:7.1f} GFLOP/s "
            f"({100 * flops / med / ref:.0f}% of matmul in its precision)"
        )
    print(
        f"speed-up table vs per_sample (both float32): {res['per_sample'] / res['table']:.2f}x "
        f"(FLOP ratio, the bound at equal FLOP/s: {fl['per_sample'] / fl['table']:.2f}x)"
    )
    print(
        f"speed-up table_bf16 vs per_sample_bf16: "
        f"{res['per_sample_bf16'] / res['table_bf16']:.2f}x (the FiLM table alone, in bfloat16)"
    )
    print(
        f"speed-up table_bf16 vs per_sample (float32): "
        f"{res['per_sample'] / res['table_bf16']:.2f}x (target >= 2.5x)"
    )


if __name__ == "__main__":
    main()
