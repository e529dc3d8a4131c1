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
# # Does the LLM valence axis map onto human EEG?
#
# **Claim 4 (paper):** on FACED (123 subjects watching 28 affective clips), a single linear projection of EEG
# features tracks each stimulus's V-axis position ("significant tracking on 123 subjects").
#
# **What we test.** Each clip's target is its category's position on an LLM's V-axis (chapter 1). One linear
# map (ridge; alpha chosen by inner subject-disjoint CV on the training subjects only) goes from a subject's
# clip-level DE features (the shared input pipeline: LDS smoothing restarted per clip and a per-subject z-score;
# then the mean over the 30 one-second windows, 30 channels x 5 bands, z-scored per subject across its own clips)
# to the position. It is fitted on training subjects and
# scored on held-out subjects (10 contiguous subject-disjoint folds): Spearman between predicted and true
# positions over each held-out subject's 28 clips.
#
# **The honest null.** The nine categories differ in EEG for many reasons besides valence, so a map can track
# *any* ordering of the nine categories. The honest null shuffles the nine category positions and re-runs the
# whole fit (alpha selection included); the evaluation-only null (keep the map, shuffle at scoring) is shown only
# as the dishonest contrast. Leave-one-category-out (LOCO) predicts each category from a map that never saw it,
# which separates valence from category identity.
#
# **Emotion or stimulus?** Every test subject watched the training subjects' clips, so a map could score by
# recognising *which clip* plays (see the page "Emotion or stimulus?"). The **cross-stimulus** protocol crosses the
# subject folds with three clip folds (`vaxis.eeg.faced.clip_folds`): each clip of a held-out subject is predicted
# by a map fitted without that subject *and* without that clip. Leave-one-category-out already predicts clips no map
# saw (all of the held-out category's clips are out of training), so both protocols share that design. Each target
# gets a verdict under both protocols, side by side; the p-values are Holm-corrected across the LLM targets within
# each protocol and design.

# %% tags=["parameters"]
faced_dir = None     # FACED folder; None -> $VAXIS_FACED_DIR, else a synthetic cohort
models = ["minilm", "smollm2-135m", "gemma3-270m"]
device = "auto"
quick = False        # small settings for CI tests
seed = 0
n_perm = 1000        # permutations of the nine category positions (honest null: each re-fits)
n_folds = 10
alpha = 0.05
margin = 0.10        # the smallest mean gain over the honest null that counts as tracking (Spearman)
results_dir = None   # None -> $VAXIS_RESULTS or ./results
cache_dir = None     # None -> $VAXIS_CACHE or ~/.cache/vaxis

# %% tags=["hide-input"]
from vaxis.publish.reader import check_parameters, show_rule

params = check_parameters(globals(), "04_eeg_projection")
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.stats import norm

from vaxis.claims.common.vmap import clip_features, fit_full_map
from vaxis.claims.projection import maps as proj
from vaxis.eeg.datasets import load_faced
from vaxis.eeg.montage import plot_topomap_bands
from vaxis.eeg.pipeline import DEFAULT, apply_pipeline
from vaxis.publish import verdicts
from vaxis.publish.outcomes import Power
from vaxis.publish.plots import book_style, source_tag, titled
from vaxis.publish.results import write_results
from vaxis.publish.scoreboard import ScoreboardRow
from vaxis.stats import fmt_ci, holm

t_start = time.time()
book_style()
if quick:
    models, n_perm = ["minilm"], min(n_perm, 100)
eeg = load_faced(faced_dir, kind="de", cache_dir=cache_dir)
source, pipeline = eeg.source, DEFAULT
feats = clip_features(apply_pipeline(eeg, pipeline, cache_dir=cache_dir).x, normalisation="per-subject")
valence = eeg.valence() if eeg.ratings is not None else None
print(f"DATA: {source_tag(source)}")
if source == "synthetic":
    print("*** SYNTHETIC data: every number below comes from a simulated cohort, not from human EEG. ***")
print(f"{eeg.n_subjects} subjects x {feats.shape[1]} clips x {feats.shape[2]} features; "
      f"n_perm = {n_perm}, folds = {n_folds}; pipeline: {pipeline.describe()}, then clip means z-scored per subject")

# %% [markdown]
# ## Targets: V-axis positions of the nine categories
# One column per LLM (from `vaxis.text.axis.category_positions`), plus two labelled references: the sign of each
# category (negative -1 / neutral 0 / positive +1) and the mean self-reported valence per category.

