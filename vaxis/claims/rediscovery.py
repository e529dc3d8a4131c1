"""Claim 5: does a population of label-only decoders rediscover the LLM's valence axis?

One population test instead of one test per model. Every permutation of the category-to-position map is applied
to **all models at once**; the statistic is the mean over models and folds of the held-out ridge-probe score
(:func:`vaxis.claims.probes.probe_scores`). Two nulls, for the two things an ordering holds:

``split_kept``
    every permutation that keeps the negative / neutral / positive split (4! x 1 x 4! = 576, enumerated exactly):
    does the population order the categories *within* each side as the LLM does?
``unrestricted``
    ``n_perm`` random permutations of all nine positions: does it reproduce the split plus the order?

And a test that does not reduce to "a linear readout can fit an ordering": **RSA** between each model's
class-centroid geometry on held-out subjects (correlation distance of the nine centroids) and the LLM's
nine-sentence geometry (cosine distance), against a null that permutes the LLM's category labels (the same
permutations for every model), again as a population mean.

Because a ridge probe is linear in its targets, a model's predictions under every map are one product
``(n_units x 9) @ (9 x n_maps)`` (:mod:`vaxis.claims.probes`), so thousands of maps cost seconds; the RSA null ranks the
permuted LLM distances once and reads every model with one matrix-vector product.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm, rankdata
from scipy.stats import t as t_dist

from vaxis.claims.probes import class_centroids, probe_scores
from vaxis.decoding.training import evaluate
from vaxis.eeg.pipeline import as_pipeline
from vaxis.runs.jobs import FacedJob, frame_from_jobs, one_thread, records
from vaxis.stats import corrected_resampled_ttest, permutation_pvalue, t_interval

__all__ = ["split_kept_permutations", "random_permutations", "build_maps", "centroid_rdm", "rsa_scores",
           "population_test", "rsa_test", "fold_gain_ci", "NEGATIVE", "POSITIVE", "RediscoveryJob", "fold_job",
           "collect", "probe_units", "claim5_inputs", "scoreboard_row"]

NEGATIVE = (0, 1, 2, 3)        # anger, disgust, fear, sadness
POSITIVE = (5, 6, 7, 8)        # amusement, inspiration, joy, tenderness (neutral = 4 stays)


def split_kept_permutations(negative: Sequence[int] = NEGATIVE, positive: Sequence[int] = POSITIVE,
                            n: int = 9) -> np.ndarray:
    """Every permutation of ``range(n)`` that maps negatives to negatives and positives to positives (the rest
    fixed), identity included. Shape (len(neg)! * len(pos)!, n): row ``p`` sends category ``c`` to ``p[c]``."""
    out = []
    for pn in itertools.permutations(negative):
        for pp in itertools.permutations(positive):
            p = np.arange(n)
            p[list(negative)] = pn
            p[list(positive)] = pp
            out.append(p)
    return np.array(out)


def random_permutations(n_perm: int, n: int = 9, seed: int = 0) -> np.ndarray:
    """``n_perm`` seeded random permutations of ``range(n)``, shape (n_perm, n) (the identity may occur)."""
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(n_perm)]).reshape(n_perm, n)


def build_maps(positions: Sequence[float], n_perm: int = 10_000, seed: int = 0) -> tuple[np.ndarray, dict]:
    """All maps one job scores: column 0 the true positions, then the split-kept permutations (identity excluded),
    then ``n_perm`` unrestricted ones.

    Returns
    -------
    maps : ndarray, shape (9, 1 + n_split + n_perm)
    index : dict
        ``{"true": slice, "split_kept": slice, "unrestricted": slice}`` into the columns.
    """
    pos = np.asarray(positions, dtype=float)
    split = split_kept_permutations(n=len(pos))
    split = split[~(split == np.arange(len(pos))).all(1)]
    rand = random_permutations(n_perm, len(pos), seed)
    maps = np.column_stack([pos, pos[split].T, pos[rand].T])
    return maps, {"true": slice(0, 1), "split_kept": slice(1, 1 + len(split)),
                  "unrestricted": slice(1 + len(split), maps.shape[1])}


def centroid_rdm(cen: np.ndarray) -> np.ndarray:
    """Correlation distance ``1 - r`` between the rows (class centroids) of ``cen`` (9, d): shape (9, 9)."""
    c = cen - cen.mean(1, keepdims=True)
    c /= np.linalg.norm(c, axis=1, keepdims=True) + 1e-12
    return 1.0 - c @ c.T


def _upper_ranks(rdm: np.ndarray) -> np.ndarray:
    iu = np.triu_indices(rdm.shape[-1], 1)
    r = rankdata(rdm[..., iu[0], iu[1]], axis=-1)
    r = r - r.mean(-1, keepdims=True)
    return r / (np.linalg.norm(r, axis=-1, keepdims=True) + 1e-12)


def rsa_scores(model_rdms: np.ndarray, llm_rdm: np.ndarray, perms: np.ndarray) -> np.ndarray:
    """Spearman RSA of each model's RDM with the LLM's under every label permutation.

    Parameters
    ----------
    model_rdms : ndarray, shape (M, 9, 9)
    llm_rdm : ndarray, shape (9, 9)
    perms : ndarray, shape (P, 9)
        Row 0 should be the identity (the observed score).

    Returns
    -------
    ndarray, shape (M, P)
    """
    permuted = np.stack([llm_rdm[np.ix_(p, p)] for p in perms])               # (P, 9, 9)
    return _upper_ranks(np.asarray(model_rdms)) @ _upper_ranks(permuted).T


def population_test(sums: np.ndarray, n_models: int, index: dict, alpha: float = 0.05,
                    power: float = 0.8) -> dict:
    """The population test from score vectors summed over models and folds.

    Parameters
    ----------
    sums : ndarray, shape (n_maps,)
        Sum over every model x fold of its probe score under each map (columns as :func:`build_maps`).
    n_models : int
        Number of model x fold scores in the sums (the statistic is ``sums / n_models``).

    Returns
    -------
    dict
        ``statistic`` (mean probe score under the true map), ``null_mean`` / ``null_sd`` (unrestricted),
        ``split_null_mean``, ``p_unrestricted``, ``p_split_kept`` (exact over the 576 orderings, the true one
        counted), ``n_perm`` (unrestricted), ``n_split``, ``mde`` (smallest gain over the unrestricted null mean
        detected at ``power``: the null's (1 - alpha) quantile plus z_power null SDs, minus its mean).
    """

    stat = np.asarray(sums, dtype=float) / n_models
    obs = float(stat[index["true"]][0])
    null, split = stat[index["unrestricted"]], stat[index["split_kept"]]
    p_split = float((1 + np.sum(split >= obs)) / (1 + split.size))
    q = float(np.quantile(null, 1 - alpha))
    return {"statistic": obs, "null_mean": float(null.mean()), "null_sd": float(null.std()),
            "split_null_mean": float(split.mean()), "p_unrestricted": permutation_pvalue(obs, null),
            "p_split_kept": p_split, "n_perm": int(null.size), "n_split": int(split.size + 1),
            "mde": q - float(null.mean()) + float(norm.ppf(power)) * float(null.std())}


def rsa_test(sums: np.ndarray, n_models: int) -> dict:
    """The RSA population test from RSA vectors summed over models and folds (column 0 = identity)."""
    stat = np.asarray(sums, dtype=float) / n_models
    return {"mean": float(stat[0]), "null_mean": float(stat[1:].mean()), "p": permutation_pvalue(stat[0], stat[1:]),
            "n_perm": int(stat.size - 1)}


#: Mean and t-interval of per-fold gains (each fold's mean over models of score minus its null mean).
fold_gain_ci = t_interval


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
    ``stimulus``: ``"seen"`` (cross-subject) or ``"unseen"`` (cross-stimulus: the decoders train without the fold's
    held-out clips, and the probes fit on training subjects' training clips and score held-out subjects' held-out
    clips).
    """

    arch: str = "mlp"
    stimulus: str = "seen"
    folds: list = field(default_factory=lambda: [0])
    seeds: list = field(default_factory=lambda: list(range(9)))
    protocol: str = "kfold"
    k: int = 10
    repeats: int = 1
    fold_seed: int = 0
    splits: dict | None = None
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
        ``rows`` (weights, probe, score, null_mean, null_sd; probes of :data:`vaxis.claims.probes.PROBES` and
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


@one_thread
def fold_job(config: dict) -> dict:
    """Sweep job ``"vaxis.claims.rediscovery:fold_job"`` (see :class:`RediscoveryJob`).

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
    df, run = evaluate(job.arch, eeg, protocol=job.protocol, task="9class", seeds=list(job.seeds), k=job.k,
                       fold_seed=job.fold_seed, splits=job.splits, repeats=job.repeats, folds=folds,
                       stimulus=job.stimulus,
                       normalisation=as_pipeline(job.pipeline).trainer_normalisation, device=job.device,
                       progress=False, threads=1, arch_kwargs={"dropout": dropout}, **settings)
    train_s, t1 = time.perf_counter() - t0, time.perf_counter()
    maps, index = build_maps(job.positions, job.n_perm, job.map_seed)
    rsa_perms = np.vstack([np.arange(9), random_permutations(job.n_perm, 9, job.map_seed + 1)])
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
