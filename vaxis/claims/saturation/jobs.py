"""Chapter 7 as sweep jobs: one job per fold trains the label-only model and every strategy (every seed), records
where their gradients go (with a shuffled-target control at the same states) and measures each criterion of
:mod:`vaxis.claims.saturation.criteria` on the fold's test subjects (per test subject where the criterion has
per-subject values); :func:`collect` turns the folds into the criteria, with the test subject as the unit and the
fold model as a cluster (or the corrected resampled t over folds for fold-level criteria)."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from vaxis.claims.common.conditions import CONDITION_STACK, clip_arrays, fold_inputs, train_conditions
from vaxis.claims.common.jobs import FacedJob, run_jobs, worker_of
from vaxis.claims.common.strategies import STRATEGIES
from vaxis.claims.saturation.criteria import (
    CRITERIA,
    ORDER,
    centroid_v_gain,
    fold_criterion,
    subject_criterion,
    v_readout_gain,
    v_readout_gains,
)
from vaxis.claims.saturation.measures import GradientRecorder, readout_scores, saturation, unit_reps
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.decoding.training_data import prepare
from vaxis.runs.jobs import frame_from_jobs, one_thread, records
from vaxis.runs.store import Summary

__all__ = ["SaturationJob", "fold_job", "collect", "run_saturation"]


@dataclass(frozen=True)
class SaturationJob(FacedJob):
    """One fold of chapter 7: the label-only model and every strategy at ``weights[strategy]`` for every seed (the
    chapter-6 protocol: clip-level features, the same initial weights and batch order), gradients recorded every
    ``record_every`` steps of each model, the control targets shuffled by ``control_seed``."""

    fold: int = 0
    design: FoldDesign = field(default_factory=FoldDesign)
    strategies: list = field(default_factory=lambda: list(STRATEGIES))
    weights: dict = field(default_factory=dict)
    seeds: list = field(default_factory=lambda: [0, 1, 2])
    arch: str = "mlp"
    stack: StackConfig = field(default_factory=lambda: CONDITION_STACK)
    hidden: int = 32
    record_every: int = 16
    targets: dict = field(default_factory=dict)
    control_seed: int = 0
    n_perm: int = 200


@worker_of(SaturationJob)
@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.saturation.jobs:fold_job"`` (see :class:`SaturationJob`).

    Returns
    -------
    dict
        As :func:`vaxis.runs.jobs.records`: ``scores`` (strategy, weight, seed, fold, val_ba, test_ba), ``label_only``
        (per seed: ``centroid_v_gain``, the pooled ``v_readout_gain`` and the descriptive
        :func:`~vaxis.claims.saturation.measures.saturation` and pooled
        :func:`~vaxis.claims.saturation.measures.readout_scores` values), ``gradients``
        (mean shares per strategy x seed x kind over the recorded steps, and
        ``paired_residual_gap``: the mean over steps of control minus alignment residual share),
        ``subject_scores`` (strategy, seed, fold, subject, ba: every model's BA per test subject),
        ``subject_readouts`` (label-only models per seed x test subject: the readouts' BA per view and
        ``v_readout_gain``; no training beyond the fold's, readouts fit on training subjects only); ``d``;
        ``fold_manifest``; ``train_s``; ``analysis_s``.
    """
    job = SaturationJob.from_config(config)
    eeg = job.load()
    targets, manifest, fold, vmaps = fold_inputs(job, eeg)
    view = prepare(clip_arrays(eeg), task="9class", input="window", normalisation="train-only")
    if sorted(view.subject_ids) != sorted(eeg.subject_ids):  # the manifest is built from the cohort's ids
        raise ValueError("the training view holds other subjects than the cohort; the manifest would not match it")
    rows = [("label-only", 0.0, s, job.fold) for s in job.seeds]
    rows += [(n, float(job.weights.get(n, 0.3)), s, job.fold) for n in job.strategies for s in job.seeds]
    rows = pd.DataFrame(rows, columns=["strategy", "weight", "seed", "fold"])
    rec = GradientRecorder(targets.positions, every=job.record_every, control=targets.shuffled(job.control_seed))
    cfg = job.stack
    t0 = time.time()
    scores, state = train_conditions(view, manifest, job.arch, rows, targets, vmaps, cfg, hidden=job.hidden,
                                     device=job.device, recorder=rec)
    train_s, t1 = time.time() - t0, time.time()
    test = [view.subject_ids.index(s) for s in fold["test"]]
    lo = np.flatnonzero(rows.strategy.to_numpy() == "label-only")
    reps, logits = unit_reps(state, view, rows)
    reps, logits = reps[lo], logits[lo]
    stats, per_subject = [], []
    for j, m in enumerate(lo):
        r, pred, sd = reps[j], logits[j].argmax(1), int(rows.seed[m])
        pooled, by_subject = readout_scores(r, view.category, view.groups, test, targets.positions)
        gains = v_readout_gains(r, view.category, view.groups, test, targets.positions, seed=sd)
        stats.append({"seed": sd, "fold": job.fold,
                      "centroid_v_gain": centroid_v_gain(r, view.category, view.groups, test, targets.positions,
                                                         job.n_perm, seed=sd),
                      "v_readout_gain": v_readout_gain(r, view.category, view.groups, test, targets.positions,
                                                       seed=sd),
                      **saturation(r, view.category, view.groups, pred, test, targets.positions),
                      **{f"readout_{k}": v for k, v in pooled.items()}})
        per_subject.append(by_subject.merge(gains, on="subject").assign(
            seed=sd, fold=job.fold, subject=lambda t: [view.subject_ids[i] for i in t.subject]))
    grads = _gradient_summary(rec.frame(), rows)
    subject_scores = pd.DataFrame([(r.strategy, int(r.seed), int(r.fold), s, float(b)) for r in scores.itertuples()
                                   for s, b in zip(fold["test"], r.subject_ba)],
                                  columns=["strategy", "seed", "fold", "subject", "ba"])
    return {**records(scores=scores.drop(columns=["subject_ba"]), label_only=pd.DataFrame(stats), gradients=grads,
                      subject_scores=subject_scores, subject_readouts=pd.concat(per_subject, ignore_index=True)),
            "d": int(state["d"]), "fold_manifest": fold, "train_s": train_s,
            "analysis_s": time.time() - t1}


