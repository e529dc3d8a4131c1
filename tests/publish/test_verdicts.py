"""Every outcome of every EEG claim's verdict rule (claims 4-8) is reached from hand-made statistics."""

from __future__ import annotations

import math

import pytest

from vaxis.publish import rules
from vaxis.publish import verdicts as V


@pytest.mark.parametrize("args, expected", [
    ((0.001, 0.002, 0.01, 0.30, 0.4), "replicates"),
    ((0.001, 0.40, 0.30, 0.30, 0.4), "partly"),
    ((0.40, 0.50, 0.60, 0.05, 0.04), "does not replicate"),
    ((0.40, 0.50, 0.60, 0.15, 0.04), "inconclusive"),
])
def test_claim5_every_outcome(args, expected):
    v = V.claim5(*args)
    assert v.verdict == expected and "Claim 5" in v.rule
    assert V.claim5(*args, source="synthetic").verdict == "inconclusive"


def _c(i, u, r, n):
    return {"improved": i, "unchanged": u, "reduced": r, "inconclusive": n}


def _s(name, *comps, not_used=False):
    """A strategy record of claim 6's part A: comparisons (against, diff, ci_low, ci_high) in BA fractions."""
    return {"strategy": name, "not_used": not_used,
            "comparisons": [{"against": a, "diff": d, "ci_low": lo, "ci_high": hi} for a, d, lo, hi in comps]}


_FLAT = [_s(f"s{i}", ("label-only", -0.002, -0.008, 0.004)) for i in range(24)]       # every gain excluded at 1 pt


@pytest.mark.parametrize("strategies, expected, est, lo, hi", [
    # no strategy improves and every upper bound is below +1 point: holds
    (_FLAT + [_s("kd", ("label-only", 0.001, -0.005, 0.007))], "holds", 0.1, -0.5, 0.7),
    # one strategy beats the label-only model and has no control: fails
    (_FLAT + [_s("rsa", ("label-only", 0.03, 0.012, 0.048))], "fails", 3.0, 1.2, 4.8),
    # one strategy beats the label-only model, but its shuffled control explains it: not "fails"
    (_FLAT + [_s("kd", ("label-only", 0.03, 0.012, 0.048), ("shuffled", 0.001, -0.006, 0.008),
                 ("uniform", 0.004, -0.002, 0.009))], "holds", 0.1, -0.6, 0.8),
    # ... explained by the control, but the control's interval still holds a 1-point gain: undecided
    (_FLAT + [_s("kd", ("label-only", 0.03, 0.012, 0.048), ("uniform", 0.004, -0.006, 0.014))], "undecided",
     0.4, -0.6, 1.4),
    # no significant gain, but a 1-point gain is not excluded: undecided
    (_FLAT + [_s("v_mse", ("label-only", 0.004, -0.004, 0.012))], "undecided", 0.4, -0.4, 1.2),
    # a not-used strategy (identical to label-only by construction) does not enter, whatever its numbers say
    (_FLAT + [_s("v_rank", ("label-only", 0.03, 0.012, 0.048), not_used=True)], "holds", -0.2, -0.8, 0.4),
])
def test_claim6_part_a_every_outcome(strategies, expected, est, lo, hi):
    a = V.claim6_parts(strategies, _c(0, 5, 16, 4), mde_primary=0.012, mde_forced=0.009)[0]
    assert a.name == "no_improvement" and a.outcome == expected
    assert (a.estimate, a.ci_low, a.ci_high) == pytest.approx((est, lo, hi))     # BA points
    assert a.margin == pytest.approx(100 * rules.CLAIM6_MARGIN) and a.mde == pytest.approx(1.2)


def test_claim6_all_not_used_is_undecided():
    """Weight 0 chosen on validation in every fold for every strategy: nothing was tested, part A cannot hold."""
    strategies = [_s(f"s{i}", ("label-only", 0.0, 0.0, 0.0), not_used=True) for i in range(25)]
    a, b = V.claim6_parts(strategies, _c(0, 5, 16, 4), mde_primary=float("nan"), mde_forced=0.009)
    assert a.outcome == "undecided" and "25 not used" in a.reason and b.outcome == "holds"
    assert V.claim6(strategies, _c(0, 5, 16, 4), mde_primary=float("nan"), mde_forced=0.009).verdict == "inconclusive"


@pytest.mark.parametrize("forced, expected", [
    (_c(0, 5, 16, 4), "holds"),            # the paper's 16 of 25
    (_c(0, 12, 13, 0), "holds"),           # the smallest majority of 25
    (_c(0, 13, 12, 0), "fails"),           # 12 reduced, none undecided: a majority is excluded
    (_c(1, 14, 5, 5), "fails"),            # at most 10 could be reduced
    (_c(0, 5, 10, 10), "undecided"),       # 10 reduced, 20 possible
])
def test_claim6_part_b_every_outcome(forced, expected):
    b = V.claim6_parts(_FLAT, forced, mde_primary=0.012, mde_forced=0.009)[1]
    n = sum(forced.values())
    assert b.name == "forced_reduces" and b.outcome == expected
    assert b.margin == math.floor(n / 2) + 1 == rules.claim6_min_reduced(n)
    assert (b.estimate, b.ci_low, b.ci_high) == (forced["reduced"], forced["reduced"],
                                                 forced["reduced"] + forced["inconclusive"])
    assert b.mde == pytest.approx(0.9)       # the forced comparison's MDE, not the primary one's


