"""Content-addressed on-disk cache for arrays.

Every entry is keyed by a hash of everything that determines its content (model id and
revision, layers, pooling, the texts, the code version; or file checksums plus a feature
configuration). Entries are written atomically (temporary file + :func:`os.replace`) and
verified on read: each ``<key>.npz`` has a ``<key>.json`` sidecar holding the SHA-256 of
the ``.npz`` bytes. A missing sidecar, a checksum mismatch or an unreadable file is a miss:
the entry is deleted and recomputed, never trusted. Two processes writing the same key
each write their own temporary file and rename it into place, so a reader only ever sees
one complete entry.

The cache root is ``$VAXIS_CACHE`` (default ``~/.cache/vaxis``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vaxis import __version__

__all__ = [
    "cache_root",
    "hash_key",
    "hash_file",
    "atomic_write_bytes",
    "load_arrays",
    "save_arrays",
    "cached_arrays",
]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Return the cache root: ``cache_dir`` if given, else ``$VAXIS_CACHE``, else ``~/.cache/vaxis``."""
    root = cache_dir or os.environ.get("VAXIS_CACHE") or Path.home() / ".cache" / "vaxis"
    return Path(root).expanduser()


def hash_key(parts: Mapping[str, Any]) -> str:
    """Stable SHA-256 (hex, 32 chars) of a JSON-serialisable mapping; the code version is mixed in."""
    payload = {"__vaxis__": __version__, **parts}
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def hash_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temp file in the same folder, fsync, rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
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
) -> dict[str, np.ndarray]:
    """Return the arrays for ``parts`` from the cache, computing and storing them on a miss."""
    key = hash_key(parts)
    if use_cache:
        hit = load_arrays(namespace, key, cache_dir)
        if hit is not None:
            return hit
    arrays = {k: np.asarray(v) for k, v in compute().items()}
    if use_cache:
        save_arrays(namespace, key, arrays, meta=parts, cache_dir=cache_dir)
    return arrays
