import numpy as np
import pytest
from scipy import stats as st
from statsmodels.stats.multitest import multipletests

from vaxis import stats


def test_bootstrap_ci_contains_mean_and_is_deterministic():
    x = np.random.default_rng(1).normal(0.3, 1, 200)
    m, lo, hi = stats.bootstrap_ci(x, seed=3)
    assert lo < m < hi and m == pytest.approx(x.mean())
    assert stats.bootstrap_ci(x, seed=3) == (m, lo, hi)
    # normal-theory interval agrees roughly
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)


def test_permutation_pvalue():
    null = np.arange(99.0)
    assert stats.permutation_pvalue(1000, null) == pytest.approx(1 / 100)
    assert stats.permutation_pvalue(-1, null) == pytest.approx(1.0)
    assert stats.permutation_pvalue(49.5, null) == pytest.approx(50 / 100)  # 49 of 99 draws >= 49.5


def test_permutation_pvalue_alternatives_ties_and_nans_by_hand():
    null = np.arange(99.0)
    assert stats.permutation_pvalue(49, null) == pytest.approx(51 / 100)            # ties count: 49..98 >= 49
    assert stats.permutation_pvalue(-1, null, "less") == pytest.approx(1 / 100)
    assert stats.permutation_pvalue(49, null, "less") == pytest.approx(51 / 100)    # 0..49 <= 49
    sym = np.arange(-49.0, 50.0)                                                   # 99 values
    # |null| >= 10: -49..-10 and 10..49 -> 80 values
    assert stats.permutation_pvalue(10, sym, "two-sided") == pytest.approx(81 / 100)
    assert stats.permutation_pvalue(-10, sym, "two-sided") == pytest.approx(81 / 100)
    with_nan = np.concatenate([null, [np.nan, np.inf * 0]])
    assert stats.permutation_pvalue(49, with_nan) == pytest.approx(51 / 100)        # NaNs dropped, n = 99
    assert stats.permutation_pvalue(49, list(null)) == pytest.approx(51 / 100)      # a plain list is fine
    with pytest.raises(ValueError, match="alternative"):
        stats.permutation_pvalue(1, null, "bigger")


def test_bootstrap_ci_drops_nans_and_resamples_every_unit():
    x = np.array([100.0] + [0.0] * 19)                                             # mean 5, one outlier
    m, lo, hi = stats.bootstrap_ci(x, seed=1)
    assert m == pytest.approx(5.0) and lo < 5.0 < hi and lo >= 0.0
    assert stats.bootstrap_ci(np.append(x, [np.nan, np.nan]), seed=1) == (m, lo, hi)
    assert all(np.isnan(v) for v in stats.bootstrap_ci(np.array([np.nan])))
    narrow = stats.bootstrap_ci(x, ci=0.5, seed=1)
    assert hi - lo > narrow[2] - narrow[1] > 0


def test_bootstrap_stat_ci_by_normal_theory():
    x = np.random.default_rng(4).normal(1.0, 2.0, 400)
    point, lo, hi = stats.bootstrap_stat_ci(lambda idx: x[idx].mean(), len(x), n_boot=800, seed=2)
    assert point == pytest.approx(x.mean())                                       # point estimate on all rows
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert lo < point < hi and (lo + hi) / 2 == pytest.approx(point, abs=0.5 * se)
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.15)
    p90 = stats.bootstrap_stat_ci(lambda idx: x[idx].mean(), len(x), n_boot=800, ci=0.9, seed=2)
    assert p90[2] - p90[1] == pytest.approx(2 * 1.645 * se, rel=0.15)
    # non-finite replicates are dropped
    nan_some = stats.bootstrap_stat_ci(lambda idx: np.nan if idx[0] % 2 else x[idx].mean(), len(x), n_boot=200)
    assert np.isfinite(nan_some[1:]).all()


def test_fmt_ci_and_paired_shapes():
    assert stats.fmt_ci(0.71234, 0.69, 0.7349) == "0.712 [0.690, 0.735]"
    assert stats.fmt_ci(0.5, 0.25, 0.75, digits=1) == "0.5 [0.2, 0.8]"
    with pytest.raises(ValueError, match="equal shapes"):
        stats.paired_test(np.zeros(3), np.zeros(4))
    out = stats.paired_test([0.5, 0.6, 0.7, 0.9], [0.4, 0.4, 0.4, 0.4])             # lists are fine
    assert out["diff"] == pytest.approx(0.275) and out["n"] == 4
    assert out["p"] == pytest.approx(st.wilcoxon([0.1, 0.2, 0.3, 0.5]).pvalue)


