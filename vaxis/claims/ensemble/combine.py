"""Residual-diversity ensembles of EEG decoders and their same-size controls (chapter 8).

The pool they are drawn from (diversity measures, decorrelation, augmentation, ``train_pool``) is in
:mod:`vaxis.claims.ensemble.pool`; this module selects and combines.

Members whose *within-class residual* subspaces differ, all trained in one stacked pass per architecture
(:func:`vaxis.decoding.stacking.train_stacked`): ``greedy`` = selection from a label-only pool (seeds x architectures)
by greedy residual disagreement; ``decor`` = members of one fold share their batches and pay ``weight * mean linear
CKA`` between their within-class residual representations (a cross-model term through the stacked ``loss_fn`` hook);
``aug`` = members trained on the training windows plus residual-mixed copies (a window of subject ``s``, class ``c``
becomes ``mean(s, c) + x_j - mean(s_j, c)`` for a window ``j`` of class ``c`` of another training subject). Same-size
controls: a plain ``seed`` ensemble, a ``bagged`` one (bootstrap over training subjects), ``pool-random`` (random draw
from the same pool) and the ``single`` best model (best validation balanced accuracy).

Residual diversity: each member's representation on the same training windows minus its class means; its top-``k``
principal-component scores span a ``k``-dim subspace of *sample space* (R^n, shared by all members whatever their
width). Two members' distance is ``1 - mean cos^2`` of the principal angles between those subspaces (SVCCA-style:
invariant to rotations and scalings of each member's own space; 0 = same residual subspace, 1 = orthogonal).

Combination: mean of member probabilities, or a :class:`Stacker` (multinomial logistic regression on member
log-probabilities) fitted on the fold's *validation* subjects: training subjects the members never trained on
(out-of-fold for the members), never a test subject.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vaxis.claims.ensemble.pool import Pool
from vaxis.decoding.metrics import balanced_accuracy, metrics

__all__ = ["greedy_select", "mean_probs", "Stacker", "ensemble_table", "ensemble_orders", "subject_scores"]


def greedy_select(D: np.ndarray, size: int, start: int, candidates: Sequence[int] | None = None) -> list[int]:
    """Greedy residual disagreement: from ``start``, add the candidate with the largest mean distance to the chosen.

    Parameters
    ----------
    D : ndarray, shape (M, M)
        Pairwise residual distances.
    start : int
        First member (e.g. the best one on validation subjects).
    """
    cand = list(range(len(D))) if candidates is None else list(candidates)
    chosen = [start]
    while len(chosen) < min(size, len(cand)):
        rest = [c for c in cand if c not in chosen]
        chosen.append(rest[int(np.argmax([np.nanmean(D[c, chosen]) for c in rest]))])
    return chosen


# ---------------------------------------------------------------------------------------------- combination
def mean_probs(logps: np.ndarray) -> np.ndarray:
    """Mean of member probabilities: ``logps`` (K, n, n_classes) log-probabilities -> (n, n_classes), rows sum to 1."""
    p = np.exp(np.asarray(logps, dtype=np.float64)).mean(0)
    return p / p.sum(1, keepdims=True)


class Stacker:
    """Multinomial logistic regression on the concatenated member log-probabilities.

    ``fit`` records the subjects it saw (``subjects_seen_``); :func:`ensemble_table` fits it on validation
    subjects only.
    """

    def __init__(self, C: float = 0.1, max_iter: int = 300, max_rows: int = 2000, seed: int = 0) -> None:
        self.C, self.max_iter, self.max_rows, self.seed = C, max_iter, max_rows, seed

    def fit(self, logps: np.ndarray, y: np.ndarray, subjects: np.ndarray) -> Stacker:
        """``logps`` (K, n, n_classes), ``y`` (n,), ``subjects`` (n,) ids of the rows' subjects.

        At most ``max_rows`` rows (a seeded draw: neighbouring 1-s windows are near duplicates).
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        y = np.asarray(y)
        rows = np.arange(len(y))
        if len(rows) > self.max_rows:
            rows = np.sort(np.random.default_rng(self.seed).choice(rows, self.max_rows, replace=False))
        self.subjects_seen_ = sorted(set(np.asarray(subjects)[rows].tolist()))
        self.classes_ = np.unique(y[rows])
        feats = self._features(np.asarray(logps)[:, rows])
        # z-scored inputs (scale fitted on these validation rows only): lbfgs converges in tens of iterations
        # instead of hitting max_iter on raw log-probabilities
        self.model_ = make_pipeline(StandardScaler(), LogisticRegression(C=self.C, max_iter=self.max_iter))
        self.model_.fit(feats, y[rows])
        return self

    @staticmethod
    def _features(logps: np.ndarray) -> np.ndarray:
        lp = np.asarray(logps, dtype=np.float64)
        return np.maximum(lp, -30.0).transpose(1, 0, 2).reshape(lp.shape[1], -1)

    def predict_proba(self, logps: np.ndarray, n_classes: int) -> np.ndarray:
        """Probabilities (n, n_classes); classes unseen in ``fit`` get 0."""
        out = np.zeros((np.asarray(logps).shape[1], n_classes))
        out[:, self.classes_] = self.model_.predict_proba(self._features(logps))
        return out


