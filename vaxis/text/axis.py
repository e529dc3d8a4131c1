"""The V-axis: a one-dimensional valence direction read from the nine sentences' hidden states.

:class:`VAxis` is a scikit-learn estimator (``BaseEstimator`` + ``TransformerMixin``: ``clone``, ``Pipeline`` and
``check_estimator`` work). ``fit(hidden, signs)`` takes the nine sentences' hidden states at one layer and their
signs (-1 negative, 0 neutral, +1 positive) and finds a unit direction:

``mean-diff``
    :math:`w = \\bar h_+ - \\bar h_-` (mean of the positive sentences minus mean of the negative ones).
``pca``
    First principal axis of the nine centred hidden states, oriented so positives project above negatives.
``lda``
    Fisher's direction :math:`w = S^{-1}(\\bar h_+ - \\bar h_-)` with a shrunk within-class scatter
    :math:`S = (1-\\lambda) S_w + \\lambda\\,\\mathrm{tr}(S_w)/d\\,I`: with 8 labelled sentences in hundreds of
    dimensions the raw scatter is singular, so :math:`\\lambda = 0.5` by default.

``transform(h)`` is the position :math:`(z(h) - c)^\\top w` with :math:`c` the mean of the nine sentences, so 0 is
their centre; the neutral sentence's position (``neutral_``) is the zero-shot decision threshold of chapter 2.

**Standardised dimensions.** With ``reference=`` (the chapters always pass it), :math:`z(h) = (h - \\mu)/s` with
the per-dimension mean and SD of the package's unlabelled reference texts (:mod:`vaxis.text.reference_texts`), so a few
heavy-tailed "massive activation" dimensions of a causal LM cannot dominate the axis. The same transform is
applied to the nine sentences and to every projected text, and it is saved and loaded with the axis. Without a
reference, :math:`z(h) = h`.

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

**Permutation null.** :func:`partition_null` repeats the whole procedure, layer choice included, for each of the
35 ways to split the eight non-neutral sentences into two groups of four (a split and its mirror image score the
same): the exact p-value is the rank of the valence split among them.
"""

from __future__ import annotations

import json
import numbers
import os
from functools import lru_cache
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from vaxis.text import llm
from vaxis.text.reference_texts import reference_hidden, scale_stats, standardize
from vaxis.text.sentences import CATEGORIES, SIGNS, TEXTS

__all__ = ["METHODS", "VAxis", "signs_from_labels", "heldout_z", "heldout_positions", "layer_curve", "choose_layer",
           "layer_rule", "anchor_states", "lazy_model", "partition_null", "stability", "category_positions",
           "nine_hidden"]

METHODS = ("mean-diff", "pca", "lda")


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n == 0:
        raise ValueError("degenerate axis: the positive and negative sentences have identical hidden states")
    return v / n


def signs_from_labels(y) -> np.ndarray:
    """The sign rule of :meth:`VAxis.fit`: labels -> signs in {-1, 0, +1}.

    With any negative label, ``y`` holds signs already: ``y > 0`` positive, ``y < 0`` negative, ``y == 0``
    neutral (the nine sentences). Otherwise (binary 0/1 labels, class ids, ratings) the smallest value is the
    negative group, the largest the positive group and anything between is neutral.
    """
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if not np.isfinite(y).all():
        raise ValueError("labels contain NaN or inf")
    if (y < 0).any() or y.size == 0:
        return np.sign(y).astype(int)
    lo, hi = y.min(), y.max()
    return np.where(y == hi, 1, np.where(y == lo, -1, 0)).astype(int) if hi > lo else np.zeros(y.size, int)


