"""evaluate(): the training entry point refuses overlapping splits before training, learns a planted signal
deterministically, and runs every window architecture."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vaxis.decoding.folds import make_manifest
from vaxis.decoding.training import evaluate

SUBS = [f"sub{i:03d}" for i in range(23)]


def test_overlapping_manifest_raises_value_error():
    """A hand-made split that puts a subject in two parts, or in two test folds, is refused with ValueError."""
    from vaxis.decoding.folds import _check_disjoint

    bad = {"train": SUBS[:15], "val": SUBS[15:18], "test": SUBS[14:]}         # sub014 in train and test
    with pytest.raises(ValueError, match="sub014"):
        make_manifest(SUBS, protocol="fixed", splits=bad)
    with pytest.raises(ValueError, match="sub016"):
        make_manifest(SUBS, protocol="fixed", splits={**bad, "train": SUBS[:14], "val": SUBS[14:17],
                                                      "test": SUBS[16:]})       # val and test share 016
    twice = [{"fold": 0, "train": SUBS[3:], "test": SUBS[:3]}, {"fold": 1, "train": SUBS[:2] + SUBS[5:],
                                                                  "test": SUBS[2:5]}]
    with pytest.raises(ValueError, match=r"\['sub002'\] are in two test folds"):
        _check_disjoint(twice, np.array(SUBS))
    with pytest.raises(ValueError, match="'s2'"):                            # before any training starts
        evaluate("mlp", _arrays(), protocol="fixed", splits={"train": ["s0", "s1", "s2"], "val": ["s3"],
                                                             "test": ["s2", "s4"]}, quick=True, progress=False)


def _arrays(n_sub=9, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array([0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 4 + [5] * 3 + [6] * 3 + [7] * 3 + [8] * 3)
    x = rng.normal(size=(n_sub, 28, 30, 6, 5)).astype(np.float32)
    x[:, :, 0, :, 0] += labels[None, :, None] * 0.8
    X = x.transpose(0, 1, 3, 2, 4).reshape(-1, 30, 5)
    y = np.repeat(np.tile(labels, n_sub), 6)
    groups = np.repeat([f"s{i}" for i in range(n_sub)], 28 * 6)
    clips = np.repeat(np.tile(np.arange(1, 29), n_sub), 6)
    return X, y, groups, clips


@pytest.mark.parametrize("norm", ["train-only", "per-subject"])
def test_evaluate_learns_planted_signal_and_is_deterministic(norm):
    data = _arrays()
    kw = dict(seeds=(0, 1), quick=True, normalisation=norm, progress=False, hidden=16, lr=1e-2, batch_size=32)
    df, run = evaluate("mlp", data, **kw)
    df2, _ = evaluate("mlp", data, **kw)
    assert df.equals(df2)
    assert set(df.level) == {"window", "clip"} and len(df) == 2 * 3 * 2
    assert df.query("level == 'clip'").balanced_accuracy.mean() > 0.2      # chance 0.11
    tests = [s for f in run.manifest for s in f["test"]]
    assert sorted(tests) == sorted(set(data[2]))
    r = run.unit_representations(1, 2, every=2)
    assert r["rep"].shape == (9 * 28, 16)                              # every subject x clip unit
    assert set(np.unique(r["category"])) == set(range(9))


def test_evaluate_binary_and_sequence_arch():
    data = _arrays(6)
    df, run = evaluate("tcn", data, task="binary", seeds=(0,), quick=True, progress=False, hidden=8)
    assert run.view.X.ndim == 4 and run.view.n_classes == 2
    assert (df.n[df.level == "clip"] == 2 * 24).all()                 # 2 test subjects x 24 non-neutral clips


@pytest.mark.parametrize("arch", ["linear", "dgcnn", "grid_cnn", "transformer"])
def test_evaluate_runs_every_window_architecture(arch):
    df, run = evaluate(arch, _arrays(6), seeds=(0,), quick=True, progress=False, hidden=8)
    assert len(df) == 3 * 2 and df.balanced_accuracy.between(0, 1).all()
    assert run.model(0, 1).represent(run.view.X[:4]).shape[0] == 4


def test_one_fold_with_dropout_equals_that_fold_of_the_full_call():
    """Dropout masks belong to each model (vaxis.decoding.dropout): fold f trained alone (one sweep job) equals
    fold f of the full seeds x folds stack, whose other models draw their own masks and stop at other epochs."""
    data = _arrays()
    kw = dict(seeds=(0, 1), quick=True, progress=False, hidden=16, lr=1e-2, batch_size=32,
              arch_kwargs={"dropout": 0.3})
    full, run = evaluate("mlp", data, **kw)
    folds = sorted({f["fold"] for f in run.manifest})
    one, one_run = evaluate("mlp", data, folds=[folds[-1]], **kw)
    same = full[full.fold == folds[-1]].reset_index(drop=True)
    pd.testing.assert_frame_equal(one.drop(columns=[c for c in one.columns if "second" in c]).reset_index(drop=True),
                                  same.drop(columns=[c for c in same.columns if "second" in c]), atol=1e-6)
    for s in (0, 1):
        a, b = one_run.model(s, folds[-1]).state_dict(), run.model(s, folds[-1]).state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
