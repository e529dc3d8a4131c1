"""Mutation testing of vaxis's numeric and safety cores (``make mutants``; not run by CI or ``make test``).

A *mutant* is one small edit of a core function (a comparison flipped, ``+`` for ``-``, ``and`` for ``or``, a
constant off by one, ``True`` for ``False``, a negated condition, a statement replaced by ``pass``), applied to a
private copy of the repository. The module's fast tests then run against the copy (``pytest -x``): a mutant they
notice is *killed*; one they do not notice *survives* and is listed in the report, with its line. A survivor is
either a gap in the tests or an equivalent edit (e.g. ``eps = 1e-8`` -> ``2e-8``): read each one.

Dependency-free (``ast`` + ``pytest``). Usage::

    python tools/mutants.py                         # every core module, 2 parallel copies
    python tools/mutants.py --modules stats axis    # some modules (names as in TARGETS)
    python tools/mutants.py --list                  # print the mutants, run nothing
    python tools/mutants.py --limit 20 --jobs 1     # the first 20 mutants of each module

The report goes to ``_build/mutants/report.md`` (and ``report.json``) unless ``--report`` says otherwise.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from queue import Queue

ROOT = Path(__file__).resolve().parents[1]

#: module name -> (source file, functions / classes to mutate (None = whole module), fast tests that guard them)
TARGETS: dict[str, tuple[str, tuple[str, ...] | None, tuple[str, ...]]] = {
    "training": ("vaxis/decoding/folds.py", ("subject_folds", "_check_disjoint", "make_manifest", "fold_indices"),
                 ("tests/decoding/test_folds.py::test_folds_are_subject_disjoint_and_cover",
                  "tests/decoding/test_folds.py::test_cross_stimulus_manifest_crosses_subject_and_clip_folds",
                  "tests/decoding/test_folds.py::test_fold_indices_never_train_on_a_test_subject_or_a_test_clip",
                  "tests/decoding/test_folds.py::test_contiguous_folds_are_blocks_and_fixed_protocol",
                  "tests/decoding/test_folds.py::test_shuffled_folds_follow_the_seed",
                  "tests/decoding/test_training.py::test_overlapping_manifest_raises_value_error",
                  "tests/decoding/test_folds.py::test_repeated_manifest_by_its_documented_rules",
                  "tests/reliability/test_rel_leakage.py::test_property_training_folds_subject_disjoint")),
    "metrics": ("vaxis/decoding/metrics.py", ("_confusion", "balanced_accuracy", "macro_f1", "metrics"),
                ("tests/decoding/test_metrics.py::test_metrics_match_sklearn",
                 "tests/decoding/test_metrics.py::test_metrics_skip_classes_absent_from_y",
                 "tests/decoding/test_metrics.py::test_clip_level_sums_window_log_probs")),
    "normalise": ("vaxis/eeg/normalise.py", None,
                  ("tests/eeg/test_features.py::test_train_only_ignores_planted_heldout_shift",
                   "tests/eeg/test_features.py::test_running_normalise_matches_loop",
                   "tests/eeg/test_features.py::test_lds_restart_per_clip_vs_across",
                   "tests/reliability/test_rel_leakage.py::test_train_only_normalisation_never_sees_held_out_subjects",
                   "tests/reliability/test_rel_bad_input.py::test_property_normalise_shapes_finite_and_standardised",
                   "tests/reliability/test_rel_bad_input.py::test_feature_functions_reject_bad_arguments",
                   "tests/decoding/test_baselines.py::test_leakage_free_lds_never_carries_one_clip_into_another",
                   "tests/eeg/test_pipeline.py")),
    "stats": ("vaxis/stats.py", None, ("tests/test_stats.py",)),
    "axis": ("vaxis/text/axis.py", ("_pairs", "heldout_z", "heldout_positions"), ("tests/text/test_axis.py",)),
    "axis_estimator": ("vaxis/text/axis_estimator.py", ("_unit", "VAxis"), ("tests/text/test_axis.py",)),
    "safepickle": ("vaxis/eeg/safepickle.py", None,
                   ("tests/eeg/test_safepickle.py", "tests/reliability/test_rel_untrusted.py")),
    "cache": ("vaxis/runs/cache.py", None,
              ("tests/runs/test_cache.py", "tests/reliability/test_rel_caches.py",
               "tests/reliability/test_rel_interruption.py::test_sigkill_mid_write_keeps_the_old_entry")),
}

COMPARE = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
           ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
BINOP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Mult,
         ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
          ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+", ast.Sub: "-", ast.Mult: "*",
          ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&", ast.BitOr: "|",
          ast.And: "and", ast.Or: "or"}
DELETABLE = (ast.Assign, ast.AugAssign, ast.Expr, ast.Raise, ast.If, ast.For, ast.Return)


@dataclass
class Mutant:
    """One edit: ``kind`` at node ``index`` of ``ast.walk`` (``pos``: operator / statement position)."""

    module: str
    path: str
    index: int
    pos: int
    kind: str
    line: int
    what: str
    status: str = "pending"        # killed | survived | timeout (counted as killed) | not-run
    seconds: float = 0.0


def _scopes(tree: ast.Module, names: tuple[str, ...] | None) -> list[ast.AST]:
    if names is None:
        return [tree]
    found = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in names]
    missing = set(names) - {n.name for n in found}
    if missing:
        raise SystemExit(f"tools/mutants.py: {sorted(missing)} not found (update TARGETS)")
    return found


def _skipped(scopes: list[ast.AST]) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, numeric argument defaults (``seed=0``, ``n_boot=2000``;
    boolean defaults such as ``restart_at_clip=True`` are mutated), f-strings / messages, ``__all__``."""
    skip: set[int] = set()

    def drop(node: ast.AST | None) -> None:
        if node is not None:
            skip.update(id(n) for n in ast.walk(node))

    for scope in scopes:
        for node in ast.walk(scope):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                drop(body[0])
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                drop(node.returns)
                for a in [*node.args.args, *node.args.kwonlyargs, *node.args.posonlyargs,
                          node.args.vararg, node.args.kwarg]:
                    if a is not None:
                        drop(a.annotation)
                for d in [*node.args.defaults, *node.args.kw_defaults]:   # numeric defaults are settings, not logic
                    if isinstance(d, ast.Constant) and isinstance(d.value, (int, float)) \
                            and not isinstance(d.value, bool):
                        drop(d)
            elif isinstance(node, ast.AnnAssign):
                drop(node.annotation)
            elif isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)):
                drop(node)
    return skip


