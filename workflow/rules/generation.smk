# Generation stage (docs/decisions.md, E10, E11): unconditional samples per (variant, seed),
# their scores, the table.


rule generate_samples:
    input:
        model=diffusion_model("{variant}", "{seed}"),
    output:
        result("generation", "{variant}", "{seed}", "samples.nc"),
    log:
        logfile("generation", "{variant}", "{seed}_samples.log"),
    benchmark:
        benchfile("generation", "{variant}", "{seed}_samples.tsv")
    wildcard_constraints:
        variant="|".join(DIFFUSION_VARIANTS),
        seed=r"\d+",
    group:
        "diffusion"
    conda:
        CONDA_ENV
    threads: config["generation"]["threads"]
    resources:
        **job_resources("generate_samples"),
    params:
        generation=lambda wildcards: generation_params(wildcards.seed),
        weights=config["diffusion"]["weights"],
    script:
        "../../scripts/generate_samples.py"


rule score_generation:
    input:
        samples=result("generation", "{variant}", "{seed}", "samples.nc"),
        test=data_file("test"),
        feature_model=fsd_feature_model(),
    output:
        result("generation", "{variant}", "{seed}", "scores.nc"),
    log:
        logfile("generation", "{variant}", "{seed}_scores.log"),
    benchmark:
        benchfile("generation", "{variant}", "{seed}_scores.tsv")
    wildcard_constraints:
        variant="|".join(DIFFUSION_VARIANTS),
        seed=r"\d+",
    group:
        "generation_scores"
    conda:
        CONDA_ENV
    threads: config["generation"]["threads"]
    resources:
        **job_resources("score_generation"),
    params:
        seed=lambda wildcards: generation_params(wildcards.seed)["seed"],
        data=data_expectation("test"),
    script:
        "../../scripts/score_generation.py"


rule generation_table:
    input:
        scores=generation_score_files(),
    output:
        netcdf=result("tables", "generation_scores.nc"),
        csv=report(
            result("tables", "generation_scores.csv"),
            caption="../report/table_csv.rst",
            category="Generation",
            subcategory="CSV",
        ),
        markdown=result("tables", "generation_scores.md"),
    log:
        logfile("tables", "generation_scores.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("generation_table"),
    params:
        variants=config["diffusion"]["variants"],
        seeds=config["diffusion"]["seeds"],
        weights=config["diffusion"]["weights"],
    script:
        "../../scripts/generation_table.py"
