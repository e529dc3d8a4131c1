"""Collate ``results/*.json`` scoreboard rows into the book's claims table (``book/claims.md``)."""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["PAPER_CLAIMS", "collect_rows", "render_scoreboard", "write_scoreboard"]

#: The eight claims with the paper's figure (PAPER.md); "ours" comes only from results files.
PAPER_CLAIMS = {
    1: ("A V-axis read from nine sentences", "built from 9 sentences"),
    2: ("Zero-shot transfer to sentiment benchmarks", "validated on sentiment benchmarks"),
    3: ("Consistent across LLMs", "14 LLMs agree"),
    4: ("One linear projection of EEG tracks the V-axis", "significant tracking, 123 subjects"),
    5: ("Label-only EEG classifiers rediscover it", "36/36 classifiers"),
    6: ("Alignment supervision does not help", "0/25 improve, 16/25 reduce"),
    7: ("The saturation regularity", "formal statement + evidence"),
    8: ("Residual-diversity ensembles beat the prior best", "+10.5% BA on FACED; replicates on SEED-V"),
}


def collect_rows(results_dir: Path) -> list[dict]:
    """Scoreboard rows from every ``*.json`` in ``results_dir``, plus 'not run' rows for missing claims."""
    rows = []
    for path in sorted(Path(results_dir).glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path} is not valid JSON ({exc}); rerun its chapter") from exc
        for row in doc.get("scoreboard", []):
            rows.append({**row, "chapter": doc.get("chapter", path.stem), "written_at": doc.get("written_at", "")})
    have = {int(r["claim"]) for r in rows if "claim" in r}
    for claim, (title, paper) in PAPER_CLAIMS.items():
        if claim not in have:
            rows.append({"claim": claim, "title": title, "paper": paper, "ours": "-", "data": "-",
                         "verdict": "not run", "chapter": "", "written_at": ""})
    return sorted(rows, key=lambda r: (int(r["claim"]), r.get("chapter", "")))


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_scoreboard(rows: list[dict]) -> str:
    """A MyST markdown table: claim | paper's figure | our figure | data | verdict."""
    lines = [
        "| # | claim | paper | ours (with CI / p) | data | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        title = r.get("title") or PAPER_CLAIMS.get(int(r["claim"]), ("", ""))[0]
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["claim"], title, r.get("paper", ""), r.get("ours", ""), r.get("data", ""), f"**{r.get('verdict', '')}**",
        )) + " |")
    return "\n".join(lines) + "\n"


def write_scoreboard(results_dir: Path, out: Path) -> Path:
    """Render the scoreboard from ``results_dir`` into ``out`` (markdown, included by ``book/claims.md``)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_scoreboard(collect_rows(results_dir)))
    return out
