"""The shared reference decoders (SVM + label-only MLP) and the fold-job kit they run through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vaxis.claims.common.jobs import FacedJob
from vaxis.claims.reference.baselines import ReferenceJob, contract_entry, manifest_for, run_reference
from vaxis.decoding.folds import FoldDesign, make_manifest
from vaxis.eeg.datasets import load_faced
from vaxis.runs.jobs import frame_from_jobs, job_grid, records


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    from vaxis.eeg.synthetic import make_faced

    root = tmp_path_factory.mktemp("faced12")
    make_faced(root, n_subjects=12, seed=3, kinds=("de",))
    return load_faced(root)


def test_job_config_roundtrip_and_unknown_keys(cohort):
    job = ReferenceJob.for_cohort(cohort, task="binary", repeat=1)
    cfg = job.config()
    assert cfg["pipeline"] == {"normalisation": "per-subject", "smoothing": "lds-clip"} and cfg["task"] == "binary"
    assert ReferenceJob.from_config(cfg) == job
    with pytest.raises(TypeError, match="tsak"):
        ReferenceJob.from_config({**cfg, "tsak": "9class"})
    grid = job_grid(job, {"task": ["9class", "binary"], "repeat": [0, 1]})
    assert len(grid) == 4 and "task" not in grid.fixed
    assert grid.fn == "vaxis.claims.reference.baselines:repeat_job"            # the job type names its worker
    with pytest.raises(ValueError):
        job_grid(job, {"arch": ["mlp"]})
    with pytest.raises(ValueError, match="raw cohort"):
        FacedJob.for_cohort(type("E", (), {"pipeline": {"a": 1}})())


def test_job_load_checks_the_data_key(cohort):
    job = FacedJob.for_cohort(cohort)
    assert job.load().pipeline == job.pipeline
    bad = FacedJob(**{**job.config(), "data_key": "0" * 16})
    with pytest.raises(ValueError, match="differ"):
        bad.load()


def test_records_roundtrip():
    tab = pd.DataFrame({"a": [1, 2], "b": [0.5, None]})
    jobs = pd.DataFrame([records(t=tab), records(t=tab.iloc[:1])])
    back = frame_from_jobs(jobs, "t")
    assert list(back.columns) == ["a", "b"] and len(back) == 3 and np.isnan(back.b.iloc[1])


def test_manifest_for_one_repeat_matches_the_full_manifest():
    subs = [f"sub{i:03d}" for i in range(20)]
    full = make_manifest(subs, k=5, repeats=3)
    assert manifest_for(subs, FoldDesign(n_folds=5), repeat=2) == [f for f in full if f["repeat"] == 2]
    assert manifest_for(subs, FoldDesign(n_folds=5), repeat=0) == make_manifest(subs, k=5)


def test_contract_entry_mean_and_ci():
    rng = np.random.default_rng(0)
    rows = [{"repeat": 0, "fold": f, "subject": f"s{f}{i}", "balanced_accuracy": 0.4 + rng.normal(0, 0.05)}
            for f in range(5) for i in range(4)]
    e = contract_entry(pd.DataFrame(rows), "x", "9class")
    assert e["ba"] == pytest.approx(np.mean([r["balanced_accuracy"] for r in rows]))
    assert e["ci_low"] < e["ba"] < e["ci_high"] and e["n_subjects"] == 20 and e["n_folds"] == 5


def test_run_reference_quick_on_a_synthetic_cohort(cohort, tmp_path):
    ref = run_reference(cohort, design=FoldDesign(n_folds=3), quick=True, cache_dir=tmp_path, svm_every=10)
    w = ref.folds[ref.folds.level == "window"]
    assert set(w.model) == {"svm", "mlp"} and set(w.task) == {"9class", "binary"} and len(w) == 12
    c = ref.contract()
    assert [e["task"] for e in c["baseline"]] == ["9class", "binary"]
    for e in c["baseline"] + c["label_only"]:
        assert 0 <= e["ci_low"] <= e["ba"] <= e["ci_high"] <= 1 and e["n_subjects"] == 12
    # the fold-pooled window BA equals the mean of its subjects' BAs
    s = ref.subject_scores("svm", "9class")
    pooled = w[(w.model == "svm") & (w.task == "9class")].set_index("fold").balanced_accuracy
    np.testing.assert_allclose(s.groupby("fold").balanced_accuracy.mean().to_numpy(), pooled.to_numpy(), atol=1e-9)
    again = run_reference(cohort, design=FoldDesign(n_folds=3), quick=True, cache_dir=tmp_path,
                          svm_every=10)   # from the store
    pd.testing.assert_frame_equal(again.folds, ref.folds)


def test_cross_stimulus_reference_names_its_protocol_and_keeps_units(cohort, tmp_path):
    ref = run_reference(cohort, design=FoldDesign(n_folds=3, stimulus="unseen"), quick=True, cache_dir=tmp_path,
                        svm_every=10)
    assert ref.protocol == "cross-stimulus" and len(ref.manifest) == 9
    w = ref.folds[ref.folds.level == "window"]
    assert len(w) == 2 * 2 * 9                                    # 2 models x 2 tasks x (3 subject x 3 clip folds)
    for e in ref.contract()["baseline"] + ref.contract()["label_only"]:
        assert e["protocol"] == "cross-stimulus" and e["ci_unit"] == "fold"
    u = ref.units[(ref.units.model == "svm") & (ref.units.task == "9class")]
    held = {f["fold"]: set(f["test_clips"]) for f in ref.manifest}
    assert all(c in held[f] for f, c in zip(u.fold, u["clip"]))     # only held-out clips are ever tested
    assert len(u) == 12 * 28 and (u.n_correct <= u.n).all()      # each subject x clip once (one repeat)
    m = ref.units[(ref.units.model == "mlp") & (ref.units.task == "binary")]
    assert len(m) == 12 * 24 and set(m["clip"]) <= set(range(1, 13)) | set(range(17, 29))
    assert ref.svm_confusion["9class"].shape == (9, 9) and ref.svm_confusion["9class"].sum() == u.n.sum()
    seen = run_reference(cohort, design=FoldDesign(n_folds=3), quick=True, cache_dir=tmp_path, svm_every=10)
    assert seen.protocol == "cross-subject"
    assert {e["protocol"] for e in seen.contract()["baseline"]} == {"cross-subject"}


def test_one_fold_baseline_interval_is_over_test_subjects_and_covers():
    """A fixed split has one fold: the interval is over test subjects (seed replicates as clusters) and covers the
    true accuracy at about its stated level (issue 27: it used to have zero width)."""
    rng = np.random.default_rng(1)
    covered, widths = 0, []
    n_sim, true = 300, 0.35
    for _ in range(n_sim):
        subject_effect = rng.normal(0, 0.08, 23)
        seed_effect = rng.normal(0, 0.01, 3)
        rows = [{"repeat": 0, "fold": 0, "seed": s, "subject": f"sub{100 + i}",
                 "balanced_accuracy": true + subject_effect[i] + seed_effect[s] + rng.normal(0, 0.03)}
                for s in range(3) for i in range(23)]
        e = contract_entry(pd.DataFrame(rows), "x", "9class")
        assert e["ci_unit"] == "test subject" and e["n_folds"] == 1
        widths.append(e["ci_high"] - e["ci_low"])
        covered += e["ci_low"] <= true <= e["ci_high"]
    assert min(widths) > 0
    assert 0.90 <= covered / n_sim <= 0.99, covered / n_sim
    one_seed = pd.DataFrame([{"repeat": 0, "fold": 0, "subject": f"s{i}", "balanced_accuracy": 0.3 + 0.01 * i}
                             for i in range(10)])
    e = contract_entry(one_seed, "x", "9class")
    assert e["ci_unit"] == "test subject" and e["ci_low"] < e["ba"] < e["ci_high"]
