"""Leave-one-pair-out placements for many folds and layers at once, the layer rule's tie rule, and claim 1's
selection-free test: the layer chosen *inside* each fold (nested), with its exact permutation null over the 35
four-vs-four splits. Re-exported by :mod:`vaxis.text.axis`.

For the mean-difference axis every placement depends on the hidden states only through the Gram matrix of the nine
sentences at each layer: the axis is :math:`w = \\sum_n c_n h_n` (:math:`c_n = 1/n_+` for a training positive,
:math:`-1/n_-` for a training negative), a projection is :math:`h_x^\\top w = (G c)_x` and :math:`|w|^2 = c^\\top G c`.
So one ``(n_layers, 9, 9)`` Gram array serves every fold, split and layer (thousands of fits in milliseconds); the
other methods (``pca``, ``lda``) fit each fold with :class:`vaxis.text.axis_estimator.VAxis` (same numbers, slower).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from vaxis.text.axis_estimator import VAxis

__all__ = ["pick_layer", "pair_folds", "fold_z", "nested_heldout", "split_signs", "split_tests", "split_power"]


def pick_layer(scores: np.ndarray, tol: float = 0.05) -> int:
    """The layer rule's choice from per-layer scores (n_layers,): the best over layers >= 1 (NaN = degenerate, skipped),
    layers within ``tol * |best|`` of it tied, the tied layer nearest the middle ``(n_layers - 1) / 2`` winning (the
    lower one on an exact tie)."""
    s = np.asarray(scores, dtype=float)
    ok = np.flatnonzero(np.isfinite(s) & (np.arange(s.size) >= 1))
    if ok.size == 0:
        raise ValueError("no layer gives a usable axis: every layer is degenerate for these sentences")
    best = s[ok].max()
    tied = ok[s[ok] >= best - tol * abs(best)]
    return int(tied[np.argmin(np.abs(tied - (s.size - 1) / 2))])


def pair_folds(signs: np.ndarray, keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Every leave-one-pair-out fold among the sentences in ``keep`` (default all).

    Returns
    -------
    train : ndarray of bool, shape (n_folds, n_texts); held : ndarray of int, shape (n_folds, 2) (positive, negative)
    """
    signs = np.asarray(signs)
    keep = np.ones(signs.size, bool) if keep is None else np.asarray(keep, bool)
    held = np.array([(i, j) for i in np.flatnonzero((signs > 0) & keep) for j in np.flatnonzero((signs < 0) & keep)])
    train = np.repeat(keep[None], len(held), axis=0)
    train[np.arange(len(held))[:, None], held] = False
    return train, held


def fold_z(hidden: np.ndarray, signs: np.ndarray, train: np.ndarray, held: np.ndarray, method: str = "mean-diff",
           gram: np.ndarray | None = None) -> np.ndarray:
    """Held-out positions ``z = (p - m) / sigma`` (as :func:`vaxis.text.axis.heldout_z`) of many folds at every layer.

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden)
    signs : ndarray, shape (n_texts,), or (n_folds, n_texts) for a labelling per fold (mean-diff only)
    train : ndarray of bool, shape (n_folds, n_texts); held : ndarray of int, shape (n_folds, 2)
    gram : ndarray, shape (n_layers, n_texts, n_texts), optional
        ``hidden @ hidden.T`` per layer (mean-diff only; computed when absent).

    Returns
    -------
    ndarray, shape (n_layers, n_folds, 2); NaN where a fold's axis is degenerate at a layer
    """
    signs = np.asarray(signs)
    pos, neg = train & (signs > 0), train & (signs < 0)
    if method != "mean-diff":
        out = np.full((np.shape(hidden)[0], len(held), 2), np.nan)
        for layer in range(out.shape[0]):
            h = np.asarray(hidden[layer], dtype=np.float64)
            for f, (tr, hd) in enumerate(zip(train, held)):
                try:
                    ax = VAxis(method)._fit_arrays(h[tr], signs[tr])
                except ValueError:
                    continue
                p, sk = ax._project(h[tr]), signs[tr]
                a, b = p[sk > 0], p[sk < 0]
                sd = np.concatenate([a - a.mean(), b - b.mean()]).std() + 1e-12
                out[layer, f] = (ax._project(h[hd]) - 0.5 * (a.mean() + b.mean())) / sd
        return out
    g = hidden @ np.swapaxes(hidden, 1, 2) if gram is None else gram
    c = pos / pos.sum(1, keepdims=True) - neg / neg.sum(1, keepdims=True)  # (F, n)
    p = np.swapaxes(g @ c.T, 1, 2)  # (L, F, n): projections on the unnormalised axis (G symmetric)
    norm2 = (p * c).sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / np.sqrt(np.where(norm2 > 1e-12 * np.abs(g).max(), norm2, np.nan))[..., None]
        a = (p * pos).sum(-1) / pos.sum(-1)
        b = (p * neg).sum(-1) / neg.sum(-1)
        dev2 = (((p - a[..., None]) ** 2) * pos).sum(-1) + (((p - b[..., None]) ** 2) * neg).sum(-1)
        sd = np.sqrt(dev2 / (pos.sum(-1) + neg.sum(-1))) + 1e-12
        ph = np.take_along_axis(p, np.broadcast_to(held[None], (p.shape[0], *held.shape)), axis=2)
        return (ph - 0.5 * (a + b)[..., None]) / sd[..., None]


