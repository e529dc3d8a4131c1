"""Chapter 4: one cross-subject linear map from clip-level EEG features to each clip's V-axis position.

Design (see PAPER.md, claim 4 and its cautions):

* features: per subject and clip, DE averaged over windows (n_chans x n_bands), z-scored per subject across its
  clips (``normalisation="per-subject"``);
* target: the clip's category position on the V-axis (9 values, one per FACED category);
* map: ridge (alpha by inner subject-disjoint CV on the training subjects only) or PLS with one component,
  fitted on training subjects and evaluated on held-out subjects (subject-disjoint k-fold, contiguous folds);
* score: Spearman / Pearson between predicted and true positions over a held-out subject's clips;
* honest null: shuffle the nine category positions and re-run the whole fit (alpha selection included); all
  permutations are solved at once (ridge is linear in the target: targets = one-hot(category) @ positions);
* dishonest null (for contrast only): keep the fitted map, shuffle positions at evaluation only;
* leave-one-category-out: a held-out category's clips are predicted by a map that never saw that category,
  which separates valence from category identity. Its prediction is the deviation from the training categories'
  mean position (the map's intercept is removed: it is the mean of the other eight positions, anti-correlated
  with the held-out one, and alone would give rho = -0.92 on pure noise);
* cross-stimulus (``clip_fold`` given): every subject fold is crossed with the clip folds of
  :func:`vaxis.eeg.faced.clip_folds`; each clip of a held-out subject is predicted by a map fitted without that
  subject and without that clip, so the map cannot score by recognising the clip;
* interval: the mean held-out Spearman with the test subject as the unit and the subject fold (the map that scored
  it) as a cluster (:func:`vaxis.stats.clustered_paired_test`), as every EEG chapter does.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import stats as _st
from threadpoolctl import threadpool_limits

from vaxis.claims.common.vmap import ALPHAS, ridge_predict
from vaxis.decoding.folds import index_folds
from vaxis.eeg.faced import clip_folds
from vaxis.stats import bootstrap_ci, clustered_paired_test, permutation_pvalue, random_permutations

__all__ = [
    "PROTOCOLS",
    "run_projection",
    "evaluate_projection",
    "rating_projection",
    "llm_vs_human",
    "get_positions",
    "collect_targets",
]

def _pls1_predict(Xtr: np.ndarray, Ytr: np.ndarray, Xte: np.ndarray) -> np.ndarray:
    """PLS with one component for many targets at once; returns (n_test, n_targets)."""
    mx, my = Xtr.mean(0), Ytr.mean(0)
    Xc, Yc = Xtr - mx, Ytr - my
    W = Xc.T @ Yc  # (p, t)
    T = Xc @ W
    q = np.sum(T * Yc, 0) / np.maximum(np.sum(T * T, 0), 1e-12)
    return (Xte - mx) @ W * q + my


def _fit_predict(X: np.ndarray, B: np.ndarray, C: np.ndarray, subj: np.ndarray, tr_subjects: np.ndarray,
                 tr_rows: np.ndarray, te_rows: np.ndarray, method: str, alphas: np.ndarray,
                 n_inner: int) -> tuple[np.ndarray, np.ndarray]:
    """Predictions (n_test_rows, n_targets) for targets ``B @ C``; alpha per target by inner subject-disjoint CV."""
    if method == "pls":
        return _pls1_predict(X[tr_rows], B[tr_rows] @ C, X[te_rows]), np.full(C.shape[1], np.nan)
    sse = np.zeros((len(alphas), C.shape[1]))
    for inner in index_folds(len(tr_subjects), n_inner):
        val_mask = np.isin(subj[tr_rows], tr_subjects[inner])
        fit_r, val_r = tr_rows[~val_mask], tr_rows[val_mask]
        pb = ridge_predict(X[fit_r], B[fit_r], X[val_r], alphas)  # (n_alpha, n_val, r)
        # SSE of every target column in the r-dim basis: c' (Pb'Pb) c - 2 c' (Pb'B) c (+ a constant per column)
        gram = np.einsum("avr,avs->ars", pb, pb)
        cross = np.einsum("avr,vs->ars", pb, B[val_r])
        sse += np.einsum("rj,ars,sj->aj", C, gram - 2 * cross, C, optimize=True)
    best = np.argmin(sse, axis=0)  # (t,)
    pb = ridge_predict(X[tr_rows], B[tr_rows], X[te_rows], alphas)  # (n_alpha, n_te, r)
    pred = np.empty((len(te_rows), C.shape[1]))
    for a in np.unique(best):
        cols = best == a
        pred[:, cols] = pb[a] @ C[:, cols]
    return pred, np.asarray(alphas)[best]


def _colcorr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of matching columns, a, b shape (n, t) -> (t,)."""
    a = a - a.mean(0)
    b = b - b.mean(0)
    den = np.sqrt(np.sum(a * a, 0) * np.sum(b * b, 0))
    return np.where(den > 0, np.sum(a * b, 0) / np.where(den > 0, den, 1), np.nan)


