"""The verdict rules' numbers, one named constant each: the margins fixed before any chapter reads its data and the
paper's figures the rules compare with.

The rule texts (:mod:`vaxis.publish.text_verdicts`, :mod:`vaxis.publish.verdicts`), the rule functions, the
scoreboard (:data:`vaxis.publish.scoreboard.PAPER_CLAIMS`) and the chapters read them from here, so a number is typed
once. Claim 7's five margins live with its criteria in ``vaxis.claims.saturation`` (the job records them and the
``claims`` stage cannot import ``publish``); two of them are the margins below (``tests/publish/test_rules.py``
checks that they agree).
"""

from __future__ import annotations

__all__ = ["TEXT_ALPHA", "CLAIM3_MARGIN", "CLAIM4_MARGIN", "CLAIM5_MARGIN", "CLAIM6_MARGIN", "CLAIM6_MAJORITY",
           "CLAIM6_PAPER_COUNTS", "CLAIM6_PAPER_REDUCED", "claim6_min_reduced", "CLAIM8_GAIN",
           "CLAIM8_DIVERSITY_SHARE"]

#: Significance level of the text claims (before the Bonferroni split over models / pairs).
TEXT_ALPHA = 0.05

#: Chapter 3's margin: agreement (Spearman) above the random-weight floor that the rule names as "agree". (Chapter
#: 2's margin is not a typed number: it is the better lexicon's AUROC measured on the same texts.)
CLAIM3_MARGIN = 0.10

#: Chapter 4's margin: the smallest mean gain (Spearman) over the honest null that counts as tracking; "does not
#: replicate" needs both designs' gains excluded above it.
CLAIM4_MARGIN = 0.10

#: Chapter 5's margin: the smallest mean probe gain (Spearman) over the permutation null that counts as
#: rediscovery (also claim 7's ``basin_saturated`` margin).
CLAIM5_MARGIN = 0.10

#: Claim 6's margin: 1 BA point (fraction 0.01), the equivalence margin of the strategy comparisons fixed before the
#: run (the smallest change in 9-class BA this book calls an improvement; the design is sized to detect it; also
#: claim 7's ``v_carries_accuracy`` and ``residual_load_bearing`` margins).
CLAIM6_MARGIN = 0.01
#: "Most strategies" read as more than half of those tested (the paper's 16 of 25 = 64 % is above it).
CLAIM6_MAJORITY = 0.5
#: The paper's claim-6 counts over its 25 strategies (0 improve / 9 unchanged / 16 reduce).
CLAIM6_PAPER_COUNTS = {"improved": 0, "unchanged": 9, "reduced": 16}
#: The paper's count of forced reductions and of strategies, for the rule text and the chapter's table: (16, 25).
CLAIM6_PAPER_REDUCED = (CLAIM6_PAPER_COUNTS["reduced"], sum(CLAIM6_PAPER_COUNTS.values()))


def claim6_min_reduced(n_strategies: int, majority: float = CLAIM6_MAJORITY) -> int:
    """Forced reductions claim 6's part B needs: the smallest count above ``majority`` of ``n_strategies`` (13 of
    25)."""
    return int(n_strategies * majority) + 1


#: The paper's claim-8 effect: "+10.5 %" balanced accuracy over the prior best on FACED (PAPER.md), read as a
#: relative gain (10.5 % of the comparator's BA) and, beside it, as 10.5 BA points.
CLAIM8_GAIN = 10.5
#: "The gain comes from residual diversity": more than half of the paper's gain (so ``0.5 * CLAIM8_GAIN`` %) must
#: survive against the same-size seed ensemble, the control that differs from the headline only in how members
#: are chosen; below that, most of the gain is plain ensembling.
CLAIM8_DIVERSITY_SHARE = 0.5
