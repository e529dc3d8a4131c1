"""Band features vs MNE, normalisation (train-only ignores held-out data), LDS vs a plain loop, montage."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from _lds_reference import plain_lds
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from vaxis.eeg.features import (  # noqa: E402
    FACED_BANDS,
    band_de,
    band_de_fft,
    band_de_mne,
    band_psd,
    lds_smooth,
    normalise,
    running_normalise,
)
from vaxis.eeg.montage import FACED_EEG_CHANNELS, faced_info, plot_topomap_bands  # noqa: E402


def test_band_de_matches_mne_faced_shape():
    x = np.random.default_rng(0).standard_normal((2, 3, 2500)) * 20
    ours = band_de(x, 250.0)
    assert ours.shape == (2, 3, 10, 5)
    assert np.abs(ours - band_de_mne(x, 250.0)).max() < 1e-3


@settings(max_examples=12, deadline=None)
@given(lead=st.lists(st.integers(1, 3), min_size=0, max_size=2), n_times=st.integers(130, 1400),
       sfreq=st.sampled_from([128.0, 200.0, 250.0]), seed=st.integers(0, 2**16))
def test_band_de_property_random_shapes(lead, n_times, sfreq, seed):
    x = np.random.default_rng(seed).standard_normal(tuple(lead) + (n_times,))
    if n_times < sfreq:
        with pytest.raises(ValueError, match="shorter than one"):
            band_de(x, sfreq)
        return
    bands = [b for b in FACED_BANDS if b[2] < sfreq / 2]
    ours = band_de(x, sfreq, bands)
    assert ours.shape == tuple(lead) + (int(n_times // sfreq), len(bands))
    assert np.abs(ours - band_de_mne(x, sfreq, bands)).max() < 1e-3


def _eeg_like(shape, sfreq, seed, drift=50.0, offset=200.0, mains=5.0):
    """1/f power spectrum + alpha peak, random walk + 0.05 Hz swing of ``drift`` µV, DC offsets, 50 Hz mains."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    amp = np.zeros_like(f)
    amp[1:] = 1.0 / np.sqrt(f[1:])
    amp += 2.0 * np.exp(-0.5 * ((f - 10.0) / 1.5) ** 2)
    x = np.fft.irfft((rng.standard_normal(shape[:-1] + f.shape) + 1j * rng.standard_normal(shape[:-1] + f.shape))
                     * amp, n) * np.sqrt(n)
    t = np.arange(n) / sfreq
    x += np.cumsum(rng.standard_normal(shape), -1) * 3 * drift / np.sqrt(n) + drift * np.sin(2 * np.pi * 0.05 * t)
    x += rng.uniform(-offset, offset, shape[:-1] + (1,))
    return x + mains * np.sin(2 * np.pi * min(50.0, 0.4 * sfreq) * t)


@pytest.mark.parametrize("sfreq,n_times", [(250.0, 7500), (250.0, 300), (200.0, 2345), (128.0, 1000)])
def test_band_de_matches_mne_on_eeg_like_1f_drift(sfreq, n_times):
    """Realistic spectrum: power concentrated at low frequencies and a drift ~10x the band amplitudes."""
    x = _eeg_like((2, 3, n_times), sfreq, seed=int(sfreq) + n_times)
    bands = [b for b in FACED_BANDS if b[2] < sfreq / 2]
    ref = band_de_mne(x, sfreq, bands)
    assert np.isfinite(ref).all()
    np.testing.assert_allclose(band_de(x, sfreq, bands, precision="float64"), ref, rtol=0, atol=1e-9)
    assert np.abs(band_de(x, sfreq, bands) - ref).max() < 1e-4  # float32 FFTs (default)


def test_band_de_float32_survives_large_dc_offset():
    # a 1e5 µV offset in float32 would leave ~1e-2 µV of rounding in the FFT; removing the row mean first
    # (variances are shift-invariant) keeps the default within 1e-4 nats of MNE
    x = _eeg_like((4, 2000), 250.0, seed=7, offset=1e5)
    ref = band_de_mne(x, 250.0)
    assert np.abs(band_de(x, 250.0) - ref).max() < 1e-4
    assert np.abs(band_de(x.astype(np.float32), 250.0) - band_de_mne(x.astype(np.float32), 250.0)).max() < 1e-4


