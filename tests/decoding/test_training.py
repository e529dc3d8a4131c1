"""Subject-disjoint folds, metrics vs scikit-learn, stacked == sequential training, determinism, evaluate()."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, f1_score

from vaxis.decoding.decoders import build
from vaxis.decoding.folds import make_manifest, subject_folds
from vaxis.decoding.metrics import balanced_accuracy, macro_f1, metrics
from vaxis.decoding.stacking import StackConfig, train_sequential, train_stacked
from vaxis.decoding.training import evaluate

SUBS = [f"sub{i:03d}" for i in range(23)]


@pytest.mark.parametrize("k,shuffle,seed", [(2, False, 0), (5, True, 1), (10, False, 0), (23, True, 7)])
def test_folds_are_subject_disjoint_and_cover(k, shuffle, seed):
    folds = subject_folds(SUBS[::-1], k=k, seed=seed, shuffle=shuffle)
    tests = [s for f in folds for s in f["test"]]
    assert sorted(tests) == SUBS                                   # every subject tested exactly once
    for f in folds:
        assert not set(f["train"]) & set(f["test"])
        assert set(f["train"]) | set(f["test"]) == set(SUBS)
    man = make_manifest(SUBS, k=k, seed=seed, shuffle=shuffle, val_fraction=0.2)
    for f in man:
        parts = [set(f[p]) for p in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert parts[1] and parts[0] | parts[1] | parts[2] == set(SUBS)


def test_contiguous_folds_are_blocks_and_fixed_protocol():
    folds = subject_folds(SUBS, k=3)
    assert folds[0]["test"] == SUBS[:8] and folds[2]["test"] == SUBS[16:]
    with pytest.raises(ValueError):
        make_manifest(SUBS, protocol="fixed")
    full = [f"sub{i:03d}" for i in range(123)]
    (f,) = make_manifest(full, protocol="fixed")
    assert f["train"] == full[:80] and f["val"] == full[80:100] and f["test"] == full[100:]


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 9, 300)
        p = np.where(rng.random(300) < 0.4, y, rng.integers(0, 9, 300))
        p[p == 3] = 4                                              # a class never predicted
        assert balanced_accuracy(y, p, 9) == pytest.approx(balanced_accuracy_score(y, p))
        assert macro_f1(y, p, 9) == pytest.approx(f1_score(y, p, average="macro"))


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_metrics_skip_classes_absent_from_y():
    """Balanced accuracy averages recall over the classes present in ``y`` only, even with ``n_classes`` given."""
    y = np.array([0, 0, 0, 1, 1, 2, 2, 2])                       # classes 3..8 never occur
    p = np.array([0, 0, 1, 1, 1, 2, 0, 5])                       # class 5 predicted but absent from y
    # recalls by hand: class 0 2/3, class 1 2/2, class 2 1/3 -> (2/3 + 1 + 1/3) / 3 = 2/3
    assert balanced_accuracy(y, p, 9) == pytest.approx(2 / 3)
    assert balanced_accuracy(y, p, 9) == pytest.approx(balanced_accuracy_score(y, p))
    # F1 by hand: class 0 tp 2 (support 3, predicted 3) 2/3; class 1 tp 2 (2, 3) 4/5; class 2 tp 1 (3, 1) 1/2;
    # class 5 tp 0 (0, 1) 0 -> macro over the 4 classes in y or p
    assert macro_f1(y, p, 9) == pytest.approx((2 / 3 + 4 / 5 + 1 / 2 + 0) / 4)
    assert macro_f1(y, p, 9) == pytest.approx(f1_score(y, p, average="macro"))
    rng = np.random.default_rng(3)
    for _ in range(20):                                          # random subsets of the 9 classes
        present = rng.choice(9, rng.integers(1, 9), replace=False)
        yy = rng.choice(present, 200)
        pp = np.where(rng.random(200) < 0.5, yy, rng.integers(0, 9, 200))
        assert balanced_accuracy(yy, pp, 9) == pytest.approx(balanced_accuracy_score(yy, pp))
        assert macro_f1(yy, pp, 9) == pytest.approx(f1_score(yy, pp, average="macro"))
        logp = np.log(np.eye(9)[pp] * 0.9 + 0.1 / 9)             # metrics() passes n_classes = logp.shape[1]
        assert metrics(yy, logp)["window"]["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(yy, pp))
    # without n_classes the class count comes from the labels and predictions themselves (mutation testing found
    # no test reaching that default)
    assert balanced_accuracy(y, p) == pytest.approx(2 / 3) and macro_f1(y, p) == pytest.approx(f1_score(y, p,
                                                                                                   average="macro"))


def test_shuffled_folds_follow_the_seed():
    """``shuffle=True``: one seed gives the same folds every time, two seeds different ones, and neither is the
    contiguous split; ``shuffle=False`` ignores the seed. The manifest inherits the same test folds."""
    tests = lambda folds: [f["test"] for f in folds]  # noqa: E731
    contiguous = tests(subject_folds(SUBS, k=5))
    assert contiguous == [SUBS[0:5], SUBS[5:10], SUBS[10:15], SUBS[15:19], SUBS[19:23]]   # array_split of 23
    assert tests(subject_folds(SUBS, k=5, seed=9)) == contiguous
    a, a2 = tests(subject_folds(SUBS, k=5, seed=1, shuffle=True)), tests(subject_folds(SUBS, k=5, seed=1, shuffle=True))
    b = tests(subject_folds(SUBS[::-1], k=5, seed=2, shuffle=True))
    assert a == a2 and a != b and contiguous not in (a, b)
    assert [len(t) for t in a] == [5, 5, 5, 4, 4]
    man = lambda seed, shuffle: tests(make_manifest(SUBS, k=5, seed=seed, shuffle=shuffle))  # noqa: E731
    assert man(1, True) == a and man(2, True) == b and man(1, False) == contiguous
    # 20 seeds: the first test fold takes many different forms (a seed that is ignored gives one)
    assert len({tuple(tests(subject_folds(SUBS, k=5, seed=s, shuffle=True))[0]) for s in range(20)}) == 20


def test_repeated_manifest_by_its_documented_rules():
    """``repeats``: repeat 0 is the plain split, each later repeat a fresh seeded shuffle; every repeat tests every
    subject once; fold ids are global (r * k + i); validation subjects come from the fold's training subjects."""
    man = make_manifest(SUBS, k=5, repeats=3, val_fraction=0.2)
    assert [f["fold"] for f in man] == list(range(15))
    assert [(f["repeat"], f["fold_in_repeat"]) for f in man] == [(r, i) for r in range(3) for i in range(5)]
    tests = {r: [f["test"] for f in man if f["repeat"] == r] for r in range(3)}
    assert tests[0] == [f["test"] for f in subject_folds(SUBS, k=5)]                 # contiguous, as k-fold
    assert tests[1] == [f["test"] for f in subject_folds(SUBS, k=5, seed=1000, shuffle=True)]
    assert tests[2] == [f["test"] for f in subject_folds(SUBS, k=5, seed=2000, shuffle=True)]
    assert len({str(t) for t in tests.values()}) == 3                                  # three different splits
    for f in man:
        assert sorted(f["train"] + f["val"] + f["test"]) == SUBS and len(f["val"]) == 4   # round(0.2 * 18)
        assert not set(f["val"]) & set(f["test"])
    assert make_manifest(SUBS, k=5, repeats=1) == make_manifest(SUBS, k=5)
    assert make_manifest(SUBS, k=5, val_fraction=0.0)[0]["val"] == []
    for bad in ({"repeats": 0}, {"protocol": "fixed", "repeats": 2, "splits": {"train": SUBS[:20], "val": [],
                                                                             "test": SUBS[20:]}},
                {"protocol": "loso"}):
        with pytest.raises(ValueError):
            make_manifest(SUBS, k=5, **bad)


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


