"""Config mistakes stop Snakemake before any job, with a message a person can act on.

Each case is a dry run that fails while the Snakefile is read (seconds). The unit tests below pin
the detection rules of ddmdyn.config_checks directly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from ddmdyn.config_checks import config_errors, non_finite_numbers, targets_read_as_configfiles
from tests.smk import TINY, snakemake


def _fails(tmp_path: Path, *configfiles: Path | str) -> str:
    proc = snakemake(
        "-n", "--configfile", str(TINY), *map(str, configfiles), workdir=tmp_path, check=False
    )
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert "Job stats" not in proc.stdout, "the DAG was built despite the bad config"
    return proc.stdout + proc.stderr


def test_parsable_target_after_configfile_is_named_with_the_right_order(tmp_path):
    """A tuned-parameter JSON typed after --configfile parses as a config; the workflow stops."""
    target = tmp_path / "results" / "assimilation" / "tuned" / "obs10" / "etkf_12.json"
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps({"method": "etkf_12", "value": 1.05}))
    out = _fails(tmp_path, target)
    assert "looks like a target" in out
    # shown relative to the working directory (here --directory tmp_path), presets after it
    right_order = f"snakemake {target.relative_to(tmp_path)} --configfile {TINY}"
    assert right_order in out, out


def test_nan_learning_rate_is_rejected_naming_the_key(tmp_path):
    edit = tmp_path / "nan.yaml"
    edit.write_text("diffusion:\n  training:\n    learning_rate: .nan\n")
    out = _fails(tmp_path, edit)
    assert "diffusion.training.learning_rate=nan" in out and "finite" in out


def test_empty_results_folder_is_rejected(tmp_path):
    edit = tmp_path / "empty.yaml"
    edit.write_text("results: ''\n")
    out = _fails(tmp_path, edit)
    assert "['results']" in out


def test_sweep_values_that_share_a_path_label_are_refused(tmp_path):
    """Path labels are made from the values (c0.1); two values with one label would share files."""
    edit = tmp_path / "labels.yaml"
    edit.write_text("surrogate:\n  scaling:\n    corruption_levels: [0.1, 0.1000001]\n")
    out = _fails(tmp_path, edit)
    assert "surrogate.scaling.corruption_levels" in out and "share path labels" in out


@pytest.mark.parametrize(
    "path",
    [
        "results/diffusion/velocity_cos/0/model.pt",
        "results/tables/generation_scores.md",
        "results/figures/fig01_attractor_samples.pdf",
        "out/fig.png",
        "scores.csv",
        "results/report.html",
        "results/data/test.nc",
        "/abs/results/assimilation/tuned/obs10/enoi.json",
    ],
)
def test_outputs_are_recognised_as_targets(path):
    assert targets_read_as_configfiles([path]) == [path]


@pytest.mark.parametrize(
    "path", ["config/quick.yaml", "my_edit.yaml", "results_configs/a.yaml", "/x/edit.json"]
)
def test_config_files_are_not_flagged(path):
    assert targets_read_as_configfiles([path]) == []


def test_custom_results_folder_counts():
    assert targets_read_as_configfiles(["out/run1/x.json"], results="out/run1") == [
        "out/run1/x.json"
    ]
    assert targets_read_as_configfiles(["out/x.json"], results="out/run1") == []


def test_non_finite_numbers_named_with_their_path():
    cfg = {"a": {"b": math.nan, "c": 1.0}, "grid": [1.0, math.inf], "s": "nan", "n": 3}
    assert non_finite_numbers(cfg) == ["a.b=nan", "grid[1]=inf"]


def test_valid_configs_have_no_errors():
    assert config_errors({"results": "results", "x": [1.0, 2]}, ["config/quick.yaml"]) == []
