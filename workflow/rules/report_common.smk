# Targets and inputs of the report-only rules (rules/report.smk).

# Table name -> report category. Every results/tables/NAME.md listed here becomes the readable
# page results/tables/NAME.html in the report (with the full numbers of NAME.csv where the
# table rule writes one, see TABLES_WITH_CSV). A new table only needs an entry here.
REPORT_TABLES = {
    "generation_scores": "Generation",
    "surrogate_scores": "Surrogates",
    "assimilation_scores": "Ensembles and assimilation",
    "claims": "Reproduction verdict",
}
TABLES_WITH_CSV = [
    "generation_scores",
    "surrogate_scores",
    "assimilation_scores",
    "claims",
]
SUMMARY_CATEGORY = "About this run"  # sorts first among the report's categories
TRAINING_CATEGORY = "Training curves"
SURROGATE_STUDIES = ["main", *SURROGATE_SWEEPS]


def report_file(name):
    return result("report", name)


def report_table_inputs(wildcards):
    inputs = {"markdown": result("tables", f"{wildcards.name}.md")}
    if wildcards.name in TABLES_WITH_CSV:
        inputs["csv"] = result("tables", f"{wildcards.name}.csv")
    return inputs


def da_tuned_pairs():
    """(obs_every, method) of every grid-tuned DA method, grouped by observation interval."""
    a = config["assimilation"]
    if a["tuned"] != "grid":
        return {}
    pairs = {int(a["obs_every"]): list(a["methods"])}
    sweep = a["obs_interval_sweep"]
    for obs in sweep["obs_every"]:
        methods = pairs.setdefault(int(obs), [])
        methods += [m for m in sweep["methods"] if m not in methods]
    return dict(sorted(pairs.items()))


def tuning_curve_inputs(wildcards):
    methods = da_tuned_pairs().get(int(wildcards.obs_every))
    if not methods:
        raise WorkflowError(
            f"no DA method is grid-tuned at observation interval {wildcards.obs_every}"
        )
    return {
        "tuned": [da_tuned_file(wildcards.obs_every, m) for m in methods],
        "runs": [
            da_tuning_file(wildcards.obs_every, m, v)
            for m in methods
            for v in da_grid(m)
        ],
    }


def trained_surrogate_runs(study):
    """(configuration, point, seed, model file) of every network surrogate a study trains."""
    return [
        (c, p, seed, surrogate_model(*surrogate_run_point(study, p, c, seed), c, seed))
        for p, c, seed in surrogate_study_runs(study)
        if c in NETWORK_SURROGATES
    ]


def surrogate_training_studies():
    return [s for s in SURROGATE_STUDIES if trained_surrogate_runs(s)]


def summary_inputs():
    """Every netCDF result whose provenance the run summary reads (each path once)."""
    a = config["assimilation"]
    files = (
        [data_file(split) for split in SPLITS]
        + diffusion_targets()
        + generation_score_files()
        + [result("tables", "generation_scores.nc")]
        + [f for study in SURROGATE_STUDIES for f in surrogate_study_rollouts(study)]
        + surrogate_targets()
        + assimilation_targets()
        + da_spread_files()
        + [
            da_tuning_file(obs, m, v)
            for obs, methods in da_tuned_pairs().items()
            for m in methods
            for v in da_grid(m)
        ]
        + [da_run_file(a["obs_every"], m) for m in a["methods"]]
        + da_obs_interval_files()
    )
    return list(dict.fromkeys(files))


def report_targets():
    return (
        [report_file("run_summary.html")]
        + [result("tables", f"{name}.html") for name in REPORT_TABLES]
        + [report_file(f"tuning_obs{obs}.png") for obs in da_tuned_pairs()]
        + [report_file("training_diffusion.png")]
        + [
            report_file(f"training_surrogate_{s}.png")
            for s in surrogate_training_studies()
        ]
    )
