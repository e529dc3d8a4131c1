"""Restricted unpickling for data files (FACED ``.pkl`` features, SEED-V pickled dicts).

A pickle can run arbitrary code when loaded (``os.system`` via ``__reduce__``). Every pickle this package
reads goes through :func:`safe_load` / :func:`safe_loads`, which only rebuild numpy arrays, dtypes and
scalars, plus plain containers (dict, list, tuple, str, bytes, numbers, None, bool). Any other global is
refused with an :class:`UnsafePickleError` naming the file and the refused ``module.name``.

Files written by Python 2 (or by numpy with ``latin1`` byte strings) are retried with
``encoding="iso-8859-1"``, as torcheeg does for FACED.
"""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path
from typing import Any

__all__ = ["ALLOWED_GLOBALS", "UnsafePickleError", "safe_load", "safe_loads"]

_NUMPY_CORE = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMPY_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")

#: (module, name) pairs the unpickler may import. Nothing else.
ALLOWED_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    [(m, "_reconstruct") for m in _NUMPY_CORE]
    + [(m, "scalar") for m in _NUMPY_CORE]
    + [(m, "_frombuffer") for m in _NUMPY_NUMERIC]
    + [
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.dtypes", "Float64DType"),
        ("numpy.dtypes", "Float32DType"),
        ("numpy.dtypes", "Int64DType"),
        ("numpy.dtypes", "Int32DType"),
        ("_codecs", "encode"),  # protocol <= 2 stores bytes as latin-1 text
        ("collections", "OrderedDict"),
    ]
    + [(m, n) for m in ("builtins", "__builtin__") for n in ("complex", "bytes", "bytearray")]
)


class UnsafePickleError(pickle.UnpicklingError):
    """A pickle asked for a global outside :data:`ALLOWED_GLOBALS`."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, origin: str, encoding: str = "ASCII") -> None:
        super().__init__(file, encoding=encoding)
        self._origin = origin

    def find_class(self, module: str, name: str) -> Any:  # noqa: D401 - pickle API
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"{self._origin}: refused to unpickle global '{module}.{name}'; only numpy arrays, dtypes, scalars "
            "and plain containers are allowed (this file is not a plain FACED/SEED-V data pickle)"
        )


def _load_bytes(data: bytes, origin: str) -> Any:
    if len(data) == 0:
        raise ValueError(f"{origin}: file is empty (0 bytes); expected a pickled numpy array")
    last_err: Exception | None = None
    for encoding in ("ASCII", "iso-8859-1"):
        try:
            return _RestrictedUnpickler(io.BytesIO(data), origin, encoding=encoding).load()
        except UnsafePickleError:
            raise
        except UnicodeDecodeError as err:  # Python-2 pickle: retry with latin-1
            last_err = err
            continue
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, IndexError, KeyError) as err:
            raise ValueError(
                f"{origin}: truncated or corrupt pickle ({len(data)} bytes): {type(err).__name__}: {err}"
            ) from err
    raise ValueError(f"{origin}: could not decode pickle with ASCII or iso-8859-1: {last_err}")


def safe_loads(data: bytes, origin: str = "<bytes>") -> Any:
    """Unpickle ``data`` with the restricted unpickler; ``origin`` names the source in errors."""
    return _load_bytes(bytes(data), origin)


def safe_load(path: str | os.PathLike) -> Any:
    """Unpickle the file at ``path`` with the restricted unpickler.

    Raises
    ------
    UnsafePickleError
        The file asks for a global that is not a numpy array / dtype / scalar constructor.
    ValueError
        The file is empty, truncated or corrupt (the message names the file and its size).
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    return _load_bytes(path.read_bytes(), str(path))
