"""Rule fig06_error_vs_surrogate_dt: surrogate error at fixed lead times vs surrogate step."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig06_error_vs_surrogate_dt
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
study = read_dataset(smk.input.study).load()
fig = fig06_error_vs_surrogate_dt(study)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(study, smk.output.data, figure=smk.rule, inputs=list(smk.input))
