"""Verdict rules: one pure function per claim turning a chapter's statistics into a verdict.

Every rule is fixed here, in code, before any chapter reads its data; its text (``RULES[claim]``) is printed by the
chapter before the result and stored beside the verdict in ``results/<chapter>.json``. Four outcomes
(:data:`OUTCOMES`):

``replicates``
    the data support the paper's claim at the size the rule names;
``partly``
    part of the claim holds (e.g. a real effect, but smaller than claimed and the claimed size is excluded);
``does not replicate``
    the data *exclude* the paper's effect: a confidence interval or an equivalence test against a margin named in
    the rule. A non-significant result alone never gives this outcome;
``inconclusive``
    neither: the design could not tell (an interval that holds both no effect and the paper's effect). Synthetic
    data always give ``inconclusive``: a simulator says nothing about the claim.

The building blocks (:func:`directional`, :func:`interval_outcome`, :func:`count_outcome`,
:func:`criteria_outcome`) are generic; the claim functions name the margins. :class:`Power` is the power statement
every EEG result carries (unit of analysis, n, alpha, correction, minimum detectable effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

from scipy import stats as _st

__all__ = ["OUTCOMES", "Power", "Verdict", "directional", "interval_outcome", "count_outcome",
           "criteria_outcome", "synthetic_verdict", "SYNTHETIC_REASON"]

OUTCOMES = ("replicates", "partly", "does not replicate", "inconclusive")
SYNTHETIC_REASON = "synthetic data: a simulated cohort says nothing about the claim"


@dataclass(frozen=True)
class Power:
    """What a chapter's test could detect: stated before its result, stored with it.

    Attributes
    ----------
    unit : str
        Unit of analysis, e.g. ``"fold (seeds averaged)"``, ``"test subject"``, ``"benchmark text"``.
    n : int
        Number of units.
    alpha : float
        Significance level before correction.
    correction : str
        Multiple-comparison correction, e.g. ``"Holm over 25 strategies"`` or ``"none"``.
    mde : float
        Minimum detectable effect (power 0.8 unless ``power`` says otherwise) at this design, in ``effect`` units.
    effect : str
        What ``mde`` is measured in, e.g. ``"BA points"``.
    power : float
        The power at which ``mde`` is stated.
    """

    unit: str
    n: int
    alpha: float
    correction: str
    mde: float
    effect: str
    power: float = 0.8

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"Power.n must be >= 1, got {self.n}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"Power.alpha must be in (0, 1), got {self.alpha}")

    def as_dict(self) -> dict:
        """``{unit, n, alpha, correction, mde, effect, power}`` (the results contract's ``power`` field)."""
        d = asdict(self)
        d["mde"] = None if not math.isfinite(self.mde) else float(self.mde)
        return d

    def sentence(self) -> str:
        """One line for the chapter: ``'unit: fold (seeds averaged), n = 10, alpha 0.05 (Holm over 25): ...'``."""
        return (f"unit: {self.unit}, n = {self.n}, alpha {self.alpha:g} ({self.correction}); minimum detectable "
                f"effect at power {self.power:g}: {self.mde:.3g} {self.effect}")


@dataclass(frozen=True)
class Verdict:
    """A rule's outcome: ``verdict`` (one of :data:`OUTCOMES`), the ``rule`` text and the ``reason`` (the branch
    that fired, with the numbers)."""

    verdict: str
    rule: str
    reason: str

    def __post_init__(self) -> None:
        if self.verdict not in OUTCOMES:
            raise ValueError(f"verdict must be one of {OUTCOMES}, got {self.verdict!r}")

    def fields(self) -> dict:
        """``{"verdict", "rule", "reason"}`` for a scoreboard row."""
        return {"verdict": self.verdict, "rule": self.rule, "reason": self.reason}


def synthetic_verdict(rule: str) -> Verdict:
    """The verdict on synthetic data, whatever the numbers."""
    return Verdict("inconclusive", rule, SYNTHETIC_REASON)


def _finite(*xs: float) -> bool:
    return all(x is not None and math.isfinite(float(x)) for x in xs)


def directional(estimate: float, ci_low: float, ci_high: float, p: float, *, alpha: float, margin: float,
                rule: str, source: str = "faced", unit: str = "") -> Verdict:
    """Verdict for a claim that predicts a positive effect of at least ``margin``.

    ``estimate`` with its two-sided CI ``[ci_low, ci_high]`` and (corrected) ``p`` for "no effect":

    - significant (``p < alpha``) and positive: ``replicates`` if the CI still reaches ``margin``
      (``ci_high >= margin``: the claimed size is not excluded), else ``partly`` (a real effect, but the data
      exclude the claimed size);
    - otherwise: ``does not replicate`` if ``ci_high < margin`` (the data exclude an effect as large as the
      margin), else ``inconclusive``.

    Parameters
    ----------
    margin : float
        The smallest effect the rule counts as the paper's (> 0), in the estimate's units.
    unit : str
        The estimate's unit, for the reason text (e.g. ``"BA points"``).
    """
    if source == "synthetic":
        return synthetic_verdict(rule)
    if not margin > 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if not _finite(estimate, ci_low, ci_high, p):
        return Verdict("inconclusive", rule, f"non-finite statistics (estimate {estimate}, CI [{ci_low}, {ci_high}], "
                                             f"p {p})")
    if ci_low > ci_high:
        raise ValueError(f"ci_low {ci_low} > ci_high {ci_high}")
    u = f" {unit}" if unit else ""
    stats = f"estimate {estimate:+.4g}{u}, 95% CI [{ci_low:+.4g}, {ci_high:+.4g}], p = {p:.3g}, margin {margin:g}{u}"
    if p < alpha and estimate > 0:
        if ci_high >= margin:
            return Verdict("replicates", rule, f"significant and consistent with the claimed size ({stats})")
        return Verdict("partly", rule, f"significant but smaller than claimed: the CI excludes the margin ({stats})")
    if ci_high < margin:
        return Verdict("does not replicate", rule, f"the CI excludes an effect as large as the margin ({stats})")
    return Verdict("inconclusive", rule, f"not significant and the CI still holds the margin ({stats})")


def interval_outcome(ci_low: float, ci_high: float, threshold: float) -> str:
    """Where a CI sits relative to a threshold: ``"above"`` (``ci_low > threshold``), ``"below"``
    (``ci_high < threshold``) or ``"undecided"`` (the CI holds it)."""
    if not _finite(ci_low, ci_high):
        return "undecided"
    if ci_low > threshold:
        return "above"
    if ci_high < threshold:
        return "below"
    return "undecided"


def count_outcome(diff: float, ci_low: float, ci_high: float, p_holm: float, p_equivalence: float, *,
                  alpha: float, margin: float) -> str:
    """Four-way outcome of one paired comparison: ``improved`` / ``reduced`` (Holm-significant difference),
    ``unchanged`` (equivalent: the equivalence test against +-``margin`` is significant, ``p_equivalence < alpha``,
    and the difference is not significant), else ``inconclusive``."""
    if _finite(p_holm) and p_holm < alpha and _finite(diff) and diff != 0:
        return "improved" if diff > 0 else "reduced"
    if _finite(p_equivalence) and p_equivalence < alpha:
        return "unchanged"
    return "inconclusive"


def criteria_outcome(criteria: Sequence[Mapping], rule: str, source: str = "faced") -> Verdict:
    """Verdict from falsifiable criteria, each a mapping with ``name`` and ``holds`` (True / False / None).

    ``holds`` is True when the criterion's interval clears its threshold, False when the interval excludes it
    (the criterion fails decisively), None when undecided. All hold: ``replicates``; at least one holds and at
    least one fails: ``partly``; none holds and all fail: ``does not replicate``; otherwise ``inconclusive``.
    """
    if source == "synthetic":
        return synthetic_verdict(rule)
    if not criteria:
        raise ValueError("criteria_outcome needs at least one criterion")
    held = [c["name"] for c in criteria if c["holds"] is True]
    failed = [c["name"] for c in criteria if c["holds"] is False]
    open_ = [c["name"] for c in criteria if c["holds"] is None]
    reason = f"hold: {held or 'none'}; fail: {failed or 'none'}; undecided: {open_ or 'none'}"
    if len(held) == len(criteria):
        return Verdict("replicates", rule, reason)
    if held and failed:
        return Verdict("partly", rule, reason)
    if len(failed) == len(criteria):
        return Verdict("does not replicate", rule, reason)
    return Verdict("inconclusive", rule, reason)


# ------------------------------------------------------------------------------------- EEG claims (4-8)
RULE_5 = ("Claim 5 (rediscovery), fixed before the run. Population test over all label-only models (the same "
          "permutation applied to every model; statistic = mean held-out ridge-probe Spearman): "
          "REPLICATES if it beats both nulls (unrestricted permutations and permutations that keep the "
          "negative/positive split, p < {alpha} each) and the class-centroid geometry matches the LLM's "
          "(population RSA, p < {alpha}); PARTLY if one or two of these three hold; DOES NOT REPLICATE if none "
          "holds and the 95% CIs over folds of both the mean probe gain over the unrestricted null and the mean "
          "RSA gain over its null lie below {margin} (Spearman); INCONCLUSIVE otherwise. Synthetic data: "
          "inconclusive.")


def claim5(p_unrestricted: float, p_split_kept: float, p_rsa: float, gain_ci_high: float,
           rsa_gain_ci_high: float, *, alpha: float = 0.05, margin: float = 0.10, source: str = "faced") -> Verdict:
    """Claim 5's verdict (:data:`RULE_5`) from the population test, its split-kept null and the RSA test.

    ``gain_ci_high`` / ``rsa_gain_ci_high``: upper 95 % bounds over folds of the mean (over models) probe score
    minus its null mean, and of the mean RSA minus its null mean.
    """
    rule = RULE_5.format(alpha=alpha, margin=margin)
    if source == "synthetic":
        return synthetic_verdict(rule)
    tests = {"unrestricted": p_unrestricted, "split kept": p_split_kept, "RSA": p_rsa}
    held = [k for k, p in tests.items() if _finite(p) and p < alpha]
    reason = ", ".join(f"p {k} = {p:.3g}" for k, p in tests.items())
    reason += f"; gain CI high {gain_ci_high:.3g}, RSA gain CI high {rsa_gain_ci_high:.3g}"
    if len(held) == 3:
        return Verdict("replicates", rule, f"all three tests significant ({reason})")
    if held:
        return Verdict("partly", rule, f"significant: {held} ({reason})")
    if _finite(gain_ci_high, rsa_gain_ci_high) and gain_ci_high < margin and rsa_gain_ci_high < margin:
        return Verdict("does not replicate", rule, f"no test significant and both gains excluded above {margin} "
                                                   f"({reason})")
    return Verdict("inconclusive", rule, f"no test significant, but the CIs still hold a gain of {margin} ({reason})")


RULE_6 = ("Claim 6 (alignment), fixed before the run. Each strategy vs the label-only model, test subjects as "
          "units (seeds averaged, fold models as clusters), Holm over the strategies: improved / reduced = a "
          "Holm-significant difference; unchanged = equivalent within +-{margin_pts:g} BA points (TOST, Holm); "
          "inconclusive = neither. Primary: the weight chosen on validation subjects from the grid plus 0; "
          "forced: the best non-zero weight (supervision always on). DOES NOT REPLICATE if any strategy improves "
          "under the primary selection; REPLICATES if none improves and at least {min_reduced} of the strategies "
          "(paper: 16 of 25) are reduced under forced supervision; PARTLY if none improves and the forced "
          "reductions cannot reach {min_reduced} even counting every inconclusive one; INCONCLUSIVE otherwise. "
          "Synthetic data: inconclusive.")


def claim6(counts: Mapping[str, int], counts_forced: Mapping[str, int], *, margin: float = 0.01,
           min_reduced: int = 12, source: str = "faced") -> Verdict:
    """Claim 6's verdict (:data:`RULE_6`) from the four-way counts of the primary and the forced comparison."""
    rule = RULE_6.format(margin_pts=100 * margin, min_reduced=min_reduced)
    if source == "synthetic":
        return synthetic_verdict(rule)
    imp, red, inc = int(counts["improved"]), int(counts_forced["reduced"]), int(counts_forced["inconclusive"])
    reason = (f"primary {dict(counts)}; forced {dict(counts_forced)}")
    if imp > 0:
        return Verdict("does not replicate", rule, f"{imp} strategies improve decoding ({reason})")
    if red >= min_reduced:
        return Verdict("replicates", rule, f"none improves and {red} are reduced under forced supervision ({reason})")
    if red + inc < min_reduced:
        return Verdict("partly", rule, f"none improves, but at most {red + inc} could be reduced under forced "
                                       f"supervision ({reason})")
    return Verdict("inconclusive", rule, f"none improves; {red} reduced and {inc} undecided under forced "
                                         f"supervision ({reason})")


RULE_8 = ("Claim 8 (residual-diversity ensembles), fixed before the run. The headline ensemble ({headline}, {size} "
          "members, mean of probabilities) against the strongest comparator re-run in this build on FACED "
          "9-class (the highest BA among the best single model chosen on validation subjects, the same-size seed "
          "ensemble and the DE + linear SVM); test subjects as units, each trained pool a cluster, Holm across all "
          "comparisons. The paper's '+10.5 %' read as a relative gain (10.5 % of the comparator's BA): REPLICATES "
          "if the gain is significant and its 95% CI reaches 10.5 %; PARTLY if significant but the CI excludes "
          "10.5 %; DOES NOT REPLICATE if not significant and the CI excludes 10.5 %; INCONCLUSIVE otherwise. The "
          "same rule with 10.5 BA points (the absolute reading) is reported beside it. Synthetic data: "
          "inconclusive.")


def claim8(gain_relative: float, rel_ci_low: float, rel_ci_high: float, p_holm: float, *, alpha: float = 0.05,
           margin_relative: float = 10.5, headline: str = "greedy", size: int = 5, source: str = "faced") -> Verdict:
    """Claim 8's verdict (:data:`RULE_8`, relative reading) from the headline's gain over the strongest
    comparator (in % of the comparator's BA, with its CI and Holm p)."""
    rule = RULE_8.format(headline=headline, size=size)
    return directional(gain_relative, rel_ci_low, rel_ci_high, p_holm, alpha=alpha, margin=margin_relative,
                       rule=rule, source=source, unit="% (relative)")


def claim8_points(gain_points: float, ci_low: float, ci_high: float, p_holm: float, *, alpha: float = 0.05,
                  margin_points: float = 10.5, headline: str = "greedy", size: int = 5,
                  source: str = "faced") -> Verdict:
    """The absolute reading of claim 8 (10.5 BA points), reported beside :func:`claim8`."""
    return directional(gain_points, ci_low, ci_high, p_holm, alpha=alpha, margin=margin_points,
                       rule=RULE_8.format(headline=headline, size=size), source=source, unit="BA points")


RULE_7 = ("Claim 7 (the saturation regularity), fixed before the run. Four criteria, each a per-fold statistic with "
          "a 95% t-interval over folds (seeds averaged) against a null that could win: (1) basin_saturated: the "
          "label-only V-direction orders held-out class centroids better than one re-fitted to permuted positions "
          "(holds above 0, fails below 0.10 Spearman); (2) residual_starved: the alignment gradient's residual-"
          "subspace share is smaller with the LLM targets than with the same losses given shuffled targets at the "
          "same states (holds above 0, fails below 0.02); (3) v_carries_accuracy: a readout of the V-direction "
          "beats one of a random direction of the between-class span (holds above 0, fails below 0.01 BA); (4) "
          "supervision_does_not_pay: the strategies' mean BA minus the label-only model's (holds below 0.01, fails "
          "above 0). REPLICATES if all "
          "hold; PARTLY if some hold and some fail; DOES NOT REPLICATE if all fail; INCONCLUSIVE otherwise. "
          "Synthetic data: inconclusive.")


def claim7(criteria: Sequence[Mapping], source: str = "faced") -> Verdict:
    """Claim 7's verdict (:data:`RULE_7`) from :func:`vaxis.claims.saturation_criteria.criterion` records."""
    return criteria_outcome(criteria, RULE_7, source=source)


RULE_4 = ("Claim 4 (EEG tracks the V-axis), fixed before the run. A cross-subject ridge map from clip features to "
          "the clip's V-axis position, scored per held-out subject (Spearman), against the honest null that "
          "shuffles the nine category positions and re-fits everything: REPLICATES if the map beats its honest "
          "null (p < {alpha}) and so does leave-one-category-out prediction (which a map tracking category "
          "identity alone cannot do); PARTLY if one of the two does; DOES NOT REPLICATE if neither does and the "
          "95% CI of the mean gain over the honest null's mean lies below {margin} (Spearman) in both designs; "
          "INCONCLUSIVE otherwise. Synthetic data: inconclusive.")


def claim4(p_all: float, p_loco: float, gain_ci_high_all: float, gain_ci_high_loco: float, *, alpha: float = 0.05,
           margin: float = 0.10, source: str = "faced") -> Verdict:
    """Claim 4's verdict (:data:`RULE_4`) from the honest-null p-values and the gains' upper CI bounds."""
    rule = RULE_4.format(alpha=alpha, margin=margin)
    if source == "synthetic":
        return synthetic_verdict(rule)
    held = [k for k, p in (("all categories", p_all), ("leave-one-category-out", p_loco)) if _finite(p) and p < alpha]
    reason = (f"honest p all {p_all:.3g}, LOCO {p_loco:.3g}; gain CI high all {gain_ci_high_all:.3g}, LOCO "
              f"{gain_ci_high_loco:.3g}")
    if len(held) == 2:
        return Verdict("replicates", rule, f"both designs beat the honest null ({reason})")
    if held:
        return Verdict("partly", rule, f"only {held[0]} beats the honest null ({reason})")
    if _finite(gain_ci_high_all, gain_ci_high_loco) and max(gain_ci_high_all, gain_ci_high_loco) < margin:
        return Verdict("does not replicate", rule, f"neither beats the honest null and both gains are excluded "
                                                   f"above {margin} ({reason})")
    return Verdict("inconclusive", rule, f"neither beats the honest null, but a gain of {margin} is not excluded "
                                         f"({reason})")


# ===================================================================================================================
# Text claims 1-3 (chapters 1-3): rules, verdicts and power statements. Self-contained: this section only uses
# Power, Verdict and the module's imports.
# ===================================================================================================================

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


def auroc_null_se(n_pos: int, n_neg: int) -> float:
    """Standard error of an AUROC under no effect: ``sqrt((n_pos + n_neg + 1) / (12 n_pos n_neg))`` (Mann-Whitney)."""
    return math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))


def auroc_mde(n_pos: int, n_neg: int, alpha: float = TEXT_ALPHA, power: float = 0.8) -> float:
    """The smallest AUROC above 0.5 that a two-sided test at ``alpha`` detects with ``power`` on one benchmark of
    ``n_pos`` positive and ``n_neg`` negative texts: ``0.5 + (z_{1-alpha/2} + z_power) * SE_0``."""
    if n_pos < 1 or n_neg < 1:
        return float("nan")
    return 0.5 + (_z(1 - alpha / 2) + _z(power)) * auroc_null_se(n_pos, n_neg)


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


__all__ += ["RULE_1", "RULE_2", "RULE_3", "CLAIM2_MARGIN", "CLAIM3_MARGIN", "claim1", "claim2", "claim3",
            "power_claim1", "power_claim2", "power_claim3", "auroc_mde", "auroc_null_se"]
