"""Layout of every paper figure: no overlapping text, no legend over data, nothing clipped.

Each figure function is called with synthetic inputs laid out as in docs/data_contracts.md at the
sizes and value ranges of three presets (``tiny``: one seed, two variants, short sweeps;
``quick``: one seed, the seven variants, the quick sweeps; ``paper``: ten seeds, twenty diffusion
steps, the paper's sweeps and 97,700 logged training steps), then each layout rule of
:mod:`ddmdyn.plotting.layout_check` is one test. The last tests show that each rule catches the
defect it is there for.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure

from ddmdyn import plotting
from ddmdyn.plotting import layout_check
from ddmdyn.plotting.style import new_figure, style_context
from tests.synthetic import lorenz_like

VARS = ["x", "y", "z"]
ALL_VARIANTS = [
    "noise_cos",
    "noise_linear",
    "state_cos",
    "state_linear",
    "velocity_cos",
    "velocity_linear",
    "velocity_cos_mae",
]
ALL_CONFIGURATIONS = [
    "dense_shallow",
    "dense_two",
    "dense_three",
    "dense_residual_three",
    "poly_linear",
    "rff_linear",
    "rff_linear_256",
    "rff_mlp",
    "rff_mlp_256",
    "transfer_linear",
    "transfer_mlp",
    "transfer_single_linear",
    "transfer_single_mlp",
    "transfer_untrained_linear",
]
ALL_METHODS = ["ddm_enoi_50", "ddm_enoi_10", "enoi_diag", "enoi_full", "var3d", "etkf_3", "etkf_12"]
SINGLE_STATE = {"ddm_enoi_50", "ddm_enoi_10", "enoi_diag", "enoi_full", "var3d"}
MEMBERS = {"ddm_enoi_50": 50, "ddm_enoi_10": 10, "etkf_3": 3, "etkf_12": 12}


@dataclass(frozen=True)
class Scale:
    """Sizes of one preset's results."""

    name: str
    seeds: int
    variants: list[str]
    configurations: list[str]
    scaling_configurations: list[str]
    n_train_samples: list[int]
    corruption: list[float]
    surrogate_dt: list[int]
    n_leads: int
    representation: list[str]
    diffusion_steps: list[int]
    n_members: int
    methods: list[str]
    obs_every: list[int]
    obs_methods: list[str]
    truths: int
    training_steps: int
    val_every: int


