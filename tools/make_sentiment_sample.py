"""Draw the embedded sentiment sample shipped in ``vaxis/data/sentiment_sample`` from the full offline copies.

Usage::

    python tools/make_sentiment_sample.py [--src ../shared/data/sentiment] [--dest vaxis/data/sentiment_sample]

Each benchmark's evaluation file is sampled line by line (bytes unchanged, kept in the file's own order, so the
readers of :mod:`vaxis.text.sentiment` read the sample exactly as they read the full file), stratified by label
with a fixed seed: ``PER_CLASS`` positive and ``PER_CLASS`` negative texts per benchmark (SST-5: half of each from
labels 1 / 2 and 4 / 5), plus ``NEUTRAL`` neutral texts for the graded benchmarks (SST-5 label 3, TweetEval 1).
The README beside the sample records the counts and the SHA-256 of every source and sample file; re-running the
script on the same sources rewrites the same bytes (``tests/text/test_sentiment_source.py`` checks that).
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import zlib
from collections import Counter
from pathlib import Path

SEED = 0
PER_CLASS = 100
NEUTRAL = 50
ROOT = Path(__file__).resolve().parents[1]

#: benchmark -> (source file, fine label -> sample count)
PLAN: dict[str, tuple[str, dict[str, int]]] = {
    "sst2": ("sst2/dev.tsv", {"0": PER_CLASS, "1": PER_CLASS}),
    "sst5": ("sst5/test.jsonl", {"1": PER_CLASS // 2, "2": PER_CLASS // 2, "3": NEUTRAL,
                                 "4": PER_CLASS // 2, "5": PER_CLASS // 2}),
    "rotten_tomatoes": ("rotten_tomatoes/test.jsonl", {"negative": PER_CLASS, "positive": PER_CLASS}),
    "imdb": ("imdb/test_sub2000_seed0.jsonl", {"0": PER_CLASS, "1": PER_CLASS}),
    "tweeteval_sentiment": ("tweeteval_sentiment/test", {"0": PER_CLASS, "1": NEUTRAL, "2": PER_CLASS}),
}

ORIGIN = {
    "sst2": "GLUE SST-2 dev (Socher et al. 2013; Wang et al. 2018): no formal licence stated, research use",
    "sst5": "SST-5 test (Socher et al. 2013): no formal licence stated, research use",
    "rotten_tomatoes": "MR sentence polarity v1.0 test (Pang & Lee 2005): no formal licence stated, research use",
    "imdb": "aclImdb v1.0 test, balanced 2,000 subset (Maas et al. 2011): no licence stated, research use",
    "tweeteval_sentiment": "TweetEval sentiment test (Barbieri et al. 2020; SemEval-2017 4A): released without "
                           "restrictions by TweetEval, Twitter's terms may apply",
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def _label(name: str, line: bytes) -> str:
    if name == "sst2":
        return line.rstrip(b"\r\n").rsplit(b"\t", 1)[1].decode().strip()
    rec = json.loads(line)
    return str(rec["output"] if name == "rotten_tomatoes" else rec["label"])


def _draw(labels: list[str], counts: dict[str, int], name: str, seed: int) -> list[int]:
    """Row indices, stratified by label, in the file's order; the draw depends only on ``seed`` and ``name``."""
    rng = random.Random(seed * 1_000_003 + zlib.crc32(name.encode()))
    picked: list[int] = []
    for lab, k in counts.items():
        rows = [i for i, y in enumerate(labels) if y == lab]
        if len(rows) < k:
            raise SystemExit(f"{name}: only {len(rows)} rows with label {lab}, {k} wanted")
        picked += rng.sample(rows, k)
    return sorted(picked)


def make_sample(src: Path, dest: Path, seed: int = SEED) -> dict[str, Counter]:
    """Write the sample of every benchmark under ``dest`` (and its README); return the label counts per benchmark."""
    counts, shas = {}, {}
    for name, (rel, plan) in PLAN.items():
        out = dest / Path(rel).parent
        out.mkdir(parents=True, exist_ok=True)
        if name == "tweeteval_sentiment":
            texts, labels = _lines(src / f"{rel}_text.txt"), _lines(src / f"{rel}_labels.txt")
            rows = _draw([y.decode().strip() for y in labels], plan, name, seed)
            files = {f"{rel}_text.txt": b"".join(texts[i] for i in rows),
                     f"{rel}_labels.txt": b"".join(labels[i] for i in rows)}
            counts[name] = Counter(labels[i].decode().strip() for i in rows)
        else:
            lines = _lines(src / rel)
            header, body = (lines[:1], lines[1:]) if name == "sst2" else ([], lines)
            labs = [_label(name, x) for x in body]
            rows = _draw(labs, plan, name, seed)
            files = {rel: b"".join(header + [body[i] for i in rows])}
            counts[name] = Counter(labs[i] for i in rows)
        for frel, data in files.items():
            (dest / frel).write_bytes(data)
            shas[frel] = (_sha((src / frel).read_bytes()), _sha(data))
    (dest / "README.md").write_text(_readme(counts, shas, seed), encoding="utf-8")
    return counts


def _readme(counts: dict[str, Counter], shas: dict[str, tuple[str, str]], seed: int) -> str:
    rows = "\n".join(f"| `{n}` | {sum(c.values())} | {', '.join(f'{k}: {v}' for k, v in sorted(c.items()))} | "
                     f"{ORIGIN[n]} |" for n, c in counts.items())
    files = "\n".join(f"| `{f}` | `{a}` | `{b}` |" for f, (a, b) in shas.items())
    return f"""EMBEDDED SAMPLE of the five sentiment benchmarks of chapters 2-3 (not the full benchmarks)

# What this is

A small, balanced sample of each benchmark's evaluation file, shipped with the `vaxis` package so that chapters 2-3
run on a fresh machine without any data folder. Chapters that read it print `EMBEDDED SAMPLE` in their `DATA:` line.
Numbers computed on it describe {PER_CLASS} positive + {PER_CLASS} negative texts per benchmark, not the full test
sets: for those, run `vaxis data fetch sentiment` (pinned sources, SHA-256 checked, into the cache, where the
chapters find them) or point `VAXIS_SENTIMENT_DIR` at a copy.

Drawn by `tools/make_sentiment_sample.py` (seed {seed}) from the offline copies in `../shared/data/sentiment`
(their READMEs give each file's origin repository and commit): for each benchmark, rows stratified by label, kept
byte for byte and in the file's own order, in the same file layout as the full copies (so the IMDB file keeps the
name `test_sub2000_seed0.jsonl` although it holds {2 * PER_CLASS} of those reviews). Only the default evaluation split
of each benchmark is included (no SST-5 dev, TweetEval val or full IMDB file).

| benchmark | rows | label counts | origin and licence |
| --- | --- | --- | --- |
{rows}

The sample is redistributed under the terms of its sources (research use; cite the papers above). It is not covered
by the MIT licence of the `vaxis` code.

| file | SHA-256 of the source file | SHA-256 of the sample |
| --- | --- | --- |
{files}
"""


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=ROOT.parent / "shared" / "data" / "sentiment")
    ap.add_argument("--dest", type=Path, default=ROOT / "vaxis" / "data" / "sentiment_sample")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args(argv)
    counts = make_sample(args.src, args.dest, args.seed)
    total = sum(f.stat().st_size for f in args.dest.rglob("*") if f.is_file())
    print({n: dict(c) for n, c in counts.items()}, f"{total:,} bytes in {args.dest}")


if __name__ == "__main__":
    main()
