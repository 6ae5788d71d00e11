"""Rule fig11_rmse_vs_obs_interval: Analysis RMSE vs observation interval by method."""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig11_rmse_vs_obs_interval
from ddmdyn.plotting.figure_data import write_figure_data
from ddmdyn.plotting.output import save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
sweep = read_dataset(smk.input.sweep).load()
fig = fig11_rmse_vs_obs_interval(sweep)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(sweep, smk.output.data, figure=smk.rule, inputs=list(smk.input))
