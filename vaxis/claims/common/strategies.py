"""The 25 alignment strategies: loss terms that add the LLM's valence signal to the 9-class task loss.

Every strategy is a :class:`Strategy` in :data:`STRATEGIES` with a ``name``, a ``family``, a one-line
``rationale``, a small ``default_weights`` grid and ``make_loss(targets, weight)``, which returns a loss term
compatible with the trainer's hook (:func:`vaxis.decoding.stacking.train_stacked`):
``loss_fn(representation, logits, y, clip_index, model_index)``. The loss term is ``weight * term``; with
``weight = 0`` its gradient is exactly zero, so the trained model is the label-only model bit for bit.

What the hook sees. The trainer hands the hook the decoder's penultimate representation and logits only.
Strategies that need more get it through :class:`vaxis.claims.common.conditions.AlignedDecoder` (the adapter):
it wraps a decoder, adds a small learned head (``n_head = 9`` outputs: an 8-D projection into the sentence
space for the contrastive losses, one scalar V readout for regression / ranking / ordinal losses) and computes
the parameter penalties of the topographic family from the decoder's own input-layer weights inside the
forward pass, so they are per model under ``vmap``. Its representation is the concatenation
``[rep (d), head (9), penalties (4)]``; :func:`split` takes it apart. ``forward`` is the decoder's own, so the
label-only path is untouched. Strategies with ``needs == "rep"`` also work with a plain decoder (e.g. through
:func:`vaxis.decoding.training.evaluate`).

Categories are the 9-class labels ``y`` (the strategies are defined for ``task="9class"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from vaxis.claims.common.terms import (
    Term,
    _cka,
    _cos_mse,
    _infonce,
    _kd,
    _pen,
    _rsa,
    _rsa_centroid,
    _supcon_v,
    _triplet_v,
    _v_cosine,
    _v_expected,
    _v_mse,
    _v_ordinal,
    _v_rank,
)

__all__ = ["AlignmentTargets", "derangement", "Strategy", "STRATEGIES", "VARIANT_OF", "FAMILIES", "AlignmentLoss",
           "split", "N_HEAD", "N_PEN", "PEN_NAMES"]

N_HEAD = 9                                   # 8-D sentence-space projection + 1 scalar V readout
PEN_NAMES = ("smooth", "vmap", "band", "channel")
N_PEN = len(PEN_NAMES)
FAMILIES = ("distillation", "similarity", "contrastive", "direct", "topographic")


def derangement(n: int, seed: int) -> np.ndarray:
    """A seeded random permutation of ``range(n)`` that moves every element (``p[i] != i`` for all i).

    Rejection sampling from ``numpy.random.default_rng(seed)`` (about e draws on average), so the same
    ``seed`` always gives the same permutation. Returns int ndarray, shape (n,); ``n`` must be >= 2.
    """
    if n < 2:
        raise ValueError(f"no derangement of {n} element(s)")
    rng = np.random.default_rng(seed)
    while True:
        p = rng.permutation(n)
        if (p != np.arange(n)).all():
            return p


@dataclass
class AlignmentTargets:
    """What the LLM provides.

    Attributes
    ----------
    positions : ndarray, shape (9,)
        V-axis position of each category (class id order).
    embeddings : ndarray, shape (9, d_llm)
        The nine sentence embeddings (hidden states at the V-axis layer).
    vmap : ndarray, shape (n_chans, n_bands), optional
        Chapter-4 EEG V-map weights (a ridge filter from DE to position).
    v_distances : ndarray, shape (9, 9), optional
        Overrides the V-axis distances ``|pos_i - pos_j|`` behind the V-distance soft targets (``Dv`` of
        :meth:`tensors`, used by ``kd_valence``). None (default): computed from ``positions``. Set by
        :meth:`uniform`, because no nine points on a line are all equally far apart.
    """

    positions: np.ndarray
    embeddings: np.ndarray
    vmap: np.ndarray | None = None
    v_distances: np.ndarray | None = None

    @property
    def geometry(self) -> np.ndarray:
        """Cosine similarity of the nine sentence embeddings, shape (9, 9)."""
        e = np.asarray(self.embeddings, float)
        e = e / np.linalg.norm(e, axis=1, keepdims=True)
        return e @ e.T

    def tensors(self) -> dict[str, torch.Tensor]:
        """float32 tensors: ``pos`` (9,) z-scored positions, ``S`` / ``D`` (9, 9) similarity / 1 - similarity,
        ``Dv`` (9, 9) V-axis distances ``|pos_i - pos_j|`` of the z-scored positions (or ``v_distances``),
        ``E`` (9, d_llm) centred embeddings, ``E8`` (9, 8) their principal coordinates."""
        pos = np.asarray(self.positions, float)
        e = np.asarray(self.embeddings, float)
        ec = e - e.mean(0)
        u, s, _ = np.linalg.svd(ec, full_matrices=False)
        e8 = u[:, :8] * s[:8]
        t = {"pos": (pos - pos.mean()) / (pos.std() + 1e-12), "S": self.geometry, "D": 1 - self.geometry,
             "E": ec, "E8": e8 / np.linalg.norm(e8, axis=1, keepdims=True).clip(1e-12)}
        out = {k: torch.as_tensor(v, dtype=torch.float32) for k, v in t.items()}
        out["Dv"] = ((out["pos"][:, None] - out["pos"][None]).abs() if self.v_distances is None else
                     torch.as_tensor(np.asarray(self.v_distances, float), dtype=torch.float32))
        return out

    def shuffled(self, seed: int) -> AlignmentTargets:
        """The same targets with the LLM's rows dealt to the wrong categories (the shuffled-geometry control).

        One derangement ``p = derangement(9, seed)`` relabels everything category-indexed together: category
        ``c`` gets category ``p[c]``'s position and embedding (and ``v_distances`` rows and columns), so the
        set of distances is unchanged but no category keeps its own. ``vmap`` (an EEG map) is kept.

        Returns
        -------
        AlignmentTargets
            ``positions`` (9,) = ``positions[p]``, ``embeddings`` (9, d_llm) = ``embeddings[p]``; e.g.
            ``D_shuffled[i, j] = D[p[i], p[j]]``.
        """
        p = derangement(len(self.positions), seed)
        vd = None if self.v_distances is None else np.asarray(self.v_distances)[np.ix_(p, p)]
        return AlignmentTargets(np.asarray(self.positions)[p], np.asarray(self.embeddings)[p], self.vmap, vd)

    def uniform(self) -> AlignmentTargets:
        """Targets with no geometry: every category equally far from every other (the uniform control).

        Embeddings become orthonormal rows (``eye(9, d_llm)``; centred, a regular simplex), so the cosine
        similarity ``S`` is the identity and ``D = 1 - I``; ``v_distances = 1 - I`` does the same for the
        V-distance targets. The distillation soft targets then put ``1 / (1 + 8 exp(-1 / T))`` on the true
        class and the same mass on each other class: label smoothing at the strategy's temperature.
        Positions are all 0, so ``tensors()["pos"]`` is exactly 0 (0 / (0 + 1e-12), no NaN); strategies
        that need distinct positions (e.g. ordinal or ranking losses) are undefined here, since they are
        not distillation. ``vmap`` is kept.

        Returns
        -------
        AlignmentTargets
            ``positions`` (9,) zeros, ``embeddings`` (9, max(9, d_llm)), ``v_distances`` (9, 9) ``1 - I``.
        """
        n, d = np.asarray(self.embeddings).shape
        return AlignmentTargets(np.zeros(n), np.eye(n, max(n, d)), self.vmap, 1 - np.eye(n))

    @classmethod
    def from_llm(cls, model_name: str = "minilm", vmap: np.ndarray | None = None, device: str = "auto",
                 cache_dir=None) -> AlignmentTargets:
        """Positions and embeddings of ``model_name`` at its V-axis layer (chapter 1, cached)."""
        from vaxis.text.axis import category_positions, nine_hidden

        pos = category_positions(model_name, device=device, cache_dir=cache_dir)
        hidden, _ = nine_hidden(model_name, pos.attrs["pooling"], device=device, cache_dir=cache_dir)
        return cls(pos.to_numpy(float), hidden[pos.attrs["layer"]], vmap)


def split(rep: torch.Tensor, d: int | None) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """``[rep, head, penalties]`` -> (rep (..., d), head (..., 9), penalties (..., 4)); ``d=None``: plain rep."""
    if d is None or rep.shape[-1] == d:
        return rep, None, None
    return rep[..., :d], rep[..., d:d + N_HEAD], rep[..., d + N_HEAD:d + N_HEAD + N_PEN]


# --------------------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class Strategy:
    """One alignment strategy: ``weight * term`` added to the cross-entropy.

    ``needs``: ``"rep"`` (representation / logits only), ``"head"`` (the adapter's learned head) or
    ``"params"`` (the adapter's input-layer penalties, which need ``AlignmentTargets.vmap``).
    ``variant_of``: the strategy this one varies (the same loss at another temperature, target or layer), or
    None for a distinct idea (:data:`VARIANT_OF`).
    """

    name: str
    family: str
    rationale: str
    term: Term
    needs: str = "rep"
    default_weights: tuple[float, ...] = (0.1, 0.3, 1.0)
    variant_of: str | None = None

    def make_loss(self, targets: AlignmentTargets, weight: float, d: int | None = None) -> AlignmentLoss:
        """The trainer hook for this strategy at ``weight`` (``d``: decoder width when wrapped)."""
        return AlignmentLoss([self], [weight], targets, d=d)


_S = [
    Strategy("kd_t0.25", "distillation", "soft targets from LLM sentence distances, sharp (T=0.25)", _kd(0.25)),
    Strategy("kd_t0.5", "distillation", "soft targets from LLM sentence distances (T=0.5)", _kd(0.5)),
    Strategy("kd_t1", "distillation", "soft targets from LLM sentence distances (T=1)", _kd(1.0)),
    Strategy("kd_t2", "distillation", "soft targets from LLM sentence distances, flat (T=2)", _kd(2.0)),
    Strategy("kd_valence", "distillation", "soft targets from distances along the V-axis (T=1)", _kd(1.0, "v")),
    Strategy("rsa_geometry", "similarity", "batch distance matrix correlates with LLM sentence distances",
             _rsa("D")),
    Strategy("rsa_valence", "similarity", "batch distance matrix correlates with V-axis distances", _rsa("v")),
    Strategy("rsa_centroid", "similarity", "class-centroid distances match the LLM's category distances",
             _rsa_centroid),
    Strategy("cka_linear", "similarity", "linear CKA between representations and label sentence embeddings", _cka),
    Strategy("rsa_cosine_mse", "similarity", "pairwise cosine similarities regress onto the LLM's", _cos_mse),
    Strategy("rsa_logits", "similarity", "RSA on the output layer (log-probabilities) instead of the penultimate",
             _rsa("D", on="logits")),
    Strategy("infonce_t0.1", "contrastive", "InfoNCE from a learned projection to the 9 sentence embeddings (tau 0.1)",
             _infonce(0.1), "head"),
    Strategy("infonce_t0.5", "contrastive", "InfoNCE to the sentence embeddings, soft (tau 0.5)", _infonce(0.5),
             "head"),
    Strategy("infonce_symmetric", "contrastive", "CLIP-style symmetric InfoNCE, EEG->sentence and sentence->EEG",
             _infonce(0.1, True), "head"),
    Strategy("supcon_v", "contrastive", "supervised contrastive with positives weighted by V-axis proximity",
             _supcon_v),
    Strategy("triplet_v", "contrastive", "triplets: the V-nearer sample must be nearer in representation",
             _triplet_v),
    Strategy("v_mse", "direct", "a learned scalar readout regresses the clip's V-axis position", _v_mse, "head"),
    Strategy("v_rank", "direct", "pairwise ranking hinge: readout order follows V order", _v_rank, "head"),
    Strategy("v_cosine", "direct", "centred representation points along a fixed direction, signed by valence",
             _v_cosine),
    Strategy("v_ordinal", "direct", "cumulative-logit ordinal regression of the V level", _v_ordinal, "head"),
    Strategy("v_expected", "direct", "expected V position under the predicted class distribution matches the clip's",
             _v_expected),
    Strategy("topo_smooth", "topographic", "input-layer weights vary smoothly over neighbouring electrodes",
             _pen(0), "params"),
    Strategy("topo_vmap", "topographic", "input-layer weight energy concentrates on the chapter-4 V-map",
             _pen(1), "params"),
    Strategy("topo_band", "topographic", "input-layer energy per band follows the V-map's band profile",
             _pen(2), "params"),
    Strategy("topo_channel", "topographic", "input-layer energy per electrode follows the V-map's topography",
             _pen(3), "params"),
]
#: Which strategies vary another one (the same loss at another temperature, target or layer): 9 of the 25, so the
#: registry holds 16 distinct ideas.
VARIANT_OF: dict[str, str] = {
    "kd_t0.25": "kd_t1", "kd_t0.5": "kd_t1", "kd_t2": "kd_t1",           # temperature
    "kd_valence": "kd_t1",                                                # target: V-axis distances
    "rsa_valence": "rsa_geometry", "rsa_logits": "rsa_geometry",          # target / layer
    "infonce_t0.5": "infonce_t0.1", "infonce_symmetric": "infonce_t0.1",  # temperature / direction
    "topo_band": "topo_channel",                                          # the V-map's band vs electrode profile
}
STRATEGIES: dict[str, Strategy] = {s.name: dataclasses.replace(s, variant_of=VARIANT_OF.get(s.name)) for s in _S}


class AlignmentLoss:
    """The trainer hook (``stacked = True``): model ``m`` gets ``weights[m] * strategies[m].term``.

    Called with (M, B, ...) tensors and ``model_index = arange(M)`` it returns (M,); called with one
    model's (B, ...) tensors it returns a scalar. Models whose weight is 0 or strategy is None get exactly 0.
    Put models of one strategy next to each other: each run of consecutive models is computed in one go.
    ``d``: the decoder's width when the representation comes from :class:`AlignedDecoder`.
    """

    stacked = True

    def __init__(self, strategies: list[Strategy | None], weights: list[float], targets: AlignmentTargets,
                 d: int | None = None):
        self.strategies, self.d = list(strategies), d
        self.weights = torch.as_tensor(np.asarray(weights, dtype=np.float32))
        self.t = targets.tensors()
        for s in self.strategies:
            if s is not None and s.needs != "rep" and d is None:
                raise ValueError(f"{s.name} needs the AlignedDecoder adapter (pass d = decoder width)")
        self.runs = _runs(self.strategies)                                   # consecutive models, same strategy
        self.recorder: Callable | None = None
        self.progress: dict | None = None        # set by vaxis.decoding.stacking.train_stacked before each step

    def __call__(self, rep, logits, y, clip_index=None, model_index=None):
        if rep.dim() == 2:                                                   # one model's batch
            m = 0 if model_index is None else int(model_index)
            s = self.strategies[m]
            if s is None:
                return rep.new_zeros(())
            r, h, pen = split(rep[None], self.d)
            t = {k: v.to(rep.device) for k, v in self.t.items()}
            return float(self.weights[m]) * s.term(r, h, pen, logits[None], y[None], t)[0]
        if len(rep) < len(self.strategies):                                 # the live models only
            return self.terms(rep, logits, y, rows=np.asarray(torch.as_tensor(model_index).cpu()))
        r = split(rep, self.d)[0]
        out = self.terms(rep, logits, y)
        if self.recorder is not None:
            self.recorder(self, rep, r, logits, y, out)
        return out

    @property
    def takes_rows(self) -> bool:
        """Whether the trainer may pass the models still training only (``model_index`` = their rows): always,
        except while a ``recorder`` follows the whole stack."""
        return self.recorder is None

    def terms(self, rep, logits, y, tensors: dict | None = None, rows: np.ndarray | None = None):
        """The weighted loss term of every stacked model, (M,): ``rep`` (M, B, ...), ``logits`` (M, B, K),
        ``y`` (M, B); ``tensors`` replaces the targets' :meth:`AlignmentTargets.tensors` (e.g. a control's).
        ``rows`` (G,), increasing: the tensors hold these models of the stack only (G, B, ...) and the result is
        (G,); each model's term is the one it gets in the whole stack."""
        r, h, pen = split(rep, self.d)
        t = {k: v.to(rep.device) for k, v in (self.t if tensors is None else tensors).items()}
        runs, w = self.runs, self.weights
        if rows is not None:
            runs, w = _runs([self.strategies[m] for m in rows]), w[torch.as_tensor(rows)]
        sizes = [n for _, n in runs]
        parts = [torch.split(a, sizes) if a is not None else [None] * len(sizes) for a in (r, h, pen, logits, y)]
        w = w.to(rep.device).split(sizes)
        return torch.cat([rep.new_zeros(n) if s is None else w[i] * s.term(*[p[i] for p in parts], t)
                          for i, (s, n) in enumerate(runs)])


def _runs(strategies: list[Strategy | None]) -> list[tuple[Strategy | None, int]]:
    """Consecutive models of the same strategy: (strategy, count) in order."""
    runs: list[tuple[Strategy | None, int]] = []
    for s in strategies:
        if runs and runs[-1][0] is s:
            runs[-1] = (s, runs[-1][1] + 1)
        else:
            runs.append((s, 1))
    return runs
