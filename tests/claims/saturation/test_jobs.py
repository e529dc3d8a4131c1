"""Chapter 7's :func:`vaxis.claims.saturation.jobs.collect` on hand-made fold results: each criterion's unit of
analysis (test subjects with fold clusters, or folds with the corrected t) and its statistic, computed here
independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from vaxis.claims.saturation.criteria import ORDER
from vaxis.claims.saturation.jobs import collect
from vaxis.publish import verdicts
from vaxis.runs.jobs import records

N_FOLDS, N_TEST, SEEDS = 4, 5, (0, 1)


def _jobs(seed: int = 0) -> tuple[pd.DataFrame, dict]:
    rng = np.random.default_rng(seed)
    rows, truth = [], {"cost": {}, "ablate": {}, "keep": {}, "basin": {}, "gap": {}}
    for f in range(N_FOLDS):
        test = [f"s{f}_{i}" for i in range(N_TEST)]
        man = {"fold": f, "test": test, "train": [f"t{i}" for i in range(12)], "val": ["v0", "v1"]}
        sc = [(s, 0.3, sd, f, 0.4, 0.4) for s in ("label-only", "a", "b") for sd in SEEDS]
        ss, sr, lo = [], [], []
        for sd in SEEDS:
            for subj in test:
                base = 0.5 + rng.normal(0, 0.02)
                ss += [("label-only", sd, f, subj, base), ("a", sd, f, subj, base - 0.03 + rng.normal(0, 0.01)),
                       ("b", sd, f, subj, base - 0.01 + rng.normal(0, 0.01)),
                       ("unlisted", sd, f, subj, base + 0.5)]       # not among the chapter's strategies: ignored
                full = 0.6 + rng.normal(0, 0.02)
                sr.append({"subject": subj, "full": full, "v_only": 0.2, "v_removed": full,
                           "between_only": full - 0.05 + rng.normal(0, 0.01), "residual_only": 0.11,
                           "v_readout_gain": 0.04 + rng.normal(0, 0.01), "seed": sd, "fold": f})
            lo.append({"seed": sd, "fold": f, "centroid_v_gain": 0.3 + rng.normal(0, 0.02)})
        ss = pd.DataFrame(ss, columns=["strategy", "seed", "fold", "subject", "ba"])
        sr = pd.DataFrame(sr)
        grads = pd.DataFrame({"strategy": ["a", "a"], "seed": [0, 1], "kind": ["alignment"] * 2,
                              "paired_residual_gap": 0.05 + rng.normal(0, 0.01, 2)})
        lab = ss[ss.strategy == "label-only"].groupby("subject").ba.mean()
        strat = ss[ss.strategy.isin(["a", "b"])].groupby("subject").ba.mean()
        truth["cost"].update((lab - strat).to_dict())
        g = sr.groupby("subject")[["full", "between_only", "residual_only"]].mean()
        truth["ablate"].update((g.full - g.between_only).to_dict())
        truth["keep"].update((g.residual_only - g.full).to_dict())
        truth["basin"][f] = pd.DataFrame(lo).centroid_v_gain.mean()
        truth["gap"][f] = grads.paired_residual_gap.mean()
        rows.append({"fold": f, **records(scores=pd.DataFrame(sc, columns=["strategy", "weight", "seed", "fold",
                                                                            "val_ba", "test_ba"]),
                                          label_only=pd.DataFrame(lo), gradients=grads, subject_scores=ss,
                                          subject_readouts=sr),
                     "d": 8, "fold_manifest": man, "train_s": 1.0, "analysis_s": 0.5})
    return pd.DataFrame(rows), truth


def test_collect_units_and_statistics():
    jobs, truth = _jobs()
    res = collect(jobs, ["a", "b"])
    crit = {c["name"]: c for c in res["criteria"]}
    assert [c["name"] for c in res["criteria"]] == ORDER
    assert crit["supervision_does_not_pay"]["statistic"] == pytest.approx(np.mean(list(truth["cost"].values())))
    assert crit["residual_load_bearing"]["statistic"] == pytest.approx(np.mean(list(truth["ablate"].values())))
    assert crit["residual_load_bearing"]["keep_only"]["statistic"] == pytest.approx(
        np.mean(list(truth["keep"].values())))
    for n in ("v_carries_accuracy", "supervision_does_not_pay", "residual_load_bearing"):
        assert crit[n]["n"] == N_FOLDS * N_TEST and crit[n]["n_clusters"] == N_FOLDS and "clustered" in crit[n]["test"]
    # fold-level criteria: the corrected resampled t with 14 training (train + val) and 5 test subjects per fold
    for n, key in (("basin_saturated", "basin"), ("residual_starved", "gap")):
        v = np.array([truth[key][f] for f in range(N_FOLDS)])
        se = np.sqrt((1 / N_FOLDS + N_TEST / 14) * v.var(ddof=1))
        assert crit[n]["statistic"] == pytest.approx(v.mean())
        assert crit[n]["ci_high"] - crit[n]["statistic"] == pytest.approx(st.t.ppf(0.975, N_FOLDS - 1) * se)
        assert crit[n]["n"] == N_FOLDS and "corrected" in crit[n]["test"]
    assert list(res["per_fold"].columns) == ["fold", *ORDER] and len(res["per_fold"]) == N_FOLDS
    parts = {p.name: p.outcome for p in verdicts.claim7_parts(res["criteria"])}
    assert parts["supervision_does_not_pay"] == "holds"        # a 2-point cost, tight
    assert parts["residual_load_bearing"] == "holds"           # ablating the residual costs 5 points
    assert parts["basin_saturated"] == "holds"                 # 0.30 Spearman gain against a 0.10 margin
