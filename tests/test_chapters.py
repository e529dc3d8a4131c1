"""Integration: every chapter runs end to end in quick mode through papermill, on a synthetic cohort.

Each run writes its results into a private folder; the test then checks the chapter's contract: a
``results/<chapter>.json`` naming its data source, with scoreboard rows whose verdicts are valid.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vaxis.results import VERDICTS

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.integration
@pytest.mark.parametrize("nb", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_in_quick_mode(nb, tmp_path, monkeypatch):
    import papermill as pm

    for var in ("VAXIS_FACED_DIR", "VAXIS_SEEDV_DIR"):
        monkeypatch.delenv(var, raising=False)  # quick runs use the synthetic cohort
    monkeypatch.setenv("VAXIS_RESULTS", str(tmp_path / "results"))
    declared = pm.inspect_notebook(str(nb))
    params = {k: v for k, v in {"quick": True, "device": "cpu", "results_dir": str(tmp_path / "results")}.items()
              if k in declared}
    assert "quick" in params, f"{nb.name} declares no `quick` parameter"
    pm.execute_notebook(str(nb), str(tmp_path / nb.name), parameters=params, kernel_name="python3",
                        cwd=str(ROOT), progress_bar=False)
    written = sorted((tmp_path / "results").glob(f"{nb.stem[:2]}_*.json"))  # e.g. 02_zero_shot.json
    assert written, f"{nb.stem} wrote no results/{nb.stem[:2]}_*.json"
    doc = json.loads(written[0].read_text())
    assert doc.get("data_source") in {"faced", "seedv", "synthetic", "text"}, doc.get("data_source")
    assert doc["scoreboard"], "no scoreboard row"
    for row in doc["scoreboard"]:
        assert row["verdict"] in VERDICTS and 1 <= int(row["claim"]) <= 8
        assert row["ours"] and row["data"]
        if int(row["claim"]) <= 3:  # the text claims' results contract: the rule's verdict, its text, its power
            assert row["verdict"] != "not run" and row["rule"] and row["reason"]
            assert set(row["power"]) >= {"unit", "n", "alpha", "correction", "mde", "effect"}
            assert row["power"]["mde"] is not None and row["power"]["n"] >= 1
