"""Reproduction verdict: each claim of the paper evaluated from a run's results (issue 14).

Every claim is reduced to one estimate (a ratio or a correlation) per replicate (seed, state or
test truth), compared with a threshold fixed in config before any result is seen:

    estimate = mean over replicates, se = sample std / sqrt(n), interval = estimate ± z se
    "holds"          the whole interval is on the claimed side of the threshold,
    "does not hold"  the whole interval is on the other side,
    "inconclusive"   the interval contains the threshold (uncertainty too large for the margin),
                     or the estimate could not be measured (NaN, missing configuration).

With a single replicate the spread is unknown: the interval is the point estimate and the note
says so. All inputs are the xarray datasets the workflow writes; nothing here knows Snakemake.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr
from scipy import stats

from .dynamics import NORM_SCALE

__all__ = [
    "HOLDS",
    "INCONCLUSIVE",
    "NOT_HOLDS",
    "ClaimResult",
    "claims_dataset",
    "claims_markdown",
    "evaluate_all",
    "verdict",
]

HOLDS, NOT_HOLDS, INCONCLUSIVE = "holds", "does not hold", "inconclusive"
ABOVE, BELOW = "above", "below"


def verdict(estimate: float, se: float, threshold: float, direction: str, z: float) -> str:
    """Verdict of the claim "estimate is `direction` `threshold`" with interval estimate ± z se.

    Args:
        estimate: the measured value (mean over replicates); NaN gives inconclusive.
        se: its standard error (0 when unknown).
        threshold: the criterion fixed in config.
        direction: "below" (the claim is estimate < threshold) or "above".
        z: half-width of the interval in standard errors.
    """
    if direction not in (ABOVE, BELOW):
        raise ValueError(f"direction must be 'above' or 'below', got {direction!r}")
    if not (np.isfinite(estimate) and np.isfinite(se) and se >= 0):
        return INCONCLUSIVE
    lo, hi = estimate - z * se, estimate + z * se
    if direction == BELOW:
        return HOLDS if hi < threshold else NOT_HOLDS if lo > threshold else INCONCLUSIVE
    return HOLDS if lo > threshold else NOT_HOLDS if hi < threshold else INCONCLUSIVE


@dataclass
class ClaimResult:
    """One evaluated claim.

    Attributes:
        claim: short id; statement: the paper's claim; quantity: what `estimate` measures.
        estimate: mean over replicates; spread: sample std over them (NaN for n = 1);
        n: number of replicates; replicates: what they are (seeds, states, test truths).
        threshold, direction: the criterion (estimate below / above threshold).
        ci_low, ci_high: estimate ∓ z se; verdict: holds / does not hold / inconclusive.
        numbers: the measured numbers behind the estimate, as text; note: caveats.
    """

    claim: str
    statement: str
    quantity: str
    estimate: float
    spread: float
    n: int
    replicates: str
    threshold: float
    direction: str
    ci_low: float = math.nan
    ci_high: float = math.nan
    verdict: str = INCONCLUSIVE
    numbers: str = ""
    note: str = ""
    values: list[float] = field(default_factory=list, repr=False)


def _claim(
    claim: str,
    statement: str,
    quantity: str,
    values: Sequence[float],
    replicates: str,
    threshold: float,
    direction: str,
    z: float,
    numbers: str = "",
    note: str = "",
) -> ClaimResult:
    """Mean, spread and verdict of per-replicate values (NaN replicates are dropped)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[np.isfinite(v)]
    n = len(v)
    estimate = float(v.mean()) if n else math.nan
    spread = float(v.std(ddof=1)) if n > 1 else math.nan
    se = spread / math.sqrt(n) if n > 1 else 0.0
    notes = [note] if note else []
    if n == 0:
        notes.append("not measured in this run")
    elif n == 1:
        notes.append(
            f"one {replicates.rstrip('s')}: spread unknown, verdict from the point estimate"
        )
    res = ClaimResult(
        claim=claim,
        statement=statement,
        quantity=quantity,
        estimate=estimate,
        spread=spread,
        n=n,
        replicates=replicates,
        threshold=float(threshold),
        direction=direction,
        ci_low=estimate - z * se,
        ci_high=estimate + z * se,
        verdict=verdict(estimate, se, threshold, direction, z),
        numbers=numbers,
        note="; ".join(notes),
        values=v.tolist(),
    )
    return res


