"""The EEG claims' verdict rules (claims 4-8, chapters 4-8) and the stimulus page's readings: one pure function per
claim turning a chapter's statistics into a :class:`~vaxis.publish.outcomes.Verdict`.

Every rule is fixed in code, before any chapter reads its data; its text (``RULE_4`` ... ``RULE_8``, or ``rule6`` /
``rule8`` with the run's numbers filled in) is printed by the chapter before the result and stored beside the verdict
in ``results/<chapter>.json``. The rules' numbers are named in :mod:`vaxis.publish.rules`; the outcomes and the
generic decisions are in :mod:`vaxis.publish.outcomes`, the claims decided in parts combine them with
:mod:`vaxis.publish.parts`; the text claims (1-3) are in :mod:`vaxis.publish.text_verdicts`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from vaxis.claims.saturation.criteria import CRITERIA
from vaxis.publish.outcomes import Verdict, all_finite, interval_outcome, synthetic_verdict
from vaxis.publish.parts import Part, combine_parts, part_from_interval
from vaxis.publish.rules import (
    CLAIM4_MARGIN,
    CLAIM5_MARGIN,
    CLAIM6_MARGIN,
    CLAIM6_PAPER_REDUCED,
    CLAIM8_DIVERSITY_SHARE,
    CLAIM8_GAIN,
    claim6_min_reduced,
)

__all__ = ["RULE_4", "claim4", "RULE_5", "claim5", "RULE_6", "rule6", "claim6_parts", "claim6", "RULE_7",
           "claim7_parts", "claim7", "RULE_8", "rule8", "claim8", "claim8_points", "unseen_clip_reading",
           "self_report_reading"]


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
           rsa_gain_ci_high: float, *, alpha: float = 0.05, margin: float = CLAIM5_MARGIN,
           source: str = "faced") -> Verdict:
    """Claim 5's verdict (:data:`RULE_5`) from the population test, its split-kept null and the RSA test.

    ``gain_ci_high`` / ``rsa_gain_ci_high``: upper 95 % bounds over folds of the mean (over models) probe score
    minus its null mean, and of the mean RSA minus its null mean.
    """
    rule = RULE_5.format(alpha=alpha, margin=margin)
    if source == "synthetic":
        return synthetic_verdict(rule)
    tests = {"unrestricted": p_unrestricted, "split kept": p_split_kept, "RSA": p_rsa}
    held = [k for k, p in tests.items() if all_finite(p) and p < alpha]
    reason = ", ".join(f"p {k} = {p:.3g}" for k, p in tests.items())
    reason += f"; gain CI high {gain_ci_high:.3g}, RSA gain CI high {rsa_gain_ci_high:.3g}"
    if len(held) == 3:
        return Verdict("replicates", rule, f"all three tests significant ({reason})")
    if held:
        return Verdict("partly", rule, f"significant: {held} ({reason})")
    if all_finite(gain_ci_high, rsa_gain_ci_high) and gain_ci_high < margin and rsa_gain_ci_high < margin:
        return Verdict("does not replicate", rule, f"no test significant and both gains excluded above {margin} "
                                                   f"({reason})")
    return Verdict("inconclusive", rule, f"no test significant, but the CIs still hold a gain of {margin} ({reason})")


RULE_6 = ("Claim 6 (alignment), fixed before the run. Two parts, each decided from its own interval; test subjects "
          "as units (seeds averaged, each fold's models a cluster). A strategy whose weight chosen on validation "
          "subjects (grid plus 0) is 0 in every fold is NOT USED: it is the label-only model by construction, "
          "neither tested nor counted as unchanged. Part A no_improvement ('the LLM signal does not improve "
          "decoding'): a used strategy's LLM gain is the smallest of its differences against the label-only model "
          "and against each of its controls (the same loss and weight with shuffled targets, and with uniform "
          "targets where the loss has them; trained for the distillation family, whose soft targets are also label "
          "smoothing; a strategy without controls is compared with the label-only model alone), "
          "each bounded at the Bonferroni level alpha/m (Holm's first "
          "step; m = the used strategies, resp. every strategy x control row); the part's statistic is the largest "
          "LLM gain, with the interval [largest lower bound, largest upper bound]. FAILS if that interval lies above "
          "0 (an improvement that no control explains); HOLDS if it lies below +{margin_pts:g} BA point (every "
          "improvement of that size excluded; {margin_pts:g} point = the equivalence margin fixed before the run); "
          "UNDECIDED otherwise, or when no strategy is used. Part B forced_reduces ('forced supervision reduces "
          "most strategies'; paper: {paper_red} of {paper_n}): at the best non-zero weight, a strategy is reduced "
          "when its difference is Holm-significantly negative (Holm over the {n} strategies; the forced "
          "comparison's own power decides it); the count interval is [reduced, reduced + undecided]; 'most' = more "
          "than half, i.e. at least {min_reduced} of {n}. HOLDS if at least {min_reduced} are reduced; FAILS if "
          "fewer than {min_reduced} could be even counting every undecided one; UNDECIDED otherwise. The verdict "
          "combines the parts by the shared rule (both hold: replicates; one holds and one fails: partly; both "
          "fail: does not replicate; otherwise inconclusive). Synthetic data: inconclusive.")


def rule6(n_strategies: int, margin: float = CLAIM6_MARGIN) -> str:
    """:data:`RULE_6` with its numbers for ``n_strategies`` tested strategies and ``margin`` (BA fraction)."""
    return RULE_6.format(margin_pts=100 * margin, paper_red=CLAIM6_PAPER_REDUCED[0], paper_n=CLAIM6_PAPER_REDUCED[1],
                         n=n_strategies, min_reduced=claim6_min_reduced(n_strategies))


def claim6_parts(strategies: Sequence[Mapping], counts_forced: Mapping[str, int], *, mde_primary: float,
                 mde_forced: float, margin: float = CLAIM6_MARGIN) -> list[Part]:
    """Claim 6's two parts (:data:`RULE_6`), in BA points for part A and counts of strategies for part B.

    Parameters
    ----------
    strategies : sequence of mappings
        One per strategy: ``not_used`` (bool) and ``comparisons``, a list of ``{against, diff, ci_low, ci_high}``
        (BA fractions; bounds at the Bonferroni level) against ``"label-only"`` and each of its controls, e.g.
        from :func:`vaxis.claims.alignment.stats.gain_inputs`.
    counts_forced : mapping
        The forced comparison's counts (``reduced``, ``inconclusive``, ``improved``, ``unchanged``).
    mde_primary, mde_forced : float
        Per-strategy MDE after Holm (BA fraction) of the primary and of the forced comparison.
    """
    used = [s for s in strategies if not s["not_used"]]
    gains = [(min(c["diff"] for c in s["comparisons"]), min(c["ci_low"] for c in s["comparisons"]),
              min(c["ci_high"] for c in s["comparisons"])) for s in used]
    est, lo, hi = ((100 * max(g[k] for g in gains) for k in range(3)) if gains else (float("nan"),) * 3)
    m_pts, n_unused = 100 * margin, len(strategies) - len(used)
    stats = f"largest LLM gain {est:+.3g} BA points [{lo:+.3g}, {hi:+.3g}] over {len(used)} used strategies"
    if not gains or not all_finite(est, lo, hi):
        out_a, why = "undecided", f"no used strategy to test ({n_unused} not used)"
    elif lo > 0:
        out_a, why = "fails", f"an improvement that no control explains ({stats})"
    elif hi < m_pts:
        out_a, why = "holds", f"improvements of {m_pts:g} point excluded ({stats}; {n_unused} not used)"
    else:
        out_a, why = "undecided", f"an improvement of {m_pts:g} point is not excluded ({stats})"
    n = sum(int(counts_forced[k]) for k in ("improved", "unchanged", "reduced", "inconclusive"))
    red, inc, need = int(counts_forced["reduced"]), int(counts_forced["inconclusive"]), claim6_min_reduced(n)
    out_b = "holds" if red >= need else "fails" if red + inc < need else "undecided"
    why_b = (f"{red} reduced, {inc} undecided of {n} under forced supervision; needs {need} "
             f"(paper {CLAIM6_PAPER_REDUCED[0]} of {CLAIM6_PAPER_REDUCED[1]})")
    return [Part("no_improvement", out_a, est, lo, hi, m_pts, 100 * mde_primary, "BA points", why),
            Part("forced_reduces", out_b, red, red, red + inc, need, 100 * mde_forced,
                 "strategies (mde in BA points per strategy)", why_b)]


def claim6(strategies: Sequence[Mapping], counts_forced: Mapping[str, int], *, mde_primary: float,
           mde_forced: float, margin: float = CLAIM6_MARGIN, source: str = "faced") -> Verdict:
    """Claim 6's verdict (:data:`RULE_6`): :func:`claim6_parts` combined by :func:`combine_parts`."""
    parts = claim6_parts(strategies, counts_forced, mde_primary=mde_primary, mde_forced=mde_forced, margin=margin)
    n = sum(int(counts_forced[k]) for k in ("improved", "unchanged", "reduced", "inconclusive"))
    return combine_parts(parts, rule6(n, margin), source=source)


