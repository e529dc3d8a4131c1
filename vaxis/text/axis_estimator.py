"""The V-axis: a one-dimensional valence direction read from the nine sentences' hidden states.

:class:`VAxis` is a scikit-learn estimator, classifier-like and a transformer (``ClassifierMixin`` +
``TransformerMixin`` + ``BaseEstimator``: ``clone``, ``Pipeline``, ``cross_val_score`` with stratified folds, the
``roc_auc`` scorer and ``check_estimator`` work). ``fit(hidden, y)`` takes hidden states at one layer and labels:
signs (-1 negative, 0 neutral, +1 positive; the nine sentences) or any two classes (the smaller label is the negative
group: 0/1, -1/+1, ``"neg"``/``"pos"``), and finds a unit direction:

``mean-diff``
    :math:`w = \\bar h_+ - \\bar h_-` (mean of the positive sentences minus mean of the negative ones).
``pca``
    First principal axis of the nine centred hidden states, oriented so positives project above negatives.
``lda``
    Fisher's direction :math:`w = S^{-1}(\\bar h_+ - \\bar h_-)` with a shrunk within-class scatter
    :math:`S = (1-\\lambda) S_w + \\lambda\\,\\mathrm{tr}(S_w)/d\\,I`: with 8 labelled sentences in hundreds of
    dimensions the raw scatter is singular, so :math:`\\lambda = 0.5` by default.

The position of a text is :math:`p(h) = (z(h) - c)^\\top w` with :math:`c` the mean of the fitted texts, so 0 is their
centre. ``transform(h)`` returns it as one feature, shape (n, 1) (``Pipeline`` steps follow it);
``decision_function(h)`` is :math:`p(h) - p_0`, shape (n,), with :math:`p_0` = ``neutral_`` the neutral sentences'
position (0 without neutral texts): the zero-shot decision threshold of chapter 2, so ``predict`` (the positive class
where the decision is above 0) is the chapters' zero-shot rule.

**Standardised dimensions.** With ``reference=`` (the chapters always pass it), :math:`z(h) = (h - \\mu)/s` with
the per-dimension mean and SD of the package's unlabelled reference texts (:mod:`vaxis.text.reference_texts`), so a few
heavy-tailed "massive activation" dimensions of a causal LM cannot dominate the axis. The same transform is
applied to the nine sentences and to every projected text, and it is saved and loaded with the axis (a loaded axis
carries it as ``reference={"mean": ..., "scale": ...}``, so ``clone`` and a refit keep it). Without a reference,
:math:`z(h) = h`.
"""

from __future__ import annotations

import io
import json
import numbers
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from vaxis.runs.cache import atomic_write_bytes
from vaxis.text.reference_texts import scale_stats

__all__ = ["METHODS", "signs_from_labels", "VAxis"]


METHODS = ("mean-diff", "pca", "lda")
FORMAT = "vaxis-axis/2"


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v)
    if not np.isfinite(n) or n == 0:
        raise ValueError("degenerate axis: the positive and negative sentences have identical hidden states")
    return v / n


def _is_signs(classes: np.ndarray) -> bool:
    """Whether sorted class labels are signs: numeric, within {-1, 0, +1}, with -1 among them."""
    if classes.dtype.kind not in "biuf":
        return False
    return bool(classes.size and classes[0] == -1 and np.isin(classes, (-1, 0, 1)).all())


def signs_from_labels(y) -> np.ndarray:
    """The label rule of :meth:`VAxis.fit`: labels, shape (n,) -> signs in {-1, 0, +1}, shape (n,).

    Signs (numeric labels within {-1, 0, +1}, -1 among them) are kept: 0 marks neutral texts. Otherwise ``y`` must
    hold two classes: the smaller (sorted first) is the negative group, the other the positive one (0/1, 1/2,
    ``"neg"``/``"pos"``). One class or three and more classes that are not signs raise ``ValueError``.
    """
    y = column_or_1d(y, warn=True)
    if y.dtype.kind not in "biu":  # integers are classes already (and this check costs more than a fit)
        check_classification_targets(y)  # NaN, inf and continuous targets are refused here
    classes, idx = np.unique(y, return_inverse=True)
    if _is_signs(classes):
        return np.asarray(y, dtype=float).astype(int)
    if classes.size < 2:
        raise ValueError(f"fit needs at least one positive and one negative text (got one class: {classes.tolist()})")
    if classes.size > 2:
        raise ValueError(f"Only binary classification is supported (two classes, or signs -1/0/+1 with 0 neutral); "
                         f"got {classes.size} classes {classes.tolist()[:6]}")
    return np.where(idx == 1, 1, -1)


