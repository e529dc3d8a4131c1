"""The stacked trainer's speed-ups change no model: stopped models leave the computation, shared input blocks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vaxis.decoding.decoders import build
from vaxis.decoding.stacked_steps import group_rows, input_groups, normalise, shared_blocks
from vaxis.decoding.stacking import StackConfig, train_sequential, train_stacked


def _data(n: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    X = torch.randn(n, 4, 2, generator=g) + 0.4 * y[:, None, None]
    return X, y, np.repeat(np.arange(10), n // 10)


def _setup(n_models: int = 6):
    X, y, subj = _data()
    folds = [np.flatnonzero(subj % 3 == m % 3) for m in range(n_models)]            # val subjects per model
    val = [f for f in folds]
    train = [np.setdiff1d(np.arange(len(y)), f) for f in folds]
    mu = torch.stack([X[torch.as_tensor(t)].mean(0) for t in train])
    sd = torch.stack([X[torch.as_tensor(t)].std(0) + 1e-6 for t in train])
    seeds = [m % 2 for m in range(n_models)]          # models 0, 2, 4... and 1, 3, 5... share batches in pairs
    return X, y, train, val, seeds, mu, sd


def _make(m: int, dropout: float = 0.0) -> torch.nn.Module:
    return build("mlp", 4, 2, 3, seed=100 + m, hidden=8, dropout=dropout)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_each_model_trains_as_if_alone(dropout):
    """Early stopping removes models from the stack mid-run; every model's weights, losses and best epoch equal
    those of the same model trained in a stack of one. With dropout too: each model's masks come from its own key
    and step (vaxis.decoding.dropout), not from a stream shared with the models beside it."""
    X, y, train, val, seeds, mu, sd = _setup()
    cfg = StackConfig(epochs=8, batch_size=64, lr=3e-2, patience=1, max_val=None)
    res = train_stacked(lambda m: _make(m, dropout), len(seeds), X, y, train, val, seeds, cfg, mu=mu, sd=sd)
    assert len(set(res.stopped_epoch)) > 1, "the test needs models that stop at different epochs"
    assert not any(k.endswith((".key", ".step")) for k in res.buffers)      # training-time buffers left behind
    for m in range(len(seeds)):
        one = train_stacked(lambda _: _make(m, dropout), 1, X, y, [train[m]], [val[m]], [seeds[m]], cfg,
                            mu=mu[m:m + 1], sd=sd[m:m + 1])
        assert one.best_epoch[0] == res.best_epoch[m]
        for k, v in one.params.items():
            torch.testing.assert_close(res.params[k][m], v[0], rtol=0, atol=1e-6)
        n = one.val_loss.shape[1]
        np.testing.assert_allclose(res.val_loss[m, :n], one.val_loss[0], rtol=1e-6)


def test_stacked_loss_sees_whole_stack():
    """A stacked ``loss_fn`` always gets (M, B, ...) tensors; stopped models' rows are zeros."""
    X, y, train, val, seeds, mu, sd = _setup()
    seen: list[tuple[int, int, np.ndarray]] = []

    def loss(rep, logits, yb, ci, idx):
        seen.append((rep.shape[0], loss.progress["epoch"], (logits == 0).all(-1).all(-1).numpy()))
        return 0.0 * logits.mean((1, 2))

    loss.stacked, loss.progress = True, None
    cfg = StackConfig(epochs=6, batch_size=64, lr=3e-2, patience=1, max_val=None)
    res = train_stacked(_make, len(seeds), X, y, train, val, seeds, cfg, mu=mu, sd=sd, loss_fn=loss)
    assert {n for n, _, _ in seen} == {len(seeds)}
    for _, ep, zero in seen:
        np.testing.assert_array_equal(zero, res.stopped_epoch < ep)
    assert any(zero.any() for _, _, zero in seen), "the test needs a model that stops before the last epoch"
    assert res.params["fc1.weight"].shape[0] == len(seeds)


def test_a_loss_that_takes_rows_sees_the_live_models_only():
    """With ``takes_rows`` the loss gets the models still training (G, B, ...) and their rows; the trained models
    equal those trained with the same loss seeing the whole stack (stopped models padded with zeros)."""
    X, y, train, val, seeds, mu, sd = _setup()
    seen: list[list[int]] = []

    def term(rep, logits, yb, ci, idx):
        w = torch.linspace(0.1, 0.6, len(seeds))[idx]
        return w * logits.square().mean((1, 2))

    def live(rep, logits, yb, ci, idx):
        seen.append(idx.tolist())
        return term(rep, logits, yb, ci, idx)

    def whole(rep, logits, yb, ci, idx):
        return term(rep, logits, yb, ci, idx)

    live.stacked, live.takes_rows, whole.stacked = True, True, True
    cfg = StackConfig(epochs=6, batch_size=64, lr=3e-2, patience=1, max_val=None)
    a = train_stacked(_make, len(seeds), X, y, train, val, seeds, cfg, mu=mu, sd=sd, loss_fn=live)
    b = train_stacked(_make, len(seeds), X, y, train, val, seeds, cfg, mu=mu, sd=sd, loss_fn=whole)
    assert any(len(r) < len(seeds) for r in seen), "the test needs a model that stops before the last epoch"
    np.testing.assert_array_equal(a.best_epoch, b.best_epoch)
    for k in a.params:
        torch.testing.assert_close(a.params[k], b.params[k], rtol=0, atol=1e-6)


def test_shared_blocks_equal_per_model_blocks():
    X, y, train, val, seeds, mu, sd = _setup()
    tr = [torch.as_tensor(t) for t in train]
    groups = input_groups([0, 0, 1, 0], [tr[0], tr[0], tr[0], tr[1]], mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]])
    assert groups.tolist() == [0, 0, 1, 2]
    ix = torch.stack([tr[0][:16], tr[0][:16], tr[0][16:32], tr[1][:16]])
    per_model = normalise(X[ix], mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]])
    assert torch.equal(shared_blocks(X, ix, mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]], group_rows(groups)), per_model)
    assert group_rows(torch.arange(3)) is None


