"""Cross-model agreement of V-axis positions: Spearman of positions, RSA of geometry, bootstrap CIs, floors.

All functions take plain arrays: ``positions`` of shape (n_models, n_items) (each model's V-axis position of the
same shared texts) or per-model hidden states of the nine sentences, so they are model-agnostic and testable
with constructed inputs.

Chapter 3's test (:func:`agreement_boot`, :func:`floor_differences`, rule :data:`vaxis.publish.text_verdicts.RULE_3`):
agreement is the Spearman correlation *within* each benchmark, averaged over benchmarks (pooling benchmarks would
mix their offsets into the ranks); the pooled correlation is a secondary figure. Texts are resampled within each
benchmark, with the same draws for every model, so each pair's difference to the random-weight floor is a paired
bootstrap statistic.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats as _st
from scipy.spatial.distance import pdist

__all__ = [
    "model_scope",
    "agreement_with_floor",
    "spearman_matrix",
    "spearman_matrix_ci",
    "distance_matrix",
    "rsa",
    "rsa_matrix",
    "pair_summary",
    "agreement_boot",
    "floor_differences",
]


def _rank_rows(x: np.ndarray) -> np.ndarray:
    return _st.rankdata(x, axis=-1)


def _corr_rows(r: np.ndarray) -> np.ndarray:
    """Pearson correlation between rows; r has shape (..., n_models, n_items)."""
    z = r - r.mean(-1, keepdims=True)
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    return z @ np.swapaxes(z, -1, -2)


def spearman_matrix(positions: np.ndarray) -> np.ndarray:
    """Spearman correlation between every pair of models.

    Parameters
    ----------
    positions : ndarray, shape (n_models, n_items)

    Returns
    -------
    ndarray, shape (n_models, n_models), ones on the diagonal
    """
    p = np.asarray(positions, dtype=float)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"positions must have shape (n_models, n_items >= 3), got {p.shape}")
    return _corr_rows(_rank_rows(p))


def spearman_matrix_ci(
    positions: np.ndarray, n_boot: int = 1000, ci: float = 0.95, seed: int = 0, chunk: int = 100
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise Spearman matrix with percentile bootstrap CIs over items (same resample for every pair).

    Parameters
    ----------
    positions : ndarray, shape (n_models, n_items)
    n_boot : int
        Bootstrap resamples of the items (probe sentences); deterministic for a ``seed``.

    Returns
    -------
    rho, low, high : ndarray, each shape (n_models, n_models)
    """
    p = np.asarray(positions, dtype=float)
    rho = spearman_matrix(p)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, p.shape[1], size=(n_boot, p.shape[1]))
    boots = []
    for start in range(0, n_boot, chunk):  # (chunk, n_models, n_items) at a time
        sample = p[:, idx[start:start + chunk]].transpose(1, 0, 2)
        boots.append(_corr_rows(_rank_rows(sample)))
    b = np.concatenate(boots)
    a = (1 - ci) / 2
    return rho, np.nanquantile(b, a, axis=0), np.nanquantile(b, 1 - a, axis=0)


def distance_matrix(hidden: np.ndarray, metric: str = "correlation") -> np.ndarray:
    """Condensed pairwise distances between items (e.g. the nine sentences) in one model's hidden space.

    Parameters
    ----------
    hidden : ndarray, shape (n_items, hidden)

    Returns
    -------
    ndarray, shape (n_items * (n_items - 1) / 2,)
    """
    return pdist(np.asarray(hidden, dtype=float), metric=metric)


def rsa(hidden_a: np.ndarray, hidden_b: np.ndarray, metric: str = "correlation") -> float:
    """RSA: Spearman correlation of the two models' pairwise-distance matrices over the same items.

    Parameters
    ----------
    hidden_a : ndarray, shape (n_items, hidden_a)
    hidden_b : ndarray, shape (n_items, hidden_b)
    """
    if len(hidden_a) != len(hidden_b):
        raise ValueError(f"RSA needs the same items in both models, got {len(hidden_a)} and {len(hidden_b)}")
    return float(_st.spearmanr(distance_matrix(hidden_a, metric), distance_matrix(hidden_b, metric)).statistic)


