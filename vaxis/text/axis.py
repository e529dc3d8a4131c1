"""The V-axis: a one-dimensional valence direction read from the nine sentences' hidden states; its layer rule, its
permutation null, and the positions of the nine categories. The estimator :class:`VAxis` lives in
:mod:`vaxis.text.axis_estimator` and is re-exported here (``from vaxis.text.axis import VAxis``).

**Layer rule (nine sentences only; no benchmark is ever looked at).** Held-out evidence comes from
*leave-one-pair-out*: each of the 16 (positive, negative) sentence pairs is left out in turn, the axis is fitted on
the other seven (3 positive, 3 negative, neutral), and both held-out sentences are placed by their standardised
distance from the training midpoint, :math:`z = (p - m)/\\sigma` (:math:`m` the midpoint of the training positive
and negative means, :math:`\\sigma` their pooled within-group SD). Leaving out a single sentence instead would
unbalance the training classes (3 vs 4): the smaller class's mean is noisier, its norm larger, and the midpoint
shifts toward it, which pushes *every* held-out sentence toward the wrong side (on pure noise plain leave-one-out
scores well below chance; leave-pair-out does not; see the tests). Per layer the score is the mean signed margin
:math:`s\\,z` over the 32 held-out placements; the layer with the highest score wins, near-ties (within
``tol`` = 5 % of the best) going to the layer nearest the middle of the network. Layer 0 (embeddings) is excluded.
:func:`layer_rule` applies it to the standardised states (the chapters' rule); together with the pooling rule of
:mod:`vaxis.text.llm` (encoders ``mean``, causal LMs ``mean-no-first``) it is fixed before any benchmark is read, and
the benchmark layer curves of chapter 2 are a diagnosis only.

**Selection-free evidence (claim 1's verdict).** The margin at the rule's layer is optimistic: the layer was chosen
to maximise it. :func:`nested_heldout` (:mod:`vaxis.text.layer_selection`) repeats the layer rule inside each
leave-one-pair-out fold, on the seven training sentences only, so no held-out placement is read at a layer chosen
with it; :func:`split_tests` ranks that selection-free margin of the valence split among the 35 four-vs-four splits,
each through the same nested procedure (an exact permutation test), beside the selection-corrected
:func:`partition_null`.

**Permutation null.** :func:`partition_null` repeats the whole procedure, layer choice included, for each of the
35 ways to split the eight non-neutral sentences into two groups of four (a split and its mirror image score the
same): the exact p-value is the rank of the valence split among them.
"""

from __future__ import annotations

import os
from functools import lru_cache

import numpy as np
import pandas as pd

from vaxis.text import llm
from vaxis.text.axis_estimator import (
    METHODS,
    VAxis,
    signs_from_labels,
)
from vaxis.text.layer_selection import nested_heldout, pick_layer, split_tests
from vaxis.text.reference_texts import reference_hidden, standardize
from vaxis.text.sentences import CATEGORIES, SIGNS, TEXTS

__all__ = ["METHODS", "VAxis", "signs_from_labels", "heldout_z", "heldout_positions", "layer_curve", "choose_layer",
           "nested_heldout", "split_tests", "pick_layer",
           "layer_rule", "anchor_states", "lazy_model", "partition_null", "stability", "category_positions",
           "nine_hidden"]


def _pairs(signs: np.ndarray) -> list[tuple[int, int]]:
    """Every (positive index, negative index) pair; 16 for the nine sentences."""
    return [(i, j) for i in np.flatnonzero(signs > 0) for j in np.flatnonzero(signs < 0)]


def heldout_z(h: np.ndarray, signs: np.ndarray, method: str = "mean-diff") -> np.ndarray:
    """Leave-one-pair-out placements of the held-out sentences at one layer.

    Parameters
    ----------
    h : ndarray, shape (n_texts, hidden)
    signs : ndarray, shape (n_texts,)

    Returns
    -------
    ndarray, shape (n_pairs, 2)
        Standardised positions ``z = (p - m) / sigma`` of the held-out (positive, negative) sentence of each pair,
        relative to the training midpoint ``m`` and pooled within-group SD ``sigma`` (module docstring).
    """
    h, signs = np.asarray(h, dtype=np.float64), np.asarray(signs)
    out = []
    for i, j in _pairs(signs):
        keep = np.ones(len(signs), bool)
        keep[[i, j]] = False
        ax = VAxis(method)._fit_arrays(h[keep], signs[keep])
        p, sk = ax._project(h[keep]), signs[keep]
        a, b = p[sk > 0], p[sk < 0]
        mid = 0.5 * (a.mean() + b.mean())
        sd = np.concatenate([a - a.mean(), b - b.mean()]).std() + 1e-12
        out.append((ax._project(h[[i, j]]) - mid) / sd)
    return np.array(out)


