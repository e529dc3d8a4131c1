"""Dropout whose masks belong to the model: a pure function of (model key, training step, call, element).

:class:`torch.nn.Dropout` draws its masks from the global random stream. When many models train at once
(:func:`vaxis.decoding.stacking.train_stacked`, ``vmap`` with ``randomness="different"``) one draw of shape
(G, ...) serves the G models still training, so a model's masks depend on how many models sit beside it and on
which of them stopped early: the same model trained in another stack (another chunk of folds, one fold job
instead of all) learned from other masks and ended elsewhere. :class:`KeyedDropout` removes that dependence. Once
keyed (:func:`key_dropout`; the stacked trainer and its one-model reference do it), its mask at a call is a
counter-based hash of the model's ``key`` (a per-model buffer: its batch seed), its ``step`` (a per-model buffer:
the optimiser steps it has taken), the call's index within one forward pass and the element's index; under
``vmap`` the buffers are per model, so each model's masks are its own whichever models train beside it. Not
keyed, it is :class:`torch.nn.Dropout` (global stream), so a decoder used on its own behaves as before.

The hash is 32-bit integer mixing (two multiply-xorshift rounds per input; int64 with constants below 2**31 for
the per-model seed, int32 wrapping for the per-element pass) and the uniform draw takes its top 24 bits: a mask
keeps an element with probability ``1 - p`` to within 2**-24, and masks of different keys, steps, calls or
elements are independent for dropout's purposes (checked in the tests: keep rate, no correlation between
neighbouring keys, steps or elements).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import nn

__all__ = ["KeyedDropout", "keyed_uniform", "keyed_keep", "key_dropout", "keyed_modules", "new_pass", "unkey"]

_M32 = 0xFFFFFFFF
_C1, _C2, _GOLD = 0x7FEB352D, 0x5BD1E995, 0x1E3779B1


def _mix(x: torch.Tensor) -> torch.Tensor:
    """A 32-bit integer hash of int64 values in [0, 2**32), elementwise."""
    x = x ^ (x >> 16)
    x = (x * _C1) & _M32
    x = x ^ (x >> 15)
    x = (x * _C2) & _M32
    return x ^ (x >> 16)


def _bits(key: torch.Tensor, step: torch.Tensor, call: int, shape: torch.Size | tuple[int, ...],
          device: torch.device | str | None) -> torch.Tensor:
    """24 hashed bits per element of ``shape``: the hash of (key, step, call) mixed with the element index.

    The per-element hash runs in int32, in place (9x faster than int64 on a CPU): a product wraps modulo 2**32
    and each right shift is masked to a logical one, so every value equals :func:`_mix`'s 32-bit result (tested
    against it)."""
    n = 1
    for s in shape:
        n *= int(s)
    seed = _mix(_mix((key & _M32) ^ ((call * _GOLD) & _M32)) ^ (step & _M32)).to(torch.int32)
    x = torch.arange(n, dtype=torch.int32, device=device).view(tuple(shape)) ^ seed
    x ^= (x >> 16) & 0xFFFF
    x *= _C1
    x ^= (x >> 15) & 0x1FFFF
    x *= _C2
    x ^= (x >> 16) & 0xFFFF
    return (x >> 8) & 0xFFFFFF


def keyed_uniform(key: torch.Tensor, step: torch.Tensor, call: int, shape: torch.Size | tuple[int, ...],
                  device: torch.device | str | None = None) -> torch.Tensor:
    """Uniform numbers in [0, 1) of ``shape``, a pure function of (``key``, ``step``, ``call``, element index).

    Parameters
    ----------
    key, step : int64 Tensor, shape ()
        The model's key and training step (per model under ``vmap``).
    call : int
        Which dropout call of the forward pass this is.

    Returns
    -------
    Tensor, float32, ``shape``
    """
    return _bits(key, step, call, shape, device).to(torch.float32) * (1.0 / (1 << 24))


def keyed_keep(key: torch.Tensor, step: torch.Tensor, call: int, shape: torch.Size | tuple[int, ...], p: float,
               device: torch.device | str | None = None) -> torch.Tensor:
    """The dropout mask ``keyed_uniform(...) >= p`` (bool, ``shape``), compared in integers (no float pass)."""
    return _bits(key, step, call, shape, device) >= math.ceil(p * (1 << 24))


class KeyedDropout(nn.Dropout):
    """:class:`torch.nn.Dropout` whose masks, once ``keyed``, come from :func:`keyed_uniform` of its ``key`` and
    ``step`` buffers (non-persistent: not in the state dict) and the call index within one forward pass (reset
    by :func:`new_pass` before each pass). Not keyed, or ``p == 0``, or in eval mode, it is plain dropout."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(p)                      # refuses p outside [0, 1]
        if p > 0:                                # p = 0: no buffers, nothing for a trainer to stack
            self.register_buffer("key", torch.zeros((), dtype=torch.long), persistent=False)
            self.register_buffer("step", torch.zeros((), dtype=torch.long), persistent=False)
        self.keyed = False
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if not self.keyed:
            return super().forward(x)
        if self.p == 1:
            return x * 0.0
        call, self.calls = self.calls, self.calls + 1
        keep = keyed_keep(self.key, self.step, call, x.shape, self.p, x.device)
        return torch.where(keep, x * (1.0 / (1.0 - self.p)), 0.0)


def keyed_modules(module: nn.Module) -> Iterator[tuple[str, KeyedDropout]]:
    """``(name, module)`` of every :class:`KeyedDropout` in ``module`` with ``p > 0``."""
    for name, mod in module.named_modules():
        if isinstance(mod, KeyedDropout) and mod.p > 0:
            yield name, mod


def key_dropout(module: nn.Module, key: int | None = None) -> list[str]:
    """Key every dropout of ``module`` (see :class:`KeyedDropout`) and return the buffer names of their keys and
    steps (``"<name>.key"``, ``"<name>.step"``), which the caller sets per model; with ``key`` the module's own
    buffers are set to it, at step 0 (one model trained on its own)."""
    names = []
    for name, mod in keyed_modules(module):
        mod.keyed = True
        if key is not None:
            mod.key.fill_(int(key))
            mod.step.zero_()
        names += [f"{name}.key" if name else "key", f"{name}.step" if name else "step"]
    return names


def unkey(module: nn.Module) -> None:
    """A trained model's dropouts back to plain dropout (key and step zeroed)."""
    for _, mod in keyed_modules(module):
        mod.keyed = False
        mod.key.zero_()
        mod.step.zero_()


def new_pass(module: nn.Module) -> None:
    """Start a forward pass: every keyed dropout's call index back to 0."""
    for _, mod in keyed_modules(module):
        mod.calls = 0
