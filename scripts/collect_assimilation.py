"""Rules da_spread_sweep / da_obs_interval_sweep / da_table: collect DA runs."""

import numpy as np

from ddmdyn.assimilation.collect import (
    TABLE_NOTES,
    da_table_frames,
    obs_interval_dataset,
    spread_sweep_dataset,
    table_dataset,
    with_divergence,
    with_pooled_scores,
)
from ddmdyn.dynamics import NORM_SCALE
from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.tables import write_frames

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
if smk.rule == "da_spread_sweep":
    write_netcdf(spread_sweep_dataset(runs, smk.params.steps), smk.output[0], prov)
elif smk.rule == "da_obs_interval_sweep":
    ds = obs_interval_dataset(runs, smk.params.methods, smk.params.obs_every)
    ds = with_pooled_scores(ds, float(smk.params.divergence_nrmse))
    write_netcdf(ds, smk.output[0], prov)
else:
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
