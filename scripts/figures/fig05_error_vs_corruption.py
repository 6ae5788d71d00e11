"""Rule fig05_error_vs_corruption: Surrogate error vs target corruption."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig05_error_vs_corruption
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig05_error_vs_corruption(read_dataset(smk.input.study).load())
save_figure(fig, smk.output)
