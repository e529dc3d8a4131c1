"""Chapter 6's run of the strategies: every strategy at every weight of its grid (:func:`train_alignment`), the weight
chosen per strategy and fold on validation subjects from the grid plus 0 (:func:`select_weights`), the reported
models (:func:`final_rows`) and their per-subject table (:func:`subject_table`). The training itself is the shared
:func:`vaxis.claims.common.conditions.train_conditions`."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from vaxis.claims.common.conditions import CONDITION_STACK, train_conditions
from vaxis.claims.common.strategies import STRATEGIES, AlignmentTargets
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.decoding.training_data import DataView, prepare

__all__ = ["select_weights", "final_rows", "subject_table", "train_alignment", "AlignmentRun"]


def select_weights(scores: pd.DataFrame, include_zero: bool = True) -> pd.DataFrame:
    """Per (strategy, fold): the weight with the highest validation BA averaged over **all** seeds.

    ``scores``: rows of :func:`train_conditions` with ``strategy``, ``weight``, ``seed``, ``fold``, ``val_ba``,
    including the ``"label-only"`` rows. ``include_zero``: the grid holds weight 0 (= the label-only model, whose
    validation BA competes with every strategy's weights); ties go to the smaller weight, so to 0 first.
    ``include_zero=False`` is forced supervision: the best *non-zero* weight.

    Returns
    -------
    DataFrame: ``strategy``, ``fold``, ``weight``, ``val_ba`` (the chosen weight's mean over seeds).
    """
    g = scores.groupby(["strategy", "fold", "weight"], as_index=False).val_ba.mean()
    base = g[g.strategy == "label-only"]
    g = g[g.strategy != "label-only"]
    if include_zero and len(g):
        zero = pd.concat([base.assign(strategy=n) for n in g.strategy.unique()], ignore_index=True)
        g = pd.concat([g, zero.assign(weight=0.0)], ignore_index=True)
    g = g.sort_values(["strategy", "fold", "val_ba", "weight"], ascending=[True, True, False, True], kind="mergesort")
    return g.groupby(["strategy", "fold"], as_index=False).first()


def final_rows(scores: pd.DataFrame, chosen: pd.DataFrame) -> pd.DataFrame:
    """The reported models: the label-only rows, and for every strategy x fold its rows at the chosen weight
    (every seed); a strategy whose chosen weight is 0 *is* the label-only model there (its rows are copied)."""
    base = scores[scores.strategy == "label-only"]
    parts = [base]
    for r in chosen.itertuples():
        if r.weight == 0:
            parts.append(base[base.fold == r.fold].assign(strategy=r.strategy, weight=0.0))
        else:
            keep = (scores.strategy == r.strategy) & (scores.fold == r.fold) & (scores.weight == r.weight)
            parts.append(scores[keep])
    return pd.concat(parts, ignore_index=True).sort_values(["strategy", "seed", "fold"], ignore_index=True)


def subject_table(final: pd.DataFrame, manifest: list[dict]) -> pd.DataFrame:
    """One row per final model x test subject: ``strategy``, ``weight``, ``seed``, ``fold``, ``repeat``,
    ``subject``, ``ba`` (the unit of the clustered paired test); a ``control`` column is kept."""
    by_id = {f["fold"]: f for f in manifest}
    extra = [c for c in ("control",) if c in final.columns]
    rows = [{**{c: getattr(r, c) for c in extra}, "strategy": r.strategy, "weight": r.weight, "seed": r.seed,
             "fold": r.fold, "repeat": int(by_id[r.fold].get("repeat", 0)), "subject": t, "ba": b}
            for r in final.itertuples() for t, b in zip(by_id[r.fold]["test"], r.subject_ba)]
    return pd.DataFrame(rows)


@dataclass
class AlignmentRun:
    """``final``: the reported models (label-only + every strategy at its chosen weight, every seed and fold);
    ``trained``: every model trained (every weight of the grid); ``chosen``: per strategy x fold weight (grid with
    0); ``forced``: the best non-zero weight per strategy x fold; ``manifest``; ``seconds``.

    The training settings, so that more models can be trained under exactly the same protocol
    (:func:`~vaxis.claims.alignment.controls.run_controls`): ``view``, ``arch``, ``hidden``, ``dropout``, ``cfg``,
    ``vmaps`` and ``device``.
    """

    final: pd.DataFrame
    trained: pd.DataFrame
    chosen: pd.DataFrame
    forced: pd.DataFrame
    manifest: list[dict]
    seconds: dict
    view: DataView | None = None
    arch: str = "mlp"
    hidden: int = 32
    dropout: float = 0.0
    cfg: StackConfig | None = None
    vmaps: Sequence[np.ndarray] | Mapping[int, np.ndarray] | None = None
    device: str = "auto"


def train_alignment(data, targets: AlignmentTargets, strategies: Sequence[str] | None = None, arch: str = "mlp",
                    seeds: Sequence[int] = (0, 1, 2), design: FoldDesign = FoldDesign(),
                    stack: StackConfig = CONDITION_STACK, hidden: int = 32, dropout: float = 0.0,
                    vmaps: Sequence[np.ndarray] | Mapping[int, np.ndarray] | None = None, weights: dict | None = None,
                    device: str = "auto", progress: bool = False, folds: Sequence[int] | None = None) -> AlignmentRun:
    """The label-only model and every strategy at every weight of its grid, every seed, one stacked pass; the
    weight chosen per strategy and fold on validation subjects from the grid plus 0 (:func:`select_weights`).

    Parameters
    ----------
    data : tuple
        ``(X, y, groups, clips)`` with X (n, n_chans, n_bands) clip-level features (:func:`clip_arrays` of the
        cohort after the input pipeline).
    strategies : names in :data:`vaxis.claims.common.strategies.STRATEGIES` (default all 25).
    seeds : every seed is trained at every weight; the weight is chosen on the mean validation BA over all seeds.
    design : the fold design (:class:`vaxis.decoding.folds.FoldDesign`; fold ids are global over its repeats).
    stack : the training settings (default :data:`vaxis.claims.common.conditions.CONDITION_STACK`).
    vmaps : per-fold (n_chans, n_bands) V-maps for the topographic strategies (:func:`fold_vmaps`), by fold id.
    weights : optional {strategy: non-zero grid} overriding ``default_weights``.
    folds : optional subset of the fold ids to train (default all); everything is fold-local (initial weights and
        batch order from ``(seed, fold)``, weight selection on that fold's validation subjects), so fold ``f`` of
        ``train_alignment(..., folds=[f])`` equals fold ``f`` of the full run: one fold can be one sweep job.
    """
    strategies = list(STRATEGIES) if strategies is None else list(strategies)   # [] = the label-only model only
    view = prepare(data, task="9class", input="window", normalisation="train-only")
    manifest = design.manifest(view.subject_ids)
    all_folds = [f["fold"] for f in manifest]
    if folds is not None and (not folds or not set(folds) <= set(all_folds)):
        raise ValueError(f"folds must be a non-empty subset of {all_folds}, got {folds!r}")
    folds = all_folds if folds is None else [f for f in all_folds if f in set(folds)]
    cfg = dataclasses.replace(stack, progress=progress)
    grid = {s: tuple(w for w in (weights or {}).get(s, STRATEGIES[s].default_weights) if w != 0) for s in strategies}
    rows = [("label-only", 0.0, s, f) for s in seeds for f in folds]
    rows += [(n, w, s, f) for n in strategies for w in grid[n] for s in seeds for f in folds]
    t0 = time.time()
    trained, _ = train_conditions(view, manifest, arch, pd.DataFrame(rows, columns=["strategy", "weight", "seed",
                                                                                      "fold"]),
                                  targets, vmaps, cfg, hidden, device, dropout=dropout)
    chosen, forced = select_weights(trained), select_weights(trained, include_zero=False)
    return AlignmentRun(final_rows(trained, chosen), trained, chosen, forced, manifest,
                        {"train": time.time() - t0, "n_models": len(rows)}, view=view, arch=arch, hidden=hidden,
                        dropout=dropout, cfg=cfg, vmaps=vmaps, device=device)