def rsa_matrix(hiddens: list[np.ndarray], metric: str = "correlation") -> np.ndarray:
    """RSA between every pair of models; ``hiddens[m]`` has shape (n_items, hidden_m). Returns (n_models, n_models)."""
    d = np.stack([distance_matrix(h, metric) for h in hiddens])
    return spearman_matrix(d)


def pair_summary(
    matrix: np.ndarray, low: np.ndarray, high: np.ndarray, is_real: np.ndarray
) -> dict[str, float | int]:
    """Summarise a model-by-model agreement matrix into real-real pairs and the random floor.

    Parameters
    ----------
    matrix, low, high : ndarray, shape (n_models, n_models)
        Agreement values and their CI bounds.
    is_real : ndarray of bool, shape (n_models,)
        True for pretrained models, False for random-weight controls.

    Returns
    -------
    dict
        ``n_real``, ``n_pairs``, ``min``, ``min_ci_low``, ``mean``, ``mean_ci_low``, ``mean_ci_high``
        (means over real-real pairs, CIs averaged), ``floor_mean``, ``floor_max``, ``floor_ci_high``
        (over pairs with at least one random-weight model; NaN when none), ``n_pairs_above_floor``
        (real pairs whose CI low exceeds the largest floor CI high).
    """
    m, lo, hi = (np.asarray(x, dtype=float) for x in (matrix, low, high))
    real = np.asarray(is_real, dtype=bool)
    iu = np.triu_indices(len(real), 1)
    rr = real[iu[0]] & real[iu[1]]
    fl = ~rr
    nan = float("nan")
    out: dict[str, float | int] = {"n_real": int(real.sum()), "n_pairs": int(rr.sum())}
    vals, lows, highs = m[iu][rr], lo[iu][rr], hi[iu][rr]
    if rr.any():
        k = int(np.argmin(vals))
        out.update(min=float(vals[k]), min_ci_low=float(lows[k]), min_ci_high=float(highs[k]),
                   mean=float(vals.mean()), mean_ci_low=float(lows.mean()), mean_ci_high=float(highs.mean()))
    else:
        out.update(min=nan, min_ci_low=nan, min_ci_high=nan, mean=nan, mean_ci_low=nan, mean_ci_high=nan)
    if fl.any():
        fv, fh = np.abs(m[iu][fl]), np.maximum(np.abs(hi[iu][fl]), np.abs(lo[iu][fl]))
        out.update(floor_mean=float(fv.mean()), floor_max=float(fv.max()), floor_ci_high=float(fh.max()))
        out["n_pairs_above_floor"] = int(np.sum(lows > out["floor_ci_high"]))
    else:
        out.update(floor_mean=nan, floor_max=nan, floor_ci_high=nan, n_pairs_above_floor=int(rr.sum()))
    return out


def _mean_rank_corr(parts: list[np.ndarray]) -> np.ndarray:
    """Mean over benchmarks of the Spearman matrix; each part (..., n_models, n_b) -> (..., n_models, n_models)."""
    return np.mean([_corr_rows(_rank_rows(p)) for p in parts], axis=0)


