"""Probe: every job type of the paper DAG at the paper preset's sizes, with iteration counts cut.

Each probe runs in its own subprocess (so its peak resident memory, ``ru_maxrss`` from
``os.wait4``, is its own), calls the library functions the rule's script calls with the paper
parameters from config/config.yaml, times its iterations and extrapolates the full job:
``full = setup + n_full_iterations x seconds_per_iteration``. Job counts come from a dry run of the
paper preset. The plan (``docs/resources.json``) and its table (``docs/resources.md``) record the
machine, its load average at measurement time, and the request margin; the paper preset's
``resources:`` requests (config/config.yaml) must stay at least peak x margin
(tests/workflow/test_resources.py).

    python bench/paper_resources.py --write docs/resources.md   # paper sizes, ~10-15 min, 2 cores
    python bench/paper_resources.py --smoke                     # tiny sizes, seconds (CI)
    python bench/paper_resources.py --only train_diffusion da_run

Without a GPU the GPU columns say "not measured"; ``--device cuda`` runs the probes on CUDA and
records peak GPU memory (``torch.cuda.max_memory_allocated``) as well.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "config" / "config.yaml"
TINY = ROOT / "tests" / "config" / "tiny.yaml"
MARGIN = 1.5  # request >= measured peak (memory) or extrapolated time (runtime) x MARGIN
CPU_FLOOR_MB, GPU_FLOOR_MB = 2000, 4000  # smallest suggested memory requests (not measured)
RUNTIME_FLOOR_MIN = 30  # smallest suggested runtime: start-up, reads of 16 M states on shared disks

# Rules that read only stage summaries (tables, sweeps collected from per-run files, figures):
# not probed at paper size (their inputs are the outputs of thousands of paper jobs); they get
# the small default request of workflow/rules/resources.smk.
LIGHT_RULE_PATTERN = re.compile(
    r"^(fig\d\d_.*|generation_table|surrogate_table|surrogate_study|da_select|da_spread_sweep|"
    r"da_obs_interval_sweep|da_table|all)$"
)


# ------------------------------------------------------------------------------------------------
# configuration
def load_config(smoke: bool) -> dict:
    from ddmdyn.presets import load_preset

    return load_preset(PAPER, TINY if smoke else None)


def cuts(smoke: bool) -> dict:
    """Iteration counts of the probes (the sizes stay those of the preset)."""
    if smoke:
        return dict(
            train_steps=3,
            surrogate_steps=3,
            sample_steps=2,
            ridge_batches=2,
            rollout_batches=1,
            sweep_steps=[1],
            da_cycles=5,
            ddm_cycles=2,
        )
    return dict(
        train_steps=4,
        surrogate_steps=4,
        sample_steps=1,
        ridge_batches=4,
        rollout_batches=1,
        sweep_steps=[5],
        da_cycles=300,
        ddm_cycles=3,
    )


# ------------------------------------------------------------------------------------------------
# probes (run in a child process: `--probe NAME`); each returns a dict of measurements
def _setup_torch(threads: int, device_name: str):
    from ddmdyn.runtime import job_device

    return job_device(threads, device_name)


def _diffusion_cfg(cfg: dict, variant: str = "velocity_cos", **override):
    from ddmdyn.catalogue import DIFFUSION_VARIANTS
    from ddmdyn.diffusion.training import DiffusionTrainConfig

    d, v = cfg["diffusion"], DIFFUSION_VARIANTS[variant]
    params = {
        "head": v.head,
        "schedule": v.schedule,
        "loss": v.loss,
        "timesteps": d["timesteps"],
        **d["network"],
        **d["training"],
        **override,
    }
    return DiffusionTrainConfig.from_dict(params)


def _data(work: Path, split: str, normalised: bool = True):
    from ddmdyn.data import load_states

    return load_states(work / f"{split}.nc", normalised=normalised)


def _per_iteration(t_one: float, t_many: float, n: int) -> float:
    """CPU s per iteration from runs of 1 and 1 + n iterations (the difference drops the
    set-up); where timing noise makes the difference vanish (tiny sizes), the upper bound
    t_many / (1 + n), which includes the set-up."""
    diff = (t_many - t_one) / n
    return diff if diff > 0 else t_many / (1 + n)


def _training_probe(run, n: int, setup: float, full_steps: int, val_fraction: float, what: str):
    """Measurements of a training job from `run(n_steps)` (CPU s): runs of 1 and 1 + n steps
    (the difference is n steps without the set-up), validation as a fraction of a step."""
    t_one = run(1)
    per_step = _per_iteration(t_one, run(1 + n), n)
    return dict(
        iterations=2 + n,
        full_iterations=full_steps,
        setup_s=setup + max(0.0, t_one - per_step),
        seconds_per_iteration=per_step * (1 + val_fraction),
        what=f"{what}, {n} of {full_steps:,} steps (+{val_fraction:.1%} validation)",
    )


def probe_simulate_trajectories(cfg, cut, work, device):
    """The whole job (train split): RK4 integration and the netCDF write, for every split."""
    from ddmdyn.data import simulate_from_settings, split_settings
    from ddmdyn.io import write_netcdf

    d = cfg["data"]
    t0 = time.process_time()
    for split in ("validation", "test", "train"):  # train last: the job that is reported
        t_split = time.process_time()
        ds = simulate_from_settings(split_settings(d, split))
        write_netcdf(ds, work / f"{split}.nc")
        del ds
    t_train = time.process_time() - t_split
    return dict(
        iterations=1,
        full_iterations=1,
        setup_s=0.0,
        seconds_per_iteration=t_train,
        total_s=time.process_time() - t0,
        what=f"{d['splits']['train']['n_trajectories']} x {d['n_steps'] + 1:,} states "
        "(train split), whole job",
    )


def probe_train_diffusion(cfg, cut, work, device):
    from ddmdyn.diffusion.training import train_diffusion

    t0 = time.process_time()
    train = _data(work, "train").reshape(-1, 3)
    val = _data(work, "validation").reshape(-1, 3)
    full = _diffusion_cfg(cfg)
    n = cut["train_steps"]
    setup = time.process_time() - t0

    def run(n_steps: int) -> float:
        probe = _diffusion_cfg(
            cfg, n_steps=n_steps, val_every=10**9, checkpoint_every=10**9, log_every=1
        )
        ckpt = work / f"probe_ckpt_{n_steps}.pt"
        t = time.process_time()
        train_diffusion(
            probe, train, val, ckpt, device=device, progress=False, handle_signals=False
        )
        return time.process_time() - t

    # validation: val_batches forward passes (~1/3 of a training step each) every val_every steps
    val_fraction = full.val_batches / (3.0 * full.val_every)
    what = f"{len(train):,} training states, batch {full.batch_size:,}"
    return _training_probe(run, n, setup, full.n_steps, val_fraction, what)


def probe_generate_samples(cfg, cut, work, device):
    from ddmdyn.diffusion.training import build_model
    from ddmdyn.generation import generate_states

    g = cfg["generation"]
    model = build_model(_diffusion_cfg(cfg)).to(device)
    k = cut["sample_steps"]
    # every sample, k coarse steps instead of K: one step costs the same at any K
    t0 = time.process_time()
    generate_states(
        model, g["n_samples"], k, g["sampler"], g["eta"], g["seed"], g["batch_size"], device
    )
    per_step = (time.process_time() - t0) / k
    return dict(
        iterations=k,
        full_iterations=g["n_coarse_steps"],
        setup_s=0.0,
        seconds_per_iteration=per_step,
        what=f"{g['n_samples']:,} samples, batch {g['batch_size']:,}, "
        f"{k} of {g['n_coarse_steps']} sampling steps",
    )


def _save_surrogate(cfg, configuration: str, path: Path, device):
    from ddmdyn.surrogate.runner import build_model, make_spec, save_surrogate

    spec = make_spec(configuration, 0, cfg["surrogate"]["mlp_hidden"])
    save_surrogate(path, build_model(spec, 0, None), spec)


def probe_score_generation(cfg, cut, work, device):
    """The whole job: generated states (a seeded subset of the training split stands in for
    the samples) scored against the full test split with the dense_two feature network."""
    import numpy as np

    from ddmdyn.generation import score_generated
    from ddmdyn.surrogate.runner import feature_function

    t0 = time.process_time()
    n = cfg["generation"]["n_samples"]
    train = _data(work, "train").reshape(-1, 3)
    rng = np.random.default_rng(0)
    generated = train[rng.choice(len(train), n, replace=False)].astype(np.float64)
    del train
    reference = _data(work, "test").reshape(-1, 3).astype(np.float64)
    _save_surrogate(cfg, "dense_two", work / "feature_model.pt", device)
    features = feature_function(work / "feature_model.pt", device=device)
    setup = time.process_time() - t0
    t1 = time.process_time()
    score_generated(generated, reference, features, seed=0)
    return dict(
        iterations=1,
        full_iterations=1,
        setup_s=setup,
        seconds_per_iteration=time.process_time() - t1,
        what=f"{n:,} generated vs {len(reference):,} test states, whole job",
    )


def _surrogate_settings(cfg, **override):
    from ddmdyn.surrogate.runner import TrainingSettings

    return TrainingSettings(**{**cfg["surrogate"]["training"], **override})


def _surrogate_network(cfg, configuration, device):
    from ddmdyn.catalogue import SURROGATE_CONFIGURATIONS
    from ddmdyn.diffusion.training import build_model

    if not SURROGATE_CONFIGURATIONS[configuration].needs_diffusion_model:
        return None
    return build_model(_diffusion_cfg(cfg)).network.to(device)


def _train_surrogate(cfg, cut, work, device, configuration, override, n_train_samples=None):
    from ddmdyn.surrogate.runner import make_spec, train_or_fit

    s = cfg["surrogate"]
    t0 = time.process_time()
    train, val = _data(work, "train"), _data(work, "validation")
    network = _surrogate_network(cfg, configuration, device)
    hp = None if network is None else dict(network.hparams)
    spec = make_spec(configuration, 0, s["mlp_hidden"], network_hparams=hp)
    full = _surrogate_settings(cfg, **override)
    # small batches: enough steps to time them (n x batch about the same for every probe)
    n = cut["surrogate_steps"] * max(1, 16384 // full.batch_size)
    n = max(1, min(n, full.n_steps - 1))
    setup = time.process_time() - t0

    def run(n_steps: int) -> float:
        settings = _surrogate_settings(cfg, **{**override, "n_steps": n_steps, "val_every": 10**9})
        t = time.process_time()
        train_or_fit(
            spec,
            train,
            val,
            dt=s["dt"],
            seed=0,
            settings=settings,
            device=device,
            n_train_samples=n_train_samples,
            network=network,
            log=lambda msg: None,
        )
        return time.process_time() - t

    # validation: val_pairs forward passes (~1/3 of a training pair each) every val_every steps
    val_fraction = full.val_pairs / (3.0 * full.batch_size * full.val_every)
    what = f"{configuration}, batch {full.batch_size:,}"
    return _training_probe(run, n, setup, full.n_steps, val_fraction, what)


def probe_train_surrogate(cfg, cut, work, device):
    """The most expensive network surrogate: transfer_mlp (diffusion network backbone)."""
    return _train_surrogate(cfg, cut, work, device, "transfer_mlp", {})


def probe_train_surrogate_samples(cfg, cut, work, device):
    """The sample-size study's longest job: the largest subset, its small batches."""
    sc = cfg["surrogate"]["scaling"]
    return _train_surrogate(
        cfg,
        cut,
        work,
        device,
        "dense_residual_three",
        sc["samples_training"],
        n_train_samples=max(sc["n_train_samples"]),
    )