def _gradient_summary(g: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Mean shares per model x kind, and the paired (same step) control-minus-alignment residual gap."""
    if g.empty:
        return pd.DataFrame(columns=["strategy", "seed", "kind", "v", "between_other", "residual", "n_steps",
                                     "paired_residual_gap"])
    g = g.assign(seed=rows.seed.to_numpy()[g.model.to_numpy()])
    out = g.groupby(["strategy", "seed", "kind"], sort=False)[["v", "between_other", "residual"]].mean()
    out["n_steps"] = g.groupby(["strategy", "seed", "kind"], sort=False).size()
    out = out.reset_index()
    pair = g[g.kind.isin(["alignment", "control"])].pivot_table(index=["strategy", "seed", "step"], columns="kind",
                                                                values="residual")
    gap = (pair.get("control") - pair.get("alignment")).groupby(level=["strategy", "seed"]).mean() \
        if {"control", "alignment"} <= set(pair.columns) else pd.Series(dtype=float)
    out["paired_residual_gap"] = [gap.get((s, sd), np.nan) if k == "alignment" else np.nan
                                  for s, sd, k in zip(out.strategy, out.seed, out.kind)]
    return out


def collect(jobs: pd.DataFrame, strategies: Sequence[str]) -> dict:
    """The five criteria (:func:`~vaxis.claims.saturation.criteria.subject_criterion` /
    :func:`~vaxis.claims.saturation.criteria.fold_criterion` records, in
    :data:`~vaxis.claims.saturation.criteria.ORDER`) and the tables behind them.

    Per-subject criteria average the seeds inside each (fold, test subject) and take the fold model as the
    cluster; fold-level criteria average the seeds inside a fold and use the corrected resampled t-test with the
    manifest's mean training (train + validation) and test subject counts.

    Returns
    -------
    dict
        ``criteria`` (list of records; ``residual_load_bearing`` also carries ``keep_only``: the same record for
        the readout with only the residual kept minus the full one), ``per_fold`` (DataFrame: fold and each
        criterion's fold mean), ``scores``, ``label_only``, ``gradients``, ``subject_scores``, ``subject_readouts``
        (DataFrames over every fold), ``d``, ``manifest``, ``train_s``, ``analysis_s``.
    """
    jobs = jobs.sort_values("fold")
    names = ("scores", "label_only", "gradients", "subject_scores", "subject_readouts")
    tabs = {n: frame_from_jobs(jobs, n) for n in names}
    lo, ss, sr = tabs["label_only"], tabs["subject_scores"], tabs["subject_readouts"]
    man = list(jobs.fold_manifest)
    n_test = float(np.mean([len(f["test"]) for f in man]))
    n_train = float(np.mean([len(f["train"]) + len(f.get("val", [])) for f in man]))
    key = ["fold", "subject"]
    base = ss[ss.strategy == "label-only"].groupby(key).ba.mean()
    cost = (base - ss[ss.strategy.isin(list(strategies))].groupby(key).ba.mean()).rename("supervision_does_not_pay")
    sub = sr.groupby(key)[["v_readout_gain", "full", "between_only", "residual_only"]].mean()
    per_subject = pd.concat([sub.v_readout_gain.rename("v_carries_accuracy"), cost,
                             (sub.full - sub.between_only).rename("residual_load_bearing"),
                             (sub.residual_only - sub.full).rename("keep_only")], axis=1).reset_index()
    per_fold = pd.DataFrame({"basin_saturated": lo.groupby("fold").centroid_v_gain.mean()})
    gaps = {}
    for f, rs in zip(jobs.fold, jobs.gradients):
        q = pd.DataFrame(rs)
        q = q[q.kind == "alignment"] if len(q) else q
        gaps[int(f)] = float(np.nanmean(q.paired_residual_gap)) if len(q) and q.paired_residual_gap.notna().any() \
            else np.nan
    per_fold["residual_starved"] = pd.Series(gaps)
    crit = []
    for n in ORDER:
        if CRITERIA[n].level == "fold":
            crit.append(fold_criterion(n, per_fold[n].to_numpy(), n_train, n_test))
        else:
            crit.append(subject_criterion(n, per_subject[n], per_subject.subject, per_subject.fold))
    keep = subject_criterion("residual_load_bearing", per_subject.keep_only, per_subject.subject, per_subject.fold)
    crit[ORDER.index("residual_load_bearing")]["keep_only"] = {k: keep[k] for k in ("statistic", "ci_low", "ci_high",
                                                                                      "mde", "p")}
    per_fold = per_fold.join(per_subject.groupby("fold")[[n for n in ORDER if n not in per_fold]].mean())
    ds = {int(d) for d in jobs.d}
    return {"criteria": crit, "per_fold": per_fold[ORDER].reset_index(names="fold"), **tabs, "d": ds.pop(),
            "manifest": man, "train_s": float(jobs.train_s.sum()), "analysis_s": float(jobs.analysis_s.sum())}


def run_saturation(eeg, pipeline=None, *, executor: str = "local", address: str | None = None,
                   cache_dir: str | os.PathLike | None = None, quick: bool = False, cut: bool = False,
                   **fields) -> tuple[Summary, dict]:
    """Chapter 7's training and measures: one :class:`SaturationJob` per fold of ``eeg`` (raw DE, as loaded;
    ``fields`` are the job's fields), run or read from the store ``<cache>/sweeps/07_saturation``.

    Returns
    -------
    summary : :class:`vaxis.runs.sweep.Summary`
    results : dict
        :func:`collect` of the jobs.
    """
    job = SaturationJob.for_cohort(eeg, pipeline, cache_dir, cut=cut, **fields)
    folds = [f["fold"] for f in job.design.manifest(eeg.subject_ids)]
    summary, jobs = run_jobs(job, {"fold": folds}, "07_saturation", "07_saturation", executor, address, quick)
    return summary, collect(jobs, job.strategies)
