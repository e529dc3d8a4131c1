"""Keyed dropout: each model's masks are its own (key, step, call, element), under vmap as alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import vmap

from vaxis.decoding.decoders import build
from vaxis.decoding.dropout import KeyedDropout, _mix, key_dropout, keyed_keep, keyed_uniform, new_pass


def _u(key: int, step: int, call: int = 0, shape=(64, 256)) -> torch.Tensor:
    return keyed_uniform(torch.tensor(key), torch.tensor(step), call, shape)


def test_keyed_uniform_is_uniform_and_a_function_of_its_inputs():
    u = _u(3, 7)
    assert u.dtype == torch.float32 and u.shape == (64, 256)
    assert float(u.min()) >= 0 and float(u.max()) < 1
    assert abs(float(u.mean()) - 0.5) < 0.01 and abs(float(u.std()) - 12 ** -0.5) < 0.01
    assert abs(float((u < 0.3).float().mean()) - 0.3) < 0.01
    assert torch.equal(u, _u(3, 7))
    for other in (_u(4, 7), _u(3, 8), _u(3, 7, call=1)):
        assert not torch.equal(u, other)
        r = np.corrcoef(u.flatten().numpy(), other.flatten().numpy())[0, 1]
        assert abs(r) < 0.02, r                    # neighbouring keys / steps / calls: unrelated draws
    for p in (0.1, 0.3, 0.5):                                       # the integer mask is the float rule
        assert torch.equal(keyed_keep(torch.tensor(3), torch.tensor(7), 0, (64, 256), p), u >= p)
    flat = u.flatten().numpy()
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.02       # neighbouring elements too


def test_masks_under_vmap_are_each_models_own():
    keys, steps = torch.tensor([5, 9, 5]), torch.tensor([0, 3, 2])
    out = vmap(lambda k, s: keyed_uniform(k, s, 1, (8, 4)))(keys, steps)
    for m in range(3):
        assert torch.equal(out[m], _u(int(keys[m]), int(steps[m]), 1, (8, 4)))


def test_unkeyed_dropout_is_torch_dropout_and_eval_is_identity():
    x = torch.randn(32, 16)
    d, ref = KeyedDropout(0.3), torch.nn.Dropout(0.3)
    torch.manual_seed(0)
    a = d(x)
    torch.manual_seed(0)
    assert torch.equal(a, ref(x))
    assert torch.equal(d.eval()(x), x)
    assert "key" not in KeyedDropout(0.0)._buffers                  # p = 0: nothing to stack
    model = build("mlp", 4, 2, 3, hidden=8, dropout=0.3)
    assert not any(k.endswith((".key", ".step")) for k in model.state_dict())   # not saved with a model


def test_keyed_dropout_keeps_1_minus_p_and_changes_with_each_call():
    model = build("mlp", 4, 2, 3, hidden=64, dropout=0.25).train()
    names = key_dropout(model)
    assert names == ["drop.key", "drop.step"]
    model.get_buffer("drop.key").fill_(11)
    h = torch.ones(512, 128)
    new_pass(model)
    first, second = model.drop(h), model.drop(h)
    assert abs(float((first == 0).float().mean()) - 0.25) < 0.01
    assert torch.allclose(first[first != 0], torch.tensor(1 / 0.75))
    assert not torch.equal(first, second)                            # a second call in one pass: another mask
    new_pass(model)
    assert torch.equal(model.drop(h), first)                         # same key, step and call: same mask
    model.get_buffer("drop.step").add_(1)
    new_pass(model)
    assert not torch.equal(model.drop(h), first)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_bad_rate_is_refused(p):
    with pytest.raises(ValueError):
        KeyedDropout(p)


def test_int32_element_hash_is_the_32_bit_hash():
    """The per-element pass wraps int32 products and masks its shifts: every bit equals the int64 reference
    (checked on more elements than one vector width, so the scalar tail of the kernels is covered too)."""
    key, step, call, n = torch.tensor(123456789), torch.tensor(987), 2, 100_003
    seed = _mix(_mix(key ^ ((call * 0x1E3779B1) & 0xFFFFFFFF)) ^ step)
    ref = (_mix(seed ^ torch.arange(n, dtype=torch.long)) >> 8).to(torch.float32) / (1 << 24)
    assert torch.equal(keyed_uniform(key, step, call, (n,)), ref)
