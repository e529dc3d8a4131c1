"""The fold-job kit: what every chapter's sweep job shares (config dataclasses, data loading, tables <-> records).

A chapter's training runs as sweep jobs (:mod:`vaxis.runs.sweep`), one per fold (or task x fold, arch x fold). Each job
type is a frozen dataclass subclassing :class:`FacedJob`: its fields *are* the job's config (JSON-able), its
defaults are written once, and ``Job.from_config(config)`` rebuilds it in the worker (unknown keys raise, so a typo
in a grid never passes silently). :meth:`FacedJob.load` loads FACED the way the driver did (the same folder, the
same subject cut, the data fingerprint checked, the shared input pipeline applied from the cache).

Driver side::

    job = ReferenceJob.for_cohort(eeg, pipeline=DEFAULT, cache_dir=cache_dir, task="9class")
    grid = job_grid(job, "vaxis.claims.reference:repeat_job", axes={"task": tasks, "fold": folds}, name="reference")
    summary, table = run_checked(grid, chapter_store("reference", cache_dir), executor, address, quick)

Worker side: ``job = ReferenceJob.from_config(config); eeg = job.load()``; results travel as
:func:`records` (``{name: rows, name_columns: columns}``) and come back with :func:`frame_from_jobs`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from vaxis.eeg.datasets import load_faced
from vaxis.eeg.pipeline import DEFAULT, apply_pipeline, as_pipeline
from vaxis.runs.cache import cache_root, data_fingerprint
from vaxis.runs.sweep import Grid, ResultStore, check_data_key

__all__ = ["FacedJob", "job_grid", "chapter_store", "records", "frame_from_jobs", "gpu_share", "one_thread"]

J = TypeVar("J", bound="FacedJob")


def _jsonable(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v


@dataclass(frozen=True)
class FacedJob:
    """Fields every FACED fold job shares.

    Attributes
    ----------
    data_dir : str
        A FACED folder every worker can read.
    data_key : str
        :func:`vaxis.runs.cache.data_fingerprint` of the raw ``x`` and subject ids after the cut (checked in the job).
    cache_dir : str or None
        Cache root (None: ``$VAXIS_CACHE``).
    subjects : list of str or None
        The subject ids the cohort is cut to (None: all).
    pipeline : dict
        The input pipeline (:meth:`vaxis.eeg.pipeline.Pipeline.as_dict`).
    device : str
    """

    data_dir: str = ""
    data_key: str = ""
    cache_dir: str | None = None
    subjects: list | None = None
    pipeline: dict = field(default_factory=DEFAULT.as_dict)
    device: str = "auto"

    @classmethod
    def for_cohort(cls: type[J], eeg, pipeline=None, cache_dir: str | os.PathLike | None = None,
                   cut: bool = False, **fields: Any) -> J:
        """The job config for cohort ``eeg`` (raw DE, as loaded): folder, fingerprint, pipeline, subject cut
        (``cut=True`` when ``eeg`` is a subset of its folder)."""
        if getattr(eeg, "pipeline", None) is not None:
            raise ValueError("pass the raw cohort (before apply_pipeline): jobs apply the pipeline themselves")
        return cls(data_dir=str(eeg.data_dir), data_key=data_fingerprint(eeg.x, np.asarray(eeg.subject_ids)),
                   cache_dir=None if cache_dir is None else str(cache_dir),
                   subjects=list(eeg.subject_ids) if cut else None,
                   pipeline=as_pipeline(pipeline).as_dict(), **fields)

    @classmethod
    def from_config(cls: type[J], config: Mapping[str, Any]) -> J:
        """Rebuild the job in a worker; raises ``TypeError`` naming unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - names)
        if unknown:
            raise TypeError(f"{cls.__name__}: unknown config keys {unknown}; known: {sorted(names)}")
        return cls(**dict(config))

    def config(self) -> dict[str, Any]:
        """The JSON-able config (every field)."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def load_raw(self):
        """FACED as the driver loaded it (raw DE), fingerprint checked."""
        eeg = load_faced(self.data_dir, kind="de", cache_dir=self.cache_dir)
        if self.subjects is not None:
            eeg = eeg.subset(list(self.subjects))
        check_data_key({"data_key": self.data_key, "data_dir": self.data_dir}, eeg.x, np.asarray(eeg.subject_ids))
        return eeg

    def load(self):
        """FACED through the job's input pipeline (from the cache after the first job)."""
        return apply_pipeline(self.load_raw(), self.pipeline, cache_dir=self.cache_dir)