def _g(x: float) -> str:
    return f"{x:.3g}" if np.isfinite(x) else "n/a"


def _ms(a: np.ndarray) -> str:
    a = np.asarray(a, dtype=float)
    if a.size > 1:
        return f"{_g(np.nanmean(a))} ± {_g(np.nanstd(a, ddof=1))}"
    return _g(float(a.ravel()[0])) if a.size else "n/a"


# ----------------------------------------------------------------------------------------------
# 1. Generation


def generation_claims(
    scores: xr.Dataset, variant: str, max_ratio: float, z: float
) -> list[ClaimResult]:
    """Generated states of `variant` vs their noise floors (variant x seed generation table).

    Per seed: Hellinger ratio = hellinger_matched / hellinger_floor; nearest-neighbour ratio =
    the larger of dist_gen_matched / dist_gen_floor and dist_test_matched / dist_test_floor.
    The `_matched` scores compare the generated set with a test subset of equal size, the same
    footing as the floor (two disjoint test subsets). Claim: ratio below `max_ratio`.
    """
    s = scores.sel({"variant": variant})
    h = s["hellinger_matched"].values / s["hellinger_floor"].values
    d_gen = s["dist_gen_matched"].values / s["dist_gen_floor"].values
    d_test = s["dist_test_matched"].values / s["dist_test_floor"].values
    nn = np.fmax(d_gen, d_test)
    statement = "Generated states are almost indistinguishable from attractor states"
    return [
        _claim(
            "generation_hellinger",
            f"{statement} (Hellinger distance)",
            f"Hellinger distance / its noise floor, {variant}",
            h,
            "seeds",
            max_ratio,
            BELOW,
            z,
            numbers=f"Hellinger {_ms(s['hellinger_matched'].values)}, "
            f"floor {_ms(s['hellinger_floor'].values)}",
        ),
        _claim(
            "generation_nearest_neighbour",
            f"{statement} (nearest-neighbour distances)",
            f"max of generated->test and test->generated NN distance / floor, {variant}",
            nn,
            "seeds",
            max_ratio,
            BELOW,
            z,
            numbers=f"gen->test {_ms(s['dist_gen_matched'].values)} "
            f"(floor {_ms(s['dist_gen_floor'].values)}), "
            f"test->gen {_ms(s['dist_test_matched'].values)} "
            f"(floor {_ms(s['dist_test_floor'].values)})",
        ),
    ]


# ----------------------------------------------------------------------------------------------
# 2./3. Surrogates


def rmse_at_lead(table: xr.Dataset, lead_time: float) -> xr.DataArray:
    """(configuration, seed) RMSE at the roll-out lead `lead_time` (model time units).

    Raises:
        ValueError: no lead within 1e-6 MTU of `lead_time` (names the available range).
    """
    leads = table["lead_time"].values
    i = int(np.argmin(np.abs(leads - lead_time)))
    if abs(leads[i] - lead_time) > 1e-6:
        raise ValueError(
            f"no roll-out lead at {lead_time} MTU (claims.surrogate.lead_time_mtu); "
            f"leads span {leads.min()}..{leads.max()} MTU"
        )
    return np.sqrt(table["mse"].isel({"lead_time": i}))


def _best(rmse: xr.DataArray, candidates: Sequence[str]) -> str | None:
    present = [c for c in candidates if c in rmse["configuration"].values]
    if not present:
        return None
    means = [float(rmse.sel({"configuration": c}).mean("seed", skipna=True)) for c in present]
    if not np.any(np.isfinite(means)):
        return present[0]
    return present[int(np.nanargmin(means))]


def _ratio_claim(
    rmse: xr.DataArray,
    num: str | None,
    den: str | None,
    claim: str,
    statement: str,
    threshold: float,
    direction: str,
    z: float,
    lead_time: float,
    missing: str,
) -> ClaimResult:
    if num is None or den is None:
        return _claim(
            claim, statement, "RMSE ratio", [], "seeds", threshold, direction, z, note=missing
        )
    a = rmse.sel({"configuration": num}).values
    b = rmse.sel({"configuration": den}).values
    return _claim(
        claim,
        statement,
        f"RMSE at {lead_time:g} MTU, {num} / {den}",
        a / b,
        "seeds",
        threshold,
        direction,
        z,
        numbers=f"{num} {_ms(a)}, {den} {_ms(b)}",
    )


