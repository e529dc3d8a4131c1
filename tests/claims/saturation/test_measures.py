"""Saturation measurements: V-direction / between-class / residual decomposition on cases with known answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaxis.claims.common.strategies import AlignmentLoss, AlignmentTargets, Strategy
from vaxis.claims.saturation.measures import GradientRecorder, gradient_shares, residual_readouts, saturation, v_basis

POS = np.array([-1.0, -0.8, -0.9, -0.7, 0.0, 0.8, 0.6, 1.0, 0.9])


def _reps(n_per: int = 10, d: int = 12, seed: int = 0, along_v: float = 1.0):
    """Class means exactly pos_c * along_v * e0; within-class noise centred per class (so means are exact)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(9), n_per)
    noise = rng.normal(size=(len(y), d))
    for c in range(9):
        noise[y == c] -= noise[y == c].mean(0)
    rep = noise.copy()
    rep[:, 0] += along_v * POS[y]
    return rep, y


def test_v_basis_known_direction():
    rep, y = _reps()
    v, basis = v_basis(rep, y, POS)
    assert abs(abs(v[0]) - 1) < 1e-9 and v[0] > 0
    assert np.linalg.matrix_rank(basis, tol=1e-9) == 1          # class means span only e0
    vt, bt = v_basis(torch.as_tensor(rep)[None].repeat(2, 1, 1), torch.as_tensor(y)[None].repeat(2, 1), POS)
    assert vt.shape == (2, 12) and torch.allclose(vt[1].double(), torch.as_tensor(v))


def test_gradient_shares_known_cases():
    rng = np.random.default_rng(1)
    v = np.eye(6)[0]
    basis = np.zeros((9, 6))
    basis[0], basis[1] = np.eye(6)[0], np.eye(6)[1]
    along = np.outer(rng.normal(size=20), v)
    sh = gradient_shares(along, v, basis)
    assert sh["v"] == pytest.approx(1.0) and sh["residual"] == pytest.approx(0.0)
    resid = np.zeros((20, 6))
    resid[:, 2:] = rng.normal(size=(20, 4))
    sh = gradient_shares(resid, v, basis)
    assert sh["residual"] == pytest.approx(1.0) and sh["v"] == pytest.approx(0.0)
    g = rng.normal(size=(20, 6))
    sh = gradient_shares(g, v, basis)
    e = (g ** 2).sum()
    assert sh["v"] == pytest.approx((g[:, 0] ** 2).sum() / e)
    assert sh["between_other"] == pytest.approx((g[:, 1] ** 2).sum() / e)
    assert sh["v"] + sh["between_other"] + sh["residual"] == pytest.approx(1.0)


def test_recorder_loss_along_v_gives_share_one():
    """A loss whose gradient is exactly along v gets share 1; the CE share follows the chain rule via the
    emitted logit Jacobian and matches a direct autograd gradient w.r.t. the representation."""
    rep, y = _reps(d=8)
    along_v = Strategy("toy_along_v", "direct", "gradient exactly along e0",
                       lambda r, h, p, lg, yy, t: r[..., 0].mean(-1))
    tg = AlignmentTargets(POS, np.random.default_rng(0).normal(size=(9, 5)))
    loss = AlignmentLoss([along_v, None], [0.5, 0.0], tg, d=8)
    rec = GradientRecorder(POS, every=1)
    loss.recorder = rec
    r = torch.as_tensor(rep, dtype=torch.float32)[None].repeat(2, 1, 1).requires_grad_(True)
    yy = torch.as_tensor(y)[None].repeat(2, 1)
    W, Wh = torch.randn(9, 8), torch.randn(9, 8)
    logits = r @ W.T
    n = len(y)
    jac = torch.cat([W.flatten(), Wh.flatten()]).expand(2, n, -1)
    full = torch.cat([r, r @ Wh.T, torch.zeros(2, n, 4), jac], -1)
    loss(full, logits, yy, None, torch.arange(2))
    df = rec.frame()
    a = df[df.kind == "alignment"]
    assert list(a.model) == [0] and a.v.iloc[0] == pytest.approx(1.0, abs=1e-6)
    ce = df[df.kind == "ce"].set_index("model")
    ce_sum = torch.nn.functional.cross_entropy(logits.flatten(0, 1), yy.flatten(), reduction="sum")
    (g,) = torch.autograd.grad(ce_sum, r)
    v, basis = v_basis(r.detach(), yy, POS)
    ref = gradient_shares(g, v, basis)
    np.testing.assert_allclose(ce.v.to_numpy(), ref["v"], atol=1e-6)
    np.testing.assert_allclose(ce.residual.to_numpy(), ref["residual"], atol=1e-6)
    assert ((ce.v + ce.between_other + ce.residual) - 1).abs().max() < 1e-9
    with pytest.raises(ValueError):
        loss(full[..., :8 + 13], logits, yy, None, torch.arange(2))


def test_recorder_counts_steps_per_model_and_skips_inactive_models():
    """Only models active in a step (``loss.progress``, as train_stacked sets it) are counted and recorded."""
    rep, y = _reps(d=8)
    tg = AlignmentTargets(POS, np.random.default_rng(0).normal(size=(9, 5)))
    loss = AlignmentLoss([None, None], [0.0, 0.0], tg, d=8)
    rec = GradientRecorder(POS, every=2)
    loss.recorder = rec
    n = len(y)
    r = torch.as_tensor(rep, dtype=torch.float32)[None].repeat(2, 1, 1).requires_grad_(True)
    W, Wh = torch.randn(9, 8), torch.randn(9, 8)
    jac = torch.cat([W.flatten(), Wh.flatten()]).expand(2, n, -1)
    full = torch.cat([r, r @ Wh.T, torch.zeros(2, n, 4), jac], -1)
    yy = torch.as_tensor(y)[None].repeat(2, 1)
    for step, active in enumerate([[1, 1], [1, 0], [1, 0], [1, 1], [1, 1]]):
        loss.progress = {"epoch": step // 2, "step": step % 2, "active": torch.tensor(active, dtype=torch.bool)}
        loss(full, r @ W.T, yy, None, torch.arange(2))
    df = rec.frame()
    assert set(df.kind) == {"ce"}
    # model 0 steps 0..4 -> recorded at 0, 2, 4; model 1 active at calls 0, 3, 4 = its steps 0, 1, 2 -> 0, 2
    assert list(zip(df.model, df.step, df.epoch)) == [(0, 0, 0), (1, 0, 0), (0, 2, 1), (0, 4, 2), (1, 2, 2)]
    assert list(rec.model_steps) == [5, 3] and rec.calls == 5


def test_saturation_and_readouts():
    rep, y = _reps(n_per=40, d=10, seed=2, along_v=3.0)
    subject = np.tile(np.arange(40), 9)
    s = saturation(rep, y, subject, y, test_subjects=np.arange(30, 40), positions=POS)
    assert s["centroid_v"] > 0.9                                 # held-out centroids ordered by position
    assert 0.5 < s["probe"] <= 1 and s["decision_ceiling"] == pytest.approx(1.0)
    r = residual_readouts(rep, y, subject, np.arange(30, 40), POS)
    assert set(r) == {"full", "v_only", "v_removed", "between_only", "residual_only"}
    # only e0 separates classes: the V-only readout keeps the accuracy, removing V drops it to about chance
    assert r["v_only"] > 0.3 and r["v_removed"] < 0.2 and r["residual_only"] < 0.2
