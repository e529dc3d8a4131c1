"""Alignment strategies (vaxis.claims.common.strategies): registry, targets, each loss on a toy batch (finite, right
sign)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaxis.claims.common.conditions import AlignedDecoder, electrode_laplacian, input_weights
from vaxis.claims.common.strategies import FAMILIES, N_HEAD, STRATEGIES
from vaxis.decoding.decoders import build

REVERSE = torch.arange(8, -1, -1)                     # class c -> 8 - c: flips valence, scrambles geometry



def test_registry():
    assert len(STRATEGIES) == 25 and len(set(STRATEGIES)) == 25
    fams = {s.family for s in STRATEGIES.values()}
    assert fams == set(FAMILIES) and len(fams) >= 5
    for s in STRATEGIES.values():
        assert s.rationale and len(s.default_weights) >= 2 and all(w > 0 for w in s.default_weights)
    assert sum(s.family == "distillation" for s in STRATEGIES.values()) >= 4      # several temperatures


def test_targets_geometry(targets):
    e = targets.embeddings / np.linalg.norm(targets.embeddings, axis=1, keepdims=True)
    np.testing.assert_allclose(targets.geometry, e @ e.T, atol=1e-12)
    t = targets.tensors()
    assert t["pos"].shape == (9,) and abs(float(t["pos"].mean())) < 1e-6
    # the 8 principal coordinates keep the centred embeddings' Gram matrix up to the row normalisation
    assert t["E8"].shape == (9, 8)


NON_PARAM = [n for n, s in STRATEGIES.items() if s.needs != "params"]


@pytest.mark.parametrize("name", NON_PARAM)
def test_loss_sign_and_finite(name, targets):
    """Optimise a free toy batch (representation, head, logits) on the term alone; the optimised batch must
    score lower with its own labels than with valence-reversed labels, and lower than where it started."""
    torch.manual_seed(0)
    B, d = 72, 16
    y = torch.arange(9).repeat(B // 9)
    r = torch.randn(B, d, requires_grad=True)
    h = torch.randn(B, N_HEAD, requires_grad=True)
    logits = torch.randn(B, 9, requires_grad=True)
    loss = STRATEGIES[name].make_loss(targets, 1.0, d=d)
    full = lambda: torch.cat([r, h, torch.zeros(B, 4)], 1)  # noqa: E731
    start = float(loss(full(), logits, y).detach())
    opt = torch.optim.Adam([r, h, logits], lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        val = loss(full(), logits, y)
        val.backward()
        opt.step()
    with torch.no_grad():
        aligned, misaligned = float(loss(full(), logits, y)), float(loss(full(), logits, REVERSE[y]))
    assert np.isfinite([start, aligned, misaligned]).all()
    assert aligned < start
    assert aligned < misaligned - 1e-3, (name, aligned, misaligned)


def test_topographic_penalties_sign(targets):
    dec = build("mlp", 30, 5, 9, hidden=8, seed=0)
    ad = AlignedDecoder(dec, vmap=targets.vmap)
    lap = torch.as_tensor(electrode_laplacian(30), dtype=torch.float32)
    evals, evecs = torch.linalg.eigh(lap)
    W = input_weights(dec)
    with torch.no_grad():
        vm = torch.as_tensor(targets.vmap, dtype=torch.float32)
        W.copy_(torch.randn(W.shape))
        rough = ad.penalties()
        W.copy_(torch.einsum("c,ub->ucb", evecs[:, 0], torch.randn(W.shape[0], 5)))   # smoothest mode
        smooth = ad.penalties()
        W.copy_(vm.expand_as(W) * torch.randn(W.shape[0], 1, 1))                        # every unit = V-map
        onmap = ad.penalties()
    assert torch.isfinite(rough).all()
    assert smooth[0] < rough[0] and abs(float(smooth[0]) - float(evals[0])) < 1e-4
    assert onmap[1] < 1e-5 < rough[1]                                                  # vmap prior
    assert onmap[2] < 1e-5 < rough[2] and onmap[3] < 1e-5 < rough[3]                  # band / channel energy
    with pytest.raises(NotImplementedError):
        input_weights(build("dgcnn", 30, 5, 9, hidden=8))


def test_loss_of_live_rows_equals_their_rows_of_the_whole_stack(targets):
    """The trainer passes only the models still training (``takes_rows``): each model's term is bit-for-bit the
    one it gets in the whole stack, across strategy runs and the label-only models (term 0)."""
    from vaxis.claims.common.strategies import AlignmentLoss

    names = [None, None, "kd_t1", "kd_t1", "rsa_geometry", "v_mse", "v_mse", None]
    strats = [None if n is None else STRATEGIES[n] for n in names]
    loss = AlignmentLoss(strats, [0.0 if s is None else 0.5 + i for i, s in enumerate(strats)], targets, d=16)
    assert loss.takes_rows
    g = torch.Generator().manual_seed(0)
    M, B = len(names), 36
    rep = torch.randn(M, B, 16 + N_HEAD + 4, generator=g)
    logits = torch.randn(M, B, 9, generator=g)
    y = torch.arange(9).repeat(B // 9).expand(M, B)
    whole = loss(rep, logits, y, None, torch.arange(M))
    for rows in ([0, 3, 4, 6], [2, 5], [7], [1, 2, 3, 4, 5, 6, 7]):
        ix = torch.as_tensor(rows)
        part = loss(rep[ix], logits[ix], y[ix], None, ix)
        assert part.shape == (len(rows),)
        assert torch.equal(part, whole[ix]), rows
    loss.recorder = lambda *a: None                      # a recorder follows the whole stack: no subsets then
    assert not loss.takes_rows
