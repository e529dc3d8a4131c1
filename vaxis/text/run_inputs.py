"""Parameter checks of the zero-shot runs (chapters 2-3): bad inputs are refused before any model loads, so they
are never reported as a model that failed to load (:func:`vaxis.text.zeroshot.load_runs`)."""

from __future__ import annotations

import numpy as np

from vaxis.text import sentiment as B

__all__ = ["check_run_inputs"]


def _names(value, what: str, allow_none: bool = False) -> list[str] | None:
    """``value`` as a list of non-empty strings, or a clear error (a string is refused, never sliced into letters)."""
    if value is None and allow_none:
        return None
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{what} must be a list of names, got {type(value).__name__} {value!r}"
                        + (f" (write [{value!r}] for one)" if isinstance(value, str) else ""))
    out = list(value)
    if not all(isinstance(v, str) and v.strip() for v in out):
        raise TypeError(f"{what} must hold non-empty strings, got {out!r}")
    if len(out) > 1 and all(len(v) == 1 for v in out):
        raise ValueError(f"{what} {out!r} looks like the string {''.join(out)!r} sliced into letters: pass a list "
                         "of names")
    return out


def check_run_inputs(models, control_models, names, quick, n_texts=None, batch_size=None,
                     control_n_texts=None) -> None:
    """Refuse bad parameters of :func:`load_runs` before any model loads (they would fail for every model, and must
    never be reported as a model that failed to load).

    Raises
    ------
    TypeError, ValueError
        ``models`` / ``control_models`` / ``names`` not lists of names (or a string sliced into letters), an unknown
        benchmark name (not in :data:`~vaxis.text.sentiment.BENCHMARKS` and not a file), ``quick`` not a bool,
        ``n_texts`` not None / a positive int / ``{"encoder": ..., "causal": ...}``, ``batch_size`` or
        ``control_n_texts`` not None / a positive int.
    """
    _names(models, "models")
    _names(control_models, "control_models", allow_none=True)
    for b in _names(names, "benchmark names"):
        if not B.is_user_file(b) and b not in B.BENCHMARKS:
            raise ValueError(f"unknown benchmark {b!r}: expected one of {list(B.BENCHMARKS)} or a path to a "
                             ".tsv/.csv/.jsonl(.gz) file")
    if not isinstance(quick, (bool, np.bool_)):
        raise TypeError(f"quick must be True or False, got {type(quick).__name__} {quick!r}")

    def count(v, what):
        if v is not None and (isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 1):
            raise TypeError(f"{what} must be None or a positive integer, got {type(v).__name__} {v!r}")

    if isinstance(n_texts, dict):
        unknown = set(n_texts) - {"encoder", "causal"}
        if unknown:
            raise ValueError(f"n_texts keys must be 'encoder' / 'causal', got {sorted(map(str, unknown))}")
        for k, v in n_texts.items():
            count(v, f"n_texts[{k!r}]")
    else:
        count(n_texts, "n_texts")
    count(batch_size, "batch_size")
    count(control_n_texts, "control_n_texts")
