"""The scoreboard: :class:`ScoreboardRow`, the typed row every chapter fills (checked when built), and the collation
of ``results/*.json`` rows into the book's claims table (``book/claims.md``)."""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from vaxis.publish.outcomes import OUTCOMES, Power
from vaxis.publish.parts import PART_OUTCOMES, Part
from vaxis.publish.rules import CLAIM6_PAPER_COUNTS, CLAIM6_PAPER_REDUCED, CLAIM8_GAIN
from vaxis.runs.store import to_jsonable

__all__ = ["VERDICTS", "POWER_KEYS", "PIPELINE_KEYS", "PROTOCOLS", "EEG_CLAIMS", "PART_KEYS", "HEADLINE_KEYS",
           "ScoreboardRow", "PAPER_CLAIMS", "collect_rows", "render_scoreboard", "plot_scoreboard",
           "write_scoreboard", "parts_summary", "part_lines"]

#: A row's verdict: one of the four outcomes, or ``"not run"`` (a claim no results file speaks for).
VERDICTS = (*OUTCOMES, "not run")
#: The fields of a row's ``power`` (:meth:`vaxis.publish.outcomes.Power.as_dict`); ``mde`` must be finite.
POWER_KEYS = ("unit", "n", "alpha", "correction", "mde", "effect")
#: The fields of an EEG row's ``pipeline``.
PIPELINE_KEYS = ("normalisation", "smoothing")
#: What an EEG row's test units had not seen (``vaxis.decoding.folds.protocol_name``).
PROTOCOLS = ("cross-subject", "cross-stimulus")
#: The claims whose rows carry ``pipeline`` and ``protocol``.
EEG_CLAIMS = (4, 5, 6, 7, 8)
#: The fields every ``parts`` entry carries (:meth:`vaxis.publish.parts.Part.as_dict`).
PART_KEYS = ("name", "outcome", "estimate", "ci_low", "ci_high", "margin", "mde")
#: The fields a ``headline`` may carry (:func:`plot_scoreboard` reads them; ``text`` is the table's cell).
HEADLINE_KEYS = ("text", "label", "unit", "ours", "ci_low", "ci_high", "baseline", "baseline_label", "paper")
#: Keys :func:`collect_rows` adds to a row from its results file; a row never sets them.
_COLLATED = ("chapter", "written_at", "quick")


def _as_mapping(name: str, value: Any) -> dict:
    """``value`` (a mapping or an object with ``as_dict()``) as a JSON-ready dict."""
    if hasattr(value, "as_dict") and callable(value.as_dict):
        value = value.as_dict()
    if not isinstance(value, Mapping):
        raise ValueError(f"{name} must be a mapping (or have as_dict()), got {type(value).__name__}")
    return to_jsonable(dict(value))


