# Figures (issue 6): one rule and one script per figure, built from netCDF results only, so
# restyling a figure never reruns an experiment. PNG and PDF go into the report, and beside them
# (subcategory "Data behind the figures") the netCDF file of the numbers each figure draws.


rule fig01_attractor_samples:
    input:
        samples=result(
            "generation",
            config["diffusion"]["main_variant"],
            str(config["diffusion"]["main_seed"]),
            "samples.nc",
        ),
        test=data_file("test"),
    output:
        png=report(
            figure("fig01_attractor_samples", "png"),
            caption="../report/fig01_attractor_samples.rst",
            category="Generation",
        ),
        pdf=report(
            figure("fig01_attractor_samples", "pdf"),
            caption="../report/fig01_attractor_samples.rst",
            category="Generation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig01_attractor_samples", "nc"),
            caption="../report/fig01_attractor_samples.rst",
            category="Generation",
            subcategory="Data behind the figures",
            labels={"figure": "fig01", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig01_attractor_samples.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig01_attractor_samples"),
    script:
        "../../scripts/figures/fig01_attractor_samples.py"


rule fig02_generation_scores:
    input:
        table=result("tables", "generation_scores.nc"),
    output:
        png=report(
            figure("fig02_generation_scores", "png"),
            caption="../report/fig02_generation_scores.rst",
            category="Generation",
        ),
        pdf=report(
            figure("fig02_generation_scores", "pdf"),
            caption="../report/fig02_generation_scores.rst",
            category="Generation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig02_generation_scores", "nc"),
            caption="../report/fig02_generation_scores.rst",
            category="Generation",
            subcategory="Data behind the figures",
            labels={"figure": "fig02", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig02_generation_scores.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig02_generation_scores"),
    script:
        "../../scripts/figures/fig02_generation_scores.py"


rule fig03_surrogate_rmse_vs_lead:
    input:
        table=result("tables", "surrogate_scores.nc"),
    output:
        png=report(
            figure("fig03_surrogate_rmse_vs_lead", "png"),
            caption="../report/fig03_surrogate_rmse_vs_lead.rst",
            category="Surrogates",
        ),
        pdf=report(
            figure("fig03_surrogate_rmse_vs_lead", "pdf"),
            caption="../report/fig03_surrogate_rmse_vs_lead.rst",
            category="Surrogates",
            subcategory="PDF",
        ),
        data=report(
            figure("fig03_surrogate_rmse_vs_lead", "nc"),
            caption="../report/fig03_surrogate_rmse_vs_lead.rst",
            category="Surrogates",
            subcategory="Data behind the figures",
            labels={"figure": "fig03", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig03_surrogate_rmse_vs_lead.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig03_surrogate_rmse_vs_lead"),
    script:
        "../../scripts/figures/fig03_surrogate_rmse_vs_lead.py"


rule fig04_error_vs_training_size:
    input:
        study=result("surrogate", "scaling_samples.nc"),
    output:
        png=report(
            figure("fig04_error_vs_training_size", "png"),
            caption="../report/fig04_error_vs_training_size.rst",
            category="Surrogates",
        ),
        pdf=report(
            figure("fig04_error_vs_training_size", "pdf"),
            caption="../report/fig04_error_vs_training_size.rst",
            category="Surrogates",
            subcategory="PDF",
        ),
        data=report(
            figure("fig04_error_vs_training_size", "nc"),
            caption="../report/fig04_error_vs_training_size.rst",
            category="Surrogates",
            subcategory="Data behind the figures",
            labels={"figure": "fig04", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig04_error_vs_training_size.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig04_error_vs_training_size"),
    script:
        "../../scripts/figures/fig04_error_vs_training_size.py"


rule fig05_error_vs_corruption:
    input:
        study=result("surrogate", "scaling_corruption.nc"),
    output:
        png=report(
            figure("fig05_error_vs_corruption", "png"),
            caption="../report/fig05_error_vs_corruption.rst",
            category="Surrogates",
        ),
        pdf=report(
            figure("fig05_error_vs_corruption", "pdf"),
            caption="../report/fig05_error_vs_corruption.rst",
            category="Surrogates",
            subcategory="PDF",
        ),
        data=report(
            figure("fig05_error_vs_corruption", "nc"),
            caption="../report/fig05_error_vs_corruption.rst",
            category="Surrogates",
            subcategory="Data behind the figures",
            labels={"figure": "fig05", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig05_error_vs_corruption.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig05_error_vs_corruption"),
    script:
        "../../scripts/figures/fig05_error_vs_corruption.py"


rule fig06_error_vs_surrogate_dt:
    input:
        study=result("surrogate", "scaling_timestep.nc"),
    output:
        png=report(
            figure("fig06_error_vs_surrogate_dt", "png"),
            caption="../report/fig06_error_vs_surrogate_dt.rst",
            category="Surrogates",
        ),
        pdf=report(
            figure("fig06_error_vs_surrogate_dt", "pdf"),
            caption="../report/fig06_error_vs_surrogate_dt.rst",
            category="Surrogates",
            subcategory="PDF",
        ),
        data=report(
            figure("fig06_error_vs_surrogate_dt", "nc"),
            caption="../report/fig06_error_vs_surrogate_dt.rst",
            category="Surrogates",
            subcategory="Data behind the figures",
            labels={"figure": "fig06", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig06_error_vs_surrogate_dt.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig06_error_vs_surrogate_dt"),
    script:
        "../../scripts/figures/fig06_error_vs_surrogate_dt.py"


rule fig07_transfer_by_diffusion_model:
    input:
        study=result("surrogate", "scaling_representation.nc"),
    output:
        png=report(
            figure("fig07_transfer_by_diffusion_model", "png"),
            caption="../report/fig07_transfer_by_diffusion_model.rst",
            category="Surrogates",
        ),
        pdf=report(
            figure("fig07_transfer_by_diffusion_model", "pdf"),
            caption="../report/fig07_transfer_by_diffusion_model.rst",
            category="Surrogates",
            subcategory="PDF",
        ),
        data=report(
            figure("fig07_transfer_by_diffusion_model", "nc"),
            caption="../report/fig07_transfer_by_diffusion_model.rst",
            category="Surrogates",
            subcategory="Data behind the figures",
            labels={"figure": "fig07", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig07_transfer_by_diffusion_model.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig07_transfer_by_diffusion_model"),
    script:
        "../../scripts/figures/fig07_transfer_by_diffusion_model.py"


rule fig08_ensembles_around_state:
    input:
        sweep=result("ensembles", "diffusion_time_sweep.nc"),
        test=data_file("test"),
    output:
        png=report(
            figure("fig08_ensembles_around_state", "png"),
            caption="../report/fig08_ensembles_around_state.rst",
            category="Ensembles and assimilation",
        ),
        pdf=report(
            figure("fig08_ensembles_around_state", "pdf"),
            caption="../report/fig08_ensembles_around_state.rst",
            category="Ensembles and assimilation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig08_ensembles_around_state", "nc"),
            caption="../report/fig08_ensembles_around_state.rst",
            category="Ensembles and assimilation",
            subcategory="Data behind the figures",
            labels={"figure": "fig08", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig08_ensembles_around_state.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig08_ensembles_around_state"),
    script:
        "../../scripts/figures/fig08_ensembles_around_state.py"


rule fig09_spread_vs_diffusion_time:
    input:
        sweep=result("ensembles", "diffusion_time_sweep.nc"),
        da_sweep=result("assimilation", "spread_sweep.nc"),
    output:
        png=report(
            figure("fig09_spread_vs_diffusion_time", "png"),
            caption="../report/fig09_spread_vs_diffusion_time.rst",
            category="Ensembles and assimilation",
        ),
        pdf=report(
            figure("fig09_spread_vs_diffusion_time", "pdf"),
            caption="../report/fig09_spread_vs_diffusion_time.rst",
            category="Ensembles and assimilation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig09_spread_vs_diffusion_time", "nc"),
            caption="../report/fig09_spread_vs_diffusion_time.rst",
            category="Ensembles and assimilation",
            subcategory="Data behind the figures",
            labels={"figure": "fig09", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig09_spread_vs_diffusion_time.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig09_spread_vs_diffusion_time"),
    script:
        "../../scripts/figures/fig09_spread_vs_diffusion_time.py"


rule fig10_rmse_spread_in_window:
    input:
        runs=da_table_files(),
    output:
        png=report(
            figure("fig10_rmse_spread_in_window", "png"),
            caption="../report/fig10_rmse_spread_in_window.rst",
            category="Ensembles and assimilation",
        ),
        pdf=report(
            figure("fig10_rmse_spread_in_window", "pdf"),
            caption="../report/fig10_rmse_spread_in_window.rst",
            category="Ensembles and assimilation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig10_rmse_spread_in_window", "nc"),
            caption="../report/fig10_rmse_spread_in_window.rst",
            category="Ensembles and assimilation",
            subcategory="Data behind the figures",
            labels={"figure": "fig10", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig10_rmse_spread_in_window.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig10_rmse_spread_in_window"),
    script:
        "../../scripts/figures/fig10_rmse_spread_in_window.py"


rule fig11_rmse_vs_obs_interval:
    input:
        sweep=result("assimilation", "obs_interval_sweep.nc"),
    output:
        png=report(
            figure("fig11_rmse_vs_obs_interval", "png"),
            caption="../report/fig11_rmse_vs_obs_interval.rst",
            category="Ensembles and assimilation",
        ),
        pdf=report(
            figure("fig11_rmse_vs_obs_interval", "pdf"),
            caption="../report/fig11_rmse_vs_obs_interval.rst",
            category="Ensembles and assimilation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig11_rmse_vs_obs_interval", "nc"),
            caption="../report/fig11_rmse_vs_obs_interval.rst",
            category="Ensembles and assimilation",
            subcategory="Data behind the figures",
            labels={"figure": "fig11", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig11_rmse_vs_obs_interval.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig11_rmse_vs_obs_interval"),
    script:
        "../../scripts/figures/fig11_rmse_vs_obs_interval.py"


rule fig12_training_curves:
    input:
        logs=training_logs_of_main_seed(),
    output:
        png=report(
            figure("fig12_training_curves", "png"),
            caption="../report/fig12_training_curves.rst",
            category="Generation",
        ),
        pdf=report(
            figure("fig12_training_curves", "pdf"),
            caption="../report/fig12_training_curves.rst",
            category="Generation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig12_training_curves", "nc"),
            caption="../report/fig12_training_curves.rst",
            category="Generation",
            subcategory="Data behind the figures",
            labels={"figure": "fig12", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig12_training_curves.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig12_training_curves"),
    script:
        "../../scripts/figures/fig12_training_curves.py"


rule fig13_rank_histograms:
    input:
        runs=da_table_files(),
    output:
        png=report(
            figure("fig13_rank_histograms", "png"),
            caption="../report/fig13_rank_histograms.rst",
            category="Ensembles and assimilation",
        ),
        pdf=report(
            figure("fig13_rank_histograms", "pdf"),
            caption="../report/fig13_rank_histograms.rst",
            category="Ensembles and assimilation",
            subcategory="PDF",
        ),
        data=report(
            figure("fig13_rank_histograms", "nc"),
            caption="../report/fig13_rank_histograms.rst",
            category="Ensembles and assimilation",
            subcategory="Data behind the figures",
            labels={"figure": "fig13", "file": "numbers drawn (netCDF)"},
        ),
    log:
        logfile("figures", "fig13_rank_histograms.log"),
    conda:
        CONDA_ENV
    resources:
        **job_resources("fig13_rank_histograms"),
    script:
        "../../scripts/figures/fig13_rank_histograms.py"