def agreement_boot(positions: dict[str, np.ndarray], n_boot: int = 1000, seed: int = 0,
                   chunk: int = 50) -> dict[str, np.ndarray]:
    """Within-benchmark and pooled Spearman agreement of every model pair, with stratified bootstrap draws.

    Parameters
    ----------
    positions : dict of ndarray, each shape (n_models, n_b)
        Every model's positions of benchmark b's texts (the same texts, in the same order, for every model).
    n_boot : int
        Resamples; in each, every benchmark's texts are drawn with replacement within that benchmark, the same
        draw for every model (deterministic for a ``seed``).

    Returns
    -------
    dict with ``within`` (n_models, n_models): the mean over benchmarks of the within-benchmark Spearman
    matrices; ``within_boot`` (n_boot, n_models, n_models); ``pooled`` and ``pooled_boot``: the same for one
    Spearman over all texts pooled; ``per_benchmark``: dict of (n_models, n_models).
    """
    names = list(positions)
    parts = [np.asarray(positions[b], dtype=float) for b in names]
    m = {p.shape[0] for p in parts}
    if len(m) != 1 or min(p.shape[1] for p in parts) < 3:
        raise ValueError("every benchmark needs positions of shape (n_models, n_b >= 3) for the same models")
    rng = np.random.default_rng(seed)
    idx = [rng.integers(0, p.shape[1], size=(n_boot, p.shape[1])) for p in parts]
    within, pooled = [], []
    for start in range(0, n_boot, chunk):
        sl = slice(start, min(start + chunk, n_boot))
        draws = [p[:, ix[sl]].transpose(1, 0, 2) for p, ix in zip(parts, idx)]  # (chunk, n_models, n_b)
        within.append(_mean_rank_corr(draws))
        pooled.append(_corr_rows(_rank_rows(np.concatenate(draws, axis=-1))))
    return {"within": _mean_rank_corr(parts), "within_boot": np.concatenate(within),
            "pooled": spearman_matrix(np.concatenate(parts, axis=1)), "pooled_boot": np.concatenate(pooled),
            "per_benchmark": {b: spearman_matrix(p) for b, p in zip(names, parts)}}


