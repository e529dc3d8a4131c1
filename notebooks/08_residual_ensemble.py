# ---
# jupyter:
#   jupytext:
#     formats: py:percent,ipynb
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 8. Ensembling across residual diversity
#
# **Claim 8 (paper):** instead of supervising the saturated valence basin, ensembling across the diversity of the
# **within-class residual** improves **balanced accuracy by 10.5 % over the prior best on FACED**, and replicates
# on SEED-V.
#
# **What we test.** Members whose within-class residual subspaces differ, built three ways (`vaxis.ensemble`):
# `greedy` (greedy residual disagreement over a label-only pool of seeds x architectures), `decor` (members of one
# fold share their batches and pay a linear-CKA penalty between their residual representations) and `aug` (members
# trained with residual-mixed windows: a subject's class mean plus another training subject's residual);
# `greedy-all` selects greedily over all of them. Controls of the **same size**: a plain `seed` ensemble, a
# `bagged` ensemble (bootstrap over training subjects), `pool-random` (a random draw from the greedy pool: same
# training budget as `greedy`), the `single` best model (chosen on validation subjects, never on test) and FACED's
# DE + linear SVM re-run in this build (`vaxis.baselines`, leakage-free, C chosen inside the training subjects).
#
# **Protocol.** Subject-disjoint k-fold (10 contiguous folds on FACED); inside each fold's training subjects 10 %
# are held out as validation subjects (early stopping, choice of the single best model, the stacker's training
# rows). Normalisation is a parameter (default `train-only`: statistics of each member's own training windows)
# and is named in every table. Primary metric: window-level balanced accuracy (BA), one value per fold; CIs are
# bootstrap over folds, paired tests are Wilcoxon signed-rank over folds with Holm correction.
# The headline ensemble (`headline`, default `greedy`, combined by the mean of probabilities) is fixed before the run.

# %% tags=["parameters"]
data_dir = None          # FACED folder; None -> $VAXIS_FACED_DIR, else a synthetic cohort (quick: always synthetic)
seedv_dir = None         # SEED-V folder; None -> $VAXIS_SEEDV_DIR, else a SYNTHETIC SEED-V-format cohort
models = []              # no LLM is used in this chapter
archs = ["mlp", "linear"]  # pool architectures; the first is the main one (seed / bag / aug / decor members)
pool_seeds = 3           # label-only seeds per architecture; the pool holds archs x pool_seeds per fold
ensemble_size = 3        # members per ensemble, every type and control; at most pool_seeds
tasks = ["9class", "binary"]
normalisation = "train-only"  # "train-only" | "per-subject" | "none"
protocol = "kfold"       # kfold (n_folds subject-disjoint folds) or fixed (one split, see splits)
splits = None            # fixed protocol: dict with train, val and test subject-id lists
n_folds = 10
seedv_folds = 4
seedv_amp = 0.03         # class signal of the synthetic SEED-V cohort, small so that it is not trivially separable
headline = "greedy"      # the residual-diversity ensemble reported as the claim's test (mean of probabilities)
epochs = 8
steps_per_epoch = 30
svm_every = 30           # DE + SVM: one training window in svm_every (test windows all kept)
device = "auto"
executor = "inline"      # where the fold jobs run: inline (this process), local (worker processes) or ray
address = None           # Ray cluster address for executor ray, e.g. ray://head:10001 (None: RAY_ADDRESS or local)
quick = False            # small settings for CI tests
seed = 0
results_dir = None       # None -> $VAXIS_RESULTS or ./results
cache_dir = None         # None -> $VAXIS_CACHE or ~/.cache/vaxis

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy import stats as sst

from vaxis.baselines import svm_baseline
from vaxis.cache import cache_root
from vaxis.ensemble import frame_from_jobs
from vaxis.eeg.datasets import load_faced, load_seedv
from vaxis.eeg.synthetic import make_faced, make_seedv
from vaxis.plots import source_tag, titled
from vaxis.results import write_results
from vaxis.stacking import resolve_device
from vaxis.stats import bootstrap_ci, fmt_ci, holm, paired_test
from vaxis.sweep import Grid, ResultStore, data_fingerprint, run_checked
from vaxis.training import make_manifest

