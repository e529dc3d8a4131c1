import numpy as np
import pytest
from scipy import stats as st

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
    try:
        from statsmodels.stats.multitest import multipletests
    except ImportError:
        return
    np.testing.assert_allclose(stats.holm(p), multipletests(p, method="holm")[1])
