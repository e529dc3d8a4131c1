"""The chapters' paired tests hold their false-positive rate and reach their stated power (by simulation).

Each design mirrors a chapter's structure (subject-disjoint folds, CV repeats, seeds per fold; or a fixed split
with seed replicates). Under the null (no planted difference) the rejection rate over 200 simulated cohorts must
stay <= 0.08 at alpha 0.05; with a planted difference near the test's own estimated MDE it must be detected at
roughly the stated power (0.8). A plain t-test over test subjects, which ignores that every subject of a fold
shares one trained model, is shown to fail the same check.
"""

from __future__ import annotations

import pytest

from vaxis.publish.calibration import SimDesign, clustered_test, fold_test, rejection_rate, subject_test

DESIGNS = {
    # chapter 6 / 8 style: 10-fold, repeated, seeds averaged per fold (scaled down: 60 subjects)
    "kfold10_r3_s3": SimDesign(n_subjects=60, k=10, repeats=3, n_seeds=3),
    # one repeat of 5 folds
    "kfold5_r1_s2": SimDesign(n_subjects=40, k=5, repeats=1, n_seeds=2),
    # chapter 8 on the fixed split: one split, seed replicates are the models
    "fixed_s5": SimDesign(n_subjects=40, protocol="fixed", n_test=12, n_seeds=5),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_clustered_test_false_positive_rate(name):
    r = rejection_rate(DESIGNS[name], n_runs=200, effect=0.0, test=clustered_test)
    assert r["rate"] <= 0.08, r
    assert abs(r["effect"]) < 0.01


def test_fold_test_is_conservative():
    r = rejection_rate(DESIGNS["kfold5_r1_s2"], n_runs=200, effect=0.0, test=fold_test)
    assert r["rate"] <= 0.08, r


def test_subject_only_test_is_anti_conservative():
    """Why the subject test needs the model as a cluster: without it the false-positive rate is well above 0.05."""
    r = rejection_rate(DESIGNS["fixed_s5"], n_runs=200, effect=0.0, test=subject_test)
    assert r["rate"] > 0.09, r


def test_clustered_test_power_at_its_mde():
    """A planted difference about the size of the estimated MDE is detected at about the stated power (0.8)."""
    design = DESIGNS["kfold5_r1_s2"]
    lo = rejection_rate(design, n_runs=100, effect=0.4, test=clustered_test)
    hi = rejection_rate(design, n_runs=100, effect=0.7, test=clustered_test)
    # power grows with the planted effect, and crosses 0.8 where the effect passes the MDE
    assert lo["rate"] < hi["rate"]
    for r in (lo, hi):
        if r["effect"] < 0.8 * r["mde"]:
            assert r["rate"] < 0.8, r
        if r["effect"] > 1.2 * r["mde"]:
            assert r["rate"] > 0.8, r
    assert min(lo["effect"], hi["effect"]) < lo["mde"] < max(lo["effect"], hi["effect"]), (lo, hi)