def enumerate_mutants(module: str) -> list[Mutant]:
    """Every mutant of ``module`` (a key of :data:`TARGETS`), in a deterministic order."""
    path, names, _ = TARGETS[module]
    tree = ast.parse((ROOT / path).read_text())
    scopes = _scopes(tree, names)
    inside = {id(n) for s in scopes for n in ast.walk(s)}
    skip = _skipped(scopes)
    out: list[Mutant] = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) not in inside or id(node) in skip:
            continue

        def add(pos: int, kind: str, what: str, index: int = index, node: ast.AST = node) -> None:
            out.append(Mutant(module, path, index, pos, kind, getattr(node, "lineno", 0), what))

        if isinstance(node, ast.Compare):
            for pos, op in enumerate(node.ops):
                if type(op) in COMPARE:
                    add(pos, "compare", f"{SYMBOL[type(op)]} -> {SYMBOL[COMPARE[type(op)]]}")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOP:
            add(0, "binop", f"{SYMBOL[type(node.op)]} -> {SYMBOL[BINOP[type(node.op)]]}")
        elif isinstance(node, ast.BoolOp):
            add(0, "boolop", f"{SYMBOL[type(node.op)]} -> {'or' if isinstance(node.op, ast.And) else 'and'}")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub)):
            add(0, "unary", f"drop {'not' if isinstance(node.op, ast.Not) else 'unary -'}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            add(0, "const", f"{node.value} -> {not node.value}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            add(0, "const", f"{node.value!r} -> {node.value + 1!r}")
        if isinstance(node, (ast.If, ast.While, ast.IfExp)):
            add(0, "negate", "condition -> not (condition)")
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list):
                for pos, st in enumerate(stmts):
                    if isinstance(st, DELETABLE) and id(st) not in skip:
                        out.append(Mutant(module, path, index, pos, f"delete-{field}", st.lineno,
                                          f"delete `{ast.unparse(st).splitlines()[0][:60]}`"))
    return out


