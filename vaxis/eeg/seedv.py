"""SEED-V readers: DE features (``EEG_DE_features/{sub}_123.npz``) and raw ``.cnt`` recordings.

SEED-V (BCMI lab) is licensed for academic use only; no copy exists in this project. The reader is tested on
files written in the same format by :func:`vaxis.eeg.synthetic.make_seedv`. Pickled objects inside the npz
files go through the restricted unpickler (:mod:`vaxis.eeg.safepickle`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["SEEDV_CATEGORIES", "SEEDV_SESSION_LABELS", "SEEDV_CHANNELS", "SeedVData", "load_seedv", "seedv_check"]

SEEDV_CATEGORIES: tuple[str, ...] = ("disgust", "fear", "sad", "neutral", "happy")
#: Per-session trial labels (15 trials each), as published in the SEED-V README (0 disgust, 1 fear, 2 sad,
#: 3 neutral, 4 happy). Sessions 2 and 3 share one list. The npz files carry their own per-window labels;
#: :func:`load_seedv` checks them against these lists.
SEEDV_SESSION_LABELS: tuple[tuple[int, ...], ...] = (
    (4, 1, 3, 2, 0, 4, 1, 3, 2, 0, 4, 1, 3, 2, 0),
    (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
    (2, 1, 3, 0, 4, 4, 0, 3, 2, 1, 3, 4, 1, 2, 0),
)
SEEDV_CHANNELS = 62
_SEEDV_RE = re.compile(r"^(\d+)_123\.npz$")


@dataclasses.dataclass(frozen=True)
class SeedVData:
    """SEED-V DE features with a variable number of 4-s windows per trial.

    Attributes
    ----------
    trials : list (n_subjects) of list (45) of ndarray, shape (n_windows_t, 62, 5), float32
    labels : ndarray, shape (45,), 5-class id per trial (sessions 1, 2, 3 in order)
    sessions : ndarray, shape (45,), 1..3
    subject_ids : list of str (file stems, e.g. "1")
    """

    trials: list
    labels: np.ndarray
    sessions: np.ndarray
    subject_ids: list[str]
    kind: str = "de"
    categories: tuple[str, ...] = SEEDV_CATEGORIES
    sfreq: float = 200.0
    window_s: float = 4.0
    source: str = "seedv"
    data_dir: Path | None = None

    def windows(self, task: str = "5class") -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Flatten to samples: X (n_samples, 62, 5), y, subject index, trial index (each (n_samples,))."""
        if task != "5class":
            raise ValueError(f"SEED-V task must be '5class', got {task!r}")
        X, y, subj, trial = [], [], [], []
        for i, subject in enumerate(self.trials):
            for t, arr in enumerate(subject):
                X.append(arr)
                n = arr.shape[0]
                y.append(np.full(n, self.labels[t]))
                subj.append(np.full(n, i))
                trial.append(np.full(n, t))
        return np.concatenate(X), np.concatenate(y), np.concatenate(subj), np.concatenate(trial)


def _seedv_dict(z, key: str, path: Path) -> dict:
    from vaxis.eeg.safepickle import safe_loads

    if key not in z.files:
        raise ValueError(f"{path}: expected keys 'data' and 'label', found {z.files}")
    obj = safe_loads(z[key].tobytes(), f"{path}[{key}]")
    if not isinstance(obj, dict) or len(obj) != 45:
        raise ValueError(f"{path}[{key}]: expected a dict of 45 trials, found {type(obj).__name__} "
                         f"of length {len(obj) if hasattr(obj, '__len__') else '?'}")
    return obj


