"""Alignment strategies: registry, each loss on a toy batch (finite, right sign), weight 0 = label-only bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vaxis.claims.alignment import FAMILIES, N_HEAD, STRATEGIES, AlignmentLoss, AlignmentTargets, split
from vaxis.claims.alignment_train import (
    AlignedDecoder,
    electrode_laplacian,
    input_weights,
    run_alignment,
    train_conditions,
)
from vaxis.decoding.decoders import build
from vaxis.decoding.stacking import StackConfig
from vaxis.decoding.training import make_manifest, prepare
from vaxis.eeg.synthetic import toy_clips

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
    names = ["label-only", *[n for n, s in STRATEGIES.items() if s.needs != "params"]]
    cond = pd.DataFrame({"strategy": names + ["v_mse"], "weight": [0.0] * len(names) + [1.0], "seed": 0, "fold": 0})
    cfg = StackConfig(epochs=3, batch_size=64, patience=5)
    _, st = train_conditions(view, man, "mlp", cond, targets, [targets.vmap] * 3, cfg, hidden=8, device="cpu")
    dec = [k for k in st["params"] if k.startswith("m.")]
    for m in range(1, len(names)):
        for k in dec:
            assert torch.equal(st["params"][k][m], st["params"][k][0]), (names[m], k)
    assert not torch.equal(st["params"]["m.fc1.weight"][-1], st["params"]["m.fc1.weight"][0])   # weight > 0 moves


def test_topographic_models_train_in_their_own_stack(targets):
    """A stack mixing topographic and other strategies is split in two; rows keep their order and scores."""
    view = prepare(toy_clips(), input="window")
    man = make_manifest(view.subject_ids, k=3)
    cond = pd.DataFrame({"strategy": ["label-only", "topo_smooth", "v_mse", "topo_vmap"], "weight": [0, 1.0, 0.3, 0.3],
                         "seed": 0, "fold": 0})
    cfg = StackConfig(epochs=2, batch_size=64, patience=5)
    out, st = train_conditions(view, man, "mlp", cond, targets, [targets.vmap] * 3, cfg, hidden=8, device="cpu")
    assert list(out.strategy) == list(cond.strategy) and len(st["parts"]) == 2
    assert [m.tolist() for m in st["masks"]] == [[True, False, True, False], [False, True, False, True]]
    alone, _ = train_conditions(view, man, "mlp", cond.iloc[[1, 3]], targets, [targets.vmap] * 3, cfg, hidden=8,
                                device="cpu")
    np.testing.assert_allclose(out.test_ba.iloc[[1, 3]].to_numpy(), alone.test_ba.to_numpy())
    assert all(len(b) == len(man[0]["test"]) for b in out.subject_ba)


def test_run_alignment_protocol(targets):
    run = run_alignment(toy_clips(), targets, strategies=["kd_t1", "v_mse"], k=3, seeds=(0, 1), epochs=2, hidden=8,
                        weights={"kd_t1": (0.1, 1.0)}, vmaps=None, device="cpu")
    # every seed at every weight: label-only + kd_t1 x 2 + v_mse x 3, 2 seeds, 3 folds
    assert len(run.trained) == (1 + 2 + 3) * 2 * 3
    val = run.trained.groupby(["strategy", "fold", "weight"]).val_ba.mean()
    for r in run.chosen.itertuples():   # the weight maximises the mean validation BA over seeds, 0 included
        grid = run.trained[run.trained.strategy == r.strategy].weight.unique()
        cands = {0.0: val[("label-only", r.fold, 0.0)], **{w: val[(r.strategy, r.fold, w)] for w in grid}}
        best = max(cands.values())
        assert r.weight == min(w for w, v in cands.items() if v == best)
    for r in run.forced.itertuples():
        assert r.weight > 0
    # the reported models: every strategy x fold x seed once, at the chosen weight; weight 0 = the label-only model
    assert len(run.final) == 3 * 2 * 3 and run.final.groupby(["strategy", "fold"]).weight.nunique().max() == 1
    lo = run.final[run.final.strategy == "label-only"].set_index(["seed", "fold"]).test_ba
    for r in run.final[(run.final.strategy != "label-only") & (run.final.weight == 0)].itertuples():
        assert r.test_ba == lo[(r.seed, r.fold)]
    for f in run.manifest:
        assert not set(f["test"]) & (set(f["train"]) | set(f["val"]))


def test_compare_strategies_four_outcomes():
    """Planted per-subject differences reach improved, reduced, unchanged and inconclusive; diff and Holm are
    checked against hand computation."""
    from vaxis.claims.alignment_stats import compare_strategies, count_outcomes
    from vaxis.stats import holm

    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.2])), [0.04, 0.09, 0.09, 0.2])
    rng = np.random.default_rng(0)
    rows = []
    subjects = [f"s{i:02d}" for i in range(60)]
    shift = {"kd_t1": (0.03, 0.01), "v_mse": (-0.03, 0.01), "cka_linear": (0.0, 0.002), "rsa_geometry": (0.0, 0.08)}
    for fold in range(6):
        for seed in (0, 1):
            for s in subjects[fold * 10:(fold + 1) * 10]:
                base = rng.uniform(0.3, 0.4)
                rows.append({"strategy": "label-only", "seed": seed, "fold": fold, "subject": s, "ba": base})
                for name, (mu, sd) in shift.items():
                    rows.append({"strategy": name, "seed": seed, "fold": fold, "subject": s,
                                 "ba": base + mu + rng.normal(0, sd)})
    subj = pd.DataFrame(rows)
    out = compare_strategies(subj, margin=0.01).set_index("strategy")
    for name in shift:
        d = subj[subj.strategy == name].ba.to_numpy() - subj[subj.strategy == "label-only"].ba.to_numpy()
        assert out.loc[name, "diff"] == pytest.approx(d.mean(), abs=1e-12)
    np.testing.assert_allclose(out.p_holm, holm(out.p.to_numpy()))
    assert out.loc["kd_t1", "outcome"] == "improved" and out.loc["v_mse", "outcome"] == "reduced"
    assert out.loc["cka_linear", "outcome"] == "unchanged" and out.loc["rsa_geometry", "outcome"] == "inconclusive"
    assert count_outcomes(out.reset_index()) == {"improved": 1, "unchanged": 1, "reduced": 1, "inconclusive": 1,
                                                 "not_used": 0}
    assert (out.mde > 0).all() and not out.not_used.any()


def _planted(shift, folds=6, seeds=(0, 1), seed=0):
    """Subject table with per-strategy planted (mean, sd) differences against the label-only model."""
    rng = np.random.default_rng(seed)
    rows = []
    subjects = [f"s{i:02d}" for i in range(10 * folds)]
    for fold in range(folds):
        for sd in seeds:
            for s in subjects[fold * 10:(fold + 1) * 10]:
                base = rng.uniform(0.3, 0.4)
                rows.append({"strategy": "label-only", "seed": sd, "fold": fold, "subject": s, "ba": base})
                for name, (mu, noise) in shift.items():
                    rows.append({"strategy": name, "seed": sd, "fold": fold, "subject": s,
                                 "ba": base + mu + (rng.normal(0, noise) if noise else 0.0)})
    return pd.DataFrame(rows)


def test_not_used_strategies_are_not_unchanged_and_leave_holm():
    """Weight 0 chosen in every fold: outcome ``not_used`` (not ``unchanged``), NaN p and MDE, and Holm's family is
    the used strategies only; the Bonferroni bounds match scipy's t interval at alpha / m."""
    from scipy import stats as st

    from vaxis.claims.alignment_stats import compare_strategies, count_outcomes

    subj = _planted({"kd_t1": (0.03, 0.01), "v_mse": (-0.004, 0.01), "cka_linear": (0.0, 0.0)})
    w = pd.DataFrame([{"strategy": n, "fold": f, "weight": (0.0 if n == "cka_linear" else 0.3 if f else 0.0)}
                      for n in ("kd_t1", "v_mse", "cka_linear") for f in range(6)])
    out = compare_strategies(subj, w, margin=0.01).set_index("strategy")
    assert out.loc["cka_linear", "outcome"] == "not_used" and bool(out.loc["cka_linear", "not_used"])
    assert np.isnan(out.loc["cka_linear", "p_holm"]) and np.isnan(out.loc["cka_linear", "mde"])
    assert not out.loc[["kd_t1", "v_mse"], "not_used"].any()           # 0 in one fold of six: used
    used = out.loc[["kd_t1", "v_mse"]]
    p1, p2 = sorted(used.p)                                           # Holm by hand over m = 2, not 3
    assert sorted(used.p_holm) == pytest.approx([min(1.0, 2 * p1), max(min(1.0, 2 * p1), p2)])
    for name, r in used.iterrows():
        lo, hi = st.t.interval(1 - 0.05 / 2, r["df"], loc=r["diff"], scale=r.se)
        assert (r.ci_low_adj, r.ci_high_adj) == pytest.approx((lo, hi))
    assert count_outcomes(out.reset_index())["not_used"] == 1


