"""``vaxis data fetch sentiment``: the five full sentiment benchmarks from pinned sources, SHA-256 checked, into
the cache, where chapters 2-3 find them (:func:`vaxis.text.sentiment_source.sentiment_source`).

Every source is pinned: GitHub files by commit (the same repositories and commits as the offline copies in
``../shared/data/sentiment``, whose READMEs name them), IMDB by the versioned aclImdb v1.0 archive and its published
SHA-256. Every file written is checked against the SHA-256 of the offline copy (for ``.gz``: of its uncompressed
content); a download is checked too where its own checksum is known. The fetch is atomic: files go to a temporary
folder beside the destination, which replaces the destination only when every file is checked, with its stamp
(:data:`~vaxis.text.sentiment_source.FETCH_STAMP`) written last; on any error the temporary folder is removed and
the destination is left as it was.

``mirror`` (``--mirror URL`` or ``$VAXIS_DATA_MIRROR``) serves the same files laid out as ``<host>/<path>`` (an
institutional mirror, or ``file:///...`` for an offline copy; the tests use one).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vaxis.text.sentiment_source import FETCH_STAMP, fetched_dir

__all__ = ["Source", "SOURCES", "FetchError", "fetch_sentiment", "add_fetch_parser", "fetch_main"]

_GH = "https://raw.githubusercontent.com"
_KNNLM = f"{_GH}/GSYfate/knnlm-limits/9fc32978106e441757348e8b460bf3c9f59be3fa/data"
_TWEETEVAL = f"{_GH}/cardiffnlp/tweeteval/4fbd22cd78421f05b1ecdb4fc5725bc7a7bd8f66/datasets/sentiment"


@dataclass(frozen=True)
class Source:
    """One pinned download and the files made from it.

    ``sha256``: of the downloaded bytes (None where none is published: then only the outputs are checked);
    ``outputs``: path under the destination -> SHA-256 of the file written (``.gz``: of its uncompressed content);
    ``make``: ``copy`` (the download is the file), ``sst2_header`` (GLUE's header restored) or ``imdb`` (the test
    reviews of the archive packed as in the offline copy).
    """

    url: str
    sha256: str | None
    outputs: dict[str, str]
    make: str = "copy"


def _copy(url: str, rel: str, sha: str) -> Source:
    return Source(url, sha, {rel: sha})


SOURCES: tuple[Source, ...] = (
    Source(f"{_GH}/TaoCesc/binary_cls/6a73b09b39af0efe049622662211f3657c75a15e/data/SST-2/dev.tsv", None,
           {"sst2/dev.tsv": "54a9c12c77e402fc14d6a66a506f24d999f596b0176eb777c972cccc2f9cc4b0"}, "sst2_header"),
    _copy(f"{_KNNLM}/sst2/test.jsonl", "sst5/test.jsonl",
          "9fbfebbd614ecc105fa69216ff98e17f9ed46bcd1054f436ca314b196b2342c8"),
    _copy(f"{_KNNLM}/sst2/dev.tsv", "sst5/dev.tsv", "23d59e1b0938208d71ab74e70157d72b4288cf76febfd069dee016b57fa44405"),
    _copy(f"{_KNNLM}/rotten_tomatoes/test.jsonl", "rotten_tomatoes/test.jsonl",
          "0e4e9081183d669097253e9a33da3436d923f53216239a395b44cd5c379b2179"),
    _copy(f"{_TWEETEVAL}/test_text.txt", "tweeteval_sentiment/test_text.txt",
          "09a93a55c63fd93f97485ef7302889d7edb4091cd49733aa37da094f0bfa0675"),
    _copy(f"{_TWEETEVAL}/test_labels.txt", "tweeteval_sentiment/test_labels.txt",
          "6afb4afe9374d1f983bcf9a7c79b108d0f37fdf020a83f30488309bed215db9d"),
    _copy(f"{_TWEETEVAL}/val_text.txt", "tweeteval_sentiment/val_text.txt",
          "e5b021e6fc45064c260b09814b803d8f56cada519c4d952d72f43d48a350a964"),
    _copy(f"{_TWEETEVAL}/val_labels.txt", "tweeteval_sentiment/val_labels.txt",
          "b4566926c72e2e4e2916c864def94e76c4cdde52446af2c7ba4fc2006e057e51"),
    _copy(f"{_TWEETEVAL}/mapping.txt", "tweeteval_sentiment/mapping.txt",
          "c0572796fbe261d8ea5fd16c5061076fbba49bc69fc865d6abccaf60daacee24"),
    Source("https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
           "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
           {"imdb/test.jsonl.gz": "84c590a8a845adedfc5a7f76f0570d82605e37e3d09a19a0fd0596b0784c9add",
            "imdb/test_sub2000_seed0.jsonl": "22e742220f5d60993f1732e9f15126bbd29e9c63146d5bab929afd6c04f4f450"},
           "imdb"),
)


class FetchError(RuntimeError):
    """A download failed or a file did not match its pinned checksum; nothing was left half-written."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _url(url: str, mirror: str | None) -> str:
    if not mirror:
        return url
    u = urllib.parse.urlsplit(url)
    return f"{mirror.rstrip('/')}/{u.netloc}{u.path}"