class VAxis(ClassifierMixin, TransformerMixin, BaseEstimator):
    """Valence direction estimator: a one-feature transformer and a binary classifier-like estimator.

    Parameters
    ----------
    method : {"mean-diff", "pca", "lda"}
    layer : int, optional
        Used when ``fit`` / ``transform`` receive all layers, shape (n_layers, n_texts, hidden).
    shrinkage : float
        LDA shrinkage :math:`\\lambda` in [0, 1].
    reference : ndarray or mapping, optional
        Unlabelled reference hidden states, shape (n_ref, hidden) or (n_layers, n_ref, hidden) (then ``layer``
        picks one): every hidden dimension is standardised with their mean and floored SD
        (:func:`vaxis.text.reference_texts.scale_stats`) before the axis is fitted, and every projection uses the same
        transform. Or the transform itself, ``{"mean": (hidden,), "scale": (hidden,)}`` (what :meth:`load` sets).
        None: no standardisation.

    Parameters are validated in :meth:`fit` (scikit-learn convention), not in the constructor.

    Attributes
    ----------
    direction_ : ndarray, shape (hidden,)  (unit norm, in the standardised space)
    center_ : ndarray, shape (hidden,)  (mean of the fitted texts, standardised)
    mean_, scale_ : ndarray, shape (hidden,)  (the reference transform; zeros and ones without a reference)
    neutral_ : float  (position of the sign-0 texts' mean; 0.0 when none)
    classes_ : ndarray, shape (n_classes,)  (sorted labels; ``classes_[0]`` negative, ``classes_[-1]`` positive)
    n_features_in_ : int
    """

    def __init__(self, method: str = "mean-diff", layer: int | None = None, shrinkage: float = 0.5,
                 reference: np.ndarray | Mapping | None = None):
        self.method = method
        self.layer = layer
        self.shrinkage = shrinkage
        self.reference = reference

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.classifier_tags.multi_class = False  # two classes (or signs with neutral texts): one direction
        return tags

    def _check_params(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {self.method!r}")
        if isinstance(self.shrinkage, bool) or not isinstance(self.shrinkage, numbers.Real) or not (
                0 <= self.shrinkage <= 1):
            raise ValueError(f"shrinkage must be a number in [0, 1], got {self.shrinkage!r}")
        if self.layer is not None and (isinstance(self.layer, bool) or not isinstance(self.layer, numbers.Integral)):
            raise ValueError(f"layer must be an int or None, got {self.layer!r}")
        if isinstance(self.reference, Mapping):
            if set(self.reference) != {"mean", "scale"} or np.ndim(self.reference["mean"]) != 1 or (
                    np.shape(self.reference["mean"]) != np.shape(self.reference["scale"])):
                raise ValueError("a reference transform must be {'mean': (hidden,), 'scale': (hidden,)}")
        elif self.reference is not None and np.ndim(self.reference) not in (2, 3):
            raise ValueError(f"reference must be None, a {{'mean', 'scale'}} transform, or have shape (n_ref, hidden) "
                             f"or (n_layers, n_ref, hidden), got {np.shape(self.reference)}")

    def _at_layer(self, hidden, reset: bool) -> np.ndarray:
        if getattr(hidden, "ndim", None) == 3 or (isinstance(hidden, (list, tuple)) and np.ndim(hidden) == 3):
            if self.layer is None:
                raise ValueError("hidden has a layer axis (n_layers, n_texts, hidden): set VAxis(layer=...)")
            hidden = np.asarray(hidden)[self.layer]
        return validate_data(self, hidden, reset=reset, dtype=np.float64)

    def _reference_stats(self, n_features: int) -> tuple[np.ndarray, np.ndarray]:
        if self.reference is None:
            return np.zeros(n_features), np.ones(n_features)
        if isinstance(self.reference, Mapping):
            mean, scale = (np.asarray(self.reference[k], dtype=np.float64) for k in ("mean", "scale"))
            if not (np.isfinite(mean).all() and (scale > 0).all()):
                raise ValueError("a reference transform needs a finite mean and a positive scale")
        else:
            ref = np.asarray(self.reference, dtype=np.float64)
            if ref.ndim == 3:
                if self.layer is None:
                    raise ValueError("reference has a layer axis (n_layers, n_ref, hidden): set VAxis(layer=...)")
                ref = ref[self.layer]
            mean, scale = scale_stats(ref)
        if mean.shape[-1] != n_features:
            raise ValueError(f"reference has {mean.shape[-1]} features, the hidden states {n_features}")
        return mean, scale

    def fit(self, X, y) -> VAxis:
        """Fit on hidden states ``X``, shape (n_texts, hidden) or (n_layers, n_texts, hidden), and labels ``y``,
        shape (n_texts,): signs (-1 negative, 0 neutral, +1 positive) or two classes (see :func:`signs_from_labels`).
        """
        self._check_params()
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        h = self._at_layer(X, reset=True)
        y = column_or_1d(y, warn=True)
        check_consistent_length(h, y)
        s = signs_from_labels(y)
        self.classes_ = np.unique(y)
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

    def _positions(self, X) -> np.ndarray:
        check_is_fitted(self, "direction_")
        return self._project(self._at_layer(X, reset=False))

    def transform(self, X) -> np.ndarray:
        """Positions on the axis as one feature; X (n_texts, hidden) or (n_layers, n_texts, hidden) -> (n_texts, 1)."""
        return self._positions(X)[:, None]

    def decision_function(self, X) -> np.ndarray:
        """Position minus the neutral sentences' position (``neutral_``), shape (n_texts,): above 0 is positive."""
        return self._positions(X) - self.neutral_

    def predict(self, X) -> np.ndarray:
        """``classes_[-1]`` (positive) where :meth:`decision_function` is above 0, else ``classes_[0]``; (n_texts,)."""
        classes = getattr(self, "classes_", np.array([-1, 1]))  # _fit_arrays (signs) sets none
        return np.where(self.decision_function(X) > 0, classes[-1], classes[0])

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """The one output feature's name, ``["vaxis_position"]`` (object array, shape (1,))."""
        check_is_fitted(self, "direction_")
        _check_feature_names_in(self, input_features, generate_names=False)
        return np.asarray(["vaxis_position"], dtype=object)

    def _project(self, h: np.ndarray) -> np.ndarray:
        return ((h - self.mean_) / self.scale_ - self.center_) @ self.direction_

    def score(self, X, y) -> float:
        """Separation d': (mean positive - mean negative position) / pooled SD of the two groups."""
        p, s = self._positions(X), signs_from_labels(y)
        a, b = p[s > 0], p[s < 0]
        sd = np.sqrt((a.var(ddof=1) * (len(a) - 1) + b.var(ddof=1) * (len(b) - 1)) / max(len(a) + len(b) - 2, 1))
        return float((a.mean() - b.mean()) / (sd + 1e-12))

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted axis to ``path``, exactly that name: one ``.npz`` archive (arrays direction, center,
        reference mean and scale, settings as JSON text), no pickle, written atomically. The reference texts' states
        are not stored, only the transform they define. Returns ``path``."""
        check_is_fitted(self, "direction_")
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder; give VAxis.save a file name")
        meta = {"format": FORMAT, "method": self.method, "layer": self.layer, "shrinkage": self.shrinkage,
                "neutral": self.neutral_, "classes": self.classes_.tolist(),
                "standardized": self.reference is not None or not np.all(self.scale_ == 1)}
        buf = io.BytesIO()
        np.savez(buf, direction=self.direction_, center=self.center_, mean=self.mean_, scale=self.scale_,
                 meta=np.asarray(json.dumps(meta)))
        atomic_write_bytes(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> VAxis:
        """Read an axis written by :meth:`save` (or the older ``<path>.npz`` + ``<path>.json`` pair). The loaded
        axis is fitted, and its ``reference`` is the saved transform, so ``clone(loaded).fit(...)`` standardises
        the same way."""
        path = Path(path)
        old = not path.is_file() and path.with_suffix(".npz").is_file() and path.with_suffix(".json").is_file()
        with np.load(path.with_suffix(".npz") if old else path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(path.with_suffix(".json").read_text() if old else str(arrays.pop("meta")))
        d = arrays["direction"].shape[0]
        mean, scale = arrays.get("mean", np.zeros(d)), arrays.get("scale", np.ones(d))
        ref = {"mean": mean, "scale": scale} if meta.get("standardized", not np.all(scale == 1)) else None
        ax = cls(meta["method"], meta["layer"], meta["shrinkage"], reference=ref)
        ax.direction_, ax.center_, ax.mean_, ax.scale_ = arrays["direction"], arrays["center"], mean, scale
        ax.neutral_ = float(meta["neutral"])
        ax.classes_ = np.asarray(meta.get("classes", [-1, 0, 1]))
        ax.n_features_in_ = int(d)
        return ax
