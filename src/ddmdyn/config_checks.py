"""Config mistakes the JSON schema cannot see, found before any job runs.

- A target typed after `--configfile` (which takes several files) is read as a config file. Most
  such targets never reach the workflow (Snakemake stops on a missing or non-YAML file first), but
  one that parses, e.g. a tuned-parameter JSON under results/, would be merged into the config.
- JSON Schema's `minimum`/`maximum` let NaN through (every comparison with NaN is false), so
  `learning_rate: .nan` would validate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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
