"""Hidden-state extraction on MiniLM (real weights, offline): one text at a time vs length-sorted batches.

Measured side by side in one run (timings on these shared machines drift; the ratio is steadier):

- ``one-at-a-time``: ``extract(..., batch_size=1)``, the naive loop;
- ``batched, unsorted``: batches of 64 in the given order (each call sorts only within its own batch);
- ``batched, sorted``: ``extract(..., batch_size=64)``, texts sorted by token length (vaxis's default path).

Then bf16 vs fp32: the per-text cosine between the two precisions' hidden states at every layer; a random-weight
twin's extraction at chapter 2's ``control_n_texts`` (100) vs the pretrained model's n; and claim 1's 35-split
test, the per-fold estimator loop (``layer_curve`` + ``choose_layer`` per split) vs the Gram-matrix path of
:mod:`vaxis.text.layer_selection` (same numbers, checked), and the nested (selection-free) test on top.
Texts: ~256 SST-2 dev sentences (``../shared/data/sentiment/sst2/dev.tsv``) of varied length, else generated ones.
Target: sorted batched >= 5x one-at-a-time. Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/extraction.py [--n 256] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from vaxis.text import axis, llm  # noqa: E402
from vaxis.text import layer_selection as LS  # noqa: E402
from vaxis.text.sentences import SIGNS, TEXTS  # noqa: E402

SST2 = Path(__file__).resolve().parents[2] / "shared" / "data" / "sentiment" / "sst2" / "dev.tsv"


def benchmark_texts(n: int, seed: int = 0) -> tuple[list[str], str]:
    """``n`` sentences of varied length (SST-2 dev when present, else generated) and where they came from."""
    rng = np.random.default_rng(seed)
    if SST2.exists():
        lines = [ln.split("\t")[0].strip() for ln in SST2.read_text().splitlines()[1:] if ln.strip()]
        pick = rng.choice(len(lines), size=min(n, len(lines)), replace=False)
        return [lines[i] for i in pick], f"SST-2 dev ({SST2})"
    words = "the film is a warm funny dull bleak story about love loss and a long way home with friends".split()
    return [" ".join(rng.choice(words, size=rng.integers(3, 60))) for _ in range(n)], "generated"


def rate(fn, n_texts: int, repeats: int) -> float:
    """Best-of-``repeats`` texts per second of ``fn()``."""
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n_texts / best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--n-twin", type=int, default=100, help="texts a random-weight twin reads (chapter 2's default)")
    ap.add_argument("--n-naive", type=int, default=64, help="texts timed one at a time (a random subset)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0 = torch's default). On a busy shared machine 2 threads can be 10x slower "
                         "per small forward pass than 1 (spin-waiting), which inflates the ratio; compare both")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    texts, source = benchmark_texts(args.n)
    model = llm.load_model("minilm", device="cpu")
    n_tok = [len(ids) for ids in model.tokenizer(texts)["input_ids"]]
    print(f"minilm, {len(texts)} texts from {source}; tokens per text {min(n_tok)}-{max(n_tok)} "
          f"(median {int(np.median(n_tok))}); all {model.n_layers + 1} layers, mean pooling, fp32, CPU, "
          f"{torch.get_num_threads()} torch thread(s); "
          f"one-at-a-time timed on the first {args.n_naive} (a random subset)")
    kw = dict(pooling="mean", use_cache=False, progress=False)
    llm.extract(model, texts[:8], batch_size=8, **kw)  # warm-up
    bs = args.batch_size
    rates = {
        "one-at-a-time": rate(lambda: llm.extract(model, texts[: args.n_naive], batch_size=1, **kw),
                              min(args.n_naive, len(texts)), args.repeats),
        f"batched {bs}, unsorted": rate(
            lambda: [llm.extract(model, texts[i : i + bs], batch_size=bs, **kw) for i in range(0, len(texts), bs)],
            len(texts), args.repeats),
        f"batched {bs}, sorted": rate(lambda: llm.extract(model, texts, batch_size=bs, **kw), len(texts),
                                      args.repeats),
    }
    base = rates["one-at-a-time"]
    for k, r in rates.items():
        print(f"  {k:24s} {r:8.1f} texts/s   {r / base:5.1f}x")
    ratio = rates[f"batched {bs}, sorted"] / base
    print(f"sorted batched / one-at-a-time = {ratio:.1f}x (target >= 5x: {'met' if ratio >= 5 else 'NOT met'})")

    fp32 = llm.extract(model, texts, batch_size=bs, **kw)
    bf16_model = llm.load_model("minilm", device="cpu", dtype="bfloat16")
    r_bf16 = rate(lambda: llm.extract(bf16_model, texts, batch_size=bs, **kw), len(texts), 1)
    bf16 = llm.extract(bf16_model, texts, batch_size=bs, **kw)
    cos = (fp32 * bf16).sum(-1) / (np.linalg.norm(fp32, axis=-1) * np.linalg.norm(bf16, axis=-1))
    print(f"bf16 sorted batched: {r_bf16:.1f} texts/s ({r_bf16 / rates[f'batched {bs}, sorted']:.2f}x fp32)")
    print("bf16 vs fp32 cosine per layer (min over texts): "
          + " ".join(f"L{i}={c:.5f}" for i, c in enumerate(cos.min(axis=1))))
    twin_and_selection(texts, args.n_twin, bs)


def twin_and_selection(texts: list[str], n_twin: int, bs: int) -> None:
    """The random-weight twin at ``n_twin`` texts vs all of them; the split tests, old loop vs Gram path."""
    twin = llm.load_model("minilm", device="cpu", random_weights=True)
    kw = dict(pooling="mean", use_cache=False, progress=False, batch_size=bs)
    t0 = time.perf_counter()
    llm.extract(twin, texts, **kw)
    t_all = time.perf_counter() - t0
    t0 = time.perf_counter()
    llm.extract(twin, texts[:n_twin], **kw)
    t_few = time.perf_counter() - t0
    print(f"random-weight twin: {len(texts)} texts {t_all:.2f} s, first {n_twin} {t_few:.2f} s "
          f"({t_all / max(t_few, 1e-9):.1f}x less per benchmark)")
    nine = llm.extract(llm.load_model("minilm", device="cpu"), list(TEXTS), **kw)
    for name, h in (("minilm nine sentences", nine),
                    ("31 layers x 576 dims (smollm2-135m-sized, random)",
                     np.random.default_rng(0).normal(size=(31, 9, 576)))):
        t0 = time.perf_counter()
        old = []
        for sp in LS.split_signs(SIGNS):
            curve = axis.layer_curve(h, sp)
            old.append(float(curve.loc[axis.choose_layer(h, sp, curve=curve), "heldout_margin"]))
        t_old = time.perf_counter() - t0
        t0 = time.perf_counter()
        new = LS.split_tests(h, SIGNS, nested=False)["selected"]
        t_new = time.perf_counter() - t0
        t0 = time.perf_counter()
        LS.split_tests(h, SIGNS, nested=True)
        t_both = time.perf_counter() - t0
        same = np.allclose(np.sort(old), np.sort([new["observed"], *new["null"]]), atol=1e-9)
        print(f"35-split test, {name}: per-fold loop {t_old:.2f} s, Gram path {t_new:.3f} s "
              f"({t_old / max(t_new, 1e-9):.0f}x; same numbers: {same}); + nested (selection-free) test "
              f"{t_both:.2f} s")


if __name__ == "__main__":
    main()
