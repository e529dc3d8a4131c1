# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The V-axis is consistent across LLMs
#
# **Claim (paper).** Fourteen LLMs share the valence axis: read out from each model separately, it orders
# emotional content the same way.
#
# **What this chapter tests.** Every model that loads gets its own V-axis (chapter 1's: nine sentences, standardised
# hidden dimensions, the nine-sentence layer rule, the fixed pooling rule). Models are compared only on shared text,
# the texts chapter 2 scored (the same texts of each benchmark for every model, neutral ones included, so the hidden
# states come from chapter 2's cache and a rerun makes no forward pass):
#
# * **agreement within each benchmark**: the Spearman correlation of two models' positions on that benchmark's
#   texts, averaged over the benchmarks (pooling all texts into one ranking mixes each benchmark's offset into the
#   ranks; the pooled correlation is shown as a secondary row);
# * the **random-weight floor**: how much a pretrained model agrees with an untrained twin (architecture and
#   tokenisation alone); each pair of pretrained models is tested against it with a **bootstrap of the
#   difference** (texts resampled within benchmarks, the same draws for every pretrained model; the floor, read on
#   the first `control_n_texts` texts of each benchmark that the random-weight twins read, has its own draws);
# * the nine sentences themselves: Spearman of their positions and **RSA** of their geometry (correlation
#   distances at each model's chosen layer), which needs no shared axis.
#
# Text only: no EEG here.

# %% tags=["parameters"]
sentiment_dir = None # sentiment folder; None -> $VAXIS_SENTIMENT_DIR, else ../shared, fetched or EMBEDDED SAMPLE
models = ["minilm", "smollm2-135m", "gemma3-270m", "mpnet", "qwen2.5-coder-0.5b"]  # optional ones if installed;
                     # vaxis.text.llm.LINEUP_14 where a hub and a GPU are available
control_models = None  # random-weight floors; None: a twin of every model (chapter 2's, cached)
benchmark_names = ["sst2", "sst5", "rotten_tomatoes", "imdb", "tweeteval_sentiment"]  # names or files, as chapter 2
text_col = None      # user files, as chapter 2
label_col = None
drop_empty = False
device = "auto"
quick = False        # small settings for CI tests: first model only, 100 texts per benchmark
seed = 0
n_boot = 1000
llm_batch_size = None  # texts per forward pass; None: 16 on CPU, from free GPU memory on CUDA
n_texts = 500        # pos/neg texts per benchmark (as chapter 2, so its cache serves this chapter)
control_n_texts = 100  # the random-weight floors read only the first of those texts (as chapter 2; None: as many)
max_tokens = 128     # as chapter 2
results_dir = None   # None -> $VAXIS_RESULTS or ./results
cache_dir = None     # None -> $VAXIS_CACHE or ~/.cache/vaxis

# %%
from vaxis.publish.reader import check_parameters, show_rule

params = check_parameters(globals(), "03_cross_model")
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vaxis.publish import rules, text_verdicts
from vaxis.publish.results import write_results
from vaxis.publish.scoreboard import ScoreboardRow
from vaxis.stats import fmt_ci
from vaxis.text import agreement as ag
from vaxis.text import llm
from vaxis.text import sentiment as B
from vaxis.text import zeroshot as zs
from vaxis.text.models import installed_models
from vaxis.text.reference_texts import standardize

t_start = time.perf_counter()
calls_start = llm.FORWARD_CALLS
models, not_installed = installed_models(list(models))  # optional offline models run only where installed
print("models:", ", ".join(models), "| not installed:", "; ".join(not_installed.values()) or "none")
if quick:
    models, n_boot = models[:1], 200
models = list(models)
controls = list(models) if control_models is None else installed_models(list(control_models))[0]
print(B.describe_data(benchmark_names, sentiment_dir, text_col=text_col, label_col=label_col, drop_empty=drop_empty))
runs, failures, _ = zs.load_runs(models, controls, benchmark_names, quick, seed=seed, device=device,
                                 data_dir=sentiment_dir, cache_dir=cache_dir, batch_size=llm_batch_size,
                                 n_texts={"encoder": n_texts, "causal": n_texts}, max_tokens=max_tokens,
                                 control_n_texts=control_n_texts, text_col=text_col, label_col=label_col,
                                 drop_empty=drop_empty)
