"""Stacked (vmap) training vs one-by-one training of the same DE-MLPs, side by side in one run.

Usage: ``python benchmarks/stacked_training.py [--models 10] [--epochs 1] [--real PATH]``

Both paths run exactly the same algorithm (same initial weights, batch plans, Adam, early stopping
switched off); the stacked one trains all models in one vmapped pass. FACED-sized random data by
default: 84,000 windows of 30 channels x 5 bands, 9 classes, each model on its own 90% of the subjects.
Prints the wall times and their ratio (target >= 5x on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from vaxis.decoders import build
from vaxis.stacking import StackConfig, train_sequential, train_stacked


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--arch", default="mlp")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    n_subj, per_subj = 100, 840
    X = torch.randn(n_subj * per_subj, 30, 5, generator=g)
    y = torch.randint(0, 9, (len(X),), generator=g)
    subj = np.repeat(np.arange(n_subj), per_subj)
    folds = np.array_split(np.arange(n_subj), args.models)
    train_idx = [np.flatnonzero(~np.isin(subj, f)) for f in folds]
    cfg = StackConfig(epochs=args.epochs, batch_size=args.batch_size, lr=1e-3)
    make = lambda m: build(args.arch, 30, 5, 9, seed=m)  # noqa: E731
    seeds = list(range(args.models))

    t0 = time.perf_counter()
    train_stacked(make, args.models, X, y, train_idx, None, seeds, cfg)
    t_stack = time.perf_counter() - t0
    t0 = time.perf_counter()
    for m in range(args.models):
        train_sequential(make(m), X, y, train_idx[m], None, seeds[m], cfg)
    t_seq = time.perf_counter() - t0
    n_win = sum(len(t) for t in train_idx) * args.epochs
    print(f"{args.arch}: {args.models} models x {args.epochs} epoch(s), {n_win:,} window-updates, "
          f"torch threads {torch.get_num_threads()}")
    print(f"one by one: {t_seq:7.2f} s   stacked: {t_stack:7.2f} s   ratio: {t_seq / t_stack:5.1f}x")


if __name__ == "__main__":
    main()