def probe_fit_surrogate(cfg, cut, work, device):
    """The most expensive ridge fit: transfer_untrained_linear (diffusion network features)."""
    from ddmdyn.surrogate.runner import make_spec, train_or_fit

    s = cfg["surrogate"]
    configuration = "transfer_untrained_linear"
    t0 = time.process_time()
    train, val = _data(work, "train"), _data(work, "validation")
    network = _surrogate_network(cfg, configuration, device)
    hp = None if network is None else dict(network.hparams)
    spec = make_spec(configuration, 0, s["mlp_hidden"], network_hparams=hp)
    batch = s["training"]["ridge_batch_size"]
    n_pairs_full = train.shape[0] * (train.shape[1] - s["dt"])
    if s["training"]["ridge_pairs"] is not None:
        n_pairs_full = min(n_pairs_full, s["training"]["ridge_pairs"])
    n_pairs = min(n_pairs_full, cut["ridge_batches"] * batch)
    setup = time.process_time() - t0

    def run(pairs: int) -> float:
        t = time.process_time()
        train_or_fit(
            spec,
            train,
            val,
            dt=s["dt"],
            seed=0,
            device=device,
            network=network,
            settings=_surrogate_settings(cfg, ridge_pairs=pairs),
            log=lambda msg: None,
        )
        return time.process_time() - t

    # two fits (one batch and 1 + n batches): the difference is n batches without the set-up
    n_batches = max(1, math.ceil(n_pairs / batch) - 1)
    t_one = run(batch)
    per_batch = _per_iteration(t_one, run(batch * (1 + n_batches)), n_batches)
    setup += max(0.0, t_one - per_batch)
    return dict(
        iterations=1 + 2 * n_batches,
        full_iterations=math.ceil(n_pairs_full / batch),
        setup_s=setup,
        seconds_per_iteration=per_batch,
        what=f"{configuration}, {n_pairs:,} of {n_pairs_full:,} pairs, batch {batch:,}",
    )


