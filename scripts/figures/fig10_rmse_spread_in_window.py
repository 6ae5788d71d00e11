"""Rule fig10_rmse_spread_in_window: RMSE and spread inside the assimilation window by method."""

from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig10_rmse_spread_in_window
from ddmdyn.plotting.figure_data import runs_by_method, write_figure_data
from ddmdyn.plotting.output import load_runs, save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
runs = load_runs(smk.input.runs)
fig = fig10_rmse_spread_in_window(runs)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(
    runs_by_method(runs, ["rmse_lead", "spread_lead"]),
    smk.output.data,
    figure=smk.rule,
    inputs=list(smk.input),
)
