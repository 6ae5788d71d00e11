"""Rule fig13_rank_histograms: Rank histograms of the background ensembles by method."""

from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig13_rank_histograms
from ddmdyn.plotting.figure_data import runs_by_method, write_figure_data
from ddmdyn.plotting.output import load_runs, save_figure

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
runs = load_runs(smk.input.runs)
fig = fig13_rank_histograms(runs)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(
    runs_by_method(runs, ["rank_histogram"]),
    smk.output.data,
    figure=smk.rule,
    inputs=list(smk.input),
)
