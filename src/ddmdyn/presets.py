"""Presets as the workflow sees them: the paper preset with another preset merged on top.

Snakemake's ``--configfile`` semantics: nested mappings merge key by key, every other value
(lists included) replaces the base value. Used where a preset is needed outside Snakemake (the
resource probe, the schema tests).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml


def merge_presets(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged onto a copy of `base`: mappings merge, other values replace."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_presets(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_preset(paper: str | Path, preset: str | Path | None = None) -> dict[str, Any]:
    """The paper preset file (config/config.yaml) with `preset` merged on top, if given."""
    config = yaml.safe_load(Path(paper).read_text())
    if preset is not None:
        config = merge_presets(config, yaml.safe_load(Path(preset).read_text()))
    return config
