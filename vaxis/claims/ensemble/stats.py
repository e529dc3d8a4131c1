"""Chapter 8's decisive statistics: the comparator fixed on validation subjects, the paired gains with intervals
that match their multiplicity correction, and relative gains that carry the denominator's uncertainty.

- :func:`choose_comparator` picks the stand-in for the paper's "prior best" from **validation** numbers only (the
  DE + linear SVM re-run and the best single label-only model); it never sees a test score.
- :func:`paired_gain`: the headline minus a control per test subject, each trained pool a cluster
  (:func:`vaxis.stats.clustered_paired_test`) for the points; the relative gain ``100 (mean_h / mean_c - 1)`` with
  a two-way (pigeonhole) cluster bootstrap of the ratio's standard error (test subjects and pools resampled
  independently, so the control's BA in the denominator varies too), with the clustered test's t quantile. Both
  intervals at level ``1 - alpha / m`` and the p-value
  Bonferroni-adjusted over the same ``m``: an interval excludes 0 exactly when its adjusted p is below ``alpha``
  (simultaneous intervals over the family).
- :func:`compare_ensembles`: every same-size control (and the SVM) in one family; :func:`part_gains`: the two
  comparisons that decide claim 8's parts, a family of their own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from vaxis.stats import clustered_paired_test, mde_from_se

__all__ = ["COMPARATORS", "choose_comparator", "subject_long", "paired_frame", "ratio_bootstrap", "paired_gain",
           "compare_ensembles", "part_gains"]

#: The candidates for the paper's "prior best", in tie-break order (the prior method first).
COMPARATORS = ("svm", "single")


def choose_comparator(validation_ba: Mapping[str, float]) -> str:
    """The comparator with the highest **validation** balanced accuracy; ties go to the earlier of
    :data:`COMPARATORS` (the prior method). Takes validation numbers only, so no test score can move the choice.

    Parameters
    ----------
    validation_ba : {name: float}
        Mean validation-subject BA of each candidate (keys from :data:`COMPARATORS`; non-finite values lose).
    """
    cand = [c for c in COMPARATORS if c in validation_ba and np.isfinite(validation_ba[c])]
    if not cand:
        raise ValueError(f"no finite validation BA among {COMPARATORS}: {dict(validation_ba)}")
    return max(cand, key=lambda c: (float(validation_ba[c]), -COMPARATORS.index(c)))


def subject_long(table: pd.DataFrame, ensemble: str, size: int, combiner: str = "mean") -> pd.DataFrame:
    """One row per cluster x test subject of one ensemble (``cluster``, ``fold``, ``subject``, ``ba``)."""
    q = table[(table.ensemble == ensemble) & (table["size"] == size) & (table.combiner == combiner)]
    if q.empty:
        raise KeyError(f"no rows for ensemble {ensemble!r} at size {size} ({combiner})")
    rows = [{"cluster": r.cluster, "fold": r.fold, "subject": s, "ba": b}
            for r in q.itertuples() for s, b in zip(r.test_subjects, r.subject_ba)]
    return pd.DataFrame(rows)


def paired_frame(table: pd.DataFrame, headline: str, size: int, control: str,
                 svm: pd.DataFrame | None = None) -> pd.DataFrame:
    """The headline and one control paired per cluster x test subject: ``cluster``, ``subject``, ``ba``, ``ba_c``.

    ``control="svm"`` pairs the DE + SVM re-run's per-subject scores ``svm`` (``fold``, ``subject``,
    ``balanced_accuracy``) with the headline in every cluster of that fold; ``"single"`` is taken at size 1.
    """
    h = subject_long(table, headline, size)
    if control == "svm":
        if svm is None:
            raise ValueError("control 'svm' needs the SVM's per-subject scores")
        s = svm.rename(columns={"balanced_accuracy": "ba"})[["fold", "subject", "ba"]]
        c = h[["cluster", "fold", "subject"]].merge(s, on=["fold", "subject"], how="left")
    else:
        c = subject_long(table, control, 1 if control == "single" else size)
    m = h.merge(c[["cluster", "subject", "ba"]], on=["cluster", "subject"], suffixes=("", "_c"))
    if len(m) != len(h) or m.ba_c.isna().any():
        raise ValueError(f"{control}: the control's subjects do not pair with the headline's")
    return m


def ratio_bootstrap(h: np.ndarray, c: np.ndarray, subject: np.ndarray, cluster: np.ndarray,
                    n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Relative gain ``100 (sum h / sum c - 1)`` (%) and its two-way cluster bootstrap standard error.

    Each replicate draws test subjects and clusters (trained pools) independently with replacement; a cell
    (subject, cluster) enters with the product of the two counts (the pigeonhole bootstrap, Owen 2007: valid for
    crossed designs, such as replicates of one split, and for nested ones, such as k-fold). Numerator and
    denominator are resampled together, so the standard error carries the control's uncertainty.

    Parameters
    ----------
    h, c : ndarray, shape (N,)
        Headline and control BA per cell.
    subject, cluster : ndarray, shape (N,)
        Labels of each cell.

    Returns
    -------
    (estimate, se) in %.
    """
    h, c = np.asarray(h, float), np.asarray(c, float)
    _, si = np.unique(np.asarray(subject), return_inverse=True)
    _, ci_ = np.unique(np.asarray(cluster), return_inverse=True)
    n, K = int(si.max()) + 1, int(ci_.max()) + 1
    rng = np.random.default_rng(seed)
    ws = rng.multinomial(n, np.full(n, 1 / n), size=n_boot).astype(float)          # (B, n)
    wc = rng.multinomial(K, np.full(K, 1 / K), size=n_boot).astype(float)          # (B, K)
    w = ws[:, si] * wc[:, ci_]                                                      # (B, N)
    den = w @ c
    ok = den > 0
    ratio = (w @ h)[ok] / den[ok]
    return float(100 * (h.sum() / c.sum() - 1)), float(100 * ratio.std(ddof=1))


