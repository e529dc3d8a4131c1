"""Hidden-state extraction throughput per offline model: vaxis.text.llm.extract against a plain Hugging Face loop.

Measured side by side in one process, on the same texts (timings on shared machines drift; ratios are steadier):

- ``plain HF``: the loop a first version writes: texts in file order, batches of 32, ``output_hidden_states=True``,
  every layer's token states stacked and cast to float32, then pooled;
- ``vaxis, all layers``: ``extract(layers=None)``: length-sorted batches, each layer pooled in a forward hook as its
  block runs (one layer's token states held at a time);
- ``vaxis, chosen layer``: ``extract(layers=[L])`` with L the model's nine-sentence layer: the forward pass stops
  after block L (what chapters 2-3 run for every text after the first 100 of each benchmark);
- ``cached``: the same call again, served from the cache (chapters 2 and 3 share every key).

Texts: the first ``--n`` texts of each chapter-2 benchmark in its seeded order, cut like chapter 2 (IMDB to 128
words, every text to 128 tokens). The last line projects chapter 2's extraction for one model in the CI build
(500 texts per benchmark: the first 100 at every layer, the rest at the chosen layer) against the plain loop over
the same texts.

Measured 2026-12-01 on the shared 2-core machine (1 torch thread, load ~4; ratios only), 135 texts:
vaxis at the chosen layer / plain loop = 2.45x (minilm, layer 5/6), 3.13x (smollm2-135m, 19/30), 2.82x
(gemma3-270m, 11/18); all layers / plain = 2.05x / 1.80x / 1.69x (length-sorted batches); the chapter-2 plan
(500 texts per benchmark) / the plain loop over the same texts = 2.36x / 2.72x / 2.49x. Usage::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/throughput.py [--models minilm smollm2-135m] [--n 48] [--threads 0]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np
import torch

from vaxis.text import llm
from vaxis.text.axis import anchor_states
from vaxis.text.sentiment import BENCHMARKS, MAX_TOKENS, evaluation_set


def plain_hf(model: llm.LoadedModel, texts: list[str], layer: int, batch_size: int = 32) -> np.ndarray:
    """The naive loop: file order, every layer stacked, float cast, then pooled (mean without the first token for
    causal models, mean for encoders, like vaxis)."""
    tok, out = model.tokenizer, []
    for start in range(0, len(texts), batch_size):
        enc = tok(texts[start:start + batch_size], padding=True, truncation=True, max_length=MAX_TOKENS,
                  return_tensors="pt")
        enc = {k: v for k, v in enc.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        with torch.inference_mode():
            hs = torch.stack(model.module(**enc, output_hidden_states=True).hidden_states).float()
        out.append(llm._pool(hs, enc["attention_mask"], model.default_pooling)[layer].numpy())
    return np.concatenate(out)


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    res = fn()
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["minilm", "smollm2-135m", "gemma3-270m"])
    ap.add_argument("--n", type=int, default=48, help="texts per benchmark")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sets = {b: evaluation_set(b, args.n)["text"].tolist() for b in BENCHMARKS}
    texts = [t for v in sets.values() for t in v]
    print(f"{len(texts)} texts ({args.n} per benchmark), {torch.get_num_threads()} torch thread(s), CPU")
    print(f"{'model':14s} {'layer':>7s} {'plain HF/s':>10s} {'all layers/s':>12s} {'layer L/s':>10s} "
          f"{'cached/s':>9s} {'all/plain':>9s} {'L/plain':>8s}")
    for name in args.models:
        model = llm.load_model(name, device="cpu")
        layer = anchor_states(model)["layer"]
        llm.extract(model, texts[:4], use_cache=False, progress=False)  # warm-up
        t_plain, ref = timed(lambda: plain_hf(model, texts, layer))
        kw = dict(pooling=model.default_pooling, max_length=MAX_TOKENS, progress=False)
        with tempfile.TemporaryDirectory() as d:
            t_all, h_all = timed(lambda: llm.extract(model, texts, cache_dir=d, **kw))
            t_one, h_one = timed(lambda: llm.extract(model, texts, layers=[layer], cache_dir=d, **kw))
            calls = llm.FORWARD_CALLS
            t_hit, _ = timed(lambda: llm.extract(model, texts, layers=[layer], cache_dir=d, **kw))
            assert llm.FORWARD_CALLS == calls, "cached call ran a forward pass"
        err = max(np.abs(h_all[layer] - ref).max(), np.abs(h_one[0] - ref).max()) / np.abs(ref).max()
        assert err < 1e-4, f"{name}: vaxis and the plain loop disagree (max relative error {err:.2e})"
        n = len(texts)
        print(f"{name:14s} {layer:3d}/{model.n_layers:<3d} {n / t_plain:10.1f} {n / t_all:12.1f} {n / t_one:10.1f} "
              f"{n / t_hit:9.0f} {t_plain / t_all:8.2f}x {t_plain / t_one:7.2f}x")
        plan = (100 * t_all + 400 * t_one) / n   # seconds per benchmark-text set of the CI plan, per text mix
        naive = 500 * t_plain / n
        print(f"    chapter-2 plan, 500 texts x {len(BENCHMARKS)} benchmarks: {len(BENCHMARKS) * plan:6.0f} s vs plain "
              f"loop {len(BENCHMARKS) * naive:6.0f} s ({naive / plan:.2f}x)")


if __name__ == "__main__":
    main()
