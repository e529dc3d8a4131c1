"""The outcomes' building blocks reach every outcome from hand-made statistics; Power and Verdict check their
fields when built."""

from __future__ import annotations

import math

import pytest

from vaxis.publish import outcomes as V
from vaxis.stats import count_outcome


def test_power_fields_and_validation():
    p = V.Power("fold (seeds averaged)", 10, 0.05, "Holm over 25", 0.012, "BA points")
    d = p.as_dict()
    assert d == {"unit": "fold (seeds averaged)", "n": 10, "alpha": 0.05, "correction": "Holm over 25",
                 "mde": 0.012, "effect": "BA points", "power": 0.8}
    assert "n = 10" in p.sentence() and "0.012" in p.sentence()
    assert V.Power("u", 3, 0.05, "none", math.inf, "x").as_dict()["mde"] is None
    with pytest.raises(ValueError):
        V.Power("u", 0, 0.05, "none", 1.0, "x")
    with pytest.raises(ValueError):
        V.Power("u", 5, 1.5, "none", 1.0, "x")


def test_verdict_rejects_unknown_outcome():
    with pytest.raises(ValueError):
        V.Verdict("maybe", "r", "x")
    assert V.Verdict("partly", "r", "x").fields() == {"verdict": "partly", "rule": "r", "reason": "x"}


@pytest.mark.parametrize("args, expected", [
    ((0.12, 0.08, 0.16, 0.001), "replicates"),          # significant, CI reaches the margin 0.10
    ((0.03, 0.01, 0.05, 0.004), "partly"),              # significant, CI excludes the margin
    ((0.01, -0.02, 0.04, 0.40), "does not replicate"),  # not significant, CI excludes the margin
    ((-0.05, -0.08, -0.02, 0.001), "does not replicate"),  # significant in the wrong direction
    ((0.05, -0.03, 0.13, 0.20), "inconclusive"),        # not significant, CI holds the margin
])
def test_directional_reaches_every_outcome(args, expected):
    v = V.directional(*args, alpha=0.05, margin=0.10, rule="R", unit="BA points")
    assert v.verdict == expected and v.rule == "R" and v.reason


def test_directional_synthetic_and_bad_input():
    assert V.directional(0.5, 0.4, 0.6, 1e-6, alpha=0.05, margin=0.1, rule="R",
                         source="synthetic").verdict == "inconclusive"
    assert V.directional(float("nan"), 0, 1, 0.5, alpha=0.05, margin=0.1, rule="R").verdict == "inconclusive"
    with pytest.raises(ValueError):
        V.directional(0.1, 0.2, 0.1, 0.5, alpha=0.05, margin=0.1, rule="R")
    with pytest.raises(ValueError):
        V.directional(0.1, 0.0, 0.2, 0.5, alpha=0.05, margin=0.0, rule="R")


def test_interval_outcome():
    assert V.interval_outcome(0.2, 0.4, 0.1) == "above"
    assert V.interval_outcome(-0.2, 0.05, 0.1) == "below"
    assert V.interval_outcome(0.0, 0.2, 0.1) == "undecided"
    assert V.interval_outcome(float("nan"), 0.2, 0.1) == "undecided"


@pytest.mark.parametrize("args, expected", [
    ((0.02, 0.01, 0.03, 0.01, 0.9), "improved"),
    ((-0.02, -0.03, -0.01, 0.01, 0.9), "reduced"),
    ((0.001, -0.004, 0.006, 0.8, 0.001), "unchanged"),
    ((0.005, -0.02, 0.03, 0.6, 0.3), "inconclusive"),
])
def test_count_outcome(args, expected):
    assert count_outcome(*args, alpha=0.05, margin=0.01) == expected


@pytest.mark.parametrize("holds, expected", [
    ([True, True, True], "replicates"),
    ([True, False, None], "partly"),
    ([False, False, False], "does not replicate"),
    ([True, None, None], "inconclusive"),
    ([False, None, False], "inconclusive"),
])
def test_criteria_outcome(holds, expected):
    crit = [{"name": f"c{i}", "holds": h} for i, h in enumerate(holds)]
    assert V.criteria_outcome(crit, "R").verdict == expected
    assert V.criteria_outcome(crit, "R", source="synthetic").verdict == "inconclusive"
    with pytest.raises(ValueError):
        V.criteria_outcome([], "R")
