# Data stage (docs/decisions.md, E1): Lorenz 63 trajectories for the train / validation / test
# splits.


rule simulate_trajectories:
    input:
        normalisation=RESOURCES / "normalisation.json",
    output:
        data_file("{split}"),
    log:
        logfile("data", "{split}.log"),
    benchmark:
        benchfile("data", "{split}.tsv")
    wildcard_constraints:
        split="train|validation|test",
    conda:
        CONDA_ENV
    resources:
        **job_resources("simulate_trajectories"),
    params:
        data=lambda wildcards: data_params(wildcards.split),
    script:
        "../../scripts/simulate_trajectories.py"
