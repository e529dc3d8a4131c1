"""The saturation regularity: the V-direction (basin) vs the within-class residual of a decoder's representation.

Decomposition of a penultimate representation space (d dimensions), from labelled units:

* ``v``: the V-direction, ``v ~ M^T (p - mean p)`` with ``M`` the centred class means (9, d) and ``p`` the nine
  V-axis positions: the direction along which the class means best covary with the positions (the high-penalty
  limit of the chapter-5 ridge probe on class means);
* ``between``: the span of the centred class means (rank <= 8), which contains ``v``;
* ``residual``: its orthogonal complement, where the within-class residual (representation minus its class mean)
  lives once the between-class directions are removed.

Measurements: (a) :func:`saturation` (V-probe score vs what the class decision alone carries); (b)
:class:`GradientRecorder` (share of an alignment loss's gradient w.r.t. the representation along ``v``, in the rest
of the between-class span, and in the residual subspace, during training); (c) :func:`readout_scores`
(held-out balanced accuracy of fresh linear readouts on subspace projections, pooled and per test subject: the
residual ablated, only the residual kept).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr
from torch.nn import functional as F

from vaxis.claims.common.strategies import N_HEAD, N_PEN

__all__ = ["v_basis", "gradient_shares", "GradientRecorder", "saturation", "readout_scores", "residual_readouts",
           "unit_reps"]


def v_basis(rep, category, positions, tol: float = 1e-6):
    """V-direction and between-class basis from labelled representations (numpy or torch, batched or not).

    Parameters
    ----------
    rep : array, shape (..., n, d)
    category : int array, shape (..., n), ids 0..8
    positions : array, shape (9,)

    Returns
    -------
    v : shape (..., d), unit norm
    basis : shape (..., 9, d), orthonormal rows spanning the centred class means (rows beyond the rank are 0)
    """
    t = lambda a: torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a)  # noqa: E731
    r, c = t(rep).double(), t(category).long()
    p = t(positions).double().to(r.device)
    oh = F.one_hot(c, 9).double()
    cnt = oh.sum(-2)
    means = (oh.transpose(-1, -2) @ r) / cnt.clamp_min(1)[..., None]
    present = (cnt > 0).double()
    mbar = (means * present[..., None]).sum(-2, keepdim=True) / present.sum(-1)[..., None, None]
    M = (means - mbar) * present[..., None]
    pc = (p - (p * present).sum(-1, keepdim=True) / present.sum(-1, keepdim=True)) * present
    v = F.normalize((M.transpose(-1, -2) @ pc[..., None])[..., 0], dim=-1)
    _, s, vh = torch.linalg.svd(M, full_matrices=False)
    keep = (s > tol * s.amax(-1, keepdim=True).clamp_min(1e-30)).double()
    basis = vh * keep[..., None]
    if not torch.is_tensor(rep):
        return v.numpy(), basis.numpy()
    return v.to(rep.dtype), basis.to(rep.dtype)


def gradient_shares(grad, v, basis) -> dict[str, np.ndarray]:
    """Share of squared gradient norm along ``v``, in the rest of the between-class span, and in the residual.

    Parameters
    ----------
    grad : array, shape (..., n, d)   per-sample gradients w.r.t. the representation
    v : array, shape (..., d)
    basis : array, shape (..., 9, d)

    Returns
    -------
    dict ``v``, ``between_other``, ``residual`` (each shape (...), summing to 1; NaN where the gradient is 0,
    e.g. a loss on the weights only), ``norm`` (RMS gradient norm).
    """
    g, v, b = (torch.as_tensor(np.asarray(a) if not torch.is_tensor(a) else a).double() for a in (grad, v, basis))
    tot = (g * g).sum((-1, -2))
    e_v = ((g @ v[..., None])[..., 0] ** 2).sum(-1)
    e_b = ((g @ b.transpose(-1, -2)) ** 2).sum((-1, -2))
    t = torch.where(tot > 1e-30, tot, torch.full_like(tot, float("nan")))
    return {"v": (e_v / t).numpy(), "between_other": ((e_b - e_v) / t).numpy(),
            "residual": (1 - e_b / t).numpy(), "norm": (tot / g.shape[-2]).sqrt().numpy()}


class GradientRecorder:
    """``AlignmentLoss.recorder``: every ``every``-th training step *of each model*, split that model's
    alignment-term gradient (and its cross-entropy gradient, for reference) w.r.t. the representation into
    ``gradient_shares`` on the batch's own V-direction and between-class span.

    Steps are counted per model: a model that is not active in a stacked step (``loss.progress["active"]``, set
    by :func:`vaxis.decoding.stacking.train_stacked`: it stopped early, or its epoch has fewer batches than the longest
    one and is fed padding) is neither counted nor recorded. A model's records therefore depend on that model
    alone, not on which other models share its stack (one fold trained alone records what it records among all
    folds). Use one recorder per stacked training pass.

    ``control``: optional :class:`~vaxis.claims.common.strategies.AlignmentTargets` (e.g. ``targets.shuffled(seed)``):
    at every recorded step the same losses are also evaluated with the control's targets at the same model state, and
    their gradient recorded as kind ``"control"`` (nothing is trained on them).

    ``records``: list of dicts ``step`` (the model's own training step), ``epoch`` (None when the loss is called
    outside :func:`~vaxis.decoding.stacking.train_stacked`), ``model`` (index in the stack), ``kind`` (``"ce"`` |
    ``"alignment"`` | ``"control"``), ``strategy``, and the shares ``v``, ``between_other``, ``residual``, ``norm``.
    """

    def __init__(self, positions: Sequence[float], every: int = 10, control=None):
        self.positions, self.every = np.asarray(positions, float), every
        self.control = None if control is None else control.tensors()
        self.calls, self.records = 0, []
        self.model_steps = np.zeros(0, dtype=int)   # (M,) training steps taken so far, per model

    def __call__(self, loss, rep, r, logits, y, out) -> None:
        self.calls += 1
        if not rep.requires_grad:
            return
        n_models = rep.shape[0]
        if len(self.model_steps) != n_models:
            self.model_steps = np.zeros(n_models, dtype=int)
        prog = getattr(loss, "progress", None)
        active = (np.ones(n_models, dtype=bool) if prog is None
                  else prog["active"].detach().cpu().numpy().astype(bool))
        steps = self.model_steps.copy()
        self.model_steps[active] += 1
        take = active & (steps % self.every == 0)
        if not take.any():
            return
        d, K = r.shape[-1], logits.shape[-1]
        jac = rep[:, 0, d + N_HEAD + N_PEN:].detach()
        if jac.shape[-1] != (K + N_HEAD) * d:
            raise ValueError("GradientRecorder needs AlignedDecoder(emit_jacobians=True) models")
        J_cls, J_head = jac[:, :K * d].view(-1, K, d), jac[:, K * d:].view(-1, N_HEAD, d)
        v, basis = v_basis(r.detach(), y, self.positions)
        ce = F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum")
        live = [m for m, s in enumerate(loss.strategies) if s is not None and float(loss.weights[m]) != 0]
        kinds = {"ce": (ce, [m for m in range(len(loss.strategies)) if take[m]])}
        if any(take[m] for m in live) and out.requires_grad:
            kinds["alignment"] = (out.sum(), [m for m in live if take[m]])
            if self.control is not None:        # the same losses with the control's targets, at the same state
                kinds["control"] = (loss.terms(rep, logits, y, self.control).sum(), [m for m in live if take[m]])
        epoch = None if prog is None else int(prog["epoch"])
        for kind, (val, ms) in kinds.items():
            g_rep, g_log = torch.autograd.grad(val, [rep, logits], retain_graph=True, allow_unused=True)
            g = torch.zeros_like(r) if g_rep is None else g_rep[..., :d] + g_rep[..., d:d + N_HEAD] @ J_head
            if g_log is not None:
                g = g + g_log @ J_cls                                    # chain rule through the logits
            sh = gradient_shares(g.detach(), v, basis)
            for m in ms:
                s = loss.strategies[m]
                self.records.append({"step": int(steps[m]), "epoch": epoch, "model": m, "kind": kind,
                                     "strategy": "label-only" if s is None else s.name,
                                     **{k: float(a[m]) for k, a in sh.items()}})

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.records)


def unit_reps(state: dict, view, rows: pd.DataFrame, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Penultimate representations and logits of every sample under every trained model of
    :func:`vaxis.claims.common.conditions.train_conditions`: (M, n_samples, d) and (M, n_samples, n_classes)."""
    from vaxis.decoding.stacking import stacked_apply

    d, M, n = state["d"], len(rows), len(view.y)
    if "parts" in state:                      # train_conditions split the stack (topographic models apart)
        reps, logits = np.zeros((M, n, d), np.float32), np.zeros((M, n, view.n_classes), np.float32)
        for mask, part in zip(state["masks"], state["parts"]):
            r, lg = unit_reps(part, view, rows[mask].reset_index(drop=True), batch)
            reps[mask], logits[mask] = r, lg
        return reps, logits
    reps, logits = np.zeros((M, n, d), np.float32), np.zeros((M, n, view.n_classes), np.float32)
    for f in rows.fold.unique():
        ms = np.flatnonzero(rows.fold.to_numpy() == f)
        pp = {k: v[ms] for k, v in state["params"].items()}
        bb = {k: v[ms] for k, v in state["buffers"].items()}
        for a in range(0, n, batch):
            xb = (view.X[a:a + batch][None] - state["mu"][ms][:, None].cpu()) / state["sd"][ms][:, None].cpu()
            rr, lg = stacked_apply(state["base"], pp, bb, xb, "both")
            reps[ms, a:a + batch], logits[ms, a:a + batch] = rr[..., :d].numpy(), lg.numpy()
    return reps, logits


