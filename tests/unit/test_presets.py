"""Preset merging follows Snakemake's --configfile semantics."""

from pathlib import Path

import yaml

from ddmdyn.presets import load_preset, merge_presets

ROOT = Path(__file__).parents[2]


def test_nested_mappings_merge_and_lists_replace_without_touching_the_base():
    base = {"a": {"b": 1, "c": [1, 2, 3]}, "d": "x", "e": {"f": {"g": 1}}}
    override = {"a": {"c": [9]}, "e": {"f": {"h": 2}}, "i": None}
    merged = merge_presets(base, override)
    assert merged == {"a": {"b": 1, "c": [9]}, "d": "x", "e": {"f": {"g": 1, "h": 2}}, "i": None}
    assert base == {"a": {"b": 1, "c": [1, 2, 3]}, "d": "x", "e": {"f": {"g": 1}}}
    merged["a"]["c"].append(10)
    assert override["a"]["c"] == [9]


def test_a_mapping_replaces_a_scalar_and_a_scalar_a_mapping():
    assert merge_presets({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}
    assert merge_presets({"a": {"b": 2}}, {"a": 1}) == {"a": 1}


def test_the_tiny_preset_keeps_paper_keys_it_does_not_set():
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    tiny = yaml.safe_load((ROOT / "tests" / "config" / "tiny.yaml").read_text())
    merged = load_preset(ROOT / "config" / "config.yaml", ROOT / "tests" / "config" / "tiny.yaml")
    assert merged["data"]["n_steps"] == tiny["data"]["n_steps"] != paper["data"]["n_steps"]
    assert merged["data"]["sigma"] == paper["data"]["sigma"]
    assert load_preset(ROOT / "config" / "config.yaml") == paper