def probe_evaluate_surrogate(cfg, cut, work, device):
    """Roll-outs of the most expensive surrogate (transfer_mlp) from a cut set of test starts."""
    from ddmdyn.surrogate.runner import build_model, evaluate_rollouts, make_spec

    s = cfg["surrogate"]
    t0 = time.process_time()
    test = _data(work, "test")
    network = _surrogate_network(cfg, "transfer_mlp", device)
    spec = make_spec("transfer_mlp", 0, s["mlp_hidden"], network_hparams=dict(network.hparams))
    model = build_model(spec, 0, network).to(device).eval()
    batch = s["evaluation"]["batch_size"]
    n_traj, n_time, _ = test.shape
    starts_full = n_traj * (n_time - s["dt"] * s["n_leads"])
    if s["evaluation"]["max_starts"] is not None:
        starts_full = min(starts_full, s["evaluation"]["max_starts"])
    n_starts = min(starts_full, cut["rollout_batches"] * batch)
    setup = time.process_time() - t0
    t1 = time.process_time()
    evaluate_rollouts(
        model,
        test,
        dt=s["dt"],
        n_leads=s["n_leads"],
        max_starts=n_starts,
        batch_size=batch,
        device=device,
    )
    per_batch = (time.process_time() - t1) / math.ceil(n_starts / batch)
    return dict(
        iterations=math.ceil(n_starts / batch),
        full_iterations=math.ceil(starts_full / batch),
        setup_s=setup,
        seconds_per_iteration=per_batch,
        what=f"transfer_mlp, {n_starts:,} of {starts_full:,} starts x {s['n_leads']} "
        f"leads, batch {batch:,}",
    )


