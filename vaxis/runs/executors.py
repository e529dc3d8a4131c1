"""Executors for :func:`vaxis.runs.sweep.run`: run jobs and yield one result record per finished job.

Every executor has the same signature ``executor(jobs, max_workers=None, address=None)`` and is a
generator of records (plain dicts, see :func:`execute`) in completion order. The driver
(:func:`vaxis.runs.sweep.run`) writes each record to the store as it arrives, so all executors give
byte-for-byte the same store format and the same :meth:`vaxis.runs.sweep.ResultStore.table`.

- ``inline``: in this process, one job after another (debugging, notebooks, tiny grids).
- ``local``: a :class:`concurrent.futures.ProcessPoolExecutor` with the ``spawn`` start method;
  ``max_workers`` defaults to the number of cores; BLAS and torch use one thread per worker. A
  worker that dies (killed, out of memory, segfault) fails only the job it was running: the jobs in
  flight with it are rerun each alone to find the culprit, and a fresh pool takes the rest.
- ``ray``: tasks on a Ray cluster (``ray.init(address=...)``; a local instance when no address is
  given and none is running). Each job asks for its ``resources`` (``num_cpus``, fractional
  ``num_gpus``), so GPU jobs share GPUs and CPU jobs go wherever CPUs are free.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from vaxis.runs.store import to_jsonable

__all__ = ["execute", "resolve", "EXECUTORS", "run_inline", "run_local", "run_ray", "demo_job"]

Record = dict[str, Any]


def resolve(fn: str) -> Callable[[dict], Any]:
    """Import a job function from its ``"package.module:function"`` string."""
    module, sep, name = fn.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"job function must be 'module:function', got {fn!r}")
    obj: Any = importlib.import_module(module)
    for part in name.split("."):
        obj = getattr(obj, part)
    if not callable(obj):
        raise TypeError(f"{fn!r} is not callable")
    return obj


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def _limit_threads(threads: int) -> Any:
    """Limit BLAS / OpenMP pools (threadpoolctl) and torch to ``threads``; returns the limiter."""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn depends on threadpoolctl
        return None
    return threadpool_limits(limits=threads)


def execute(job: dict[str, Any], threads: int | None = 1) -> Record:
    """Run one job and return its record; never raises for an error inside the job.

    Parameters
    ----------
    job : dict
        ``{"id", "fn", "config", "attempts"}`` as made by :meth:`vaxis.runs.sweep.Job.payload`.
    threads : int or None
        Threads for BLAS and torch inside the job (``None`` leaves them alone).

    Returns
    -------
    record : dict
        ``id, fn, config, status ("ok" | "failed"), result, error, traceback, seconds, host,
        pid, attempts, started, finished``; ``result`` is a JSON-able dict.
    """
    started, t0 = _now(), time.perf_counter()
    rec: Record = {"id": job["id"], "fn": job["fn"], "config": job["config"], "status": "ok",
                   "result": None, "error": None, "traceback": None}
    try:
        fn = resolve(job["fn"])
        limiter = _limit_threads(threads) if threads else None
        try:
            if threads and "torch" in sys.modules:  # the job's module may just have imported torch
                _limit_threads(threads)
            out = fn(dict(job["config"]))
        finally:
            if limiter is not None:
                limiter.restore_original_limits()
        out = {"value": out} if not isinstance(out, dict) else out
        rec["result"] = to_jsonable(out)
    except BaseException as exc:  # noqa: BLE001 - a failing job is data, not a crash
        if isinstance(exc, KeyboardInterrupt):
            raise
        rec.update(status="failed", error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
    rec.update(seconds=round(time.perf_counter() - t0, 6), host=socket.gethostname(), pid=os.getpid(),
               attempts=int(job.get("attempts", 1)), started=started, finished=_now())
    return rec


def _lost(job: dict[str, Any], why: str) -> Record:
    """A record for a job whose worker vanished before it could report."""
    return {"id": job["id"], "fn": job["fn"], "config": job["config"], "status": "failed", "result": None,
            "error": why, "traceback": None, "seconds": None, "host": socket.gethostname(), "pid": None,
            "attempts": int(job.get("attempts", 1)), "started": None, "finished": _now()}


def run_inline(jobs: Iterable[dict[str, Any]], max_workers: int | None = None,
               address: str | None = None) -> Iterator[Record]:
    """Run jobs one by one in this process (threads left as they are)."""
    for job in jobs:
        yield execute(job, threads=None)


def _init_worker() -> None:
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = "1"  # for anything the job starts or imports later
    _limit_threads(1)


def run_local(jobs: Iterable[dict[str, Any]], max_workers: int | None = None,
              address: str | None = None) -> Iterator[Record]:
    """Run jobs in spawned worker processes on this machine (one thread each).

    At most ``2 * max_workers`` jobs are in flight. When a worker dies (killed, out of memory, segfault)
    the pool breaks and every job in flight fails with ``BrokenProcessPool``, the culprit among them
    unknown. Those jobs are then rerun each alone in a one-worker pool (:func:`_run_isolated`): the job
    whose private worker dies again is recorded as failed, the bystanders finish normally, and a fresh
    pool takes the jobs not yet started. So one killed worker fails exactly its own job.
    """
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    n = max_workers or os.cpu_count() or 1
    pending = list(jobs)[::-1]  # pop() from the end keeps the grid order
    ctx = mp.get_context("spawn")
    while pending:
        pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_worker)
        running: dict[Any, dict[str, Any]] = {}
        suspects: list[dict[str, Any]] = []
        broken = False
        try:
            while pending or running:
                while pending and len(running) < 2 * n and not broken:
                    job = pending.pop()
                    try:
                        running[pool.submit(execute, job, 1)] = job
                    except BrokenProcessPool:
                        pending.append(job)  # never started: back in the queue, no suspicion
                        broken = True
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    job = running.pop(fut)
                    try:
                        yield fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(job)
                    except Exception as exc:  # pickling errors and the like
                        yield _lost(job, f"{type(exc).__name__}: {exc}")
                if broken and not running:
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        yield from _run_isolated(suspects[::-1], n, ctx)


def _run_isolated(jobs: list[dict[str, Any]], n: int, ctx: Any) -> Iterator[Record]:
    """Run each job alone in a one-worker pool, ``n`` pools at once; a pool that breaks convicts its job.

    A healthy pool takes the next job; a broken one is replaced. ``jobs`` is popped from the end.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    def fresh() -> Any:
        return ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_init_worker)

    queue = list(jobs)
    idle: list[Any] = []
    running: dict[Any, tuple[dict[str, Any], Any]] = {}
    try:
        while queue or running:
            while queue and len(running) < n:
                pool, job = idle.pop() if idle else fresh(), queue.pop()
                try:
                    fut = pool.submit(execute, job, 1)
                except BrokenProcessPool:  # an idle worker died (killed from outside): replace its pool
                    pool.shutdown(wait=True)
                    pool = fresh()
                    fut = pool.submit(execute, job, 1)
                running[fut] = (job, pool)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in done:
                job, pool = running.pop(fut)
                try:
                    rec = fut.result()
                except BrokenProcessPool as exc:
                    pool.shutdown(wait=True)
                    yield _lost(job, "BrokenProcessPool: a worker process died with this job twice, the second "
                                     f"time running alone ({exc})")
                    continue
                except Exception as exc:  # pickling errors and the like; the pool is still usable
                    idle.append(pool)
                    yield _lost(job, f"{type(exc).__name__}: {exc}")
                    continue
                idle.append(pool)
                yield rec
    finally:
        for pool in idle + [p for _, p in running.values()]:
            pool.shutdown(wait=True, cancel_futures=True)


