# The figure catalogue (workflow/figures.yaml) and what its entries refer to: the inputs that
# need more than a path (main_generation_samples, training_logs_of_main_seed) and the rules'
# report items (rules/figures.smk).
import yaml

FIGURES = yaml.safe_load((Path(workflow.basedir) / "figures.yaml").read_text())


def figure(name, ext):
    return result("figures", f"{name}.{ext}")


def figure_targets():
    return [figure(name, ext) for name in FIGURES for ext in ("pdf", "png")]


def main_generation_samples():
    diffusion = config["diffusion"]
    return result(
        "generation",
        diffusion["main_variant"],
        str(diffusion["main_seed"]),
        "samples.nc",
    )


def training_logs_of_main_seed():
    diffusion = config["diffusion"]
    return [
        result("diffusion", v, str(diffusion["main_seed"]), "training_log.nc")
        for v in diffusion["variants"]
    ]


def figure_inputs(name):
    """{input: path or paths} of a figure: each catalogue entry [function, arg, ...] called."""
    inputs = {}
    for key, (function, *args) in FIGURES[name]["inputs"].items():
        if not callable(globals().get(function)):
            raise WorkflowError(
                f"workflow/figures.yaml: {name}.inputs.{key} calls {function!r}, "
                "which is not a workflow function"
            )
        inputs[key] = globals()[function](*args)
    return inputs


def figure_report(name, ext, **kwargs):
    """An output of a figure rule as a report item, under the figure's caption and category."""
    caption = f"../report/{name}.rst"
    category = FIGURES[name]["category"]
    return report(figure(name, ext), caption=caption, category=category, **kwargs)
