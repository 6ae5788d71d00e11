# Report-only outputs: every table as a readable HTML page, DA tuning curves, the training
# curves of every trained model and the run summary that opens the report. They read finished
# results only, so none of them reruns an experiment.


include: "report_common.smk"


rule report_table:
    input:
        unpack(report_table_inputs),
    output:
        report(
            result("tables", "{name}.html"),
            caption="../report/table.rst",
            category=lambda wildcards: REPORT_TABLES[wildcards.name],
            subcategory="Tables",
        ),
    log:
        logfile("report", "table_{name}.log"),
    wildcard_constraints:
        name="|".join(REPORT_TABLES),
    conda:
        CONDA_ENV
    resources:
        **job_resources("report_table"),
    script:
        "../../scripts/report_table.py"


rule report_tuning_curves:
    input:
        unpack(tuning_curve_inputs),
    output:
        report(
            report_file("tuning_{obs}.png"),
            caption="../report/tuning_curves.rst",
            category="Ensembles and assimilation",
            subcategory="Tuning curves",
        ),
    log:
        logfile("report", "tuning_{obs}.log"),
    wildcard_constraints:
        obs=r"obs\d+",
    conda:
        CONDA_ENV
    resources:
        **job_resources("report_tuning_curves"),
    params:
        obs_every=da_obs_every,
    script:
        "../../scripts/report_tuning_curves.py"


rule report_training_diffusion:
    input:
        logs=diffusion_targets(),
    output:
        report(
            report_file("training_diffusion.png"),
            caption="../report/training_diffusion.rst",
            category=TRAINING_CATEGORY,
        ),
    log:
        logfile("report", "training_diffusion.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("report_training_diffusion"),
    script:
        "../../scripts/report_training_curves.py"


rule report_training_surrogate:
    input:
        models=lambda wildcards: trained_surrogate_models(wildcards.study),
    output:
        report(
            report_file("training_surrogate_{study}.png"),
            caption="../report/training_surrogate.rst",
            category=TRAINING_CATEGORY,
        ),
    log:
        logfile("report", "training_surrogate_{study}.log"),
    wildcard_constraints:
        study="|".join(SURROGATE_STUDIES),
    conda:
        CONDA_ENV
    resources:
        **job_resources("report_training_surrogate"),
    params:
        runs=lambda wildcards: trained_surrogate_run_ids(wildcards.study),
    script:
        "../../scripts/report_training_curves.py"


rule report_summary:
    input:
        results=summary_inputs(),
        paper_config=os.path.relpath(REPO / "config" / "config.yaml"),
    output:
        report(
            report_file("run_summary.html"),
            caption="../report/run_summary.rst",
            category=SUMMARY_CATEGORY,
        ),
    log:
        logfile("report", "run_summary.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("report_summary"),
    params:
        preset=config["preset"],
        tuned=config["assimilation"]["tuned"],
    script:
        "../../scripts/report_summary.py"
