"""The config schema rejects typos, wrong types and out-of-range values, naming the key."""

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

ROOT = Path(__file__).parents[2]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def _merge(base, over):
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _config(preset=None):
    cfg = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    if preset:
        cfg = _merge(cfg, yaml.safe_load((ROOT / preset).read_text()))
    return cfg


@pytest.mark.parametrize("preset", [None, "config/quick.yaml", "tests/config/tiny.yaml"])
def test_presets_validate(preset):
    validate(_config(preset), SCHEMA)


def _error(cfg):
    with pytest.raises(WorkflowError) as info:
        validate(cfg, SCHEMA)
    return str(info.value)


def test_misspelt_key_is_named():
    cfg = _config()
    cfg["data"]["n_stpes"] = 10
    assert "n_stpes" in _error(cfg)


def test_wrong_type_is_named():
    cfg = _config()
    cfg["data"]["n_steps"] = "many"
    msg = _error(cfg)
    assert "'many' is not of type 'integer'" in msg and "['data']['n_steps']" in msg


def test_out_of_range_value_is_named():
    cfg = _config()
    cfg["data"]["splits"]["test"]["n_trajectories"] = 0
    msg = _error(cfg)
    assert "['data']['splits']['test']['n_trajectories']" in msg and "minimum" in msg


def test_bad_enum_is_named():
    cfg = _config()
    cfg["device"] = "tpu"
    msg = _error(cfg)
    assert "['device']" in msg and "tpu" in msg


@pytest.mark.parametrize("results", ["", "   "])
def test_empty_results_folder_is_rejected(results):
    cfg = _config()
    cfg["results"] = results
    assert "['results']" in _error(cfg)