def apply(mutant: Mutant, source: str) -> str:
    """The source of ``mutant.path`` with the mutant applied (re-parsed, so the walk order is the same)."""
    tree = ast.parse(source)
    node = list(ast.walk(tree))[mutant.index]
    k = mutant.kind
    if k == "compare":
        node.ops[mutant.pos] = COMPARE[type(node.ops[mutant.pos])]()
    elif k == "binop":
        node.op = BINOP[type(node.op)]()
    elif k == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif k == "unary":
        if isinstance(node.op, ast.USub):
            node.op = ast.UAdd()                                      # -x -> +x
        else:
            node.operand = ast.UnaryOp(op=ast.Not(), operand=node.operand)   # not x -> not not x (= bool(x))
    elif k == "const":
        node.value = (not node.value) if isinstance(node.value, bool) else node.value + 1
    elif k == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif k.startswith("delete-"):
        getattr(node, k.split("-", 1)[1])[mutant.pos] = ast.Pass()
    else:  # pragma: no cover
        raise ValueError(k)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _copy_repo(dest: Path) -> Path:
    """A private copy of what the tests need (package, tests, config files)."""
    for name in ("vaxis", "tests"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".hypothesis"))
    for name in ("pyproject.toml", "requirements.txt", "requirements-models.txt", "environment.yml", "_config.yml",
                 "_toc.yml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    return dest


def _pytest(copy: Path, tests: tuple[str, ...], timeout: float) -> tuple[str, float]:
    env = {**os.environ, "PYTHONPATH": str(copy), "VAXIS_CACHE": str(copy / ".cache"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    t0 = time.perf_counter()
    try:
        r = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - t0
    return ("survived" if r.returncode == 0 else "killed"), time.perf_counter() - t0


def _run_one(m: Mutant, copies: Queue[Path], original: str, tests: tuple[str, ...], timeout: float) -> Mutant:
    """Apply ``m`` in a free copy, run the tests there, restore the copy; ``m`` gets its status."""
    c = copies.get()
    try:
        (c / m.path).write_text(apply(m, original))
        m.status, m.seconds = _pytest(c, tests, timeout=timeout)
    finally:
        (c / m.path).write_text(original)
        copies.put(c)
    if m.status == "survived":
        print(f"   SURVIVED {m.path}:{m.line} {m.what}", flush=True)
    return m


def run(modules: list[str], jobs: int = 2, limit: int | None = None, report: Path | None = None,
        timeout_factor: float = 4.0) -> list[Mutant]:
    """Run every mutant of ``modules``; returns them with their status and writes the report."""
    results: list[Mutant] = []
    with tempfile.TemporaryDirectory(prefix="vaxis-mutants-") as tmp:
        copies: Queue[Path] = Queue()
        for j in range(jobs):
            copies.put(_copy_repo(Path(tmp) / f"copy{j}"))
        for module in modules:
            path, _, tests = TARGETS[module]
            mutants = enumerate_mutants(module)[:limit]
            original = (ROOT / path).read_text()
            copy = copies.get()
            status, base = _pytest(copy, tests, timeout=1800)
            copies.put(copy)
            if status != "survived":
                raise SystemExit(f"{module}: the tests fail on the unmutated code ({status}); fix that first")
            print(f"== {module}: {len(mutants)} mutants, tests take {base:.1f} s unmutated", flush=True)
            limit_s = max(60.0, timeout_factor * base)
            with ThreadPoolExecutor(max_workers=jobs) as pool:
                done = list(pool.map(partial(_run_one, copies=copies, original=original, tests=tests,
                                             timeout=limit_s), mutants))
            n_surv = sum(m.status == "survived" for m in done)
            print(f"   {module}: {len(done) - n_surv} killed, {n_surv} survived", flush=True)
            results += done
    if report is not None:
        write_report(results, report)
    return results


def write_report(results: list[Mutant], report: Path) -> None:
    """Markdown summary (per module, then every survivor with its source line) plus the raw JSON."""
    report.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# Mutation testing report (tools/mutants.py)", "",
             "| module | mutants | killed | survived | score |", "|---|---|---|---|---|"]
    for module in dict.fromkeys(m.module for m in results):
        ms = [m for m in results if m.module == module]
        surv = sum(m.status == "survived" for m in ms)
        lines.append(f"| {module} | {len(ms)} | {len(ms) - surv} | {surv} | {(len(ms) - surv) / len(ms):.0%} |")
    total = sum(m.status == "survived" for m in results)
    lines += ["", f"**{total} surviving mutants of {len(results)}.**", "", "## Survivors", ""]
    sources: dict[str, list[str]] = {}
    for m in sorted(results, key=lambda m: (m.path, m.line, m.kind)):
        if m.status == "survived":
            src = sources.setdefault(m.path, (ROOT / m.path).read_text().splitlines())
            lines.append(f"- `{m.path}:{m.line}` {m.what}: `{src[m.line - 1].strip()[:100]}`")
    report.write_text("\n".join(lines) + "\n")
    report.with_suffix(".json").write_text(json.dumps([asdict(m) for m in results], indent=1))
    print(f"report: {report} ({total} survivors of {len(results)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", nargs="+", choices=sorted(TARGETS), default=list(TARGETS))
    ap.add_argument("--jobs", type=int, default=2, help="parallel copies (default 2)")
    ap.add_argument("--limit", type=int, default=None, help="at most this many mutants per module")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--report", type=Path, default=ROOT / "_build" / "mutants" / "report.md")
    args = ap.parse_args(argv)
    if args.list:
        for module in args.modules:
            for m in enumerate_mutants(module)[:args.limit]:
                print(f"{m.path}:{m.line}\t{m.kind}\t{m.what}")
        return 0
    results = run(args.modules, jobs=args.jobs, limit=args.limit, report=args.report)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
