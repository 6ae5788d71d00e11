"""Rule surrogate_table: the main experiment's roll-out scores as the surrogate scores table."""

from ddmdyn.io import provenance_attrs, read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.surrogate.collect import surrogate_table_dataset
from ddmdyn.tables import write_table

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
runs = [read_dataset(path).load() for path in smk.input.runs]
write_table(
    surrogate_table_dataset(runs, smk.params.configurations, smk.params.seeds),
    index_dim="configuration",
    over="seed",
    outputs=smk.output,
    provenance=provenance_attrs(dict(smk.params), inputs=list(smk.input.runs), step=smk.rule),
    title=f"Surrogate scores (normalised), mean ± std over seeds {list(smk.params.seeds)}",
)
log.info("collected %d runs", len(runs))
