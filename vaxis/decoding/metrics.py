"""Decoding metrics: balanced accuracy, macro-F1, window- and clip-level metrics, per-subject scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["balanced_accuracy", "macro_f1", "metrics", "subject_metrics"]


def _confusion(y: np.ndarray, p: np.ndarray, n_classes: int) -> np.ndarray:
    flat = n_classes * np.asarray(y) + np.asarray(p)
    return np.bincount(flat, minlength=n_classes ** 2).reshape(n_classes, n_classes)


def balanced_accuracy(y: np.ndarray, p: np.ndarray, n_classes: int | None = None) -> float:
    """Mean per-class recall over the classes present in ``y`` (as ``sklearn.metrics.balanced_accuracy_score``)."""
    n_classes = n_classes or int(max(np.max(y), np.max(p))) + 1
    cm = _confusion(y, p, n_classes)
    support = cm.sum(1)
    return float(np.mean(np.diag(cm)[support > 0] / support[support > 0]))


def macro_f1(y: np.ndarray, p: np.ndarray, n_classes: int | None = None) -> float:
    """Unweighted mean F1 over the classes present in ``y`` or ``p`` (sklearn's ``average="macro"``)."""
    n_classes = n_classes or int(max(np.max(y), np.max(p))) + 1
    cm = _confusion(y, p, n_classes)
    tp, support, predicted = np.diag(cm), cm.sum(1), cm.sum(0)
    present = (support + predicted) > 0
    f1 = np.where(support + predicted > 0, 2 * tp / np.maximum(support + predicted, 1), 0.0)
    return float(f1[present].mean())


def metrics(y: np.ndarray, logp: np.ndarray, units: np.ndarray | None = None) -> dict[str, dict[str, float]]:
    """Window- and clip-level metrics from per-window log-probabilities.

    Parameters
    ----------
    y : ndarray, shape (n,)
    logp : ndarray, shape (n, n_classes)
        Log-probabilities (log-softmax of the logits).
    units : ndarray, shape (n,), optional
        Subject x clip id of every window; clip-level predictions sum the log-probs of a unit's windows.

    Returns
    -------
    dict
        ``{"window": {...}, "clip": {...}}`` with ``balanced_accuracy``, ``accuracy``, ``macro_f1``, ``n``.
    """
    k = logp.shape[1]
    out = {}
    p = logp.argmax(1)
    out["window"] = {"balanced_accuracy": balanced_accuracy(y, p, k), "accuracy": float(np.mean(p == y)),
                     "macro_f1": macro_f1(y, p, k), "n": int(len(y))}
    if units is not None:
        uniq, inv = np.unique(units, return_inverse=True)
        agg = np.zeros((len(uniq), k))
        np.add.at(agg, inv, logp)
        yu = np.zeros(len(uniq), dtype=int)
        yu[inv] = y
        pu = agg.argmax(1)
        out["clip"] = {"balanced_accuracy": balanced_accuracy(yu, pu, k), "accuracy": float(np.mean(pu == yu)),
                       "macro_f1": macro_f1(yu, pu, k), "n": int(len(uniq))}
    return out


def subject_metrics(y: np.ndarray, pred: np.ndarray, groups: np.ndarray, subject_ids: Sequence[str],
                    n_classes: int) -> list[dict]:
    """Window-level balanced accuracy and accuracy of every subject in ``groups``.

    Parameters
    ----------
    y, pred : ndarray, shape (n,)
    groups : ndarray, shape (n,)
        Subject index (into ``subject_ids``) of every window.

    Returns
    -------
    list of dict
        ``{"subject", "balanced_accuracy", "accuracy", "n"}``, in order of first appearance.
    """
    out = []
    for g in pd.unique(groups):
        m = groups == g
        out.append({"subject": str(subject_ids[int(g)]),
                    "balanced_accuracy": balanced_accuracy(y[m], pred[m], n_classes),
                    "accuracy": float(np.mean(y[m] == pred[m])), "n": int(m.sum())})
    return out
