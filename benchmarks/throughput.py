"""Hidden-state extraction throughput per offline model: batched vs one at a time, cached vs uncached.

Prints texts/s and the ratios, all measured side by side in one run (timings on shared machines drift;
ratios are steadier). Texts: the first N SST-2 dev sentences. Usage:

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/throughput.py [--models minilm smollm2-135m] [--n 128]
"""

from __future__ import annotations

import argparse
import tempfile
import time

from vaxis import llm
from vaxis.benchmarks import load_benchmark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["minilm", "smollm2-135m", "gemma3-270m"])
    ap.add_argument("--n", type=int, default=128, help="texts per measurement")
    ap.add_argument("--pooling", default="mean-no-first")
    args = ap.parse_args()
    texts = load_benchmark("sst2")["text"].tolist()[: args.n]
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


if __name__ == "__main__":
    main()
