"""Rule generation_table: variants x scores, mean +- std over seeds (netCDF, CSV, Markdown)."""

from ddmdyn.io import provenance_attrs, read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.tables import stack_runs, write_table

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
variants, seeds = smk.params.variants, smk.params.seeds
runs = {}
for path in smk.input.scores:
    ds = read_dataset(path).load()
    runs[(ds.attrs["variant"], int(ds.attrs["seed"]))] = ds
table = stack_runs(runs, dims=("variant", "seed"), coords=(variants, seeds))
table.attrs["weights"] = smk.params.weights
write_table(
    table,
    index_dim="variant",
    over="seed",
    outputs=smk.output,
    provenance=provenance_attrs(dict(smk.params), inputs=smk.input.scores, step=smk.rule),
    title=f"Generation scores ({smk.params.weights} weights), mean ± std over seeds {list(seeds)}",
)
log.info("wrote %s", smk.output.markdown)
