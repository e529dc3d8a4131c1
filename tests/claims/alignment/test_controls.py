"""Label-smoothing controls of distillation: shuffled / uniform targets, paired retraining, comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import log_softmax, softmax

import vaxis.claims.alignment.controls as ac
import vaxis.claims.alignment.train as at
from vaxis.claims.common.strategies import STRATEGIES, AlignmentTargets, derangement
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.eeg.synthetic import toy_clips
from vaxis.stats import holm

POS = np.array([-1.0, -0.8, -0.9, -0.7, 0.0, 0.8, 0.6, 1.0, 0.9])
KD = {"kd_t0.25": 0.25, "kd_t0.5": 0.5, "kd_t1": 1.0, "kd_t2": 2.0, "kd_valence": 1.0}


@pytest.fixture(scope="module")
def targets() -> AlignmentTargets:
    rng = np.random.default_rng(0)
    return AlignmentTargets(POS, rng.normal(size=(9, 16)), rng.normal(size=(30, 5)))


def test_distillation_family_is_the_kd_strategies():
    assert {n for n, s in STRATEGIES.items() if s.family == ac.CONTROL_FAMILY} == set(KD)


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_is_a_seeded_derangement_of_positions_and_embeddings(targets, seed):
    sh = targets.shuffled(seed)
    # recover the permutation from the (distinct) positions, independently of derangement()
    p = np.array([int(np.flatnonzero(POS == v)[0]) for v in sh.positions])
    assert sorted(p) == list(range(9)) and (p != np.arange(9)).all()           # a derangement
    np.testing.assert_array_equal(p, derangement(9, seed))
    np.testing.assert_array_equal(sh.embeddings, targets.embeddings[p])          # same permutation for both
    np.testing.assert_allclose(sh.geometry, targets.geometry[np.ix_(p, p)], atol=1e-12)
    t, ts = targets.tensors(), sh.tensors()
    torch.testing.assert_close(ts["Dv"], t["Dv"][p][:, p])
    assert sh.vmap is targets.vmap
    again = targets.shuffled(seed)
    np.testing.assert_array_equal(again.positions, sh.positions)
    np.testing.assert_array_equal(again.embeddings, sh.embeddings)


def test_shuffled_differs_across_seeds(targets):
    perms = {tuple(derangement(9, s)) for s in range(10)}
    assert len(perms) > 5
    with pytest.raises(ValueError):
        derangement(1, 0)


def test_uniform_has_constant_off_diagonal_and_finite_tensors(targets):
    u = targets.uniform()
    t = u.tensors()
    off = ~np.eye(9, dtype=bool)
    for key in ("D", "Dv"):
        d = t[key].numpy()
        assert np.all(d[off] == d[off][0]) and d[off][0] > 0 and np.all(np.diag(d) == 0), key
    assert all(bool(torch.isfinite(v).all()) for v in t.values())
    assert torch.equal(t["pos"], torch.zeros(9))                               # 0 / (0 + 1e-12), no NaN
    assert u.embeddings.shape[0] == 9 and u.vmap is targets.vmap


def _ls_kl(logits: np.ndarray, y: np.ndarray, T: float) -> float:
    """T^2 KL(label-smoothed one-hot || softmax(logits / T)), label smoothing eps = 9a / (1 + 8a), a = e^(-1/T)."""
    a = np.exp(-1 / T)
    eps = 9 * a / (1 + 8 * a)
    q = (1 - eps) * np.eye(9)[y] + eps / 9
    return float(T * T * (q * (np.log(q) - log_softmax(logits / T, -1))).sum(-1).mean())


@pytest.mark.parametrize("name", sorted(KD))
def test_kd_with_uniform_targets_is_label_smoothing(targets, name):
    rng = np.random.default_rng(1)
    B = 45
    y = rng.integers(0, 9, B)
    logits = rng.normal(size=(B, 9)) * 2
    loss = STRATEGIES[name].make_loss(targets.uniform(), 1.0)
    got = float(loss(torch.zeros(B, 4), torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(y)))
    assert got == pytest.approx(_ls_kl(logits, y, KD[name]), rel=1e-5)


@pytest.mark.parametrize("name", sorted(KD))
def test_kd_with_shuffled_targets_relabels_the_soft_targets(targets, name):
    """The soft target of class c under the shuffled geometry is class p[c]'s real one, relabelled by p."""
    T = KD[name]
    t, ts = targets.tensors(), targets.shuffled(4).tensors()
    p = derangement(9, 4)
    key = "Dv" if name == "kd_valence" else "D"

    def soft(d):
        d = d.numpy().astype(float)
        return softmax(-d / (T * np.median(d[~np.eye(9, dtype=bool)])), -1)

    np.testing.assert_allclose(soft(ts[key]), soft(t[key])[np.ix_(p, p)], atol=1e-6)
    # and the loss on a batch equals the real loss on the relabelled batch
    rng = np.random.default_rng(2)
    y = torch.as_tensor(rng.integers(0, 9, 36))
    z = torch.as_tensor(rng.normal(size=(36, 9)), dtype=torch.float32)
    inv = torch.as_tensor(np.argsort(p))
    real = STRATEGIES[name].make_loss(targets, 1.0)(torch.zeros(36, 4), z[:, inv], torch.as_tensor(p)[y])
    shuf = STRATEGIES[name].make_loss(targets.shuffled(4), 1.0)(torch.zeros(36, 4), z, y)
    assert float(shuf) == pytest.approx(float(real), rel=1e-5)


