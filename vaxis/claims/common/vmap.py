"""The V-map: clip-level features and the ridge map from them to the LLM's category positions (chapter 4 tests it,
chapters 6 and 7 use it as a topographic target)."""

from __future__ import annotations

import numpy as np

from vaxis.decoding.folds import index_folds

__all__ = ["ALPHAS", "clip_features", "ridge_predict", "fit_full_map"]

ALPHAS = np.logspace(-1, 5, 13)


def clip_features(x: np.ndarray, normalisation: str = "per-subject") -> np.ndarray:
    """Clip-level features.

    Parameters
    ----------
    x : ndarray, shape (n_subjects, n_clips, n_chans, n_windows, n_bands)
    normalisation : {"per-subject", "none"}
        ``per-subject``: z-score each feature across the subject's own clips (no labels used).

    Returns
    -------
    ndarray, shape (n_subjects, n_clips, n_chans * n_bands), float64 (channel-major: feature ``ch * n_bands + b``)
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 5:
        raise ValueError(f"x must be (n_subjects, n_clips, n_chans, n_windows, n_bands), got {x.shape}")
    f = x.mean(axis=3).reshape(x.shape[0], x.shape[1], -1)
    if normalisation == "per-subject":
        f = (f - f.mean(axis=1, keepdims=True)) / (f.std(axis=1, keepdims=True) + 1e-8)
    elif normalisation != "none":
        raise ValueError(f"normalisation must be 'per-subject' or 'none', got {normalisation!r}")
    return f


def ridge_predict(Xtr: np.ndarray, Btr: np.ndarray, Xte: np.ndarray, alphas: np.ndarray = ALPHAS,
                  return_weights: bool = False):
    """Ridge (with intercept) for every alpha and every target basis column at once.

    Parameters
    ----------
    Xtr : ndarray, shape (n_train, n_features)
    Btr : ndarray, shape (n_train, r)
        Target basis; any target ``Y = B @ C`` is predicted as ``pred_B @ C`` (ridge is linear in the target).
    Xte : ndarray, shape (n_test, n_features)
    alphas : ndarray, shape (n_alpha,)

    Returns
    -------
    pred : ndarray, shape (n_alpha, n_test, r)
    weights : ndarray, shape (n_alpha, n_features, r) (only if ``return_weights``)
    """
    mx, mb = Xtr.mean(0), Btr.mean(0)
    Xc = Xtr - mx
    lam, V = np.linalg.eigh(Xc.T @ Xc)  # Gram eigendecomposition: (p, p), cheaper than an SVD of (n, p)
    lam = np.clip(lam, 0.0, None)
    VtXtB = V.T @ (Xc.T @ (Btr - mb))  # (k, r)
    f = 1.0 / (lam[None, :] + np.asarray(alphas, dtype=float)[:, None])  # (n_alpha, k)
    XV = (Xte - mx) @ V  # (n_test, k)
    pred = np.einsum("tk,akr->atr", XV, f[:, :, None] * VtXtB[None], optimize=True) + mb
    if return_weights:
        return pred, np.einsum("pk,akr->apr", V, f[:, :, None] * VtXtB[None], optimize=True)
    return pred


def fit_full_map(feats: np.ndarray, clip_categories: np.ndarray, positions: np.ndarray,
                 alphas: np.ndarray = ALPHAS, n_folds: int = 10) -> dict[str, np.ndarray | float]:
    """The map fitted on all subjects (alpha by subject-disjoint CV) for display.

    Returns
    -------
    dict with ``weights`` (n_features,), ``pattern`` (n_features,) = cov(X) @ w (Haufe et al. 2014 activation
    pattern, the interpretable one) and ``alpha``.
    """
    n_s, n_c, n_f = feats.shape
    X = feats.reshape(-1, n_f)
    y = np.asarray(positions, dtype=float)[np.tile(clip_categories, n_s)][:, None]
    subj = np.repeat(np.arange(n_s), n_c)
    sse = np.zeros(len(alphas))
    for test in index_folds(n_s, n_folds):
        te = np.isin(subj, test)
        sse += np.sum((ridge_predict(X[~te], y[~te], X[te], alphas)[..., 0] - y[te, 0]) ** 2, axis=1)
    a = int(np.argmin(sse))
    _, W = ridge_predict(X, y, X[:1], alphas[a:a + 1], return_weights=True)
    w = W[0, :, 0]
    return {"weights": w, "pattern": np.cov(X, rowvar=False) @ w, "alpha": float(alphas[a])}
