"""Collate ``results/*.json`` scoreboard rows into the book's claims table (``book/claims.md``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

__all__ = ["PAPER_CLAIMS", "collect_rows", "render_scoreboard", "plot_scoreboard", "write_scoreboard",
           "parts_summary", "part_lines"]

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
            rows.append({**row, "chapter": doc.get("chapter", path.stem), "written_at": doc.get("written_at", ""),
                         "quick": bool(doc.get("quick", False))})
    have = {int(r["claim"]) for r in rows if "claim" in r}
    for claim, (title, paper) in PAPER_CLAIMS.items():
        if claim not in have:
            rows.append({"claim": claim, "title": title, "paper": paper, "ours": "-", "data": "-",
                         "verdict": "not run", "chapter": "", "written_at": ""})
    return sorted(rows, key=lambda r: (int(r["claim"]), r.get("chapter", "")))


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _headline(r: dict) -> str:
    h = r.get("headline") or {}
    if h.get("text"):
        return str(h["text"])
    ours = str(r.get("ours", ""))
    return ours if len(ours) <= 110 else ours[:107].rsplit(" ", 1)[0] + " ..."


def _num(x) -> str:
    return "-" if x is None else f"{float(x):.3g}"


def parts_summary(r: dict) -> str:
    """The parts' outcomes of a row with ``parts``, e.g. ``'no_improvement holds; forced_reduces fails'`` ('' if
    none)."""
    return "; ".join(f"{p.get('name', '?')} {p.get('outcome', '?')}" for p in r.get("parts") or [])


def part_lines(r: dict) -> list[str]:
    """One compact markdown line per part: outcome, estimate [CI] against its margin, its MDE, and why."""
    out = []
    for p in r.get("parts") or []:
        unit = f" {p['unit']}" if p.get("unit") else ""
        why = f"; {p['reason']}" if p.get("reason") else ""
        out.append(f"  - **{p.get('name', '?')}: {p.get('outcome', '?')}**: {_num(p.get('estimate'))} "
                   f"[{_num(p.get('ci_low'))}, {_num(p.get('ci_high'))}]{unit}, margin {_num(p.get('margin'))}, "
                   f"MDE {_num(p.get('mde'))}{why}")
    return out


def _mde(r: dict) -> str:
    pw = r.get("power") or {}
    if pw.get("mde") is None:
        return "-"
    effect, unit = pw.get("effect", "").split(" (")[0], pw.get("unit", "").split(" (")[0]
    return f"{float(pw['mde']):.3g} {effect} (n = {pw.get('n')} {unit})"


def render_scoreboard(rows: list[dict], figure: str | None = None) -> str:
    """MyST markdown: one short line per claim (verdict, headline, what the design could detect), then each claim's
    full record (paper, ours, rule, the branch of the rule that fired) in a collapsed dropdown, and the summary
    figure when ``figure`` (a path relative to the page) is given."""
    lines = ["| # | claim | verdict | headline (this build) | smallest detectable effect | data |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        title = r.get("title") or PAPER_CLAIMS.get(int(r["claim"]), ("", ""))[0]
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["claim"], title, f"**{r.get('verdict', '')}**" + (" (quick run)" if r.get("quick") else ""),
            _headline(r) + (f" (parts: {parts_summary(r)})" if r.get("parts") else ""), _mde(r),
            r.get("data", ""))) + " |")
    out = "\n".join(lines) + "\n"
    if any(r.get("quick") for r in rows):
        out += ("\n*quick run*: the chapter ran with its small CI settings (`quick=True`); its verdict is a smoke test "
                "of the pipeline, not the claim's result.\n")
    if figure:
        out += (f"\n```{{figure}} {figure}\n:name: scoreboard-figure\n\nEach claim's headline number from this build "
                "(dot, with its 95% CI), the baseline that ran beside it in the same build (grey square) and the "
                "paper's figure where it is a number (red diamond); units in each panel's title.\n```\n")
    out += "\n## Details per claim\n"
    for r in rows:
        title = r.get("title") or PAPER_CLAIMS.get(int(r["claim"]), ("", ""))[0]
        body = [f"- **paper:** {r.get('paper', '')}", f"- **ours:** {r.get('ours', '')}",
                f"- **data:** {r.get('data', '')}; chapter `{r.get('chapter', '')}`"]
        if r.get("rule"):
            body.append(f"- **rule (fixed before the run):** {r['rule']}")
        if r.get("parts"):
            body += ["- **parts** (each decided from its own interval; the verdict combines them):", *part_lines(r)]
        if r.get("reason"):
            body.append(f"- **why this verdict:** {r['reason']}")
        if r.get("power"):
            body.append(f"- **power:** {_mde(r)}; alpha {r['power'].get('alpha')}, {r['power'].get('correction')}")
        if r.get("pipeline"):
            body.append(f"- **pipeline:** {r['pipeline'].get('normalisation')} normalisation, "
                        f"{r['pipeline'].get('smoothing')} smoothing")
        out += (f"\n:::{{dropdown}} Claim {r['claim']}: {_cell(title)} ({r.get('verdict', '')})\n" + "\n".join(body)
                + "\n:::\n")
    return out


def plot_scoreboard(rows: list[dict], path: Path) -> Path | None:
    """One small panel per claim with a numeric ``headline`` (``ours`` with ``ci_low`` / ``ci_high``,
    ``baseline`` + ``baseline_label``, ``paper``, ``unit``); None when no row has one."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = [r for r in rows if isinstance(r.get("headline"), dict) and r["headline"].get("ours") is not None]
    if not rows:
        return None
    n = len(rows)
    cols = min(4, n)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(3.4 * cols, 2.3 * ((n + cols - 1) // cols)),
                             squeeze=False)
    for ax, r in zip(axes.ravel(), rows):
        h = r["headline"]
        ys, labels = [], []
        for k, (label, val) in enumerate((("ours", h.get("ours")), (h.get("baseline_label") or "baseline",
                                                                       h.get("baseline")),
                                          ("paper", h.get("paper")))):
            if val is None:
                continue
            style = {"ours": dict(fmt="o", color="tab:blue"), "paper": dict(fmt="D", color="tab:red")}.get(
                label, dict(fmt="s", color="0.5"))
            err = None
            if label == "ours" and h.get("ci_low") is not None:
                err = [[val - h["ci_low"]], [h["ci_high"] - val]]
            ax.errorbar([val], [len(ys)], xerr=err, capsize=3, **style)
            ys.append(len(ys))
            labels.append(label)
        ax.set_yticks(ys, labels, fontsize=7)
        ax.set_ylim(-0.6, len(ys) - 0.4)
        ax.set_title(f"{r['claim']}. {h.get('label', '')} [{r.get('verdict', '')}]", fontsize=8)
        ax.set_xlabel(h.get("unit", ""), fontsize=7)
        ax.tick_params(axis="x", labelsize=7)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_scoreboard(results_dir: Path, out: Path, page_dir: Path | None = None) -> Path:
    """Render the scoreboard from ``results_dir`` into ``out`` (markdown) and its summary figure beside it
    (``scoreboard.png``).

    ``page_dir`` is the folder of the page that includes ``out`` (``book/claims.md`` includes
    ``book/chapters/scoreboard.md``): MyST resolves an included file's image paths from the including page, so the
    figure is referenced relative to it (default: ``out``'s own folder).
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = collect_rows(results_dir)
    fig = plot_scoreboard(rows, out.with_suffix(".png"))
    ref = None if fig is None else Path(os.path.relpath(fig, page_dir or out.parent)).as_posix()
    out.write_text(render_scoreboard(rows, ref))
    return out
