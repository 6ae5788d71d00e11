"""Config mistakes the JSON schema cannot see, found before any job runs.

- A target typed after `--configfile` (which takes several files) is read as a config file. Most
  such targets never reach the workflow (Snakemake stops on a missing or non-YAML file first), but
  one that parses, e.g. a tuned-parameter JSON under results/, would be merged into the config.
- JSON Schema's `minimum`/`maximum` let NaN through (every comparison with NaN is false), so
  `learning_rate: .nan` would validate.
- Keys that must agree with each other (`cross_key_errors`, on a config the schema accepted): a
  main variant among the variants, coarse step counts dividing the diffusion steps, ...
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .catalogue import AUTHORS_OBS_EVERY, DA_METHODS

# suffixes of files the workflow writes; never those of a config file
OUTPUT_SUFFIXES = frozenset({".pt", ".nc", ".pdf", ".png", ".md", ".csv", ".html", ".log"})


def _display(path: Path) -> str:
    """`path` relative to the working directory where it lies below it, else as given."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def targets_read_as_configfiles(
    configfiles: Iterable[str | os.PathLike[str]], results: str = "results"
) -> list[str]:
    """Config files that look like workflow outputs (an output suffix, or under `results`).

    Args:
        configfiles: the paths given to `--configfile`.
        results: the results folder (config key `results`); a path with these components in its
            folders counts as an output.
    """
    wanted = Path(results).parts
    found = []
    for raw in configfiles:
        path = Path(raw)
        folders = path.parts[:-1]
        under_results = bool(wanted) and any(
            folders[i : i + len(wanted)] == wanted for i in range(len(folders))
        )
        if path.suffix.lower() in OUTPUT_SUFFIXES or under_results:
            found.append(_display(path))
    return found


def configfile_order_message(targets: list[str], presets: list[str]) -> str:
    """The error for targets read as config files, showing the order that works."""
    files = " ".join(presets) or "config/quick.yaml"
    return (
        f"--configfile received {', '.join(targets)}: that looks like a target (an output of "
        "this workflow), not a config file. Snakemake reads every path after --configfile as a "
        f"config file. Put targets first:\n  snakemake {' '.join(targets)} --configfile {files}"
    )


def non_finite_numbers(config: Any, key: str = "") -> list[str]:
    """Dotted keys (list items as `key[i]`) of config values that are NaN or infinite floats."""
    if isinstance(config, Mapping):
        return [
            bad
            for k, v in config.items()
            for bad in non_finite_numbers(v, f"{key}.{k}" if key else str(k))
        ]
    if isinstance(config, (list, tuple)):
        return [bad for i, v in enumerate(config) for bad in non_finite_numbers(v, f"{key}[{i}]")]
    if isinstance(config, float) and not math.isfinite(config):
        return [f"{key}={config}"]
    return []


def config_errors(
    config: Mapping[str, Any], configfiles: Iterable[str | os.PathLike[str]] = ()
) -> list[str]:
    """Every problem of this module's kind, as messages naming the file or key."""
    configfiles = [Path(p) for p in configfiles]
    errors = []
    results = config.get("results")
    targets = targets_read_as_configfiles(
        configfiles, results if isinstance(results, str) and results.strip() else "results"
    )
    if targets:
        presets = [_display(p) for p in configfiles if _display(p) not in targets]
        errors.append(configfile_order_message(targets, presets))
    for bad in non_finite_numbers(config):
        errors.append(f"config {bad}: numbers must be finite (not NaN or infinite)")
    return errors


# ----------------------------------------------------------------------------------------------
# Cross-key checks of a config the schema accepted


def _diffusion_errors(config: Mapping[str, Any]) -> list[str]:
    diffusion = config["diffusion"]
    errors = []
    if diffusion["main_variant"] not in diffusion["variants"]:
        errors.append(
            f"diffusion.main_variant={diffusion['main_variant']!r} is not in diffusion.variants"
        )
    if diffusion["main_seed"] not in diffusion["seeds"]:
        errors.append(f"diffusion.main_seed={diffusion['main_seed']} is not in diffusion.seeds")
    for stage in ("generation", "ensembles"):
        n_coarse_steps = config[stage]["n_coarse_steps"]
        if diffusion["timesteps"] % n_coarse_steps:
            errors.append(
                f"{stage}.n_coarse_steps={n_coarse_steps} must divide "
                f"diffusion.timesteps={diffusion['timesteps']}"
            )
    return errors


