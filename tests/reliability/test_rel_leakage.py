"""Issue 9, leakage guards: subject-disjoint folds, train-only normalisation blind to held-out subjects, the
chapter-4 map fitted without held-out subjects, and no layer / threshold chosen from a benchmark."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@FAST
@given(n=st.integers(2, 40), k=st.integers(2, 12), seed=st.integers(0, 1000), shuffle=st.booleans(),
       dup=st.integers(0, 3))
def test_property_training_folds_subject_disjoint(n, k, seed, shuffle, dup):
    training = pytest.importorskip("vaxis.decoding.folds")
    subs = [f"sub{i:03d}" for i in np.random.default_rng(seed).permutation(n)]
    subs = subs + subs[:dup]  # repeated ids (e.g. one per window) collapse to one subject
    if k > n:
        with pytest.raises(ValueError, match=r"k must be in \[2, "):
            training.subject_folds(subs, k=k)
        return
    folds = training.subject_folds(subs, k=k, seed=seed, shuffle=shuffle)
    tests = [s for f in folds for s in f["test"]]
    assert sorted(tests) == sorted(set(subs)) and len(tests) == n  # every subject held out exactly once
    for f in folds:
        assert not set(f["train"]) & set(f["test"]) and set(f["train"]) | set(f["test"]) == set(subs)
    for f in training.make_manifest(subs, k=k, seed=seed, shuffle=shuffle, val_fraction=0.2):
        tr, va, te = map(set, (f["train"], f["val"], f["test"]))
        assert not (tr & va or tr & te or va & te) and tr | va | te == set(subs)


@FAST
@given(n=st.integers(2, 40), k=st.integers(2, 12))
def test_property_projection_folds_subject_disjoint(n, k):
    from vaxis.decoding.folds import index_folds

    folds = index_folds(n, k)
    flat = np.concatenate(folds)
    assert len(folds) == min(k, n) and sorted(flat.tolist()) == list(range(n))


def _cohort(seed=0, shape=(6, 4, 3, 5, 5)):
    return np.random.default_rng(seed).normal(2.0, 1.0, size=shape)


@pytest.mark.parametrize("held", [[4, 5], [0], [1, 3, 5]])
def test_train_only_normalisation_never_sees_held_out_subjects(held):
    from vaxis.eeg.features import normalise, running_normalise

    x = _cohort()
    train = np.setdiff1d(np.arange(6), held)
    shifted = x.copy()
    shifted[held] = shifted[held] * 1e3 + 1e6  # a huge held-out-only shift
    a = normalise(x, "train-only", train_subjects=train)
    b = normalise(shifted, "train-only", train_subjects=train)
    assert a[train].tobytes() == b[train].tobytes(), "training subjects' values moved: held-out data were used"
    # the held-out subjects are z-scored with the training statistics only (computed independently here)
    mu = x[train].mean(axis=(0, 1, 3), keepdims=True)[0]
    sd = x[train].std(axis=(0, 1, 3), keepdims=True)[0]
    np.testing.assert_allclose(b[held], ((shifted[held] - mu) / (sd + 1e-8)).astype(np.float32), rtol=1e-6)
    # FACED's running normalisation: the prior comes from training subjects only
    ra, rb = running_normalise(x, train_subjects=train), running_normalise(shifted, train_subjects=train)
    assert ra[train].tobytes() == rb[train].tobytes()
    mask = np.isin(np.arange(6), train)
    assert normalise(shifted, "train-only", train_subjects=mask).tobytes() == b.tobytes()


def test_training_evaluate_train_only_stats_ignore_held_out_subjects():
    training = pytest.importorskip("vaxis.decoding.training", reason="vaxis/decoding/training.py not importable yet")
    from types import SimpleNamespace

    rng = np.random.default_rng(0)
    labels = np.arange(9)
    x = rng.normal(size=(6, 9, 4, 2, 5)).astype(np.float32)
    mk = lambda arr: SimpleNamespace(x=arr, labels=labels, subject_ids=[f"sub{i:03d}" for i in range(6)],  # noqa
                                     clip_ids=np.arange(1, 10))
    kw = dict(seeds=(0,), k=3, epochs=1, steps_per_epoch=1, batch_size=8, hidden=4, device="cpu", progress=False,
              val_fraction=0.0)
    _, run = training.evaluate("linear", mk(x), **kw)
    fold0 = run.manifest[0]
    held = [int(s[3:]) for s in fold0["test"]]
    shifted = x.copy()
    shifted[held] += 1e4
    _, run2 = training.evaluate("linear", mk(shifted), **kw)
    m = run._m(0, 0)
    assert run.mu[m].numpy().tobytes() == run2.mu[m].numpy().tobytes()
    assert run.sd[m].numpy().tobytes() == run2.sd[m].numpy().tobytes()
    tr = [int(s[3:]) for s in fold0["train"]]
    np.testing.assert_allclose(run.mu[m].numpy(), x[tr].mean(axis=(0, 1, 3)), rtol=1e-4, atol=1e-5)


def test_chapter4_map_is_fitted_without_held_out_subjects():
    """Plant a feature that encodes each clip's position in the held-out subjects only: the map cannot use it."""
    from sklearn.linear_model import Ridge

    from vaxis.claims.projection.maps import evaluate_projection

    rng = np.random.default_rng(0)
    n_s, n_c, n_f = 8, 18, 6
    cats = np.repeat(np.arange(9), 2)
    pos = np.linspace(-1, 1, 9)
    feats = rng.normal(size=(n_s, n_c, n_f))
    held = [0, 1]  # fold 0 of 4 contiguous folds
    feats[held, :, 0] = 50 * pos[cats]  # the planted held-out-only signal
    res = evaluate_projection(feats, cats, pos, n_perm=0, n_folds=4, n_inner=3, seed=0)
    assert res["folds"][0] == held
    alpha = res["alphas"][0]
    # fold-0 predictions equal a ridge fitted on the other subjects only (scikit-learn, the chosen alpha) ...
    train = np.setdiff1d(np.arange(n_s), held)
    ref = Ridge(alpha=alpha).fit(feats[train].reshape(-1, n_f), np.tile(pos[cats], len(train)))
    np.testing.assert_allclose(res["pred"][held], ref.predict(feats[held].reshape(-1, n_f)).reshape(2, n_c),
                               rtol=1e-6, atol=1e-8)
    # ... and not the leaky fit that also saw the held-out rows (which learns the planted feature)
    leaky = Ridge(alpha=alpha).fit(feats.reshape(-1, n_f), np.tile(pos[cats], n_s))
    assert not np.allclose(res["pred"][held], leaky.predict(feats[held].reshape(-1, n_f)).reshape(2, n_c), atol=1e-3)


