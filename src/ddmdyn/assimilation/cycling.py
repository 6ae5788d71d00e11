"""Cycled data-assimilation experiments over many truths at once (docs/decisions.md, E20, D2, D4).

All B truths (and all members) are advanced together; the only Python loops are over cycles and
over the model steps inside a window. Statistics are streamed into float64 running sums, so the
memory use does not grow with the number of cycles.

Timeline: cycle k covers model steps t0 = k * obs_every ... t1 = t0 + obs_every. The state at t0
(lead 0, the previous analysis) is integrated over the window, the window trajectory is scored at
leads 0..obs_every against the truth, then the observation at t1 is assimilated. The first
`n_burn_in` cycles assimilate but are not scored.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ddmdyn.assimilation.methods import AnalysisStep
from ddmdyn.assimilation.streams import INITIAL_STATES, OBSERVATION_NOISE, stream_seed
from ddmdyn.checkpointing import JobInterrupted, SignalCatcher
from ddmdyn.dynamics import DT, NORM_SCALE, rk4_step
from ddmdyn.io import atomic_path
from ddmdyn.metrics.accumulators import EnsembleScoreSums
from ddmdyn.metrics.forecast import nrmse_from_mse
from ddmdyn.progress import ProgressLog

__all__ = [
    "CycledDAResult",
    "draw_initial_states",
    "make_observations",
    "max_scored_cycles",
    "run_cycled_da",
]

ModelStep = Callable[[np.ndarray], np.ndarray]
Observations = np.ndarray | Callable[[int], np.ndarray] | None


# ----------------------------------------------------------------------------------------------
# Shared inputs: observations and initial conditions (docs/decisions.md, D2)


def make_observations(
    truth: np.ndarray,
    obs_std: float,
    seed: int,
    truth_index: np.ndarray | None = None,
) -> np.ndarray:
    """Noisy observations y_t = x_t + obs_std * N(0, I) for every step of every truth.

    The noise of truth j comes from its own stream, key (seed, OBSERVATION_NOISE, j) with
    j = truth_index[b] (default b), so it does not depend on which other truths are in the array.

    Args:
        truth: (B, T, 3) physical units.
        obs_std: observation error std (physical units).
    Returns:
        float64 (B, T, 3) physical units.
    """
    truth = np.asarray(truth)
    ids = np.arange(truth.shape[0]) if truth_index is None else np.asarray(truth_index)
    out = np.empty(truth.shape, dtype=np.float64)
    for b, j in enumerate(ids):
        rng = np.random.default_rng(stream_seed(seed, OBSERVATION_NOISE, j))
        out[b] = truth[b] + obs_std * rng.standard_normal(truth.shape[1:])
    return out


def draw_initial_states(truth: np.ndarray, n_state: int, seed: int) -> np.ndarray:
    """Initial states drawn uniformly without replacement from all pooled truth states.

    As in docs/decisions.md, E20.

    Draws are sequential (uniform integers, repeats rejected) and assigned member-major: draw i
    goes to member i // B of truth i % B. Hence member 0 is the same for every n_state, so a
    1-member method (EnOI) starts from member 0 of an ETKF's initial ensemble with the same seed.
    The stream has the key (seed, INITIAL_STATES, 0), distinct from every observation-noise key.

    Args:
        truth: (B, T, 3) physical units.
        n_state: states per truth.
    Returns:
        float64 (B, n_state, 3) physical units.
    """
    B, T = truth.shape[:2]
    need = B * n_state
    if need > B * T:
        raise ValueError("more initial states requested than truth states available")
    rng = np.random.default_rng(stream_seed(seed, INITIAL_STATES, 0))
    chosen: list[int] = []
    seen: set[int] = set()
    while len(chosen) < need:
        for v in rng.integers(0, B * T, size=1024).tolist():
            if v not in seen:
                seen.add(v)
                chosen.append(v)
                if len(chosen) == need:
                    break
    flat = np.asarray(chosen).reshape(n_state, B).T  # (B, n_state)
    b_idx, t_idx = np.divmod(flat, T)
    return np.asarray(truth[b_idx, t_idx], dtype=np.float64)


def max_scored_cycles(n_steps: int, obs_every: int, n_burn_in: int) -> int:
    """Largest number of scored cycles n with obs_every * (n_burn_in + n) <= n_steps - 1.

    The horizon cap of docs/decisions.md, D4.
    """
    return (n_steps - 1) // obs_every - n_burn_in


# ----------------------------------------------------------------------------------------------
# Result


@dataclass
class CycledDAResult:
    """Time-mean scores of a cycled DA run, per truth (leading axis B).

    Normalised scores (docs/decisions.md, E20): nRMSE = sqrt(mean_k MSE_k / scale_k^2) with MSE_k
    the time mean over scored cycles of variable k; spreads likewise from the mean (N-1)-normalised
    ensemble variance. CRPS is averaged over cycles and of CRPS_k / scale_k over variables.
    Physical-unit time means are kept so that scores can be re-aggregated over truths.
    Scores are NaN when no cycle was scored; background/analysis scores are NaN in a free run.

    Attributes:
        obs_every, n_burn_in: cycling set-up; n_cycles_requested / n_cycles: scored cycles
            asked for / used (capped to fit the truth: docs/decisions.md, D4); capped: if capped.
        n_state: members propagated; n_background: members of the background ensemble.
        scale: (3,) normalisation scale.
        ana_rmse, ana_spread, bg_rmse, bg_spread, crps_bg: (B,) normalised.
        rmse_lead, spread_lead: (B, obs_every + 1) normalised, lead 0 = previous analysis.
        rank_hist: (B, 3, n_background + 1) int64 counts of the truth rank in the background.
        mse_lead, var_lead: (B, obs_every + 1, 3) physical; bg_mse, bg_var, ana_mse, ana_var,
            crps_bg_var: (B, 3) physical; cov_bg, cov_ana: (B, 3, 3) time-mean covariances.
        final_state: (B, n_state, 3) model state after the last cycle (the last analysis).
    """

    obs_every: int
    n_burn_in: int
    n_cycles_requested: int
    n_cycles: int
    capped: bool
    n_state: int
    n_background: int
    scale: np.ndarray
    ana_rmse: np.ndarray
    ana_spread: np.ndarray
    bg_rmse: np.ndarray
    bg_spread: np.ndarray
    crps_bg: np.ndarray
    rmse_lead: np.ndarray
    spread_lead: np.ndarray
    rank_hist: np.ndarray
    mse_lead: np.ndarray
    var_lead: np.ndarray
    bg_mse: np.ndarray
    bg_var: np.ndarray
    ana_mse: np.ndarray
    ana_var: np.ndarray
    crps_bg_var: np.ndarray
    cov_bg: np.ndarray
    cov_ana: np.ndarray
    final_state: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all fields."""
        return asdict(self)


