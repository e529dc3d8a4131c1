"""``vaxis`` command line: ``book``, ``data check``, ``extract``, ``sweep``, ``cache``, ``doctor``; ``--version``."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import pickle
import platform
import sys
from pathlib import Path

import numpy as np

from vaxis import __version__
from vaxis.text.llm import extract, load_model
from vaxis.text.models import OFFLINE_MODELS, REGISTRY, is_installed

__all__ = ["main", "doctor"]

PACKAGES = ["numpy", "scipy", "torch", "transformers", "mne", "sklearn", "pandas", "jupyter_book", "papermill"]


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
    for model in OFFLINE_MODELS:  # the registry's offline models; the optional ones are read as data, never imported
        spec = REGISTRY[model]
        found = is_installed(model) if "parts" in spec else importlib.util.find_spec(spec["package"]) is not None
        source = f"package {spec['package']}" if "package" in spec else f"{len(spec['parts'])} part packages, optional"
        lines.append(f"offline model {model:<18} {'present' if found else 'missing'} ({source})")
    from vaxis.runs.cache import cache_root

    root = cache_root()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    lines.append(f"cache {root} ({size / 1e6:.1f} MB)")
    lines.append(f"HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE', '<unset>')}")
    defaults = {"VAXIS_FACED_DIR": "the synthetic cohort (vaxis.eeg.synthetic)", "VAXIS_SEEDV_DIR": None,
                "VAXIS_SENTIMENT_DIR": _sentiment_default()}
    for var, default in defaults.items():
        val = os.environ.get(var)
        unset = "<unset> (no default)" if default is None else f"<unset>; default in use: {default}"
        state = unset if not val else (f"{val} (exists)" if Path(val).is_dir() else f"{val} (MISSING)")
        lines.append(f"{var}={state}")
    return "\n".join(lines)


def _sentiment_default() -> str:
    """The sentiment folder a run reads when ``$VAXIS_SENTIMENT_DIR`` is unset, and whether it exists."""
    try:
        from vaxis.text.sentiment import sentiment_source

        src = sentiment_source()
    except (ImportError, OSError, ValueError) as exc:
        return f"none ({exc})"
    return f"{src.root} ({src.kind}{'' if src.root.is_dir() else ', MISSING'})"


def _data_check(args: argparse.Namespace) -> int:
    """FACED (``EEG_Features/``) or SEED-V (``EEG_DE_features/``): the folder's layout decides."""
    from vaxis.eeg.datasets import data_check
    from vaxis.eeg.seedv import seedv_check

    root = Path(args.data_dir)  # errors (no folder, no usable data, a refused pickle) reach main's one handler
    if (root / "EEG_DE_features").is_dir() and not (root / "EEG_Features").is_dir():
        print(seedv_check(root))
    else:
        print(data_check(root))
    return 0


def _cache(args: argparse.Namespace) -> int:
    """``vaxis cache ls`` (every namespace with its entries and size) and ``vaxis cache clear [NAMESPACE ...]``
    (asks first, or ``--yes``)."""
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
    if not names:
        print(f"nothing to remove: {root} holds no namespace")
        return 0
    size = sum(f.stat().st_size for n in names for f in (root / n).rglob("*") if f.is_file())
    if not args.yes and not _confirm(f"remove {len(names)} cache namespace(s) {names} from {root} "
                                     f"({size / 1e6:.1f} MB)?"):
        print("error: nothing removed (confirm at the prompt, or pass --yes)", file=sys.stderr)
        return 1
    for n in names:
        shutil.rmtree(root / n)
        print(f"removed {root / n}")
    return 0


def _confirm(question: str) -> bool:
    """Ask a yes/no question on the terminal; no terminal (a script, CI) is a no."""
    if not sys.stdin.isatty():
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


TABLE_SUFFIXES = (".tsv", ".csv", ".jsonl")


