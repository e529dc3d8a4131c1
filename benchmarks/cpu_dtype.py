"""bfloat16 against float32 weights on the CPU: hidden-state extraction speed and agreement, per offline model.

Why: the registry may give a model a ``cpu_dtype`` (:func:`vaxis.text.models.default_dtype`); this measures, side by
side in one process on the same texts, what that buys and what it changes:

- seconds of ``extract(layers=[L])`` (the chapter-2 call for most texts) in float32 and in bfloat16, and the ratio;
- agreement of the two pooled states at layer L: the median per-text cosine similarity, and the Spearman correlation
  of the texts' V-axis positions (the direction of the nine sentences fitted on each dtype's own states), which is
  what chapters 2-3 read.

Texts: the first ``--n`` texts of each chapter-2 benchmark in its seeded order, cut like chapter 2.

Measured 2026-12-06 on the shared 2-core machine: see the README ("CI") and the closing note of that session.
Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/cpu_dtype.py [--models qwen2.5-coder-0.5b] [--n 24]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.stats import spearmanr

from vaxis.text import llm
from vaxis.text.axis import anchor_states
from vaxis.text.sentences import SIGNS
from vaxis.text.sentiment import BENCHMARKS, MAX_TOKENS, evaluation_set
from vaxis.text.zeroshot import fit_axis, project


def _states(name: str, dtype: str, texts: list[str]) -> tuple[float, np.ndarray, np.ndarray, int]:
    """(seconds, pooled states (n_texts, hidden), V-axis positions (n_texts,), layer) for one dtype."""
    model = llm.load_model(name, device="cpu", dtype=dtype)
    anchors = anchor_states(model)
    layer = anchors["layer"]
    kw = dict(layers=[layer], pooling=model.default_pooling, max_length=MAX_TOKENS, progress=False, use_cache=False)
    llm.extract(model, texts[:2], **kw)                                   # warm-up
    t0 = time.perf_counter()
    h = llm.extract(model, texts, **kw)[0]
    seconds = time.perf_counter() - t0
    axis = fit_axis(anchors["nine"], SIGNS, layer, reference=anchors["reference"])
    return seconds, h, project(axis, h), layer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["qwen2.5-coder-0.5b"])
    ap.add_argument("--n", type=int, default=24, help="texts per benchmark")
    args = ap.parse_args()
    texts = [t for b in BENCHMARKS for t in evaluation_set(b, args.n)["text"].tolist()]
    print(f"{len(texts)} texts ({args.n} per benchmark), CPU")
    for name in args.models:
        t32, h32, v32, layer = _states(name, "float32", texts)
        t16, h16, v16, layer16 = _states(name, "bfloat16", texts)
        cos = np.sum(h32 * h16, 1) / (np.linalg.norm(h32, axis=1) * np.linalg.norm(h16, axis=1))
        rho = spearmanr(v32, v16).statistic
        print(f"{name}: float32 {t32:.1f} s (layer {layer}), bfloat16 {t16:.1f} s (layer {layer16}): "
              f"{t32 / t16:.2f}x faster; median cosine {np.median(cos):.4f}, V-axis positions Spearman {rho:.4f}")


if __name__ == "__main__":
    main()
