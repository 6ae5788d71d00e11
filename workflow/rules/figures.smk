# Figures: one rule per entry of the figure catalogue (workflow/figures.yaml), named after it
# and running scripts/figures/NAME.py. Figures are built from netCDF results only, so restyling
# a figure never reruns an experiment. PNG and PDF go into the report, and beside them
# (subcategory "Data behind the figures") the netCDF file of the numbers each figure draws.


include: "figures_common.smk"


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
            # {params.figure}, not the loop variable: Snakemake evaluates this path again when
            # the job runs, after the loop has ended (snakemake/snakemake#2832)
            "../../scripts/figures/{params.figure}.py"