# %%
targets, notes = proj.collect_targets(models, eeg.categories, valence, eeg.labels, device=device,
                                      cache_dir=cache_dir)
for name, why in notes.items():
    print(f"model {name!r} not available: {why}")
llm_names = [m for m in models if m in targets]
pd.DataFrame(targets, index=list(eeg.categories)).round(3)

# %% [markdown]
# ## The rule, fixed before the run

# %%
show_rule(verdicts.RULE_4.format(alpha=alpha, margin=margin))

# %% [markdown]
# ## Cross-subject tracking, honest null, leave-one-category-out

# %%
# leave-one-category-out predicts clips no map saw (every clip of the held-out category is out of training), so it is
# already a cross-stimulus design: both protocols share it
all_runs, clip_fold = proj.run_projection(feats, eeg.labels, eeg.clip_ids, targets, n_perm=n_perm, n_folds=n_folds,
                                          seed=seed)
protocols = proj.PROTOCOLS
rows, runs = [], {}
for name in targets:
    main, loco = runs[name] = all_runs[(name, "cross-subject")]
    for (design, protocol), r in (((d, pr), x) for pr in protocols
                                  for d, x in zip(("all categories", "leave-one-category-out"),
                                                  all_runs[(name, pr)])):
        rows.append({"target": name, "protocol": protocol, "design": design, "n_subjects": r["n_subjects"],
                     "mean Spearman [95% CI]": fmt_ci(r["mean_rho"], *r["ci"]),
                     "mean Pearson [95% CI]": fmt_ci(r["mean_r"], *r["ci_r"]),
                     "honest null mean": round(r["null_honest_mean"], 3), "p honest": r["p_honest"],
                     "eval-only null mean (dishonest)": round(r["null_eval_only_mean"], 3),
                     "p eval-only (dishonest)": r["p_eval_only"]})
table = pd.DataFrame(rows)
table

# %% [markdown]
# *Table.* Per target, protocol and design: the mean held-out Spearman with its 95 % CI (test subjects as units, the
# subject fold's map as a cluster), the honest null's mean and p (before the Holm correction of the verdict).

# %%
primary = llm_names[0] if llm_names else "sign"
main, loco = runs[primary]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
for ax, (design, r) in zip(axes, (("all categories", main), ("leave-one-category-out", loco))):
    ax.hist(r["null_honest"], bins=30, alpha=0.7, label="honest null (shuffle + re-fit)")
    ax.hist(r["null_eval_only"], bins=30, alpha=0.7, label="eval-only null (dishonest)")
    ax.axvline(r["mean_rho"], color="k", lw=2, label=f"observed {r['mean_rho']:.3f}")
    ax.set_xlabel("mean Spearman over held-out subjects")
    ax.set_ylabel("permutations (count)")
    ax.set_title(f"{design}, p honest = {r['p_honest']:.3f}", fontsize=10)
axes[0].legend(fontsize=8)
fig.suptitle(titled(f"Claim 4: EEG -> V-axis position ({primary}), n = {main['n_subjects']} subjects", source))
fig.tight_layout()

# %% [markdown]
# *Figure 1.* Observed mean held-out Spearman (black line) against the two nulls: shuffling the nine category
# positions and re-fitting (honest) vs shuffling only at evaluation (dishonest). Left: all categories;
# right: each category predicted by a map that never saw it.

# %%
pred = main["pred"]
true = targets[primary][eeg.labels]
fig, ax = plt.subplots(figsize=(6.5, 4.2))
m_pred, s_pred = pred.mean(0), pred.std(0)
colors = plt.cm.coolwarm((true - true.min()) / (np.ptp(true) or 1.0))
ax.errorbar(true, m_pred, yerr=s_pred, fmt="none", ecolor="0.6", lw=1)
ax.scatter(true, m_pred, c=colors, edgecolor="k", zorder=3)
for c in range(len(true)):
    ax.annotate(str(eeg.clip_ids[c]), (true[c], m_pred[c]), fontsize=7, xytext=(3, 3), textcoords="offset points")
ax.set_xlabel(f"true V-axis position of the clip's category ({primary}, a.u.)")
ax.set_ylabel("predicted position, held-out subjects (mean ± SD, a.u.)")
ax.set_title(titled("Predicted vs true position per clip (labels = video index)", source), fontsize=10)
fig.tight_layout()

