"""Chapter 7's four falsifiable criteria of the saturation regularity, each against a null that could win.

Every criterion is a per-fold statistic (seeds averaged inside a fold) with a 95 % t-interval over folds and a
fixed threshold; ``holds`` is True when the interval clears the threshold in the claim's direction, False when it
excludes the claim's effect (the "fail" bound), None when undecided (:func:`criterion`).

``basin_saturated``
    Label-only models order the held-out class centroids along their V-direction (fitted on training units) by the
    LLM's positions better than along a V-direction fitted to **permuted** positions scores the permuted ones
    (the re-fit null): :func:`centroid_v_gain`. Holds above 0; fails below 0.10 (Spearman).
``residual_starved``
    The alignment gradient's residual-subspace share is smaller with the LLM's targets than with the same losses
    given **shuffled** targets at the same model states (:class:`vaxis.claims.saturation.GradientRecorder` ``control``):
    shuffled minus real. Holds above 0; fails below 0.02 (share).
``v_carries_accuracy``
    A fresh readout of the V-direction alone classifies held-out units better than one of a **random direction of
    the between-class span** (mean of ``n_random``; a random direction of the whole space would lose by
    construction, since the V-direction lies in the class-mean span): :func:`v_readout_gain`. Holds above 0; fails
    below 0.01 (BA).
``supervision_does_not_pay``
    The strategies' mean held-out BA minus the label-only model's (same folds, seeds, initial weights): holds when
    the interval lies below 0.01 (no gain of a BA point), fails when it lies above 0 (a gain).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import spearmanr

from vaxis.claims.saturation import v_basis
from vaxis.stats import t_interval

__all__ = ["fold_interval", "criterion", "centroid_v_gain", "v_readout_gain", "CRITERIA"]

#: name -> (direction, hold threshold, fail threshold, what the statistic is compared with)
CRITERIA = {
    "basin_saturated": ("above", 0.0, 0.10, "V-direction re-fitted to permuted positions (re-fit null)"),
    "residual_starved": ("above", 0.0, 0.02, "the same losses with the LLM geometry shuffled across categories"),
    "v_carries_accuracy": ("above", 0.0, 0.01, "a random direction of the between-class span"),
    "supervision_does_not_pay": ("below", 0.01, 0.0, "the label-only model (same folds, seeds, initial weights)"),
}


#: Mean and t-interval of per-fold values (NaN dropped); infinite bounds with fewer than two folds.
fold_interval = t_interval


def criterion(name: str, per_fold: Sequence[float]) -> dict:
    """One criterion's record: ``name``, ``statistic`` (mean over folds), ``ci_low``, ``ci_high``, ``threshold``
    (the hold threshold), ``fail_threshold``, ``holds`` (True / False / None), ``null``, ``n_folds``."""
    direction, hold, fail, null = CRITERIA[name]
    m, lo, hi = fold_interval(per_fold)
    if direction == "above":
        holds = True if lo > hold else False if hi < fail else None
    else:
        holds = True if hi < hold else False if lo > fail else None
    return {"name": name, "statistic": m, "ci_low": lo, "ci_high": hi, "threshold": hold, "fail_threshold": fail,
            "direction": direction, "holds": holds, "null": null, "n_folds": int(np.isfinite(per_fold).sum())}


def _centroid_order(rep, category, train, test, pos) -> float:
    v, _ = v_basis(rep[train], category[train], pos)
    cen = np.stack([rep[test & (category == c)].mean(0) for c in range(len(pos))])
    return float(spearmanr(cen @ v, pos)[0])


def centroid_v_gain(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, test_subjects: Sequence,
                    positions: Sequence[float], n_perm: int = 200, seed: int = 0) -> float:
    """Held-out V-ordering of the class centroids along the training V-direction, minus its re-fit null mean.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category, subject : ndarray, shape (n_units,)
    test_subjects : held-out subjects (the rest fit the V-direction)
    positions : ndarray, shape (9,)
    """
    pos = np.asarray(positions, float)
    te = np.isin(subject, np.asarray(test_subjects))
    obs = _centroid_order(rep, category, ~te, te, pos)
    rng = np.random.default_rng(seed)
    null = [_centroid_order(rep, category, ~te, te, pos[rng.permutation(len(pos))]) for _ in range(n_perm)]
    return obs - float(np.nanmean(null))


def v_readout_gain(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, test_subjects: Sequence,
                   positions: Sequence[float], n_random: int = 20, seed: int = 0) -> float:
    """Held-out BA of a fresh 1-D readout of the V-direction minus the mean over ``n_random`` random unit
    directions of the between-class span (both estimated on the training units of the training-z-scored
    representation). The readout is the nearest training class mean along the direction (1-D LDA with a shared
    variance and equal priors), fitted for every direction at once."""
    te = np.isin(subject, np.asarray(test_subjects))
    X = (rep - rep[~te].mean(0)) / (rep[~te].std(0) + 1e-8)
    v, basis = v_basis(X[~te], category[~te], positions)
    rng = np.random.default_rng(seed)
    span = basis[np.linalg.norm(basis, axis=1) > 0]                       # (rank, d) orthonormal rows
    rand = rng.normal(size=(n_random, len(span))) @ span
    dirs = np.vstack([v, rand / np.linalg.norm(rand, axis=1, keepdims=True)])   # (1 + n_random, d)
    Z = X @ dirs.T                                                        # (n, n_dir)
    classes = np.unique(category[~te])
    means = np.stack([Z[~te & (category == c)].mean(0) for c in classes])     # (C, n_dir)
    pred = classes[np.argmin(np.abs(Z[te][:, None, :] - means[None]), axis=1)]  # (n_test, n_dir)
    yt = category[te]
    present = [c for c in classes if np.any(yt == c)]
    ba = np.mean([(pred[yt == c] == c).mean(0) for c in present], axis=0)      # (n_dir,)
    return float(ba[0] - ba[1:].mean())