t_start = time.time()
if quick:
    pool_seeds, ensemble_size, n_folds, seedv_folds = 2, 2, 3, 3
    epochs, steps_per_epoch, svm_every = 2, 5, 30
dev = resolve_device(device)
stack = {"epochs": epochs, "steps_per_epoch": steps_per_epoch, "batch_size": 256, "lr": 1e-3, "patience": 3,
         "max_val": 1024}
store = ResultStore(cache_root(cache_dir) / "sweeps" / "08_residual_ensemble")
job_settings = {"protocol": protocol, "splits": splits, "normalisation": normalisation, "seed": seed,
                "archs": list(archs),
                "pool_seeds": pool_seeds, "ensemble_size": ensemble_size, "stack": stack, "device": device,
                "cache_dir": None if cache_dir is None else str(cache_dir)}
if quick and data_dir is None:
    faced_path = cache_root(cache_dir) / "synthetic" / "faced_quick_ch08_n12"
    if not (faced_path / ".complete").is_file():
        make_faced(faced_path, n_subjects=12, seed=seed, kinds=("de",))
        (faced_path / ".complete").write_text("ok\n")
    eeg = load_faced(faced_path, kind="de", cache_dir=cache_dir)
else:
    eeg = load_faced(data_dir, kind="de", cache_dir=cache_dir)
source = eeg.source
print(f"DATA: {source_tag(source)} from {eeg.data_dir}; {eeg.n_subjects} subjects, x {eeg.x.shape}")
if source == "synthetic":
    print("*** SYNTHETIC FACED data: every FACED number below comes from a simulated cohort, not human EEG. ***")
print(f"protocol {protocol}, {n_folds} folds, normalisation {normalisation}, archs {archs}, pool {pool_seeds} "
      f"seeds/arch, ensemble size {ensemble_size}, {epochs} x {steps_per_epoch} steps, device {dev}; "
      f"jobs run {executor}{'' if address is None else ' at ' + str(address)}, store {store.root}")

# %% [markdown]
# ## FACED: train every member of every fold, score every ensemble
# One sweep job per task x fold (`vaxis.ensemble.fold_job`, run by `vaxis.sweep`) trains all members of that
# fold in one stacked pass per architecture (`vaxis.stacking`) and scores its ensembles. Each finished job is
# stored at once (one JSON file, under the cache), so a run that is stopped resumes at its next start without
# redoing finished folds; the job's id hashes every setting, so changed parameters start new jobs. A fold job
# replays the random draws of the other folds: its numbers equal those of one run over all folds (tested).
# The DE + SVM baseline runs here, on the same contiguous test folds, so every comparison is paired by fold.

# %%
fold_ids = [f["fold"] for f in make_manifest(eeg.subject_ids, protocol, k=n_folds, seed=seed, splits=splits)]
grid = Grid(axes={"task": list(tasks), "fold": fold_ids}, name="08_residual_ensemble FACED",
            fixed={"dataset": "faced", "data_dir": str(eeg.data_dir), "k": n_folds, "val_fraction": 0.1,
                   "data_key": data_fingerprint(eeg.x, np.asarray(eeg.subject_ids)), **job_settings},
            fn="vaxis.ensemble:fold_job",
            resources={"num_cpus": 1, "num_gpus": 0.5 if device.startswith("cuda") else 0})
sweep, jobs = run_checked(grid, store, executor, address, quick)   # raises, listing any failed job and its traceback
tables, svms, n_members, manifests, timings = {}, {}, {}, {}, {"sweep_faced_s": round(sweep.seconds, 1)}
for task in tasks:
    tj = jobs[jobs.task == task].sort_values("fold")
    tables[task] = frame_from_jobs(tj).assign(task=task)
    n_members[task] = len(frame_from_jobs(tj, "members"))
    manifests[task] = list(tj.fold_manifest)
    t1 = time.time()
    svm = svm_baseline(eeg.x, eeg.labels, eeg.subject_ids, task=task, normalisation=normalisation,
                       every=svm_every, seed=seed, folds=manifests[task])   # the ensembles' test folds
    svms[task] = svm[svm.level == "window"].set_index("fold")
    svms[task]["clip_ba"] = svm[svm.level == "clip"].set_index("fold").balanced_accuracy
    timings[task] = {"ensembles_s": round(float(tj.train_s.sum()), 1), "svm_s": round(time.time() - t1, 1)}
    print(f"{task}: {n_members[task]} members trained in {len(tj)} fold jobs; {timings[task]}")
