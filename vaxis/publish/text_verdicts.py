"""The text claims' verdict rules (chapters 1-3) and their power statements: what nine sentences, a few hundred
benchmark texts and a handful of models can detect. Their numbers are in :mod:`vaxis.publish.rules`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from statistics import NormalDist

import numpy as np

from vaxis.publish.outcomes import Power, Verdict, all_finite, synthetic_verdict
from vaxis.publish.rules import CLAIM3_MARGIN, TEXT_ALPHA
from vaxis.stats import auroc_null_se
from vaxis.text.layer_selection import split_power

__all__ = ["RULE_1", "RULE_2", "RULE_3", "claim1", "claim2", "claim3", "power_claim1", "power_claim2",
           "power_claim3"]


RULE_1 = (
    "Per pretrained model, on the standardised hidden states, two exact permutation tests of the valence split "
    "against the 35 four-vs-four splits of the eight non-neutral sentences (p = share of splits scoring at least "
    "the valence split, >= 1/35): NESTED (selection-free), the held-out margin of leave-one-pair-out with the layer "
    "re-chosen inside every fold from its seven training sentences, so no placement is read at a layer chosen with "
    "it; SELECTED (selection-corrected), the held-out margin at the layer the nine-sentence rule chose, every split "
    f"going through the same choice. A model HOLDS when both p <= {TEXT_ALPHA:g} and its nested margin exceeds its "
    "random-weight "
    f"twin's (the same procedure); it is PARTIAL when either p <= {TEXT_ALPHA:g} but it does not hold; it FAILS only "
    "on an "
    "exclusion: the nested margin is <= 0 (held-out sentences on the wrong side or at chance) and the valence split "
    f"ranks at the bottom of the 35 (lower-tail exact p <= {TEXT_ALPHA:g}); otherwise it is UNDECIDED. No point "
    "criterion at "
    "the selected layer decides anything. 'replicates': every model holds; 'partly': at least one model holds or is "
    "partial, but not all hold; 'does not replicate': every model fails; otherwise 'inconclusive'.")


RULE_2 = (
    "Per pretrained model, over the benchmarks it read: its mean AUROC A (the V-axis fitted on the nine sentences "
    f"only) with a percentile bootstrap CI over texts at level 1 - {TEXT_ALPHA:g}/m (Bonferroni over the m pretrained "
    "models), "
    "the difference D = A - A_twin to its random-weight twin (the twin reads the first texts of the same seeded "
    "order, a prefix of the model's; its resamples are independent of the model's, so D's CI is unpaired) and the "
    "paired difference L = A - A_lex to the better lexicon (VADER or AFINN, whichever has the higher mean AUROC on "
    "the same texts: chosen without looking at any V-axis; the same resamples of the same texts), both at the same "
    "level. The model is SIGNIFICANT "
    "(above chance and controls) when D's CI lies above 0, A's CI lies above 0.5, and A beats random directions: of "
    "the n_random random directions (1,000 by default) in the same standardised space, each oriented by the nine "
    "sentences like the axis, the share whose mean AUROC reaches A, (1 + k) / (1 + n_random), is at most "
    f"{TEXT_ALPHA:g}/m. "
    "The margin is the strongest label-free baseline measured on the same texts (the better lexicon's AUROC, not a "
    "typed number): the V-axis is 'above', 'at' or 'below the lexicons' as L's CI lies above 0, holds 0, or lies "
    "below 0. A model HOLDS when significant and not below the lexicons (what the rule names the paper's "
    "'validated on sentiment benchmarks'), is SMALL when significant but below the lexicons, FAILS when not "
    "significant and below the lexicons, and is UNDECIDED otherwise. 'replicates': every pretrained model holds; "
    "'partly': some model is significant but not all hold; 'does not replicate': every model fails; otherwise "
    "'inconclusive'.")


RULE_3 = (
    "Agreement of two models = Spearman correlation of their V-axis positions on the same texts within each "
    "benchmark, averaged over benchmarks (the pooled correlation over all texts is a secondary row). A pair's floor ="
    " the largest |agreement| of either model with a random-weight model. Per pair of pretrained models, the "
    "difference D = agreement - floor gets a stratified bootstrap CI (texts resampled within each benchmark, the same"
    " draws for every pretrained model; the floor measured on the first texts that every model read, the random-"
    f"weight models reading fewer, with its own draws) at level 1 - {TEXT_ALPHA:g}/p (Bonferroni over the p pairs). A "
    "pair "
    "AGREES when D's CI lies above 0; it HOLDS when it agrees and D's CI still reaches the margin "
    f"{CLAIM3_MARGIN:.2f}, is SMALL when it agrees but D's CI lies below the margin, FAILS when it does not agree and "
    "D's CI lies below the margin, and is UNDECIDED otherwise. 'replicates': at least 3 pretrained models and every "
    "pair holds; 'partly': some pair agrees but not all hold; 'does not replicate': every pair fails; otherwise "
    "'inconclusive' (always so with fewer than 3 pretrained models or no random-weight model).")


def _text_status(significant: bool, ci_high: float, margin: float, names: tuple[str, str, str, str]) -> str:
    """One unit's status under a directional rule: ``holds`` / ``small`` / ``fails`` / ``undecided`` (``names``)."""
    reaches = all_finite(ci_high) and ci_high >= margin
    if significant:
        return names[0] if reaches else names[1]
    return names[3] if reaches or not all_finite(ci_high) else names[2]


