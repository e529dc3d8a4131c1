"""Verdict rules: one pure function per claim turning a chapter's statistics into a verdict.

The generic machinery is in :mod:`vaxis.publish.outcomes` and the text claims' rules (1-3) in
:mod:`vaxis.publish.verdicts_text`; both are re-exported here. Every rule is fixed in code, before any chapter
reads its data; its text (``RULES[claim]``) is printed by the
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

from collections.abc import Mapping, Sequence

from vaxis.publish.outcomes import (
    OUTCOMES,
    SYNTHETIC_REASON,
    Power,
    Verdict,
    _finite,
    count_outcome,
    criteria_outcome,
    directional,
    interval_outcome,
    synthetic_verdict,
)
from vaxis.publish.verdicts_text import (
    CLAIM2_MARGIN,
    CLAIM3_MARGIN,
    RULE_1,
    RULE_2,
    RULE_3,
    TEXT_ALPHA,
    auroc_mde,
    auroc_null_se,
    claim1,
    claim2,
    claim3,
    power_claim1,
    power_claim2,
    power_claim3,
)

__all__ = ["OUTCOMES", "Power", "Verdict", "directional", "interval_outcome", "count_outcome",
           "criteria_outcome", "synthetic_verdict", "SYNTHETIC_REASON"]


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


__all__ += ["RULE_1", "RULE_2", "RULE_3", "CLAIM2_MARGIN", "CLAIM3_MARGIN", "claim1", "claim2", "claim3",
            "power_claim1", "power_claim2", "power_claim3", "auroc_mde", "auroc_null_se"]

__all__ += ["TEXT_ALPHA"]