def _download(url: str, timeout: float) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - http(s) or file:// by design
            return r.read()
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise FetchError(f"cannot download {url}: {getattr(e, 'reason', e)} (no network? a mirror: --mirror URL "
                         "or $VAXIS_DATA_MIRROR)") from None


def _imdb(archive: bytes) -> dict[str, bytes]:
    """aclImdb's 25,000 test reviews -> ``test.jsonl.gz`` (positives first, by numeric id) and the balanced
    2,000 subset (1,000 positives then 1,000 negatives drawn by one ``random.Random(0)``, sorted by id), as the
    offline copy was made (checked: this rebuilds both files of ``../shared/data/sentiment/imdb`` byte for byte)."""
    recs = []
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        for m in tar:
            hit = re.fullmatch(r"(?:\./)?aclImdb/(test/(pos|neg)/(\d+)_(\d+))\.txt", m.name)
            if hit and m.isfile():
                text = tar.extractfile(m).read().decode("utf-8")
                recs.append({"id": hit.group(1), "label": int(hit.group(2) == "pos"), "rating": int(hit.group(4)),
                             "text": text, "_key": (hit.group(2) != "pos", int(hit.group(3)))})
    recs.sort(key=lambda r: r.pop("_key"))
    pos, neg = [r for r in recs if r["label"] == 1], [r for r in recs if r["label"] == 0]
    rng = random.Random(0)
    sub = sorted(rng.sample(pos, min(1000, len(pos))) + rng.sample(neg, min(1000, len(neg))), key=lambda r: r["id"])
    return {rel: "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
            for rel, rows in (("imdb/test.jsonl.gz", recs), ("imdb/test_sub2000_seed0.jsonl", sub))}


def _make(src: Source, data: bytes) -> dict[str, bytes]:
    """The files of one source, as bytes to check (``.gz``: uncompressed)."""
    if src.make == "copy":
        return {rel: data for rel in src.outputs}
    if src.make == "sst2_header":
        first, _, rest = data.partition(b"\n")
        return {rel: (b"sentence\tlabel" if first.strip() == b"text\tlabel" else first) + b"\n" + rest
                for rel in src.outputs}
    if src.make == "imdb":
        return _imdb(data)
    raise ValueError(f"unknown make step {src.make!r}")


