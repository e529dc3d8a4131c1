"""Chapter results: ``results/<chapter>.json`` files and the scoreboard they feed.

Every chapter writes one JSON file with its key figures. Each figure carries its sample size,
its uncertainty (CI or p-value) and its data source (``"faced"``, ``"seedv"`` or
``"synthetic"``). A ``scoreboard`` block (a list of :class:`vaxis.publish.scoreboard.ScoreboardRow`, checked when
built) is what ``book/claims.md`` collates:

.. code-block:: python

    ScoreboardRow(claim=1, title="...", paper="built from 9 sentences",
                  ours="LOSO cosine 0.97 [0.95, 0.99] (n=9)", data="text", **verdict.fields(), power=power)

Nothing else in the project parses notebook outputs.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaxis import __version__
from vaxis.publish.params import current_run
from vaxis.publish.scoreboard import PROTOCOLS, ScoreboardRow
from vaxis.runs.cache import atomic_write_bytes
from vaxis.runs.store import to_jsonable

__all__ = ["results_root", "write_results", "read_results", "check_contract"]


def results_root(results_dir: str | os.PathLike | None = None) -> Path:
    """``results_dir`` if given, else ``$VAXIS_RESULTS``, else ``./results``."""
    return Path(results_dir or os.environ.get("VAXIS_RESULTS") or "results")


REFERENCE_KEYS = ("name", "task", "ba", "ci_low", "ci_high")


def _row(chapter: str, row: ScoreboardRow | Mapping[str, Any]) -> ScoreboardRow:
    """``row`` as a checked :class:`ScoreboardRow` (a dict is checked by building one); errors name the chapter."""
    if isinstance(row, ScoreboardRow):
        return row
    try:
        return ScoreboardRow.from_dict(row)
    except ValueError as err:
        raise ValueError(f"{chapter}: {err}") from err


def check_contract(chapter: str, payload: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` when a chapter's payload misses a field of the results contract.

    Every scoreboard row is a :class:`vaxis.publish.scoreboard.ScoreboardRow` (a dict row is checked by building
    one): with a verdict other than ``"not run"`` it carries ``verdict``, ``rule`` and ``power`` (``unit``, ``n``,
    ``alpha``, ``correction``, ``mde`` (finite), ``effect``); rows of claims 4-8 also carry ``pipeline``
    (``normalisation``, ``smoothing``) and ``protocol``. Chapters 5-8 carry top-level ``baseline`` and
    ``label_only`` lists of ``{name, task, ba, ci_low, ci_high, protocol}``, one per task.
    """
    rows = [_row(chapter, r) for r in payload.get("scoreboard", [])]
    run = [r for r in rows if r.verdict != "not run"]
    if run and all(r.claim in (5, 6, 7, 8) for r in run):
        for key in ("baseline", "label_only"):
            entries = to_jsonable(payload.get(key) or [])
            if not entries or any(any(k not in e for k in REFERENCE_KEYS) for e in entries):
                raise ValueError(f"{chapter}: top-level {key!r} must list {REFERENCE_KEYS} per task")
            if any(e.get("protocol") not in PROTOCOLS for e in entries):
                raise ValueError(f"{chapter}: every {key!r} entry must name its protocol, one of {PROTOCOLS}")


def write_results(
    chapter: str,
    payload: Mapping[str, Any],
    results_dir: str | os.PathLike | None = None,
) -> Path:
    """Write ``results/<chapter>.json`` atomically and return its path.

    Parameters
    ----------
    chapter : str
        File stem, e.g. ``"01_v_axis"``.
    payload : mapping
        The chapter's figures; should hold ``data_source`` and a ``scoreboard`` list of
        :class:`~vaxis.publish.scoreboard.ScoreboardRow` (dict rows are checked the same way and written as given).

    The file records ``quick`` (a run with the small CI settings, whose verdict the scoreboard labels as such):
    the payload's own ``quick`` (or ``settings.quick``), else what ``check_parameters`` recorded for the chapter.
    """
    check_contract(chapter, payload)
    if "scoreboard" in payload:
        payload = {**payload, "scoreboard": [r.as_dict() if isinstance(r, ScoreboardRow) else r
                                             for r in payload["scoreboard"]]}
    quick = payload.get("quick", (payload.get("settings") or {}).get("quick", current_run(chapter).get("quick")))
    doc = {
        "chapter": chapter,
        "vaxis_version": __version__,
        "written_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **to_jsonable(dict(payload)),
    }
    if quick is not None:
        doc["quick"] = bool(quick)
    path = results_root(results_dir) / f"{chapter}.json"
    atomic_write_bytes(path, json.dumps(doc, indent=2, allow_nan=False).encode())
    return path


def read_results(chapter: str, results_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Read ``results/<chapter>.json``; raises ``FileNotFoundError`` naming the chapter to run."""
    path = results_root(results_dir) / f"{chapter}.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run the chapter notebook '{chapter}' first")
    try:
        doc = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: corrupt results file (expected a JSON object; {err}); rerun the chapter "
                         f"notebook '{chapter}'") from err
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: expected a JSON object, found {type(doc).__name__}; rerun the chapter "
                         f"notebook '{chapter}'")
    return doc
