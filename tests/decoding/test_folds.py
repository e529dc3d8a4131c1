"""The fold design: clip folds, the cross-stimulus manifest, leakage guards, and what each protocol can detect."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.decoding.baselines import svm_baseline
from vaxis.decoding.folds import (
    LeakageError,
    clip_labels,
    fold_indices,
    make_manifest,
    protocol_name,
    subject_folds,
)
from vaxis.decoding.training import evaluate
from vaxis.decoding.training_data import prepare
from vaxis.eeg.faced import FACED_LABELS, clip_folds

SUBS = [f"sub{i:03d}" for i in range(12)]


def test_clip_folds_hold_one_clip_of_every_category():
    folds = clip_folds(FACED_LABELS)
    assert [len(f) for f in folds] == [10, 9, 9]                     # neutral's fourth clip (16) joins fold 0
    assert folds[0] == [1, 4, 7, 10, 13, 16, 17, 20, 23, 26]
    assert sorted(sum(folds, [])) == list(range(1, 29))
    for f in folds:
        cats = FACED_LABELS[np.asarray(f) - 1]
        assert set(cats.tolist()) == set(range(9))                   # every category, on a clip of its own
    with pytest.raises(ValueError, match="at least 3"):
        clip_folds(np.array([0, 0, 1, 1, 1, 1]))


def test_cross_stimulus_manifest_crosses_subject_and_clip_folds():
    seen = make_manifest(SUBS, k=4, repeats=2)
    man = make_manifest(SUBS, k=4, repeats=2, stimulus="unseen")
    assert len(man) == 3 * len(seen) and [f["fold"] for f in man] == list(range(len(man)))
    assert all("test_clips" not in f for f in seen)
    for f in man:
        base = seen[f["repeat"] * 4 + f["subject_fold"]]
        assert f["test"] == base["test"] and f["train"] == base["train"]
        assert f["test_clips"] == clip_folds(FACED_LABELS)[f["clip_fold"]]
    # every subject x clip is tested exactly once per repeat
    for r in (0, 1):
        units = [(s, c) for f in man if f["repeat"] == r for s in f["test"] for c in f["test_clips"]]
        assert len(units) == len(set(units)) == len(SUBS) * 28
    assert protocol_name("unseen") == "cross-stimulus" and protocol_name("seen") == "cross-subject"
    with pytest.raises(ValueError, match="stimulus"):
        make_manifest(SUBS, k=4, stimulus="held-out")


def test_fold_indices_never_train_on_a_test_subject_or_a_test_clip():
    groups = np.repeat(np.arange(len(SUBS)), 28)
    clips = np.tile(np.arange(1, 29), len(SUBS))
    pos = {s: i for i, s in enumerate(SUBS)}
    for f in make_manifest(SUBS, k=3, stimulus="unseen"):
        ix = fold_indices(f, groups, clips, pos)
        held = set(f["test_clips"])
        assert not held & set(clips[ix["train"]].tolist()) and not held & set(clips[ix["val"]].tolist())
        assert set(clips[ix["test"]].tolist()) == held
        assert not set(groups[ix["test"]]) & set(groups[ix["train"]])
        assert len(ix["train"]) == len(f["train"]) * (28 - len(held))
    bad = {"fold": 0, "train": SUBS[:6], "val": [], "test": SUBS[5:]}
    with pytest.raises(LeakageError, match="test subject"):
        fold_indices(bad, groups, clips, pos)


def _cohort(kind: str, n_sub: int = 12, seed: int = 0, amp: float = 1.2) -> np.ndarray:
    """(S, 28, C, W, B) DE-like arrays with a planted signal: ``"clip"`` gives every clip its own random signature
    (no signal shared by a category's clips), ``"emotion"`` one signature per category, shared by its clips."""
    rng = np.random.default_rng(seed)
    C, W, B = 8, 6, 3
    x = rng.normal(size=(n_sub, 28, C, W, B))
    if kind == "clip":
        sig = rng.normal(size=(28, C, 1, B))
    else:
        sig = rng.normal(size=(9, C, 1, B))[FACED_LABELS]
    return (x + amp * sig[None]).astype(np.float32)


@pytest.mark.parametrize("kind", ["clip", "emotion"])
def test_cross_stimulus_falls_to_chance_on_clip_identity_but_not_on_emotion(kind):
    """A clip-identity signal scores on the same clips but is at chance on unseen clips; an emotion signal holds."""
    x = _cohort(kind)
    ba = {}
    for stim in ("seen", "unseen"):
        folds = make_manifest(SUBS, k=3, stimulus=stim, val_fraction=0.0)
        df = svm_baseline(x, FACED_LABELS, SUBS, pipeline="none", folds=folds, every=2)
        assert (df.stimulus == stim).all()
        ba[stim] = df.query("level == 'window'").balanced_accuracy.mean()
    assert ba["seen"] > 0.5                                          # chance 1/9
    if kind == "clip":
        assert abs(ba["unseen"] - 1 / 9) < 0.06, ba
    else:
        assert ba["unseen"] > 0.5, ba


def test_evaluate_cross_stimulus_tests_only_held_out_clips():
    x = _cohort("emotion", n_sub=9)
    data = type("D", (), {"x": x, "labels": FACED_LABELS, "subject_ids": SUBS[:9],
                          "clip_ids": np.arange(1, 29)})()
    labels, cids = clip_labels(prepare(data, task="9class"))
    assert labels == FACED_LABELS.tolist() and cids == list(range(1, 29))
    df, run = evaluate("mlp", data, stimulus="unseen", k=3, seeds=[0], quick=True, progress=False, device="cpu")
    assert len(run.manifest) == 9 and (df.stimulus == "unseen").all()
    win = df[df.level == "window"]
    held = {f["fold"]: len(f["test_clips"]) for f in run.manifest}
    # 3 test subjects x the fold's held-out clips x 6 windows each
    assert (win.n == [3 * held[f] * 6 for f in win.fold]).all()
    assert win.balanced_accuracy.mean() > 0.3


# ---------------------------------------------------------------- FoldDesign: the fold design, its defaults once
def chapter_parameters(stem: str) -> dict:
    """The literal values of a chapter's ``parameters`` cell (``notebooks/<stem>*.py``)."""
    import ast
    from pathlib import Path

    src = next((Path(__file__).resolve().parents[2] / "notebooks").glob(f"{stem}*.py")).read_text()
    cell = src.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    out = {}
    for n in ast.parse(cell).body:
        if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name):
            try:
                out[n.targets[0].id] = ast.literal_eval(n.value)
            except ValueError:                      # a computed default (not a literal): not a design value
                pass
    return out