def heldout_positions(h: np.ndarray, signs: np.ndarray = SIGNS, method: str = "mean-diff") -> np.ndarray:
    """Each non-neutral sentence's mean held-out position ``z`` over the folds that left it out.

    Parameters
    ----------
    h : ndarray, shape (n_texts, hidden)

    Returns
    -------
    ndarray, shape (n_texts,); NaN for neutral texts (never held out). "All positives above all negatives" on
    these values is the held-out version of the in-sample ordering.
    """
    signs = np.asarray(signs)
    z = heldout_z(h, signs, method)
    total, count = np.zeros(len(signs)), np.zeros(len(signs))
    for k, (i, j) in enumerate(_pairs(signs)):
        total[[i, j]] += z[k]
        count[[i, j]] += 1
    with np.errstate(invalid="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _layer_scores(h: np.ndarray, signs: np.ndarray, method: str) -> dict[str, float]:
    z = heldout_z(h, signs, method)  # (n_pairs, 2)
    margins = np.concatenate([z[:, 0], -z[:, 1]])  # signed: > 0 means the right side
    return {"heldout_margin": float(margins.mean()), "pair_accuracy": float((z[:, 0] > z[:, 1]).mean()),
            "sign_accuracy": float((margins > 0).mean()),
            "dprime": VAxis(method).fit(h, signs).score(h, signs)}


def layer_curve(hidden: np.ndarray, signs: np.ndarray = SIGNS, method: str = "mean-diff") -> pd.DataFrame:
    """Per layer: held-out margin, held-out pair and sign accuracy (leave-one-pair-out), in-sample d'.

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden)

    Returns
    -------
    DataFrame with one row per layer: ``layer``, ``heldout_margin`` (mean signed z, training-SD units),
    ``pair_accuracy`` (share of held-out pairs with the positive above the negative), ``sign_accuracy``
    (share of held-out sentences on their own side of the midpoint), ``dprime`` (in-sample separation).
    NaN where a layer is degenerate (e.g. layer 0 with ``last`` pooling: every sentence ends in ``.``).
    """
    signs = np.asarray(signs)
    if np.ndim(hidden) != 3 or np.shape(hidden)[1] != len(signs):
        raise ValueError(f"hidden must have shape (n_layers, {len(signs)}, hidden): one row per anchor sentence "
                         f"({len(signs)} signs), got {np.shape(hidden)}")
    rows = []
    for layer in range(hidden.shape[0]):
        try:
            row = _layer_scores(np.asarray(hidden[layer], dtype=np.float64), signs, method)
        except ValueError:
            row = dict.fromkeys(("heldout_margin", "pair_accuracy", "sign_accuracy", "dprime"), np.nan)
        rows.append({"layer": layer, **row})
    return pd.DataFrame(rows)


def choose_layer(hidden: np.ndarray, signs: np.ndarray = SIGNS, method: str = "mean-diff", tol: float = 0.05,
                 curve: pd.DataFrame | None = None) -> int:
    """The layer rule (module docstring): best held-out margin over layers >= 1, near-ties to the middle.

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden)
    tol : float
        Layers scoring within ``tol * |best|`` of the best count as tied; the one nearest the middle layer wins.
    curve : DataFrame, optional
        A precomputed :func:`layer_curve` of ``hidden`` (saves recomputing it).
    """
    curve = layer_curve(hidden, signs, method) if curve is None else curve
    score = curve.set_index("layer")["heldout_margin"].drop(index=0, errors="ignore").dropna()
    if score.empty:
        raise ValueError("no layer gives a usable axis: every layer is degenerate for these sentences")
    best = score.max()
    tied = score.index[score >= best - tol * abs(best)].to_numpy()
    middle = (hidden.shape[0] - 1) / 2
    return int(tied[np.argmin(np.abs(tied - middle))])


def partition_null(hidden: np.ndarray, signs: np.ndarray = SIGNS, method: str = "mean-diff",
                   tol: float = 0.05) -> dict[str, object]:
    """Selection-aware exact permutation test of the valence split.

    Every split of the non-neutral sentences into two equal groups (35 for 4 + 4; a split and its mirror image
    are the same test) goes through the full procedure: layer curve, :func:`choose_layer`, held-out margin at the
    chosen layer. The p-value is the share of splits scoring at least as high as the valence split. (Computed by
    :func:`vaxis.text.layer_selection.split_tests`: for mean-diff from the Gram matrices, same numbers.)

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden)

    Returns
    -------
    dict with ``observed`` (float), ``null`` (ndarray (n_splits - 1,), the other splits' scores), ``p`` (float),
    ``p_lower`` (the lower-tail p), ``rank`` (1 = the valence split scores best) and ``n_splits``.
    """
    return split_tests(hidden, signs, method, tol, nested=False)["selected"]


def stability(hidden: np.ndarray, signs: np.ndarray = SIGNS, method: str = "mean-diff", n_boot: int = 200,
              seed: int = 0) -> dict[str, np.ndarray]:
    """Cosine of re-fitted axes to the full axis, at one layer.

    Parameters
    ----------
    hidden : ndarray, shape (n_texts, hidden)

    Returns
    -------
    dict with ``loso`` (n_texts,) leave-one-sentence-out cosines and ``bootstrap`` (n_boot,) cosines of axes fitted
    on sentences resampled with replacement (draws without a positive and a negative are redrawn).
    """
    h, signs = np.asarray(hidden, dtype=np.float64), np.asarray(signs)
    full = VAxis(method)._fit_arrays(h, signs).direction_
    n = len(signs)
    loso = np.array([VAxis(method)._fit_arrays(h[np.arange(n) != i], signs[np.arange(n) != i]).direction_ @ full
                     for i in range(n)])
    rng = np.random.default_rng(seed)
    boot = []
    while len(boot) < n_boot:
        idx = rng.integers(0, n, n)
        if (signs[idx] > 0).any() and (signs[idx] < 0).any():
            boot.append(VAxis(method)._fit_arrays(h[idx], signs[idx]).direction_ @ full)
    return {"loso": loso, "bootstrap": np.array(boot)}


@lru_cache(maxsize=8)
def _model(name: str, device: str, random_weights: bool):
    return llm.load_model(name, device=device, random_weights=random_weights, lazy=True)


def lazy_model(name: str, device: str = "auto", random_weights: bool = False):
    """A lazily loaded model, kept per process (:func:`vaxis.text.llm.load_model` with ``lazy=True``): its weights load
    only when a hidden state is not in the cache."""
    return _model(name, device, random_weights)


def anchor_states(model, pooling: str | None = None, cache_dir: str | os.PathLike | None = None,
                  batch_size: int | None = None) -> dict:
    """The nine sentences' and the reference texts' all-layer hidden states of a loaded model (both cached).

    Chapters 1-3 and :func:`category_positions` all call this, so the cache keys are shared.

    Returns
    -------
    dict with ``nine`` (n_layers, 9, hidden), ``reference`` (n_layers, n_ref, hidden), ``pooling`` (str) and
    ``layer`` (the layer rule's choice, :func:`layer_rule`).
    """
    pooling = pooling or model.default_pooling
    nine = llm.extract(model, list(TEXTS), pooling=pooling, batch_size=batch_size, cache_dir=cache_dir,
                       progress=False)
    ref = reference_hidden(model, pooling, batch_size=batch_size, cache_dir=cache_dir)
    return {"nine": nine, "reference": ref, "pooling": pooling, "layer": layer_rule(nine, ref)}


def layer_rule(nine: np.ndarray, reference: np.ndarray | None, signs: np.ndarray = SIGNS,
               method: str = "mean-diff") -> int:
    """The layer rule on standardised states: :func:`choose_layer` of the nine sentences after each layer is
    standardised with the reference texts' statistics (:func:`vaxis.text.reference_texts.standardize`).

    Parameters
    ----------
    nine : ndarray, shape (n_layers, 9, hidden)
    reference : ndarray, shape (n_layers, n_ref, hidden), or None (raw states)
    """
    return choose_layer(nine if reference is None else standardize(nine, reference), signs, method)


def nine_hidden(model_name: str, pooling: str | None = None, device: str = "auto", random_weights: bool = False,
                cache_dir: str | os.PathLike | None = None) -> tuple[np.ndarray, str]:
    """All-layer hidden states of the nine sentences, shape (n_layers, 9, hidden), and the pooling used (raw)."""
    model = _model(model_name, device, random_weights)
    pooling = pooling or model.default_pooling
    return llm.extract(model, list(TEXTS), pooling=pooling, cache_dir=cache_dir, progress=False), pooling


def category_positions(model_name: str, layer: int | None = None, method: str = "mean-diff",
                       pooling: str | None = None, device: str = "auto", cache_dir: str | os.PathLike | None = None,
                       random_weights: bool = False, standardized: bool = True) -> pd.Series:
    """The nine categories' positions on a model's V-axis (each FACED clip inherits its category's).

    The axis is the chapters' axis: fitted on the nine sentences after standardising every hidden dimension with
    the reference texts (``standardized=False``: raw states), at :func:`layer_rule`'s layer unless ``layer`` is
    given. Positions are ``VAxis.transform`` of the nine sentences (centred on their mean; units: reference SDs
    along the axis). Hidden states are cached; a run that finds them cached loads no weights.

    Returns
    -------
    Series of length 9 indexed by :data:`vaxis.text.sentences.CATEGORIES`, named after the model; ``attrs`` hold
    the layer, pooling, method and ``standardized``.
    """
    st = anchor_states(_model(model_name, device, random_weights), pooling, cache_dir)
    hidden, ref = st["nine"], (st["reference"] if standardized else None)
    if layer is None:
        layer = st["layer"] if standardized else choose_layer(hidden, SIGNS, method)
    ax = VAxis(method, layer=layer, reference=ref).fit(hidden, SIGNS)
    s = pd.Series(ax.transform(hidden)[:, 0], index=list(CATEGORIES), name=model_name)
    s.attrs.update(layer=int(layer % hidden.shape[0]), pooling=st["pooling"], method=method,
                   standardized=bool(standardized))
    return s