def test_no_assert_statements_guard_the_package():
    """``python -O`` strips ``assert``: no check in vaxis/ may rely on one (leakage guards raise ValueError)."""
    import ast
    from pathlib import Path

    import vaxis

    found = [f"{path.name}:{node.lineno}" for path in sorted(Path(vaxis.__file__).parent.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.Assert)]
    assert found == []


@pytest.mark.slow
def test_overlap_check_survives_python_dash_o():
    """The same refusal under ``python -O`` (asserts stripped), in a subprocess (slow: it imports torch)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("from vaxis.decoding.training import make_manifest\n"
        "subs = [f'sub{i:03d}' for i in range(8)]\n"
        "try:\n"
        "    make_manifest(subs, protocol='fixed', splits={'train': subs[:5], 'val': subs[5:6], 'test': subs[4:]})\n"
        "except ValueError as e:\n"
        "    print('REFUSED', e)\n"
        "else:\n"
        "    print('ACCEPTED')\n"
        "assert False, 'asserts are live'\n"
        "print('OPTIMISED')\n")
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-O", "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "OPTIMISED" in out.stdout                                   # asserts really were stripped
    assert "REFUSED" in out.stdout and "sub004" in out.stdout, out.stdout


def test_clip_level_sums_window_log_probs():
    logp = np.log(np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]]))
    out = metrics(np.array([0, 0, 1, 1]), logp, units=np.array([0, 0, 1, 1]))
    # unit 0: 0.9*0.2=0.18 vs 0.1*0.8=0.08 -> class 0 (right); unit 1: 0.18 vs 0.28 -> class 1 (right)
    assert out["clip"]["accuracy"] == 1.0 and out["window"]["accuracy"] == 0.5


def _toy(n=1200, seed=0):
    """Signal in rows < 800 only: validation rows drawn above 800 make the val loss rise -> early stops."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 30, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 9, (n,), generator=g)
    X[:800, 0, 0] += 0.6 * y[:800]
    X[800:, 0, 0] += 0.6 * y[800:].flip(0)
    return X, y