class VAxis(TransformerMixin, BaseEstimator):
    """Valence direction estimator (scikit-learn compatible: ``clone``, ``Pipeline``, ``check_estimator``).

    Parameters
    ----------
    method : {"mean-diff", "pca", "lda"}
    layer : int, optional
        Used when ``fit`` / ``transform`` receive all layers, shape (n_layers, n_texts, hidden).
    shrinkage : float
        LDA shrinkage :math:`\\lambda` in [0, 1].
    reference : ndarray, optional
        Unlabelled reference hidden states, shape (n_ref, hidden) or (n_layers, n_ref, hidden) (then ``layer``
        picks one): every hidden dimension is standardised with their mean and floored SD
        (:func:`vaxis.text.reference_texts.scale_stats`) before the axis is fitted, and every projection uses the same
        transform. None: no standardisation.

    Parameters are validated in :meth:`fit` (scikit-learn convention), not in the constructor.

    Attributes
    ----------
    direction_ : ndarray, shape (hidden,)  (unit norm, in the standardised space)
    center_ : ndarray, shape (hidden,)  (mean of the fitted texts, standardised)
    mean_, scale_ : ndarray, shape (hidden,)  (the reference transform; zeros and ones without a reference)
    neutral_ : float  (position of the sign-0 texts' mean; 0.0 when none)
    n_features_in_ : int
    """

    def __init__(self, method: str = "mean-diff", layer: int | None = None, shrinkage: float = 0.5,
                 reference: np.ndarray | None = None):
        self.method = method
        self.layer = layer
        self.shrinkage = shrinkage
        self.reference = reference

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if isinstance(self.shrinkage, bool) or not isinstance(self.shrinkage, numbers.Real) or not (
                0 <= self.shrinkage <= 1):
            raise ValueError(f"shrinkage must be a number in [0, 1], got {self.shrinkage!r}")
        if self.layer is not None and (isinstance(self.layer, bool) or not isinstance(self.layer, numbers.Integral)):
            raise ValueError(f"layer must be an int or None, got {self.layer!r}")
        if self.reference is not None and np.ndim(self.reference) not in (2, 3):
            raise ValueError(f"reference must be None or have shape (n_ref, hidden) or (n_layers, n_ref, hidden), "
                             f"got {np.shape(self.reference)}")

    def _at_layer(self, hidden, reset: bool) -> np.ndarray:
        if getattr(hidden, "ndim", None) == 3 or (isinstance(hidden, (list, tuple)) and np.ndim(hidden) == 3):
            if self.layer is None:
                raise ValueError("hidden has a layer axis (n_layers, n_texts, hidden): set VAxis(layer=...)")
            hidden = np.asarray(hidden)[self.layer]
        return validate_data(self, hidden, reset=reset, dtype=np.float64)

    def _reference_stats(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        if self.reference is None:
            return np.zeros(n_features), np.ones(n_features)
        ref = np.asarray(self.reference, dtype=np.float64)
        if ref.ndim == 3:
            if self.layer is None:
                raise ValueError("reference has a layer axis (n_layers, n_ref, hidden): set VAxis(layer=...)")
            ref = ref[self.layer]
        if ref.shape[-1] != n_features:
            raise ValueError(f"reference has {ref.shape[-1]} features, the hidden states {n_features}")
        return scale_stats(ref)

    def fit(self, X, y) -> VAxis:
        """Fit on hidden states ``X``, shape (n_texts, hidden) or (n_layers, n_texts, hidden), and labels ``y``.

        ``y`` are signs (-1 negative, 0 neutral, +1 positive) or labels without negative values (see
        :func:`signs_from_labels`: the smallest value is negative, the largest positive).
        """
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        h = self._at_layer(X, reset=True)
        s = signs_from_labels(y)
        if s.shape != (h.shape[0],):
            raise ValueError(f"signs must have shape ({h.shape[0]},), got {s.shape}")
        self.mean_, self.scale_ = self._reference_stats(h.shape[1])
        return self._fit_arrays((h - self.mean_) / self.scale_, s)

    def _fit_arrays(self, h: np.ndarray, s: np.ndarray) -> VAxis:
        """The fit itself on validated, already standardised float arrays h (n, d) and signs s (n,): the fast path
        of the leave-one-pair-out loops (thousands of fits per chapter), skipping scikit-learn's input checks."""
        if not hasattr(self, "mean_"):
            self.mean_, self.scale_ = np.zeros(h.shape[1]), np.ones(h.shape[1])
        pos, neg = h[s > 0], h[s < 0]
        if len(pos) == 0 or len(neg) == 0:
            raise ValueError("fit needs at least one positive and one negative text (got one class)")
        diff = pos.mean(0) - neg.mean(0)
        if self.method == "mean-diff":
            w = diff
        elif self.method == "pca":
            c = h - h.mean(0)
            w = np.linalg.svd(c, full_matrices=False)[2][0]
        else:
            sw = np.concatenate([pos - pos.mean(0), neg - neg.mean(0)])
            # S = (1-l) Sw/n + l tr(Sw/n)/d I; solve in the span of the data (Woodbury) to stay O(n^2 d)
            n, d = sw.shape
            lam = float(self.shrinkage)
            a = lam * np.sum(sw**2) / (n * d) if lam > 0 else 1e-12
            a = a if a > 0 else 1e-12
            b = (1 - lam) / n
            k = np.eye(n) * a + b * sw @ sw.T
            w = (diff - b * sw.T @ np.linalg.solve(k, sw @ diff)) / a
        w = _unit(w)
        if (pos @ w).mean() < (neg @ w).mean():  # sign rule: positive sentences project higher
            w = -w
        self.direction_, self.center_ = w, h.mean(0)
        neutral = h[s == 0]
        self.neutral_ = float(((neutral - self.center_) @ w).mean()) if len(neutral) else 0.0
        return self

    def transform(self, X) -> np.ndarray:
        """Positions on the axis; X (n_texts, hidden) or (n_layers, n_texts, hidden) -> (n_texts,)."""
        check_is_fitted(self, "direction_")
        h = self._at_layer(X, reset=False)
        return self._project(h)

    def _project(self, h: np.ndarray) -> np.ndarray:
        return ((h - self.mean_) / self.scale_ - self.center_) @ self.direction_

    def score(self, X, y) -> float:
        """Separation d': (mean positive - mean negative position) / pooled SD of the two groups."""
        p, s = self.transform(X), signs_from_labels(y)
        a, b = p[s > 0], p[s < 0]
        sd = np.sqrt((a.var(ddof=1) * (len(a) - 1) + b.var(ddof=1) * (len(b) - 1)) / max(len(a) + len(b) - 2, 1))
        return float((a.mean() - b.mean()) / (sd + 1e-12))

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``<path>.npz`` (arrays: direction, center, reference mean and scale) and ``<path>.json``
        (settings); no pickle. The reference texts' states are not stored, only the transform they define."""
        check_is_fitted(self, "direction_")
        path = Path(path)
        np.savez(path.with_suffix(".npz"), direction=self.direction_, center=self.center_, mean=self.mean_,
                 scale=self.scale_)
        meta = {"method": self.method, "layer": self.layer, "shrinkage": self.shrinkage, "neutral": self.neutral_,
                "standardized": self.reference is not None or not np.all(self.scale_ == 1)}
        path.with_suffix(".json").write_text(json.dumps(meta))
        return path.with_suffix(".npz")

    @classmethod
    def load(cls, path: str | os.PathLike) -> VAxis:
        path = Path(path)
        meta = json.loads(path.with_suffix(".json").read_text())
        ax = cls(meta["method"], meta["layer"], meta["shrinkage"])
        with np.load(path.with_suffix(".npz"), allow_pickle=False) as z:
            ax.direction_, ax.center_ = z["direction"], z["center"]
            d = ax.direction_.shape[0]
            ax.mean_ = z["mean"] if "mean" in z.files else np.zeros(d)
            ax.scale_ = z["scale"] if "scale" in z.files else np.ones(d)
        ax.neutral_ = meta["neutral"]
        ax.n_features_in_ = int(ax.direction_.shape[0])
        return ax


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
    chosen layer. The p-value is the share of splits scoring at least as high as the valence split.

    Parameters
    ----------
    hidden : ndarray, shape (n_layers, n_texts, hidden)

    Returns
    -------
    dict with ``observed`` (float), ``null`` (ndarray (n_splits - 1,), the other splits' scores), ``p`` (float),
    ``rank`` (1 = the valence split scores best) and ``n_splits``.
    """
    signs = np.asarray(signs)
    idx = np.flatnonzero(signs != 0)
    if (signs > 0).sum() != (signs < 0).sum():
        raise ValueError("partition_null needs as many positive as negative texts")
    k = len(idx) // 2
    scores, observed = [], None
    for group in combinations(idx[1:], k - 1):  # idx[0] always in the "negative" group: one split per mirror pair
        s = np.zeros_like(signs)
        s[idx] = 1
        s[[idx[0], *group]] = -1
        curve = layer_curve(hidden, s, method)
        layer = choose_layer(hidden, s, method, tol, curve=curve)
        score = float(curve.loc[layer, "heldout_margin"])
        same = np.array_equal(s, signs) or np.array_equal(s, -signs)
        if same:
            observed = score
        else:
            scores.append(score)
    null = np.array(scores)
    return {"observed": observed, "null": null, "p": float((1 + np.sum(null >= observed)) / (1 + null.size)),
            "rank": int(1 + np.sum(null > observed)), "n_splits": int(null.size + 1)}


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
    s = pd.Series(ax.transform(hidden), index=list(CATEGORIES), name=model_name)
    s.attrs.update(layer=int(layer % hidden.shape[0]), pooling=st["pooling"], method=method,
                   standardized=bool(standardized))
    return s
