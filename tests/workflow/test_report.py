"""The report of the tiny run shows every result: tables as tables, tuning and training curves,
and a first page naming the preset, the commit and what the preset leaves out."""

from __future__ import annotations

import base64
import csv
import json
import re
from pathlib import Path

import pytest
import xarray as xr
import yaml

from tests.smk import ROOT, TINY, snakemake

TABLES = ["generation_scores", "surrogate_scores", "assimilation_scores"]


@pytest.fixture(scope="module")
def report(tiny_run) -> dict:
    """The report of the tiny run as {"results": the embedded results JSON, "categories": ...}."""
    path = tiny_run / "results" / "report_full.html"
    snakemake("--configfile", str(TINY), "--report", str(path), workdir=tiny_run)
    html = path.read_text()
    out = {}
    for name in ("results", "categories"):
        match = re.search(rf"var {name} = (\{{.*?\}});\n", html, re.S)
        assert match, f"no '{name}' in the report"
        out[name] = json.loads(match.group(1))
    return out


def _entry(report: dict, filename: str) -> dict:
    found = [e for path, e in report["results"].items() if Path(path).name == filename]
    assert len(found) == 1, f"{filename} not (once) in the report: {sorted(report['results'])}"
    return found[0]


def _content(entry: dict) -> bytes:
    """The bytes of a result embedded in the report (its base64 data URI)."""
    return base64.b64decode(entry["data_uri"].split("base64,", 1)[1])


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", html)


@pytest.mark.parametrize("name", TABLES)
def test_every_table_is_a_readable_table_in_the_report(report, tiny_run, name):
    entry = _entry(report, f"{name}.html")
    assert entry["mime_type"] == "text/html"  # shown inline, not a download
    page = _content(entry).decode()
    assert page.count("<table>") == 2
    cells = _cells(page)
    tables = tiny_run / "results" / "tables"
    with open(tables / f"{name}.csv") as f:
        rows = list(csv.reader(f))
    number = next(v for v in rows[1][1:] if re.fullmatch(r"-?\d+\.\d+(e-?\d+)?", v))
    assert number in cells  # a full-precision number of the CSV, as a table cell
    md_row = next(ln for ln in (tables / f"{name}.md").read_text().splitlines()[4:] if "±" in ln)
    formatted = next(c.strip() for c in md_row.strip("|").split("|") if "±" in c)
    assert formatted in cells  # a formatted "mean ± std" cell of the Markdown table
    assert entry["caption"]  # the caption says what the table is
    assert _entry(report, f"{name}.csv")["mime_type"] == "text/csv"


def test_tuning_curves_of_every_observation_interval(report):
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["assimilation"]
    cfg = yaml.safe_load(TINY.read_text())["assimilation"]
    main_interval = cfg.get("obs_every", paper["obs_every"])  # tiny keeps the paper's
    intervals = {main_interval, *cfg["obs_interval_sweep"]["obs_every"]}
    for obs in intervals:
        entry = _entry(report, f"tuning_obs{obs}.png")
        assert _content(entry).startswith(b"\x89PNG")
        assert f"observed every {obs} steps" in entry["caption"]


def test_training_curves_of_every_model(report, tiny_run):
    entry = _entry(report, "training_diffusion.png")
    assert _content(entry).startswith(b"\x89PNG")
    trained = [p for p in report["results"] if Path(p).name.startswith("training_surrogate_")]
    assert "training_surrogate_main.png" in {Path(p).name for p in trained}
    assert "Training curves" in report["categories"]


def test_first_page_names_preset_commit_and_what_was_left_out(report, tiny_run):
    assert "About this run" in report["categories"]
    assert sorted(report["categories"])[0] == "About this run"  # the menu sorts categories
    page = _content(_entry(report, "run_summary.html")).decode()
    assert "preset <code>tiny</code>" in page
    with xr.open_dataset(tiny_run / "results" / "data" / "train.nc") as ds:
        commit = ds.attrs["provenance_git_commit"]
    # the commit recorded in the result files ("unknown" where the job found no checkout)
    assert (commit[:12] if commit != "unknown" else "not recorded") in page
    assert re.search(r"Commit \(this page\)</td><td>[^<]*[0-9a-f]{7}", page)
    assert "train_diffusion" in page and "local" in page  # what ran where
    paper = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    tiny = yaml.safe_load(TINY.read_text())
    left_out = [v for v in paper["diffusion"]["variants"] if v not in tiny["diffusion"]["variants"]]
    assert left_out and f"not run: {', '.join(left_out)}" in page
