"""Chapter 8 as sweep jobs, and its decisive comparisons.

One job per task x fold (k-fold; fold ids are global across CV repeats) or per task x replicate (a fixed split,
the whole pool retrained from another seed: the replicates are the clusters of the paired test). A job trains the
fold's pool (:func:`vaxis.claims.ensemble.combine.train_pool`) and scores every ensemble type at every size
(:func:`vaxis.claims.ensemble.combine.ensemble_table`), keeping each test subject's balanced accuracy.

 A FACED job also scores the comparator candidates on the fold's **validation** subjects
(``validation``: the validation subjects split in two halves, the best single label-only member chosen on the
first and scored on the second, and, in replicate 0, the DE + linear SVM trained on the fold's training subjects
only and scored on the same second half), from which :func:`validation_scores` and
:func:`vaxis.claims.ensemble.stats.choose_comparator` fix claim 8's comparator before any test score is read. The
paired comparisons are in :mod:`vaxis.claims.ensemble.stats`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vaxis.claims.common.jobs import FacedJob, run_jobs, worker_of
from vaxis.claims.ensemble.combine import ensemble_table, subject_scores
from vaxis.claims.ensemble.pool import seed_values, seedv_view, train_pool
from vaxis.decoding.baselines import CS, svm_baseline
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig, resolve_device
from vaxis.decoding.training_data import prepare
from vaxis.eeg.pipeline import as_pipeline
from vaxis.eeg.seedv import SeedVData
from vaxis.runs.cache import data_fingerprint
from vaxis.runs.jobs import frame_from_jobs, one_thread, records
from vaxis.runs.store import Summary
from vaxis.runs.sweep import check_data_key

__all__ = ["EnsembleJob", "fold_job", "collect", "validation_halves", "single_validation_ba", "svm_validation_ba",
           "validation_scores", "run_ensemble"]


@dataclass(frozen=True)
class EnsembleJob(FacedJob):
    """One task x fold (or replicate) of chapter 8's pool.

    ``dataset``: ``"faced"`` (the shared input pipeline) or ``"seedv"`` (SEED-V DE windows, ``normalisation``
    applied by the trainer, no smoothing). ``fold`` indexes the manifest of ``design``; ``replicate`` retrains the pool
    from seed ``seed + 1000 * replicate`` (fixed splits). ``archs[0]`` is the main architecture (the label-only seeds
    ``main_seeds`` and ``n_bag`` bags); every architecture gives the label-only seeds ``pool_seeds`` to the greedy
    pool. Seeds are values: what the chapter passes trains (an int ``n`` still means ``0..n-1``).
    ``design.stimulus="unseen"``: the cross-stimulus manifest (subject folds x clip folds; ``fold`` indexes it).
    ``svm_every``: the validation SVM keeps one training window in ``svm_every`` (as the reference re-run); it runs
    for the tasks in ``svm_val_tasks`` only (the claim's task: about 4-7 s per fold on FACED).
    """

    dataset: str = "faced"
    task: str = "9class"
    fold: int = 0
    replicate: int = 0
    design: FoldDesign = field(default_factory=FoldDesign)
    seed: int = 0
    normalisation: str = "train-only"
    archs: list = field(default_factory=lambda: ["mlp", "linear", "dgcnn", "spatial_spectral"])
    main_seeds: list = field(default_factory=lambda: list(range(10)))
    pool_seeds: list = field(default_factory=lambda: list(range(5)))
    svm_every: int = 10
    svm_val_tasks: list = field(default_factory=lambda: ["9class"])
    n_bag: int = 10
    n_aug: int = 0
    n_decor: int = 0
    ensemble_size: int = 10
    hidden: int = 32
    stack: StackConfig = field(default_factory=StackConfig)

    def view_and_manifest(self):
        """The window view and every fold of the manifest."""
        if self.dataset == "seedv":
            from vaxis.eeg.seedv import load_seedv

            sv = load_seedv(self.data_dir)
            check_data_key({"data_key": self.data_key, "data_dir": self.data_dir},
                           fingerprint=data_fingerprint(*sv.windows("5class"), np.asarray(sv.subject_ids)))
            view = seedv_view(sv, normalisation=self.normalisation)
        else:
            eeg = self.load()
            view = prepare(eeg, task=self.task, input="window",
                           normalisation=as_pipeline(self.pipeline).trainer_normalisation)
        labels = clip_ids = None
        if self.design.stimulus != "seen":
            eeg = self.load_raw()
            labels, clip_ids = eeg.labels, eeg.clip_ids
        return view, self.design.manifest(view.subject_ids, labels, clip_ids)


@worker_of(EnsembleJob)
@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.ensemble.jobs:fold_job"`` (see :class:`EnsembleJob`).

    Returns
    -------
    dict
        ``table`` (:func:`~vaxis.claims.ensemble.combine.ensemble_table` rows of this fold) and ``members``, as
        :func:`vaxis.runs.jobs.records`; ``test_subjects`` (the order of every row's ``subject_ba``); ``n_classes``;
        ``settings`` (the pool's, with the seed values trained); ``fold_manifest``; ``validation`` (the comparator
        candidates' validation BAs, :func:`validation_halves`); ``svm_val_s``; ``device_used``; ``train_s``.
    """
    t0 = time.perf_counter()
    job = EnsembleJob.from_config(config)
    view, man = job.view_and_manifest()
    dev = resolve_device(job.device)
    pool = train_pool(view, man, archs=tuple(job.archs), n_seeds=seed_values(job.pool_seeds),
                      main_seeds=seed_values(job.main_seeds), n_bag=job.n_bag, n_aug=job.n_aug, n_decor=job.n_decor,
                      config=job.stack, hidden=job.hidden, seed=job.seed + 1000 * job.replicate,
                      device=dev, folds=[job.fold])
    tab = ensemble_table(pool, job.ensemble_size, seed=job.seed + 1000 * job.replicate)
    half_a, half_b = validation_halves(pool.subj_val[job.fold])
    val = {"single": single_validation_ba(pool, job.fold, half_a, half_b)}
    t1 = time.perf_counter()
    if job.dataset == "faced" and job.replicate == 0 and job.task in job.svm_val_tasks:   # replicate-free SVM
        val["svm"] = svm_validation_ba(job.load_raw(), man[job.fold], job.task, job.pipeline, job.svm_every,
                                       subjects=half_b)
    return {**records(table=tab, members=pool.members),
            "test_subjects": [str(s) for s in pd.unique(pool.subj_test[job.fold])],
            "n_classes": int(pool.n_classes), "settings": pool.settings, "fold_manifest": man[job.fold],
            "validation": val, "svm_val_s": round(time.perf_counter() - t1, 3),
            "device_used": str(dev), "train_s": round(time.perf_counter() - t0, 3)}


def validation_halves(subjects: Sequence[str]) -> tuple[list[str], list[str]]:
    """A fold's validation subjects in two halves (sorted ids, alternating): the single model is chosen on the
    first and both comparator candidates are scored on the second, so neither score is inflated by the choice.
    With one validation subject both halves are that subject."""
    subs = sorted(set(map(str, subjects)))
    return (subs[0::2], subs[1::2]) if len(subs) >= 2 else (subs, subs)


def single_validation_ba(pool, fold: int, choose_on: Sequence[str], score_on: Sequence[str]) -> float:
    """The best label-only member chosen on validation subjects ``choose_on``, scored on ``score_on``: the mean of
    those subjects' window BAs (no test subject enters)."""
    m = pool.members[(pool.members.fold == fold) & (pool.members.kind == "seed")].member.to_numpy()
    y, subj, lp = pool.y_val[fold], np.asarray(pool.subj_val[fold]).astype(str), pool.logp_val[fold]
    a, b = np.isin(subj, list(choose_on)), np.isin(subj, list(score_on))
    pick = lambda rows, i: float(np.mean(subject_scores(y[rows], lp[i][rows].argmax(1), subj[rows],  # noqa: E731
                                                        pool.n_classes)))
    best = int(m[int(np.argmax([pick(a, i) for i in m]))])
    return pick(b, best)


def svm_validation_ba(eeg, fold: dict, task: str, pipeline, every: int = 10, Cs: Sequence[float] = CS,
                      subjects: Sequence[str] | None = None) -> float:
    """The DE + linear SVM's BA on a fold's **validation** subjects (trained on its training subjects only, C
    chosen inside them as in the re-run): the mean of the window BAs of ``subjects`` (default every validation
    subject). A cross-stimulus fold's held-out clips are dropped first (never trained, validated or scored here).

    Parameters
    ----------
    eeg : EEGData
        Raw DE cohort (``x`` (n_subjects, n_clips, n_chans, n_windows, n_bands), ``labels``, ``clip_ids``).
    fold : dict
        One manifest entry (``train``, ``val``, optional ``test_clips``).
    """
    x, labels = np.asarray(eeg.x), np.asarray(eeg.labels)
    cids = np.asarray(getattr(eeg, "clip_ids", np.arange(1, x.shape[1] + 1)))
    keep = ~np.isin(cids, fold.get("test_clips") or [])
    per: list[dict] = []
    svm_baseline(x[:, keep], labels[keep], eeg.subject_ids, task=task, pipeline=pipeline, Cs=Cs, every=every,
                 folds=[{"fold": int(fold["fold"]), "train": list(fold["train"]), "test": list(fold["val"])}],
                 clip_ids=cids[keep], subject_scores=per)
    want = set(map(str, fold["val"] if subjects is None else subjects))
    return float(np.mean([r["balanced_accuracy"] for r in per if str(r["subject"]) in want]))


def validation_scores(jobs: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Per task, the mean validation BA of each comparator candidate over the jobs (folds, replicates):
    ``{task: {"single": ..., "svm": ...}}`` (no test score enters)."""
    out: dict[str, dict[str, float]] = {}
    for task, tj in jobs.groupby("task", sort=False):
        vals = pd.DataFrame(list(tj.validation))
        out[str(task)] = {c: float(vals[c].mean()) for c in vals.columns if vals[c].notna().any()}
    return out


def collect(jobs: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per task, the ensemble table of every job (sorted by replicate, fold) with a ``cluster`` column (the
    trained pool: ``replicate * 10000 + fold``) and ``test_subjects`` per row."""
    out = {}
    for task, tj in jobs.groupby("task", sort=False):
        tj = tj.sort_values(["replicate", "fold"])
        parts = []
        for _, j in tj.iterrows():
            t = frame_from_jobs(pd.DataFrame([j]), "table")
            parts.append(t.assign(replicate=int(j.replicate), cluster=int(j.replicate) * 10_000 + int(j.fold),
                                  test_subjects=[j.test_subjects] * len(t)))
        out[task] = pd.concat(parts, ignore_index=True).assign(task=task)
    return out


def run_ensemble(cohort, pipeline=None, *, tasks: Sequence[str] = ("9class",), replicates: int = 1,
                 subject_folds: int | None = None, name: str = "08_residual_ensemble", executor: str = "local",
                 address: str | None = None, cache_dir: str | os.PathLike | None = None, quick: bool = False,
                 cut: bool = False, **fields) -> tuple[Summary, pd.DataFrame, dict[str, pd.DataFrame]]:
    """Chapter 8's pools: one :class:`EnsembleJob` per task x fold (x replicate under a fixed split), run or read
    from the store ``<cache>/sweeps/08_residual_ensemble``, reassembled by :func:`collect`.

    ``cohort``: FACED as loaded (raw DE; ``fields`` are the job's fields), or a
    :class:`vaxis.eeg.seedv.SeedVData` (its own subject folds: ``fields`` give its ``design`` and the rest; the
    task is ``"5class"``). ``subject_folds``: keep only the folds of the first ``subject_folds`` subject folds (the
    cross-stimulus manifest crosses every subject fold with the clip folds).

    Returns
    -------
    summary : :class:`vaxis.runs.sweep.Summary`
    jobs : DataFrame
        One row per job (``settings``, ``validation``, ``train_s``, ...).
    tables : dict
        :func:`collect` of the jobs, by task.
    """
    if isinstance(cohort, SeedVData):
        job = EnsembleJob(dataset="seedv", data_dir=str(cohort.data_dir),
                          data_key=data_fingerprint(*cohort.windows("5class"), np.asarray(cohort.subject_ids)),
                          cache_dir=None if cache_dir is None else str(cache_dir), task="5class", **fields)
        axes: dict = {"fold": list(range(job.design.n_folds))}
    else:
        job = EnsembleJob.for_cohort(cohort, pipeline, cache_dir, cut=cut, **fields)
        man = job.design.manifest(cohort.subject_ids, cohort.labels, cohort.clip_ids)
        axes = {"task": list(tasks), "fold": [f["fold"] for f in man
                                              if subject_folds is None or f["subject_fold"] < subject_folds]}
        if job.design.protocol == "fixed":
            axes["replicate"] = list(range(replicates))
    summary, jobs = run_jobs(job, axes, "08_residual_ensemble", name, executor, address, quick)
    return summary, jobs, collect(jobs)