def _toy(n=1200, seed=0):
    """Signal in rows < 800 only: validation rows drawn above 800 make the val loss rise -> early stops."""
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 30, 5, generator=g, dtype=torch.float64)
    y = torch.randint(0, 9, (n,), generator=g)
    X[:800, 0, 0] += 0.6 * y[:800]
    X[800:, 0, 0] += 0.6 * y[800:].flip(0)
    return X, y


@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("arch", ["mlp", "dgcnn", "transformer"])
def test_stacked_equals_sequential(arch, dropout):
    X, y = _toy()
    tr = [np.arange(0, 800), np.arange(100, 700), np.arange(0, 500)]
    va = [np.arange(800, 1000), np.arange(900, 1200), np.arange(700, 1100)]
    mu = torch.stack([X[t].mean(0) for t in tr])
    sd = torch.stack([X[t].std(0) for t in tr])
    cfg = StackConfig(epochs=8, batch_size=64, lr=1e-2, patience=2, weight_decay=1e-4)
    make = lambda m: build(arch, 30, 5, 9, hidden=16, seed=10 + m, dropout=dropout).double()  # noqa: E731
    res = train_stacked(make, 3, X, y, tr, va, [1, 2, 3], cfg, mu=mu, sd=sd)
    for m in range(3):
        ref, tl, vl = train_sequential(make(m), X, y, tr[m], va[m], seed=m + 1, config=cfg, mu=mu[m], sd=sd[m])
        n = len(tl)
        assert np.allclose(res.train_loss[m, :n], tl, rtol=1e-9, atol=1e-10)
        assert np.allclose(res.val_loss[m, :n], vl, rtol=1e-9, atol=1e-10)
        assert np.isnan(res.train_loss[m, n:]).all()               # frozen once its patience ran out
        a, b = res.model(m).state_dict(), ref.state_dict()
        assert all(torch.allclose(a[k], b[k], atol=1e-9) for k in a)
    assert (res.stopped_epoch < cfg.epochs - 1).any()                # early stopping was exercised


def test_mixed_precision_is_off_on_cpu_by_default_and_close_when_forced():
    """amp="auto" leaves CPU training float32 (bit-identical to amp=False); amp=True (bfloat16 autocast) trains
    the same models to nearly the same losses, with float32 weights."""
    X, y = _toy()
    X = X.float()
    tr, va = [np.arange(0, 800)] * 2, [np.arange(800, 1000)] * 2
    make = lambda m: build("mlp", 30, 5, 9, hidden=16, seed=10 + m)  # noqa: E731
    runs = {amp: train_stacked(make, 2, X, y, tr, va, [1, 2], StackConfig(epochs=4, batch_size=64, lr=1e-2, amp=amp))
            for amp in ("auto", False, True)}
    assert np.array_equal(runs["auto"].train_loss, runs[False].train_loss)
    assert all(torch.equal(runs["auto"].params[k], runs[False].params[k]) for k in runs[False].params)
    assert not np.array_equal(runs[True].train_loss, runs[False].train_loss)       # autocast did run
    assert np.allclose(runs[True].train_loss, runs[False].train_loss, rtol=0.05, equal_nan=True)
    assert all(v.dtype == torch.float32 for v in runs[True].params.values())


def test_loss_fn_hook_is_called_per_model_and_changes_training():
    X, y = _toy(600)
    tr, va = [np.arange(400)] * 2, [np.arange(400, 600)] * 2
    cfg = StackConfig(epochs=2, batch_size=100)
    make = lambda m: build("mlp", 30, 5, 9, hidden=8, seed=0).double()  # noqa: E731
    seen = []

    def extra(rep, logits, yb, clip, m):
        seen.append(m)
        return 5.0 * m * rep.pow(2).mean()

    res = train_stacked(make, 2, X, y, tr, va, [0, 0], cfg, loss_fn=extra)
    assert set(seen) == {0, 1}
    a, b = res.model(0).state_dict(), res.model(1).state_dict()
    assert not torch.allclose(a["fc2.weight"], b["fc2.weight"])    # only model 1 felt the extra term


def test_undefined_loss_on_padding_batches_never_reaches_a_model():
    """A model whose epoch is shorter is fed padding batches (one repeated sample) while masked; a loss term that
    is undefined there (NaN, like a correlation over one sample) must not touch its weights or loss history."""
    X, y = _toy(600)
    tr, va = [np.arange(400), np.arange(100)], [np.arange(400, 600)] * 2   # model 1: 1 step an epoch, model 0: 4
    make = lambda m: build("mlp", 30, 5, 9, hidden=8, seed=m).double()  # noqa: E731
    cfg = StackConfig(epochs=3, batch_size=100, lr=1e-2)

    def nan_on_one_sample(rep, logits, yb, clip, m):      # defined on real batches, NaN on a padding batch
        return 0.1 * rep.pow(2).mean() if yb.unique().numel() > 1 else rep.sum() * float("nan")

    def plain(rep, logits, yb, clip, m):
        return 0.1 * rep.pow(2).mean()

    bad = train_stacked(make, 2, X, y, tr, va, [3, 4], cfg, loss_fn=nan_on_one_sample)
    good = train_stacked(make, 2, X, y, tr, va, [3, 4], cfg, loss_fn=plain)
    assert all(torch.isfinite(v).all() for v in bad.params.values())
    assert np.isfinite(bad.train_loss).all()
    assert all(torch.equal(bad.params[k], good.params[k]) for k in good.params)
