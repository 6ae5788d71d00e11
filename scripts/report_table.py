"""Rule report_table: one result table as a readable HTML page for the report."""

from pathlib import Path

from ddmdyn.io import atomic_write_text
from ddmdyn.logs import setup_logging
from ddmdyn.report_tables import table_page

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
markdown = Path(smk.input.markdown).read_text()
csv = Path(smk.input.csv).read_text() if "csv" in smk.input.keys() else None
atomic_write_text(smk.output[0], table_page(smk.wildcards.name.replace("_", " "), markdown, csv))
log.info("wrote %s", smk.output[0])