def surrogate_claims(
    table: xr.Dataset,
    lead_time: float,
    as_good_margin: float,
    clearly_worse_margin: float,
    z: float,
) -> list[ClaimResult]:
    """Heads on frozen diffusion features vs deep networks; untrained vs trained features.

    RMSE at `lead_time` MTU from the surrogate table's (configuration, seed, lead_time) mse.
    - transfer_vs_deep: best of transfer_linear / transfer_mlp over the best of dense_three /
      dense_residual_three (best by mean over seeds; those present in the run), per seed;
      holds when below 1 + `as_good_margin`.
    - untrained_features: transfer_untrained_linear / transfer_linear, per seed; holds when
      above 1 + `clearly_worse_margin`.
    """
    rmse = rmse_at_lead(table, lead_time)
    head = _best(rmse, ["transfer_linear", "transfer_mlp"])
    deep = _best(rmse, ["dense_three", "dense_residual_three"])
    return [
        _ratio_claim(
            rmse,
            head,
            deep,
            "transfer_vs_deep",
            "A linear or small head on frozen diffusion features is about as good as deep "
            "networks trained from scratch",
            1.0 + as_good_margin,
            BELOW,
            z,
            lead_time,
            "needs transfer_linear or transfer_mlp and dense_three or dense_residual_three",
        ),
        _ratio_claim(
            rmse,
            "transfer_untrained_linear"
            if "transfer_untrained_linear" in rmse["configuration"].values
            else None,
            "transfer_linear" if "transfer_linear" in rmse["configuration"].values else None,
            "untrained_features",
            "Features of an untrained network are clearly worse than trained ones",
            1.0 + clearly_worse_margin,
            ABOVE,
            z,
            lead_time,
            "needs transfer_untrained_linear and transfer_linear",
        ),
    ]


# ----------------------------------------------------------------------------------------------
# 4. Ensembles


def _member_variance(sweep: xr.Dataset) -> np.ndarray:
    """(diffusion_step, state, variable) member variance in normalised units."""
    ens = sweep["ensemble"].transpose("diffusion_step", "state", "member", "variable").values
    return np.var(ens / np.asarray(NORM_SCALE), axis=2, ddof=1)


def ensemble_claims(
    sweep: xr.Dataset,
    n_coarse_steps: int,
    min_rank_correlation: float,
    partial_fraction: float,
    max_distance_ratio: float,
    z: float,
) -> list[ClaimResult]:
    """Spread grows with diffusion time; partially diffused ensembles stay near the attractor.

    - spread_grows: per state, the Spearman correlation between S and the state's ensemble
      spread; holds when above `min_rank_correlation`.
    - partial_on_attractor: for S <= `partial_fraction` * `n_coarse_steps`, the mean squared
      distance of the members to the nearest test state over the mean squared member
      displacement (the summed normalised variances); the worst S counts. A Gaussian blob around
      a point of a locally flat attractor gives about 1/3; members on the attractor give ~0.
      Holds when below `max_distance_ratio`. One estimate per S (the sweep stores the pooled
      distance only), so the spread over replicates is unknown.
    """
    steps = sweep["diffusion_step"].values
    var = _member_variance(sweep)
    grows = _spread_grows_claim(steps, var, min_rank_correlation, z)
    near = _partial_on_attractor_claim(
        steps,
        var,
        sweep["attractor_distance"].values,
        partial_fraction,
        n_coarse_steps,
        max_distance_ratio,
        z,
    )
    return [grows, near]


