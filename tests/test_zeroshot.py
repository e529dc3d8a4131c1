"""Zero-shot scoring pipeline: verdict rules, scoring on constructed hidden states, cache reuse (FORWARD_CALLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaxis import zeroshot as zs


def _table(model, lo, rand_hi, hi=None):
    return pd.DataFrame({"model": model, "benchmark": list("abc"), "auroc_lo": lo, "auroc_hi": hi or lo,
                         "random_dir_hi": rand_hi})


def test_claim2_rule():
    t = pd.concat([_table("m1", [0.8, 0.8, 0.5], [0.6] * 3), _table("m2", [0.8, 0.55, 0.55], [0.6] * 3),
                   _table("ctrl", [0.5] * 3, [0.6] * 3, hi=[0.7, 0.7, 0.9])])
    verdict, s = zs.claim2_verdict(t, ["m1", "m2"], "ctrl")
    assert s.set_index("model").n_beaten.to_dict() == {"m1": 2, "m2": 1}
    assert verdict == "partly"
    assert zs.claim2_verdict(t, ["m1"], "ctrl")[0] == "replicates"
    assert zs.claim2_verdict(t, ["m2"], "ctrl")[0] == "does not replicate"
    assert zs.claim2_verdict(t, [], "ctrl")[0] == "not run"


def test_claim3_rule():
    base = {"n_real": 3, "n_pairs": 3, "n_pairs_above_floor": 3, "min_ci_low": 0.5, "mean_ci_low": 0.6,
            "floor_ci_high": 0.2}
    assert zs.claim3_verdict(base) == "replicates"
    assert zs.claim3_verdict({**base, "n_pairs_above_floor": 2, "min_ci_low": 0.1}) == "partly"
    assert zs.claim3_verdict({**base, "n_pairs_above_floor": 0, "min_ci_low": 0.0, "mean_ci_low": 0.1}) == \
        "does not replicate"
    assert zs.claim3_verdict({**base, "n_real": 2}) == "inconclusive"


def test_score_benchmarks_on_planted_axis():
    pytest.importorskip("vaxis.axis")
    rng = np.random.default_rng(0)
    signs = np.array([-1, -1, -1, -1, 0, 1, 1, 1, 1])
    n_layers, hid = 3, 16
    anchor = rng.normal(scale=0.1, size=(n_layers, 9, hid))
    anchor[:, :, 0] += signs
    y = np.r_[np.zeros(100, int), np.ones(100, int), -np.ones(20, int)]
    h = rng.normal(size=(n_layers, 220, hid))
    h[:, :, 0] += 1.5 * np.where(y < 0, 0, 2 * y - 1)
    sets = {"sst5": pd.DataFrame({"text": [""] * 220, "label": y, "fine_label": np.where(y < 0, 3, 1 + 3 * y)})}
    table, rand = zs.score_benchmarks({"sst5": h}, sets, anchor, signs, layer=-1, n_boot=100, n_random=20)
    row = table.iloc[0]
    assert row.n == 200 and row.auroc > 0.9 and row.auroc_lo > row.random_dir_hi
    assert row.spearman > 0.6 and row.n_graded == 220
    assert rand["sst5"].shape == (20,)
    curves = zs.layer_curves({"sst5": h}, sets, anchor, signs)
    assert len(curves) == n_layers and curves.auroc.min() > 0.9


def test_rerun_makes_no_forward_pass(tmp_path):
    llm = pytest.importorskip("vaxis.llm")
    model = llm.tiny_model()
    texts = ["a good film", "a bad film", "fine"]
    first = llm.extract(model, texts, layers=None, pooling="mean", batch_size=2, cache_dir=tmp_path)
    before = llm.FORWARD_CALLS
    again = llm.extract(model, texts, layers=None, pooling="mean", batch_size=2, cache_dir=tmp_path)
    assert llm.FORWARD_CALLS == before
    np.testing.assert_array_equal(first, again)


def test_layer_curves_tolerate_a_degenerate_layer():
    import numpy as np
    import pandas as pd

    from vaxis import zeroshot as zs

    rng = np.random.default_rng(0)
    signs = np.array([-1, -1, -1, -1, 0, 1, 1, 1, 1])
    anchor = rng.normal(size=(3, 9, 8))
    anchor[0] = 1.0  # layer 0 identical for every sentence, as with last-token pooling
    sets = {"toy": pd.DataFrame({"label": [0, 1, 0, 1, -1]})}
    hidden = {"toy": rng.normal(size=(3, 5, 8))}
    curve = zs.layer_curves(hidden, sets, anchor, signs)
    assert np.isnan(curve.loc[curve.layer == 0, "auroc"]).all()
    assert curve.loc[curve.layer > 0, "auroc"].notna().all()


def test_n_texts_for_family_defaults_overrides_and_quick():
    from vaxis import benchmarks as B

    assert zs.n_texts_for(False, False) == B.DEFAULT_N_TEXTS["encoder"]
    assert zs.n_texts_for(True, False) == B.DEFAULT_N_TEXTS["causal"]
    assert zs.n_texts_for(True, False, {"causal": None}) is None          # None = every row
    assert zs.n_texts_for(False, False, {"causal": 7}) == B.DEFAULT_N_TEXTS["encoder"]
    assert zs.n_texts_for(True, True, {"causal": None}) == B.QUICK_N_TEXTS  # quick wins


def test_load_runs_records_failures_and_goes_on():
    runs, failures, seconds = zs.load_runs(["no-such-model-xyz"], ["also-missing-abc"], ["sst2"], quick=True)
    assert runs == {}
    assert set(failures) == {"no-such-model-xyz", "also-missing-abc (random weights)"}
    assert all(":" in msg for msg in failures.values()) and set(seconds) == set(failures)