# %% [markdown]
# *Figure 2.* Each point is a clip (video index); the prediction is averaged over held-out subjects (error bar:
# SD across subjects).

# %%
full = fit_full_map(feats, eeg.labels, targets[primary], n_folds=n_folds)
n_ch, n_b = len(eeg.ch_names), len(eeg.bands)
fig_w = plot_topomap_bands(full["weights"].reshape(n_ch, n_b), eeg.ch_names, eeg.bands,
                           title=titled(f"Map weights ({primary}, alpha={full['alpha']:g})", source),
                           unit="weight (a.u. per z-scored DE)")
fig_p = plot_topomap_bands(full["pattern"].reshape(n_ch, n_b), eeg.ch_names, eeg.bands,
                           title=titled(f"Activation pattern cov(X) w ({primary})", source),
                           unit="pattern (a.u.)")

# %% [markdown]
# *Figures 3-4.* Weights of the map fitted on all subjects, per band (shared colour scale), and the
# corresponding activation pattern (Haufe et al. 2014), which is the interpretable one.

# %% [markdown]
# ## The subjects' own ratings, and LLM vs human

# %%
rating_res = human = None
if valence is not None:
    rating_res = proj.rating_projection(feats, valence, n_folds=n_folds, seed=seed)
    print("EEG -> own valence rating (held-out subjects): mean Spearman "
          f"{fmt_ci(rating_res['mean_rho'], *rating_res['ci'])}"
          f" (n = {rating_res['n_subjects']})")
    human = {m: proj.llm_vs_human(targets[m], valence, eeg.labels, seed=seed) for m in llm_names}
    for m, h in human.items():
        print(f"{m}: Spearman(LLM positions, mean human valence) = {h['spearman']:.3f} "
              f"[{h['ci'][0]:.3f}, {h['ci'][1]:.3f}] (n = 9 categories, p = {h['p_spearman']:.3g})")

# %% [markdown]
# ## Verdict

# %%
scoreboard = []
names = llm_names or ["sign"]
adjusted = {}                                  # Holm across the LLM targets, per protocol and design
for protocol in protocols:
    for d in (0, 1):
        ps = holm(np.array([all_runs[(m, protocol)][d]["p_honest"] for m in names]))
        adjusted.update({(m, protocol, d): float(p) for m, p in zip(names, ps)})
z80, za = norm.ppf(0.8), norm.ppf(1 - alpha / (2 * len(names)))
for m in names:
    for protocol in protocols:
        r, lo_ = all_runs[(m, protocol)]
        gains = {d: (x["mean_rho"] - x["null_honest_mean"], x["ci"][0] - x["null_honest_mean"],
                     x["ci"][1] - x["null_honest_mean"]) for d, x in (("all", r), ("loco", lo_))}
        # MDE of each design: the gain over the honest null a test at alpha / n_targets (Holm's first step) detects
        # with power 0.8, from the mean Spearman's clustered standard error
        mdes = {d: float((za + z80) * x["se"]) for d, x in (("all", r), ("loco", lo_))}
        power = Power(unit="held-out subject (mean Spearman over its clips), subject fold as cluster",
                      n=int(r["n_subjects"]), alpha=alpha,
                      correction=f"Holm over {len(names)} LLM targets, per design and protocol",
                      mde=max(mdes.values()),
                      effect=(f"Spearman gain over the honest null (all categories {mdes['all']:.3f}, "
                              f"leave-one-category-out {mdes['loco']:.3f})"))
        v = verdicts.claim4(adjusted[(m, protocol, 0)], adjusted[(m, protocol, 1)], gains["all"][2],
                            gains["loco"][2], alpha=alpha, margin=margin, source=source)
        print(f"{m}, {protocol}: {power.sentence()}")
        if max(mdes.values()) > margin:
            print(f"  -> this design cannot detect a gain of {margin} (its MDE is {max(mdes.values()):.3f}): "
                  "a non-significant result here is inconclusive, not a failure")
        scoreboard.append(ScoreboardRow(
            claim=4, title=f"EEG tracks the V-axis position ({m}, {protocol})", protocol=protocol,
            paper="significant tracking on 123 subjects",
            ours=(f"mean held-out Spearman {fmt_ci(r['mean_rho'], *r['ci'])} vs honest null "
                  f"{r['null_honest_mean']:.3f} (p={r['p_honest']:.3f}, Holm {adjusted[(m, protocol, 0)]:.3f}), "
                  f"n={r['n_subjects']} subjects; LOCO {lo_['mean_rho']:.3f} vs null {lo_['null_honest_mean']:.3f} "
                  f"(p={lo_['p_honest']:.3f}, Holm {adjusted[(m, protocol, 1)]:.3f}); eval-only "
                  f"p={r['p_eval_only']:.3f} (dishonest)"
                  + ("" if llm_names else f"; no LLM positions ({'; '.join(notes.values())})")),
            data=source, **v.fields(), power=power, pipeline=pipeline,
            extra={"gain": {d: dict(zip(("mean", "ci_low", "ci_high"), g)) for d, g in gains.items()},
                   "p_holm": {"all": adjusted[(m, protocol, 0)], "loco": adjusted[(m, protocol, 1)]}},
            headline={"text": f"{protocol}: rho {r['mean_rho']:.2f} vs honest null {r['null_honest_mean']:.2f} "
                              f"(Holm p {adjusted[(m, protocol, 0)]:.2g}); "
                              f"LOCO {lo_['mean_rho']:.2f} vs {lo_['null_honest_mean']:.2f}",
                      "label": f"EEG -> V-axis ({m}, {protocol})", "unit": "held-out Spearman",
                      "ours": r["mean_rho"], "ci_low": r["ci"][0], "ci_high": r["ci"][1],
                      "baseline": r["null_honest_mean"], "baseline_label": "honest null", "paper": None}))
