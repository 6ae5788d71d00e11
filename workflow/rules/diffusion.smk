# Diffusion stage (docs/decisions.md, E5-E9): one training job per (variant, seed), resumable
# from its checkpoint.


rule train_diffusion:
    input:
        train=data_file("train"),
        validation=data_file("validation"),
    output:
        model=diffusion_model("{variant}", "{seed}"),
        sidecar=diffusion_model("{variant}", "{seed}") + ".json",
        training_log=result("diffusion", "{variant}", "{seed}", "training_log.nc"),
    log:
        logfile("diffusion", "{variant}", "{seed}.log"),
    benchmark:
        benchfile("diffusion", "{variant}", "{seed}.tsv")
    wildcard_constraints:
        variant="|".join(DIFFUSION_VARIANTS),
        seed=r"\d+",
    group:
        "diffusion"
    conda:
        CONDA_ENV
    threads: config["diffusion"]["threads"]
    resources:
        **job_resources("train_diffusion"),
    params:
        train=lambda wildcards: diffusion_train_params(
            wildcards.variant, wildcards.seed
        ),
        data=data_expectation("train", "validation"),
        checkpoint=lambda wildcards: result(
            "checkpoints", "diffusion", wildcards.variant, wildcards.seed, "state.pt"
        ),
    script:
        "../../scripts/train_diffusion.py"