def load_seedv(data_dir: str | os.PathLike, kind: str = "de", subjects: Sequence[str] | None = None,
               feature_order: str = "channel-major"):
    """Read SEED-V.

    ``kind="de"``: ``EEG_DE_features/{sub}_123.npz``; each holds ``data`` and ``label``, pickled dicts
    (trial 0..44 over the 3 sessions -> (n_windows, 310) DE, 4-s windows; -> per-window labels).
    310 = 62 channels x 5 bands; ``feature_order="channel-major"`` reads it as (62, 5), ``"band-major"`` as
    (5, 62) then transposes. ``kind="raw"``: ``EEG_raw/*.cnt`` read with :func:`mne.io.read_raw_cnt` (returns a
    dict subject -> list of Raw, one per session file, unloaded).

    Returns
    -------
    SeedVData (kind "de") or dict (kind "raw")
    """
    root = Path(data_dir)
    if kind == "raw":
        import mne

        folder = root / "EEG_raw"
        files = sorted(folder.glob("*.cnt")) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(f"{folder}: no .cnt files")
        out: dict[str, list] = {}
        for f in files:
            sub = f.name.split("_")[0]
            if subjects is None or sub in subjects:
                try:
                    raw = mne.io.read_raw_cnt(f, preload=False, verbose="error")
                except Exception as err:  # MNE raises bare RuntimeError / ValueError on damaged headers
                    raise ValueError(f"{f}: unreadable or truncated Neuroscan .cnt file ({f.stat().st_size} bytes): "
                                     f"{type(err).__name__}: {str(err).strip()[-200:]}") from err
                out.setdefault(sub, []).append(raw)
        missing = [s for s in (subjects or []) if s not in out]
        if missing:
            raise FileNotFoundError(f"{folder}: no .cnt files for subjects {missing}")
        return out
    if kind != "de":
        raise ValueError(f"kind must be 'de' or 'raw', got {kind!r}")
    folder = root / "EEG_DE_features"
    found = {m.group(1): p for p in (sorted(folder.iterdir()) if folder.is_dir() else [])
             if (m := _SEEDV_RE.match(p.name))}
    if not found:
        raise FileNotFoundError(f"{folder}: no {{sub}}_123.npz files")
    subject_ids = sorted(found, key=int) if subjects is None else [str(s) for s in subjects]
    missing = [s for s in subject_ids if s not in found]
    if missing:
        raise FileNotFoundError(f"{folder}: no DE file for subjects {missing}")
    labels = np.array([lab for sess in SEEDV_SESSION_LABELS for lab in sess])
    trials = []
    for s in subject_ids:
        path = found[s]
        try:
            with np.load(path, allow_pickle=False) as z:
                data, lab = _seedv_dict(z, "data", path), _seedv_dict(z, "label", path)
        except (OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
            if str(path) in str(err):
                raise
            raise ValueError(f"{path}: unreadable or truncated npz: {err}") from err
        subj = []
        for t in range(45):
            arr, la = np.asarray(data.get(t)), np.asarray(lab.get(t)).ravel()
            if arr.ndim != 2 or arr.shape[1] != SEEDV_CHANNELS * 5 or arr.shape[0] == 0:
                raise ValueError(f"{path}: trial {t}: expected shape (n_windows, 310), found {arr.shape}")
            if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
                raise ValueError(f"{path}: trial {t}: expected numeric DE values, found dtype {arr.dtype}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{path}: trial {t}: non-finite values")
            if la.shape != (arr.shape[0],) or np.any(la != labels[t]):
                raise ValueError(f"{path}: trial {t}: labels {np.unique(la)} do not match the published "
                                 f"session list ({labels[t]}) or the window count {arr.shape[0]}")
            x = arr.reshape(-1, SEEDV_CHANNELS, 5) if feature_order == "channel-major" else \
                arr.reshape(-1, 5, SEEDV_CHANNELS).transpose(0, 2, 1)
            subj.append(np.ascontiguousarray(x, dtype=np.float32))
        trials.append(subj)
    readme = root / "README.txt"
    synthetic = readme.is_file() and readme.read_text(errors="ignore").startswith("SYNTHETIC")
    return SeedVData(trials=trials, labels=labels, sessions=np.repeat([1, 2, 3], 15), subject_ids=subject_ids,
                     source="synthetic" if synthetic else "seedv", data_dir=root)


def seedv_check(data_dir: str | os.PathLike) -> str:
    """Validate a SEED-V folder (``EEG_DE_features/{sub}_123.npz``) and return a human-readable report.

    Every file is read as :func:`load_seedv` reads it (restricted unpickler, 45 trials of (n_windows, 310), labels
    against the published session lists); raises on the first hard error.
    """
    root = Path(data_dir)
    data = load_seedv(root)
    n_win = [sum(t.shape[0] for t in subj) for subj in data.trials]
    counts = np.bincount(data.labels, minlength=len(SEEDV_CATEGORIES))
    lines = [f"SEED-V folder: {root}"]
    readme = root / "README.txt"
    if readme.is_file() and readme.read_text(errors="ignore").startswith("SYNTHETIC"):
        lines.append("source: SYNTHETIC (generated by vaxis.eeg.synthetic)")
    lines += [f"de: {len(data.subject_ids)} subjects OK ({', '.join(data.subject_ids[:5])}"
              f"{' ...' if len(data.subject_ids) > 5 else ''}), 45 trials each (3 sessions x 15)",
              f"  4-s windows per subject: {min(n_win)}..{max(n_win)}; trials per class "
              + ", ".join(f"{c} {n}" for c, n in zip(SEEDV_CATEGORIES, counts))]
    return "\n".join(lines)
