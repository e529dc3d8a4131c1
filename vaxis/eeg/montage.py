"""FACED channel lists (from :mod:`vaxis.eeg.faced`, re-exported), MNE ``Info`` with the standard 10-20 montage,
and per-band topomaps."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from vaxis.eeg.faced import FACED_BANDS, FACED_CHANNELS, FACED_EEG_CHANNELS

__all__ = [
    "FACED_CHANNELS",
    "FACED_EEG_CHANNELS",
    "FACED_BANDS",
    "SEEDV_BANDS",
    "faced_info",
    "channel_positions",
    "plot_topomap_bands",
]

#: SEED / SEED-V bands (same names; gamma up to 50 Hz).
SEEDV_BANDS: tuple[tuple[str, float, float], ...] = (
    ("delta", 1.0, 4.0),
    ("theta", 4.0, 8.0),
    ("alpha", 8.0, 14.0),
    ("beta", 14.0, 31.0),
    ("gamma", 31.0, 50.0),
)


def _standard_montage():
    import mne

    with warnings.catch_warnings():  # 'standard_1020' is renamed in later MNE releases
        warnings.simplefilter("ignore", FutureWarning)
        return mne.channels.make_standard_montage("standard_1020")


def faced_info(ch_names: Sequence[str] = FACED_EEG_CHANNELS, sfreq: float = 250.0):
    """MNE ``Info`` (EEG channel types) with the standard 10-20 montage set.

    Parameters
    ----------
    ch_names : sequence of str
        Channel names (default: the 30 FACED EEG channels; mastoids A1/A2 are also in the montage).
    sfreq : float
        Sampling frequency in Hz.
    """
    import mne

    info = mne.create_info(list(ch_names), sfreq=sfreq, ch_types="eeg")
    info.set_montage(_standard_montage(), on_missing="raise")
    return info


def channel_positions(ch_names: Sequence[str] = FACED_CHANNELS) -> np.ndarray:
    """3-D head positions in metres from the standard 10-20 montage, shape (n_chans, 3)."""
    pos = _standard_montage().get_positions()["ch_pos"]
    missing = [c for c in ch_names if c not in pos]
    if missing:
        raise KeyError(f"channels not in standard_1020: {missing}")
    return np.array([pos[c] for c in ch_names], dtype=float)


def plot_topomap_bands(
    weights: np.ndarray,
    ch_names: Sequence[str] = FACED_EEG_CHANNELS,
    bands: Sequence[tuple[str, float, float]] = FACED_BANDS,
    title: str = "",
    unit: str = "weight (a.u.)",
    cmap: str = "RdBu_r",
    vlim: float | None = None,
):
    """One topomap per band with a shared, symmetric colour scale and one colour bar.

    Parameters
    ----------
    weights : ndarray, shape (n_chans, n_bands)
        Value per channel and band (e.g. a linear map's weights).
    ch_names : sequence of str, length n_chans
    bands : sequence of (name, lo, hi), length n_bands
    title : str
        Figure title (callers add the data-source tag, see :func:`vaxis.publish.plots.titled`).
    unit : str
        Colour-bar label.
    vlim : float, optional
        Colour limit; default the maximum absolute weight.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt
    import mne

    w = np.asarray(weights, dtype=float)
    if w.shape != (len(ch_names), len(bands)):
        raise ValueError(f"weights must have shape (n_chans={len(ch_names)}, n_bands={len(bands)}), got {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weights contain NaN or Inf")
    info = faced_info(ch_names)
    lim = float(vlim if vlim is not None else (np.abs(w).max() or 1.0))
    fig, axes = plt.subplots(1, len(bands), figsize=(2.4 * len(bands) + 1.0, 2.9))
    axes = np.atleast_1d(axes)
    im = None
    for b, (name, lo, hi) in enumerate(bands):
        im, _ = mne.viz.plot_topomap(w[:, b], info, axes=axes[b], show=False, cmap=cmap, vlim=(-lim, lim),
                                     contours=0, sensors=True)
        axes[b].set_title(f"{name} {lo:g}-{hi:g} Hz", fontsize=10)
    cbar = fig.colorbar(im, ax=list(axes), shrink=0.8, pad=0.02)
    cbar.set_label(unit)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
