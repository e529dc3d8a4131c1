"""The reference decoders every EEG chapter (5-8) stands beside: FACED's DE + linear SVM and a label-only DE-MLP.

Both read the shared input pipeline (:mod:`vaxis.eeg.pipeline`) on the same subject-disjoint folds, one sweep job
per task x CV repeat (:func:`repeat_job`: every fold of the repeat, the MLPs of all folds and seeds trained in one
stacked pass), stored under ``<cache>/sweeps/reference``: computed once per build, reused by every chapter with the
same folds (a job's id depends on its repeat, not on how many repeats a chapter asks for).

``svm``: one-vs-rest squared-hinge linear SVM (:mod:`vaxis.decoding.baselines`), ``C`` chosen on 20 % of the training
subjects, trained on every ``svm_every``-th window. ``mlp``: the window-level DE-MLP (hidden 64, dropout 0.3, Adam
lr 1e-3, <= 10 epochs of 40 batches of 256 windows, early stopping on the validation subjects' loss, patience 3),
seeds averaged. Those MLP settings were chosen among five candidates by the mean validation-subject BA over both
tasks (never a test fold): 9-class / binary validation BA 0.381 / 0.675 against 0.374-0.384 / 0.663-0.674 for the
others (100 FACED subjects, 10 folds, 2 seeds).

Every score is kept per test subject (window BA of that subject's windows), the unit of the clustered paired
tests (:func:`vaxis.stats.clustered_paired_test`); the fold-pooled window BA equals the mean of its subjects'
BAs, since every subject contributes the same windows per class. The MLP's subject rows keep their ``seed``: with
one fold (a fixed split) the seeds are the trained replicates whose spread the interval must carry.

Both protocols: ``stimulus="seen"`` (cross-subject: test subjects watch the training clips) and ``"unseen"``
(cross-stimulus: every subject fold crossed with the three clip folds of :func:`vaxis.eeg.faced.clip_folds`, so a
test unit is a held-out subject watching a held-out clip). Every contract entry names its ``protocol``.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from vaxis.claims.common.jobs import FacedJob, worker_of
from vaxis.decoding.baselines import CS, svm_baseline
from vaxis.decoding.folds import FoldDesign, fold_indices, protocol_name
from vaxis.decoding.training import evaluate
from vaxis.eeg.pipeline import as_pipeline
from vaxis.runs.jobs import chapter_store, frame_from_jobs, job_grid, one_thread, records
from vaxis.runs.sweep import run_checked
from vaxis.stats import clustered_paired_test, t_interval

__all__ = ["REFERENCE_MLP", "ReferenceJob", "repeat_job", "Reference", "run_reference", "contract_entry",
           "manifest_for"]

#: The label-only DE-MLP's settings (chosen on validation subjects; see the module docstring).
REFERENCE_MLP: dict = {"hidden": 64, "dropout": 0.3, "lr": 1e-3, "epochs": 10, "steps_per_epoch": 40,
                       "patience": 3, "batch_size": 256, "max_val": 2048}
MODEL_NAMES = {"svm": "DE + linear SVM (re-run, leakage-free)", "mlp": "label-only DE-MLP"}


@dataclass(frozen=True)
class ReferenceJob(FacedJob):
    """One task x CV repeat of the reference decoders: every fold of repeat ``repeat`` of ``design``."""

    task: str = "9class"
    repeat: int = 0
    design: FoldDesign = field(default_factory=FoldDesign)
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    svm_every: int = 10
    svm_cs: list = field(default_factory=lambda: list(CS))
    mlp: dict = field(default_factory=lambda: dict(REFERENCE_MLP))


def manifest_for(subject_ids: Sequence[str], design: FoldDesign = FoldDesign(), repeat: int = 0,
                 labels: Sequence[int] | None = None, clip_ids: Sequence[int] | None = None) -> list[dict]:
    """The folds of one repeat of ``design`` (the same entries as in its full manifest); a cross-stimulus design
    crosses them with the clip folds of ``labels`` / ``clip_ids``."""
    man = dataclasses.replace(design, repeats=repeat + 1).manifest(subject_ids, labels, clip_ids)
    return [f for f in man if f["repeat"] == repeat]


@worker_of(ReferenceJob)
@one_thread
def repeat_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.reference.baselines:repeat_job"``: the SVM and the MLP on every fold of one task x
    repeat.

    Returns
    -------
    dict
        ``folds`` rows (model, task, repeat, fold, level, balanced_accuracy, accuracy, macro_f1, n) and
        ``subjects`` rows (model, task, repeat, fold, subject, balanced_accuracy; MLP seeds averaged), as
        :func:`vaxis.runs.jobs.records`; ``manifest`` (the repeat's folds); ``svm_s`` and ``mlp_s`` (seconds).
    """
    job = ReferenceJob.from_config(config)
    raw = job.load_raw()
    eeg = job.load()
    man = manifest_for(eeg.subject_ids, job.design, job.repeat, eeg.labels, eeg.clip_ids)
    t0 = time.perf_counter()
    subj: list[dict] = []
    units: list[dict] = []
    confusions: list = []
    svm = svm_baseline(raw.x, raw.labels, raw.subject_ids, task=job.task, pipeline=job.pipeline,
                       Cs=job.svm_cs, every=job.svm_every, seed=0, folds=man, subject_scores=subj,
                       clip_ids=raw.clip_ids, unit_scores=units, confusions=confusions)
    t1 = time.perf_counter()
    mlp_kw = dict(job.mlp)
    dropout = mlp_kw.pop("dropout", 0.0)
    df, run = evaluate("mlp", eeg, task=job.task, seeds=list(job.seeds), manifest=man,
                       normalisation=as_trainer(job.pipeline), device=job.device, progress=False, threads=1,
                       arch_kwargs={"dropout": dropout}, **mlp_kw)
    t2 = time.perf_counter()
    fold_rows = [{"model": "svm", "task": job.task, "repeat": job.repeat, "fold": r.fold, "level": r.level,
                  "balanced_accuracy": r.balanced_accuracy, "accuracy": r.accuracy, "macro_f1": r.macro_f1, "n": r.n}
                 for r in svm.itertuples()]
    mlp_mean = df.groupby(["fold", "level"], sort=False)[["balanced_accuracy", "accuracy", "macro_f1", "n"]].mean()
    fold_rows += [{"model": "mlp", "task": job.task, "repeat": job.repeat, "fold": f, "level": lv, **r.to_dict()}
                  for (f, lv), r in mlp_mean.iterrows()]
    subj_rows = [{"model": "svm", "task": job.task, **r} for r in subj]
    ms = run.subject_scores[["seed", "fold", "subject", "balanced_accuracy"]]
    subj_rows += [{"model": "mlp", "task": job.task, "repeat": job.repeat, **r} for r in ms.to_dict("records")]
    unit_rows = [{"model": "svm", "task": job.task, **u} for u in units]
    unit_rows += [{"model": "mlp", "task": job.task, "repeat": job.repeat, **u} for u in mlp_units(run, man)]
    confusion = np.sum(confusions, axis=0).tolist()
    return {**records(folds=pd.DataFrame(fold_rows), subjects=pd.DataFrame(subj_rows), units=pd.DataFrame(unit_rows)),
            "manifest": man, "svm_confusion": confusion, "svm_s": round(t1 - t0, 2), "mlp_s": round(t2 - t1, 2)}


