"""Fold designs of every EEG protocol: subject-disjoint folds, manifests, and the cross-stimulus clip crossing.

A manifest is a list of folds ``{fold, repeat, fold_in_repeat, train, val, test}`` (subject id strings); under the
cross-stimulus protocol each fold also names its held-out ``test_clips``. :func:`fold_indices` turns a fold into
sample indices and raises :class:`LeakageError` (never ``assert``) when a training or validation sample comes from a
test subject or a test clip. The trainers (:mod:`vaxis.decoding.training`), the SVM baseline and the claims' fold
jobs all build their folds here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vaxis.decoding.training_data import DataView
from vaxis.eeg.faced import FACED_LABELS, clip_folds

__all__ = ["STIMULUS", "FoldDesign", "protocol_name", "subject_folds", "index_folds", "LeakageError", "make_manifest",
           "save_manifest", "clip_labels", "fold_indices"]

#: What a test unit has not seen: ``"seen"`` = held-out subjects watching the training clips (cross-subject);
#: ``"unseen"`` = held-out subjects watching held-out clips (cross-stimulus). Results name it by
#: :func:`protocol_name`.
STIMULUS = {"seen": "cross-subject", "unseen": "cross-stimulus"}


def protocol_name(stimulus: str) -> str:
    """The results' ``protocol`` field for a ``stimulus`` setting: ``"cross-subject"`` or ``"cross-stimulus"``."""
    if stimulus not in STIMULUS:
        raise ValueError(f"stimulus must be one of {sorted(STIMULUS)}, got {stimulus!r}")
    return STIMULUS[stimulus]


def subject_folds(subject_ids: Sequence[str], k: int = 10, seed: int = 0, shuffle: bool = False) -> list[dict]:
    """Split subjects into ``k`` disjoint test folds covering every subject once.

    Contiguous blocks of the sorted subject list by default (``shuffle=False``), else a seeded shuffle.

    Returns
    -------
    list of dict
        ``{"fold": i, "train": [...], "test": [...]}`` with subject id strings.
    """
    subs = np.array(sorted(set(map(str, subject_ids))))
    if not 2 <= k <= len(subs):
        raise ValueError(f"k must be in [2, {len(subs)}], got {k}")
    order = np.random.default_rng(seed).permutation(len(subs)) if shuffle else np.arange(len(subs))
    blocks = np.array_split(subs[order], k)
    folds = [{"fold": i, "train": sorted(set(subs) - set(b)), "test": sorted(b.tolist())} for i, b in enumerate(blocks)]
    _check_disjoint(folds, subs)
    return folds


def index_folds(n_subjects: int, n_folds: int = 10) -> list[np.ndarray]:
    """Contiguous subject-disjoint folds of subject *indices* ``0..n_subjects-1`` (held-out indices per fold),
    ``min(n_folds, n_subjects)`` of them: the blocks :func:`subject_folds` cuts from a sorted id list.

    Returns
    -------
    list of ndarray, each shape (n_test,), int
    """
    k = min(n_folds, n_subjects)
    if k < 2:
        raise ValueError(f"need at least 2 subjects for cross-subject folds, got {n_subjects}")
    return list(np.array_split(np.arange(n_subjects), k))


class LeakageError(ValueError):
    """A split puts a subject in two of train / validation / test, or in two test folds of one repeat."""


def _check_disjoint(folds: list[dict], subs: np.ndarray) -> None:
    """Raise :class:`LeakageError` (never ``assert``: ``python -O`` must not remove it) on any overlap."""
    seen: dict[tuple[int, int], set[str]] = {}
    for f in folds:
        parts = [set(map(str, f.get(p, []))) for p in ("train", "val", "test")]
        for (a, b), name in zip(((0, 1), (0, 2), (1, 2)), ("train/val", "train/test", "val/test")):
            both = parts[a] & parts[b]
            if both:
                raise LeakageError(f"fold {f['fold']}: subjects {sorted(both)[:5]} are in {name}")
        rep = seen.setdefault((int(f.get("repeat", 0)), int(f.get("clip_fold", 0))), set())
        twice = rep & parts[2]
        if twice:
            raise LeakageError(f"fold {f['fold']}: subjects {sorted(twice)[:5]} are in two test folds of repeat "
                               f"{f.get('repeat', 0)}" + (f", clip fold {f['clip_fold']}" if "clip_fold" in f else ""))
        rep |= parts[2]


