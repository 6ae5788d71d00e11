"""Rule fig04_error_vs_training_size: Surrogate error vs training-set size."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig04_error_vs_training_size
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
study = read_dataset(smk.input.study).load()
fig = fig04_error_vs_training_size(study)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(study, smk.output.data, figure=smk.rule, inputs=list(smk.input))