def probe_ensemble_sweep(cfg, cut, work, device):
    import numpy as np

    from ddmdyn.diffusion.training import build_model
    from ddmdyn.ensemble_sweep import run_sweep

    e = cfg["ensembles"]
    t0 = time.process_time()
    test_phys = _data(work, "test", normalised=False)
    model = build_model(_diffusion_cfg(cfg)).to(device).eval()
    setup = time.process_time() - t0
    steps = [s for s in cut["sweep_steps"] if s <= e["n_coarse_steps"]]
    t1 = time.process_time()
    run_sweep(model, test_phys, e, device, diffusion_steps=steps)
    # cost ~ denoising steps: ensembles at S take S steps each
    per_step = (time.process_time() - t1) / sum(steps)
    return dict(
        iterations=sum(steps),
        full_iterations=int(np.sum(e["diffusion_steps"])),
        setup_s=setup,
        seconds_per_iteration=per_step,
        what=f"{e['n_states']} states x {e['n_members']} members, S={steps} of "
        f"{e['diffusion_steps'][0]}..{e['diffusion_steps'][-1]} "
        "(iteration = one denoising step)",
    )


def _da(cfg, cut, work, device, method, value, purpose):
    import numpy as np
    import yaml as _yaml

    from ddmdyn.assimilation.runner import (
        DiffusionEnsembleSettings,
        build_method,
        run_experiment,
    )

    a, e = cfg["assimilation"], cfg["ensembles"]
    t0 = time.process_time()
    split = "train" if purpose == "tuning" else "test"
    truth = _data(work, split, normalised=False).astype(np.float64)
    if purpose == "tuning":
        truth = truth[: a["tuning"]["n_truths"]]
        n_full = a["tuning"]["n_burn_in"] + a["tuning"]["n_cycles"]
    else:
        n_full = a["n_burn_in"] + a["n_cycles"]
    static_cov = np.asarray(
        _yaml.safe_load((ROOT / "resources" / "static_covariance.yaml").read_text())["full"]
    )
    model, settings = None, None
    if method.startswith("ddm"):
        from ddmdyn.diffusion.training import build_model

        model = build_model(_diffusion_cfg(cfg)).to(device).eval()
        settings = DiffusionEnsembleSettings(e["n_coarse_steps"], e["sampler"], e["eta"])
        value = min(int(value), e["n_coarse_steps"])
        n = cut["ddm_cycles"]
    else:
        n = cut["da_cycles"]
    da = build_method(method, value, static_cov, a["obs_std"], a["seed"], model, settings)
    setup = time.process_time() - t0
    t1 = time.process_time()
    run_experiment(da, truth, a["obs_std"], a["obs_every"], 1, n - 1, a["seed"])
    per_cycle = (time.process_time() - t1) / n
    return dict(
        iterations=n,
        full_iterations=n_full,
        setup_s=setup,
        seconds_per_iteration=per_cycle,
        what=f"{method} ({value}), {len(truth)} truths, {n} of {n_full:,} cycles",
    )


