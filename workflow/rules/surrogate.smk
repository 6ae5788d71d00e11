# Surrogate stage (docs/decisions.md, E12-E17): every (study, point, configuration, seed) is
# trained or fitted once and evaluated by roll-outs. Studies: main (the table), samples,
# corruption, timestep, representation (rules/surrogate_design.smk). Network surrogates request a
# GPU; ridge fits run on CPU.


rule train_surrogate:
    input:
        unpack(surrogate_inputs),
    output:
        model=surrogate_model("{study}", "{point}", "{configuration}", "{seed}"),
    log:
        logfile(
            "surrogate", "{study}", "{point}", "{configuration}", "{seed}_train.log"
        ),
    benchmark:
        benchfile(
            "surrogate", "{study}", "{point}", "{configuration}", "{seed}_train.tsv"
        )
    wildcard_constraints:
        configuration="|".join(NETWORK_SURROGATES),
        seed=r"\d+",
    group:
        "surrogate"
    conda:
        CONDA_ENV
    threads: config["surrogate"]["threads"]
    resources:
        **job_resources("train_surrogate"),
    params:
        surrogate=lambda wildcards: surrogate_params(wildcards),
        data=data_expectation("train", "validation"),
        checkpoint=lambda wildcards: result(
            "checkpoints",
            "surrogate",
            wildcards.study,
            wildcards.point,
            wildcards.configuration,
            f"{wildcards.seed}.pt",
        ),
    script:
        "../../scripts/train_surrogate.py"


use rule train_surrogate as fit_surrogate with:
    wildcard_constraints:
        configuration="|".join(RIDGE_SURROGATES),
        seed=r"\d+",
    group:
        "surrogate_fit"
    resources:
        **job_resources("fit_surrogate"),


rule evaluate_surrogate:
    input:
        model=surrogate_model("{study}", "{point}", "{configuration}", "{seed}"),
        test=data_file("test"),
    output:
        surrogate_rollout("{study}", "{point}", "{configuration}", "{seed}"),
    log:
        logfile(
            "surrogate", "{study}", "{point}", "{configuration}", "{seed}_rollout.log"
        ),
    benchmark:
        benchfile(
            "surrogate", "{study}", "{point}", "{configuration}", "{seed}_rollout.tsv"
        )
    wildcard_constraints:
        seed=r"\d+",
    group:
        "surrogate"
    conda:
        CONDA_ENV
    threads: config["surrogate"]["threads"]
    resources:
        **job_resources("evaluate_surrogate"),
    params:
        surrogate=lambda wildcards: surrogate_params(wildcards),
        evaluation=config["surrogate"]["evaluation"]["max_starts"],
        data=data_expectation("test"),
    script:
        "../../scripts/evaluate_surrogate.py"


rule surrogate_table:
    input:
        runs=surrogate_study_rollouts("main"),
    output:
        netcdf=result("tables", "surrogate_scores.nc"),
        csv=report(
            result("tables", "surrogate_scores.csv"),
            caption="../report/table_csv.rst",
            category="Surrogates",
            subcategory="CSV",
        ),
        markdown=result("tables", "surrogate_scores.md"),
    log:
        logfile("tables", "surrogate_scores.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("surrogate_table"),
    params:
        configurations=config["surrogate"]["configurations"],
        seeds=config["surrogate"]["seeds"],
    script:
        "../../scripts/surrogate_table.py"


rule surrogate_study:
    input:
        runs=lambda wildcards: surrogate_study_rollouts(wildcards.study),
    output:
        result("surrogate", "scaling_{study}.nc"),
    log:
        logfile("surrogate", "scaling_{study}.log"),
    wildcard_constraints:
        study="|".join(SURROGATE_SWEEPS),
    conda:
        CONDA_ENV
    resources:
        **job_resources("surrogate_study"),
    params:
        sweep=lambda wildcards: surrogate_sweep_params(wildcards.study),
        configurations=lambda wildcards: surrogate_study_configurations(wildcards.study),
        seeds=lambda wildcards: surrogate_study_seeds(wildcards.study),
        lead_times=config["surrogate"]["scaling"]["lead_times"],
    script:
        "../../scripts/surrogate_study.py"
