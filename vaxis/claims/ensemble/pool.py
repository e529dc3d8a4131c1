"""Chapter 8's pool: residual-diversity measures, decorrelation and augmentation, and the label-only + diverse member
pool trained in one stacked pass per architecture (:func:`train_pool`). The ensembles drawn from it are in
:mod:`vaxis.claims.ensemble.combine`."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from vaxis.decoding.decoders import DECODERS, build
from vaxis.decoding.folds import fold_indices
from vaxis.decoding.metrics import metrics
from vaxis.decoding.stacking import StackConfig, subsample_indices, train_stacked
from vaxis.decoding.training_data import prepare

__all__ = ["KINDS", "seed_values", "member_init", "batch_seed", "residual_basis", "principal_angles",
           "residual_distance", "diversity_matrix",
           "ResidualDecorrelation", "residual_mix", "seedv_view", "Pool", "train_pool"]


KINDS = ("seed", "bag", "aug", "decor")


# ----------------------------------------------------------------------------------------- residual diversity
def residual_basis(rep: np.ndarray, y: np.ndarray, k: int = 5, tol: float = 1e-8) -> np.ndarray:
    """Orthonormal sample-space basis of the top-``k`` principal components of the within-class residual.

    Parameters
    ----------
    rep : ndarray, shape (n, d)
    y : ndarray, shape (n,)

    Returns
    -------
    U : ndarray, shape (n, k_eff), ``k_eff = min(k, rank of the residual)``
    """
    rep = np.asarray(rep, dtype=np.float64)
    r = rep.copy()
    for c in np.unique(y):
        r[y == c] -= rep[y == c].mean(0)
    u, s, _ = np.linalg.svd(r, full_matrices=False)
    k_eff = int(min(k, np.sum(s > tol * max(s[0], 1e-300))))
    return u[:, :k_eff]


def principal_angles(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Principal angles (radians, ascending) between the column spans of ``a`` (n, k1) and ``b`` (n, k2)."""
    qa, qb = np.linalg.qr(a)[0], np.linalg.qr(b)[0]
    cos = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), 0.0, 1.0)
    return np.sort(np.arccos(cos))


def residual_distance(rep_a: np.ndarray, rep_b: np.ndarray, y: np.ndarray, k: int = 5) -> float:
    """``1 - mean cos^2`` of the principal angles between two members' residual subspaces (same samples)."""
    return float(diversity_matrix([rep_a, rep_b], y, k)[0, 1])


def diversity_matrix(reps: Sequence[np.ndarray], y: np.ndarray, k: int = 5) -> np.ndarray:
    """Pairwise :func:`residual_distance` of members' representations ``reps[m]`` (n, d_m): shape (M, M)."""
    bases = [residual_basis(r, y, k) for r in reps]
    M = len(bases)
    D = np.zeros((M, M))
    for i in range(M):
        for j in range(i + 1, M):
            cos = np.linalg.svd(bases[i].T @ bases[j], compute_uv=False)
            D[i, j] = D[j, i] = 1.0 - np.mean(np.clip(cos, 0, 1) ** 2) if len(cos) else np.nan
    return D