def paired_gain(m: pd.DataFrame, family: int = 1, alpha: float = 0.05, seed: int = 0) -> dict:
    """Headline minus control of :func:`paired_frame` rows, in a family of ``family`` comparisons.

    The relative interval is ``estimate +- t * se`` with the bootstrap standard error of :func:`ratio_bootstrap`
    and the t quantile at the clustered test's Satterthwaite degrees of freedom (so few pools widen it as they
    widen the points interval), at the same level as the points interval.

    Returns
    -------
    dict
        ``headline_ba``, ``control_ba``, ``gain_points`` with ``ci_low`` / ``ci_high`` (BA points, at level
        ``1 - alpha / family``), ``gain_relative`` (%) with ``rel_ci_low`` / ``rel_ci_high`` and ``se_relative``,
        ``p`` (raw), ``p_adj`` (Bonferroni over ``family``), ``ci_level``, ``se_points``, ``df``, ``mde_points`` /
        ``mde_relative`` (power 0.8 at ``alpha / family``, two-sided, from each one's standard error), ``n``,
        ``n_clusters``.
    """
    level = 1 - alpha / family
    r = clustered_paired_test((m.ba - m.ba_c).to_numpy(), m.subject.to_numpy(), m.cluster.to_numpy(), ci=level)
    cba = float(m.ba_c.mean())
    rel, rse = ratio_bootstrap(m.ba.to_numpy(), m.ba_c.to_numpy(), m.subject.to_numpy(), m.cluster.to_numpy(),
                               seed=seed)
    half = float(_st.t.ppf(0.5 + level / 2, r["df"])) * rse
    return {"headline_ba": float(m.ba.mean()), "control_ba": cba, "gain_points": 100 * r["diff"],
            "ci_low": 100 * r["ci_low"], "ci_high": 100 * r["ci_high"], "gain_relative": rel,
            "rel_ci_low": rel - half, "rel_ci_high": rel + half, "se_relative": rse, "p": r["p"],
            "p_adj": min(1.0, family * r["p"]), "ci_level": level, "se_points": 100 * r["se"], "df": r["df"],
            "mde_points": 100 * mde_from_se(r["se"], r["df"], alpha / family),
            "mde_relative": mde_from_se(rse, r["df"], alpha / family), "n": r["n"], "n_clusters": r["n_clusters"]}


def compare_ensembles(tables: dict[str, pd.DataFrame], headline: str, size: int,
                      controls: Sequence[str] = ("single", "seed", "bagged", "pool-random"),
                      svm: dict[str, pd.DataFrame] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """The headline ensemble at ``size`` against every control (and the SVM re-run when ``svm`` has the task), per
    task; one family over every row (intervals simultaneous at ``1 - alpha / rows``, ``p_adj`` Bonferroni).

    Parameters
    ----------
    tables : {task: table}
        :func:`vaxis.claims.ensemble.jobs.collect`'s tables.
    svm : {task: DataFrame}, optional
        The DE + SVM re-run's per-subject scores (``fold``, ``subject``, ``balanced_accuracy``) on the same folds.

    Returns
    -------
    DataFrame, one row per task x control: ``task``, ``control``, ``size`` and :func:`paired_gain`'s fields.
    """
    pairs = []
    for task, tab in tables.items():
        names = list(controls) + (["svm"] if svm is not None and task in svm else [])
        pairs += [(task, c, paired_frame(tab, headline, size, c, None if svm is None else svm.get(task)))
                  for c in names]
    rows = [{"task": t, "control": c, "size": size, **paired_gain(m, len(pairs), alpha)} for t, c, m in pairs]
    return pd.DataFrame(rows)


def part_gains(table: pd.DataFrame, headline: str, size: int, comparator: str,
               svm: pd.DataFrame | None = None, alpha: float = 0.05) -> dict[str, dict]:
    """The two comparisons that decide claim 8's FACED parts, one family of two (simultaneous intervals):
    ``gain_over_prior_best`` (headline vs ``comparator``, fixed on validation) and ``from_residual_diversity``
    (headline vs the same-size seed ensemble)."""
    pairs = {"gain_over_prior_best": paired_frame(table, headline, size, comparator, svm),
             "from_residual_diversity": paired_frame(table, headline, size, "seed")}
    return {k: {"control": c, **paired_gain(m, len(pairs), alpha)}
            for (k, m), c in zip(pairs.items(), (comparator, "seed"))}

