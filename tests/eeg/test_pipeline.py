"""The default EEG input pipeline: LDS restarted per clip, then a per-subject z-score; no label, no clip crossing."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np
import pytest
from _lds_reference import plain_lds

from vaxis.eeg.normalise import lds_smooth
from vaxis.eeg.pipeline import DEFAULT, Pipeline, apply_pipeline, as_pipeline


def _x(seed=0, shape=(3, 6, 4, 10, 5)):
    rng = np.random.default_rng(seed)
    return rng.normal(2.0, 0.5, shape) + rng.normal(0, 1, shape[:1] + (1, 1, 1, 1))



def test_default_is_lds_per_clip_then_per_subject_zscore():
    x = _x()
    out = DEFAULT.transform(x)
    sm = np.zeros_like(x)
    for s, c, ch, b in np.ndindex(x.shape[0], x.shape[1], x.shape[2], x.shape[4]):
        sm[s, c, ch, :, b] = plain_lds(x[s, c, ch, :, b])
    mu, sd = sm.mean(axis=(1, 3), keepdims=True), sm.std(axis=(1, 3), keepdims=True)
    np.testing.assert_allclose(out, (sm - mu) / sd, atol=1e-4)
    assert out.dtype == np.float32 and DEFAULT.as_dict() == {"normalisation": "per-subject", "smoothing": "lds-clip"}


def test_zscore_before_smoothing_changes_nothing():
    """LDS is affine-equivariant: z-score, LDS, z-score == LDS, z-score (why the pipeline z-scores after)."""
    from vaxis.eeg.normalise import normalise

    x = _x(1)
    zlz = normalise(lds_smooth(normalise(x, "per-subject"), time_axis=3, clip_axis=1), "per-subject")
    np.testing.assert_allclose(DEFAULT.transform(x), zlz, atol=1e-4)


def test_never_smooths_across_a_clip_boundary():
    x = _x(2)
    bumped = x.copy()
    bumped[1, 2] += 5.0                                         # change one clip of one subject
    p = Pipeline("none")                                        # smoothing alone
    a, b = p.transform(x), p.transform(bumped)
    changed = np.abs(a - b).max(axis=(2, 3, 4)) > 1e-6
    assert changed[1, 2] and changed.sum() == 1, changed        # no other clip moved
    # with the per-subject z-score the other clips of that subject move by one affine map per feature only
    a, b = DEFAULT.transform(x), DEFAULT.transform(bumped)
    others = [c for c in range(x.shape[1]) if c != 2]
    for ch, band in np.ndindex(x.shape[2], x.shape[4]):
        u, v = a[1, others, ch, :, band].ravel(), b[1, others, ch, :, band].ravel()
        slope, icpt = np.polyfit(u, v, 1)
        np.testing.assert_allclose(slope * u + icpt, v, atol=1e-4)
    np.testing.assert_array_equal(a[[0, 2]], b[[0, 2]])         # other subjects untouched


def test_never_sees_a_label():
    """No label argument, and clips are exchangeable: permuting them permutes the output (labels are clip order)."""
    assert list(inspect.signature(Pipeline.transform).parameters) == ["self", "x"]
    x = _x(3)
    perm = np.random.default_rng(0).permutation(x.shape[1])
    np.testing.assert_allclose(DEFAULT.transform(x[:, perm]), DEFAULT.transform(x)[:, perm], atol=1e-5)


def test_train_only_and_none_leave_the_scale_to_the_trainer():
    x = _x(4)
    assert Pipeline("train-only").trainer_normalisation == "train-only"
    assert DEFAULT.trainer_normalisation == "none"
    np.testing.assert_allclose(Pipeline("train-only").transform(x), Pipeline("none").transform(x))
    np.testing.assert_allclose(Pipeline("none", "none").transform(x), x.astype(np.float32))


def test_as_pipeline_and_validation():
    assert as_pipeline(None) is DEFAULT
    assert as_pipeline("train-only") == Pipeline("train-only", "lds-clip")
    assert as_pipeline({"normalisation": "none", "smoothing": "none"}) == Pipeline("none", "none")
    with pytest.raises(ValueError):
        Pipeline("running")
    with pytest.raises(ValueError):
        Pipeline(smoothing="lds-across-clips")
    with pytest.raises(ValueError):
        as_pipeline({"normalisation": "none", "window": 3})
    with pytest.raises(ValueError):
        DEFAULT.transform(np.zeros((3, 4, 5)))


def test_apply_pipeline_caches_and_refuses_a_second_pass(tmp_path):
    from vaxis.eeg.datasets import EEGData

    x = _x(5, (2, 28, 30, 6, 5)).astype(np.float32)
    eeg = EEGData(x=x, kind="de", subject_ids=["sub000", "sub001"], clip_ids=np.arange(1, 29),
                  labels=np.zeros(28, int))
    out = apply_pipeline(eeg, cache_dir=tmp_path)
    assert out.pipeline == DEFAULT.as_dict() and eeg.pipeline is None
    np.testing.assert_allclose(out.x, DEFAULT.transform(x), atol=1e-6)
    assert list((tmp_path / "pipeline").glob("*.npz"))
    again = apply_pipeline(eeg, cache_dir=tmp_path)              # from the cache
    np.testing.assert_array_equal(again.x, out.x)
    with pytest.raises(ValueError, match="already"):
        apply_pipeline(out, cache_dir=tmp_path)
    other = apply_pipeline(dataclasses.replace(eeg, x=x + 1.0), "none", cache_dir=tmp_path)
    assert not np.allclose(other.x, out.x)