def _read_texts(path: Path, text_col: str | None) -> tuple[list[str], str | None]:
    """The texts of ``path``: a table (``.tsv`` / ``.csv`` / ``.jsonl``, optionally ``.gz``) is read with its header
    and only its text column (``text_col``, else the usual names); any other file is one text per line."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give a text file (one text per line, or a .tsv/.csv/.jsonl)")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if Path(path.name.removesuffix(".gz")).suffix.lower() in TABLE_SUFFIXES:
        from vaxis.text.sentiment import TEXT_COLS, pick_column, read_table

        df = read_table(path)
        col = pick_column(df, text_col, TEXT_COLS, "text", path)
        return [t for t in df[col].astype(str) if t.strip()], col
    if text_col is not None:
        raise ValueError(f"--text-col {text_col!r} needs a table (.tsv/.csv/.jsonl); {path} is read one text per line")
    with open(path, encoding="utf-8-sig") as f:
        return [t for t in f.read().splitlines() if t.strip()], None


def _positive_int(value: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {n}")
    return n


def _extract(args: argparse.Namespace) -> int:
    texts, text_col = _read_texts(Path(args.texts), args.text_col)
    if not texts:
        print(f"error: {args.texts} holds no non-empty text", file=sys.stderr)
        return 1
    out = Path(args.out)
    if out.is_dir():
        raise IsADirectoryError(f"--out {out} is a folder; give a file name (e.g. {out / 'hidden.npy'})")
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: the folder {out.parent} does not exist")
    model = load_model(args.model, device=args.device, lazy=True)
    pooling = args.pooling or model.default_pooling
    try:
        hidden = extract(model, texts, layers=args.layers, pooling=pooling, batch_size=args.batch_size,
                         max_length=args.max_length)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with open(out, "wb") as f:  # the name as given (np.save(path) would append .npy)
        np.save(f, hidden)
    n_hidden = model.n_layers + 1
    settings = {"model": args.model, "fingerprint": model.fingerprint, "kind": model.kind, "pooling": pooling,
                "layers": list(range(n_hidden)) if args.layers is None else [int(i) % n_hidden for i in args.layers],
                "max_length": args.max_length, "batch_size": args.batch_size, "device": model.device,
                "dtype": model.meta.get("dtype"), "texts": str(args.texts), "text_column": text_col,
                "n_texts": len(texts), "shape": list(hidden.shape), "vaxis_version": __version__}
    meta = out.with_suffix(".json")
    meta.write_text(json.dumps(settings, indent=2))
    print(f"wrote {out}: shape {hidden.shape} (n_layers, n_texts, hidden), pooling {pooling}; settings in {meta}")
    return 0


def _main(argv: list[str] | None = None) -> int:
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
    cc.add_argument("--yes", "-y", action="store_true", help="do not ask before deleting")
    d = sub.add_parser("data", help="data utilities")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    dc = dsub.add_parser("check", help="validate a FACED or SEED-V folder and summarise it")
    dc.add_argument("data_dir", type=Path)
    from vaxis.text.fetch import add_fetch_parser, fetch_main  # `vaxis data fetch sentiment` (vaxis/text/fetch.py)

    add_fetch_parser(dsub)
    e = sub.add_parser("extract", help="pooled hidden states for a text file (one text per line, or the text "
                                       "column of a .tsv/.csv/.jsonl with a header); the settings are written "
                                       "beside the output (<out>.json)")
    e.add_argument("model", help=f"registry name ({', '.join(OFFLINE_MODELS)}), hub id or local folder")
    e.add_argument("texts", type=Path)
    e.add_argument("--out", default="hidden.npy", help="output .npy file (its folder must exist)")
    e.add_argument("--text-col", default=None, help="text column of a table (default: text, sentence, review, ...)")
    e.add_argument("--pooling", default=None, choices=["last", "mean", "mean-no-first"],
                   help="default: the model's own (mean for encoders, mean-no-first for causal LMs)")
    e.add_argument("--layers", type=int, nargs="+", default=None,
                   help="hidden-state layers (0 = embeddings, negatives from the end); default all")
    e.add_argument("--max-length", type=_positive_int, default=256, help="tokens kept per text (>= 1)")
    e.add_argument("--batch-size", type=_positive_int, default=None,
                   help="default: 16 on CPU, from free memory on CUDA")
    e.add_argument("--device", default="auto")
    sub.add_parser("doctor", help="print the environment: versions, device, models, caches, data")
    from vaxis.runs.sweep import add_sweep_parser  # `vaxis sweep run|status|collect` (vaxis/runs/sweep.py)

    add_sweep_parser(sub)
    args = ap.parse_args(argv)
    if args.cmd == "book":
        from vaxis.publish.book import main as book_main

        return book_main(args.rest)
    if args.cmd == "data":
        return fetch_main(args) if args.data_cmd == "fetch" else _data_check(args)
    if args.cmd == "cache":
        return _cache(args)
    if args.cmd == "extract":
        return _extract(args)
    if args.cmd == "sweep":
        from vaxis.runs.sweep import sweep_main

        if args.sweep_cmd != "run" and not args.store.is_dir():
            raise FileNotFoundError(f"--store {args.store}: no result store there (not a folder)")
        return sweep_main(args)
    print(doctor())
    return 0


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that mean bad input or environment (a missing file, a refused pickle, a bad parameter, a
    failed download), not a bug in vaxis."""
    from vaxis.runs.sweep import SweepFailed
    from vaxis.text.fetch import FetchError

    return OSError, ValueError, pickle.UnpicklingError, FetchError, SweepFailed


def main(argv: list[str] | None = None) -> int:
    """Run one ``vaxis`` command; returns the exit code.

    A user error (see :func:`_user_errors`) prints one line, ``error: ...``, on stderr and returns 1, never a
    traceback; ``VAXIS_DEBUG=1`` re-raises it. Ctrl-C returns 130.
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        if os.environ.get("VAXIS_DEBUG"):
            raise
        lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()] or [type(exc).__name__]
        more = f" (+{len(lines) - 1} more lines; VAXIS_DEBUG=1 shows them)" if len(lines) > 1 else ""
        print(f"error: {lines[0]}{more}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
