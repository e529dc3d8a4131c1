"""Subject-disjoint (and cross-stimulus) evaluation of EEG decoders: :func:`evaluate` and :class:`EvalRun`.

The fold design (folds, manifests, clip folds, leakage checks) lives in :mod:`vaxis.decoding.folds`.

The metrics (balanced accuracy, macro-F1, clip level) are in :mod:`vaxis.decoding.metrics`, re-exported here.

The heavy lifting (many models trained at once) is in :mod:`vaxis.decoding.stacking`; this module decides
*what* each stacked model sees. Everything takes plain arrays ``(X, y, groups[, clips])`` or any object
with the :class:`vaxis.eeg.datasets.EEGData` attributes (``x``, ``labels``, ``subject_ids``, ``clip_ids``),
so it never depends on a loader's internals. Labels are the 9 FACED category ids (0..8, neutral = 4).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from vaxis.decoding.decoders import DECODERS, build
from vaxis.decoding.folds import _check_disjoint, clip_labels, fold_indices, make_manifest
from vaxis.decoding.metrics import metrics, subject_metrics
from vaxis.decoding.stacking import StackConfig, resolve_device, subsample_indices, train_stacked
from vaxis.decoding.training_data import DataView, prepare

__all__ = ["evaluate", "EvalRun", "NEUTRAL"]

NEUTRAL = 4

@dataclass
class EvalRun:
    """Trained models of one :func:`evaluate` call, indexed by (seed, fold), plus what produced them.

    ``params`` / ``buffers``: stacked CPU tensors (M, ...); ``index``: DataFrame (model, seed, fold, init_seed);
    ``mu`` / ``sd``: per-model normalisation (M, *feat) or None; ``view``: the prepared data;
    ``subject_scores``: one row per seed x fold x test subject (``seed``, ``fold``, ``subject``,
    ``balanced_accuracy``, ``accuracy``, ``n`` windows): the unit of the clustered paired tests.
    """

    arch: str
    arch_kwargs: dict
    params: dict
    buffers: dict
    index: pd.DataFrame
    manifest: list[dict]
    view: DataView
    mu: torch.Tensor | None
    sd: torch.Tensor | None
    history: dict
    normalisation: str
    task: str
    subject_scores: pd.DataFrame | None = None

    def _m(self, seed: int, fold: int) -> int:
        row = self.index[(self.index.seed == seed) & (self.index.fold == fold)]
        if row.empty:
            raise KeyError(f"no model for seed={seed}, fold={fold}")
        return int(row.model.iloc[0])

    def model(self, seed: int, fold: int, untrained: bool = False) -> torch.nn.Module:
        """Model (seed, fold) with its trained weights, or its untrained initialisation (eval mode)."""
        m = self._m(seed, fold)
        init = int(self.index.init_seed.iloc[m])
        mod = build(self.arch, seed=init, **self.arch_kwargs)
        if not untrained:
            mod.load_state_dict({k: v[m] for k, v in {**self.params, **self.buffers}.items()})
        return mod.eval()

    def normalise(self, seed: int, fold: int, x: torch.Tensor) -> torch.Tensor:
        """Apply model (seed, fold)'s normalisation (``train-only`` stats; others are pre-applied in ``view``)."""
        if self.mu is None:
            return x
        m = self._m(seed, fold)
        return (x - self.mu[m]) / self.sd[m]

    def unit_representations(self, seed: int, fold: int, untrained: bool = False, every: int = 1,
                             batch: int = 8192) -> dict[str, np.ndarray]:
        """Mean penultimate representation of every subject x clip unit under model (seed, fold).

        ``every`` keeps one window in ``every`` (per clip) to save time. Returns ``rep`` (n_units, d) and
        per unit ``subject`` (int index into ``view.subject_ids``), ``clip``, ``category`` (9-class id).
        """
        v = self.view
        keep = np.flatnonzero(v.window_pos % every == 0) if every > 1 else np.arange(len(v.y))
        mod = self.model(seed, fold, untrained=untrained)
        reps = []
        with torch.no_grad():
            for s in range(0, len(keep), batch):
                xb = v.X[torch.as_tensor(keep[s:s + batch])]
                reps.append(mod.represent(self.normalise(seed, fold, xb)).numpy())
        rep = np.concatenate(reps)
        uniq, first, inv = np.unique(v.units[keep], return_index=True, return_inverse=True)
        out = np.zeros((len(uniq), rep.shape[1]))
        np.add.at(out, inv, rep)
        out /= np.bincount(inv)[:, None]
        k = keep[first]
        return {"rep": out, "subject": v.groups[k], "clip": v.clips[k], "category": v.category[k]}


