"""Rule da_select: fewest diverged tuning truths, then lowest pooled analysis nRMSE.

The selection rule of docs/decisions.md, D5.
"""

import json

from ddmdyn.assimilation.tuning import select_optimum
from ddmdyn.io import atomic_write_text, read_dataset
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
choice = select_optimum(
    runs,
    authors_value=smk.params.authors,
    divergence_nrmse=smk.params.divergence_nrmse,
    on_grid_edge=smk.params.on_grid_edge,
    obs_every=smk.params.obs_every,
)
log.info(
    "%s at obs interval %s: %s = %s (pooled nRMSE %s, %d of %d tuning truths diverged; "
    "authors: %s)",
    smk.wildcards.method,
    smk.params.obs_every,
    choice["parameter_name"],
    choice["value"],
    choice["objective"],
    choice["n_diverged"],
    choice["n_truths"],
    smk.params.authors,
)
if choice["edge_error"]:
    log.warning(
        "%s is on the %s edge of its grid (allowed by assimilation.tuning.on_grid_edge=warn)",
        choice["value"],
        choice["edge_side"],
    )
if choice["n_diverged"]:
    log.warning("the chosen value diverged on %d tuning truths", choice["n_diverged"])
atomic_write_text(smk.output[0], json.dumps(choice, indent=2) + "\n")
