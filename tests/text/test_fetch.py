"""``vaxis data fetch sentiment`` offline, against local stand-ins for the hub (a ``file://`` mirror and an HTTP
server on 127.0.0.1): files land checked and atomically, a checksum mismatch fails cleanly and leaves nothing
half-written, the chapters' resolver finds the fetched copy, and the pinned checksums are those of the offline
copies."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading
from pathlib import Path

import pytest

from vaxis.cli import main as cli_main
from vaxis.text import fetch as F
from vaxis.text import sentiment as B
from vaxis.text import sentiment_source as S

GH = "https://raw.githubusercontent.com/owner/repo/0123abc"
SST2_RAW = b"text\tlabel\nit 's good \t1\nit 's bad \t0\n"  # the pinned copy's header, restored by the fetch
SST2_FIXED = b"sentence\tlabel\nit 's good \t1\nit 's bad \t0\n"
RT = b'{"input": "fine", "output": "positive"}\n{"input": "poor", "output": "negative"}\n'


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _sources() -> tuple[F.Source, ...]:
    return (F.Source(f"{GH}/sst2/dev.tsv", None, {"sst2/dev.tsv": sha(SST2_FIXED)}, "sst2_header"),
            F.Source(f"{GH}/rt/test.jsonl", sha(RT), {"rotten_tomatoes/test.jsonl": sha(RT)}))


@pytest.fixture
def hub(tmp_path) -> Path:
    """A mirror folder laid out as <host>/<path>, holding the files of :func:`_sources`."""
    root = tmp_path / "hub"
    for rel, data in (("sst2/dev.tsv", SST2_RAW), ("rt/test.jsonl", RT)):
        p = root / "raw.githubusercontent.com" / "owner" / "repo" / "0123abc" / rel
        p.parent.mkdir(parents=True)
        p.write_bytes(data)
    return root


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name)


def test_fetch_from_a_file_mirror_is_checked_stamped_and_found_by_the_chapters(hub, tmp_path, monkeypatch):
    dest = tmp_path / "cache" / "data" / "sentiment"
    out = F.fetch_sentiment(dest, mirror=hub.as_uri(), sources=_sources(), log=lambda *_: None)
    assert out == dest and (dest / "sst2" / "dev.tsv").read_bytes() == SST2_FIXED
    assert (dest / "rotten_tomatoes" / "test.jsonl").read_bytes() == RT
    stamp = json.loads((dest / S.FETCH_STAMP).read_text())
    assert {f["file"]: f["sha256"] for f in stamp["files"]} == {"sst2/dev.tsv": sha(SST2_FIXED),
                                                                 "rotten_tomatoes/test.jsonl": sha(RT)}
    assert _leftovers(dest.parent) == []
    # the resolver finds it where no folder is given and ../shared is absent
    monkeypatch.delenv("VAXIS_SENTIMENT_DIR", raising=False)
    monkeypatch.setattr(S, "SHARED_DIR", tmp_path / "no_shared")
    monkeypatch.setenv("VAXIS_CACHE", str(tmp_path / "cache"))
    assert S.sentiment_source().kind == "fetched" and B.resolve_sentiment_dir() == dest
    assert B.load_benchmark("sst2")["label"].tolist() == [1, 0]
    assert "fetched by `vaxis data fetch sentiment`" in B.describe_data(["sst2", "rotten_tomatoes"])
    # a second call keeps the complete fetch
    (hub / "raw.githubusercontent.com" / "owner" / "repo" / "0123abc" / "rt" / "test.jsonl").write_bytes(b"x")
    assert F.fetch_sentiment(dest, mirror=hub.as_uri(), sources=_sources(), log=lambda *_: None) == dest
    assert (dest / "rotten_tomatoes" / "test.jsonl").read_bytes() == RT


@pytest.mark.parametrize("bad", ["download", "output"])
def test_checksum_mismatch_fails_cleanly_and_leaves_nothing_half_written(hub, tmp_path, bad):
    dest = tmp_path / "out" / "sentiment"
    base = hub / "raw.githubusercontent.com" / "owner" / "repo" / "0123abc"
    if bad == "download":  # the second file is corrupt: the first was already written to the temporary folder
        (base / "rt" / "test.jsonl").write_bytes(RT.replace(b"fine", b"fime"))
        match = r"rt/test\.jsonl: SHA-256 [0-9a-f]{64} does not match the pinned " + sha(RT)
        sources = _sources()
    else:  # a file made from an unchecked download is checked after it is made
        (base / "sst2" / "dev.tsv").write_bytes(SST2_RAW + b"extra \t1\n")
        match = r"sst2/dev\.tsv \(from .*\): SHA-256 .* does not match the pinned"
        sources = _sources()
    with pytest.raises(F.FetchError, match=match):
        F.fetch_sentiment(dest, mirror=hub.as_uri(), sources=sources, log=lambda *_: None)
    assert not dest.exists() and _leftovers(dest.parent) == []
    # over an earlier complete fetch, --force with a bad source keeps the earlier one intact
    good = tmp_path / "hub2"
    for rel, data in (("sst2/dev.tsv", SST2_RAW), ("rt/test.jsonl", RT)):
        p = good / base.relative_to(hub) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    F.fetch_sentiment(dest, mirror=good.as_uri(), sources=sources, log=lambda *_: None)
    before = {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    with pytest.raises(F.FetchError):
        F.fetch_sentiment(dest, mirror=hub.as_uri(), sources=sources, force=True, log=lambda *_: None)
    assert {p.relative_to(dest): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == before
    assert _leftovers(dest.parent) == []


def test_fetch_over_http_from_a_local_server(hub, tmp_path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(hub))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        dest = F.fetch_sentiment(tmp_path / "d", mirror=url, sources=_sources(), log=lambda *_: None)
        assert (dest / "sst2" / "dev.tsv").read_bytes() == SST2_FIXED
        (hub / "raw.githubusercontent.com" / "owner" / "repo" / "0123abc" / "rt" / "test.jsonl").unlink()
        with pytest.raises(F.FetchError, match=r"cannot download http://127\.0\.0\.1:\d+/raw\..*rt/test\.jsonl"):
            F.fetch_sentiment(tmp_path / "e", mirror=url, sources=_sources(), log=lambda *_: None)
        assert not (tmp_path / "e").exists()
    finally:
        server.shutdown()
        server.server_close()


def test_a_folder_that_is_not_a_fetch_is_never_replaced(hub, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(F.FetchError, match="is not a folder written by `vaxis data fetch`"):
        F.fetch_sentiment(mine, mirror=hub.as_uri(), sources=_sources(), force=True, log=lambda *_: None)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_imdb_is_packed_from_the_archive_as_the_offline_copy():
    reviews = [("pos", 10, 8, "ten <br />good"), ("pos", 2, 9, "two"), ("neg", 7, 1, "naïve bad "),
               ("neg", 11, 3, "eleven")]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for kind, i, r, text in reviews + [("unsup", 0, 0, "x")]:
            data = text.encode()
            info = tarfile.TarInfo(f"aclImdb/test/{kind}/{i}_{r}.txt")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = F._imdb(buf.getvalue())
    full = [json.loads(x) for x in out["imdb/test.jsonl.gz"].decode().splitlines()]
    assert [r["id"] for r in full] == ["test/pos/2_9", "test/pos/10_8", "test/neg/7_1", "test/neg/11_3"]
    assert full[2] == {"id": "test/neg/7_1", "label": 0, "rating": 1, "text": "naïve bad "}
    sub = [json.loads(x)["id"] for x in out["imdb/test_sub2000_seed0.jsonl"].decode().splitlines()]
    assert sub == sorted(r["id"] for r in full)  # fewer than 1,000 per class: all of them, sorted by id


def test_cli_fetch_is_one_line_and_a_non_zero_exit_offline(tmp_path, capsys, monkeypatch, hub):
    rc = cli_main(["data", "fetch", "sentiment", "--dest", str(tmp_path / "x"), "--mirror",
                   (tmp_path / "empty").as_uri()])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and err.startswith("error: cannot download file://")
    assert not (tmp_path / "x").exists() and _leftovers(tmp_path) == []
    monkeypatch.setattr(F, "SOURCES", _sources())
    assert cli_main(["data", "fetch", "sentiment", "--dest", str(tmp_path / "y"), "--mirror", hub.as_uri()]) == 0
    assert (tmp_path / "y" / S.FETCH_STAMP).is_file()


@pytest.mark.skipif(not S.SHARED_DIR.is_dir(), reason="needs the full offline copies in ../shared/data/sentiment")
def test_pinned_checksums_are_those_of_the_offline_copies():
    files = {}
    for src in F.SOURCES:
        assert src.url.startswith("https://") and (src.sha256 or src.make != "copy")
        assert "/raw.githubusercontent.com/" not in src.url or len(src.url.split("/")[5]) == 40  # a commit
        files.update(src.outputs)
    assert sorted({f.split("/")[0] for f in files}) == sorted(B.BENCHMARKS)
    for rel, pinned in files.items():
        path = S.SHARED_DIR / rel
        data = gzip.decompress(path.read_bytes()) if rel.endswith(".gz") else path.read_bytes()
        assert sha(data) == pinned, rel
