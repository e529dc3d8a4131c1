"""Statistics shared by the chapters: bootstrap CIs, permutation p-values, paired tests, Holm.

All resampling is vectorised (one index matrix, one reduction) and seeded, so the same seed gives
bit-identical results.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
from scipy import stats as _st

__all__ = [
    "random_permutations",
    "bootstrap_ci",
    "bootstrap_stat_ci",
    "permutation_pvalue",
    "paired_test",
    "holm",
    "fmt_ci",
    "corrected_resampled_ttest",
    "equivalence_pvalue",
    "mde_t",
    "fold_means",
    "t_interval",
    "clustered_paired_test",
    "mde_from_se",
    "auroc_null_se",
    "auroc_mde",
    "count_outcome",
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


def random_permutations(n_perm: int, n: int, seed: int = 0, *, identity: str) -> np.ndarray:
    """``n_perm`` seeded random permutations of ``range(n)``, one ``rng.permutation(n)`` draw each.

    Parameters
    ----------
    identity : {"allowed", "excluded"}
        The rule on the identity permutation: ``"allowed"`` keeps every draw (the identity may occur, with
        probability ``1 / n!`` per draw); ``"excluded"`` discards an identity draw and draws again (a null that
        must never contain the observed labelling). The same seed gives the same non-identity draws either way.

    Returns
    -------
    ndarray, shape (n_perm, n), int
    """
    if identity not in ("allowed", "excluded"):
        raise ValueError(f"identity must be 'allowed' or 'excluded', got {identity!r}")
    if identity == "excluded" and n < 2 and n_perm > 0:
        raise ValueError(f"no non-identity permutation of {n} item(s)")
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < n_perm:
        p = rng.permutation(n)
        if identity == "allowed" or not np.array_equal(p, np.arange(n)):
            out.append(p)
    return np.array(out, dtype=int).reshape(n_perm, n)


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


def corrected_resampled_ttest(d: np.ndarray, n_train: float, n_test: float, ci: float = 0.95) -> dict[str, float]:
    """Nadeau & Bengio's (2003) corrected resampled t-test of paired differences over CV folds.

    The ``J = k x repeats`` fold differences (seeds averaged inside a fold) are not independent: folds share
    training subjects, and folds of different repeats share test subjects. The test inflates the variance of
    their mean from ``s^2 / J`` to ``(1 / J + n_test / n_train) s^2`` and uses ``J - 1`` degrees of freedom
    (Bouckaert & Frank 2004's repeated-CV form). For one repeat of k folds it is more conservative than a
    plain paired t-test; repeats shrink only the ``1 / J`` term, so power grows with repeats up to a ceiling.

    Parameters
    ----------
    d : ndarray, shape (J,)
        Paired differences, one per fold x repeat (condition a - condition b).
    n_train, n_test : float
        Subjects (or samples) a fold trains on and tests on (e.g. mean over folds).
    ci : float
        Two-sided confidence level of the interval.

    Returns
    -------
    dict
        ``diff`` (mean), ``se`` (corrected standard error), ``t``, ``df``, ``p`` (two-sided), ``ci_low``,
        ``ci_high``, ``n`` (J), ``factor`` (the variance factor ``1 / J + n_test / n_train``).
    """
    d = np.asarray(d, dtype=float)
    d = d[np.isfinite(d)]
    J = d.size
    if J < 2:
        raise ValueError(f"corrected_resampled_ttest needs >= 2 fold differences, got {J}")
    if not (n_train > 0 and n_test > 0):
        raise ValueError(f"n_train and n_test must be > 0, got {n_train}, {n_test}")
    factor = 1.0 / J + float(n_test) / float(n_train)
    mean, var = float(d.mean()), float(d.var(ddof=1))
    se = float(np.sqrt(factor * var))
    df = J - 1
    if se == 0.0:
        t, p = (0.0, 1.0) if mean == 0.0 else (float(np.sign(mean) * np.inf), 0.0)
        half = 0.0
    else:
        t = mean / se
        p = float(2 * _st.t.sf(abs(t), df))
        half = float(_st.t.ppf(0.5 + ci / 2, df) * se)
    return {"diff": mean, "se": se, "t": float(t), "df": df, "p": p, "ci_low": mean - half, "ci_high": mean + half,
            "n": J, "factor": factor}


def equivalence_pvalue(diff: float, se: float, df: float, margin: float) -> float:
    """Two one-sided tests (TOST): p-value for ``|true difference| < margin`` (small = equivalent).

    ``max(P(T > (diff + margin) / se), P(T < (diff - margin) / se))`` with T ~ t(df); 1 when ``se`` is 0 and
    ``|diff| >= margin``, 0 when ``se`` is 0 and ``|diff| < margin``.
    """
    if margin <= 0:
        raise ValueError(f"margin must be > 0, got {margin}")
    if se == 0:
        return 0.0 if abs(diff) < margin else 1.0
    lower = float(_st.t.sf((diff + margin) / se, df))       # H0: diff <= -margin
    upper = float(_st.t.cdf((diff - margin) / se, df))      # H0: diff >= +margin
    return max(lower, upper)


def mde_t(sd: float, n: int, alpha: float = 0.05, power: float = 0.8, factor: float | None = None,
          two_sided: bool = True) -> float:
    """Minimum detectable effect of a (corrected) one-sample t-test on ``n`` paired differences of SD ``sd``.

    ``(t_{1 - alpha/2, n-1} + t_{power, n-1}) * sd * sqrt(factor)``, ``factor`` the variance factor of the mean
    (``1 / n`` for independent units, ``1 / J + n_test / n_train`` for :func:`corrected_resampled_ttest`).
    Use the Bonferroni level (``alpha / m``, Holm's first step) for an MDE that holds after Holm over ``m`` tests.
    """
    if n < 2:
        return float("inf")
    f = 1.0 / n if factor is None else float(factor)
    a = alpha / 2 if two_sided else alpha
    df = n - 1
    return float((_st.t.ppf(1 - a, df) + _st.t.ppf(power, df)) * float(sd) * np.sqrt(f))


def fold_means(frame, value: str, by: tuple[str, ...] = ("repeat", "fold")):
    """Seeds averaged inside each fold: the mean of ``value`` per ``by`` group (a pandas Series, sorted by ``by``).

    The unit of analysis of the EEG chapters is the fold (seeds that share test subjects are not independent);
    ``by`` columns absent from ``frame`` are ignored (e.g. no ``repeat`` column: one repeat).
    """
    keys = [c for c in by if c in frame.columns]
    if not keys:
        raise ValueError(f"frame has none of the grouping columns {by}")
    return frame.groupby(keys, sort=True)[value].mean()


def t_interval(values, ci: float = 0.95) -> tuple[float, float, float]:
    """Mean and Student-t interval of independent values (e.g. one per fold), NaNs dropped; with fewer than two
    values the bounds are infinite (nothing can be excluded)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size < 2:
        m = float(v.mean()) if v.size else float("nan")
        return m, float("-inf"), float("inf")
    half = float(_st.t.ppf(0.5 + ci / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def clustered_paired_test(d: np.ndarray, subject: np.ndarray, cluster: np.ndarray, ci: float = 0.95
                          ) -> dict[str, float]:
    """Paired test with the test subject as the unit and the trained model as a cluster.

    ``d[j]`` is one subject's difference (condition a - b) under one trained model (a fold of one CV repeat, or
    one seed replicate on a fixed split); ``cluster[j]`` names that model, ``subject[j]`` the subject. A model's
    chance quality is shared by every subject it tests, and a subject's own effect by every model that tests it,
    so neither subjects nor folds are independent units. Variance components by the method of moments:

    - ``W``: pooled within-cluster variance = ``s_u^2 + s_e^2`` (subject effect + residual);
    - ``B``: variance of cluster means = ``s_m^2 + W / n_c`` (model effect);
    - ``S``: pooled within-subject variance across the models that tested it = ``s_m^2 + s_e^2``.

    The estimate is the mean of the subjects' mean differences, with
    ``Var = s_m^2 / K + s_u^2 / n + s_e^2 / (n R)`` (``K`` models, ``n`` subjects, ``R`` models per subject) and
    Satterthwaite degrees of freedom between ``K - 1`` and ``n - 1``. With one model per subject (one CV repeat)
    ``s_u`` and ``s_e`` are not separated and the variance is ``s_m^2 / K + W / n``. Negative components are set
    to 0. Calibrated by simulation in :mod:`vaxis.publish.calibration` (a plain t-test over subjects is not: it ignores
    the model effect).

    Returns
    -------
    dict
        ``diff``, ``se``, ``t``, ``df``, ``p`` (two-sided), ``ci_low``, ``ci_high``, ``n`` (subjects),
        ``n_clusters``, ``components`` ({model, subject, residual} variances), ``factor`` (``se^2 / sd^2`` of the
        subject means, for :func:`mde_t`).
    """
    d, subject, cluster = np.asarray(d, float), np.asarray(subject), np.asarray(cluster)
    if not (d.shape == subject.shape == cluster.shape) or d.ndim != 1:
        raise ValueError("d, subject and cluster must be 1-D arrays of the same length")
    ok = np.isfinite(d)
    d, subject, cluster = d[ok], subject[ok], cluster[ok]
    _, ci_ = np.unique(cluster, return_inverse=True)
    _, si = np.unique(subject, return_inverse=True)
    K, n = int(ci_.max()) + 1, int(si.max()) + 1
    if K < 2 or n < 2:
        raise ValueError(f"clustered_paired_test needs >= 2 clusters and >= 2 subjects, got {K} and {n}")
    c_size = np.bincount(ci_, minlength=K)
    c_mean = np.bincount(ci_, weights=d, minlength=K) / c_size
    N = d.size
    W = float(((d - c_mean[ci_]) ** 2).sum() / max(N - K, 1))
    B = float(c_mean.var(ddof=1))
    n_c = float(K / np.sum(1.0 / c_size))                              # harmonic mean cluster size
    s_m = max(B - W / n_c, 0.0)
    s_size = np.bincount(si, minlength=n)
    s_mean = np.bincount(si, weights=d, minlength=n) / s_size
    R = float(n / np.sum(1.0 / s_size))
    if s_size.max() > 1:
        S = float(((d - s_mean[si]) ** 2).sum() / max(N - n, 1))
        s_e = max(S - s_m, 0.0)
        s_u = max(W - s_e, 0.0)
    else:
        s_e, s_u = 0.0, W
    a, b = s_m / K, (s_u + s_e / R) / n
    var = a + b
    mean = float(s_mean.mean())
    se = float(np.sqrt(var))
    df = float((a + b) ** 2 / (a ** 2 / (K - 1) + b ** 2 / (n - 1))) if var > 0 else float(n - 1)
    if se == 0.0:
        t, p, half = (0.0, 1.0, 0.0) if mean == 0.0 else (float(np.sign(mean) * np.inf), 0.0, 0.0)
    else:
        t = mean / se
        p = float(2 * _st.t.sf(abs(t), df))
        half = float(_st.t.ppf(0.5 + ci / 2, df) * se)
    sd_subj = float(s_mean.std(ddof=1))
    return {"diff": mean, "se": se, "t": float(t), "df": df, "p": p, "ci_low": mean - half,
            "ci_high": mean + half, "n": n, "n_clusters": K,
            "components": {"model": s_m, "subject": s_u, "residual": s_e},
            "factor": var / sd_subj ** 2 if sd_subj > 0 else 1.0 / n}


def mde_from_se(se: float, df: float, alpha: float = 0.05, power: float = 0.8, two_sided: bool = True) -> float:
    """Minimum detectable effect of a t-type test with standard error ``se`` and ``df`` degrees of freedom:
    ``(t_{1 - alpha/2, df} + t_{power, df}) * se``. Pass ``alpha / m`` for an MDE that holds after Holm over ``m``
    tests (Holm's first, strictest step)."""
    if not (np.isfinite(se) and df > 0):
        return float("inf")
    a = alpha / 2 if two_sided else alpha
    return float((_st.t.ppf(1 - a, df) + _st.t.ppf(power, df)) * se)


def auroc_null_se(n_pos: int, n_neg: int) -> float:
    """Standard error of an AUROC under no effect: ``sqrt((n_pos + n_neg + 1) / (12 n_pos n_neg))`` (Mann-Whitney)."""
    return math.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg))


def auroc_mde(n_pos: int, n_neg: int, alpha: float = 0.05, power: float = 0.8) -> float:
    """The smallest AUROC above 0.5 that a two-sided test at ``alpha`` detects with ``power`` on one benchmark of
    ``n_pos`` positive and ``n_neg`` negative texts: ``0.5 + (z_{1-alpha/2} + z_power) * SE_0``."""
    if n_pos < 1 or n_neg < 1:
        return float("nan")
    return 0.5 + (NormalDist().inv_cdf(1 - alpha / 2) + NormalDist().inv_cdf(power)) * auroc_null_se(n_pos, n_neg)


def count_outcome(diff: float, ci_low: float, ci_high: float, p_holm: float, p_equivalence: float, *,
                  alpha: float, margin: float) -> str:
    """Four-way outcome of one paired comparison: ``improved`` / ``reduced`` (Holm-significant difference),
    ``unchanged`` (equivalent: the equivalence test against +-``margin`` is significant, ``p_equivalence < alpha``,
    and the difference is not significant), else ``inconclusive``."""
    if math.isfinite(p_holm) and p_holm < alpha and math.isfinite(diff) and diff != 0:
        return "improved" if diff > 0 else "reduced"
    if math.isfinite(p_equivalence) and p_equivalence < alpha:
        return "unchanged"
    return "inconclusive"