#: chapters whose parameters cell holds a fold design
DESIGN_CHAPTERS = ("04", "05", "06", "07", "08", "study_stimulus")


@pytest.mark.parametrize("stem", DESIGN_CHAPTERS)
def test_chapters_fold_parameters_default_to_the_fold_design(stem):
    """Every chapter's ``n_folds`` / ``protocol`` / ``splits`` default is FoldDesign's (one place); ``repeats`` is a
    chapter's power choice (chapters 6-8 run 2) and ``seed`` a chapter's seed, so they are not compared; chapter 8's
    ``protocol=None`` means "fixed on all 123 FACED subjects, else kfold"."""
    import dataclasses

    from vaxis.decoding.folds import FoldDesign

    params, default = chapter_parameters(stem), FoldDesign()
    assert params["n_folds"] == default.n_folds
    for name in ("protocol", "splits"):
        if name in params and not (name == "protocol" and params[name] is None):
            assert params[name] == getattr(default, name), (stem, name)
    assert {f.name for f in dataclasses.fields(FoldDesign)} == {"protocol", "n_folds", "repeats", "splits", "fold_seed",
                                                                 "val_fraction", "stimulus"}


def test_fold_design_is_make_manifest_with_its_fields():
    from vaxis.decoding.folds import FoldDesign

    subs = [f"sub{i:03d}" for i in range(12)]
    d = FoldDesign(n_folds=4, repeats=2, fold_seed=3, val_fraction=0.2)
    assert d.manifest(subs) == make_manifest(subs, "kfold", k=4, seed=3, val_fraction=0.2, repeats=2)
    x = FoldDesign(n_folds=3, stimulus="unseen")
    assert x.manifest(subs) == make_manifest(subs, k=3, stimulus="unseen")
    assert FoldDesign().manifest(subs + subs) == make_manifest(subs, k=10)
    for bad in ({"protocol": "loso"}, {"n_folds": 1}, {"repeats": 0}, {"val_fraction": 1.0}, {"stimulus": "other"}):
        with pytest.raises(ValueError):
            FoldDesign(**bad)


SUBS23 = [f"sub{i:03d}" for i in range(23)]


