"""Result tables (`tables.py`) and the DA table's stacking, checked against numbers by hand.

Row order follows the configured coordinates (not the order the runs arrive in), the std is the
sample std (ddof = 1) of the finite values, NaN runs are skipped, and a single seed gives std 0.
The Markdown shows the CSV's numbers, and the figures' bands come from the same computation.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ddmdyn.assimilation.collect import table_dataset
from ddmdyn.plotting._common import mean_std as band_mean_std
from ddmdyn.tables import (
    mean_std,
    mean_std_numbers,
    mean_std_table,
    stack_runs,
    table_to_markdown,
    write_table,
)


def scalar_run(**values: float) -> xr.Dataset:
    return xr.Dataset({k: ((), v, {"units": "1", "long_name": k}) for k, v in values.items()})


SCORES = {  # (variant, seed) -> score
    ("b", 0): 1.0,
    ("b", 1): 2.0,
    ("b", 2): 6.0,
    ("a", 0): 4.0,
    ("a", 1): np.nan,  # a failed seed
    ("a", 2): 5.0,
}


def stacked() -> xr.Dataset:
    runs = {key: scalar_run(score=v, other=10 * v) for key, v in SCORES.items()}
    return stack_runs(runs, ("variant", "seed"), (["b", "a"], [0, 1, 2]))


def test_stack_runs_follows_the_given_coordinates():
    ds = stacked()
    assert list(ds["variant"].values) == ["b", "a"] and list(ds["seed"].values) == [0, 1, 2]
    assert ds["score"].dims == ("variant", "seed")
    np.testing.assert_array_equal(ds["score"].sel(variant="b").values, [1.0, 2.0, 6.0])
    np.testing.assert_array_equal(ds["other"].sel(variant="a").values, [40.0, np.nan, 50.0])
    assert ds["score"].attrs["units"] == "1"


def test_stack_runs_names_a_missing_run():
    runs = {key: scalar_run(score=v) for key, v in SCORES.items() if key != ("a", 2)}
    with pytest.raises(KeyError, match=r"'variant': 'a', 'seed': 2"):
        stack_runs(runs, ("variant", "seed"), (["b", "a"], [0, 1, 2]))


def test_mean_and_sample_std_skip_nan():
    numbers = mean_std_numbers(stacked(), "variant", "seed")
    assert list(numbers.index) == ["b", "a"]
    assert numbers.loc["b", "score_mean"] == pytest.approx(3.0)
    assert numbers.loc["b", "score_std"] == pytest.approx(np.std([1, 2, 6], ddof=1))  # 2.646
    assert numbers.loc["a", "score_mean"] == pytest.approx(4.5)
    assert numbers.loc["a", "score_std"] == pytest.approx(np.std([4, 5], ddof=1))
    assert numbers.loc["a", "other_mean"] == pytest.approx(45.0)


def test_single_seed_has_std_zero():
    runs = {(v,): scalar_run(score=s) for v, s in [("x", 2.5), ("y", -1.0)]}
    runs = {(v, 0): r for (v,), r in runs.items()}
    ds = stack_runs(runs, ("variant", "seed"), (["x", "y"], [0]))
    numbers = mean_std_numbers(ds, "variant", "seed")
    assert list(numbers["score_mean"]) == [2.5, -1.0]
    assert list(numbers["score_std"]) == [0.0, 0.0]


def test_written_csv_and_markdown_carry_the_same_numbers(tmp_path):
    out = SimpleNamespace(
        netcdf=tmp_path / "t.nc", csv=tmp_path / "t.csv", markdown=tmp_path / "t.md"
    )
    write_table(stacked(), "variant", "seed", out, {"provenance_step": "test"}, "Scores",
                extra_columns={"authors": ["0.1", "0.2"]})  # fmt: skip
    csv = pd.read_csv(out.csv, index_col=0)
    assert list(csv.index) == ["b", "a"]
    assert csv.loc["b", "score_std"] == pytest.approx(np.std([1, 2, 6], ddof=1))
    assert list(csv["authors"]) == [0.1, 0.2]
    md = out.markdown.read_text()
    assert md.startswith("# Scores\n")
    rows = [ln for ln in md.splitlines() if ln.startswith("| b ") or ln.startswith("| a ")]
    assert [r.split("|")[1].strip() for r in rows] == ["b", "a"]
    assert "3 ± 2.646" in rows[0] and "4.5 ± 0.7071" in rows[1]
    assert rows[0].rstrip(" |").endswith("0.1") and rows[1].rstrip(" |").endswith("0.2")
    with xr.open_dataset(out.netcdf) as ds:
        np.testing.assert_array_equal(ds["score"].values, stacked()["score"].values)
        assert ds.attrs["title"] == "Scores" and ds.attrs["provenance_step"] == "test"


def _markdown_cells(md: str) -> dict[str, list[str]]:
    """Row name -> cells of a Markdown pipe table (header and separator skipped)."""
    rows = [ln.strip("| ").split(" | ") for ln in md.splitlines() if ln.startswith("| ")]
    return {r[0]: r[1:] for r in rows[1:]}


def test_markdown_agrees_with_csv_in_every_case(tmp_path):
    """Every Markdown cell is its CSV mean and std formatted: NaN runs, one finite value out of
    several (std NaN: "± n/a", no longer "± 0"), no finite value, a single negative seed."""
    A = {"units": "1", "long_name": "score"}
    values = [[1.0, 2.0, 6.0], [4.0, np.nan, 5.0], [np.nan, -0.25, np.nan], [np.nan] * 3]
    several = xr.Dataset(
        {"score": (("variant", "seed"), values, A), "other": (("variant", "seed"), values, A)},
        coords={"variant": ["b", "a", "one", "none"], "seed": [0, 1, 2]},
    )
    single = several.isel(seed=[1])  # one seed: std 0 (or NaN for a NaN run), "-0" shown as "0"
    for tag, ds in [("several", several), ("single", single)]:
        out = SimpleNamespace(
            netcdf=tmp_path / f"{tag}.nc",
            csv=tmp_path / f"{tag}.csv",
            markdown=tmp_path / f"{tag}.md",
        )
        write_table(ds, "variant", "seed", out, {"provenance_step": "test"}, "Scores")
        csv = pd.read_csv(out.csv, index_col=0)
        cells = _markdown_cells(out.markdown.read_text())
        assert list(cells) == list(csv.index) == [str(v) for v in ds["variant"].values]
        for row, md_row in cells.items():
            for j, name in enumerate(["score", "other"]):
                mean, std = csv.loc[row, f"{name}_mean"], csv.loc[row, f"{name}_std"]
                if np.isnan(mean):
                    assert md_row[j] == "n/a"
                    continue
                md_mean, md_std = md_row[j].split(" ± ")
                assert md_mean == f"{mean:.4g}"
                assert md_std == ("n/a" if np.isnan(std) else f"{abs(std):.4g}")
    assert _markdown_cells((tmp_path / "several.md").read_text())["one"][0] == "-0.25 ± n/a"
    assert _markdown_cells((tmp_path / "single.md").read_text())["one"][0] == "-0.25 ± 0"
    assert str(pd.read_csv(tmp_path / "single.csv", index_col=0).loc["one", "score_std"]) == "-0.0"


def test_mean_std_table_and_markdown():
    ds = xr.Dataset(
        {
            "hellinger": (("variant", "seed"), [[1.0, 3.0], [2.0, np.nan]]),
            "frechet": (("variant", "seed"), [[0.5, 0.5], [np.nan, np.nan]]),
            "per_lead": (("variant", "lead_time"), [[1.0], [2.0]]),
        },
        coords={"variant": ["a|b", "velocity_cos"], "seed": [0, 1]},
    )
    df = mean_std_table(ds, dim="seed", index_dim="variant", fmt="{:.3g}")
    assert list(df.columns) == ["hellinger", "frechet"] and df.index.name == "variant"
    # mean 2, sample std sqrt(2) = 1.41; a single finite value has no std; all-NaN is n/a
    assert df.loc["a|b", "hellinger"] == "2 ± 1.41"
    assert df.loc["velocity_cos", "hellinger"] == "2 ± n/a"
    assert df.loc["a|b", "frechet"] == "0.5 ± 0"
    assert df.loc["velocity_cos", "frechet"] == "n/a"
    lines = table_to_markdown(df).strip().split("\n")
    assert lines[0] == "| variant | hellinger | frechet |"
    assert set(lines[1].replace("|", "").replace(":", "")) == {"-"}
    assert lines[2] == "| a\\|b | 2 ± 1.41 | 0.5 ± 0 |"
    assert len(lines) == 4
    with pytest.raises(ValueError):
        mean_std_table(ds, index_dim="variant", variables=["per_lead"])


def test_figure_bands_use_the_table_numbers():
    values = [[1.0, 3.0, np.nan], [2.0, np.nan, np.nan], [np.nan] * 3]
    da = xr.DataArray(values, dims=("variant", "seed"), coords={"seed": [0, 1, 2]})
    mean, std = mean_std(da, "seed")
    band_mean, band_std = band_mean_std(da, "seed")
    xr.testing.assert_identical(band_mean, mean)
    np.testing.assert_array_equal(band_std.values, [np.sqrt(2.0), 0.0, 0.0])  # no band: 0
    np.testing.assert_array_equal(std.values, [np.sqrt(2.0), np.nan, np.nan])


def da_run(method: str, ana_rmse) -> xr.Dataset:
    n = len(ana_rmse)
    data = {
        name: ("truth", np.asarray(ana_rmse) * f, {"units": "1", "long_name": name})
        for name, f in [("ana_rmse", 1.0), ("ana_spread", 0.5), ("bg_rmse", 2.0),
                        ("bg_spread", 1.5), ("crps", 0.3), ("spread_skill", 0.75)]
    }  # fmt: skip
    data["rmse_lead"] = (("truth", "lead"), np.zeros((n, 4)), {"units": "1", "long_name": "x"})
    return xr.Dataset(data, attrs={"method": method, "parameter_value": 1.0})


def test_da_table_rows_in_configured_method_order_over_truths():
    runs = [da_run("var3d", [0.3, 0.5]), da_run("etkf_12", [0.1, 0.2]), da_run("enoi", [1, 2])]
    ds = table_dataset(runs, ["etkf_12", "enoi", "var3d"])
    assert list(ds["method"].values) == ["etkf_12", "enoi", "var3d"]
    assert "rmse_lead" not in ds  # only per-truth scalars reach the table
    np.testing.assert_allclose(ds["ana_rmse"].values, [[0.1, 0.2], [1, 2], [0.3, 0.5]])
    np.testing.assert_allclose(ds["bg_rmse"].sel({"method": "var3d"}).values, [0.6, 1.0])
    numbers = mean_std_numbers(ds, "method", "truth")
    assert numbers.loc["var3d", "ana_rmse_mean"] == pytest.approx(0.4)
    assert numbers.loc["var3d", "ana_rmse_std"] == pytest.approx(np.sqrt(0.02))
    with pytest.raises(KeyError, match="etkf_3"):
        table_dataset(runs, ["etkf_3"])
