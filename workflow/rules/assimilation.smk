# Ensembles and cycled data assimilation (docs/decisions.md, E18-E21): the diffusion-time sweep,
# grid tuning on the training truths, test runs, the spread and observation-interval sweeps, the
# scores table.
# The sweep points and their path labels ({obs}: obs10, {value}: 1.07, {point}: S5) are those of
# rules/assimilation_design.smk.


rule ensemble_sweep:
    input:
        model=main_diffusion_model(),
        test=data_file("test"),
    output:
        result("ensembles", "diffusion_time_sweep.nc"),
    log:
        logfile("ensembles", "diffusion_time_sweep.log"),
    benchmark:
        benchfile("ensembles", "diffusion_time_sweep.tsv")
    conda:
        CONDA_ENV
    threads: config["ensembles"]["threads"]
    resources:
        **job_resources("ensemble_sweep"),
    params:
        # every ensembles key but threads (which changes no result)
        ensembles={k: v for k, v in config["ensembles"].items() if k != "threads"},
        weights=config["diffusion"]["weights"],
        data=data_expectation("test"),
    script:
        "../../scripts/ensemble_sweep.py"


rule da_tune:
    input:
        truth=data_file("train"),
        static_cov=RESOURCES / "static_covariance.yaml",
    output:
        da_tuning_path("{obs}", "{method}", "{value}"),
    log:
        logfile("assimilation", "tuning", "{obs}", "{method}", "{value}.log"),
    wildcard_constraints:
        method="|".join(STATIC_DA_METHODS),
        obs=r"obs\d+",
    group:
        "da_tune"
    conda:
        CONDA_ENV
    threads: config["assimilation"]["threads"]
    resources:
        **job_resources("da_tune"),
    params:
        da=lambda wildcards: da_tuning_params(wildcards),
        data=data_expectation("train"),
        checkpoint=lambda wildcards, output: checkpoint_for(output[0]),
    script:
        "../../scripts/run_assimilation.py"


use rule da_tune as da_tune_diffusion with:
    input:
        truth=data_file("train"),
        static_cov=RESOURCES / "static_covariance.yaml",
        model=main_diffusion_model(),
    wildcard_constraints:
        method="|".join(DIFFUSION_DA_METHODS),
        obs=r"obs\d+",
    group:
        "da_tune_diffusion"
    resources:
        **job_resources("da_tune_diffusion"),


rule da_select:
    input:
        runs=da_tuning_inputs,
    output:
        da_tuned_path("{obs}", "{method}"),
    log:
        logfile("assimilation", "tuned", "{obs}", "{method}.log"),
    wildcard_constraints:
        obs=r"obs\d+",
    conda:
        CONDA_ENV
    resources:
        **job_resources("da_select"),
    params:
        grid=lambda wildcards: da_grid(wildcards.method),
        obs_every=da_obs_every,
        authors=lambda wildcards: authors_value(
            wildcards.method, da_obs_every(wildcards)
        ),
        divergence_nrmse=config["assimilation"]["divergence_nrmse"],
        on_grid_edge=config["assimilation"]["tuning"]["on_grid_edge"],
    script:
        "../../scripts/select_tuned.py"


rule da_run:
    input:
        unpack(da_run_inputs),
    output:
        da_run_path("{obs}", "{method}"),
    log:
        logfile("assimilation", "runs", "{obs}", "{method}.log"),
    benchmark:
        benchfile("assimilation", "runs", "{obs}", "{method}.tsv")
    wildcard_constraints:
        method="|".join(STATIC_DA_METHODS),
        obs=r"obs\d+",
    group:
        "da_run"
    conda:
        CONDA_ENV
    threads: config["assimilation"]["threads"]
    resources:
        **job_resources("da_run"),
    params:
        da=lambda wildcards: da_run_params(wildcards),
        data=data_expectation("test"),
        checkpoint=lambda wildcards, output: checkpoint_for(output[0]),
    script:
        "../../scripts/run_assimilation.py"


use rule da_run as da_run_diffusion with:
    wildcard_constraints:
        method="|".join(DIFFUSION_DA_METHODS),
        obs=r"obs\d+",
    group:
        "da_run_diffusion"
    resources:
        **job_resources("da_run_diffusion"),


rule da_spread_run:
    input:
        truth=data_file("test"),
        static_cov=RESOURCES / "static_covariance.yaml",
        model=main_diffusion_model(),
    output:
        da_spread_path("{point}"),
    log:
        logfile("assimilation", "spread", "{point}.log"),
    benchmark:
        benchfile("assimilation", "spread", "{point}.tsv")
    wildcard_constraints:
        point=r"S\d+",
    conda:
        CONDA_ENV
    threads: config["assimilation"]["threads"]
    resources:
        **job_resources("da_spread_run"),
    params:
        da=da_spread_params,
        data=data_expectation("test"),
        checkpoint=lambda wildcards, output: checkpoint_for(output[0]),
    script:
        "../../scripts/run_assimilation.py"


rule da_spread_sweep:
    input:
        runs=da_spread_files(),
    output:
        result("assimilation", "spread_sweep.nc"),
    log:
        logfile("assimilation", "spread_sweep.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("da_spread_sweep"),
    params:
        diffusion_steps=list(da_spread_points().values()),
    script:
        "../../scripts/da_spread_sweep.py"


rule da_obs_interval_sweep:
    input:
        runs=da_obs_interval_files(),
    output:
        result("assimilation", "obs_interval_sweep.nc"),
    log:
        logfile("assimilation", "obs_interval_sweep.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("da_obs_interval_sweep"),
    params:
        methods=config["assimilation"]["obs_interval_sweep"]["methods"],
        obs_every=config["assimilation"]["obs_interval_sweep"]["obs_every"],
        divergence_nrmse=config["assimilation"]["divergence_nrmse"],
    script:
        "../../scripts/da_obs_interval_sweep.py"


rule da_table:
    input:
        runs=da_table_files(),
    output:
        netcdf=result("tables", "assimilation_scores.nc"),
        csv=report(
            result("tables", "assimilation_scores.csv"),
            caption="../report/table_csv.rst",
            category="Ensembles and assimilation",
            subcategory="CSV",
        ),
        markdown=result("tables", "assimilation_scores.md"),
    log:
        logfile("tables", "assimilation_scores.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("da_table"),
    params:
        methods=config["assimilation"]["methods"],
        obs_every=config["assimilation"]["obs_every"],
        authors=authors_values_at(config["assimilation"]["obs_every"]),
        divergence_nrmse=config["assimilation"]["divergence_nrmse"],
        obs_std=config["assimilation"]["obs_std"],
    script:
        "../../scripts/da_table.py"
