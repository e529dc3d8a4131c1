"""Every decoder: forward -> (n, n_classes), represent -> (n, d), seeded init, vmap-trainable DE decoders."""

from __future__ import annotations

import pytest
import torch

from vaxis.decoding.decoders import DE_DECODERS, DECODERS, RAW_DECODERS, build

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


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_rep_is_logits_matches_behaviour(name):
    """``rep_is_logits`` is True exactly where ``rep_and_logits`` is overridden, and then rep == logits;
    otherwise logits = head(rep) (eval mode, so dropout is off)."""
    from vaxis.decoding.decoders import _Decoder

    cls = DECODERS[name]
    assert isinstance(cls.rep_is_logits, bool)
    assert cls.rep_is_logits == (cls.rep_and_logits is not _Decoder.rep_and_logits)
    m = build(name, n_chans=30, n_bands=5, n_classes=9, n_times=500, sfreq=250, hidden=32, seed=0).eval()
    with torch.no_grad():
        rep, logits = m.rep_and_logits(torch.randn(*SHAPES[cls.input]))
    if cls.rep_is_logits:
        assert torch.equal(rep, logits)
    else:
        assert rep.shape[1] == m.head.in_features and torch.allclose(m.head(rep), logits, atol=1e-5)


def test_aligned_decoder_logit_jacobian_uses_rep_is_logits():
    """The adapter's d logits / d representation equals autograd's, for a rep-is-logits and a head decoder."""
    from vaxis.claims.common.conditions import AlignedDecoder

    for name in ("linear", "mlp"):
        dec = build(name, 30, 5, 9, hidden=8, seed=0).eval()
        ad = AlignedDecoder(dec)
        x = torch.randn(1, 30, 5)
        rep = dec.represent(x).detach().requires_grad_(True)
        logits = rep if dec.rep_is_logits else dec.head(rep)
        jac = torch.stack([torch.autograd.grad(logits[0, k], rep, retain_graph=True)[0][0] for k in range(9)])
        torch.testing.assert_close(ad.logit_jacobian(), jac)
