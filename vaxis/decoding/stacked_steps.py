"""The vectorised pieces under the stacked trainer (:mod:`vaxis.decoding.stacking`): its :class:`StackConfig`,
device choice, minibatch plans, one forward of G stacked models (``vmap`` over ``functional_call``), per-model
padded training subsets and the masked Adam step that updates only the models a batch belongs to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.func import functional_call, vmap
from torch.nn import functional as F

__all__ = ["resolve_device", "StackConfig", "batch_plan", "stacked_apply", "subsample_indices"]


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device={str(device)!r} requested but torch sees no CUDA device; use 'cpu' or 'auto'")
    return torch.device(device)


@dataclass
class StackConfig:
    """Optimisation settings shared by all stacked models.

    ``steps_per_epoch`` caps the steps of one epoch (an "epoch" is then a random subset of the training
    windows; neighbouring 1-s windows of a clip are near duplicates, so this costs little).
    ``amp``: mixed precision for the forward and backward passes (``torch.autocast`` in bfloat16; the
    weights, Adam moments, losses and any extra loss term stay float32, so no loss scaling is needed).
    ``"auto"`` (default) turns it on for CUDA devices only: on CPU training stays float32 and bit-for-bit
    reproducible; ``True`` / ``False`` force it.
    """

    epochs: int = 30
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5
    min_delta: float = 1e-4
    steps_per_epoch: int | None = None
    max_val: int | None = 4096
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    progress: bool = False
    desc: str = "train"
    amp: bool | str = "auto"


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


def stacked_apply(base: nn.Module, params: dict, buffers: dict, x: torch.Tensor,
                  method: str = "forward") -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Run every stacked model on its own block: ``x`` (M, n, ...) -> (M, n, out) (no grad, eval mode).

    ``method``: ``"forward"`` (logits), ``"represent"`` or ``"both"`` ((representation, logits)).
    """
    was = base.training
    base.eval()
    try:
        with torch.no_grad():
            return _run(base, params, buffers, x, method)
    finally:
        base.train(was)


class _Method(nn.Module):
    """Routes ``forward`` to another method of the wrapped decoder (``represent`` / ``rep_and_logits``)."""

    def __init__(self, m: nn.Module, method: str):
        super().__init__()
        self.m, self.method = m, method

    def forward(self, x):
        return getattr(self.m, self.method)(x)


def _run(base: nn.Module, params: dict, buffers: dict, xb: torch.Tensor, method: str = "forward"):
    if method == "forward":
        return vmap(lambda p, b, xi: functional_call(base, (p, b), (xi,)), randomness="different")(params, buffers, xb)
    name = {"both": "rep_and_logits", "represent": "represent"}[method]
    wrap = _Method(base, name)

    def one(p, b, xi):
        return functional_call(wrap, ({f"m.{k}": v for k, v in p.items()} | {f"m.{k}": v for k, v in b.items()}), (xi,))

    return vmap(one, randomness="different")(params, buffers, xb)


def _normalise(xb: torch.Tensor, mu: torch.Tensor | None, sd: torch.Tensor | None) -> torch.Tensor:
    """``xb`` (M, B, *feat) with per-model stats (M, *feat_tail) broadcast over the leading sample axes."""
    if mu is None:
        return xb
    extra = xb.dim() - mu.dim()
    shape = (mu.shape[0],) + (1,) * extra + tuple(mu.shape[1:])
    return (xb - mu.reshape(shape)) / sd.reshape(shape)


def _gather(X: torch.Tensor, ix: torch.Tensor) -> torch.Tensor:
    """``X[ix]`` for an (M, B) index matrix via one ``index_select`` on contiguous rows (faster on CPU)."""
    return X.reshape(X.shape[0], -1).index_select(0, ix.reshape(-1)).view(ix.shape + X.shape[1:])


