import re

import numpy as np
import pytest

from vaxis.publish import results, scoreboard

POWER = {"unit": "text", "n": 9, "alpha": 0.05, "correction": "none", "mde": 0.1, "effect": "cosine"}


def test_write_and_read_roundtrip(tmp_path):
    payload = {"data_source": "text", "x": np.float32(0.5), "arr": np.arange(3), "nan": float("nan"),
               "scoreboard": [{"claim": 1, "title": "t", "paper": "p", "ours": "o", "data": "text",
                               "rule": "r", "power": POWER, "verdict": "replicates"}]}
    path = results.write_results("01_test", payload, tmp_path)
    doc = results.read_results("01_test", tmp_path)
    assert path.exists() and doc["x"] == 0.5 and doc["arr"] == [0, 1, 2] and doc["nan"] is None
    assert doc["chapter"] == "01_test"


def test_bad_verdict_rejected(tmp_path):
    with pytest.raises(ValueError, match="verdict"):
        results.write_results("x", {"scoreboard": [{"claim": 1, "verdict": "great"}]}, tmp_path)


def test_missing_results_names_chapter(tmp_path):
    with pytest.raises(FileNotFoundError, match="04_eeg"):
        results.read_results("04_eeg", tmp_path)


def test_scoreboard_collates_and_fills_missing(tmp_path):
    results.write_results("02_z", {"scoreboard": [{"claim": 2, "title": "z", "paper": "p", "ours": "AUROC 0.8 | x",
                                                   "rule": "r", "power": POWER,
                                                   "data": "text", "verdict": "partly"}]}, tmp_path)
    rows = scoreboard.collect_rows(tmp_path)
    assert [r["claim"] for r in rows] == list(range(1, 9))
    assert rows[1]["verdict"] == "partly" and rows[0]["verdict"] == "not run"
    md = scoreboard.render_scoreboard(rows)
    table = md.split("\n## Details")[0].strip().splitlines()
    assert len(table) == 10 and "AUROC 0.8 \\| x" in table[3]
    assert md.count(":::{dropdown}") == 8 and "rule (fixed before the run):** r" in md


def test_scoreboard_figure_from_headlines(tmp_path):
    row = {"claim": 8, "title": "e", "paper": "p", "ours": "o", "data": "faced", "verdict": "partly", "rule": "r",
           "power": POWER, "pipeline": {"normalisation": "per-subject", "smoothing": "lds-clip"},
           "protocol": "cross-subject",
           "headline": {"label": "BA", "unit": "balanced accuracy", "ours": 0.40, "ci_low": 0.37, "ci_high": 0.43,
                        "baseline": 0.38, "baseline_label": "single", "paper": 0.42}}
    ref = [{"name": "svm", "task": "9class", "ba": 0.37, "ci_low": 0.33, "ci_high": 0.42, "protocol": "cross-subject"}]
    results.write_results("08_e", {"scoreboard": [row], "baseline": ref, "label_only": ref}, tmp_path)
    out = scoreboard.write_scoreboard(tmp_path, tmp_path / "sb" / "scoreboard.md")
    assert (tmp_path / "sb" / "scoreboard.png").stat().st_size > 1000
    assert "scoreboard.png" in out.read_text()
    # the book includes chapters/scoreboard.md from book/claims.md: the figure path must resolve from the includer
    out = scoreboard.write_scoreboard(tmp_path, tmp_path / "sb" / "scoreboard.md", page_dir=tmp_path)
    ref = re.search(r"```\{figure\} (\S+)", out.read_text()).group(1)
    assert ref == "sb/scoreboard.png" and (tmp_path / ref).is_file()


def test_scoreboard_names_corrupt_file(tmp_path):
    (tmp_path / "03_bad.json").write_text("{")
    with pytest.raises(ValueError, match="03_bad.json"):
        scoreboard.collect_rows(tmp_path)


def test_contract_fields_are_required(tmp_path):
    row = {"claim": 5, "title": "t", "paper": "p", "ours": "o", "data": "faced", "verdict": "partly", "rule": "r",
           "power": POWER, "pipeline": {"normalisation": "per-subject", "smoothing": "lds-clip"},
           "protocol": "cross-subject"}
    ref = [{"name": "svm", "task": "9class", "ba": 0.37, "ci_low": 0.33, "ci_high": 0.42, "protocol": "cross-subject"}]
    results.write_results("05_x", {"scoreboard": [row], "baseline": ref, "label_only": ref}, tmp_path)
    for drop, match in (("rule", "lacks"), ("power", "lacks"), ("pipeline", "pipeline"), ("protocol", "protocol")):
        with pytest.raises(ValueError, match=match):
            results.write_results("05_x", {"scoreboard": [{k: v for k, v in row.items() if k != drop}],
                                           "baseline": ref, "label_only": ref}, tmp_path)
    with pytest.raises(ValueError, match="finite"):
        results.write_results("05_x", {"scoreboard": [{**row, "power": {**POWER, "mde": float("inf")}}],
                                       "baseline": ref, "label_only": ref}, tmp_path)
    with pytest.raises(ValueError, match="label_only"):
        results.write_results("05_x", {"scoreboard": [row], "baseline": ref}, tmp_path)
    with pytest.raises(ValueError, match="protocol"):                  # every baseline entry names its protocol
        results.write_results("05_x", {"scoreboard": [row], "baseline": [{**ref[0], "protocol": "kfold"}],
                                       "label_only": ref}, tmp_path)
    results.write_results("05_x", {"scoreboard": [{"claim": 5, "verdict": "not run"}]}, tmp_path)   # nothing to check
