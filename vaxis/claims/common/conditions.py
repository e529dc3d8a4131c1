"""Train supervised conditions (label-only and alignment strategies) under one protocol: the adapter (V-map and
input penalties), clip arrays, a fold job's inputs, and stacked training; shared by chapters 6 and 7.

Every strategy x weight x seed x fold is one model of one :func:`vaxis.decoding.stacking.train_stacked` pass (same
architecture, same data, same per-(seed, fold) initial weights and batch order as the label-only model, same
epochs, same early stopping on validation cross-entropy). The loss weight of each strategy is chosen per fold
on that fold's *validation* subjects (carved from its training subjects) from its grid **plus 0** (the
label-only model): highest validation balanced accuracy averaged over every seed, ties to the smaller weight.
The test subjects choose nothing, and every seed's test score is reported only at the chosen weight. The best
non-zero weight (forced supervision, the paper's reading) is kept as a secondary selection. Weight selection and
chapter 6's run are in :mod:`vaxis.claims.alignment.train`; the distillation controls (geometry shuffled / uniform)
in :mod:`vaxis.claims.alignment.controls`.

Samples are clip-level DE (mean over a clip's one-second windows: (n_chans, n_bands) per subject x clip),
so 25 strategies x 3 seeds x 10 folds train on 2 CPU cores within the book's budget.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from vaxis.claims.common.strategies import N_HEAD, N_PEN, STRATEGIES, AlignmentLoss, AlignmentTargets
from vaxis.claims.common.vmap import clip_features, fit_full_map
from vaxis.decoding.decoders import FACED_EEG_CHANNELS, FACED_GRID, build
from vaxis.decoding.metrics import balanced_accuracy
from vaxis.decoding.stacking import StackConfig, resolve_device, stacked_apply, train_stacked

__all__ = ["AlignedDecoder", "input_weights", "electrode_laplacian", "clip_arrays", "fold_vmaps", "fold_inputs",
           "train_conditions", "CONDITION_STACK"]

#: The training settings of chapters 6 and 7 (clip-level MLP): written once, read by their jobs and chapters.
CONDITION_STACK = StackConfig(epochs=12, batch_size=128, lr=3e-3, patience=3)


def electrode_laplacian(n_chans: int, radius: float = 2.3) -> np.ndarray:
    """Normalised graph Laplacian of electrode neighbours, shape (n_chans, n_chans).

    FACED's 30 channels: neighbours are electrodes within ``radius`` cells on the 9 x 9 scalp grid of
    :data:`vaxis.decoding.decoders.FACED_GRID`; any other count: a chain (channel i next to i +- 1).
    """
    if n_chans == len(FACED_EEG_CHANNELS):
        xy = np.array([FACED_GRID[c] for c in FACED_EEG_CHANNELS], dtype=float)
        A = (np.linalg.norm(xy[:, None] - xy[None], axis=-1) <= radius).astype(float)
    else:
        A = (np.abs(np.subtract.outer(np.arange(n_chans), np.arange(n_chans))) <= 1).astype(float)
    np.fill_diagonal(A, 0)
    d = 1 / np.sqrt(np.maximum(A.sum(1), 1))
    return np.eye(n_chans) - d[:, None] * A * d[None]




def input_weights(decoder: nn.Module) -> torch.Tensor:
    """The decoder's input-layer weights as (units, n_chans, n_bands) (flat-input decoders only)."""
    for attr in ("fc1", "embed", "head"):
        lin = getattr(decoder, attr, None)
        if isinstance(lin, nn.Linear) and lin.in_features == decoder.n_chans * decoder.n_bands:
            return lin.weight.view(-1, decoder.n_chans, decoder.n_bands)
    raise NotImplementedError(f"{type(decoder).__name__} has no flat input layer: topographic strategies need "
                              "mlp, linear or tcn")