def _per_subject_scores(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pred, truth (n_subjects, n_clips, t) -> Spearman, Pearson per subject and target, each (n_subjects, t)."""
    rho = np.array([_colcorr(_st.rankdata(p, axis=0), _st.rankdata(t, axis=0)) for p, t in zip(pred, truth)])
    r = np.array([_colcorr(p, t) for p, t in zip(pred, truth)])
    return rho, r


def evaluate_projection(feats: np.ndarray, clip_categories: np.ndarray, positions: np.ndarray,
                        n_perm: int = 1000, n_folds: int = 10, method: str = "ridge",
                        alphas: np.ndarray = ALPHAS, n_inner: int = 5, loco: bool = False, seed: int = 0,
                        clip_fold: np.ndarray | None = None) -> dict[str, Any]:
    """Cross-subject projection with the honest and the evaluation-only permutation nulls.

    Parameters
    ----------
    feats : ndarray, shape (n_subjects, n_clips, n_features)
    clip_categories : ndarray, shape (n_clips,), category index 0..n_categories-1 per clip
    positions : ndarray, shape (n_categories,), the V-axis position of each category
    n_perm : int
        Permutations of the category positions (each re-runs the whole fit).
    loco : bool
        Leave-one-category-out: each category's clips are predicted by a map trained without that category.
    clip_fold : ndarray, shape (n_clips,), optional
        Clip fold of every clip (cross-stimulus protocol): each clip is predicted by a map trained without its clip
        fold (and without the test subjects). None: the cross-subject protocol (every clip in training).

    Returns
    -------
    dict with ``rho`` / ``r`` (n_subjects,) per held-out subject, ``mean_rho`` + ``ci``, ``null_honest``
    (n_perm,), ``p_honest``, ``null_eval_only`` (n_perm,), ``p_eval_only``, ``pred`` (n_subjects, n_clips),
    ``alphas`` per fold, ``folds`` (list of subject index lists), ``perms``, ``protocol``
    (``cross-subject`` / ``cross-stimulus``), ``se`` (standard error of the mean Spearman) and ``n_clusters``.
    """
    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend on 2 cores
        return _evaluate(feats, clip_categories, positions, n_perm, n_folds, method, alphas, n_inner, loco, seed,
                         clip_fold)


def _evaluate(feats, clip_categories, positions, n_perm, n_folds, method, alphas, n_inner, loco, seed,
              clip_fold=None):
    n_s, n_c, n_f = feats.shape
    cats = np.asarray(clip_categories, dtype=int)
    pos = np.asarray(positions, dtype=float)
    k = pos.size
    perms = random_permutations(n_perm, k, seed, identity="excluded")
    C = np.concatenate([pos[None, :], pos[perms]], axis=0).T  # (k, 1 + n_perm): column j = positions under perm j
    X = feats.reshape(n_s * n_c, n_f)
    B = np.eye(k)[np.tile(cats, n_s)]  # one-hot category per row, (n_rows, k)
    subj, clip_cat = np.repeat(np.arange(n_s), n_c), np.tile(cats, n_s)
    cf = np.zeros(n_c, int) if clip_fold is None else np.asarray(clip_fold, dtype=int)
    row_cf = np.tile(cf, n_s)
    pred = np.full((n_s, n_c, C.shape[1]), np.nan)
    folds = index_folds(n_s, n_folds)
    chosen = []
    for test in folds:
        train = np.setdiff1d(np.arange(n_s), test)
        groups = [np.arange(k)] if not loco else [np.array([c]) for c in range(k)]
        for held, fold_c in ((h, c) for h in groups for c in np.unique(cf)):
            on_clips = row_cf == fold_c
            keep_tr = ~on_clips if clip_fold is not None else np.ones_like(on_clips)
            tr_rows = np.flatnonzero(np.isin(subj, train) & (~np.isin(clip_cat, held) if loco else True) & keep_tr)
            te_rows = np.flatnonzero(np.isin(subj, test) & np.isin(clip_cat, held) & on_clips)
            if te_rows.size == 0:
                continue
            p, a = _fit_predict(X, B, C, subj, train, tr_rows, te_rows, method, alphas, n_inner)
            if loco:
                # predict the deviation from the training categories' mean, not the mean itself: the intercept of
                # a map fitted on the 8 other categories is their mean position, which runs opposite to the held-out
                # category's own (on pure-noise features LOCO would give rho = -0.92 from the intercept alone)
                p = p - B[tr_rows].mean(0) @ C
            pred[subj[te_rows], np.tile(np.arange(n_c), n_s)[te_rows]] = p
            chosen.append(float(a[0]))
    truth = np.broadcast_to(C[cats][None], pred.shape)
    rho, r = _per_subject_scores(pred, truth)
    null_honest = np.nanmean(rho[:, 1:], axis=0)
    rho_eval, _ = _per_subject_scores(np.broadcast_to(pred[:, :, :1], pred.shape), truth)
    null_eval = np.nanmean(rho_eval[:, 1:], axis=0)
    observed = float(np.nanmean(rho[:, 0]))
    fold_of = np.empty(n_s, int)
    for i, test in enumerate(folds):
        fold_of[test] = i
    ok = np.isfinite(rho[:, 0])
    if ok.sum() >= 2 and len(np.unique(fold_of[ok])) >= 2:
        ct = clustered_paired_test(rho[:, 0], np.arange(n_s), fold_of)
        m, lo, hi, se, n_cl = ct["diff"], ct["ci_low"], ct["ci_high"], ct["se"], ct["n_clusters"]
    else:
        m, lo, hi = bootstrap_ci(rho[:, 0], seed=seed)
        se, n_cl = float("nan"), len(folds)
    mr, rlo, rhi = bootstrap_ci(r[:, 0], seed=seed)
    return {
        "method": method, "loco": loco, "n_subjects": n_s, "n_perm": n_perm,
        "protocol": "cross-subject" if clip_fold is None else "cross-stimulus", "se": se, "n_clusters": n_cl,
        "rho": rho[:, 0], "r": r[:, 0], "mean_rho": m, "ci": [lo, hi], "mean_r": mr, "ci_r": [rlo, rhi],
        "null_honest": null_honest, "p_honest": permutation_pvalue(observed, null_honest),
        "null_honest_mean": float(np.mean(null_honest)),
        "null_eval_only": null_eval, "p_eval_only": permutation_pvalue(observed, null_eval),
        "null_eval_only_mean": float(np.mean(null_eval)),
        "pred": pred[:, :, 0], "alphas": chosen, "folds": [f.tolist() for f in folds], "perms": perms,
    }


def rating_projection(feats: np.ndarray, ratings: np.ndarray, n_folds: int = 10, alphas: np.ndarray = ALPHAS,
                      n_inner: int = 5, seed: int = 0) -> dict[str, Any]:
    """The same map against the subjects' own valence ratings (z-scored per subject), held-out subjects.

    Parameters
    ----------
    feats : ndarray, shape (n_subjects, n_clips, n_features)
    ratings : ndarray, shape (n_subjects, n_clips)

    Returns
    -------
    dict with per-subject ``rho`` (n_subjects,), ``mean_rho`` and ``ci``, ``pred`` (n_subjects, n_clips).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _ratings(feats, ratings, n_folds, alphas, n_inner, seed)


def _ratings(feats, ratings, n_folds, alphas, n_inner, seed):
    n_s, n_c, n_f = feats.shape
    z = (ratings - ratings.mean(1, keepdims=True)) / (ratings.std(1, keepdims=True) + 1e-8)
    X, B, C = feats.reshape(-1, n_f), z.reshape(-1, 1), np.ones((1, 1))
    subj = np.repeat(np.arange(n_s), n_c)
    pred = np.empty((n_s, n_c))
    for test in index_folds(n_s, n_folds):
        train = np.setdiff1d(np.arange(n_s), test)
        tr, te = np.flatnonzero(np.isin(subj, train)), np.flatnonzero(np.isin(subj, test))
        p, _ = _fit_predict(X, B, C, subj, train, tr, te, "ridge", alphas, n_inner)
        pred[test] = p[:, 0].reshape(len(test), n_c)
    rho = np.array([_st.spearmanr(p, t).statistic for p, t in zip(pred, ratings)])
    m, lo, hi = bootstrap_ci(rho, seed=seed)
    return {"rho": rho, "mean_rho": m, "ci": [lo, hi], "pred": pred, "n_subjects": n_s}


def llm_vs_human(positions: np.ndarray, valence: np.ndarray, clip_categories: np.ndarray, n_boot: int = 2000,
                 seed: int = 0) -> dict[str, Any]:
    """Spearman / Pearson between the 9 LLM positions and the mean human valence per category.

    ``valence`` (n_subjects, n_clips); the CI resamples subjects.
    """
    k = len(positions)
    onehot = np.eye(k)[clip_categories]  # (n_clips, k)
    per_sub = valence @ onehot / onehot.sum(0)  # (n_subjects, k)
    human = per_sub.mean(0)
    rho = _st.spearmanr(positions, human)
    r = _st.pearsonr(positions, human)
    rng = np.random.default_rng(seed)
    boots = [_st.spearmanr(positions, per_sub[rng.integers(0, len(per_sub), len(per_sub))].mean(0)).statistic
             for _ in range(n_boot)]
    return {"human_mean": human, "spearman": float(rho.statistic), "p_spearman": float(rho.pvalue),
            "pearson": float(r.statistic), "p_pearson": float(r.pvalue),
            "ci": [float(np.nanquantile(boots, 0.025)), float(np.nanquantile(boots, 0.975))], "n_categories": k}


def get_positions(model_name: str, categories: Sequence[str], **kwargs: Any) -> np.ndarray:
    """The 9 V-axis positions from :func:`vaxis.text.axis.category_positions`, ordered as ``categories``.

    Only keyword arguments that ``category_positions`` accepts are passed on (e.g. ``device``, ``cache_dir``).
    """
    from vaxis.text.axis import category_positions

    params = inspect.signature(category_positions).parameters
    accepts_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    kw = {k: v for k, v in kwargs.items() if accepts_any or k in params}
    series = category_positions(model_name, **kw)
    missing = [c for c in categories if c not in series.index]
    if missing:
        raise KeyError(f"category_positions({model_name!r}) lacks categories {missing}")
    return series.reindex(list(categories)).to_numpy(dtype=float)


def collect_targets(models: Sequence[str], categories: Sequence[str], valence: np.ndarray | None,
                    clip_categories: np.ndarray, **kwargs: Any) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Category positions to map onto: each LLM's V-axis positions, plus two labelled references.

    References: ``sign`` (-1 negative / 0 neutral / +1 positive categories) and ``human-ratings`` (mean
    self-reported valence per category over all subjects, when ratings exist). A model whose positions
    cannot be computed (e.g. :mod:`vaxis.text.axis` unavailable) is reported in ``notes``, never silently dropped.

    Returns
    -------
    targets : dict name -> ndarray, shape (n_categories,)
    notes : dict name -> str (why a model is missing)
    """
    targets: dict[str, np.ndarray] = {}
    notes: dict[str, str] = {}
    for m in models:
        try:
            targets[m] = get_positions(m, categories, **kwargs)
        except Exception as err:  # reported in the chapter and the results file
            notes[m] = f"{type(err).__name__}: {err}"
    neg = {"anger", "disgust", "fear", "sadness"}
    pos = {"amusement", "inspiration", "joy", "tenderness"}
    targets["sign"] = np.array([-1.0 if c in neg else 1.0 if c in pos else 0.0 for c in categories])
    if valence is not None:
        onehot = np.eye(len(categories))[clip_categories]
        targets["human-ratings"] = (valence @ onehot / onehot.sum(0)).mean(0)
    return targets, notes


#: Chapter 4's protocols: held-out subjects (cross-subject) and held-out subjects' held-out clips (cross-stimulus).
PROTOCOLS = ("cross-subject", "cross-stimulus")


def run_projection(feats: np.ndarray, clip_categories: np.ndarray, clip_ids: Sequence[int],
                   targets: dict[str, np.ndarray], n_perm: int = 1000, n_folds: int = 10,
                   seed: int = 0) -> tuple[dict[tuple[str, str], tuple[dict, dict]], np.ndarray]:
    """Chapter 4's entry point: every target's map under both :data:`PROTOCOLS`, each with its
    leave-one-category-out design (which predicts clips no map saw, so both protocols share it).

    Parameters
    ----------
    feats : ndarray, shape (n_subjects, n_clips, n_features)
        :func:`vaxis.claims.common.vmap.clip_features` of the cohort after the input pipeline.
    clip_categories, clip_ids : shape (n_clips,)
    targets : {name: positions (9,)}

    Returns
    -------
    runs : dict
        ``{(target, protocol): (all-categories run, leave-one-category-out run)}`` (:func:`evaluate_projection`).
    clip_fold : ndarray, shape (n_clips,), int
        Each clip's fold (:func:`vaxis.eeg.faced.clip_folds`), the cross-stimulus protocol's.
    """
    clip_fold = np.zeros(len(clip_categories), int)
    for j, fold in enumerate(clip_folds(clip_categories, clip_ids)):
        clip_fold[np.isin(clip_ids, fold)] = j
    runs = {}
    for name, pos in targets.items():
        kw = dict(n_perm=n_perm, n_folds=n_folds, seed=seed)
        loco_run = evaluate_projection(feats, clip_categories, pos, loco=True, **kw)
        for protocol, cf in zip(PROTOCOLS, (None, clip_fold)):
            runs[(name, protocol)] = (evaluate_projection(feats, clip_categories, pos, clip_fold=cf, **kw), loco_run)
    return runs, clip_fold
