"""Rules da_spread_sweep / da_obs_interval_sweep / da_table: collect DA runs."""

from ddmdyn.assimilation.collect import (
    obs_interval_dataset,
    spread_sweep_dataset,
    table_dataset,
)
from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.tables import write_table

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
if smk.rule == "da_spread_sweep":
    write_netcdf(spread_sweep_dataset(runs, smk.params.steps), smk.output[0], prov)
elif smk.rule == "da_obs_interval_sweep":
    ds = obs_interval_dataset(runs, smk.params.methods, smk.params.obs_every)
    write_netcdf(ds, smk.output[0], prov)
else:
    methods = list(smk.params.methods)
    ours = {r.attrs["method"]: r.attrs["parameter_value"] for r in runs}
    write_table(
        table_dataset(runs, methods),
        index_dim="method",
        over="truth",
        outputs=smk.output,
        provenance=prov,
        title=(
            f"Cycled DA scores (normalised), observation interval {smk.params.obs_every}, "
            "mean ± std over truths"
        ),
        extra_columns={
            "parameter (ours)": [f"{ours[m]:g}" for m in methods],
            "parameter (authors)": [str(smk.params.authors[m]) for m in methods],
        },
    )
log.info("collected %d runs", len(runs))