def test_a_gain_explained_by_its_control_does_not_fail_part_a():
    """kd_t1 beats the label-only model by 3 points, but its uniform-target control scores the same: it does not
    beat its controls, its LLM gain is the control comparison, and claim 6's part A cannot fail; rsa_geometry, with
    the same gain and no control, makes it fail."""
    from vaxis.claims.alignment_controls import compare_controls
    from vaxis.claims.alignment_stats import attach_controls, compare_strategies, gain_inputs
    from vaxis.publish.verdicts import claim6_parts

    subj = _planted({"kd_t1": (0.03, 0.004), "v_mse": (0.0, 0.002)})
    real = subj[subj.strategy == "kd_t1"]
    ctrl = pd.concat([real.assign(control="shuffled", ba=real.ba - 0.03),     # the geometry's gain, if any ...
                      real.assign(control="uniform", ba=real.ba + 0.0005)])   # ... label smoothing explains it
    ctrl = ctrl.assign(ba=ctrl.ba + np.random.default_rng(1).normal(0, 0.002, len(ctrl)))
    cmp = attach_controls(compare_strategies(subj, margin=0.01), compare_controls(real, ctrl))
    assert cmp.set_index("strategy").loc["kd_t1", "outcome"] == "improved"
    assert cmp.set_index("strategy").beats_controls.to_dict() == {"kd_t1": False, "v_mse": None}
    inputs = gain_inputs(cmp, compare_controls(real, ctrl))
    kd = next(r for r in inputs if r["strategy"] == "kd_t1")
    assert [c["against"] for c in kd["comparisons"]] == ["label-only", "shuffled", "uniform"]
    forced = {"improved": 0, "unchanged": 0, "reduced": 2, "inconclusive": 0}
    part_a = claim6_parts(inputs, forced, mde_primary=0.01, mde_forced=0.01)[0]
    assert part_a.outcome != "fails" and part_a.ci_low < 0
    unexplained = gain_inputs(cmp.replace({"strategy": {"kd_t1": "rsa_geometry"}}), compare_controls(real, ctrl))
    assert claim6_parts(unexplained, forced, mde_primary=0.01, mde_forced=0.01)[0].outcome == "fails"


def test_strategy_records_are_in_ba_points():
    """The results file's strategy records share the unit of ``margin`` and ``power.mde`` (BA points)."""
    from vaxis.claims.alignment_stats import strategy_records

    t = pd.DataFrame({"strategy": ["a"], "diff": [0.013], "ci_low": [-0.002], "ci_high": [0.028], "mde": [0.011],
                      "p_holm": [0.2], "outcome": ["inconclusive"]})
    out = strategy_records(t, ["strategy", "diff", "ci_low", "ci_high", "mde", "p_holm", "outcome"])
    assert out.iloc[0][["diff", "ci_low", "ci_high", "mde"]].tolist() == pytest.approx([1.3, -0.2, 2.8, 1.1])
    assert out.iloc[0].p_holm == 0.2 and out.iloc[0].outcome == "inconclusive" and t.loc[0, "diff"] == 0.013
