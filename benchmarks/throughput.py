"""Hidden-state extraction throughput per offline model: batched vs one at a time, cached vs uncached.

Prints texts/s and the ratios, all measured side by side in one run (timings on shared machines drift;
ratios are steadier). Texts: the first N texts of ``--benchmark`` (SST-2 dev sentences by default; ``imdb``
gives reviews word-truncated as in chapter 2). ``--project`` also prints the projected single-pass time of
chapter 2's evaluation set at its full size (every benchmark's rows, IMDB's 2,000-review subset) per model,
from the batched rate on each benchmark. Usage:

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/throughput.py [--models minilm smollm2-135m] [--n 128]
        [--benchmark imdb] [--project]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from vaxis import llm
from vaxis.benchmarks import IMDB_MAX_WORDS, load_benchmark, truncate_words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["minilm", "smollm2-135m", "gemma3-270m"])
    ap.add_argument("--n", type=int, default=128, help="texts per measurement")
    ap.add_argument("--pooling", default="mean-no-first")
    ap.add_argument("--benchmark", default="sst2")
    ap.add_argument("--project", action="store_true", help="project chapter 2's full-size extraction time")
    args = ap.parse_args()
    texts = _texts(args.benchmark, args.n)
    print(f"{'model':16s} {'batch1/s':>9s} {'batch32/s':>10s} {'cached/s':>10s} {'b32/b1':>7s} {'cache/b32':>10s}")
    for name in args.models:
        model = llm.load_model(name, device="cpu")
        llm.extract(model, texts[:4], pooling=args.pooling, batch_size=4)  # warm-up, uncached
        rates = {}
        for label, bs in (("b1", 1), ("b32", 32)):
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter()
                llm.extract(model, texts, pooling=args.pooling, batch_size=bs, cache_dir=d)
                rates[label] = len(texts) / (time.perf_counter() - t0)
                if bs == 32:  # the same call again: served from the cache, no forward pass
                    calls = llm.FORWARD_CALLS
                    t0 = time.perf_counter()
                    llm.extract(model, texts, pooling=args.pooling, batch_size=bs, cache_dir=d)
                    rates["cached"] = len(texts) / (time.perf_counter() - t0)
                    assert llm.FORWARD_CALLS == calls, "cached call ran a forward pass"
        print(f"{name:16s} {rates['b1']:9.1f} {rates['b32']:10.1f} {rates['cached']:10.0f} "
              f"{rates['b32'] / rates['b1']:7.1f} {rates['cached'] / rates['b32']:10.0f}")
        if args.project:
            _project(model, args.pooling, min(args.n, 64))


def _texts(benchmark: str, n: int) -> list[str]:
    texts = load_benchmark(benchmark)["text"].tolist()[:n]
    return truncate_words(texts, IMDB_MAX_WORDS) if benchmark == "imdb" else texts


def _project(model, pooling: str, n: int) -> None:
    """Seconds for one uncached batched pass over every chapter-2 benchmark at full size, from ``n`` texts each."""
    from vaxis.benchmarks import BENCHMARKS, evaluation_set

    total = 0.0
    for bench in BENCHMARKS:
        full = len(evaluation_set(bench))                    # chapter 2's cap: neutrals kept, IMDB 2,000 subset
        texts = evaluation_set(bench, n)["text"].tolist()
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            llm.extract(model, texts, pooling=pooling, batch_size=32, cache_dir=d)
            rate = len(texts) / (time.perf_counter() - t0)
        total += full / rate
        print(f"    {bench:22s} {full:6d} texts at {rate:6.1f}/s -> {full / rate:7.0f} s")
    print(f"    full chapter-2 evaluation set, one pass: {total / 60:.1f} min")


if __name__ == "__main__":
    main()
