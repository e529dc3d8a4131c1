"""Claims 1-3: every outcome of each text rule from hand-made statistics; the power statements checked by
simulation against the formulas they state."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np
import pytest

from vaxis.publish import text_verdicts as V
from vaxis.stats import auroc_mde, auroc_null_se
from vaxis.text.layer_selection import split_tests
from vaxis.text.sentiment import auroc


def m1(model="m", margin=1.0, control=0.2, pairs=1.0, p=1 / 35, p_lower=1.0, rank=1, split_p=1 / 35, split_rank=1):
    return {"model": model, "nested_margin": margin, "control_nested_margin": control,
            "nested_pair_accuracy": pairs, "nested_p": p, "nested_p_lower": p_lower, "nested_rank": rank,
            "split_p": split_p, "split_rank": split_rank}


HOLD1, PART1 = m1(), m1(split_p=3 / 35, split_rank=3)
FAIL1 = m1(margin=-0.3, pairs=0.3, p=1.0, p_lower=1 / 35, rank=35, split_p=0.9, split_rank=31)
OPEN1 = m1(margin=0.2, pairs=0.6, p=0.3, p_lower=0.7, rank=10, split_p=0.29, split_rank=10)


@pytest.mark.parametrize("models, expected", [
    ([HOLD1, {**HOLD1, "model": "n"}], "replicates"),
    ([HOLD1, {**PART1, "model": "n"}], "partly"),
    ([{**PART1, "model": "a"}, {**PART1, "model": "b"}], "partly"),
    ([FAIL1, {**FAIL1, "model": "n"}], "does not replicate"),
    ([FAIL1, {**OPEN1, "model": "n"}], "inconclusive"),
    ([], "inconclusive"),
])
def test_claim1_reaches_every_outcome(models, expected):
    v = V.claim1(models)
    assert v.verdict == expected and v.rule == V.RULE_1
    assert V.claim1(models, source="synthetic").verdict == "inconclusive"


def test_claim1_criteria_by_hand():
    assert V.claim1([m1(control=None)]).verdict == "partly"          # no twin: cannot hold, the tests still count
    assert V.claim1([m1(margin=0.1, control=0.3)]).verdict == "partly"  # the twin reads as much: not "holds"
    assert V.claim1([m1(p=0.3, rank=10)]).verdict == "partly"       # the selection-corrected test alone
    assert V.claim1([m1(split_p=0.3, split_rank=10)]).verdict == "partly"  # the selection-free test alone
    # the old "partial": order and twin fine at the selected layer, no corrected test significant -> not evidence
    assert V.claim1([OPEN1]).verdict == "inconclusive"
    # chance-level held-out placements are not an exclusion unless the valence split sits at the bottom of the 35
    assert V.claim1([m1(margin=-0.1, p=0.8, p_lower=0.3, rank=28, split_p=0.8)]).verdict == "inconclusive"
    assert V.claim1([m1(margin=0.1, p=0.99, p_lower=1 / 35, rank=35, split_p=0.9)]).verdict == "inconclusive"
    assert "nested rank 1/35" in V.claim1([HOLD1]).reason and "selected rank 1/35" in V.claim1([HOLD1]).reason


def m2(model="m", a=0.70, lo=0.66, hi=0.74, dlo=0.1, dhi=0.2, rdir=1 / 101, lex=(0.01, -0.02, 0.04)):
    return {"model": model, "mean_auroc": a, "mean_auroc_lo": lo, "mean_auroc_hi": hi, "diff_lo": dlo,
            "diff_hi": dhi, "random_dir_p": rdir, "lexicon": "vader", "lexicon_auroc": a - (lex or [0])[0],
            "vs_lexicon": None if lex is None else dict(zip(("diff", "ci_low", "ci_high"), lex))}


HOLD2, SMALL2 = m2(), m2(a=0.56, lo=0.54, hi=0.58, lex=(-0.2, -0.25, -0.15))
FAIL2 = m2(a=0.51, lo=0.48, hi=0.54, dlo=-0.05, dhi=0.04, lex=(-0.25, -0.3, -0.2))
OPEN2 = m2(a=0.58, lo=0.49, hi=0.67, dlo=-0.02, lex=(-0.1, -0.2, 0.01))


@pytest.mark.parametrize("models, expected", [
    ([HOLD2, {**HOLD2, "model": "n"}], "replicates"),
    ([HOLD2, {**FAIL2, "model": "n"}], "partly"),
    ([SMALL2, {**SMALL2, "model": "n"}], "partly"),            # above the controls, below the lexicons
    ([FAIL2, {**FAIL2, "model": "n"}], "does not replicate"),
    ([FAIL2, {**OPEN2, "model": "n"}], "inconclusive"),
])
def test_claim2_reaches_every_outcome(models, expected):
    v = V.claim2(models)
    assert v.verdict == expected and v.rule == V.RULE_2
    assert V.claim2(models, source="synthetic").verdict == "inconclusive"


def test_claim2_controls_by_hand():
    assert V.claim2([m2(dlo=None, dhi=None)]).verdict == "inconclusive"   # no twin: never significant
    assert V.claim2([m2(rdir=0.2)]).verdict == "inconclusive"             # random directions do as well
    assert V.claim2([m2(rdir=0.03)]).verdict == "replicates"              # 0.03 <= 0.05 / 1 model
    assert V.claim2([m2(rdir=0.03), m2(model="n")]).verdict == "partly"   # 0.03 > 0.05 / 2 models
    assert V.claim2([m2(lo=0.49)]).verdict == "inconclusive"              # A's CI holds chance
    assert "no twin" in V.claim2([m2(dlo=None, dhi=None)]).reason


def test_claim2_margin_is_the_better_lexicon():
    # 0.55 [0.52, 0.61] above every control used to "hold" against the typed 0.60: below the lexicons it is small
    weak = m2(a=0.55, lo=0.52, hi=0.61, lex=(-0.2, -0.26, -0.14))
    v = V.claim2([weak])
    assert v.verdict == "partly" and "above chance and controls, below the lexicons (vader 0.750" in v.reason
    assert V.claim2([m2(lex=(0.05, 0.01, 0.09))]).verdict == "replicates"
    assert "above the lexicons" in V.claim2([m2(lex=(0.05, 0.01, 0.09))]).reason
    assert "at the lexicons" in V.claim2([HOLD2]).reason
    assert V.claim2([m2(lex=None)]).verdict == "inconclusive"             # no lexicon: neither holds nor fails
    assert "lexicons not measured" in V.claim2([m2(lex=None)]).reason
    assert "better lexicon" in V.RULE_2 and "not a typed number" in V.RULE_2


def p3(a="x", b="y", d=0.15, lo=0.05, hi=0.25):
    return {"model_a": a, "model_b": b, "diff": d, "diff_lo": lo, "diff_hi": hi}


HOLD3, SMALL3, FAIL3, OPEN3 = p3(), p3(d=0.05, lo=0.02, hi=0.08), p3(d=0.0, lo=-0.04, hi=0.05), p3(lo=-0.01)


@pytest.mark.parametrize("pairs, n_real, n_controls, expected", [
    ([HOLD3, HOLD3, HOLD3], 3, 1, "replicates"),
    ([HOLD3, SMALL3, FAIL3], 3, 1, "partly"),
    ([SMALL3, SMALL3, SMALL3], 3, 3, "partly"),
    ([FAIL3, FAIL3, FAIL3], 3, 1, "does not replicate"),
    ([FAIL3, OPEN3, FAIL3], 3, 1, "inconclusive"),
    ([HOLD3], 2, 1, "inconclusive"),         # fewer than 3 pretrained models
    ([HOLD3, HOLD3, HOLD3], 3, 0, "inconclusive"),  # no floor
])
def test_claim3_reaches_every_outcome(pairs, n_real, n_controls, expected):
    pairs = [{**p, "model_a": f"a{i}"} for i, p in enumerate(pairs)]
    v = V.claim3(pairs, n_real, n_controls)
    assert v.verdict == expected and v.rule == V.RULE_3
    assert V.claim3(pairs, n_real, n_controls, source="synthetic").verdict == "inconclusive"
    scoped = V.claim3(pairs, n_real, n_controls, scope="Scope: 3 pretrained models.")
    assert scoped.verdict == expected and scoped.reason.endswith("Scope: 3 pretrained models.")


def test_rules_are_fixed_text_naming_their_margins():
    assert "lexicon" in V.RULE_2 and "0.10" in V.RULE_3 and "1/35" in V.RULE_1
    for rule in (V.RULE_1, V.RULE_2, V.RULE_3):
        assert "'replicates'" in rule and "'does not replicate'" in rule and "'inconclusive'" in rule


def test_auroc_null_se_and_mde_by_simulation():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(60, int), np.zeros(40, int)]
    null = np.array([auroc(rng.normal(size=100), y) for _ in range(3000)])
    assert null.std() == pytest.approx(auroc_null_se(60, 40), rel=0.06)
    # at the MDE a normal-shift effect of that AUROC is found (|z| > 1.96 under the null SE) ~80 % of the time
    mde = auroc_mde(250, 250)
    shift = np.sqrt(2) * NormalDist().inv_cdf(mde)  # AUROC = Phi(shift / sqrt 2)
    y = np.r_[np.ones(250, int), np.zeros(250, int)]
    hits = [abs(auroc(rng.normal(size=500) + shift * y, y) - 0.5) / auroc_null_se(250, 250) > 1.96
            for _ in range(600)]
    assert 0.72 < np.mean(hits) < 0.88


def test_power_statements():
    p1 = V.power_claim1()
    assert p1.n == 8 and "1/35" in p1.correction and 1.0 < p1.mde < 8.0
    # at the stated MDE the exact split test (run through split_tests, fresh noise) fires about 80 % of the time
    rng = np.random.default_rng(11)
    signs = np.array([-1, -1, -1, -1, 0, 1, 1, 1, 1])
    hits = []
    for _ in range(60):
        h = rng.normal(size=(1, 9, 16))
        h[0, :, 0] += 0.5 * p1.mde * signs
        hits.append(split_tests(np.concatenate([h, h]), signs, nested=False)["selected"]["p"] <= 0.05)
    assert 0.6 < np.mean(hits) < 0.95
    assert V.power_claim1(n_dims=64).mde > p1.mde   # more noise dimensions, a larger MDE
    p2 = V.power_claim2([250] * 5, [250] * 5, n_models=3)
    assert p2.n == 500 and 0.04 < p2.mde < 0.07 and "Bonferroni over 3" in p2.correction
    small_twin = V.power_claim2([250] * 5, [250] * 5, n_models=3, n_pos_twin=[50] * 5, n_neg_twin=[50] * 5)
    se = np.sqrt(5 * (auroc_null_se(250, 250) ** 2 + auroc_null_se(50, 50) ** 2)) / 5
    z = NormalDist().inv_cdf
    assert small_twin.mde == pytest.approx((z(1 - 0.05 / 6) + z(0.8)) * se) and "twin on >= 100" in small_twin.effect
    assert p2.mde < small_twin.mde < 0.12
    p3_ = V.power_claim3([500] * 5, n_pairs=3)
    assert p3_.n == 2500 and 0.08 < p3_.mde < 0.11 and np.isfinite(p3_.as_dict()["mde"])
    assert V.power_claim3([100] * 5, n_pairs=3).mde > p3_.mde  # fewer texts, larger MDE
    se = np.sqrt(5 * (1.06 / 497 + 1.06 / 97)) / 5
    z = NormalDist().inv_cdf
    assert V.power_claim3([500] * 5, 3, n_floor=[100] * 5).mde == pytest.approx((z(1 - 0.05 / 6) + z(0.8)) * se)
    with pytest.raises(ValueError):
        V.power_claim3([3], 1)
