"""DE + linear SVM baseline: same optimum as scikit-learn's LinearSVC; C never chosen on test subjects."""

from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC

from vaxis.decoding.baselines import fit_linear_svm, leaky_reproduction, svm_baseline, svm_decision, svm_fold

LABELS = np.array([0] * 3 + [1] * 3 + [2] * 3 + [3] * 3 + [4] * 4 + [5] * 3 + [6] * 3 + [7] * 3 + [8] * 3)


def _cohort(n_sub=8, seed=0, amp=0.6):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_sub, 28, 6, 5, 5)) + 3.0
    x[:, :, 0, :, 0] += amp * LABELS[None, :, None]
    x[:, :, 1, :, 2] += amp * (LABELS[None, :, None] > 4)
    return x.astype(np.float32), [f"sub{i:03d}" for i in range(n_sub)]


def test_svm_matches_sklearn_linearsvc():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 6))
    y = rng.integers(0, 3, 400)
    X[:, 0] += y
    W = fit_linear_svm(X, y, [0.01, 0.1], 3, max_iter=2000, tol=1e-10)
    for i, C in enumerate([0.01, 0.1]):
        sk = LinearSVC(C=C, dual=False, tol=1e-8, intercept_scaling=1e3).fit(X, y)
        assert np.allclose(W[i, :, :-1].numpy(), sk.coef_, atol=1e-3)
        assert np.mean(svm_decision(W, X)[i].argmax(1) == sk.predict(X)) > 0.99


def test_c_is_chosen_without_test_subjects():
    x, _ = _cohort()
    train, test = np.arange(6), np.array([6, 7])
    a = svm_fold(x, LABELS, np.arange(28), train, test, 9, seed=0)
    scrambled = x.copy()
    rng = np.random.default_rng(1)
    scrambled[test] = rng.normal(size=scrambled[test].shape) * 50           # test subjects replaced by noise
    b = svm_fold(scrambled, LABELS, np.arange(28), train, test, 9, seed=0)
    assert a["C"] == b["C"] and a["inner"] == b["inner"]
    assert a["metrics"]["window"]["balanced_accuracy"] != b["metrics"]["window"]["balanced_accuracy"]


def test_baseline_learns_and_names_its_protocol():
    x, subs = _cohort()
    for task, chance in (("9class", 1 / 9), ("binary", 0.5)):
        for norm, sm in ((("per-subject", "none"),) if task == "binary" else (("train-only", "lds-clip"),)):
            df = svm_baseline(x, LABELS, subs, task=task, normalisation=norm, smoothing=sm, k=3, every=2)
            assert len(df) == 6 and set(df.fold) == {0, 1, 2}
            assert df.query("level == 'window'").balanced_accuracy.mean() > chance + 0.1
            assert (df.pipeline == "ours (leakage-free)").all() and (df.normalisation == norm).all()
    leaky = leaky_reproduction(x, LABELS, subs, k=3)
    assert (leaky.pipeline == "leaky reproduction").all()
    assert (df.query("level == 'clip'").n.isin([2 * 24, 3 * 24])).all()       # test subjects x 24 clips (binary)


def test_explicit_folds_equal_kfold_and_overlap_is_refused():
    """``folds=`` (e.g. a manifest with validation subjects) trains on train + val and pairs with those folds."""
    import pytest

    from vaxis.decoding.folds import make_manifest

    x, subs = _cohort()
    ref = svm_baseline(x, LABELS, subs, task="binary", normalisation="train-only", k=4, every=2)
    man = make_manifest(subs, "kfold", k=4, val_fraction=0.25)
    got = svm_baseline(x, LABELS, subs, task="binary", normalisation="train-only", every=2, folds=man)
    cols = ["fold", "level", "balanced_accuracy", "C"]
    assert ref[cols].equals(got[cols])
    fixed = make_manifest(subs, "fixed", splits={"train": subs[:5], "val": subs[5:6], "test": subs[6:]})
    one = svm_baseline(x, LABELS, subs, task="binary", normalisation="train-only", every=2, folds=fixed)
    assert set(one.fold) == {0} and len(one) == 2
    bad = [{"fold": 0, "train": subs[:6], "val": [], "test": subs[5:]}]
    with pytest.raises(ValueError, match="both the training and the test"):
        svm_baseline(x, LABELS, subs, task="binary", every=2, folds=bad)


