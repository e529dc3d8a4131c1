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
# # Methods: how a verdict is decided, and why the paired test holds its error rate
#
# Every EEG chapter ends with a verdict from one pure function of `vaxis.publish.verdicts`, whose rule text is printed
# before the chapter's result. Four outcomes: **replicates**, **partly**, **does not replicate** (only when the
# data *exclude* the paper's effect: a confidence interval or an equivalence test against a margin the rule names)
# and **inconclusive** (an interval that still holds both no effect and the paper's). Synthetic data always give
# "inconclusive". Each chapter states its power first: the unit of analysis, n, alpha, the correction and the
# minimum detectable effect (MDE) of its own design.
#
# **The unit of analysis.** In subject-disjoint cross-validation every test subject of a fold is scored by the same
# trained models; folds of different CV repeats share subjects. Neither the fold nor the subject is an independent
# unit, and treating seeds x folds or repeats x folds as independent pairs makes a test anti-conservative. The
# chapters therefore use the test subject as the unit and each fold's (or replicate's) trained models as a cluster,
# with the variance of the mean estimated from three components: the model's, the subject's and the residual
# (`vaxis.stats.clustered_paired_test`). This page checks that test, by simulation, against two others on the
# chapters' own structures (`vaxis.publish.calibration`): a synthetic cohort, two conditions that train the same cheap
# classifier from independent seeds (no true difference), subject-disjoint folds, CV repeats and seeds as in the
# chapters; then a planted difference to see the power.
#
# **Which chapter uses which test.** The clustered test wherever a per-subject score exists: chapter 4 (each held-out
# subject's Spearman, the subject fold's map as the cluster, under both protocols), chapter 6 (strategy vs label-only
# model), chapter 7's accuracy parts (`v_carries_accuracy`, `supervision_does_not_pay`, `residual_load_bearing`),
# chapter 8 (ensembles vs comparators) and every baseline interval (on a fixed split, one fold: the seed replicates
# are the clusters). Nadeau & Bengio's corrected resampled t where folds are the only unit: chapter 5's population
# gain (every model of a fold shares its test subjects, and the statistic is a mean over the fold's models) and
# chapter 7's fold-level parts (`basin_saturated`, `residual_starved`). Both are simulated below; the plain t over
# subjects is shown as the anti-conservative contrast no chapter uses.

# %% tags=["parameters"]
n_runs = 200          # simulated cohorts per design (the rejection rate's SE is about 0.015 at 0.05)
alpha = 0.05
quick = False         # small settings for CI tests
seed = 0
results_dir = None    # None -> $VAXIS_RESULTS or ./results

# %% tags=["hide-input"]
from vaxis.publish.reader import check_parameters

params = check_parameters(globals(), "methods_verdicts")
import time

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from vaxis.publish.calibration import SimDesign, clustered_test, fold_test, rejection_rate, subject_test
from vaxis.publish.plots import book_style
from vaxis.publish.results import write_results

t_start = time.time()
book_style()
if quick:
    n_runs = 40
designs = {
    "10-fold x 3 repeats, 3 seeds (chapters 6-8 style), 60 subjects": SimDesign(n_subjects=60, k=10, repeats=3,
                                                                               n_seeds=3),
    "5-fold x 1 repeat, 2 seeds, 40 subjects": SimDesign(n_subjects=40, k=5, repeats=1, n_seeds=2),
    "fixed split, 12 test subjects, 5 seed replicates (chapter 8 on 123 subjects)": SimDesign(
        n_subjects=40, protocol="fixed", n_test=12, n_seeds=5),
}
tests = {"clustered (subject unit, model clusters; the chapters' test)": clustered_test,
         "corrected resampled t (Nadeau & Bengio), fold unit": fold_test,
         "plain t over test subjects (ignores the shared model)": subject_test}

# %% [markdown]
# ## False-positive rate under the null (no true difference)

