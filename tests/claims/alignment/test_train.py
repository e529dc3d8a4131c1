"""Chapter 6's run of the strategies (vaxis.claims.alignment.train): the weight chosen on validation subjects."""

from __future__ import annotations

from vaxis.claims.alignment.train import train_alignment
from vaxis.decoding.folds import FoldDesign
from vaxis.decoding.stacking import StackConfig
from vaxis.eeg.synthetic import toy_clips


def test_train_alignment_protocol(targets):
    run = train_alignment(toy_clips(), targets, strategies=["kd_t1", "v_mse"], design=FoldDesign(n_folds=3),
                          seeds=(0, 1), stack=StackConfig(epochs=2, batch_size=128), hidden=8,
                          weights={"kd_t1": (0.1, 1.0)}, vmaps=None, device="cpu")
    # every seed at every weight: label-only + kd_t1 x 2 + v_mse x 3, 2 seeds, 3 folds
    assert len(run.trained) == (1 + 2 + 3) * 2 * 3
    val = run.trained.groupby(["strategy", "fold", "weight"]).val_ba.mean()
    for r in run.chosen.itertuples():   # the weight maximises the mean validation BA over seeds, 0 included
        grid = run.trained[run.trained.strategy == r.strategy].weight.unique()
        cands = {0.0: val[("label-only", r.fold, 0.0)], **{w: val[(r.strategy, r.fold, w)] for w in grid}}
        best = max(cands.values())
        assert r.weight == min(w for w, v in cands.items() if v == best)
    for r in run.forced.itertuples():
        assert r.weight > 0
    # the reported models: every strategy x fold x seed once, at the chosen weight; weight 0 = the label-only model
    assert len(run.final) == 3 * 2 * 3 and run.final.groupby(["strategy", "fold"]).weight.nunique().max() == 1
    lo = run.final[run.final.strategy == "label-only"].set_index(["seed", "fold"]).test_ba
    for r in run.final[(run.final.strategy != "label-only") & (run.final.weight == 0)].itertuples():
        assert r.test_ba == lo[(r.seed, r.fold)]
    for f in run.manifest:
        assert not set(f["test"]) & (set(f["train"]) | set(f["val"]))