RULE_8 = ("Claim 8 (residual-diversity ensembles), fixed before the run. The headline ensemble ({headline}, {size} "
          "members, mean of probabilities) on FACED 9-class ({protocol}), test subjects as units, each trained "
          "pool a cluster. The comparator standing in for the paper's prior best is fixed on VALIDATION subjects "
          "before any test score is read: the DE + linear SVM re-run in this build or the best single label-only "
          "model, whichever has the higher validation BA. Part A gain_over_prior_best: the headline's gain over "
          "that comparator in % of its BA (standard error from a two-way cluster bootstrap of the ratio, so the "
          "denominator's uncertainty is carried; t quantile at the clustered test's df) HOLDS if its interval "
          "lies above {gain:g} % (the paper's '+{gain:g} %'), FAILS if it lies below, else undecided; the "
          "absolute reading ({gain:g} BA points) is reported beside it. Part B from_residual_diversity: the "
          "headline's gain over the same-size seed ensemble in % of its BA HOLDS above {div:g} % ({share:g} of "
          "the paper's gain: most of it must come from how members are chosen), FAILS below. Parts A and B are "
          "one family: simultaneous {level:g} % intervals (Bonferroni over 2, the p-values adjusted the same "
          "way). Part C replicates_on_seedv: the same gain on SEED-V (comparator: the best single model; "
          "interval simultaneous over its own table) above {gain:g} %, tested only when real SEED-V data are "
          "read; otherwise it is shown as untested and left out. Verdict from the tested parts: all hold "
          "REPLICATES; some hold and some fail PARTLY; all fail DOES NOT REPLICATE; else INCONCLUSIVE. Synthetic "
          "FACED data: inconclusive.")


