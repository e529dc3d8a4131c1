"""Is a distillation gain the LLM's geometry, or label smoothing? Controls for chapter 6.

Distillation soft targets spread probability mass off the true class whatever the 9 x 9 geometry, so
:func:`run_controls` retrains the distillation strategies of an :class:`~vaxis.claims.common.conditions.AlignmentRun` at
their chosen weights with the geometry shuffled across categories and made uniform (label smoothing), paired
model for model, and :func:`compare_controls` tests real geometry vs control.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from vaxis.claims.alignment.stats import adjusted_bounds
from vaxis.claims.alignment.train import AlignmentRun
from vaxis.claims.common.conditions import train_conditions
from vaxis.claims.common.strategies import STRATEGIES, AlignmentTargets
from vaxis.decoding.stacking import StackConfig
from vaxis.stats import clustered_paired_test, holm

__all__ = ["CONTROL_FAMILY", "run_controls", "compare_controls"]

CONTROL_FAMILY = "distillation"              # the family whose soft targets are also label smoothing


def run_controls(run: AlignmentRun, targets: AlignmentTargets,
                 controls: Sequence[str] | Mapping[str, AlignmentTargets] = ("shuffled", "uniform"),
                 strategies: Sequence[str] | None = None, control_seed: int = 0) -> pd.DataFrame:
    """Retrain the distillation strategies of ``run`` with control targets: is a gain the LLM's geometry,
    or the label smoothing that any soft targets bring?

    Every (strategy, weight, seed, fold) row of ``run.final`` of the distillation family is trained again, once
    per control, with the control's targets instead of ``targets``: the same weight (the one chosen for that
    strategy and fold on validation subjects in ``run``; nothing is re-chosen), architecture, per-(seed, fold)
    initial weights, batch order, epochs and early stopping, so each control model pairs exactly with one
    real-geometry model. Where the chosen weight is 0 the model *is* the label-only model, whatever the targets:
    its row is copied, not retrained. One stacked pass per control.

    Parameters
    ----------
    run : AlignmentRun
        From :func:`~vaxis.claims.common.conditions.run_alignment` (its ``view``, ``arch``, ``hidden``, ``dropout``,
        ``cfg``,
        ``vmaps`` are reused).
    targets : AlignmentTargets
        The real targets the run was trained with.
    controls : names or {name: AlignmentTargets}
        ``"shuffled"`` (``targets.shuffled(control_seed)``: the LLM's rows dealt to the wrong categories by one
        derangement) and/or ``"uniform"`` (``targets.uniform()``: every category equally far, i.e. label
        smoothing); a mapping gives the control targets directly.
    strategies : distillation strategies to control (default: every one in ``run.final``).

    Returns
    -------
    DataFrame
        One row per control x strategy x seed x fold: ``control``, ``strategy``, ``weight``, ``seed``, ``fold``,
        ``val_ba``, ``test_ba``, ``best_epoch``, ``subject_ba``. ``attrs``: ``seconds`` and ``n_models`` (trained)
        per control.
    """
    if run.view is None:
        raise ValueError("run has no view (collected from fold jobs): run the controls inside the fold job")
    fam = run.final[run.final.strategy.map(lambda n: n in STRATEGIES and STRATEGIES[n].family == CONTROL_FAMILY)]
    if strategies is not None:
        bad = [n for n in strategies if n not in set(fam.strategy)]
        if bad:
            raise ValueError(f"not distillation strategies of this run: {bad}")
        fam = fam[fam.strategy.isin(list(strategies))]
    fam = fam.sort_values(["strategy", "seed", "fold"], ignore_index=True)
    got = fam.merge(run.chosen[["strategy", "fold", "weight"]], on=["strategy", "fold"], suffixes=("", "_chosen"))
    if len(got) != len(fam) or not np.array_equal(got.weight.to_numpy(), got.weight_chosen.to_numpy()):
        raise ValueError("run.final weights differ from run.chosen")
    if not isinstance(controls, Mapping):
        make = {"shuffled": lambda: targets.shuffled(control_seed), "uniform": targets.uniform}
        unknown = [c for c in controls if c not in make]
        if unknown:
            raise ValueError(f"unknown controls {unknown}; choose from {sorted(make)} or pass targets")
        controls = {c: make[c]() for c in controls}
    cols = ["control", "strategy", "weight", "seed", "fold", "val_ba", "test_ba", "best_epoch", "subject_ba"]
    todo, keep = fam[fam.weight > 0], fam[fam.weight == 0]
    out, seconds, n_models = [], {}, {}
    for name, tg in controls.items():
        t0 = time.time()
        parts = [keep.assign(control=name)]
        if len(todo):
            res, _ = train_conditions(run.view, run.manifest, run.arch, todo[["strategy", "weight", "seed", "fold"]],
                                      tg, run.vmaps, run.cfg or StackConfig(), run.hidden, run.device,
                                      dropout=run.dropout)
            parts.append(res.assign(control=name))
        seconds[name], n_models[name] = time.time() - t0, len(todo)
        out.append(pd.concat(parts, ignore_index=True))
    table = pd.concat(out, ignore_index=True)[cols] if out else pd.DataFrame(columns=cols)
    table = table.sort_values(["control", "strategy", "seed", "fold"], ignore_index=True, kind="mergesort")
    table.attrs = {"seconds": seconds, "n_models": n_models}
    return table


def compare_controls(final_subjects: pd.DataFrame, control_subjects: pd.DataFrame, alpha: float = 0.05
                     ) -> pd.DataFrame:
    """Real geometry vs each control, per strategy: clustered paired test over test subjects (seeds averaged).

    Parameters
    ----------
    final_subjects : DataFrame
        :func:`~vaxis.claims.common.conditions.subject_table` of ``run.final`` (``strategy``, ``seed``, ``fold``,
        ``subject``, ``ba``).
    control_subjects : DataFrame
        The same table of :func:`run_controls` with a ``control`` column.

    Returns
    -------
    DataFrame
        One row per strategy x control: ``n`` subjects, ``real_ba``, ``control_ba``, ``diff`` (real - control),
        ``ci_low``, ``ci_high`` (95 %), ``ci_low_adj``, ``ci_high_adj`` (at the Bonferroni level alpha / rows,
        Holm's first step), ``se``, ``df``, ``p``, ``p_holm`` (Holm across every row), ``beats`` (diff > 0 and p_holm <
        alpha) and ``geometry_evidence`` (the strategy beats every control in the table: the rule under which a
        distillation gain counts as evidence for the LLM geometry rather than label smoothing).
    """
    key = ["seed", "fold", "subject"]
    rows = []
    for (name, ctrl), g in control_subjects.groupby(["strategy", "control"], sort=False):
        c = g.set_index(key).ba
        r = final_subjects[final_subjects.strategy == name].set_index(key).ba.reindex(c.index)
        if r.isna().any():
            raise ValueError(f"{name}: control rows without a real-geometry pair")
        d = (r - c).rename("d").groupby(level=["fold", "subject"]).mean().reset_index()
        res = clustered_paired_test(d.d.to_numpy(), d.subject.to_numpy(), d.fold.to_numpy())
        rows.append({"strategy": name, "control": ctrl, "n": res["n"], "real_ba": float(r.mean()),
                     "control_ba": float(c.mean()), **{k: res[k] for k in ("diff", "ci_low", "ci_high", "se", "df",
                                                                            "p")}})
    cols = ["strategy", "control", "n", "real_ba", "control_ba", "diff", "ci_low", "ci_high", "ci_low_adj",
            "ci_high_adj", "se", "df", "p", "p_holm", "beats", "geometry_evidence"]
    if not rows:
        return pd.DataFrame(columns=cols)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out.p.to_numpy())
    out["ci_low_adj"], out["ci_high_adj"] = adjusted_bounds(out["diff"], out.se, out["df"], alpha, len(out))
    out["beats"] = (out.p_holm < alpha) & (out["diff"] > 0)
    out["geometry_evidence"] = out.groupby("strategy").beats.transform("all")
    return out[cols].sort_values(["strategy", "control"], ignore_index=True)
