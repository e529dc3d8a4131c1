"""Cross-model agreement metrics on constructed cases, checked against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from vaxis.text import agreement as ag
from vaxis.text.agreement import pair_summary, rsa, rsa_matrix, spearman_matrix, spearman_matrix_ci


def test_identical_and_reversed_rankings():
    x = np.random.default_rng(0).normal(size=50)
    pos = np.stack([x, 3 * x + 1, -x, np.exp(x)])  # monotone transforms keep the ranking
    rho = spearman_matrix(pos)
    assert rho[0, 1] == pytest.approx(1.0)
    assert rho[0, 3] == pytest.approx(1.0)
    assert rho[0, 2] == pytest.approx(-1.0)
    assert np.allclose(np.diag(rho), 1.0)
    assert np.allclose(rho, rho.T)


def test_spearman_matrix_matches_scipy_with_ties():
    rng = np.random.default_rng(1)
    pos = rng.integers(0, 5, size=(3, 40)).astype(float)  # many ties
    rho = spearman_matrix(pos)
    for i in range(3):
        for j in range(3):
            assert rho[i, j] == pytest.approx(stats.spearmanr(pos[i], pos[j]).statistic, abs=1e-12)


def test_bootstrap_ci_deterministic_and_brackets():
    rng = np.random.default_rng(2)
    base = rng.normal(size=300)
    pos = np.stack([base + rng.normal(scale=s, size=300) for s in (0.1, 0.5, 3.0)])
    r1 = spearman_matrix_ci(pos, n_boot=200, seed=7)
    r2 = spearman_matrix_ci(pos, n_boot=200, seed=7)
    r3 = spearman_matrix_ci(pos, n_boot=200, seed=8)
    for a, b in zip(r1, r2):
        assert np.array_equal(a, b)
    assert not np.array_equal(r1[1], r3[1])
    rho, lo, hi = r1
    assert np.all(lo <= rho + 1e-12) and np.all(rho <= hi + 1e-12)
    assert lo[0, 1] > hi[0, 2]  # the tight pair agrees more than the noisy pair


def test_rsa_invariant_to_rotation_and_scale():
    rng = np.random.default_rng(3)
    h = rng.normal(size=(9, 20))
    q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    assert rsa(h, 2.0 * h @ q, metric="euclidean") == pytest.approx(1.0)
    other = rng.normal(size=(9, 7))
    expected = stats.spearmanr(
        [np.linalg.norm(h[i] - h[j]) for i in range(9) for j in range(i + 1, 9)],
        [np.linalg.norm(other[i] - other[j]) for i in range(9) for j in range(i + 1, 9)],
    ).statistic
    assert rsa(h, other, metric="euclidean") == pytest.approx(expected)
    m = rsa_matrix([h, h @ q, other], metric="euclidean")
    assert m.shape == (3, 3) and m[0, 1] == pytest.approx(1.0) and m[0, 2] == pytest.approx(expected)
    with pytest.raises(ValueError, match="same items"):
        rsa(h, other[:5])


def test_pair_summary_separates_real_from_floor():
    rho = np.array([[1, 0.9, 0.7, 0.05], [0.9, 1, 0.8, -0.1], [0.7, 0.8, 1, 0.0], [0.05, -0.1, 0.0, 1]])
    s = pair_summary(rho, rho - 0.05, rho + 0.05, np.array([True, True, True, False]))
    assert s["n_real"] == 3 and s["n_pairs"] == 3
    assert s["min"] == pytest.approx(0.7) and s["mean"] == pytest.approx(0.8)
    assert s["floor_max"] == pytest.approx(0.1)  # |-0.1|
    assert s["floor_ci_high"] == pytest.approx(0.15)
    assert s["n_pairs_above_floor"] == 3


def test_spearman_matrix_rejects_bad_shape():
    with pytest.raises(ValueError, match="n_items"):
        spearman_matrix(np.zeros((2, 2)))


def _planted(rng, n=300, shared=1.0):
    """Three 'real' models sharing a latent ordering, two random ones with their own."""
    latent = rng.normal(size=n)
    real = [shared * latent + rng.normal(size=n) for _ in range(3)]
    rand = [rng.normal(size=n) for _ in range(2)]
    return np.stack(real + rand)


def test_agreement_boot_within_vs_pooled_and_by_hand():
    from vaxis.text.agreement import agreement_boot

    rng = np.random.default_rng(4)
    a, b = _planted(rng), _planted(rng, n=200)
    b[:, :] += np.array([[5.0], [-5.0], [0.0], [0.0], [0.0]])  # benchmark offsets differ by model
    out = agreement_boot({"a": a, "b": b}, n_boot=200, seed=1)
    expect = np.mean([[[stats.spearmanr(x[i], x[j]).statistic for j in range(5)] for i in range(5)]
                      for x in (a, b)], axis=0)
    np.testing.assert_allclose(out["within"], expect, atol=1e-12)
    pooled = stats.spearmanr(np.concatenate([a, b], 1)[0], np.concatenate([a, b], 1)[1]).statistic
    assert out["pooled"][0, 1] == pytest.approx(pooled)
    assert out["pooled"][0, 1] < out["within"][0, 1] - 0.1  # offsets mixed into the pooled ranks
    assert out["within_boot"].shape == (200, 5, 5)
    again = agreement_boot({"a": a, "b": b}, n_boot=200, seed=1)
    np.testing.assert_array_equal(again["within_boot"], out["within_boot"])
    with pytest.raises(ValueError, match="same models"):
        agreement_boot({"a": a, "b": b[:3]})


def test_floor_differences_find_shared_ordering_and_not_noise():
    from vaxis.text.agreement import agreement_boot, floor_differences

    rng = np.random.default_rng(5)
    names = ["r1", "r2", "r3", "c1", "c2"]
    is_real = np.array([True, True, True, False, False])
    out = agreement_boot({"a": _planted(rng), "b": _planted(rng)}, n_boot=300, seed=0)
    diff = floor_differences(out["within"], out["within_boot"], names, is_real, level=1 - 0.05 / 3)
    assert len(diff) == 3 and (diff["diff_lo"] > 0).all()
    assert (diff["floor"] < 0.2).all() and diff["floor_with"].str.contains("~ c").all()
    row = diff.iloc[0]
    assert row["diff"] == pytest.approx(out["within"][0, 1] - row["floor"])
    null = agreement_boot({"a": _planted(rng, shared=0.0), "b": _planted(rng, shared=0.0)}, n_boot=300, seed=0)
    nd = floor_differences(null["within"], null["within_boot"], names, is_real, level=1 - 0.05 / 3)
    assert (nd["diff_lo"] < 0).all()  # no shared ordering: no pair beats the floor
    none = floor_differences(out["within"], out["within_boot"], names[:3], is_real[:3] | True)
    assert (none["floor"] == 0).all()


def test_agreement_with_floor_on_a_prefix():
    """Pretrained pairs on all texts, every pair with a random-weight model on the prefix all models read."""
    rng = np.random.default_rng(7)
    v = {b: rng.normal(size=n) for b, n in (("a", 300), ("b", 200))}
    real = {b: np.stack([x + rng.normal(scale=s, size=x.size) for s in (0.5, 0.8)]) for b, x in v.items()}
    twin = {b: rng.normal(size=(1, 60)) for b in v}
    every = {b: np.concatenate([real[b][:, :60], twin[b]]) for b in v}  # names: m1, m2, twin
    is_real = np.array([True, True, False])
    got = ag.agreement_with_floor(real, every, is_real, n_boot=80, seed=0)
    full, pre = ag.agreement_boot(real, n_boot=80, seed=0), ag.agreement_boot(every, n_boot=80, seed=1)
    np.testing.assert_allclose(got["within"][:2, :2], full["within"])
    np.testing.assert_allclose(got["within"][:, 2], pre["within"][:, 2])
    np.testing.assert_allclose(got["within_boot"][:, :2, :2], full["within_boot"])
    np.testing.assert_allclose(got["pooled_boot"][:, 0, 2], pre["pooled_boot"][:, 0, 2])
    assert got["n_real_texts"] == {"a": 300, "b": 200} and got["n_floor_texts"] == {"a": 60, "b": 60}
    # the pair measured on all 500 texts is tighter than on the 120 of the prefix
    d = ag.floor_differences(got["within"], got["within_boot"], ["m1", "m2", "t"], is_real)
    d_pre = ag.floor_differences(pre["within"], pre["within_boot"], ["m1", "m2", "t"], is_real)
    assert d.agreement_hi[0] - d.agreement_lo[0] < d_pre.agreement_hi[0] - d_pre.agreement_lo[0]


def test_model_scope_counts_kinds_against_the_papers_fourteen():
    from vaxis.text.agreement import model_scope

    n, kinds, sentence = model_scope({"minilm": "encoder", "smollm2-135m": "causal", "gemma3-270m": "causal",
                                      "mpnet": "encoder", "qwen2.5-coder-0.5b": "causal"})
    assert (n, kinds) == (5, {"encoder": 2, "causal": 3})
    assert "5 pretrained models" in sentence and "2 encoders (minilm, mpnet)" in sentence
    assert "3 causal LMs" in sentence and "the paper's 14 LLMs" in sentence
    n, kinds, sentence = model_scope({"minilm": "encoder"})
    assert (n, kinds) == (1, {"encoder": 1}) and "1 pretrained model," in sentence


def test_chapter_3_row_carries_the_scope():
    from pathlib import Path

    src = (Path(__file__).resolve().parents[2] / "notebooks" / "03_cross_model.py").read_text()
    assert '"n_models": n_models' in src and '"model_kinds": model_kinds' in src and "scope=scope" in src
