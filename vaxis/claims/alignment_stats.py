"""Chapter 6's comparisons: each alignment strategy vs the label-only model, decisive in both directions.

Unit of analysis: the **test subject**, its balanced accuracy averaged over seeds; every fold's trained models are
a cluster (:func:`vaxis.stats.clustered_paired_test`, calibrated by simulation in :mod:`vaxis.publish.calibration`).
For every strategy: the paired difference (strategy - label-only, same subjects, seeds, initial weights and batch
order) with its CI and p-value, Holm across the strategies; an equivalence test (TOST) against +-``margin``, Holm
across the strategies too; the minimum detectable effect at Holm's strictest level (alpha / m); and one of four
outcomes (:func:`vaxis.stats.count_outcome`): improved, reduced, unchanged (equivalent), inconclusive.
"""

from __future__ import annotations

import pandas as pd

from vaxis.claims.alignment import FAMILIES, STRATEGIES
from vaxis.stats import clustered_paired_test, count_outcome, equivalence_pvalue, holm, mde_from_se

__all__ = ["compare_strategies", "count_outcomes", "OUTCOME_ORDER", "POINT_COLUMNS", "strategy_records"]

OUTCOME_ORDER = ("improved", "unchanged", "reduced", "inconclusive")


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
        :func:`vaxis.claims.alignment_train.subject_table` of the reported models (``strategy``, ``weight``, ``seed``,
        ``fold``, ``subject``, ``ba``), the label-only rows included.
    weights : DataFrame, optional
        The chosen weights (``strategy``, ``fold``, ``weight``): the typical (most frequent) one is reported.
    margin : float
        Equivalence margin in BA (fraction; 0.01 = 1 BA point).

    Returns
    -------
    DataFrame, one row per strategy (family order): ``strategy``, ``family``, ``variant_of``, ``weight`` (typical
    chosen), ``share_zero`` (share of folds where 0 was chosen), ``ba``, ``baseline_ba``, ``diff``, ``ci_low``,
    ``ci_high``, ``se``, ``df``, ``p``, ``p_holm``, ``p_equivalence`` (Holm), ``mde`` (at alpha / m), ``n``
    (subjects), ``n_clusters``, ``outcome``.
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
    m = len(out)
    out["p_holm"] = holm(out.p.to_numpy())
    out["p_equivalence"] = holm(out.p_eq_raw.to_numpy())
    out["mde"] = [mde_from_se(se, df, alpha / m) for se, df in zip(out.se, out["df"])]
    out["outcome"] = [count_outcome(r.diff, r.ci_low, r.ci_high, r.p_holm, r.p_equivalence, alpha=alpha,
                                    margin=margin) for r in out.itertuples()]
    order = {f: i for i, f in enumerate(FAMILIES)}
    out = out.drop(columns=["p_eq_raw"])
    return out.sort_values(["family", "strategy"], key=lambda c: c.map(order) if c.name == "family" else c,
                           ignore_index=True)


def count_outcomes(table: pd.DataFrame) -> dict[str, int]:
    """``{improved, unchanged, reduced, inconclusive}`` counts of a :func:`compare_strategies` table."""
    vc = table.outcome.value_counts()
    return {o: int(vc.get(o, 0)) for o in OUTCOME_ORDER}


#: Columns of :func:`compare_strategies` that hold a BA difference (fractions there, BA points in the results file).
POINT_COLUMNS = ("diff", "ci_low", "ci_high", "mde", "mde_forced", "se")


def strategy_records(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``table``'s ``columns`` with every BA difference in BA points (x 100), the unit of the results file's
    ``margin`` and ``power.mde``, so that a reader compares like with like."""
    out = table[columns].copy()
    for c in POINT_COLUMNS:
        if c in out:
            out[c] = 100 * out[c]
    return out
