"""Emotion or stimulus? The reference decoders under both protocols, the drop between them, and the self-report check.

FACED has three clips per category (four neutral) and every test subject watched the training subjects' clips, so a
decoder can score by recognising *which clip* plays rather than the emotion. This module reads two
:class:`vaxis.claims.reference.baselines.Reference` runs on the same subject folds, one cross-subject
(``stimulus="seen"``) and one cross-stimulus (``"unseen"``: every subject fold crossed with the clip folds of
:func:`vaxis.eeg.faced.clip_folds`), and reports:

- :func:`protocol_baselines`: each model x task x protocol with its CI (the results contract's ``baselines``);
- :func:`protocol_drop`: same-clip minus unseen-clip BA, paired within test subjects, the subject fold (the model
  that tested the subject under both protocols) as the cluster;
- :func:`self_report`: the preprint's first test on FACED's own ratings: binary (positive vs negative) accuracy on
  the clips whose subject's own valence rating agrees with the clip's assigned sign vs those where it does not
  (the contract's ``self_report``). An emotion decoder should do worse where the subject did not feel the emotion;
  a clip recogniser should not care.

Agreement (written down before the run): a positive clip agrees when the subject rated its valence above the scale's
midpoint :data:`VALENCE_MIDPOINT` (3.5 on FACED's 0-7 scale), a negative clip when rated below it; neutral clips are
not in the binary task.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from vaxis.claims.reference.baselines import MODEL_NAMES, Reference, contract_entry
from vaxis.stats import clustered_paired_test

__all__ = ["VALENCE_MIDPOINT", "protocol_baselines", "protocol_drop", "self_report", "group_ba_ci",
           "confusion_rates"]

#: Midpoint of FACED's 0-7 valence scale: a rating above it is positive, below it negative.
VALENCE_MIDPOINT = 3.5


def protocol_baselines(refs: Sequence[Reference]) -> list[dict]:
    """One entry per model x task x protocol: ``{model, task, protocol, ba, ci_low, ci_high, n_subjects, ci_unit,
    n_folds}`` (the subject as unit, fold models as clusters:
    :func:`~vaxis.claims.reference.baselines.contract_entry`)."""
    out = []
    for ref in refs:
        for model in ("svm", "mlp"):
            for task in ref.subjects.task.unique():
                e = contract_entry(ref.subject_scores(model, task, by_seed=True), MODEL_NAMES[model], task)
                out.append({"model": MODEL_NAMES[model], "task": task, "protocol": ref.protocol,
                            **{k: e[k] for k in ("ba", "ci_low", "ci_high", "n_subjects", "ci_unit", "n_folds")}})
    return out


def _subject_fold(ref: Reference) -> dict[tuple[int, int], int]:
    """(repeat, fold) -> the fold's subject fold (its position in the cross-subject repeat)."""
    return {(int(f.get("repeat", 0)), int(f["fold"])): int(f.get("subject_fold", f.get("fold_in_repeat", f["fold"])))
            for f in ref.manifest}


def protocol_drop(seen: Reference, unseen: Reference, model: str, task: str) -> dict:
    """Same-clip minus unseen-clip window BA, paired within test subjects.

    Each subject's mean BA over its cross-subject folds minus its mean over its cross-stimulus folds; both runs
    share their subject folds, so the subject fold (per repeat) is the cluster of
    :func:`vaxis.stats.clustered_paired_test`.

    Returns
    -------
    dict
        ``drop``, ``ci_low``, ``ci_high``, ``p``, ``n_subjects``, ``n_clusters``, ``share_of_signal``: the drop as
        a share of the same-clip BA's distance above chance (``1 / n_classes``).
    """
    frames = []
    for name, ref in (("seen", seen), ("unseen", unseen)):
        s = ref.subject_scores(model, task)
        sf = _subject_fold(ref)
        s = s.assign(cluster=[int(r) * 10_000 + sf[(int(r), int(f))] for r, f in zip(s.repeat, s.fold)])
        frames.append(s.groupby(["cluster", "subject"]).balanced_accuracy.mean().rename(name))
    both = pd.concat(frames, axis=1).dropna().reset_index()
    r = clustered_paired_test((both.seen - both.unseen).to_numpy(), both.subject.to_numpy(), both.cluster.to_numpy())
    chance = 1 / 9 if task == "9class" else 0.5
    above = float(both.seen.mean()) - chance
    return {"model": MODEL_NAMES[model], "task": task, "drop": r["diff"], "ci_low": r["ci_low"],
            "ci_high": r["ci_high"], "p": r["p"], "n_subjects": int(r["n"]), "n_clusters": int(r["n_clusters"]),
            "share_of_signal": r["diff"] / above if above > 0 else float("nan")}


