"""Reference texts and per-dimension standardisation of hidden states (the robust V-axis, issue #16).

Causal LMs carry a few *massive activations*: at gemma-3-270m's chosen layer five hidden dimensions held 99 % of
the variance across texts (one with SD 922 against a median of 17). A mean-difference axis fitted on nine sentences
in that raw space is dominated by those dimensions, whatever they encode. So every V-axis is fitted, and every
text projected, after standardising each hidden dimension with statistics from a fixed, **unlabelled reference
text set** shipped with the package (``vaxis/data/reference_texts.txt``):

.. math:: z = (h - \\mu_{ref}) / s_{ref}, \\qquad s_{ref} = \\max(\\mathrm{SD}_{ref},\\ \\epsilon\\,
   \\mathrm{median}_d\\,\\mathrm{SD}_{ref})

with :math:`\\epsilon` = :data:`SCALE_FLOOR` (a dimension that never varies in the reference would otherwise be
divided by zero). The reference set: 185 everyday texts written for this project (sentences of 2-30 words,
questions, informal posts, 44 passages of 2-4 sentences; neutral, mildly positive and mildly negative), none taken
from a benchmark (a test checks). No label of any kind is read: the statistics are the same for every rule, every
benchmark and every chapter, and they are saved with the :class:`vaxis.text.axis.VAxis` that uses them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from vaxis.text import llm

__all__ = ["REFERENCE_PATH", "SCALE_FLOOR", "reference_texts", "scale_stats", "standardize", "reference_hidden",
           "dimension_spread", "spread_table"]

REFERENCE_PATH = Path(__file__).resolve().parents[1] / "data" / "reference_texts.txt"
#: Per-dimension SDs are floored at this fraction of the layer's median SD.
SCALE_FLOOR = 1e-3


@lru_cache(maxsize=1)
def _texts() -> tuple[str, ...]:
    lines = [ln.strip() for ln in REFERENCE_PATH.read_text(encoding="utf-8").splitlines()]
    return tuple(ln for ln in lines if ln)


def reference_texts() -> list[str]:
    """The reference texts (one per line of ``vaxis/data/reference_texts.txt``), in file order."""
    return list(_texts())


def scale_stats(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and floored SD of reference hidden states.

    Parameters
    ----------
    reference : ndarray, shape (n_ref, hidden) or (n_layers, n_ref, hidden)

    Returns
    -------
    mean, scale : ndarray, each shape (hidden,) or (n_layers, hidden)
    """
    r = np.asarray(reference, dtype=np.float64)
    if r.ndim not in (2, 3) or r.shape[-2] < 2:
        raise ValueError(f"reference must have shape (n_ref >= 2, hidden) or (n_layers, n_ref, hidden), got {r.shape}")
    if not np.isfinite(r).all():
        raise ValueError("reference hidden states contain NaN or inf")
    mean, sd = r.mean(-2), r.std(-2)
    floor = SCALE_FLOOR * np.median(sd, axis=-1, keepdims=True)
    return mean, np.maximum(sd, np.maximum(floor, np.finfo(float).tiny))


def standardize(hidden: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``(hidden - mean) / scale`` with the reference's :func:`scale_stats`, layer by layer.

    Parameters
    ----------
    hidden : ndarray, shape (n_texts, hidden) or (n_layers, n_texts, hidden)
    reference : ndarray, the same layout as ``hidden`` with ``n_ref`` rows (``n_layers`` must match)
    """
    h = np.asarray(hidden, dtype=np.float64)
    if h.ndim != np.ndim(reference) or h.shape[-1] != np.shape(reference)[-1] or (
            h.ndim == 3 and h.shape[0] != np.shape(reference)[0]):
        raise ValueError(f"hidden {h.shape} and reference {np.shape(reference)} must share layers and hidden size")
    mean, scale = scale_stats(reference)
    return (h - mean[..., None, :]) / scale[..., None, :]


def reference_hidden(model, pooling: str | None = None, batch_size: int | None = None, max_length: int = 256,
                     cache_dir: str | os.PathLike | None = None) -> np.ndarray:
    """All-layer hidden states of the reference texts, shape (n_layers + 1, n_ref, hidden), cached.

    Chapters 1-3 call this with the same arguments, so the forward pass runs once per model and pooling.
    """
    return llm.extract(model, reference_texts(), layers=None, pooling=pooling, batch_size=batch_size,
                       max_length=max_length, cache_dir=cache_dir, progress=False)


def dimension_spread(reference: np.ndarray, top: int = 5) -> dict:
    """How much the largest dimensions dominate, before and after standardisation, at one layer.

    Parameters
    ----------
    reference : ndarray, shape (n_ref, hidden)
        The reference texts' states at one layer (the spread is measured on them).
    top : int
        How many of the largest-SD dimensions to name.

    Returns
    -------
    dict with ``sd_raw`` (hidden,) per-dimension SD; ``sd_median``, ``sd_max``; ``top_dims`` (indices, largest SD
    first) and ``top_sd``; ``top_share_raw`` (share of the total variance in those ``top`` dimensions) and
    ``top_share_std`` (the same share after standardisation: ``top / hidden`` up to the floor).
    """
    r = np.asarray(reference, dtype=np.float64)
    sd = r.std(0)
    order = np.argsort(sd)[::-1][:top]
    var = sd**2
    z = standardize(r, r)
    zvar = z.var(0)
    return {"sd_raw": sd, "sd_median": float(np.median(sd)), "sd_max": float(sd.max()),
            "top_dims": order.astype(int), "top_sd": sd[order],
            "top_share_raw": float(var[order].sum() / var.sum()),
            "top_share_std": float(zvar[order].sum() / zvar.sum())}


def spread_table(spreads: dict[str, dict]) -> pd.DataFrame:
    """One row per model from :func:`dimension_spread` results (``{label: spread}``), for chapter 1."""
    return pd.DataFrame([{"model": k, "median SD": s["sd_median"], "max SD": s["sd_max"],
                          "max / median": s["sd_max"] / s["sd_median"],
                          f"top-{len(s['top_dims'])} dims": ", ".join(str(int(d)) for d in s["top_dims"]),
                          "variance share of top dims, raw": s["top_share_raw"],
                          "... standardised": s["top_share_std"]} for k, s in spreads.items()])