class AlignedDecoder(nn.Module):
    """Adapter: a decoder plus a learned 9-output head and the input-layer penalties, for the hook.

    ``rep_and_logits(x)`` returns (``[rep, head(rep), penalties]`` (n, d + 9 + 4), logits); ``forward`` is the
    decoder's. ``vmap`` (n_chans, n_bands) is a per-model buffer (e.g. a V-map fitted on that fold's training
    subjects); without it the map-based penalties are 0.
    """

    def __init__(self, decoder: nn.Module, vmap: np.ndarray | None = None, head_seed: int = 0,
                 emit_jacobians: bool = False, emit_penalties: bool = True):
        super().__init__()
        self.m, self.emit_jacobians, self.emit_penalties = decoder, emit_jacobians, emit_penalties
        self.input = getattr(decoder, "input", "window")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(head_seed)
            self.head = nn.Linear(_width(decoder), N_HEAD)
        C, B = decoder.n_chans, decoder.n_bands
        self.register_buffer("lap", torch.as_tensor(electrode_laplacian(C), dtype=torch.float32))
        v = np.zeros((C, B)) if vmap is None else np.asarray(vmap, float).reshape(C, B)
        self.register_buffer("vmap", torch.as_tensor(v / max(np.linalg.norm(v), 1e-12), dtype=torch.float32))
        self.has_flat_input = True
        try:
            input_weights(decoder)
        except NotImplementedError:
            self.has_flat_input = False

    def penalties(self) -> torch.Tensor:
        """(smooth, vmap, band, channel) penalties of the input-layer weights, shape (4,) (zeros, not computed,
        when ``emit_penalties`` is False: a stack with no topographic strategy)."""
        if not (self.has_flat_input and self.emit_penalties):
            return self.vmap.new_zeros(N_PEN)
        W = input_weights(self.m)                                            # (U, C, B)
        energy = (W * W).sum() + 1e-12
        smooth = torch.einsum("ucb,cd,udb->", W, self.lap, W) / energy
        vm = self.vmap
        has = (vm * vm).sum()
        proj = ((W * vm).sum((1, 2)) ** 2).sum() / energy
        e_b, e_c = (W * W).sum((0, 1)) / energy, (W * W).sum((0, 2)) / energy
        t_b, t_c = (vm * vm).sum(0), (vm * vm).sum(1)
        kl = lambda t, e: (t * ((t + 1e-12).log() - (e + 1e-12).log())).sum()  # noqa: E731
        return torch.stack([smooth, has * (1 - proj), kl(t_b, e_b), kl(t_c, e_c)])

    def rep_and_logits(self, x):
        r, logits = self.m.rep_and_logits(x)
        parts = [r, self.head(r), self.penalties().expand(r.shape[0], N_PEN)]
        if self.emit_jacobians:                                              # for the gradient recorder
            jac = torch.cat([self.logit_jacobian().flatten(), self.head.weight.flatten()])
            parts.append(jac.expand(r.shape[0], -1))
        return torch.cat(parts, -1), logits

    def logit_jacobian(self) -> torch.Tensor:
        """d logits / d representation, shape (n_classes, d): the identity when the decoder's
        ``rep_is_logits`` (its representation is its logits), else its ``head`` weight."""
        if getattr(self.m, "rep_is_logits", False):
            return torch.eye(self.m.n_classes, device=self.head.weight.device)
        return self.m.head.weight

    def represent(self, x):
        return self.m.represent(x)

    def forward(self, x):
        return self.m(x)


def _width(decoder: nn.Module) -> int:
    with torch.no_grad():
        shape = (1, decoder.n_chans, decoder.n_bands) if getattr(decoder, "input", "window") == "window" else \
            (1, 2, decoder.n_chans, decoder.n_bands)
        return int(decoder.represent(torch.zeros(shape)).shape[-1])


