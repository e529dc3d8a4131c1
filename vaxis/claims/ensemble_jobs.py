"""Chapter 8 as sweep jobs, and its decisive comparisons.

One job per task x fold (k-fold; fold ids are global across CV repeats) or per task x replicate (a fixed split,
the whole pool retrained from another seed: the replicates are the clusters of the paired test). A job trains the
fold's pool (:func:`vaxis.claims.ensemble.train_pool`) and scores every ensemble type at every size
(:func:`vaxis.claims.ensemble.ensemble_table`), keeping each test subject's balanced accuracy.

:func:`compare_ensembles` tests the headline ensemble against every same-size control and the DE + SVM re-run:
test subjects as units, each trained pool (fold or replicate) a cluster (:func:`vaxis.stats.clustered_paired_test`),
gains in BA points and relative %, Holm across all comparisons.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vaxis.claims.ensemble import ensemble_table, seedv_view, train_pool
from vaxis.decoding.stacking import StackConfig, resolve_device
from vaxis.decoding.training import make_manifest, prepare
from vaxis.eeg.pipeline import as_pipeline
from vaxis.runs.cache import data_fingerprint
from vaxis.runs.jobs import FacedJob, frame_from_jobs, one_thread, records
from vaxis.runs.sweep import check_data_key
from vaxis.stats import clustered_paired_test, holm

__all__ = ["EnsembleJob", "fold_job", "collect", "compare_ensembles", "subject_long"]


@dataclass(frozen=True)
class EnsembleJob(FacedJob):
    """One task x fold (or replicate) of chapter 8's pool.

    ``dataset``: ``"faced"`` (the shared input pipeline) or ``"seedv"`` (SEED-V DE windows, ``normalisation``
    applied by the trainer, no smoothing). ``fold`` indexes :func:`vaxis.decoding.training.make_manifest` (``protocol``,
    ``k``, ``repeats``, ``splits``, ``val_fraction``, ``fold_seed``); ``replicate`` retrains the pool from seed
    ``seed + 1000 * replicate`` (fixed splits). ``archs[0]`` is the main architecture (``main_seeds`` seeds and
    ``n_bag`` bags); every architecture gives ``pool_seeds`` label-only members to the greedy pool.
    """

    dataset: str = "faced"
    task: str = "9class"
    fold: int = 0
    replicate: int = 0
    protocol: str = "kfold"
    k: int = 10
    repeats: int = 1
    splits: dict | None = None
    val_fraction: float = 0.1
    fold_seed: int = 0
    seed: int = 0
    normalisation: str = "train-only"
    archs: list = field(default_factory=lambda: ["mlp", "linear", "dgcnn", "spatial_spectral"])
    main_seeds: int = 10
    pool_seeds: int = 5
    n_bag: int = 10
    n_aug: int = 0
    n_decor: int = 0
    ensemble_size: int = 10
    hidden: int = 32
    stack: dict = field(default_factory=dict)

    def view_and_manifest(self):
        """The window view and every fold of the manifest."""
        if self.dataset == "seedv":
            from vaxis.eeg.datasets import load_seedv

            sv = load_seedv(self.data_dir)
            check_data_key({"data_key": self.data_key, "data_dir": self.data_dir},
                           fingerprint=data_fingerprint(*sv.windows("5class"), np.asarray(sv.subject_ids)))
            view = seedv_view(sv, normalisation=self.normalisation)
        else:
            eeg = self.load()
            view = prepare(eeg, task=self.task, input="window",
                           normalisation=as_pipeline(self.pipeline).trainer_normalisation)
        man = make_manifest(view.subject_ids, self.protocol, k=self.k, seed=self.fold_seed,
                            val_fraction=self.val_fraction, splits=self.splits, repeats=self.repeats)
        return view, man


@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.ensemble_jobs:fold_job"`` (see :class:`EnsembleJob`).

    Returns
    -------
    dict
        ``table`` (:func:`~vaxis.claims.ensemble.ensemble_table` rows of this fold) and ``members``, as
        :func:`vaxis.runs.jobs.records`; ``test_subjects`` (the order of every row's ``subject_ba``); ``n_classes``;
        ``settings`` (the pool's); ``fold_manifest``; ``device_used``; ``train_s``.
    """
    t0 = time.perf_counter()
    job = EnsembleJob.from_config(config)
    view, man = job.view_and_manifest()
    dev = resolve_device(job.device)
    pool = train_pool(view, man, archs=tuple(job.archs), n_seeds=job.pool_seeds, main_seeds=job.main_seeds,
                      n_bag=job.n_bag, n_aug=job.n_aug, n_decor=job.n_decor, config=StackConfig(**job.stack),
                      hidden=job.hidden, seed=job.seed + 1000 * job.replicate, device=dev, folds=[job.fold])
    tab = ensemble_table(pool, job.ensemble_size, seed=job.seed + 1000 * job.replicate)
    return {**records(table=tab, members=pool.members),
            "test_subjects": [str(s) for s in pd.unique(pool.subj_test[job.fold])],
            "n_classes": int(pool.n_classes), "settings": pool.settings, "fold_manifest": man[job.fold],
            "device_used": str(dev), "train_s": round(time.perf_counter() - t0, 3)}


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


