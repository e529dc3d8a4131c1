"""Training supervised conditions (vaxis.claims.common.conditions): one model equals the stack, weight 0 is the
label-only model bit for bit, topographic models train in their own stack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from vaxis.claims.common.conditions import train_conditions
from vaxis.claims.common.strategies import N_HEAD, STRATEGIES, AlignmentLoss, split
from vaxis.decoding.folds import make_manifest
from vaxis.decoding.stacking import StackConfig
from vaxis.decoding.training_data import prepare
from vaxis.eeg.synthetic import toy_clips


def test_single_equals_stacked(targets):
    torch.manual_seed(1)
    strats = [STRATEGIES["rsa_geometry"]] * 2 + [None] + [STRATEGIES["v_mse"]] * 2
    loss = AlignmentLoss(strats, [0.3, 1.0, 0.0, 0.1, 0.5], targets, d=8)
    rep, logits, y = torch.randn(5, 27, 8 + N_HEAD + 4), torch.randn(5, 27, 9), torch.randint(0, 9, (5, 27))
    out = loss(rep, logits, y, None, torch.arange(5))
    single = torch.stack([loss(rep[m], logits[m], y[m], None, m) for m in range(5)])
    torch.testing.assert_close(out, single)
    assert float(out[2]) == 0.0
    assert split(rep, 8)[1].shape == (5, 27, N_HEAD)
    with pytest.raises(ValueError):
        AlignmentLoss([STRATEGIES["v_mse"]], [1.0], targets, d=None)


def test_weight_zero_is_label_only_bit_for_bit(targets):
    view = prepare(toy_clips(), input="window")
    man = make_manifest(view.subject_ids, k=3)
    names = ["label-only", *[n for n, s in STRATEGIES.items() if s.needs != "params"]]
    cond = pd.DataFrame({"strategy": names + ["v_mse"], "weight": [0.0] * len(names) + [1.0], "seed": 0, "fold": 0})
    cfg = StackConfig(epochs=3, batch_size=64, patience=5)
    _, st = train_conditions(view, man, "mlp", cond, targets, [targets.vmap] * 3, cfg, hidden=8, device="cpu")
    dec = [k for k in st["params"] if k.startswith("m.")]
    for m in range(1, len(names)):
        for k in dec:
            assert torch.equal(st["params"][k][m], st["params"][k][0]), (names[m], k)
    assert not torch.equal(st["params"]["m.fc1.weight"][-1], st["params"]["m.fc1.weight"][0])   # weight > 0 moves


def test_topographic_models_train_in_their_own_stack(targets):
    """A stack mixing topographic and other strategies is split in two; rows keep their order and scores."""
    view = prepare(toy_clips(), input="window")
    man = make_manifest(view.subject_ids, k=3)
    cond = pd.DataFrame({"strategy": ["label-only", "topo_smooth", "v_mse", "topo_vmap"], "weight": [0, 1.0, 0.3, 0.3],
                         "seed": 0, "fold": 0})
    cfg = StackConfig(epochs=2, batch_size=64, patience=5)
    out, st = train_conditions(view, man, "mlp", cond, targets, [targets.vmap] * 3, cfg, hidden=8, device="cpu")
    assert list(out.strategy) == list(cond.strategy) and len(st["parts"]) == 2
    assert [m.tolist() for m in st["masks"]] == [[True, False, True, False], [False, True, False, True]]
    alone, _ = train_conditions(view, man, "mlp", cond.iloc[[1, 3]], targets, [targets.vmap] * 3, cfg, hidden=8,
                                device="cpu")
    np.testing.assert_allclose(out.test_ba.iloc[[1, 3]].to_numpy(), alone.test_ba.to_numpy())
    assert all(len(b) == len(man[0]["test"]) for b in out.subject_ba)



@pytest.mark.parametrize("stem", ["06", "07"])
def test_chapters_6_and_7_train_with_the_condition_defaults(stem):
    """Chapters 6 and 7 take their training defaults from CONDITION_STACK (one place; their jobs default to it), and
    the jobs' fold design is FoldDesign's."""
    import ast
    from pathlib import Path

    from vaxis.claims.alignment.jobs import AlignmentJob
    from vaxis.claims.common.conditions import CONDITION_STACK
    from vaxis.claims.saturation.jobs import SaturationJob
    from vaxis.decoding.folds import FoldDesign

    src = next((Path(__file__).resolve().parents[3] / "notebooks").glob(f"{stem}_*.py")).read_text()
    cell = src.split('# %% tags=["parameters"]\n', 1)[1].split("\n# %%", 1)[0]
    params = {n.targets[0].id: ast.literal_eval(n.value) for n in ast.parse(cell).body
              if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)}
    for name in ("epochs", "patience", "batch_size", "lr"):
        assert params[name] == getattr(CONDITION_STACK, name), (stem, name)
    for job in (AlignmentJob(), SaturationJob()):
        assert job.stack == CONDITION_STACK and job.design == FoldDesign()
        assert type(job).from_config(job.config()) == job                  # nested dataclasses survive JSON
