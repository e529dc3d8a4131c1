"""Train many same-architecture models at once: stacked parameters + ``torch.func.vmap``.

Each of the ``M`` models has its own initial weights, its own training / validation sample indices
(its own fold), its own normalisation statistics, its own mini-batch order (a per-model
``torch.Generator``), its own Adam state and step count, and its own early stopping. One training step
gathers an ``(M, batch, ...)`` block by indexing the shared data tensor directly (once per group of models that
draw the same batches: :func:`vaxis.decoding.stacked_steps.input_groups`), runs all models in one vmapped
``functional_call``, sums the per-model losses (the models share no parameter, so each gradient is that model's
own) and applies a masked Adam update that is term-for-term ``torch.optim.Adam``.

A model whose epoch has fewer steps than the longest one is masked out of the update (its weights, moments and
step count stay frozen). A model whose patience is exhausted leaves the stack at the next epoch: only the models
still training are computed (their rows of the weights and Adam moments), so a stack whose models stop early
costs what its live models cost; each model's arithmetic is the same whichever models train beside it. Dropout
too: the trainer keys every :class:`~vaxis.decoding.dropout.KeyedDropout` with the model's batch seed and its own
step count, so a model's masks do not depend on the stack it trains in (one fold job or all folds at once).
:func:`train_sequential` trains one model the textbook way (``nn.Module`` + ``torch.optim.Adam``) on the same
batch plan; the tests check that the two agree within float tolerance (exactly the same algorithm, different
summation order).
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

from vaxis.decoding.dropout import key_dropout, new_pass, unkey
from vaxis.decoding.stacked_steps import (
    adam_scales,
    batch_plan,
    group_rows,
    input_groups,
    masked_adam_,
    normalise,
    pad_index,
    run_stacked,
    shared_blocks,
    val_loss,
)

__all__ = ["StackConfig", "StackResult", "train_stacked", "train_sequential", "resolve_device", "stacked_apply",
           "subsample_indices"]


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


def subsample_indices(index_lists: Sequence[np.ndarray], cap: int | None, seed: int) -> list[np.ndarray]:
    """Each list cut to at most ``cap`` sorted indices: one generator seeded by ``seed``, drawn list by list.

    This is the validation subsample of :func:`vaxis.decoding.stacking.train_stacked` (``seed`` = the first
    model's batch seed). A caller that trains a subset of a larger stack (one fold of many) can draw the full
    stack's subsample here and pass the kept lists: lists of at most ``cap`` indices are used as they are.

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


def stacked_apply(base: nn.Module, params: dict, buffers: dict, x: torch.Tensor,
                  method: str = "forward") -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
    """Run every stacked model on its own block: ``x`` (M, n, ...) -> (M, n, out) (no grad, eval mode).

    ``method``: ``"forward"`` (logits), ``"represent"`` or ``"both"`` ((representation, logits)).
    """
    was = base.training
    base.eval()
    try:
        with torch.no_grad():
            return run_stacked(base, params, buffers, x, method)
    finally:
        base.train(was)


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
        unkey(mod)
        return mod.eval()


class _Live:
    """The models still training: their rows of the stack's flat weights (a leaf, (G, P)), Adam moments,
    buffers, normalisation statistics and input groups. :meth:`store` writes the rows back."""

    def __init__(self, idx: torch.Tensor, flat, exp_avg, exp_sq, buffers: dict, mu, sd, groups: torch.Tensor):
        self.idx, self.rows = idx, idx.cpu().numpy()
        self.flat = flat[idx].requires_grad_(True)
        self.exp_avg, self.exp_sq = exp_avg[idx], exp_sq[idx]
        self.buffers = {k: v[idx] for k, v in buffers.items()}
        self.mu, self.sd = (None, None) if mu is None else (mu[idx], sd[idx])
        self.groups = group_rows(groups[idx])

    def store(self, flat, exp_avg, exp_sq) -> None:
        flat[self.idx], exp_avg[self.idx], exp_sq[self.idx] = self.flat.detach(), self.exp_avg, self.exp_sq


def _extra_loss(loss_fn: Callable, rep, logits, y: torch.Tensor, ix: torch.Tensor, clip_index, live: _Live,
                n_models: int) -> torch.Tensor:
    """``loss_fn``'s term of every live model, (G,). A stacked ``loss_fn`` whose ``takes_rows`` is true gets the
    live models' tensors (G, B, ...) and their rows as ``model_index``; any other stacked ``loss_fn`` sees the
    whole stack (M, B, ...): a stopped model's rows are zeros and its labels those of the padding index 0 (its
    term is discarded)."""
    if getattr(loss_fn, "stacked", False) and getattr(loss_fn, "takes_rows", False):
        return loss_fn(rep, logits, y[ix], clip_index[ix] if clip_index is not None else None, live.idx)
    if len(live.rows) < n_models:
        ix = ix.new_zeros((n_models,) + ix.shape[1:]).index_copy(0, live.idx, ix)
        if getattr(loss_fn, "stacked", False):
            rep = rep.new_zeros((n_models,) + rep.shape[1:]).index_copy(0, live.idx, rep)
            logits = logits.new_zeros((n_models,) + logits.shape[1:]).index_copy(0, live.idx, logits)
    yb, ci = y[ix], (clip_index[ix] if clip_index is not None else None)
    if getattr(loss_fn, "stacked", False):
        out = loss_fn(rep, logits, yb, ci, torch.arange(n_models, device=y.device))
        return out if len(live.rows) == n_models else out[live.idx]
    return torch.stack([loss_fn(rep[j], logits[j], yb[m], None if ci is None else ci[m], int(m))
                        for j, m in enumerate(live.rows)])


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
        tensors and ``model_index`` = arange(M) and must return (M,) (a stopped model's rows are zeros); with
        ``loss_fn.takes_rows`` also true it is called with the models still training only (G, B, ...) and
        ``model_index`` = their rows (G,), and must return (G,): stopped models then cost nothing.
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
    drop = key_dropout(base)                    # each model's dropout masks from its own key and step
    for k in drop[0::2]:
        buffers[k] = torch.as_tensor([int(s) for s in seeds], dtype=torch.long, device=dev)
    names = list(params)
    shapes = [tuple(params[k].shape[1:]) for k in names]
    numels = [int(np.prod(sh)) if sh else 1 for sh in shapes]
    # one flat (M, P) tensor: Adam, masking and best-epoch snapshots are a handful of ops on one tensor
    flat = torch.cat([params[k].detach().reshape(n_models, -1) for k in names], 1).clone()

    def unflat(f: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: t.view((f.shape[0],) + sh) for k, t, sh in zip(names, f.split(numels, 1), shapes)}

    exp_avg, exp_sq = torch.zeros_like(flat), torch.zeros_like(flat)
    steps = torch.zeros(n_models, 1, dtype=X.dtype, device=dev)
    best = flat.clone()
    gens = [torch.Generator().manual_seed(int(s)) for s in seeds]
    tr = [torch.as_tensor(np.asarray(ix), dtype=torch.long) for ix in train_idx]
    groups = input_groups(seeds, tr, mu, sd).to(dev)
    if val_idx is not None:
        vidx, vmask = pad_index(subsample_indices(val_idx, config.max_val, int(seeds[0])))
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
    live = _Live(torch.arange(n_models, device=dev), flat, exp_avg, exp_sq, buffers, mu, sd, groups)
    from tqdm.auto import tqdm

    bar = tqdm(range(E), desc=config.desc, disable=not config.progress, leave=False)
    for ep in bar:
        plans = [batch_plan(len(tr[m]), config.batch_size, gens[m], config.steps_per_epoch) for m in range(n_models)]
        if alive.sum() < len(live.rows):                  # models that stopped leave the computation
            live.store(flat, exp_avg, exp_sq)
            live = _Live(torch.as_tensor(np.flatnonzero(alive), device=dev), flat, exp_avg, exp_sq, buffers, mu, sd,
                         groups)
        n_steps = max(p.shape[0] for p in plans)
        bsz = max(p.shape[1] for p in plans)
        gidx = torch.zeros(len(live.rows), n_steps, bsz, dtype=torch.long)
        active = torch.zeros(n_models, n_steps, dtype=torch.bool)
        for j, m in enumerate(live.rows):
            p = plans[m]
            gidx[j, : p.shape[0], : p.shape[1]] = tr[m][p]
            active[m, : p.shape[0]] = True
        gidx, active = gidx.to(dev), active.to(dev)
        act_live = active[live.idx]
        ep_loss = torch.zeros(len(live.rows), dtype=X.dtype, device=dev)
        for s in range(n_steps):
            ix, act = gidx[:, s], act_live[:, s]
            xb, yb = shared_blocks(X, ix, live.mu, live.sd, live.groups), y[ix]
            if drop:                                  # each live model's own step count
                step = steps[live.idx, 0].long()
                live.buffers.update(dict.fromkeys(drop[1::2], step))
                new_pass(base)
            with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=use_amp):
                out = run_stacked(base, unflat(live.flat), live.buffers, xb, "both" if want_rep else "forward")
            rep, logits = out if want_rep else (None, out)
            if use_amp:                      # losses and extra terms in float32
                rep, logits = (None if rep is None else rep.float()), logits.float()
            ce = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), reduction="none").view(yb.shape).mean(1)
            if loss_fn is not None:
                if hasattr(loss_fn, "progress"):   # for hooks that follow training (e.g. a gradient recorder)
                    loss_fn.progress = {"epoch": ep, "step": s, "active": active[:, s]}
                ce = ce + _extra_loss(loss_fn, rep, logits, y, ix, clip_index, live, n_models)
            a = act.view(-1, 1).to(X.dtype)
            (g,) = torch.autograd.grad((ce * a[:, 0]).sum(), [live.flat])
            with torch.no_grad():
                steps += active[:, s].view(n_models, 1).to(X.dtype)
                step_size, rs2 = adam_scales(steps, config.lr, config.betas)
                masked_adam_(live.flat, g, live.exp_avg, live.exp_sq, a, step_size[live.idx], rs2[live.idx],
                              config.betas, config.eps, config.weight_decay)
                ep_loss += torch.where(act, ce.detach(), torch.zeros((), dtype=ce.dtype, device=dev))
        n_act = act_live.sum(1).clamp_min(1).to(X.dtype)
        tl[live.rows, ep] = (ep_loss / n_act).cpu().numpy()
        if val_idx is None:
            best[live.idx] = live.flat.detach()
            best_epoch[:] = ep
            continue
        base.eval()
        v = np.full(n_models, np.nan)
        v[live.rows] = val_loss(base, unflat(live.flat.detach()), live.buffers, X, y, vidx[live.idx],
                                vmask[live.idx], live.mu, live.sd).cpu().numpy()
        base.train()
        vl[alive, ep] = v[alive]
        improved = alive & (v < best_val - config.min_delta)
        if improved.any():
            pos = torch.as_tensor(np.flatnonzero(improved[live.rows]), device=dev)
            best[live.idx[pos]] = live.flat.detach()[pos]
        best_val[improved], best_epoch[improved], wait[improved] = v[improved], ep, 0
        wait[alive & ~improved] += 1
        newly = alive & (wait >= config.patience)
        stopped[newly] = ep
        alive &= ~newly
        bar.set_postfix(alive=int(alive.sum()), val=float(np.nanmean(v)))
        if not alive.any():
            tl, vl = tl[:, : ep + 1], vl[:, : ep + 1]
            break
    live.store(flat, exp_avg, exp_sq)
    return StackResult(params={k: v.clone() for k, v in unflat(best).items()},
                       buffers={k: v.detach() for k, v in buffers.items() if k not in drop}, base=base,
                       train_loss=tl, val_loss=vl, best_epoch=best_epoch, stopped_epoch=stopped)


