"""Is a distillation gain the LLM's geometry, or label smoothing? Controls for chapter 6.

Distillation soft targets spread probability mass off the true class whatever the 9 x 9 geometry, so
:func:`run_controls` retrains the distillation strategies of an :class:`~vaxis.alignment_train.AlignmentRun` at
their chosen weights with the geometry shuffled across categories and made uniform (label smoothing), paired
model for model, and :func:`compare_controls` tests real geometry vs control.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from vaxis.alignment import STRATEGIES, AlignmentTargets
from vaxis.alignment_train import AlignmentRun, train_conditions

__all__ = ["CONTROL_FAMILY", "run_controls", "compare_controls"]

CONTROL_FAMILY = "distillation"              # the family whose soft targets are also label smoothing


def run_controls(run: AlignmentRun, targets: AlignmentTargets,
                 controls: Sequence[str] | Mapping[str, AlignmentTargets] = ("shuffled", "uniform"),
                 strategies: Sequence[str] | None = None, control_seed: int = 0, data=None,
                 device: str | None = None) -> pd.DataFrame:
    """Retrain the distillation strategies of ``run`` with control targets: is a gain the LLM's geometry,
    or the label smoothing that any soft targets bring?

    Every (strategy, weight, seed, fold) row of ``run.final`` of the distillation family is trained again,
    once per control, with the control's targets instead of ``targets``: the same weight (the one chosen
    for that strategy and fold on validation subjects in ``run``; nothing is re-chosen), architecture,
    per-(seed, fold) initial weights, batch order, epochs and early stopping (the rows go through
    :func:`train_conditions` unchanged), so each control model pairs exactly with one real-geometry model.
    One stacked pass per control.

    Parameters
    ----------
    run : AlignmentRun
        From :func:`run_alignment` (its ``view``, ``arch``, ``hidden``, ``cfg``, ``vmaps`` are reused).
    targets : AlignmentTargets
        The real targets the run was trained with.
    controls : names or {name: AlignmentTargets}
        ``"shuffled"`` (``targets.shuffled(control_seed)``: the LLM's rows dealt to the wrong categories by one
        derangement) and/or ``"uniform"`` (``targets.uniform()``: every category equally far, i.e. label
        smoothing); a mapping gives the control targets directly.
    strategies : distillation strategies to control (default: every one in ``run.final``).
    data : optional ``(X, y, groups, clips)`` or DataView when ``run.view`` is None (prepared as in
        :func:`run_alignment`).
    device : default ``run.device``.

    Returns
    -------
    DataFrame
        One row per control x strategy x seed x fold: ``control``, ``strategy``, ``weight``, ``seed``,
        ``fold``, ``val_ba``, ``test_ba``, ``best_epoch``. ``attrs``: ``seconds`` and ``n_models`` per control.
    """
    view = run.view if data is None else data if isinstance(data, DataView) else \
        prepare(data, task="9class", input="window", normalisation="train-only")
    if view is None:
        raise ValueError("run has no view: pass data")
    fam = run.final[run.final.strategy.map(lambda n: n in STRATEGIES and STRATEGIES[n].family == CONTROL_FAMILY)]
    if strategies is not None:
        bad = [n for n in strategies if n not in set(fam.strategy)]
        if bad:
            raise ValueError(f"not distillation strategies of this run: {bad}")
        fam = fam[fam.strategy.isin(list(strategies))]
    rows = fam[["strategy", "weight", "seed", "fold"]].sort_values(["strategy", "seed", "fold"], ignore_index=True)
    got = rows.merge(run.chosen[["strategy", "fold", "weight"]], on=["strategy", "fold"], suffixes=("", "_chosen"))
    if len(got) != len(rows) or not np.array_equal(got.weight.to_numpy(), got.weight_chosen.to_numpy()):
        raise ValueError("run.final weights differ from run.chosen")
    if not isinstance(controls, Mapping):
        make = {"shuffled": lambda: targets.shuffled(control_seed), "uniform": targets.uniform}
        unknown = [c for c in controls if c not in make]
        if unknown:
            raise ValueError(f"unknown controls {unknown}; choose from {sorted(make)} or pass targets")
        controls = {c: make[c]() for c in controls}
    cfg = run.cfg or StackConfig()
    out, seconds = [], {}
    for name, tg in controls.items():
        t0 = time.time()
        res, _ = train_conditions(view, run.manifest, run.arch, rows, tg, run.vmaps, cfg, run.hidden,
                                  device or run.device)
        seconds[name] = time.time() - t0
        out.append(res.assign(control=name))
    cols = ["control", "strategy", "weight", "seed", "fold", "val_ba", "test_ba", "best_epoch"]
    table = pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
    table.attrs = {"seconds": seconds, "n_models": {c: len(rows) for c in controls}}
    return table


def compare_controls(final: pd.DataFrame, controls: pd.DataFrame, alpha: float = 0.05,
                     seed: int = 0) -> pd.DataFrame:
    """Real geometry vs each control, per strategy, paired over fold x seed.

    Parameters
    ----------
    final : DataFrame
        ``run.final`` (``strategy``, ``seed``, ``fold``, ``test_ba``).
    controls : DataFrame
        From :func:`run_controls` (``control``, ``strategy``, ``seed``, ``fold``, ``test_ba``).

    Returns
    -------
    DataFrame
        One row per strategy x control: ``n`` pairs, ``real_ba``, ``control_ba``, mean ``diff`` (real -
        control test BA) with a bootstrap CI (``ci_low``, ``ci_high``), Wilcoxon signed-rank ``p``,
        ``p_holm`` (Holm across every row), ``beats`` (diff > 0 and p_holm < alpha) and
        ``geometry_evidence`` (the strategy beats every control in the table: the rule under which a
        distillation gain counts as evidence for the LLM geometry rather than label smoothing).
    """
    from vaxis.stats import holm, paired_test

    real = final.set_index(["strategy", "seed", "fold"]).test_ba
    rows = []
    for (name, ctrl), g in controls.groupby(["strategy", "control"], sort=False):
        c = g.set_index(["seed", "fold"]).test_ba
        r = real.loc[name].reindex(c.index)
        if r.isna().any():
            raise ValueError(f"{name}: control rows without a real-geometry pair")
        res = paired_test(r.to_numpy(), c.to_numpy(), seed=seed)
        rows.append({"strategy": name, "control": ctrl, "real_ba": float(r.mean()), "control_ba": float(c.mean()),
                     **res})
    cols = ["strategy", "control", "n", "real_ba", "control_ba", "diff", "ci_low", "ci_high", "p", "p_holm",
            "beats", "geometry_evidence"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out.p.to_numpy())
    out["beats"] = (out.p_holm < alpha) & (out["diff"] > 0)
    out["geometry_evidence"] = out.groupby("strategy").beats.transform("all")
    return out[cols].sort_values(["strategy", "control"], ignore_index=True)


# ------------------------------------------------------------------------------------ one fold as a sweep job