names = list(runs)
is_real = np.array([k in models for k in names])
real_names = [k for k in names if k in models]
print("loaded:", names)
print("could not load:", failures or "none")

# %% [markdown]
# ## Data and models
#
# The shared texts are every model's chapter-2 text sets (neutral texts included: agreement is about positions,
# not labels), checked identical across models below: pairs of pretrained models agree on all of them, every pair
# with a random-weight model (the floor) on the first texts that every model read (the twins read only the first
# `control_n_texts` binary texts of the same order).

# %%
bench = list(runs[names[0]]["sets"]) if names else []
n_floor = {b: min(len(runs[k]["sets"][b]) for k in names) for b in bench}  # the prefix every model read
for k in names:
    for b in bench:
        ref = runs[real_names[0] if real_names else names[0]]["sets"][b]["text"]
        n_k = len(ref) if k in real_names else n_floor[b]
        assert runs[k]["sets"][b]["text"].iloc[:n_k].reset_index(drop=True).equals(
            ref.iloc[:n_k].reset_index(drop=True)), (k, b)
proj = {k: {b: zs.project(runs[k]["axis"], runs[k]["hidden"][b]) for b in bench} for k in names}
positions = {b: np.stack([proj[k][b] for k in real_names]) for b in bench} if real_names else {}
floor_positions = {b: np.stack([proj[k][b][: n_floor[b]] for k in names]) for b in bench}
nine = np.stack([zs.project(runs[k]["axis"], runs[k]["anchor"]) for k in names]) if names else np.zeros((0, 9))
n_per_bench = {b: int(p.shape[1]) for b, p in positions.items()}
print(f"shared texts: {sum(n_per_bench.values())} ({n_per_bench}) x {len(real_names)} pretrained models; "
      f"floor pairs on the first {sum(n_floor.values())} ({n_floor}) x {len(names)} models")
pd.DataFrame({"model": names, "pretrained": is_real, "layer": [runs[k]["layer"] for k in names],
              "pooling": [runs[k]["pooling"] for k in names], "n_layers": [runs[k]["n_layers"] - 1 for k in names]})

# %% [markdown]
# ## The rule, fixed before the data
#
# The verdict rule (`vaxis.publish.text_verdicts.RULE_3`) and what this design can detect at the n above:

# %%
n_pairs = len(real_names) * (len(real_names) - 1) // 2
level = 1 - rules.TEXT_ALPHA / max(n_pairs, 1)
power = text_verdicts.power_claim3(list(n_per_bench.values()), n_pairs,
                              n_floor=list(n_floor.values())) if n_per_bench else None
show_rule(text_verdicts.RULE_3)
print("power:", power.sentence() if power else "no text set")
print(f"CI level for each pair: {level:.4f} (Bonferroni over {max(n_pairs, 1)} pair(s))")

# %% [markdown]
# ## Method and result: pairwise agreement

# %%
can_compare = len(names) > 1 and bench and len(real_names) > 0
if can_compare:
    agree = ag.agreement_with_floor(positions, floor_positions, is_real, n_boot=n_boot, seed=seed)
    within = ag.floor_differences(agree["within"], agree["within_boot"], names, is_real, level=level)
    pooled = ag.floor_differences(agree["pooled"], agree["pooled_boot"], names, is_real, level=level)
    rho_9, lo_9, hi_9 = ag.spearman_matrix_ci(nine, n_boot=n_boot, seed=seed)
    rsa9 = ag.rsa_matrix([standardize(runs[k]["anchor"][runs[k]["layer"]], runs[k]["reference"][runs[k]["layer"]])
                          for k in names])
else:
    agree, within, pooled = None, pd.DataFrame(), pd.DataFrame()
