"""Rule da_table: the DA scores table at the main observation interval."""

import numpy as np

from ddmdyn.assimilation.collect import (
    TABLE_NOTES,
    da_table_frames,
    table_dataset,
    with_divergence,
)
from ddmdyn.dynamics import NORM_SCALE
from ddmdyn.io import provenance_attrs, read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.tables import write_frames

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
methods = list(smk.params.methods)
ours = {r.attrs["method"]: r.attrs["parameter_value"] for r in runs}
threshold = float(smk.params.divergence_nrmse)
table = with_divergence(table_dataset(runs, methods), threshold)
numeric, text = da_table_frames(table)
obs_nrmse = float(np.sqrt(np.mean((smk.params.obs_std / NORM_SCALE) ** 2)))
write_frames(
    table,
    numeric,
    text,
    outputs=smk.output,
    provenance=prov,
    title=(
        f"Cycled DA scores (normalised), observation interval {smk.params.obs_every}: "
        f"pooled over {table.sizes['truth']} test truths, per-truth mean ± std beside"
    ),
    extra_columns={
        "parameter (ours)": [f"{ours[m]:g}" for m in methods],
        "parameter (authors)": [str(smk.params.authors[m]) for m in methods],
    },
    notes=TABLE_NOTES.format(threshold=threshold, obs=obs_nrmse),
)
log.info("collected %d runs", len(runs))