pool_settings, n_cls = jobs.settings.iloc[0], int(jobs[jobs.task == tasks[0]].n_classes.iloc[0])

# %% [markdown]
# ## Result: balanced accuracy at the full ensemble size, with CIs over folds

# %%
summary = []
for task, tab in tables.items():
    full = tab[(tab["size"] == tab.groupby("ensemble")["size"].transform("max"))]
    for (name, comb), g in full.groupby(["ensemble", "combiner"]):
        m, lo, hi = bootstrap_ci(g.balanced_accuracy.to_numpy(), seed=seed)
        summary.append({"task": task, "method": f"{name} ({comb})", "ensemble": name, "combiner": comb,
                        "size": int(g["size"].iloc[0]), "ba": m, "ci": [lo, hi],
                        "clip_ba": float(g.clip_balanced_accuracy.mean()), "diversity": float(g.diversity.mean()),
                        "n_folds": len(g), "normalisation": normalisation, "protocol": f"{protocol} {n_folds}-fold"})
    m, lo, hi = bootstrap_ci(svms[task].balanced_accuracy.to_numpy(), seed=seed)
    summary.append({"task": task, "method": "DE + linear SVM (re-run, leakage-free)", "ensemble": "svm",
                    "combiner": "-", "size": 1, "ba": m, "ci": [lo, hi], "clip_ba": float(svms[task].clip_ba.mean()),
                    "diversity": np.nan,
                    "n_folds": len(svms[task]), "normalisation": normalisation,
                    "protocol": f"{protocol} {n_folds}-fold"})
summary = pd.DataFrame(summary)
show = summary.assign(BA=[fmt_ci(r.ba, *r.ci) for r in summary.itertuples()])
print(f"FACED ({source_tag(source)}), window-level BA, mean over folds [95% bootstrap CI], normalisation "
      f"{normalisation}")
print(show[["task", "method", "size", "BA", "clip_ba", "diversity", "n_folds", "normalisation"]]
      .sort_values(["task", "BA"], ascending=[True, False]).to_string(index=False, float_format="{:.3f}".format))

# %% [markdown]
# ## Paired tests (fold level): the headline ensemble against every control

# %%
tests = []
for task, tab in tables.items():
    full = tab[(tab["size"] == tab.groupby("ensemble")["size"].transform("max")) & (tab.combiner == "mean")]
    ba = full.pivot(index="fold", columns="ensemble", values="balanced_accuracy")
    ba["svm"] = svms[task].balanced_accuracy.reindex(ba.index)
    for ctrl in ["single", "seed", "bagged", "pool-random", "svm"]:
        r = paired_test(ba[headline].to_numpy(), ba[ctrl].to_numpy(), seed=seed)
        tests.append({"task": task, "headline": headline, "control": ctrl, **r,
                      "rel_gain_pct": 100 * (ba[headline].mean() / ba[ctrl].mean() - 1),
                      "abs_gain_pp": 100 * (ba[headline].mean() - ba[ctrl].mean())})
tests = pd.DataFrame(tests)
tests["p_holm"] = np.concatenate([holm(g.p.to_numpy()) for _, g in tests.groupby("task", sort=False)])
print(f"headline = {headline} (mean of probabilities), size {ensemble_size}; paired over {n_folds} folds; "
      f"normalisation {normalisation}")
print(tests[["task", "control", "diff", "ci_low", "ci_high", "p", "p_holm", "abs_gain_pp", "rel_gain_pct", "n"]]
      .to_string(index=False, float_format="{:.4f}".format))

# %% [markdown]
# ## Figures: accuracy vs ensemble size, accuracy vs residual diversity, per-class recall