@pytest.fixture(scope="module")
def run(targets):
    """A run whose reported models are the forced (non-zero) weights, so that every distillation row is retrained."""
    import dataclasses

    r = at.train_alignment(toy_clips(), targets, strategies=["kd_t1", "kd_valence", "v_mse"],
                           design=FoldDesign(n_folds=3), seeds=(0, 1), stack=StackConfig(epochs=2, batch_size=128),
                           hidden=8, weights={"kd_t1": (0.1, 1.0), "kd_valence": (0.3, 3.0)}, device="cpu")
    return dataclasses.replace(r, final=at.final_rows(r.trained, r.forced), chosen=r.forced)


def test_run_controls_pairs_with_the_run_at_the_chosen_weights(run, targets, monkeypatch):
    seen = []
    real_train = at.train_conditions

    def spy(view, manifest, arch, conditions, tg, *a, **k):
        seen.append((conditions.copy(), tg))
        return real_train(view, manifest, arch, conditions, tg, *a, **k)

    monkeypatch.setattr(ac, "train_conditions", spy)
    ctr = ac.run_controls(run, targets)
    assert len(seen) == 2                                                     # one stacked pass per control
    assert set(ctr.control) == {"shuffled", "uniform"} and set(ctr.strategy) == {"kd_t1", "kd_valence"}
    key = ["strategy", "weight", "seed", "fold"]
    real = run.final[run.final.strategy.isin(["kd_t1", "kd_valence"])][key].sort_values(key, ignore_index=True)
    for c, g in ctr.groupby("control"):
        pd.testing.assert_frame_equal(g[key].sort_values(key, ignore_index=True), real)
    chosen = run.chosen.set_index(["strategy", "fold"]).weight
    for cond, _ in seen:                                                       # every model at its chosen weight
        assert [chosen[(r.strategy, r.fold)] for r in cond.itertuples()] == cond.weight.tolist()
    np.testing.assert_array_equal(seen[0][1].positions, targets.shuffled(0).positions)
    np.testing.assert_array_equal(seen[1][1].tensors()["D"].numpy(), targets.uniform().tensors()["D"].numpy())
    assert ctr.test_ba.between(0, 1).all() and ctr.attrs["n_models"] == {"shuffled": len(real), "uniform": len(real)}


