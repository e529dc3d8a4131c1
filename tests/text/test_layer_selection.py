"""Claim 1's selection-free machinery: the Gram-matrix folds against the per-fold estimator, the nested layer choice
against the layer rule run by hand on the training sentences, both split tests against the original loop, and the
verdict on a planted selection-only effect (pure noise over many layers) and on a planted valence axis."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.publish import text_verdicts as V
from vaxis.text import axis
from vaxis.text import layer_selection as LS
from vaxis.text.sentences import SIGNS


@pytest.mark.parametrize("method", ["mean-diff", "pca", "lda"])
def test_fold_z_matches_heldout_z_at_every_layer(method):
    rng = np.random.default_rng(0)
    h = rng.normal(size=(4, 9, 40))
    h[:, :, 0] += SIGNS
    train, held = LS.pair_folds(SIGNS)
    z = LS.fold_z(h, SIGNS, train, held, method)
    assert z.shape == (4, 16, 2)
    for layer in range(4):
        np.testing.assert_allclose(z[layer], axis.heldout_z(h[layer], SIGNS, method), atol=1e-9)


def test_degenerate_layer_is_skipped_like_the_layer_rule():
    rng = np.random.default_rng(1)
    h = rng.normal(size=(5, 9, 20))
    h[0] = 1.0  # every sentence identical (last-token pooling at the embeddings)
    train, held = LS.pair_folds(SIGNS)
    assert np.isnan(LS.fold_z(h, SIGNS, train, held)[0]).all()
    with pytest.raises(ValueError, match="degenerate"):
        LS.pick_layer(np.array([np.nan, np.nan]))
    assert LS.pick_layer(np.array([9.0, 1.0, 1.02, 0.99, 0.1])) == 2  # layer 0 never; near-ties to the middle


def test_nested_layers_are_the_rule_run_on_the_training_sentences_only():
    rng = np.random.default_rng(2)
    h = rng.normal(size=(6, 9, 30))
    h[2:4, :, :3] += 0.8 * SIGNS[:, None]
    out = LS.nested_heldout(h, SIGNS)
    train, held = LS.pair_folds(SIGNS)
    for f, keep in enumerate(train):
        layer = axis.choose_layer(h[:, keep], SIGNS[keep])
        assert out["layers"][f] == layer
        np.testing.assert_allclose(out["z"][f], axis.heldout_z(h[layer], SIGNS)[f], atol=1e-9)
    signed = np.c_[out["z"][:, 0], -out["z"][:, 1]]
    assert out["margin"] == pytest.approx(signed.mean())
    assert out["pair_accuracy"] == pytest.approx(np.mean(out["z"][:, 0] > out["z"][:, 1]))
    assert np.isnan(out["per_sentence"][SIGNS == 0]).all()


def test_selected_split_test_is_the_original_loop():
    rng = np.random.default_rng(3)
    h = rng.normal(size=(5, 9, 25))
    h[1:3, :, 0] += 1.5 * SIGNS
    got = LS.split_tests(h, SIGNS)["selected"]
    scores = []
    for s in LS.split_signs(SIGNS):
        curve = axis.layer_curve(h, s)
        scores.append((float(curve.loc[axis.choose_layer(h, s, curve=curve), "heldout_margin"]),
                       np.array_equal(s, -SIGNS) or np.array_equal(s, SIGNS)))
    obs = next(v for v, is_valence in scores if is_valence)
    null = np.array([v for v, is_valence in scores if not is_valence])
    assert len(scores) == 35 and got["observed"] == pytest.approx(obs)
    np.testing.assert_allclose(np.sort(got["null"]), np.sort(null), atol=1e-9)
    assert got["p"] == pytest.approx((1 + np.sum(null >= obs)) / 35)
    assert got["p_lower"] == pytest.approx((1 + np.sum(null <= obs)) / 35)


def _claim1_input(h, twin):
    t, tw = axis.split_tests(h, SIGNS), axis.nested_heldout(twin, SIGNS)
    n = axis.nested_heldout(h, SIGNS)
    return {"model": "m", "nested_margin": n["margin"], "nested_pair_accuracy": n["pair_accuracy"],
            "nested_p": t["nested"]["p"], "nested_p_lower": t["nested"]["p_lower"], "nested_rank": t["nested"]["rank"],
            "split_p": t["selected"]["p"], "split_rank": t["selected"]["rank"], "control_nested_margin": tw["margin"]}


def test_a_selection_only_effect_is_inconclusive():
    """Pure noise over 41 layers: the rule's layer shows every held-out pair ordered and a margin above the twin's
    (what the old rule called 'partial'); the selection-free and selection-corrected tests see nothing."""
    h, twin = (np.random.default_rng(seed).normal(size=(41, 9, 32)) for seed in (0, 1))
    curve = axis.layer_curve(h, SIGNS)
    layer = axis.choose_layer(h, SIGNS, curve=curve)
    twin_curve = axis.layer_curve(twin, SIGNS)
    hp = axis.heldout_positions(h[layer], SIGNS)
    assert curve.loc[layer, "pair_accuracy"] == 1.0 and np.nanmin(hp[SIGNS > 0]) > np.nanmax(hp[SIGNS < 0])
    assert curve.loc[layer, "heldout_margin"] > 1.5 > twin_curve.loc[axis.choose_layer(twin, SIGNS), "heldout_margin"]
    m = _claim1_input(h, twin)
    assert m["nested_p"] > 0.05 and m["split_p"] > 0.05 and m["nested_margin"] < curve.loc[layer, "heldout_margin"]
    assert V.claim1([m]).verdict == "inconclusive"


def test_a_planted_valence_axis_replicates():
    rng = np.random.default_rng(5)
    h, twin = rng.normal(size=(2, 8, 9, 32))
    h[:, :, :4] += 1.5 * SIGNS[:, None]
    m = _claim1_input(h, twin)
    assert m["nested_p"] == pytest.approx(1 / 35) and m["split_p"] == pytest.approx(1 / 35)
    assert m["nested_pair_accuracy"] == 1.0
    assert V.claim1([m]).verdict == "replicates"
