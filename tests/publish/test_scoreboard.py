"""The scoreboard shows a claim's parts: their outcomes in the headline cell, one line per part in the details; a
:class:`ScoreboardRow` checks its fields when built and writes exactly the results contract's fields."""

from __future__ import annotations

import pytest

from vaxis.publish import scoreboard
from vaxis.publish.outcomes import Power, Verdict
from vaxis.publish.parts import Part, combine_parts
from vaxis.publish.scoreboard import ScoreboardRow


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


# --------------------------------------------------------------------------------------------- ScoreboardRow
POWER = Power("test subject", 20, 0.05, "none", 1.2, "BA points")
PIPELINE = {"normalisation": "per-subject", "smoothing": "lds-clip"}


def _eeg_row(**over):
    kw = dict(claim=6, title="t", paper="p", ours="o", data="faced", protocol="cross-subject",
              **Verdict("partly", "R", "why").fields(), power=POWER, pipeline=PIPELINE)
    return ScoreboardRow(**{**kw, **over})


def test_row_serialises_to_the_contract_fields():
    parts = [Part("no_improvement", "holds", 0.1, -0.6, 0.8, 1.0, 1.2, "BA points", "x")]
    row = _eeg_row(parts=parts, headline={"text": "h", "ours": 3, "paper": 16}, extra={"comparator": {"name": "svm"}})
    d = row.as_dict()
    assert list(d) == ["claim", "verdict", "title", "paper", "ours", "data", "protocol", "rule", "reason", "power",
                       "pipeline", "parts", "headline", "comparator"]
    assert d["power"] == POWER.as_dict() and d["pipeline"] == PIPELINE and d["parts"] == [parts[0].as_dict()]
    assert set(d["parts"][0]) >= set(scoreboard.PART_KEYS) and d["reason"] == "why"
    assert ScoreboardRow.from_dict(d) == row                     # a row read back from a results file is the same row
    text = ScoreboardRow(claim=1, title="t", paper="p", ours="o", data="text",
                         **Verdict("replicates", "R", "x").fields(), power=POWER).as_dict()
    assert set(text) == {"claim", "title", "paper", "ours", "data", "verdict", "rule", "reason", "power"}
    assert ScoreboardRow(claim=5, verdict="not run").as_dict() == {"claim": 5, "verdict": "not run"}


@pytest.mark.parametrize("over, match", [
    ({"claim": 9}, "claim must be one of"),
    ({"claim": "6"}, "claim must be one of"),
    ({"verdict": "great"}, "verdict must be one of"),
    ({"rule": ""}, r"lacks \['rule'\]"),
    ({"ours": None}, r"lacks \['ours'\]"),
    ({"title": 3}, "title must be a string"),
    ({"power": None}, r"lacks \['power'\]"),
    ({"power": {"unit": "u", "n": 3}}, "power lacks"),
    ({"power": Power("u", 3, 0.05, "none", float("inf"), "x")}, "power.mde must be finite"),
    ({"pipeline": None}, "lacks pipeline"),
    ({"pipeline": {"normalisation": "x"}}, "lacks pipeline"),
    ({"protocol": None}, "must name its protocol"),
    ({"protocol": "kfold"}, "protocol must be one of"),
    ({"parts": [{"name": "a", "outcome": "holds"}]}, "part 'a' lacks"),
    ({"parts": [{**Part("a", "holds", 1, 1, 1, 0, 1).as_dict(), "outcome": "maybe"}]}, "outcome must be one of"),
    ({"parts": Part("a", "holds", 1, 1, 1, 0, 1)}, "parts must be a list"),
    ({"headline": {"text": "h", "colour": "red"}}, "unknown fields"),
    ({"extra": {"verdict": "x"}}, "shadow"),
    ({"extra": {"quick": True}}, "shadow"),
])
def test_row_with_a_missing_or_invalid_field_raises_when_built(over, match):
    with pytest.raises(ValueError, match=match):
        _eeg_row(**over)


def test_text_claims_need_no_pipeline_and_results_check_dict_rows_the_same_way(tmp_path):
    from vaxis.publish import results

    ScoreboardRow(claim=2, title="t", paper="p", ours="o", data="text", **Verdict("partly", "R", "x").fields(),
                  power=POWER)
    with pytest.raises(ValueError, match=r"02_x: scoreboard row of claim 2 lacks \['power'\]"):
        results.write_results("02_x", {"scoreboard": [{"claim": 2, "title": "t", "paper": "p", "ours": "o",
                                                       "data": "text", "verdict": "partly", "rule": "R"}]}, tmp_path)
    ref = [{"name": "svm", "task": "9class", "ba": 0.37, "ci_low": 0.33, "ci_high": 0.42, "protocol": "cross-subject"}]
    row = _eeg_row(extra={"gain": {"mean": float("nan")}})
    results.write_results("06_x", {"scoreboard": [row], "baseline": ref, "label_only": ref}, tmp_path)
    doc = results.read_results("06_x", tmp_path)
    assert doc["scoreboard"] == [{**row.as_dict(), "gain": {"mean": None}}]
