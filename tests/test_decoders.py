"""Every decoder: forward -> (n, n_classes), represent -> (n, d), seeded init, vmap-trainable DE decoders."""

from __future__ import annotations

import pytest
import torch

from vaxis.decoders import DE_DECODERS, DECODERS, RAW_DECODERS, build

SHAPES = {"window": (5, 30, 5), "sequence": (5, 30, 30, 5), "raw": (5, 30, 500)}


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_forward_and_represent_shapes(name):
    m = build(name, n_chans=30, n_bands=5, n_classes=9, n_times=500, sfreq=250, hidden=32, seed=0).eval()
    x = torch.randn(*SHAPES[DECODERS[name].input])
    logits, rep = m(x), m.represent(x)
    assert logits.shape == (5, 9)
    assert rep.ndim == 2 and rep.shape[0] == 5
    assert torch.isfinite(logits).all() and torch.isfinite(rep).all()
    if name != "linear":      # the logit layer reads the representation
        assert torch.allclose(m.head(rep), logits, atol=1e-5)


@pytest.mark.parametrize("name", sorted(DE_DECODERS))
def test_seeded_init_is_deterministic_and_differs_across_seeds(name):
    a, b, c = (build(name, 30, 5, 9, seed=s).state_dict() for s in (3, 3, 4))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point() and a[k].numel() > 1)


def test_small_montage_grid_and_binary_head():
    m = build("grid_cnn", n_chans=7, n_bands=5, n_classes=2, seed=0)
    assert m(torch.randn(3, 7, 5)).shape == (3, 2)


def test_registry_has_required_families():
    assert len(DE_DECODERS) >= 6 and len(RAW_DECODERS) >= 3
    assert {DECODERS[n].input for n in DE_DECODERS} == {"window", "sequence"}
    for cls in DECODERS.values():
        assert "(19" in cls.__doc__ or "(20" in cls.__doc__, f"{cls.__name__} docstring must cite its paper"


def test_raw_decoder_needs_sampling_info():
    with pytest.raises(ValueError):
        build("eegnet", 30, 5, 9)
