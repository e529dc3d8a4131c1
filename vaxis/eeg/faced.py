"""FACED facts, in one place: the nine categories and their order, the clip -> class table, the channels, the bands.

Every module that needs one of these (:mod:`vaxis.eeg.datasets`, :mod:`vaxis.eeg.synthetic`,
:mod:`vaxis.eeg.montage`, the decoders) imports it from here. Two channel lists with different names:
:data:`FACED_CHANNELS` is the 32 electrodes of the files (mastoids A2, A1 last), :data:`FACED_EEG_CHANNELS` the 30
EEG channels the decoders see (``X[:, :N_EEG_CHANNELS]``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "FACED_CATEGORIES",
    "FACED_LABELS",
    "N_CLIPS",
    "FACED_SFREQ",
    "FACED_CHANNELS",
    "FACED_EEG_CHANNELS",
    "N_EEG_CHANNELS",
    "FACED_BANDS",
    "RATING_NAMES",
    "VALENCE_INDEX",
    "N_CLIP_FOLDS",
    "clip_folds",
]

#: The nine FACED categories in class-id order 0..8 (the order of :data:`vaxis.text.sentences.CATEGORIES` too).
FACED_CATEGORIES: tuple[str, ...] = (
    "anger", "disgust", "fear", "sadness", "neutral", "amusement", "inspiration", "joy", "tenderness",
)
#: 9-class id of video ``vid`` is ``FACED_LABELS[vid - 1]`` (vids 1-12 negative, 13-16 neutral, 17-28 positive).
FACED_LABELS: np.ndarray = np.repeat(np.arange(9), [3, 3, 3, 3, 4, 3, 3, 3, 3])
#: Video clips per subject (video index 1..28).
N_CLIPS = 28
#: Sampling rate of the processed signals, Hz.
FACED_SFREQ = 250.0

#: The 32 FACED electrodes in file order (FACED README; torcheeg ``FACED_CHANNEL_LIST``). 30, 31 are mastoids.
FACED_CHANNELS: tuple[str, ...] = tuple(
    "Fp1 Fp2 Fz F3 F4 F7 F8 FC1 FC2 FC5 FC6 Cz C3 C4 T7 T8 CP1 CP2 CP5 CP6 Pz P3 P4 P7 P8 PO3 PO4 Oz O1 O2 "
    "A2 A1".split()
)
#: How many of :data:`FACED_CHANNELS` are EEG (the first 30; the mastoids are dropped).
N_EEG_CHANNELS = 30
#: The 30 EEG channels (mastoids dropped): ``X[:, :N_EEG_CHANNELS]``.
FACED_EEG_CHANNELS: tuple[str, ...] = FACED_CHANNELS[:N_EEG_CHANNELS]

#: FACED's five bands (name, low Hz, high Hz), in the order of the DE files' last axis.
FACED_BANDS: tuple[tuple[str, float, float], ...] = (
    ("delta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 14.0),
    ("beta", 14.0, 30.0),
    ("gamma", 30.0, 47.0),
)

#: The 12 self-report items of ``After_remarks.mat`` (``score`` order).
RATING_NAMES: tuple[str, ...] = (
    "Joy", "Tenderness", "Inspiration", "Amusement", "Anger", "Disgust", "Fear", "Sadness",
    "Arousal", "Valence", "Familiarity", "Liking",
)
VALENCE_INDEX = 9


#: Clip folds of the cross-stimulus protocol: FACED has three clips per category (four neutral).
N_CLIP_FOLDS = 3


def clip_folds(labels, clip_ids=None, n_folds: int = N_CLIP_FOLDS) -> list[list[int]]:
    """The clip folds of the cross-stimulus protocol: fold ``j`` holds the ``j``-th clip of every category.

    A category's clips are taken in video-index order; clip ``j`` of a category goes to fold ``j mod n_folds``, so a
    fourth clip (FACED's neutral clip 16) joins fold 0. On FACED: fold 0 = videos 1 4 7 10 13 16 17 20 23 26,
    fold 1 = 2 5 8 11 14 18 21 24 27, fold 2 = 3 6 9 12 15 19 22 25 28. Holding out one fold tests every category on
    a clip the decoder never saw (held-out clips of a category always exist in its training clips too).

    Parameters
    ----------
    labels : array-like, shape (n_clips,)
        9-class id of every clip.
    clip_ids : array-like, shape (n_clips,), optional
        Video index of every clip (default ``1..n_clips``).
    n_folds : int
        Clip folds; every category needs at least ``n_folds`` clips.

    Returns
    -------
    list of list of int
        ``n_folds`` sorted lists of clip ids, disjoint and covering every clip.
    """
    labels = np.asarray(labels)
    ids = np.arange(1, len(labels) + 1) if clip_ids is None else np.asarray(clip_ids)
    if ids.shape != labels.shape:
        raise ValueError(f"clip_ids {ids.shape} and labels {labels.shape} differ in shape")
    if int(n_folds) < 2:
        raise ValueError(f"n_folds must be >= 2, got {n_folds}")
    folds: list[list[int]] = [[] for _ in range(int(n_folds))]
    for c in np.unique(labels):
        vids = np.sort(ids[labels == c])
        if len(vids) < n_folds:
            raise ValueError(f"category {int(c)} has {len(vids)} clips: the cross-stimulus protocol needs at least "
                             f"{n_folds} per category (one per clip fold)")
        for j, v in enumerate(vids):
            folds[j % int(n_folds)].append(int(v))
    return [sorted(f) for f in folds]
