"""Claim 5's population test, RSA and rule: positive and negative controls on simulated representations.

The representations below stand in for trained decoders' penultimate layers (one row per subject x clip). They run
through the chapter's own code (``score_model`` per model and fold, ``collect`` over fold jobs, ``claim5``):
a population that encodes the LLM's valence ordering must come out "replicates", one that encodes category
identity only must not, one that encodes the valence sign only must be "partly" (the split-kept null sees that the
within-side order is missing).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaxis.claims.rediscovery.jobs import collect, score_model
from vaxis.claims.rediscovery.nulls import (
    build_maps,
    population_test,
    rsa_scores,
    split_kept_permutations,
)
from vaxis.publish import verdicts
from vaxis.stats import random_permutations

POS = np.array([-0.9, -0.8, -0.6, -0.7, 0.0, 0.5, 0.7, 0.9, 0.6])     # anger .. tenderness
SIGN = np.sign(POS)
N_PERM = 400


def test_split_kept_permutations():
    p = split_kept_permutations()
    assert p.shape == (576, 9) and len({tuple(r) for r in p}) == 576
    assert (p[:, 4] == 4).all() and np.isin(p[:, :4], [0, 1, 2, 3]).all() and np.isin(p[:, 5:], [5, 6, 7, 8]).all()
    maps, idx = build_maps(POS, n_perm=50, seed=1)
    assert maps.shape == (9, 1 + 575 + 50)
    np.testing.assert_array_equal(maps[:, 0], POS)
    split = maps[:, idx["split_kept"]]
    assert np.all(np.sign(split) == SIGN[:, None])            # the split is kept in every split-kept map


def test_rsa_scores_identity_and_null():
    rng = np.random.default_rng(0)
    llm = np.abs(POS[:, None] - POS[None])
    perms = np.vstack([np.arange(9), random_permutations(200, 9, 0, identity="allowed")])
    same = rsa_scores(llm[None], llm, perms)[0]
    assert same[0] == pytest.approx(1.0) and same[1:].mean() < 0.3
    noise = rng.normal(size=(9, 9))
    noise = noise + noise.T
    assert abs(rsa_scores(noise[None], llm, perms)[0][1:].mean()) < 0.2


def _population(code: str, n_models=6, n_subjects=20, k=5, seed=0):
    """Fake fold-job rows: each 'model' is a random linear read of a latent code, plus noise."""
    rng = np.random.default_rng(seed)
    cats = np.repeat(np.arange(9), 3)[[*range(27), 12]]        # 28 clips, neutral x4 like FACED
    cat_means = rng.normal(size=(9, 6))
    latent = {"valence": POS[:, None] * np.ones((1, 6)) * 2.0 + 0.3 * cat_means,
              "sign": SIGN[:, None] * np.ones((1, 6)) * 2.0 + 0.3 * cat_means,
              "category": 2.0 * cat_means}[code]
    llm_rdm = np.abs(POS[:, None] - POS[None])
    maps, index = build_maps(POS, N_PERM, 0)
    rsa_perms = np.vstack([np.arange(9), random_permutations(N_PERM, 9, 1, identity="allowed")])
    subjects = np.repeat(np.arange(n_subjects), len(cats))
    category = np.tile(cats, n_subjects)
    folds = np.array_split(np.arange(n_subjects), k)
    jobs = []
    for m in range(n_models):
        W = rng.normal(size=(6, 12))
        rep = latent[category] @ W + rng.normal(0, 1.5, (len(category), 12)) \
            + np.repeat(rng.normal(0, 0.5, (n_subjects, 12)), len(cats), axis=0)
        for f, test in enumerate(folds):
            out = score_model(rep, category, subjects, test.tolist(), maps, index, llm_rdm, rsa_perms)
            jobs.append({"arch": f"m{m}", "folds": [f], "models": [{"seed": 0, "fold": f, **r} for r in out["rows"]],
                         "ridge_sum": out["ridge"].tolist(), "rsa_sum": out["rsa"].tolist(), "n_models": 1,
                         "accuracy": [], "accuracy_columns": ["arch", "seed", "fold", "level"],
                         "centroids": {str(f): {"seed": 0, "train": [], "test": []}},
                         "fold_manifests": [{"fold": f, "test": test.tolist(),
                                             "train": sorted(set(range(n_subjects)) - set(test.tolist()))}],
                         "train_s": 0.0, "probe_s": 0.0})
    res = collect(pd.DataFrame(jobs), [f"m{m}" for m in range(n_models)], [0], POS, N_PERM)
    pop, rsa = res["population"], res["rsa"]
    v = verdicts.claim5(pop["p_unrestricted"], pop["p_split_kept"], rsa["p"], pop["gain_ci"][1], rsa["gain_ci"][1])
    return res, v


def test_positive_control_valence_code_replicates():
    res, v = _population("valence")
    assert v.verdict == "replicates", v.reason
    assert res["population"]["statistic"] > res["population"]["null_mean"] + res["population"]["mde"]


def test_negative_control_category_code_does_not_replicate():
    res, v = _population("category")
    assert v.verdict in ("does not replicate", "inconclusive"), v.reason
    assert res["population"]["p_unrestricted"] > 0.05


def test_sign_only_code_is_partly():
    res, v = _population("sign")
    assert res["population"]["p_unrestricted"] < 0.05 and res["population"]["p_split_kept"] > 0.05
    assert v.verdict == "partly", v.reason


def test_population_test_counts():
    _, idx = build_maps(POS, n_perm=10, seed=0)
    sums = np.concatenate([[5.0], np.zeros(575), np.linspace(0, 6, 10)])
    r = population_test(sums, n_models=10, index=idx)
    assert r["statistic"] == 0.5 and r["n_split"] == 576
    assert r["p_split_kept"] == pytest.approx(1 / 576)
    assert r["p_unrestricted"] == pytest.approx((1 + 2) / 11)          # null 0.533 and 0.6 reach 0.5


def test_probe_units_keep_training_clips_for_fitting_and_held_out_clips_for_scoring():
    from vaxis.claims.rediscovery.jobs import probe_units

    units = {"rep": np.arange(12.0)[:, None], "subject": np.repeat([0, 1, 2], 4), "clip": np.tile([1, 2, 3, 4], 3),
             "category": np.tile([0, 1, 0, 1], 3)}
    assert probe_units(units, {"fold": 0}, [2]) is units                     # cross-subject: every unit
    kept = probe_units(units, {"fold": 0, "test_clips": [1, 2]}, [2])
    pairs = set(zip(kept["subject"].tolist(), kept["clip"].tolist()))
    assert pairs == {(0, 3), (0, 4), (1, 3), (1, 4), (2, 1), (2, 2)}


def test_claim5_row_reads_the_population_and_names_its_protocol():
    from vaxis.claims.rediscovery.jobs import claim5_inputs, scoreboard_row
    from vaxis.publish import verdicts
    from vaxis.publish.outcomes import Power

    res = {"n_models": 8, "population": {"p_unrestricted": 0.5, "p_split_kept": 0.4, "statistic": 0.2,
                                         "null_mean": 0.19, "gain": 0.01, "gain_ci": [-0.03, 0.05]},
           "rsa": {"p": 0.6, "mean": 0.0, "gain": 0.0, "gain_ci": [-0.04, 0.04]}}
    assert claim5_inputs(res) == (0.5, 0.4, 0.6, 0.05, 0.04)
    v = verdicts.claim5(*claim5_inputs(res), alpha=0.05, margin=0.10, source="faced")
    assert v.verdict == "does not replicate"                                 # both upper bounds below the margin
    pw = Power(unit="fold", n=15, alpha=0.05, correction="none", mde=0.07, effect="Spearman")
    row = scoreboard_row(res, v, pw, protocol="cross-stimulus", source="faced", pipeline={"normalisation": "x"})
    assert row["protocol"] == "cross-stimulus" and "cross-stimulus" in row["title"]
    assert row["verdict"] == v.verdict and row["headline"]["ci_high"] == pytest.approx(0.19 + 0.05)
