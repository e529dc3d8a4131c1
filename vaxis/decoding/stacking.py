"""Train many same-architecture models at once: stacked parameters + ``torch.func.vmap``.

Each of the ``M`` models has its own initial weights, its own training / validation sample indices
(its own fold), its own normalisation statistics, its own mini-batch order (a per-model
``torch.Generator``), its own Adam state and step count, and its own early stopping. One training step
gathers an ``(M, batch, ...)`` block by indexing the shared data tensor directly, runs all models in one
vmapped ``functional_call``, sums the per-model losses (the models share no parameter, so each gradient is
that model's own) and applies a masked Adam update that is term-for-term ``torch.optim.Adam``.

A model whose epoch has fewer steps than the longest one, or whose patience is exhausted, is masked out
of the update (its weights, moments and step count stay frozen). :func:`train_sequential` trains one
model the textbook way (``nn.Module`` + ``torch.optim.Adam``) on the same batch plan; the tests check that
the two agree within float tolerance (exactly the same algorithm, different summation order).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.func import stack_module_state
from torch.nn import functional as F

from vaxis.decoding.stack_ops import (
    StackConfig,
    _gather,
    _masked_adam_,
    _normalise,
    _pad_index,
    _run,
    _val_loss,
    batch_plan,
    resolve_device,
    stacked_apply,
    subsample_indices,
)

__all__ = ["StackConfig", "StackResult", "train_stacked", "train_sequential", "batch_plan", "resolve_device",
           "stacked_apply", "subsample_indices"]


@dataclass
class StackResult:
    """Output of :func:`train_stacked`: best-epoch weights of every model plus the training history.

    ``params`` / ``buffers`` hold tensors of shape (M, ...); ``train_loss`` / ``val_loss`` are (M, epochs_run)
    (NaN after a model stopped); ``best_epoch`` (M,) is 0-based.
    """

    params: dict[str, torch.Tensor]
    buffers: dict[str, torch.Tensor]
    base: nn.Module
    train_loss: np.ndarray
    val_loss: np.ndarray
    best_epoch: np.ndarray
    stopped_epoch: np.ndarray
    extra: dict = field(default_factory=dict)

    def model(self, m: int) -> nn.Module:
        """A plain ``nn.Module`` holding model ``m``'s trained weights (eval mode)."""
        mod = copy.deepcopy(self.base).to_empty(device="cpu")
        state = {k: v[m].detach().cpu() for k, v in {**self.params, **self.buffers}.items()}
        mod.load_state_dict(state)
        return mod.eval()


