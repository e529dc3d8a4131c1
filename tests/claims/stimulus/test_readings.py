"""Emotion or stimulus: the protocol drop, the self-report check and their intervals, on hand-made scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaxis.claims.reference.baselines import Reference
from vaxis.claims.stimulus.readings import VALENCE_MIDPOINT, confusion_rates, group_ba_ci, protocol_drop, self_report
from vaxis.decoding.folds import make_manifest
from vaxis.eeg.faced import FACED_LABELS

SUBS = [f"sub{i:03d}" for i in range(30)]


def _ref(stimulus: str, ba_of, units: pd.DataFrame | None = None) -> Reference:
    man = make_manifest(SUBS, k=5, stimulus=stimulus)
    rows = [{"model": m, "task": "9class", "repeat": 0, "fold": f["fold"], "subject": s, "seed": 0,
             "balanced_accuracy": ba_of(s, f)} for m in ("svm", "mlp") for f in man for s in f["test"]]
    return Reference(pd.DataFrame(), pd.DataFrame(rows), man, {}, 0.0, 0.0, units, None)


def test_protocol_drop_is_paired_within_subjects_and_names_the_share():
    rng = np.random.default_rng(0)
    subj = {s: rng.normal(0, 0.05) for s in SUBS}                        # a subject effect shared by both protocols
    seen = _ref("seen", lambda s, f: 0.37 + subj[s] + rng.normal(0, 0.01))
    unseen = _ref("unseen", lambda s, f: 0.18 + subj[s] + rng.normal(0, 0.01))
    d = protocol_drop(seen, unseen, "svm", "9class")
    assert d["drop"] == pytest.approx(0.19, abs=0.01) and d["ci_low"] < 0.19 < d["ci_high"]
    assert d["ci_high"] - d["ci_low"] < 0.03                             # pairing removes the subject effect
    assert d["share_of_signal"] == pytest.approx(0.19 / (0.37 - 1 / 9), abs=0.05)
    assert d["n_subjects"] == 30 and d["n_clusters"] == 5
    same = protocol_drop(seen, _ref("unseen", lambda s, f: 0.37 + subj[s] + rng.normal(0, 0.01)), "svm", "9class")
    assert same["ci_low"] < 0 < same["ci_high"]


def test_group_ba_matches_hand_computation_and_its_difference_is_paired():
    u = pd.DataFrame({"cluster": [0, 0, 1, 1], "subject": ["a", "a", "b", "b"], "y": [0, 1, 0, 1],
                      "n": [10, 10, 10, 10], "n_correct": [8, 4, 6, 2], "group": ["g", "g", "g", "g"]})
    r = group_ba_ci(u, ("g",), n_boot=200)
    assert r["g"][0] == pytest.approx(((8 + 6) / 20 + (4 + 2) / 20) / 2)
    assert r["g"][1] <= r["g"][0] <= r["g"][2]


def test_self_report_separates_an_emotion_decoder_from_a_clip_recogniser():
    """Planted: the 'emotion' decoder is right on clips the subject felt and at chance elsewhere; the 'clip'
    recogniser is right equally often on both. Only the first shows a positive agrees-minus-disagrees gap."""
    rng = np.random.default_rng(1)
    clip_ids = np.arange(1, 29)
    valence = np.where(FACED_LABELS > 4, 5.0, 2.0)[None, :] + rng.normal(0, 1.6, (len(SUBS), 28))
    man = make_manifest(SUBS, k=5)
    rows = []
    for f in man:
        for s in f["test"]:
            i = SUBS.index(s)
            for c in clip_ids:
                if FACED_LABELS[c - 1] == 4:
                    continue
                sign = FACED_LABELS[c - 1] > 4
                agrees = (valence[i, c - 1] > VALENCE_MIDPOINT) == sign
                for model, p in (("mlp", 0.8 if agrees else 0.5), ("svm", 0.7)):
                    rows.append({"model": model, "task": "binary", "repeat": 0, "fold": f["fold"], "subject": s,
                                 "clip": int(c), "n": 30, "n_correct": float(rng.binomial(30, p))})
    ref = Reference(pd.DataFrame(), pd.DataFrame(), man, {}, 0.0, 0.0, pd.DataFrame(rows), None)
    out = self_report(ref, valence, SUBS, clip_ids, FACED_LABELS, n_boot=300)
    gap = out[out.agreement == "difference"].set_index("model")
    assert set(out.agreement) == {"agrees", "disagrees", "difference"}
    assert gap.loc["label-only DE-MLP", "ci_low"] > 0.15
    svm = gap.loc["DE + linear SVM (re-run, leakage-free)"]
    assert svm.ci_low < 0 < svm.ci_high
    n = out[out.agreement != "difference"].groupby("model").n_clips.sum()
    assert (n == len(SUBS) * 24).all()
    diff_n = out[out.agreement == "difference"].n_clips
    assert (diff_n == len(SUBS) * 24).all()
    with pytest.raises(ValueError, match="unit-level"):
        self_report(Reference(pd.DataFrame(), pd.DataFrame(), man, {}, 0.0, 0.0), valence, SUBS, clip_ids,
                    FACED_LABELS)


def test_confusion_rates_rows_sum_to_one():
    c = confusion_rates(np.array([[3, 1], [0, 0]]))
    assert c[0].tolist() == [0.75, 0.25] and c[1].tolist() == [0.0, 0.0]