def probe_da_tune(cfg, cut, work, device):
    return _da(cfg, cut, work, device, "etkf_12", 1.07, "tuning")


def probe_da_tune_diffusion(cfg, cut, work, device):
    step = max(cfg["assimilation"]["tuning"]["grids"]["diffusion_step"])
    return _da(cfg, cut, work, device, "ddm_enoi_50", step, "tuning")


def probe_da_run(cfg, cut, work, device):
    return _da(cfg, cut, work, device, "etkf_12", 1.07, "test")


def probe_da_run_diffusion(cfg, cut, work, device):
    step = max(cfg["assimilation"]["tuning"]["grids"]["diffusion_step"])
    return _da(cfg, cut, work, device, "ddm_enoi_50", step, "test")


def probe_da_spread_run(cfg, cut, work, device):
    step = max(cfg["assimilation"]["spread_sweep"]["diffusion_steps"])
    return _da(cfg, cut, work, device, "ddm_enoi_50", step, "spread")


# probe name -> (rule it measures, threads config key or None); order = run order (data first)
PROBES = {
    "simulate_trajectories": ("simulate_trajectories", None),
    "train_diffusion": ("train_diffusion", "diffusion"),
    "generate_samples": ("generate_samples", "generation"),
    "score_generation": ("score_generation", "generation"),
    "train_surrogate": ("train_surrogate", "surrogate"),
    "train_surrogate_samples": ("train_surrogate", "surrogate"),
    "fit_surrogate": ("fit_surrogate", "surrogate"),
    "evaluate_surrogate": ("evaluate_surrogate", "surrogate"),
    "ensemble_sweep": ("ensemble_sweep", "ensembles"),
    "da_tune": ("da_tune", "assimilation"),
    "da_tune_diffusion": ("da_tune_diffusion", "assimilation"),
    "da_run": ("da_run", "assimilation"),
    "da_run_diffusion": ("da_run_diffusion", "assimilation"),
    "da_spread_run": ("da_spread_run", "assimilation"),
}