# %%
fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
for ax, (task, tab) in zip(axes[0], tables.items()):
    curve = tab[tab.combiner == "mean"].groupby(["ensemble", "size"]).balanced_accuracy.agg(["mean", "sem"])
    for name in curve.index.get_level_values(0).unique():
        c = curve.loc[name]
        ax.errorbar(c.index, c["mean"], yerr=c["sem"], marker="o", capsize=2, label=name)
    ax.axhline(svms[task].balanced_accuracy.mean(), color="k", ls="--", label="DE + SVM")
    ax.set(xlabel="ensemble size (members)", ylabel="balanced accuracy (window)",
           title=titled(f"FACED {task}: BA vs size", source))
axes[0][0].legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# *Figure 1.* Window-level balanced accuracy (mean over test folds, error bar = SEM over folds) against the number
# of members, per ensemble type (mean of probabilities); the dashed line is the DE + linear SVM re-run. Normalisation
# as in the parameters cell.

# %%
fig, axes = plt.subplots(1, len(tasks), figsize=(6 * len(tasks), 4), squeeze=False)
div_corr = {}
for ax, (task, tab) in zip(axes[0], tables.items()):
    full = tab[(tab.combiner == "mean") & (tab["size"] == ensemble_size) & tab.diversity.notna()].copy()
    full["ba_vs_fold"] = full.balanced_accuracy - full.groupby("fold").balanced_accuracy.transform("mean")
    for name, g in full.groupby("ensemble"):
        ax.scatter(g.diversity, g.ba_vs_fold, s=14, label=name)
    rho, p = sst.spearmanr(full.diversity, full.ba_vs_fold)
    div_corr[task] = {"spearman": float(rho), "p": float(p), "n": int(len(full))}
    ax.set(xlabel="residual diversity (1 - mean cos^2 of principal angles)",
           ylabel="BA minus the fold's mean BA", title=titled(f"FACED {task}: BA vs diversity", source))
    ax.text(0.02, 0.95, f"Spearman {rho:.2f} (p={p:.2g}, n={len(full)})", transform=ax.transAxes, fontsize=8)
axes[0][0].legend(fontsize=7)
fig.tight_layout()
print(div_corr)

# %% [markdown]
# *Figure 2.* One point per fold x ensemble type at full size: mean pairwise residual distance of the members
# (top-5 residual principal components, training windows) against balanced accuracy relative to the fold's mean
# over types (removes fold difficulty). The Spearman correlation is printed in the panel (points within a fold are
# not independent: read it as descriptive).

# %%
tab9 = tables[tasks[0]]
names = [headline, "seed", "single"]
fig, ax = plt.subplots(figsize=(9, 4))
recalls = {}
for i, name in enumerate(names):
    g = tab9[(tab9.ensemble == name) & (tab9.combiner == "mean")]
    g = g[g["size"] == g["size"].max()]
    rec = np.nanmean(np.array([[np.nan if v is None else v for v in r] for r in g.recall]), axis=0)
    recalls[name] = rec
    ax.bar(np.arange(n_cls) + (i - 1) * 0.27, rec, width=0.27, label=name)
labels = eeg.categories if n_cls == 9 else ["negative", "positive"]
ax.set_xticks(np.arange(n_cls), labels, rotation=30)
ax.axhline(1 / n_cls, color="k", ls=":", label="chance")
ax.set(ylabel="recall (window, mean over folds)", title=titled(f"FACED {tasks[0]}: per-class recall", source))
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# *Figure 3.* Per-class window recall (mean over test folds) of the headline ensemble, the plain seed ensemble and
# the single best model; dotted line = chance.

# %% [markdown]
# ## Beside the published prior results
# Quoted rows are copied from the papers (PAPER.md) and were **not re-run**: their protocols differ and their
# normalisation is the one each paper used (FACED's released DE + SVM pipeline uses running per-subject
# normalisation plus LDS smoothing across clips, which leaks labels: PAPER.md). Only rows marked "re-run" share
# our folds and normalisation.

