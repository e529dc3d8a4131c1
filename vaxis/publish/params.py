"""Chapter parameters, checked before a chapter loads any model or data.

Every chapter calls, first thing in the code cell after its ``parameters`` cell::

    params = check_parameters(globals(), "04_eeg_projection")

The spec is read from the chapter's own ``parameters`` cell (``notebooks/<chapter>.py``): each default fixes the type
(a bool, an int, a float, a string, a list of ..., a dict); a default of ``None`` takes its type from
:data:`NULLABLE`; :data:`CHOICES` names the parameters with a fixed set of values. A value of the wrong kind is
refused with one clear message (``ParameterError``) listing every bad parameter, never passed on to fail far away:
``"false"`` for a bool is read as ``False`` (papermill's ``-p quick false`` passes the string), a string where a
list belongs is refused (it would be sliced into letters), a folder that does not exist is refused. A parameter
papermill injected (its ``injected-parameters`` cell) that the chapter does not declare fails the run with the list
of the chapter's parameters. The checked values are written back into the chapter's namespace.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["ParameterError", "NULLABLE", "CHOICES", "parameter_cell", "check_parameters", "check_value",
           "injected_names", "current_run"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
_PARAMS_CELL = re.compile(r"^# %%.*tags=\[[^\]]*\"parameters\"")
_SAFE = {"list": list, "range": range, "dict": dict, "tuple": tuple}

#: Parameters whose default is ``None`` (or may be): what else they accept. ``"dir"`` must be an existing folder,
#: ``"folder"`` is created when missing (results, caches).
NULLABLE: dict[str, str] = {
    "faced_dir": "dir", "seedv_dir": "dir", "sentiment_dir": "dir", "results_dir": "folder", "cache_dir": "folder",
    "control_models": "list[str]", "text_col": "str", "label_col": "str", "address": "str", "protocol": "str",
    "llm_batch_size": "int", "folds_per_job": "int", "n_texts": "int", "splits": "dict",
}
#: Parameters (or the items of list parameters) with a fixed set of values; those of ``method``, ``executor`` and
#: ``arch`` / ``archs`` come from their registries (:func:`_choices`).
CHOICES: dict[str, tuple] = {
    "protocol": ("kfold", "fixed"),
    "tasks": ("9class", "binary"),
    "stimulus_task": ("9class", "binary"),
}
POSITIVE = {"n_boot", "n_perm", "n_folds", "repeats", "epochs", "n_texts", "max_tokens", "n_runs", "n_random",
            "llm_batch_size", "batch_size", "hidden", "threads", "folds_per_job", "steps_per_epoch", "seedv_folds",
            "replicates", "n_bag", "stimulus_n_folds", "stimulus_subject_folds", "control_n_texts"}
ALSO_NONE = {"n_texts"}          # non-None defaults that also accept None ("read every row")
STRICT_KEYS = {"train"}          # dict parameters whose keys must be among the default's
_DEVICE = re.compile(r"auto|cpu|mps|cuda(:\d+)?")
_TRUE, _FALSE = {"true", "yes", "on", "1"}, {"false", "no", "off", "0"}
_RUN: dict[str, Any] = {}


class ParameterError(ValueError):
    """A chapter parameter of the wrong kind, or one the chapter does not declare."""


def parameter_cell(chapter: str, source: str | Path | None = None) -> dict[str, tuple[Any, str]]:
    """The chapter's ``parameters`` cell: name -> (default value, its comment).

    ``source`` is the chapter's Jupytext file (default ``notebooks/<chapter>.py``).
    """
    path = Path(source) if source is not None else NOTEBOOKS / f"{chapter}.py"
    if not path.is_file():
        raise ParameterError(f"cannot check the parameters of {chapter!r}: its source {path} does not exist")
    lines, block, inside = path.read_text().splitlines(), [], False
    for line in lines:
        if line.startswith("# %%"):
            if inside:
                break
            inside = bool(_PARAMS_CELL.match(line))
            continue
        if inside:
            block.append(line)
    text = "\n".join(block) + "\n"
    comments = {t.start[0]: t.string.lstrip("# ").strip() for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type == tokenize.COMMENT}
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                value = eval(compile(ast.Expression(node.value), str(path), "eval"), {"__builtins__": _SAFE})
            out[node.targets[0].id] = (value, comments.get(node.lineno, ""))
    if not out:
        raise ParameterError(f"{path} has no parameters cell (a code cell tagged 'parameters')")
    return out


def _choices(name: str) -> tuple | None:
    """The allowed values of ``name``; registries are imported only for a chapter that has the parameter (the
    decoders' registry imports torch)."""
    if name == "method":
        from vaxis.text.axis_estimator import METHODS

        return tuple(METHODS)
    if name == "executor":
        from vaxis.runs.executors import EXECUTORS

        return tuple(EXECUTORS)
    if name in ("arch", "archs"):
        from vaxis.decoding.decoders import DECODERS

        return tuple(DECODERS)
    return CHOICES.get(name)


def _bool(name: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in _TRUE | _FALSE:
        return v.strip().lower() in _TRUE
    raise ParameterError(f"{name} must be true or false, got {v!r} ({type(v).__name__})")


def _number(name: str, v: Any, kind: type) -> int | float:
    if isinstance(v, str):
        try:
            v = ast.literal_eval(v.strip().replace("_", ""))
        except (ValueError, SyntaxError):
            raise ParameterError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {v!r}") from None
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise ParameterError(f"{name} must be {'an integer' if kind is int else 'a number'}, got {v!r} "
                             f"({type(v).__name__})")
    if kind is int:
        if isinstance(v, float) and not v.is_integer():
            raise ParameterError(f"{name} must be an integer, got {v!r}")
        v = int(v)
    else:
        v = float(v)
    if name in POSITIVE and v < 1:
        raise ParameterError(f"{name} must be at least 1, got {v!r}")
    if name == "alpha" and not 0 < v < 1:
        raise ParameterError(f"alpha must lie strictly between 0 and 1, got {v!r}")
    if name == "dropout" and not 0 <= v < 1:
        raise ParameterError(f"dropout must lie in [0, 1), got {v!r}")
    return v


def _str(name: str, v: Any, choices: tuple | None = None) -> str:
    if not isinstance(v, str) or not v:
        raise ParameterError(f"{name} must be a non-empty string, got {v!r} ({type(v).__name__})")
    if name == "device" and not _DEVICE.fullmatch(v):
        raise ParameterError(f"device must be auto, cpu, cuda, cuda:N or mps, got {v!r}")
    if choices is not None and v not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(map(str, choices))}; got {v!r}")
    return v


def _list(name: str, v: Any, item: Any) -> list:
    if isinstance(v, str):
        raise ParameterError(f"{name} must be a list, got the string {v!r} (it would be read letter by letter); "
                             f"with papermill write -y \"{name}: [{v}]\"")
    if not isinstance(v, list | tuple):
        raise ParameterError(f"{name} must be a list, got {v!r} ({type(v).__name__})")
    if not v:
        raise ParameterError(f"{name} must not be empty")
    choices = _choices(name)
    return [check_value(f"{name}[{i}]", x, item, choices=choices) if item is not None else x for i, x in enumerate(v)]


def _benchmarks(v: list) -> list:
    from vaxis.text.sentiment import BENCHMARKS, is_user_file

    for b in v:
        if not isinstance(b, str | Path):
            raise ParameterError(f"benchmark_names items must be benchmark names or file paths, got {b!r}")
        if str(b) not in BENCHMARKS and not (is_user_file(b) and Path(b).expanduser().is_file()):
            why = "no such file" if is_user_file(b) else "not a benchmark name"
            raise ParameterError(f"benchmark_names: {str(b)!r} is {why}; use {', '.join(BENCHMARKS)} or the path of "
                                 f"an existing .tsv/.csv/.jsonl file")
    return [str(b) for b in v]


def check_value(name: str, value: Any, default: Any, *, choices: tuple | None = None) -> Any:
    """``value`` checked against (and converted to) the kind of ``default``; raises :class:`ParameterError`."""
    base = name.split("[")[0]
    if default is None or (value is None and base in ALSO_NONE):
        if value is None:
            return None
        kind = NULLABLE.get(base)
        if kind in ("dir", "folder"):
            if not isinstance(value, str | Path) or not str(value):
                raise ParameterError(f"{name} must be a folder path or None, got {value!r}")
            if kind == "dir" and not Path(value).expanduser().is_dir():
                raise ParameterError(f"{name}: folder {str(value)!r} does not exist")
            return str(value)
        if kind == "list[str]":
            return _list(name, value, "")
        if kind == "dict" and not isinstance(value, dict):
            raise ParameterError(f"{name} must be a mapping (e.g. train/val/test lists) or None, got {value!r}")
        if base == "splits" and (set(value) != {"train", "val", "test"}
                                 or not all(isinstance(v, list | tuple) for v in value.values())):
            raise ParameterError(f"splits must map train, val and test to lists of subject ids, got {sorted(value)}")
        if kind == "str":
            return _str(name, value, choices if choices is not None else _choices(base))
        if kind == "int":
            return _number(name, value, int)
        return value
    if isinstance(default, bool):
        return _bool(name, value)
    if isinstance(default, int | float):
        return _number(name, value, type(default))
    if isinstance(default, str):
        return _str(name, value, choices if choices is not None else _choices(base))
    if isinstance(default, list | tuple):
        items = {type(x) for x in default}
        item = default[0] if len(items) == 1 else None
        out = _list(name, value, item)
        return _benchmarks(out) if name == "benchmark_names" else out
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise ParameterError(f"{name} must be a mapping, got {value!r} ({type(value).__name__})")
        if name in STRICT_KEYS:
            unknown = sorted(set(value) - set(default))
            if unknown:
                raise ParameterError(f"{name} has unknown key(s) {unknown}; known: {', '.join(default)}")
            return {**default, **{k: check_value(f"{name}.{k}", v, default[k]) for k, v in value.items()}}
        return dict(value)
    return value


def injected_names(namespace: MutableMapping[str, Any]) -> list[str] | None:
    """Names assigned by papermill's ``injected-parameters`` cell(s) (found in the kernel's input history ``In``:
    papermill writes them after a ``# Parameters`` line); None when the namespace has no input history."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return None
    names: list[str] = []
    for src in history:
        if isinstance(src, str) and src.lstrip().startswith("# Parameters"):
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            names += [t.id for n in tree.body if isinstance(n, ast.Assign)
                      for t in n.targets if isinstance(t, ast.Name)]
    return names


def _plain(v: Any) -> bool:
    return v is None or isinstance(v, bool | int | float | str | list | dict)


def check_parameters(namespace: MutableMapping[str, Any], chapter: str, *, source: str | Path | None = None,
                     announce: bool = True) -> dict[str, Any]:
    """Check a chapter's parameters in ``namespace`` (its ``globals()``), write the checked values back, return them.

    Parameters
    ----------
    namespace : mutable mapping
        The chapter's globals after its parameters (and papermill's injected ones) ran.
    chapter : str
        The chapter's stem, e.g. ``"04_eeg_projection"``; its ``parameters`` cell gives the spec.
    source : path, optional
        The chapter's Jupytext source (default ``notebooks/<chapter>.py``).
    announce : bool
        Print a banner when ``quick`` is true (the page then says it shows a quick run).

    Raises
    ------
    ParameterError
        Listing every parameter of the wrong kind and every unknown (injected, undeclared) one.
    """
    spec = parameter_cell(chapter, source)
    injected = injected_names(namespace)
    if injected is None:   # no kernel history: any plain value not declared and not private is suspect
        injected = [k for k, v in namespace.items()
                    if not k.startswith("_") and _plain(v) and k not in spec and k not in ("params", "In", "Out")]
    problems = []
    unknown = sorted(set(injected) - set(spec))
    if unknown:
        problems.append(f"unknown parameter(s) {unknown}; {chapter} declares: "
                        + "; ".join(f"{k} (default {d!r})" for k, (d, _) in spec.items()))
    checked = {}
    for name, (default, _) in spec.items():
        try:
            checked[name] = check_value(name, namespace.get(name, default), default)
        except ParameterError as err:
            problems.append(str(err))
    if problems:
        raise ParameterError(f"{chapter}: bad parameters:\n  " + "\n  ".join(problems))
    namespace.update(checked)
    _RUN.clear()
    _RUN.update(chapter=chapter, quick=bool(checked.get("quick", False)))
    if announce and checked.get("quick"):
        print(f"QUICK RUN ({chapter}, quick=True): small settings for CI tests. The numbers and the verdict on this "
              "page are a smoke test, not the chapter's result.")
    return checked


def current_run(chapter: str) -> dict[str, Any]:
    """What :func:`check_parameters` recorded for ``chapter`` in this process (``{}`` if it did not run)."""
    return dict(_RUN) if _RUN.get("chapter") == chapter else {}