def _text_tally(statuses: dict[str, str], rule: str, hold: str, sig: tuple[str, ...], fail: str,
           detail: dict[str, str], minimum: int = 1) -> Verdict:
    parts = "; ".join(f"{k}: {v} ({detail[k]})" for k, v in statuses.items())
    vals = list(statuses.values())
    if len(vals) < minimum:
        return Verdict("inconclusive", rule, f"fewer than {minimum} units to judge ({len(vals)}). {parts}")
    if all(v == hold for v in vals):
        return Verdict("replicates", rule, parts)
    if any(v in sig for v in vals):
        return Verdict("partly", rule, parts)
    if all(v == fail for v in vals):
        return Verdict("does not replicate", rule, parts)
    return Verdict("inconclusive", rule, parts)


def claim1(models: Sequence[Mapping], source: str = "text") -> Verdict:
    """Apply :data:`RULE_1`.

    Parameters
    ----------
    models : sequence of mappings, one per pretrained model, with ``model``, ``nested_margin``, ``nested_p``,
        ``nested_p_lower``, ``nested_rank`` and ``nested_pair_accuracy`` (the selection-free test,
        :func:`vaxis.text.axis.split_tests` ``["nested"]`` and :func:`vaxis.text.axis.nested_heldout`),
        ``split_p`` and ``split_rank`` (the selection-corrected test, ``["selected"]``) and
        ``control_nested_margin`` (the random-weight twin's nested margin; None when no twin ran: the model cannot
        hold).
    """
    if source == "synthetic":
        return synthetic_verdict(RULE_1)
    statuses, detail = {}, {}
    for m in models:
        nested = all_finite(m["nested_p"]) and float(m["nested_p"]) <= TEXT_ALPHA
        selected = all_finite(m["split_p"]) and float(m["split_p"]) <= TEXT_ALPHA
        ctrl = m.get("control_nested_margin")
        beats = ctrl is not None and all_finite(ctrl, m["nested_margin"]) and float(m["nested_margin"]) > float(ctrl)
        if nested and selected and beats:
            st = "holds"
        elif nested or selected:
            st = "partial"
        elif (all_finite(m["nested_margin"], m["nested_p_lower"]) and float(m["nested_margin"]) <= 0
              and float(m["nested_p_lower"]) <= TEXT_ALPHA):
            st = "fails"
        else:
            st = "undecided"
        statuses[m["model"]] = st
        detail[m["model"]] = (f"nested margin {float(m['nested_margin']):+.2f} vs twin "
                              f"{'none' if ctrl is None else f'{float(ctrl):+.2f}'}, nested pairs "
                              f"{16 * float(m['nested_pair_accuracy']):.0f}/16, nested rank {m['nested_rank']}/35 "
                              f"(p = {float(m['nested_p']):.3f}), selected rank {m['split_rank']}/35 "
                              f"(p = {float(m['split_p']):.3f})")
    return _text_tally(statuses, RULE_1, "holds", ("holds", "partial"), "fails", detail)


def _vs_lexicon(m: Mapping) -> tuple[str, float | None]:
    """``("above" | "at" | "below" | "not measured", L's CI upper bound)`` of one model's :data:`RULE_2` entry."""
    vs = m.get("vs_lexicon")
    if not vs or not all_finite(vs.get("ci_low"), vs.get("ci_high")):
        return "not measured", None
    lo, hi = float(vs["ci_low"]), float(vs["ci_high"])
    return ("above" if lo > 0 else "below" if hi < 0 else "at"), hi