def train_stacked(
    make_model: Callable[[int], nn.Module],
    n_models: int,
    X: torch.Tensor,
    y: torch.Tensor,
    train_idx: Sequence[np.ndarray],
    val_idx: Sequence[np.ndarray] | None,
    seeds: Sequence[int],
    config: StackConfig,
    mu: torch.Tensor | None = None,
    sd: torch.Tensor | None = None,
    loss_fn: Callable | None = None,
    clip_index: torch.Tensor | None = None,
) -> StackResult:
    """Train ``n_models`` models of one architecture at once.

    Parameters
    ----------
    make_model : callable
        ``make_model(m) -> nn.Module``: model ``m``'s freshly initialised module (seeded inside).
    X : Tensor, shape (n_samples, *feat)
        All samples of all folds, already on the target device.
    y : Tensor, shape (n_samples,)
        Integer class labels.
    train_idx, val_idx : sequence of int arrays
        Per model, indices into ``X`` (``val_idx`` may be None: then no early stopping).
    seeds : sequence of int, length M
        Per-model seeds of the batch order.
    mu, sd : Tensor, shape (M, *feat_tail), optional
        Per-model normalisation statistics applied to every batch (e.g. train-only z-scoring).
    loss_fn : callable, optional
        Extra loss term, ``loss_fn(representation, logits, y, clip_index, model_index) -> scalar`` per model
        (added to the cross-entropy). With ``loss_fn.stacked = True`` it is called once with (M, B, ...)
        tensors and ``model_index`` = arange(M) and must return (M,).
    clip_index : Tensor, shape (n_samples,), optional
        Passed to ``loss_fn`` (e.g. to look up each sample's stimulus).

    A ``loss_fn`` with a ``progress`` attribute gets, before each call, ``progress = {"epoch": int, "step": int
    (within the epoch), "active": bool Tensor (M,)}``: which models take this step (a model is inactive once it
    stopped early or when its epoch has fewer batches than the longest one; its batch is then padding).
    """
    dev = X.device
    models = [make_model(m).to(dev) for m in range(n_models)]
    for mod in models:
        mod.train()
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    names = list(params)
    shapes = [tuple(params[k].shape[1:]) for k in names]
    numels = [int(np.prod(sh)) if sh else 1 for sh in shapes]
    # one flat (M, P) leaf: Adam, masking and best-epoch snapshots are a handful of ops on one tensor
    flat = torch.cat([params[k].detach().reshape(n_models, -1) for k in names], 1).clone().requires_grad_(True)

    def unflat(f: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: t.view((n_models,) + sh) for k, t, sh in zip(names, f.split(numels, 1), shapes)}

    exp_avg, exp_sq = torch.zeros_like(flat), torch.zeros_like(flat)
    steps = torch.zeros(n_models, 1, dtype=X.dtype, device=dev)
    best = flat.detach().clone()
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    tr = [torch.as_tensor(np.asarray(ix), dtype=torch.long) for ix in train_idx]
    if val_idx is not None:
        vidx, vmask = _pad_index(val_idx, config.max_val, int(seeds[0]))
        vidx, vmask = vidx.to(dev), vmask.to(dev)
    E = config.epochs
    tl, vl = np.full((n_models, E), np.nan), np.full((n_models, E), np.nan)
    best_val = np.full(n_models, np.inf)
    best_epoch = np.zeros(n_models, dtype=int)
    wait = np.zeros(n_models, dtype=int)
    alive = np.ones(n_models, dtype=bool)
    stopped = np.full(n_models, E - 1)
    want_rep = loss_fn is not None
    use_amp = bool(config.amp) if config.amp != "auto" else dev.type == "cuda"
    from tqdm.auto import tqdm

    bar = tqdm(range(E), desc=config.desc, disable=not config.progress, leave=False)
    for ep in bar:
        plans = [batch_plan(len(tr[m]), config.batch_size, gens[m], config.steps_per_epoch) for m in range(n_models)]
        n_steps = max(p.shape[0] for p in plans)
        bsz = max(p.shape[1] for p in plans)
        gidx = torch.zeros(n_models, n_steps, bsz, dtype=torch.long)
        active = torch.zeros(n_models, n_steps, dtype=torch.bool)
        for m, p in enumerate(plans):
            if alive[m]:
                gidx[m, : p.shape[0], : p.shape[1]] = tr[m][p]
                active[m, : p.shape[0]] = True
        gidx, active = gidx.to(dev), active.to(dev)
        ep_loss = torch.zeros(n_models, dtype=X.dtype, device=dev)
        for s in range(n_steps):
            ix, act = gidx[:, s], active[:, s]
            xb, yb = _normalise(_gather(X, ix), mu, sd), y[ix]
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_amp):
                out = _run(base, unflat(flat), buffers, xb, "both" if want_rep else "forward")
            rep, logits = out if want_rep else (None, out)
            if use_amp:                      # losses and extra terms in float32
                rep, logits = (None if rep is None else rep.float()), logits.float()
            ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(yb.shape).mean(1)
            if loss_fn is not None:
                ci = clip_index[ix] if clip_index is not None else None
                if hasattr(loss_fn, "progress"):   # for hooks that follow training (e.g. a gradient recorder)
                    loss_fn.progress = {"epoch": ep, "step": s, "active": act}
                if getattr(loss_fn, "stacked", False):
                    ce = ce + loss_fn(rep, logits, yb, ci, torch.arange(n_models, device=dev))
                else:
                    ce = ce + torch.stack([loss_fn(rep[m], logits[m], yb[m], None if ci is None else ci[m], m)
                                           for m in range(n_models)])
            actf = act.to(X.dtype)
            loss = (ce * actf).sum()
            (g,) = torch.autograd.grad(loss, [flat])
            with torch.no_grad():
                _masked_adam_(flat, g, exp_avg, exp_sq, steps, act.view(n_models, 1).to(X.dtype), config)
                ep_loss += torch.where(act, ce.detach(), torch.zeros((), dtype=ce.dtype, device=dev))
        n_act = active.sum(1).clamp_min(1).to(X.dtype)
        tl[alive, ep] = (ep_loss / n_act).cpu().numpy()[alive]
        if val_idx is None:
            best = flat.detach().clone()
            best_epoch[:] = ep
            continue
        base.eval()
        v = _val_loss(base, unflat(flat.detach()), buffers, X, y, vidx, vmask, mu, sd).cpu().numpy()
        base.train()
        vl[alive, ep] = v[alive]
        improved = alive & (v < best_val - config.min_delta)
        if improved.any():
            imp = torch.as_tensor(improved, device=dev).view(n_models, 1)
            best = torch.where(imp, flat.detach(), best)
        best_val[improved], best_epoch[improved], wait[improved] = v[improved], ep, 0
        wait[alive & ~improved] += 1
        newly = alive & (wait >= config.patience)
        stopped[newly] = ep
        alive &= ~newly
        bar.set_postfix(alive=int(alive.sum()), val=float(np.nanmean(v)))
        if not alive.any():
            tl, vl = tl[:, : ep + 1], vl[:, : ep + 1]
            break
    return StackResult(params={k: v.clone() for k, v in unflat(best).items()},
                       buffers={k: v.detach() for k, v in buffers.items()}, base=base,
                       train_loss=tl, val_loss=vl, best_epoch=best_epoch, stopped_epoch=stopped)


