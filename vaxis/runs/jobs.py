"""The job kit, dataset-free: a job dataclass's config as JSON (:func:`jsonable`), its sweep grid (:func:`job_grid`,
which reads the job's own worker function), a chapter's store, tables <-> job records, and the one-thread decorator.

The FACED job base (what a job loads) lives with the claims: :class:`vaxis.claims.common.jobs.FacedJob`.

Driver side::

    job = ReferenceJob.for_cohort(eeg, pipeline=DEFAULT, cache_dir=cache_dir, task="9class")
    grid = job_grid(job, axes={"task": tasks, "fold": folds}, name="reference")   # runs ReferenceJob.worker
    summary, table = run_checked(grid, chapter_store("reference", cache_dir), executor, address, quick)

Worker side: ``job = ReferenceJob.from_config(config); eeg = job.load()``; results travel as
:func:`records` (``{name: rows, name_columns: columns}``) and come back with :func:`frame_from_jobs`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from vaxis.runs.cache import cache_root
from vaxis.runs.sweep import Grid, ResultStore

__all__ = ["Job", "jsonable", "worker_path", "job_grid", "chapter_store", "records", "frame_from_jobs", "gpu_share",
           "one_thread"]


class Job(Protocol):
    """What :func:`job_grid` needs of a job: its config, its device, and the function that runs it in a worker."""

    device: str
    worker: Callable[[dict], dict]

    def config(self) -> dict[str, Any]: ...


def jsonable(v: Any) -> Any:
    """``v`` as JSON-able values: tuples as lists, mappings and dataclasses as dicts, numpy scalars as Python ones."""
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        return {f.name: jsonable(getattr(v, f.name)) for f in dataclasses.fields(v)}
    if isinstance(v, (tuple, list)):
        return [jsonable(x) for x in v]
    if isinstance(v, Mapping):
        return {k: jsonable(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v


def worker_path(fn: Callable[[dict], dict]) -> str:
    """The ``"module:function"`` string a sweep grid stores for ``fn`` (a module-level function)."""
    name = getattr(fn, "__qualname__", "")
    if not name or "." in name or "<" in name:
        raise ValueError(f"a job's worker must be a module-level function, got {fn!r}")
    return f"{fn.__module__}:{name}"


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


def job_grid(job: Job, axes: Mapping[str, Sequence], name: str = "") -> Grid:
    """A sweep grid of ``job``'s type running ``type(job).worker``: the axes vary per job, every other field of
    ``job`` is fixed."""
    cfg = job.config()
    unknown = set(axes) - set(cfg)
    if unknown:
        raise ValueError(f"axes {sorted(unknown)} are not fields of {type(job).__name__}")
    return Grid(axes={k: list(v) for k, v in axes.items()}, fixed={k: v for k, v in cfg.items() if k not in axes},
                fn=worker_path(type(job).worker), name=name,
                resources=gpu_share(job.device))


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