def _spread_grows_claim(
    steps: np.ndarray, var: np.ndarray, min_rank_correlation: float, z: float
) -> ClaimResult:
    """spread_grows from the member variances `var` (S, state, variable) at diffusion `steps`."""
    spread = np.sqrt(var.mean(axis=-1))  # (S, state)
    statement = "Ensemble spread grows with diffusion time"
    if len(steps) < 2:
        return _claim(
            "spread_grows",
            statement,
            "Spearman(S, spread)",
            [],
            "states",
            min_rank_correlation,
            ABOVE,
            z,
            note="needs at least two diffusion steps",
        )
    rho = np.array([stats.spearmanr(steps, spread[:, j]).statistic for j in range(spread.shape[1])])
    mean_spread = spread.mean(axis=1)
    return _claim(
        "spread_grows",
        statement,
        "Spearman correlation of S and a state's ensemble spread",
        rho,
        "states",
        min_rank_correlation,
        ABOVE,
        z,
        numbers="mean spread "
        + ", ".join(f"S={s}: {_g(v)}" for s, v in zip(steps, mean_spread, strict=True)),
    )


def _partial_on_attractor_claim(
    steps: np.ndarray,
    var: np.ndarray,
    distance: np.ndarray,
    partial_fraction: float,
    n_coarse_steps: int,
    max_distance_ratio: float,
    z: float,
) -> ClaimResult:
    """partial_on_attractor: the worst ratio of squared attractor `distance` to squared member
    displacement over the partial steps S <= `partial_fraction` * `n_coarse_steps`."""
    partial = steps <= partial_fraction * n_coarse_steps
    var_total = var.sum(axis=-1).mean(axis=1)  # (S,) mean squared member displacement
    ratio = distance / var_total
    if partial.any():
        worst = int(np.argmax(np.where(partial, ratio, -np.inf)))
        values = [ratio[worst]]
        numbers = ", ".join(
            f"S={s}: {_g(d)} / {_g(v)}"
            for s, d, v, p in zip(steps, distance, var_total, partial, strict=True)
            if p
        )
        note = f"worst partial step S={steps[worst]}"
    else:
        values, numbers, note = [], "", f"no diffusion step <= {partial_fraction} x K"
    return _claim(
        "partial_on_attractor",
        "Partially diffused ensembles stay near the attractor",
        "squared distance to the attractor / squared member displacement, worst partial S",
        values,
        "estimates",
        max_distance_ratio,
        BELOW,
        z,
        numbers=numbers,
        note=note,
    )


# ----------------------------------------------------------------------------------------------
# 5. Assimilation

DIFFUSION_ENOI = ("ddm_enoi_50", "ddm_enoi_10")
STATIC_ENOI = ("enoi_diag", "enoi_full", "var3d")


def assimilation_claims(table: xr.Dataset, max_ratio: float, z: float) -> list[ClaimResult]:
    """EnOI with diffusion ensembles beats EnOI with tuned static covariances.

    The best diffusion EnOI and the best static-covariance EnOI (enoi_diag, enoi_full, var3d;
    best by pooled analysis nRMSE) are compared truth by truth (same truths, observations and
    initial states): ratio of their analysis nRMSE; holds when below `max_ratio`.
    """
    methods = [str(m) for m in table["method"].values]
    ana = table["ana_rmse"].transpose("method", "truth")
    pooled = {m: float(np.sqrt(np.mean(ana.sel({"method": m}).values ** 2))) for m in methods}

    def best(group):
        present = [m for m in group if m in methods]
        if not present:
            return None
        finite = [m for m in present if np.isfinite(pooled[m])]
        return min(finite or present, key=lambda m: pooled[m] if np.isfinite(pooled[m]) else 0)

    ddm, static = best(DIFFUSION_ENOI), best(STATIC_ENOI)
    statement = "EnOI with diffusion ensembles beats EnOI with tuned static covariances"
    if ddm is None or static is None:
        return [
            _claim(
                "ddm_beats_static",
                statement,
                "analysis nRMSE ratio",
                [],
                "test truths",
                max_ratio,
                BELOW,
                z,
                note="needs a diffusion and a static EnOI method",
            )
        ]
    a = ana.sel({"method": ddm}).values
    b = ana.sel({"method": static}).values
    note = ""
    if "n_diverged" in table:
        nd = {m: int(table["n_diverged"].sel({"method": m})) for m in (ddm, static)}
        if any(nd.values()):
            note = "diverged test truths: " + ", ".join(f"{m} {k}" for m, k in nd.items())
    return [
        _claim(
            "ddm_beats_static",
            statement,
            f"analysis nRMSE, {ddm} / {static}, per test truth",
            a / b,
            "test truths",
            max_ratio,
            BELOW,
            z,
            numbers=f"pooled {ddm} {_g(pooled[ddm])}, {static} {_g(pooled[static])}; "
            f"per truth {ddm} {_ms(a)}, {static} {_ms(b)}",
            note=note,
        )
    ]