def rule8(headline: str = "greedy", size: int = 5, protocol: str = "cross-subject", alpha: float = 0.05) -> str:
    """:data:`RULE_8` with its numbers filled in (the chapter prints it before the run)."""
    return RULE_8.format(headline=headline, size=size, protocol=protocol, gain=CLAIM8_GAIN,
                         div=CLAIM8_DIVERSITY_SHARE * CLAIM8_GAIN, share=CLAIM8_DIVERSITY_SHARE,
                         level=100 * (1 - alpha / 2))


def claim8(gain: Mapping, diversity: Mapping, seedv: Mapping | None = None, *, seedv_source: str = "synthetic",
           alpha: float = 0.05, headline: str = "greedy", size: int = 5, protocol: str = "cross-subject",
           source: str = "faced", with_seedv: bool = True) -> tuple[Verdict, list[Part]]:
    """Claim 8's verdict (:data:`RULE_8`) and its parts from the chapter's relative gains.

    Parameters
    ----------
    gain, diversity : mapping
        Part A (headline vs the comparator fixed on validation) and part B (headline vs the same-size seed
        ensemble): ``gain_relative``, ``rel_ci_low``, ``rel_ci_high`` (%, simultaneous over the two) and
        ``mde_relative`` (%), e.g. :func:`vaxis.claims.ensemble.stats.part_gains`.
    seedv : mapping, optional
        The same fields for SEED-V (headline vs its single best model); used only if ``seedv_source == "seedv"``.
    with_seedv : bool
        List part C at all (False for a row about FACED alone, e.g. the cross-stimulus one).

    Returns
    -------
    (Verdict, list of Part)
        Parts A, B and C in that order (C untested and outside the verdict unless real SEED-V data were read).
    """
    rule = rule8(headline, size, protocol, alpha)

    def part(name: str, g: Mapping, above: float, what: str) -> Part:
        return part_from_interval(name, g["gain_relative"], g["rel_ci_low"], g["rel_ci_high"], holds_above=above,
                                  mde=g.get("mde_relative", float("nan")), unit="% (relative)", what=what)

    parts = [part("gain_over_prior_best", gain, CLAIM8_GAIN, f"headline vs the prior best ({protocol})"),
             part("from_residual_diversity", diversity, CLAIM8_DIVERSITY_SHARE * CLAIM8_GAIN,
                  f"headline vs the same-size seed ensemble ({protocol})")]
    tested = list(parts)
    if with_seedv and seedv_source == "seedv" and seedv is not None:
        parts.append(part("replicates_on_seedv", seedv, CLAIM8_GAIN, "SEED-V 5-class, headline vs its single best"))
        tested.append(parts[-1])
    elif with_seedv:
        parts.append(Part("replicates_on_seedv", "undecided", float("nan"), float("nan"), float("nan"), CLAIM8_GAIN,
                          float("nan"), "% (relative)", "not tested: no real SEED-V data was read (the SEED-V "
                          "section ran on a synthetic SEED-V-format cohort); left out of the verdict"))
    return combine_parts(tested, rule, source=source), parts