def test_paired_test_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.normal(0.5, 0.1, 30)
    b = a - rng.normal(0.02, 0.05, 30)
    out = stats.paired_test(a, b)
    assert out["p"] == pytest.approx(st.wilcoxon(a - b).pvalue)
    assert out["diff"] == pytest.approx((a - b).mean())
    assert stats.paired_test(a, a)["p"] == 1.0


def test_holm_matches_reference():
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.5])
    # hand-computed Holm: sorted 0.005*5, 0.01*4, 0.03*3, 0.04*2, 0.5*1 -> cumulative max
    expected = np.array([0.04, 0.09, 0.09, 0.025, 0.5])
    np.testing.assert_allclose(stats.holm(p), expected)
    np.testing.assert_allclose(stats.holm(p), multipletests(p, method="holm")[1])


@pytest.mark.parametrize("p,expected", [
    # sorted 0.02*5=0.1, 0.04*4=0.16, 0.4*3=1.2, 0.45*2=0.9, 0.9*1 -> cummax 0.1, 0.16, 1.2, 1.2, 1.2 -> cap at 1
    ([0.4, 0.02, 0.45, 0.9, 0.04], [1.0, 0.1, 1.0, 1.0, 0.16]),
    # every raw p-value 1 (or above 1/m): m * p > 1 everywhere
    ([1.0, 1.0, 1.0], [1.0, 1.0, 1.0]),
    ([0.6, 0.7], [1.0, 1.0]),
    # ties: sorted 0.01*4=0.04, 0.01*3=0.03, 0.3*2=0.6, 0.3*1=0.3 -> cummax 0.04, 0.04, 0.6, 0.6
    ([0.3, 0.01, 0.3, 0.01], [0.6, 0.04, 0.6, 0.04]),
    ([0.2], [0.2]),
])
def test_holm_reaches_the_cap_by_hand_and_matches_statsmodels(p, expected):
    got = stats.holm(np.array(p))
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    np.testing.assert_allclose(got, multipletests(p, method="holm")[1], rtol=1e-12)
    assert got.max() <= 1.0


# ----------------------------------------------------------------- corrected / clustered paired tests, power
def test_corrected_resampled_ttest_matches_hand_computation():
    from vaxis.stats import corrected_resampled_ttest

    d = np.array([0.02, 0.01, 0.03, -0.01, 0.02, 0.00, 0.04, 0.01, 0.02, 0.03])
    r = corrected_resampled_ttest(d, n_train=90, n_test=10)
    factor = 1 / 10 + 10 / 90
    se = np.sqrt(factor * d.var(ddof=1))
    t = d.mean() / se
    assert r["factor"] == pytest.approx(factor)
    assert r["t"] == pytest.approx(t)
    assert r["p"] == pytest.approx(2 * st.t.sf(abs(t), 9))
    assert r["ci_high"] - r["diff"] == pytest.approx(st.t.ppf(0.975, 9) * se)
    # more conservative than the plain paired t-test on the same folds
    assert r["p"] > st.ttest_1samp(d, 0).pvalue
    with pytest.raises(ValueError):
        corrected_resampled_ttest(d[:1], 90, 10)
    assert corrected_resampled_ttest(np.zeros(5), 90, 10)["p"] == 1.0


def test_equivalence_pvalue_tost():
    from vaxis.stats import equivalence_pvalue

    # diff 0, se 0.002, margin 0.01: both one-sided tests reject strongly
    p = equivalence_pvalue(0.0, 0.002, 20, 0.01)
    assert p == pytest.approx(st.t.sf(5.0, 20))
    # diff at the margin: p = 0.5
    assert equivalence_pvalue(0.01, 0.002, 20, 0.01) == pytest.approx(0.5)
    assert equivalence_pvalue(-0.02, 0.002, 20, 0.01) > 0.99
    assert equivalence_pvalue(0.001, 0.0, 5, 0.01) == 0.0
    with pytest.raises(ValueError):
        equivalence_pvalue(0.0, 0.1, 5, 0.0)


def test_mde_formulas():
    from vaxis.stats import mde_from_se, mde_t

    # n = 10 independent units, sd 0.02, alpha 0.05, power 0.8
    expect = (st.t.ppf(0.975, 9) + st.t.ppf(0.8, 9)) * 0.02 / np.sqrt(10)
    assert mde_t(0.02, 10, 0.05) == pytest.approx(expect)
    assert mde_from_se(0.02 / np.sqrt(10), 9, 0.05) == pytest.approx(expect)
    # a stricter alpha (Holm's first step over 25) needs a larger effect
    assert mde_t(0.02, 10, 0.05 / 25) > mde_t(0.02, 10, 0.05)
    assert mde_t(0.02, 1, 0.05) == float("inf")


