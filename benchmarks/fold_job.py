"""Seconds of one chapter-6 fold job (every strategy x weight x seed, the label-only model, the controls), this
checkout against another revision's trainer, side by side.

Usage: ``python benchmarks/fold_job.py [--fold 0] [--rounds 2] [--baseline REV]``

The job is the chapter's own (``fold_job`` of chapter 6 with the notebook's defaults: 25 strategies, 3 seeds,
10 folds x 2 repeats, 12 epochs, patience 3, batch 128, hidden 32, the shuffled / uniform controls), on real
FACED when ``$VAXIS_FACED_DIR`` names it, else on the synthetic cohort; the LLM targets are MiniLM's when its
cache is there, else seeded random ones. Each round runs the job in a fresh process (one torch thread, as the
sweep workers do) with this checkout and, with ``--baseline REV``, with ``git archive REV`` of this repository,
alternating; wall seconds, the child's CPU seconds (user + sys: the figure that survives a shared machine) and the
job's own ``train`` / ``controls`` seconds are printed for every run, and the two revisions' trained models are
compared (validation / test balanced accuracy and best epoch of all 228 models, and the controls'): the speed-ups
must leave them bit-identical.

Measured 2026-12-06 on the shared 2-core machine (AMD EPYC, torch 2.13 CPU, load average 7-10 from other
sessions, so CPU seconds are the comparable figure), real FACED (100 subjects), fold 0, before = ``1ce9d27``
(every model computed until the whole stack stopped, input blocks per model), after = ``d75499d`` (stopped models
leave the stack, input blocks once per group of models that draw the same batches). Whole fold job, one process
per run, back to back, twice:

=========  =================  =================
run        before CPU / wall  after CPU / wall
=========  =================  =================
pair 1     33.1 s / 63.8 s    28.2 s / 76.1 s
pair 2     30.6 s / 48.1 s    26.9 s / 46.0 s
=========  =================  =================

The strategies' training alone (the 228-model pass, without start-up and controls), both trainers in one process,
alternating new / old / old / new / new / old: CPU 24.0, 24.6, 24.5 s before against 20.6, 23.8, 20.7 s after
(median 24.5 -> 20.7 s, -16 %; wall 48-49 s -> 41-47 s). The whole-job CPU includes ~6 s of start-up (imports,
loading FACED, the V-map). All 228 trained models, 30 control models and the chosen / forced weights are
bit-identical. The stacked trainer's ratio against the one-by-one reference (``torch.optim.Adam`` per model) is
:mod:`benchmarks.stacked_training`'s.
"""

from __future__ import annotations

import argparse
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import pickle, sys
sys.path.append(sys.argv[3])
from fold_job import job_config
try:
    from vaxis.claims.alignment.jobs import fold_job
except ImportError:
    from vaxis.claims.alignment_jobs import fold_job
pickle.dump(fold_job(job_config(int(sys.argv[1]))), open(sys.argv[2], "wb"))
"""


def job_config(fold: int) -> dict:
    """Chapter 6's fold job with the notebook's defaults (real FACED when ``$VAXIS_FACED_DIR`` is set)."""
    from vaxis.eeg.datasets import load_faced
    from vaxis.eeg.pipeline import DEFAULT

    try:
        from vaxis.claims.alignment.jobs import AlignmentJob
        from vaxis.claims.common.strategies import STRATEGIES, AlignmentTargets
        from vaxis.decoding.folds import FoldDesign
        fields = {"design": FoldDesign(protocol="kfold", n_folds=10, repeats=2)}     # stack: the chapter's default
    except ImportError:                                   # the layout before the claims sub-packages
        from vaxis.claims.alignment_jobs import AlignmentJob

        from vaxis.claims.alignment import STRATEGIES, AlignmentTargets
        fields = {"k": 10, "repeats": 2, "epochs": 12, "patience": 3, "batch_size": 128, "lr": 3e-3}
    eeg = load_faced(None, kind="de")
    try:
        t = AlignmentTargets.from_llm("minilm", device="cpu")
        pos, emb = np.asarray(t.positions, float), np.asarray(t.embeddings, float)
    except Exception:                                     # no cached LLM: seeded stand-in targets
        rng = np.random.default_rng(0)
        pos, emb = np.linspace(-1, 1, 9), rng.standard_normal((9, 384))
    job = AlignmentJob.for_cohort(eeg, DEFAULT, None, strategies=list(STRATEGIES), arch="mlp", seeds=[0, 1, 2],
                                  hidden=32, dropout=0.0, device="cpu", controls=["shuffled", "uniform"],
                                  control_seed=0, targets={"positions": pos.tolist(), "embeddings": emb.tolist()},
                                  **fields)
    return {**job.config(), "fold": fold}


def run_once(tree: Path, fold: int, out_path: Path) -> dict:
    """One fold job in a fresh process importing ``vaxis`` from ``tree``: wall, CPU and the job's seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", CHILD, str(fold), str(out_path), str(ROOT / "benchmarks")]
    subprocess.run(cmd, env=env, check=True, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = pickle.loads(out_path.read_bytes())
    return {"wall_s": wall, "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
            **{f"job_{k}_s": v for k, v in out["job_seconds"].items()}, "out": out}


def same_models(a: dict, b: dict) -> bool:
    """Whether two fold-job outputs hold bit-identical scores and best epochs (trained models and controls)."""
    import pandas as pd

    cols = ["strategy", "weight", "seed", "fold", "val_ba", "test_ba", "best_epoch"]
    for key in ("trained", "controls", "chosen", "forced"):
        fa, fb = (pd.DataFrame(o[key], columns=o.get(f"{key}_columns")) for o in (a, b))
        keep = [c for c in cols if c in fa.columns]
        if not fa[keep].reset_index(drop=True).equals(fb[keep].reset_index(drop=True)):
            return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fold", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--baseline", default=None, help="a git revision whose trainer runs beside this checkout's")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        trees = {"this checkout": ROOT}
        if args.baseline:
            base = tmp / "baseline"
            base.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline], check=True,
                                     capture_output=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            trees[args.baseline] = base
        outs: dict[str, dict] = {}
        for r in range(args.rounds):
            for name, tree in trees.items():
                res = run_once(tree, args.fold, tmp / "out.pkl")
                outs[name] = res.pop("out")
                print(f"round {r + 1} {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in res.items()), flush=True)
        if args.baseline:
            print("models bit-identical to the baseline:", same_models(*outs.values()))


if __name__ == "__main__":
    main()
