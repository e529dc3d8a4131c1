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
# # Do label-only EEG classifiers rediscover the V-axis?
#
# **Claim 5 (paper):** 36 EEG emotion classifiers, trained on the 9-class task labels only, rediscover the
# LLM valence direction inside their representations (36/36, as we read the abstract).
#
# **What we test.** A population of label-only decoders (4 architectures x 9 seeds = 36 by default) is trained on
# FACED DE features through the book's shared input pipeline (LDS smoothing restarted at every clip, then a
# per-subject z-score: `vaxis.eeg.pipeline`), 10-fold subject-disjoint cross-validation. Each model's penultimate
# representation (mean over a clip's windows) is probed on the fold's **held-out subjects** for the ordering of
# the nine V-axis positions of an LLM (chapter 1). The claim is tested **once, for the population**: every
# permutation of the category-to-position map is applied to all 36 models at once and the statistic is the mean
# held-out probe score (`vaxis.claims.rediscovery`). Two nulls separate the two things an ordering holds: permutations
# that keep the negative/positive split (does the population order the categories *within* each side as the LLM
# does?) and unrestricted ones (the split plus the order). A third test, **RSA** between each model's class-centroid
# geometry on held-out subjects and the LLM's nine-sentence geometry, does not reduce to "a linear readout can be
# fitted to an ordering". Per-model scores are shown as description, not as 36 separate significance tests.
#
# **Emotion or stimulus?** The same test runs a second time under the **cross-stimulus** protocol (page "Emotion or
# stimulus?"): decoders trained without one clip of every category, probes fitted on the training subjects' training
# clips and scored on the held-out subjects' held-out clips. It gets its own verdict under the same rule, as a second
# row; a smaller population (`stimulus_seeds` x the architectures, `stimulus_n_folds` subject folds x 3 clip folds)
# keeps it inside the CI budget, and its power statement says what that population can detect.

# %% tags=["parameters"]
faced_dir = None     # FACED folder; None -> $VAXIS_FACED_DIR, else a synthetic cohort
models = ["minilm"]  # LLM whose V-axis positions and sentence geometry are the targets (the first is used)
archs = ["linear", "mlp", "spatial_spectral", "tcn"]   # + "dgcnn", "grid_cnn", "transformer" on a GPU
seeds = list(range(9))   # 4 architectures x 9 seeds: 36 models, each trained once per fold
protocol = "kfold"   # kfold (n_folds subject-disjoint folds) or fixed (one split, see splits)
splits = None        # fixed protocol: dict with train, val and test subject-id lists; None for all 123 FACED subjects
n_folds = 10
train = {"epochs": 6, "steps_per_epoch": 40, "patience": 2, "lr": 1e-3, "batch_size": 256, "hidden": 64,
         "dropout": 0.3, "max_val": 2048}    # every architecture; arch_settings override per architecture
arch_settings = {"tcn": {"batch_size": 64, "hidden": 32}}   # a tcn sample is a whole clip (30 windows)
n_perm = 10_000      # unrestricted permutations (probe maps and RSA labels); the split-kept null is exact (576)
stimulus_seeds = [0, 1]   # cross-stimulus population: these seeds x archs (held-out clips; see the page "Emotion or
                          # stimulus?")
stimulus_n_folds = 10     # its subject folds, each crossed with the 3 clip folds
folds_per_job = None  # folds trained in one stacked job (None: all, the cheapest on CPUs: a job's cost hardly grows
                     # with its folds, which train together; 1 spreads the jobs over a cluster)
alpha = 0.05
margin = 0.10        # the smallest mean probe gain over the null that counts as rediscovery (Spearman)
device = "auto"
threads = 1          # torch / BLAS threads (1 is fastest on a shared 2-core machine)
executor = "local"   # where the fold jobs run: local (one worker process per core, one thread each), inline (this
                     # process, one job after another: debugging) or ray
address = None       # Ray cluster address for executor ray, e.g. ray://head:10001 (None: RAY_ADDRESS or local)
quick = False        # small settings for CI tests
seed = 0
results_dir = None   # None -> $VAXIS_RESULTS or ./results
cache_dir = None     # None -> $VAXIS_CACHE or ~/.cache/vaxis

