"""Each chapter-7 criterion holds on a synthetic case built to satisfy it and fails on one built against it."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.claims.saturation import GradientRecorder, gradient_shares
from vaxis.claims.saturation_criteria import CRITERIA, centroid_v_gain, criterion, fold_interval, v_readout_gain
from vaxis.publish import verdicts

POS = np.array([-0.9, -0.8, -0.6, -0.7, 0.0, 0.5, 0.7, 0.9, 0.6])


def _units(code: str, n_subjects=30, d=12, seed=0):
    rng = np.random.default_rng(seed)
    cats = np.tile(np.r_[np.repeat(np.arange(9), 3), 4], n_subjects)
    subj = np.repeat(np.arange(n_subjects), 28)
    if code == "valence":          # a graded valence direction plus weak category identity
        latent = np.outer(POS, rng.normal(size=d)) * 3 + 0.3 * rng.normal(size=(9, d))
    else:                          # category identity only: no direction follows the positions
        latent = rng.normal(size=(9, d)) * 1.5
    return latent[cats] + rng.normal(0, 1.0, (len(cats), d)), cats, subj


@pytest.mark.parametrize("code, holds", [("valence", True), ("category", False)])
def test_basin_saturated_hold_and_fail(code, holds):
    vals = []
    for f in range(5):
        rep, cats, subj = _units(code, seed=f)
        vals.append(centroid_v_gain(rep, cats, subj, list(range(6)), POS, n_perm=60, seed=f))
    assert criterion("basin_saturated", vals)["holds"] is holds, vals


@pytest.mark.parametrize("code, holds", [("valence", True), ("spread", False)])
def test_v_carries_accuracy_hold_and_fail(code, holds):
    """Valence-ordered classes: the V-direction is the span's best direction. 'spread': the nine class means are
    orthogonal and equally far apart, so no direction of their span carries more than another: the fitted
    V-direction gains nothing over a random one, and the interval excludes a gain of 0.01."""
    vals = []
    for f in range(10):
        rng = np.random.default_rng(10 + f)
        if code == "valence":
            rep, cats, subj = _units("valence", seed=10 + f)
        else:
            cats = np.tile(np.r_[np.repeat(np.arange(9), 3), 4], 60)
            subj = np.repeat(np.arange(60), 28)
            rep = 3.0 * np.eye(12)[cats] + rng.normal(0, 1.0, (len(cats), 12))
        vals.append(v_readout_gain(rep, cats, subj, list(range(20)), POS, n_random=20, seed=f))
    assert criterion("v_carries_accuracy", vals)["holds"] is holds, vals


def test_residual_starved_hold_and_fail_from_gradient_shares():
    """Gradients inside the class-mean span vs gradients spread isotropically, through gradient_shares."""
    rng = np.random.default_rng(0)
    d, n = 16, 90
    y = np.repeat(np.arange(9), 10)
    rep = rng.normal(size=(n, d))
    from vaxis.claims.saturation import v_basis

    v, basis = v_basis(rep, y, POS)
    inside = rng.normal(size=(n, 9)) @ basis            # in the between-class span: residual share 0
    iso = rng.normal(size=(n, d))                       # isotropic: residual share ~ (d - 8) / d
    r_in, r_iso = (float(gradient_shares(g[None], v[None], basis[None])["residual"][0]) for g in (inside, iso))
    assert r_in < 0.05 < r_iso
    gap_hold = [r_iso - r_in + rng.normal(0, 0.01) for _ in range(6)]     # control spreads, real concentrates
    gap_fail = [rng.normal(0, 0.005) for _ in range(6)]                  # real = control
    assert criterion("residual_starved", gap_hold)["holds"] is True
    assert criterion("residual_starved", gap_fail)["holds"] is False


def test_supervision_does_not_pay_hold_and_fail():
    rng = np.random.default_rng(1)
    assert criterion("supervision_does_not_pay", rng.normal(0.0, 0.003, 10))["holds"] is True
    assert criterion("supervision_does_not_pay", rng.normal(0.03, 0.003, 10))["holds"] is False
    assert criterion("supervision_does_not_pay", rng.normal(0.008, 0.02, 10))["holds"] is None


def test_recorder_records_the_control_kind():
    """Through the chapter's training path: the control gradients are recorded at the same steps and differ."""
    import pandas as pd

    from vaxis.claims.alignment import AlignmentTargets
    from vaxis.claims.alignment_train import train_conditions
    from vaxis.decoding.stacking import StackConfig
    from vaxis.decoding.training import make_manifest, prepare
    from vaxis.eeg.synthetic import toy_clips

    tg = AlignmentTargets(POS, np.random.default_rng(0).normal(size=(9, 8)))
    view = prepare(toy_clips(), input="window")
    man = make_manifest(view.subject_ids, k=3)
    rec = GradientRecorder(POS, every=1, control=tg.shuffled(0))
    rows = pd.DataFrame({"strategy": ["label-only", "kd_t1"], "weight": [0.0, 1.0], "seed": 0, "fold": 0})
    train_conditions(view, man, "mlp", rows, tg, None, StackConfig(epochs=1, batch_size=64), hidden=8,
                     device="cpu", recorder=rec)
    g = rec.frame()
    assert set(g.kind) == {"ce", "alignment", "control"}
    a = g[g.kind == "alignment"].set_index("step").residual
    c = g[g.kind == "control"].set_index("step").residual
    assert a.index.equals(c.index) and not np.allclose(a.to_numpy(), c.to_numpy())


def test_fold_interval_and_claim7():
    m, lo, hi = fold_interval([1.0, 2.0, 3.0])
    assert m == 2.0 and lo < 2.0 < hi
    assert fold_interval([1.0])[1] == float("-inf")
    recs = [{"name": n, "holds": h} for n, h in zip(CRITERIA, [True, True, False, None])]
    assert verdicts.claim7(recs).verdict == "partly"
    assert verdicts.claim7([{**r, "holds": True} for r in recs]).verdict == "replicates"
    assert verdicts.claim7([{**r, "holds": False} for r in recs]).verdict == "does not replicate"
    assert verdicts.claim7(recs, source="synthetic").verdict == "inconclusive"
