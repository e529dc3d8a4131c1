"""The scoreboard shows a claim's parts: their outcomes in the headline cell, one line per part in the details."""

from __future__ import annotations

from vaxis.publish import scoreboard
from vaxis.publish.outcomes import Part, combine_parts


def _row(parts):
    v = combine_parts(parts, "R")
    return {"claim": 6, "title": "t", "paper": "p", "ours": "o", "data": "faced", **v.fields(),
            "headline": {"text": "2 improve / 16 reduce"}, "parts": [p.as_dict() for p in parts]}


def test_parts_in_headline_cell_and_details():
    parts = [Part("no_improvement", "holds", 0.1, -0.62, 0.81, 1.0, 1.2, "BA points", "improvements excluded"),
             Part("forced_reduces", "fails", 5, 5, 8, 13, 0.9, "strategies", "5 reduced")]
    rows = [_row(parts), {"claim": 5, "title": "u", "paper": "p", "ours": "o2", "data": "faced",
                          "verdict": "partly"}]
    md = scoreboard.render_scoreboard(rows)
    line6 = next(x for x in md.splitlines() if x.startswith("| 6 |"))
    assert "**partly**" in line6 and "(parts: no_improvement holds; forced_reduces fails)" in line6
    line5 = next(x for x in md.splitlines() if x.startswith("| 5 |"))
    assert "parts" not in line5                                   # a claim without parts renders as before
    details = md.split("Claim 6:")[1].split(":::")[0]
    assert "  - **no_improvement: holds**: 0.1 [-0.62, 0.81] BA points, margin 1, MDE 1.2" in details
    assert "  - **forced_reduces: fails**: 5 [5, 8] strategies, margin 13, MDE 0.9; 5 reduced" in details
    assert details.index("no_improvement") < details.index("forced_reduces") < details.index("why this verdict")
    assert "parts" not in md.split("Claim 5:")[1]


def test_parts_with_missing_numbers():
    """An undecided part whose interval is not finite (e.g. no used strategy) still renders, with '-'."""
    p = Part("no_improvement", "undecided", float("nan"), float("nan"), float("nan"), 1.0, float("nan"))
    row = _row([p])
    assert row["verdict"] == "inconclusive"
    assert scoreboard.parts_summary(row) == "no_improvement undecided"
    assert scoreboard.part_lines(row) == ["  - **no_improvement: undecided**: - [-, -], margin 1, MDE -"]
