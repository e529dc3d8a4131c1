"""Claim 5: does a population of label-only decoders rediscover the LLM's valence axis?

One population test instead of one test per model. Every permutation of the category-to-position map is applied
to **all models at once**; the statistic is the mean over models and folds of the held-out ridge-probe score
(:func:`vaxis.claims.common.probes.probe_scores`). Two nulls, for the two things an ordering holds:

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
``(n_units x 9) @ (9 x n_maps)`` (:mod:`vaxis.claims.common.probes`), so thousands of maps cost seconds; the RSA null
ranks the permuted LLM distances once and reads every model with one matrix-vector product.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
from scipy.stats import norm, rankdata

from vaxis.stats import permutation_pvalue, random_permutations, t_interval

__all__ = ["split_kept_permutations", "build_maps", "centroid_rdm", "rsa_scores",
           "population_test", "rsa_test", "fold_gain_ci", "NEGATIVE", "POSITIVE"]

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
    rand = random_permutations(n_perm, len(pos), seed, identity="allowed")
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