def fetch_sentiment(dest: str | os.PathLike | None = None, mirror: str | None = None, force: bool = False,
                    sources: tuple[Source, ...] | None = None, timeout: float = 60.0, log=print) -> Path:
    """Fetch every source into ``dest`` (default ``<cache>/data/sentiment``) and return it (module docstring).

    An existing complete fetch is kept unless ``force``; a ``dest`` that exists, is not empty and is not a fetch is
    refused (never deleted). ``sources``: default :data:`SOURCES`. Raises :class:`FetchError` on a failed download
    or a checksum mismatch.
    """
    sources = SOURCES if sources is None else sources
    dest = Path(dest).expanduser() if dest is not None else fetched_dir()
    mirror = mirror if mirror is not None else os.environ.get("VAXIS_DATA_MIRROR") or None
    if (dest / FETCH_STAMP).is_file() and not force:
        log(f"{dest} already holds a complete fetch ({FETCH_STAMP}); --force fetches again")
        return dest
    if dest.exists() and not (dest / FETCH_STAMP).is_file() and (not dest.is_dir() or any(dest.iterdir())):
        raise FetchError(f"{dest} exists and is not a folder written by `vaxis data fetch`; choose another --dest "
                         "or remove it")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        written = []
        for src in sources:
            url = _url(src.url, mirror)
            log(f"fetching {url}")
            data = _download(url, timeout)
            if src.sha256 is not None and _sha(data) != src.sha256:
                raise FetchError(f"{url}: SHA-256 {_sha(data)} does not match the pinned {src.sha256}; "
                                 "nothing was written")
            for rel, content in _make(src, data).items():
                if _sha(content) != src.outputs[rel]:
                    raise FetchError(f"{rel} (from {url}): SHA-256 {_sha(content)} does not match the pinned "
                                     f"{src.outputs[rel]}; nothing was written")
                out = tmp / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                if rel.endswith(".gz"):
                    with open(out, "wb") as f, gzip.GzipFile(rel.rsplit("/", 1)[-1][:-3], "wb", fileobj=f,
                                                             mtime=0) as gz:
                        gz.write(content)
                else:
                    out.write_bytes(content)
                written.append({"file": rel, "sha256": src.outputs[rel], "url": src.url, "source_sha256": src.sha256})
        (tmp / "README.md").write_text(
            "Sentiment benchmarks fetched by `vaxis data fetch sentiment` (full test sets; SHA-256 checked).\n\n"
            + "".join(f"- `{w['file']}` from {w['url']} (sha256 {w['sha256']})\n" for w in written), encoding="utf-8")
        (tmp / FETCH_STAMP).write_text(json.dumps({"fetched": datetime.now(UTC).isoformat(timespec="seconds"),
                                                   "mirror": mirror, "files": written}, indent=1))
        old = None
        if dest.exists():
            old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
            dest.rename(old)
        tmp.rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log(f"wrote {len(written)} files to {dest}; chapters 2-3 read them when no sentiment folder is given and "
        "../shared/data/sentiment is absent (or set VAXIS_SENTIMENT_DIR to it)")
    return dest


def add_fetch_parser(dsub: argparse._SubParsersAction) -> None:
    """``vaxis data fetch sentiment [--dest DIR] [--mirror URL] [--force]``."""
    f = dsub.add_parser("fetch", help="download the full sentiment benchmarks (pinned, SHA-256 checked) into the "
                                      "cache, where chapters 2-3 find them")
    f.add_argument("dataset", choices=["sentiment"])
    f.add_argument("--dest", type=Path, default=None, help="default: $VAXIS_CACHE/data/sentiment")
    f.add_argument("--mirror", default=None, help="base URL serving <host>/<path> of every source "
                                                  "(default $VAXIS_DATA_MIRROR; file:// works)")
    f.add_argument("--force", action="store_true", help="fetch again over a complete earlier fetch")


def fetch_main(args: argparse.Namespace) -> int:
    """Run ``vaxis data fetch``; a failure is one line on stderr and exit status 1."""
    import sys

    try:
        fetch_sentiment(args.dest, mirror=args.mirror, force=args.force)
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0
