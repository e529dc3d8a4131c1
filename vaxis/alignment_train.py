"""Train the alignment strategies under one protocol: the adapter, stacked training, weight selection.

Every strategy x weight x seed x fold is one model of one :func:`vaxis.stacking.train_stacked` pass (same
architecture, same data, same per-(seed, fold) initial weights and batch order as the label-only model, same
epochs, same early stopping on validation cross-entropy). The loss weight of each strategy is chosen per fold
on that fold's *validation* subjects (carved from its training subjects): highest validation balanced
accuracy over the selection seeds, ties to the smaller weight. The test subjects choose nothing.

The distillation controls (geometry shuffled / uniform) live in :mod:`vaxis.alignment_controls`.

Samples are clip-level DE (mean over a clip's one-second windows: (n_chans, n_bands) per subject x clip),
so 25 strategies x 3 seeds x 10 folds train on 2 CPU cores within the book's budget.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from torch import nn

from vaxis.alignment import N_HEAD, N_PEN, STRATEGIES, AlignmentLoss, AlignmentTargets
from vaxis.decoders import build
from vaxis.stacking import StackConfig, resolve_device, stacked_apply, train_stacked
from vaxis.training import DataView, balanced_accuracy, make_manifest, prepare

__all__ = ["AlignedDecoder", "input_weights", "electrode_laplacian", "clip_arrays", "fold_vmaps",
           "train_conditions", "select_weights", "run_alignment", "AlignmentRun", "compare", "fold_job",
           "collect_fold_jobs"]


def electrode_laplacian(n_chans: int, radius: float = 2.3) -> np.ndarray:
    """Normalised graph Laplacian of electrode neighbours, shape (n_chans, n_chans).

    FACED's 30 channels: neighbours are electrodes within ``radius`` cells on the 9 x 9 scalp grid of
    :data:`vaxis.decoders.FACED_GRID`; any other count: a chain (channel i next to i +- 1).
    """
    from vaxis.decoders import FACED_CHANNELS, FACED_GRID

    if n_chans == len(FACED_CHANNELS):
        xy = np.array([FACED_GRID[c] for c in FACED_CHANNELS], dtype=float)
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
                 emit_jacobians: bool = False):
        super().__init__()
        self.m, self.emit_jacobians = decoder, emit_jacobians
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
        """(smooth, vmap, band, channel) penalties of the input-layer weights, shape (4,)."""
        if not self.has_flat_input:
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
            parts.append(torch.cat([self.logit_jacobian().flatten(), self.head.weight.flatten()]).expand(r.shape[0], -1))
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
    from vaxis.projection import clip_features, fit_full_map

    feats = clip_features(eeg.x, normalisation="per-subject")
    pos = {s: i for i, s in enumerate(eeg.subject_ids)}
    C, B = eeg.x.shape[2], eeg.x.shape[4]
    return [fit_full_map(feats[[pos[s] for s in f["train"]]], eeg.labels, positions, n_folds=5)["weights"]
            .reshape(C, B) for f in manifest]


def train_conditions(view, manifest: list[dict], arch: str, conditions: pd.DataFrame, targets: AlignmentTargets,
                     vmaps: Sequence[np.ndarray | None] | None, cfg: StackConfig, hidden: int = 32,
                     device: str = "auto", recorder=None) -> tuple[pd.DataFrame, dict]:
    """Train one model per row of ``conditions`` (``strategy`` (name or "label-only"), ``weight``, ``seed``,
    ``fold``) in one stacked pass; return the rows with ``val_ba``, ``test_ba``, ``best_epoch`` added, and
    the trained state (``params``, ``buffers``, ``base``, ``mu``, ``sd``, ``d``). ``recorder``: an
    ``AlignmentLoss.recorder`` (e.g. :class:`vaxis.saturation.GradientRecorder`); the models then also emit
    their head Jacobians so the recorder can follow gradients through the logits and the learned head."""
    dev = resolve_device(device)
    pos = {s: i for i, s in enumerate(view.subject_ids)}
    rows = conditions.reset_index(drop=True)
    sel = {p: [np.flatnonzero(np.isin(view.groups, [pos[s] for s in manifest[f][p]])) for f in rows.fold]
           for p in ("train", "val", "test")}
    init = [int(s) * 1000 + int(f) for s, f in zip(rows.seed, rows.fold)]
    akw = {"n_chans": view.X.shape[-2], "n_bands": view.X.shape[-1], "n_classes": view.n_classes, "hidden": hidden}
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
                              emit_jacobians=recorder is not None)

    X, y = view.X.to(dev), torch.as_tensor(view.y, dtype=torch.long, device=dev)
    res = train_stacked(make, len(rows), X, y, sel["train"], sel["val"], [s + 7 for s in init], cfg, mu=mu, sd=sd,
                        loss_fn=loss, clip_index=torch.as_tensor(view.clips, device=dev))
    out = rows.copy()
    for part in ("val", "test"):
        ba = np.zeros(len(rows))
        for f in rows.fold.unique():
            ms = np.flatnonzero(rows.fold.to_numpy() == f)
            ix = torch.as_tensor(sel[part][ms[0]], device=dev)
            xb = (X[ix][None] - mu[ms][:, None]) / sd[ms][:, None]
            logits = stacked_apply(res.base, {k: v[ms] for k, v in res.params.items()},
                                   {k: v[ms] for k, v in res.buffers.items()}, xb)
            pred = logits.argmax(-1).cpu().numpy()
            for j, m in enumerate(ms):
                ba[m] = balanced_accuracy(view.y[sel[part][m]], pred[j], view.n_classes)
        out[f"{part}_ba"] = ba
    out["best_epoch"] = res.best_epoch
    return out, {"params": res.params, "buffers": res.buffers, "base": res.base, "mu": mu, "sd": sd, "d": width,
                 "train_loss": res.train_loss}


def select_weights(scores: pd.DataFrame) -> pd.DataFrame:
    """Per (strategy, fold): the weight with the highest mean validation BA (ties -> smaller weight)."""
    g = scores.groupby(["strategy", "fold", "weight"], as_index=False).val_ba.mean()
    g = g.sort_values(["strategy", "fold", "val_ba", "weight"], ascending=[True, True, False, True])
    return g.groupby(["strategy", "fold"], as_index=False).first()


@dataclass
class AlignmentRun:
    """``final``: one row per strategy (incl. "label-only") x seed x fold with the chosen weight and test BA;
    ``stage1``: every weight's validation / test BA on the selection seeds; ``chosen``: per strategy x fold
    weight; ``manifest``; ``seconds`` per stage.

    The training settings, so that more models can be trained under exactly the same protocol
    (:func:`~vaxis.alignment_controls.run_controls`): ``view`` (the prepared :class:`~vaxis.training.DataView`), ``arch``, ``hidden``,
    ``cfg`` (:class:`~vaxis.stacking.StackConfig`), ``vmaps`` (per-fold V-maps or None) and ``device``.
    """

    final: pd.DataFrame
    stage1: pd.DataFrame
    chosen: pd.DataFrame
    manifest: list[dict]
    seconds: dict
    view: DataView | None = None
    arch: str = "mlp"
    hidden: int = 32
    cfg: StackConfig | None = None
    vmaps: Sequence[np.ndarray] | None = None
    device: str = "auto"


def run_alignment(data, targets: AlignmentTargets, strategies: Sequence[str] | None = None, arch: str = "mlp",
                  seeds: Sequence[int] = (0, 1, 2), select_seeds: Sequence[int] = (0,), k: int = 10,
                  epochs: int = 30, patience: int = 5, batch_size: int = 128, lr: float = 1e-3, hidden: int = 32,
                  vmaps: Sequence[np.ndarray] | Mapping[int, np.ndarray] | None = None, weights: dict | None = None,
                  device: str = "auto", progress: bool = False, folds: Sequence[int] | None = None,
                  protocol: str = "kfold", splits: dict | None = None) -> AlignmentRun:
    """Label-only baseline and every strategy, weight chosen per fold on validation subjects.

    Parameters
    ----------
    data : tuple
        ``(X, y, groups, clips)`` with X (n, n_chans, n_bands) clip-level DE (see :func:`clip_arrays`).
    strategies : names in :data:`vaxis.alignment.STRATEGIES` (default all 25).
    seeds, select_seeds : all seeds reported; the seeds whose validation BA chooses the weight (trained for
        every grid weight; the other seeds only at the chosen weight).
    vmaps : per-fold (n_chans, n_bands) V-maps for the topographic strategies (:func:`fold_vmaps`).
    weights : optional {strategy: grid} overriding ``default_weights``.
    folds : optional subset of the ``k`` fold ids to train (default all). Everything is fold-local (initial
        weights and batch order from ``(seed, fold)``, weight selection on that fold's validation subjects),
        so fold ``f`` of ``run_alignment(..., folds=[f])`` equals fold ``f`` of the full run (within float
        tolerance of the batched arithmetic): one fold can be one sweep job (:func:`fold_job`). ``vmaps``
        is indexed by fold id (a dict holding these folds is enough); ``manifest`` stays the full one.
    protocol, splits : ``"kfold"`` (``k`` subject-disjoint folds) or ``"fixed"`` (one fold from ``splits``
        ``{"train", "val", "test"}`` subject lists); see :func:`vaxis.training.make_manifest`.
    """
    strategies = list(strategies or STRATEGIES)
    view = prepare(data, task="9class", input="window", normalisation="train-only")
    manifest = make_manifest(view.subject_ids, protocol, k=k, val_fraction=0.1, splits=splits)
    all_folds = [f["fold"] for f in manifest]
    if folds is not None and (not folds or not set(folds) <= set(all_folds)):
        raise ValueError(f"folds must be a non-empty subset of {all_folds}, got {folds!r}")
    folds = all_folds if folds is None else [f for f in all_folds if f in set(folds)]
    cfg = StackConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, progress=progress)
    grid = {s: tuple((weights or {}).get(s, STRATEGIES[s].default_weights)) for s in strategies}
    rows = [("label-only", 0.0, s, f) for s in select_seeds for f in folds]
    rows += [(n, w, s, f) for n in strategies for w in grid[n] for s in select_seeds for f in folds]
    t0 = time.time()
    stage1, _ = train_conditions(view, manifest, arch, pd.DataFrame(rows, columns=["strategy", "weight", "seed", "fold"]),
                                 targets, vmaps, cfg, hidden, device)
    t1 = time.time()
    chosen = select_weights(stage1[stage1.strategy != "label-only"])
    rest = [s for s in seeds if s not in select_seeds]
    rows2 = [("label-only", 0.0, s, f) for s in rest for f in folds]
    rows2 += [(r.strategy, r.weight, s, r.fold) for r in chosen.itertuples() for s in rest]
    stage2 = train_conditions(view, manifest, arch, pd.DataFrame(rows2, columns=["strategy", "weight", "seed", "fold"]),
                              targets, vmaps, cfg, hidden, device)[0] if rows2 else stage1.iloc[:0]
    t2 = time.time()
    keep = stage1.merge(pd.concat([chosen[["strategy", "fold", "weight"]],
                                   pd.DataFrame({"strategy": "label-only", "fold": folds, "weight": 0.0})]),
                        on=["strategy", "fold", "weight"])
    final = pd.concat([keep, stage2], ignore_index=True).sort_values(["strategy", "seed", "fold"])
    return AlignmentRun(final.reset_index(drop=True), stage1, chosen, manifest,
                        {"stage1": t1 - t0, "stage2": t2 - t1, "n_models": len(rows) + len(rows2)},
                        view=view, arch=arch, hidden=hidden, cfg=cfg, vmaps=vmaps, device=device)


def compare(final: pd.DataFrame, alpha: float = 0.05, seed: int = 0) -> pd.DataFrame:
    """Each strategy vs the label-only model, paired over fold x seed.

    Returns one row per strategy: ``family``, ``n`` pairs, mean ``diff`` (strategy - label-only test BA) with
    a bootstrap CI, Wilcoxon signed-rank ``p``, Holm-adjusted ``p_holm`` across the strategies and ``outcome``
    (``improved`` / ``no significant change`` / ``reduced`` at ``alpha`` after Holm).
    """
    from vaxis.stats import holm, paired_test

    base = final[final.strategy == "label-only"].set_index(["seed", "fold"]).test_ba
    rows = []
    for name, g in final[final.strategy != "label-only"].groupby("strategy", sort=False):
        g = g.set_index(["seed", "fold"]).test_ba
        b = base.loc[g.index]
        res = paired_test(g.to_numpy(), b.to_numpy(), seed=seed)
        rows.append({"strategy": name, "family": STRATEGIES[name].family, "ba": float(g.mean()),
                     "baseline_ba": float(b.mean()), **res})
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out.p.to_numpy())
    sig = out.p_holm < alpha
    out["outcome"] = np.where(sig & (out["diff"] > 0), "improved",
                              np.where(sig & (out["diff"] < 0), "reduced", "no significant change"))
    order = {f: i for i, f in enumerate(["distillation", "similarity", "contrastive", "direct", "topographic"])}
    return out.sort_values(["family", "strategy"], key=lambda c: c.map(order) if c.name == "family" else c,
                           ignore_index=True)


def fold_job(config: dict) -> dict:
    """Chapter 6's whole pipeline for one fold: a sweep job (``"vaxis.alignment_train:fold_job"``).

    Stage 1 (every strategy x weight, selection seeds), weight choice on the fold's validation subjects,
    stage 2 (the other seeds at the chosen weight) and the distillation controls, all for fold
    ``config["fold"]`` only: equal to that fold of :func:`run_alignment` + :func:`~vaxis.alignment_controls.run_controls` over all folds
    (everything there is fold-local; exact as long as no validation set exceeds ``StackConfig.max_val``
    samples, which clip-level FACED folds never do).

    Parameters
    ----------
    config : dict
        ``data_dir`` (a FACED folder every worker can read), ``cache_dir``, optional ``data_key``
        (:func:`vaxis.sweep.data_fingerprint` of ``eeg.x`` and the subject ids, checked), ``fold``, ``k``,
        optional ``protocol`` / ``splits`` (:func:`vaxis.training.make_manifest`),
        ``strategies``, ``arch``, ``seeds``, ``select_seeds``, ``epochs``, ``patience``, ``batch_size``, ``lr``,
        ``hidden``, ``device``, ``targets`` (``{"positions": (9,), "embeddings": (9, d_llm)}`` as lists: the LLM's
        :class:`~vaxis.alignment.AlignmentTargets`), ``controls`` (e.g. ``["shuffled", "uniform"]``; [] for
        none), ``control_seed``. The fold's V-map (:func:`fold_vmaps`) is fitted here.

    Returns
    -------
    dict
        ``final``, ``stage1``, ``chosen``, ``controls``: row lists of the run's tables for this fold (with
        ``<name>_columns``); ``fold_manifest``; ``stage_seconds`` per stage (``stage1``, ``stage2``, ``n_models``,
        ``controls`` {control: s}); ``n_control_models`` {control: n}.
    """
    from vaxis.eeg.datasets import load_faced
    from vaxis.sweep import check_data_key

    eeg = load_faced(config["data_dir"], kind="de", cache_dir=config.get("cache_dir"))
    check_data_key(config, eeg.x, np.asarray(eeg.subject_ids))
    f, k = int(config["fold"]), int(config["k"])
    targets = AlignmentTargets(np.asarray(config["targets"]["positions"], float),
                               np.asarray(config["targets"]["embeddings"], float))
    protocol, splits = config.get("protocol", "kfold"), config.get("splits")
    manifest = make_manifest(eeg.subject_ids, protocol, k=k, val_fraction=0.1, splits=splits)
    vmaps = {f: fold_vmaps(eeg, [manifest[f]], targets.positions)[0]}
    strategies = list(config["strategies"])
    seeds = [int(s) for s in config["seeds"]]
    run = run_alignment(clip_arrays(eeg), targets, strategies=strategies, arch=config.get("arch", "mlp"),
                        seeds=seeds, select_seeds=[int(s) for s in config.get("select_seeds", seeds[:1])], k=k,
                        epochs=int(config["epochs"]), patience=int(config["patience"]),
                        batch_size=int(config["batch_size"]), lr=float(config["lr"]),
                        hidden=int(config.get("hidden", 32)), vmaps=vmaps, device=config.get("device", "auto"),
                        folds=[f], protocol=protocol, splits=splits)
    from vaxis.alignment_controls import CONTROL_FAMILY, run_controls

    kd = [n for n in strategies if STRATEGIES[n].family == CONTROL_FAMILY]
    ctrl = run_controls(run, targets, controls=tuple(config.get("controls", ())), strategies=kd,
                        control_seed=int(config.get("control_seed", 0)))
    out = {"fold_manifest": run.manifest[f],   # (not "seconds": the store's record has its own)
           "stage_seconds": {**run.seconds, "controls": ctrl.attrs.get("seconds", {})},
           "n_control_models": ctrl.attrs.get("n_models", {})}
    for name, tab in (("final", run.final), ("stage1", run.stage1), ("chosen", run.chosen), ("controls", ctrl)):
        out[name], out[f"{name}_columns"] = tab.to_dict(orient="records"), list(tab.columns)
    return out


def collect_fold_jobs(jobs: pd.DataFrame, controls: Sequence[str] = ("shuffled", "uniform")
                      ) -> tuple[AlignmentRun, pd.DataFrame]:
    """Reassemble :func:`fold_job` results (one row per fold, e.g. :func:`vaxis.sweep.checked_table`).

    Returns
    -------
    run : AlignmentRun
        ``final``, ``stage1``, ``chosen`` over every fold, in the row order of :func:`run_alignment` (``final``
        by strategy, seed, fold; ``chosen`` by strategy, fold; ``stage1`` by strategy, weight, seed, fold),
        ``manifest`` (the jobs' folds), ``seconds`` summed over the jobs (training time, also for jobs
        found in the store); ``view`` is None.
    controls : DataFrame
        As :func:`~vaxis.alignment_controls.run_controls` (by control in ``controls`` order, then strategy, seed, fold); ``attrs``
        ``seconds`` and ``n_models`` per control, summed over the jobs.
    """
    from vaxis.ensemble import frame_from_jobs

    jobs = jobs.sort_values("fold")
    tabs = {n: frame_from_jobs(jobs, n) for n in ("final", "stage1", "chosen", "controls")}
    final = tabs["final"].sort_values(["strategy", "seed", "fold"], ignore_index=True)
    chosen = tabs["chosen"].sort_values(["strategy", "fold"], ignore_index=True)
    stage1 = tabs["stage1"].sort_values(["strategy", "weight", "seed", "fold"], ignore_index=True)
    ctrl = tabs["controls"]
    if len(ctrl):
        order = {c: i for i, c in enumerate(controls)}
        ctrl = ctrl.sort_values(["control", "strategy", "seed", "fold"], key=lambda c: c.map(order)
                                if c.name == "control" else c, ignore_index=True)
    secs = list(jobs.stage_seconds)
    seconds = {key: float(sum(s[key] for s in secs)) for key in ("stage1", "stage2")}
    seconds["n_models"] = int(sum(s["n_models"] for s in secs))
    ctrl.attrs = {"seconds": {c: float(sum(s["controls"].get(c, 0.0) for s in secs)) for c in controls},
                  "n_models": {c: int(sum(n.get(c, 0) for n in jobs.n_control_models)) for c in controls}}
    return AlignmentRun(final, stage1, chosen, list(jobs.fold_manifest), seconds), ctrl
