"""Rule fig01_attractor_samples.

Generated vs test states of the main diffusion model (three projections).
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig01_attractor_samples
from ddmdyn.plotting.figure_data import attractor_points, write_figure_data
from ddmdyn.plotting.output import save_figure, test_states

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
samples = read_dataset(smk.input.samples, variables={"state": ("sample", "variable")}).load()
test = test_states(smk.input.test)
fig = fig01_attractor_samples(samples, test)
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(
    attractor_points(samples, test), smk.output.data, figure=smk.rule, inputs=list(smk.input)
)
