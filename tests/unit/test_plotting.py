"""Tests of ddmdyn.plotting on tiny synthetic datasets laid out as in docs/data_contracts.md."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

from ddmdyn import plotting
from ddmdyn.plotting import figure_data, generation, style
from tests.synthetic import lorenz_like

VARS = ["x", "y", "z"]
VARIANTS = [
    "velocity_cos",
    "noise_linear",
    "state_cos",
    "velocity_cos_mae",
    "noise_cos",
    "state_linear",
    "velocity_linear",
]
CONFIGS = ["dense_two", "transfer_linear", "rff_linear"]
METHODS = ["ddm_enoi_50", "enoi_diag", "etkf_12"]
SCORES = ["hellinger", "frechet", "dist_gen", "dist_test", "extreme"]


# ---------------------------------------------------------------- helpers
@pytest.fixture(autouse=True)
def _close_figures():
    before = set(plt.get_fignums())
    yield
    for num in set(plt.get_fignums()) - before:
        plt.close(num)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def _attrs(units: str, long_name: str) -> dict[str, str]:
    return {"units": units, "long_name": long_name}


def assert_rendered(fig: Figure, min_nonwhite: float = 0.03) -> None:
    """The figure draws to a non-blank image."""
    assert isinstance(fig, Figure)
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
    assert img.var() > 0
    nonwhite = np.mean(np.any(img < 250, axis=-1))
    assert nonwhite > min_nonwhite, nonwhite
    plt.close(fig)


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.axison]


def assert_labelled(axes) -> None:
    for ax in axes:
        assert ax.get_xlabel().strip(), ax
        assert ax.get_ylabel().strip(), ax


def seeds_scores(rng, index_dim: str, index: list[str], names: list[str], n_seed=4) -> xr.Dataset:
    shape = (len(index), n_seed)
    data = {
        name: ((index_dim, "seed"), rng.uniform(0.05, 1.0, shape), _attrs("1", name))
        for name in names
    }
    return xr.Dataset(data, coords={index_dim: index, "seed": np.arange(n_seed)})


# ---------------------------------------------------------------- style
def test_styles_known_and_fallback_distinct():
    st = style.styles_for(["transfer_linear", "brand_new", "other_new"], "configuration")
    assert st["transfer_linear"] == style.CONFIGURATION_STYLES["transfer_linear"]
    colours = [st[n].color for n in st]
    assert len(set(colours)) == 3
    assert st["brand_new"].label == "brand_new"
    assert style.parse_variant("velocity_cos_mae") == ("velocity", "cos_mae")
    assert style.parse_variant("foo") == (None, None)
    v = style.styles_for(["noise_cos", "noise_linear", "state_cos"], "variant")
    assert v["noise_cos"].color == v["noise_linear"].color != v["state_cos"].color
    assert v["noise_cos"].marker != v["noise_linear"].marker
    with pytest.raises(ValueError):
        style.styles_for(["a"], "colour")


def test_functions_do_not_touch_pyplot(rng):
    before = plt.get_fignums()
    ds = seeds_scores(rng, "diffusion_variant", ["state_cos", "noise_cos"], ["rmse_one_step"])
    fig = plotting.fig07_transfer_by_diffusion_model(ds)
    assert plt.get_fignums() == before  # not registered with pyplot: nothing shown or kept alive
    assert fig.get_size_inches()[0] <= style.PAGE_WIDTH + 1e-9
    assert_rendered(fig)


# ---------------------------------------------------------------- generation
def test_fig01_attractor_samples(rng):
    samples = xr.Dataset(
        {"state": (("sample", "variable"), lorenz_like(rng, 500), _attrs("1", "state"))},
        coords={"variable": VARS},
    )
    test = xr.DataArray(lorenz_like(rng, 800), dims=("n", "variable"), coords={"variable": VARS})
    fig = plotting.fig01_attractor_samples(samples, test, max_points=300)
    axes = visible_axes(fig)
    assert len(axes) == 6
    assert_labelled(axes)
    for ax in axes:
        (coll,) = [c for c in ax.collections if isinstance(c, PathCollection)]
        assert len(coll.get_offsets()) == 300  # subsampled to max_points
    # top row x-z panel: points are test points in (x, z)
    offsets = np.asarray(axes[1].collections[0].get_offsets())
    xz = test.values[:, [0, 2]]
    assert all(np.any(np.all(np.isclose(xz, p), axis=1)) for p in offsets[:20])
    assert axes[0].get_xlim() == axes[3].get_xlim()  # rows share limits
    assert_rendered(fig)


def test_fig02_generation_scores(rng):
    names = SCORES + [f"{s}_floor" for s in SCORES]
    ds = seeds_scores(rng, "variant", VARIANTS, names)
    fig = plotting.fig02_generation_scores(ds)
    axes = visible_axes(fig)
    assert len(axes) == 5
    assert_labelled(axes)
    for ax, name in zip(axes, SCORES, strict=True):
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == len(VARIANTS)
        floor = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert len(floor) == 1
        assert np.allclose(floor[0].get_ydata(), ds[f"{name}_floor"].values.mean())
        # mean markers: the errorbar centres are the seed means, in the grouped order
        ticks = [t.get_text() for t in ax.get_xticklabels()]
        assert ticks[0].startswith("n-") and ticks[-1].startswith("v-")
        means = sorted(float(b.lines[0].get_ydata()[0]) for b in bars)
        assert np.allclose(means, np.sort(ds[name].mean("seed").values))
    # ordering: noise, state, velocity, then the L1 ablation last
    ticks = [t.get_text() for t in axes[0].get_xticklabels()]
    assert ticks[-1].startswith("v-") and "L1" in ticks[-1]
    assert_rendered(fig)


def test_fig12_training_curves(rng):
    logs = {}
    for name in ["velocity_cos", "noise_cos", "noise_linear", "velocity_cos_mae", "my_run"]:
        step = np.arange(0, 200, 2)
        loss = 1.0 / (1 + step) + rng.uniform(0, 0.01, step.size)
        val = np.where(step % 20 == 0, loss * 1.1, np.nan)
        logs[name] = xr.Dataset(
            {
                "loss": ("step", loss, _attrs("1", "loss")),
                "val_loss": ("step", val, _attrs("1", "val")),
                "wall_time": ("step", step * 0.1, _attrs("s", "wall")),
            },
            coords={"step": step},
        )
    fig = plotting.fig12_training_curves(logs, smooth=3)
    axes = visible_axes(fig)
    # one panel per loss scale: noise, velocity (MSE), velocity L1 ablation, the unknown run
    titles = [ax.get_title() for ax in axes]
    assert len(axes) == 4, titles
    assert "noise" in titles[0] and "L1" in titles[2] and "my_run" in titles[3]
    assert_labelled(axes)
    assert all(ax.get_yscale() == "log" for ax in axes)
    # noise panel: a training line and a validation marker series per variant
    noise = axes[0].get_lines()
    assert len(noise) == 4
    expected = generation.running_mean(logs["noise_cos"]["loss"].values, 3)
    assert np.allclose(noise[0].get_ydata(), expected)
    # validation: only the validated points (NaNs dropped), drawn as markers without a line
    assert len(noise[1].get_xdata()) == 10 and noise[1].get_linestyle() == "None"
    assert "running mean over 6 steps" in fig.legends[0].get_texts()[0].get_text()
    assert_rendered(fig)


def test_running_mean_is_centred_and_nan_aware():
    values = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    out = generation.running_mean(values, 3)
    assert np.allclose(out, [1.5, 1.5, 3.0, 4.5, 4.5])
    assert np.array_equal(generation.running_mean(values, 1), values, equal_nan=True)


# ---------------------------------------------------------------- surrogate
def test_fig03_rmse_vs_lead(rng):
    lead = np.arange(1, 21) * 0.1
    mse = rng.uniform(0.5, 1.5, (len(CONFIGS), 3, lead.size)) * (1e-4 * np.exp(lead))
    ds = xr.Dataset(
        {
            "mse": (("configuration", "seed", "lead_time"), mse, _attrs("1", "mse")),
            "mae": (("configuration", "seed", "lead_time"), np.sqrt(mse), _attrs("1", "mae")),
        },
        coords={"configuration": CONFIGS, "seed": [0, 1, 2], "lead_time": lead},
    )
    ds["lead_time"].attrs["units"] = "MTU"
    fig = plotting.fig03_surrogate_rmse_vs_lead(ds)
    (ax,) = visible_axes(fig)
    assert_labelled([ax])
    assert ax.get_yscale() == "log"
    lines = ax.get_lines()
    assert len(lines) == len(CONFIGS)
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == len(CONFIGS)
    expected = np.sqrt(mse).mean(axis=1)
    for k, line in enumerate(lines):
        assert np.allclose(line.get_ydata(), expected[k])
        assert np.allclose(line.get_xdata(), lead)
    sub = plotting.fig03_surrogate_rmse_vs_lead(ds, configurations=["rff_linear"])
    assert len(visible_axes(sub)[0].get_lines()) == 1
    plt.close(sub)
    with pytest.raises(KeyError):
        plotting.fig03_surrogate_rmse_vs_lead(ds, configurations=["nope"])
    assert_rendered(fig)


@pytest.mark.parametrize(
    ("func", "dim", "values", "base"),
    [
        ("fig04_error_vs_training_size", "n_train_samples", [8, 64, 512, 4096], 2),
        ("fig05_error_vs_corruption", "corruption_level", [0.005, 0.05, 0.2, 1.0], 10),
        ("fig06_error_vs_surrogate_dt", "surrogate_dt", [1, 5, 20, 100], 10),
    ],
)
def test_fig04_to_06_sweeps(rng, func, dim, values, base):
    shape = (len(CONFIGS), len(values), 3)
    data = {
        v: (("configuration", dim, "seed"), rng.uniform(0.01, 0.5, shape), _attrs("1", v))
        for v in ("rmse_one_step", "rmse_1mtu", "hellinger")
    }
    # values deliberately unsorted along the sweep dimension
    ds = xr.Dataset(data, coords={"configuration": CONFIGS, dim: values[::-1], "seed": [0, 1, 2]})
    fig = getattr(plotting, func)(ds)
    axes = visible_axes(fig)
    assert len(axes) == 2
    assert_labelled(axes)
    for ax, var in zip(axes, ("rmse_one_step", "hellinger"), strict=True):
        assert ax.get_xscale() == "log"
        lines = ax.get_lines()
        assert len(lines) == len(CONFIGS)
        assert np.allclose(lines[0].get_xdata(), sorted(values))
        expected = ds[var].sortby(dim).isel(configuration=0).mean("seed").values
        assert np.allclose(lines[0].get_ydata(), expected)
    assert axes[0].get_yscale() == "log"
    assert len(fig.legends) == 1 and len(fig.legends[0].get_texts()) == len(CONFIGS)
    assert_rendered(fig)


def test_fig06_at_fixed_lead_times(rng):
    """One panel per fixed lead time plus Hellinger; missing where unreached, open markers
    where interpolated."""
    dts, leads = [1, 4, 20], [0.1, 1.0]
    shape = (len(CONFIGS), len(dts), 3, len(leads))
    rmse = rng.uniform(0.01, 0.5, shape)
    rmse[:, 2, :, 0] = np.nan  # dt 20 = 0.2 MTU never forecasts 0.1 MTU
    flag = np.zeros(shape)
    flag[:, 1, :, 0] = 1.0  # dt 4 at 0.1 MTU: interpolated
    dims = ("configuration", "surrogate_dt", "seed", "fixed_lead_time")
    ds = xr.Dataset(
        {
            "rmse_at_lead": (dims, rmse, _attrs("1", "r")),
            "lead_interpolated": (dims, flag, _attrs("1", "f")),
            "rmse_one_step": (dims[:3], rmse[..., 0], _attrs("1", "one")),
            "hellinger": (dims[:3], rng.uniform(0, 1, shape[:3]), _attrs("1", "h")),
        },
        coords={"configuration": CONFIGS, "surrogate_dt": dts, "seed": [0, 1, 2]},
    ).assign_coords(fixed_lead_time=("fixed_lead_time", leads, {"units": "MTU"}))
    fig = plotting.fig06_error_vs_surrogate_dt(ds)
    axes = visible_axes(fig)
    assert len(axes) == 3
    assert "0.1 MTU" in axes[0].get_ylabel() and "1 MTU" in axes[1].get_ylabel()
    line = axes[1].get_lines()[0]
    assert np.allclose(line.get_ydata(), rmse[0, :, :, 1].mean(axis=1))
    assert np.allclose(axes[0].get_lines()[0].get_xdata(), [1, 4])  # dt 20 missing
    hollow = [
        ln
        for ln in axes[0].get_lines()
        if ln.get_markerfacecolor() == "white" and len(ln.get_xdata())
    ]
    assert len(hollow) == len(CONFIGS) and np.allclose(hollow[0].get_xdata(), [4])
    assert not [ln for ln in axes[1].get_lines() if ln.get_markerfacecolor() == "white"]
    assert any("interpolated" in t.get_text() for t in fig.legends[0].get_texts())
    assert_rendered(fig)


def test_fig07_transfer_by_diffusion_model(rng):
    variants = ["state_cos", "noise_cos", "velocity_cos"]
    ds = seeds_scores(rng, "diffusion_variant", variants, ["rmse_one_step", "hellinger"], 5)
    fig = plotting.fig07_transfer_by_diffusion_model(ds, reference={"dense_three": 0.2})
    (ax,) = visible_axes(fig)
    assert_labelled([ax])
    points = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(points) == 3 and all(len(p.get_offsets()) == 5 for p in points)
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 3
    assert np.isclose(bars[1].lines[0].get_ydata()[0], ds["rmse_one_step"][1].mean())
    assert any(np.allclose(ln.get_ydata(), 0.2) for ln in ax.get_lines())
    two = plotting.fig07_transfer_by_diffusion_model(ds, variables=("rmse_one_step", "hellinger"))
    assert len(visible_axes(two)) == 2
    plt.close(two)
    assert_rendered(fig)


# ---------------------------------------------------------------- assimilation
@pytest.fixture
def ensemble_sweep(rng) -> xr.Dataset:
    steps = np.arange(5, 45, 5)
    n_state, n_member = 2, 12
    centre = lorenz_like(rng, n_state)
    scale = steps[:, None, None, None] / 10.0
    ens = centre[None, :, None, :] + scale * rng.standard_normal((steps.size, n_state, n_member, 3))
    dims4 = ("diffusion_step", "state", "member", "variable")
    return xr.Dataset(
        {
            "ensemble": (dims4, ens, _attrs("1", "ensemble")),
            "center": (("state", "variable"), centre, _attrs("1", "centre")),
            "spread": (("diffusion_step", "variable"), ens.std(2).mean(1), _attrs("1", "s")),
            "skewness": (
                ("diffusion_step", "variable"),
                rng.normal(0, 0.3, (8, 3)),
                _attrs("1", ""),
            ),
            "excess_kurtosis": (
                ("diffusion_step", "variable"),
                rng.normal(0, 0.3, (8, 3)),
                _attrs("1", "k"),
            ),
            "mardia_kurtosis": ("diffusion_step", rng.normal(15, 1, 8), _attrs("1", "m")),
            "attractor_distance": ("diffusion_step", rng.uniform(0, 1, 8), _attrs("1", "d")),
        },
        coords={"diffusion_step": steps, "variable": VARS},
    )


def test_fig08_ensembles_around_state(rng, ensemble_sweep):
    test = xr.DataArray(lorenz_like(rng, 400), dims=("n", "variable"))
    fig = plotting.fig08_ensembles_around_state(
        ensemble_sweep, steps=(5, 10, 21), state=1, test=test
    )
    axes = visible_axes(fig)
    assert len(axes) == 6
    assert_labelled(axes)
    for ax in axes:
        assert len(ax.collections) == 3  # background, members, centre
    # column 3 asked for step 21: nearest available is 20; top row is the x-z plane
    members = np.asarray(axes[2].collections[1].get_offsets())
    expected = ensemble_sweep["ensemble"].sel(diffusion_step=20).isel(state=1).values[:, [0, 2]]
    assert np.allclose(members, expected)
    assert "S = 20" in axes[2].get_title()
    no_bg = plotting.fig08_ensembles_around_state(ensemble_sweep, steps=(5, 40))
    assert all(len(ax.collections) == 2 for ax in visible_axes(no_bg))
    plt.close(no_bg)
    assert_rendered(fig)


def test_fig09_spread_vs_diffusion_time(rng, ensemble_sweep):
    steps = ensemble_sweep["diffusion_step"].values
    dims = ("diffusion_step", "truth")
    da = xr.Dataset(
        {
            v: (dims, rng.uniform(0.1, 1.0, (steps.size, 4)), _attrs("1", v))
            for v in ("ana_rmse", "ana_spread", "bg_rmse", "bg_spread")
        },
        coords={"diffusion_step": steps},
    )
    fig = plotting.fig09_spread_vs_diffusion_time(ensemble_sweep, da)
    axes = visible_axes(fig)
    assert len(axes) == 3
    assert_labelled(axes)
    assert len(axes[0].get_lines()) == 3  # spread per variable
    assert np.allclose(axes[0].get_lines()[2].get_ydata(), ensemble_sweep["spread"][:, 2])
    assert len(axes[1].get_lines()) == 6 + 1  # skewness, kurtosis per variable + zero line
    assert len(axes[2].get_lines()) == 4
    ana = axes[2].get_lines()[0]
    assert np.allclose(ana.get_ydata(), da["ana_rmse"].mean("truth"))
    two = plotting.fig09_spread_vs_diffusion_time(ensemble_sweep)
    assert len(visible_axes(two)) == 2
    plt.close(two)
    assert_rendered(fig)


def _run(rng, n_truth=3, n_lead=10, n_rank=13, skew=False) -> xr.Dataset:
    counts = rng.integers(0, 50, (n_truth, 3, n_rank)).astype(float)
    if skew:
        counts[..., 0] += 100
    return xr.Dataset(
        {
            "ana_rmse": ("truth", rng.uniform(0.1, 1, n_truth), _attrs("1", "a")),
            "rmse_lead": (
                ("truth", "lead"),
                rng.uniform(0.1, 1, (n_truth, n_lead)),
                _attrs("1", "r"),
            ),
            "spread_lead": (
                ("truth", "lead"),
                rng.uniform(0.1, 1, (n_truth, n_lead)),
                _attrs("1", "s"),
            ),
            "rank_histogram": (("truth", "variable", "rank"), counts, _attrs("1", "counts")),
        },
        coords={"lead": np.arange(n_lead), "variable": VARS},
        attrs={"method": "m"},
    )


def test_fig10_rmse_spread_in_window(rng):
    runs = {m: _run(rng) for m in METHODS}
    fig = plotting.fig10_rmse_spread_in_window(runs)
    (ax,) = visible_axes(fig)
    assert_labelled([ax])
    lines = ax.get_lines()
    assert len(lines) == 2 * len(METHODS)
    assert np.allclose(lines[0].get_ydata(), runs["ddm_enoi_50"]["rmse_lead"].mean("truth"))
    assert np.allclose(lines[1].get_ydata(), runs["ddm_enoi_50"]["spread_lead"].mean("truth"))
    assert lines[1].get_linestyle() == "--"
    assert_rendered(fig)


def test_fig10_draws_no_spread_for_single_state_methods(rng):
    runs = {m: _run(rng) for m in ["var3d", "etkf_12"]}
    runs["var3d"]["spread_lead"][:] = 0.0
    fig = plotting.fig10_rmse_spread_in_window(runs)
    (ax,) = visible_axes(fig)
    dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(ax.get_lines()) == 3 and len(dashed) == 1
    assert np.allclose(dashed[0].get_ydata(), runs["etkf_12"]["spread_lead"].mean("truth"))
    legend = " ".join(t.get_text() for t in fig.legends[0].get_texts())
    assert "no spread" in legend and "3D-Var" in legend
    assert_rendered(fig)


def test_fig11_rmse_vs_obs_interval(rng):
    obs = [1, 5, 10, 25]
    shape = (len(METHODS), len(obs), 4)
    ds = xr.Dataset(
        {
            v: (("method", "obs_every", "truth"), rng.uniform(0.1, 1, shape), _attrs("1", v))
            for v in ("ana_rmse", "ana_spread")
        },
        coords={"method": METHODS, "obs_every": obs},
    )
    fig = plotting.fig11_rmse_vs_obs_interval(ds)
    (ax,) = visible_axes(fig)
    assert_labelled([ax])
    assert len(ax.get_lines()) == len(METHODS)
    assert np.allclose(ax.get_lines()[2].get_ydata(), ds["ana_rmse"][2].mean("truth"))
    with_spread = plotting.fig11_rmse_vs_obs_interval(ds, show_spread=True)
    assert len(visible_axes(with_spread)[0].get_lines()) == 2 * len(METHODS)
    plt.close(with_spread)
    assert_rendered(fig)


def test_fig13_rank_histograms(rng):
    runs = {
        "ddm_enoi_50": _run(rng, n_rank=51, skew=True),
        "etkf_12": _run(rng, n_rank=13),
        "x": _run(rng),
    }
    fig = plotting.fig13_rank_histograms(runs, ncols=2)
    axes = visible_axes(fig)
    assert len(axes) == 3  # fourth grid cell switched off
    assert_labelled(axes)
    for ax, (method, run) in zip(axes, runs.items(), strict=True):
        (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
        heights = np.array([p.get_height() for p in bars.patches])
        counts = run["rank_histogram"].sum(("truth", "variable")).values
        assert len(heights) == run.sizes["rank"]
        assert np.isclose(heights.sum(), 1.0)
        assert np.allclose(heights, counts / counts.sum())
        uniform = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert np.allclose(uniform[0].get_ydata(), 1.0 / run.sizes["rank"]), method
    assert_rendered(fig)


def test_edge_cases_nan_seeds_missing_floor_empty_ranks(rng):
    # NaN seeds are skipped in the mean; a single finite seed gives a zero-width band
    ds = seeds_scores(rng, "variant", ["noise_cos", "state_cos"], SCORES, n_seed=3)
    ds["hellinger"][0, :2] = np.nan
    fig = plotting.fig02_generation_scores(ds, score_names=("hellinger", "not_there"))
    (ax,) = visible_axes(fig)
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert np.isclose(bars[0].lines[0].get_ydata()[0], ds["hellinger"][0, 2])
    assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]  # no floor given
    assert_rendered(fig)
    with pytest.raises(KeyError):
        plotting.fig02_generation_scores(ds, score_names=("not_there",))
    # a method without ensemble ranks (all-zero counts) gets no panel; the legend names it
    empty = _run(rng)
    empty["rank_histogram"][:] = 0
    fig = plotting.fig13_rank_histograms({"var3d": empty, "ddm_enoi_50": _run(rng)})
    (ax,) = visible_axes(fig)
    assert len(ax.containers) == 1 and "EnOI-DDM" in ax.get_title()
    assert any("3D-Var" in t.get_text() for t in fig.legends[0].get_texts())
    assert_rendered(fig)


def test_fig13_integer_ranks_get_integer_ticks(rng):
    fig = plotting.fig13_rank_histograms({"etkf_3": _run(rng, n_rank=4)})
    (ax,) = visible_axes(fig)
    fig.canvas.draw()
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


def test_long_titles_are_wrapped_and_can_be_switched_off(rng):
    runs = {m: _run(rng) for m in METHODS}
    long_title = "word " * 60
    fig = plotting.fig10_rmse_spread_in_window(runs, title=long_title)
    assert fig.get_suptitle().count("\n") >= 2
    plt.close(fig)
    fig = plotting.fig10_rmse_spread_in_window(runs, title=None)
    assert fig.get_suptitle() == ""
    assert_rendered(fig)


# ---------------------------------------------------------------- data behind the figures
def test_figure_data_holds_what_the_figures_draw(rng, tmp_path):
    samples = xr.Dataset(
        {"state": (("sample", "variable"), lorenz_like(rng, 500), _attrs("1", "state"))},
        coords={"variable": VARS},
    )
    test = xr.DataArray(lorenz_like(rng, 800), dims=("n", "variable"), coords={"variable": VARS})
    points = figure_data.attractor_points(samples, test, max_points=300)
    fig = plotting.fig01_attractor_samples(samples, test, max_points=300)
    drawn_generated = np.asarray(visible_axes(fig)[3].collections[0].get_offsets())
    assert np.allclose(drawn_generated, points["generated"].values[:, :2])  # the x-y panel
    # DA runs of different ensemble sizes stack along method, NaN-padded ranks
    runs = {"etkf_3": _run(rng, n_rank=4), "etkf_12": _run(rng, n_rank=13)}
    ranks = figure_data.runs_by_method(runs, ["rank_histogram"])
    assert ranks.sizes == {"method": 2, "truth": 3, "variable": 3, "rank": 13}
    assert np.isnan(ranks["rank_histogram"].sel({"method": "etkf_3", "rank": 4})).all()
    np.testing.assert_array_equal(
        ranks["rank_histogram"].sel({"method": "etkf_12"}), runs["etkf_12"]["rank_histogram"]
    )
    path = tmp_path / "fig13.nc"
    figure_data.write_figure_data(ranks, path, figure="fig13_rank_histograms")
    with xr.open_dataset(path) as back:
        assert back.attrs["figure"] == "fig13_rank_histograms"
        np.testing.assert_array_equal(back["rank_histogram"], ranks["rank_histogram"])