def claim8_points(gain_points: float, ci_low: float, ci_high: float, *, mde: float = float("nan"),
                  protocol: str = "cross-subject") -> Part:
    """The absolute reading of part A (:data:`CLAIM8_GAIN` BA points over the prior best), reported beside
    :func:`claim8` (it does not enter the verdict)."""
    return part_from_interval("gain_over_prior_best_points", gain_points, ci_low, ci_high, holds_above=CLAIM8_GAIN,
                              mde=mde, unit="BA points", what=f"absolute reading ({protocol})")


def _rule7() -> str:
    each = "; ".join(f"({i}) {n} [{c.level}]: {c.statistic} (null: {c.null}), margin {c.margin:g} {c.unit} "
                     f"({c.origin})" for i, (n, c) in enumerate(CRITERIA.items(), 1))
    return ("Claim 7 (the saturation regularity), fixed before the run. Five criteria, each one statistic with one "
            "95% interval decided against one margin: HOLDS if the interval lies above the margin, FAILS if below, "
            "UNDECIDED if it holds the margin. Unit of analysis: the test subject with the fold model as a cluster "
            "(clustered paired test, seeds averaged) [subject], or the fold with the corrected resampled t-test "
            f"[fold]. {each}; beside (5), not decisive: the readout with only the residual kept. REPLICATES if "
            "all hold; PARTLY if some hold and some fail; DOES NOT REPLICATE if all fail; INCONCLUSIVE otherwise. "
            "Synthetic data: inconclusive.")


RULE_7 = _rule7()


