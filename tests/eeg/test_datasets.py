"""FACED / SEED-V readers on tiny files written in the real formats by vaxis.eeg.synthetic."""

from __future__ import annotations

import pickle
import shutil

import numpy as np
import pytest
import scipy.io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxis.eeg.datasets import (
    FACED_LABELS,
    EEGData,
    data_check,
    load_faced,
    load_ratings,
    resolve_faced_dir,
)
from vaxis.eeg.seedv import load_seedv
from vaxis.eeg.synthetic import make_faced, make_seedv


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("faced")
    gt = make_faced(d, n_subjects=3, seed=1, kinds=("de", "ratings"))
    return d, gt


def _copy(src, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(src, dst)
    return dst


def test_load_de_matches_files_and_layout(cohort, tmp_path):
    d, gt = cohort
    e = load_faced(d, cache_dir=tmp_path)
    assert isinstance(e, EEGData) and e.source == "synthetic"
    assert e.x.shape == (3, 28, 30, 30, 5) and e.x.dtype == np.float32
    raw = pickle.loads((d / "EEG_Features/DE/sub001.pkl.pkl").read_bytes())
    np.testing.assert_allclose(e.x[1], raw[:, :30], rtol=1e-6)
    assert e.subject_ids == ["sub000", "sub001", "sub002"]
    np.testing.assert_array_equal(e.clip_ids, np.arange(1, 29))
    assert e.labels[0] == 0 and e.labels[12] == 4 and e.labels[27] == 8 and len(e.categories) == 9
    full = load_faced(d, drop_mastoids=False, cache_dir=tmp_path)
    assert full.x.shape[2] == 32 and full.ch_names[-2:] == ("A2", "A1")
    again = load_faced(d, cache_dir=tmp_path)  # cache hit gives identical data
    np.testing.assert_array_equal(again.x, e.x)


def test_ratings_joined_by_vid_not_row(cohort):
    d, gt = cohort
    m = sio.loadmat(d / "After_remarks/sub002/After_remarks.mat", squeeze_me=True, struct_as_record=False)
    recs = m["After_remark"]
    assert recs.shape == (28,) and recs[0]._fieldnames == ["score", "trial", "vid", "Accuracy", "ResponseTime"]
    vids = [int(r.vid) for r in recs]
    assert vids != list(range(1, 29))  # shuffled presentation order
    r = load_ratings(d, ["sub002"])[0]
    for rec in recs:  # independent join
        np.testing.assert_allclose(r[int(rec.vid) - 1], rec.score, rtol=1e-6)
    e = load_faced(d, subjects=["sub002"])
    np.testing.assert_allclose(e.valence()[0], gt["ratings"][2, :, 9], rtol=1e-6)
    assert e.valence()[0][FACED_LABELS > 4].mean() > e.valence()[0][FACED_LABELS < 4].mean()


def test_subset_and_windows(cohort):
    d, _ = cohort
    e = load_faced(d)
    sub = e.subset(["sub002", "sub000"])
    np.testing.assert_array_equal(sub.x[0], e.x[2])
    np.testing.assert_array_equal(sub.ratings[1], e.ratings[0])
    with pytest.raises(KeyError, match="sub009"):
        e.subset(["sub009"])
    X, y, s, c = e.windows("9class")
    assert X.shape == (3 * 28 * 30, 30, 5)
    k = 2 * 28 * 30 + 5 * 30 + 7  # subject 2, clip 5, window 7
    np.testing.assert_array_equal(X[k], e.x[2, 5, :, 7, :])
    assert (y[k], s[k], c[k]) == (FACED_LABELS[5], 2, 5)
    Xb, yb, sb, cb = e.windows("binary")
    assert Xb.shape[0] == 3 * 24 * 30 and set(np.unique(cb)).isdisjoint({12, 13, 14, 15})
    np.testing.assert_array_equal(yb, (FACED_LABELS[cb] > 4).astype(int))


def test_missing_subjects_are_listed(cohort, tmp_path):
    d, _ = cohort
    with pytest.raises(FileNotFoundError, match=r"sub007.*sub008|sub008.*sub007"):
        load_faced(d, subjects=["sub000", "sub007", "sub008"])
    c = _copy(d, tmp_path)
    shutil.rmtree(c / "After_remarks/sub001")
    with pytest.raises(FileNotFoundError, match="sub001"):
        load_faced(c, use_cache=False)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((28, 32, 30, 4)), r"expected shape \(28, 32, 30, 5\), found \(28, 32, 30, 4\)"),
    (np.zeros((28, 32, 30, 5), dtype=np.int64), "float"),
    ({"a": 1}, "expected a numpy array"),
])
def test_wrong_content_named(cohort, tmp_path, bad, match):
    c = _copy(cohort[0], tmp_path)
    (c / "EEG_Features/DE/sub001.pkl.pkl").write_bytes(pickle.dumps(bad))
    with pytest.raises(ValueError, match=match) as err:
        load_faced(c, use_cache=False)
    assert "sub001.pkl.pkl" in str(err.value)