# ----------------------------------------------------------------------------------------------- ensembles
def ensemble_orders(pool: Pool, fold: int, size: int, seed: int = 0) -> dict[str, list[int]]:
    """Member order (fold-local indices) of every ensemble type; the first ``j`` members form size ``j``.

    ``single``: best label-only member on validation subjects; ``seed``: main-architecture seeds; ``bagged``;
    ``pool-random``: a random draw from the label-only pool **without** the best member (so it never shares the
    greedy ensemble's first member); ``greedy``: greedy residual disagreement over the label-only pool, from the
    best member; ``decor``; ``aug``; ``greedy-all``: greedy over label-only, decor and aug members.
    """
    m = pool.members[pool.members.fold == fold]
    main = pool.settings["archs"][0]
    ids = lambda q: m[q].sort_values("rank", kind="stable").member.tolist()  # noqa: E731
    label = m[m.kind == "seed"]
    best = int(label.member.iloc[int(np.argmax(label.val_ba.to_numpy()))])
    rng = np.random.default_rng(seed + fold)
    rand = [int(i) for i in rng.permutation([i for i in label.member if i != best])]
    orders = {"single": [best], "seed": ids((m.kind == "seed") & (m.arch == main)), "bagged": ids(m.kind == "bag"),
              "pool-random": rand, "greedy": greedy_select(pool.D[fold], size, best, label.member.tolist()),
              "decor": ids(m.kind == "decor"), "aug": ids(m.kind == "aug"),
              "greedy-all": greedy_select(pool.D[fold], size, best, m[m.kind != "bag"].member.tolist())}
    return {k_: v[:size] for k_, v in orders.items() if len(v)}


def subject_scores(y: np.ndarray, pred: np.ndarray, subjects: np.ndarray, n_classes: int) -> list[float]:
    """Balanced accuracy of every test subject (in order of first appearance) from window predictions."""
    return [balanced_accuracy(y[subjects == s], pred[subjects == s], n_classes) for s in pd.unique(subjects)]


def ensemble_table(pool: Pool, size: int, combine: Sequence[str] = ("mean", "stacker"), seed: int = 0,
                   stacker_C: float = 0.1) -> pd.DataFrame:
    """Score every ensemble type at every size 1..``size`` on every fold's test subjects.

    The stacker is fitted at the full size only, on the fold's validation subjects (never a test subject).

    Returns
    -------
    DataFrame, one row per fold x ensemble x size x combiner: ``balanced_accuracy``, ``accuracy``, ``macro_f1``
    (window level), ``clip_balanced_accuracy``, ``diversity`` (mean pairwise residual distance, NaN for one
    member), ``recall`` (per-class window recall), ``members``, ``normalisation``, ``subject_ba`` (each test
    subject's window BA, in the order of ``pd.unique(pool.subj_test[fold])``).
    """
    rows, C = [], pool.n_classes
    main = pool.members[(pool.members.kind == "seed") & (pool.members.arch == pool.settings["archs"][0])]
    n_seeds = int(main.groupby("fold").size().min()) if len(main) else size
    bags = pool.members[pool.members.kind == "bag"]
    n_bags = int(bags.groupby("fold").size().min()) if len(bags) else size
    if size > n_seeds or size > n_bags:
        raise ValueError(f"ensemble size {size} > main-architecture seeds {n_seeds} or bags {n_bags}: a control would "
                         "be smaller than the others (controls must have the same size); train the pool with "
                         "main_seeds and n_bag >= size")
    for f in sorted(pool.logp_test):
        if set(pool.subj_val[f]) & set(pool.subj_test[f]):
            raise AssertionError(f"fold {f}: validation and test subjects overlap")
        for name, order in ensemble_orders(pool, f, size, seed).items():
            for j in range(1, len(order) + 1):
                mem = order[:j]
                sub = pool.D[f][np.ix_(mem, mem)]
                div = float(sub[np.triu_indices(j, 1)].mean()) if j > 1 else float("nan")
                modes = [c for c in combine if c == "mean" or (j == len(order) and j > 1)]
                for mode in modes:
                    if mode == "mean":
                        prob = mean_probs(pool.logp_test[f][mem])
                    else:
                        st = Stacker(C=stacker_C).fit(pool.logp_val[f][mem], pool.y_val[f], pool.subj_val[f])
                        prob = st.predict_proba(pool.logp_test[f][mem], C)
                    met = metrics(yt := pool.y_test[f], np.log(np.clip(prob, 1e-12, None)), pool.units_test[f])
                    rec = [float(np.mean(prob.argmax(1)[yt == c] == c)) if np.any(yt == c) else None for c in range(C)]
                    rows.append({"fold": f, "ensemble": name, "size": j, "combiner": mode, "members": mem,
                                 "balanced_accuracy": met["window"]["balanced_accuracy"],
                                 "accuracy": met["window"]["accuracy"], "macro_f1": met["window"]["macro_f1"],
                                 "clip_balanced_accuracy": met["clip"]["balanced_accuracy"], "diversity": div,
                                 "recall": rec, "n": met["window"]["n"], "normalisation": pool.normalisation,
                                 "subject_ba": subject_scores(yt, prob.argmax(1), pool.subj_test[f], C)})
    return pd.DataFrame(rows)
