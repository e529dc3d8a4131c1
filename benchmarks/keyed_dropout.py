"""Cost of per-model (keyed) dropout in the stacked trainer, against torch's shared-stream dropout, same process.

Usage: ``python benchmarks/keyed_dropout.py [--archs mlp dgcnn] [--models 30] [--rounds 2]``

Both runs train the same stack (``--models`` models of one architecture, dropout 0.3, hidden 64, batch 256, 2
epochs of 40 steps, one torch thread) on the same random data; "torch" is the trainer with keying switched off, so
every dropout draws from the global stream under ``vmap(randomness="different")`` (the trainer before keyed
dropout); "keyed" is today's trainer, each model's masks hashed from its own key and step
(:mod:`vaxis.decoding.dropout`). CPU seconds of each run and the ratio keyed / torch are printed, alternating
the two so that a busy machine hurts both alike.

Measured 2026-12-06 on the shared 2-core machine (torch 2.13 CPU), 30 models, CPU seconds keyed / torch:
mlp 3.6 / 3.6 and 3.1 / 3.9; dgcnn 12.3 / 11.8 and 12.5 / 12.1 (ratio 1.03). The first keyed version hashed in
int64 and cost 15.5-15.8 s on dgcnn (ratio 1.31); hashing in int32 gives the same bits, 9x faster per pass.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import vaxis.decoding.stacking as stacking
from vaxis.decoding.decoders import build


def run(arch: str, n_models: int, keyed: bool) -> float:
    """CPU seconds of one stacked training run (keyed dropout on or off)."""
    g = torch.Generator().manual_seed(0)
    n = 20_000
    X, y = torch.randn(n, 32, 5, generator=g), torch.randint(0, 9, (n,), generator=g)
    train, val = [np.arange(0, 16_000)] * n_models, [np.arange(16_000, n)] * n_models
    cfg = stacking.StackConfig(epochs=2, batch_size=256, lr=1e-3, steps_per_epoch=40, max_val=2048)
    real = stacking.key_dropout
    if not keyed:
        stacking.key_dropout = lambda *a, **k: []
    try:
        t0 = time.process_time()
        stacking.train_stacked(lambda m: build(arch, 32, 5, 9, seed=m, hidden=64, dropout=0.3), n_models, X, y,
                               train, val, list(range(n_models)), cfg)
        return time.process_time() - t0
    finally:
        stacking.key_dropout = real


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--archs", nargs="+", default=["mlp", "dgcnn"])
    ap.add_argument("--models", type=int, default=30)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    for arch in args.archs:
        for r in range(args.rounds):
            k, t = run(arch, args.models, True), run(arch, args.models, False)
            print(f"{arch} round {r + 1}: keyed {k:.2f} s, torch {t:.2f} s, ratio {k / t:.2f}", flush=True)


if __name__ == "__main__":
    main()