def claim2(models: Sequence[Mapping], source: str = "text") -> Verdict:
    """Apply :data:`RULE_2`.

    Parameters
    ----------
    models : sequence of mappings, one per pretrained model, with ``model``, ``mean_auroc``, ``mean_auroc_lo``,
        ``mean_auroc_hi`` (CI at the rule's Bonferroni level), ``diff_lo`` / ``diff_hi`` (CI of the difference to
        the random-weight twin; None when no twin ran: the model cannot be significant), ``random_dir_p``
        (the +1-corrected share of random directions whose mean AUROC reaches ``mean_auroc``), ``lexicon`` and
        ``lexicon_auroc`` (the better lexicon, its mean AUROC) and ``vs_lexicon`` = ``{diff, ci_low, ci_high}``
        (the paired difference to it at the same level; None when no lexicon ran: the model can neither hold nor
        fail).
    """
    if source == "synthetic":
        return synthetic_verdict(RULE_2)
    statuses, detail = {}, {}
    level = TEXT_ALPHA / max(len(models), 1)
    for m in models:
        lo = m["mean_auroc_lo"]
        has_twin = m.get("diff_lo") is not None and all_finite(m.get("diff_lo"))
        sig = bool(has_twin and m["diff_lo"] > 0 and all_finite(lo) and lo > 0.5 and float(m["random_dir_p"]) <= level)
        where, hi = _vs_lexicon(m)
        statuses[m["model"]] = ("undecided" if hi is None else
                                _text_status(sig, hi, 0.0, ("holds", "small", "fails", "undecided")))
        twin = (f"D CI [{float(m['diff_lo']):+.3f}, {float(m['diff_hi']):+.3f}]" if has_twin else "no twin")
        shown = "above chance and controls" if sig else "not shown above chance and controls"
        lex = (f"{where} the lexicons ({m.get('lexicon')} {float(m['lexicon_auroc']):.3f}; L = "
               f"{float(m['vs_lexicon']['diff']):+.3f} [{float(m['vs_lexicon']['ci_low']):+.3f}, "
               f"{float(m['vs_lexicon']['ci_high']):+.3f}])" if hi is not None else "lexicons not measured")
        detail[m["model"]] = (f"{shown}, {lex}: A = {float(m['mean_auroc']):.3f} [{float(lo):.3f}, "
                              f"{float(m['mean_auroc_hi']):.3f}], {twin}, random directions p = "
                              f"{float(m['random_dir_p']):.3f}")
    return _text_tally(statuses, RULE_2, "holds", ("holds", "small"), "fails", detail)


def claim3(pairs: Sequence[Mapping], n_real: int, n_controls: int, source: str = "text", scope: str = "") -> Verdict:
    """Apply :data:`RULE_3`; the reason ends with ``scope`` (which models the verdict covers) when given.

    Parameters
    ----------
    pairs : sequence of mappings, one per pair of pretrained models, with ``model_a``, ``model_b``, ``diff`` and
        ``diff_lo`` / ``diff_hi`` (the Bonferroni-level CI of agreement minus floor).
    n_real, n_controls : int
        Pretrained models and random-weight models that ran.
    scope : str
        A sentence on the verdict's scope against the paper's lineup, e.g. the third item of
        :func:`vaxis.text.agreement.model_scope`.
    """
    verdict = _claim3(pairs, n_real, n_controls, source)
    return Verdict(verdict.verdict, verdict.rule, f"{verdict.reason.rstrip('. ')}. {scope}") if scope else verdict


def _claim3(pairs: Sequence[Mapping], n_real: int, n_controls: int, source: str) -> Verdict:
    if source == "synthetic":
        return synthetic_verdict(RULE_3)
    statuses, detail = {}, {}
    for p in pairs:
        key = f"{p['model_a']} ~ {p['model_b']}"
        sig = all_finite(p["diff_lo"]) and p["diff_lo"] > 0
        statuses[key] = _text_status(sig, p["diff_hi"], CLAIM3_MARGIN, ("holds", "small", "fails", "undecided"))
        detail[key] = f"D = {float(p['diff']):+.3f} [{float(p['diff_lo']):+.3f}, {float(p['diff_hi']):+.3f}]"
    if n_real < 3 or n_controls < 1:
        why = f"{n_real} pretrained model(s) and {n_controls} random-weight model(s): the rule needs >= 3 and >= 1"
        parts = "; ".join(f"{k}: {v} ({detail[k]})" for k, v in statuses.items())
        return Verdict("inconclusive", RULE_3, f"{why}. {parts}" if parts else why)
    return _text_tally(statuses, RULE_3, "holds", ("holds", "small"), "fails", detail)


def _z(p: float) -> float:
    """Standard normal quantile."""
    return NormalDist().inv_cdf(p)


