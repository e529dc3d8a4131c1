"""Turn an EEGData-like object or plain arrays into the flat sample tensor the trainers index.

Kept apart from :mod:`vaxis.decoding.training` so that module stays readable; :func:`prepare` is re-exported there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["DataView", "prepare", "task_labels", "NEUTRAL"]

NEUTRAL = 4  # FACED 9-class id of "neutral"


@dataclass
class DataView:
    """Flat samples for training.

    ``X``: float32 Tensor (n, n_chans, n_bands) for window decoders or (n, n_windows, n_chans, n_bands) for
    sequence decoders; per sample ``y`` (task label), ``category`` (9-class id), ``groups`` (subject index
    into ``subject_ids``), ``clips`` (clip id), ``units`` (subject x clip id), ``window_pos`` (window
    index inside its clip, 0 for sequences).
    """

    X: torch.Tensor
    y: np.ndarray
    category: np.ndarray
    groups: np.ndarray
    clips: np.ndarray
    units: np.ndarray
    window_pos: np.ndarray
    subject_ids: list[str]
    n_classes: int
    input: str
    normalisation: str


def task_labels(category: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Keep mask, task labels and class count for a task.

    ``"9class"``: all samples, labels = category ids. ``"binary"``: drop neutral (id 4), label 1 for the
    positive categories (ids 5..8), 0 for the negative ones (0..3).
    """
    category = np.asarray(category)
    if task == "9class":
        return np.ones(len(category), bool), category.astype(np.int64), 9
    if task == "binary":
        keep = category != NEUTRAL
        return keep, (category[keep] > NEUTRAL).astype(np.int64), 2
    raise ValueError(f"task must be '9class' or 'binary', got {task!r}")


def _from_eegdata(d) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    x = np.asarray(d.x, dtype=np.float32)                      # (S, n_clips, C, W, B)
    S, n_clips, C, W, B = x.shape
    seq = x.transpose(0, 1, 3, 2, 4)                           # (S, n_clips, W, C, B)
    labels = np.asarray(d.labels)
    clip_ids = np.asarray(getattr(d, "clip_ids", np.arange(1, n_clips + 1)))
    subs = [str(s) for s in d.subject_ids]
    return (seq.reshape(S * n_clips, W, C, B), np.tile(labels, S), np.repeat(np.arange(S), n_clips),
            np.tile(clip_ids, S), subs)


def prepare(data, task: str = "9class", input: str = "window", normalisation: str = "train-only") -> DataView:
    """Build a :class:`DataView` from ``EEGData`` or ``(X, y, groups[, clips])``.

    Window arrays given to a sequence decoder are grouped into clips (windows of one subject x clip in
    their given order; every clip must have the same number of windows). ``normalisation="per-subject"``
    z-scores every subject with its own samples' mean and SD per channel x band (no labels used) here;
    ``"train-only"`` statistics are computed per fold by :func:`vaxis.decoding.training.evaluate`.
    """
    if hasattr(data, "x") and hasattr(data, "labels"):
        seqs, cat, grp, clips, subs = _from_eegdata(data)
    else:
        X, y, groups = data[:3]
        clips = np.asarray(data[3]) if len(data) > 3 and data[3] is not None else None
        X = np.asarray(X, dtype=np.float32)
        subs = sorted(set(map(str, groups)))
        grp_all = np.searchsorted(subs, np.asarray(groups).astype(str))
        if X.ndim == 4:                                        # already clip sequences
            seqs, cat, grp = X, np.asarray(y), grp_all
            clips = clips if clips is not None else np.arange(len(X))
        elif input == "sequence":
            if clips is None:
                raise ValueError("a sequence decoder on window arrays needs clips to group windows")
            unit = grp_all.astype(np.int64) * (int(clips.max()) + 1) + clips
            uniq, first, inv = np.unique(unit, return_index=True, return_inverse=True)
            counts = np.bincount(inv)
            if counts.min() != counts.max():
                raise ValueError("every subject x clip needs the same number of windows")
            order = np.argsort(inv, kind="stable")
            seqs = X[order].reshape(len(uniq), counts[0], *X.shape[1:])
            cat, grp, clips = np.asarray(y)[first], grp_all[first], clips[first]
        else:                                                  # plain windows
            seqs, cat, grp = X[:, None], np.asarray(y), grp_all
            clips = clips if clips is not None else np.arange(len(X))
    n_units, W = seqs.shape[:2]
    keep, ylab, n_classes = task_labels(cat, task)
    seqs, cat, grp, clips = seqs[keep], np.asarray(cat)[keep], grp[keep], np.asarray(clips)[keep]
    if normalisation == "per-subject":
        seqs = seqs.copy()
        for g in np.unique(grp):
            s = seqs[grp == g]
            mu, sd = s.mean(axis=(0, 1)), s.std(axis=(0, 1)) + 1e-6
            seqs[grp == g] = (s - mu) / sd
    elif normalisation not in ("train-only", "none"):
        raise ValueError(f"normalisation must be 'train-only', 'per-subject' or 'none', got {normalisation!r}")
    units = grp.astype(np.int64) * (int(np.max(clips)) + 1) + clips
    if input == "sequence":
        return DataView(torch.from_numpy(np.ascontiguousarray(seqs)), ylab, cat, grp, clips, units,
                        np.zeros(len(ylab), int), subs, n_classes, input, normalisation)
    n = len(ylab)
    Xw = np.ascontiguousarray(seqs.reshape(n * W, *seqs.shape[2:]))
    rep = lambda a: np.repeat(a, W)  # noqa: E731
    wunits = rep(units)
    order = np.argsort(wunits, kind="stable")                  # position of each window inside its unit
    pos = np.empty(len(wunits), dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(wunits[order])) + 1]
    pos[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    return DataView(torch.from_numpy(Xw), rep(ylab), rep(cat), rep(grp), rep(clips), wunits, pos, subs,
                    n_classes, input, normalisation)