@pytest.mark.parametrize("k,shuffle,seed", [(2, False, 0), (5, True, 1), (10, False, 0), (23, True, 7)])
def test_folds_are_subject_disjoint_and_cover(k, shuffle, seed):
    folds = subject_folds(SUBS23[::-1], k=k, seed=seed, shuffle=shuffle)
    tests = [s for f in folds for s in f["test"]]
    assert sorted(tests) == SUBS23                                   # every subject tested exactly once
    for f in folds:
        assert not set(f["train"]) & set(f["test"])
        assert set(f["train"]) | set(f["test"]) == set(SUBS23)
    man = make_manifest(SUBS23, k=k, seed=seed, shuffle=shuffle, val_fraction=0.2)
    for f in man:
        parts = [set(f[p]) for p in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
        assert parts[1] and parts[0] | parts[1] | parts[2] == set(SUBS23)


def test_contiguous_folds_are_blocks_and_fixed_protocol():
    folds = subject_folds(SUBS23, k=3)
    assert folds[0]["test"] == SUBS23[:8] and folds[2]["test"] == SUBS23[16:]
    with pytest.raises(ValueError):
        make_manifest(SUBS23, protocol="fixed")
    full = [f"sub{i:03d}" for i in range(123)]
    (f,) = make_manifest(full, protocol="fixed")
    assert f["train"] == full[:80] and f["val"] == full[80:100] and f["test"] == full[100:]


def test_shuffled_folds_follow_the_seed():
    """``shuffle=True``: one seed gives the same folds every time, two seeds different ones, and neither is the
    contiguous split; ``shuffle=False`` ignores the seed. The manifest inherits the same test folds."""
    tests = lambda folds: [f["test"] for f in folds]  # noqa: E731
    contiguous = tests(subject_folds(SUBS23, k=5))
    assert contiguous == [SUBS23[0:5], SUBS23[5:10], SUBS23[10:15], SUBS23[15:19], SUBS23[19:23]]   # array_split of 23
    assert tests(subject_folds(SUBS23, k=5, seed=9)) == contiguous
    a = tests(subject_folds(SUBS23, k=5, seed=1, shuffle=True))
    a2 = tests(subject_folds(SUBS23, k=5, seed=1, shuffle=True))
    b = tests(subject_folds(SUBS23[::-1], k=5, seed=2, shuffle=True))
    assert a == a2 and a != b and contiguous not in (a, b)
    assert [len(t) for t in a] == [5, 5, 5, 4, 4]
    man = lambda seed, shuffle: tests(make_manifest(SUBS23, k=5, seed=seed, shuffle=shuffle))  # noqa: E731
    assert man(1, True) == a and man(2, True) == b and man(1, False) == contiguous
    # 20 seeds: the first test fold takes many different forms (a seed that is ignored gives one)
    assert len({tuple(tests(subject_folds(SUBS23, k=5, seed=s, shuffle=True))[0]) for s in range(20)}) == 20


def test_repeated_manifest_by_its_documented_rules():
    """``repeats``: repeat 0 is the plain split, each later repeat a fresh seeded shuffle; every repeat tests every
    subject once; fold ids are global (r * k + i); validation subjects come from the fold's training subjects."""
    man = make_manifest(SUBS23, k=5, repeats=3, val_fraction=0.2)
    assert [f["fold"] for f in man] == list(range(15))
    assert [(f["repeat"], f["fold_in_repeat"]) for f in man] == [(r, i) for r in range(3) for i in range(5)]
    tests = {r: [f["test"] for f in man if f["repeat"] == r] for r in range(3)}
    assert tests[0] == [f["test"] for f in subject_folds(SUBS23, k=5)]                 # contiguous, as k-fold
    assert tests[1] == [f["test"] for f in subject_folds(SUBS23, k=5, seed=1000, shuffle=True)]
    assert tests[2] == [f["test"] for f in subject_folds(SUBS23, k=5, seed=2000, shuffle=True)]
    assert len({str(t) for t in tests.values()}) == 3                                  # three different splits
    for f in man:
        assert sorted(f["train"] + f["val"] + f["test"]) == SUBS23 and len(f["val"]) == 4   # round(0.2 * 18)
        assert not set(f["val"]) & set(f["test"])
    assert make_manifest(SUBS23, k=5, repeats=1) == make_manifest(SUBS23, k=5)
    assert make_manifest(SUBS23, k=5, val_fraction=0.0)[0]["val"] == []
    for bad in ({"repeats": 0}, {"protocol": "fixed", "repeats": 2, "splits": {"train": SUBS23[:20], "val": [],
                                                                             "test": SUBS23[20:]}},
                {"protocol": "loso"}):
        with pytest.raises(ValueError):
            make_manifest(SUBS23, k=5, **bad)


@pytest.mark.slow
def test_overlap_check_survives_python_dash_o():
    """The same refusal under ``python -O`` (asserts stripped), in a subprocess (slow: it imports torch)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("from vaxis.decoding.folds import make_manifest\n"
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