@pytest.mark.parametrize("extra, forced, expected", [
    (_s("kd", ("label-only", 0.001, -0.005, 0.007)), _c(0, 5, 16, 4), "replicates"),
    (_s("rsa", ("label-only", 0.03, 0.012, 0.048)), _c(0, 5, 16, 4), "partly"),
    (_s("kd", ("label-only", 0.001, -0.005, 0.007)), _c(0, 20, 2, 3), "partly"),
    (_s("rsa", ("label-only", 0.03, 0.012, 0.048)), _c(0, 20, 2, 3), "does not replicate"),
    (_s("v_mse", ("label-only", 0.004, -0.004, 0.012)), _c(0, 5, 16, 4), "inconclusive"),
    (_s("kd", ("label-only", 0.001, -0.005, 0.007)), _c(0, 5, 5, 15), "inconclusive"),
])
def test_claim6_every_outcome(extra, forced, expected):
    kw = {"mde_primary": 0.012, "mde_forced": 0.009}
    v = V.claim6(_FLAT + [extra], forced, **kw)
    assert v.verdict == expected and "Claim 6" in v.rule and "no_improvement" in v.reason
    assert "at least 13 of 25" in v.rule and "16 of 25" in v.rule and "12" not in v.rule.replace("1.2", "")
    assert V.claim6(_FLAT + [extra], forced, source="synthetic", **kw).verdict == "inconclusive"
    assert [p.as_dict()["name"] for p in V.claim6_parts(_FLAT + [extra], forced, **kw)] == ["no_improvement",
                                                                                             "forced_reduces"]


def _g(est: float, lo: float, hi: float, mde: float = 3.0) -> dict:
    return {"gain_relative": est, "rel_ci_low": lo, "rel_ci_high": hi, "mde_relative": mde}


# hand-made intervals (%, relative) against the paper's 10.5 % (part A) and half of it, 5.25 % (part B)
_A_HOLDS, _A_FAILS, _A_OPEN = _g(14.0, 11.0, 17.0), _g(1.0, -1.5, 3.5), _g(9.0, 4.0, 14.0)
_B_HOLDS, _B_FAILS, _B_OPEN = _g(8.0, 6.0, 10.0), _g(-0.1, -1.4, 1.2), _g(5.0, 2.0, 8.0)


@pytest.mark.parametrize("a, b, parts, expected", [
    (_A_HOLDS, _B_HOLDS, ("holds", "holds"), "replicates"),
    (_A_HOLDS, _B_FAILS, ("holds", "fails"), "partly"),
    (_A_FAILS, _B_HOLDS, ("fails", "holds"), "partly"),
    (_A_FAILS, _B_FAILS, ("fails", "fails"), "does not replicate"),
    (_A_OPEN, _B_FAILS, ("undecided", "fails"), "inconclusive"),
    (_A_HOLDS, _B_OPEN, ("holds", "undecided"), "inconclusive"),
])
def test_claim8_parts_reach_every_outcome(a, b, parts, expected):
    v, ps = V.claim8(a, b)
    assert v.verdict == expected and "Claim 8" in v.rule
    assert [p.outcome for p in ps[:2]] == list(parts)
    assert [p.name for p in ps] == ["gain_over_prior_best", "from_residual_diversity", "replicates_on_seedv"]
    assert ps[0].margin == rules.CLAIM8_GAIN == 10.5 and ps[1].margin == pytest.approx(0.5 * 10.5)
    assert ps[0].mde == 3.0 and set(ps[0].as_dict()) >= {"name", "outcome", "estimate", "ci_low", "ci_high",
                                                         "margin", "mde"}
    assert V.claim8(a, b, source="synthetic")[0].verdict == "inconclusive"


def test_claim8_seedv_part_says_no_real_data_and_stays_out_of_the_verdict():
    v, ps = V.claim8(_A_HOLDS, _B_HOLDS, _A_FAILS, seedv_source="synthetic")
    assert v.verdict == "replicates"                               # the untested SEED-V part does not enter
    c = ps[2]
    assert c.outcome == "undecided" and "no real SEED-V data was read" in c.reason
    # with real SEED-V data the same interval decides the part and enters the verdict
    v2, ps2 = V.claim8(_A_HOLDS, _B_HOLDS, _A_FAILS, seedv_source="seedv")
    assert ps2[2].outcome == "fails" and v2.verdict == "partly"
    assert V.claim8(_A_HOLDS, _B_HOLDS, _A_HOLDS, seedv_source="seedv")[0].verdict == "replicates"
    v3, ps3 = V.claim8(_A_FAILS, _B_HOLDS, with_seedv=False, protocol="cross-stimulus")
    assert len(ps3) == 2 and v3.verdict == "partly" and "cross-stimulus" in ps3[0].reason