def _signed(z: np.ndarray) -> np.ndarray:
    """Signed margins (..., 2) -> (..., 2): the positive's z and minus the negative's (> 0 = the right side)."""
    return np.stack([z[..., 0], -z[..., 1]], axis=-1)


def nested_heldout(hidden: np.ndarray, signs: np.ndarray, method: str = "mean-diff", tol: float = 0.05,
                   gram: np.ndarray | None = None) -> dict[str, object]:
    """Selection-free held-out evidence: leave-one-pair-out with the layer chosen *inside* each fold.

    For each (positive, negative) pair the layer rule (its own leave-one-pair-out over the seven training
    sentences, :func:`pick_layer`) runs without the held-out pair; the axis fitted on the seven at that layer places
    the two held-out sentences. No placement is read at a layer chosen with it.

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden) (standardised states)

    Returns
    -------
    dict with ``z`` (n_pairs, 2) held-out positions, ``layers`` (n_pairs,) each fold's layer, ``margin`` (mean
    signed held-out position over the 2 n_pairs placements), ``pair_accuracy`` (share of pairs ordered) and
    ``per_sentence`` (n_texts,) mean signed position of each sentence over its folds (NaN for neutral).
    """
    hidden, signs = np.asarray(hidden, dtype=np.float64), np.asarray(signs)
    g = hidden @ np.swapaxes(hidden, 1, 2) if gram is None and method == "mean-diff" else gram
    train, held = pair_folds(signs)
    inner = [pair_folds(signs, t) for t in train]
    n_in = len(inner[0][1])
    zi = fold_z(hidden, signs, np.concatenate([t for t, _ in inner]), np.concatenate([h for _, h in inner]),
                method, g)  # (L, n_outer * n_in, 2)
    scores = _signed(zi).reshape(zi.shape[0], len(held), n_in * 2).mean(-1)  # (L, n_outer)
    layers = np.array([pick_layer(scores[:, f], tol) for f in range(len(held))])
    zo = fold_z(hidden, signs, train, held, method, g)[layers, np.arange(len(held))]  # (n_outer, 2)
    per, cnt = np.zeros(signs.size), np.zeros(signs.size)
    np.add.at(per, held.ravel(), _signed(zo).ravel())
    np.add.at(cnt, held.ravel(), 1)
    with np.errstate(invalid="ignore"):
        per = np.where(cnt > 0, per / np.maximum(cnt, 1), np.nan)
    return {"z": zo, "layers": layers, "margin": float(np.mean(_signed(zo))),
            "pair_accuracy": float(np.mean(zo[:, 0] > zo[:, 1])), "per_sentence": per}


