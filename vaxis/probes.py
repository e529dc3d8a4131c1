"""Rediscovery probes: does a label-trained decoder's representation order the 9 categories by the V-axis?

Inputs are per-unit representations (one row per subject x clip, e.g. the mean penultimate activation of
the clip's windows), each unit's 9-class category and subject. Three probes, each scored on *held-out*
subjects and compared with a permutation null that **re-fits** under shuffled category-to-position maps
(the honest null of chapter 4; a null that shuffles only at evaluation is not used):

``ridge``
    1-D ridge readout of the unit's V-axis position, fitted on training subjects; score = Spearman between
    prediction and position across each held-out subject's clips, averaged over held-out subjects.
``centroid_pc1``
    First principal axis of the 9 class centroids (training subjects); its sign is oriented on the training
    centroids (positive Spearman with the map being tested, so the null orients the same way); score = Spearman
    between held-out subjects' centroids projected on it and the 9 positions.
``loco``
    Leave-one-category-out: a ridge fitted on 8 categories predicts the held-out category's position (mean
    over held-out subjects' units, as a deviation from the training categories' mean); score = Spearman of the
    9 out-of-category predictions with the positions.
    An arbitrary ordering cannot be extrapolated to an unseen category, so this separates a valence axis from
    mere category separability.

Every readout is linear in the target, so a ridge is solved once per design, for the 9 one-hot category
targets, and all maps (true + ``n_perm`` shuffles) are read out by one matrix product.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata
from threadpoolctl import threadpool_limits

from vaxis.stats import permutation_pvalue

__all__ = ["make_maps", "probe_scores", "summarise", "class_centroids", "fold_job", "collect_fold_jobs",
           "PROBES"]

PROBES = ("ridge", "centroid_pc1", "loco")


def make_maps(positions: Sequence[float], n_perm: int = 1000, seed: int = 0) -> np.ndarray:
    """Column 0 = the true positions, columns 1.. = the positions shuffled across categories.

    Returns
    -------
    ndarray, shape (9, 1 + n_perm)
    """
    pos = np.asarray(positions, dtype=float)
    rng = np.random.default_rng(seed)
    perms = np.array([rng.permutation(len(pos)) for _ in range(n_perm)]).reshape(n_perm, len(pos))
    return np.column_stack([pos, pos[perms].T]) if n_perm else pos[:, None]


def _spearman_cols(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Column-wise Spearman of (n, k) arrays (average ranks for ties); NaN for a constant column."""
    ra, rb = rankdata(a, axis=0), rankdata(b, axis=0)
    ra, rb = ra - ra.mean(0), rb - rb.mean(0)
    den = np.sqrt((ra ** 2).sum(0) * (rb ** 2).sum(0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (ra * rb).sum(0) / den, np.nan)


def _ridge_onehot(X: np.ndarray, cat: np.ndarray, alpha: float, n_cat: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ridge from X (n, d) to the one-hot category targets: coef (d, 9), X mean (d,), target mean (9,)."""
    mx = X.mean(0)
    Y = np.eye(n_cat)[cat]
    my = Y.mean(0)
    Xc = X - mx
    d = X.shape[1]
    coef = np.linalg.solve(Xc.T @ Xc + alpha * len(X) * np.eye(d), Xc.T @ (Y - my))
    return coef, mx, my


def probe_scores(rep: np.ndarray, *args, **kwargs) -> dict[str, np.ndarray]:
    """Score the three probes (see :func:`_probe_scores`) with one BLAS thread.

    The matrices are small; multi-threaded OpenBLAS on a busy shared machine is up to ~100x slower.
    """
    with threadpool_limits(1):
        return _probe_scores(rep, *args, **kwargs)


def _probe_scores(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, maps: np.ndarray,
                 test_subjects: Sequence[int], alpha: float = 1e-2) -> dict[str, np.ndarray]:
    """Score the three probes for the true map and every shuffled map of one model / fold.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category : ndarray, shape (n_units,), ints 0..8
    subject : ndarray, shape (n_units,)
    maps : ndarray, shape (9, n_maps)
        From :func:`make_maps` (column 0 = true positions).
    test_subjects : sequence
        Subjects held out from the probe fit (the decoder's own test fold); the rest fit the probes.
    alpha : float
        Ridge penalty per unit (features are z-scored on the training units first).

    Returns
    -------
    dict probe -> ndarray, shape (n_maps,)
    """
    n_cat = maps.shape[0]
    te = np.isin(subject, np.asarray(test_subjects))
    tr = ~te
    mu, sd = rep[tr].mean(0), rep[tr].std(0) + 1e-8
    X = (rep - mu) / sd
    cat = np.asarray(category)
    out = {}
    coef, mx, my = _ridge_onehot(X[tr], cat[tr], alpha, n_cat)
    scores = []
    for s in np.unique(subject[te]):
        m = te & (subject == s)
        pred = ((X[m] - mx) @ coef + my) @ maps                                 # (units of s, n_maps)
        scores.append(_spearman_cols(pred, maps[cat[m]]))
    out["ridge"] = np.nanmean(np.array(scores), axis=0)
    cen_tr = np.stack([X[tr & (cat == c)].mean(0) for c in range(n_cat)])
    cen_te = np.stack([X[te & (cat == c)].mean(0) for c in range(n_cat)])
    _, _, vt = np.linalg.svd(cen_tr - cen_tr.mean(0), full_matrices=False)
    pc1 = vt[0]
    sign = np.sign(_spearman_cols(np.repeat((cen_tr @ pc1)[:, None], maps.shape[1], 1), maps))
    sign[sign == 0] = 1
    out["centroid_pc1"] = sign * _spearman_cols(np.repeat((cen_te @ pc1)[:, None], maps.shape[1], 1), maps)
    loco = np.zeros((n_cat, maps.shape[1]))
    for c in range(n_cat):
        fit = tr & (cat != c)
        coef_c, mx_c, my_c = _ridge_onehot(X[fit], cat[fit], alpha, n_cat)
        # deviation from the 8 training categories' mean (no intercept): with the intercept, a signal-free
        # representation predicts the mean of the *other* categories, anti-correlated with the held-out one
        loco[c] = ((X[te & (cat == c)] - mx_c) @ coef_c).mean(0) @ maps
    out["loco"] = _spearman_cols(loco, maps)
    return out


def summarise(per_fold: Sequence[dict[str, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Average a model's per-fold probe scores and test the mean against the re-fit null.

    The null of the fold-averaged score uses the same shuffled map in every fold (column j of each fold).

    Returns
    -------
    dict probe -> {score, null_mean, null_sd, z, p, n_folds, n_perm}
    """
    out = {}
    for name in per_fold[0]:
        arr = np.nanmean(np.stack([f[name] for f in per_fold]), axis=0)
        obs, null = float(arr[0]), arr[1:]
        sd = float(np.nanstd(null))
        out[name] = {"score": obs, "null_mean": float(np.nanmean(null)), "null_sd": sd,
                     "z": (obs - float(np.nanmean(null))) / sd if sd > 0 else float("nan"),
                     "p": permutation_pvalue(obs, null), "n_folds": len(per_fold), "n_perm": int(null.size)}
    return out


def class_centroids(rep: np.ndarray, category: np.ndarray, subject: np.ndarray,
                    test_subjects: Sequence[int], n_cat: int = 9) -> tuple[np.ndarray, np.ndarray]:
    """Class centroids of training and held-out units, features z-scored on the training units.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category : ndarray, shape (n_units,), ints 0..n_cat-1
    subject : ndarray, shape (n_units,)
    test_subjects : sequence
        Held-out subjects; the other units are the training units.

    Returns
    -------
    cen_train, cen_test : ndarray, shape (n_cat, d)
    """
    te = np.isin(subject, np.asarray(test_subjects))
    X = (rep - rep[~te].mean(0)) / (rep[~te].std(0) + 1e-8)
    cat = np.asarray(category)
    return (np.stack([X[~te & (cat == c)].mean(0) for c in range(n_cat)]),
            np.stack([X[te & (cat == c)].mean(0) for c in range(n_cat)]))


# ------------------------------------------------------------------------ chapter 5: one fold as a sweep job
def fold_job(config: dict) -> dict:
    """Chapter 5's training and probes for one architecture and fold: a sweep job (``"vaxis.probes:fold_job"``).

    Trains ``arch`` for every seed on fold ``config["fold"]`` with :func:`vaxis.training.evaluate` (``folds=``:
    the validation subsamples of the full seeds x folds stack are replayed, so the job equals that fold of one
    ``evaluate`` call over all folds), then scores :func:`probe_scores` on each seed's trained model and its
    untrained initialisation (unit representations of every ``rep_every``-th window, probes fitted on the
    fold's training subjects and scored on its test subjects; maps from ``make_maps(positions, n_perm,
    map_seed)``, identical in every job, so :func:`summarise` can average the folds afterwards).

    Parameters
    ----------
    config : dict
        ``data_dir`` (a FACED folder every worker can read), ``cache_dir``, ``subjects`` (list of subject ids
        the cohort is cut to, or None for all), optional ``data_key`` (:func:`vaxis.sweep.data_fingerprint` of
        ``eeg.x`` and the subject ids after the cut, checked), ``arch``, ``fold``, ``seeds``, ``k``,
        ``protocol``, ``splits``, ``device``, ``evaluate`` (every other keyword argument of the chapter's
        :func:`~vaxis.training.evaluate` call, e.g. ``task``, ``normalisation``, ``epochs``, ``lr``,
        ``patience``, ``steps_per_epoch``, ``batch_size``, ``hidden``, ``max_val``), optional ``arch_settings``
        ({arch: keyword arguments overriding ``evaluate`` for that arch}, e.g. the tcn's batch size),
        ``positions`` (the 9 V-axis positions in category order), ``n_perm``, ``map_seed``, ``rep_every``.

    Returns
    -------
    dict
        ``accuracy`` (the rows :func:`~vaxis.training.evaluate` returns for this fold, seed-major) and
        ``probes`` (seed, weights ``"trained"`` | ``"untrained"``, fold, probe, ``scores``: list of
        1 + n_perm floats), each with ``<name>_columns``; ``centroids`` (``seed`` = the first seed, ``train`` and
        ``test``: :func:`class_centroids` of its trained model, lists (9, d)); ``fold_manifest``; ``train_s``
        (load + training) and ``probe_s`` (seconds).
    """
    import time

    from vaxis.eeg.datasets import load_faced
    from vaxis.sweep import check_data_key
    from vaxis.training import evaluate

    t0 = time.time()
    eeg = load_faced(config["data_dir"], kind="de", cache_dir=config.get("cache_dir"))
    if config.get("subjects") is not None:
        eeg = eeg.subset(list(config["subjects"]))
    check_data_key(config, eeg.x, np.asarray(eeg.subject_ids))
    f, seeds = int(config["fold"]), [int(s) for s in config["seeds"]]
    df, run = evaluate(config["arch"], eeg, protocol=config["protocol"], seeds=seeds, k=int(config["k"]),
                       splits=config.get("splits"), device=config.get("device", "auto"), progress=False,
                       folds=[f], **{**config.get("evaluate", {}),
                                     **(config.get("arch_settings") or {}).get(config["arch"], {})})
    train_s, t1 = time.time() - t0, time.time()
    maps = make_maps(np.asarray(config["positions"], dtype=float), n_perm=int(config["n_perm"]),
                     seed=int(config["map_seed"]))
    fm = next(m for m in run.manifest if m["fold"] == f)
    test_idx = [eeg.subject_ids.index(t) for t in fm["test"]]
    rows, centroids = [], None
    for s in seeds:
        for untrained in (False, True):
            r = run.unit_representations(s, f, untrained=untrained, every=int(config.get("rep_every", 3)))
            sc = probe_scores(r["rep"], r["category"], r["subject"], maps, test_idx)
            rows += [{"seed": s, "weights": "untrained" if untrained else "trained", "fold": f, "probe": name,
                      "scores": np.asarray(sc[name], dtype=float).tolist()} for name in PROBES]
            if centroids is None and not untrained:
                cen_tr, cen_te = class_centroids(r["rep"], r["category"], r["subject"], test_idx, maps.shape[0])
                centroids = {"seed": s, "train": cen_tr.tolist(), "test": cen_te.tolist()}
    return {"accuracy": df.to_dict(orient="records"), "accuracy_columns": list(df.columns),
            "probes": rows, "probes_columns": ["seed", "weights", "fold", "probe", "scores"],
            "centroids": centroids, "fold_manifest": fm, "train_s": train_s, "probe_s": time.time() - t1}


def collect_fold_jobs(jobs, archs: Sequence[str], seeds: Sequence[int]) -> dict:
    """Reassemble chapter 5's :func:`fold_job` results (one row per arch x fold, e.g. ``sweep.checked_table``).

    Parameters
    ----------
    jobs : DataFrame
        Config columns ``arch``, ``fold`` and the results of :func:`fold_job`.
    archs, seeds : sequence
        The chapter's order of architectures and seeds.

    Returns
    -------
    dict
        ``accuracy``: DataFrame in the row order of one :func:`~vaxis.training.evaluate` call per architecture
        (arch, then seed, fold, level); ``probes``: DataFrame of :func:`summarise` per arch x seed x weights
        (trained, untrained) x probe, averaged over the folds in fold order (columns arch, seed, weights, probe
        and the summary keys); ``manifest``: the folds of ``archs[0]`` in fold order; ``centroids``:
        {(arch, fold): (seed, cen_train (9, d), cen_test (9, d))}; ``train_s`` and ``probe_s``: {arch: seconds
        summed over its jobs}.
    """
    import pandas as pd

    from vaxis.ensemble import frame_from_jobs

    acc, probes, manifest, centroids, train_s, probe_s = [], [], [], {}, {}, {}
    for arch in archs:
        aj = jobs[jobs.arch == arch].sort_values("fold")
        if aj.empty:
            raise ValueError(f"no fold job for arch {arch!r}")
        a = frame_from_jobs(aj, "accuracy")
        acc.append(a.sort_values(["seed", "fold"], key=lambda c: c.map({s: i for i, s in enumerate(seeds)})
                                 if c.name == "seed" else c, kind="mergesort", ignore_index=True))
        p = frame_from_jobs(aj, "probes")
        for s in seeds:
            for w in ("trained", "untrained"):
                q = p[(p.seed == s) & (p.weights == w)]
                per_fold = [{name: np.asarray(q[(q.fold == f) & (q.probe == name)].scores.iloc[0], dtype=float)
                             for name in PROBES} for f in aj.fold]
                summ = summarise(per_fold)
                probes += [{"arch": arch, "seed": s, "weights": w, "probe": name, **summ[name]} for name in PROBES]
        if arch == archs[0]:
            manifest = list(aj.fold_manifest)
        for f, c in zip(aj.fold, aj.centroids):
            centroids[(arch, int(f))] = (int(c["seed"]), np.asarray(c["train"], float), np.asarray(c["test"], float))
        train_s[arch], probe_s[arch] = float(aj.train_s.sum()), float(aj.probe_s.sum())
    return {"accuracy": pd.concat(acc, ignore_index=True), "probes": pd.DataFrame(probes), "manifest": manifest,
            "centroids": centroids, "train_s": train_s, "probe_s": probe_s}