def test_weight_zero_rows_are_the_label_only_model_not_retrained(targets, monkeypatch):
    """Where 0 was chosen the control *is* the label-only model whatever the targets: copied, never trained."""
    import dataclasses

    r = at.train_alignment(toy_clips(), targets, strategies=["kd_t1"], design=FoldDesign(n_folds=3), seeds=(0,),
                           stack=StackConfig(epochs=1, batch_size=128), hidden=8, device="cpu")
    zero = r.chosen.assign(weight=0.0)
    r = dataclasses.replace(r, final=at.final_rows(r.trained, zero), chosen=zero)
    monkeypatch.setattr(ac, "train_conditions", lambda *a, **k: (_ for _ in ()).throw(AssertionError("trained")))
    ctr = ac.run_controls(r, targets)
    lo = r.final[r.final.strategy == "label-only"].set_index(["seed", "fold"]).test_ba
    assert (ctr.weight == 0).all() and ctr.attrs["n_models"] == {"shuffled": 0, "uniform": 0}
    np.testing.assert_array_equal(ctr.set_index(["seed", "fold"]).test_ba.groupby(level=[0, 1]).first()
                                  .reindex(lo.index).to_numpy(), lo.to_numpy())


def test_run_controls_with_the_real_targets_reproduces_the_run(run, targets):
    """Same rows, same initialisation and batch order: the real targets as a 'control' give the run's models."""
    ctr = ac.run_controls(run, targets, controls={"real": targets}, strategies=["kd_valence"])
    merged = ctr.merge(run.final, on=["strategy", "weight", "seed", "fold"], suffixes=("", "_run"))
    assert len(merged) == len(ctr) == 2 * 3
    np.testing.assert_allclose(merged.test_ba, merged.test_ba_run, atol=1e-12)
    np.testing.assert_array_equal(merged.best_epoch, merged.best_epoch_run)
    with pytest.raises(ValueError):
        ac.run_controls(run, targets, strategies=["v_mse"])
    with pytest.raises(ValueError):
        ac.run_controls(run, targets, controls=("reversed",))


def test_compare_controls_against_the_clustered_test():
    from vaxis.stats import clustered_paired_test

    rng = np.random.default_rng(0)
    subjects = [f"s{i:02d}" for i in range(30)]
    shift = {("kd_t1", "shuffled"): 0.03, ("kd_t1", "uniform"): 0.02, ("kd_t2", "shuffled"): 0.03,
             ("kd_t2", "uniform"): 0.0}
    final, ctrl = [], []
    for fold in range(6):
        for seed in (0, 1):
            for s in subjects[fold * 5:(fold + 1) * 5]:
                for name in ("kd_t1", "kd_t2"):
                    ba = rng.uniform(0.3, 0.4)
                    final.append({"strategy": name, "seed": seed, "fold": fold, "subject": s, "ba": ba})
                    for c in ("shuffled", "uniform"):
                        ctrl.append({"strategy": name, "control": c, "seed": seed, "fold": fold, "subject": s,
                                     "ba": ba - shift[(name, c)] + rng.normal(0, 0.004)})
    final, ctrl = pd.DataFrame(final), pd.DataFrame(ctrl).sample(frac=1, random_state=0)    # order must not matter
    out = ac.compare_controls(final, ctrl).set_index(["strategy", "control"])
    for (name, c), _ in shift.items():
        q = ctrl[(ctrl.strategy == name) & (ctrl.control == c)].set_index(["seed", "fold", "subject"]).ba
        r = final[final.strategy == name].set_index(["seed", "fold", "subject"]).ba.reindex(q.index)
        d = (r - q).groupby(level=["fold", "subject"]).mean().reset_index()
        ref = clustered_paired_test(d.ba.to_numpy(), d.subject.to_numpy(), d.fold.to_numpy())
        assert out.loc[(name, c), "p"] == pytest.approx(ref["p"]) and out.loc[(name, c), "n"] == 30
        assert out.loc[(name, c), "diff"] == pytest.approx(ref["diff"])
    np.testing.assert_allclose(out.p_holm, holm(out.p.to_numpy()))
    assert out.beats.to_dict() == {("kd_t1", "shuffled"): True, ("kd_t1", "uniform"): True,
                                   ("kd_t2", "shuffled"): True, ("kd_t2", "uniform"): False}
    assert out.geometry_evidence.groupby("strategy").first().to_dict() == {"kd_t1": True, "kd_t2": False}