def split_signs(signs: np.ndarray) -> list[np.ndarray]:
    """Every split of the non-neutral sentences into two equal groups, one per mirror pair (35 for 4 + 4); the first
    non-neutral sentence is always negative. The valence split (or its mirror) is among them."""
    signs = np.asarray(signs)
    idx = np.flatnonzero(signs != 0)
    if (signs > 0).sum() != (signs < 0).sum():
        raise ValueError("the splits need as many positive as negative texts")
    out = []
    for group in combinations(idx[1:], len(idx) // 2 - 1):
        s = np.zeros_like(signs)
        s[idx] = 1
        s[[idx[0], *group]] = -1
        out.append(s)
    return out


def split_tests(hidden: np.ndarray, signs: np.ndarray, method: str = "mean-diff", tol: float = 0.05,
                nested: bool = True) -> dict[str, dict[str, object]]:
    """Both exact permutation tests of the valence split over :func:`split_signs`.

    ``selected``: per split the layer rule on all nine sentences and the held-out margin at that layer (selection
    inside every split: selection-corrected). ``nested``: per split the selection-free margin of
    :func:`nested_heldout` (omitted when ``nested`` is False).

    Returns
    -------
    ``{"selected": ..., "nested": ...}``, each a dict with ``observed``, ``null`` (n_splits - 1,), ``p`` (share of
    splits scoring at least the observed, the valence split included), ``p_lower`` (share scoring at most it),
    ``rank`` (1 = best) and ``n_splits``
    """
    hidden, signs = np.asarray(hidden, dtype=np.float64), np.asarray(signs)
    g = hidden @ np.swapaxes(hidden, 1, 2) if method == "mean-diff" else None
    scores = {"selected": [], "nested": []} if nested else {"selected": []}
    observed = {}
    for s in split_signs(signs):
        train, held = pair_folds(s)
        curve = _signed(fold_z(hidden, s, train, held, method, g)).reshape(hidden.shape[0], -1).mean(-1)
        vals = {"selected": float(curve[pick_layer(curve, tol)])}
        if nested:
            vals["nested"] = nested_heldout(hidden, s, method, tol, g)["margin"]
        if np.array_equal(s, signs) or np.array_equal(s, -signs):
            observed = vals
        else:
            for k in scores:
                scores[k].append(vals[k])
    out = {}
    for k, null in scores.items():
        null, obs = np.array(null), observed[k]
        out[k] = {"observed": obs, "null": null, "p": float((1 + np.sum(null >= obs)) / (1 + null.size)),
                  "p_lower": float((1 + np.sum(null <= obs)) / (1 + null.size)),
                  "rank": int(1 + np.sum(null > obs)), "n_splits": int(null.size + 1)}
    return out


def split_power(effects: np.ndarray, n_dims: int = 16, n_sims: int = 400, alpha: float = 0.05, seed: int = 0,
                signs: np.ndarray | None = None) -> np.ndarray:
    """Power of the exact split test (valence split first among :func:`split_signs`, p <= ``alpha``) by simulation.

    Each simulated model has one layer, so the nested and the selected statistic of :func:`split_tests` coincide
    (the inner rule has one layer to choose): ``n_dims`` independent unit-variance dimensions per sentence, the
    positive and negative sentences' means ``effect`` apart along one of them (the neutral one in the middle). The
    same noise serves every effect (common random numbers), so power rises smoothly with the effect.

    Parameters
    ----------
    effects : ndarray, shape (n_effects,): separations of the group means in noise SDs

    Returns
    -------
    ndarray, shape (n_effects,): the share of simulations whose exact p is at most ``alpha``
    """
    signs = np.asarray(signs if signs is not None else [-1, -1, -1, -1, 0, 1, 1, 1, 1])
    splits = split_signs(signs)
    folds = [pair_folds(s) for s in splits]
    per_fold = np.concatenate([np.repeat(s[None], len(f[1]), axis=0) for s, f in zip(splits, folds)])
    train, held = np.concatenate([f[0] for f in folds]), np.concatenate([f[1] for f in folds])
    valence = next(k for k, s in enumerate(splits) if np.array_equal(s, signs) or np.array_equal(s, -signs))
    noise = np.random.default_rng(seed).standard_normal((n_sims, signs.size, n_dims))
    out = []
    for effect in np.atleast_1d(effects):
        h = noise.copy()
        h[:, :, 0] += 0.5 * float(effect) * signs
        z = _signed(fold_z(h, per_fold, train, held)).reshape(n_sims, len(splits), -1).mean(-1)  # (sims, splits)
        p = (np.sum(z >= z[:, [valence]], axis=1)) / len(splits)
        out.append(float(np.mean(p <= alpha)))
    return np.array(out)