@dataclass(frozen=True)
class ScoreboardRow:
    """One claim's row of the scoreboard, as a chapter writes it into ``results/<chapter>.json``; every field is
    checked when the row is built (a :class:`ValueError` names the field).

    Attributes
    ----------
    claim : int
        The claim's number, 1-8 (:data:`PAPER_CLAIMS`).
    verdict : str
        One of :data:`VERDICTS`; the fields below are required unless it is ``"not run"``.
    title, paper, ours, data : str
        The claim as the row states it, the paper's figure, this build's result in words, the data source (e.g.
        ``"faced"``, ``"synthetic"``, ``"text (...)"``). Non-empty.
    rule, reason : str
        The verdict rule's text (fixed before the run) and the branch that fired (``**verdict.fields()`` of a
        :class:`vaxis.publish.outcomes.Verdict` fills ``verdict``, ``rule`` and ``reason``). ``rule`` non-empty.
    power : Power or mapping
        The power statement (:data:`POWER_KEYS`, ``mde`` finite).
    protocol : str, optional
        One of :data:`PROTOCOLS`; required for claims 4-8 (:data:`EEG_CLAIMS`).
    pipeline : mapping or object with ``as_dict()``, optional
        The EEG input pipeline (:data:`PIPELINE_KEYS`); required for claims 4-8.
    parts : sequence of Part or mappings, optional
        The claim's parts (each with :data:`PART_KEYS`, ``outcome`` one of
        :data:`vaxis.publish.parts.PART_OUTCOMES`).
    headline : mapping, optional
        The short headline (``text``) and the summary figure's numbers (keys from :data:`HEADLINE_KEYS`).
    extra : mapping
        Chapter-specific fields written beside the others (e.g. claim 4's ``gain`` and ``p_holm``, claim 8's
        ``comparator``); their names may not shadow a field above.

    ``power``, ``pipeline``, ``parts`` and ``headline`` are stored as JSON-ready dicts (``Power`` and ``Part``
    objects converted by their ``as_dict``). :meth:`as_dict` is the row as written: the fields that are set (None
    ones left out), then ``extra``.
    """

    claim: int
    verdict: str
    title: str | None = None
    paper: str | None = None
    ours: str | None = None
    data: str | None = None
    protocol: str | None = None
    rule: str | None = None
    reason: str | None = None
    power: Power | Mapping | None = None
    pipeline: Any = None
    parts: Sequence[Part | Mapping] | None = None
    headline: Mapping | None = None
    extra: Mapping = field(default_factory=dict)

    def __post_init__(self) -> None:
        c = self.claim
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or int(c) != c or int(c) not in PAPER_CLAIMS:
            raise ValueError(f"ScoreboardRow.claim must be one of {sorted(PAPER_CLAIMS)}, got {c!r}")
        object.__setattr__(self, "claim", int(c))
        where = f"scoreboard row of claim {self.claim}"
        if self.verdict not in VERDICTS:
            raise ValueError(f"{where}: verdict must be one of {VERDICTS}, got {self.verdict!r}")
        self._check_texts(where)
        self._set_power(where)
        self._set_eeg_fields(where)
        self._set_parts(where)
        self._set_headline(where)
        clash = sorted(set(self.extra) & ({f.name for f in fields(self)} | set(_COLLATED)))
        if clash:
            raise ValueError(f"{where}: extra fields {clash} shadow the row's own fields")
        object.__setattr__(self, "extra", to_jsonable(dict(self.extra)))

    def _check_texts(self, where: str) -> None:
        for name in ("title", "paper", "ours", "data", "rule", "reason"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, str):
                raise ValueError(f"{where}: {name} must be a string, got {type(v).__name__}")
        if self.verdict == "not run":
            return
        missing = [k for k in ("title", "paper", "ours", "data", "rule") if not getattr(self, k)]
        if missing:
            raise ValueError(f"{where} lacks {missing}")

    def _set_power(self, where: str) -> None:
        if self.power is None:
            if self.verdict != "not run":
                raise ValueError(f"{where} lacks ['power']")
            return
        pw = _as_mapping(f"{where}: power", self.power)
        lack = [k for k in POWER_KEYS if k not in pw]
        if lack:
            raise ValueError(f"{where}: power lacks {lack}")
        if pw["mde"] is None or not math.isfinite(float(pw["mde"])):
            raise ValueError(f"{where}: power.mde must be finite, got {pw['mde']}")
        object.__setattr__(self, "power", pw)

    def _set_eeg_fields(self, where: str) -> None:
        if self.pipeline is not None:
            object.__setattr__(self, "pipeline", _as_mapping(f"{where}: pipeline", self.pipeline))
        if self.protocol is not None and self.protocol not in PROTOCOLS:
            raise ValueError(f"{where}: protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        if self.verdict == "not run" or self.claim not in EEG_CLAIMS:
            return
        if self.pipeline is None or any(k not in self.pipeline for k in PIPELINE_KEYS):
            raise ValueError(f"{where} lacks pipeline {PIPELINE_KEYS}")
        if self.protocol is None:
            raise ValueError(f"{where} must name its protocol, one of {PROTOCOLS}; got None")

    def _set_parts(self, where: str) -> None:
        if self.parts is None:
            return
        if isinstance(self.parts, (str, Mapping)) or not isinstance(self.parts, Sequence):
            raise ValueError(f"{where}: parts must be a list of Part, got {type(self.parts).__name__}")
        out = [_as_mapping(f"{where}: part", p) for p in self.parts]
        for p in out:
            lack = [k for k in PART_KEYS if k not in p]
            if lack:
                raise ValueError(f"{where}: part {p.get('name')!r} lacks {lack}")
            if p["outcome"] not in PART_OUTCOMES:
                raise ValueError(f"{where}: part {p['name']!r} outcome must be one of {PART_OUTCOMES}, got "
                                 f"{p['outcome']!r}")
        object.__setattr__(self, "parts", out)

    def _set_headline(self, where: str) -> None:
        if self.headline is None:
            return
        h = _as_mapping(f"{where}: headline", self.headline)
        unknown = sorted(set(h) - set(HEADLINE_KEYS))
        if unknown:
            raise ValueError(f"{where}: headline has unknown fields {unknown}; allowed: {HEADLINE_KEYS}")
        object.__setattr__(self, "headline", h)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> ScoreboardRow:
        """A row from a dict (e.g. read back from a results file, or built by a ``claims`` module, which cannot
        import ``publish``): its own fields by name, every other key into ``extra``."""
        own = {f.name for f in fields(cls)} - {"extra"}
        if "claim" not in row or "verdict" not in row:
            raise ValueError(f"a scoreboard row needs 'claim' and 'verdict', got {sorted(row)}")
        return cls(**{k: v for k, v in row.items() if k in own},
                   extra={k: v for k, v in row.items() if k not in own})

    def as_dict(self) -> dict[str, Any]:
        """The row as written into the results file: the set fields (in the declared order), then ``extra``."""
        own = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        return {**{k: v for k, v in own.items() if v is not None}, **self.extra}


#: The eight claims with the paper's figure (PAPER.md); "ours" comes only from results files.
PAPER_CLAIMS = {
    1: ("A V-axis read from nine sentences", "built from 9 sentences"),
    2: ("Zero-shot transfer to sentiment benchmarks", "validated on sentiment benchmarks"),
    3: ("Consistent across LLMs", "14 LLMs agree"),
    4: ("One linear projection of EEG tracks the V-axis", "significant tracking, 123 subjects"),
    5: ("Label-only EEG classifiers rediscover it", "36/36 classifiers"),
    6: ("Alignment supervision does not help",
        f"{CLAIM6_PAPER_COUNTS['improved']}/{CLAIM6_PAPER_REDUCED[1]} improve, "
        f"{CLAIM6_PAPER_REDUCED[0]}/{CLAIM6_PAPER_REDUCED[1]} reduce"),
    7: ("The saturation regularity", "formal statement + evidence"),
    8: ("Residual-diversity ensembles beat the prior best", f"+{CLAIM8_GAIN:g}% BA on FACED; replicates on SEED-V"),
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
