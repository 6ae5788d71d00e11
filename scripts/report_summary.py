"""Rule report_summary: the report's first page (preset, commit, date, where jobs ran, skips)."""

import datetime as dt
from pathlib import Path

import yaml

from ddmdyn.io import atomic_write_text
from ddmdyn.logs import setup_logging
from ddmdyn.report_summary import (
    config_differences,
    failed_jobs,
    git_describe,
    read_provenance,
    snakemake_logs,
    summary_page,
)

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
records = [read_provenance(path) for path in smk.input.results]
paper = yaml.safe_load(Path(smk.input.paper_config).read_text())
not_made = []
if smk.params.tuned != "grid":
    not_made.append(
        f"grid tuning of the DA methods (assimilation.tuned = {smk.params.tuned}: the "
        "authors' published values are used, so there are no tuning curves)"
    )
page = summary_page(
    preset=smk.params.preset,
    commit=git_describe(Path(smk.scriptdir).parent),
    made_at=dt.datetime.now(dt.UTC),
    records=records,
    differences=config_differences(smk.config, paper),  # not a param: no reruns for threads
    failed=failed_jobs(snakemake_logs(".")),
    not_made=not_made,
)
atomic_write_text(smk.output[0], page)
log.info("wrote %s from %d result files", smk.output[0], len(records))