def mlp_units(run, manifest: list[dict]) -> list[dict]:
    """Per fold x test subject x test clip: windows ``n`` and correct windows ``n_correct`` (mean over seeds)."""
    v = run.view
    pos = {s: i for i, s in enumerate(v.subject_ids)}
    seeds = sorted(run.index.seed.unique())
    out = []
    for f in manifest:
        ix = fold_indices(f, v.groups, v.clips, pos)["test"]
        correct = np.zeros(len(ix))
        for s in seeds:
            mod = run.model(s, f["fold"])
            with torch.no_grad():
                logits = torch.cat([mod(run.normalise(s, f["fold"], v.X[torch.as_tensor(ix[a:a + 8192])]))
                                    for a in range(0, len(ix), 8192)])
            correct += (logits.argmax(1).numpy() == v.y[ix]) / len(seeds)
        key = v.groups[ix].astype(np.int64) * 1000 + v.clips[ix]
        uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
        n_correct = np.bincount(inv, weights=correct)
        out += [{"fold": f["fold"], "subject": v.subject_ids[int(v.groups[ix[j]])], "clip": int(v.clips[ix[j]]),
                 "n": int(c), "n_correct": float(k)}
                for j, c, k in zip(first, np.bincount(inv), n_correct)]
    return out


def as_trainer(pipeline: dict) -> str:
    """The normalisation a trainer still applies to a pipeline's output."""
    return as_pipeline(pipeline).trainer_normalisation


