"""FACED readers (DE / PSD features, processed 250 Hz data, self-report ratings), validated and cached.

Every format detail follows ``shared/data/faced/README.md``: ``EEG_Features/{DE,PSD}/subNNN.pkl.pkl`` hold
float64 (28, 32, 30, 5) arrays with axis 0 sorted by video index 1..28; ``Processed_data/subNNN.pkl`` hold
(28, 32, 7500) signals at 250 Hz; ``After_remarks/subNNN/After_remarks.mat`` hold 28 structs in presentation
order, joined to the clips by ``vid``. Pickles are read with the restricted unpickler
(:mod:`vaxis.eeg.safepickle`). SEED-V readers (:func:`load_seedv`) sit at the end of this module.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vaxis.eeg.faced import (
    FACED_BANDS,
    FACED_CATEGORIES,
    FACED_CHANNELS,
    FACED_EEG_CHANNELS,
    FACED_LABELS,
    FACED_SFREQ,
    N_CLIPS,
    RATING_NAMES,
    VALENCE_INDEX,
)
from vaxis.eeg.safepickle import safe_load
from vaxis.eeg.synthetic import make_faced

__all__ = [
    "FACED_CATEGORIES",
    "FACED_LABELS",
    "RATING_NAMES",
    "EEGData",
    "load_faced",
    "load_ratings",
    "resolve_faced_dir",
    "data_check",
    "SYNTHETIC_SEED",
]

SFREQ = FACED_SFREQ
SYNTHETIC_SEED = 20240417
SYNTHETIC_SUBJECTS = 20
_KIND_SHAPE = {"de": (28, 32, 30, 5), "psd": (28, 32, 30, 5), "processed": (28, 32, 7500)}
_SUB_RE = re.compile(r"^(sub\d{3})\.pkl(\.pkl)?$")


@dataclasses.dataclass(frozen=True)
class EEGData:
    """A validated FACED-style cohort.

    Attributes
    ----------
    x : ndarray, float32, shape (n_subjects, n_clips, n_chans, n_windows, n_bands) for ``de``/``psd``,
        (n_subjects, n_clips, n_chans, n_times) for ``processed``
    kind : str
    subject_ids : list of str
    clip_ids : ndarray, shape (n_clips,), video index 1..28
    labels : ndarray, shape (n_clips,), 9-class id (anger 0 ... tenderness 8)
    categories : tuple of 9 str
    ch_names : tuple of str, length n_chans
    bands : tuple of (name, lo, hi)
    sfreq : float
    ratings : ndarray, shape (n_subjects, n_clips, 12), joined by ``vid``; or None
    rating_names : tuple of 12 str
    source : {"faced", "seedv", "synthetic"}
    data_dir : Path
    pipeline : dict or None
        ``{"normalisation", "smoothing"}`` once :func:`vaxis.eeg.pipeline.apply_pipeline` has transformed ``x``;
        None for the features as read.
    """

    x: np.ndarray
    kind: str
    subject_ids: list[str]
    clip_ids: np.ndarray
    labels: np.ndarray
    categories: tuple[str, ...] = FACED_CATEGORIES
    ch_names: tuple[str, ...] = FACED_EEG_CHANNELS
    bands: tuple[tuple[str, float, float], ...] = FACED_BANDS
    sfreq: float = SFREQ
    ratings: np.ndarray | None = None
    rating_names: tuple[str, ...] = RATING_NAMES
    source: str = "faced"
    data_dir: Path | None = None
    pipeline: dict | None = None

    @property
    def n_subjects(self) -> int:
        return len(self.subject_ids)

    def valence(self) -> np.ndarray:
        """Self-reported valence (0 very negative .. 7 very positive), shape (n_subjects, n_clips)."""
        if self.ratings is None:
            raise ValueError(f"no ratings were loaded from {self.data_dir} (After_remarks/ missing)")
        return self.ratings[..., VALENCE_INDEX]

    def subset(self, subject_ids: Sequence[str]) -> EEGData:
        """The same cohort restricted to ``subject_ids`` (in that order); unknown ids raise ``KeyError``."""
        pos = {s: i for i, s in enumerate(self.subject_ids)}
        missing = [s for s in subject_ids if s not in pos]
        if missing:
            raise KeyError(f"subjects not in this cohort: {missing}")
        idx = np.array([pos[s] for s in subject_ids], dtype=int)
        ratings = None if self.ratings is None else self.ratings[idx]
        return dataclasses.replace(self, x=self.x[idx], subject_ids=list(subject_ids), ratings=ratings)

    def windows(self, task: str = "9class") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flatten windows into samples.

        Parameters
        ----------
        task : {"9class", "binary"}
            ``binary`` drops the 4 neutral clips; labels become negative 0 / positive 1.

        Returns
        -------
        X : ndarray, shape (n_samples, n_chans, n_bands)
        y : ndarray, shape (n_samples,)
        subject : ndarray, shape (n_samples,), index into ``subject_ids``
        clip : ndarray, shape (n_samples,), index into the clip axis
        """
        if self.x.ndim != 5:
            raise ValueError(f"windows() needs band features (kind 'de'/'psd'), this is kind {self.kind!r}")
        s, c, ch, w, b = self.x.shape
        keep = np.arange(c)
        y_clip = self.labels.copy()
        if task == "binary":
            keep = np.flatnonzero(self.labels != 4)
            y_clip = (self.labels > 4).astype(int)
        elif task != "9class":
            raise ValueError(f"task must be '9class' or 'binary', got {task!r}")
        X = self.x[:, keep].transpose(0, 1, 3, 2, 4).reshape(-1, ch, b)
        subj, clip, _ = np.meshgrid(np.arange(s), keep, np.arange(w), indexing="ij")
        return X, y_clip[clip.ravel()], subj.ravel(), clip.ravel()