def _diffusion_step_errors(config: Mapping[str, Any]) -> list[str]:
    """Diffusion steps S of the ensemble and DA studies within the coarse sampler's steps."""
    n_coarse_steps = config["ensembles"]["n_coarse_steps"]
    assimilation = config["assimilation"]
    lists = {
        "ensembles.diffusion_steps": config["ensembles"]["diffusion_steps"],
        "assimilation.spread_sweep.diffusion_steps": assimilation["spread_sweep"][
            "diffusion_steps"
        ],
        "assimilation.tuning.grids.diffusion_step": assimilation["tuning"]["grids"][
            "diffusion_step"
        ],
    }
    errors = []
    for key, steps in lists.items():
        beyond = [step for step in steps if step > n_coarse_steps]
        if beyond:
            errors.append(
                f"{key} has steps {beyond} beyond ensembles.n_coarse_steps={n_coarse_steps}"
            )
    return errors


def _fixed_constants_errors(config: Mapping[str, Any]) -> list[str]:
    """The authors' static constants away from their observation interval were tuned for
    another covariance (docs/decisions.md): `tuned: fixed` may not use them there."""
    assimilation = config["assimilation"]
    if assimilation["tuned"] != "fixed":
        return []
    static = [m for m, method in DA_METHODS.items() if method.uses_static_covariance]
    sweep = assimilation["obs_interval_sweep"]
    runs = [("assimilation.obs_every", assimilation["obs_every"], assimilation["methods"])] + [
        ("assimilation.obs_interval_sweep.obs_every", obs_every, sweep["methods"])
        for obs_every in sweep["obs_every"]
    ]
    errors = []
    for key, obs_every, methods in runs:
        refused = [m for m in methods if m in static]
        if obs_every != AUTHORS_OBS_EVERY and refused:
            errors.append(
                f"assimilation.tuned=fixed with static-covariance methods {refused} at {key}="
                f"{obs_every}: the authors' constants there were tuned for another covariance "
                "(docs/decisions.md, D6); use assimilation.tuned=grid or observation interval "
                f"{AUTHORS_OBS_EVERY}"
            )
    return errors


def _surrogate_lead_time_errors(config: Mapping[str, Any]) -> list[str]:
    """Fixed lead times of the scaling studies reached by every roll-out."""
    surrogate, data_dt = config["surrogate"], config["data"]["dt"]
    shortest_step = min(dt * data_dt for dt in surrogate["scaling"]["surrogate_dt"])
    # every roll-out covers n_leads main surrogate steps, whatever its own step
    horizon = surrogate["n_leads"] * surrogate["dt"] * data_dt
    unreached = [
        t
        for t in surrogate["scaling"]["lead_times"]
        if t < shortest_step - 1e-9 or t > horizon + 1e-9
    ]
    if not unreached:
        return []
    return [
        f"surrogate.scaling.lead_times {unreached} (MTU) are reached by no roll-out: the "
        f"shortest surrogate step is {shortest_step:g} MTU, the roll-outs end at {horizon:g} MTU "
        "(surrogate.n_leads x surrogate.dt x data.dt)"
    ]


def _tuning_truth_errors(config: Mapping[str, Any]) -> list[str]:
    n_truths = config["assimilation"]["tuning"]["n_truths"]
    n_train = config["data"]["splits"]["train"]["n_trajectories"]
    if n_truths <= n_train:
        return []
    return [
        f"assimilation.tuning.n_truths={n_truths} exceeds the {n_train} training trajectories "
        "(data.splits.train.n_trajectories)"
    ]


def cross_key_errors(config: Mapping[str, Any]) -> list[str]:
    """Keys of a schema-valid config that contradict each other, as messages naming the keys."""
    return [
        *_diffusion_errors(config),
        *_diffusion_step_errors(config),
        *_fixed_constants_errors(config),
        *_surrogate_lead_time_errors(config),
        *_tuning_truth_errors(config),
    ]