def _finalise(
    acc: EnsembleScoreSums,
    state: np.ndarray,
    n_background: int,
    scale: np.ndarray,
    obs_every: int,
    n_burn_in: int,
    n_cycles: int,
    n_used: int,
) -> CycledDAResult:
    """The result of a run from its running sums and final state (see `run_cycled_da`)."""
    scale = np.asarray(scale, dtype=np.float64)
    n_truth = acc.bg_se.shape[0]
    means = acc.time_means()
    crps_var = means.pop("crps_var")
    rank_hist = acc.rank_hist
    if rank_hist is None:
        rank_hist = np.zeros((n_truth, 3, n_background + 1), dtype=np.int64)
    return CycledDAResult(
        obs_every=int(obs_every),
        n_burn_in=int(n_burn_in),
        n_cycles_requested=int(n_cycles),
        n_cycles=n_used,
        capped=n_used < n_cycles,
        n_state=state.shape[1],
        n_background=n_background,
        scale=scale,
        final_state=state,
        ana_rmse=nrmse_from_mse(means["ana_mse"], scale),
        ana_spread=nrmse_from_mse(means["ana_var"], scale),
        bg_rmse=nrmse_from_mse(means["bg_mse"], scale),
        bg_spread=nrmse_from_mse(means["bg_var"], scale),
        crps_bg=np.mean(crps_var / scale, axis=-1),
        rmse_lead=nrmse_from_mse(means["mse_lead"], scale),
        spread_lead=nrmse_from_mse(means["var_lead"], scale),
        rank_hist=rank_hist,
        crps_bg_var=crps_var,
        **means,
    )