@dataclass
class Reference:
    """The reference decoders of one cohort: ``folds`` (fold-level rows), ``subjects`` (per test subject),
    ``manifest`` (every fold, repeat-major), ``pipeline``, ``seconds`` (summed job time) and ``wall_s``;
    ``units`` (per fold x test subject x test clip: ``n`` windows, ``n_correct``) and ``svm_confusion``
    ({task: (n_classes, n_classes) test-window counts summed over folds and repeats})."""

    folds: pd.DataFrame
    subjects: pd.DataFrame
    manifest: list[dict]
    pipeline: dict
    seconds: float
    wall_s: float
    units: pd.DataFrame | None = None
    svm_confusion: dict | None = None

    def subject_scores(self, model: str, task: str, by_seed: bool = False) -> pd.DataFrame:
        """Rows (repeat, fold, subject, balanced_accuracy) of one model and task; the MLP's seeds averaged unless
        ``by_seed`` (then a ``seed`` column too; the SVM has seed 0)."""
        q = self.subjects[(self.subjects.model == model) & (self.subjects.task == task)]
        if q.empty:
            raise KeyError(f"no reference scores for model {model!r}, task {task!r}")
        q = q.assign(seed=q["seed"].fillna(0).astype(int) if "seed" in q else 0)
        if by_seed:
            return q[["repeat", "fold", "seed", "subject", "balanced_accuracy"]].reset_index(drop=True)
        return (q.groupby(["repeat", "fold", "subject"], sort=False).balanced_accuracy.mean().reset_index())

    @property
    def protocol(self) -> str:
        """``"cross-subject"`` or ``"cross-stimulus"`` (the folds carry ``test_clips`` under the latter)."""
        return protocol_name("unseen" if any("test_clips" in f for f in self.manifest) else "seen")

    def contract(self) -> dict[str, list[dict]]:
        """The results contract's ``baseline`` (SVM) and ``label_only`` (MLP) fields, one entry per task."""
        return {key: [{**contract_entry(self.subject_scores(model, t, by_seed=True), MODEL_NAMES[model], t),
                       "protocol": self.protocol}
                      for t in self.subjects.task.unique()]
                for key, model in (("baseline", "svm"), ("label_only", "mlp"))}