iu = np.triu_indices(len(names), 1)
pairs = pd.DataFrame({
    "model_a": [names[i] for i in iu[0]], "model_b": [names[j] for j in iu[1]],
    "within (mean over benchmarks)": [fmt_ci(agree["within"][i, j], *np.nanquantile(
        agree["within_boot"][:, i, j], [(1 - level) / 2, (1 + level) / 2])) for i, j in zip(*iu)],
    "pooled": [f"{agree['pooled'][i, j]:.3f}" for i, j in zip(*iu)],
    "nine sentences": [fmt_ci(rho_9[i, j], lo_9[i, j], hi_9[i, j]) for i, j in zip(*iu)],
    "rsa_nine": np.round(rsa9[iu], 3),
    "floor_pair": [not (is_real[i] and is_real[j]) for i, j in zip(*iu)],
}) if can_compare else pd.DataFrame()
pairs

# %% [markdown]
# Table: every model pair: Spearman of V-axis positions within each benchmark, averaged over benchmarks (CI at the
# rule's level), pooled over all shared texts, and on the nine sentences (n = 9; 95% CIs from resampling nine items
# are wide), and RSA of the nine-sentence geometry (36 distance pairs). `floor_pair`: at least one random-weight
# model.

# %%
if len(within):
    show = within.assign(
        agreement=[fmt_ci(a, lo, hi) for a, lo, hi in zip(within.agreement, within.agreement_lo,
                                                           within.agreement_hi)],
        minus_floor=[fmt_ci(a, lo, hi) for a, lo, hi in zip(within["diff"], within.diff_lo, within.diff_hi)],
        pooled_minus_floor=[fmt_ci(a, lo, hi) for a, lo, hi in zip(pooled["diff"], pooled.diff_lo, pooled.diff_hi)],
    )[["model_a", "model_b", "agreement", "floor", "floor_with", "minus_floor", "pooled_minus_floor"]]
else:
    show = pd.DataFrame()
show

# %% [markdown]
# Table: each pair of pretrained models against the random-weight floor (the largest |agreement| of either model
# with a random-weight model, `floor_with`): agreement within benchmarks, and the bootstrap CI of agreement
# minus floor (primary), and the same on the pooled ranking (secondary row), at the rule's Bonferroni level.

# %%
if len(within):
    fig, axs = plt.subplots(1, 3, figsize=(16, 4.8), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    for ax, (m, title) in zip(axs[:2], [(agree["within"], "Spearman within benchmarks (mean)"),
                                        (rsa9, "RSA of the nine-sentence geometry (n=36 pairs)")]):
        im = ax.imshow(m, vmin=-1, vmax=1, cmap="RdBu_r")
        for i in range(len(names)):
            for j in range(len(names)):
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(names)), names, fontsize=7)
        ax.set_title(title, fontsize=9)
        fig.colorbar(im, ax=ax, shrink=0.7, label="correlation (-1 .. 1)")
    ax = axs[2]
    lab = [f"{a} ~ {b}" for a, b in zip(within.model_a, within.model_b)]
    y = np.arange(len(within))
    ax.errorbar(within["diff"], y + 0.12, xerr=[within["diff"] - within.diff_lo, within.diff_hi - within["diff"]],
                fmt="o", capsize=3, label="within benchmarks (primary)")
    ax.errorbar(pooled["diff"], y - 0.12, xerr=[pooled["diff"] - pooled.diff_lo, pooled.diff_hi - pooled["diff"]],
                fmt="s", capsize=3, color="grey", label="pooled (secondary)")
    ax.axvline(0, color="k", lw=0.8)
    ax.axvline(rules.CLAIM3_MARGIN, color="tab:red", ls=":", label=f"margin {rules.CLAIM3_MARGIN}")
    ax.set_yticks(y, lab, fontsize=7)
    ax.set(xlabel="agreement minus random-weight floor (Spearman)", title="Pairs of pretrained models vs the floor")
    ax.legend(fontsize=7)
    fig.suptitle("Cross-model agreement of the V-axis | text only (no EEG)")
    plt.tight_layout()
    plt.show()

# %% [markdown]
# Figure: left, Spearman correlation between models' V-axis positions within each benchmark, averaged over the
# benchmarks; middle, RSA between the models' nine-sentence geometries; right, each pair of pretrained models:
# agreement minus the random-weight floor with the bootstrap CI at the rule's level (dots: within
# benchmarks, squares: pooled), the dotted line the rule's margin. Random-weight rows are the floor: agreement that
# owes nothing to training.
#
# ## Verdict