def test_claim8_interval_straddling_the_gain_is_never_holds():
    """A gain whose interval holds 10.5 % is undecided, one below it fails, whatever the point estimate."""
    _, ps = V.claim8(_g(12.0, 10.0, 14.0), _B_HOLDS)
    assert ps[0].outcome == "undecided"
    _, ps = V.claim8(_g(6.0, 2.0, 10.4), _B_HOLDS)
    assert ps[0].outcome == "fails"


@pytest.mark.parametrize("args, expected", [
    ((12.0, 11.0, 13.0), "holds"), ((3.0, 1.0, 5.0), "fails"), ((8.0, 5.0, 11.0), "undecided")])
def test_claim8_points_reading(args, expected):
    p = V.claim8_points(*args, mde=2.0)
    assert p.outcome == expected and p.unit == "BA points" and p.margin == 10.5


def test_rule8_states_its_numbers_from_the_constants():
    text = V.rule8("greedy", 5, "cross-stimulus")
    assert "10.5 %" in text and "5.25 %" in text and "97.5 %" in text and "cross-stimulus" in text
    assert "VALIDATION" in text


@pytest.mark.parametrize("args, expected", [
    ((0.001, 0.01, 0.3, 0.3), "replicates"),
    ((0.001, 0.40, 0.3, 0.05), "partly"),
    ((0.60, 0.50, 0.04, 0.06), "does not replicate"),
    ((0.60, 0.50, 0.04, 0.20), "inconclusive"),
])
def test_claim4_every_outcome(args, expected):
    assert V.claim4(*args).verdict == expected
    assert V.claim4(*args, source="synthetic").verdict == "inconclusive"


# ----------------------------------------------------------------------------------------------------- claim 7
def _crit7(**intervals):
    """Claim 7's five criterion records; ``intervals[name] = (lo, hi)`` (default: an interval across the margin)."""
    from vaxis.claims.saturation.criteria import CRITERIA

    out = []
    for n, c in CRITERIA.items():
        lo, hi = intervals.get(n, (c.margin - 0.01, c.margin + 0.01))
        out.append({"name": n, "statistic": (lo + hi) / 2, "ci_low": lo, "ci_high": hi, "mde": 0.02})
    return out


def test_claim7_parts_and_every_outcome():
    from vaxis.claims.saturation.criteria import CRITERIA

    above = {n: (c.margin + 0.01, c.margin + 0.02) for n, c in CRITERIA.items()}
    below = {n: (c.margin - 0.02, c.margin - 0.01) for n, c in CRITERIA.items()}
    assert V.claim7(_crit7(**above)).verdict == "replicates"
    assert V.claim7(_crit7(**below)).verdict == "does not replicate"
    assert V.claim7(_crit7()).verdict == "inconclusive"                          # all undecided
    mixed = {**above, "residual_load_bearing": below["residual_load_bearing"]}
    assert V.claim7(_crit7(**mixed)).verdict == "partly"
    one_open = {**above}
    one_open.pop("basin_saturated")
    assert V.claim7(_crit7(**one_open)).verdict == "inconclusive"              # four hold, one undecided
    assert V.claim7(_crit7(**above), source="synthetic").verdict == "inconclusive"
    parts = V.claim7_parts(_crit7(**mixed))
    assert [p.name for p in parts] == list(CRITERIA)
    assert [p.margin for p in parts] == [c.margin for c in CRITERIA.values()]
    d = parts[-1].as_dict()
    assert {"name", "outcome", "estimate", "ci_low", "ci_high", "margin", "mde"} <= set(d) and d["outcome"] == "fails"
    with pytest.raises(ValueError):
        V.claim7_parts(_crit7()[:4])                                            # a criterion missing


def test_claim7_an_interval_below_the_margin_never_holds():
    """The issue's cases: basin [0.025, 0.036] against its 0.10 margin; a significant supervision gain
    [0.003, 0.005] BA (a cost of [-0.005, -0.003]) used to 'not pay'."""
    parts = {p.name: p for p in V.claim7_parts(_crit7(basin_saturated=(0.025, 0.036),
                                                      supervision_does_not_pay=(-0.005, -0.003)))}
    assert parts["basin_saturated"].outcome == "fails" and parts["basin_saturated"].margin == 0.10
    assert parts["supervision_does_not_pay"].outcome == "fails"
    for n, c in parts.items():                                    # every margin is named in the rule text
        assert f"{n} [" in V.RULE_7 and f"margin {c.margin:g} " in V.RULE_7


def test_stimulus_page_readings_come_from_one_interval_each():
    from vaxis.publish.verdicts import self_report_reading, unseen_clip_reading

    assert unseen_clip_reading(0.161, 0.202, 1 / 9) == "above chance on unseen clips"
    assert unseen_clip_reading(0.09, 0.13, 1 / 9).startswith("not distinguishable")
    assert unseen_clip_reading(0.05, 0.10, 1 / 9).startswith("below")
    assert self_report_reading(-0.066, 0.068).startswith("no detectable")
    assert self_report_reading(0.01, 0.2).startswith("worse") and self_report_reading(-0.2, -0.01).startswith("better")
