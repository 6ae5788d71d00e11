"""Rule fig06_error_vs_surrogate_dt: Surrogate error vs surrogate time step."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig06_error_vs_surrogate_dt
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig06_error_vs_surrogate_dt(read_dataset(smk.input.study).load())
save_figure(fig, smk.output)
