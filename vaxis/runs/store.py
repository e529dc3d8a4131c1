"""Sweep grids and their resumable store: :class:`Grid` (axes, fixed values, exclusions -> :class:`Job` s with
content ids), :class:`ResultStore` (one atomic JSON file per finished job), :class:`Summary`, and
:func:`check_data_key` for jobs. The runner and the command line are in :mod:`vaxis.runs.sweep`, which re-exports
these."""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vaxis.runs.cache import atomic_write_bytes, data_fingerprint, hash_key

__all__ = ["to_jsonable", "Job", "Grid", "ResultStore", "Summary", "check_data_key"]


_SAFE = {f.__name__: f for f in (abs, min, max, len, int, float, str, round, bool, any, all, sorted)}


_RECORD_KEYS = {"id", "fn", "config", "status", "result", "error", "seconds", "host", "attempts"}


def _matches(config: Mapping[str, Any], rule: Mapping[str, Any]) -> bool:
    """All keys of ``rule`` equal the config's (a list in the rule means any of its values)."""
    for key, want in rule.items():
        have = config.get(key)
        if isinstance(want, list) and not isinstance(have, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


@dataclass(frozen=True)
class Job:
    """One grid point: ``config`` (JSON-able dict), the job function, its resources and stable id."""

    id: str
    fn: str
    config: dict[str, Any]
    resources: dict[str, float]

    def payload(self, attempts: int = 1) -> dict[str, Any]:
        """The picklable dict an executor sends to a worker."""
        return {"id": self.id, "fn": self.fn, "config": self.config, "resources": self.resources,
                "attempts": attempts}


@dataclass
class Grid:
    """A cartesian grid of job configs.

    Parameters
    ----------
    axes : dict of str to list
        Named axes; the jobs are their cartesian product (in axis order, last axis fastest).
    fixed : dict
        Values shared by every job (part of each config and of its id).
    fn : str
        ``"module:function"`` called as ``fn(config) -> dict`` in a worker.
    exclude : list of dict
        Partial configs: a job matching every key of one rule is dropped (a list value means
        "any of these").
    where : callable or str, optional
        Keep a job only if ``where(config)`` is true; a string is a Python expression over the
        config's names (e.g. ``"not (arch == 'mlp' and weight > 1)"``) with no builtins but a few
        harmless ones (abs, min, max, len, round, ...). Only run grid files you trust.
    resources : dict
        Default per-job resources for the Ray executor: ``num_cpus`` (1), ``num_gpus`` (0,
        fractions share a GPU). Not part of the id.
    resource_rules : list of dict
        ``{"match": {partial config}, "num_gpus": 0.25, ...}``: overrides for matching jobs.
    name : str
        A label (not part of the id).
    """

    axes: dict[str, list]
    fixed: dict[str, Any] = field(default_factory=dict)
    fn: str = "vaxis.runs.sweep:demo_job"
    exclude: list[dict[str, Any]] = field(default_factory=list)
    where: Callable[[dict], bool] | str | None = None
    resources: dict[str, float] = field(default_factory=lambda: {"num_cpus": 1, "num_gpus": 0})
    resource_rules: list[dict[str, Any]] = field(default_factory=list)
    name: str = ""

    def __post_init__(self) -> None:
        if ":" not in self.fn:
            raise ValueError(f"fn must be 'module:function', got {self.fn!r}")
        clash = set(self.axes) & set(self.fixed)
        if clash:
            raise ValueError(f"names both on an axis and fixed: {sorted(clash)}")
        for name, values in self.axes.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"axis {name!r} needs a non-empty list of values")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Grid:
        """Build from a mapping with keys ``axes, fixed, fn, exclude, where, resources, resource_rules, name``."""
        known = {"axes", "fixed", "fn", "exclude", "where", "resources", "resource_rules", "name"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown grid keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**{k: v for k, v in spec.items() if v is not None})

    @classmethod
    def from_yaml(cls, path: str | os.PathLike) -> Grid:
        """Load a grid from a YAML file (same keys as :meth:`from_dict`); ``name`` defaults to the file stem."""
        import yaml

        spec = yaml.safe_load(Path(path).read_text()) or {}
        spec.setdefault("name", Path(path).stem)
        return cls.from_dict(spec)

    def _keep(self, config: dict[str, Any]) -> bool:
        if any(_matches(config, rule) for rule in self.exclude):
            return False
        if self.where is None:
            return True
        if callable(self.where):
            return bool(self.where(config))
        return bool(eval(self.where, {"__builtins__": _SAFE}, dict(config)))  # noqa: S307 - trusted grid file

    def _resources(self, config: dict[str, Any]) -> dict[str, float]:
        res = dict(self.resources)
        for rule in self.resource_rules:
            if _matches(config, rule.get("match", {})):
                res.update({k: v for k, v in rule.items() if k != "match"})
        return res

    def jobs(self) -> list[Job]:
        """The grid's jobs in order (duplicates, which only identical configs could make, removed)."""
        names = list(self.axes)
        out, seen = [], set()
        for values in itertools.product(*(self.axes[n] for n in names)):
            config = {**self.fixed, **dict(zip(names, values))}
            if not self._keep(config):
                continue
            jid = hash_key({"fn": self.fn, "config": config})
            if jid not in seen:
                seen.add(jid)
                out.append(Job(jid, self.fn, config, self._resources(config)))
        return out

    def __len__(self) -> int:
        return len(self.jobs())