for row in scoreboard:
    print(f"[{row.verdict.upper()}] {row.title}: {row.ours}")
runtime_s = time.time() - t_start

# %%
write_results("04_eeg_projection", {
    "data_source": source, "n_subjects": eeg.n_subjects, "subject_ids": eeg.subject_ids,
    "pipeline": pipeline.as_dict(), "normalisation": "per-subject", "alpha": alpha, "margin": margin,
    "method": "ridge (alpha by inner subject-disjoint CV)", "n_perm": n_perm,
    "folds": main["folds"], "models_missing": notes, "targets": {k: v for k, v in targets.items()},
    "table": table,
    "runs": {k: {d: {key: r[key] for key in ("mean_rho", "ci", "mean_r", "ci_r", "rho", "p_honest",
                                              "null_honest_mean", "p_eval_only", "null_eval_only_mean", "alphas",
                                              "se", "protocol")}
                 for d, r in (("all", a), ("loco", b))} for k, (a, b) in runs.items()},
    "runs_cross_stimulus": {m: {d: {key: r[key] for key in ("mean_rho", "ci", "rho", "p_honest", "null_honest_mean",
                                                             "se", "protocol")}
                                for d, r in zip(("all", "loco"), all_runs[(m, "cross-stimulus")])}
                            for m in targets},
    "clip_fold": clip_fold,
    "ratings": None if rating_res is None else {k: rating_res[k] for k in ("mean_rho", "ci", "rho", "n_subjects")},
    "llm_vs_human": None if human is None else {m: {k: v for k, v in h.items()} for m, h in human.items()},
    "full_map": {"target": primary, "alpha": full["alpha"], "weights": full["weights"], "pattern": full["pattern"]},
    "runtime_s": runtime_s, "scoreboard": scoreboard,
}, results_dir)

# %% [markdown]
# ## What could break it
# - **Category identity vs valence.** EEG separates the nine categories for reasons unrelated to valence; an
#   ordering-agnostic map then tracks any ordering. Only the re-fitting null tests valence specifically; the
#   evaluation-only null is not a test of it.
# - **LOCO regression to the mean.** Holding out a category moves the training targets' mean away from it: a map's
#   intercept (the other eight categories' mean position) runs opposite to the held-out category's, so LOCO predicts
#   the *deviation* from that mean (on pure noise it then scores about 0, not -0.9).
# - **Clip identity.** A map scored on the training subjects' clips can track the clips themselves; only the
#   cross-stimulus rows (held-out subjects watching held-out clips) speak about what a category's clips share.
# - **Normalisation.** Per-subject z-scoring uses each held-out subject's unlabelled clips (as FACED does).
# - **Synthetic data.** If the banner above says SYNTHETIC, the numbers describe the simulator only.
#
# ## Rerun on your data
# `papermill notebooks/04_eeg_projection.ipynb out.ipynb -p faced_dir /path/to/FACED -p quick False`
