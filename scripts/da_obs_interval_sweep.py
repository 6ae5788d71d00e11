"""Rule da_obs_interval_sweep: the DA runs over the observation interval, with pooled scores."""

from ddmdyn.assimilation.collect import obs_interval_dataset, with_pooled_scores
from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
ds = obs_interval_dataset(runs, smk.params.methods, smk.params.obs_every)
ds = with_pooled_scores(ds, float(smk.params.divergence_nrmse))
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
write_netcdf(ds, smk.output[0], prov)
log.info("collected %d runs", len(runs))
