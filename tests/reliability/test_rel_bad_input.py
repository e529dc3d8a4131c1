"""Issue 9, bad input: one clear error naming the file / argument, what was expected and what was found,
and nothing half-written left behind."""

from __future__ import annotations

import gzip
import pickle
import shutil

import numpy as np
import pytest
from conftest import snapshot, stray_files
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from vaxis.eeg import datasets as D
from vaxis.eeg import seedv as SV

FAST = settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
DE_SHAPE = (28, 32, 30, 5)


def _expect(exc, call, *fragments):
    """``call()`` raises ``exc`` once, and its message holds every fragment."""
    with pytest.raises(exc) as e:
        call()
    msg = str(e.value)
    for frag in fragments:
        assert str(frag) in msg, f"{frag!r} not in {msg!r}"
    return msg


# ------------------------------------------------------------------------------------------------ FACED DE
def _de_path(root, sub="sub001"):
    return root / "EEG_Features" / "DE" / f"{sub}.pkl.pkl"


def _good_bytes(root):
    return _de_path(root).read_bytes()


BAD_DE = {
    "empty": (lambda good: b"", ("0 bytes", "empty")),
    "truncated-half": (lambda good: good[: len(good) // 2], ("truncated or corrupt",)),
    "truncated-10": (lambda good: good[:10], ("truncated or corrupt",)),
    "garbage": (lambda good: b"\x00\xffnot a pickle at all" * 10, ("truncated or corrupt",)),
    "wrong-shape": (lambda good: pickle.dumps(np.zeros((28, 32, 30, 4))), ("expected shape", str(DE_SHAPE),
                                                                           "(28, 32, 30, 4)")),
    "transposed": (lambda good: pickle.dumps(np.zeros((32, 28, 30, 5))), ("expected shape", "(32, 28, 30, 5)")),
    "int-dtype": (lambda good: pickle.dumps(np.zeros(DE_SHAPE, dtype=np.int64)), ("float", "int64")),
    "complex-dtype": (lambda good: pickle.dumps(np.zeros(DE_SHAPE, dtype=complex)), ("float", "complex128")),
    "object-dtype": (lambda good: pickle.dumps(np.zeros(DE_SHAPE, dtype=object)), ("float", "object")),
    "nan": (lambda good: pickle.dumps(np.where(np.arange(np.prod(DE_SHAPE)).reshape(DE_SHAPE) == 77, np.nan, 1.0)),
            ("1 non-finite", "NaN/Inf", "(0, 0, 15, 2)")),
    "inf": (lambda good: pickle.dumps(np.full(DE_SHAPE, np.inf)), ("non-finite",)),
    "beyond-float32": (lambda good: pickle.dumps(np.full(DE_SHAPE, 1e300)), ("float32 range",)),
    "a-list": (lambda good: pickle.dumps([1.0, 2.0]), ("expected a numpy array", "found list")),
    "a-dict": (lambda good: pickle.dumps({"de": np.zeros(DE_SHAPE)}), ("expected a numpy array", "found dict")),
}


@pytest.mark.parametrize("case", sorted(BAD_DE))
def test_load_faced_bad_de_file(faced_dir, tmp_path, case):
    make, fragments = BAD_DE[case]
    victim = _de_path(faced_dir)
    victim.write_bytes(make(_good_bytes(faced_dir)))
    cache = tmp_path / "cache"
    before = snapshot(faced_dir)
    _expect(ValueError, lambda: D.load_faced(faced_dir, cache_dir=cache), victim, *fragments)
    _expect(ValueError, lambda: D.data_check(faced_dir), victim)
    assert snapshot(faced_dir) == before, "a reader must never modify the data folder"
    assert not list(cache.rglob("*.npz")) and not stray_files(cache), "nothing cached from a failed load"


def test_faced_missing_subject_and_missing_ratings(faced_dir, tmp_path):
    cache = tmp_path / "c"
    folder = faced_dir / "EEG_Features" / "DE"
    _expect(FileNotFoundError, lambda: D.load_faced(faced_dir, subjects=["sub000", "sub042"], cache_dir=cache),
            folder, "sub042", "found 3 subjects")
    _expect(TypeError, lambda: D.load_faced(faced_dir, subjects="sub000", cache_dir=cache), "subjects", "'sub000'")
    _expect(ValueError, lambda: D.load_faced(faced_dir, kind="eeg", cache_dir=cache), "kind", "'eeg'")
    shutil.rmtree(faced_dir / "After_remarks" / "sub002")
    _expect(FileNotFoundError, lambda: D.load_faced(faced_dir, cache_dir=cache), "After_remarks", "['sub002']")
    report = D.data_check(faced_dir)  # the checker reports the gap instead of failing
    assert "DE without ratings: ['sub002']" in report
    shutil.rmtree(folder)
    _expect(FileNotFoundError, lambda: D.load_faced(faced_dir, cache_dir=cache), folder, "'de'")
    empty = tmp_path / "empty"
    empty.mkdir()
    _expect(FileNotFoundError, lambda: D.data_check(empty), empty, "no FACED data")
    _expect(FileNotFoundError, lambda: D.load_faced(tmp_path / "nope", cache_dir=cache), "nope", "does not exist")


def _mat(root, sub="sub000"):
    return root / "After_remarks" / sub / "After_remarks.mat"


def _write_struct(path, fields, n=28, bad=None):
    import scipy.io as sio

    rec = np.zeros((1, n), dtype=[(f, "O") for f in fields])
    for i in range(n):
        vals = {"score": np.ones(12), "vid": float(i + 1), "trial": float(i + 1)}
        if bad:
            vals = bad(i, vals)
        rec[0, i] = tuple(vals[f] for f in fields)
    sio.savemat(path, {"After_remark": rec})


BAD_MAT = {
    "empty": (lambda p, good: p.write_bytes(b""), ("unreadable or truncated MATLAB",)),
    "truncated": (lambda p, good: p.write_bytes(good[: len(good) // 2]), ("unreadable or truncated MATLAB",)),
    "garbage": (lambda p, good: p.write_bytes(b"MATLAB 5.0" + b"\x00" * 50), ("unreadable or truncated MATLAB",)),
    "no-After_remark": (lambda p, good: __import__("scipy.io").io.savemat(p, {"x": np.ones(3)}), ("After_remark",)),
    "numbers-not-structs": (lambda p, good: __import__("scipy.io").io.savemat(p, {"After_remark": np.ones(28)}),
                            ("'vid' and 'score'",)),
    "no-vid-field": (lambda p, good: _write_struct(p, ["score", "trial"]), ("'vid' and 'score'", "vid")),
    "27-structs": (lambda p, good: _write_struct(p, ["score", "vid"], n=27), ("expected 28", "(27,)")),
    "duplicate-vid": (lambda p, good: _write_struct(p, ["score", "vid"], bad=lambda i, v: {**v, "vid": 1.0}),
                      ("vid must cover 1..28",)),
    "nan-vid": (lambda p, good: _write_struct(p, ["score", "vid"], bad=lambda i, v: {**v, "vid": np.nan}),
                ("'vid' and 'score'", "NaN")),
    "nan-score": (lambda p, good: _write_struct(p, ["score", "vid"],
                                                bad=lambda i, v: {**v, "score": np.full(12, np.nan)}),
                  ("12 finite scores",)),
    "11-scores": (lambda p, good: _write_struct(p, ["score", "vid"], bad=lambda i, v: {**v, "score": np.ones(11)}),
                  ("12 finite scores",)),
    "text-scores": (lambda p, good: _write_struct(p, ["score", "vid"],
                                                  bad=lambda i, v: {**v, "score": np.array(["x"] * 12)}),
                    ("'vid' and 'score'",)),
}


@pytest.mark.parametrize("case", sorted(BAD_MAT))
def test_load_ratings_bad_mat_file(faced_dir, case):
    damage, fragments = BAD_MAT[case]
    p = _mat(faced_dir)
    damage(p, p.read_bytes())
    _expect(ValueError, lambda: D.load_ratings(faced_dir, ["sub000", "sub001"]), p, *fragments)


# ------------------------------------------------------------------------------------------------ SEED-V
def _seedv_path(root):
    return root / "EEG_DE_features" / "1_123.npz"


def _seedv_write(path, data=None, label=None, n=45, **extra):
    data = {t: np.ones((2, 310)) for t in range(n)} if data is None else data
    label = {t: np.full(2, lab) for t, lab in enumerate(np.concatenate(SV.SEEDV_SESSION_LABELS))} \
        if label is None else label
    np.savez(path, data=pickle.dumps(data), label=pickle.dumps(label), **extra)


BAD_SEEDV = {
    "empty": (lambda p, good: p.write_bytes(b""), ValueError, ("unreadable or truncated npz",)),
    "truncated": (lambda p, good: p.write_bytes(good[: len(good) // 2]), ValueError, ("unreadable or truncated",)),
    "no-data-key": (lambda p, good: np.savez(p, x=np.ones(2)), ValueError, ("expected keys 'data' and 'label'",)),
    "44-trials": (lambda p, good: _seedv_write(p, n=44), ValueError, ("dict of 45 trials", "length 44")),
    "wrong-width": (lambda p, good: _seedv_write(p, data={t: np.ones((2, 300)) for t in range(45)}), ValueError,
                    ("(n_windows, 310)", "(2, 300)")),
    "nan": (lambda p, good: _seedv_write(p, data={t: np.full((2, 310), np.nan) for t in range(45)}), ValueError,
            ("non-finite",)),
    "text": (lambda p, good: _seedv_write(p, data={t: np.array([["a"] * 310] * 2) for t in range(45)}), ValueError,
             ("numeric", "<U1")),
    "wrong-labels": (lambda p, good: _seedv_write(p, label={t: np.full(2, 9) for t in range(45)}), ValueError,
                     ("do not match the published session list",)),
    "corrupt-inner-pickle": (lambda p, good: np.savez(p, data=b"\x80\x04garbage", label=b""), ValueError,
                             ("[data]", "truncated or corrupt")),
}


@pytest.mark.parametrize("case", sorted(BAD_SEEDV))
def test_load_seedv_bad_npz(seedv_dir, case):
    damage, exc, fragments = BAD_SEEDV[case]
    p = _seedv_path(seedv_dir)
    damage(p, p.read_bytes())
    _expect(exc, lambda: SV.load_seedv(seedv_dir), p, *fragments)


@pytest.mark.parametrize("content", [b"", b"\x00" * 900, bytes(range(256)) * 12], ids=["empty", "zeros", "garbage"])
def test_load_seedv_raw_bad_cnt(tmp_path, content):
    folder = tmp_path / "EEG_raw"
    folder.mkdir()
    p = folder / "1_1_20180804.cnt"
    p.write_bytes(content)
    _expect(ValueError, lambda: SV.load_seedv(tmp_path, kind="raw"), p, "unreadable or truncated Neuroscan .cnt")
    _expect(FileNotFoundError, lambda: SV.load_seedv(tmp_path / "none", kind="raw"), "no .cnt files")


def test_load_seedv_missing_subject_and_folder(seedv_dir, tmp_path):
    _expect(FileNotFoundError, lambda: SV.load_seedv(seedv_dir, subjects=["1", "7"]), "['7']")
    _expect(FileNotFoundError, lambda: SV.load_seedv(tmp_path), "EEG_DE_features")
    _expect(ValueError, lambda: SV.load_seedv(seedv_dir, kind="psd"), "kind", "'psd'")


# ------------------------------------------------------------------------------------------------ property tests
NEAR_SHAPES = [DE_SHAPE, (28, 32, 30, 4), (32, 28, 30, 5), (28, 32, 30), (1,) + DE_SHAPE]
DTYPES = ["float64", "float32", "int32", "bool"]


def _contract_examples(f):
    """Every dtype x (finite, non-finite) at the exact shape, plus a wrong shape: each option runs at least once."""
    for dtype in DTYPES:
        for bad in (None, np.nan):
            f = example(shape=DE_SHAPE, dtype=dtype, bad=bad, seed=7)(f)
    return example(shape=(28, 32, 30, 4), dtype="float64", bad=None, seed=0)(f)


@FAST
@_contract_examples
@given(shape=st.sampled_from(NEAR_SHAPES) | hnp.array_shapes(min_dims=1, max_dims=4, max_side=6),
       dtype=st.sampled_from(DTYPES), bad=st.sampled_from([None, np.nan, np.inf, -np.inf]), seed=st.integers(0, 2**16))
def test_property_de_reader_accepts_only_the_exact_contract(tmp_path_factory, shape, dtype, bad, seed):
    """A pickled array is accepted iff it is float, shape (28, 32, 30, 5) and finite; else the first broken rule
    (shape, then dtype, then finiteness) is named with the file. Int / bool arrays cannot hold NaN / Inf."""
    arr = np.random.default_rng(seed).normal(2.0, 0.5, size=shape)
    if bad is not None and arr.size and dtype.startswith("float"):
        arr.flat[seed % arr.size] = bad
    arr = arr.astype(dtype)
    root = tmp_path_factory.mktemp("prop") / "EEG_Features" / "DE"
    root.mkdir(parents=True)
    p = root / "sub000.pkl.pkl"
    p.write_bytes(pickle.dumps(arr))
    read = lambda: D._read_array(p, DE_SHAPE)  # noqa: E731
    if tuple(shape) != DE_SHAPE:
        _expect(ValueError, read, p, "expected shape", str(tuple(shape)))
    elif not dtype.startswith("float"):
        _expect(ValueError, read, p, "expected a float array", dtype)
    elif bad is not None:
        first = tuple(int(i) for i in np.unravel_index(seed % arr.size, DE_SHAPE))
        _expect(ValueError, read, p, "1 non-finite", f"first at index {first}")
    else:
        out = read()
        assert out.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(out, arr)


@FAST
@given(n_bad=st.integers(1, 5), seed=st.integers(0, 10**6), bad=st.sampled_from([np.nan, np.inf, -np.inf, None]))
def test_property_de_reader_on_valid_shape(tmp_path_factory, n_bad, seed, bad):
    """Right shape and dtype: finite data come back unchanged; ``n_bad`` NaN / Inf values are counted and the first
    one (in C order) is located in the message."""
    rng = np.random.default_rng(seed)
    arr = rng.normal(2.0, 0.5, size=DE_SHAPE)
    p = tmp_path_factory.mktemp("prop2") / "sub000.pkl.pkl"
    where = rng.choice(arr.size, n_bad, replace=False)
    if bad is not None:
        arr.flat[where] = bad
    p.write_bytes(pickle.dumps(arr))
    if bad is None:
        out = D._read_array(p, DE_SHAPE)
        np.testing.assert_array_equal(out, arr)
    else:
        first = tuple(int(i) for i in np.unravel_index(where.min(), DE_SHAPE))
        _expect(ValueError, lambda: D._read_array(p, DE_SHAPE), p, f"{n_bad} non-finite", f"first at index {first}")


@FAST
@given(cut=st.floats(0.0, 0.999))
def test_property_truncated_pickle_never_loads(tmp_path_factory, cut):
    from vaxis.eeg.safepickle import safe_load

    data = pickle.dumps(np.arange(40, dtype=np.float64).reshape(5, 8), protocol=4)
    p = tmp_path_factory.mktemp("trunc") / "x.pkl"
    p.write_bytes(data[: int(cut * len(data))])
    _expect(ValueError, lambda: safe_load(p), p)


@FAST
@given(cut=st.floats(0.0, 0.95))
def test_property_truncated_seedv_npz(tmp_path_factory, seedv_template, cut):
    src = _seedv_path(seedv_template).read_bytes()
    root = tmp_path_factory.mktemp("sv")
    (root / "EEG_DE_features").mkdir()
    p = _seedv_path(root)
    p.write_bytes(src[: int(cut * len(src))])
    _expect(ValueError, lambda: SV.load_seedv(root), p)


# ------------------------------------------------------------------------------------------------ features
@FAST
@given(lead=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), n_sec=st.integers(1, 3),
       sfreq=st.sampled_from([100.0, 128.0, 250.0]), seed=st.integers(0, 2**16),
       precision=st.sampled_from(["float32", "float64"]))
def test_property_band_de_shapes_and_finite(lead, n_sec, sfreq, seed, precision):
    from vaxis.eeg.features import band_de

    n_times = int(n_sec * sfreq) + seed % 7  # an incomplete tail window is dropped
    x = np.random.default_rng(seed).normal(0, 10, size=lead + (n_times,))
    de = band_de(x, sfreq, precision=precision)
    assert de.shape == lead + (n_sec, 5)
    assert de.dtype == np.float64 and np.all(np.isfinite(de))
    # DE = 0.5 ln(2 pi e var): scaling x by 10 adds ln(10) to every band and window
    np.testing.assert_allclose(band_de(10 * x, sfreq, precision="float64"),
                               band_de(x, sfreq, precision="float64") + np.log(10), atol=1e-6)


@FAST
@given(shape=st.tuples(st.integers(2, 4), st.integers(2, 4), st.integers(1, 3), st.integers(1, 4), st.integers(1, 3)),
       seed=st.integers(0, 2**16), mode=st.sampled_from(["per-subject", "train-only", "none", "running"]),
       scale=st.floats(1e-3, 1e3))
def test_property_normalise_shapes_finite_and_standardised(shape, seed, mode, scale):
    from vaxis.eeg.features import normalise

    rng = np.random.default_rng(seed)
    x = rng.normal(5, 1, size=shape) * scale
    out = normalise(x, mode, train_subjects=[0, 1] if mode == "train-only" else None)
    assert out.shape == x.shape and out.dtype == np.float32 and np.all(np.isfinite(out))
    if mode == "per-subject" and shape[1] * shape[3] > 1:
        np.testing.assert_allclose(out.astype(np.float64).mean(axis=(1, 3)), 0, atol=1e-4)
    if mode == "train-only":
        tr = out[:2].astype(np.float64)
        np.testing.assert_allclose(tr.mean(axis=(0, 1, 3)), 0, atol=1e-4)


@pytest.mark.parametrize("call, fragments", [
    (lambda F, x: F.band_de(x, 0.0), ("sfreq", "positive", "0.0")),
    (lambda F, x: F.band_de(x, float("nan")), ("sfreq", "nan")),
    (lambda F, x: F.band_de(x, -250.0), ("sfreq", "-250.0")),
    (lambda F, x: F.band_de(x, 250.0, window_s=0), ("window_s", "positive", "0")),
    (lambda F, x: F.band_de(x[..., :100], 250.0), ("n_times=100", "shorter than one 1-s window")),
    (lambda F, x: F.band_de(x[..., :1], 250.0), ("n_times >= 2",)),
    (lambda F, x: F.band_de(np.where(x > 3, np.nan, x), 250.0), ("NaN or Inf",)),
    (lambda F, x: F.band_de(x.astype(complex), 250.0), ("real numeric", "complex128")),
    (lambda F, x: F.band_de(x.astype(str), 250.0), ("real numeric", "<U")),
    (lambda F, x: F.band_filter(x, 0.0), ("sfreq",)),
    (lambda F, x: F.band_filter(np.full_like(x, np.inf), 250.0), ("NaN or Inf",)),
    (lambda F, x: F.normalise(np.full((3, 2, 2, 2, 5), np.nan)), ("NaN/Inf",)),
    (lambda F, x: F.normalise(np.ones(5)), ("n_subjects, n_clips", "(5,)")),
    (lambda F, x: F.normalise(np.ones((3, 2, 2, 2, 5)), "train-only"), ("train_subjects",)),
    (lambda F, x: F.normalise(np.ones((3, 2, 2, 2, 5)), "train-only", [0, 7]), ("train_subjects", "[0, 3)", "7")),
    (lambda F, x: F.normalise(np.ones((3, 2, 2, 2, 5)), "train-only", [-1]), ("train_subjects", "-1")),
    (lambda F, x: F.normalise(np.ones((3, 2, 2, 2, 5)), "train-only", [True]), ("boolean", "(3,)")),
    (lambda F, x: F.normalise(np.ones((3, 2, 2, 2, 5)), "zscore"), ("mode", "'zscore'")),
    (lambda F, x: F.lds_smooth(np.full((2, 3, 2, 4, 5), np.inf)), ("NaN/Inf",)),
    (lambda F, x: F.running_normalise(np.ones((3, 4))), ("expects", "(3, 4)")),
])
def test_feature_functions_reject_bad_arguments(call, fragments):
    from vaxis.eeg import features as F

    x = np.random.default_rng(0).normal(size=(2, 500))
    _expect(ValueError, lambda: call(F, x), *fragments)


# ------------------------------------------------------------------------------------------------ sentiment files
BAD_SENTIMENT = {
    "no-label-column.tsv": ("sentence\tfoo\ngood\t1\n", ("cannot find a label column", "['sentence', 'foo']")),
    "no-text-column.csv": ("id,label\n1,1\n2,0\n", ("cannot find a text column", "['id', 'label']")),
    "three-classes.csv": ("text,label\na,0\nb,1\nc,2\n", ("not binary", "['0', '1', '2']")),
    "graded-floats.jsonl": ('{"text":"a","label":0.5}\n{"text":"b","label":1}\n', ("not binary", "0.5")),
    "both-0-and-minus1.csv": ("text,label\na,0\nb,-1\nc,1\n", ("not binary",)),
    "words.csv": ("text,label\na,good\nb,bad\n", ("not binary", "good")),
    "missing-label-csv.csv": ("text,label\na,0\nb,\nc,1\n", ("1 missing values", "row 2")),
    "missing-label-key.jsonl": ('{"text":"a","label":1}\n{"text":"b"}\n', ("1 missing values", "row 2")),
    "null-label.jsonl": ('{"text":"a","label":1}\n{"text":"b","label":null}\n', ("missing values",)),
    "missing-text-key.jsonl": ('{"text":"a","label":1}\n{"label":0}\n', ("text column 'text'", "row 2")),
    "null-text.jsonl": ('{"text":null,"label":1}\n{"text":"b","label":0}\n', ("missing or empty", "row 1")),
    "empty-text.csv": ("text,label\n,1\nb,0\n", ("missing or empty",)),
    "empty.csv": ("", ("empty file",)),
    "header-only.tsv": ("sentence\tlabel\n", ("empty file",)),
    "ragged.csv": ("text,label\na,1,3\n", ("line 2 has 3 fields", "expected 2")),
    "bad-json.jsonl": ('{"text":"a","label":1}\n{oops\n', ("line 2 is not valid JSON",)),
    "not-utf8.csv": (b"\xff\xfe\x00text,label\n\x80,1\n", ("unreadable csv", "UTF-8")),
    "truncated.csv.gz": (gzip.compress(b"text,label\na,1\nb,0\n")[:12], ("unreadable", "gzip")),
    "notes.txt": ("text,label\na,1\n", ("unsupported extension", ".txt")),
}


@pytest.mark.parametrize("name", sorted(BAD_SENTIMENT))
def test_load_benchmark_bad_user_file(tmp_path, name):
    from vaxis.text.sentiment import BenchmarkFormatError, load_benchmark

    content, fragments = BAD_SENTIMENT[name]
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    _expect(BenchmarkFormatError, lambda: load_benchmark(p), p, *fragments)


def test_load_benchmark_bad_arguments(tmp_path):
    from vaxis.text.sentiment import BenchmarkFormatError, load_benchmark

    p = tmp_path / "ok.tsv"
    p.write_text("sentence\tlabel\ngood\t1\nbad\t0\n")
    assert load_benchmark(p)["label"].tolist() == [1, 0]
    _expect(BenchmarkFormatError, lambda: load_benchmark(p, text_col="review"), p, "no text column 'review'")
    _expect(BenchmarkFormatError, lambda: load_benchmark(p, label_col="y"), p, "no label column 'y'")
    _expect(FileNotFoundError, lambda: load_benchmark(tmp_path / "nope.csv"), "nope.csv", "not found")
    _expect(ValueError, lambda: load_benchmark("sst3"), "unknown benchmark 'sst3'", "sst2")
    _expect(ValueError, lambda: load_benchmark("sst2", split="train", data_dir=tmp_path), "splits", "'train'")


@FAST
@given(labels=st.lists(st.sampled_from(["0", "1", "2", "pos", "neg", "", "maybe", "-1", "1.0"]), min_size=1,
                       max_size=8))
def test_property_benchmark_labels_binary_or_clear_error(tmp_path_factory, labels):
    from vaxis.text.sentiment import BenchmarkFormatError, load_benchmark

    p = tmp_path_factory.mktemp("bm") / "user.csv"
    p.write_text("text,label\n" + "".join(f"t{i},{lab}\n" for i, lab in enumerate(labels)))
    pos, neg = {"1", "pos", "1.0"}, {"0", "neg", "-1"}
    # spellings are normalised ("1" and "1.0" are one class); both classes must be present (issue 26 item 3)
    ok = (all(lab in pos | neg for lab in labels) and not ({"0", "-1"} <= set(labels))
          and bool(set(labels) & pos) and bool(set(labels) & neg))
    if ok:
        df = load_benchmark(p)
        assert df["label"].tolist() == [int(lab in pos) for lab in labels]
    else:
        _expect(BenchmarkFormatError, lambda: load_benchmark(p), p)


# ------------------------------------------------------------------------------------------------ models, devices
def test_unknown_model_and_offline_hub_id(monkeypatch, tmp_path):
    from vaxis.text.llm import load_model

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("minilm-l12", "meta-llama/Llama-3.2-1B"):
        msg = _expect(ValueError, lambda: load_model(name, device="cpu", cache_dir=tmp_path), f"'{name}'",
                      "not a registry name", "minilm", "HF_HUB_OFFLINE is set")
        assert msg.count("cannot load model") == 1
    assert not stray_files(tmp_path)


def test_gpu_requested_where_none_exists(monkeypatch):
    import torch

    from vaxis.decoding import stacking
    from vaxis.text import llm

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for dev in ("cuda", "cuda:1"):
        _expect(RuntimeError, lambda: llm.resolve_device(dev), f"device='{dev}'", "no CUDA device")
        _expect(RuntimeError, lambda: llm.load_model("minilm", device=dev), "no CUDA device")
        _expect(RuntimeError, lambda: stacking.resolve_device(dev), f"'{dev}'", "no CUDA device")
    assert llm.resolve_device("auto") == "cpu" and str(stacking.resolve_device("auto")) == "cpu"


def test_extract_bad_arguments(tmp_path):
    from vaxis.text.llm import extract, tiny_model

    m = tiny_model()
    kw = dict(cache_dir=tmp_path, progress=False)
    _expect(ValueError, lambda: extract(m, ["a"], layers=[3], **kw), "layers [3]", "3 hidden-state layers")
    _expect(ValueError, lambda: extract(m, ["a"], layers=[-4], **kw), "[-4]")
    _expect(TypeError, lambda: extract(m, "one text", **kw), "list of strings", "'one text'")
    _expect(ValueError, lambda: extract(m, [], **kw), "at least one text")
    _expect(ValueError, lambda: extract(m, ["a"], pooling="max", **kw), "pooling", "'max'")
    _expect(ValueError, lambda: extract(m, ["a"], batch_size=0, **kw), "batch_size", "0")
    assert not list(tmp_path.rglob("*.npz")) and not stray_files(tmp_path)


def test_results_bad_payload_leaves_nothing(tmp_path):
    from vaxis.publish.results import read_results, write_results

    _expect(ValueError, lambda: write_results("01_x", {"scoreboard": [{"claim": 1, "verdict": "great"}]}, tmp_path),
            "verdict", "'great'")
    _expect(TypeError, lambda: write_results("01_x", {"obj": object(), "scoreboard": []}, tmp_path), "object")
    assert not list(tmp_path.iterdir())
    _expect(FileNotFoundError, lambda: read_results("01_x", tmp_path), "01_x.json", "run the chapter")
    for text, frag in (("", "corrupt results file"), ('{"a": 1', "corrupt results file"), ("[1]", "found list"),
                       (b"\xff\xfe", "corrupt results file")):
        p = tmp_path / "02_y.json"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        _expect(ValueError, lambda: read_results("02_y", tmp_path), p, frag, "rerun the chapter notebook '02_y'")


def test_cli_data_check_reports_one_clear_error(faced_dir, capsys):
    from vaxis.cli import main

    victim = _de_path(faced_dir)
    victim.write_bytes(victim.read_bytes()[:100])
    assert main(["data", "check", str(faced_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and str(victim) in err and "truncated" in err