def group_ba_ci(units: pd.DataFrame, groups: Sequence[str] = ("all",), n_boot: int = 2000, seed: int = 0,
                ci: float = 0.95) -> dict[str, tuple[float, float, float]]:
    """Window balanced accuracy of groups of test units, and the first minus the second, with one two-stage
    cluster bootstrap.

    Parameters
    ----------
    units : DataFrame
        One row per test unit (subject x clip under one fold): ``cluster`` (the fold model), ``subject``, ``y``
        (the unit's true class), ``n`` windows, ``n_correct``, and ``group`` (one of ``groups``; absent: all rows
        are ``groups[0]``).
    groups : sequence of str
        The groups to score; with two, the result also holds ``"difference"`` (first minus second), computed on the
        same bootstrap draws so the subjects they share are paired.

    Returns
    -------
    dict
        ``{group: (ba, low, high)}``: BA = mean over classes of (correct windows / windows); the CI resamples
        clusters, then subjects within each drawn cluster (percentile interval).
    """
    groups = list(groups)
    u = units.assign(group=units["group"] if "group" in units else groups[0])
    u = u[u.group.isin(groups)]
    classes = np.sort(u.y.unique())
    key = u.groupby(["cluster", "subject"], sort=True)
    tab = np.zeros((key.ngroups, len(groups), len(classes), 2))
    at = (key.ngroup().to_numpy(), u.group.map({g: i for i, g in enumerate(groups)}).to_numpy(),
          np.searchsorted(classes, u.y.to_numpy()))
    np.add.at(tab, (*at, 0), u.n_correct.to_numpy(float))
    np.add.at(tab, (*at, 1), u.n.to_numpy(float))
    clusters = np.array([c for c, _ in key.groups.keys()])

    def ba(t: np.ndarray) -> np.ndarray:
        tot = t.sum(0)                                                   # (groups, classes, 2)
        with np.errstate(invalid="ignore", divide="ignore"):
            rec = np.where(tot[..., 1] > 0, tot[..., 0] / tot[..., 1], np.nan)
        return np.nanmean(rec, axis=1)

    est = ba(tab)
    rng = np.random.default_rng(seed)
    uc = np.unique(clusters)
    members = [np.flatnonzero(clusters == c) for c in uc]
    draws = np.empty((n_boot, len(groups)))
    for b in range(n_boot):
        idx = np.concatenate([rng.choice(members[c], len(members[c])) for c in rng.integers(0, len(uc), len(uc))])
        draws[b] = ba(tab[idx])
    a = (1 - ci) / 2
    out = {g: (float(est[i]), float(np.nanquantile(draws[:, i], a)), float(np.nanquantile(draws[:, i], 1 - a)))
           for i, g in enumerate(groups)}
    if len(groups) == 2:
        d = draws[:, 0] - draws[:, 1]
        out["difference"] = (float(est[0] - est[1]), float(np.nanquantile(d, a)), float(np.nanquantile(d, 1 - a)))
    return out


def self_report(ref: Reference, valence: np.ndarray, subject_ids: Sequence[str], clip_ids: Sequence[int],
                labels: Sequence[int], n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """Binary accuracy where the subject's own valence rating agrees with the clip's sign vs where it does not.

    Parameters
    ----------
    ref : Reference
        A run whose ``units`` hold the binary task.
    valence : ndarray, shape (n_subjects, n_clips)
        Self-reported valence (0-7), rows in ``subject_ids`` order, columns in ``clip_ids`` order.
    labels : sequence of int, shape (n_clips,)
        9-class id of every clip (ids < 4 negative, > 4 positive, 4 neutral).

    Returns
    -------
    DataFrame
        One row per model x agreement: ``model``, ``protocol``, ``agreement`` (``agrees`` / ``disagrees``, and
        ``difference`` = agrees minus disagrees on the same bootstrap draws), ``ba``, ``ci_low``, ``ci_high``,
        ``n_clips`` (test units: subject x clip), ``n_subjects``.
    """
    if ref.units is None or ref.units.empty:
        raise ValueError("this Reference run has no unit-level scores (re-run it with the current code)")
    spos = {s: i for i, s in enumerate(subject_ids)}
    cpos = {int(c): i for i, c in enumerate(clip_ids)}
    lab = np.asarray(labels)
    u = ref.units[ref.units.task == "binary"].copy()
    u = u[u.subject.isin(spos)]
    ci = np.array([cpos[int(c)] for c in u["clip"]])
    rating = valence[[spos[s] for s in u.subject], ci]
    u["y"] = (lab[ci] > 4).astype(int)
    u["agreement"] = np.where((rating > VALENCE_MIDPOINT) == (u.y == 1), "agrees", "disagrees")
    u.loc[rating == VALENCE_MIDPOINT, "agreement"] = "midpoint"
    u["cluster"] = u.repeat.astype(int) * 10_000 + u.fold.astype(int)
    u["group"] = u.agreement
    rows = []
    for model, g in u.groupby("model", sort=False):
        res = group_ba_ci(g, ("agrees", "disagrees"), n_boot=n_boot, seed=seed)
        for agreement in ("agrees", "disagrees", "difference"):
            q = g[g.agreement != "midpoint"] if agreement == "difference" else g[g.agreement == agreement]
            est, lo, hi = res[agreement]
            rows.append({"model": MODEL_NAMES[model], "protocol": ref.protocol, "agreement": agreement, "ba": est,
                         "ci_low": lo, "ci_high": hi, "n_clips": int(len(q)), "n_subjects": int(q.subject.nunique())})
    return pd.DataFrame(rows)


def confusion_rates(counts: np.ndarray) -> np.ndarray:
    """Row-normalised confusion (each true class's windows sum to 1), shape (n_classes, n_classes)."""
    c = np.asarray(counts, dtype=float)
    return c / np.maximum(c.sum(1, keepdims=True), 1)
