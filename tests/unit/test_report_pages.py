"""Report pages: result tables as HTML, and the run summary (provenance, skips, failed jobs)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import numpy as np
import xarray as xr

from ddmdyn.io import provenance_attrs, write_netcdf
from ddmdyn.report_summary import (
    config_differences,
    failed_jobs,
    read_provenance,
    runs_by_step,
    summary_page,
)
from ddmdyn.report_tables import csv_to_html, markdown_to_html, table_page

MARKDOWN = """# Generation scores, mean ± std over seeds [0, 1]

| variant | hellinger | note |
|---|---:|---:|
| velocity_cos | 0.1234 ± 0.01 | a \\| b |
| noise_cos | n/a | <script> |
"""


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row) for row in rows]


def test_markdown_table_becomes_an_html_table_cell_by_cell():
    html = markdown_to_html(MARKDOWN)
    assert "<h1>Generation scores, mean ± std over seeds [0, 1]</h1>" in html
    assert _cells(html) == [
        ["variant", "hellinger", "note"],
        ["velocity_cos", "0.1234 ± 0.01", "a | b"],
        ["noise_cos", "n/a", "&lt;script&gt;"],
    ]
    assert "<script>" not in html  # cell text is escaped, never markup


def test_text_around_tables_is_kept():
    html = markdown_to_html("Intro line\nsecond line\n\n- claim **one**\n- claim `two`\n")
    assert "<p>Intro line second line</p>" in html
    assert "<li>claim <strong>one</strong></li>" in html
    assert "<li>claim <code>two</code></li>" in html


def test_csv_numbers_are_shown_exactly_as_written():
    csv = "variant,hellinger_mean,hellinger_std\nvelocity_cos,0.123456789012,1e-05\n"
    assert _cells(csv_to_html(csv)) == [
        ["variant", "hellinger_mean", "hellinger_std"],
        ["velocity_cos", "0.123456789012", "1e-05"],
    ]


def test_table_page_holds_both_tables_and_a_title():
    page = table_page("generation scores", MARKDOWN, "a,b\n1.5,2\n")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<table>") == 2
    assert "<td class='num'>1.5</td>" in page
    untitled = table_page("claims", "| a |\n|---|\n| 1 |\n")
    assert "<h1>claims</h1>" in untitled and untitled.count("<table>") == 1


def _result_file(path, step, monkeypatch, job_id=None):
    if job_id is None:
        monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    else:
        monkeypatch.setenv("SLURM_JOB_ID", job_id)
    ds = xr.Dataset({"v": ("x", np.arange(3.0), {"units": "1", "long_name": "v"})})
    write_netcdf(ds, path, provenance_attrs({"a": 1}, step=step))
    return path


def test_provenance_says_which_files_ran_under_slurm(tmp_path, monkeypatch):
    files = [
        _result_file(tmp_path / "a.nc", "train_diffusion", monkeypatch, job_id="4711"),
        _result_file(tmp_path / "b.nc", "train_diffusion", monkeypatch, job_id="4712"),
        _result_file(tmp_path / "c.nc", "train_diffusion", monkeypatch),
        _result_file(tmp_path / "d.nc", "da_table", monkeypatch),
    ]
    records = [read_provenance(f) for f in files]
    assert [r.ran_on_slurm for r in records] == [True, True, False, False]
    assert records[0].slurm_job_id == "4711" and records[0].step == "train_diffusion"
    steps = {s.step: s for s in runs_by_step(records)}
    assert steps["train_diffusion"].n_files == 3 and steps["train_diffusion"].n_local == 1
    assert steps["train_diffusion"].where == "1 local, SLURM jobs 4711, 4712"
    assert steps["da_table"].where == "local"
    assert steps["da_table"].first_created == records[3].created


def test_config_differences_list_what_the_preset_leaves_out():
    paper = {
        "preset": "paper",
        "diffusion": {"variants": ["a", "b", "c"], "seeds": [0, 1], "threads": 4},
        "data": {"n_steps": 1000, "dt": 0.01},
    }
    preset = {
        "preset": "tiny",
        "diffusion": {"variants": ["a", "c"], "seeds": [0, 1], "threads": 1},
        "data": {"n_steps": 10, "dt": 0.01},
    }
    diffs = {d.key: d for d in config_differences(preset, paper)}
    assert set(diffs) == {"diffusion.variants", "data.n_steps"}
    assert diffs["diffusion.variants"].missing == ("b",)
    assert diffs["diffusion.variants"].description == "not run: b"
    assert (diffs["data.n_steps"].paper, diffs["data.n_steps"].preset) == (1000, 10)
    assert config_differences(paper, paper) == []


SNAKEMAKE_LOG = """Building DAG of jobs...
Error in rule train_diffusion:
    message: None
    jobid: 12
    input: results/data/train.nc
    output: results/diffusion/v/3/model.pt, results/diffusion/v/3/training_log.nc
    log: results/logs/diffusion/velocity_cos/3.log (check log file(s) for error details)
    external_jobid: 99123

Finished job 13.
Error in rule da_run:
    jobid: 40
    output: results/assimilation/runs/obs10/var3d.nc
Complete log: .snakemake/log/x.snakemake.log
"""


def test_failed_jobs_are_read_from_snakemake_logs(tmp_path):
    log = tmp_path / "2026-01-01T000000.snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    jobs = failed_jobs([log])
    assert [j.rule for j in jobs] == ["train_diffusion", "da_run"]
    first = jobs[0]
    assert first.details["jobid"] == "12"
    assert first.details["external_jobid"] == "99123"
    assert first.details["log"] == "results/logs/diffusion/velocity_cos/3.log"
    assert first.outputs == [
        "results/diffusion/v/3/model.pt",
        "results/diffusion/v/3/training_log.nc",
    ]
    assert jobs[1].outputs == ["results/assimilation/runs/obs10/var3d.nc"]


def test_summary_page_names_preset_commit_jobs_and_skips(tmp_path, monkeypatch):
    rec = read_provenance(_result_file(tmp_path / "a.nc", "train_diffusion", monkeypatch, "4711"))
    log = tmp_path / "x.snakemake.log"
    log.write_text(SNAKEMAKE_LOG)
    page = summary_page(
        preset="tiny",
        commit="v1.0-3-gabc1234-dirty",
        made_at=dt.datetime(2026, 1, 2, 3, 4, tzinfo=dt.UTC),
        records=[rec],
        differences=config_differences({"seeds": [0]}, {"seeds": [0, 1, 2]}),
        failed=failed_jobs([log]),
        not_made=["grid tuning"],
    )
    for text in (
        "preset <code>tiny</code>",
        "v1.0-3-gabc1234-dirty",
        "2026-01-02 03:04 UTC",
        "SLURM job 4711",
        "train_diffusion",
        "da_run",
        "not run: 1, 2",
        "grid tuning",
    ):
        assert text in page, text
    clean = _clean_paper_page([rec])
    assert "No failed jobs" in clean and "nothing reduced or left out" in clean
    unknown = dataclasses.replace(rec, git_commit="unknown", git_dirty="unknown")
    assert "not recorded" in _clean_paper_page([unknown])


def _clean_paper_page(records):
    """Summary page of a paper-preset run of `records` with no reductions and no failed jobs."""
    return summary_page(
        preset="paper",
        commit="abc",
        made_at=dt.datetime(2026, 1, 2, tzinfo=dt.UTC),
        records=records,
        differences=[],
        failed=[],
    )
