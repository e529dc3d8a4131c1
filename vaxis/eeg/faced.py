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
