"""The one EEG input pipeline that every decoder and baseline of chapters 4-8 reads.

Default (:data:`DEFAULT`): **LDS smoothing restarted at every clip, then a per-subject z-score of the smoothed
features**. LDS smoothing (FACED's Kalman parameters, :func:`vaxis.eeg.normalise.lds_smooth`) runs on each clip's
30 windows on its own: no information crosses a clip boundary, where neighbouring clips share a category (the
leak of FACED's released code, PAPER.md). The per-subject z-score (per channel x band) uses each subject's own
smoothed windows (all clips, all windows; no labels): label-free but *transductive*, since a held-out subject's
own unlabelled recording sets its statistics, which is FACED's convention and that of most cross-subject
baselines.

Why this order. The LDS filter (initial state = the clip mean) is affine-equivariant per channel x band, so a
per-subject z-score *before* smoothing changes nothing once the smoothed features are z-scored per subject again:
"z-score, LDS, z-score" is exactly "LDS, z-score". "z-score, LDS" without the second z-score leaves the smoothed
features with a per-feature scale set by how much of their variance was within clips, and measurably costs the
decoders accuracy (DE-MLP validation-subject BA 0.354 vs 0.363 at the same settings on the 100 FACED subjects,
10 folds; chosen on validation subjects, never on test folds). The z-score therefore comes after smoothing, in
every pipeline.

Secondary pipelines: ``Pipeline("train-only")`` (LDS per clip on the raw DE; the trainer z-scores with
statistics of each fold's training subjects only) and ``Pipeline("none")`` (LDS only). ``smoothing="none"``
switches the smoothing off. Every result names its pipeline (:meth:`Pipeline.as_dict`).

:func:`apply_pipeline` computes the output once per data set and pipeline and caches it (keyed by the data's
fingerprint, the pipeline and the source of this module and the normalisation module), so chapters and their
fold jobs read the same arrays.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from vaxis.eeg.normalise import lds_smooth, normalise
from vaxis.runs.cache import cached_arrays, data_fingerprint

__all__ = ["Pipeline", "DEFAULT", "NORMALISATIONS", "SMOOTHINGS", "apply_pipeline", "as_pipeline"]

NORMALISATIONS = ("per-subject", "train-only", "none")
SMOOTHINGS = ("lds-clip", "none")
_NORM_TEXT = {"per-subject": "per-subject z-score (each subject's own unlabelled windows; transductive)",
              "train-only": "train-only z-score (training subjects' statistics, applied by the trainer)",
              "none": "no normalisation"}
_SMOOTH_TEXT = {"lds-clip": "LDS smoothing restarted at every clip", "none": "no smoothing"}


@dataclass(frozen=True)
class Pipeline:
    """An input pipeline: ``smoothing``, then ``normalisation``.

    Attributes
    ----------
    normalisation : {"per-subject", "train-only", "none"}
        ``per-subject`` is applied here; ``train-only`` is applied per fold by the trainer (the features it
        receives are smoothed only), so :attr:`trainer_normalisation` tells the trainer what is left to do.
    smoothing : {"lds-clip", "none"}
    """

    normalisation: str = "per-subject"
    smoothing: str = "lds-clip"

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(f"normalisation must be one of {NORMALISATIONS}, got {self.normalisation!r}")
        if self.smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {SMOOTHINGS}, got {self.smoothing!r}")

    @property
    def trainer_normalisation(self) -> str:
        """What a trainer still applies to this pipeline's output: ``"train-only"`` or ``"none"``."""
        return "train-only" if self.normalisation == "train-only" else "none"

    def as_dict(self) -> dict[str, str]:
        """``{"normalisation", "smoothing"}``: the results contract's ``pipeline`` field."""
        return {"normalisation": self.normalisation, "smoothing": self.smoothing}

    def describe(self) -> str:
        """Human-readable, e.g. ``'per-subject z-score (...) + LDS smoothing restarted at every clip'``."""
        return f"{_SMOOTH_TEXT[self.smoothing]}, then {_NORM_TEXT[self.normalisation]}"

    def transform(self, x: np.ndarray) -> np.ndarray:
        """Apply the pipeline to raw DE features.

        Parameters
        ----------
        x : ndarray, shape (n_subjects, n_clips, n_chans, n_windows, n_bands)

        Returns
        -------
        ndarray, float32, same shape. Each clip is smoothed on its own, then each subject is normalised with its
        own windows only (or not at all): the output of one clip depends on the other clips of its subject only
        through that subject's mean and SD, never through their order or labels.
        """
        x = np.asarray(x)
        if x.ndim != 5:
            raise ValueError(f"x must have shape (n_subjects, n_clips, n_chans, n_windows, n_bands), got {x.shape}")
        z = np.asarray(x, dtype=np.float64)
        if self.smoothing == "lds-clip":
            z = lds_smooth(z, time_axis=3, clip_axis=1, restart_at_clip=True)
        if self.normalisation == "per-subject":
            z = normalise(z, mode="per-subject")
        return np.ascontiguousarray(z, dtype=np.float32)


DEFAULT = Pipeline()


def as_pipeline(spec: Pipeline | Mapping | str | None) -> Pipeline:
    """A :class:`Pipeline` from a pipeline, a mapping (``{"normalisation", "smoothing"}``), a normalisation name
    (smoothing ``lds-clip``) or None (:data:`DEFAULT`)."""
    if spec is None:
        return DEFAULT
    if isinstance(spec, Pipeline):
        return spec
    if isinstance(spec, str):
        return Pipeline(normalisation=spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"normalisation", "smoothing"}
        if unknown:
            raise ValueError(f"pipeline keys are 'normalisation' and 'smoothing', got {sorted(unknown)}")
        return Pipeline(**spec)
    raise TypeError(f"cannot make a Pipeline from {type(spec).__name__}")


def apply_pipeline(eeg, pipeline: Pipeline | Mapping | str | None = None,
                   cache_dir: str | os.PathLike | None = None, use_cache: bool = True):
    """The cohort ``eeg`` (an :class:`~vaxis.eeg.datasets.EEGData` of DE features) with ``x`` replaced by the
    pipeline's output, cached; the returned cohort's ``pipeline`` attribute names it.

    Raises ``ValueError`` when ``eeg`` already went through a pipeline (it would be normalised twice).
    """
    p = as_pipeline(pipeline)
    if getattr(eeg, "pipeline", None) is not None:
        raise ValueError(f"this cohort already went through the pipeline {eeg.pipeline}; apply it to raw DE once")
    if getattr(eeg, "kind", "de") not in ("de", "psd"):
        raise ValueError(f"the pipeline reads band features (kind 'de' or 'psd'), got kind {eeg.kind!r}")
    parts = {"data": data_fingerprint(eeg.x, np.asarray(eeg.subject_ids)), **p.as_dict()}
    z = cached_arrays("pipeline", parts, lambda: {"x": p.transform(eeg.x)}, cache_dir=cache_dir,
                      use_cache=use_cache, code=("eeg/pipeline", "eeg/normalise"))["x"]
    return dataclasses.replace(eeg, x=np.ascontiguousarray(z, dtype=np.float32), pipeline=p.as_dict())