def test_rating_projection_fitted_without_held_out_subjects():
    from vaxis.claims.projection.maps import rating_projection

    rng = np.random.default_rng(1)
    feats, ratings = rng.normal(size=(6, 12, 4)), rng.normal(size=(6, 12))
    ratings2 = ratings.copy()
    ratings2[:2] = 100 * feats[:2, :, 0]  # fold 0's own ratings now equal one of their features
    a = rating_projection(feats, ratings, n_folds=3, n_inner=2)
    b = rating_projection(feats, ratings2, n_folds=3, n_inner=2)
    # the held-out subjects' ratings never reach their own predictions ...
    assert a["pred"][:2].tobytes() == b["pred"][:2].tobytes()
    # ... while they do change the other folds' predictions, where those subjects are training data
    assert not np.array_equal(a["pred"][2:], b["pred"][2:])


def test_layer_rule_takes_only_the_nine_sentences():
    from vaxis.text import axis
    from vaxis.text.sentences import SIGNS

    for fn in (axis.choose_layer, axis.layer_curve, axis.partition_null):
        params = set(inspect.signature(fn).parameters)
        assert params <= {"hidden", "signs", "method", "tol", "curve"}, (fn.__name__, params)
    rng = np.random.default_rng(0)
    n_layers, hid = 6, 16
    hidden = rng.normal(size=(n_layers, 9, hid))
    hidden[3] += 3.0 * np.asarray(SIGNS)[:, None] * rng.normal(size=hid)  # layer 3 carries the valence split
    layer = axis.choose_layer(hidden, SIGNS)
    assert layer == 3
    # "benchmark-looking" texts appended to the nine (noise that would favour another layer) are refused, not used
    bench = rng.normal(size=(n_layers, 50, hid))
    bench[5] += 10.0
    with pytest.raises(ValueError, match=r"\(n_layers, 9, hidden\).*\(6, 59, 16\)"):
        axis.choose_layer(np.concatenate([hidden, bench], axis=1), SIGNS)
    # ...and the chosen layer depends on the nine sentences' states only
    assert axis.choose_layer(hidden.copy(), SIGNS) == layer


def test_zero_shot_threshold_and_layer_come_from_the_nine_sentences():
    zeroshot = pytest.importorskip("vaxis.text.zeroshot")
    src = inspect.getsource(zeroshot)
    assert "choose_layer(" in src or "anchor_states(" in src  # anchor_states -> layer_rule -> choose_layer
    params = set(inspect.signature(zeroshot.fit_axis).parameters)
    # the nine sentences, their layer, and the unlabelled reference texts (standardisation): nothing else
    assert params == {"anchor_hidden", "signs", "layer", "method", "reference"}
    rng = np.random.default_rng(2)
    anchor = rng.normal(size=(4, 9, 8))
    from vaxis.text.axis import VAxis
    from vaxis.text.sentences import SIGNS

    ax = zeroshot.fit_axis(anchor, np.asarray(SIGNS), layer=2)
    ref = VAxis(layer=2).fit(anchor, SIGNS)
    thr = getattr(ax, "neutral_", None)
    assert thr == ref.neutral_  # the accuracy threshold is the neutral sentence's own position