# --------------------------------------------------------------------------- decorrelation and augmentation
class ResidualDecorrelation:
    """Stacked loss term: ``weight`` x mean linear CKA between within-class residual representations of the
    members of one group (members of a group must see the same batches: same training indices, same batch seed).

    Parameters
    ----------
    groups : ndarray, shape (M,)
        Group id per stacked model; -1 = no penalty.
    """

    stacked = True

    def __init__(self, groups: np.ndarray, n_classes: int, weight: float = 0.1) -> None:
        g = np.asarray(groups)
        pairs = [(i, j) for i in range(len(g)) for j in range(i + 1, len(g)) if g[i] >= 0 and g[i] == g[j]]
        self.pa = torch.tensor([p[0] for p in pairs], dtype=torch.long)
        self.pb = torch.tensor([p[1] for p in pairs], dtype=torch.long)
        self.n_pairs = np.bincount(np.r_[self.pa.numpy(), self.pb.numpy()], minlength=len(g)).astype(np.float32)
        self.n_classes, self.weight, self.M = n_classes, weight, len(g)

    def __call__(self, rep: torch.Tensor, logits, y: torch.Tensor, clip_index, model_index) -> torch.Tensor:
        """``rep`` (M, B, d), ``y`` (M, B) -> penalty per model (M,)."""
        out = rep.new_zeros(self.M)
        if len(self.pa) == 0:
            return out
        oh = F.one_hot(y, self.n_classes).to(rep.dtype)                               # (M, B, C)
        means = oh.transpose(1, 2) @ rep / oh.sum(1).clamp_min(1).unsqueeze(-1)       # (M, C, d)
        r = rep - oh @ means
        r = r - r.mean(1, keepdim=True)
        self_norm = (r.transpose(1, 2) @ r).flatten(1).norm(dim=1).clamp_min(1e-8)   # (M,)
        cross = (r[self.pa].transpose(1, 2) @ r[self.pb]).flatten(1).pow(2).sum(1)    # (P,)
        cka = cross / (self_norm[self.pa] * self_norm[self.pb])
        out = out.index_add(0, self.pa.to(rep.device), cka).index_add(0, self.pb.to(rep.device), cka)
        return self.weight * out / torch.as_tensor(self.n_pairs, device=rep.device).clamp_min(1)


