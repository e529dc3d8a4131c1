"""The vectorised pieces of one step of stacked training (:func:`vaxis.decoding.stacking.train_stacked`):
minibatch plans, one forward of G stacked models (``vmap`` over ``functional_call``), the shared input blocks
(gathered and normalised once per group of models that see the same batches), padded validation subsets, the
masked Adam step that updates only the models a batch belongs to, and the validation loss."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn import functional as F

__all__ = ["adam_scales", "batch_plan", "group_rows", "input_groups", "masked_adam_", "normalise", "pad_index",
           "run_stacked", "shared_blocks", "val_loss"]


def batch_plan(n: int, batch_size: int, gen: torch.Generator, steps_per_epoch: int | None) -> torch.Tensor:
    """Positions (into a model's training index list) for one epoch: shape (n_steps, batch_size).

    A fresh permutation from ``gen``; incomplete last batch dropped; at most ``steps_per_epoch`` steps.
    """
    perm = torch.randperm(n, generator=gen)
    steps = max(n // batch_size, 1) if n >= batch_size else 1
    if steps_per_epoch is not None:
        steps = min(steps, steps_per_epoch)
    if n < batch_size:
        return perm.unsqueeze(0)
    return perm[: steps * batch_size].reshape(steps, batch_size)


class _Method(nn.Module):
    """Routes ``forward`` to another method of the wrapped decoder (``represent`` / ``rep_and_logits``)."""

    def __init__(self, m: nn.Module, method: str):
        super().__init__()
        self.m, self.method = m, method

    def forward(self, x):
        return getattr(self.m, self.method)(x)


def run_stacked(base: nn.Module, params: dict, buffers: dict, xb: torch.Tensor, method: str = "forward"):
    """Every stacked model on its own block: ``xb`` (G, n, ...) -> (G, n, out), or (representation, logits)
    for ``method="both"`` (``"represent"``: the representation); grad mode and train / eval mode as set."""
    if method == "forward":
        return vmap(lambda p, b, xi: functional_call(base, (p, b), (xi,)), randomness="different")(params, buffers, xb)
    name = {"both": "rep_and_logits", "represent": "represent"}[method]
    wrap = _Method(base, name)

    def one(p, b, xi):
        return functional_call(wrap, ({f"m.{k}": v for k, v in p.items()} | {f"m.{k}": v for k, v in b.items()}), (xi,))

    return vmap(one, randomness="different")(params, buffers, xb)


def normalise(xb: torch.Tensor, mu: torch.Tensor | None, sd: torch.Tensor | None) -> torch.Tensor:
    """``xb`` (M, B, *feat) with per-model stats (M, *feat_tail) broadcast over the leading sample axes."""
    if mu is None:
        return xb
    extra = xb.dim() - mu.dim()
    shape = (mu.shape[0],) + (1,) * extra + tuple(mu.shape[1:])
    return (xb - mu.reshape(shape)) / sd.reshape(shape)


def _gather(X: torch.Tensor, ix: torch.Tensor) -> torch.Tensor:
    """``X[ix]`` for an (M, B) index matrix via one ``index_select`` on contiguous rows (faster on CPU)."""
    return X.reshape(X.shape[0], -1).index_select(0, ix.reshape(-1)).view(ix.shape + X.shape[1:])


def input_groups(seeds: Sequence[int], train_idx: Sequence[torch.Tensor], mu: torch.Tensor | None,
                 sd: torch.Tensor | None) -> torch.Tensor:
    """Group id of every model, shape (M,): models with the same batch seed, training indices and normalisation
    statistics draw the same batches and see the same normalised blocks (e.g. every strategy of one seed and
    fold), so each block is gathered and normalised once per group."""
    keys: dict[tuple, int] = {}
    out = []
    def raw(t: torch.Tensor | None, m: int) -> bytes | None:
        return None if t is None else t[m].cpu().numpy().tobytes()

    for m, s in enumerate(seeds):
        k = (int(s), train_idx[m].numpy().tobytes(), raw(mu, m), raw(sd, m))
        out.append(keys.setdefault(k, len(keys)))
    return torch.as_tensor(out, dtype=torch.long)


def group_rows(groups: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
    """For group ids (G,): the row of each distinct group's first member, and each row's group position; None
    when every row is its own group."""
    uniq, inv = torch.unique(groups, return_inverse=True)
    if len(uniq) == len(groups):
        return None
    first = torch.full((len(uniq),), len(groups), dtype=torch.long, device=groups.device).scatter_reduce_(
        0, inv, torch.arange(len(groups), device=groups.device), "amin")
    return first, inv


def shared_blocks(X: torch.Tensor, ix: torch.Tensor, mu: torch.Tensor | None, sd: torch.Tensor | None,
                  rows: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
    """``normalise(X[ix])`` of G models, (G, B, *feat), computed once per group (``rows``: :func:`group_rows`).

    The rows of one group hold the same indices and statistics (:func:`input_groups`), so the result is
    bit-for-bit the per-model computation, at a fraction of the gathers and arithmetic.
    """
    if rows is None:
        return normalise(_gather(X, ix), mu, sd)
    first, inv = rows
    xg = normalise(_gather(X, ix[first]), None if mu is None else mu[first], None if sd is None else sd[first])
    return xg.index_select(0, inv)


def pad_index(lists: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """(M, L) index matrix of M index lists padded with 0, plus a validity mask."""
    width = max(len(ix) for ix in lists)
    idx = np.zeros((len(lists), width), dtype=np.int64)
    mask = np.zeros((len(lists), width), dtype=bool)
    for m, ix in enumerate(lists):
        idx[m, : len(ix)], mask[m, : len(ix)] = ix, True
    return torch.from_numpy(idx), torch.from_numpy(mask)


def adam_scales(steps: torch.Tensor, lr: float, betas: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-model Adam step size ``lr / (1 - b1^t)`` and ``1 / sqrt(1 - b2^t)``, (M, 1) each, from step counts
    (M, 1) (at least 1). Computed on the whole stack and then indexed, so a model's factors never depend on
    which other models are trained alongside it."""
    n = steps.clamp_min(1)
    return lr / (1 - betas[0] ** n), (1 - betas[1] ** n).rsqrt()


def masked_adam_(flat: torch.Tensor, g: torch.Tensor, exp_avg: torch.Tensor, exp_sq: torch.Tensor,
                 a: torch.Tensor, step_size: torch.Tensor, rs2: torch.Tensor, betas: tuple[float, float],
                 eps: float, weight_decay: float) -> None:
    """One in-place Adam step of every model whose mask ``a`` (G, 1) is 1; masked models stay untouched.

    ``flat``, ``g``, ``exp_avg``, ``exp_sq``: (G, P); ``step_size``, ``rs2``: (G, 1) from :func:`adam_scales` of
    the step counts *after* this step. Term for term ``torch.optim.Adam`` (L2 ``weight_decay`` added to the
    gradient). A masked model's gradient is first set to exactly 0 (it is 0 x its loss's gradient, which is NaN
    when a loss term is undefined on the padding batch a masked model is fed, e.g. a correlation over one
    repeated sample: 0 x NaN = NaN); per-model decay factors of 1 (instead of ``beta``) and a step size of 0
    then leave its moments and weights bit-for-bit unchanged. The large operations are in place.
    """
    b1, b2 = betas
    g = torch.where(a > 0, g, torch.zeros((), dtype=g.dtype, device=g.device))
    if weight_decay:
        g = g.add(flat * a, alpha=weight_decay)
    exp_avg.mul_(1 - (1 - b1) * a).add_(g, alpha=1 - b1)
    exp_sq.mul_(1 - (1 - b2) * a).addcmul_(g, g, value=1 - b2)
    denom = exp_sq.sqrt().mul_(rs2).add_(eps)
    flat.sub_(exp_avg.div(denom).mul_(step_size * a))


def val_loss(base, params, buffers, X, y, vidx, vmask, mu, sd, chunk: int = 2048) -> torch.Tensor:
    """Mean validation cross-entropy of every stacked model, (G,): indices ``vidx`` (G, L) with mask ``vmask``."""
    tot = torch.zeros(vidx.shape[0], dtype=X.dtype, device=X.device)
    with torch.no_grad():
        for s in range(0, vidx.shape[1], chunk):
            ix, mk = vidx[:, s:s + chunk], vmask[:, s:s + chunk]
            logits = run_stacked(base, params, buffers, normalise(_gather(X, ix), mu, sd))
            ce = F.cross_entropy(logits.flatten(0, 1), y[ix].flatten(), reduction="none").view(ix.shape)
            tot += (ce * mk).sum(1)
    return tot / vmask.sum(1).clamp_min(1)