# %% tags=["hide-input"]
from vaxis.publish.reader import check_parameters, show_rule

params = check_parameters(globals(), "05_rediscovery")
import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from vaxis.claims.common.strategies import AlignmentTargets
from vaxis.claims.rediscovery.jobs import claim5_inputs, run_rediscovery, scoreboard_row
from vaxis.claims.reference.baselines import run_reference
from vaxis.decoding.baselines import leaky_reproduction
from vaxis.decoding.folds import FoldDesign
from vaxis.eeg.datasets import load_faced
from vaxis.eeg.pipeline import DEFAULT
from vaxis.publish import verdicts
from vaxis.publish.outcomes import Power
from vaxis.publish.plots import book_style, source_tag, titled
from vaxis.publish.results import write_results
from vaxis.publish.scoreboard import ScoreboardRow
from vaxis.stats import bootstrap_ci, fmt_ci

t_start = time.time()
book_style()
torch.set_num_threads(threads)
eeg = load_faced(faced_dir, kind="de", cache_dir=cache_dir)
source, cut = eeg.source, False
if quick:
    archs, seeds, n_folds, n_perm = archs[:2], seeds[:2], 3, 500
    stimulus_seeds, stimulus_n_folds = stimulus_seeds[:1], 3
    train = {**train, "epochs": 3, "steps_per_epoch": 10}
    if source == "synthetic" and eeg.n_subjects > 12:
        eeg, cut = eeg.subset(eeg.subject_ids[:12]), True
pipeline = DEFAULT
print(f"DATA: {source_tag(source)}: {eeg.n_subjects} subjects x {eeg.x.shape[1]} clips x "
      f"{eeg.x.shape[3]} windows; input pipeline: {pipeline.describe()}")
if source == "synthetic":
    print("*** SYNTHETIC data: every number below comes from a simulated cohort, not from human EEG. ***")

# %% [markdown]
# ## Targets: the nine V-axis positions and the LLM's sentence geometry

# %%
targets = AlignmentTargets.from_llm(models[0], device=device, cache_dir=cache_dir)
llm, pos = models[0], np.asarray(targets.positions, float)
llm_rdm = 1.0 - targets.geometry                            # cosine distance of the nine sentences
pd.DataFrame({"V-axis position": pos.round(3)}, index=list(eeg.categories)).T

# %% [markdown]
# ## The rule, fixed before the run

# %%
show_rule(verdicts.RULE_5.format(alpha=alpha, margin=margin))

# %% [markdown]
# ## Reference decoders, re-run side by side
# FACED's DE + linear SVM and the label-only DE-MLP on the same pipeline and folds (`vaxis.claims.reference`; shared by
# chapters 5-8, computed once per build). The **leaky reproduction** of FACED's released pipeline (running
# normalisation, LDS across clip boundaries, C picked on the test fold) is shown only to connect with the published
# 35.2 % / 69.3 %: it is not a result.

# %%
design = FoldDesign(protocol=protocol, n_folds=n_folds, splits=splits)
ref = run_reference(eeg, pipeline, design=design, executor=executor, address=address, cache_dir=cache_dir,
                    quick=quick, device=device, cut=cut)
contract = ref.contract()
ref_unseen = run_reference(eeg, pipeline, design=dataclasses.replace(design, stimulus="unseen"), executor=executor,
                           address=address, cache_dir=cache_dir, quick=quick, device=device,
                           cut=cut)     # computed by the page "Emotion or stimulus?": read from the store
contract_unseen = ref_unseen.contract()
t0 = time.time()
leaky = pd.concat([leaky_reproduction(eeg.x, eeg.labels, eeg.subject_ids, task=t, k=min(n_folds, eeg.n_subjects),
                                      Cs=[1e-3, 1e-2, 1e-1], every=10) for t in ("9class", "binary")])
leaky_s = time.time() - t0
ref_table = pd.DataFrame([{"decoder": e["name"], "task": e["task"], "protocol": e["protocol"],
                           "pipeline": pipeline.describe(),
                           "window BA [95% CI]": fmt_ci(e["ba"], e["ci_low"], e["ci_high"]),
                           "subjects": e["n_subjects"]}
                          for c in (contract, contract_unseen) for e in c["baseline"] + c["label_only"]])
