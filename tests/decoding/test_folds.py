"""The fold design: clip folds, the cross-stimulus manifest, leakage guards, and what each protocol can detect."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.decoding.baselines import svm_baseline
from vaxis.decoding.folds import LeakageError, clip_labels, fold_indices, make_manifest, protocol_name
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
