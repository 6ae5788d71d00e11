"""Rule da_spread_sweep: the DA runs over the diffusion step S as one dataset."""

from ddmdyn.assimilation.collect import spread_sweep_dataset
from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
write_netcdf(spread_sweep_dataset(runs, smk.params.diffusion_steps), smk.output[0], prov)
log.info("collected %d runs", len(runs))