def subject_long(table: pd.DataFrame, ensemble: str, size: int, combiner: str = "mean") -> pd.DataFrame:
    """One row per cluster x test subject of one ensemble (``cluster``, ``fold``, ``subject``, ``ba``)."""
    q = table[(table.ensemble == ensemble) & (table["size"] == size) & (table.combiner == combiner)]
    if q.empty:
        raise KeyError(f"no rows for ensemble {ensemble!r} at size {size} ({combiner})")
    rows = [{"cluster": r.cluster, "fold": r.fold, "subject": s, "ba": b}
            for r in q.itertuples() for s, b in zip(r.test_subjects, r.subject_ba)]
    return pd.DataFrame(rows)


def compare_ensembles(tables: dict[str, pd.DataFrame], headline: str, size: int,
                      controls: Sequence[str] = ("single", "seed", "bagged", "pool-random"),
                      svm: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    """The headline ensemble at ``size`` against every control, per task.

    Parameters
    ----------
    tables : {task: table}
        :func:`collect`'s tables.
    svm : {task: DataFrame}, optional
        The DE + SVM re-run's per-subject scores (``fold``, ``subject``, ``balanced_accuracy``) on the same folds
        (:meth:`vaxis.claims.reference.Reference.subject_scores`); paired with the headline in every replicate.

    Returns
    -------
    DataFrame, one row per task x control: ``task``, ``control``, ``size``, ``headline_ba``, ``control_ba``,
    ``gain_points`` (BA points), ``ci_low`` / ``ci_high`` (of the points), ``gain_relative`` (% of the control's
    BA) with ``rel_ci_low`` / ``rel_ci_high``, ``p``, ``p_holm`` (Holm across every row), ``n`` (subjects),
    ``n_clusters``.
    """
    rows = []
    for task, tab in tables.items():
        h = subject_long(tab, headline, size)
        others = {c: subject_long(tab, c, 1 if c == "single" else size) for c in controls}
        if svm is not None and task in svm:
            s = svm[task].rename(columns={"balanced_accuracy": "ba"})[["fold", "subject", "ba"]]
            others["svm"] = h[["cluster", "fold", "subject"]].merge(s, on=["fold", "subject"], how="left")
        for name, c in others.items():
            m = h.merge(c, on=["cluster", "subject"], suffixes=("", "_c"))
            if len(m) != len(h) or m.ba_c.isna().any():
                raise ValueError(f"{task} / {name}: the control's subjects do not pair with the headline's")
            r = clustered_paired_test((m.ba - m.ba_c).to_numpy(), m.subject.to_numpy(), m.cluster.to_numpy())
            cba = float(m.ba_c.mean())
            rows.append({"task": task, "control": name, "size": size, "headline_ba": float(m.ba.mean()),
                         "control_ba": cba, "gain_points": 100 * r["diff"], "ci_low": 100 * r["ci_low"],
                         "ci_high": 100 * r["ci_high"], "gain_relative": 100 * r["diff"] / cba,
                         "rel_ci_low": 100 * r["ci_low"] / cba, "rel_ci_high": 100 * r["ci_high"] / cba,
                         "p": r["p"], "se_points": 100 * r["se"], "df": r["df"], "n": r["n"],
                         "n_clusters": r["n_clusters"]})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out.p.to_numpy())
    return out