class ResultStore:
    """One ``<id>.json`` per finished job under ``root``, each written atomically.

    A record holds ``id, fn, config, status ("ok" | "failed"), result (dict), error, traceback,
    seconds, host, pid, attempts, started, finished``. A file that does not parse, lacks a key or
    whose id differs from its name is treated as missing and listed in :attr:`problems`.
    """

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.problems: dict[str, str] = {}

    def path(self, job_id: str) -> Path:
        return self.root / f"{job_id}.json"

    def write(self, record: Mapping[str, Any]) -> None:
        """Write one record atomically (temp file + fsync + rename)."""
        data = json.dumps(record, sort_keys=True, default=str, indent=1).encode()
        atomic_write_bytes(self.path(record["id"]), data)

    def _load(self, path: Path) -> dict[str, Any] | None:
        try:
            rec = json.loads(path.read_bytes())
            if not isinstance(rec, dict) or not _RECORD_KEYS <= set(rec):
                raise ValueError("missing keys")
            if rec["id"] != path.stem or rec["status"] not in ("ok", "failed"):
                raise ValueError("id or status does not match")
        except (OSError, ValueError) as exc:
            self.problems[path.stem] = f"{type(exc).__name__}: {exc}"
            return None
        self.problems.pop(path.stem, None)
        return rec

    def get(self, job_id: str) -> dict[str, Any] | None:
        """The record of ``job_id``, or ``None`` when missing or corrupt."""
        path = self.path(job_id)
        return self._load(path) if path.exists() else None

    def records(self) -> dict[str, dict[str, Any]]:
        """All valid records, by id (temporary files of interrupted writes are ignored)."""
        if not self.root.is_dir():
            return {}
        out = {}
        for path in sorted(self.root.glob("*.json")):  # never the ".<id>.json.*.tmp" of a write in flight
            rec = self._load(path)
            if rec is not None:
                out[rec["id"]] = rec
        return out

    def done_ids(self) -> set[str]:
        """Ids with a valid record, whatever its status."""
        return set(self.records())

    def failed(self) -> list[dict[str, Any]]:
        """Records of failed jobs."""
        return [r for r in self.records().values() if r["status"] == "failed"]

    def clean_tmp(self, older_than: float = 60.0) -> int:
        """Delete temporary files left by writes that were killed; returns how many."""
        n, now = 0, time.time()
        for tmp in self.root.glob(".*.tmp") if self.root.is_dir() else []:
            if now - tmp.stat().st_mtime > older_than:
                tmp.unlink(missing_ok=True)
                n += 1
        return n

    def table(self, grid: Grid | None = None) -> Any:
        """A pandas DataFrame: ``id, status`` + config columns + result columns + bookkeeping.

        With ``grid``, only its jobs, in grid order; else every record, sorted by id. A result key
        that is also a config key becomes ``result.<key>``.
        """
        import pandas as pd

        recs = self.records()
        ids = [j.id for j in grid.jobs() if j.id in recs] if grid is not None else sorted(recs)
        flat = []
        for r in (recs[i] for i in ids):
            row = {"id": r["id"], "status": r["status"], **r["config"]}
            for k, v in (r.get("result") or {}).items():
                row[f"result.{k}" if k in row else k] = v
            row.update(error=r.get("error"), seconds=r.get("seconds"), attempts=r.get("attempts"), host=r.get("host"))
            flat.append(row)
        return pd.DataFrame(flat)


@dataclass
class Summary:
    """What :func:`run` did: counts, failures (id, config, error) and problems found in the store."""

    total: int
    skipped: int
    ran: int
    ok: int
    failures: list[dict[str, Any]]
    seconds: float
    store: ResultStore
    problems: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.total} jobs: {self.skipped} already in store, ran {self.ran} "
                 f"({self.ok} ok, {len(self.failures)} failed) in {self.seconds:.1f} s; store {self.store.root}"]
        lines += [f"  corrupt record ignored (rerun): {i}: {why}" for i, why in self.problems.items()]
        lines += [f"  FAILED {f['id']} {f['config']}: {f['error']}" for f in self.failures]
        return "\n".join(lines)


def check_data_key(config: Mapping[str, Any], *arrays: Any, fingerprint: str | None = None) -> None:
    """In a job: raise when the data it loaded differ from the driver's (``config["data_key"]``, from
    :func:`data_fingerprint` of the same arrays); no-op without a ``data_key``. ``fingerprint`` skips hashing."""
    key = config.get("data_key")
    if not key:
        return
    fp = fingerprint or data_fingerprint(*arrays)
    if fp != key:
        raise ValueError(f"data at {config.get('data_dir')} differ from the driver's (fingerprint {fp} != {key}): "
                         "every worker must read the same data")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy / pandas / Path objects to plain JSON types; NaN and Inf become ``None``."""
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not math.isfinite(float(obj)) else float(obj)
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "to_dict") and callable(obj.to_dict):  # pandas
        try:
            return to_jsonable(obj.to_dict(orient="records"))
        except TypeError:
            return to_jsonable(obj.to_dict())
    return obj