def clip_arrays(eeg) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Clip-level samples from an ``EEGData``: X (n_subjects * n_clips, n_chans, n_bands) = mean DE over
    windows, y (category ids), groups (subject id strings), clips (clip ids)."""
    x = np.asarray(eeg.x, dtype=np.float32).mean(3)                          # (S, n_clips, C, B)
    S, n_clips = x.shape[:2]
    return (x.reshape(S * n_clips, *x.shape[2:]), np.tile(eeg.labels, S),
            np.repeat(np.asarray(eeg.subject_ids), n_clips), np.tile(np.asarray(eeg.clip_ids), S))


def fold_vmaps(eeg, manifest: list[dict], positions: np.ndarray) -> list[np.ndarray]:
    """Chapter-4 V-map (ridge filter from per-subject z-scored clip DE to position) fitted on each fold's
    training subjects only; one (n_chans, n_bands) array per fold."""
    feats = clip_features(eeg.x, normalisation="per-subject")
    pos = {s: i for i, s in enumerate(eeg.subject_ids)}
    C, B = eeg.x.shape[2], eeg.x.shape[4]
    return [fit_full_map(feats[[pos[s] for s in f["train"]]], eeg.labels, positions, n_folds=5)["weights"]
            .reshape(C, B) for f in manifest]


def train_conditions(view, manifest: list[dict], arch: str, conditions: pd.DataFrame, targets: AlignmentTargets,
                     vmaps: Sequence[np.ndarray | None] | None, cfg: StackConfig, hidden: int = 32,
                     device: str = "auto", recorder=None, dropout: float = 0.0) -> tuple[pd.DataFrame, dict]:
    """Train one model per row of ``conditions`` (``strategy`` (name or "label-only"), ``weight``, ``seed``,
    ``fold``) in one stacked pass.

    Returns the rows with ``val_ba``, ``test_ba`` (fold-pooled), ``best_epoch`` and ``subject_ba`` (a list: the
    balanced accuracy of each test subject of the row's fold, in the order of ``manifest[fold]["test"]``) added,
    and the trained state (``params``, ``buffers``, ``base``, ``mu``, ``sd``, ``d``). The features are z-scored
    with each fold's training subjects (on top of the input pipeline; affine, label-free). ``recorder``: an
    ``AlignmentLoss.recorder`` (e.g. :class:`vaxis.claims.saturation.measures.GradientRecorder`); the models then
    also emit their head Jacobians so the recorder can follow gradients through the logits and the learned head."""
    rows = conditions.reset_index(drop=True)
    params = rows.strategy.map(lambda n: n != "label-only" and STRATEGIES[n].needs == "params").to_numpy()
    if params.any() and not params.all():
        # two stacks: only the topographic models pay for the input-layer penalties
        parts = [train_conditions(view, manifest, arch, rows[mask], targets, vmaps, cfg, hidden, device, recorder,
                                  dropout) for mask in (~params, params)]
        out = pd.concat([parts[0][0], parts[1][0]]).sort_index()
        return out, {"parts": [p[1] for p in parts], "masks": [~params, params], "d": parts[0][1]["d"]}
    dev = resolve_device(device)
    pos = {s: i for i, s in enumerate(view.subject_ids)}
    by_id = {f["fold"]: f for f in manifest}
    sel = {p: [np.flatnonzero(np.isin(view.groups, [pos[s] for s in by_id[f][p]])) for f in rows.fold]
           for p in ("train", "val", "test")}
    init = [int(s) * 1000 + int(f) for s, f in zip(rows.seed, rows.fold)]
    akw = {"n_chans": view.X.shape[-2], "n_bands": view.X.shape[-1], "n_classes": view.n_classes, "hidden": hidden,
           "dropout": dropout}
    stats: dict = {}
    for i, f in enumerate(rows.fold):                                       # train-only z-scoring per fold
        if f not in stats:
            xt = view.X[torch.as_tensor(sel["train"][i])]
            stats[f] = (xt.mean(0), xt.std(0) + 1e-6)
    mu = torch.stack([stats[f][0] for f in rows.fold]).to(dev)
    sd = torch.stack([stats[f][1] for f in rows.fold]).to(dev)
    strats = [None if s == "label-only" else STRATEGIES[s] for s in rows.strategy]  # rows: keep strategies contiguous
    width = AlignedDecoder(build(arch, **akw)).head.in_features
    loss = AlignmentLoss(strats, [0.0 if s is None else w for s, w in zip(strats, rows.weight)], targets, d=width)
    loss.recorder = recorder

    def make(m: int) -> nn.Module:
        vm = None if vmaps is None else vmaps[int(rows.fold[m])]
        return AlignedDecoder(build(arch, seed=init[m], **akw), vmap=vm, head_seed=init[m] + 500_000,
                              emit_jacobians=recorder is not None, emit_penalties=bool(params.any()))

    X, y = view.X.to(dev), torch.as_tensor(view.y, dtype=torch.long, device=dev)
    res = train_stacked(make, len(rows), X, y, sel["train"], sel["val"], [s + 7 for s in init], cfg, mu=mu, sd=sd,
                        loss_fn=loss, clip_index=torch.as_tensor(view.clips, device=dev))
    out = rows.copy()
    subject_ba: list = [None] * len(rows)
    for part in ("val", "test"):
        ba = np.zeros(len(rows))
        for f in rows.fold.unique():
            ms = np.flatnonzero(rows.fold.to_numpy() == f)
            ix_np = sel[part][ms[0]]
            xb = (X[torch.as_tensor(ix_np, device=dev)][None] - mu[ms][:, None]) / sd[ms][:, None]
            logits = stacked_apply(res.base, {k: v[ms] for k, v in res.params.items()},
                                   {k: v[ms] for k, v in res.buffers.items()}, xb)
            pred = logits.argmax(-1).cpu().numpy()
            yy, gg = view.y[ix_np], view.groups[ix_np]
            for j, m in enumerate(ms):
                ba[m] = balanced_accuracy(yy, pred[j], view.n_classes)
                if part == "test":
                    subject_ba[m] = [balanced_accuracy(yy[gg == pos[t]], pred[j][gg == pos[t]], view.n_classes)
                                     for t in by_id[f]["test"]]
        out[f"{part}_ba"] = ba
    out["best_epoch"] = res.best_epoch
    out["subject_ba"] = subject_ba
    return out, {"params": res.params, "buffers": res.buffers, "base": res.base, "mu": mu, "sd": sd, "d": width,
                 "train_loss": res.train_loss}


def fold_inputs(job, eeg) -> tuple[AlignmentTargets, list[dict], dict, dict]:
    """What a chapter 6 or 7 fold job starts from: the LLM targets its config holds, the cohort's manifest (the
    job's :class:`~vaxis.decoding.folds.FoldDesign`), the job's own fold and that fold's V-map (``{fold: vmap}``,
    fitted on the fold's training subjects only)."""
    targets = AlignmentTargets(np.asarray(job.targets["positions"], float),
                               np.asarray(job.targets["embeddings"], float))
    manifest = job.design.manifest(eeg.subject_ids)
    fold = next(f for f in manifest if f["fold"] == job.fold)
    return targets, manifest, fold, {job.fold: fold_vmaps(eeg, [fold], targets.positions)[0]}