def make_manifest(subject_ids: Sequence[str], protocol: str = "kfold", k: int = 10, seed: int = 0,
                  shuffle: bool = False, val_fraction: float = 0.1, splits: dict | None = None,
                  repeats: int = 1, stimulus: str = "seen", labels: Sequence[int] | None = None,
                  clip_ids: Sequence[int] | None = None) -> list[dict]:
    """Folds with a validation split carved from each fold's training subjects only.

    ``protocol="kfold"``: :func:`subject_folds`, ``repeats`` times. Repeat 0 is the plain k-fold split
    (contiguous unless ``shuffle``); repeat ``r >= 1`` re-draws the folds with a seeded shuffle
    (seed ``seed + 1000 r``). Entries carry ``fold`` (a global index ``r * k + i``, the position in the
    manifest), ``repeat`` and ``fold_in_repeat``. Folds of different repeats share subjects and are not
    independent: a paired test over them must correct for it (:func:`vaxis.stats.corrected_resampled_ttest`).
    ``protocol="fixed"``: one fold from ``splits = {"train": [...], "val": [...], "test": [...]}``; without
    ``splits`` and with all 123 FACED subjects present the default is sub000-079 / sub080-099 / sub100-122 (the
    CBraMod protocol).

    ``stimulus="unseen"`` (the cross-stimulus protocol) crosses every subject fold with the clip folds of
    :func:`vaxis.eeg.faced.clip_folds` (``labels`` / ``clip_ids`` of the clips, default FACED's 28): each entry gains
    ``test_clips`` (the held-out clip ids: never trained or validated on, the only ones tested), ``clip_fold`` and
    ``subject_fold``; ``fold`` stays the global position. A test unit is then a held-out subject watching a
    held-out clip, and every subject x clip is tested once per repeat.

    Raises :class:`LeakageError` if a subject ends up in two of train / val / test, or in two test folds of one
    repeat (and clip fold).
    """
    protocol_name(stimulus)
    subs = sorted(set(map(str, subject_ids)))
    if int(repeats) < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if protocol == "fixed":
        if int(repeats) != 1:
            raise ValueError("protocol='fixed' is one split: repeats must be 1 (use more seeds instead)")
        if splits is None:
            full = [f"sub{i:03d}" for i in range(123)]
            if subs != full:
                raise ValueError("protocol='fixed' needs splits={'train','val','test'} unless all 123 FACED "
                                 f"subjects are present (found {len(subs)})")
            splits = {"train": full[:80], "val": full[80:100], "test": full[100:]}
        man = [{"fold": 0, "repeat": 0, "fold_in_repeat": 0,
                **{p: sorted(map(str, splits[p])) for p in ("train", "val", "test")}}]
    elif protocol == "kfold":
        man = []
        for r in range(int(repeats)):
            rng = np.random.default_rng(seed + 1 + 1000 * r)
            folds = subject_folds(subs, k=k, seed=seed + 1000 * r, shuffle=shuffle or r > 0)
            for f in folds:
                tr = np.array(f["train"])
                n_val = max(1, int(round(val_fraction * len(tr)))) if val_fraction > 0 else 0
                val = sorted(rng.choice(tr, n_val, replace=False).tolist()) if n_val else []
                man.append({"fold": r * k + f["fold"], "repeat": r, "fold_in_repeat": f["fold"],
                            "train": sorted(set(tr) - set(val)), "val": val, "test": f["test"]})
    else:
        raise ValueError(f"protocol must be 'kfold' or 'fixed', got {protocol!r}")
    if stimulus == "unseen":
        man = _cross_clips(man, FACED_LABELS if labels is None else labels, clip_ids)
    _check_disjoint(man, np.array(subs))
    return man


