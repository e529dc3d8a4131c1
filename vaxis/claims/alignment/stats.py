"""Chapter 6's comparisons: each alignment strategy vs the label-only model, decisive in both directions.

Unit of analysis: the **test subject**, its balanced accuracy averaged over seeds; every fold's trained models are
a cluster (:func:`vaxis.stats.clustered_paired_test`, calibrated by simulation in :mod:`vaxis.publish.calibration`).
For every strategy: the paired difference (strategy - label-only, same subjects, seeds, initial weights and batch
order) with its CI and p-value, Holm across the strategies; an equivalence test (TOST) against +-``margin``, Holm
across the strategies too; the minimum detectable effect at Holm's strictest level (alpha / m); and one of four
outcomes (:func:`vaxis.stats.count_outcome`): improved, reduced, unchanged (equivalent), inconclusive, or a fifth,
``not_used``, for a strategy whose weight chosen on validation subjects was 0 in every fold (it *is* the label-only
model, so it is neither tested nor "unchanged"). :func:`attach_controls` and :func:`gain_inputs` bring in the
distillation controls of :mod:`vaxis.claims.alignment.controls` for claim 6's part A.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as st

from vaxis.claims.common.strategies import FAMILIES, STRATEGIES
from vaxis.stats import clustered_paired_test, count_outcome, equivalence_pvalue, holm, mde_from_se

__all__ = ["compare_strategies", "count_outcomes", "OUTCOME_ORDER", "POINT_COLUMNS", "strategy_records",
           "adjusted_bounds", "attach_controls", "gain_inputs"]

OUTCOME_ORDER = ("improved", "unchanged", "reduced", "inconclusive", "not_used")


def adjusted_bounds(diff, se, df, alpha: float, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-sided bounds at the Bonferroni level ``alpha / m`` (Holm's first step): ``diff -+ t_{1 - alpha/(2m), df}
    se``; arrays of shape (n,) from ``diff``, ``se``, ``df`` of shape (n,)."""
    diff, se, df = (np.asarray(x, float) for x in (diff, se, df))
    half = st.t.ppf(1 - alpha / (2 * max(int(m), 1)), np.maximum(df, 1.0)) * se
    return diff - half, diff + half


def _paired(subjects: pd.DataFrame, name: str, base: str = "label-only") -> dict:
    """Clustered paired test of strategy ``name`` vs ``base`` from a subject table (seeds averaged per subject x
    fold)."""
    key = ["seed", "fold", "subject"]
    a = subjects[subjects.strategy == name].set_index(key).ba
    b = subjects[subjects.strategy == base].set_index(key).ba.reindex(a.index)
    if b.isna().any():
        raise ValueError(f"{name}: {int(b.isna().sum())} subject scores without a label-only pair")
    d = (a - b).rename("d").groupby(level=["fold", "subject"]).mean().reset_index()
    return clustered_paired_test(d.d.to_numpy(), d.subject.to_numpy(), d.fold.to_numpy())


