"""Calibration of the chapters' paired tests by simulation: false-positive rate under the null, power at the MDE.

A fast synthetic cohort (clip-level features with class, subject and noise components) goes through the same
subject-disjoint folds, repeats and seeds as a chapter (:func:`vaxis.decoding.training.make_manifest`). Two conditions
train the same cheap classifier (nearest class centroid on a seeded random projection of the features, so seeds
differ as trained decoders do); condition ``b`` reads its features with extra Gaussian noise of SD ``effect``,
which plants a true difference (none at ``effect = 0``). Every score is a balanced accuracy on held-out
subjects, so a test sees exactly the chapter's structure: folds sharing training subjects, repeats sharing test
subjects, seed noise shared by all test subjects of a fold.

:func:`simulate` returns both units of analysis the chapters use: one difference per fold (seeds averaged) and
one per test subject (its scores averaged over seeds and repeats). :func:`rejection_rate` runs a test over many
simulated cohorts and returns its rejection rate, the mean estimated MDE and the mean observed difference.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from vaxis.decoding.folds import make_manifest
from vaxis.stats import clustered_paired_test, corrected_resampled_ttest, mde_t

__all__ = ["SimDesign", "SimResult", "simulate", "rejection_rate", "fold_test", "subject_test", "clustered_test"]


@dataclass(frozen=True)
class SimDesign:
    """The structure to simulate: ``n_subjects``, ``k`` folds x ``repeats``, ``n_seeds`` per fold and condition,
    a cohort of ``n_classes`` classes x ``clips_per_class`` clips per subject with ``n_features`` features;
    ``class_sep`` (class-mean scale), ``subject_sd`` (per-subject offset SD), ``proj_dim`` (the seeded random
    projection's width: the seed noise). ``protocol="fixed"`` uses one split (``n_test`` test subjects, the rest
    training) instead of k-fold."""

    n_subjects: int = 40
    k: int = 5
    repeats: int = 1
    n_seeds: int = 2
    n_classes: int = 9
    clips_per_class: int = 3
    n_features: int = 24
    class_sep: float = 0.6
    subject_sd: float = 0.5
    proj_dim: int = 12
    protocol: str = "kfold"
    n_test: int = 10


@dataclass
class SimResult:
    """``fold_diff`` (J,) one per fold x repeat (seeds averaged); ``subject_diff`` (n_subjects tested,) averaged
    over repeats and seeds; ``long``: one row per subject x trained model (``d``, ``subject``, ``cluster``; on a
    fixed split each seed is its own model); ``n_train`` / ``n_test`` subjects per fold (means)."""

    fold_diff: np.ndarray
    subject_diff: np.ndarray
    long: dict
    n_train: float
    n_test: float


def _cohort(design: SimDesign, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """X (n_subjects, n_clips, n_features), y (n_clips,)."""
    y = np.repeat(np.arange(design.n_classes), design.clips_per_class)
    means = rng.normal(0, design.class_sep, (design.n_classes, design.n_features))
    offsets = rng.normal(0, design.subject_sd, (design.n_subjects, 1, design.n_features))
    noise = rng.normal(0, 1, (design.n_subjects, len(y), design.n_features))
    return means[y][None] + offsets + noise, y


def _predict(Xtr: np.ndarray, Xte: np.ndarray, y: np.ndarray, P: np.ndarray, n_classes: int) -> np.ndarray:
    """Nearest class centroid in the projection ``P``: ``Xtr`` (n_train, n_clips, f) with clip labels ``y``,
    ``Xte`` (n_test, n_clips, f) -> predictions (n_test, n_clips)."""
    onehot = np.eye(n_classes)[y]                                            # (n_clips, C)
    cen = (onehot.T @ (Xtr.mean(0) @ P)) / onehot.sum(0)[:, None]            # (C, p)
    Z = Xte @ P                                                              # (n_test, n_clips, p)
    dist = -2 * Z @ cen.T + (cen ** 2).sum(1)
    return np.argmin(dist, axis=-1)


def _subject_ba(y: np.ndarray, pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Balanced accuracy of every row of ``pred`` (n_subjects, n_clips) against the clip labels ``y``."""
    hit = (pred == y[None]).astype(float)                                    # (S, n_clips)
    onehot = np.eye(n_classes)[y]                                            # (n_clips, C)
    return (hit @ onehot / onehot.sum(0)).mean(1)


def _manifest(design: SimDesign, subs: list[str], seed: int) -> list[dict]:
    if design.protocol == "fixed":
        order = np.random.default_rng(seed).permutation(subs).tolist()
        return make_manifest(subs, "fixed", splits={"train": order[design.n_test:], "val": [],
                                                    "test": order[:design.n_test]})
    return make_manifest(subs, "kfold", k=design.k, seed=seed, val_fraction=0.0, repeats=design.repeats)


