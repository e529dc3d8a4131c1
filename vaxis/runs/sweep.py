"""Experiment sweeps: grids of jobs, a resumable result store, local or Ray executors.

A :class:`Grid` names its axes (``strategy x weight x seed x fold x arch``), the values fixed for
every job and the job function as a ``"module:function"`` string (so any worker can import it).
Its cartesian product, minus excluded combinations, is a list of :class:`Job` s whose ``id`` is a
hash of the function name and the job's config (:func:`vaxis.runs.cache.hash_key`, which also mixes in
the vaxis version). :func:`run` executes only the jobs missing from a :class:`ResultStore` (one
JSON file per finished job, written atomically), so a sweep killed at any moment loses nothing that
finished and a rerun picks up where it stopped. A failing job is recorded with its traceback and
the sweep goes on; the returned :class:`Summary` lists the failures.

How a chapter (5-8) runs its training through this layer::

    # vaxis/decoding/training.py (importable by workers)
    def train_job(config: dict) -> dict:          # config = one grid point, JSON-able values
        ...                                        # seed everything from config["seed"]
        return {"balanced_accuracy": 0.41, "n_test": 12}   # flat JSON-able scalars

    # the notebook: `executor = "local"` and `address = None` in its parameters cell
    grid = Grid(axes={"strategy": names, "weight": [0.1, 1.0], "seed": [0, 1], "fold": list(range(10))},
                fixed={"data_dir": data_dir}, fn="myproject.jobs:train_job", resources={"num_gpus": 0.25})
    summary = run(grid, ResultStore(results_root(results_dir) / "sweeps" / "ch6"),
                  executor=executor, address=address)
    table = summary.store.table(grid)             # pandas: config columns + result columns

Keep paths and device names in ``fixed`` only when they do not change the result, or accept that
changing them starts a new sweep: they are part of the config, hence of the id. ``1`` and ``1.0``
hash differently. From the shell: ``vaxis sweep run grid.yaml --executor ray --address ray://head:10001``
(or ``python -m vaxis.runs.sweep run ...``), ``vaxis sweep status --store DIR``, ``vaxis sweep collect``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from vaxis.runs.cache import data_fingerprint
from vaxis.runs.executors import EXECUTORS, demo_job
from vaxis.runs.store import (
    Grid,
    Job,
    ResultStore,
    Summary,
    check_data_key,
)

__all__ = ["Grid", "Job", "ResultStore", "Summary", "run", "demo_job", "add_sweep_parser", "sweep_main", "main",
           "SweepFailed", "checked_table", "check_data_key", "data_fingerprint", "run_checked"]


def run(grid: Grid, store: ResultStore | str | os.PathLike, executor: str = "local", max_workers: int | None = None,
        address: str | None = None, retry_failed: bool = False, progress: bool = True) -> Summary:
    """Run the jobs of ``grid`` missing from ``store``; record every outcome; return a :class:`Summary`.

    Parameters
    ----------
    grid : Grid
    store : ResultStore or path
    executor : {"local", "ray", "inline"}
        See :mod:`vaxis.runs.executors`.
    max_workers : int, optional
        Local: worker processes (default: cores). Ray: tasks in flight (default: all).
    address : str, optional
        Ray cluster address (``"auto"``, ``"ray://head:10001"``); ``None`` = ``$RAY_ADDRESS`` or local.
    retry_failed : bool
        Also rerun jobs whose stored record failed (their ``attempts`` grows by one).
    progress : bool
        Show a tqdm bar (terminal or notebook) with ok / failed / remaining and an ETA.
    """
    from tqdm.auto import tqdm

    store = store if isinstance(store, ResultStore) else ResultStore(store)
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose from {sorted(EXECUTORS)}")
    t0 = time.perf_counter()
    jobs, have = grid.jobs(), store.records()
    store.clean_tmp()
    todo = [j.payload(have[j.id]["attempts"] + 1 if j.id in have else 1) for j in jobs
            if j.id not in have or (retry_failed and have[j.id]["status"] == "failed")]
    skipped, ok, failures = len(jobs) - len(todo), 0, []
    bar = tqdm(total=len(jobs), initial=skipped, desc=f"sweep {grid.name or grid.fn}", unit="job",
               disable=not progress or not todo, dynamic_ncols=True)
    try:
        for rec in EXECUTORS[executor](todo, max_workers=max_workers, address=address):
            store.write(rec)
            if rec["status"] == "ok":
                ok += 1
            else:
                failures.append({"id": rec["id"], "config": rec["config"], "error": rec["error"]})
            bar.update(1)
            bar.set_postfix(ok=ok, failed=len(failures), remaining=len(todo) - ok - len(failures), refresh=False)
    finally:
        bar.close()
    return Summary(total=len(jobs), skipped=skipped, ran=ok + len(failures), ok=ok, failures=failures,
                   seconds=time.perf_counter() - t0, store=store, problems=dict(store.problems))


class SweepFailed(RuntimeError):
    """Some jobs of a grid failed or are missing: the message lists each with its error and traceback."""

    def __init__(self, message: str, failed: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.failed = failed


def checked_table(summary: Summary, grid: Grid, traceback_lines: int = 15) -> Any:
    """The grid's table (:meth:`ResultStore.table`) when every job of ``grid`` finished ``ok``.

    For chapters: a number computed on fewer folds than planned must never pass silently.

    Parameters
    ----------
    summary : Summary
        What :func:`run` returned (its ``store`` is read).
    grid : Grid
    traceback_lines : int
        Last lines of each stored traceback quoted in the error.

    Raises
    ------
    SweepFailed
        Listing every failed job (id, config axes, error, the end of its traceback) and every job that has
        no record; the records stay in the store (rerun with ``retry_failed=True`` to run them again).
    """
    recs = summary.store.records()
    bad = []
    for job in grid.jobs():
        rec = recs.get(job.id)
        if rec is None:
            bad.append({"id": job.id, "config": job.config, "error": "no record in the store", "traceback": None})
        elif rec["status"] != "ok":
            bad.append({"id": job.id, "config": job.config, "error": rec.get("error"),
                        "traceback": rec.get("traceback")})
    if bad:
        lines = [f"{len(bad)} of {len(grid)} jobs of sweep {grid.name or grid.fn} failed (store {summary.store.root}):"]
        for b in bad:
            axes = {k: b["config"].get(k) for k in grid.axes}
            lines.append(f"- job {b['id']} {axes}: {b['error']}")
            if b["traceback"]:
                tb = b["traceback"].rstrip().splitlines()[-traceback_lines:]
                lines += ["    " + t for t in tb]
        raise SweepFailed("\n".join(lines), bad)
    return summary.store.table(grid)


def run_checked(grid: Grid, store: ResultStore | str | os.PathLike, executor: str = "inline",
                address: str | None = None, quick: bool = False) -> tuple[Summary, Any]:
    """A chapter's training step: print where the jobs run, :func:`run` the missing ones (retrying failed ones),
    print the summary, and return it with :func:`checked_table` (which raises unless every job is ``ok``).

    ``quick`` hides the progress bar (CI logs).
    """
    store = store if isinstance(store, ResultStore) else ResultStore(store)
    print(f"{len(grid)} jobs ({' x '.join(f'{len(v)} {k}' for k, v in grid.axes.items())}), executor {executor}"
          f"{'' if address is None else ' at ' + str(address)}, store {store.root}")
    summary = run(grid, store, executor=executor, address=address, retry_failed=True, progress=not quick)
    print(summary)
    return summary, checked_table(summary, grid)


def add_sweep_parser(sub: Any) -> None:
    """Add ``sweep run | status | collect`` to an argparse sub-parser set (used by :mod:`vaxis.cli`)."""
    sw = sub.add_parser("sweep", help="resumable experiment grids (local processes or a Ray cluster)")
    ssub = sw.add_subparsers(dest="sweep_cmd", required=True)
    r = ssub.add_parser("run", help="run the jobs of GRID.yaml missing from the store")
    r.add_argument("grid", type=Path)
    r.add_argument("--executor", choices=sorted(EXECUTORS), default="local")
    r.add_argument("--address", default=None, help="Ray address, e.g. ray://head:10001 or auto")
    r.add_argument("--store", type=Path, default=None, help="result folder (default results/sweeps/<grid name>)")
    r.add_argument("--max-workers", type=int, default=None)
    r.add_argument("--retry-failed", action="store_true")
    r.add_argument("--no-progress", action="store_true")
    s = ssub.add_parser("status", help="count done / failed / corrupt (and remaining, given --grid)")
    s.add_argument("--store", type=Path, required=True)
    s.add_argument("--grid", type=Path, default=None)
    c = ssub.add_parser("collect", help="write the store as one table (.csv or .parquet)")
    c.add_argument("--store", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--grid", type=Path, default=None, help="only this grid's jobs, in grid order")


def sweep_main(args: argparse.Namespace) -> int:
    """Dispatch a parsed ``sweep`` command; returns the exit code (1 if any job failed)."""
    grid = Grid.from_yaml(args.grid) if getattr(args, "grid", None) else None
    if args.sweep_cmd == "run":
        store = ResultStore(args.store or Path(os.environ.get("VAXIS_RESULTS", "results")) / "sweeps" / grid.name)
        summary = run(grid, store, executor=args.executor, max_workers=args.max_workers, address=args.address,
                      retry_failed=args.retry_failed, progress=not args.no_progress)
        print(summary)
        return 1 if summary.failures else 0
    store = ResultStore(args.store)
    if args.sweep_cmd == "status":
        recs = store.records()
        n_failed = sum(r["status"] == "failed" for r in recs.values())
        line = f"{store.root}: {len(recs) - n_failed} ok, {n_failed} failed, {len(store.problems)} corrupt"
        if grid is not None:
            line += f", {sum(j.id not in recs for j in grid.jobs())} of {len(grid)} remaining"
        print(line)
        print("\n".join([f"  FAILED {r['id']} {r['config']}: {r['error']}" for r in recs.values()
                         if r["status"] == "failed"] + [f"  corrupt {i}: {why}" for i, why in store.problems.items()]))
        return 0
    table = store.table(grid)
    if args.out.suffix == ".parquet":
        try:
            table.to_parquet(args.out, index=False)
        except ImportError as exc:
            print(f"error: parquet needs pyarrow or fastparquet ({exc}); use --out table.csv", file=sys.stderr)
            return 1
    else:
        table.to_csv(args.out, index=False)
    print(f"wrote {args.out}: {len(table)} rows x {table.shape[1]} columns")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m vaxis.runs.sweep run|status|collect ...`` (same as ``vaxis sweep ...``)."""
    ap = argparse.ArgumentParser(prog="python -m vaxis.runs.sweep")
    add_sweep_parser(ap.add_subparsers(dest="cmd", required=True))
    args = ap.parse_args(["sweep", *(argv if argv is not None else sys.argv[1:])])
    return sweep_main(args)


if __name__ == "__main__":
    sys.exit(main())
