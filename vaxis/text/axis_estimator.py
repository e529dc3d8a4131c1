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
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from vaxis.text.reference_texts import scale_stats

__all__ = ["METHODS", "signs_from_labels", "VAxis"]


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
