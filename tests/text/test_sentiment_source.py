"""Which sentiment data a run reads (issue 28): the resolver's order, the EMBEDDED SAMPLE a fresh checkout falls back
on (all five benchmarks load from it, and it says so), and the sample's provenance (redrawn byte for byte)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from vaxis.text import sentiment as B
from vaxis.text import sentiment_source as S

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "vaxis" / "data" / "sentiment_sample"


@pytest.fixture
def fresh(monkeypatch, tmp_path):
    """A fresh machine: no $VAXIS_SENTIMENT_DIR, no ../shared folder, an empty cache."""
    monkeypatch.delenv("VAXIS_SENTIMENT_DIR", raising=False)
    monkeypatch.setattr(S, "SHARED_DIR", tmp_path / "no_shared" / "data" / "sentiment")
    monkeypatch.setenv("VAXIS_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_fresh_checkout_reads_the_embedded_sample_of_all_five_benchmarks(fresh):
    src = S.sentiment_source()
    assert src.kind == "embedded" and src.embedded and src.root == SAMPLE and B.resolve_sentiment_dir() == SAMPLE
    for name, spec in B.BENCHMARKS.items():
        df = B.load_benchmark(name, keep_neutral=True)
        y = df["label"].to_numpy()
        assert (y == 1).sum() == 100 and (y == 0).sum() == 100, name  # balanced, as the tool draws it
        assert (y == -1).sum() == (50 if spec.graded else 0), name
        assert df["text"].str.len().min() > 0
        ev = B.evaluation_set(name, n_texts=B.QUICK_N_TEXTS, seed=0)  # chapters' quick mode
        assert (ev["label"] >= 0).sum() == B.QUICK_N_TEXTS
    text = B.describe_data(list(B.BENCHMARKS))
    assert text.startswith("DATA: sst2, sst5, rotten_tomatoes, imdb, tweeteval_sentiment: EMBEDDED SAMPLE")
    assert "*** EMBEDDED SAMPLE" in text and "vaxis data fetch sentiment" in text and str(REPO) not in text
    assert B.data_tag(list(B.BENCHMARKS)) == "EMBEDDED SAMPLE"


def test_resolver_order_argument_env_shared_fetched_embedded(fresh, monkeypatch):
    shared = fresh / "no_shared" / "data" / "sentiment"
    fetched = fresh / "cache" / "data" / "sentiment"
    fetched.mkdir(parents=True)
    assert S.sentiment_source().kind == "embedded"  # a fetch folder without its stamp is not a fetch
    (fetched / S.FETCH_STAMP).write_text("{}")
    assert S.sentiment_source().root == fetched and S.sentiment_source().kind == "fetched"
    shared.mkdir(parents=True)
    assert S.sentiment_source().root == shared and not S.sentiment_source().embedded
    monkeypatch.setenv("VAXIS_SENTIMENT_DIR", str(fresh / "env"))
    assert S.sentiment_source().root == fresh / "env" and S.sentiment_source().kind == "env"
    assert S.sentiment_source(fresh / "arg").kind == "argument"
    assert S.sentiment_source(SAMPLE).embedded  # the sample's README marks it wherever it is read from


def test_sample_is_package_data_and_not_ignored():
    """A clean clone (and an installed wheel) has the sample: every file matches pyproject's package-data globs and
    none is git-ignored."""
    files = sorted(p for p in SAMPLE.rglob("*") if p.is_file())
    assert len(files) == 7 and sum(p.stat().st_size for p in files) < 500_000
    text = (REPO / "pyproject.toml").read_text()
    globs = json.loads(re.search(r"^vaxis = (\[.*\])$", text, re.M).group(1))
    for p in files:
        assert any(p.relative_to(REPO / "vaxis").match(g) for g in globs), p
    if shutil.which("git") and (REPO / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", *map(str, files)], cwd=REPO, capture_output=True, text=True)
        assert ignored.stdout == "", ignored.stdout


def test_sample_readme_states_origin_licence_and_checksums():
    readme = (SAMPLE / "README.md").read_text()
    assert readme.startswith("EMBEDDED SAMPLE")
    for word in ("licence", "Socher", "Pang & Lee", "Maas", "TweetEval", "tools/make_sentiment_sample.py"):
        assert word in readme
    for p in SAMPLE.rglob("*"):
        if p.is_file() and p.name != "README.md":
            assert hashlib.sha256(p.read_bytes()).hexdigest() in readme, p


@pytest.mark.skipif(not S.SHARED_DIR.is_dir(), reason="needs the full offline copies in ../shared/data/sentiment")
def test_sample_is_redrawn_byte_for_byte_from_the_full_copies(tmp_path):
    spec = importlib.util.spec_from_file_location("make_sentiment_sample", REPO / "tools" / "make_sentiment_sample.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.make_sample(S.SHARED_DIR, tmp_path)
    for p in SAMPLE.rglob("*"):
        if p.is_file():
            assert (tmp_path / p.relative_to(SAMPLE)).read_bytes() == p.read_bytes(), p
    # and every sampled row is a row of the full file
    full = set((S.SHARED_DIR / "sst2" / "dev.tsv").read_bytes().splitlines())
    assert set((SAMPLE / "sst2" / "dev.tsv").read_bytes().splitlines()) <= full


def test_chapters_check_their_benchmarks_and_name_the_data_before_any_model_loads():
    for chapter in ("02_zero_shot_sentiment", "03_cross_model"):
        src = (REPO / "notebooks" / f"{chapter}.py").read_text()
        assert 0 < src.index("B.describe_data(benchmark_names, sentiment_dir") < src.index("zs.load_runs("), chapter
        assert "B.data_tag(benchmark_names, sentiment_dir)" in src, chapter
