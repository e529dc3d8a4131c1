"""Alignment strategies: registry, each loss on a toy batch (finite, right sign), weight 0 = label-only bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vaxis.alignment import FAMILIES, N_HEAD, STRATEGIES, AlignmentLoss, AlignmentTargets, split
from vaxis.alignment_train import AlignedDecoder, electrode_laplacian, input_weights, run_alignment, train_conditions
from vaxis.decoders import build
from vaxis.eeg.synthetic import toy_clips
from vaxis.stacking import StackConfig
from vaxis.training import make_manifest, prepare

POS = np.array([-1.0, -0.8, -0.9, -0.7, 0.0, 0.8, 0.6, 1.0, 0.9])
REVERSE = torch.arange(8, -1, -1)                     # class c -> 8 - c: flips valence, scrambles geometry


@pytest.fixture(scope="module")
def targets() -> AlignmentTargets:
    rng = np.random.default_rng(0)
    return AlignmentTargets(POS, rng.normal(size=(9, 16)), rng.normal(size=(30, 5)))


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


def test_single_equals_stacked(targets):
    torch.manual_seed(1)
    strats = [STRATEGIES["rsa_geometry"]] * 2 + [None] + [STRATEGIES["v_mse"]] * 2
    loss = AlignmentLoss(strats, [0.3, 1.0, 0.0, 0.1, 0.5], targets, d=8)
    rep, logits, y = torch.randn(5, 27, 8 + N_HEAD + 4), torch.randn(5, 27, 9), torch.randint(0, 9, (5, 27))
    out = loss(rep, logits, y, None, torch.arange(5))
    single = torch.stack([loss(rep[m], logits[m], y[m], None, m) for m in range(5)])
    torch.testing.assert_close(out, single)
    assert float(out[2]) == 0.0
    assert split(rep, 8)[1].shape == (5, 27, N_HEAD)
    with pytest.raises(ValueError):
        AlignmentLoss([STRATEGIES["v_mse"]], [1.0], targets, d=None)


def test_weight_zero_is_label_only_bit_for_bit(targets):
    view = prepare(toy_clips(), input="window")
    man = make_manifest(view.subject_ids, k=3)
    names = ["label-only", *STRATEGIES]
    cond = pd.DataFrame({"strategy": names + ["v_mse"], "weight": [0.0] * len(names) + [1.0], "seed": 0, "fold": 0})
    cfg = StackConfig(epochs=3, batch_size=64, patience=5)
    _, st = train_conditions(view, man, "mlp", cond, targets, [targets.vmap] * 3, cfg, hidden=8, device="cpu")
    dec = [k for k in st["params"] if k.startswith("m.")]
    for m in range(1, len(names)):
        for k in dec:
            assert torch.equal(st["params"][k][m], st["params"][k][0]), (names[m], k)
    assert not torch.equal(st["params"]["m.fc1.weight"][-1], st["params"]["m.fc1.weight"][0])   # weight > 0 moves


def test_run_alignment_protocol(targets):
    run = run_alignment(toy_clips(), targets, strategies=["kd_t1", "v_mse"], k=3, seeds=(0, 1), epochs=2, hidden=8,
                        weights={"kd_t1": (0.1, 1.0)}, vmaps=None, device="cpu")
    assert len(run.final) == 3 * 2 * 3 and set(run.final.strategy) == {"label-only", "kd_t1", "v_mse"}
    # the chosen weight maximises validation BA (never test BA) on the selection seed
    s1 = run.stage1[run.stage1.strategy == "kd_t1"]
    for r in run.chosen[run.chosen.strategy == "kd_t1"].itertuples():
        f = s1[s1.fold == r.fold]
        assert r.weight == f.sort_values(["val_ba", "weight"], ascending=[False, True]).weight.iloc[0]
    # every fold x seed has one model per strategy, the same weight across seeds
    assert run.final.groupby(["strategy", "fold"]).weight.nunique().max() == 1
    for f in run.manifest:
        assert not set(f["test"]) & (set(f["train"]) | set(f["val"]))


def test_compare_paired_test_and_holm():
    """Per-strategy Wilcoxon against scipy, Holm against a hand-computed example, outcome labels."""
    from scipy.stats import wilcoxon

    from vaxis.alignment_train import compare
    from vaxis.stats import holm

    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.2])), [0.04, 0.09, 0.09, 0.2])
    rng = np.random.default_rng(0)
    idx = pd.MultiIndex.from_product([[0, 1, 2], range(10)], names=["seed", "fold"]).to_frame(index=False)
    base = rng.uniform(0.15, 0.2, 30)
    shifts = {"kd_t1": 0.02 + rng.normal(0, 0.005, 30), "v_mse": -0.03 + rng.normal(0, 0.005, 30),
              "cka_linear": rng.normal(0, 0.01, 30)}
    final = pd.concat([idx.assign(strategy="label-only", test_ba=base)]
                      + [idx.assign(strategy=k, test_ba=base + d) for k, d in shifts.items()])
    out = compare(final).set_index("strategy")
    for k, d in shifts.items():
        assert out.loc[k, "p"] == pytest.approx(wilcoxon(d).pvalue)
        assert out.loc[k, "diff"] == pytest.approx(d.mean())
    np.testing.assert_allclose(out.p_holm, holm(out.p.to_numpy()))
    assert out.loc["kd_t1", "outcome"] == "improved" and out.loc["v_mse", "outcome"] == "reduced"
    assert out.loc["cka_linear", "outcome"] == "no significant change"