def residual_mix(X: torch.Tensor, y: np.ndarray, groups: np.ndarray, idx: np.ndarray, n: int,
                 seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """``n`` residual-mixed windows built from the windows ``idx`` only (training subjects).

    Window ``i`` (subject ``s``, class ``c``) -> ``mean(s, c) + x_j - mean(s_j, c)`` with ``j`` a random window of
    class ``c`` from another subject (the same one only if no other has class ``c``).
    Returns X_aug (n, *feat), y_aug (n,).
    """
    rng = np.random.default_rng(seed)
    idx = np.asarray(idx)
    Xi, yi, gi = X[torch.as_tensor(idx)], np.asarray(y)[idx], np.asarray(groups)[idx]
    key = gi.astype(np.int64) * (int(yi.max()) + 1) + yi
    uk, inv = np.unique(key, return_inverse=True)
    means = torch.zeros((len(uk),) + tuple(Xi.shape[1:]), dtype=Xi.dtype).index_add_(0, torch.as_tensor(inv), Xi)
    means /= torch.as_tensor(np.bincount(inv), dtype=Xi.dtype).view(-1, *([1] * (Xi.dim() - 1)))
    a = rng.integers(0, len(idx), n)
    b = np.empty(n, dtype=np.int64)
    for c, s in set(zip(yi[a].tolist(), gi[a].tolist())):             # j from the same class, another subject
        rows = np.flatnonzero((yi[a] == c) & (gi[a] == s))
        pool = np.flatnonzero((yi == c) & (gi != s))
        pool = pool if len(pool) else np.flatnonzero(yi == c)
        b[rows] = pool[rng.integers(0, len(pool), len(rows))]
    xa = means[torch.as_tensor(inv[a])] + Xi[torch.as_tensor(b)] - means[torch.as_tensor(inv[b])]
    return xa, yi[a]


def seedv_view(data, normalisation: str = "train-only"):
    """SEED-V (``SeedVData``) as a window :class:`~vaxis.decoding.training_data.DataView` with 5 classes.

    Adapter: :func:`vaxis.decoding.training_data.prepare` knows the FACED tasks only, so the 5-class labels go through
    its ``"9class"`` path (labels kept as they are) and ``n_classes`` is set to 5 afterwards.
    """
    X, y, subj, trial = data.windows("5class")
    sid = np.asarray(data.subject_ids)[subj]
    view = prepare((X, y, sid, trial), task="9class", input="window", normalisation=normalisation)
    return dataclasses.replace(view, n_classes=5)


# ------------------------------------------------------------------------------------------------ the pool
@dataclass
class Pool:
    """Every trained member, its held-out outputs and the residual diversity inside each fold.

    ``members``: DataFrame (member, fold, kind, arch, rank, val_ba); per fold ``f``: ``logp_val[f]`` (M_f, n_val, C),
    ``logp_test[f]`` (M_f, n_test, C), ``D[f]`` (M_f, M_f) residual distances, ``y_val[f]``, ``y_test[f]``,
    ``subj_val[f]`` / ``subj_test[f]`` (subject ids), ``units_test[f]``; rows of these follow ``members`` of that fold.
    """

    members: pd.DataFrame
    logp_val: dict
    logp_test: dict
    D: dict
    y_val: dict
    y_test: dict
    subj_val: dict
    subj_test: dict
    units_test: dict
    manifest: list
    n_classes: int
    normalisation: str
    settings: dict


def seed_values(seeds: int | Sequence[int]) -> list[int]:
    """Seeds as values: a sequence is kept as given (distinct non-negative ints); an int ``n`` means ``0..n-1``."""
    vals = list(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else [int(s) for s in seeds]
    if len(set(vals)) != len(vals) or any(s < 0 for s in vals):
        raise ValueError(f"seeds must be distinct non-negative integers, got {seeds!r}")
    return vals


def member_init(seed: int, arch_i: int, fold: int, kind: str, value: int) -> int:
    """The weight-init seed of one member: ``value`` is its seed (kind ``seed``) or its rank (other kinds).

    Values 0-9 keep the formula of the count-based pool (so runs with seeds ``0..n-1`` are unchanged); larger
    values get a :class:`numpy.random.SeedSequence` draw of (seed, architecture, fold, kind, value), which cannot
    collide with another member's formula value (it is offset above every one of them for base seeds below
    40 000).
    """
    if 0 <= value < 10:
        return seed * 100_000 + arch_i * 10_000 + 100 * fold + 10 * KINDS.index(kind) + value
    draw = int(np.random.SeedSequence([seed, arch_i, fold, KINDS.index(kind), value]).generate_state(1)[0])
    return 2 ** 32 + draw


def batch_seed(seed: int, fold: int, kind: str, value: int) -> int:
    """The batch-order seed of one member (same convention as :func:`member_init`; decor members share one)."""
    if kind == "decor":
        return 10_000 * (seed + 1) + 100 * fold
    if 0 <= value < 10:
        return 10_000 * (seed + 1) + 100 * fold + 1 + value
    return 2 ** 32 + int(np.random.SeedSequence([seed, fold, 7, value]).generate_state(1)[0])


def train_pool(view, manifest: list[dict], archs: Sequence[str] = ("mlp", "linear"),
               n_seeds: int | Sequence[int] = 4, n_bag: int = 4, n_aug: int = 4, n_decor: int = 4,
               config: StackConfig | None = None, hidden: int = 32, decor_weight: float = 0.1,
               aug_fraction: float = 0.25, n_div: int = 2000, k: int = 5, seed: int = 0,
               device: str | torch.device = "cpu", folds: Sequence[int] | None = None,
               main_seeds: int | Sequence[int] | None = None) -> Pool:
    """Train every member of every fold: one stacked pass per architecture.

    ``archs[0]`` is the main architecture: it gets the label-only seeds ``main_seeds`` (default ``n_seeds``) plus
    the ``bag``, ``aug`` and ``decor`` members; every other architecture gets the label-only seeds ``n_seeds`` (the
    greedy pool is every label-only member). Seeds are values (:func:`seed_values`): ``main_seeds=[5, 6]`` trains
    the members whose weights and batches are seeded from 5 and 6 (``members.seed`` records them); an int ``n``
    means seeds ``0..n-1``. Cross-stimulus folds (a ``test_clips`` entry, from
    :func:`vaxis.decoding.folds.make_manifest` with ``stimulus="unseen"``): training and validation windows
    exclude those clips, test windows are those clips only. Members
    train on the fold's training subjects, stop early on its validation subjects and are scored on its test
    subjects; normalisation ``view.normalisation`` (``train-only``: statistics of each member's own training set).

    Parameters
    ----------
    view : DataView
        Window samples (``X`` (n, n_chans, n_bands)); from :func:`vaxis.decoding.training_data.prepare` or
        :func:`seedv_view`.
    manifest : list of dict
        Folds with ``train`` / ``val`` / ``test`` subject ids (:func:`vaxis.decoding.folds.make_manifest`).
    folds : sequence of int, optional
        Train only these folds (indices into ``manifest``; default all). Every seed and random draw is
        the one the full run makes (draws for the other folds are replayed, not trained), so fold ``f``
        of ``train_pool(..., folds=[f])`` equals fold ``f`` of the full run (within float tolerance of the
        batched arithmetic): one fold can be one sweep job (:func:`fold_job`). The pool's per-fold dicts
        and ``members`` hold these folds only; ``manifest`` stays the full one.
    """
    keep = set(range(len(manifest))) if folds is None else {int(f) for f in folds}
    if not keep or not keep <= set(range(len(manifest))):
        raise ValueError(f"folds must be a non-empty subset of 0..{len(manifest) - 1}, got {folds!r}")
    cfg = config or StackConfig(epochs=6, steps_per_epoch=25, max_val=1024)
    dev = torch.device(device)
    pos = {s: i for i, s in enumerate(view.subject_ids)}
    parts = [fold_indices(f, view.groups, np.asarray(view.clips), pos) for f in manifest]   # leakage-checked
    sel = {p: [fi[p] for fi in parts] for p in ("train", "val", "test")}
    seed_vals, main_vals = seed_values(n_seeds), seed_values(n_seeds if main_seeds is None else main_seeds)
    rng = np.random.default_rng(seed)
    X, y = view.X, np.asarray(view.y)
    banks = [residual_mix(X, y, view.groups, t, int(aug_fraction * len(t)), seed + 97 * f) if n_aug and f in keep
             else (X[:0], y[:0]) for f, t in enumerate(sel["train"])]   # residual-mixed rows, train only
    ends = len(X) + np.cumsum([0] + [len(b[1]) for b in banks])
    aug_idx = [np.arange(ends[f], ends[f + 1]) for f in range(len(banks))]
    Xall = torch.cat([X] + [b[0] for b in banks]).to(dev)
    yall = torch.as_tensor(np.concatenate([y] + [b[1] for b in banks]), dtype=torch.long, device=dev)
    div_idx = [np.sort(rng.choice(t, min(n_div, len(t)), replace=False)) for t in sel["train"]]
    rows, out = [], {k_: {} for k_ in ("logp_val", "logp_test", "rep")}
    for a_i, arch in enumerate(archs):
        if DECODERS[arch].input != "window":
            raise ValueError(f"{arch!r} is not a window decoder")
        lab = main_vals if a_i == 0 else seed_vals
        plan = [(f, kind, r) for f in range(len(manifest))
                for kind, n in (("seed", len(lab)), ("bag", n_bag), ("aug", n_aug), ("decor", n_decor))
                if a_i == 0 or kind == "seed" for r in range(n)]
        value = lambda kind, r: lab[r] if kind == "seed" else r  # noqa: E731  (a seed member's seed, else rank)
        tr_idx, bseeds, groups = [], [], []
        for f, kind, r in plan:   # every fold's draws, in the full run's order (kept folds are trained below)
            tr = sel["train"][f]
            if kind == "bag":
                subs = np.unique(view.groups[tr])
                draw = rng.choice(subs, len(subs))
                tr = np.concatenate([tr[view.groups[tr] == s] for s in draw]) if f in keep else tr
            elif kind == "aug":
                tr = np.concatenate([tr, aug_idx[f]])
            tr_idx.append(tr)
            bseeds.append(batch_seed(seed, f, kind, value(kind, r)))
            groups.append(f if kind == "decor" else -1)
        # the validation subsample train_stacked would draw for the full stack, then only the kept folds' models
        va_idx = subsample_indices([sel["val"][f] for f, _, _ in plan], cfg.max_val, int(bseeds[0]))
        on = [m for m, (f, _, _) in enumerate(plan) if f in keep]
        plan, tr_idx, bseeds, groups, va_idx = ([v[m] for m in on] for v in (plan, tr_idx, bseeds, groups, va_idx))
        mu = sd = None
        if view.normalisation == "train-only":
            st = [(Xall[torch.as_tensor(t)].mean(0), Xall[torch.as_tensor(t)].std(0) + 1e-6) for t in tr_idx]
            mu, sd = torch.stack([s[0] for s in st]).to(dev), torch.stack([s[1] for s in st]).to(dev)
        inits = [member_init(seed, a_i, f, kind, value(kind, r)) for f, kind, r in plan]
        akw = {"n_chans": X.shape[-2], "n_bands": X.shape[-1], "n_classes": view.n_classes, "hidden": hidden}
        loss = (ResidualDecorrelation(np.array(groups), view.n_classes, decor_weight)
                if a_i == 0 and n_decor > 1 else None)
        res = train_stacked(lambda m: build(arch, seed=inits[m], **akw), len(plan), Xall, yall, tr_idx,
                            va_idx, bseeds, dataclasses.replace(cfg, desc=arch), mu=mu, sd=sd, loss_fn=loss)
        for m, (f, kind, r) in enumerate(plan):
            mod = res.model(m)
            norm = (lambda x: x) if mu is None else (lambda x, m=m: (x - mu[m].cpu()) / sd[m].cpu())
            with torch.no_grad():
                for part, ix in (("logp_val", sel["val"][f]), ("logp_test", sel["test"][f]), ("rep", div_idx[f])):
                    r_, lg = mod.rep_and_logits(norm(X[torch.as_tensor(ix)]))
                    out[part][(f, arch, kind, r)] = r_.numpy() if part == "rep" else torch.log_softmax(lg, -1).numpy()
            yv = y[sel["val"][f]]
            rows.append({"fold": f, "kind": kind, "arch": arch, "rank": r, "seed": value(kind, r),
                         "val_ba": metrics(yv, out["logp_val"][(f, arch, kind, r)])["window"]["balanced_accuracy"]})
    members = pd.DataFrame(rows).sort_values(["fold", "arch", "kind", "rank"], kind="stable").reset_index(drop=True)
    members.insert(0, "member", members.groupby("fold").cumcount())
    P = Pool(members, {}, {}, {}, {}, {}, {}, {}, {}, manifest, view.n_classes, view.normalisation,
             {"archs": list(archs), "n_seeds": len(seed_vals), "main_seeds": len(main_vals), "seeds": seed_vals,
              "main_seed_values": main_vals, "n_bag": n_bag,
              "n_aug": n_aug, "n_decor": n_decor,
              "hidden": hidden, "decor_weight": decor_weight, "aug_fraction": aug_fraction, "k": k,
              "n_div": n_div, "config": dataclasses.asdict(cfg)})
    for f in sorted(keep):
        keys = [tuple(r) for r in members[members.fold == f][["fold", "arch", "kind", "rank"]].itertuples(index=False)]
        P.logp_val[f] = np.stack([out["logp_val"][q] for q in keys])
        P.logp_test[f] = np.stack([out["logp_test"][q] for q in keys])
        P.D[f] = diversity_matrix([out["rep"][q] for q in keys], y[div_idx[f]], k)
        P.y_val[f], P.y_test[f] = y[sel["val"][f]], y[sel["test"][f]]
        P.subj_val[f] = np.asarray(view.subject_ids)[view.groups[sel["val"][f]]]
        P.subj_test[f] = np.asarray(view.subject_ids)[view.groups[sel["test"][f]]]
        P.units_test[f] = view.units[sel["test"][f]]
    return P