# %%
rows = []
for dname, design in designs.items():
    for tname, test in tests.items():
        if design.protocol == "fixed" and test is fold_test:
            continue                          # one fold: no fold-level test exists
        r = rejection_rate(design, n_runs=n_runs, effect=0.0, alpha=alpha, seed=seed, test=test)
        rows.append({"design": dname, "test": tname, "false-positive rate": r["rate"], "runs": r["n_runs"],
                     "mean MDE (BA)": r["mde"]})
null = pd.DataFrame(rows)
null.round(3)

# %%
fig, ax = plt.subplots(figsize=(9, 3.6))
sns.barplot(data=null, y="design", x="false-positive rate", hue="test", ax=ax)
ax.axvline(alpha, color="k", ls="--", lw=1, label=f"alpha = {alpha}")
ax.axvline(0.08, color="tab:red", ls=":", lw=1, label="0.08 (the tests' limit)")
ax.set(xlabel=f"share of {n_runs} null cohorts with p < {alpha}", ylabel="")
ax.legend(fontsize=7, loc="lower right")
ax.set_title("Calibration under the null (simulated cohorts, no true difference)", fontsize=10)
fig.tight_layout()

# %% [markdown]
# *Figure 1.* Rejection rate of each test when the two conditions do not differ. The clustered test stays near
# alpha in every design; the fold-level corrected t-test is conservative (it rarely rejects, so it needs larger
# effects); the plain t-test over subjects rejects far too often, because all test subjects of a fold share one
# trained model, whose chance quality looks like an effect.

# %% [markdown]
# ## Power at a planted difference

# %%
design = designs["5-fold x 1 repeat, 2 seeds, 40 subjects"]
pw = []
for eff in ([0.4, 0.7] if quick else [0.3, 0.45, 0.6, 0.75]):
    for tname, test in list(tests.items())[:2]:
        r = rejection_rate(design, n_runs=max(n_runs // 2, 20), effect=eff, alpha=alpha, seed=seed + 1, test=test)
        pw.append({"test": tname, "planted difference (BA)": r["effect"], "power": r["rate"],
                   "stated MDE (BA)": r["mde"]})
power = pd.DataFrame(pw)
fig, ax = plt.subplots(figsize=(7, 3.6))
sns.lineplot(data=power, x="planted difference (BA)", y="power", hue="test", marker="o", ax=ax)
ax.axhline(0.8, color="k", ls=":", lw=1)
for _, g in power.groupby("test"):
    ax.axvline(g["stated MDE (BA)"].mean(), color="0.5", ls="--", lw=0.8)
ax.set(ylabel=f"share of cohorts with p < {alpha}", title="Power vs the planted difference (dashed: stated MDE)")
ax.legend(fontsize=7)
fig.tight_layout()
power.round(3)

# %% [markdown]
# *Figure 2.* The planted difference (condition b reads noisier features) against the share of cohorts where each
# test detects it; the dashed lines mark each test's own stated MDE (power 0.8 by construction of the formula): the
# curves should cross 0.8 near them.

# %%
runtime_s = time.time() - t_start
clustered = null[null.test.str.startswith("clustered")]
write_results("methods_verdicts", {
    "data_source": "synthetic", "n_runs": n_runs, "alpha": alpha, "null": null, "power": power,
    "max_fpr_clustered": float(clustered["false-positive rate"].max()), "runtime_s": runtime_s, "scoreboard": []},
    results_dir)
print(f"largest false-positive rate of the clustered test: {clustered['false-positive rate'].max():.3f} "
      f"(n = {n_runs} cohorts per design); runtime {runtime_s:.0f} s")

# %% [markdown]
# ## Reading a chapter's power statement
# `unit` is what the test counts as independent, `n` how many, `mde` the smallest true effect the design would
# detect with probability 0.8 at the stated alpha after the stated correction (for Holm over m tests, at Holm's
# strictest level alpha / m). Where the MDE exceeds the paper's effect, a non-significant result cannot say "does not
# replicate": the rule then needs the interval to exclude the paper's effect, and otherwise says "inconclusive".
