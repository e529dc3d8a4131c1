"""Chapter 2 reruns on a user's own tsv file, from a clean checkout: an empty cache and results folder, the file
given by path in ``benchmark_names`` (issue #16, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
WORDS = [("a warm, funny and moving film", 1), ("dull, slow and painfully long", 0), ("I loved every minute", 1),
         ("a waste of two hours", 0), ("great acting and a clever story", 1), ("boring and badly written", 0)]


@pytest.mark.integration
def test_chapter_2_on_a_user_tsv_file(tmp_path, monkeypatch):
    import papermill as pm

    path = tmp_path / "my_reviews.tsv"
    rows = [(f"{t} (review {i})", y) for i in range(12) for t, y in WORDS] + [("   ", 1)]
    path.write_text("review\tstars\n" + "".join(f"{t}\t{'pos' if y else 'neg'}\n" for t, y in rows))
    monkeypatch.setenv("VAXIS_CACHE", str(tmp_path / "cache"))       # a clean checkout: nothing cached
    monkeypatch.setenv("VAXIS_RESULTS", str(tmp_path / "results"))
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(ROOT / "notebooks" / "02_zero_shot_sentiment.ipynb"), str(out), kernel_name="python3",
                        parameters={"quick": True, "device": "cpu", "models": ["minilm"],
                                    "benchmark_names": [str(path)], "text_col": "review", "label_col": "stars",
                                    "drop_empty": True, "n_boot": 50, "results_dir": str(tmp_path / "results")},
                        cwd=str(ROOT), progress_bar=False)
    doc = json.loads((tmp_path / "results" / "02_zero_shot.json").read_text())
    scores = [s for s in doc["scores"] if s["model"] == "minilm"]
    assert [s["benchmark"] for s in scores] == ["my_reviews"]
    s = scores[0]
    assert s["n"] == 72 and 0 <= s["auroc_lo"] <= s["auroc"] <= s["auroc_hi"] <= 1
    assert {"model", "benchmark", "auroc", "auroc_lo", "auroc_hi", "n"} <= set(s)
    row = doc["scoreboard"][0]
    assert row["verdict"] in {"replicates", "partly", "does not replicate", "inconclusive"}
    assert row["rule"] and set(row["power"]) >= {"unit", "n", "alpha", "correction", "mde", "effect"}
    assert row["power"]["mde"] is not None
    printed = "".join(o.get("text", "") for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", []))
    assert "rows dropped for an empty text (drop_empty): {'my_reviews': 1}" in printed
