"""Rule da_select: the grid value with the lowest time-mean analysis nRMSE (decision 11.5)."""

import json

from ddmdyn.assimilation.tuning import select_optimum
from ddmdyn.io import atomic_write_text, read_dataset
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
choice = select_optimum(runs, authors_value=smk.params.authors)
log.info(
    "%s at obs interval %s: %s = %s (objective %.4f; authors: %s)",
    smk.wildcards.method,
    smk.wildcards.obs_every,
    choice["parameter_name"],
    choice["value"],
    choice["objective"],
    smk.params.authors,
)
atomic_write_text(smk.output[0], json.dumps(choice, indent=2) + "\n")