def _per_subject_spearman(a: np.ndarray, b: np.ndarray, subject: np.ndarray) -> float:
    vals = [spearmanr(a[subject == s], b[subject == s])[0] for s in np.unique(subject)]
    return float(np.nanmean(vals))


def saturation(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, pred: np.ndarray,
               test_subjects: Sequence, positions: Sequence[float]) -> dict[str, float]:
    """How much of the V-axis ordering a representation carries, vs what its class decisions carry.

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)   one row per subject x clip
    category, subject, pred : ndarray, shape (n_units,)   true class, subject, the model's predicted class
    test_subjects : the held-out subjects (everything else fits the probe / the V-direction)

    Returns
    -------
    dict: ``probe`` (chapter-5 ridge probe, Spearman per held-out subject), ``decision_ceiling`` (Spearman of
    the predicted class's position with the true one: the V-ordering carried by the class decision alone),
    ``oracle_ceiling`` (1: every unit at its true class mean), ``centroid_v`` (Spearman of held-out class
    centroids projected on the training V-direction with the positions), ``saturation`` = probe / decision ceiling.
    """
    from vaxis.claims.common.probes import make_maps, probe_scores

    pos = np.asarray(positions, float)
    te = np.isin(subject, np.asarray(test_subjects))
    probe = float(probe_scores(rep, category, subject, make_maps(pos, 0), test_subjects)["ridge"][0])
    ceil = _per_subject_spearman(pos[pred[te]], pos[category[te]], subject[te])
    v, _ = v_basis(rep[~te], category[~te], pos)
    cen = np.stack([rep[te & (category == c)].mean(0) for c in range(9)])
    return {"probe": probe, "decision_ceiling": ceil, "oracle_ceiling": 1.0,
            "centroid_v": float(spearmanr(cen @ v, pos)[0]), "saturation": probe / ceil if ceil > 0 else np.nan}