def contract_entry(scores: pd.DataFrame, name: str, task: str) -> dict:
    """``{name, task, ba, ci_low, ci_high, ci_unit, n_subjects, n_folds}``: the mean window BA over test subjects
    with its 95 % CI.

    With two or more trained folds the CI is :func:`~vaxis.stats.clustered_paired_test`'s (subjects as units, fold
    models as clusters, seeds averaged; ``ci_unit`` ``"fold"``). With one fold (a fixed split) it is taken over test
    subjects (``ci_unit`` ``"test subject"``): with several seeds (``scores.seed``) the clustered test with the
    seed replicates as clusters, with one a t-interval over the test subjects. A CI of zero width is then only
    possible when every test subject scores the same.
    """
    seed = scores["seed"].astype(int) if "seed" in scores else pd.Series(0, index=scores.index)
    cluster = scores.repeat.astype(int) * 10_000 + scores.fold.astype(int)
    per_model = scores.assign(cluster=cluster)
    if cluster.nunique() >= 2 and scores.subject.nunique() >= 2:
        mean_seeds = per_model.groupby(["cluster", "subject"], sort=False).balanced_accuracy.mean().reset_index()
        r = clustered_paired_test(mean_seeds.balanced_accuracy.to_numpy(), mean_seeds.subject.to_numpy(),
                                  mean_seeds.cluster.to_numpy())
        ba, lo, hi, unit = r["diff"], r["ci_low"], r["ci_high"], "fold"
    elif seed.nunique() >= 2 and scores.subject.nunique() >= 2:
        r = clustered_paired_test(scores.balanced_accuracy.to_numpy(), scores.subject.to_numpy(), seed.to_numpy())
        ba, lo, hi, unit = r["diff"], r["ci_low"], r["ci_high"], "test subject"
    elif scores.subject.nunique() >= 2:
        subj = scores.groupby("subject").balanced_accuracy.mean().to_numpy()
        ba, lo, hi = t_interval(subj)
        unit = "test subject"
    else:
        ba = lo = hi = float(scores.balanced_accuracy.mean())
        unit = "test subject"
    return {"name": name, "task": task, "ba": float(ba), "ci_low": float(max(lo, 0.0)),
            "ci_high": float(min(hi, 1.0)), "ci_unit": unit,                       # BA lives in [0, 1]
            "n_subjects": int(scores.subject.nunique()), "n_folds": int(cluster.nunique())}


def run_reference(eeg, pipeline=None, tasks: Sequence[str] = ("9class", "binary"), design: FoldDesign = FoldDesign(),
                  seeds: Sequence[int] = (0, 1, 2), svm_every: int = 10, executor: str = "inline",
                  address: str | None = None, cache_dir: str | os.PathLike | None = None, quick: bool = False,
                  device: str = "auto", cut: bool = False) -> Reference:
    """Run (or read from the store) the reference decoders of ``eeg`` (raw DE, as loaded) for every task x fold.

    ``quick``: 1 seed, 3 epochs of 10 batches for the MLP (tests). ``cut``: ``eeg`` is a subset of its folder.
    ``design``: the folds (its ``repeats`` are the jobs' ``repeat`` axis; ``stimulus="unseen"``: cross-stimulus,
    subject folds x clip folds).
    """
    t0 = time.perf_counter()
    mlp = dict(REFERENCE_MLP)
    if quick:
        seeds, mlp = list(seeds)[:1], {**mlp, "epochs": 3, "steps_per_epoch": 10}
    job = ReferenceJob.for_cohort(eeg, pipeline, cache_dir, cut=cut, design=design, seeds=list(seeds),
                                  svm_every=svm_every, mlp=mlp, device=device)
    man = design.manifest(eeg.subject_ids, eeg.labels, eeg.clip_ids)
    grid = job_grid(job, {"task": list(tasks), "repeat": list(range(design.repeats))},
                    name=f"reference decoders ({protocol_name(design.stimulus)})")
    summary, jobs = run_checked(grid, chapter_store("reference", cache_dir), executor, address, quick)
    order = {t: i for i, t in enumerate(tasks)}
    jobs = jobs.sort_values(["task", "repeat"], key=lambda c: c.map(order) if c.name == "task" else c,
                            kind="mergesort")
    confusion = {t: np.sum([np.asarray(c) for c in jobs[jobs.task == t].svm_confusion], axis=0)
                 for t in jobs.task.unique()}
    return Reference(frame_from_jobs(jobs, "folds"), frame_from_jobs(jobs, "subjects"), man, job.pipeline,
                     float(jobs.svm_s.sum() + jobs.mlp_s.sum()), time.perf_counter() - t0,
                     frame_from_jobs(jobs, "units"), confusion)