def evaluate(arch: str, data_or_arrays, protocol: str = "kfold", task: str = "9class",
             seeds: Sequence[int] = (0, 1, 2), normalisation: str = "train-only", epochs: int = 30,
             quick: bool = False, loss_fn: Callable | None = None, *, k: int = 10, fold_seed: int = 0,
             shuffle_folds: bool = False, splits: dict | None = None, val_fraction: float = 0.1,
             batch_size: int = 256, lr: float = 1e-3, weight_decay: float = 0.0, patience: int = 5,
             steps_per_epoch: int | None = None, hidden: int = 64, arch_kwargs: dict | None = None,
             device: str = "auto", progress: bool = True, threads: int | None = None,
             max_val: int | None = 2048, folds: Sequence[int] | None = None,
             manifest: list[dict] | None = None, repeats: int = 1,
             stimulus: str = "seen") -> tuple[pd.DataFrame, EvalRun]:
    """Train ``arch`` for every seed x fold at once and score it on each fold's held-out subjects.

    Parameters
    ----------
    arch : str
        A DE key of :data:`vaxis.decoding.decoders.DECODERS` (its ``input`` decides window or clip samples).
    data_or_arrays : EEGData-like or tuple
        ``EEGData`` (``x`` (n_subjects, n_clips, n_chans, n_windows, n_bands), ``labels``, ``subject_ids``,
        ``clip_ids``) or ``(X, y, groups[, clips])`` with ``X`` (n, n_chans, n_bands) windows or
        (n, n_windows, n_chans, n_bands) clip sequences, ``y`` 9-class ids, ``groups`` subject ids.
    protocol, task, normalisation : str
        ``"kfold"`` | ``"fixed"``; ``"9class"`` | ``"binary"``; ``"train-only"`` | ``"per-subject"`` | ``"none"``.
    seeds : sequence of int
        One model per seed and fold (initial weights and batch order derive from both).
    quick : bool
        Tiny settings for tests: 3 epochs, 20 steps per epoch, 3 folds.
    loss_fn : callable, optional
        Extra loss term added to the cross-entropy; see :func:`vaxis.decoding.stacking.train_stacked`.
    threads : int, optional
        torch CPU threads for this call (restored afterwards); 1 is fastest on a busy shared machine.
    max_val : int, optional
        Validation windows per model for early stopping (a fixed seeded subsample of its validation subjects).
    folds : sequence of int, optional
        Train only these folds (``fold`` numbers of the manifest; default all). Every seed and random draw is
        the one of the full seeds x folds stack: the validation subsamples are drawn for every model of the
        full stack, in its order, then only the kept folds' models are trained. So fold ``f`` of
        ``evaluate(..., folds=[f])`` equals fold ``f`` of the full call (within float tolerance of the batched
        arithmetic) and one fold can be one sweep job (:func:`vaxis.claims.common.probes.fold_job`). ``df`` and ``run``
        hold the kept folds only; ``run.manifest`` stays the full one.
    manifest : list of dict, optional
        Explicit folds (``fold``, ``train``, ``val``, ``test`` subject ids, e.g. one repeat of
        :func:`make_manifest`); overrides ``protocol``, ``k``, ``fold_seed``, ``splits`` and ``repeats``.
    repeats : int
        CV repeats (:func:`make_manifest`).
    stimulus : str
        ``"seen"`` (cross-subject) or ``"unseen"`` (cross-stimulus: held-out subjects x held-out clips,
        :func:`make_manifest`). A given ``manifest`` whose folds carry ``test_clips`` is cross-stimulus whatever
        this says.

    Returns
    -------
    df : DataFrame
        One row per seed x fold x level (``window`` / ``clip``): ``balanced_accuracy``, ``accuracy``,
        ``macro_f1``, ``n``, ``best_epoch``, plus the settings.
    run : EvalRun
        Trained weights, manifest and representation accessors.
    """
    old_threads = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        return _evaluate(arch, data_or_arrays, protocol, task, seeds, normalisation, epochs, quick, loss_fn, k,
                         fold_seed, shuffle_folds, splits, val_fraction, batch_size, lr, weight_decay, patience,
                         steps_per_epoch, hidden, arch_kwargs, device, progress, max_val, folds, manifest, repeats,
                         stimulus)
    finally:
        torch.set_num_threads(old_threads)


