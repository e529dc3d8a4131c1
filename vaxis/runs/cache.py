"""Content-addressed on-disk cache for arrays.

Every entry is keyed by a hash of everything that determines its content (model id and
revision, layers, pooling, the texts; or file checksums plus a feature configuration) and of the
package source that computes it (:func:`source_hash`: the whole package by default, or the modules a
namespace names), so a fix in the code starts new entries instead of reusing results computed before it.
Entries are written atomically (temporary file + :func:`os.replace`) and
verified on read: each ``<key>.npz`` has a ``<key>.json`` sidecar holding the SHA-256 of
the ``.npz`` bytes. A missing sidecar, a checksum mismatch or an unreadable file is a miss:
the entry is deleted and recomputed, never trusted. Two processes writing the same key
each write their own temporary file and rename it into place, so a reader only ever sees
one complete entry.

The cache root is ``$VAXIS_CACHE`` (default ``~/.cache/vaxis``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "cache_root",
    "source_hash",
    "hash_key",
    "hash_file",
    "data_fingerprint",
    "atomic_write_bytes",
    "temp_file",
    "temp_dir",
    "load_arrays",
    "save_arrays",
    "cached_arrays",
]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the cache root: ``cache_dir`` if given, else ``$VAXIS_CACHE``, else ``~/.cache/vaxis``."""
    root = cache_dir or os.environ.get("VAXIS_CACHE") or Path.home() / ".cache" / "vaxis"
    return Path(root).expanduser()


_PACKAGE = Path(__file__).resolve().parents[1]
_SOURCE_HASHES: dict[tuple[str, ...], str] = {}


def _module_path(module: str) -> str:
    """``"vaxis.text.llm"`` / ``"text.llm"`` / ``"text/llm"`` -> ``"text/llm"`` (a path relative to the package)."""
    if "/" not in module:
        module = module.removeprefix("vaxis.").replace(".", "/")
    return module.removesuffix(".py")


def source_hash(modules: Sequence[str] | None = None) -> str:
    """SHA-256 (hex, 16 chars) of the package source that determines a cached result.

    Parameters
    ----------
    modules : sequence of str, optional
        Module paths relative to the package, without ``.py`` (``"text/llm"``, ``"eeg/normalise"``), or dotted module
        names (``"vaxis.text.llm"``, ``"eeg.normalise"``); None (default)
        hashes every ``.py`` file of the package, so any code change invalidates the entry.

    The hash is computed once per process and set of modules: the code a running process executes is the code
    it imported, so an edit takes effect (and changes the key) in the next process.
    """
    key = ("*",) if modules is None else tuple(sorted({_module_path(m) for m in modules}))
    if key not in _SOURCE_HASHES:
        files = sorted(_PACKAGE.rglob("*.py")) if modules is None else [_PACKAGE / f"{m}.py" for m in key]
        h = hashlib.sha256()
        for f in files:
            if not f.is_file():
                raise FileNotFoundError(f"source_hash: no module {f.relative_to(_PACKAGE)} in {_PACKAGE}")
            h.update(f.relative_to(_PACKAGE).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
        _SOURCE_HASHES[key] = h.hexdigest()[:16]
    return _SOURCE_HASHES[key]


def hash_key(parts: Mapping[str, Any], code: Sequence[str] | None = None) -> str:
    """Stable SHA-256 (hex, 32 chars) of a JSON-serialisable mapping plus the :func:`source_hash` of ``code``
    (the modules that compute the content; default the whole package)."""
    payload = {"__source__": source_hash(code), **parts}
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def hash_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def data_fingerprint(*arrays: Any) -> str:
    """SHA-256 (hex, 16 chars) of arrays' dtypes, shapes and bytes: put it in a grid's ``fixed`` values or a cache
    key so that other data under the same path start new entries, and a worker can check it reads what the driver
    read (:func:`vaxis.runs.sweep.check_data_key`)."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes() if a.dtype != object else repr(a.tolist()).encode())
    return h.hexdigest()[:16]


def temp_file(folder: str | os.PathLike, prefix: str, suffix: str = ".tmp") -> tuple[int, Path]:
    """Create a new, uniquely named file in ``folder`` and open it for writing: ``(fd, path)``.

    Unlike :func:`tempfile.mkstemp` (always mode 0600) the file gets the user's umask (mode ``0o666 & ~umask``),
    so a cache or results folder shared through group permissions stays readable by the group."""
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name {prefix}*{suffix} in {folder}")


def temp_dir(folder: str | os.PathLike, prefix: str) -> Path:
    """Create a new, uniquely named folder in ``folder`` with the user's umask (:func:`tempfile.mkdtemp`: 0700)."""
    for _ in range(100):
        path = Path(folder) / f"{prefix}{secrets.token_hex(6)}"
        try:
            path.mkdir(mode=0o777)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary folder name {prefix}* in {folder}")


@contextlib.contextmanager
def atomic_dir(out_dir: str | os.PathLike) -> Iterator[Path]:
    """Build a folder atomically: yields a fresh temporary folder beside ``out_dir`` (:func:`temp_dir`); on success it
    is renamed to ``out_dir`` (if another process got there first, its complete copy is kept and ours removed), on
    any error it is removed, so ``out_dir`` is never seen half-written."""
    out_dir = Path(out_dir)
    tmp = temp_dir(out_dir.parent, f".{out_dir.name}.")
    try:
        yield tmp
        if out_dir.exists():
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temp file in the same folder, fsync, rename. The file gets the
    user's umask (not 0600), like any file the user writes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temp_file(path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _entry_paths(namespace: str, key: str, cache_dir: str | os.PathLike | None) -> tuple[Path, Path]:
    folder = cache_root(cache_dir) / namespace
    return folder / f"{key}.npz", folder / f"{key}.json"


def save_arrays(
    namespace: str,
    key: str,
    arrays: Mapping[str, np.ndarray],
    meta: Mapping[str, Any] | None = None,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Store named arrays under ``namespace/key``; returns the ``.npz`` path."""
    import io

    npz_path, json_path = _entry_paths(namespace, key, cache_dir)
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    data = buf.getvalue()
    atomic_write_bytes(npz_path, data)
    sidecar = {"sha256": hashlib.sha256(data).hexdigest(), "meta": dict(meta or {})}
    atomic_write_bytes(json_path, json.dumps(sidecar, default=str).encode())
    return npz_path


def load_arrays(
    namespace: str, key: str, cache_dir: str | os.PathLike | None = None
) -> dict[str, np.ndarray] | None:
    """Load a verified entry, or ``None`` on a miss. A corrupt or partial entry is deleted."""
    import io

    npz_path, json_path = _entry_paths(namespace, key, cache_dir)
    if not npz_path.exists() or not json_path.exists():
        return None
    try:
        sidecar = json.loads(json_path.read_text())
        data = npz_path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sidecar["sha256"]:
            raise ValueError("checksum mismatch")
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception:  # corrupt entry: drop it, recompute
        npz_path.unlink(missing_ok=True)
        json_path.unlink(missing_ok=True)
        return None


def cached_arrays(
    namespace: str,
    parts: Mapping[str, Any],
    compute: Callable[[], Mapping[str, np.ndarray]],
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    code: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """Return the arrays for ``parts`` from the cache, computing and storing them on a miss.

    ``code``: the modules whose source determines the content (see :func:`source_hash`); default the whole
    package."""
    key = hash_key(parts, code)
    if use_cache:
        hit = load_arrays(namespace, key, cache_dir)
        if hit is not None:
            return hit
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    if use_cache:
        save_arrays(namespace, key, arrays, meta=parts, cache_dir=cache_dir)
    return arrays