def run_child(args) -> None:
    """Child process: the probes named in --probe (comma-separated), their measurements as one
    JSON line {probe: result} at the end of stdout."""
    cfg = load_config(args.smoke)
    results = {}
    for probe in args.probe.split(","):
        _, stage = PROBES[probe]
        threads = min(cfg[stage]["threads"], os.cpu_count() or 1) if stage else 1
        device = _setup_torch(threads, args.device) if stage else None
        result = globals()[f"probe_{probe}"](cfg, cuts(args.smoke), Path(args.work), device)
        result["threads"] = threads
        result["threads_requested"] = cfg[stage]["threads"] if stage else 1
        if device is not None and device.type == "cuda":
            import torch

            result["gpu_peak_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
            torch.cuda.reset_peak_memory_stats(device)
        results[probe] = result
    print(json.dumps(results))


# ------------------------------------------------------------------------------------------------
# parent: run every probe in a child, measure its peak RSS, extrapolate, write the plan
def measure(probes: list[str], args, work: Path) -> dict[str, dict]:
    """Run probes in one child process; its peak RSS comes from os.wait4 (KiB on Linux).

    The paper run gives every probe its own child (its own peak); --smoke runs them all in one
    child (seconds instead of a torch start-up per probe), so each reports the common peak.
    """
    cmd = [
        sys.executable,
        __file__,
        "--probe",
        ",".join(probes),
        "--work",
        str(work),
        "--device",
        args.device,
    ] + (["--smoke"] if args.smoke else [])
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t0
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode:
        raise RuntimeError(f"probe {probes} failed ({proc.returncode}):\n{stderr[-4000:]}")
    results = json.loads(stdout.strip().splitlines()[-1])
    for result in results.values():
        result["peak_rss_mb"] = usage.ru_maxrss / 1024
        result["wall_s"] = wall / len(results)
        result["load_avg_1min"] = os.getloadavg()[0]
        # CPU seconds of the process (all its threads), so other load on the machine barely
        # changes them; the wall time of a quiet job on the same threads is about CPU / threads
        result["extrapolated_cpu_s"] = (
            result["setup_s"] + result["full_iterations"] * result["seconds_per_iteration"]
        )
        result["extrapolated_wall_s"] = result["extrapolated_cpu_s"] / result["threads"]
    return results


def paper_job_counts(cfg_path: Path, smoke: bool) -> dict[str, int]:
    """{rule: jobs} from a dry run of the preset (Job stats), in a throwaway directory."""
    sys.path.insert(0, str(ROOT))
    from tests.smk import planned_jobs, snakemake

    args = ["-n", "--quiet", "rules"] + (["--configfile", str(TINY)] if smoke else [])
    with tempfile.TemporaryDirectory(prefix="paper_resources_dag_") as tmp:
        proc = snakemake(*args, workdir=Path(tmp))
    return {r: n for r, n in planned_jobs(proc.stdout).items() if r != "all"}


def _report(probe: str, r: dict) -> None:
    print(
        f"[paper_resources] {probe}: peak {r['peak_rss_mb']:.0f} MB, "
        f"{r['seconds_per_iteration']:.3g} CPU s/iteration, extrapolated "
        f"{r['extrapolated_cpu_s'] / 3600:.2f} CPU h = {r['extrapolated_wall_s'] / 3600:.2f} h "
        f"on {r['threads']} threads ({r['what']}; probe wall {r['wall_s']:.0f} s)",
        flush=True,
    )


def aggregate(jobs: dict[str, int], measured: dict[str, list[dict]]) -> dict[str, dict]:
    """Per rule of the DAG: jobs, and the worst probe's peak memory and extrapolated time."""
    rules = {}
    for rule in sorted(set(jobs) | set(measured)):
        runs = measured.get(rule)
        if runs:
            worst_mem = max(runs, key=lambda r: r["peak_rss_mb"])
            worst_time = max(runs, key=lambda r: r["extrapolated_cpu_s"])
            rules[rule] = {
                "jobs": jobs.get(rule, 0),
                "probed": True,
                "peak_rss_mb": round(worst_mem["peak_rss_mb"], 1),
                "gpu_peak_mb": worst_mem.get("gpu_peak_mb"),
                "extrapolated_cpu_s": round(worst_time["extrapolated_cpu_s"], 1),
                "extrapolated_wall_s": round(worst_time["extrapolated_wall_s"], 1),
                "threads": worst_time["threads"],
                "threads_requested": worst_time["threads_requested"],
                "probes": runs,
            }
        else:
            rules[rule] = {
                "jobs": jobs.get(rule, 0),
                "probed": False,
                "why": "reads stage summaries only (tables, sweeps, figures)",
            }
    return rules


def build_plan(args) -> dict:
    print(
        f"[paper_resources] counting jobs: dry run of the {'tiny' if args.smoke else 'paper'} "
        "preset",
        flush=True,
    )
    jobs = paper_job_counts(PAPER, args.smoke)
    probes = [p for p in PROBES if not args.only or PROBES[p][0] in args.only or p in args.only]
    if "simulate_trajectories" not in probes:
        probes.insert(0, "simulate_trajectories")  # writes the data every other probe reads
    measured: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="paper_resources_") as tmp:
        work = Path(tmp)
        batches = [probes] if args.smoke else [[p] for p in probes]
        for batch in batches:
            print(
                f"[paper_resources] {', '.join(batch)}: running (load {os.getloadavg()[0]:.2f})",
                flush=True,
            )
            for probe, r in measure(batch, args, work).items():
                r["probe"] = probe
                measured.setdefault(PROBES[probe][0], []).append(r)
                _report(probe, r)
    rules = aggregate(jobs, measured)
    return {
        "preset": "tiny (smoke)" if args.smoke else "paper",
        "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "bench/paper_resources.py", *sys.argv[1:]]),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gb": _memory_gb(),
            "platform": platform.platform(),
            "device": args.device,
            "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "margin": MARGIN,
        "gpu": "measured" if args.device == "cuda" else "not measured",
        "rules": rules,
    }


def _memory_gb() -> float:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)