# %%
quoted = pd.DataFrame([
    ("9class", "DE + SVM (FACED paper)", "10-fold cross-subject", "running per-subject + LDS across clips (leaks)",
     "accuracy", 35.2),
    ("9class", "CLISA (Shen et al. 2022)", "10-fold cross-subject", "as published", "accuracy", 42.4),
    ("9class", "DAEST (Shen et al. 2025), preprint / published", "cross-subject", "as published", "accuracy",
     "59.3 / 67.9"),
    ("9class", "CBraMod + linear", "train 1-80 / val 81-100 / test 101-123", "as published", "balanced accuracy", 54.8),
    ("9class", "MSCGC-KAN", "train 1-80 / val 81-100 / test 101-123", "as published", "balanced accuracy", 60.7),
    ("binary", "DE + SVM / CLISA / DAEST", "10-fold cross-subject", "as published", "accuracy",
     "69.3 / 74.6 / 75.4-81.7"),
    ("seedv-5class", "DAEST", "cross-subject", "as published", "accuracy", 73.6),
], columns=["task", "method", "protocol", "normalisation", "metric", "result_pct"]).assign(status="quoted, not re-run")
ours = summary[summary.combiner.isin(["mean", "-"])]
ours = ours.assign(status="re-run here", metric="balanced accuracy (window)", result_pct=(100 * ours.ba).round(1),
                   protocol=f"{protocol} {n_folds}-fold subject-disjoint (contiguous), val from training subjects")
side = pd.concat([ours[["task", "method", "protocol", "normalisation", "metric", "result_pct", "status"]], quoted])
print(f"FACED data here: {source_tag(source)}")
print(side.to_string(index=False))

# %% [markdown]
# ## The +10.5 % claim, computed both ways
# The paper says "+10.5 % balanced accuracy over the prior best" without saying whether the 10.5 is percentage
# points (absolute) or percent of the prior best (relative). We compute both: against the strongest comparator
# re-run in this build (best of the single model, seed ensemble, bagged ensemble and DE + SVM, by mean BA), and,
# for orientation only, against the best quoted balanced accuracy (MSCGC-KAN 60.7 %, a different protocol and
# cohort split).

# %%
claim = {}
for task in tasks:
    t = tests[tests.task == task].set_index("control")
    base_ba = summary[(summary.task == task) & (summary.combiner.isin(["mean", "-"]))].set_index("ensemble").ba
    strongest = base_ba[["single", "seed", "bagged", "svm"]].idxmax()
    h = base_ba[headline]
    claim[task] = {"headline_ba": h, "strongest_control": strongest, "control_ba": base_ba[strongest],
                   "abs_gain_pp": 100 * (h - base_ba[strongest]),
                   "rel_gain_pct": 100 * (h / base_ba[strongest] - 1),
                   "p_holm": float(t.loc[strongest, "p_holm"]), "gain_vs_svm_abs_pp": 100 * (h - base_ba["svm"]),
                   "gain_vs_svm_rel_pct": 100 * (h / base_ba["svm"] - 1)}
claim["9class"]["vs_quoted_best_abs_pp"] = 100 * claim["9class"]["headline_ba"] - 60.7 if "9class" in claim else None
print(pd.DataFrame(claim).T.to_string(float_format="{:.3f}".format))
print("Paper: +10.5 over 60.7 % BA would mean 71.2 % (absolute) or 67.1 % (relative).")

# %% [markdown]
# ## SEED-V 5-class: the same pipeline through the SEED-V reader
# No SEED-V data exist here (academic licence, no redistribution). Unless `seedv_dir` / `$VAXIS_SEEDV_DIR` points
# at the real dataset, this section runs on a **SYNTHETIC SEED-V-format cohort** written by `make_seedv` and its
# numbers say nothing about SEED-V. The DE + SVM re-run needs equal-length trials and is not run here; the `linear`
# architecture of the pool (multinomial logistic regression on DE) is the linear baseline. SEED-V always uses
# `seedv_folds` subject-disjoint folds of its own subjects (`protocol` and `splits` name FACED subjects).

# %%
seedv_path = seedv_dir or os.environ.get("VAXIS_SEEDV_DIR")
if not seedv_path:
    seedv_path = cache_root(cache_dir) / "synthetic" / f"seedv_ch08_n{6 if quick else 16}_amp{seedv_amp}"
    if not (seedv_path / ".complete").is_file():
        make_seedv(seedv_path, n_subjects=6 if quick else 16, seed=seed, n_windows=(6, 12) if quick else (8, 20),
                   class_amp=seedv_amp)
        (seedv_path / ".complete").write_text("ok\n")
