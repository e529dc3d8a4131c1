import numpy as np
import pytest

from vaxis.text.axis import VAxis, choose_layer, heldout_positions, heldout_z, layer_curve, partition_null, stability
from vaxis.text.sentences import SIGNS

# Hand-computable 2-D example: positives at (2, 1) and (4, 1), negatives at (-2, -1) and (0, -1), neutral (1, 0).
H = np.array([[2.0, 1.0], [4.0, 1.0], [-2.0, -1.0], [0.0, -1.0], [1.0, 0.0]])
S = np.array([1, 1, -1, -1, 0])


def test_mean_diff_by_hand():
    ax = VAxis("mean-diff").fit(H, S)
    # mean(pos) - mean(neg) = (3, 1) - (-1, -1) = (4, 2) -> unit (2, 1)/sqrt(5)
    np.testing.assert_allclose(ax.direction_, np.array([2, 1]) / np.sqrt(5))
    np.testing.assert_allclose(ax.center_, H.mean(0))
    # neutral (1, 0) minus centre (1, 0) -> position 0
    assert ax.neutral_ == pytest.approx(0.0)
    np.testing.assert_allclose(ax.transform(H)[:, 0], (H - H.mean(0)) @ (np.array([2, 1]) / np.sqrt(5)))


def test_pca_by_hand_and_sign_rule():
    ax = VAxis("pca").fit(H, S)
    c = H - H.mean(0)
    evals, evecs = np.linalg.eigh(c.T @ c)
    v = evecs[:, -1] * np.sign(evecs[0, -1])  # first PC; positives lie to the right
    np.testing.assert_allclose(ax.direction_, v, atol=1e-12)
    flipped = VAxis("pca").fit(-H, S)  # mirrored data: direction must flip to keep positives on top
    assert (flipped.transform(-H)[S > 0].mean()) > flipped.transform(-H)[S < 0].mean()


@pytest.mark.parametrize("method", ["mean-diff", "pca", "lda"])
@pytest.mark.parametrize("shift", [(-300.0, -150.0), (300.0, 150.0), (-50.0, 100.0), (1e4, -1e4)])
def test_sign_rule_compares_positives_with_negatives_far_from_the_origin(method, shift):
    """Every method is translation invariant: data moved far from the origin (where the positives may project
    below 0) give the same direction as the hand example, positives above negatives."""
    ref = VAxis(method).fit(H, S).direction_
    if method == "mean-diff":
        np.testing.assert_allclose(ref, np.array([2, 1]) / np.sqrt(5))
    assert (H[S > 0] @ ref).mean() > (H[S < 0] @ ref).mean()
    moved = H + np.array(shift)
    ax = VAxis(method).fit(moved, S)
    np.testing.assert_allclose(ax.direction_, ref, atol=1e-9)
    pos = ax.transform(moved)[:, 0]
    assert pos[S > 0].min() > pos[S < 0].max()
    np.testing.assert_allclose(pos, VAxis(method).fit(H, S).transform(H)[:, 0], atol=1e-6)


def test_lda_matches_explicit_inverse():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(9, 5))
    ax = VAxis("lda", shrinkage=0.3).fit(h, SIGNS)
    pos, neg = h[SIGNS > 0], h[SIGNS < 0]
    sw = np.concatenate([pos - pos.mean(0), neg - neg.mean(0)])
    n, d = sw.shape
    S_mat = 0.7 * sw.T @ sw / n + 0.3 * np.trace(sw.T @ sw / n) / d * np.eye(d)
    w = np.linalg.solve(S_mat, pos.mean(0) - neg.mean(0))
    np.testing.assert_allclose(ax.direction_, w / np.linalg.norm(w), atol=1e-10)


def test_layer_axis_and_errors(tmp_path):
    hidden = np.stack([np.zeros((5, 2)) + 1.0, H])  # layer 0 degenerate
    ax = VAxis(layer=1).fit(hidden, S)
    np.testing.assert_allclose(ax.transform(hidden), VAxis().fit(H, S).transform(H))
    with pytest.raises(ValueError, match="layer"):
        VAxis().fit(hidden, S)
    with pytest.raises(ValueError, match="positive and one negative"):
        VAxis().fit(H, np.ones(5))
    with pytest.raises(ValueError, match="method"):
        VAxis("svm").fit(H, S)  # parameters are validated in fit (scikit-learn convention)
    ax.save(tmp_path / "ax")
    back = VAxis.load(tmp_path / "ax")
    np.testing.assert_allclose(back.transform(hidden), ax.transform(hidden))