# ------------------------------------------------------------------------------------------------
# the table
def render_markdown(plan: dict, requests: dict) -> str:
    """docs/resources.md: one row per rule of the DAG, the probes' details below."""
    m = plan["machine"]
    margin = plan["margin"]
    speedup = float(load_config(False).get("gpu_speedup_assumed") or 1)
    lines = [
        "# Resources of the paper preset, measured",
        "",
        f"Generated by `{plan['command']}` on {plan['generated']} ({m['cpus']} CPUs, "
        f"{m['memory_gb']} GB, {m['platform']}; load average at the end "
        f"{m['load_avg_at_end']}, per probe in the second table). Do not edit by hand: rerun "
        "the probe (about 15 min on 2 quiet cores). The plan behind this table is "
        "`docs/resources.json`.",
        "",
        "Every job type ran at the paper sizes with its iteration count cut (second table). "
        "*Peak MB* is the probe process's peak resident set (`ru_maxrss` of its own child "
        "process). Times are CPU seconds of that process (all its threads): less inflated by "
        "other load than wall time, but still inflated (threads spin while they wait for a "
        "core), so on a busy machine they overestimate. *CPU h per job* = set-up + full "
        "iterations x CPU s per iteration, and *wall h* = CPU h / threads used (a quiet job on "
        "those threads; more threads are not slower). Requests are the `resources:` of "
        f"config/config.yaml: memory >= peak x {margin} and runtime >= wall h x {margin} "
        "(tests/workflow/test_resources.py checks both), runtime capped at "
        "`cluster_limits.runtime` (such jobs checkpoint and resume on the retry; a runtime margin "
        f"below {margin} in the table marks them). GPU rules ask for the CPU time divided by "
        f"`gpu_speedup_assumed` = {speedup:g} of config/config.yaml, an assumption (the GPU was "
        f"{plan['gpu']} here), and their runtime margin is computed against that; a request too "
        "short costs a retry with attempt x runtime, and trainings and DA runs resume. "
        "Suggested memory requests (`--suggest`) are at least "
        f"{CPU_FLOOR_MB} MB, {GPU_FLOOR_MB} MB for GPU rules (the CUDA context's host memory, "
        f"which a CPU probe cannot see; an allowance, not a measurement), and at least "
        f"{RUNTIME_FLOOR_MIN} min. GPU columns: "
        f"{plan['gpu']} here.",
        "",
        "| rule | jobs | peak MB | CPU h measured | CPU h per job | wall h per job | threads "
        "used / requested | request mem MB / runtime min / gpu | margin mem / runtime | "
        "GPU peak MB | GPU h per job |",
        "|---|---:|---:|---:|---:|---:|---|---|---|---:|---:|",
    ]
    total_cpu_h = 0.0
    for rule, r in plan["rules"].items():
        req = requests.get(rule, {})
        req_txt = f"{req.get('mem_mb', '?')} / {req.get('runtime', '?')} / {req.get('gpu', 0)}"
        if not r["probed"]:
            lines.append(
                f"| {rule} | {r['jobs']} | not probed | - | - | - | 1 / 1 | {req_txt} | - | - | - |"
            )
            continue
        measured_h = (
            sum(p["setup_s"] + p["iterations"] * p["seconds_per_iteration"] for p in r["probes"])
            / 3600
        )
        cpu_h = r["extrapolated_cpu_s"] / 3600
        total_cpu_h += cpu_h * r["jobs"]
        mem_margin = req.get("mem_mb", 0) / max(r["peak_rss_mb"], 1)
        need_s = r["extrapolated_wall_s"] / (speedup if req.get("gpu", 0) else 1)
        time_margin = req.get("runtime", 0) * 60 / max(need_s, 1)
        gpu_mb = "not measured" if r.get("gpu_peak_mb") is None else f"{r['gpu_peak_mb']:.0f}"
        gpu_h = (
            "not measured"
            if plan["gpu"] != "measured"
            else f"{r['extrapolated_wall_s'] / 3600:.2f}"
        )
        lines.append(
            f"| {rule} | {r['jobs']} | {r['peak_rss_mb']:.0f} | {measured_h:.3f} | "
            f"{cpu_h:.2f} | {r['extrapolated_wall_s'] / 3600:.2f} | {r['threads']} / "
            f"{r['threads_requested']} | {req_txt} | {mem_margin:.1f} / {time_margin:.1f} | "
            f"{gpu_mb} | {gpu_h} |"
        )
    lines += [
        "",
        f"**Total of the paper DAG: {total_cpu_h:,.0f} CPU-hours** (jobs x CPU h per job of the "
        "probed rules; an upper bound, as every job of a rule is costed as its most expensive "
        "probed configuration). Figures, tables and collections are not probed (they read "
        "per-run summaries) and run on the default request.",
        "",
        "## Probes",
        "",
        "| probe | rule | what ran | CPU s / iteration | iterations run / full | set-up CPU s | "
        "peak MB | probe wall s | load (1 min) |",
        "|---|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for rule, r in plan["rules"].items():
        for p in r.get("probes", []):
            lines.append(
                f"| {p['probe']} | {rule} | {p['what']} | {p['seconds_per_iteration']:.4g} | "
                f"{p['iterations']:,} / {p['full_iterations']:,} | {p['setup_s']:.1f} | "
                f"{p['peak_rss_mb']:.0f} | {p['wall_s']:.0f} | {p['load_avg_1min']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def config_requests(smoke: bool) -> dict:
    """{rule: {mem_mb, runtime, gpu}} the preset's jobs ask for (config `resources:`, defaults
    filled), runtime of a GPU rule divided by `gpu_speedup_assumed` as workflow/rules/resources.smk
    does (at least RUNTIME_FLOOR_MIN)."""
    cfg = load_config(smoke)
    res = dict(cfg.get("resources", {}))
    default = res.pop("default", {"mem_mb": 2000, "runtime": 30, "gpu": 0})
    speedup = float(cfg.get("gpu_speedup_assumed") or 1)
    out = {rule: {**default, **(res.get(rule) or {})} for rule in res} | {"_default": default}
    for req in out.values():
        if req.get("gpu", 0) > 0:
            req["runtime"] = max(RUNTIME_FLOOR_MIN, math.ceil(req["runtime"] / speedup))
    return out


def suggested_requests(
    plan: dict, gpus: dict[str, int], cap_min: int | None = None
) -> dict[str, dict[str, int]]:
    """{rule: {mem_mb, runtime, gpu}} = the plan x its margin, rounded up (500 MB, 10 min);
    runtime at most `cap_min` (cluster_limits.runtime: longer jobs checkpoint and resume)."""
    margin = plan["margin"]
    out = {}
    for rule, r in plan["rules"].items():
        if not r["probed"]:
            continue
        # floor: a GPU job's CUDA context adds host memory that a CPU probe cannot see
        floor = GPU_FLOOR_MB if gpus.get(rule, 0) else CPU_FLOOR_MB
        mem = max(floor, math.ceil(r["peak_rss_mb"] * margin / 500) * 500)
        runtime = max(RUNTIME_FLOOR_MIN, math.ceil(r["extrapolated_wall_s"] * margin / 600) * 10)
        if cap_min is not None:
            runtime = min(runtime, cap_min)
        out[rule] = {"mem_mb": mem, "runtime": runtime, "gpu": gpus.get(rule, 0)}
    return out


def print_suggestion(plan_path: Path) -> None:
    """The `resources:` entries for config/config.yaml from a plan (gpu kept from the config)."""
    plan = json.loads(plan_path.read_text())
    current = config_requests(smoke=False)
    gpus = {rule: req.get("gpu", 0) for rule, req in current.items()}
    cap = (load_config(False).get("cluster_limits") or {}).get("runtime")
    for rule, req in suggested_requests(plan, gpus, cap).items():
        print(
            f"  {rule}: {{mem_mb: {req['mem_mb']}, runtime: {req['runtime']}, gpu: {req['gpu']}}}"
        )


def merge_plans(paths: list[Path]) -> dict:
    """One plan from several partial runs (--only ...): later probes of the same name win."""
    plans = [json.loads(p.read_text()) for p in paths]
    probes: dict[str, dict] = {}
    for plan in plans:
        for r in plan["rules"].values():
            probes.update({p["probe"]: p for p in r.get("probes", [])})
    measured: dict[str, list[dict]] = {}
    for name, p in probes.items():
        measured.setdefault(PROBES[name][0], []).append(p)
    jobs = {rule: r["jobs"] for rule, r in plans[-1]["rules"].items()}
    merged = dict(plans[-1])
    merged["rules"] = aggregate(jobs, measured)
    merged["command"] = " && ".join(dict.fromkeys(p["command"] for p in plans))
    merged["machine"]["load_avg_at_end"] = max(
        (p["machine"]["load_avg_at_end"] for p in plans), key=lambda x: x[0]
    )
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", type=Path, help="markdown table to write (plan: same name .json)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny preset sizes, seconds")
    parser.add_argument("--only", nargs="*", help="probes or rules to run (data always)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--suggest", type=Path, help="print the config `resources:` entries of a plan (.json)"
    )
    parser.add_argument(
        "--render",
        type=Path,
        nargs="+",
        help="no probes: merge these plans (.json) and write the table with the current requests",
    )
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        run_child(args)
        return
    if args.suggest:
        print_suggestion(args.suggest)
        return
    t0 = time.perf_counter()
    plan = merge_plans(args.render) if args.render else build_plan(args)
    requests = config_requests(args.smoke)
    requests = {rule: requests.get(rule, requests["_default"]) for rule in plan["rules"]}
    text = render_markdown(plan, requests)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(text)
        args.write.with_suffix(".json").write_text(json.dumps(plan, indent=1) + "\n")
        print(f"[paper_resources] wrote {args.write} and {args.write.with_suffix('.json')}")
    else:
        print(text)
    print(f"[paper_resources] done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
