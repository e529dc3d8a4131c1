"""Chapter 6's strategy tests (vaxis.claims.alignment.stats): four outcomes, not-used strategies, controls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def test_compare_strategies_four_outcomes():
    """Planted per-subject differences reach improved, reduced, unchanged and inconclusive; diff and Holm are
    checked against hand computation."""
    from vaxis.claims.alignment.stats import compare_strategies, count_outcomes
    from vaxis.stats import holm

    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.2])), [0.04, 0.09, 0.09, 0.2])
    rng = np.random.default_rng(0)
    rows = []
    subjects = [f"s{i:02d}" for i in range(60)]
    shift = {"kd_t1": (0.03, 0.01), "v_mse": (-0.03, 0.01), "cka_linear": (0.0, 0.002), "rsa_geometry": (0.0, 0.08)}
    for fold in range(6):
        for seed in (0, 1):
            for s in subjects[fold * 10:(fold + 1) * 10]:
                base = rng.uniform(0.3, 0.4)
                rows.append({"strategy": "label-only", "seed": seed, "fold": fold, "subject": s, "ba": base})
                for name, (mu, sd) in shift.items():
                    rows.append({"strategy": name, "seed": seed, "fold": fold, "subject": s,
                                 "ba": base + mu + rng.normal(0, sd)})
    subj = pd.DataFrame(rows)
    out = compare_strategies(subj, margin=0.01).set_index("strategy")
    for name in shift:
        d = subj[subj.strategy == name].ba.to_numpy() - subj[subj.strategy == "label-only"].ba.to_numpy()
        assert out.loc[name, "diff"] == pytest.approx(d.mean(), abs=1e-12)
    np.testing.assert_allclose(out.p_holm, holm(out.p.to_numpy()))
    assert out.loc["kd_t1", "outcome"] == "improved" and out.loc["v_mse", "outcome"] == "reduced"
    assert out.loc["cka_linear", "outcome"] == "unchanged" and out.loc["rsa_geometry", "outcome"] == "inconclusive"
    assert count_outcomes(out.reset_index()) == {"improved": 1, "unchanged": 1, "reduced": 1, "inconclusive": 1,
                                                 "not_used": 0}
    assert (out.mde > 0).all() and not out.not_used.any()


def _planted(shift, folds=6, seeds=(0, 1), seed=0):
    """Subject table with per-strategy planted (mean, sd) differences against the label-only model."""
    rng = np.random.default_rng(seed)
    rows = []
    subjects = [f"s{i:02d}" for i in range(10 * folds)]
    for fold in range(folds):
        for sd in seeds:
            for s in subjects[fold * 10:(fold + 1) * 10]:
                base = rng.uniform(0.3, 0.4)
                rows.append({"strategy": "label-only", "seed": sd, "fold": fold, "subject": s, "ba": base})
                for name, (mu, noise) in shift.items():
                    rows.append({"strategy": name, "seed": sd, "fold": fold, "subject": s,
                                 "ba": base + mu + (rng.normal(0, noise) if noise else 0.0)})
    return pd.DataFrame(rows)


def test_not_used_strategies_are_not_unchanged_and_leave_holm():
    """Weight 0 chosen in every fold: outcome ``not_used`` (not ``unchanged``), NaN p and MDE, and Holm's family is
    the used strategies only; the Bonferroni bounds match scipy's t interval at alpha / m."""
    from scipy import stats as st

    from vaxis.claims.alignment.stats import compare_strategies, count_outcomes

    subj = _planted({"kd_t1": (0.03, 0.01), "v_mse": (-0.004, 0.01), "cka_linear": (0.0, 0.0)})
    w = pd.DataFrame([{"strategy": n, "fold": f, "weight": (0.0 if n == "cka_linear" else 0.3 if f else 0.0)}
                      for n in ("kd_t1", "v_mse", "cka_linear") for f in range(6)])
    out = compare_strategies(subj, w, margin=0.01).set_index("strategy")
    assert out.loc["cka_linear", "outcome"] == "not_used" and bool(out.loc["cka_linear", "not_used"])
    assert np.isnan(out.loc["cka_linear", "p_holm"]) and np.isnan(out.loc["cka_linear", "mde"])
    assert not out.loc[["kd_t1", "v_mse"], "not_used"].any()           # 0 in one fold of six: used
    used = out.loc[["kd_t1", "v_mse"]]
    p1, p2 = sorted(used.p)                                           # Holm by hand over m = 2, not 3
    assert sorted(used.p_holm) == pytest.approx([min(1.0, 2 * p1), max(min(1.0, 2 * p1), p2)])
    for name, r in used.iterrows():
        lo, hi = st.t.interval(1 - 0.05 / 2, r["df"], loc=r["diff"], scale=r.se)
        assert (r.ci_low_adj, r.ci_high_adj) == pytest.approx((lo, hi))
    assert count_outcomes(out.reset_index())["not_used"] == 1


