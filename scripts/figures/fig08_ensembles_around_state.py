"""Rule fig08_ensembles_around_state.

Diffusion ensembles around one state for several diffusion times.
"""

from ddmdyn.io import read_dataset
from ddmdyn.logs import setup_logging
from ddmdyn.plotting import fig08_ensembles_around_state
from ddmdyn.plotting.figure_data import ensembles_shown, write_figure_data
from ddmdyn.plotting.output import save_figure, test_states

smk = snakemake  # injected by Snakemake
setup_logging(smk.log[0])
sweep = read_dataset(smk.input.sweep).load()
steps = sweep["diffusion_step"].values[:: max(1, sweep.sizes["diffusion_step"] // 4)][:4]
steps = [int(s) for s in steps]
fig = fig08_ensembles_around_state(sweep, steps=steps, test=test_states(smk.input.test, 20_000))
save_figure(fig, [smk.output.png, smk.output.pdf])
write_figure_data(
    ensembles_shown(sweep, steps), smk.output.data, figure=smk.rule, inputs=list(smk.input)
)
