"""Chapter 5 as sweep jobs: one job per architecture x chunk of folds trains every seed (labels only) and probes
each fold's models against the LLM's positions; :func:`collect` turns the jobs into the population tests of
:mod:`vaxis.claims.rediscovery.nulls`; :func:`run_rediscovery` is the chapter's entry point."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm
from scipy.stats import t as t_dist

from vaxis.claims.common.jobs import FacedJob, run_jobs, worker_of
from vaxis.claims.common.probes import class_centroids, probe_scores
from vaxis.claims.rediscovery.nulls import (
    build_maps,
    centroid_rdm,
    population_test,
    rsa_scores,
    rsa_test,
)
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.training import evaluate
from vaxis.eeg.pipeline import as_pipeline
from vaxis.runs.jobs import frame_from_jobs, one_thread, records
from vaxis.runs.store import Summary
from vaxis.stats import corrected_resampled_ttest, random_permutations

__all__ = ["RediscoveryJob", "fold_job", "collect", "probe_units", "claim5_inputs", "scoreboard_row",
           "run_rediscovery"]


# ------------------------------------------------------------------------ chapter 5: one arch x fold as a job
@dataclass(frozen=True)
class RediscoveryJob(FacedJob):
    """Chapter 5's sweep job: every seed of ``arch`` trained on the folds ``folds`` (labels only; one stacked pass),
    then probed fold by fold.

    ``train``: keyword arguments of :func:`vaxis.decoding.training.evaluate` (``epochs``, ``lr``, ``patience``,
    ``steps_per_epoch``, ``batch_size``, ``hidden``, ``max_val``, ``dropout``), overridden per architecture by
    ``arch_settings[arch]``. ``positions`` (9,) and ``llm_rdm`` (9, 9): the LLM's V-axis positions and
    nine-sentence cosine distances. ``n_perm``: unrestricted permutations (probe maps and RSA labels), drawn from
    ``map_seed`` identically in every job. ``rep_every``: one window in ``rep_every`` per clip for the unit
    representations. More folds per job train faster on a CPU (one larger stack); one fold per job spreads better
    over a cluster; the results are the same either way (``evaluate(folds=...)`` replays the full stack's draws).
    ``design.stimulus``: ``"seen"`` (cross-subject) or ``"unseen"`` (cross-stimulus: the decoders train without the
    fold's held-out clips, and the probes fit on training subjects' training clips and score held-out subjects' held-out
    clips).
    """

    arch: str = "mlp"
    folds: list = field(default_factory=lambda: [0])
    seeds: list = field(default_factory=lambda: list(range(9)))
    design: FoldDesign = field(default_factory=FoldDesign)
    train: dict = field(default_factory=dict)
    arch_settings: dict = field(default_factory=dict)
    positions: list = field(default_factory=list)
    llm_rdm: list = field(default_factory=list)
    n_perm: int = 10_000
    map_seed: int = 0
    rep_every: int = 5


def score_model(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, test_subjects: Sequence[int],
                maps: np.ndarray, index: dict, llm_rdm: np.ndarray, rsa_perms: np.ndarray, trained: bool = True
                ) -> dict:
    """Probe scores and RSA of one model's unit representations (held-out subjects), under every map.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
        One row per subject x clip (e.g. :meth:`vaxis.decoding.training.EvalRun.unit_representations`).
    category, subject : ndarray, shape (n_units,)
    test_subjects : sequence of int
        The held-out subjects (the rest fit the probes and orient nothing else).
    maps, index : from :func:`build_maps`.
    llm_rdm : ndarray, shape (9, 9)
    rsa_perms : ndarray, shape (1 + n_perm, 9), row 0 the identity.
    trained : bool
        False: score the true map and identity only (untrained copies need no null).

    Returns
    -------
    dict
        ``rows`` (weights, probe, score, null_mean, null_sd; probes of :data:`vaxis.claims.common.probes.PROBES` and
        ``"rsa"``),
        ``ridge`` (n_maps,) and ``rsa`` (1 + n_perm,) score vectors, ``centroids`` (train, test) (9, d).
    """
    sc = probe_scores(rep, category, subject, maps if trained else maps[:, :1], test_subjects)
    cen_tr, cen_te = class_centroids(rep, category, subject, test_subjects, 9)
    rsa = rsa_scores(centroid_rdm(cen_te)[None], llm_rdm, rsa_perms if trained else rsa_perms[:1])[0]
    rows = []
    for name, v in [*sc.items(), ("rsa", rsa)]:
        null = v[index["unrestricted"]] if name != "rsa" else v[1:]
        rows.append({"weights": "trained" if trained else "untrained", "probe": name, "score": float(v[0]),
                     "null_mean": float(np.nanmean(null)) if null.size else float("nan"),
                     "null_sd": float(np.nanstd(null)) if null.size else float("nan")})
    return {"rows": rows, "ridge": sc["ridge"], "rsa": rsa, "centroids": (cen_tr, cen_te)}


def probe_units(units: dict[str, np.ndarray], fold: dict, test_subjects: Sequence[int]) -> dict[str, np.ndarray]:
    """The units a fold's probes see: all of them (cross-subject), or, when the fold holds out clips
    (``test_clips``, cross-stimulus), the training subjects' training clips and the test subjects' held-out clips."""
    if "test_clips" not in fold:
        return units
    held = np.isin(units["clip"], fold["test_clips"])
    test = np.isin(units["subject"], np.asarray(test_subjects))
    keep = (test & held) | (~test & ~held)
    return {k: v[keep] for k, v in units.items()}


@worker_of(RediscoveryJob)
@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.rediscovery.jobs:fold_job"`` (see :class:`RediscoveryJob`).

    Returns
    -------
    dict
        ``accuracy`` rows (:func:`~vaxis.decoding.training.evaluate`'s, these folds); ``models`` rows (seed, fold,
        weights
        ``trained`` | ``untrained``, probe, score, null_mean, null_sd; RSA as probe ``"rsa"``; the null over the
        unrestricted maps, trained models only); ``ridge_sum`` (n_maps,) and ``rsa_sum`` (1 + n_perm,): the
        trained models' scores under every map / label permutation, summed over seeds and folds; ``n_models``
        (seeds x folds); ``centroids`` ({fold: first seed's train / test class centroids, (9, d)});
        ``fold_manifests``; ``train_s``, ``probe_s``.
    """
    job = RediscoveryJob.from_config(config)
    t0 = time.perf_counter()
    eeg = job.load()
    settings = {**job.train, **job.arch_settings.get(job.arch, {})}
    dropout = settings.pop("dropout", 0.0)
    folds = [int(f) for f in job.folds]
    d = job.design
    df, run = evaluate(job.arch, eeg, protocol=d.protocol, task="9class", seeds=list(job.seeds), k=d.n_folds,
                       fold_seed=d.fold_seed, splits=d.splits, repeats=d.repeats, folds=folds,
                       val_fraction=d.val_fraction, stimulus=d.stimulus,
                       normalisation=as_pipeline(job.pipeline).trainer_normalisation, device=job.device,
                       progress=False, threads=1, arch_kwargs={"dropout": dropout}, **settings)
    train_s, t1 = time.perf_counter() - t0, time.perf_counter()
    maps, index = build_maps(job.positions, job.n_perm, job.map_seed)
    rsa_perms = np.vstack([np.arange(9), random_permutations(job.n_perm, 9, job.map_seed + 1, identity="allowed")])
    llm_rdm = np.asarray(job.llm_rdm, dtype=float)
    rows, ridge_sum, rsa_sum, centroids, fms = [], np.zeros(maps.shape[1]), np.zeros(len(rsa_perms)), {}, []
    for f in folds:
        fm = next(m for m in run.manifest if m["fold"] == f)
        fms.append(fm)
        test_idx = [eeg.subject_ids.index(t) for t in fm["test"]]
        for s in job.seeds:
            for untrained in (False, True):
                r = probe_units(run.unit_representations(s, f, untrained=untrained, every=job.rep_every), fm,
                                test_idx)
                out = score_model(r["rep"], r["category"], r["subject"], test_idx, maps, index, llm_rdm, rsa_perms,
                                  trained=not untrained)
                rows += [{"seed": s, "fold": f, **row} for row in out["rows"]]
                if not untrained:
                    ridge_sum += out["ridge"]
                    rsa_sum += out["rsa"]
                    if f not in centroids:
                        centroids[f] = {"seed": s, "train": out["centroids"][0].tolist(),
                                        "test": out["centroids"][1].tolist()}
    return {**records(accuracy=df, models=pd.DataFrame(rows)), "ridge_sum": ridge_sum.tolist(),
            "rsa_sum": rsa_sum.tolist(), "n_models": len(job.seeds) * len(folds),
            "centroids": {str(f): c for f, c in centroids.items()}, "fold_manifests": fms, "train_s": train_s,
            "probe_s": time.perf_counter() - t1}


def collect(jobs: pd.DataFrame, archs: Sequence[str], seeds: Sequence[int], positions: Sequence[float],
            n_perm: int, map_seed: int = 0, alpha: float = 0.05) -> dict:
    """Chapter 5's tables and tests from its jobs (one row per arch x chunk of folds).

    Returns
    -------
    dict
        ``accuracy`` (rows of every job, arch order then fold); ``models`` (per arch x seed x weights x probe: the
        mean over folds of score, null_mean, null_sd); ``population`` (:func:`population_test` plus ``gain``,
        ``gain_ci`` over folds); ``rsa`` (:func:`rsa_test` plus ``gain``, ``gain_ci``); ``nulls`` (the population
        statistic under every unrestricted / split-kept map and RSA label permutation); ``n_models`` (arch x seed
        models); ``manifest`` (the first arch's folds); ``centroids`` {(arch, fold): (seed, train, test)};
        ``train_s`` / ``probe_s`` {arch: seconds}.
    """
    rank = {a: i for i, a in enumerate(archs)}
    jobs = jobs.assign(first_fold=[min(f) for f in jobs.folds]).sort_values(
        ["arch", "first_fold"], key=lambda c: c.map(rank) if c.name == "arch" else c, kind="mergesort")
    missing = set(archs) - set(jobs.arch)
    if missing:
        raise ValueError(f"no job for archs {sorted(missing)}")
    acc = frame_from_jobs(jobs, "accuracy").sort_values(["arch", "seed", "fold", "level"], key=lambda c: c.map(rank)
                                                        if c.name == "arch" else c, kind="mergesort", ignore_index=True)
    per = pd.DataFrame([{"arch": a, **r} for a, rs in zip(jobs.arch, jobs["models"]) for r in rs])
    models = (per.groupby(["arch", "seed", "weights", "probe"], sort=False)[["score", "null_mean", "null_sd"]]
              .mean().reset_index())
    n_total = int(jobs.n_models.sum())
    _, index = build_maps(positions, n_perm, map_seed)
    ridge = np.sum(np.stack(jobs.ridge_sum.map(np.asarray)), axis=0)
    rsa_v = np.sum(np.stack(jobs.rsa_sum.map(np.asarray)), axis=0)
    pop = population_test(ridge, n_total, index, alpha)
    rsa = rsa_test(rsa_v, n_total)
    nulls = {"unrestricted": ridge[index["unrestricted"]] / n_total, "split_kept": ridge[index["split_kept"]] / n_total,
             "rsa": rsa_v[1:] / n_total}
    tr = per[per.weights == "trained"]
    fms = [m for ms in jobs[jobs.arch == archs[0]].fold_manifests for m in ms]
    n_test = float(np.mean([len(m["test"]) for m in fms]))
    n_train = float(np.mean([len(m["train"]) + len(m.get("val", [])) for m in fms]))
    for out, probe in ((pop, "ridge"), (rsa, "rsa")):
        q = tr[tr.probe == probe]
        g = (q.score - q.null_mean).groupby(q.fold).mean()
        # folds are the only unit of the population gain (every model of a fold shares its test subjects):
        # Nadeau & Bengio's corrected resampled t, and the MDE from its standard error
        ct = corrected_resampled_ttest(g.to_numpy(), n_train, n_test)
        out["gain"], out["gain_ci"], out["gain_se"] = ct["diff"], [ct["ci_low"], ct["ci_high"]], ct["se"]
        out["n_folds"] = int(g.size)
        out["mde_se"] = float((t_dist.ppf(1 - alpha / 2, ct["df"]) + norm.ppf(0.8)) * ct["se"])
    first = jobs[jobs.arch == archs[0]]
    cents = {(a, int(f)): (int(c["seed"]), np.asarray(c["train"], float), np.asarray(c["test"], float))
             for a, cs in zip(jobs.arch, jobs.centroids) for f, c in cs.items()}
    n_folds = int(per.fold.nunique())
    return {"accuracy": acc, "models": models, "population": pop, "rsa": rsa, "nulls": nulls,
            "n_models": n_total // max(n_folds, 1), "manifest": [m for ms in first.fold_manifests for m in ms],
            "centroids": cents, "train_s": jobs.groupby("arch").train_s.sum().to_dict(),
            "probe_s": jobs.groupby("arch").probe_s.sum().to_dict()}


def run_rediscovery(eeg, pipeline=None, *, archs: Sequence[str], folds_per_job: int | None = None,
                    alpha: float = 0.05, name: str = "05_rediscovery", executor: str = "local",
                    address: str | None = None, cache_dir: str | os.PathLike | None = None, quick: bool = False,
                    cut: bool = False, **fields) -> tuple[Summary, dict]:
    """Chapter 5's population: one :class:`RediscoveryJob` per architecture x chunk of ``folds_per_job`` folds of
    ``eeg`` (raw DE, as loaded; None: every fold in one job; ``fields`` are the job's fields), run or read from the
    store ``<cache>/sweeps/05_rediscovery``, turned into the tests by :func:`collect`.

    The jobs start in reverse order of ``archs`` (listed cheapest first), so the longest job starts first and two
    workers finish together.

    Returns
    -------
    summary : :class:`vaxis.runs.sweep.Summary`
    results : dict
        :func:`collect` of the jobs.
    """
    job = RediscoveryJob.for_cohort(eeg, pipeline, cache_dir, cut=cut, **fields)
    folds = [f["fold"] for f in job.design.manifest(eeg.subject_ids, eeg.labels, eeg.clip_ids)]
    step = folds_per_job or len(folds)
    chunks = [folds[i:i + step] for i in range(0, len(folds), step)]
    summary, jobs = run_jobs(job, {"arch": list(reversed(archs)), "folds": chunks}, "05_rediscovery", name,
                             executor, address, quick)
    return summary, collect(jobs, archs, job.seeds, job.positions, job.n_perm, map_seed=job.map_seed, alpha=alpha)


def claim5_inputs(res: dict) -> tuple[float, float, float, float, float]:
    """The statistics claim 5's rule reads from :func:`collect`'s output, in
    :func:`vaxis.publish.verdicts.claim5`'s order: p unrestricted, p split-kept, p RSA, the upper 95 % bounds of the
    probe gain and of the RSA gain."""
    pop, rsa = res["population"], res["rsa"]
    return pop["p_unrestricted"], pop["p_split_kept"], rsa["p"], pop["gain_ci"][1], rsa["gain_ci"][1]


def scoreboard_row(res: dict, verdict, power, *, protocol: str, source: str, pipeline: dict) -> dict:
    """Claim 5's scoreboard row for one protocol's population.

    Parameters
    ----------
    res : dict
        :func:`collect`'s output (``population``, ``rsa``, ``n_models``).
    verdict : vaxis.publish.outcomes.Verdict
        :func:`vaxis.publish.verdicts.claim5` of :func:`claim5_inputs` ``(res)``.
    power : vaxis.publish.outcomes.Power
        The power statement of this population's test.
    protocol : str
        ``"cross-subject"`` or ``"cross-stimulus"`` (named in the row and its title).
    """
    pop, rsa, n = res["population"], res["rsa"], res["n_models"]
    ours = (f"{protocol} population of {n} models: mean probe {pop['statistic']:.3f} vs null {pop['null_mean']:.3f} "
            f"(p {pop['p_unrestricted']:.3g}; split-kept p {pop['p_split_kept']:.3g}); RSA {rsa['mean']:.3f} "
            f"(p {rsa['p']:.3g}); gain {pop['gain']:.3f} [{pop['gain_ci'][0]:.3f}, {pop['gain_ci'][1]:.3f}]")
    return {"claim": 5, "title": f"Label-only EEG classifiers rediscover the V-axis ({protocol})", "paper": "36/36",
            "protocol": protocol, "ours": ours, "data": source, **verdict.fields(), "power": power.as_dict(),
            "pipeline": dict(pipeline),
            "headline": {"text": f"{protocol}, {n} models: probe {pop['statistic']:.3f} vs null "
                                 f"{pop['null_mean']:.3f} (p {pop['p_unrestricted']:.2g}); RSA p {rsa['p']:.2g}",
                         "label": f"population probe score ({protocol})", "unit": "held-out Spearman",
                         "ours": pop["statistic"], "ci_low": pop["null_mean"] + pop["gain_ci"][0],
                         "ci_high": pop["null_mean"] + pop["gain_ci"][1], "baseline": pop["null_mean"],
                         "baseline_label": "permutation null", "paper": None}}
