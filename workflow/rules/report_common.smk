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


def da_tuned_methods():
    """{path label of an observation interval: the DA methods grid-tuned at it}, by increasing
    interval; none unless assimilation.tuned is grid."""
    if config["assimilation"]["tuned"] != "grid":
        return {}
    intervals = da_obs_intervals()
    methods = da_methods_by_interval()
    return {label: methods[label] for label in sorted(methods, key=intervals.get)}


def tuning_curve_inputs(wildcards):
    methods = da_tuned_methods().get(wildcards.obs)
    if not methods:
        raise WorkflowError(
            f"no DA method is grid-tuned at observation interval {wildcards.obs}"
        )
    return {
        "tuned": [da_tuned_path(wildcards.obs, method) for method in methods],
        "runs": [
            da_tuning_path(wildcards.obs, method, value)
            for method in methods
            for value in da_grid_points(method)
        ],
    }


def trained_surrogate_runs(study):
    """(configuration, point, seed, model file) of every network surrogate a study trains."""
    return [
        (
            configuration,
            point,
            seed,
            surrogate_model(
                *surrogate_run_point(study, point, configuration, seed),
                configuration,
                seed,
            ),
        )
        for point, configuration, seed in surrogate_study_runs(study)
        if configuration in NETWORK_SURROGATES
    ]


def trained_surrogate_models(study):
    """The model files of trained_surrogate_runs(study), in its order."""
    return [model for *_, model in trained_surrogate_runs(study)]


def trained_surrogate_run_ids(study):
    """(configuration, point, seed) of trained_surrogate_runs(study), in its order."""
    return [
        (configuration, point, seed)
        for configuration, point, seed, _ in trained_surrogate_runs(study)
    ]


def surrogate_training_studies():
    return [study for study in SURROGATE_STUDIES if trained_surrogate_runs(study)]


def summary_inputs():
    """Every netCDF result whose provenance the run summary reads (each path once)."""
    files = (
        [data_file(split) for split in SPLITS]
        + diffusion_targets()
        + generation_score_files()
        + [result("tables", "generation_scores.nc")]
        + [
            file
            for study in SURROGATE_STUDIES
            for file in surrogate_study_rollouts(study)
        ]
        + surrogate_targets()
        + assimilation_targets()
        + da_spread_files()
        + [
            da_tuning_path(obs, method, value)
            for obs, methods in da_tuned_methods().items()
            for method in methods
            for value in da_grid_points(method)
        ]
        + da_table_files()
        + da_obs_interval_files()
    )
    return list(dict.fromkeys(files))


def report_targets():
    return (
        [report_file("run_summary.html")]
        + [result("tables", f"{name}.html") for name in REPORT_TABLES]
        + [report_file(f"tuning_{obs}.png") for obs in da_tuned_methods()]
        + [report_file("training_diffusion.png")]
        + [
            report_file(f"training_surrogate_{study}.png")
            for study in surrogate_training_studies()
        ]
    )