# %%
n_ctrl = int((~is_real).sum())
n_models, model_kinds, scope = ag.model_scope({k: "causal" if runs[k]["causal"] else "encoder" for k in real_names})
verdict = text_verdicts.claim3(within.to_dict("records") if len(within) else [], len(real_names), n_ctrl, scope=scope)
if len(within):
    ours = (f"{len(real_names)} models, {sum(n_per_bench.values())} shared texts: within-benchmark Spearman "
            + "; ".join(f"{r.model_a}~{r.model_b} {r.agreement:+.3f} (minus floor {r.diff:+.3f} "
                        f"[{r.diff_lo:+.3f}, {r.diff_hi:+.3f}])" for r in within.itertuples())
            + f"; floor <= {within.floor.max():.3f}")
else:
    ours = f"only {len(real_names)} pretrained model(s) loaded ({', '.join(names)}): no pair to compare"
n_fwd = llm.FORWARD_CALLS - calls_start
print(ours)
print(f"verdict: {verdict.verdict}\nwhy: {verdict.reason}")
print(f"forward calls this run: {n_fwd} (0 when chapter 2 ran first with the same settings); "
      f"{time.perf_counter() - t_start:.1f} s")

# %%
write_results("03_cross_model", {
    "data_source": "text", "sentiment_data": B.data_tag(benchmark_names, sentiment_dir),
    "quick": quick, "seed": seed, "n_boot": n_boot, "level": level,
    "models": names, "pretrained": real_names, "failures": failures,
    "layers": {k: runs[k]["layer"] for k in names}, "pooling": {k: runs[k]["pooling"] for k in names},
    "n_per_benchmark": n_per_bench, "n_shared": int(sum(n_per_bench.values())),
    "n_floor_per_benchmark": n_floor, "control_n_texts": control_n_texts,
    "spearman_within": {"rho": agree["within"], "per_benchmark": agree["per_benchmark"]} if agree else {},
    "spearman_pooled": {"rho": agree["pooled"]} if agree else {},
    "pairs_within": within.to_dict("records"), "pairs_pooled": pooled.to_dict("records"),
    "spearman_nine": {"rho": rho_9, "ci_low": lo_9, "ci_high": hi_9} if can_compare else {},
    "rsa_nine": rsa9 if can_compare else [], "nine_positions": {k: nine[i] for i, k in enumerate(names)},
    "forward_calls": n_fwd,
    "scoreboard": [ScoreboardRow(
        claim=3, title="The V-axis is consistent across LLMs", paper="14 LLMs agree",
        ours=ours, data=f"{sum(n_per_bench.values()):,} benchmark texts + the nine sentences "
                        f"(text, {B.data_tag(benchmark_names, sentiment_dir)})",
        **verdict.fields(), power=power, extra={"n_models": n_models, "model_kinds": model_kinds},
    )],
}, results_dir)

# %% [markdown]
# ## What could break it
#
# * **Few models.** The offline run has five small models (two encoders, three causal LMs up to 0.5B parameters;
#   three where the optional wheels are not installed), not fourteen LLMs of 0.5-8B; the verdict states that scope
#   (`n_models`, `model_kinds` in the results). The 14-model lineup
#   (`vaxis.text.llm.LINEUP_14`) runs where a hub and a GPU are available (`-p models ...`). Models that fail to load
#   are listed above with the reason.
# * **Shared structure that is not valence**: length or topic can make positions agree. The random-weight floor
#   captures what architecture and tokenisation alone give (the largest of several floors, so it is conservative);
#   the benchmark AUROCs (chapter 2) show what the agreed ordering is about.
# * **Pooling benchmarks** mixes their offsets (a model that places all tweets above all reviews agrees with another
#   that does the same, whatever their valence); the verdict uses within-benchmark agreement for that reason.
# * **Nine sentences are few**: Spearman on nine items has very wide CIs; the shared benchmark texts carry the
#   verdict.
#
# ## How to rerun
#
# ```
# papermill notebooks/03_cross_model.ipynb out.ipynb -p quick False -p models '["minilm", "Qwen/Qwen2.5-0.5B"]'
# ```
