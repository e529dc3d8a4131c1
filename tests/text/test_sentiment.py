"""Benchmark readers (round trips in every format, clear errors), metrics vs scikit-learn, controls."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from vaxis.text import sentiment as B

ROWS = [("a good film", 1), ("a bad , \"awful\" film", 0), ("great <br /> fun", 1), ("dull", 0)]


def _write_named_tree(root: Path) -> None:
    (root / "sst2").mkdir(parents=True)
    (root / "sst2" / "dev.tsv").write_text("sentence\tlabel\n" + "".join(f"{t} \t{y}\n" for t, y in ROWS))
    (root / "sst5").mkdir()
    fine = [5, 1, 3, 4, 2]
    (root / "sst5" / "test.jsonl").write_text(
        "".join(json.dumps({"label": str(k), "text": f"s{k}"}) + "\n" for k in fine))
    (root / "sst5" / "dev.tsv").write_text("".join(f"__label__{k}\tdev {k}\n" for k in fine))
    (root / "rotten_tomatoes").mkdir()
    (root / "rotten_tomatoes" / "test.jsonl").write_text("".join(
        json.dumps({"input": t, "output": ["negative", "positive"][y]}) + "\n" for t, y in ROWS))
    (root / "imdb").mkdir()
    recs = [{"id": f"x{i}", "label": y, "rating": 9 if y else 2, "text": t} for i, (t, y) in enumerate(ROWS)]
    (root / "imdb" / "test_sub2000_seed0.jsonl").write_text("".join(json.dumps(r) + "\n" for r in recs[:2]))
    with gzip.open(root / "imdb" / "test.jsonl.gz", "wt") as f:
        f.write("".join(json.dumps(r) + "\n" for r in recs))
    (root / "tweeteval_sentiment").mkdir()
    (root / "tweeteval_sentiment" / "test_text.txt").write_text("bad day \ngood day \nmeh \n")
    (root / "tweeteval_sentiment" / "test_labels.txt").write_text("0\n2\n1\n")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    _write_named_tree(tmp_path)
    return tmp_path


def test_named_benchmarks_round_trip(tree, monkeypatch):
    monkeypatch.setenv("VAXIS_SENTIMENT_DIR", str(tree))
    sst2 = B.load_benchmark("sst2")
    assert sst2["text"].tolist() == ["a good film", 'a bad , "awful" film', "great   fun", "dull"]
    assert sst2["label"].tolist() == [1, 0, 1, 0]
    sst5 = B.load_benchmark("sst5")
    assert sst5["fine_label"].tolist() == [5, 1, 4, 2] and sst5["label"].tolist() == [1, 0, 1, 0]
    sst5n = B.load_benchmark("sst5", keep_neutral=True)
    assert sst5n["label"].tolist() == [1, 0, -1, 1, 0]
    assert B.load_benchmark("sst5", split="dev")["text"].tolist() == ["dev 5", "dev 1", "dev 4", "dev 2"]
    assert B.load_benchmark("rotten_tomatoes")["label"].tolist() == [1, 0, 1, 0]
    assert len(B.load_benchmark("imdb")) == 2 and len(B.load_benchmark("imdb", full=True)) == 4
    tw = B.load_benchmark("tweeteval_sentiment", data_dir=tree)
    assert tw["text"].tolist() == ["bad day", "good day"] and tw["fine_label"].tolist() == [0, 2]
    assert tw["label"].tolist() == [0, 1]


@pytest.mark.parametrize("fmt", ["tsv", "csv", "jsonl", "jsonl.gz", "csv.gz"])
def test_user_file_round_trip(tmp_path, fmt):
    df = pd.DataFrame({"review": [t for t, _ in ROWS], "sentiment": ["pos", "neg", "pos", "neg"]})
    path = tmp_path / f"mine.{fmt}"
    opener = gzip.open if fmt.endswith(".gz") else open
    with opener(path, "wt") as f:
        if fmt.startswith("jsonl"):
            f.write(df.to_json(orient="records", lines=True))
        elif fmt.startswith("csv"):
            df.to_csv(f, index=False)
        else:
            f.write("review\tsentiment\n" + "".join(f"{t}\t{s}\n" for t, s in zip(df.review, df.sentiment)))
    out = B.load_benchmark(path)
    assert out["label"].tolist() == [1, 0, 1, 0]
    assert out["text"].iloc[1] == 'a bad , "awful" film'


def test_user_file_named_columns(tmp_path):
    path = tmp_path / "x.csv"
    pd.DataFrame({"body": ["x", "y"], "y": [0, 1], "text": ["no", "no"]}).to_csv(path, index=False)
    out = B.load_benchmark(path, text_col="body", label_col="y")
    assert out["text"].tolist() == ["x", "y"] and out["label"].tolist() == [0, 1]


def test_clear_errors(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("")
    with pytest.raises(B.BenchmarkFormatError, match=r"empty\.tsv: empty file"):
        B.load_benchmark(empty)
    header_only = tmp_path / "h.jsonl"
    header_only.write_text("\n")
    with pytest.raises(B.BenchmarkFormatError, match="empty file"):
        B.load_benchmark(header_only)
    nocol = tmp_path / "nocol.csv"
    pd.DataFrame({"words": ["a"], "label": [1]}).to_csv(nocol, index=False)
    with pytest.raises(B.BenchmarkFormatError,
                       match=r"nocol\.csv: cannot find a text column.*found columns \['words', 'label'\]"):
        B.load_benchmark(nocol)
    with pytest.raises(B.BenchmarkFormatError, match="no label column 'stars'"):
        B.load_benchmark(nocol, text_col="words", label_col="stars")
    three = tmp_path / "three.csv"
    pd.DataFrame({"text": ["a", "b", "c"], "label": [0, 1, 2]}).to_csv(three, index=False)
    with pytest.raises(B.BenchmarkFormatError,
                       match=r"three\.csv: label column 'label' is not binary.*\['0', '1', '2'\]"):
        B.load_benchmark(three)
    ragged = tmp_path / "ragged.tsv"
    ragged.write_text("text\tlabel\nok\t1\nbad\n")
    with pytest.raises(B.BenchmarkFormatError, match="line 3 has 1 fields, expected 2"):
        B.load_benchmark(ragged)
    badjson = tmp_path / "bad.jsonl"
    badjson.write_text('{"text": "a", "label": 1}\n{oops\n')
    with pytest.raises(B.BenchmarkFormatError, match="line 2 is not valid JSON"):
        B.load_benchmark(badjson)
    with pytest.raises(ValueError, match="unknown benchmark 'sst3'.*sst2"):
        B.load_benchmark("sst3")
    with pytest.raises(FileNotFoundError, match="missing.csv"):
        B.load_benchmark(tmp_path / "missing.csv")
    with pytest.raises(FileNotFoundError, match="no sentiment data folder|not found"):
        B.load_benchmark("sst2", data_dir=tmp_path / "nowhere")


def test_evaluation_sets_nest_and_truncate(tree):
    big = B.evaluation_set("sst5", n_texts=None, seed=3, data_dir=tree)
    small = B.evaluation_set("sst5", n_texts=2, seed=3, data_dir=tree)
    assert len(big) == 5 and big["text"].iloc[:len(small)].tolist() == small["text"].tolist()
    assert (small["label"] >= 0).sum() == 2  # n_texts counts positive / negative rows; neutrals ride along
    assert (big["label"] == -1).sum() == 1
    for n in range(1, 5):
        part = B.evaluation_set("sst5", n_texts=n, seed=3, data_dir=tree)
        assert (part["label"] >= 0).sum() == n and part["label"].iloc[-1] >= 0
    assert B.truncate_words(["a b c d", "a b"], 3) == ["a b c", "a b"]
    probe = B.probe_rows({"sst5": big, "sst2": small}, n_per_benchmark=3)
    assert probe["benchmark"].tolist() == ["sst5"] * 3 + ["sst2"] * min(3, len(small))


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = y + rng.normal(size=200)
    s[:20] = 0.0  # ties
    assert B.auroc(s, y) == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert B.auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert B.accuracy_at([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], threshold=0.3) == pytest.approx(0.75)
    assert B.accuracy_at([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], threshold=0.5) == pytest.approx(0.75)
    assert np.isnan(B.auroc([1, 2], [1, 1]))


def test_metric_ci_deterministic_and_brackets():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 150)
    s = y + rng.normal(size=150)
    a = B.metric_with_ci("auroc", s, y, n_boot=200, seed=5)
    b = B.metric_with_ci("auroc", s, y, n_boot=200, seed=5)
    assert a == b and a["n"] == 150
    assert a["ci_low"] < a["value"] < a["ci_high"]
    assert a["value"] == pytest.approx(roc_auc_score(y, s))
    acc = B.metric_with_ci("accuracy", s, y, threshold=0.5, n_boot=200)
    assert acc["value"] == pytest.approx(np.mean((s > 0.5) == y))
    fine = rng.integers(1, 6, 150)
    sp = B.metric_with_ci("spearman", fine + rng.normal(size=150), fine, n_boot=200)
    assert sp["ci_low"] > 0.5
    with pytest.raises(ValueError, match="metric must be"):
        B.metric_with_ci("f1", s, y)


def test_random_direction_control_is_chance_on_noise_and_oriented():
    rng = np.random.default_rng(2)
    h = rng.normal(size=(400, 32))
    y = rng.integers(0, 2, 400)
    au = B.random_direction_aurocs(h, y, rng.normal(size=(9, 32)), np.array([-1] * 4 + [0] + [1] * 4), 50, seed=0)
    assert au.shape == (50,) and abs(np.median(au) - 0.5) < 0.05
    # a space where one axis carries the label: directions oriented by anchors that share that axis score > 0.5
    h[:, 0] += 3 * (2 * y - 1)
    anchors = np.zeros((9, 32))
    anchors[:, 0] = [-1, -1, -1, -1, 0, 1, 1, 1, 1]
    au = B.random_direction_aurocs(h, y, anchors, np.array([-1] * 4 + [0] + [1] * 4), 50, seed=0)
    assert np.mean(au > 0.5) >= 0.9 and np.median(au) > 0.6  # unoriented: about half would fall below 0.5


def test_lexicons_score_sign():
    v = B.lexicon_scores(["I love this wonderful film", "terrible, awful, I hate it"], "vader")
    a = B.lexicon_scores(["I love this wonderful film", "terrible, awful, I hate it"], "afinn")
    assert v[0] > 0 > v[1] and a[0] > 0 > a[1]
    with pytest.raises(ValueError):
        B.lexicon_scores(["x"], "sentiwordnet")


def test_real_sst2_lexicon_accuracies_match_paper_notes():
    try:
        df = B.load_benchmark("sst2")
    except FileNotFoundError:
        pytest.skip("shared sentiment data not present")
    assert len(df) == 872
    assert B.accuracy_at(B.lexicon_scores(df["text"].tolist(), "vader"), df["label"]) == pytest.approx(0.666, abs=1e-3)
    assert B.accuracy_at(B.lexicon_scores(df["text"].tolist(), "afinn"), df["label"]) == pytest.approx(0.693, abs=1e-3)


def test_user_file_is_a_benchmark_everywhere(tmp_path):
    path = tmp_path / "my_reviews.tsv"
    path.write_text("review\tstars\n" + "".join(f"text {i}\t{i % 2}\n" for i in range(30)))
    assert B.is_user_file(path) and not B.is_user_file("sst2")
    assert B.benchmark_key(path) == "my_reviews" and B.benchmark_key(str(tmp_path / "x.jsonl.gz")) == "x"
    assert B.benchmark_key("imdb") == "imdb"
    ev = B.evaluation_set(str(path), n_texts=10, seed=1, text_col="review", label_col="stars")
    assert len(ev) == 10 and ev.attrs["name"] == "my_reviews" and ev.attrs["graded"] is False
    full = B.evaluation_set(str(path), n_texts=None, seed=1, text_col="review", label_col="stars")
    assert full["text"].iloc[:10].tolist() == ev["text"].tolist() and len(full) == 30  # nested prefixes
    assert set(full["label"]) == {0, 1} and (full["text"] == full["row"].map(lambda i: f"text {i}")).all()


def test_empty_text_rows_are_refused_with_a_way_on_or_dropped_and_counted(tmp_path):
    path = tmp_path / "gaps.csv"
    pd.DataFrame({"text": ["fine", "", "good", "   ", "bad"], "label": [1, 0, 1, 0, 0]}).to_csv(path, index=False)
    with pytest.raises(B.BenchmarkFormatError, match=r"2 missing or empty values.*drop_empty=True"):
        B.load_benchmark(path)
    out = B.load_benchmark(path, drop_empty=True)
    assert out["text"].tolist() == ["fine", "good", "bad"] and out["label"].tolist() == [1, 1, 0]
    assert out.attrs["n_dropped_empty"] == 2
    assert B.evaluation_set(str(path), drop_empty=True).attrs["n_dropped_empty"] == 2
    (tmp_path / "none.csv").write_text("text,label\n,1\n,0\n")
    with pytest.raises(B.BenchmarkFormatError, match="no row with a text left"):
        B.load_benchmark(tmp_path / "none.csv", drop_empty=True)


# ------------------------------------------------------------------ user benchmark files (issue 26 item 3)
def test_user_file_with_one_label_class_is_refused_with_a_clear_message(tmp_path):
    """Accepted before, and then ended in ZeroDivisionError in stats.auroc_null_se."""
    path = tmp_path / "all_pos.csv"
    path.write_text("text,label\n" + "".join(f"great film {i},1\n" for i in range(6)))
    with pytest.raises(B.BenchmarkFormatError, match=r"all_pos\.csv: only one class.*6 positive and 0 negative"):
        B.load_benchmark(path)
    with pytest.raises(B.BenchmarkFormatError, match="only one class"):
        B.check_benchmarks([str(path)])
    # one class left after the empty texts are dropped counts too
    gaps = tmp_path / "gaps.tsv"
    gaps.write_text("text\tlabel\ngood\t1\n \t0\nfine\t1\n")
    with pytest.raises(B.BenchmarkFormatError, match=r"only one class.*2 positive and 0 negative"):
        B.load_benchmark(gaps, drop_empty=True)


def test_named_benchmark_with_one_class_is_refused(tree):
    (tree / "sst5" / "test.jsonl").write_text("".join(json.dumps({"label": "5", "text": f"s{i}"}) + "\n"
                                                      for i in range(3)))
    with pytest.raises(B.BenchmarkFormatError, match=r"test\.jsonl: only one class in benchmark 'sst5'"):
        B.load_benchmark("sst5", data_dir=tree)


@pytest.mark.parametrize("values, expected", [
    (["1", "1.0", "0", "0.0"], [1, 1, 0, 0]),
    ([" 1 ", "1.00", "-1", "-1.0"], [1, 1, 0, 0]),
    (["Positive", "1", "negative", "0"], [1, 1, 0, 0]),
])
def test_mixed_label_spellings_are_one_class(tmp_path, values, expected):
    """'1' and '1.0' used to count as two classes ('is not binary')."""
    path = tmp_path / "mixed.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{v}\n" for i, v in enumerate(values)))
    assert B.load_benchmark(path)["label"].tolist() == expected


def test_zero_and_minus_one_together_are_still_refused(tmp_path):
    path = tmp_path / "three_way.csv"
    path.write_text("text,label\na,1\nb,0\nc,-1.0\n")
    with pytest.raises(B.BenchmarkFormatError, match="not binary.*-1/0/1 scheme"):
        B.load_benchmark(path)


@pytest.mark.parametrize("fmt", ["csv", "tsv", "jsonl", "csv.gz"])
def test_utf8_byte_order_mark_is_stripped(tmp_path, fmt):
    """A BOM (Excel, Notepad) used to become part of the first header name, or break the first JSON line."""
    sep = "\t" if fmt == "tsv" else ","
    if fmt == "jsonl":
        body = "".join(json.dumps({"review": t, "label": y}) + "\n" for t, y in ROWS)
    else:
        body = f"review{sep}label\n" + "".join(f"{t.replace(',', ' ')}{sep}{y}\n" for t, y in ROWS)
    data = "\ufeff".encode() + body.encode()
    path = tmp_path / f"bom.{fmt}"
    path.write_bytes(gzip.compress(data) if fmt.endswith(".gz") else data)
    out = B.load_benchmark(path)
    assert out["label"].tolist() == [y for _, y in ROWS] and not out["text"].iloc[0].startswith("\ufeff")
    assert B.read_table(path).columns[0] == "review"


def test_describe_data_checks_every_file_and_names_the_data(tree, tmp_path):
    good = tmp_path / "mine.tsv"
    good.write_text("text\tlabel\nnice\t1\nawful\t0\nok\t1\n")
    text = B.describe_data(["sst2", str(good)], tree)
    assert text.startswith("DATA: sst2: sentiment benchmarks from the folder given (folder ")
    assert "user file mine.tsv" in text and "mine 2 / 1 / 0" in text and "sst2 2 / 2 / 0" in text
    assert "EMBEDDED" not in text and str(tmp_path) not in text  # no machine path on the page
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\na,1\nb,1\n")
    with pytest.raises(B.BenchmarkFormatError, match="only one class"):
        B.describe_data(["sst2", str(bad)], tree)
    with pytest.raises(TypeError, match="must be a list"):
        B.check_benchmarks("sst2", tree)