for t, g in leaky[leaky.level == "window"].groupby("task"):
    ref_table.loc[len(ref_table)] = {"decoder": "LEAKY reproduction of FACED's released SVM (not a result)",
                                     "task": t, "protocol": "cross-subject",
                                     "pipeline": "running z-score + LDS across clips, C on test",
                                     "window BA [95% CI]": fmt_ci(*bootstrap_ci(g.balanced_accuracy.to_numpy())),
                                     "subjects": eeg.n_subjects}
print(f"reference decoders: {ref.wall_s:.0f} s (jobs {ref.seconds:.0f} s); leaky reproduction {leaky_s:.0f} s")
ref_table

# %% [markdown]
# *Table.* Window-level balanced accuracy on held-out subjects (chance 0.111 for 9 classes, 0.5 binary); CIs treat
# the test subject as the unit and each fold's trained model as a cluster (`vaxis.stats.clustered_paired_test`).

# %% [markdown]
# ## The population: architectures x seeds, labels only
# One sweep job per architecture (x chunk of `folds_per_job` folds; `vaxis.claims.rediscovery.jobs`) trains every
# seed of that architecture on its folds at once with the stacked trainer (`vaxis.decoding.stacking`), scores the
# held-out
# subjects of each fold, and probes
# each trained model and its untrained initialisation under every map. Each finished job is stored under the
# cache, so a stopped run resumes; its id hashes every setting, the data's fingerprint and the package source.
# Window-level training (a `tcn` sample is a whole clip), Adam, at most `epochs` x `steps_per_epoch` batches with
# early stopping on the validation subjects' loss: cross-subject DE decoders reach their best validation loss
# early, and neighbouring one-second windows of a smoothed clip are near duplicates. The default population is a
# linear decoder, an MLP, a separable spatio-spectral network and a temporal convolution over a clip's windows; the
# graph CNN, the 2-D scalp-grid CNN and the channel transformer run through the same code (`archs=[..., "dgcnn",
# "grid_cnn", "transformer"]`) but cost several times more on CPUs (this build's training seconds per
# architecture are in the table below); run them with `device="cuda"`.

# %%
sweep, res = run_rediscovery(eeg, pipeline, archs=archs, folds_per_job=folds_per_job, alpha=alpha, executor=executor,
                             address=address, cache_dir=cache_dir, quick=quick, cut=cut, seeds=list(seeds),
                             design=design, train=train, arch_settings=arch_settings,
                             positions=pos.tolist(), llm_rdm=llm_rdm.tolist(), n_perm=n_perm, map_seed=seed,
                             device=device)
folds = sorted(f["fold"] for f in res["manifest"])
acc, n_models = res["accuracy"], res["n_models"]
acc_rows = []
for arch, g in acc[acc.level == "window"].groupby("arch", sort=False):
    fold_means = g.groupby("fold").balanced_accuracy.mean().to_numpy()           # seeds averaged per fold
    acc_rows.append({"arch": arch, "models": g.seed.nunique(), "folds": len(fold_means),
                     "window BA [95% CI over folds]": fmt_ci(*bootstrap_ci(fold_means, seed=seed)),
                     "train s (summed)": round(res["train_s"][arch]), "probe s": round(res["probe_s"][arch])})
print(f"{n_models} models x {len(folds)} folds; sweep wall time {sweep.seconds:.0f} s")
pd.DataFrame(acc_rows)

# %% [markdown]
# *Table.* 9-class window balanced accuracy of each architecture on held-out subjects (seeds averaged per fold,
# bootstrap CI over folds), beside the reference decoders above.

# %% [markdown]
# ## Power, then the population test

# %%
pop, rsa = res["population"], res["rsa"]
power = Power(unit=f"fold (population mean over {n_models} models; Nadeau-Bengio corrected t)",
              n=int(pop["n_folds"]), alpha=alpha, correction="none (one population test; split-kept null "
              "and RSA reported beside it)", mde=pop["mde_se"],
              effect="Spearman (mean probe score minus the unrestricted null's mean)")