def test_a_gain_explained_by_its_control_does_not_fail_part_a():
    """kd_t1 beats the label-only model by 3 points, but its uniform-target control scores the same: it does not
    beat its controls, its LLM gain is the control comparison, and claim 6's part A cannot fail; rsa_geometry, with
    the same gain and no control, makes it fail."""
    from vaxis.claims.alignment.controls import compare_controls
    from vaxis.claims.alignment.stats import attach_controls, compare_strategies, gain_inputs
    from vaxis.publish.verdicts import claim6_parts

    subj = _planted({"kd_t1": (0.03, 0.004), "v_mse": (0.0, 0.002)})
    real = subj[subj.strategy == "kd_t1"]
    ctrl = pd.concat([real.assign(control="shuffled", ba=real.ba - 0.03),     # the geometry's gain, if any ...
                      real.assign(control="uniform", ba=real.ba + 0.0005)])   # ... label smoothing explains it
    ctrl = ctrl.assign(ba=ctrl.ba + np.random.default_rng(1).normal(0, 0.002, len(ctrl)))
    cmp = attach_controls(compare_strategies(subj, margin=0.01), compare_controls(real, ctrl))
    assert cmp.set_index("strategy").loc["kd_t1", "outcome"] == "improved"
    assert cmp.set_index("strategy").beats_controls.to_dict() == {"kd_t1": False, "v_mse": None}
    inputs = gain_inputs(cmp, compare_controls(real, ctrl))
    kd = next(r for r in inputs if r["strategy"] == "kd_t1")
    assert [c["against"] for c in kd["comparisons"]] == ["label-only", "shuffled", "uniform"]
    forced = {"improved": 0, "unchanged": 0, "reduced": 2, "inconclusive": 0}
    part_a = claim6_parts(inputs, forced, mde_primary=0.01, mde_forced=0.01)[0]
    assert part_a.outcome != "fails" and part_a.ci_low < 0
    unexplained = gain_inputs(cmp.replace({"strategy": {"kd_t1": "rsa_geometry"}}), compare_controls(real, ctrl))
    assert claim6_parts(unexplained, forced, mde_primary=0.01, mde_forced=0.01)[0].outcome == "fails"


def test_strategy_records_are_in_ba_points():
    """The results file's strategy records share the unit of ``margin`` and ``power.mde`` (BA points)."""
    from vaxis.claims.alignment.stats import strategy_records

    t = pd.DataFrame({"strategy": ["a"], "diff": [0.013], "ci_low": [-0.002], "ci_high": [0.028], "mde": [0.011],
                      "p_holm": [0.2], "outcome": ["inconclusive"]})
    out = strategy_records(t, ["strategy", "diff", "ci_low", "ci_high", "mde", "p_holm", "outcome"])
    assert out.iloc[0][["diff", "ci_low", "ci_high", "mde"]].tolist() == pytest.approx([1.3, -0.2, 2.8, 1.1])
    assert out.iloc[0].p_holm == 0.2 and out.iloc[0].outcome == "inconclusive" and t.loc[0, "diff"] == 0.013
