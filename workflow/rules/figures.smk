# Figures: one rule per entry of the figure catalogue (workflow/figures.yaml), named after it
# and running scripts/figures/NAME.py. Figures are built from netCDF results only, so restyling
# a figure never reruns an experiment. PNG and PDF go into the report, and beside them
# (subcategory "Data behind the figures") the netCDF file of the numbers each figure draws.
import yaml

FIGURES = yaml.safe_load((Path(workflow.basedir) / "figures.yaml").read_text())


def figure(name, ext):
    return result("figures", f"{name}.{ext}")


def figure_targets():
    return [figure(name, ext) for name in FIGURES for ext in ("pdf", "png")]


def main_generation_samples():
    d = config["diffusion"]
    return result("generation", d["main_variant"], str(d["main_seed"]), "samples.nc")


def training_logs_of_main_seed():
    d = config["diffusion"]
    return [
        result("diffusion", v, str(d["main_seed"]), "training_log.nc")
        for v in d["variants"]
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


for fig in FIGURES:

    rule:
        name:
            fig
        input:
            **figure_inputs(fig),
        output:
            png=figure_report(fig, "png"),
            pdf=figure_report(fig, "pdf", subcategory="PDF"),
            data=figure_report(
                fig,
                "nc",
                subcategory="Data behind the figures",
                labels={"figure": fig[:5], "file": "numbers drawn (netCDF)"},
            ),
        log:
            logfile("figures", f"{fig}.log"),
        localrule: True
        conda:
            CONDA_ENV
        resources:
            **job_resources(fig),
        params:
            figure=fig,
        script:
            # not f"...{fig}...": a rule made in a loop runs its script: expression when the job
            # runs, when `fig` is the last figure (snakemake/snakemake#2832); {params.} is the job's
            "../../scripts/figures/{params.figure}.py"
