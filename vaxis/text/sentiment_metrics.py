"""Sentiment metrics (AUROC, accuracy at a threshold, graded Spearman, each with a bootstrap CI) and the baselines
every zero-shot score is read against (lexicons, random directions), the paired bootstrap that compares two scorers
on the same texts, and the label-free threshold. Re-exported by :mod:`vaxis.text.sentiment`."""

from __future__ import annotations

import zlib

import numpy as np
from scipy import stats as _st

from vaxis.stats import bootstrap_ci, bootstrap_stat_ci

__all__ = ["auroc", "accuracy_at", "graded_spearman", "metric_with_ci", "lexicon_scores", "random_direction_aurocs",
           "boot_indices", "auroc_boot", "label_free_threshold", "accuracy_row", "lexicon_scores_table",
           "better_lexicon", "paired_diff"]


# ----------------------------------------------------------------------------------------------- metrics
def auroc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U / (n_pos n_neg), ties count 1/2).

    Parameters
    ----------
    scores : ndarray, shape (n,)
    labels : ndarray, shape (n,), values 0/1
    """
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = _st.rankdata(s)
    return float((r[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def accuracy_at(scores: np.ndarray, labels: np.ndarray, threshold: float = 0.0) -> float:
    """Accuracy of ``scores > threshold`` as the positive prediction; shapes (n,)."""
    return float(np.mean((np.asarray(scores) > threshold) == np.asarray(labels).astype(bool)))


def graded_spearman(scores: np.ndarray, fine_labels: np.ndarray) -> float:
    """Spearman correlation between scores and graded labels (all rows, neutrals included)."""
    return float(_st.spearmanr(scores, fine_labels).statistic)


def metric_with_ci(
    metric: str, scores: np.ndarray, labels: np.ndarray, threshold: float = 0.0,
    n_boot: int = 1000, seed: int = 0,
) -> dict[str, float]:
    """``{value, ci_low, ci_high, n}`` for ``metric`` in ``auroc`` / ``accuracy`` / ``spearman``.

    Percentile bootstrap over texts (:mod:`vaxis.stats`), deterministic for a ``seed``.
    ``labels`` are binary for AUROC / accuracy and graded (fine labels) for Spearman.
    """
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    if metric == "accuracy":
        v, lo, hi = bootstrap_ci(((s > threshold) == y.astype(bool)).astype(float), n_boot=n_boot, seed=seed)
    elif metric in ("auroc", "spearman"):
        f = auroc if metric == "auroc" else graded_spearman
        v, lo, hi = bootstrap_stat_ci(lambda i: f(s[i], y[i]), len(s), n_boot=n_boot, seed=seed)
    else:
        raise ValueError(f"metric must be 'auroc', 'accuracy' or 'spearman', got {metric!r}")
    return {"value": v, "ci_low": lo, "ci_high": hi, "n": int(len(s))}


# ----------------------------------------------------------------------------------------------- baselines
def lexicon_scores(texts: list[str], lexicon: str) -> np.ndarray:
    """Lexicon sentiment scores, shape (n_texts,): VADER compound or AFINN sum; ``score > 0`` = positive."""
    if lexicon == "vader":
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        sia = SentimentIntensityAnalyzer()
        return np.array([sia.polarity_scores(t)["compound"] for t in texts], dtype=float)
    if lexicon == "afinn":
        from afinn import Afinn

        af = Afinn()
        return np.array([af.score(t) for t in texts], dtype=float)
    raise ValueError(f"lexicon must be 'vader' or 'afinn', got {lexicon!r}")


def random_direction_aurocs(
    hidden: np.ndarray, labels: np.ndarray, anchor_hidden: np.ndarray, signs: np.ndarray,
    n_draws: int = 100, seed: int = 0,
) -> np.ndarray:
    """AUROC of ``n_draws`` random unit directions in the same hidden space (the random-direction control).

    Each direction is oriented like the V-axis: flipped so that the positive anchor sentences score above the
    negative ones on average.

    Parameters
    ----------
    hidden : ndarray, shape (n_texts, hidden)
    labels : ndarray, shape (n_texts,), 0/1
    anchor_hidden : ndarray, shape (n_anchor, hidden)   (the nine sentences at the same layer)
    signs : ndarray, shape (n_anchor,), values in {-1, 0, +1}

    Returns
    -------
    ndarray, shape (n_draws,)
    """
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((np.asarray(hidden).shape[-1], n_draws))
    d /= np.linalg.norm(d, axis=0, keepdims=True)
    a = np.asarray(anchor_hidden, dtype=float) @ d
    signs = np.asarray(signs)
    flip = np.sign(a[signs > 0].mean(0) - a[signs < 0].mean(0))
    proj = (np.asarray(hidden, dtype=float) @ d) * np.where(flip == 0, 1, flip)
    return np.array([auroc(proj[:, j], labels) for j in range(n_draws)])


# ----------------------------------------------------------------------------------------------- paired bootstrap
def boot_indices(n: int, n_boot: int, seed: int, key: str = "") -> np.ndarray:
    """Bootstrap resamples of ``n`` texts, shape (n_boot, n), the same for every scorer (model, twin, lexicon) of
    benchmark ``key`` with this ``seed`` (so every difference between two scorers on the same texts is paired)."""
    rng = np.random.default_rng([int(seed), zlib.crc32(key.encode()), int(n)])
    return rng.integers(0, n, size=(n_boot, n))


def auroc_boot(scores: np.ndarray, labels: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """AUROC of every resample ``idx`` (n_boot, n) at once (ranks with ties averaged); NaN for one-class draws."""
    s, y = np.asarray(scores, float)[idx], np.asarray(labels).astype(bool)[idx]
    r = _st.rankdata(s, axis=1)
    n1 = y.sum(1)
    n0 = y.shape[1] - n1
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((r * y).sum(1) - n1 * (n1 + 1) / 2) / (n1 * n0)


def label_free_threshold(scores: np.ndarray) -> float:
    """The label-free threshold: the median of a benchmark's own scores over all of its texts (neutral ones
    included), read without any label. Transductive: it uses the unlabelled test texts themselves, as a deployed
    classifier could; it assumes nothing about the class balance beyond "the median text is neither side"."""
    s = np.asarray(scores, dtype=float)
    return float(np.median(s[np.isfinite(s)]))


def accuracy_row(scores: np.ndarray, labels: np.ndarray, binary: np.ndarray, threshold: float, n_boot: int,
                 seed: int) -> dict[str, float]:
    """Accuracy at ``threshold`` (fixed before the labels) and at :func:`label_free_threshold` of all ``scores``,
    each with a bootstrap CI over the binary texts.

    Parameters
    ----------
    scores, labels : ndarray, shape (n_texts,)
    binary : ndarray of bool, shape (n_texts,): the positive / negative texts (the rows accuracy is computed on)

    Returns
    -------
    dict with ``accuracy`` / ``_lo`` / ``_hi``, ``threshold_label_free``, ``accuracy_label_free`` / ``_lo`` / ``_hi``
    """
    s, y = np.asarray(scores, float), np.asarray(labels)
    free = label_free_threshold(s)
    out = {"threshold_label_free": free}
    for suffix, thr in (("", threshold), ("_label_free", free)):
        r = metric_with_ci("accuracy", s[binary], y[binary], threshold=thr, n_boot=n_boot, seed=seed)
        out.update({f"accuracy{suffix}": r["value"], f"accuracy{suffix}_lo": r["ci_low"],
                    f"accuracy{suffix}_hi": r["ci_high"]})
    return out


def lexicon_scores_table(sets: dict, n_boot: int = 1000, seed: int = 0,
                         lexicons: tuple[str, ...] = ("vader", "afinn")) -> tuple[list[dict], dict]:
    """VADER and AFINN on the same text sets: AUROC (paired bootstrap draws of :func:`boot_indices`), accuracy at
    0 (``score > 0`` = positive) and at the label-free median, Spearman on graded sets.

    Parameters
    ----------
    sets : dict of DataFrame with ``text``, ``label`` (-1 neutral) and optional ``fine_label``

    Returns
    -------
    rows : list of dict, one per (lexicon, benchmark)
    draws : ``{lexicon: {benchmark: (n_boot,) AUROC draws}}``, paired with every model's draws on the same texts
    """
    rows, draws = [], {lex: {} for lex in lexicons}
    for name, df in sets.items():
        y = df["label"].to_numpy()
        b = y >= 0
        idx = boot_indices(int(b.sum()), n_boot, seed, name)
        for lex in lexicons:
            s = lexicon_scores(df["text"].tolist(), lex)
            draws[lex][name] = auroc_boot(s[b], y[b], idx)
            row = {"model": lex, "benchmark": name, "n": int(b.sum()), "auroc": auroc(s[b], y[b]),
                   "auroc_lo": float(np.nanquantile(draws[lex][name], 0.025)),
                   "auroc_hi": float(np.nanquantile(draws[lex][name], 0.975)),
                   **accuracy_row(s, y, b, 0.0, n_boot, seed)}
            if df.attrs.get("graded") and "fine_label" in df.columns:
                r = metric_with_ci("spearman", s, df["fine_label"].to_numpy(), n_boot=n_boot, seed=seed)
                row.update(spearman=r["value"], spearman_lo=r["ci_low"], spearman_hi=r["ci_high"], n_graded=r["n"])
            rows.append(row)
    return rows, draws


def better_lexicon(lexicon_aurocs: dict[str, dict[str, float]]) -> str:
    """The lexicon the V-axis is compared with: the one with the higher mean AUROC over the benchmarks (ties: the
    first). It looks only at the lexicons' own scores, never at a V-axis.

    Parameters
    ----------
    lexicon_aurocs : ``{lexicon: {benchmark: AUROC}}``
    """
    if not lexicon_aurocs:
        raise ValueError("better_lexicon needs at least one lexicon")
    return max(lexicon_aurocs, key=lambda k: float(np.nanmean(list(lexicon_aurocs[k].values()))))


def paired_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray], point_a: dict[str, float],
                point_b: dict[str, float], level: float = 0.95) -> dict[str, object]:
    """Paired bootstrap difference of two scorers' AUROC on the same texts, per benchmark and of the mean over
    benchmarks (``a`` minus ``b``; the draws of both come from the same :func:`boot_indices` resamples).

    Parameters
    ----------
    a, b : ``{benchmark: (n_boot,) AUROC draws}``; point_a, point_b : ``{benchmark: AUROC}``
    level : float
        Two-sided percentile interval level.

    Returns
    -------
    dict with ``diff``, ``ci_low``, ``ci_high`` (mean over the benchmarks of ``a``) and ``per_benchmark``
    (``{benchmark: {diff, ci_low, ci_high}}``).
    """
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    names = [k for k in a if k in b]
    if not names:
        raise ValueError("paired_diff: no benchmark scored by both")
    d = {k: np.asarray(a[k], float) - np.asarray(b[k], float) for k in names}
    per = {k: {"diff": float(point_a[k] - point_b[k]), "ci_low": float(np.nanquantile(d[k], q[0])),
               "ci_high": float(np.nanquantile(d[k], q[1]))} for k in names}
    pooled = np.nanmean(np.stack([d[k] for k in names]), axis=0)
    return {"diff": float(np.mean([per[k]["diff"] for k in names])), "ci_low": float(np.nanquantile(pooled, q[0])),
            "ci_high": float(np.nanquantile(pooled, q[1])), "per_benchmark": per}