@pytest.mark.parametrize("arch", ["mlp", "dgcnn", "transformer"])
def test_stacked_equals_sequential(arch):
    X, y = _toy()
    tr = [np.arange(0, 800), np.arange(100, 700), np.arange(0, 500)]
    va = [np.arange(800, 1000), np.arange(900, 1200), np.arange(700, 1100)]
    mu = torch.stack([X[t].mean(0) for t in tr])
    sd = torch.stack([X[t].std(0) for t in tr])
    cfg = StackConfig(epochs=8, batch_size=64, lr=1e-2, patience=2, weight_decay=1e-4)
    make = lambda m: build(arch, 30, 5, 9, hidden=16, seed=10 + m).double()  # noqa: E731
    res = train_stacked(make, 3, X, y, tr, va, [1, 2, 3], cfg, mu=mu, sd=sd)
    for m in range(3):
        ref, tl, vl = train_sequential(make(m), X, y, tr[m], va[m], seed=m + 1, config=cfg, mu=mu[m], sd=sd[m])
        n = len(tl)
        assert np.allclose(res.train_loss[m, :n], tl, rtol=1e-9, atol=1e-10)
        assert np.allclose(res.val_loss[m, :n], vl, rtol=1e-9, atol=1e-10)
        assert np.isnan(res.train_loss[m, n:]).all()               # frozen once its patience ran out
        a, b = res.model(m).state_dict(), ref.state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-9) for k in a)
    assert (res.stopped_epoch < cfg.epochs - 1).any()                # early stopping was exercised


def test_mixed_precision_is_off_on_cpu_by_default_and_close_when_forced():
    """amp="auto" leaves CPU training float32 (bit-identical to amp=False); amp=True (bfloat16 autocast) trains
    the same models to nearly the same losses, with float32 weights."""
    X, y = _toy()
    X = X.float()
    tr, va = [np.arange(0, 800)] * 2, [np.arange(800, 1000)] * 2
    make = lambda m: build("mlp", 30, 5, 9, hidden=16, seed=10 + m)  # noqa: E731
    runs = {amp: train_stacked(make, 2, X, y, tr, va, [1, 2], StackConfig(epochs=4, batch_size=64, lr=1e-2, amp=amp))
            for amp in ("auto", False, True)}
    assert np.array_equal(runs["auto"].train_loss, runs[False].train_loss)
    assert all(torch.equal(runs["auto"].params[k], runs[False].params[k]) for k in runs[False].params)
    assert not np.array_equal(runs[True].train_loss, runs[False].train_loss)       # autocast did run
    assert np.allclose(runs[True].train_loss, runs[False].train_loss, rtol=0.05, equal_nan=True)
    assert all(v.dtype == torch.float32 for v in runs[True].params.values())


def test_loss_fn_hook_is_called_per_model_and_changes_training():
    X, y = _toy(600)
    tr, va = [np.arange(400)] * 2, [np.arange(400, 600)] * 2
    cfg = StackConfig(epochs=2, batch_size=100)
    make = lambda m: build("mlp", 30, 5, 9, hidden=8, seed=0).double()  # noqa: E731
    seen = []

    def extra(rep, logits, yb, clip, m):
        seen.append(m)
        return 5.0 * m * rep.pow(2).mean()

    res = train_stacked(make, 2, X, y, tr, va, [0, 0], cfg, loss_fn=extra)
    assert set(seen) == {0, 1}
    a, b = res.model(0).state_dict(), res.model(1).state_dict()
    assert not torch.allclose(a["fc2.weight"], b["fc2.weight"])    # only model 1 felt the extra term


def test_undefined_loss_on_padding_batches_never_reaches_a_model():
    """A model whose epoch is shorter is fed padding batches (one repeated sample) while masked; a loss term that
    is undefined there (NaN, like a correlation over one sample) must not touch its weights or loss history."""
    X, y = _toy(600)
    tr, va = [np.arange(400), np.arange(100)], [np.arange(400, 600)] * 2   # model 1: 1 step an epoch, model 0: 4
    make = lambda m: build("mlp", 30, 5, 9, hidden=8, seed=m).double()  # noqa: E731
    cfg = StackConfig(epochs=3, batch_size=100, lr=1e-2)

    def nan_on_one_sample(rep, logits, yb, clip, m):      # defined on real batches, NaN on a padding batch
        return 0.1 * rep.pow(2).mean() if yb.unique().numel() > 1 else rep.sum() * float("nan")

    def plain(rep, logits, yb, clip, m):
        return 0.1 * rep.pow(2).mean()

    bad = train_stacked(make, 2, X, y, tr, va, [3, 4], cfg, loss_fn=nan_on_one_sample)
    good = train_stacked(make, 2, X, y, tr, va, [3, 4], cfg, loss_fn=plain)
    assert all(torch.isfinite(v).all() for v in bad.params.values())
    assert np.isfinite(bad.train_loss).all()
    assert all(torch.equal(bad.params[k], good.params[k]) for k in good.params)


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