def train_sequential(
    model: nn.Module, X: torch.Tensor, y: torch.Tensor, train_idx: np.ndarray, val_idx: np.ndarray | None,
    seed: int, config: StackConfig, mu: torch.Tensor | None = None, sd: torch.Tensor | None = None,
) -> tuple[nn.Module, np.ndarray, np.ndarray]:
    """Reference: train one model with ``torch.optim.Adam`` on the same batch plan as :func:`train_stacked`.

    Returns the best-epoch model and its (train_loss, val_loss) per epoch.
    """
    gen = torch.Generator().manual_seed(int(seed))
    drop = key_dropout(model, key=seed)
    tr = torch.as_tensor(np.asarray(train_idx), dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=config.betas, eps=config.eps,
                           weight_decay=config.weight_decay)
    mu1 = None if mu is None else mu.unsqueeze(0)
    sd1 = None if sd is None else sd.unsqueeze(0)
    if val_idx is not None:
        vidx, vmask = pad_index(subsample_indices([val_idx], config.max_val, int(seed)))
    tl, vl, best_val, wait = [], [], np.inf, 0
    best_state = copy.deepcopy(model.state_dict())
    for ep in range(config.epochs):
        model.train()
        plan = batch_plan(len(tr), config.batch_size, gen, config.steps_per_epoch)
        losses = []
        for s in range(plan.shape[0]):
            ix = tr[plan[s]]
            xb = normalise(X[ix].unsqueeze(0), mu1, sd1)[0]
            new_pass(model)
            loss = F.cross_entropy(model(xb), y[ix])
            opt.zero_grad()
            loss.backward()
            opt.step()
            for k in drop[1::2]:
                model.get_buffer(k).add_(1)
            losses.append(loss.item())
        tl.append(float(np.mean(losses)))
        if val_idx is None:
            best_state = copy.deepcopy(model.state_dict())
            continue
        model.eval()
        with torch.no_grad():
            ix = vidx[0][vmask[0]]
            v = float(F.cross_entropy(model(normalise(X[ix].unsqueeze(0), mu1, sd1)[0]), y[ix]))
        vl.append(v)
        if v < best_val - config.min_delta:
            best_val, wait, best_state = v, 0, copy.deepcopy(model.state_dict())
        else:
            wait += 1
            if wait >= config.patience:
                break
    model.load_state_dict(best_state)
    unkey(model)
    return model.eval(), np.array(tl), np.array(vl)
