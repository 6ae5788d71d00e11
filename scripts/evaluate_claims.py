"""Rule claims: the reproduction verdict, each claim of the paper evaluated from the results."""

from ddmdyn.claims import claims_dataset, claims_frame, claims_markdown, evaluate_all
from ddmdyn.io import atomic_write_text, provenance_attrs, read_dataset, write_netcdf
from ddmdyn.logs import setup_logging

smk = snakemake  # injected by Snakemake
log = setup_logging(smk.log[0])
settings = smk.params.claims
results = evaluate_all(
    generation=read_dataset(smk.input.generation).load(),
    surrogate=read_dataset(smk.input.surrogate).load(),
    ensembles=read_dataset(smk.input.ensembles).load(),
    assimilation=read_dataset(smk.input.assimilation).load(),
    settings=settings,
    main_variant=smk.params.main_variant,
    n_coarse_steps=smk.params.n_coarse_steps,
)
title = f"Reproduction verdict (preset {smk.params.preset})"
prov = provenance_attrs(dict(smk.params), inputs=list(smk.input), step=smk.rule)
write_netcdf(
    claims_dataset(results, settings["z"]).assign_attrs(title=title), smk.output.netcdf, prov
)
atomic_write_text(smk.output.csv, claims_frame(results).to_csv())
atomic_write_text(smk.output.markdown, claims_markdown(results, title, settings["z"]))
for r in results:
    log.info("%s: %s (%.4g vs %s %.4g)", r.claim, r.verdict, r.estimate, r.direction, r.threshold)