def resolve_faced_dir(data_dir: str | os.PathLike | None = None,
                      cache_dir: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Where FACED data come from: ``data_dir``, else ``$VAXIS_FACED_DIR``, else a cached synthetic cohort.

    Returns
    -------
    path : Path
    source : {"faced", "synthetic"}
        ``synthetic`` when the folder was generated by :func:`vaxis.eeg.synthetic.make_faced` (it holds a
        README.txt starting with SYNTHETIC).
    """
    chosen = data_dir or os.environ.get("VAXIS_FACED_DIR")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(f"FACED folder {path} does not exist")
        readme = path / "README.txt"
        synthetic = readme.is_file() and readme.read_text(errors="ignore").startswith("SYNTHETIC")
        return path, "synthetic" if synthetic else "faced"
    from vaxis.runs.cache import cache_root

    path = cache_root(cache_dir) / "synthetic" / f"faced_seed{SYNTHETIC_SEED}_n{SYNTHETIC_SUBJECTS}"
    if not (path / ".complete").is_file():
        _make_synthetic_once(path, make_faced)
    return path, "synthetic"


def _make_synthetic_once(path: Path, make_faced) -> None:
    """Write the synthetic cohort into a private temporary folder, then rename it into place: a reader never sees a
    half-written cohort, and of two processes generating it at once the second finds the first's (or its own)."""
    import shutil
    import uuid

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not (path / ".complete").is_file():   # left by an interrupted older version
        shutil.rmtree(path, ignore_errors=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        make_faced(tmp, n_subjects=SYNTHETIC_SUBJECTS, seed=SYNTHETIC_SEED, kinds=("de", "ratings"))
        (tmp / ".complete").write_text("ok\n")
        try:
            os.rename(tmp, path)
        except OSError:                                # another process put its complete copy there first
            if not (path / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _subject_files(folder: Path, kind: str) -> dict[str, Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: folder for kind {kind!r} not found")
    out = {}
    for p in sorted(folder.iterdir()):
        m = _SUB_RE.match(p.name)
        if m:
            out[m.group(1)] = p
    if not out:
        raise FileNotFoundError(f"{folder}: no subNNN.pkl(.pkl) files for kind {kind!r}")
    return out


def _read_array(path: Path, expected: tuple[int, ...]) -> np.ndarray:
    arr = safe_load(path)
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{path}: expected a numpy array of shape {expected}, found {type(arr).__name__}")
    if arr.shape != expected:
        raise ValueError(f"{path}: expected shape {expected}, found {arr.shape}")
    if not np.issubdtype(arr.dtype, np.floating):
        raise ValueError(f"{path}: expected a float array, found dtype {arr.dtype}")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{path}: {int(bad.sum())} non-finite values (NaN/Inf), first at index {first}")
    big = float(np.max(np.abs(arr))) if arr.size else 0.0
    if big > float(np.finfo(np.float32).max):  # finite in float64, Inf once stored as float32
        raise ValueError(f"{path}: values beyond the float32 range (max |x| {big:.3g}); expected DE/PSD/uV data")
    return arr


def load_ratings(data_dir: str | os.PathLike, subject_ids: Sequence[str]) -> np.ndarray:
    """Self-reports joined to clips by ``vid``.

    Returns
    -------
    ndarray, shape (n_subjects, 28, 12), float32; row ``c`` is video ``c + 1``.
    """
    import scipy.io as sio

    root = Path(data_dir) / "After_remarks"
    missing = [s for s in subject_ids if not (root / s / "After_remarks.mat").is_file()]
    if missing:
        raise FileNotFoundError(f"{root}: After_remarks.mat missing for subjects {missing}")
    out = np.empty((len(subject_ids), N_CLIPS, len(RATING_NAMES)), dtype=np.float32)
    for i, s in enumerate(subject_ids):
        p = root / s / "After_remarks.mat"
        try:
            recs = np.atleast_1d(sio.loadmat(p, squeeze_me=True, struct_as_record=False)["After_remark"])
        except Exception as err:  # scipy raises several types on truncated files
            raise ValueError(f"{p}: unreadable or truncated MATLAB file: {type(err).__name__}: {err}") from err
        if recs.shape != (N_CLIPS,):
            raise ValueError(f"{p}: expected 28 After_remark structs, found {recs.shape}")
        try:
            vids = np.array([int(r.vid) for r in recs])
            scores = [np.asarray(r.score, dtype=float).ravel() for r in recs]
        except (AttributeError, TypeError, ValueError) as err:
            raise ValueError(f"{p}: expected After_remark structs with numeric fields 'vid' and 'score', "
                             f"found {type(recs[0]).__name__}: {type(err).__name__}: {err}") from err
        if sorted(vids.tolist()) != list(range(1, N_CLIPS + 1)):
            raise ValueError(f"{p}: vid must cover 1..28 once each, found {sorted(vids.tolist())}")
        for score, v in zip(scores, vids):
            if score.shape != (len(RATING_NAMES),) or not np.all(np.isfinite(score)):
                raise ValueError(f"{p}: vid {v}: expected 12 finite scores, found {score}")
            out[i, v - 1] = score
    return out


def _load_stack(files: dict[str, Path], subject_ids: list[str], kind: str) -> np.ndarray:
    expected = _KIND_SHAPE[kind]
    x = np.empty((len(subject_ids),) + expected, dtype=np.float32)
    for i, s in enumerate(subject_ids):
        x[i] = _read_array(files[s], expected)
    return x


def load_faced(data_dir: str | os.PathLike | None = None, kind: str = "de", subjects: Sequence[str] | None = None,
               drop_mastoids: bool = True, cache_dir: str | os.PathLike | None = None,
               use_cache: bool = True) -> EEGData:
    """Load a FACED folder (real or synthetic) into a validated :class:`EEGData`.

    Parameters
    ----------
    data_dir : path, optional
        Folder with ``EEG_Features/`` (and ``After_remarks/``, ``Processed_data/``); None -> :func:`resolve_faced_dir`.
    kind : {"de", "psd", "processed"}
    subjects : sequence of str, optional
        e.g. ``["sub000", "sub003"]``; default every subject in the folder. Missing subjects raise an error
        listing them.
    drop_mastoids : bool
        Keep the 30 EEG channels only (drop A2, A1).
    cache_dir : path, optional
        The float32 stack is cached under ``vaxis.runs.cache`` keyed by the files' SHA-256.

    Returns
    -------
    EEGData
    """
    from vaxis.runs.cache import cached_arrays, hash_file

    root, source = resolve_faced_dir(data_dir, cache_dir)
    folder = {"de": root / "EEG_Features" / "DE", "psd": root / "EEG_Features" / "PSD",
              "processed": root / "Processed_data"}.get(kind)
    if folder is None:
        raise ValueError(f"kind must be 'de', 'psd' or 'processed', got {kind!r}")
    if isinstance(subjects, (str, bytes)):
        raise TypeError(f"subjects must be a list of subject ids such as ['sub000'], got the string {subjects!r}")
    files = _subject_files(folder, kind)
    subject_ids = sorted(files) if subjects is None else list(subjects)
    missing = [s for s in subject_ids if s not in files]
    if missing:
        raise FileNotFoundError(f"{folder}: no {kind} file for subjects {missing} (found {len(files)} subjects)")
    if len(subject_ids) == 0:
        raise ValueError("subjects is empty")
    parts = {"kind": kind, "files": [(s, hash_file(files[s])) for s in subject_ids]}
    x = cached_arrays("faced", parts, lambda: {"x": _load_stack(files, subject_ids, kind)}, cache_dir=cache_dir,
                      use_cache=use_cache, code=("eeg/datasets", "eeg/safepickle"))["x"]
    if drop_mastoids:
        x = x[:, :, :30]
    ratings = None
    if (root / "After_remarks").is_dir():
        ratings = load_ratings(root, subject_ids)
    ch = FACED_EEG_CHANNELS if drop_mastoids else FACED_CHANNELS
    return EEGData(x=np.ascontiguousarray(x, dtype=np.float32), kind=kind, subject_ids=subject_ids,
                   clip_ids=np.arange(1, N_CLIPS + 1), labels=FACED_LABELS.copy(), ch_names=tuple(ch),
                   ratings=ratings, source=source, data_dir=root)


def data_check(data_dir: str | os.PathLike) -> str:
    """Validate a FACED folder and return a human-readable report (raises on the first hard error).

    Checks every DE / PSD / processed file (shape, dtype, finiteness), ratings coverage (vid 1..28 per
    subject), subjects with features but no ratings (and vice versa), and per-subject oddities (mean DE far
    from the cohort median).
    """
    root = Path(data_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder")
    lines = [f"FACED folder: {root}"]
    readme = root / "README.txt"
    if readme.is_file() and readme.read_text(errors="ignore").startswith("SYNTHETIC"):
        lines.append("source: SYNTHETIC (generated by vaxis.eeg.synthetic)")
    sets: dict[str, set[str]] = {}
    for kind, folder in (("de", root / "EEG_Features" / "DE"), ("psd", root / "EEG_Features" / "PSD"),
                         ("processed", root / "Processed_data")):
        if not folder.is_dir():
            lines.append(f"{kind}: absent ({folder})")
            continue
        files = _subject_files(folder, kind)
        means = {s: float(_read_array(p, _KIND_SHAPE[kind])[:, :30].mean()) for s, p in files.items()}
        sets[kind] = set(files)
        lines.append(f"{kind}: {len(files)} subjects OK, shape {_KIND_SHAPE[kind]} ({min(files)}..{max(files)})")
        if kind == "de" and len(means) > 2:
            med = float(np.median(list(means.values())))
            odd = {s: round(m, 2) for s, m in means.items() if abs(m - med) > 1.0}
            lines.append(f"  median mean DE {med:.2f}; subjects > 1.0 away: {odd or 'none'}")
    rdir = root / "After_remarks"
    if rdir.is_dir():
        subs = sorted(p.name for p in rdir.iterdir() if (p / "After_remarks.mat").is_file())
        if subs:  # an After_remarks/ without any subNNN/After_remarks.mat is no data (not "0 subjects OK")
            ratings = load_ratings(root, subs)
            val = ratings[..., VALENCE_INDEX]
            neg, pos = val[:, FACED_LABELS < 4].mean(), val[:, FACED_LABELS > 4].mean()
            lines.append(f"ratings: {len(subs)} subjects OK; mean valence negative {neg:.2f}, positive {pos:.2f}")
            sets["ratings"] = set(subs)
        else:
            lines.append("ratings: none (After_remarks/ holds no <subject>/After_remarks.mat)")
    else:
        lines.append("ratings: absent (After_remarks/)")
    if "de" in sets and "ratings" in sets:
        a, b = sorted(sets["de"] - sets["ratings"]), sorted(sets["ratings"] - sets["de"])
        lines.append(f"DE without ratings: {a or 'none'}; ratings without DE: {b or 'none'}")
    if not sets:
        raise FileNotFoundError(f"{root}: no FACED data (EEG_Features/, Processed_data/, After_remarks/) found")
    return "\n".join(lines)