def run_ray(jobs: Iterable[dict[str, Any]], max_workers: int | None = None,
            address: str | None = None) -> Iterator[Record]:
    """Run jobs as Ray tasks; the driver receives records as they finish (``ray.wait``).

    Connects to ``address`` (``"auto"``, ``"ray://head:10001"``, ...) or to ``$RAY_ADDRESS``, else
    starts a local instance; an instance already initialised in this process is reused and left
    running. Each job's ``resources`` (``num_cpus``, ``num_gpus``, fractional allowed) is passed to
    the task; ``max_workers`` caps the tasks in flight (default: all submitted at once).
    """
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is pinned in requirements.txt
        raise ImportError("the ray executor needs Ray: pip install ray==2.60.0 (pinned in requirements.txt)") from exc

    owned = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
        if address or os.environ.get("RAY_ADDRESS"):
            kwargs["address"] = address or os.environ["RAY_ADDRESS"]
        ray.init(**kwargs)
        owned = True
    remote = ray.remote(max_retries=0)(_ray_execute)
    pending = list(jobs)[::-1]
    limit = max_workers or len(pending) or 1
    running: dict[Any, dict[str, Any]] = {}
    try:
        while pending or running:
            while pending and len(running) < limit:
                job = pending.pop()
                res = job.get("resources") or {}
                cpus, gpus = float(res.get("num_cpus", 1)), float(res.get("num_gpus", 0))
                ref = remote.options(num_cpus=cpus, num_gpus=gpus).remote(job, max(1, int(cpus)))
                running[ref] = job
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                job = running.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as exc:  # worker crash, node loss, ...
                    yield _lost(job, f"{type(exc).__name__}: {exc}")
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
        if owned:
            ray.shutdown()