# ----------------------------------------------------------------------------------------------
# Cycling


def run_cycled_da(
    method: Callable[..., AnalysisStep] | None,
    truth: np.ndarray,
    observations: Observations,
    obs_every: int,
    n_burn_in: int,
    n_cycles: int,
    initial_state: np.ndarray,
    scale: np.ndarray = NORM_SCALE,
    model_step: ModelStep | None = None,
    truth_index: np.ndarray | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    checkpoint_every_s: float = 300.0,
    handle_signals: bool = False,
    log: Callable[[str], None] | None = None,
) -> CycledDAResult:
    """Cycle a DA method over all B truths at once and return time-mean scores.

    The experiment of docs/decisions.md, E20.

    Args:
        method: an `EnOI`/`ETKF`-like object, ``method(forecast (B, n, 3), obs (B, 3), cycle,
            truth_index) -> AnalysisStep``; may be None for a free run.
        truth: (B, T, 3) physical truth trajectories (float32 or float64).
        observations: (B, T, 3) physical observations for every step (see `make_observations`),
            or a callable ``obs(step) -> (B, 3)``, or None for a free model run (no analysis;
            background/analysis scores are then NaN).
        obs_every: model steps per window (observation interval).
        n_burn_in: cycles assimilated before scoring starts.
        n_cycles: scored cycles requested; capped so that obs_every * (n_burn_in + n_cycles)
            <= T - 1 (docs/decisions.md, D4). 0 gives a run of the burn-in only.
        initial_state: (B, n_state, 3) physical (see `draw_initial_states`); n_state must equal
            ``method.n_state``.
        scale: (3,) normalisation scale of the nRMSE (default NORM_SCALE, docs/decisions.md
            E2).
        model_step: one model step ``x (M, 3) -> x (M, 3)``, applied to all states of all truths
            stacked as M = B * n_state rows; default RK4 Lorenz 63, dt 0.01.
        truth_index: (B,) global ids of the truths, passed to the method's random streams
            (default 0..B-1); set it when running a subset of truths.
        checkpoint_path: resumable state (next cycle, model state, every running sum), written
            atomically every `checkpoint_every_s` seconds of cycling and on SIGTERM/SIGUSR1; an
            existing one is resumed. The methods' random numbers are keyed by cycle, so a resumed
            run's result equals an uninterrupted run's bit for bit. The caller owns the file
            (`ddmdyn.checkpointing.claim_checkpoint` / `release_checkpoint`).
        handle_signals: on SIGTERM/SIGUSR1 write the checkpoint after the current cycle and
            raise `ddmdyn.checkpointing.JobInterrupted` (needs `checkpoint_path`).
        log: receives progress lines (cycle done/total, rate, ETA, running analysis nRMSE).
    Returns:
        `CycledDAResult`.
    """
    truth = np.asarray(truth)
    state = np.array(initial_state, dtype=np.float64)
    n_used = _scored_cycles(method, truth, observations, state, obs_every, n_burn_in, n_cycles)
    cycle = _cycle_function(method, truth, observations, model_step, truth_index, n_burn_in)
    if handle_signals and checkpoint_path is None:
        raise ValueError("handle_signals needs a checkpoint_path to save the state to")
    acc = EnsembleScoreSums(truth.shape[0], int(obs_every) + 1)
    path = Path(checkpoint_path) if checkpoint_path is not None else None
    ckpt = _Checkpoints(path, checkpoint_every_s, handle_signals)
    log = log or (lambda line: None)
    k_start, state, n_background = _resume(path, acc, state, log)
    cycles = range(k_start, n_burn_in + n_used)
    state, n_background = _run_cycles(cycle, acc, state, n_background, cycles, scale, ckpt, log)
    return _finalise(acc, state, n_background, scale, obs_every, n_burn_in, n_cycles, n_used)


