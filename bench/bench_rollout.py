"""Roll-out throughput: batched over all starts vs a per-start Python loop (docs/decisions.md, E17).

Both use the same ``dense_two`` surrogate (Linear 3-256-256 + linear head, 67,587 parameters) on
the same device. Throughput is in state-steps per second (one surrogate step of one state).
Reported: ``rollout`` batched over all starts, the full ``rollout_scores`` pipeline (truth
gathering, MSE/MAE per lead, histograms), and the baseline loop that rolls out one start at a
time; the ratio batched / loop is the figure of merit (target >= 20x).

    python bench/bench_rollout.py                 # quick: < 1 min on a 2-core CPU
    python bench/bench_rollout.py --n-starts 65536 --device cuda
"""

from __future__ import annotations

import argparse
import time

import torch

from ddmdyn.dynamics import initial_states, integrate_trajectories, normalise
from ddmdyn.surrogate.pairs import rollout_starts
from ddmdyn.surrogate.rollout import rollout, rollout_scores
from ddmdyn.surrogate.training import build_surrogate


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_once(fn, device: torch.device) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-starts", type=int, default=2048, help="starts of the batched roll-out")
    p.add_argument("--loop-starts", type=int, default=100, help="starts of the per-start loop")
    p.add_argument("--n-leads", type=int, default=100)
    p.add_argument("--dt", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=16384)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = p.parse_args()
    device = torch.device(args.device)

    n_traj = 4
    n_time = args.n_starts // n_traj + args.n_leads * args.dt + 2
    x0 = integrate_trajectories(initial_states(n_traj, seed=0), 0, n_burn_in=2000)[:, -1]
    traj = torch.as_tensor(normalise(integrate_trajectories(x0, n_time - 1)), dtype=torch.float32)
    traj = traj.to(device)
    starts = rollout_starts(n_traj, n_time, args.dt, args.n_leads)
    starts = starts[: args.n_starts]
    model = build_surrogate("dense", "linear", {"widths": [256, 256]}, seed=0).to(device).eval()
    with torch.no_grad():  # small increments: the untrained roll-out stays bounded-ish
        model.head.linear.weight.mul_(0.01)
        model.head.linear.bias.zero_()
    x_all = traj[starts.traj.to(device), starts.time.to(device)]
    n = len(starts)
    print(f"device {device}, torch threads {torch.get_num_threads()}, dense_two surrogate")
    print(f"batched: {n} starts x {args.n_leads} leads; loop: {args.loop_starts} starts")

    def batched(n_leads=args.n_leads):
        rollout(model.step, x_all, n_leads, batch_size=args.batch_size)

    def scores():
        rollout_scores(model, traj, args.dt, args.n_leads, starts, batch_size=args.batch_size)

    w_hidden = model.backbone.net[2].weight.detach()
    h = torch.randn(min(n, args.batch_size), 256, device=device)

    def gemm_floor():
        # only the 256x256 hidden GEMM of every step: a lower bound on the batched step time
        with torch.no_grad():
            for _ in range(args.n_leads * -(-n // h.shape[0])):
                torch.mm(h, w_hidden.T)

    def loop(n_starts=args.loop_starts):
        with torch.no_grad():
            for i in range(n_starts):
                x = x_all[i : i + 1]
                out = [x]
                for _ in range(args.n_leads):
                    x = x + model(x)
                    out.append(x)
                torch.cat(out)

    # warm up, then interleave the measurements so that they share the machine's load; keep
    # the best (least disturbed) time of each
    batched(2)
    loop(2)
    fns = {"batched": batched, "scores": scores, "loop": loop, "gemm": gemm_floor}
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(args.repeats):
        for key, fn in fns.items():
            best[key] = min(best[key], _time_once(fn, device))
    t_batched, t_scores, t_loop, t_gemm = (best[k] for k in fns)
    rate_batched = n * args.n_leads / t_batched
    rate_scores = n * args.n_leads / t_scores
    rate_loop = args.loop_starts * args.n_leads / t_loop
    rows = [
        ("batched rollout", t_batched, rate_batched),
        ("batched rollout_scores (with metrics)", t_scores, rate_scores),
        ("per-start Python loop (baseline)", t_loop, rate_loop),
        ("hidden GEMM only (compute bound)", t_gemm, n * args.n_leads / t_gemm),
    ]
    for name, t, rate in rows:
        print(f"{name:40s} {t:8.3f} s  {rate:14,.0f} state-steps/s")
    print(f"ratio rollout / loop:        {rate_batched / rate_loop:8.1f}x (target >= 20x)")
    print(f"ratio rollout_scores / loop: {rate_scores / rate_loop:8.1f}x")
    print(f"GEMM bound on the ratio here: {n * args.n_leads / t_gemm / rate_loop:8.1f}x")
    full = 15_984_000 * 100
    print(
        f"paper-scale test (15,984,000 x 100 steps) at the scores rate: {full / rate_scores:,.0f} s"
    )


if __name__ == "__main__":
    main()
