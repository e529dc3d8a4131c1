"""Normalisation and smoothing of band features: per-subject, train-only and running z-scores, LDS smoothing.

Every result in the book names its normalisation. ``train-only`` uses statistics of the training subjects
alone; ``per-subject`` uses each subject's own unlabelled data (as FACED's baselines do); LDS smoothing restarts
at every clip by default because smoothing across clips leaks category labels (PAPER.md).
"""

from __future__ import annotations

import numpy as np

__all__ = ["normalise", "running_normalise", "lds_smooth"]


def _subject_index(train_subjects, n_subjects: int) -> np.ndarray:
    idx = np.asarray(train_subjects)
    if idx.dtype == bool:
        if idx.shape != (n_subjects,):
            raise ValueError(f"boolean train_subjects must have shape ({n_subjects},), got {idx.shape}")
        idx = np.flatnonzero(idx)
    if idx.size == 0:
        raise ValueError("train_subjects is empty")
    if not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n_subjects:
        raise ValueError(f"train_subjects must be subject indices in [0, {n_subjects}) or a boolean mask, "
                         f"got {idx.tolist()}")
    return idx.astype(int)


def normalise(x: np.ndarray, mode: str = "per-subject", train_subjects=None, eps: float = 1e-8,
              decay: float = 0.990) -> np.ndarray:
    """Z-score features per (channel, band).

    Parameters
    ----------
    x : ndarray, shape (n_subjects, n_clips, n_chans, n_windows, n_bands) or (n_subjects, n_clips, ...)
        Statistics pool over clips and windows (5-D) or over clips only (other shapes).
    mode : {"per-subject", "train-only", "running", "none"}
        ``per-subject``: each subject's own mean / SD (uses the test subject's unlabelled data, as FACED does).
        ``train-only``: one mean / SD from ``train_subjects`` only, applied to everybody (no test information).
        ``running``: FACED's running normalisation (:func:`running_normalise`, decay 0.990), prior from
        ``train_subjects`` (all subjects if None).
    train_subjects : array of int or bool mask, optional
        Required for ``train-only``.

    Returns
    -------
    ndarray, same shape, float32
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim < 2:
        raise ValueError(f"x must have shape (n_subjects, n_clips, ...), got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x contains {int(np.sum(~np.isfinite(x)))} NaN/Inf values; clean the features first")
    axes = (1, 3) if x.ndim == 5 else (1,)
    if mode == "none":
        return x.astype(np.float32)
    if mode == "per-subject":
        mu = x.mean(axis=axes, keepdims=True)
        sd = x.std(axis=axes, keepdims=True)
        return ((x - mu) / (sd + eps)).astype(np.float32)
    if mode == "train-only":
        if train_subjects is None:
            raise ValueError("mode='train-only' needs train_subjects")
        tr = x[_subject_index(train_subjects, x.shape[0])]
        mu = tr.mean(axis=(0,) + axes, keepdims=True)[0]
        sd = tr.std(axis=(0,) + axes, keepdims=True)[0]
        return ((x - mu) / (sd + eps)).astype(np.float32)
    if mode == "running":
        return running_normalise(x, decay=decay, train_subjects=train_subjects)
    raise ValueError(f"mode must be 'per-subject', 'train-only', 'running' or 'none', got {mode!r}")


def running_normalise(x: np.ndarray, decay: float = 0.990, train_subjects=None, eps: float = 1e-5) -> np.ndarray:
    """FACED's running normalisation (our reading of the released code), vectorised.

    Each subject's samples are taken in sequence (clips in video-index order, windows in time). At sample
    ``k`` (0-based) the running mean / variance of the subject's samples ``0..k`` are blended with a prior
    (mean / variance of ``train_subjects``): ``m_k = d^k prior + (1 - d^k) running``, ``d = decay``; the sample is
    z-scored with ``(x_k - m_k) / sqrt(v_k + eps)``.

    Parameters
    ----------
    x : ndarray, shape (n_subjects, n_clips, n_chans, n_windows, n_bands)

    Returns
    -------
    ndarray, same shape, float32
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 5:
        raise ValueError(f"running_normalise expects (n_subjects, n_clips, n_chans, n_windows, n_bands), got {x.shape}")
    s, c, ch, w, b = x.shape
    seq = x.transpose(0, 1, 3, 2, 4).reshape(s, c * w, ch * b)  # (subjects, time, features)
    idx = np.arange(s) if train_subjects is None else _subject_index(train_subjects, s)
    prior_mean = seq[idx].mean(axis=(0, 1))
    prior_var = seq[idx].var(axis=(0, 1))
    n = np.arange(1, c * w + 1)[None, :, None]
    run_mean = np.cumsum(seq, axis=1) / n
    run_var = np.maximum(np.cumsum(seq**2, axis=1) / n - run_mean**2, 0.0)
    d = (decay ** np.arange(c * w))[None, :, None]
    mean = d * prior_mean + (1 - d) * run_mean
    var = d * prior_var + (1 - d) * run_var
    out = (seq - mean) / np.sqrt(var + eps)
    return out.reshape(s, c, w, ch, b).transpose(0, 1, 3, 2, 4).astype(np.float32)