def readout_scores(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, test_subjects: Sequence,
                   positions: Sequence[float], C: float = 1.0) -> tuple[dict[str, float], pd.DataFrame]:
    """Held-out balanced accuracy of a fresh logistic readout on subspace projections of ``rep``, pooled and per
    test subject (one fit per view, on the training units only).

    The V-direction and between-class span are estimated on the training units of the training-z-scored
    representation. Views: ``full`` (the label-only model's representation, the reference); ``v_only`` (1-D);
    ``v_removed``; ``between_only`` (the within-class residual ablated: projection on the class-mean span);
    ``residual_only`` (only the residual kept: projection on its complement). On the training units every class
    mean projects to the same point of the residual subspace, so ``residual_only`` can only use what the training
    means do not span (or nothing).

    Parameters
    ----------
    rep : ndarray, shape (n_units, d)
    category, subject : ndarray, shape (n_units,)
    test_subjects : the held-out subjects (everything else fits the readouts and the subspaces)

    Returns
    -------
    pooled : dict view -> BA over all test units
    by_subject : DataFrame, one row per test subject (sorted): ``subject`` and one BA column per view
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score

    from vaxis.decoding.metrics import balanced_accuracy

    te = np.isin(subject, np.asarray(test_subjects))
    mu, sd = rep[~te].mean(0), rep[~te].std(0) + 1e-8
    X = (rep - mu) / sd
    v, basis = v_basis(X[~te], category[~te], positions)
    Pb = basis.T @ basis
    views = {"full": X, "v_only": (X @ v)[:, None], "v_removed": X - np.outer(X @ v, v),
             "between_only": X @ Pb, "residual_only": X - X @ Pb}
    yt, st, k = category[te], subject[te], int(category.max()) + 1
    pooled, by_subject = {}, {"subject": np.unique(st)}
    for name, Z in views.items():
        pred = LogisticRegression(C=C, max_iter=1000).fit(Z[~te], category[~te]).predict(Z[te])
        pooled[name] = float(balanced_accuracy_score(yt, pred))
        by_subject[name] = [balanced_accuracy(yt[st == s], pred[st == s], k) for s in by_subject["subject"]]
    return pooled, pd.DataFrame(by_subject)


def residual_readouts(rep: np.ndarray, category: np.ndarray, subject: np.ndarray, test_subjects: Sequence,
                      positions: Sequence[float], C: float = 1.0) -> dict[str, float]:
    """The pooled held-out balanced accuracies of :func:`readout_scores` (view -> BA)."""
    return readout_scores(rep, category, subject, test_subjects, positions, C)[0]