def _scored_cycles(
    method: Callable[..., AnalysisStep] | None,
    truth: np.ndarray,
    observations: Observations,
    state: np.ndarray,
    obs_every: int,
    n_burn_in: int,
    n_cycles: int,
) -> int:
    """Check the inputs of `run_cycled_da`; the number of scored cycles that fit the truth."""
    n_truth, n_steps = truth.shape[:2]
    if state.ndim != 3 or state.shape[0] != n_truth or state.shape[2] != truth.shape[2]:
        raise ValueError(f"initial_state must be (B, n_state, 3), got {state.shape}")
    if method is not None and state.shape[1] != getattr(method, "n_state", state.shape[1]):
        raise ValueError(
            f"initial_state has {state.shape[1]} members, method needs {method.n_state}"
        )
    if observations is not None and method is None:
        raise ValueError("a method is needed when observations are given")
    if obs_every < 1 or n_burn_in < 0 or n_cycles < 0:
        raise ValueError("obs_every must be >= 1 and n_burn_in, n_cycles >= 0")
    n_max = max_scored_cycles(n_steps, obs_every, n_burn_in)
    if n_max < 0:
        raise ValueError(
            f"the burn-in alone ({n_burn_in} cycles of {obs_every} steps) exceeds the truth "
            f"({n_steps} states)"
        )
    return min(int(n_cycles), n_max)


def _resume(
    path: Path | None, acc: EnsembleScoreSums, state: np.ndarray, log: Callable[[str], None]
) -> tuple[int, np.ndarray, int]:
    """(first cycle, model state, n_background): from the checkpoint at `path` if there is one
    (filling `acc` with its sums), else (0, `state`, 0)."""
    if path is None or not path.exists():
        return 0, state, 0
    k_start, state, n_background = _load_checkpoint(path, acc, state.shape)
    if k_start:
        log(f"resumed from {path} at cycle {k_start}")
    return k_start, state, n_background


class _Checkpoints(NamedTuple):
    """Where and when a run saves its state: every `every_s` seconds and, with
    `handle_signals`, on SIGTERM/SIGUSR1 (no saving if `path` is None)."""

    path: Path | None
    every_s: float
    handle_signals: bool


def _run_cycles(
    cycle: Callable[..., tuple[np.ndarray, int | None]],
    acc: EnsembleScoreSums,
    state: np.ndarray,
    n_background: int,
    cycles: range,
    scale: np.ndarray,
    ckpt: _Checkpoints,
    log: Callable[[str], None],
) -> tuple[np.ndarray, int]:
    """Run `cycle` for every cycle k in `cycles` with progress lines and checkpoints.

    The checkpoint is written every `ckpt.every_s` seconds (not after the last cycle) and, with
    `ckpt.handle_signals`, after the cycle in which SIGTERM/SIGUSR1 arrived, which then raises
    `JobInterrupted`. Returns the final model state and background ensemble size.
    """
    n_total = cycles.stop
    meter = ProgressLog(n_total, log, unit="cycle", start=cycles.start, bar=False)
    last_save = time.monotonic()
    window = np.empty((acc.se_lead.shape[0], *state.shape))  # leads 0..obs_every
    path = ckpt.path
    with SignalCatcher(ckpt.handle_signals) as signals:
        for k in cycles:
            state, n_members = cycle(k, state, window, acc=acc)
            n_background = n_members if n_members is not None else n_background
            done = k + 1
            if meter.due(done):
                meter.update(done, analysis_nrmse=_running_nrmse(acc, scale))
            due = time.monotonic() - last_save >= ckpt.every_s and done < n_total
            if path is not None and (due or signals.received is not None):
                _save_checkpoint(path, done, state, n_background, acc)
                last_save = time.monotonic()
            if signals.received is not None:
                raise JobInterrupted(done, signals.received, path, "assimilation", "cycle")
    return state, n_background