def test_nan_truncated_empty(cohort, tmp_path):
    c = _copy(cohort[0], tmp_path)
    p = c / "EEG_Features/DE/sub000.pkl.pkl"
    arr = pickle.loads(p.read_bytes())
    arr[3, 4, 5, 1] = np.nan
    p.write_bytes(pickle.dumps(arr))
    with pytest.raises(ValueError, match=r"sub000\.pkl\.pkl.*non-finite.*\(3, 4, 5, 1\)"):
        load_faced(c, use_cache=False)
    p.write_bytes(pickle.dumps(arr)[:1000])
    with pytest.raises(ValueError, match="truncated"):
        load_faced(c, use_cache=False)
    p.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_faced(c, use_cache=False)
    m = c / "After_remarks/sub001/After_remarks.mat"
    m.write_bytes(m.read_bytes()[:300])
    with pytest.raises(ValueError, match="After_remarks.mat"):
        load_ratings(c, ["sub001"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=5), n_bytes=st.integers(0, 400))
def test_reader_never_accepts_garbage(tmp_path_factory, cohort, shape, n_bytes):
    """Property: any wrong shape or truncation gives a ValueError naming the file, never bad data."""
    c = tmp_path_factory.mktemp("prop")
    shutil.copytree(cohort[0] / "EEG_Features", c / "EEG_Features")
    p = c / "EEG_Features/DE/sub002.pkl.pkl"
    blob = pickle.dumps(np.ones(shape))
    p.write_bytes(blob[:n_bytes] if n_bytes < len(blob) else blob)
    with pytest.raises(ValueError, match="sub002"):
        load_faced(c, use_cache=False)


def test_resolve_dir(cohort, tmp_path, monkeypatch):
    d, _ = cohort
    assert resolve_faced_dir(d) == (d, "synthetic")
    real = tmp_path / "real"
    real.mkdir()
    monkeypatch.setenv("VAXIS_FACED_DIR", str(real))
    assert resolve_faced_dir() == (real, "faced")
    assert resolve_faced_dir(d)[0] == d  # the parameter wins
    monkeypatch.delenv("VAXIS_FACED_DIR")
    path, source = resolve_faced_dir(cache_dir=tmp_path / "c")
    assert source == "synthetic" and (path / "EEG_Features/DE/sub000.pkl.pkl").is_file()
    assert (path / "README.txt").read_text().startswith("SYNTHETIC")


def test_data_check(cohort):
    report = data_check(cohort[0])
    assert "de: 3 subjects OK" in report and "SYNTHETIC" in report and "ratings: 3 subjects OK" in report


def test_processed_reader(tmp_path):
    make_faced(tmp_path, n_subjects=1, seed=2, kinds=("processed",))
    p = load_faced(tmp_path, kind="processed", use_cache=False)
    assert p.x.shape == (1, 28, 30, 7500) and p.ratings is None
    with pytest.raises(ValueError, match="windows"):
        p.windows()


def test_seedv_reader(tmp_path):
    gt = make_seedv(tmp_path, n_subjects=2, seed=0)
    sv = load_seedv(tmp_path)
    assert sv.subject_ids == ["1", "2"] and len(sv.trials[0]) == 45
    assert sv.trials[1][7].shape == (gt["n_windows"][7], 62, 5)
    with np.load(tmp_path / "EEG_DE_features/2_123.npz") as z:
        data = pickle.loads(z["data"].tobytes())
    np.testing.assert_allclose(sv.trials[1][7], data[7].reshape(-1, 62, 5), rtol=1e-6)
    X, y, s, t = sv.windows()
    assert X.shape == (2 * gt["n_windows"].sum(), 62, 5) and set(np.unique(y)) == {0, 1, 2, 3, 4}
    np.testing.assert_array_equal(y, sv.labels[t])
    with pytest.raises(FileNotFoundError, match="'3'"):
        load_seedv(tmp_path, subjects=["1", "3"])
    (tmp_path / "EEG_DE_features/2_123.npz").write_bytes(b"PK\x03\x04trunc")
    with pytest.raises(ValueError, match="2_123.npz"):
        load_seedv(tmp_path)


def test_synthetic_default_is_generated_once_and_never_seen_half_written(tmp_path, monkeypatch):
    """Two processes asking for the default cohort at once: each gets a complete folder (it used to be written in
    place, and a second process could read a file the first was still writing)."""
    import subprocess
    import sys

    monkeypatch.delenv("VAXIS_FACED_DIR", raising=False)
    code = ("import sys; from vaxis.eeg.datasets import load_faced; e = load_faced(None, cache_dir=sys.argv[1]); "
            "print(e.source, e.n_subjects, e.ratings is not None)")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0].split() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(o[0] == "synthetic" and o[2] == "True" for o in outs) and outs[0] == outs[1]
    folders = list((tmp_path / "synthetic").iterdir())
    assert [f.name for f in folders if f.name.startswith(".")] == []         # no temporary folder left behind
