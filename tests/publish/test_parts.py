"""A part is decided by one interval against one threshold; the shared rule combines a claim's parts."""

from __future__ import annotations

import math

import pytest

from vaxis.publish.parts import PART_OUTCOMES, Part, combine_parts, part_from_interval


@pytest.mark.parametrize("lo, hi, expected", [(1.5, 2.0, "holds"), (0.1, 0.9, "fails"), (0.5, 1.5, "undecided"),
                                              (float("nan"), 2.0, "undecided")])
def test_part_from_interval_never_both_holds_and_fails(lo, hi, expected):
    p = part_from_interval("x", 1.0, lo, hi, holds_above=1.0, mde=0.3, unit="BA points", what="gain")
    assert p.outcome == expected and p.margin == 1.0 and p.reason.startswith("gain: ")
    d = p.as_dict()
    assert list(d) == ["name", "outcome", "estimate", "ci_low", "ci_high", "margin", "mde", "unit", "reason"]
    assert (d["ci_low"] is None) == (not math.isfinite(lo))


def test_part_rejects_an_unknown_outcome():
    with pytest.raises(ValueError, match="outcome"):
        Part("x", "maybe", 0, 0, 0, 0, 0)
    assert PART_OUTCOMES == ("holds", "fails", "undecided")


@pytest.mark.parametrize("outcomes, expected", [
    (("holds", "holds"), "replicates"), (("holds", "fails"), "partly"), (("fails", "fails"), "does not replicate"),
    (("holds", "undecided"), "inconclusive"), (("fails", "undecided"), "inconclusive")])
def test_combine_parts(outcomes, expected):
    parts = [Part(f"p{i}", o, 0, 0, 0, 0, 0) for i, o in enumerate(outcomes)]
    v = combine_parts(parts, "R")
    assert v.verdict == expected and all(f"p{i} {o}" in v.reason for i, o in enumerate(outcomes))
    assert combine_parts(parts, "R", source="synthetic").verdict == "inconclusive"
    with pytest.raises(ValueError):
        combine_parts([], "R")
