"""Rules surrogate_table / surrogate_study: collect roll-out scores over runs."""

from ddmdyn.io import provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging
from ddmdyn.surrogate.collect import scaling_dataset, surrogate_table_dataset
from ddmdyn.tables import write_table

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule)
if smk.rule == "surrogate_table":
    table = surrogate_table_dataset(runs, smk.params.configurations, smk.params.seeds)
    write_table(
        table,
        index_dim="configuration",
        over="seed",
        outputs=smk.output,
        provenance=prov,
        title=f"Surrogate scores (normalised), mean ± std over seeds {list(smk.params.seeds)}",
    )
else:
    study = smk.wildcards.study
    ds = scaling_dataset(
        runs,
        study,
        smk.params.points,
        smk.params.configurations,
        smk.params.seeds,
        run_points=smk.params.run_points,
        lead_times=smk.params.lead_times,
    )
    write_netcdf(ds, smk.output[0], prov)
log.info("collected %d runs", len(runs))