def _lds_gains(n: int, A: float, C: float, Q: float, R: float, V0: float) -> tuple[np.ndarray, ...]:
    """Data-independent Kalman gains K, filtered variances V and predicted variances P, each shape (n,)."""
    K, V, P = np.zeros(n), np.zeros(n), np.zeros(n)
    K[0] = V0 * C / (C * V0 * C + R)
    V[0] = (1 - K[0] * C) * V0
    for i in range(1, n):
        P[i - 1] = A * V[i - 1] * A + Q
        K[i] = P[i - 1] * C / (C * P[i - 1] * C + R)
        V[i] = (1 - K[i] * C) * P[i - 1]
    P[n - 1] = A * V[n - 1] * A + Q
    return K, V, P


def lds_smooth(x: np.ndarray, time_axis: int = 3, clip_axis: int | None = 1, restart_at_clip: bool = True,
               A: float = 1.0, C: float = 1.0, Q: float = 1e-4, R: float = 1.0, V0: float = 0.01,
               rts: bool = True) -> np.ndarray:
    """Linear-dynamical-system (Kalman) smoothing of feature sequences, as in SEED / FACED.

    State model ``z_t = A z_{t-1} + w`` (var Q), observation ``x_t = C z_t + v`` (var R), ``z_0 ~ N(mean, V0)``
    with the initial state the sequence mean; forward Kalman filter then (``rts=True``) the Rauch-Tung-Striebel
    backward pass. Every channel / band / subject is smoothed independently, all at once.

    Parameters
    ----------
    x : ndarray, e.g. shape (n_subjects, n_clips, n_chans, n_windows, n_bands)
    time_axis : int
        Axis of the windows.
    clip_axis : int or None
        Axis of the clips (only used when ``restart_at_clip=False``).
    restart_at_clip : bool
        True (default): each clip is its own sequence. False: clips are concatenated in index order and smoothed
        as one sequence, as FACED's released code does; this leaks labels (neighbouring clips share a category).

    Returns
    -------
    ndarray, same shape as ``x``, float64
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"x contains {int(np.sum(~np.isfinite(x)))} NaN/Inf values; clean the features first")
    if restart_at_clip or clip_axis is None:
        seq = np.moveaxis(x, time_axis, 0)  # (T, ...)
        return np.moveaxis(_lds_seq(seq, A, C, Q, R, V0, rts), 0, time_axis)
    ta, ca = time_axis % x.ndim, clip_axis % x.ndim
    moved = np.moveaxis(x, (ca, ta), (0, 1))  # (clips, T, ...)
    shape = moved.shape
    seq = moved.reshape((shape[0] * shape[1],) + shape[2:])
    sm = _lds_seq(seq, A, C, Q, R, V0, rts).reshape(shape)
    return np.moveaxis(sm, (0, 1), (ca, ta))


def _lds_seq(seq: np.ndarray, A: float, C: float, Q: float, R: float, V0: float, rts: bool) -> np.ndarray:
    n = seq.shape[0]
    K, V, P = _lds_gains(n, A, C, Q, R, V0)
    u = np.empty_like(seq)
    u0 = seq.mean(axis=0)
    u[0] = u0 + K[0] * (seq[0] - C * u0)
    for i in range(1, n):
        u[i] = A * u[i - 1] + K[i] * (seq[i] - C * A * u[i - 1])
    if not rts:
        return u
    uh = u.copy()
    for i in range(n - 2, -1, -1):
        J = V[i] * A / P[i]
        uh[i] = u[i] + J * (uh[i + 1] - A * u[i])
    return uh