sv = load_seedv(seedv_path)
seedv_source = sv.source
print(f"SEED-V DATA: {source_tag(seedv_source)} from {seedv_path}; {len(sv.subject_ids)} subjects")
if seedv_source == "synthetic":
    print("*** SYNTHETIC SEED-V-format data: the SEED-V replication is NOT tested by this build. ***")
n_sfolds = min(seedv_folds, len(sv.subject_ids))
sgrid = Grid(axes={"fold": list(range(n_sfolds))}, name="08_residual_ensemble SEED-V",
             fixed={"dataset": "seedv", "data_dir": str(seedv_path), "task": "5class", "k": n_sfolds,
                    "val_fraction": 0.2, **job_settings, "protocol": "kfold", "splits": None,
                    "data_key": data_fingerprint(*sv.windows("5class"), np.asarray(sv.subject_ids))},
             fn="vaxis.ensemble:fold_job", resources=grid.resources)
ssweep, sjobs = run_checked(sgrid, store, executor, address, quick)
stab = frame_from_jobs(sjobs.sort_values("fold"))
sman = list(sjobs.fold_manifest)
timings["seedv"] = {"ensembles_s": round(float(sjobs.train_s.sum()), 1), "sweep_s": round(ssweep.seconds, 1)}
sfull = stab[(stab.combiner == "mean") & (stab["size"] == stab.groupby("ensemble")["size"].transform("max"))]
sba = sfull.pivot(index="fold", columns="ensemble", values="balanced_accuracy")
seedv_summary = {name: {"ba": list(bootstrap_ci(sba[name].to_numpy(), seed=seed)), "n_folds": int(sba[name].size)}
                 for name in sba.columns}
seedv_tests = {c: paired_test(sba[headline].to_numpy(), sba[c].to_numpy(), seed=seed)
               for c in ["single", "seed", "bagged", "pool-random"]}
print(f"SEED-V ({source_tag(seedv_source)}), 5-class window BA, {len(sman)} folds, normalisation {normalisation}")
for name, r in sorted(seedv_summary.items(), key=lambda kv: -kv[1]["ba"][0]):
    print(f"  {name:12s} {fmt_ci(*r['ba'])}")
for c, r in seedv_tests.items():
    print(f"  {headline} - {c}: {r['diff']:+.4f} [{r['ci_low']:+.4f}, {r['ci_high']:+.4f}], p={r['p']:.3g} (n={r['n']})")
fig, ax = plt.subplots(figsize=(6, 4))
scurve = stab[stab.combiner == "mean"].groupby(["ensemble", "size"]).balanced_accuracy.mean()
for name in scurve.index.get_level_values(0).unique():
    ax.plot(scurve.loc[name].index, scurve.loc[name].values, marker="o", label=name)
ax.set(xlabel="ensemble size (members)", ylabel="balanced accuracy (window)",
       title=titled("SEED-V 5-class: BA vs size", seedv_source))
ax.legend(fontsize=7)
fig.tight_layout()

# %% [markdown]
# *Figure 4.* SEED-V 5-class window balanced accuracy (mean over test folds) against ensemble size per type. The
# title names the data source: on a synthetic cohort it only shows that the pipeline runs.

# %% [markdown]
# ## Verdict
# The claim replicates only if the headline residual-diversity ensemble beats the strongest comparator re-run in
# this build by at least 10.5 % (relative, the more lenient reading) with a Holm-corrected p < 0.05 on FACED
# 9-class; "partly" if it is significantly better than every same-size control but by less; otherwise it does not
# replicate. On synthetic FACED data the verdict is "inconclusive" whatever the numbers.

# %%
c9 = claim.get("9class", next(iter(claim.values())))
sig = bool(all(tests[(tests.task == tasks[0]) & (tests.control.isin(["single", "seed", "bagged", "svm"]))].eval(
    "p_holm < 0.05 and diff > 0")))
if source == "synthetic":
    verdict = "inconclusive"
elif c9["rel_gain_pct"] >= 10.5 and c9["p_holm"] < 0.05:
    verdict = "replicates"
elif sig:
    verdict = "partly"
else:
    verdict = "does not replicate"
