"""Statistics shared by the chapters: bootstrap CIs, permutation p-values, paired tests, Holm.

All resampling is vectorised (one index matrix, one reduction) and seeded, so the same seed gives
bit-identical results.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats as _st

__all__ = [
    "bootstrap_ci",
    "bootstrap_stat_ci",
    "permutation_pvalue",
    "paired_test",
    "holm",
    "fmt_ci",
]


def bootstrap_ci(
    values: np.ndarray, n_boot: int = 2000, ci: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """Mean of ``values`` and its percentile bootstrap CI.

    Parameters
    ----------
    values : ndarray, shape (n,)
        Independent units (e.g. one score per held-out subject). NaNs are dropped.

    Returns
    -------
    mean, low, high : float
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    means = v[idx].mean(axis=1)
    a = (1 - ci) / 2
    return float(v.mean()), float(np.quantile(means, a)), float(np.quantile(means, 1 - a))


def bootstrap_stat_ci(
    stat: Callable[[np.ndarray], float],
    n: int,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Bootstrap CI of an arbitrary statistic of resampled row indices.

    Parameters
    ----------
    stat : callable
        ``stat(idx)`` with ``idx`` an int array of shape (n,) (``np.arange(n)`` for the point estimate).
    n : int
        Number of resampling units.
    """
    rng = np.random.default_rng(seed)
    point = float(stat(np.arange(n)))
    boots = np.array([stat(rng.integers(0, n, size=n)) for _ in range(n_boot)], dtype=float)
    boots = boots[np.isfinite(boots)]
    a = (1 - ci) / 2
    return point, float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a))


def permutation_pvalue(observed: float, null: np.ndarray, alternative: str = "greater") -> float:
    """Monte-Carlo p-value with the +1 correction: ``(1 + #{null >= observed}) / (1 + n_null)``."""
    null = np.asarray(null, dtype=float)
    null = null[np.isfinite(null)]
    if alternative == "greater":
        k = np.sum(null >= observed)
    elif alternative == "less":
        k = np.sum(null <= observed)
    elif alternative == "two-sided":
        k = np.sum(np.abs(null) >= abs(observed))
    else:
        raise ValueError(f"alternative must be 'greater', 'less' or 'two-sided', got {alternative!r}")
    return float((1 + k) / (1 + null.size))


def paired_test(a: np.ndarray, b: np.ndarray, seed: int = 0, n_boot: int = 2000) -> dict[str, float]:
    """Paired comparison of ``a`` vs ``b`` (e.g. strategy vs baseline over fold x seed pairs).

    Returns the mean difference ``a - b`` with a bootstrap CI and the two-sided Wilcoxon signed-rank p-value
    (``zero_method="wilcox"``; p = 1 when every difference is zero).
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_test needs equal shapes, got {a.shape} and {b.shape}")
    d = a - b
    mean, lo, hi = bootstrap_ci(d, n_boot=n_boot, seed=seed)
    p = 1.0 if np.allclose(d, 0) else float(_st.wilcoxon(d, zero_method="wilcox").pvalue)
    return {"diff": mean, "ci_low": lo, "ci_high": hi, "p": p, "n": int(d.size)}


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (same order as the input), monotone and capped at 1."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def fmt_ci(mean: float, low: float, high: float, digits: int = 3) -> str:
    """``'0.712 [0.690, 0.734]'``."""
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"