def test_layer_rule_finds_planted_layer():
    rng = np.random.default_rng(1)
    noise = rng.normal(size=(4, 9, 16))
    planted = noise.copy()
    planted[2] += 3.0 * SIGNS[:, None] * np.eye(16)[0]  # only layer 2 separates the signs
    assert choose_layer(planted) == 2
    curve = layer_curve(planted)
    assert curve.loc[2, "pair_accuracy"] == 1.0 and curve.loc[2, "sign_accuracy"] == 1.0
    assert curve["heldout_margin"].idxmax() == 2


def test_near_ties_go_to_the_middle_layer():
    rng = np.random.default_rng(3)
    base = rng.normal(scale=0.05, size=(9, 8)) + SIGNS[:, None] * np.eye(8)[0]
    hidden = np.stack([base] * 7)  # seven identical layers: all tied, the middle one (3) wins
    assert choose_layer(hidden) == 3


def _plain_loo_sign_accuracy(h, signs):
    """Leave ONE sentence out (3 vs 4 training classes), computed independently of vaxis."""
    hits = []
    for i in np.flatnonzero(signs != 0):
        keep = np.arange(len(signs)) != i
        hk, sk = h[keep], signs[keep]
        mp, mn = hk[sk > 0].mean(0), hk[sk < 0].mean(0)
        hits.append(signs[i] * ((h[i] - (mp + mn) / 2) @ (mp - mn)) > 0)
    return np.mean(hits)


def test_pair_out_is_unbiased_where_plain_leave_one_out_anti_learns():
    rng = np.random.default_rng(4)
    pair, loo = [], []
    for _ in range(40):
        h = rng.normal(size=(9, 300))  # pure noise: the right answer is chance, 0.5
        z = heldout_z(h, SIGNS)
        pair.append(np.mean(np.concatenate([z[:, 0], -z[:, 1]]) > 0))
        loo.append(_plain_loo_sign_accuracy(h, SIGNS))
    assert 0.42 < np.mean(pair) < 0.58
    assert np.mean(loo) < 0.3  # the imbalance bias the layer rule avoids


