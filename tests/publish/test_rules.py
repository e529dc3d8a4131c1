"""Each rule number is one named constant: the rule texts, the rule functions, the scoreboard and the chapters'
parameter cells print and use that constant (no number typed twice)."""

from __future__ import annotations

import pytest

from vaxis.publish import rules, text_verdicts, verdicts
from vaxis.publish.params import parameter_cell
from vaxis.publish.scoreboard import PAPER_CLAIMS


def test_claim8_rule_text_and_parts_use_the_paper_gain():
    text = verdicts.rule8("greedy", 5, "cross-subject")
    g = rules.CLAIM8_GAIN
    assert f"above {g:g} % (the paper's '+{g:g} %')" in text and f"({g:g} BA points)" in text
    assert f"HOLDS above {rules.CLAIM8_DIVERSITY_SHARE * g:g} % ({rules.CLAIM8_DIVERSITY_SHARE:g} of" in text
    gain = {"gain_relative": 20.0, "rel_ci_low": 15.0, "rel_ci_high": 25.0, "mde_relative": 3.0}
    _, parts = verdicts.claim8(gain, gain)
    assert [p.margin for p in parts] == [g, rules.CLAIM8_DIVERSITY_SHARE * g, g]
    assert verdicts.claim8_points(1.0, 0.0, 2.0).margin == g
    assert PAPER_CLAIMS[8][1].startswith(f"+{g:g}% BA on FACED")


def test_claim6_rule_text_prints_the_paper_count_and_the_threshold():
    red, n = rules.CLAIM6_PAPER_REDUCED
    assert (red, n) == (16, 25) and rules.CLAIM6_PAPER_COUNTS == {"improved": 0, "unchanged": 9, "reduced": 16}
    need = rules.claim6_min_reduced(n)
    assert need == 13 and rules.claim6_min_reduced(24) == 13 and rules.claim6_min_reduced(26) == 14
    text = verdicts.rule6(n, rules.CLAIM6_MARGIN)
    assert f"paper: {red} of {n}" in text and f"at least {need} of {n}" in text
    assert f"+{100 * rules.CLAIM6_MARGIN:g} BA point" in text
    assert PAPER_CLAIMS[6][1] == f"0/{n} improve, {red}/{n} reduce"
    counts = {"improved": 0, "unchanged": 12, "reduced": need, "inconclusive": 0}
    strategies = [{"not_used": False, "comparisons": [{"diff": -0.02, "ci_low": -0.03, "ci_high": 0.001}]}]
    b = verdicts.claim6_parts(strategies, counts, mde_primary=0.01, mde_forced=0.01)[1]
    assert b.margin == need and b.outcome == "holds" and f"paper {red} of {n}" in b.reason


@pytest.mark.parametrize("rule, margin", [(verdicts.RULE_4, rules.CLAIM4_MARGIN),
                                          (verdicts.RULE_5, rules.CLAIM5_MARGIN)])
def test_claims_4_and_5_print_their_margin(rule, margin):
    assert f"below {margin} (Spearman)" in rule.format(alpha=0.05, margin=margin)


def test_claim3_and_text_alpha_are_what_the_text_rules_print():
    assert f"the margin {rules.CLAIM3_MARGIN:.2f}" in text_verdicts.RULE_3
    assert f"1 - {rules.TEXT_ALPHA:g}/p" in text_verdicts.RULE_3
    assert f"both p <= {rules.TEXT_ALPHA:g}" in text_verdicts.RULE_1
    assert f"1 - {rules.TEXT_ALPHA:g}/m" in text_verdicts.RULE_2


def test_claim7_margins_shared_with_claims_5_and_6_agree_and_are_printed():
    from vaxis.claims.saturation.criteria import CRITERIA

    assert CRITERIA["basin_saturated"].margin == rules.CLAIM5_MARGIN
    assert CRITERIA["v_carries_accuracy"].margin == rules.CLAIM6_MARGIN
    assert CRITERIA["residual_load_bearing"].margin == rules.CLAIM6_MARGIN
    for name, c in CRITERIA.items():
        assert f"{name} [{c.level}]" in verdicts.RULE_7 and f"margin {c.margin:g} {c.unit}" in verdicts.RULE_7


@pytest.mark.parametrize("chapter, name, value", [
    ("04_eeg_projection", "margin", rules.CLAIM4_MARGIN),
    ("05_rediscovery", "margin", rules.CLAIM5_MARGIN),
])
def test_chapter_parameter_defaults_are_the_rule_constants(chapter, name, value):
    assert parameter_cell(chapter)[name][0] == value
