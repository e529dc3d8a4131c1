"""Sentiment benchmarks: readers and evaluation sets (metrics and lexicon baselines in
:mod:`vaxis.text.sentiment_metrics`, re-exported here).

Readers return a :class:`pandas.DataFrame` with columns ``text`` and ``label`` (1 = positive, 0 = negative)
plus ``fine_label`` for graded benchmarks (SST-5: 1..5, TweetEval: 0/1/2, IMDB: star rating 1..10).
The binary view drops neutral rows (SST-5 label 3, TweetEval label 1); ``keep_neutral=True`` keeps them with
``label == -1`` so that one text set serves both AUROC (binary rows) and Spearman (all rows).

Data root (:mod:`vaxis.text.sentiment_source`): the ``data_dir`` argument, else ``$VAXIS_SENTIMENT_DIR``, else
``../shared/data/sentiment`` next to the repository, else the copy ``vaxis data fetch sentiment`` put in the cache,
else the EMBEDDED SAMPLE shipped with the package (200 texts per benchmark). File reading, BOM and label spellings:
:mod:`vaxis.text.table_files`. :func:`describe_data` checks every benchmark of a run before any model loads and names
the data it reads. Any user file (``.tsv``, ``.csv``, ``.jsonl``, optionally ``.gz``) with a text column and a
binary label column is accepted wherever a benchmark name is (chapter 2's ``benchmark_names`` too); columns are
detected by name or given by ``text_col`` / ``label_col``, and the file's stem names it in every table
(:func:`benchmark_key`). Rows with an empty text are an error unless ``drop_empty=True``, which drops them and
records how many in ``df.attrs["n_dropped_empty"]``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from vaxis.text.sentiment_metrics import (
    accuracy_at,
    auroc,
    graded_spearman,
    lexicon_scores,
    metric_with_ci,
    random_direction_aurocs,
)
from vaxis.text.sentiment_source import (
    EMBEDDED_DIR,
    SentimentSource,
    fetched_dir,
    resolve_sentiment_dir,
    sentiment_source,
)
from vaxis.text.table_files import (
    LABEL_COLS,
    TEXT_COLS,
    BenchmarkFormatError,
    binary_labels,
    check_two_classes,
    open_text,
    pick_column,
    read_table,
)

__all__ = [
    "BENCHMARKS", "BenchmarkFormatError", "resolve_sentiment_dir", "load_benchmark", "read_table",
    "evaluation_set", "benchmark_key", "is_user_file", "probe_rows", "truncate_words", "IMDB_MAX_WORDS",
    "MAX_TOKENS", "QUICK_N_TEXTS", "DEFAULT_N_TEXTS", "auroc", "accuracy_at", "graded_spearman", "metric_with_ci",
    "lexicon_scores", "random_direction_aurocs", "check_benchmarks", "describe_data", "data_tag", "sentiment_source",
    "SentimentSource", "EMBEDDED_DIR", "fetched_dir", "check_two_classes",
]

#: IMDB reviews are truncated to their first ``IMDB_MAX_WORDS`` whitespace words before extraction, identically
#: for every model (and for the lexicons), so all models read the same text.
IMDB_MAX_WORDS = 128
#: Token cut of every text at extraction (the tokenizer keeps the first ``MAX_TOKENS``): only IMDB reviews are
#: that long (after the word cut they run about 160 tokens, so each model reads about their first 100 words).
MAX_TOKENS = 128
#: texts per benchmark in quick mode (CI tests)
QUICK_N_TEXTS = 100
#: positive / negative texts per benchmark in the default run, the same for every model (``None`` = all rows,
#: capped by ``max_rows``): every model, control and chapter reads the same prefix of each benchmark's seeded order
#: (:func:`evaluation_set`), which the CI build affords on 2 CPU cores with the extraction of :mod:`vaxis.text.llm`
#: (``benchmarks/throughput.py``).
DEFAULT_N_TEXTS = {"encoder": 500, "causal": 500}


@dataclass(frozen=True)
class Spec:
    """Where a named benchmark lives and how its labels map to the binary view."""

    splits: dict[str, str]
    default_split: str
    neutral: int | None = None  # fine label dropped by the binary view
    graded: bool = False  # Spearman with fine labels is reported
    max_rows: int | None = None  # cap on the default (non-quick) evaluation set
    full_file: str | None = None
    notes: str = ""
    extra: dict = field(default_factory=dict)


BENCHMARKS: dict[str, Spec] = {
    "sst2": Spec({"dev": "sst2/dev.tsv"}, "dev", notes="GLUE SST-2 dev, 872 sentences"),
    "sst5": Spec({"test": "sst5/test.jsonl", "dev": "sst5/dev.tsv"}, "test", neutral=3, graded=True,
                 notes="SST-5 test, 2,210 sentences; binary view drops label 3"),
    "rotten_tomatoes": Spec({"test": "rotten_tomatoes/test.jsonl"}, "test", notes="MR test, 1,066 snippets"),
    "imdb": Spec({"test": "imdb/test_sub2000_seed0.jsonl"}, "test", full_file="imdb/test.jsonl.gz",
                 notes=f"aclImdb test, balanced 2,000 subset; truncated to {IMDB_MAX_WORDS} words"),
    "tweeteval_sentiment": Spec({"test": "tweeteval_sentiment/test", "val": "tweeteval_sentiment/val"}, "test",
                                neutral=1, graded=True, max_rows=2500,
                                notes="TweetEval sentiment test (12,284 tweets); binary view drops neutral"),
}


def _clean(texts: pd.Series) -> pd.Series:
    return texts.astype(str).str.replace(r"<br\s*/?>", " ", regex=True).str.strip()


def _read_named(name: str, root: Path, split: str, full: bool) -> pd.DataFrame:
    spec = BENCHMARKS[name]
    rel = spec.full_file if (full and spec.full_file) else spec.splits[split]
    path = root / rel
    if name == "tweeteval_sentiment":
        tpath, lpath = Path(f"{path}_text.txt"), Path(f"{path}_labels.txt")
        for p in (tpath, lpath):
            if not p.exists():
                raise FileNotFoundError(f"{p}: file not found (TweetEval needs {tpath.name} and {lpath.name})")
        texts = tpath.read_text(encoding="utf-8-sig").splitlines()
        labels = [x.strip() for x in lpath.read_text(encoding="utf-8-sig").splitlines()]
        if len(texts) != len(labels):
            raise BenchmarkFormatError(f"{tpath}: {len(texts)} texts but {lpath.name} has {len(labels)} labels")
        return pd.DataFrame({"text": texts, "fine_label": pd.Series(labels).astype(int)})
    if name == "sst5" and path.suffix == ".tsv":  # fastText style: __label__K<TAB>sentence
        rows = []
        with open_text(path) as f:
            for i, line in enumerate(f, 1):
                m = re.match(r"__label__(\d)\t(.*)$", line.rstrip("\n"))
                if not m:
                    raise BenchmarkFormatError(f"{path}: line {i} is not '__label__K<TAB>sentence'")
                rows.append((m.group(2), int(m.group(1))))
        return pd.DataFrame(rows, columns=["text", "fine_label"])
    df = read_table(path)
    if name == "sst5":
        return pd.DataFrame({"text": df["text"], "fine_label": df["label"].astype(int)})
    if name == "rotten_tomatoes":
        return pd.DataFrame({"text": df["input"], "label": binary_labels(df["output"], path, "output")})
    if name == "imdb":
        return pd.DataFrame({"text": df["text"], "label": df["label"].astype(int), "fine_label": df["rating"]})
    return pd.DataFrame({"text": df["sentence"], "label": binary_labels(df["label"], path, "label")})


def load_benchmark(
    name_or_path: str | os.PathLike,
    text_col: str | None = None,
    label_col: str | None = None,
    split: str | None = None,
    full: bool = False,
    data_dir: str | os.PathLike | None = None,
    keep_neutral: bool = False,
    drop_empty: bool = False,
) -> pd.DataFrame:
    """Load a named benchmark (``sst2``, ``sst5``, ``rotten_tomatoes``, ``imdb``, ``tweeteval_sentiment``) or a file.

    Parameters
    ----------
    name_or_path : str or path
        A name from :data:`BENCHMARKS` or a path to a ``.tsv`` / ``.csv`` / ``.jsonl`` (``.gz``) file.
    text_col, label_col : str, optional
        Column names for a user file (detected from common names when omitted).
    split : str, optional
        Benchmark split (default: the spec's evaluation split, e.g. ``"test"``).
    full : bool
        IMDB only: all 25,000 test reviews instead of the balanced 2,000 subset.
    data_dir : path, optional
        Sentiment data root (see :func:`resolve_sentiment_dir`).
    keep_neutral : bool
        Keep neutral rows of graded benchmarks with ``label == -1``.
    drop_empty : bool
        User files: drop rows whose text is missing or blank (their count goes to ``attrs["n_dropped_empty"]``)
        instead of refusing the file.

    Returns
    -------
    DataFrame, shape (n_texts, 2 or 3)
        ``text`` (str), ``label`` (int: 1 positive, 0 negative, -1 neutral) and, where graded, ``fine_label``.
        ``df.attrs`` holds ``name`` (the benchmark name, or a user file's stem), ``path``, ``split``,
        ``graded`` and ``n_dropped_empty``.
    """
    key = str(name_or_path)
    if key in BENCHMARKS:
        spec = BENCHMARKS[key]
        split = split or spec.default_split
        if split not in spec.splits:
            raise ValueError(f"benchmark '{key}' has splits {list(spec.splits)}, not '{split}'")
        root = resolve_sentiment_dir(data_dir)
        df = _read_named(key, root, split, full)
        if "label" not in df.columns:  # graded: derive the binary view from fine labels
            fl = df["fine_label"].to_numpy()
            mid = spec.neutral
            df["label"] = np.where(fl > mid, 1, np.where(fl < mid, 0, -1))
            df = df[["text", "label", "fine_label"]]
        check_two_classes(df["label"].to_numpy(), root / spec.splits[split], f"benchmark '{key}'")
        attrs = {"name": key, "path": str(root / spec.splits[split]), "split": split, "graded": spec.graded,
                 "n_dropped_empty": 0}
    elif is_user_file(key):
        path = Path(key).expanduser()
        raw = read_table(path)
        tc = pick_column(raw, text_col, TEXT_COLS, "text", path)
        lc = pick_column(raw, label_col, LABEL_COLS, "label", path)
        no_text = np.flatnonzero(raw[tc].isna().to_numpy() | (raw[tc].astype(str).str.strip() == "").to_numpy())
        if no_text.size and not drop_empty:
            raise BenchmarkFormatError(f"{path}: text column '{tc}' has {no_text.size} missing or empty values "
                                       f"(first at data row {no_text[0] + 1}); expected a text on every row, or "
                                       f"pass drop_empty=True (chapter 2: -p drop_empty true) to drop those rows")
        raw = raw.drop(index=raw.index[no_text]).reset_index(drop=True)
        if raw.empty:
            raise BenchmarkFormatError(f"{path}: no row with a text left after dropping {no_text.size} empty ones")
        df = pd.DataFrame({"text": raw[tc].astype(str), "label": binary_labels(raw[lc], path, lc)})
        attrs = {"name": benchmark_key(path), "path": str(path), "split": None, "graded": False,
                 "n_dropped_empty": int(no_text.size)}
    else:
        raise ValueError(f"unknown benchmark '{key}': expected one of {list(BENCHMARKS)} or a path to a "
                         ".tsv/.csv/.jsonl(.gz) file")
    df["text"] = _clean(df["text"])
    df["label"] = df["label"].astype(int)
    if not keep_neutral:
        df = df[df["label"] >= 0]
    df = df.reset_index(drop=True)
    df.attrs.update(attrs)
    return df


def is_user_file(name_or_path: str | os.PathLike) -> bool:
    """Whether ``name_or_path`` means a file (not a named benchmark): a known extension or an existing path."""
    key = str(name_or_path)
    if key in BENCHMARKS:
        return False
    p = Path(key).expanduser()
    return p.suffix.lower() in (".tsv", ".csv", ".jsonl", ".gz") or p.exists()


def benchmark_key(name_or_path: str | os.PathLike) -> str:
    """The name a benchmark goes by in tables and results: its name, or a user file's stem (``my.tsv.gz`` -> ``my``)."""
    key = str(name_or_path)
    if not is_user_file(key):
        return key
    name = Path(key).name
    name = name[:-3] if name.lower().endswith(".gz") else name
    return name.rsplit(".", 1)[0] if "." in name else name


def truncate_words(texts: list[str], max_words: int = IMDB_MAX_WORDS) -> list[str]:
    """Keep the first ``max_words`` whitespace-separated words of each text (model-independent truncation)."""
    return [t if len(w := t.split()) <= max_words else " ".join(w[:max_words]) for t in texts]


def evaluation_set(
    name: str | os.PathLike, n_texts: int | None = None, seed: int = 0, data_dir: str | os.PathLike | None = None,
    text_col: str | None = None, label_col: str | None = None, drop_empty: bool = False,
) -> pd.DataFrame:
    """The text set a model is scored on: the benchmark (neutrals kept) in a seeded random order, cut after its
    first ``n_texts`` positive or negative rows (the neutral rows among them ride along for the graded Spearman).

    ``name`` is a benchmark name or a user file (see :func:`load_benchmark`; ``text_col``, ``label_col`` and
    ``drop_empty`` apply to files). The order depends only on ``seed``, so a smaller set is a prefix of a larger
    one. ``n_texts`` counts the rows an AUROC is computed on, so every benchmark reports ``n = n_texts`` (when it
    has that many). IMDB is word-truncated.

    Returns
    -------
    DataFrame, shape (n, 3 or 4)
        ``text``, ``label`` (-1 = neutral), optional ``fine_label``, and ``row`` (index in the file);
        ``attrs`` as :func:`load_benchmark`'s plus ``n_texts`` and ``seed``.
    """
    df = load_benchmark(name, data_dir=data_dir, keep_neutral=True, text_col=text_col, label_col=label_col,
                        drop_empty=drop_empty)
    spec = BENCHMARKS.get(str(name)) if not is_user_file(name) else None
    order = np.random.default_rng(seed).permutation(len(df))
    length = len(df)
    if n_texts is not None:
        binary = np.cumsum(df["label"].to_numpy()[order] >= 0)
        length = int(np.searchsorted(binary, int(n_texts)) + 1) if binary[-1] >= int(n_texts) else len(df)
    cap = min(x for x in (length, spec.max_rows if spec else None) if x is not None)
    out = df.iloc[order[:cap]].copy()
    out["row"] = out.index.to_numpy()
    out = out.reset_index(drop=True)
    if str(name) == "imdb":
        out["text"] = truncate_words(out["text"].tolist())
    out.attrs.update(df.attrs, n_texts=cap, seed=seed)
    return out


def check_benchmarks(
    names: list, data_dir: str | os.PathLike | None = None, text_col: str | None = None,
    label_col: str | None = None, drop_empty: bool = False,
) -> pd.DataFrame:
    """Read every benchmark of a run (names or user files) once and refuse the run on the first bad one, before any
    model loads: a missing or malformed file, an unknown name, a label column that is not binary or has one class.

    Returns
    -------
    DataFrame, shape (len(names), 5)
        ``benchmark`` (:func:`benchmark_key`), ``n_pos``, ``n_neg``, ``n_neutral`` and ``n_dropped_empty``.
    """
    if isinstance(names, str | os.PathLike):
        raise TypeError(f"benchmark names must be a list, got the string {str(names)!r} (e.g. [{str(names)!r}])")
    rows = []
    for name in names:
        df = load_benchmark(name, text_col=text_col, label_col=label_col, data_dir=data_dir, keep_neutral=True,
                            drop_empty=drop_empty)
        y = df["label"].to_numpy()
        rows.append({"benchmark": benchmark_key(name), "n_pos": int((y == 1).sum()), "n_neg": int((y == 0).sum()),
                     "n_neutral": int((y == -1).sum()), "n_dropped_empty": int(df.attrs["n_dropped_empty"])})
    return pd.DataFrame(rows, columns=["benchmark", "n_pos", "n_neg", "n_neutral", "n_dropped_empty"])


def describe_data(names: list, data_dir: str | os.PathLike | None = None, **kw) -> str:
    """The ``DATA:`` lines of chapters 2-3: which data the run reads (the EMBEDDED SAMPLE flagged loudly, no machine
    paths) and each benchmark's counts, after :func:`check_benchmarks` (``kw``: its ``text_col``, ...)."""
    counts = check_benchmarks(names, data_dir=data_dir, **kw)
    named = [str(n) for n in names if not is_user_file(n)]
    files = [Path(str(n)).name for n in names if is_user_file(n)]
    src = sentiment_source(data_dir)
    parts = ([f"{', '.join(named)}: {src.describe()}"] if named else []) + (
        [f"user file{'s' if len(files) > 1 else ''} {', '.join(files)}"] if files else [])
    lines = [f"DATA: {'; '.join(parts)}"] + ([src.banner()] if named and src.embedded else [])
    lines.append("texts (pos / neg / neutral): " + ", ".join(
        f"{r.benchmark} {r.n_pos} / {r.n_neg} / {r.n_neutral}" for r in counts.itertuples()))
    return "\n".join(lines)


def data_tag(names: list, data_dir: str | os.PathLike | None = None) -> str:
    """Short label of a run's sentiment data for results and the scoreboard: ``EMBEDDED SAMPLE``, ``full offline
    copies``, ``fetched full benchmarks``, ``folder`` (named benchmarks), plus ``user files`` where some are."""
    named = [n for n in names if not is_user_file(n)]
    tags = ([sentiment_source(data_dir).tag] if named else []) + (["user files"] if len(named) < len(names) else [])
    return " + ".join(tags)


def probe_rows(sets: dict[str, pd.DataFrame], n_per_benchmark: int = QUICK_N_TEXTS) -> pd.DataFrame:
    """The fixed probe set: the first ``n_per_benchmark`` rows of each evaluation set, as (benchmark, i, text)."""
    parts = [pd.DataFrame({"benchmark": k, "i": np.arange(min(n_per_benchmark, len(v))),
                           "text": v["text"].iloc[:n_per_benchmark].to_numpy()}) for k, v in sets.items()]
    return pd.concat(parts, ignore_index=True)


