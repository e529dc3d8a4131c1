"""Band features (DE, PSD), normalisation and LDS smoothing for EEG, batched over channels / clips.

``band_de`` follows FACED's released definition: each band is band-passed with MNE's default FIR design
(``mne.filter.filter_data``: firwin, Hamming window, zero phase, ``reflect_limited`` edge padding), then every
non-overlapping window gets ``DE = 0.5 ln(2 pi e var)`` (population variance, ``ddof=0``). Each band's filter is
designed once with MNE's own :func:`mne.filter.create_filter`; the signal is padded once (MNE's padding, as far
as the widest kernel reads: the result is the same), transformed once, and multiplied by every band's zero-phase
frequency response in one batched FFT convolution (numpy / scipy.fft, or torch.fft on CPU / GPU); ``band_de``
reduces each band to window sums without keeping the band-passed signals.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
from scipy import fft as sfft

from vaxis.eeg.montage import FACED_BANDS

__all__ = [
    "design_band_filters",
    "band_filter",
    "band_de",
    "band_psd",
    "band_de_fft",
    "de_from_var",
    "band_de_mne",
    "normalise",
    "running_normalise",
    "lds_smooth",
]

Bands = Sequence[tuple[str, float, float]]
_LOG2PIE = float(np.log(2 * np.pi * np.e))


def de_from_var(var: np.ndarray) -> np.ndarray:
    """Differential entropy of a Gaussian with variance ``var``: ``0.5 ln(2 pi e var)``."""
    return 0.5 * (_LOG2PIE + np.log(var))


def band_de_mne(x: np.ndarray, sfreq: float, bands: Bands = FACED_BANDS, window_s: float = 1.0) -> np.ndarray:
    """Reference DE: ``mne.filter.filter_data`` per band, then the log variance of each window (FACED's recipe).

    Slow (one MNE filter call per band over every row); :func:`band_de` must match it, and the tests and
    ``benchmarks/de_features.py`` use it as the reference.

    Parameters
    ----------
    x : ndarray, shape (..., n_times)
        Signals (e.g. (n_clips, n_chans, n_times)); filtered in float64.

    Returns
    -------
    ndarray, shape (..., n_windows, n_bands)
    """
    import mne

    rows = np.asarray(x, dtype=float).reshape(-1, np.shape(x)[-1])
    win = int(round(window_s * sfreq))
    out = []
    for _, lo, hi in bands:
        f = mne.filter.filter_data(rows, sfreq, lo, hi, verbose="error")
        n_w = f.shape[-1] // win
        out.append(de_from_var(f[:, : n_w * win].reshape(len(rows), n_w, win).var(-1)))
    return np.stack(out, -1).reshape(np.shape(x)[:-1] + (n_w, len(bands)))


def design_band_filters(sfreq: float, bands: Bands = FACED_BANDS, n_times: int | None = None) -> list[np.ndarray]:
    """One FIR kernel per band, exactly as ``mne.filter.filter_data(..., l_freq=lo, h_freq=hi)`` designs it."""
    key = (float(sfreq), tuple((str(n), float(lo), float(hi)) for n, lo, hi in bands), n_times)
    return [h.copy() for h in _design_cached(*key)]


@functools.lru_cache(maxsize=32)
def _design_cached(sfreq: float, bands: tuple, n_times: int | None) -> tuple[np.ndarray, ...]:
    import mne

    dummy = None if n_times is None else np.zeros((1, n_times))
    return tuple(
        np.asarray(mne.filter.create_filter(dummy, sfreq, lo, hi, verbose="error"), dtype=np.float64)
        for _, lo, hi in bands
    )


def _reflect_limited_pad(x: np.ndarray, n_pad: int) -> np.ndarray:
    """MNE's ``reflect_limited`` padding of the last axis (odd reflection, then zeros past the signal length)."""
    if n_pad == 0:
        return x
    n_times = x.shape[-1]
    zeros = np.zeros(x.shape[:-1] + (max(n_pad - n_times + 1, 0),), dtype=x.dtype)
    left = 2 * x[..., :1] - x[..., n_pad:0:-1]
    right = 2 * x[..., -1:] - x[..., -2 : -n_pad - 2 : -1]
    return np.concatenate([zeros, left, x, right, zeros], axis=-1)


def _centred_responses(kernels: list[np.ndarray], n_fft: int) -> np.ndarray:
    """rFFT of each kernel rolled so that its centre tap sits at lag 0 (zero phase), shape (n_bands, n_fft//2+1)."""
    out = []
    for h in kernels:
        buf = np.zeros(n_fft)
        buf[: len(h)] = h
        out.append(sfft.rfft(np.roll(buf, -((len(h) - 1) // 2))))
    return np.stack(out)


def band_filter(
    x: np.ndarray,
    sfreq: float,
    bands: Bands = FACED_BANDS,
    backend: str = "numpy",
    device: str = "cpu",
    chunk_rows: int = 256,
    precision: str = "float64",
) -> np.ndarray:
    """Band-pass ``x`` into every band at once (MNE ``filter_data`` defaults).

    Parameters
    ----------
    x : ndarray, shape (..., n_times)
    sfreq : float
        Sampling frequency in Hz.
    bands : sequence of (name, lo, hi), length n_bands
    backend : {"numpy", "torch"}
    device : str
        Torch device when ``backend="torch"`` ("auto" = CUDA if present).
    chunk_rows : int
        Rows transformed together (bounds memory).
    precision : {"float64", "float32"}
        float32 halves memory traffic (about 2x faster); DE differs from float64 by ~1e-6 nats.

    Returns
    -------
    ndarray, shape (..., n_bands, n_times), float64
    """
    x = np.asarray(_check_signal(x, sfreq), dtype=np.float64)
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError(f"x must have shape (..., n_times) with n_times >= 2, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("x contains NaN or Inf")
    lead, n_times = x.shape[:-1], x.shape[-1]
    rows = x.reshape(-1, n_times)
    kernels = design_band_filters(sfreq, bands, n_times)
    n_h = max(len(h) for h in kernels)
    n_edge = max(min(n_h, n_times) - 1, 0)
    n_fft = sfft.next_fast_len(n_times + 2 * n_edge + n_h - 1, real=True)
    dt = np.dtype(precision)
    resp = _centred_responses(kernels, n_fft).astype(np.complex64 if dt == np.float32 else np.complex128)
    out = np.empty((rows.shape[0], len(kernels), n_times), dtype=dt)
    if backend == "torch":
        import torch

        dev = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        resp_t = torch.as_tensor(resp, device=dev)
    for start in range(0, rows.shape[0], chunk_rows):
        padded = _reflect_limited_pad(rows[start : start + chunk_rows], n_edge).astype(dt, copy=False)
        if backend == "torch":
            xt = torch.as_tensor(padded, device=dev)
            spec = torch.fft.rfft(xt, n=n_fft)
            y = torch.fft.irfft(spec[:, None, :] * resp_t[None], n=n_fft)
            out[start : start + chunk_rows] = y[..., n_edge : n_edge + n_times].cpu().numpy()
        elif backend == "numpy":
            spec = sfft.rfft(padded, n=n_fft, workers=-1)
            y = sfft.irfft(spec[:, None, :] * resp[None], n=n_fft, workers=-1)
            out[start : start + chunk_rows] = y[..., n_edge : n_edge + n_times]
        else:
            raise ValueError(f"backend must be 'numpy' or 'torch', got {backend!r}")
    return out.reshape(lead + (len(kernels), n_times))


def _check_signal(x, sfreq: float, window_s: float | None = None) -> np.ndarray:
    """Validate a signal argument and the sampling settings; returns ``x`` as a real numeric array."""
    x = np.asarray(x)
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"x must be a real numeric array of shape (..., n_times), found dtype {x.dtype}")
    for name, val, unit in (("sfreq", sfreq, "Hz"), ("window_s", window_s, "seconds")):
        if name == "window_s" and val is None:
            continue
        try:
            ok = bool(np.isfinite(float(val)) and float(val) > 0)
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{name} must be a positive number of {unit}, got {val!r}")
    return x


def _windowed(x: np.ndarray, sfreq: float, window_s: float) -> np.ndarray:
    """(..., n_times) -> (..., n_windows, win); the incomplete tail window is dropped."""
    win = int(round(window_s * sfreq))
    n_w = x.shape[-1] // win
    if n_w < 1:
        raise ValueError(f"n_times={x.shape[-1]} is shorter than one {window_s:g}-s window ({win} samples)")
    return x[..., : n_w * win].reshape(x.shape[:-1] + (n_w, win))


@functools.lru_cache(maxsize=16)
def _de_plan(sfreq: float, bands: tuple, n_times: int, precision: str) -> tuple[int, int, int, np.ndarray]:
    """Padding, widest half-width, FFT length and zero-phase responses of :func:`band_de` (cached)."""
    kernels = _design_cached(sfreq, bands, n_times)
    hw = max((len(h) - 1) // 2 for h in kernels)
    # A centred kernel of half-width hw only reads hw samples either side of each output: MNE pads by
    # min(n_h, n_times) - 1 >= min(hw, n_times - 1) samples, the rest of its padding is never read, and the FFT
    # only has to hold signal + both halves of the widest kernel without wrapping into the kept samples.
    p = min(hw, n_times - 1)
    n_fft = sfft.next_fast_len(n_times + p + hw, real=True)
    resp = _centred_responses(list(kernels), n_fft)
    return p, hw, n_fft, resp.astype(np.complex64 if precision == "float32" else np.complex128)


def band_de(
    x: np.ndarray,
    sfreq: float,
    bands: Bands = FACED_BANDS,
    window_s: float = 1.0,
    backend: str = "numpy",
    device: str = "cpu",
    precision: str = "float32",
    chunk_rows: int = 64,
) -> np.ndarray:
    """FACED differential entropy per band and non-overlapping window.

    Each band's FIR kernel is designed once (MNE's own ``create_filter``, as ``filter_data`` does). The signal,
    row mean removed (a constant shifts ``y`` by ``H(0)`` times it: window variances are unchanged), is padded
    as MNE pads it (``reflect_limited``) but only as far as the widest centred kernel reads (its half-width:
    MNE's longer padding is never read for the kept samples), so the FFT is shorter (8640 instead of 10000 for
    FACED), transformed once (``rfft``), and every band is reduced to per-window sums of ``y`` and ``y**2``:

    one inverse FFT of ``X * H`` per band at full rate, window sums of ``y`` and ``y**2`` in the time domain
    (float32 sums, float64 variances). Equal to MNE's ``filter_data`` up to float rounding (~1e-6 nats in
    float32, ~1e-14 in float64, white or 1/f data with large drifts). About 80% of the time is the
    1 + n_bands FFTs of length 8640 (benchmarks/de_features.py).

    A spectral route for the narrow low bands (keep bins where ``|H| >= 5e-4``, sample ``y`` on a short grid,
    exact window sums of ``y**2`` through Dirichlet kernels) was measured and not kept: MNE's Hamming-window
    sidelobes decay only like ``1/f``, so delta still needs bins up to ~20 Hz and ``y**2`` twice that; it saved
    at most ~20% CPU single-threaded (none with threaded BLAS on a loaded machine) and erred by 7e-5 nats on
    white noise and 2.3e-4 nats with 200 µV of 50 Hz mains.

    ``precision="float32"`` (default) runs the FFTs in single precision: the DE differs from float64 by
    ~1e-6 nats (the benchmark prints it). Window variances are formed in float64.

    Parameters
    ----------
    x : ndarray, shape (..., n_times)
        Signal (e.g. (n_clips, n_chans, n_times) in µV at 250 Hz).
    sfreq : float
    bands : sequence of (name, lo, hi), length n_bands
    window_s : float
        Window length in seconds; windows start at sample 0, an incomplete tail is dropped.
    backend : {"numpy", "torch"}
        ``torch`` runs the exact computation through :func:`band_filter` on ``device`` (CPU or CUDA).
    precision : {"float32", "float64"}
    chunk_rows : int
        Rows transformed together (bounds memory).

    Returns
    -------
    ndarray, shape (..., n_windows, n_bands), float64
    """
    _check_signal(x, sfreq, window_s)
    if backend != "numpy":
        filt = band_filter(x, sfreq, bands, backend=backend, device=device, precision=precision)
        seg = _windowed(filt, sfreq, window_s).astype(np.float64)  # (..., n_bands, n_windows, win)
        return np.swapaxes(de_from_var(seg.var(axis=-1)), -1, -2)
    if precision not in ("float32", "float64"):
        raise ValueError(f"precision must be 'float32' or 'float64', got {precision!r}")
    x = np.asarray(x)
    if x.ndim < 1 or x.shape[-1] < 2:
        raise ValueError(f"x must have shape (..., n_times) with n_times >= 2, got {x.shape}")
    dt = np.dtype(precision)
    lead, n_times = x.shape[:-1], x.shape[-1]
    win = int(round(window_s * sfreq))
    n_w = n_times // win
    if n_w < 1:
        raise ValueError(f"n_times={n_times} is shorter than one {window_s:g}-s window ({win} samples)")
    key = tuple((str(n), float(lo), float(hi)) for n, lo, hi in bands)
    p, hw, n_fft, resp = _de_plan(float(sfreq), key, n_times, precision)
    # Removing the row mean is exact only if no kernel reads past MNE's padding (whose zeros would see the
    # shift): p == the widest half-width, i.e. n_times > hw (412 samples for FACED at 250 Hz).
    shift_free = p == hw
    rows = x.reshape(-1, n_times)
    n_rows, n_b, n_keep = rows.shape[0], len(resp), n_w * win
    s1 = np.empty((n_rows, n_b, n_w))
    s2 = np.empty((n_rows, n_b, n_w))
    n_c = min(chunk_rows, n_rows)
    buf = np.zeros((n_c, n_fft), dtype=dt)  # zeros past the padding stay zero
    work = np.empty((n_c, n_fft // 2 + 1), dtype=np.complex64 if dt == np.float32 else np.complex128)
    for start in range(0, n_rows, chunk_rows):
        chunk = rows[start : start + chunk_rows]
        c = len(chunk)
        mean = chunk.mean(axis=-1, keepdims=True, dtype=np.float64)
        if not np.all(np.isfinite(mean)):  # a NaN / Inf anywhere in a row reaches its mean
            raise ValueError("x contains NaN or Inf")
        b0, sig = buf[:c], buf[:c, p : p + n_times]
        if shift_free:  # a constant shifts y by H(0) * constant: window variances are unchanged
            np.subtract(chunk, mean, out=sig, casting="unsafe")  # before the float32 cast: offsets cost no bits
        else:
            sig[...] = chunk
        if p:  # MNE's reflect_limited padding (odd reflection), only as far as any kernel reads
            b0[:, :p] = 2 * sig[:, :1] - sig[:, p:0:-1]
            b0[:, p + n_times : 2 * p + n_times] = 2 * sig[:, -1:] - sig[:, -2 : -p - 2 : -1]
        spec = sfft.rfft(b0, workers=-1)
        for b in range(n_b):
            np.multiply(spec, resp[b], out=work[:c])
            y = sfft.irfft(work[:c], n=n_fft, workers=-1, overwrite_x=True)
            seg = y[:, p : p + n_keep].reshape(c, n_w, win)
            s1[start : start + c, b] = seg.sum(axis=-1)
            s2[start : start + c, b] = np.einsum("rwl,rwl->rw", seg, seg)
    mean_w = s1 / win
    var = np.maximum(s2 / win - mean_w * mean_w, 0.0)
    with np.errstate(divide="ignore"):
        de = de_from_var(var)
    return np.swapaxes(de, -1, -2).reshape(lead + (n_w, n_b))


def _periodogram(x: np.ndarray, sfreq: float, window_s: float, taper: str) -> tuple[np.ndarray, np.ndarray]:
    seg = _windowed(np.asarray(x, dtype=np.float64), sfreq, window_s)
    win = seg.shape[-1]
    w = np.hanning(win) if taper == "hann" else np.ones(win)
    spec = np.abs(sfft.rfft((seg - seg.mean(-1, keepdims=True)) * w, axis=-1, workers=-1)) ** 2
    psd = spec / (sfreq * np.sum(w**2))
    psd[..., 1:] *= 2  # one-sided density (the Nyquist bin is doubled too: negligible for these bands)
    return np.fft.rfftfreq(win, 1.0 / sfreq), psd


def band_psd(x: np.ndarray, sfreq: float, bands: Bands = FACED_BANDS, window_s: float = 1.0,
             taper: str = "hann") -> np.ndarray:
    """SEED-style band power: mean one-sided PSD (units^2/Hz) over FFT bins ``lo <= f < hi`` per window.

    SEED / SEED-V compute band features from a short-time Fourier transform with a Hanning window over
    non-overlapping windows (1 s in SEED, 4 s in SEED-V); this is that variant.

    Returns
    -------
    ndarray, shape (..., n_windows, n_bands)
    """
    f, psd = _periodogram(x, sfreq, window_s, taper)
    return np.stack([psd[..., (f >= lo) & (f < hi)].mean(-1) for _, lo, hi in bands], axis=-1)


def band_de_fft(x: np.ndarray, sfreq: float, bands: Bands = FACED_BANDS, window_s: float = 1.0) -> np.ndarray:
    """DE from a plain FFT periodogram: ``0.5 ln(2 pi e P_band)``, ``P_band`` = PSD summed over the band times df.

    Fast but not FACED's definition (no FIR filter; poor in delta/theta on 1-s windows).

    Returns
    -------
    ndarray, shape (..., n_windows, n_bands)
    """
    f, psd = _periodogram(x, sfreq, window_s, "boxcar")
    df = f[1] - f[0]
    power = np.stack([psd[..., (f >= lo) & (f < hi)].sum(-1) * df for _, lo, hi in bands], axis=-1)
    return de_from_var(np.maximum(power, 1e-30))


# Normalisation and LDS smoothing live in vaxis.eeg.normalise; re-exported here for one import point.
from vaxis.eeg.normalise import lds_smooth, normalise, running_normalise  # noqa: E402