print(power.sentence())
print(f"smallest detectable gain {pop['mde_se']:.3f} (from the gain's corrected standard error "
      f"{pop['gain_se']:.3f}) vs the rule's margin {margin}")
pop_table = pd.DataFrame([
    {"test": "ridge probe, unrestricted null", "observed": pop["statistic"], "null mean": pop["null_mean"],
     "p": pop["p_unrestricted"], "permutations": pop["n_perm"]},
    {"test": "ridge probe, split-kept null", "observed": pop["statistic"], "null mean": pop["split_null_mean"],
     "p": pop["p_split_kept"], "permutations": pop["n_split"]},
    {"test": "RSA (centroid geometry vs LLM)", "observed": rsa["mean"], "null mean": rsa["null_mean"], "p": rsa["p"],
     "permutations": rsa["n_perm"]}])
print(f"mean probe gain over the null: {fmt_ci(pop['gain'], *pop['gain_ci'])} (95% CI, corrected resampled t over "
      f"{pop['n_folds']} folds); RSA gain {fmt_ci(rsa['gain'], *rsa['gain_ci'])}")
pop_table.round(4)

# %%
nulls = res["nulls"]
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for ax, (vals, name, obs) in zip(axes, [(nulls["unrestricted"], "unrestricted permutations", pop["statistic"]),
                                        (nulls["split_kept"], "split-kept permutations (exact)", pop["statistic"]),
                                        (nulls["rsa"], "RSA label permutations", rsa["mean"])]):
    sns.histplot(vals, bins=40, ax=ax, color="0.6", stat="density")
    ax.axvline(obs, color="tab:red", lw=2, label=f"observed {obs:.3f}")
    ax.set(xlabel="population mean score (Spearman)", ylabel="density", title=name)
    ax.legend(fontsize=8)
fig.suptitle(titled(f"Claim 5: {n_models} label-only models vs permutation nulls ({llm} targets)", source))
fig.tight_layout()

# %% [markdown]
# *Figure 1.* Permutation nulls of the population statistic (grey) and the observed value (red): left, the mean
# held-out ridge-probe Spearman under unrestricted maps; middle, under the 575 other maps that keep the
# negative/positive split; right, the mean RSA between held-out class-centroid geometry and the LLM's sentence
# geometry under label permutations.

# %%
models_tab = res["models"]
tr = models_tab[(models_tab.weights == "trained")].pivot_table(index=["arch", "seed"], columns="probe",
                                                                 values="score")
un = models_tab[(models_tab.weights == "untrained")].pivot_table(index=["arch", "seed"], columns="probe",
                                                                   values="score")
nm = models_tab[(models_tab.weights == "trained")].pivot_table(index=["arch", "seed"], columns="probe",
                                                                 values="null_mean")
long = pd.concat([tr.stack().rename("trained"), un.stack().rename("untrained copy"),
                  nm.stack().rename("null mean")], axis=1).reset_index()
fig, ax = plt.subplots(figsize=(10, 4))
plot = long.melt(id_vars=["arch", "seed", "probe"], var_name="what", value_name="score")
sns.stripplot(data=plot, x="probe", y="score", hue="what", dodge=True, ax=ax, size=4, alpha=0.8)
ax.set(xlabel="probe", ylabel="held-out score (Spearman)",
       title=titled("Per-model description: trained vs untrained copy vs the model's own null mean", source))
fig.tight_layout()

# %% [markdown]
# *Figure 2.* Description, not a test: every model's held-out score per probe (trained), its untrained
# initialisation's score and the mean of its own unrestricted null (`loco`: leave-one-category-out deviation from
# the training categories' mean; `centroid_pc1`: first principal axis of the class centroids; `rsa`: Spearman of the
# centroid geometry with the LLM's).

# %%
arch_e = archs[min(1, len(archs) - 1)]
seed_e, cen_tr, cen_te = res["centroids"][(arch_e, folds[0])]
pc1 = np.linalg.svd(cen_tr - cen_tr.mean(0), full_matrices=False)[2][0]
proj_tr, proj_te = cen_tr @ pc1, cen_te @ pc1
if np.corrcoef(proj_tr, pos)[0, 1] < 0:
    proj_tr, proj_te = -proj_tr, -proj_te