def test_heldout_z_by_hand_for_one_pair():
    rng = np.random.default_rng(5)
    h = rng.normal(size=(9, 6))
    z = heldout_z(h, SIGNS)
    assert z.shape == (16, 2)
    i, j = 5, 0  # first pair: first positive (amusement), first negative (anger)
    keep = np.setdiff1d(np.arange(9), [i, j])
    hk, sk = h[keep], SIGNS[keep]
    w = hk[sk > 0].mean(0) - hk[sk < 0].mean(0)
    w /= np.linalg.norm(w)
    p = (hk - hk.mean(0)) @ w
    a, b = p[sk > 0], p[sk < 0]
    sd = np.sqrt((((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum()) / 6)
    expect = ((h[[i, j]] - hk.mean(0)) @ w - (a.mean() + b.mean()) / 2) / sd
    np.testing.assert_allclose(z[0], expect, rtol=1e-6, atol=1e-9)


def test_heldout_positions_average_the_folds():
    rng = np.random.default_rng(7)
    h = rng.normal(size=(9, 5))
    z, pos = heldout_z(h, SIGNS), heldout_positions(h, SIGNS)
    assert np.isnan(pos[4]) and np.isfinite(np.delete(pos, 4)).all()
    # amusement (5) is the held-out positive of pairs 0..3 (pairs run positives-major over the 4 negatives)
    assert pos[5] == pytest.approx(z[0:4, 0].mean())
    # anger (0) is the held-out negative of pairs 0, 4, 8, 12
    assert pos[0] == pytest.approx(z[[0, 4, 8, 12], 1].mean())


def test_partition_null_ranks_a_planted_split_first():
    rng = np.random.default_rng(6)
    hidden = rng.normal(size=(3, 9, 12))
    hidden[1] += 4.0 * SIGNS[:, None] * np.eye(12)[0]
    res = partition_null(hidden)
    assert res["n_splits"] == 35 and res["null"].shape == (34,)
    assert res["rank"] == 1 and res["p"] == pytest.approx(1 / 35)
    noise_h = rng.normal(size=(3, 9, 12))
    noise = partition_null(noise_h)
    # the observed score is the full procedure on the valence split, recomputed here
    curve = layer_curve(noise_h, SIGNS)
    assert noise["observed"] == pytest.approx(curve.loc[choose_layer(noise_h, SIGNS), "heldout_margin"])
    # one of the 34 other splits (anger, disgust, amusement, inspiration vs the rest) is among the null scores
    alt = np.array([-1, -1, 1, 1, 0, -1, -1, 1, 1])
    alt_curve = layer_curve(noise_h, alt)
    assert np.isclose(noise["null"], alt_curve.loc[choose_layer(noise_h, alt), "heldout_margin"]).sum() >= 1
    # p and rank from the null by their definitions: p = (1 + #null >= observed) / 35, rank = 1 + #null > observed
    null, obs = noise["null"], noise["observed"]
    assert noise["p"] == pytest.approx((1 + np.sum(null >= obs)) / 35)
    assert noise["rank"] == 1 + np.sum(null > obs) and noise["rank"] <= round(35 * noise["p"])


def test_stability_is_high_for_clean_axis_and_low_for_noise():
    rng = np.random.default_rng(2)
    clean = rng.normal(scale=0.1, size=(9, 8)) + SIGNS[:, None] * np.eye(8)[0]
    st = stability(clean, n_boot=50)
    assert st["loso"].min() > 0.95 and np.median(st["bootstrap"]) > 0.95
    noisy = stability(rng.normal(size=(9, 8)), n_boot=50)
    assert np.median(noisy["bootstrap"]) < np.median(st["bootstrap"])


def test_vaxis_is_a_scikit_learn_estimator():
    """Issue #17 item 5: BaseEstimator + TransformerMixin, clone, Pipeline, and every check_estimator check."""
    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.estimator_checks import check_estimator

    # No check is skipped: each applies to a fit on few texts. The array-API checks skip themselves unless
    # SCIPY_ARRAY_API is set (an environment switch, not a VAxis limitation).
    results = check_estimator(VAxis(), on_fail=None)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"]
    assert not failed, failed
    assert len(results) > 40
    ax = VAxis("lda", layer=2, shrinkage=0.2)
    twin = clone(ax)
    assert twin.get_params() == ax.get_params() and twin is not ax
    pipe = make_pipeline(StandardScaler(), VAxis()).fit(H, S)
    np.testing.assert_allclose(pipe.transform(H), VAxis().fit(StandardScaler().fit_transform(H), S).transform(
        StandardScaler().fit_transform(H)))


def test_parameters_are_validated_in_fit_not_init():
    for bad in (dict(method="svm"), dict(shrinkage=1.5), dict(shrinkage="x"), dict(layer=1.5),
                dict(reference=np.zeros(3))):
        ax = VAxis(**bad)  # the constructor only stores
        with pytest.raises(ValueError):
            ax.fit(H, S)


def test_binary_labels_follow_the_sign_rule():
    # two classes: the smaller label is the negative group, whatever the labels are
    for y in (np.array([1, 1, 0, 0]), np.array(["pos", "pos", "neg", "neg"]), np.array([2.0, 2.0, 1.0, 1.0])):
        a, b = VAxis().fit(H[:4], y), VAxis().fit(H[:4], S[:4])
        np.testing.assert_allclose(a.direction_, b.direction_)
        assert a.neutral_ == 0.0 and list(a.classes_) == sorted(set(y.tolist()))
        assert list(a.predict(H[:4])) == list(y)
    # signs keep their neutral texts; three classes that are not signs are refused (one direction, two ends)
    assert VAxis().fit(H, S).neutral_ == pytest.approx(0.0) and list(VAxis().fit(H, S).classes_) == [-1, 0, 1]
    with pytest.raises(ValueError, match="Only binary"):
        VAxis().fit(H, np.array([2, 2, 0, 0, 1]))
    with pytest.raises(ValueError, match="Unknown label type"):
        VAxis().fit(H, np.array([0.5, 0.7, 0.1, 0.2, 0.3]))


def test_layer_rule_sees_a_layer_only_after_standardising():
    """The chapters' rule: choose_layer on the nine sentences standardised with the reference texts' statistics."""
    from vaxis.text.axis import layer_rule
    from vaxis.text.reference_texts import standardize

    rng = np.random.default_rng(8)
    n_layers, d = 5, 40
    ref = rng.normal(size=(n_layers, 120, d))
    nine = rng.normal(size=(n_layers, 9, d))
    nine[3, :, 5:25] += 0.9 * SIGNS[:, None]     # valence in 20 ordinary dimensions at layer 3
    ref[:, :, :2] *= 400                          # two massive, valence-free dimensions at every layer
    nine[:, :, :2] *= 400
    assert layer_rule(nine, ref) == 3 == choose_layer(standardize(nine, ref))
    assert layer_rule(nine, None) == choose_layer(nine)


def test_pooling_rule_is_fixed_per_model_kind():
    from vaxis.text import llm

    assert {n: s["pooling"] for n, s in llm.REGISTRY.items()} == {
        "minilm": "mean", "smollm2-135m": "mean-no-first", "gemma3-270m": "mean-no-first", "mpnet": "mean",
        "qwen2.5-coder-0.5b": "mean-no-first"}
    assert llm.tiny_model("causal").default_pooling == "mean-no-first"
    assert llm.tiny_model("encoder").default_pooling == "mean"


def _valence_texts(seed: int = 3, n: int = 60, d: int = 12):
    """n texts sorted by class (negatives first), a valence signal in dims 2.., none in dims 0 and 1."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n // 2)
    x = rng.normal(size=(n, d)) + 1.5 * (2 * y - 1)[:, None] * (np.arange(d) >= 2)
    return x, y


def test_vaxis_is_classifier_like_in_scikit_learn():
    """Issue #26 item 4: transform is (n, 1) so a Pipeline step can follow; decision_function is 1-D (roc_auc
    scorer); classifier tags (cross_val_score stratifies, so sorted labels give no one-class fold)."""
    from sklearn.base import is_classifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, check_cv, cross_val_score
    from sklearn.pipeline import make_pipeline

    x, y = _valence_texts()
    ax = VAxis().fit(x, y)
    pos = ((x - x.mean(0)) @ ax.direction_)  # the position, computed here by hand
    assert ax.transform(x).shape == (60, 1) and ax.decision_function(x).shape == (60,)
    np.testing.assert_allclose(ax.transform(x)[:, 0], pos)
    np.testing.assert_allclose(ax.decision_function(x), pos - ax.neutral_)
    np.testing.assert_array_equal(ax.predict(x), np.where(pos - ax.neutral_ > 0, 1, 0))
    assert list(ax.get_feature_names_out()) == ["vaxis_position"]
    pipe = make_pipeline(VAxis(), LogisticRegression()).fit(x, y)  # a step after VAxis
    assert pipe.predict_proba(x).shape == (60, 2)
    assert is_classifier(VAxis()) and isinstance(check_cv(5, y, classifier=is_classifier(VAxis())), StratifiedKFold)
    auc = cross_val_score(VAxis(), x, y, scoring="roc_auc", cv=5)
    assert np.isfinite(auc).all() and auc.mean() > 0.9
    by_hand = [roc_auc_score(y[te], VAxis().fit(x[tr], y[tr]).decision_function(x[te]))
               for tr, te in StratifiedKFold(5).split(x, y)]
    np.testing.assert_allclose(auc, by_hand)
    d = cross_val_score(VAxis(), x, y)  # default score (d'), default folds: stratified, no one-class fold
    assert np.isfinite(d).all() and (d > 0).all()


def test_save_load_clone_keeps_the_reference_transform_and_the_file_name(tmp_path):
    """Issue #26 item 4: after save/load, clone + refit keeps the reference standardisation (positions used to change
    6.86 -> 1.64), and save("ax.v1") writes ax.v1, not ax.npz."""
    from sklearn.base import clone

    from vaxis.text.reference_texts import standardize

    rng = np.random.default_rng(4)
    ref = rng.normal(size=(3, 40, 8)) * np.r_[400.0, 300.0, np.ones(6)]
    nine = rng.normal(size=(3, 9, 8)) * np.r_[400.0, 300.0, np.ones(6)] + 2.0 * SIGNS[None, :, None]
    ax = VAxis(layer=1, reference=ref).fit(nine, SIGNS)
    by_hand = VAxis().fit(standardize(nine, ref)[1], SIGNS).transform(standardize(nine, ref)[1])
    np.testing.assert_allclose(ax.transform(nine), by_hand)
    out = ax.save(tmp_path / "ax.v1")
    assert out == tmp_path / "ax.v1" and sorted(p.name for p in tmp_path.iterdir()) == ["ax.v1"]
    back = VAxis.load(tmp_path / "ax.v1")
    np.testing.assert_allclose(back.transform(nine[1]), by_hand)
    np.testing.assert_allclose(back.decision_function(nine[1]), ax.decision_function(nine))
    assert list(back.classes_) == [-1, 0, 1] and back.neutral_ == ax.neutral_
    refit = clone(back).fit(nine[1], SIGNS)
    np.testing.assert_allclose(refit.transform(nine[1]), by_hand)
    raw = VAxis().fit(nine[1], SIGNS).transform(nine[1])  # what a refit without the transform gives
    assert not np.allclose(raw, by_hand)
    with pytest.raises(ValueError, match="reference transform"):
        VAxis(reference={"mean": np.zeros(8)}).fit(nine[1], SIGNS)
    # the pair an older version wrote (<path>.npz + <path>.json) still loads
    import json

    np.savez(tmp_path / "old.npz", direction=ax.direction_, center=ax.center_, mean=ax.mean_, scale=ax.scale_)
    (tmp_path / "old.json").write_text(json.dumps({"method": "mean-diff", "layer": 1, "shrinkage": 0.5,
                                                   "neutral": ax.neutral_, "standardized": True}))
    np.testing.assert_allclose(clone(VAxis.load(tmp_path / "old")).fit(nine[1], SIGNS).transform(nine[1]), by_hand)