def compare_strategies(subjects: pd.DataFrame, weights: pd.DataFrame | None = None, alpha: float = 0.05,
                       margin: float = 0.01) -> pd.DataFrame:
    """Every strategy vs the label-only model.

    Parameters
    ----------
    subjects : DataFrame
        :func:`vaxis.claims.common.conditions.subject_table` of the reported models (``strategy``, ``weight``, ``seed``,
        ``fold``, ``subject``, ``ba``), the label-only rows included.
    weights : DataFrame, optional
        The chosen weights (``strategy``, ``fold``, ``weight``): the typical (most frequent) one is reported.
    margin : float
        Equivalence margin in BA (fraction; 0.01 = 1 BA point).

    Returns
    -------
    DataFrame, one row per strategy (family order): ``strategy``, ``family``, ``variant_of``, ``weight`` (typical
    chosen), ``share_zero`` (share of folds where 0 was chosen), ``not_used`` (``share_zero == 1``), ``ba``,
    ``baseline_ba``, ``diff``, ``ci_low``, ``ci_high`` (95 %), ``ci_low_adj``, ``ci_high_adj`` (at alpha / m),
    ``se``, ``df``, ``p``, ``p_holm``, ``p_equivalence`` (Holm), ``mde`` (at alpha / m), ``n`` (subjects),
    ``n_clusters``, ``outcome``. Holm's family (``m``) is the *used* strategies: which are not used is decided on
    validation subjects, and a not-used strategy gets NaN p-values and MDE and the outcome ``not_used``.
    """
    names = [n for n in subjects.strategy.unique() if n != "label-only"]
    rows = []
    for name in names:
        r = _paired(subjects, name)
        w = None if weights is None else weights[weights.strategy == name].weight
        rows.append({"strategy": name, "family": STRATEGIES[name].family, "variant_of": STRATEGIES[name].variant_of,
                     "weight": None if w is None or w.empty else float(w.value_counts().idxmax()),
                     "share_zero": None if w is None or w.empty else float((w == 0).mean()),
                     "ba": float(subjects[subjects.strategy == name].ba.mean()),
                     "baseline_ba": float(subjects[subjects.strategy == "label-only"].ba.mean()),
                     **{k: r[k] for k in ("diff", "ci_low", "ci_high", "se", "df", "p", "n", "n_clusters")},
                     "p_eq_raw": equivalence_pvalue(r["diff"], r["se"], r["df"], margin)})
    out = pd.DataFrame(rows)
    out["not_used"] = out.share_zero.map(lambda z: z is not None and z == 1.0).astype(bool)
    used = ~out.not_used.to_numpy()
    m = max(int(used.sum()), 1)
    for col, raw in (("p_holm", "p"), ("p_equivalence", "p_eq_raw")):
        out[col] = np.nan
        if used.any():
            out.loc[used, col] = holm(out.loc[used, raw].to_numpy())
    out["mde"] = [mde_from_se(se, df, alpha / m) if u else np.nan for se, df, u in zip(out.se, out["df"], used)]
    out["ci_low_adj"], out["ci_high_adj"] = adjusted_bounds(out["diff"], out.se, out["df"], alpha, m)
    out["outcome"] = [count_outcome(r.diff, r.ci_low, r.ci_high, r.p_holm, r.p_equivalence, alpha=alpha,
                                    margin=margin) if not r.not_used else "not_used" for r in out.itertuples()]
    order = {f: i for i, f in enumerate(FAMILIES)}
    out = out.drop(columns=["p_eq_raw"])
    return out.sort_values(["family", "strategy"], key=lambda c: c.map(order) if c.name == "family" else c,
                           ignore_index=True)


def count_outcomes(table: pd.DataFrame) -> dict[str, int]:
    """``{improved, unchanged, reduced, inconclusive, not_used}`` counts of a :func:`compare_strategies` table."""
    vc = table.outcome.value_counts()
    return {o: int(vc.get(o, 0)) for o in OUTCOME_ORDER}


#: Columns of :func:`compare_strategies` that hold a BA difference (fractions there, BA points in the results file).
POINT_COLUMNS = ("diff", "ci_low", "ci_high", "ci_low_adj", "ci_high_adj", "mde", "mde_forced", "se")


def strategy_records(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table``'s ``columns`` with every BA difference in BA points (x 100), the unit of the results file's
    ``margin`` and ``power.mde``, so that a reader compares like with like."""
    out = table[columns].copy()
    for c in POINT_COLUMNS:
        if c in out:
            out[c] = 100 * out[c]
    return out


def attach_controls(table: pd.DataFrame, controls: pd.DataFrame) -> pd.DataFrame:
    """``table`` (:func:`compare_strategies`) with ``beats_controls``: True / False where the strategy has controls
    (:func:`vaxis.claims.alignment.controls.compare_controls`' ``geometry_evidence``: it beats every control),
    None where it has none or is not used."""
    ev = controls.groupby("strategy").geometry_evidence.first() if len(controls) else pd.Series(dtype=bool)
    out = table.copy()
    out["beats_controls"] = [None if nu or s not in ev.index else bool(ev[s])
                             for s, nu in zip(out.strategy, out.not_used)]
    return out


def gain_inputs(table: pd.DataFrame, controls: pd.DataFrame) -> list[dict]:
    """Claim 6 part A's input (:func:`vaxis.publish.verdicts.claim6_parts`): per strategy ``strategy``,
    ``not_used`` and ``comparisons`` = ``[{against, diff, ci_low, ci_high}]`` (BA fractions, bounds at the
    Bonferroni level: ``ci_low_adj`` / ``ci_high_adj``) against ``"label-only"`` and each control row of
    ``controls`` (:func:`~vaxis.claims.alignment.controls.compare_controls`, real minus control)."""
    out = []
    for r in table.itertuples():
        comps = [{"against": "label-only", "diff": float(r.diff), "ci_low": float(r.ci_low_adj),
                  "ci_high": float(r.ci_high_adj)}]
        if len(controls):
            comps += [{"against": c.control, "diff": float(c.diff), "ci_low": float(c.ci_low_adj),
                       "ci_high": float(c.ci_high_adj)} for c in controls[controls.strategy == r.strategy].itertuples()]
        out.append({"strategy": r.strategy, "not_used": bool(r.not_used), "comparisons": comps})
    return out
