"""Result tables (`tables.py`) and the DA table's stacking, checked against numbers by hand.

Row order follows the configured coordinates (not the order the runs arrive in), the std is the
sample std (ddof = 1) of the finite values, NaN runs are skipped, and a single seed gives std 0.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from ddmdyn.assimilation.collect import table_dataset
from ddmdyn.tables import mean_std_numbers, stack_runs, write_table


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