h_ci = summary[(summary.task == tasks[0]) & (summary.method == f"{headline} (mean)")].ci.iloc[0]
ours_txt = (f"{headline} ensemble (size {ensemble_size}) BA {fmt_ci(c9['headline_ba'], *h_ci)} "
            f"vs strongest re-run control {c9['strongest_control']} {c9['control_ba']:.3f}: "
            f"{c9['abs_gain_pp']:+.1f} pp / {c9['rel_gain_pct']:+.1f}% (Holm p={c9['p_holm']:.2g}, {n_folds} folds, "
            f"{tasks[0]}, {normalisation}); vs DE+SVM re-run {c9['gain_vs_svm_abs_pp']:+.1f} pp / "
            f"{c9['gain_vs_svm_rel_pct']:+.1f}%; SEED-V: {source_tag(seedv_source)}")
print("VERDICT:", verdict)
print(ours_txt)
runtime_s = round(time.time() - t_start, 1)
print(f"runtime {runtime_s} s; {timings}")

# %%
scoreboard = [{"claim": 8, "title": "Ensembling across residual diversity: +10.5% BA over the prior best",
               "paper": "+10.5% BA over the prior best on FACED; replicates on SEED-V", "ours": ours_txt,
               "data": source if seedv_source != "seedv" else f"{source} + seedv", "verdict": verdict}]
write_results("08_residual_ensemble", {
    "data_source": source, "seedv_source": seedv_source, "n_subjects": eeg.n_subjects,
    "normalisation": normalisation, "protocol": protocol, "n_folds": n_folds, "headline": headline,
    "settings": {"archs": archs, "pool_seeds": pool_seeds, "ensemble_size": ensemble_size, "epochs": epochs,
                 "steps_per_epoch": steps_per_epoch, "svm_every": svm_every, "quick": quick, "seed": seed,
                 "pool": pool_settings, "executor": executor},
    "manifest": manifests[tasks[0]], "summary": summary, "paired_tests": tests, "claim": claim,
    "diversity_vs_ba": div_corr, "per_class_recall": {k: v for k, v in recalls.items()},
    "quoted_prior_results": quoted, "seedv": {"summary": seedv_summary, "paired_tests": seedv_tests,
                                               "n_folds": len(sman), "source": seedv_source},
    "fold_table": pd.concat(tables.values()).drop(columns=["recall"]), "timings": timings,
    "runtime_s": runtime_s, "scoreboard": scoreboard,
}, results_dir)

# %% [markdown]
# ## What could break this
# - **Budget.** Members train for at most `epochs` x `steps_per_epoch` mini-batches of 256 windows (fewer
#   window presentations than one pass over the training windows at the defaults) so that the chapter fits the CI build
#   (measured runtime printed above); longer training, larger pools and larger ensembles could change which
#   ensemble wins. The pool is 2 architectures x 3 seeds; every ensemble and control has 3 members.
# - **Wilcoxon over folds.** With 10 folds the smallest two-sided exact p is 0.002; with fewer than 6 folds no
#   paired test can reach 0.05, so do not cut `n_folds` below 6 when you want a verdict.
# - **Validation subjects** (10 % of each fold's training subjects) choose the single best model, the greedy start
#   and early stopping, and train the stacker: a slight optimism for the stacker, none for the test folds.
# - **Diversity measure.** Residual subspaces are compared in sample space (top-5 residual PCs on 2,000 training
#   windows); another measure (e.g. CKA of full residuals) could rank members differently.
# - **Prior results** are quoted under other protocols, cohorts and (often leaking) normalisations.
#
# ## Rerun on your own data
# `papermill notebooks/08_residual_ensemble.ipynb out.ipynb -p data_dir /path/to/FACED -p seedv_dir /path/to/SEED-V
# -p quick False` (add `-p normalisation per-subject` for the FACED-style normalisation). The fold jobs run in this
# process by default; `-p executor local` spreads them over this machine's cores and `-p executor ray -p address
# ray://head:10001` over a Ray cluster (every worker must read `data_dir`, `seedv_dir` and the cache at the same
# paths; add `-p device cuda` for GPU jobs, half a GPU each). Finished jobs are kept under
# `<cache>/sweeps/08_residual_ensemble/` (one JSON file per job; `vaxis sweep status --store <that folder>`), so an
# interrupted run picks up where it stopped and a rerun with the same parameters trains nothing.
