"""A quick run is recorded in its results file and labelled on the scoreboard (issue 26, item 2)."""

import json

from vaxis.publish import params, results, scoreboard

POWER = {"unit": "text", "n": 9, "alpha": 0.05, "correction": "none", "mde": 0.1, "effect": "cosine"}


def _row(claim):
    return {"claim": claim, "title": "t", "paper": "p", "ours": "o", "data": "text", "rule": "r", "power": POWER,
            "verdict": "inconclusive"}


def test_write_results_records_quick_from_payload_settings_or_the_checked_parameters(tmp_path, monkeypatch):
    monkeypatch.setattr(params, "_RUN", {})
    results.write_results("01_a", {"scoreboard": [_row(1)], "quick": True}, tmp_path)
    results.write_results("02_b", {"scoreboard": [_row(2)], "settings": {"quick": True}}, tmp_path)
    results.write_results("03_c", {"scoreboard": [_row(3)]}, tmp_path)
    monkeypatch.setattr(params, "_RUN", {"chapter": "03_d", "quick": True})
    results.write_results("03_d", {"scoreboard": [_row(3)]}, tmp_path)
    results.write_results("02_e", {"scoreboard": [_row(2)], "quick": 0}, tmp_path)   # the payload wins
    docs = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    assert docs["01_a"]["quick"] is True and docs["02_b"]["quick"] is True and docs["03_d"]["quick"] is True
    assert "quick" not in docs["03_c"] and docs["02_e"]["quick"] is False


def test_scoreboard_labels_quick_rows_only(tmp_path, monkeypatch):
    monkeypatch.setattr(params, "_RUN", {})
    results.write_results("01_a", {"scoreboard": [_row(1)], "quick": True}, tmp_path)
    results.write_results("02_b", {"scoreboard": [_row(2)], "quick": False}, tmp_path)
    rows = scoreboard.collect_rows(tmp_path)
    assert [r["quick"] for r in rows[:2]] == [True, False] and not rows[2].get("quick")
    table = scoreboard.render_scoreboard(rows).split("\n## Details")[0]
    lines = [ln for ln in table.splitlines() if ln.startswith("| ")]
    assert "**inconclusive** (quick run)" in lines[1] and "quick run" not in lines[2]
    assert "*quick run*: the chapter ran with its small CI settings" in table
    results.write_results("01_a", {"scoreboard": [_row(1)], "quick": False}, tmp_path)
    assert "quick run" not in scoreboard.render_scoreboard(scoreboard.collect_rows(tmp_path))