def subsample_indices(index_lists: Sequence[np.ndarray], cap: int | None, seed: int) -> list[np.ndarray]:
    """Each list cut to at most ``cap`` sorted indices: one generator seeded by ``seed``, drawn list by list.

    This is the validation subsample of :func:`train_stacked` (``seed`` = the first model's batch seed). A
    caller that trains a subset of a larger stack (one fold of many) can draw the full stack's subsample here
    and pass the kept lists: lists of at most ``cap`` indices are used as they are.

    Parameters
    ----------
    index_lists : sequence of int arrays, length M
    cap : int or None
        ``None`` or 0 keeps every list whole.

    Returns
    -------
    list of ndarray, length M
    """
    rng = np.random.default_rng(seed)
    return [np.sort(rng.choice(ix, cap, replace=False)) if cap and len(ix) > cap else np.asarray(ix)
            for ix in index_lists]


def _pad_index(index_lists: Sequence[np.ndarray], cap: int | None, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(M, L) index matrix padded with 0 plus a validity mask; each list subsampled to ``cap`` (seeded)."""
    lists = subsample_indices(index_lists, cap, seed)
    width = max(len(ix) for ix in lists)
    idx = np.zeros((len(lists), width), dtype=np.int64)
    mask = np.zeros((len(lists), width), dtype=bool)
    for m, ix in enumerate(lists):
        idx[m, : len(ix)], mask[m, : len(ix)] = ix, True
    return torch.from_numpy(idx), torch.from_numpy(mask)


def _masked_adam_(flat: torch.Tensor, g: torch.Tensor, exp_avg: torch.Tensor, exp_sq: torch.Tensor,
                  steps: torch.Tensor, a: torch.Tensor, config: StackConfig) -> None:
    """One in-place Adam step of every model whose mask ``a`` (M, 1) is 1; masked models stay untouched.

    ``flat``, ``g``, ``exp_avg``, ``exp_sq``: (M, P); ``steps``: (M, 1) per-model step counts. Term for term
    ``torch.optim.Adam`` (L2 ``weight_decay`` added to the gradient). A masked model's gradient is first set to
    exactly 0 (it is 0 x its loss's gradient, which is NaN when a loss term is undefined on the padding batch a
    masked model is fed, e.g. a correlation over one repeated sample: 0 x NaN = NaN); per-model decay factors of
    1 (instead of ``beta``) and a step size of 0 then leave its moments and weights bit-for-bit unchanged. The
    large operations are in place: about 11 passes over (M, P) instead of ~18 with ``torch.where`` on every
    update (the optimiser was ~40 % of a stacked DE-MLP step).
    """
    b1, b2 = config.betas
    g = torch.where(a > 0, g, torch.zeros((), dtype=g.dtype, device=g.device))
    steps += a
    if config.weight_decay:
        g = g.add(flat * a, alpha=config.weight_decay)
    exp_avg.mul_(1 - (1 - b1) * a).add_(g, alpha=1 - b1)
    exp_sq.mul_(1 - (1 - b2) * a).addcmul_(g, g, value=1 - b2)
    n = steps.clamp_min(1)
    bc1, bc2 = 1 - b1 ** n, 1 - b2 ** n
    denom = exp_sq.sqrt().mul_(bc2.rsqrt()).add_(config.eps)
    flat.sub_(exp_avg.div(denom).mul_(config.lr / bc1 * a))


def _val_loss(base, params, buffers, X, y, vidx, vmask, mu, sd, chunk: int = 2048) -> torch.Tensor:
    tot = torch.zeros(vidx.shape[0], dtype=X.dtype, device=X.device)
    with torch.no_grad():
        for s in range(0, vidx.shape[1], chunk):
            ix, mk = vidx[:, s:s + chunk], vmask[:, s:s + chunk]
            logits = _run(base, params, buffers, _normalise(_gather(X, ix), mu, sd))
            ce = F.cross_entropy(logits.flatten(0, 1), y[ix].flatten(), reduction="none").view(ix.shape)
            tot += (ce * mk).sum(1)
    return tot / vmask.sum(1).clamp_min(1)
