"""FACED's DE + linear SVM baseline, re-run without leakage, plus a labelled leaky reproduction.

The SVM is a one-vs-rest linear SVM with LinearSVC's default objective (L2 penalty, squared hinge,
``0.5 ||w||^2 + C sum_i max(0, 1 - y_i w.x_i)^2`` per class; the intercept is not penalised), solved in
one full-batch L-BFGS run for all candidate ``C`` at once (scipy, analytic gradient): much faster than fitting
scikit-learn's ``LinearSVC`` once per C on a fold's windows, with the same optimum (the tests compare the two).

Protocol (ours): subject-disjoint k-fold on the shared input pipeline (:mod:`vaxis.eeg.pipeline`: LDS restarted at
every clip, then a per-subject z-score by default; ``train-only`` z-scores with each fold's training subjects);
``C`` chosen on a held-out part of the *training* subjects, never on the test fold.

:func:`leaky_reproduction` re-creates the released pipeline (running normalisation, LDS across clip
boundaries in video-index order, C picked on the test fold); its figures are reported only under that name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from threadpoolctl import threadpool_limits

from vaxis.decoding.folds import LeakageError, subject_folds
from vaxis.decoding.metrics import balanced_accuracy, metrics
from vaxis.decoding.training_data import task_labels
from vaxis.eeg.features import lds_smooth, normalise
from vaxis.eeg.pipeline import Pipeline, as_pipeline

__all__ = ["fit_linear_svm", "svm_decision", "svm_fold", "svm_baseline", "leaky_reproduction", "CS"]

CS: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1)


def fit_linear_svm(X: np.ndarray, y: np.ndarray, Cs: Sequence[float], n_classes: int, max_iter: int = 100,
                   tol: float = 1e-7, dtype=np.float64) -> torch.Tensor:
    """One-vs-rest squared-hinge linear SVMs for every C at once (scipy L-BFGS-B, analytic gradient).

    Parameters
    ----------
    X : ndarray, shape (n, d)
    y : ndarray, shape (n,), ints in [0, n_classes)
    max_iter : int
        L-BFGS iterations (100 reach scikit-learn's held-out accuracy on FACED folds; the problems are convex).

    Returns
    -------
    W : Tensor, float64, shape (n_C, n_classes, d + 1) (last column = intercept, not penalised)
    """
    from scipy.optimize import minimize

    n = len(X)
    Xt = np.hstack([np.asarray(X, dtype=dtype), np.ones((n, 1), dtype=dtype)])
    k = len(Cs) * n_classes
    Y = -np.ones((n, len(Cs), n_classes), dtype=dtype)
    Y[np.arange(n), :, np.asarray(y)] = 1.0
    Y = Y.reshape(n, k)
    inv_c = 1.0 / np.repeat(np.asarray(Cs, dtype=float), n_classes)
    reg = np.ones((Xt.shape[1], 1))
    reg[-1] = 0.0

    def fun(w):
        W = w.reshape(Xt.shape[1], k)
        margin = np.maximum(1.0 - Y * (Xt @ W), 0.0)                                 # (n, n_C * K)
        # each problem divided by C * n: same minimiser, comparable scales for the joint solve
        f = (0.5 * ((W * reg) ** 2 * inv_c).sum() + (margin ** 2).sum()) / n
        g = (W * reg * inv_c - 2.0 * Xt.T @ (Y * margin)) / n
        return f, g.ravel()

    # one BLAS thread: these matrices are small, and multi-threaded OpenBLAS on a busy machine is ~100x slower
    with threadpool_limits(1):
        res = minimize(fun, np.zeros(Xt.shape[1] * k), jac=True, method="L-BFGS-B",
                       options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-12})
    W = res.x.reshape(Xt.shape[1], len(Cs), n_classes)
    return torch.as_tensor(W.transpose(1, 2, 0).copy(), dtype=torch.float64)


def svm_decision(W: torch.Tensor, X: np.ndarray) -> np.ndarray:
    """Decision values, shape (n_C, n, n_classes)."""
    Xt = torch.as_tensor(np.asarray(X), dtype=torch.float64)
    return (Xt @ W[..., :-1].transpose(1, 2) + W[..., -1][:, None, :]).numpy()


def _windows(x: np.ndarray, subj: np.ndarray, keep_clips: np.ndarray, every: int = 1):
    """(n, d) features of subjects ``subj`` (clips ``keep_clips``), every ``every``-th window; plus unit ids."""
    s = x[subj][:, keep_clips][..., ::every, :]                                 # (S, c, C, W', B)
    S, c, _, W, _ = s.shape
    feats = s.transpose(0, 1, 3, 2, 4).reshape(S * c * W, -1)
    unit = np.repeat(np.arange(S * c), W)
    return feats, unit


def svm_fold(x: np.ndarray, y_clip: np.ndarray, keep_clips: np.ndarray, train: np.ndarray, test: np.ndarray,
             n_classes: int, Cs: Sequence[float] = CS, every: int = 1, inner_fraction: float = 0.2,
             seed: int = 0, choose_on_test: bool = False, test_clips: np.ndarray | None = None) -> dict:
    """Fit and score one fold. ``x`` is already normalised / smoothed, shape (S, n_clips, C, W, B).

    ``C`` is chosen by balanced accuracy on ``inner_fraction`` of the *training* subjects (fit on the rest),
    then the SVM is refit on all training subjects. ``choose_on_test=True`` exists only for the leaky
    reproduction. ``test_clips`` (positions on the clip axis; the cross-stimulus protocol): those clips are left
    out of training and C selection, and only they are tested.
    """
    if test_clips is None:
        train_clips = test_keep = keep_clips
    else:
        train_clips = np.setdiff1d(keep_clips, test_clips)
        test_keep = np.intersect1d(keep_clips, test_clips)
        if np.intersect1d(train_clips, test_keep).size:
            raise LeakageError("a held-out test clip is among the training clips")
    yc, yt = y_clip[train_clips], y_clip[test_keep]
    n_w = x[:, :, :, ::every].shape[3]
    Xtr, _ = _windows(x, train, train_clips, every)
    ytr = np.repeat(np.tile(yc, len(train)), n_w)
    Xte, ute = _windows(x, test, test_keep, 1)
    yte = np.repeat(np.tile(yt, len(test)), x.shape[3])
    inner = {}
    if not choose_on_test:
        rng = np.random.default_rng(seed)
        val = rng.choice(len(train), max(1, int(round(inner_fraction * len(train)))), replace=False)
        fit = np.setdiff1d(np.arange(len(train)), val)
        Xf, _ = _windows(x, train[fit], train_clips, every)
        Xv, _ = _windows(x, train[val], train_clips, every)
        yf = np.repeat(np.tile(yc, len(fit)), n_w)
        yv = np.repeat(np.tile(yc, len(val)), n_w)
        dv = svm_decision(fit_linear_svm(Xf, yf, Cs, n_classes), Xv)
        inner = {c: metrics(yv, d)["window"]["balanced_accuracy"] for c, d in zip(Cs, dv)}
        best = int(np.argmax([inner[c] for c in Cs]))
        W = fit_linear_svm(Xtr, ytr, [Cs[best]], n_classes)
        d = svm_decision(W, Xte)[0]
    else:
        ds = svm_decision(fit_linear_svm(Xtr, ytr, Cs, n_classes), Xte)
        best = int(np.argmax([metrics(yte, d)["window"]["balanced_accuracy"] for d in ds]))
        d = ds[best]
    per = len(yte) // len(test)                                 # windows per test subject (subject-major order)
    pred = d.argmax(1)
    subject_ba = [balanced_accuracy(yte[i * per:(i + 1) * per], pred[i * per:(i + 1) * per], n_classes)
                  for i in range(len(test))]
    n_unit = np.bincount(ute, minlength=len(test) * len(test_keep))
    correct = np.bincount(ute, weights=(pred == yte).astype(float), minlength=len(n_unit))
    units = [{"subject": int(test[u // len(test_keep)]), "clip_pos": int(test_keep[u % len(test_keep)]),
              "n": int(n_unit[u]), "n_correct": float(correct[u])} for u in range(len(n_unit))]
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (yte, pred), 1)
    return {"C": Cs[best], "inner": inner, "metrics": metrics(yte, d, ute), "subject_ba": subject_ba,
            "units": units, "confusion": confusion}


def svm_baseline(x: np.ndarray, labels: np.ndarray, subject_ids: Sequence[str], task: str = "9class",
                 pipeline: Pipeline | dict | str | None = None, k: int = 10, Cs: Sequence[float] = CS,
                 every: int = 1, seed: int = 0, folds: Sequence[dict] | None = None, *,
                 normalisation: str | None = None, smoothing: str | None = None,
                 subject_scores: list | None = None, clip_ids: Sequence[int] | None = None,
                 unit_scores: list | None = None, confusions: list | None = None) -> pd.DataFrame:
    """FACED's DE + linear SVM, leakage-free, 10-fold cross-subject (or the given folds).

    Parameters
    ----------
    x : ndarray, shape (n_subjects, n_clips, n_chans, n_windows, n_bands)
        Raw DE features (the pipeline is applied here).
    labels : ndarray, shape (n_clips,)
        9-class ids.
    pipeline : Pipeline, mapping or str, optional
        The input pipeline (:mod:`vaxis.eeg.pipeline`; default LDS per clip + per-subject z-score).
        ``normalisation`` / ``smoothing`` (older keywords) override its fields.
    every : int
        Keep one training window in ``every`` (test windows are all kept); 1 = all.
    folds : list of dict, optional
        Explicit folds (``fold``, ``train``, optional ``val``, ``test`` subject ids, e.g. a
        :func:`vaxis.decoding.training.make_manifest`); the SVM trains on ``train`` + ``val`` (it picks C inside them).
        Default: :func:`vaxis.decoding.training.subject_folds` with ``k`` folds. A fold with ``test_clips``
        (cross-stimulus, :func:`vaxis.decoding.folds.make_manifest` with ``stimulus="unseen"``) trains without its
        held-out clips and tests only them.
    clip_ids : sequence of int, optional
        Video index of every clip on ``x``'s clip axis (default ``1..n_clips``), to find ``test_clips``.
    subject_scores : list, optional
        If given, one dict per fold x test subject is appended (``fold``, ``subject``, ``balanced_accuracy``).
    unit_scores : list, optional
        If given, one dict per fold x test subject x test clip is appended (``fold``, ``repeat``, ``subject``,
        ``clip`` id, ``n`` windows, ``n_correct``).
    confusions : list, optional
        If given, one (n_classes, n_classes) int array of test-window counts per fold is appended (rows true class,
        columns predicted).

    Returns
    -------
    DataFrame, one row per fold x level with ``balanced_accuracy``, ``accuracy``, ``macro_f1``, ``n``, ``C``,
    ``normalisation`` and ``smoothing`` (the pipeline).
    """
    p = as_pipeline(pipeline)
    p = Pipeline(normalisation or p.normalisation, smoothing or p.smoothing)
    keep, _, n_classes = task_labels(labels, task)
    keep_clips = np.flatnonzero(keep)
    y_clip = task_labels(labels, "binary")[1] if task == "binary" else np.asarray(labels)
    y_full = np.zeros(len(labels), dtype=int)
    y_full[keep_clips] = y_clip
    subs = list(map(str, subject_ids))
    pos = {s: i for i, s in enumerate(subs)}
    base = p.transform(x)                                        # smoothed (and per-subject z-scored)
    cids = np.arange(1, x.shape[1] + 1) if clip_ids is None else np.asarray(clip_ids)
    rows = []
    for f in (subject_folds(subs, k=k) if folds is None else folds):
        tr = np.array(sorted(pos[s] for s in [*f["train"], *f.get("val", [])]))
        te = np.array([pos[s] for s in f["test"]])
        if set(tr) & set(te):
            raise LeakageError(f"fold {f['fold']}: a subject is in both the training and the test subjects")
        xf = normalise(base, mode="train-only", train_subjects=tr) if p.trainer_normalisation == "train-only" \
            else base
        held = np.flatnonzero(np.isin(cids, f["test_clips"])) if "test_clips" in f else None
        r = svm_fold(xf, y_full, keep_clips, tr, te, n_classes, Cs, every, seed=seed + f["fold"], test_clips=held)
        for level, m in r["metrics"].items():
            rows.append({"fold": f["fold"], "repeat": int(f.get("repeat", 0)), "level": level, **m, "C": r["C"],
                         "task": task, "normalisation": p.normalisation, "smoothing": p.smoothing,
                         "pipeline": "ours (leakage-free)", "stimulus": "seen" if held is None else "unseen"})
        if subject_scores is not None:
            subject_scores += [{"fold": f["fold"], "repeat": int(f.get("repeat", 0)), "subject": subs[i],
                                "balanced_accuracy": b} for i, b in zip(te, r["subject_ba"])]
        if unit_scores is not None:
            unit_scores += [{"fold": f["fold"], "repeat": int(f.get("repeat", 0)), "subject": subs[u["subject"]],
                             "clip": int(cids[u["clip_pos"]]), "n": u["n"], "n_correct": u["n_correct"]}
                            for u in r["units"]]
        if confusions is not None:
            confusions.append(r["confusion"])
    return pd.DataFrame(rows)


def leaky_reproduction(x: np.ndarray, labels: np.ndarray, subject_ids: Sequence[str], task: str = "9class",
                       k: int = 10, Cs: Sequence[float] = CS, every: int = 1) -> pd.DataFrame:
    """LEAKY REPRODUCTION of FACED's released pipeline, for comparison with its published figure only.

    Running normalisation (decay 0.990, prior from all subjects), LDS smoothing across clip boundaries in
    video-index order (neighbouring clips share a category: label leakage), and C picked on the test fold.
    """
    keep, _, n_classes = task_labels(labels, task)
    keep_clips = np.flatnonzero(keep)
    y_full = np.zeros(len(labels), dtype=int)
    y_full[keep_clips] = task_labels(labels, task)[1]
    z = normalise(x, mode="running")
    z = lds_smooth(z, time_axis=3, clip_axis=1, restart_at_clip=False).astype(np.float32)
    subs = list(map(str, subject_ids))
    pos = {s: i for i, s in enumerate(subs)}
    rows = []
    for f in subject_folds(subs, k=k):
        tr = np.array([pos[s] for s in f["train"]])
        te = np.array([pos[s] for s in f["test"]])
        r = svm_fold(z, y_full, keep_clips, tr, te, n_classes, Cs, every, choose_on_test=True)
        for level, m in r["metrics"].items():
            rows.append({"fold": f["fold"], "level": level, **m, "C": r["C"], "task": task,
                         "normalisation": "running (FACED)", "smoothing": "lds-across-clips",
                         "pipeline": "leaky reproduction"})
    return pd.DataFrame(rows)


