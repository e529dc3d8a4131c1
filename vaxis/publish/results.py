"""Chapter results: ``results/<chapter>.json`` files and the scoreboard they feed.

Every chapter writes one JSON file with its key figures. Each figure carries its sample size,
its uncertainty (CI or p-value) and its data source (``"faced"``, ``"seedv"`` or
``"synthetic"``). A ``scoreboard`` block (a list of rows) is what ``book/claims.md`` collates:

.. code-block:: python

    {"claim": 1, "title": "...", "paper": "built from 9 sentences",
     "ours": "LOSO cosine 0.97 [0.95, 0.99] (n=9)", "data": "text",
     "verdict": "replicates" | "partly" | "does not replicate" | "not run"}

Nothing else in the project parses notebook outputs.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vaxis import __version__
from vaxis.publish.params import current_run
from vaxis.runs.cache import atomic_write_bytes
from vaxis.runs.store import to_jsonable

__all__ = ["results_root", "to_jsonable", "write_results", "read_results", "check_contract", "VERDICTS",
           "POWER_KEYS"]

VERDICTS = ("replicates", "partly", "does not replicate", "inconclusive", "not run")


def results_root(results_dir: str | os.PathLike | None = None) -> Path:
    """``results_dir`` if given, else ``$VAXIS_RESULTS``, else ``./results``."""
    return Path(results_dir or os.environ.get("VAXIS_RESULTS") or "results")


POWER_KEYS = ("unit", "n", "alpha", "correction", "mde", "effect")
PIPELINE_KEYS = ("normalisation", "smoothing")
REFERENCE_KEYS = ("name", "task", "ba", "ci_low", "ci_high")
EEG_CLAIMS = (4, 5, 6, 7, 8)
#: What an EEG row's test units had not seen (``vaxis.decoding.folds.protocol_name``).
PROTOCOLS = ("cross-subject", "cross-stimulus")


def check_contract(chapter: str, payload: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` when a chapter's payload misses a field of the results contract.

    Every scoreboard row with a verdict other than ``"not run"`` carries ``verdict``, ``rule`` and ``power``
    (``unit``, ``n``, ``alpha``, ``correction``, ``mde`` (finite), ``effect``); rows of claims 4-8 also carry
    ``pipeline`` (``normalisation``, ``smoothing``). Chapters 5-8 carry top-level ``baseline`` and ``label_only``
    lists of ``{name, task, ba, ci_low, ci_high}``, one per task.
    """
    rows = payload.get("scoreboard", [])
    for row in rows:
        if row.get("verdict") not in VERDICTS:
            raise ValueError(f"scoreboard verdict must be one of {VERDICTS}, got {row.get('verdict')!r}")
        if row["verdict"] == "not run":
            continue
        missing = [k for k in ("rule", "power") if not row.get(k)]
        if missing:
            raise ValueError(f"{chapter}: scoreboard row of claim {row.get('claim')} lacks {missing}")
        pw = to_jsonable(row["power"])
        lack = [k for k in POWER_KEYS if k not in pw]
        if lack:
            raise ValueError(f"{chapter}: power of claim {row.get('claim')} lacks {lack}")
        if pw["mde"] is None or not math.isfinite(float(pw["mde"])):
            raise ValueError(f"{chapter}: power.mde of claim {row.get('claim')} must be finite, got {pw['mde']}")
        if int(row.get("claim", 0)) in EEG_CLAIMS:
            pl = row.get("pipeline") or {}
            if any(k not in pl for k in PIPELINE_KEYS):
                raise ValueError(f"{chapter}: claim {row.get('claim')} row lacks pipeline {PIPELINE_KEYS}")
            if row.get("protocol") not in PROTOCOLS:
                raise ValueError(f"{chapter}: claim {row.get('claim')} row must name its protocol, one of "
                                 f"{PROTOCOLS}; got {row.get('protocol')!r}")
    run = [r for r in rows if r["verdict"] != "not run"]
    if run and all(int(r.get("claim", 0)) in (5, 6, 7, 8) for r in run):
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
        The chapter's figures; should hold ``data_source`` and a ``scoreboard`` list.

    The file records ``quick`` (a run with the small CI settings, whose verdict the scoreboard labels as such):
    the payload's own ``quick`` (or ``settings.quick``), else what ``check_parameters`` recorded for the chapter.
    """
    check_contract(chapter, payload)
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
