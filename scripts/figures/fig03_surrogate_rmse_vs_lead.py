"""Rule fig03_surrogate_rmse_vs_lead: Surrogate RMSE vs lead time for every configuration."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig03_surrogate_rmse_vs_lead
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig03_surrogate_rmse_vs_lead(read_dataset(smk.input.table).load())
save_figure(fig, smk.output)