def _evaluate(arch, data_or_arrays, protocol, task, seeds, normalisation, epochs, quick, loss_fn, k, fold_seed,
              shuffle_folds, splits, val_fraction, batch_size, lr, weight_decay, patience, steps_per_epoch, hidden,
              arch_kwargs, device, progress, max_val, folds, manifest=None, repeats=1, stimulus="seen"):
    if DECODERS[arch].input == "raw":
        raise ValueError(f"{arch!r} is a raw-signal decoder; evaluate() trains DE decoders")
    if quick:
        epochs, steps_per_epoch, k = min(epochs, 3), min(steps_per_epoch or 20, 20), min(k, 3)
    dev = resolve_device(device)
    view = prepare(data_or_arrays, task=task, input=DECODERS[arch].input, normalisation=normalisation)
    if manifest is None:
        labels, cids = clip_labels(view) if stimulus == "unseen" else (None, None)
        manifest = make_manifest(view.subject_ids, protocol, k=k, seed=fold_seed, shuffle=shuffle_folds,
                                 val_fraction=val_fraction, splits=splits, repeats=repeats, stimulus=stimulus,
                                 labels=labels, clip_ids=cids)
    else:
        manifest = [dict(f) for f in manifest]
        _check_disjoint(manifest, np.array(view.subject_ids))
    by_id = {f["fold"]: f for f in manifest}
    all_folds = [f["fold"] for f in manifest]
    keep = set(all_folds) if folds is None else {int(f) for f in folds}
    if not keep or not keep <= set(all_folds):
        raise ValueError(f"folds must be a non-empty subset of the manifest's folds {all_folds}, got {folds!r}")
    pos = {s: i for i, s in enumerate(view.subject_ids)}
    rows = [(s, f["fold"]) for s in seeds for f in manifest]
    parts = {f: fold_indices(by_id[f], view.groups, view.clips, pos) for f in all_folds}
    sel = {p: [parts[f][p] for _, f in rows] for p in ("train", "val", "test")}
    has_val = all(len(v) for v in sel["val"])
    if has_val:   # the full stack's validation subsample (train_stacked draws it for the first model's batch seed)
        sel["val"] = subsample_indices(sel["val"], max_val, int(rows[0][0]) * 1000 + int(rows[0][1]) + 7)
    on = [m for m, (_, f) in enumerate(rows) if f in keep]
    rows, sel = [rows[m] for m in on], {p: [v[m] for m in on] for p, v in sel.items()}
    M = len(rows)
    init_seeds = [int(s) * 1000 + int(f) for s, f in rows]
    feat_axes = tuple(range(view.X.dim() - 2))                          # sample (and window) axes
    mu = sd = None
    if normalisation == "train-only":
        stats = [(view.X[torch.as_tensor(ix)].mean(feat_axes), view.X[torch.as_tensor(ix)].std(feat_axes) + 1e-6)
                 for ix in sel["train"]]
        mu, sd = torch.stack([s[0] for s in stats]).to(dev), torch.stack([s[1] for s in stats]).to(dev)
    akw = {"n_chans": view.X.shape[-2], "n_bands": view.X.shape[-1], "n_classes": view.n_classes,
           "hidden": hidden, **(arch_kwargs or {})}
    cfg = StackConfig(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay, patience=patience,
                      steps_per_epoch=steps_per_epoch, max_val=max_val, progress=progress, desc=f"{arch} x{M}")
    X, y = view.X.to(dev), torch.as_tensor(view.y, dtype=torch.long, device=dev)
    clip_t = torch.as_tensor(view.clips, device=dev)
    res = train_stacked(lambda m: build(arch, seed=init_seeds[m], **akw), M, X, y, sel["train"],
                        sel["val"] if has_val else None, [s + 7 for s in init_seeds], cfg, mu=mu, sd=sd,
                        loss_fn=loss_fn, clip_index=clip_t)
    index = pd.DataFrame({"model": range(M), "seed": [r[0] for r in rows], "fold": [r[1] for r in rows],
                          "init_seed": init_seeds})
    run = EvalRun(arch, akw, {k_: v.cpu() for k_, v in res.params.items()},
                  {k_: v.cpu() for k_, v in res.buffers.items()}, index, manifest, view,
                  None if mu is None else mu.cpu(), None if sd is None else sd.cpu(),
                  {"train_loss": res.train_loss, "val_loss": res.val_loss, "best_epoch": res.best_epoch},
                  normalisation, task)
    out, subj_rows = [], []
    for m, (s, f) in enumerate(rows):
        ix = sel["test"][m]
        mod = run.model(s, f)
        with torch.no_grad():
            logp = torch.cat([torch.log_softmax(mod(run.normalise(s, f, view.X[torch.as_tensor(ix[a:a + 8192])])), -1)
                              for a in range(0, len(ix), 8192)]).numpy()
        met = metrics(view.y[ix], logp, view.units[ix])
        for level, d in met.items():
            out.append({"arch": arch, "seed": s, "fold": f, "repeat": int(by_id[f].get("repeat", 0)), "level": level,
                        **d, "best_epoch": int(res.best_epoch[m]), "task": task, "normalisation": normalisation,
                        "protocol": protocol, "stimulus": "unseen" if "test_clips" in by_id[f] else "seen",
                        "n_test_subjects": len(by_id[f]["test"])})
        subj_rows += [{"seed": s, "fold": f, **r} for r in subject_metrics(view.y[ix], logp.argmax(1),
                                                                           view.groups[ix], view.subject_ids,
                                                                           view.n_classes)]
    run.subject_scores = pd.DataFrame(subj_rows)
    return pd.DataFrame(out), run