def _ray_execute(job: dict[str, Any], threads: int) -> Record:
    """Body of the Ray task (module level, so workers import it by reference)."""
    return execute(job, threads=threads)


def demo_job(config: dict[str, Any]) -> dict[str, Any]:
    """A small deterministic job: seeded ridge regression fits (tests, benchmark; ``vaxis.runs.sweep:demo_job``).

    Config keys (all optional): ``seed`` (0), ``n`` samples (200), ``d`` features (20), ``alpha``
    (1.0), ``noise`` (0.5), ``repeats`` bootstrap refits (1), ``sleep`` seconds (0), ``fail``
    (raise ``ValueError``), ``fail_seeds`` (list: fail when ``seed`` is in it).

    Returns
    -------
    dict
        ``r2`` (held-out R^2, mean over repeats), ``w_err`` (L2 error of the coefficients), ``n``.
    """
    import numpy as np

    seed = int(config.get("seed", 0))
    if config.get("fail") or seed in config.get("fail_seeds", []):
        raise ValueError(f"demo_job failure requested (seed={seed})")
    if config.get("sleep"):
        time.sleep(float(config["sleep"]))
    n, d, alpha = int(config.get("n", 200)), int(config.get("d", 20)), float(config.get("alpha", 1.0))
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d)
    X = rng.normal(size=(2 * n, d))
    y = X @ w + float(config.get("noise", 0.5)) * rng.normal(size=2 * n)
    r2s, errs = [], []
    for _ in range(int(config.get("repeats", 1))):
        idx = rng.integers(0, n, size=n)
        Xt, yt = X[idx], y[idx]
        w_hat = np.linalg.solve(Xt.T @ Xt + alpha * np.eye(d), Xt.T @ yt)
        resid = y[n:] - X[n:] @ w_hat
        r2s.append(1 - resid @ resid / np.sum((y[n:] - y[n:].mean()) ** 2))
        errs.append(np.linalg.norm(w_hat - w))
    return {"r2": float(np.mean(r2s)), "w_err": float(np.mean(errs)), "n": n}


EXECUTORS: dict[str, Callable[..., Iterator[Record]]] = {"inline": run_inline, "local": run_local, "ray": run_ray}
