"""Sentiment metrics (AUROC, accuracy at a threshold, graded Spearman, each with a bootstrap CI) and the baselines
every zero-shot score is read against (lexicons, random directions). Re-exported by :mod:`vaxis.text.sentiment`."""

from __future__ import annotations

import numpy as np
from scipy import stats as _st

from vaxis.stats import bootstrap_ci, bootstrap_stat_ci

__all__ = ["auroc", "accuracy_at", "graded_spearman", "metric_with_ci", "lexicon_scores", "random_direction_aurocs"]


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