SCALES = {
    "tiny": Scale(
        "tiny", 1, ["velocity_cos", "noise_cos"],
        ["dense_two", "dense_residual_three", "poly_linear", "rff_linear_256", "rff_mlp_256",
         "transfer_linear", "transfer_single_mlp", "transfer_untrained_linear"],
        ["transfer_linear", "dense_two"], [64, 1024], [0.1], [5, 20], 10,
        ["noise_cos", "velocity_cos"], [1, 3, 5], 8, ALL_METHODS, [5, 10],
        ["ddm_enoi_50", "etkf_12"], 4, 60, 30,
    ),
    "quick": Scale(
        "quick", 1, ALL_VARIANTS, ALL_CONFIGURATIONS, ["transfer_linear", "dense_two"],
        [64, 1024, 16384], [0.05, 0.2, 0.5], [5, 10, 20], 100,
        ["state_cos", "noise_cos", "velocity_cos"], [5, 10, 20, 30, 40, 60, 80, 100], 32,
        ALL_METHODS, [5, 10, 20], ["ddm_enoi_50", "enoi_full", "etkf_12"], 16, 4000, 500,
    ),
    "paper": Scale(
        "paper", 10, ALL_VARIANTS, ALL_CONFIGURATIONS,
        ["transfer_linear", "dense_two", "dense_residual_three", "rff_linear"],
        [2**k for k in range(3, 21)],
        [0.005, 0.01, 0.015, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
        [1, 2, 4, 5, 10, 20, 25, 50, 100], 100,
        ["state_cos", "noise_cos", "velocity_cos"], list(range(5, 105, 5)), 50,
        ALL_METHODS, [1, 5, 10, 15, 20, 25], ["ddm_enoi_50", "enoi_diag", "enoi_full", "etkf_12"],
        16, 97700, 500,
    ),
}  # fmt: skip

LOSS_LEVEL = {"noise": 0.08, "state": 0.01, "velocity": 0.05}


def _one(name: str) -> dict[str, str]:
    return {"units": "1", "long_name": name}


def _per_seed(rng, index_dim, index, names_ranges, seeds) -> xr.Dataset:
    shape = (len(index), seeds)
    data = {
        name: (
            (index_dim, "seed"),
            10 ** rng.uniform(np.log10(lo), np.log10(hi), shape),
            _one(name),
        )
        for name, (lo, hi) in names_ranges.items()
    }
    return xr.Dataset(data, coords={index_dim: index, "seed": np.arange(seeds)})


def generation_scores(rng, sc: Scale) -> xr.Dataset:
    ranges = {
        "hellinger": (0.02, 0.3),
        "frechet": (1e-4, 0.1),
        "dist_gen": (0.005, 0.05),
        "dist_test": (0.005, 0.05),
        "extreme": (0.6, 1.4),
    }
    ds = _per_seed(rng, "variant", sc.variants, ranges, sc.seeds)
    for name, (lo, _) in ranges.items():
        ds[f"{name}_floor"] = xr.full_like(ds[name], lo)
    return ds


def surrogate_table(rng, sc: Scale) -> xr.Dataset:
    lead = np.arange(sc.n_leads + 1) * 0.1
    n_c = len(sc.configurations)
    growth = 10 ** rng.uniform(-5, -2, (n_c, sc.seeds, 1)) * np.exp(0.9 * lead)
    mse = np.minimum(growth, 2.0)
    mse[-1] = 1e-3 * np.exp(3 * lead)  # a diverging surrogate, as the tiny run has
    dims = ("configuration", "seed", "lead_time")
    ds = xr.Dataset(
        {"mse": (dims, mse, _one("mse")), "mae": (dims, np.sqrt(mse), _one("mae"))},
        coords={"configuration": sc.configurations, "seed": np.arange(sc.seeds), "lead_time": lead},
    )
    ds["lead_time"].attrs["units"] = "MTU"
    return ds


def scaling_study(rng, sc: Scale, dim: str, values: list) -> xr.Dataset:
    shape = (len(sc.scaling_configurations), len(values), sc.seeds)
    dims = ("configuration", dim, "seed")
    data = {
        "rmse_one_step": (dims, 10 ** rng.uniform(-3, 0, shape), _one("rmse_one_step")),
        "rmse_1mtu": (dims, 10 ** rng.uniform(-2, 0.2, shape), _one("rmse_1mtu")),
        "rmse_final": (dims, rng.uniform(1, 2, shape), _one("rmse_final")),
        "hellinger": (dims, rng.uniform(0.05, 1.0, shape), _one("hellinger")),
    }
    coords = {"configuration": sc.scaling_configurations, dim: values, "seed": np.arange(sc.seeds)}
    return xr.Dataset(data, coords=coords)


def timestep_study(rng, sc: Scale, lead_times=(0.1, 1.0)) -> xr.Dataset:
    """The time-step study with the RMSE at fixed lead times: NaN where the surrogate step is
    longer than the lead, interpolated where the lead is not a whole number of steps."""
    ds = scaling_study(rng, sc, "surrogate_dt", sc.surrogate_dt)
    dt_mtu = np.asarray(sc.surrogate_dt)[:, None] * 0.01
    leads = np.asarray(lead_times)[None, :]
    steps = leads / dt_mtu
    reached = steps >= 1 - 1e-9
    interpolated = reached & (np.abs(steps - np.round(steps)) > 1e-6)
    shape = (ds.sizes["configuration"], len(sc.surrogate_dt), sc.seeds, len(lead_times))
    rmse = 10 ** rng.uniform(-2, 0, shape) * np.where(reached, 1.0, np.nan)[None, :, None, :]
    dims = ("configuration", "surrogate_dt", "seed", "fixed_lead_time")
    flag = np.broadcast_to(interpolated[None, :, None, :], shape).astype(float)
    return ds.assign(
        rmse_at_lead=(dims, rmse, _one("rmse_at_lead")),
        lead_interpolated=(dims, flag, _one("lead_interpolated")),
    ).assign_coords(fixed_lead_time=("fixed_lead_time", list(lead_times), {"units": "MTU"}))


def representation_study(rng, sc: Scale) -> xr.Dataset:
    ds = _per_seed(
        rng,
        "diffusion_variant",
        sc.representation,
        {"rmse_one_step": (1e-3, 1e-2), "hellinger": (0.05, 0.2)},
        sc.seeds,
    )
    return ds


def ensemble_sweep(rng, sc: Scale) -> xr.Dataset:
    steps = np.asarray(sc.diffusion_steps)
    n_state = 4
    centre = lorenz_like(rng, n_state)
    scale = 8.0 * steps[:, None, None, None] / steps.max()
    noise = rng.standard_normal((steps.size, n_state, sc.n_members, 3))
    ens = centre[None, :, None, :] + scale * noise
    dims4 = ("diffusion_step", "state", "member", "variable")
    dims2 = ("diffusion_step", "variable")
    return xr.Dataset(
        {
            "ensemble": (dims4, ens, _one("ensemble")),
            "center": (("state", "variable"), centre, _one("centre")),
            "spread": (dims2, ens.std(2).mean(1), _one("spread")),
            "skewness": (dims2, rng.normal(0, 0.3, (steps.size, 3)), _one("skewness")),
            "excess_kurtosis": (dims2, rng.normal(0, 0.5, (steps.size, 3)), _one("kurtosis")),
        },
        coords={"diffusion_step": steps, "variable": VARS},
        attrs={"n_coarse_steps": 100},
    )


def da_spread_sweep(rng, sc: Scale) -> xr.Dataset:
    steps = np.asarray(sc.diffusion_steps)
    dims = ("diffusion_step", "truth")
    base = 0.2 + 0.5 * (steps[:, None] / steps.max())
    shape = (steps.size, sc.truths)
    return xr.Dataset(
        {
            v: (dims, base * rng.uniform(0.8, 1.2, shape), _one(v))
            for v in ("ana_rmse", "ana_spread", "bg_rmse", "bg_spread")
        },
        coords={"diffusion_step": steps},
    )


def da_run(rng, sc: Scale, method: str, obs_every: int = 10) -> xr.Dataset:
    """One DA run file; single-state methods have zero spread and no ensemble ranks."""
    lead = np.arange(obs_every + 1)
    rmse = 0.1 + 0.03 * lead[None] * rng.uniform(0.8, 1.2, (sc.truths, 1))
    single = method in SINGLE_STATE
    spread = np.zeros_like(rmse) if single else rmse * rng.uniform(0.7, 1.1, rmse.shape)
    n_rank = MEMBERS.get(method, 0) + 1
    counts = np.zeros((sc.truths, 3, n_rank))
    if method in MEMBERS:
        counts += rng.integers(50, 150, counts.shape)
        counts[..., 0] += 200
    return xr.Dataset(
        {
            "ana_rmse": ("truth", rmse[:, 0], _one("ana_rmse")),
            "rmse_lead": (("truth", "lead"), rmse, _one("rmse_lead")),
            "spread_lead": (("truth", "lead"), spread, _one("spread_lead")),
            "rank_histogram": (("truth", "variable", "rank"), counts, _one("counts")),
        },
        coords={"lead": lead, "variable": VARS},
        attrs={"method": method},
    )


def obs_interval_sweep(rng, sc: Scale) -> xr.Dataset:
    shape = (len(sc.obs_methods), len(sc.obs_every), sc.truths)
    grow = np.asarray(sc.obs_every)[None, :, None] / 25.0
    dims = ("method", "obs_every", "truth")
    return xr.Dataset(
        {
            v: (dims, (0.1 + grow) * rng.uniform(0.8, 1.2, shape), _one(v))
            for v in ("ana_rmse", "ana_spread")
        },
        coords={"method": sc.obs_methods, "obs_every": sc.obs_every},
    )


def training_logs(rng, sc: Scale) -> dict[str, xr.Dataset]:
    """Per-step losses (noisy, decaying) with a validation loss every ``val_every`` steps."""
    logs = {}
    step = np.arange(1, sc.training_steps + 1)
    for variant in sc.variants:
        param = variant.split("_")[0]
        level = LOSS_LEVEL[param] * (3.0 if variant.endswith("_mae") else 1.0)
        trend = level * (1 + 4 * np.exp(-step / (0.1 * sc.training_steps)))
        loss = trend * rng.lognormal(0.0, 0.35, step.size)
        val = np.where(step % sc.val_every == 0, trend * 0.95, np.nan)
        logs[variant] = xr.Dataset(
            {
                "loss": ("step", loss, _one("loss")),
                "val_loss": ("step", val, _one("val_loss")),
                "wall_time": ("step", step * 0.05, {"units": "s", "long_name": "wall"}),
            },
            coords={"step": step},
        )
    return logs


def build_figures(scale: str) -> dict[str, Callable[[], Figure]]:
    """Figure name -> a function drawing it from synthetic inputs at ``scale``."""
    sc = SCALES[scale]
    rng = np.random.default_rng(7)
    test_states = xr.DataArray(lorenz_like(rng, 20_000), dims=("n", "variable"))
    samples = xr.Dataset(
        {"state": (("sample", "variable"), lorenz_like(rng, 20_000), _one("state"))},
        coords={"variable": VARS},
    )
    sweep = ensemble_sweep(rng, sc)
    steps = sweep["diffusion_step"].values[:: max(1, sweep.sizes["diffusion_step"] // 4)][:4]
    runs = {m: da_run(rng, sc, m) for m in sc.methods}
    return {
        "fig01_attractor_samples": lambda: plotting.fig01_attractor_samples(samples, test_states),
        "fig02_generation_scores": lambda: plotting.fig02_generation_scores(
            generation_scores(rng, sc)
        ),
        "fig03_surrogate_rmse_vs_lead": lambda: plotting.fig03_surrogate_rmse_vs_lead(
            surrogate_table(rng, sc)
        ),
        "fig04_error_vs_training_size": lambda: plotting.fig04_error_vs_training_size(
            scaling_study(rng, sc, "n_train_samples", sc.n_train_samples)
        ),
        "fig05_error_vs_corruption": lambda: plotting.fig05_error_vs_corruption(
            scaling_study(rng, sc, "corruption_level", sc.corruption)
        ),
        "fig06_error_vs_surrogate_dt": lambda: plotting.fig06_error_vs_surrogate_dt(
            timestep_study(rng, sc)
        ),
        "fig07_transfer_by_diffusion_model": lambda: plotting.fig07_transfer_by_diffusion_model(
            representation_study(rng, sc)
        ),
        "fig08_ensembles_around_state": lambda: plotting.fig08_ensembles_around_state(
            sweep, steps=[int(s) for s in steps], test=test_states
        ),
        "fig09_spread_vs_diffusion_time": lambda: plotting.fig09_spread_vs_diffusion_time(
            sweep, da_spread_sweep(rng, sc)
        ),
        "fig10_rmse_spread_in_window": lambda: plotting.fig10_rmse_spread_in_window(runs),
        "fig11_rmse_vs_obs_interval": lambda: plotting.fig11_rmse_vs_obs_interval(
            obs_interval_sweep(rng, sc)
        ),
        "fig12_training_curves": lambda: plotting.fig12_training_curves(training_logs(rng, sc)),
        "fig13_rank_histograms": lambda: plotting.fig13_rank_histograms(runs),
    }


# ------------------------------------------------------------------ the rules on every figure
CHECKED_SCALES = ("tiny", "paper")  # quick lies between them; each figure is drawn once
CASES = [(scale, name) for scale in CHECKED_SCALES for name in plotting.FIGURES]


@functools.cache
def drawn(scale: str, name: str) -> Figure:
    """The figure ``name`` at ``scale``, drawn once and shared by the rule tests."""
    fig = build_figures(scale)[name]()
    layout_check.draw(fig)
    return fig


def test_every_paper_figure_is_checked():
    assert set(build_figures("tiny")) == set(plotting.FIGURES)


@pytest.mark.parametrize(("scale", "name"), CASES)
def test_no_text_overlaps(scale, name):
    problems = layout_check.text_overlaps(drawn(scale, name))
    assert not problems, layout_check.format_problems(problems)


@pytest.mark.parametrize(("scale", "name"), CASES)
def test_no_legend_over_data(scale, name):
    problems = layout_check.legends_over_data(drawn(scale, name))
    assert not problems, layout_check.format_problems(problems)


@pytest.mark.parametrize(("scale", "name"), CASES)
def test_nothing_clipped_by_the_figure_border(scale, name):
    problems = layout_check.clipped_artists(drawn(scale, name))
    assert not problems, layout_check.format_problems(problems)


# ------------------------------------------------------------------ each rule catches its defect
def test_text_rule_catches_the_old_fig02_label_running_into_its_neighbour():
    """fig02 before the fix: panel (c)'s y label named the whole score and ran past its panel
    into the title row, touching panel (b)'s title."""
    fig = build_figures("tiny")["fig02_generation_scores"]()
    with style_context():
        fig.axes[2].set_ylabel("NN distance generated→test (normalised units)")
        problems = layout_check.text_overlaps(fig)
    assert any("ylabel" in p.message for p in problems), problems
    assert not layout_check.text_overlaps(build_figures("tiny")["fig02_generation_scores"]())


def test_legend_rule_catches_the_old_fig12_legend_over_the_curves():
    """fig12 before the fix: a two-column legend in the upper right of the loss panel."""
    fig = build_figures("quick")["fig12_training_curves"]()
    ax = fig.axes[0]
    with style_context():
        labels = [f"noise_cos (seed {k})" for k in range(len(ax.get_lines()))]
        ax.legend(ax.get_lines(), labels, loc="upper right", ncols=2)
        problems = layout_check.legends_over_data(fig)
    assert problems and "legend of axes 0" in problems[0].message


def test_clip_rule_catches_a_label_wider_than_the_figure():
    """fig06 before the fix: the long x label of the last panel reached past the border."""
    fig = build_figures("paper")["fig06_error_vs_surrogate_dt"]()
    with style_context():
        fig.axes[-1].set_xlabel("surrogate time step (integration steps of 0.01 MTU) " * 2)
        problems = layout_check.clipped_artists(fig)
    assert any("xlabel" in p.message for p in problems), problems


# ------------------------------------------------------------------ the checker on known geometry
def _blank() -> tuple[Figure, object]:
    fig, axes = new_figure(1, 1, width=4.0, height=3.0)
    return fig, axes[0, 0]


def test_overlap_of_texts_by_geometry():
    fig, ax = _blank()
    ax.text(0.5, 0.5, "same place", transform=ax.transAxes)
    ax.text(0.5, 0.5, "same place", transform=ax.transAxes)
    ax.text(0.1, 0.1, "far away", transform=ax.transAxes)
    problems = layout_check.text_overlaps(fig)
    assert len(problems) == 1 and problems[0].message.count("same place") == 2


def test_rotated_texts_compare_as_rotated_rectangles():
    """Two parallel 45-degree labels side by side: their axis-aligned boxes overlap, the
    rectangles do not; moved onto each other they do."""
    fig, ax = _blank()
    ax.text(0.40, 0.5, "a long rotated label", rotation=45, transform=ax.transAxes)
    ax.text(0.46, 0.5, "a long rotated label", rotation=45, transform=ax.transAxes)
    assert not layout_check.text_overlaps(fig)
    ax.texts[1].set_position((0.41, 0.5))
    assert len(layout_check.text_overlaps(fig)) == 1


def test_legend_over_a_dense_line_and_in_an_empty_corner():
    fig, ax = _blank()
    x = np.linspace(0, 1, 200)
    ax.plot(x, 1 - x, label="falling line")  # passes through upper left and lower right
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper right")
    assert not layout_check.legends_over_data(fig)
    ax.legend(loc="center")
    (problem,) = layout_check.legends_over_data(fig)
    assert problem.rule == "legend_over_data"


def test_text_outside_the_figure_is_clipped():
    fig, ax = _blank()
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    assert not layout_check.clipped_artists(fig)
    fig.text(0.98, 0.5, "sticks out of the right border")
    (problem,) = layout_check.clipped_artists(fig)
    assert "sticks out" in problem.message
    with pytest.raises(AssertionError, match="1 layout problem"):
        layout_check.assert_clean_layout(fig)


def test_legend_in_empty_corner_avoids_the_data():
    """A rising line leaves the upper-left and lower-right corners free; a line through every
    corner region leaves none, and the legend goes outside the axes."""
    from ddmdyn.plotting._common import legend_in_empty_corner

    with style_context():
        fig, ax = _blank()
        x = np.linspace(0, 1, 200)
        ax.plot(x, x, label="rising line")
        legend = legend_in_empty_corner(ax)
        assert legend._loc in (2, 4)  # upper left or lower right
        assert not layout_check.legends_over_data(fig)
        fig, ax = _blank()
        for y in np.linspace(0.02, 0.98, 25):
            ax.plot(x, np.full_like(x, y), color="k", label="_")
        ax.plot(x, x, label="a line")
        legend = legend_in_empty_corner(ax)
        assert legend.get_bbox_to_anchor().x0 > ax.bbox.x1  # outside, to the right
        assert not layout_check.legends_over_data(fig)