def test_band_de_torch_backend_and_bad_input():
    x = np.random.default_rng(1).standard_normal((2, 500))
    np.testing.assert_allclose(band_de(x, 250.0, backend="torch", precision="float64"),
                               band_de(x, 250.0, precision="float64"), atol=1e-9)
    np.testing.assert_allclose(band_de(x, 250.0), band_de(x, 250.0, precision="float64"), atol=1e-4)
    x[0, 3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        band_de(x, 250.0)


def test_band_psd_and_fft_de_on_sinusoid():
    t = np.arange(500) / 250.0
    x = 3.0 * np.sin(2 * np.pi * 10 * t)  # alpha only, variance 4.5
    psd = band_psd(x, 250.0)
    assert psd.shape == (2, 5) and np.argmax(psd[0]) == 2
    de = band_de_fft(x, 250.0)
    assert abs(de[0, 2] - 0.5 * np.log(2 * np.pi * np.e * 4.5)) < 1e-6
    assert abs(band_de(x, 250.0)[0, 2] - de[0, 2]) < 0.05


def test_train_only_ignores_planted_heldout_shift():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 4, 3, 5, 2))
    train = np.array([0, 1, 2, 3])
    shifted = x.copy()
    shifted[4:] += 100.0  # planted shift in held-out subjects only
    a, b = normalise(x, "train-only", train_subjects=train), normalise(shifted, "train-only", train_subjects=train)
    np.testing.assert_allclose(a[:4], b[:4], atol=1e-6)  # training subjects untouched by held-out data
    tr = x[train]
    mu, sd = tr.mean(axis=(0, 1, 3)), tr.std(axis=(0, 1, 3))
    np.testing.assert_allclose(a[5], ((x[5] - mu[None, :, None, :]) / sd[None, :, None, :]), rtol=1e-5, atol=1e-5)
    assert b[4:].mean() > 50  # the shift survives: it is not normalised away with test statistics
    p = normalise(shifted, "per-subject")
    np.testing.assert_allclose(p.mean(axis=(1, 3)), 0, atol=1e-5)
    with pytest.raises(ValueError, match="train_subjects"):
        normalise(x, "train-only")


def test_running_normalise_matches_loop():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 2, 4, 2)) + 5
    out = running_normalise(x, decay=0.9, train_subjects=[0])
    seq = x[1].transpose(0, 2, 1, 3).reshape(12, 4)
    prior = x[0].transpose(0, 2, 1, 3).reshape(12, 4)
    pm, pv = prior.mean(0), prior.var(0)
    exp = np.empty_like(seq)
    for k in range(12):
        rm, rv = seq[: k + 1].mean(0), seq[: k + 1].var(0)
        d = 0.9**k
        exp[k] = (seq[k] - (d * pm + (1 - d) * rm)) / np.sqrt(d * pv + (1 - d) * rv + 1e-5)
    np.testing.assert_allclose(out[1].transpose(0, 2, 1, 3).reshape(12, 4), exp, rtol=1e-4, atol=1e-5)



def test_lds_restart_per_clip_vs_across():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 10, 5))
    per_clip = lds_smooth(x)
    np.testing.assert_allclose(per_clip[1, 2, 3, :, 4], plain_lds(x[1, 2, 3, :, 4]), atol=1e-12)
    across = lds_smooth(x, restart_at_clip=False)
    seq = x[0, :, 1, :, 2].reshape(-1)  # clips concatenated in index order
    np.testing.assert_allclose(across[0, :, 1, :, 2].reshape(-1), plain_lds(seq), atol=1e-12)
    assert not np.allclose(across, per_clip)


def test_montage_and_topomap():
    info = faced_info()
    assert info["nchan"] == 30 and info.get_montage() is not None
    w = np.random.default_rng(0).standard_normal((30, 5))
    fig = plot_topomap_bands(w, title="t")
    assert len([a for a in fig.axes if a.get_title().startswith(("delta", "gamma"))]) == 2
    with pytest.raises(ValueError, match="shape"):
        plot_topomap_bands(w[:, :4])
    assert FACED_EEG_CHANNELS[-1] == "O2"