@lru_cache(maxsize=8)
def power_claim1(alpha: float = TEXT_ALPHA, power: float = 0.8, n_dims: int = 16, n_sims: int = 300,
                 seed: int = 0) -> Power:
    """Chapter 1: the smallest separation of the positive and negative sentences' means (in noise SDs, along one of
    ``n_dims`` unit-variance dimensions) at which the exact split test of :data:`RULE_1` (valence split first of
    the 35, p = 1/35 <= ``alpha``) succeeds with ``power``, by simulation
    (:func:`vaxis.text.layer_selection.split_power`, one layer: the nested and selected tests coincide there),
    solved by bisection. Under no effect the test fires 1/35 of the time."""
    lo, hi = 0.0, 12.0
    for _ in range(7):
        mid = (lo + hi) / 2
        ok = split_power(np.array([mid]), n_dims=n_dims, n_sims=n_sims, alpha=alpha, seed=seed)[0] >= power
        lo, hi = (lo, mid) if ok else (mid, hi)
    return Power(unit="sentence split (8 non-neutral sentences, 35 four-vs-four splits, exact permutation)", n=8,
                 alpha=alpha, correction="none per model (replicates needs every model); exact p >= 1/35",
                 mde=float(hi), power=power,
                 effect=f"separation of the positive and negative sentences' means in noise SDs, along one of "
                        f"{n_dims} independent dimensions (simulated, {n_sims} draws, one layer)")


def power_claim2(n_pos: Sequence[int], n_neg: Sequence[int], n_models: int, alpha: float = TEXT_ALPHA,
                 power: float = 0.8, n_pos_twin: Sequence[int] | None = None,
                 n_neg_twin: Sequence[int] | None = None) -> Power:
    """Chapter 2: the smallest difference in mean AUROC (over the benchmarks) between a model and its random-weight
    twin that the rule detects: ``(z_{1-alpha/(2m)} + z_power) * sqrt(sum_b SE_0,b^2 + SE_0,b,twin^2) / K`` with
    ``SE_0,b`` the null SE of benchmark b's AUROC at the model's n (:func:`auroc_null_se`), ``SE_0,b,twin`` at the
    twin's n (``n_pos_twin`` / ``n_neg_twin``; default the model's), K benchmarks, m models (two independent
    AUROCs; the same bound serves the paired difference to the lexicon, where pairing only narrows it)."""
    k = len(n_pos)
    if k == 0 or n_models < 1:
        raise ValueError("power_claim2 needs at least one benchmark and one model")
    tp, tn = list(n_pos_twin or n_pos), list(n_neg_twin or n_neg)
    se = math.sqrt(sum(auroc_null_se(a, b) ** 2 + auroc_null_se(c, d) ** 2
                       for a, b, c, d in zip(n_pos, n_neg, tp, tn))) / k
    a = alpha / max(n_models, 1)
    twin_n = int(min(c + d for c, d in zip(tp, tn)))
    return Power(unit=f"benchmark text (binary pos/neg), {k} benchmarks", n=int(min(a + b for a, b in
                 zip(n_pos, n_neg))), alpha=alpha, correction=f"Bonferroni over {n_models} pretrained models",
                 mde=(_z(1 - a / 2) + _z(power)) * se, power=power,
                 effect=f"mean AUROC over {k} benchmarks, model minus its random-weight twin (the twin on >= {twin_n} "
                        "texts per benchmark) or minus the better lexicon on the same texts (normal approximation, "
                        "Mann-Whitney null SE of two independent AUROCs: conservative for the paired lexicon "
                        "difference)")


def power_claim3(n_per_benchmark: Sequence[int], n_pairs: int, alpha: float = TEXT_ALPHA,
                 power: float = 0.8, n_floor: Sequence[int] | None = None) -> Power:
    """Chapter 3: the smallest agreement-minus-floor difference the bootstrap detects:
    ``(z_{1-alpha/(2p)} + z_power) * sqrt(sum_b 1.06 / (n_b - 3) + 1.06 / (f_b - 3)) / K`` (Spearman's SE by
    Fieller, Hartley & Pearson 1957, averaged over K benchmarks; the agreement on n_b texts, the floor on the first
    f_b = ``n_floor`` of them (default n_b); two correlations, p pairs)."""
    k = len(n_per_benchmark)
    floor = list(n_floor or n_per_benchmark)
    if k == 0 or min(n_per_benchmark) < 4 or min(floor) < 4:
        raise ValueError("power_claim3 needs benchmarks of at least 4 texts")
    se = math.sqrt(sum(1.06 / (n - 3) + 1.06 / (f - 3) for n, f in zip(n_per_benchmark, floor))) / k
    a = alpha / max(n_pairs, 1)
    return Power(unit=f"benchmark text (same texts for every model), {k} benchmarks", n=int(sum(n_per_benchmark)),
                 alpha=alpha, correction=f"Bonferroni over {max(n_pairs, 1)} pairs of pretrained models",
                 mde=(_z(1 - a / 2) + _z(power)) * se, power=power,
                 effect=f"Spearman agreement minus the random-weight floor (the floor on >= {min(floor)} texts per "
                        "benchmark), mean over benchmarks (normal approximation, Fieller SE)")