# ----------------------------------------------------------------------------------------------
# All claims and their outputs


def evaluate_all(
    generation: xr.Dataset,
    surrogate: xr.Dataset,
    ensembles: xr.Dataset,
    assimilation: xr.Dataset,
    settings: Mapping[str, Any],
    main_variant: str,
    n_coarse_steps: int,
) -> list[ClaimResult]:
    """Every claim, from the four result datasets and the config section `claims`."""
    z = float(settings["z"])
    g, s, e, a = (settings[k] for k in ("generation", "surrogate", "ensembles", "assimilation"))
    return [
        *generation_claims(generation, main_variant, g["max_ratio_to_floor"], z),
        *surrogate_claims(
            surrogate, s["lead_time_mtu"], s["as_good_margin"], s["clearly_worse_margin"], z
        ),
        *ensemble_claims(
            ensembles,
            n_coarse_steps,
            e["min_rank_correlation"],
            e["partial_fraction"],
            e["max_distance_ratio"],
            z,
        ),
        *assimilation_claims(assimilation, a["max_ratio"], z),
    ]


COLUMNS = (
    "statement",
    "quantity",
    "estimate",
    "spread",
    "n",
    "replicates",
    "threshold",
    "direction",
    "ci_low",
    "ci_high",
    "verdict",
    "numbers",
    "note",
)


def claims_frame(results: Sequence[ClaimResult]) -> pd.DataFrame:
    """One row per claim (index `claim`), the columns of `COLUMNS`."""
    rows = [{k: v for k, v in asdict(r).items() if k != "values"} for r in results]
    return pd.DataFrame(rows).set_index("claim")[list(COLUMNS)]


def claims_dataset(results: Sequence[ClaimResult], z: float) -> xr.Dataset:
    """The claims as a dataset over `claim` (numbers float64, texts as strings)."""
    df = claims_frame(results)
    ds = xr.Dataset.from_dataframe(df)
    ds["n"] = ds["n"].astype(np.int64)
    for name in ds.data_vars:  # write_netcdf requires both on every variable
        ds[name].attrs.setdefault("long_name", f"claim {name}")
        ds[name].attrs.setdefault("units", "1")
    ds.attrs.update(
        z=float(z),
        verdict_rule="holds: estimate ± z·se entirely on the claimed side of the threshold; "
        "does not hold: entirely on the other side; inconclusive: otherwise",
    )
    return ds


def claims_markdown(results: Sequence[ClaimResult], title: str, z: float) -> str:
    """A Markdown page: one row per claim with its numbers and verdict, then the rule."""
    header = "| claim | criterion | measured | verdict | numbers |\n|---|---|---|---|---|\n"
    lines = []
    for r in results:
        op = "<" if r.direction == BELOW else ">"
        if r.n > 1:
            measured = (
                f"{_g(r.estimate)} ± {_g(r.spread)} (n={r.n} {r.replicates}; "
                f"interval {_g(r.ci_low)}..{_g(r.ci_high)})"
            )
        else:
            measured = f"{_g(r.estimate)} (n={r.n})"
        numbers = r.numbers + (f". {r.note}" if r.note else "")
        cells = [
            f"**{r.statement}**<br>`{r.claim}`",
            f"{r.quantity} {op} {_g(r.threshold)}",
            measured,
            f"**{r.verdict}**",
            numbers,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    rule = (
        f"\nVerdict rule: interval = mean ± {z:g} standard errors over the replicates; the "
        "claim holds when the whole interval is on the claimed side of the criterion, does not "
        "hold when it is entirely on the other side, and is inconclusive otherwise (or when not "
        "measured). With one replicate the interval is the point estimate. Criteria are fixed "
        "in config (`claims:`) before the run.\n"
    )
    return f"# {title}\n\n{header}" + "\n".join(lines) + "\n" + rule
