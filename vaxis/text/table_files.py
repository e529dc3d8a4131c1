"""Reading benchmark and user text files: tables, columns and binary labels, with one clear error per problem
(re-exported by :mod:`vaxis.text.sentiment`, which moved them here).

Text is read as UTF-8; a leading byte-order mark (as written by Excel and Notepad) is dropped. Binary labels are
normalised before they are counted: ``1``, ``1.0``, ``pos``, ``positive``, ``true``, ``yes`` are positive; ``0``,
``0.0``, ``-1``, ``neg``, ``negative``, ``false``, ``no`` negative (case and surrounding spaces ignored), so ``1``
and ``1.0`` in one column are one class. A column with both ``0`` and ``-1`` is refused (in a -1/0/1 scheme 0 means
neutral), and so is a column with only one class (an AUROC needs positives and negatives).
"""

from __future__ import annotations

import csv
import gzip
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["BenchmarkFormatError", "open_text", "read_table", "pick_column", "binary_labels", "check_two_classes",
           "TEXT_COLS", "LABEL_COLS"]

TEXT_COLS = ("text", "sentence", "review", "input", "content", "tweet", "document")
LABEL_COLS = ("label", "labels", "sentiment", "output", "polarity", "target", "class")
_POS = {"1", "pos", "positive", "true", "yes"}
_NEG = {"0", "-1", "neg", "negative", "false", "no"}


class BenchmarkFormatError(ValueError):
    """A benchmark file does not have the expected format; the message names the file, what was expected and found."""


def open_text(path: Path):
    """Open a UTF-8 text file (``.gz``: gzip-compressed) for reading; a byte-order mark is skipped."""
    return (gzip.open(path, "rt", encoding="utf-8-sig") if path.suffix == ".gz"
            else open(path, encoding="utf-8-sig"))


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a ``.tsv`` / ``.csv`` / ``.jsonl`` (optionally ``.gz``) file with a header into a DataFrame of strings."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: file not found")
    kind = path.name[:-3] if path.name.endswith(".gz") else path.name
    kind = kind.rsplit(".", 1)[-1].lower()
    try:
        return _read_table(path, kind)
    except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, csv.Error) as err:
        raise BenchmarkFormatError(f"{path}: unreadable {kind} file (expected UTF-8 text"
                                   f"{', gzip-compressed' if path.suffix == '.gz' else ''}): "
                                   f"{type(err).__name__}: {err}") from err


def _read_table(path: Path, kind: str) -> pd.DataFrame:
    with open_text(path) as f:
        if kind == "jsonl":
            rows = []
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise BenchmarkFormatError(f"{path}: line {i} is not valid JSON ({e.msg})") from None
            df = pd.DataFrame(rows)
        elif kind in ("tsv", "csv"):
            quoting = csv.QUOTE_NONE if kind == "tsv" else csv.QUOTE_MINIMAL
            rows = list(csv.reader(f, delimiter="\t" if kind == "tsv" else ",", quoting=quoting))
            rows = [r for r in rows if any(c.strip() for c in r)]
            if not rows:
                raise BenchmarkFormatError(f"{path}: empty file (expected a header row and data rows)")
            header = [c.strip() for c in rows[0]]
            bad = [i for i, r in enumerate(rows[1:], 2) if len(r) != len(header)]
            if bad:
                raise BenchmarkFormatError(
                    f"{path}: line {bad[0]} has {len(rows[bad[0] - 1])} fields, expected {len(header)} "
                    f"(header {header})")
            df = pd.DataFrame(rows[1:], columns=header)
        else:
            raise BenchmarkFormatError(f"{path}: unsupported extension '.{kind}' (expected .tsv, .csv or .jsonl[.gz])")
    if len(df) == 0:
        raise BenchmarkFormatError(f"{path}: empty file (expected at least one data row)")
    return df


def pick_column(df: pd.DataFrame, given: str | None, candidates: tuple[str, ...], what: str, path: Path) -> str:
    """The ``what`` (``"text"`` / ``"label"``) column: ``given``, else the first of ``candidates`` (any case)."""
    cols = list(df.columns)
    if given is not None:
        if given not in cols:
            raise BenchmarkFormatError(f"{path}: no {what} column '{given}'; found columns {cols}")
        return given
    lower = {str(c).lower(): c for c in cols}
    for c in candidates:
        if c in lower:
            return lower[c]
    raise BenchmarkFormatError(
        f"{path}: cannot find a {what} column (expected one of {list(candidates)}, or pass "
        f"{'text_col' if what == 'text' else 'label_col'}=...); found columns {cols}")


def _canonical(value: str) -> str:
    """``' 1.0 '`` -> ``'1'``, ``'-1.00'`` -> ``'-1'``, ``'Positive'`` -> ``'positive'``; other text lower-cased."""
    s = value.strip().lower()
    try:
        x = float(s)
    except ValueError:
        return s
    return str(int(x)) if x.is_integer() else s


def binary_labels(values: pd.Series, path: Path, col: str) -> np.ndarray:
    """Labels of one column as 1 (positive) / 0 (negative), shape (n,); spellings normalised (module docstring).

    Raises :class:`BenchmarkFormatError` on missing values, values that are not a binary label, a column with both
    ``0`` and ``-1``, and a column with only one class.
    """
    missing = np.flatnonzero(values.isna().to_numpy() | (values.astype(str).str.strip() == "").to_numpy())
    if missing.size:
        raise BenchmarkFormatError(f"{path}: label column '{col}' has {missing.size} missing values (first at data "
                                   f"row {missing[0] + 1}); expected a binary label on every row")
    raw = values.astype(str)
    s = raw.map(_canonical)
    found = sorted(set(raw.str.strip()))
    shown = f"{found[:10]}{' ...' if len(found) > 10 else ''}"
    if set(s) - _POS - _NEG or {"0", "-1"} <= set(s):
        raise BenchmarkFormatError(
            f"{path}: label column '{col}' is not binary (expected two values such as 0/1 or "
            f"negative/positive{'; 0 and -1 together look like a -1/0/1 scheme' if {'0', '-1'} <= set(s) else ''})"
            f"; found {shown}")
    y = s.isin(_POS).to_numpy().astype(int)
    check_two_classes(y, path, f"label column '{col}' (values {shown})")
    return y


def check_two_classes(labels: np.ndarray, path: str | os.PathLike, what: str = "labels") -> None:
    """Refuse labels (1 positive, 0 negative, -1 neutral: ignored) without at least one positive and one negative."""
    y = np.asarray(labels)
    n_pos, n_neg = int((y == 1).sum()), int((y == 0).sum())
    if n_pos == 0 or n_neg == 0:
        raise BenchmarkFormatError(
            f"{path}: only one class in {what}: {n_pos} positive and {n_neg} negative rows; an AUROC and an "
            "accuracy need both positive and negative texts")
