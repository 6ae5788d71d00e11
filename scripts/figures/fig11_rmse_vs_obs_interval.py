"""Rule fig11_rmse_vs_obs_interval: Analysis RMSE vs observation interval by method."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig11_rmse_vs_obs_interval
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig11_rmse_vs_obs_interval(read_dataset(smk.input.sweep).load())
save_figure(fig, smk.output)