@dataclass(frozen=True)
class FoldDesign:
    """One fold design, its defaults written here once: every job and entry point of chapters 4-8 holds one.

    Attributes
    ----------
    protocol : {"kfold", "fixed"}
        ``n_folds`` subject-disjoint folds (``repeats`` times), or the one split ``splits``.
    n_folds : int
        Subject folds per repeat (``protocol="kfold"``).
    repeats : int
        CV repeats: repeat ``r >= 1`` re-draws the folds (seed ``fold_seed + 1000 r``).
    splits : dict or None
        ``{"train", "val", "test"}`` subject ids (``protocol="fixed"``; None: FACED's CBraMod split).
    fold_seed : int
        Seed of the validation draw and of the re-drawn repeats.
    val_fraction : float
        Share of each fold's training subjects held out for validation.
    stimulus : {"seen", "unseen"}
        Cross-subject, or cross-stimulus (subject folds x clip folds).
    """

    protocol: str = "kfold"
    n_folds: int = 10
    repeats: int = 1
    splits: dict | None = None
    fold_seed: int = 0
    val_fraction: float = 0.1
    stimulus: str = "seen"

    def __post_init__(self) -> None:
        if self.protocol not in ("kfold", "fixed"):
            raise ValueError(f"protocol must be 'kfold' or 'fixed', got {self.protocol!r}")
        protocol_name(self.stimulus)
        if int(self.n_folds) < 2 or int(self.repeats) < 1:
            raise ValueError(f"need n_folds >= 2 and repeats >= 1, got {self.n_folds} and {self.repeats}")
        if not 0 <= float(self.val_fraction) < 1:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")

    def manifest(self, subject_ids: Sequence[str], labels: Sequence[int] | None = None,
                 clip_ids: Sequence[int] | None = None) -> list[dict]:
        """Every fold of this design for a cohort (:func:`make_manifest`); ``labels`` / ``clip_ids`` of the clips
        (cross-stimulus; default FACED's 28)."""
        extra = {} if self.stimulus == "seen" else {"labels": None if labels is None else list(map(int, labels)),
                                                    "clip_ids": None if clip_ids is None else list(map(int, clip_ids))}
        return make_manifest(subject_ids, self.protocol, k=self.n_folds, seed=self.fold_seed,
                             val_fraction=self.val_fraction, splits=self.splits, repeats=self.repeats,
                             stimulus=self.stimulus, **extra)


def _cross_clips(man: list[dict], labels, clip_ids) -> list[dict]:
    """Every subject fold x every clip fold, renumbered in manifest order (repeat, subject fold, clip fold)."""
    cfs = clip_folds(labels, clip_ids)
    out = []
    for f in man:
        for c, clips in enumerate(cfs):
            out.append({**f, "fold": len(out), "subject_fold": int(f["fold_in_repeat"]), "clip_fold": c,
                        "test_clips": list(clips)})
    return out


def clip_labels(view: DataView) -> tuple[list[int], list[int]]:
    """The 9-class id of every clip in ``view`` and the clip ids, sorted by clip id (for :func:`make_manifest`)."""
    first = np.unique(view.clips, return_index=True)[1]
    table = dict(zip(view.clips[first].tolist(), view.category[first].tolist()))
    cids = sorted(table)
    return [int(table[c]) for c in cids], [int(c) for c in cids]


def fold_indices(fold: dict, groups: np.ndarray, clips: np.ndarray, subject_pos: dict[str, int]
                 ) -> dict[str, np.ndarray]:
    """Sample indices of a fold's ``train`` / ``val`` / ``test`` parts.

    Subjects decide the part; a fold with ``test_clips`` (cross-stimulus) also keeps its held-out clips out of
    ``train`` and ``val`` and only those clips in ``test``. Raises :class:`LeakageError` if a training or
    validation sample comes from a test subject or a test clip.

    Parameters
    ----------
    groups, clips : ndarray, shape (n_samples,)
        Subject index (into the cohort's subject list) and clip id of every sample.
    subject_pos : dict
        Subject id -> subject index; ids absent from it are skipped.
    """
    held = np.asarray(fold.get("test_clips", []), dtype=np.int64)
    on_held = np.isin(clips, held) if held.size else np.zeros(len(clips), bool)
    out = {}
    for part in ("train", "val", "test"):
        ix = [subject_pos[s] for s in fold.get(part, []) if s in subject_pos]
        mask = np.isin(groups, ix)
        if held.size:
            mask &= on_held if part == "test" else ~on_held
        out[part] = np.flatnonzero(mask)
    test_subj = np.unique(groups[out["test"]])
    for part in ("train", "val"):
        if np.isin(groups[out[part]], test_subj).any():
            raise LeakageError(f"fold {fold.get('fold')}: a {part} sample comes from a test subject")
        if held.size and np.isin(clips[out[part]], held).any():
            raise LeakageError(f"fold {fold.get('fold')}: a {part} sample comes from a held-out test clip")
    return out


def save_manifest(manifest: list[dict], path: str | Path) -> Path:
    """Write the split manifest as JSON (saved beside every result)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=1))
    return path
