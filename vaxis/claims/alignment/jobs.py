"""Chapter 6 as sweep jobs: one job per fold (of one CV repeat) trains every strategy, chooses the weights and
runs the distillation controls; :func:`collect` reassembles the folds."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import pandas as pd

from vaxis.claims.alignment.controls import CONTROL_FAMILY, run_controls
from vaxis.claims.alignment.train import AlignmentRun, final_rows, train_alignment
from vaxis.claims.common.conditions import CONDITION_STACK, clip_arrays, fold_inputs
from vaxis.claims.common.jobs import FacedJob, run_jobs, worker_of
from vaxis.claims.common.strategies import STRATEGIES
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.runs.jobs import frame_from_jobs, one_thread, records
from vaxis.runs.store import Summary

__all__ = ["AlignmentJob", "fold_job", "collect", "run_alignment"]


@dataclass(frozen=True)
class AlignmentJob(FacedJob):
    """One fold of chapter 6: ``fold`` (a global fold id of ``design``'s manifest), trained with ``stack``; every
    strategy of ``strategies`` at every weight of its grid for every
    seed, the label-only model, the weight choice (grid plus 0, and the best non-zero weight), and the distillation
    controls. ``targets``: the LLM's ``positions`` (9,) and ``embeddings`` (9, d_llm) as lists."""

    fold: int = 0
    design: FoldDesign = field(default_factory=FoldDesign)
    strategies: list = field(default_factory=lambda: list(STRATEGIES))
    arch: str = "mlp"
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    stack: StackConfig = field(default_factory=lambda: CONDITION_STACK)
    hidden: int = 32
    dropout: float = 0.0
    targets: dict = field(default_factory=dict)
    controls: list = field(default_factory=lambda: ["shuffled", "uniform"])
    control_seed: int = 0


@worker_of(AlignmentJob)
@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.alignment.jobs:fold_job"`` (see :class:`AlignmentJob`).

    Returns
    -------
    dict
        As :func:`vaxis.runs.jobs.records`: ``final`` and ``forced_final`` (the reported models at the chosen / best
        non-zero weights, with per-subject test BA), ``trained`` (every model, without per-subject scores),
        ``chosen``, ``forced``, ``controls``; ``fold_manifest``; ``job_seconds`` (``train``, ``controls``;
        the store keeps its own ``seconds``), ``n_models``, ``n_control_models``.
    """
    job = AlignmentJob.from_config(config)
    eeg = job.load()
    targets, _, fold, vmaps = fold_inputs(job, eeg)
    run = train_alignment(clip_arrays(eeg), targets, strategies=job.strategies, arch=job.arch, seeds=job.seeds,
                          design=job.design, stack=job.stack, hidden=job.hidden, dropout=job.dropout, vmaps=vmaps,
                          device=job.device, folds=[job.fold])
    t0 = time.time()
    kd = [n for n in job.strategies if STRATEGIES[n].family == CONTROL_FAMILY]
    ctrl = run_controls(run, targets, controls=tuple(job.controls), strategies=kd, control_seed=job.control_seed) \
        if job.controls and kd else pd.DataFrame(columns=["control", "strategy", "weight", "seed", "fold", "val_ba",
                                                          "test_ba", "best_epoch", "subject_ba"])
    return {**records(final=run.final, forced_final=final_rows(run.trained, run.forced),
                      trained=run.trained.drop(columns=["subject_ba"]), chosen=run.chosen, forced=run.forced,
                      controls=ctrl),
            "fold_manifest": fold, "n_models": run.seconds["n_models"],
            "n_control_models": ctrl.attrs.get("n_models", {}),
            "job_seconds": {"train": run.seconds["train"], "controls": time.time() - t0}}


def collect(jobs: pd.DataFrame) -> tuple[AlignmentRun, pd.DataFrame, pd.DataFrame]:
    """Reassemble :func:`fold_job` results (one row per fold).

    Returns
    -------
    run : AlignmentRun
        ``final``, ``trained``, ``chosen``, ``forced`` over every fold (``view`` None), ``manifest`` (the jobs'
        folds), ``seconds`` (summed: ``train``, ``controls``, ``n_models``, ``n_control_models``).
    forced_final : DataFrame
        The models at the best non-zero weight (forced supervision).
    controls : DataFrame
        :func:`~vaxis.claims.alignment.controls.run_controls` rows of every fold.
    """
    jobs = jobs.sort_values("fold")
    tab = {n: frame_from_jobs(jobs, n) for n in ("final", "forced_final", "trained", "chosen", "forced", "controls")}
    for n in ("final", "forced_final", "trained"):
        tab[n] = tab[n].sort_values(["strategy", "weight", "seed", "fold"], ignore_index=True, kind="mergesort")
    secs = list(jobs.job_seconds)
    seconds = {k: float(sum(s[k] for s in secs)) for k in ("train", "controls")}
    seconds["n_models"] = int(jobs.n_models.sum())
    seconds["n_control_models"] = int(sum(sum(d.values()) for d in jobs.n_control_models))
    run = AlignmentRun(tab["final"], tab["trained"], tab["chosen"], tab["forced"], list(jobs.fold_manifest), seconds)
    return run, tab["forced_final"], tab["controls"]


def run_alignment(eeg, pipeline=None, *, executor: str = "local", address: str | None = None,
                  cache_dir: str | os.PathLike | None = None, quick: bool = False, cut: bool = False,
                  **fields) -> tuple[Summary, AlignmentRun, pd.DataFrame, pd.DataFrame]:
    """Chapter 6's training: one :class:`AlignmentJob` per fold of ``eeg`` (raw DE, as loaded; ``fields`` are the
    job's fields), run or read from the store ``<cache>/sweeps/06_alignment``, reassembled by :func:`collect`.

    Returns
    -------
    summary : :class:`vaxis.runs.sweep.Summary`
    run, forced_final, controls
        As :func:`collect`.
    """
    job = AlignmentJob.for_cohort(eeg, pipeline, cache_dir, cut=cut, **fields)
    folds = [f["fold"] for f in job.design.manifest(eeg.subject_ids)]
    summary, jobs = run_jobs(job, {"fold": folds}, "06_alignment", "06_alignment", executor, address, quick)
    return (summary, *collect(jobs))