fig, ax = plt.subplots(figsize=(7, 4))
sc = ax.scatter(proj_te, pos, c=pos, cmap="coolwarm", s=80, edgecolor="k", label="held-out subjects' centroids")
ax.scatter(proj_tr, pos, c=pos, cmap="coolwarm", s=30, marker="s", alpha=0.6, label="training subjects' centroids")
for c, name in enumerate(eeg.categories):
    ax.annotate(name, (proj_te[c], pos[c]), fontsize=7, xytext=(4, 2), textcoords="offset points")
ax.set(xlabel="projection on the centroids' first principal axis (z-scored units)",
       ylabel=f"V-axis position ({llm}, a.u.)")
fig.colorbar(sc, label="V-axis position")
ax.legend(fontsize=7)
ax.set_title(titled(f"Class centroids on their first principal axis ({arch_e}, seed {seed_e}, fold {folds[0]})",
                    source), fontsize=9)
fig.tight_layout()

# %% [markdown]
# *Figure 3.* The nine class centroids of one model's representation projected on their first principal axis
# (oriented on the training subjects), against the categories' V-axis positions.

# %% [markdown]
# ## Verdict

# %%
verdict = verdicts.claim5(*claim5_inputs(res), alpha=alpha, margin=margin, source=source)
scoreboard = [ScoreboardRow.from_dict(scoreboard_row(res, verdict, power, protocol="cross-subject", source=source,
                                                     pipeline=pipeline.as_dict()))]
print(f"[{verdict.verdict.upper()}] {verdict.reason}")

# %% [markdown]
# ## Unseen clips: the cross-stimulus population
# The same jobs with `stimulus="unseen"`: every subject fold crossed with the three clip folds, the decoders trained
# without the held-out clips, the probes fitted on the training subjects' training clips and scored on the held-out
# subjects' held-out clips (one clip per category, two neutral in clip fold 0).

# %%
sweep_x, res_x = run_rediscovery(eeg, pipeline, archs=archs, alpha=alpha, name="05_rediscovery cross-stimulus",
                                 executor=executor, address=address, cache_dir=cache_dir, quick=quick, cut=cut,
                                 seeds=list(stimulus_seeds),
                                 design=FoldDesign(protocol=protocol, n_folds=stimulus_n_folds, splits=splits,
                                                   stimulus="unseen"),
                                 train=train, arch_settings=arch_settings, positions=pos.tolist(),
                                 llm_rdm=llm_rdm.tolist(), n_perm=n_perm, map_seed=seed, device=device)
folds_x = sorted(f["fold"] for f in res_x["manifest"])
pop_x, rsa_x = res_x["population"], res_x["rsa"]
power_x = Power(unit=f"fold (population mean over {res_x['n_models']} models; Nadeau-Bengio corrected t)",
                n=int(pop_x["n_folds"]), alpha=alpha, correction="none (one population test per protocol)",
                mde=pop_x["mde_se"], effect="Spearman (mean probe score minus the unrestricted null's mean)")
print(power_x.sentence())
acc_x = res_x["accuracy"]
print(f"{res_x['n_models']} models x {len(folds_x)} folds ({stimulus_n_folds} subject x 3 clip folds), 9-class "
      f"window BA on held-out clips {acc_x[acc_x.level == 'window'].balanced_accuracy.mean():.3f}; "
      f"sweep {sweep_x.seconds:.0f} s")
verdict_x = verdicts.claim5(*claim5_inputs(res_x), alpha=alpha, margin=margin, source=source)
if pop_x["mde_se"] > margin:
    print(f"this population cannot detect a gain of {margin} (MDE {pop_x['mde_se']:.3f}): a non-significant result "
          "here is inconclusive")
scoreboard.append(ScoreboardRow.from_dict(scoreboard_row(res_x, verdict_x, power_x, protocol="cross-stimulus",
                                                         source=source, pipeline=pipeline.as_dict())))