def train_sequential(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, train_idx: np.ndarray, val_idx: np.ndarray | None,
    seed: int, config: StackConfig, mu: torch.Tensor | None = None, sd: torch.Tensor | None = None,
) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """Reference: train one model with ``torch.optim.Adam`` on the same batch plan as :func:`train_stacked`.

    Returns the best-epoch model and its (train_loss, val_loss) per epoch.
    """
    gen = torch.Generator().manual_seed(int(seed))
    tr = torch.as_tensor(np.asarray(train_idx), dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps,
                           weight_decay=config.weight_decay)
    mu1 = None if mu is None else mu.unsqueeze(0)
    sd1 = None if sd is None else sd.unsqueeze(0)
    if val_idx is not None:
        vidx, vmask = _pad_index([val_idx], config.max_val, int(seed))
    tl, vl, best_val, wait = [], [], np.inf, 0
    best_state = copy.deepcopy(model.state_dict())
    for ep in range(config.epochs):
        model.train()
        plan = batch_plan(len(tr), config.batch_size, gen, config.steps_per_epoch)
        losses = []
        for s in range(plan.shape[0]):
            ix = tr[plan[s]]
            xb = _normalise(X[ix].unsqueeze(0), mu1, sd1)[0]
            loss = F.cross_entropy(model(xb), y[ix])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        tl.append(float(np.mean(losses)))
        if val_idx is None:
            best_state = copy.deepcopy(model.state_dict())
            continue
        model.eval()
        with torch.no_grad():
            ix = vidx[0][vmask[0]]
            v = float(F.cross_entropy(model(_normalise(X[ix].unsqueeze(0), mu1, sd1)[0]), y[ix]))
        vl.append(v)
        if v < best_val - config.min_delta:
            best_val, wait, best_state = v, 0, copy.deepcopy(model.state_dict())
        else:
            wait += 1
            if wait >= config.patience:
                break
    model.load_state_dict(best_state)
    return model.eval(), np.array(tl), np.array(vl)