def claim7_parts(criteria: Sequence[Mapping]) -> list[Part]:
    """Claim 7's parts, one per :data:`vaxis.claims.saturation.criteria.CRITERIA` entry (in its order), each
    decided from the record's interval (``statistic``, ``ci_low``, ``ci_high``, ``mde``, as written by
    :mod:`vaxis.claims.saturation.jobs`) against the criterion's own margin."""
    if [c["name"] for c in criteria] != list(CRITERIA):
        raise ValueError(f"claim 7 needs the criteria {list(CRITERIA)} in that order")
    return [part_from_interval(c["name"], c["statistic"], c["ci_low"], c["ci_high"],
                               holds_above=CRITERIA[c["name"]].margin, mde=c["mde"], unit=CRITERIA[c["name"]].unit,
                               what=CRITERIA[c["name"]].statistic) for c in criteria]


def claim7(criteria: Sequence[Mapping], source: str = "faced") -> Verdict:
    """Claim 7's verdict (:data:`RULE_7`): :func:`claim7_parts` combined by
    :func:`vaxis.publish.parts.combine_parts`."""
    return combine_parts(claim7_parts(criteria), RULE_7, source=source)


RULE_4 = ("Claim 4 (EEG tracks the V-axis), fixed before the run. A cross-subject ridge map from clip features to "
          "the clip's V-axis position, scored per held-out subject (Spearman), against the honest null that "
          "shuffles the nine category positions and re-fits everything (p-values Holm-corrected across the LLM "
          "targets; one verdict per protocol, cross-subject and cross-stimulus): REPLICATES if the map beats its "
          "honest null (p < {alpha}) and so does leave-one-category-out prediction (which a map tracking category "
          "identity alone cannot do); PARTLY if one of the two does; DOES NOT REPLICATE if neither does and the "
          "95% CI of the mean gain over the honest null's mean lies below {margin} (Spearman) in both designs; "
          "INCONCLUSIVE otherwise. Synthetic data: inconclusive.")


def claim4(p_all: float, p_loco: float, gain_ci_high_all: float, gain_ci_high_loco: float, *, alpha: float = 0.05,
           margin: float = CLAIM4_MARGIN, source: str = "faced") -> Verdict:
    """Claim 4's verdict (:data:`RULE_4`) from the honest-null p-values and the gains' upper CI bounds."""
    rule = RULE_4.format(alpha=alpha, margin=margin)
    if source == "synthetic":
        return synthetic_verdict(rule)
    held = [k for k, p in (("all categories", p_all), ("leave-one-category-out", p_loco))
            if all_finite(p) and p < alpha]
    reason = (f"honest p all {p_all:.3g}, LOCO {p_loco:.3g}; gain CI high all {gain_ci_high_all:.3g}, LOCO "
              f"{gain_ci_high_loco:.3g}")
    if len(held) == 2:
        return Verdict("replicates", rule, f"both designs beat the honest null ({reason})")
    if held:
        return Verdict("partly", rule, f"only {held[0]} beats the honest null ({reason})")
    if all_finite(gain_ci_high_all, gain_ci_high_loco) and max(gain_ci_high_all, gain_ci_high_loco) < margin:
        return Verdict("does not replicate", rule, f"neither beats the honest null and both gains are excluded "
                                                   f"above {margin} ({reason})")
    return Verdict("inconclusive", rule, f"neither beats the honest null, but a gain of {margin} is not excluded "
                                         f"({reason})")


# ------------------------------------------------------------------ the page "Emotion or stimulus?" (no claim)
def unseen_clip_reading(ci_low: float, ci_high: float, chance: float) -> str:
    """What a decoder's unseen-clip BA interval says against chance (one interval, one threshold)."""
    side = interval_outcome(ci_low, ci_high, chance)
    return {"above": "above chance on unseen clips", "below": "below chance on unseen clips",
            "undecided": "not distinguishable from chance on unseen clips"}[side]


def self_report_reading(ci_low: float, ci_high: float) -> str:
    """What the agrees-minus-disagrees BA interval of the self-report check says (threshold 0)."""
    side = interval_outcome(ci_low, ci_high, 0.0)
    return {"above": "worse where the subject did not feel it (an emotion signature)",
            "below": "better where the subject did not feel it",
            "undecided": "no detectable difference (what a clip recogniser predicts)"}[side]