print(f"[{verdict_x.verdict.upper()}] {verdict_x.reason}")
runtime_s = time.time() - t_start
print(f"runtime {runtime_s:.0f} s (reference {ref.wall_s:.0f} s, sweep {sweep.seconds:.0f} s, cross-stimulus sweep "
      f"{sweep_x.seconds:.0f} s)")

# %%
write_results("05_rediscovery", {
    "data_source": source, "n_subjects": eeg.n_subjects, "llm": llm, "positions": pos.tolist(),
    "archs": list(archs), "seeds": list(seeds), "protocol": protocol, "n_folds": len(folds),
    "pipeline": pipeline.as_dict(), "task": "9class", "manifest": res["manifest"], "training": {
        **train, "per_arch": arch_settings, "seconds": res["train_s"], "executor": executor},
    "baseline": contract["baseline"] + contract_unseen["baseline"],
    "label_only": contract["label_only"] + contract_unseen["label_only"], "reference_folds": ref.folds,
    "leaky_reproduction": leaky, "accuracy": acc, "models": models_tab, "n_models": n_models,
    "population_test": {k: pop[k] for k in ("n_perm", "statistic", "null_mean", "p_split_kept", "p_unrestricted")}
    | {"null_sd": pop["null_sd"], "split_null_mean": pop["split_null_mean"], "mde": pop["mde_se"],
       "mde_null_spread": pop["mde"], "gain": pop["gain"], "gain_ci": pop["gain_ci"], "gain_se": pop["gain_se"]},
    "rsa": {"mean": rsa["mean"], "p": rsa["p"], "n_perm": rsa["n_perm"], "null_mean": rsa["null_mean"],
            "gain": rsa["gain"], "gain_ci": rsa["gain_ci"]},
    "cross_stimulus": {"seeds": list(stimulus_seeds), "n_subject_folds": stimulus_n_folds, "n_folds": len(folds_x),
                       "n_models": res_x["n_models"], "accuracy": acc_x, "manifest": res_x["manifest"],
                       "population_test": {k: pop_x[k] for k in ("statistic", "null_mean", "p_split_kept",
                                                                  "p_unrestricted", "gain", "gain_ci", "mde_se")},
                       "rsa": {k: rsa_x[k] for k in ("mean", "p", "null_mean", "gain", "gain_ci")}},
    "alpha": alpha, "margin": margin, "runtime_s": runtime_s, "scoreboard": scoreboard}, results_dir)

# %% [markdown]
# ## What could break it
# - **Category identity vs valence.** A 9-class decoder separates all nine categories, and a linear readout of a
#   representation that separates them can be fitted to *any* ordering. That is why the test is against re-fitted
#   permutation nulls, why the split-kept null asks for the order within each side, and why RSA compares geometry
#   without fitting a readout.
# - **Held-out subjects only.** Probes are fitted on the fold's training subjects and scored on its test subjects,
#   whose data the decoder never saw.
# - **Transductive normalisation.** The per-subject z-score uses each test subject's own unlabelled windows
#   (FACED's convention); `vaxis.eeg.pipeline.Pipeline("train-only")` is the stricter option.
# - **Power.** The minimum detectable gain printed above comes from the fold-level gain's corrected standard error
#   (Nadeau & Bengio), the test the rule's "does not replicate" branch uses; the permutation null's own spread (nine
#   categories) is reported beside it in the results file (`mde_null_spread`).
# - **Clip identity.** On the same clips a representation can separate the categories by recognising the clips; the
#   cross-stimulus row asks the question on clips the decoders never saw.
# - **Budget.** Short training (early stopping, capped steps) keeps the chapter inside the CI budget; accuracies are
#   reported beside the reference decoders run in this build.
#
# ## Rerun on your own data
# `papermill notebooks/05_rediscovery.ipynb out.ipynb -p faced_dir /path/to/FACED -p quick False`.
# The fold jobs run in worker processes on this machine's cores by default (`-p executor inline`: in this process),
# `-p executor ray -p address ray://head:10001` over a Ray cluster (workers must read `faced_dir` at the same path;
# each job checks the data's fingerprint). Finished jobs stay under `<cache>/sweeps/05_rediscovery/`
# (`vaxis sweep status --store <that folder>`): a rerun with the same settings trains nothing.