def _cycle_function(
    method: Callable[..., AnalysisStep] | None,
    truth: np.ndarray,
    observations: Observations,
    model_step: ModelStep | None,
    truth_index: np.ndarray | None,
    n_burn_in: int,
) -> Callable[..., tuple[np.ndarray, int | None]]:
    """`_cycle` with everything but the cycle, state, window and sums bound."""
    step_fn = model_step if model_step is not None else partial(rk4_step, dt=DT)
    n_truth = truth.shape[0]
    idx = np.arange(n_truth) if truth_index is None else np.asarray(truth_index, dtype=np.int64)
    return partial(
        _cycle,
        truth=truth,
        method=method,
        get_obs=_obs_getter(observations),
        step_fn=step_fn,
        idx=idx,
        n_burn_in=n_burn_in,
    )


def _cycle(
    k: int,
    state: np.ndarray,
    window: np.ndarray,
    *,
    truth: np.ndarray,
    acc: EnsembleScoreSums,
    method: Callable[..., AnalysisStep] | None,
    get_obs: Callable[[int], np.ndarray] | None,
    step_fn: ModelStep,
    idx: np.ndarray,
    n_burn_in: int,
) -> tuple[np.ndarray, int | None]:
    """Cycle k: forecast over the window, score it once past the burn-in, assimilate.

    Returns the new model state (B, n_state, 3) and the background ensemble size (None in a
    free run)."""
    L = window.shape[0] - 1
    t0 = k * L
    window[0] = state
    x = state.reshape(-1, state.shape[-1])  # 2-D (B * n_state, 3): less ufunc overhead
    for lead in range(1, L + 1):
        x = step_fn(x)
        window[lead] = x.reshape(state.shape)
    x = window[L].copy()
    scored = k >= n_burn_in
    if scored:
        truth_win = np.swapaxes(truth[:, t0 : t0 + L + 1], 0, 1).astype(np.float64)
        acc.add_forecast(window, truth_win)
    if get_obs is None:
        return x, None
    step = method(x, get_obs(t0 + L), k, idx)
    if scored:
        acc.add_analysis(step.background, step.analysis, truth_win[L])
    return step.state, step.background.shape[1]


def _running_nrmse(acc: EnsembleScoreSums, scale: np.ndarray) -> float:
    """Analysis nRMSE pooled over truths so far (NaN before the first scored analysis)."""
    if not acc.n_analysis:
        return math.nan
    return float(nrmse_from_mse(acc.ana_se / acc.n_analysis, scale, axis=None))


def _save_checkpoint(
    path: Path, next_cycle: int, state: np.ndarray, n_background: int, acc: EnsembleScoreSums
) -> None:
    """Write the cycling state atomically (numpy .npz)."""
    arrays = {f"acc_{k}": v for k, v in acc.state().items()}
    meta = np.array([next_cycle, n_background], dtype=np.int64)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:  # a file object: no ".npz" appended
        np.savez(f, meta=meta, state=state, **arrays)


def _load_checkpoint(
    path: Path, acc: EnsembleScoreSums, state_shape: tuple[int, ...]
) -> tuple[int, np.ndarray, int]:
    """(next cycle, model state, n_background) from `path`; fills `acc` with its sums."""
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    state = arrays["state"]
    if state.shape != tuple(state_shape):
        raise ValueError(
            f"checkpoint {path} holds states of shape {state.shape}, this run has {state_shape}"
        )
    acc.load({k[len("acc_") :]: v for k, v in arrays.items() if k.startswith("acc_")})
    next_cycle, n_background = (int(v) for v in arrays["meta"])
    return next_cycle, np.array(state, dtype=np.float64), n_background


def _obs_getter(observations: Observations) -> Callable[[int], np.ndarray] | None:
    if observations is None:
        return None
    if callable(observations):
        return lambda t: np.asarray(observations(t), dtype=np.float64)
    obs = np.asarray(observations)
    return lambda t: obs[:, t].astype(np.float64)
