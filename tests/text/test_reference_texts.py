"""Reference texts and per-dimension standardisation (the robust V-axis of issue #16)."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.text import sentiment as B
from vaxis.text.axis import VAxis
from vaxis.text.reference_texts import SCALE_FLOOR, dimension_spread, reference_texts, scale_stats, standardize
from vaxis.text.sentences import SIGNS, TEXTS


def _norm(t: str) -> str:
    return " ".join(t.lower().split())


def test_reference_texts_are_fixed_varied_and_free_of_benchmark_text():
    texts = reference_texts()
    assert len(texts) >= 150 and len(set(texts)) == len(texts)
    n_words = np.array([len(t.split()) for t in texts])
    assert n_words.min() <= 4 and n_words.max() >= 40  # fragments to passages, like the benchmarks
    assert not {_norm(t) for t in texts} & {_norm(t) for t in TEXTS}
    ours = {_norm(t) for t in texts}
    for name in B.BENCHMARKS:
        try:
            bench = B.load_benchmark(name, keep_neutral=True)
        except FileNotFoundError:
            pytest.skip("sentiment data not available")
        assert not ours & {_norm(t) for t in bench["text"]}, name
        # no reference text shares a run of 8 words with any benchmark text
        grams = {tuple(w[i:i + 8]) for t in bench["text"] for w in [_norm(t).split()] for i in range(len(w) - 7)}
        assert not any(tuple(w[i:i + 8]) in grams for t in texts for w in [_norm(t).split()]
                       for i in range(len(w) - 7)), name


def test_scale_stats_by_hand_and_floor():
    ref = np.array([[0.0, 1.0, 5.0], [2.0, 1.0, 5.0], [4.0, 1.0, 5.0]])
    ref[:, 2] += [0.0, 3.0, 6.0]
    mean, scale = scale_stats(ref)
    np.testing.assert_allclose(mean, [2.0, 1.0, 8.0])
    sd = np.array([np.sqrt(8 / 3), 0.0, np.sqrt(6.0)])
    np.testing.assert_allclose(scale, [sd[0], SCALE_FLOOR * np.median(sd), sd[2]])  # the constant one is floored
    z = standardize(ref, ref)
    np.testing.assert_allclose(z[:, [0, 2]].std(0), [1.0, 1.0])
    np.testing.assert_allclose(z[:, 1], 0.0)
    with pytest.raises(ValueError, match="share layers"):
        standardize(np.zeros((2, 4)), ref)
    with pytest.raises(ValueError, match="NaN"):
        scale_stats(np.array([[np.nan, 1.0], [1.0, 2.0]]))


def test_standardize_works_per_layer():
    rng = np.random.default_rng(0)
    ref = rng.normal(size=(3, 50, 4)) * np.array([1.0, 10.0, 100.0])[:, None, None]
    h = rng.normal(size=(3, 7, 4))
    z = standardize(h, ref)
    for layer in range(3):
        np.testing.assert_allclose(z[layer], (h[layer] - ref[layer].mean(0)) / ref[layer].std(0))


def _massive(rng, n, d=64, big=(3, 17), sd_big=900.0):
    """Hidden states with a valence signal in many ordinary dimensions and two huge, valence-free ones."""
    h = rng.normal(size=(n, d)) * 17.0
    h[:, list(big)] = rng.normal(size=(n, len(big))) * sd_big
    return h


def test_standardising_rescues_an_axis_swamped_by_massive_dimensions():
    rng = np.random.default_rng(1)
    signal = np.zeros(64)
    signal[20:40] = 12.0  # the valence direction: 20 ordinary dimensions
    ref = _massive(rng, 200)
    nine = _massive(rng, 9) + SIGNS[:, None] * signal
    y = rng.integers(0, 2, 400)
    texts = _massive(rng, 400) + (2 * y - 1)[:, None] * signal
    raw = VAxis().fit(nine, SIGNS)
    std = VAxis(reference=ref).fit(nine, SIGNS)
    auc_raw, auc_std = B.auroc(raw.decision_function(texts), y), B.auroc(std.decision_function(texts), y)
    assert auc_std > 0.9 and auc_raw < 0.7, (auc_raw, auc_std)
    spread = dimension_spread(ref, top=2)
    assert set(spread["top_dims"]) == {3, 17}
    assert spread["top_share_raw"] > 0.9 and spread["top_share_std"] < 0.1


def test_reference_transform_is_saved_and_loaded(tmp_path):
    rng = np.random.default_rng(2)
    ref = rng.normal(size=(3, 30, 6)) * np.arange(1, 7)
    hidden = rng.normal(size=(3, 9, 6)) + SIGNS[None, :, None]
    ax = VAxis(layer=1, reference=ref).fit(hidden, SIGNS)
    np.testing.assert_allclose(ax.transform(hidden),
                               VAxis().fit(standardize(hidden, ref)[1], SIGNS).transform(standardize(hidden, ref)[1]))
    ax.save(tmp_path / "axis")
    back = VAxis.load(tmp_path / "axis")
    np.testing.assert_allclose(back.transform(hidden[1]), ax.transform(hidden))
    np.testing.assert_allclose(back.scale_, ref[1].std(0))