def simulate(design: SimDesign, effect: float = 0.0, seed: int = 0) -> SimResult:
    """One simulated cohort through the design (condition a minus condition b)."""
    rng = np.random.default_rng(seed)
    X, y = _cohort(design, rng)
    subs = [f"s{i:03d}" for i in range(design.n_subjects)]
    pos = {s_: i for i, s_ in enumerate(subs)}
    man = _manifest(design, subs, seed)
    C = design.n_classes
    fold_d, subj_sum, subj_n = [], np.zeros(design.n_subjects), np.zeros(design.n_subjects)
    long = {"d": [], "subject": [], "cluster": []}
    for f in man:
        tr = np.array([pos[s_] for s_ in f["train"]])
        te = np.array([pos[s_] for s_ in f["test"]])
        Xtr, Xte = X[tr], X[te]
        per_subject, per_seed = {}, {}
        for cond in ("a", "b"):
            acc = np.zeros(len(te))
            per_seed[cond] = []
            for _ in range(design.n_seeds):
                P = rng.normal(size=(X.shape[-1], design.proj_dim))
                A, B = Xtr, Xte
                if cond == "b" and effect > 0:
                    A = Xtr + rng.normal(0, effect, Xtr.shape)
                    B = Xte + rng.normal(0, effect, Xte.shape)
                pred = _predict(A, B, y, P, C)
                per_seed[cond].append(_subject_ba(y, pred, C))
                acc += per_seed[cond][-1] / design.n_seeds
            per_subject[cond] = acc
        diff = per_subject["a"] - per_subject["b"]
        if design.protocol == "fixed":          # one split: each seed replicate is a model
            for j in range(design.n_seeds):
                long["d"] += list(per_seed["a"][j] - per_seed["b"][j])
                long["subject"] += list(te)
                long["cluster"] += [j] * len(te)
        else:                                   # k-fold: the seed-averaged fold model is the cluster
            long["d"] += list(diff)
            long["subject"] += list(te)
            long["cluster"] += [int(f["fold"])] * len(te)
        fold_d.append(float(diff.mean()))
        subj_sum[te] += diff
        subj_n[te] += 1
    tested = subj_n > 0
    return SimResult(np.asarray(fold_d), subj_sum[tested] / subj_n[tested], {k: np.asarray(v) for k, v in long.items()},
                     float(np.mean([len(f["train"]) for f in man])), float(np.mean([len(f["test"]) for f in man])))


def fold_test(res: SimResult) -> dict:
    """The chapters' k-fold test: :func:`~vaxis.stats.corrected_resampled_ttest` over the fold differences."""
    return corrected_resampled_ttest(res.fold_diff, res.n_train, res.n_test)


def subject_test(res: SimResult) -> dict:
    """A plain paired t-test over test subjects (scores averaged over seeds and repeats)."""
    from scipy import stats as st

    d = res.subject_diff
    t = st.ttest_1samp(d, 0.0)
    return {"diff": float(d.mean()), "p": float(t.pvalue), "factor": 1.0 / d.size, "n": int(d.size)}


def clustered_test(res: SimResult) -> dict:
    """:func:`~vaxis.stats.clustered_paired_test`: test subjects as units, trained models as clusters."""
    return clustered_paired_test(res.long["d"], res.long["subject"], res.long["cluster"])


def rejection_rate(design: SimDesign, n_runs: int = 200, effect: float = 0.0, alpha: float = 0.05,
                   seed: int = 0, test: Callable[[SimResult], dict] = fold_test) -> dict[str, float]:
    """Run ``test`` on ``n_runs`` simulated cohorts.

    Returns
    -------
    dict
        ``rate`` (share of runs with p < alpha), ``mde`` (mean estimated MDE at power 0.8 from each run's own SD,
        in the test's unit), ``effect`` (mean observed difference: the planted effect), ``n_runs``.
    """
    rej, mdes, effects = [], [], []
    for r in range(n_runs):
        res = simulate(design, effect, seed=seed * 100_003 + r)
        out = test(res)
        d = res.fold_diff if test is fold_test else res.subject_diff
        rej.append(out["p"] < alpha)
        mdes.append(mde_t(float(np.std(d, ddof=1)), d.size, alpha, factor=out.get("factor")))
        effects.append(float(np.mean(d)))
    return {"rate": float(np.mean(rej)), "mde": float(np.mean(mdes)), "effect": float(np.mean(effects)),
            "n_runs": n_runs}