def _prepared(monkeypatch, x, subs, normalisation, folds):
    """The feature array each fold of ``svm_baseline`` hands to its SVM (svm_fold intercepted), by test subjects."""
    import vaxis.decoding.baselines as B

    seen = {}

    def spy(xf, y_clip, keep_clips, train, test, *args, **kwargs):
        seen[tuple(test)] = np.array(xf, dtype=np.float64, copy=True)
        return {"C": 1.0, "inner": {}, "metrics": {}, "subject_ba": [0.0] * len(test)}

    monkeypatch.setattr(B, "svm_fold", spy)
    svm_baseline(x, LABELS, subs, task="binary", normalisation=normalisation, smoothing="lds-clip", folds=folds)
    return seen


def _affine_residual(a: np.ndarray, b: np.ndarray) -> float:
    """Largest residual of ``b ~ slope * a + offset`` fitted per (channel, band); a, b shape (n, C, W, B)."""
    a2 = a.transpose(1, 3, 0, 2).reshape(a.shape[1] * a.shape[3], -1)
    b2 = b.transpose(1, 3, 0, 2).reshape(a2.shape)
    worst = 0.0
    for u, v in zip(a2, b2):
        coef = np.polyfit(u, v, 1)
        worst = max(worst, float(np.abs(np.polyval(coef, u) - v).max()))
    return worst


def test_leakage_free_lds_never_carries_one_clip_into_another(monkeypatch):
    """The baseline's own pipeline (what its SVM is fed): changing one clip of one subject changes that clip's
    smoothed values and, in other clips, nothing but what that subject's own re-standardisation explains. Smoothing
    across clips (``restart_at_clip=False``) fails it.

    per-subject (LDS, then the subject's z-score): clip 10 of subject 7 (a steep ramp) is played backwards; the
    subject's other clips may only move by one affine map per channel x band (its new mean / SD), other subjects
    not at all. train-only: a spike in that clip, subject 7 held out (training statistics untouched): no other clip
    moves at all."""
    x, subs = _cohort()
    x = x.astype(np.float64)
    x[7, 10] += np.linspace(-20, 20, 5)[None, :, None]                      # a ramp over the clip's 5 windows
    folds = [{"fold": 0, "train": subs[:6], "test": subs[6:]}, {"fold": 1, "train": subs[2:], "test": subs[:2]}]
    others = np.delete(np.arange(28), 10)
    for norm in ("per-subject", "train-only"):
        changed = x.copy()
        if norm == "per-subject":
            changed[7, 10] = changed[7, 10][:, ::-1]
        else:
            changed[7, 10, :, 2] += 50.0
        a = _prepared(monkeypatch, x, subs, norm, folds)
        b = _prepared(monkeypatch, changed, subs, norm, folds)
        for test in ([6, 7], [0, 1]) if norm == "per-subject" else ([6, 7],):
            fa, fb = a[tuple(test)], b[tuple(test)]
            assert np.abs(fa[7, 10] - fb[7, 10]).max() > 1e-3                  # the changed clip itself moved
            assert np.abs(np.delete(fa, 7, 0) - np.delete(fb, 7, 0)).max() < 1e-6, f"{norm}: another subject moved"
            if norm == "per-subject":
                assert _affine_residual(fa[7, others], fb[7, others]) < 1e-5, "a neighbouring clip moved"
            else:
                assert np.abs(fa[7, others] - fb[7, others]).max() < 1e-6, "a neighbouring clip moved"
        # and the SVM's features really are smoothed: windows of a clip vary far less than the features overall
        feats = a[(6, 7)]
        assert feats.std(axis=3).mean() < 0.2 * feats.std(axis=(1, 3)).mean()
