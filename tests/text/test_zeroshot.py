"""Zero-shot scoring pipeline: scoring on constructed states, paired model-vs-twin statistics, the extraction plan
on a tiny saved model and a user file, cache reuse (FORWARD_CALLS)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaxis.text import llm
from vaxis.text import sentiment as B
from vaxis.text import zeroshot as zs
from vaxis.text.axis import VAxis
from vaxis.text.sentences import SIGNS


def _run(rng, shift=1.5, n=220, hid=16, n_layers=3, name="m"):
    """A model_states-like run with a planted valence dimension (0) and a huge valence-free one (1)."""
    anchor = rng.normal(scale=0.1, size=(n_layers, 9, hid))
    anchor[:, :, 0] += SIGNS
    ref = rng.normal(size=(n_layers, 80, hid))
    ref[:, :, 1] *= 500
    y = rng.permutation(np.r_[np.zeros(100, int), np.ones(100, int), -np.ones(n - 200, int)])
    h = rng.normal(size=(n, hid))
    h[:, 1] *= 500
    h[:, 0] += shift * np.where(y < 0, 0, 2 * y - 1)
    df = pd.DataFrame({"text": [""] * n, "label": y, "fine_label": np.where(y < 0, 3, 1 + 3 * y)})
    df.attrs["graded"] = True
    layer = n_layers - 1
    curve = np.stack([h[:50]] * n_layers)
    return {"model": name, "layer": layer, "n_layers": n_layers, "anchor": anchor, "reference": ref,
            "signs": SIGNS, "sets": {"sst5": df}, "hidden": {"sst5": h}, "curve_hidden": {"sst5": curve},
            "axis": zs.fit_axis(anchor, SIGNS, layer, reference=ref)}


def test_score_benchmarks_on_planted_axis():
    rng = np.random.default_rng(0)
    run = _run(rng)
    table, rand, boots = zs.score_benchmarks(run, n_boot=200, n_random=20)
    row = table.iloc[0]
    assert row.n == 200 and row.n_pos == 100 and row.auroc > 0.9 and row.auroc_lo > row.random_dir_hi
    assert row.auroc_lo <= row.auroc <= row.auroc_hi and 0.5 < row.auroc_mde < 0.65
    assert row.spearman > 0.6 and row.n_graded == 220
    assert rand["sst5"].shape == (20,) and boots["sst5"].shape == (200,)
    # the reference standardisation is what makes the axis work: without it dimension 1 swamps the fit
    raw = VAxis(layer=run["layer"]).fit(run["anchor"], SIGNS)
    y = run["sets"]["sst5"]["label"].to_numpy()
    assert B.auroc(raw.decision_function(run["hidden"]["sst5"])[y >= 0], y[y >= 0]) < row.auroc
    curves = zs.layer_curves(run)
    assert len(curves) == run["n_layers"] and curves.auroc.min() > 0.85 and (curves.n == 40).all()


def test_auroc_boot_matches_the_plain_auroc_per_draw():
    rng = np.random.default_rng(1)
    s, y = rng.normal(size=60), rng.integers(0, 2, 60)
    idx = zs.boot_indices(60, 30, seed=3, key="x")
    got = zs.auroc_boot(s, y, idx)
    np.testing.assert_allclose(got, [B.auroc(s[i], y[i]) for i in idx])
    np.testing.assert_array_equal(idx, zs.boot_indices(60, 30, seed=3, key="x"))  # shared across models
    assert not np.array_equal(idx, zs.boot_indices(60, 30, seed=3, key="y"))


def test_transfer_summary_pairs_model_and_twin():
    rng = np.random.default_rng(2)
    real, twin = _run(rng, name="m"), _run(rng, shift=0.0, name="m (random weights)")
    tables, boots, rands = [], {}, {}
    for r in (real, twin):
        t, rd, b = zs.score_benchmarks(r, n_boot=300, n_random=20)
        tables.append(t.assign(model=r["model"]))
        boots[r["model"]], rands[r["model"]] = b, rd
    table = pd.concat(tables, ignore_index=True)
    s = zs.transfer_summary(table, boots, ["m"], {"m": "m (random weights)"}, alpha=0.05, randoms=rands).iloc[0]
    assert s.random_dir_p == pytest.approx(1 / 21)  # no random direction reaches the planted axis
    assert s.level == pytest.approx(0.95) and s.n_benchmarks == 1 and s.n_min == 200
    assert s.mean_auroc > 0.9 and s["diff"] > 0.3 and s.diff_lo > 0.2 and s.mean_auroc_lo > s.random_dir_hi
    d = boots["m"]["sst5"] - boots["m (random weights)"]["sst5"]
    assert s.diff_lo == pytest.approx(np.nanquantile(d, 0.025))
    alone = zs.transfer_summary(table, boots, ["m"], {"m": None}).iloc[0]
    assert alone.diff_lo is None and np.isnan(alone.twin_mean_auroc)


def test_label_free_threshold_and_accuracy_side_by_side():
    rng = np.random.default_rng(4)
    run = _run(rng, shift=1.5)
    run["anchor"][:, 4, 0] += 3.0  # a neutral sentence far on the positive side: its threshold does not transfer
    table, _, _ = zs.score_benchmarks(run, n_boot=100, n_random=5)
    row = table.iloc[0]
    pos = zs.project(run["axis"], run["hidden"]["sst5"])
    y = run["sets"]["sst5"]["label"].to_numpy()
    assert row.threshold_label_free == pytest.approx(np.median(pos))  # all texts, neutral ones too, no label
    b = y >= 0
    assert row.accuracy_label_free == pytest.approx(np.mean((pos[b] > np.median(pos)) == (y[b] == 1)))
    assert row.accuracy == pytest.approx(np.mean((pos[b] > row.threshold) == (y[b] == 1)))
    assert row.accuracy < 0.7 < row.accuracy_label_free  # the misplaced neutral threshold hurts, the median not
    assert row.accuracy_label_free_lo <= row.accuracy_label_free <= row.accuracy_label_free_hi


def test_paired_lexicon_difference_and_choice():
    rng = np.random.default_rng(5)
    y = np.r_[np.zeros(150, int), np.ones(150, int)]
    model, strong, weak = (y * d + rng.normal(size=300) for d in (0.6, 1.2, 0.2))
    idx = zs.boot_indices(300, 400, seed=0, key="b")
    draws = {k: {"b": zs.auroc_boot(s, y, idx)} for k, s in (("m", model), ("vader", strong), ("afinn", weak))}
    pts = {k: {"b": B.auroc(s, y)} for k, s in (("m", model), ("vader", strong), ("afinn", weak))}
    assert zs.better_lexicon({"afinn": pts["afinn"], "vader": pts["vader"]}) == "vader"
    vs = zs.paired_diff(draws["m"], draws["vader"], pts["m"], pts["vader"], level=0.95)
    d = draws["m"]["b"] - draws["vader"]["b"]
    assert vs["diff"] == pytest.approx(pts["m"]["b"] - pts["vader"]["b"]) and vs["diff"] < 0
    assert vs["ci_low"] == pytest.approx(np.nanquantile(d, 0.025)) and vs["ci_high"] < 0
    # pairing: the paired interval is narrower than one from independent resamples of the lexicon
    other = zs.auroc_boot(strong, y, zs.boot_indices(300, 400, seed=1, key="b"))
    assert np.subtract(*np.quantile(d, [0.975, 0.025])) < np.subtract(*np.quantile(draws["m"]["b"] - other,
                                                                                    [0.975, 0.025]))
    table = pd.DataFrame([{"model": k, "benchmark": "b", "n": 300, "auroc": pts[k]["b"], "accuracy": 0.5,
                           "accuracy_label_free": 0.6, "random_dir_hi": 0.55} for k in pts])
    s = zs.transfer_summary(table, {"m": draws["m"]}, ["m"], {"m": None},
                            lexicons={"vader": draws["vader"], "afinn": draws["afinn"]}).iloc[0]
    assert s.lexicon == "vader" and s.lexicon_auroc == pytest.approx(pts["vader"]["b"])
    assert s.vs_lexicon["ci_high"] == pytest.approx(vs["ci_high"]) and s.accuracy_label_free == 0.6
    assert set(s.vs_lexicon) == {"diff", "ci_low", "ci_high"} and "b" in s.vs_lexicon_per_benchmark


def test_layer_curves_tolerate_a_degenerate_layer():
    rng = np.random.default_rng(0)
    run = _run(rng)
    run["anchor"][0] = 1.0  # layer 0 identical for every sentence, as with last-token pooling
    curve = zs.layer_curves(run)
    assert np.isnan(curve.loc[curve.layer == 0, "auroc"]).all()
    assert curve.loc[curve.layer > 0, "auroc"].notna().all()


def test_n_texts_for_defaults_overrides_and_quick():
    assert zs.n_texts_for(False, False) == B.DEFAULT_N_TEXTS["encoder"] == 500
    assert zs.n_texts_for(True, False) == B.DEFAULT_N_TEXTS["causal"] == 500
    assert zs.n_texts_for(True, False, {"causal": None}) is None          # None = every row
    assert zs.n_texts_for(False, False, {"causal": 7}) == B.DEFAULT_N_TEXTS["encoder"]
    assert zs.n_texts_for(False, False, 42) == 42
    assert zs.n_texts_for(True, True, {"causal": None}) == B.QUICK_N_TEXTS  # quick wins


def test_load_runs_records_failures_and_goes_on():
    runs, failures, seconds = zs.load_runs(["no-such-model-xyz"], ["also-missing-abc"], ["sst2"], quick=True)
    assert runs == {}
    assert set(failures) == {"no-such-model-xyz", "also-missing-abc (random weights)"}
    assert all(":" in msg for msg in failures.values()) and set(seconds) == set(failures)


@pytest.mark.parametrize("kw, error, match", [
    (dict(models=list("minilm")), ValueError, "sliced into letters"),      # a string that went through list()
    (dict(models="minilm"), TypeError, "list of names"),
    (dict(control_models="minilm"), TypeError, "control_models"),
    (dict(names=["sst2", "no_such_benchmark"]), ValueError, "unknown benchmark 'no_such_benchmark'"),
    (dict(names="sst2"), TypeError, "benchmark names"),
    (dict(n_texts="abc"), TypeError, "n_texts"),
    (dict(n_texts={"encoder": "abc", "causal": 5}), TypeError, "n_texts\\['encoder'\\]"),
    (dict(n_texts={"decoder": 5}), ValueError, "n_texts keys"),
    (dict(n_texts=0), TypeError, "n_texts"),
    (dict(batch_size=-1), TypeError, "batch_size"),
    (dict(quick="yes"), TypeError, "quick"),
])
def test_load_runs_raises_on_bad_inputs_instead_of_calling_them_model_failures(kw, error, match):
    args = dict(models=["no-such-model-xyz"], control_models=None, names=["sst2"], quick=True, **{})
    args.update(kw)
    with pytest.raises(error, match=match):
        zs.load_runs(**args)


def test_only_model_loading_errors_are_recorded(monkeypatch):
    def boom(*a, **k):
        raise KeyError("a bug, not a model that failed to load")

    monkeypatch.setattr(zs, "model_states", boom)
    with pytest.raises(KeyError):
        zs.load_runs(["minilm"], [], ["sst2"], quick=True)

    def oom(*a, **k):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(zs, "model_states", oom)
    runs, failures, _ = zs.load_runs(["minilm"], [], ["sst2"], quick=True)
    assert runs == {} and "out of memory" in failures["minilm"]


def test_unknown_model_is_a_model_load_error():
    with pytest.raises(llm.ModelLoadError, match="cannot load model"):
        llm.load_model("no-such-model-xyz", device="cpu", lazy=True)
    with pytest.raises(TypeError):
        llm.load_model(["minilm"], device="cpu")


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    """A tiny random Llama saved with the MiniLM WordPiece tokenizer: loadable by path like a hub model."""
    m = llm.tiny_model("causal", n_layers=3)
    folder = tmp_path_factory.mktemp("tiny-llama")
    m.module.save_pretrained(folder)
    m.tokenizer.save_pretrained(folder)
    return str(folder)


def test_model_states_plan_on_a_user_file_and_no_recompute(tiny_folder, tmp_path):
    path = tmp_path / "my_reviews.tsv"
    words = ["good", "bad", "fine", "awful", "great", "dull"]
    path.write_text("review\tlabel\n" + "".join(f"a {words[i % 6]} film number {i}\t{int(i % 6 in (0, 2, 4))}\n"
                                                for i in range(40)))
    kw = dict(quick=False, n_texts=30, n_curve=12, cache_dir=tmp_path / "cache", device="cpu")
    before = llm.FORWARD_CALLS
    run = zs.model_states(tiny_folder, [str(path)], **kw)
    assert set(run["sets"]) == {"my_reviews"} and len(run["sets"]["my_reviews"]) == 30
    assert run["hidden"]["my_reviews"].shape == (30, 32)
    assert run["curve_hidden"]["my_reviews"].shape == (4, 12, 32)
    np.testing.assert_allclose(run["hidden"]["my_reviews"][:12], run["curve_hidden"]["my_reviews"][run["layer"]])
    model = llm.load_model(tiny_folder, device="cpu")
    texts = run["sets"]["my_reviews"]["text"].tolist()
    direct = llm.extract(model, texts, layers=[run["layer"]], max_length=B.MAX_TOKENS, use_cache=False,
                         progress=False)
    np.testing.assert_allclose(run["hidden"]["my_reviews"], direct[0], atol=1e-5)
    assert llm.FORWARD_CALLS > before
    calls = llm.FORWARD_CALLS
    again = zs.model_states(tiny_folder, [str(path)], **kw)  # chapter 3 after chapter 2: all from the cache
    assert llm.FORWARD_CALLS == calls and not again["weights_loaded"]
    np.testing.assert_array_equal(again["hidden"]["my_reviews"], run["hidden"]["my_reviews"])
    table, _, _ = zs.score_benchmarks(run, n_boot=50, n_random=10)
    assert table.benchmark.tolist() == ["my_reviews"] and "spearman" not in table


def test_twins_read_a_prefix_of_the_models_texts(tiny_folder, tmp_path):
    path = tmp_path / "reviews.tsv"
    path.write_text("text\tlabel\n" + "".join(f"review {i} was {'good' if i % 2 else 'bad'}\t{i % 2}\n"
                                              for i in range(60)))
    runs, failures, _ = zs.load_runs([tiny_folder], None, [str(path)], quick=False, n_texts=40, control_n_texts=12,
                                     device="cpu", cache_dir=tmp_path / "cache", n_curve=0)
    assert not failures
    model, twin = runs[tiny_folder]["sets"]["reviews"], runs[zs.twin_key(tiny_folder)]["sets"]["reviews"]
    assert len(model) == 40 and len(twin) == 12
    assert twin["text"].tolist() == model["text"].tolist()[:12]
    assert runs[zs.twin_key(tiny_folder)]["hidden"]["reviews"].shape[0] == 12
    with pytest.raises(TypeError, match="control_n_texts"):
        zs.load_runs([tiny_folder], None, [str(path)], quick=False, control_n_texts="100")
