"""Collect per-run DA score files into sweep and table datasets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..tables import stack_runs
from .tuning import diverged_truths, pooled_nrmse

SCALARS = ("ana_rmse", "ana_spread", "bg_rmse", "bg_spread", "crps", "spread_skill")


def _scalars(run: xr.Dataset) -> xr.Dataset:
    return run[list(SCALARS)]


def spread_sweep_dataset(runs: Sequence[xr.Dataset], steps: Sequence[int]) -> xr.Dataset:
    """(diffusion_step, truth) scores of the DA diffusion-step sweep."""
    keyed = {(round(r.attrs["parameter_value"]),): _scalars(r) for r in runs}
    ds = stack_runs(keyed, ("diffusion_step",), ([int(s) for s in steps],))
    ds["diffusion_step"].attrs.update(long_name="diffusion steps S (of K)", units="1")
    return ds


def obs_interval_dataset(
    runs: Sequence[xr.Dataset], methods: Sequence[str], obs_every: Sequence[int]
) -> xr.Dataset:
    """(method, obs_every, truth) scores plus the tuned parameter per (method, obs_every)."""
    keyed = {}
    for r in runs:
        scal = _scalars(r).assign(
            parameter_value=(
                (),
                float(r.attrs["parameter_value"]),
                {"long_name": "tuned parameter", "units": "1"},
            ),
            n_cycles_used=(
                (),
                float(r.attrs["n_cycles_used"]),
                {"long_name": "scored cycles", "units": "1"},
            ),
        )
        keyed[(r.attrs["method"], int(r.attrs["obs_every"]))] = scal
    ds = stack_runs(keyed, ("method", "obs_every"), (list(methods), [int(o) for o in obs_every]))
    ds["obs_every"].attrs.update(long_name="observation interval (integration steps)", units="1")
    return ds


def table_dataset(runs: Sequence[xr.Dataset], methods: Sequence[str]) -> xr.Dataset:
    """(method, truth) scores of the DA scores table."""
    keyed = {(r.attrs["method"],): _scalars(r) for r in runs}
    return stack_runs(keyed, ("method",), (list(methods),))


# ----------------------------------------------------------------------------------------------
# The DA scores table: the authors' aggregation (pooled over truths) with the per-truth spread

POOLED = {
    "ana_rmse": "analysis nRMSE",
    "ana_spread": "analysis spread",
    "bg_rmse": "background nRMSE",
    "bg_spread": "background spread",
}
TABLE_NOTES = (
    "Pooled columns are the authors' aggregation: the mean squared error (or ensemble variance) "
    "pooled over all test truths and scored cycles, then the root. Per-truth columns give the "
    "mean ± sample std over truths of each truth's time-mean score. Spread/skill is pooled "
    "background spread / pooled background nRMSE; CRPS is the mean ± std over truths. "
    "'diverged' counts test truths whose analysis nRMSE exceeds {threshold:g} "
    "(config assimilation.divergence_nrmse; the observation error alone gives {obs:.3g})."
)


def with_divergence(ds: xr.Dataset, threshold: float) -> xr.Dataset:
    """Add (method, truth) `diverged`, (method) `n_diverged` and pooled scores to a table dataset.

    Pooled score = sqrt(mean over truths of score^2) (`tuning.pooled_nrmse`), for each of
    `POOLED`; a divergence is an analysis nRMSE above `threshold` or not finite.
    """
    out = ds.copy()
    mask = diverged_truths(ds["ana_rmse"].transpose("method", "truth").values, threshold)
    out["diverged"] = (
        ("method", "truth"),
        mask,
        {
            "long_name": f"analysis nRMSE > {threshold:g} (diverged)",
            "units": "1",
            "threshold": threshold,
        },
    )
    out["n_diverged"] = (
        ("method",),
        mask.sum(axis=-1).astype(np.int64),
        {"long_name": "test truths that diverged", "units": "1"},
    )
    for name, label in POOLED.items():
        out[f"{name}_pooled"] = (
            ("method",),
            pooled_nrmse(ds[name].transpose("method", "truth").values),
            {"long_name": f"{label}, root of the mean square pooled over truths", "units": "1"},
        )
    return out


def with_pooled_scores(ds: xr.Dataset, threshold: float) -> xr.Dataset:
    """Add pooled analysis nRMSE and spread and the diverged-truth count to a dataset with a
    `truth` dimension (e.g. (method, obs_every, truth)): `ana_rmse_pooled`, `ana_spread_pooled`
    and `n_diverged` over the other dimensions (the authors' aggregation, see `POOLED`)."""
    out = ds.copy()
    other = [d for d in ds["ana_rmse"].dims if d != "truth"]
    for name in ("ana_rmse", "ana_spread"):
        per = ds[name].transpose(*other, "truth").values
        out[f"{name}_pooled"] = (
            tuple(other),
            pooled_nrmse(per),
            {
                "long_name": f"{POOLED[name]}, root of the mean square pooled over truths",
                "units": "1",
            },
        )
    mask = diverged_truths(ds["ana_rmse"].transpose(*other, "truth").values, threshold)
    out["n_diverged"] = (
        tuple(other),
        mask.sum(axis=-1).astype(np.int64),
        {"long_name": f"test truths with analysis nRMSE > {threshold:g}", "units": "1"},
    )
    return out


def _fmt(x: float) -> str:
    return f"{x:.4g}" if np.isfinite(x) else "n/a"


def da_table_frames(ds: xr.Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numbers, display strings) of the DA table from `with_divergence` output, one row per method.

    Numbers: <score>_pooled, <score>_mean, <score>_std (sample std over truths) for the scores of
    `POOLED`, crps_mean/std, spread_skill (pooled ratio), n_diverged, n_truths.
    """
    methods = [str(m) for m in ds["method"].values]
    n_truths = ds.sizes["truth"]
    num: dict[str, np.ndarray] = {}
    txt: dict[str, list[str]] = {}
    for name, label in POOLED.items():
        per = ds[name].transpose("method", "truth").values
        pooled = ds[f"{name}_pooled"].values
        mean = np.nanmean(per, axis=1)
        std = np.nanstd(per, axis=1, ddof=1) if n_truths > 1 else np.zeros(len(methods))
        num.update({f"{name}_pooled": pooled, f"{name}_mean": mean, f"{name}_std": std})
        txt[f"{label} (pooled)"] = [_fmt(v) for v in pooled]
        if name.endswith("rmse"):
            txt[f"{label} per truth"] = [
                f"{_fmt(m)} ± {_fmt(s)}" for m, s in zip(mean, std, strict=True)
            ]
    crps = ds["crps"].transpose("method", "truth").values
    crps_std = np.nanstd(crps, axis=1, ddof=1) if n_truths > 1 else np.zeros(len(methods))
    num["crps_mean"], num["crps_std"] = np.nanmean(crps, axis=1), crps_std
    txt["CRPS per truth"] = [
        f"{_fmt(m)} ± {_fmt(s)}" for m, s in zip(num["crps_mean"], crps_std, strict=True)
    ]
    with np.errstate(invalid="ignore", divide="ignore"):
        num["spread_skill"] = num["bg_spread_pooled"] / num["bg_rmse_pooled"]
    txt["spread/skill (pooled)"] = [_fmt(v) for v in num["spread_skill"]]
    num["n_diverged"] = ds["n_diverged"].values
    num["n_truths"] = np.full(len(methods), n_truths)
    txt["diverged"] = [f"{int(k)} / {n_truths}" for k in num["n_diverged"]]
    index = pd.Index(methods, name="method")
    return pd.DataFrame(num, index=index), pd.DataFrame(txt, index=index)
