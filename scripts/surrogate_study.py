"""Rule surrogate_study: one scaling study's roll-out scores along its swept parameter."""

from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.surrogate.collect import scaling_dataset

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
sweep = smk.params.sweep
ds = scaling_dataset(
    runs,
    sweep["quantity"],
    sweep["values"],
    sweep["run_values"],
    smk.params.configurations,
    smk.params.seeds,
    lead_times=smk.params.lead_times,
    description=sweep["description"],
    study=smk.wildcards.study,
)
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
write_netcdf(ds, smk.output[0], prov)
log.info("collected %d runs", len(runs))
