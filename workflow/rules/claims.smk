# The reproduction verdict: every claim of the paper evaluated from the run's results, with a
# criterion fixed in config (claims:) before any result is seen.


rule claims:
    input:
        generation=result("tables", "generation_scores.nc"),
        surrogate=result("tables", "surrogate_scores.nc"),
        ensembles=result("ensembles", "diffusion_time_sweep.nc"),
        assimilation=result("tables", "assimilation_scores.nc"),
    output:
        netcdf=result("tables", "claims.nc"),
        csv=result("tables", "claims.csv"),
        markdown=report(
            result("tables", "claims.md"),
            caption="../report/claims.rst",
            category="Reproduction verdict",
        ),
    log:
        logfile("tables", "claims.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("claims"),
    params:
        claims=config["claims"],
        main_variant=config["diffusion"]["main_variant"],
        n_coarse_steps=config["ensembles"]["n_coarse_steps"],
        preset=config["preset"],
    script:
        "../../scripts/evaluate_claims.py"
