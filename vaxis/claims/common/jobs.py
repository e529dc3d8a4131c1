"""The FACED fold job: what every chapter's sweep job shares (its config dataclass and data loading), and the run
sequence every claim's entry point wraps (manifest -> job -> grid -> store -> checked results).

A chapter's training runs as sweep jobs (:mod:`vaxis.runs.sweep`), one per fold (or task x fold, arch x fold). Each job
type is a frozen dataclass subclassing :class:`FacedJob`: its fields *are* the job's config (JSON-able), its
defaults are written once, and ``Job.from_config(config)`` rebuilds it in the worker (unknown keys raise, so a typo
in a grid never passes silently). :meth:`FacedJob.load` loads FACED the way the driver did (the same folder, the
same subject cut, the data fingerprint checked, the shared input pipeline applied from the cache). A job type names
the function that runs it (:func:`worker_of`), so no chapter types a ``"module:function"`` string.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd

from vaxis.eeg.datasets import load_faced
from vaxis.eeg.pipeline import DEFAULT, apply_pipeline, as_pipeline
from vaxis.runs.cache import data_fingerprint
from vaxis.runs.jobs import chapter_store, job_grid, jsonable
from vaxis.runs.store import Summary
from vaxis.runs.sweep import check_data_key, run_checked

__all__ = ["FacedJob", "worker_of", "run_jobs"]

J = TypeVar("J", bound="FacedJob")
W = TypeVar("W", bound=Callable[[dict], dict])


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

    #: the module-level function that runs one config of this type in a worker (set by :func:`worker_of`)
    worker: ClassVar[Callable[[dict], dict]]

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
        hints = typing.get_type_hints(cls)
        return cls(**{k: _rebuild(hints.get(k), v) for k, v in config.items()})

    def config(self) -> dict[str, Any]:
        """The JSON-able config (every field)."""
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}

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


def _rebuild(hint: Any, value: Any) -> Any:
    """A nested dataclass field (:class:`~vaxis.decoding.folds.FoldDesign`, a ``StackConfig``) from its JSON dict;
    lists back to tuples where the field's default is a tuple."""
    if not (isinstance(hint, type) and dataclasses.is_dataclass(hint) and isinstance(value, Mapping)):
        return value
    tuples = {f.name for f in dataclasses.fields(hint) if isinstance(f.default, tuple)}
    return hint(**{k: tuple(v) if k in tuples and isinstance(v, list) else v for k, v in value.items()})


def worker_of(job_type: type[FacedJob]) -> Callable[[W], W]:
    """Decorator: the decorated module-level function is the worker of ``job_type`` (``job_type.worker``)."""
    def mark(fn: W) -> W:
        job_type.worker = fn
        return fn

    return mark


def run_jobs(job: FacedJob, axes: Mapping[str, Sequence], store: str, name: str, executor: str = "local",
             address: str | None = None, quick: bool = False) -> tuple[Summary, pd.DataFrame]:
    """Run (or read from the store ``<cache>/sweeps/<store>``) the grid of ``job`` over ``axes``.

    Returns
    -------
    summary : :class:`vaxis.runs.sweep.Summary`
    jobs : DataFrame
        One row per job, config and result columns (:func:`vaxis.runs.sweep.checked_table`).
    """
    grid = job_grid(job, axes, name=name)
    return run_checked(grid, chapter_store(store, job.cache_dir), executor, address, quick)
