"""The text claims' verdict rules (chapters 1-3) and their power statements: what nine sentences, a few hundred
benchmark texts and a handful of models can detect. Re-exported by :mod:`vaxis.publish.verdicts`."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

from scipy import stats as _st

from vaxis.publish.outcomes import (
    Power,
    Verdict,
    _finite,
    synthetic_verdict,
)
from vaxis.stats import auroc_mde, auroc_null_se

__all__ = ["CLAIM2_MARGIN", "CLAIM3_MARGIN", "TEXT_ALPHA", "RULE_1", "RULE_2", "RULE_3", "claim1", "claim2", "claim3",
           "power_claim1", "auroc_null_se", "auroc_mde", "power_claim2", "power_claim3"]


#: Chapter 2's margin: the mean AUROC the rule names as the paper's "transfers zero-shot".
CLAIM2_MARGIN = 0.60


#: Chapter 3's margin: agreement (Spearman) above the random-weight floor that the rule names as "agree".
CLAIM3_MARGIN = 0.10


#: Significance level of the text claims (before the Bonferroni split over models / pairs).
TEXT_ALPHA = 0.05


RULE_1 = (
    "Per pretrained model, at the layer the nine-sentence rule chose (standardised hidden states): it HOLDS when "
    "(a) every positive sentence's mean held-out position (leave-one-pair-out) lies above every negative one's, "
    "(b) its held-out margin exceeds its random-weight twin's, and (c) the valence split ranks first of the 35 "
    "four-vs-four splits of the eight non-neutral sentences (exact p = 1/35 <= 0.05, layer re-chosen per split); it "
    "is PARTIAL when (a) and (b) hold but not (c); it FAILS when at most 8 of the 16 held-out pairs are ordered "
    "(chance or worse) and the valence split ranks in the lower half of the 35 (p > 0.5); otherwise it is "
    "UNDECIDED. 'replicates': every model holds; 'partly': at least one model holds or is partial, but not all "
    "hold; 'does not replicate': every model fails; otherwise 'inconclusive'.")


RULE_2 = (
    "Per pretrained model, over the benchmarks it read: its mean AUROC A (the V-axis fitted on the nine sentences "
    "only) with a percentile bootstrap CI over texts at level 1 - 0.05/m (Bonferroni over the m pretrained models), "
    "and the paired difference D = A - A_twin to its random-weight twin (same texts, same resamples). The model is "
    "SIGNIFICANT when D's CI lies above 0, A's CI lies above 0.5, and A beats random directions: of the n_random "
    "random directions (1,000 by default) in the same standardised space, each oriented by the nine sentences like "
    "the axis, the share whose mean AUROC reaches A, (1 + k) / (1 + n_random), is at most 0.05/m; it HOLDS when "
    "significant and A's CI still "
    f"reaches the margin {CLAIM2_MARGIN:.2f} (what the "
    "rule names the paper's 'transfers zero-shot'), is SMALL when significant but A's CI lies below the margin, "
    "FAILS when not significant and A's CI lies below the margin, and is UNDECIDED otherwise. 'replicates': every "
    "pretrained model holds; 'partly': some model is significant but not all hold; 'does not replicate': every "
    "model fails; otherwise 'inconclusive'.")


RULE_3 = (
    "Agreement of two models = Spearman correlation of their V-axis positions on the same texts within each "
    "benchmark, averaged over benchmarks (the pooled correlation over all texts is a secondary row). A pair's floor "
    "= the largest |agreement| of either model with a random-weight model. Per pair of pretrained models, the "
    "difference D = agreement - floor gets a paired, stratified bootstrap CI (texts resampled within each "
    "benchmark, the same draws for every model) at level 1 - 0.05/p (Bonferroni over the p pairs). A pair AGREES "
    f"when D's CI lies above 0; it HOLDS when it agrees and D's CI still reaches the margin {CLAIM3_MARGIN:.2f}, is "
    "SMALL when it agrees but D's CI lies below the margin, FAILS when it does not agree and D's CI lies below the "
    "margin, and is UNDECIDED otherwise. 'replicates': at least 3 pretrained models and every pair holds; "
    "'partly': some pair agrees but not all hold; 'does not replicate': every pair fails; otherwise "
    "'inconclusive' (always so with fewer than 3 pretrained models or no random-weight model).")


def _text_status(significant: bool, ci_high: float, margin: float, names: tuple[str, str, str, str]) -> str:
    """One unit's status under a directional rule: ``holds`` / ``small`` / ``fails`` / ``undecided`` (``names``)."""
    reaches = _finite(ci_high) and ci_high >= margin
    if significant:
        return names[0] if reaches else names[1]
    return names[3] if reaches or not _finite(ci_high) else names[2]


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
    models : sequence of mappings, one per pretrained model, with ``model``, ``heldout_order_ok`` (bool),
        ``heldout_margin``, ``control_margin`` (the random-weight twin's; None when no twin ran: then (b) fails),
        ``pair_accuracy`` (share of the 16 held-out pairs ordered), ``split_p`` and ``split_rank``.
    """
    if source == "synthetic":
        return synthetic_verdict(RULE_1)
    statuses, detail = {}, {}
    for m in models:
        a = bool(m["heldout_order_ok"])
        ctrl = m.get("control_margin")
        b = ctrl is not None and _finite(ctrl, m["heldout_margin"]) and float(m["heldout_margin"]) > float(ctrl)
        c = _finite(m["split_p"]) and float(m["split_p"]) <= TEXT_ALPHA
        if a and b and c:
            st = "holds"
        elif a and b:
            st = "partial"
        elif float(m["pair_accuracy"]) <= 0.5 and float(m["split_p"]) > 0.5:
            st = "fails"
        else:
            st = "undecided"
        statuses[m["model"]] = st
        detail[m["model"]] = (f"order {'ok' if a else 'broken'}, margin {float(m['heldout_margin']):.2f} vs twin "
                              f"{'none' if ctrl is None else f'{float(ctrl):.2f}'}, pairs "
                              f"{16 * float(m['pair_accuracy']):.0f}/16, split rank {m['split_rank']}/35, "
                              f"p = {float(m['split_p']):.3f}")
    return _text_tally(statuses, RULE_1, "holds", ("holds", "partial"), "fails", detail)


def claim2(models: Sequence[Mapping], source: str = "text") -> Verdict:
    """Apply :data:`RULE_2`.

    Parameters
    ----------
    models : sequence of mappings, one per pretrained model, with ``model``, ``mean_auroc``, ``mean_auroc_lo``,
        ``mean_auroc_hi`` (CI at the rule's Bonferroni level), ``diff_lo`` / ``diff_hi`` (CI of the difference to
        the random-weight twin; None when no twin ran: the model cannot be significant) and ``random_dir_p``
        (the +1-corrected share of random directions whose mean AUROC reaches ``mean_auroc``).
    """
    if source == "synthetic":
        return synthetic_verdict(RULE_2)
    statuses, detail = {}, {}
    level = TEXT_ALPHA / max(len(models), 1)
    for m in models:
        lo, hi = m["mean_auroc_lo"], m["mean_auroc_hi"]
        has_twin = m.get("diff_lo") is not None and _finite(m.get("diff_lo"))
        sig = bool(has_twin and m["diff_lo"] > 0 and _finite(lo) and lo > 0.5 and float(m["random_dir_p"]) <= level)
        statuses[m["model"]] = _text_status(sig, hi, CLAIM2_MARGIN, ("holds", "small", "fails", "undecided"))
        twin = (f"D CI [{float(m['diff_lo']):+.3f}, {float(m['diff_hi']):+.3f}]" if has_twin else "no twin")
        detail[m["model"]] = (f"A = {float(m['mean_auroc']):.3f} [{float(lo):.3f}, {float(hi):.3f}], {twin}, random "
                              f"directions p = {float(m['random_dir_p']):.3f}")
    return _text_tally(statuses, RULE_2, "holds", ("holds", "small"), "fails", detail)


def claim3(pairs: Sequence[Mapping], n_real: int, n_controls: int, source: str = "text") -> Verdict:
    """Apply :data:`RULE_3`.

    Parameters
    ----------
    pairs : sequence of mappings, one per pair of pretrained models, with ``model_a``, ``model_b``, ``diff`` and
        ``diff_lo`` / ``diff_hi`` (the Bonferroni-level CI of agreement minus floor).
    n_real, n_controls : int
        Pretrained models and random-weight models that ran.
    """
    if source == "synthetic":
        return synthetic_verdict(RULE_3)
    statuses, detail = {}, {}
    for p in pairs:
        key = f"{p['model_a']} ~ {p['model_b']}"
        sig = _finite(p["diff_lo"]) and p["diff_lo"] > 0
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


def power_claim1(n_pos: int = 4, n_neg: int = 4, alpha: float = TEXT_ALPHA, power: float = 0.8) -> Power:
    """Chapter 1: the smallest held-out separation d' (positive vs negative sentences, in pooled within-group SDs)
    that a one-sided two-sample t-test on ``n_pos`` vs ``n_neg`` held-out sentences detects with ``power``
    (noncentral t, solved by bisection). The permutation test over 35 splits cannot go below p = 1/35."""
    df = n_pos + n_neg - 2
    crit = _st.t.ppf(1 - alpha, df)
    scale = math.sqrt(n_pos * n_neg / (n_pos + n_neg))
    lo, hi = 0.0, 20.0
    for _ in range(80):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _st.nct.sf(crit, df, mid * scale) < power else (lo, mid)
    return Power(unit="held-out sentence (leave-one-pair-out, 4 positive vs 4 negative)", n=n_pos + n_neg,
                 alpha=alpha, correction="none per model (replicates needs every model); exact permutation p "
                 ">= 1/35", mde=float(hi), power=power,
                 effect="held-out separation d' (pooled within-group SDs; one-sided two-sample t, noncentral t)")


def power_claim2(n_pos: Sequence[int], n_neg: Sequence[int], n_models: int, alpha: float = TEXT_ALPHA,
                 power: float = 0.8) -> Power:
    """Chapter 2: the smallest difference in mean AUROC (over the benchmarks) between a model and its random-weight
    twin that the rule detects: ``(z_{1-alpha/(2m)} + z_power) * sqrt(2) * sqrt(sum_b SE_0,b^2) / K`` with
    ``SE_0,b`` the null SE of benchmark b's AUROC (:func:`auroc_null_se`), K benchmarks, m models, and sqrt(2)
    for two independent AUROCs (model and twin) on the same texts."""
    k = len(n_pos)
    if k == 0 or n_models < 1:
        raise ValueError("power_claim2 needs at least one benchmark and one model")
    se = math.sqrt(2 * sum(auroc_null_se(a, b) ** 2 for a, b in zip(n_pos, n_neg))) / k
    a = alpha / max(n_models, 1)
    return Power(unit=f"benchmark text (binary pos/neg), {k} benchmarks", n=int(min(a + b for a, b in
                 zip(n_pos, n_neg))), alpha=alpha, correction=f"Bonferroni over {n_models} pretrained models",
                 mde=(_z(1 - a / 2) + _z(power)) * se, power=power,
                 effect=f"mean AUROC over {k} benchmarks, model minus its random-weight twin (normal approximation, "
                        "Mann-Whitney null SE)")


def power_claim3(n_per_benchmark: Sequence[int], n_pairs: int, alpha: float = TEXT_ALPHA,
                 power: float = 0.8) -> Power:
    """Chapter 3: the smallest agreement-minus-floor difference the paired bootstrap detects:
    ``(z_{1-alpha/(2p)} + z_power) * sqrt(2) * sqrt(sum_b 1.06 / (n_b - 3)) / K`` (Spearman's SE by Fieller, Hartley
    & Pearson 1957, averaged over K benchmarks; sqrt(2) bounds the difference of two correlations; p pairs)."""
    k = len(n_per_benchmark)
    if k == 0 or min(n_per_benchmark) < 4:
        raise ValueError("power_claim3 needs benchmarks of at least 4 texts")
    se = math.sqrt(2 * sum(1.06 / (n - 3) for n in n_per_benchmark)) / k
    a = alpha / max(n_pairs, 1)
    return Power(unit=f"benchmark text (same texts for every model), {k} benchmarks", n=int(sum(n_per_benchmark)),
                 alpha=alpha, correction=f"Bonferroni over {max(n_pairs, 1)} pairs of pretrained models",
                 mde=(_z(1 - a / 2) + _z(power)) * se, power=power,
                 effect="Spearman agreement minus the random-weight floor, mean over benchmarks (normal "
                        "approximation, Fieller SE)")