def test_clustered_paired_test_components_and_limits():
    from vaxis.stats import clustered_paired_test

    rng = np.random.default_rng(0)
    n, K, R = 60, 6, 3          # 60 subjects, each tested by one model in each of 3 repeats (6 models per repeat)
    u = rng.normal(0, 0.03, n)
    d, subj, clus = [], [], []
    for r in range(R):
        order = rng.permutation(n)
        for k in range(K):
            m = rng.normal(0, 0.02)
            for i in order[k::K]:
                d.append(0.01 + m + u[i] + rng.normal(0, 0.01))
                subj.append(i)
                clus.append(r * K + k)
    res = clustered_paired_test(np.array(d), np.array(subj), np.array(clus))
    assert res["n"] == n and res["n_clusters"] == R * K
    comp = res["components"]
    assert comp["model"] == pytest.approx(0.02 ** 2, rel=0.8)
    assert comp["subject"] == pytest.approx(0.03 ** 2, rel=0.5)
    # the subject-only t-test ignores the model effect: its standard error is smaller
    s_mean = np.bincount(subj, weights=d) / np.bincount(subj)
    assert res["se"] > s_mean.std(ddof=1) / np.sqrt(n)
    assert res["ci_low"] < res["diff"] < res["ci_high"]
    with pytest.raises(ValueError):
        clustered_paired_test(np.ones(4), np.arange(4), np.zeros(4))


def test_clustered_paired_test_one_repeat_is_fold_variance():
    """With one model per subject the variance is B / K + ..., i.e. driven by the cluster means."""
    from vaxis.stats import clustered_paired_test

    rng = np.random.default_rng(1)
    subj = np.arange(40)
    clus = subj % 5
    d = rng.normal(0, 0.05, 40) + np.array([0.0, 0.1, -0.1, 0.05, -0.05])[clus]
    res = clustered_paired_test(d, subj, clus)
    assert res["components"]["residual"] == 0.0
    assert res["se"] > np.std(d, ddof=1) / np.sqrt(40)


def test_t_interval_matches_scipy_and_refuses_to_exclude_with_one_value():
    from scipy import stats as st

    from vaxis.stats import t_interval

    v = np.array([0.1, 0.4, np.nan, 0.25, 0.3])
    m, lo, hi = t_interval(v, ci=0.9)
    f = v[np.isfinite(v)]
    ref = st.t.interval(0.9, f.size - 1, loc=f.mean(), scale=st.sem(f))
    assert m == pytest.approx(f.mean()) and (lo, hi) == pytest.approx(ref)
    assert t_interval([0.2])[1:] == (float("-inf"), float("inf"))


# ---------------------------------------------------------------- random_permutations: the one permutation maker
def _old_allowed(n_perm, n, seed):          # the former rediscovery.random_permutations / probes.make_maps draws
    rng = np.random.default_rng(seed)
    return np.array([rng.permutation(n) for _ in range(n_perm)]).reshape(n_perm, n)


def _old_excluded(n_perm, n, seed):         # the former projection.draw_permutations
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < n_perm:
        p = rng.permutation(n)
        if not np.array_equal(p, np.arange(n)):
            out.append(p)
    return np.array(out, dtype=int).reshape(n_perm, n)


@pytest.mark.parametrize("n_perm,n,seed", [(0, 9, 0), (50, 9, 1), (400, 3, 7), (1000, 2, 3)])
def test_random_permutations_keep_the_former_makers_draws(n_perm, n, seed):
    assert np.array_equal(stats.random_permutations(n_perm, n, seed, identity="allowed"), _old_allowed(n_perm, n, seed))
    assert np.array_equal(stats.random_permutations(n_perm, n, seed, identity="excluded"),
                          _old_excluded(n_perm, n, seed))


def test_random_permutations_identity_rule():
    ident = np.arange(2)
    allowed = stats.random_permutations(200, 2, 0, identity="allowed")
    excluded = stats.random_permutations(200, 2, 0, identity="excluded")
    assert (allowed == ident).all(axis=1).any()                     # 1 in 2 draws is the identity
    assert not (excluded == ident).all(axis=1).any() and excluded.shape == (200, 2)
    assert all(sorted(p) == [0, 1] for p in excluded.tolist())
    with pytest.raises(ValueError, match="identity"):
        stats.random_permutations(5, 9, 0, identity="sometimes")
    with pytest.raises(ValueError, match="non-identity"):
        stats.random_permutations(5, 1, 0, identity="excluded")