def agreement_with_floor(real: dict[str, np.ndarray], every: dict[str, np.ndarray], is_real: np.ndarray,
                         n_boot: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """:func:`agreement_boot` when the random-weight models read fewer texts than the pretrained ones.

    Pairs of pretrained models are measured on all their texts (``real``); every pair that involves a random-weight
    model (the floor) on the shared prefix that all models read (``every``: each benchmark's first texts, the same
    seeded order). The two sets of bootstrap draws are independent resamples, so a difference between a pretrained
    pair and the floor (:func:`floor_differences`) is unpaired there: a wider, conservative interval.

    Parameters
    ----------
    real : dict of ndarray, each shape (n_real, n_b): the pretrained models' positions (rows in ``is_real`` order)
    every : dict of ndarray, each shape (n_models, n_b_prefix): every model's positions of the prefix
    is_real : ndarray of bool, shape (n_models,)

    Returns
    -------
    dict as :func:`agreement_boot` over all ``n_models`` (``per_benchmark`` from the prefix, real pairs from all
    texts), plus ``n_real_texts`` and ``n_floor_texts`` (dicts per benchmark)
    """
    is_real = np.asarray(is_real, dtype=bool)
    full, pre = agreement_boot(real, n_boot=n_boot, seed=seed), agreement_boot(every, n_boot=n_boot, seed=seed + 1)
    ix = np.ix_(np.flatnonzero(is_real), np.flatnonzero(is_real))
    out = {k: np.array(pre[k], copy=True) for k in ("within", "pooled", "within_boot", "pooled_boot")}
    for k in ("within", "pooled"):
        out[k][ix] = full[k]
        out[f"{k}_boot"][(slice(None), *ix)] = full[f"{k}_boot"]
    per = {b: np.array(pre["per_benchmark"][b], copy=True) for b in pre["per_benchmark"]}
    for b in per:
        per[b][ix] = full["per_benchmark"][b]
    return {**out, "per_benchmark": per, "n_real_texts": {b: int(np.shape(v)[1]) for b, v in real.items()},
            "n_floor_texts": {b: int(np.shape(v)[1]) for b, v in every.items()}}


def floor_differences(rho: np.ndarray, boot: np.ndarray, names: list[str], is_real: np.ndarray,
                      level: float = 0.95) -> pd.DataFrame:
    """Each pair of pretrained models against the random-weight floor, with paired bootstrap CIs.

    For pretrained models a and b, the floor is ``max |rho(x, r)|`` over x in {a, b} and every random-weight
    model r (how much a trained model agrees with an untrained one); ``diff = rho(a, b) - floor``, recomputed in
    every bootstrap draw (the draws are shared by all models, so the difference is paired).

    Parameters
    ----------
    rho : ndarray, shape (n_models, n_models)
    boot : ndarray, shape (n_boot, n_models, n_models)
    is_real : ndarray of bool, shape (n_models,)
    level : float
        Two-sided level of the CIs (the chapter passes ``1 - alpha / n_pairs``).

    Returns
    -------
    DataFrame with one row per pretrained pair: ``model_a``, ``model_b``, ``agreement`` with ``agreement_lo`` /
    ``agreement_hi``, ``floor`` (point value), ``floor_with`` (the pair that sets it), ``diff`` with ``diff_lo`` /
    ``diff_hi``, ``level``. Without any random-weight model the floor is 0.
    """
    real = np.asarray(is_real, dtype=bool)
    ctrl = np.flatnonzero(~real)
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    rows = []
    for i, j in combinations(np.flatnonzero(real), 2):
        if ctrl.size:
            cand = [(x, r) for x in (i, j) for r in ctrl]
            vals = np.abs(np.stack([rho[x, r] for x, r in cand]))
            k = int(np.argmax(vals))
            floor, with_ = float(vals[k]), f"{names[cand[k][0]]} ~ {names[cand[k][1]]}"
            floor_b = np.abs(np.stack([boot[:, x, r] for x, r in cand], axis=1)).max(1)
        else:
            floor, with_, floor_b = 0.0, "none (no random-weight model)", np.zeros(len(boot))
        d = boot[:, i, j] - floor_b
        rows.append({"model_a": names[i], "model_b": names[j], "agreement": float(rho[i, j]),
                     "agreement_lo": float(np.nanquantile(boot[:, i, j], q[0])),
                     "agreement_hi": float(np.nanquantile(boot[:, i, j], q[1])),
                     "floor": floor, "floor_with": with_, "diff": float(rho[i, j] - floor),
                     "diff_lo": float(np.nanquantile(d, q[0])), "diff_hi": float(np.nanquantile(d, q[1])),
                     "level": level})
    return pd.DataFrame(rows)


#: The paper's claim 3: fourteen LLMs, all causal LMs (:data:`vaxis.text.models.LINEUP_14`, 0.49-8.03B parameters).
PAPER_N_MODELS = 14


def model_scope(kinds: dict[str, str]) -> tuple[int, dict[str, int], str]:
    """The scope of a cross-model comparison against the paper's fourteen LLMs.

    Parameters
    ----------
    kinds : dict, pretrained model name -> ``"encoder"`` or ``"causal"`` (the models that ran)

    Returns
    -------
    n_models : int
    model_kinds : dict, kind -> how many models of it (``{"encoder": 2, "causal": 3}``)
    sentence : str, e.g. ``"Scope: 5 pretrained models, 2 encoders (minilm, mpnet) and 3 causal LMs (...), against
        the paper's 14 LLMs (all causal LMs, 0.5-8B parameters)."``
    """
    counts = {k: sum(v == k for v in kinds.values()) for k in sorted(set(kinds.values()), reverse=True)}
    words = {"causal": ("causal LM", "causal LMs"), "encoder": ("encoder", "encoders")}
    groups = [f"{n} {words.get(k, (k, k))[n != 1]} ({', '.join(m for m, v in kinds.items() if v == k)})"
              for k, n in counts.items()]
    what = " and ".join(groups) if groups else "none"
    n = len(kinds)
    return n, counts, (f"Scope: {n} pretrained model{'s' if n != 1 else ''}, {what}, against the paper's "
                       f"{PAPER_N_MODELS} LLMs (all causal LMs, 0.5-8B parameters).")
