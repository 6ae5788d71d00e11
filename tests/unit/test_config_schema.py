"""The config schema rejects typos, wrong types and out-of-range values, naming the key."""

from pathlib import Path

import pytest
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from ddmdyn.presets import load_preset, merge_presets

ROOT = Path(__file__).parents[2]
SCHEMA = str(ROOT / "workflow" / "schemas" / "config.schema.yaml")


def _config(preset=None):
    return load_preset(ROOT / "config" / "config.yaml", ROOT / preset if preset else None)


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


# ----------------------------------------------------------------------------------------------
# Cross-key checks (ddmdyn.config_checks.cross_key_errors), on configs the schema accepts


@pytest.mark.parametrize("preset", [None, "config/quick.yaml", "tests/config/tiny.yaml"])
def test_presets_have_no_cross_key_errors(preset):
    from ddmdyn.config_checks import cross_key_errors

    assert cross_key_errors(_config(preset)) == []


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        ({"diffusion": {"main_variant": "state_linear"}}, "diffusion.main_variant"),
        ({"diffusion": {"main_seed": 99}}, "diffusion.main_seed"),
        ({"generation": {"n_coarse_steps": 7}}, "generation.n_coarse_steps=7 must divide"),
        ({"ensembles": {"diffusion_steps": [1, 200]}}, "ensembles.diffusion_steps has steps [200]"),
        (
            {"assimilation": {"tuning": {"grids": {"diffusion_step": [1, 101]}}}},
            "assimilation.tuning.grids.diffusion_step has steps [101]",
        ),
        (
            {"assimilation": {"tuned": "fixed", "obs_every": 5}},
            "assimilation.tuned=fixed with static-covariance methods",
        ),
        ({"surrogate": {"scaling": {"lead_times": [0.001]}}}, "surrogate.scaling.lead_times"),
        ({"assimilation": {"tuning": {"n_truths": 10**6}}}, "assimilation.tuning.n_truths"),
    ],
)
def test_contradicting_keys_are_named(edit, named):
    from ddmdyn.config_checks import cross_key_errors

    cfg = merge_presets(_config("tests/config/tiny.yaml"), edit)
    validate(cfg, SCHEMA)  # the schema alone accepts it
    errors = cross_key_errors(cfg)
    assert errors and all(named in error for error in errors), errors


def test_fixed_constants_apply_at_the_authors_interval_only():
    from ddmdyn.catalogue import AUTHORS_OBS_EVERY
    from ddmdyn.config_checks import cross_key_errors

    sweep = {"obs_every": [AUTHORS_OBS_EVERY], "methods": ["enoi_full"]}
    fixed = {"assimilation": {"tuned": "fixed", "obs_interval_sweep": sweep}}
    assert cross_key_errors(merge_presets(_config(), fixed)) == []