def one_thread(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
    """Decorator for job functions: run with one torch thread and one BLAS thread (restored afterwards).

    The models of a job are small and stacked; on a shared CPU two threads per job only contend (two one-thread
    processes scale better: TOOLCHAIN.md), and an inline job inherits whatever the notebook process set.
    """
    @functools.wraps(fn)
    def wrapped(config: dict) -> dict:
        import torch
        from threadpoolctl import threadpool_limits

        old = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with threadpool_limits(1):
                return fn(config)
        finally:
            torch.set_num_threads(old)

    return wrapped


def gpu_share(device: str, share: float = 0.5) -> dict[str, float]:
    """Ray resources of one job: 1 CPU, and ``share`` of a GPU when ``device`` names CUDA."""
    return {"num_cpus": 1, "num_gpus": share if str(device).startswith("cuda") else 0}


def job_grid(job: FacedJob, fn: str, axes: Mapping[str, Sequence], name: str = "") -> Grid:
    """A sweep grid of ``job``'s type: the axes vary per job, every other field of ``job`` is fixed."""
    cfg = job.config()
    unknown = set(axes) - set(cfg)
    if unknown:
        raise ValueError(f"axes {sorted(unknown)} are not fields of {type(job).__name__}")
    return Grid(axes={k: list(v) for k, v in axes.items()}, fixed={k: v for k, v in cfg.items() if k not in axes},
                fn=fn, name=name, resources=gpu_share(job.device))


def chapter_store(chapter: str, cache_dir: str | os.PathLike | None = None) -> ResultStore:
    """The job store of a chapter: ``<cache>/sweeps/<chapter>``."""
    return ResultStore(cache_root(cache_dir) / "sweeps" / chapter)


def records(**tables: pd.DataFrame) -> dict[str, Any]:
    """Tables as JSON-able job results: ``{name: rows, name + "_columns": columns}``."""
    out: dict[str, Any] = {}
    for name, tab in tables.items():
        out[name], out[f"{name}_columns"] = tab.to_dict(orient="records"), list(tab.columns)
    return out


def frame_from_jobs(jobs: pd.DataFrame, key: str = "table") -> pd.DataFrame:
    """Concatenate the per-job row lists ``jobs[key]`` (in the order of ``jobs``) into one DataFrame.

    Columns follow ``jobs[key + "_columns"]`` when present (the job's own order; the store sorts dict keys);
    JSON ``null`` in a numeric column becomes NaN. A result key that is also a config key is read from
    ``result.<key>`` (see :meth:`vaxis.runs.sweep.ResultStore.table`).

    Parameters
    ----------
    jobs : DataFrame
        One row per job, e.g. :func:`vaxis.runs.sweep.checked_table`.
    """
    res = lambda k: f"result.{k}" if f"result.{k}" in jobs else k   # noqa: E731 - result key = a config key
    rows = [r for rs in jobs[res(key)] for r in rs]
    cols = jobs[res(f"{key}_columns")].iloc[0] if res(f"{key}_columns") in jobs and len(jobs) else None
    out = pd.DataFrame(rows, columns=cols)
    for c in out.columns:
        if out[c].dtype == object and all(v is None or isinstance(v, (int, float)) and not isinstance(v, bool)
                                          for v in out[c]):
            out[c] = out[c].astype(float)
    return out
