"""The stacked trainer's speed-ups change no model: stopped models leave the computation, shared input blocks."""

from __future__ import annotations

import numpy as np
import torch

from vaxis.decoding.decoders import build
from vaxis.decoding.stacked_steps import group_rows, input_groups, normalise, shared_blocks
from vaxis.decoding.stacking import StackConfig, train_stacked


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


def _make(m: int) -> torch.nn.Module:
    return build("mlp", 4, 2, 3, seed=100 + m, hidden=8)


def test_each_model_trains_as_if_alone():
    """Early stopping removes models from the stack mid-run; every model's weights, losses and best epoch equal
    those of the same model trained in a stack of one."""
    X, y, train, val, seeds, mu, sd = _setup()
    cfg = StackConfig(epochs=8, batch_size=64, lr=3e-2, patience=1, max_val=None)
    res = train_stacked(_make, len(seeds), X, y, train, val, seeds, cfg, mu=mu, sd=sd)
    assert len(set(res.stopped_epoch)) > 1, "the test needs models that stop at different epochs"
    for m in range(len(seeds)):
        one = train_stacked(lambda _: _make(m), 1, X, y, [train[m]], [val[m]], [seeds[m]], cfg, mu=mu[m:m + 1],
                            sd=sd[m:m + 1])
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


def test_shared_blocks_equal_per_model_blocks():
    X, y, train, val, seeds, mu, sd = _setup()
    tr = [torch.as_tensor(t) for t in train]
    groups = input_groups([0, 0, 1, 0], [tr[0], tr[0], tr[0], tr[1]], mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]])
    assert groups.tolist() == [0, 0, 1, 2]
    ix = torch.stack([tr[0][:16], tr[0][:16], tr[0][16:32], tr[1][:16]])
    per_model = normalise(X[ix], mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]])
    assert torch.equal(shared_blocks(X, ix, mu[[0, 0, 0, 1]], sd[[0, 0, 0, 1]], group_rows(groups)), per_model)
    assert group_rows(torch.arange(3)) is None
