"""Rule fig10_rmse_spread_in_window: RMSE and spread inside the assimilation window by method."""

from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig10_rmse_spread_in_window
from ddmdyn.plotting.output import load_runs, save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
fig = fig10_rmse_spread_in_window(load_runs(smk.input.runs))
save_figure(fig, smk.output)
