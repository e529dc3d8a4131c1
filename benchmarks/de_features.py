"""Benchmark: FACED differential entropy, MNE reference vs vaxis.eeg.features.band_de, side by side.

One FACED-shaped subject (28 clips, 32 channels, 7500 samples at 250 Hz), on white noise and on EEG-like data
(1/f spectrum, alpha peak, large slow drifts and DC offsets, 50 Hz mains). Reference: ``mne.filter.filter_data``
per band on all rows, then DE per 1-s window. "before": the previous band_de (n_fft = 10000, one rfft + one
irfft per band, float64 window variances), kept here verbatim for the ratio. "after": band_de now (n_fft = 8640,
row mean removed, preallocated buffers, float32 window sums). Prints max |diff| in nats and time
ratios; timings on shared machines are noisy, so each is best-of-N wall time, plus CPU time (all threads), and
every ratio is taken within the same run.

Run: ``python benchmarks/de_features.py [--repeats 5]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import fft as sfft

from vaxis.eeg.features import (
    FACED_BANDS,
    _centred_responses,
    _reflect_limited_pad,
    band_de,
    band_de_fft,
    band_de_mne,
    de_from_var,
    design_band_filters,
)


def reference_de(x: np.ndarray, sfreq: float = 250.0) -> np.ndarray:
    """(n_clips, n_chans, n_times) -> (n_clips, n_chans, n_windows, n_bands), FACED's released recipe (MNE)."""
    return band_de_mne(x, sfreq)


def previous_band_de(x: np.ndarray, sfreq: float, chunk_rows: int = 64) -> np.ndarray:
    """band_de before this change (float32, full MNE padding, n_fft = 10000 for FACED), for the 'before' ratio."""
    n_times = x.shape[-1]
    win = int(round(sfreq))
    n_w = n_times // win
    rows = x.reshape(-1, n_times)
    kernels = design_band_filters(sfreq, FACED_BANDS, n_times)
    n_h = max(len(h) for h in kernels)
    n_edge = max(min(n_h, n_times) - 1, 0)
    n_fft = sfft.next_fast_len(n_times + 2 * n_edge + n_h - 1, real=True)
    resp = _centred_responses(kernels, n_fft).astype(np.complex64)
    var = np.empty((rows.shape[0], n_w, len(kernels)))
    for start in range(0, rows.shape[0], chunk_rows):
        chunk = rows[start : start + chunk_rows].astype(np.float64, copy=False)
        spec = sfft.rfft(_reflect_limited_pad(chunk, n_edge).astype(np.float32), n=n_fft, workers=-1)
        for b in range(len(kernels)):
            y = sfft.irfft(spec * resp[b], n=n_fft, workers=-1)[:, n_edge : n_edge + n_w * win]
            var[start : start + len(chunk), :, b] = y.reshape(len(chunk), n_w, win).var(axis=-1, dtype=np.float64)
    return de_from_var(var).reshape(x.shape[:-1] + (n_w, len(kernels)))


def eeg_like(shape: tuple[int, ...], sfreq: float = 250.0, seed: int = 0, drift: float = 50.0,
             mains: float = 5.0) -> np.ndarray:
    """Synthetic EEG-like rows (µV): 1/f power spectrum + alpha peak, a random walk and a 0.05 Hz swing of
    ``drift`` µV, DC offsets up to +-200 µV, and ``mains`` µV of 50 Hz line noise."""
    rng = np.random.default_rng(seed)
    n = shape[-1]
    f = np.fft.rfftfreq(n, 1.0 / sfreq)
    amp = np.zeros_like(f)
    amp[1:] = 1.0 / np.sqrt(f[1:])
    amp += 2.0 * np.exp(-0.5 * ((f - 10.0) / 1.5) ** 2)
    spec = rng.standard_normal(shape[:-1] + f.shape) + 1j * rng.standard_normal(shape[:-1] + f.shape)
    x = np.fft.irfft(spec * amp, n) * np.sqrt(n)
    t = np.arange(n) / sfreq
    ph = rng.uniform(0, 2 * np.pi, shape[:-1] + (1,))
    x += np.cumsum(rng.standard_normal(shape), -1) * 3 * drift / np.sqrt(n)
    x += drift * np.sin(2 * np.pi * 0.05 * t + ph) + rng.uniform(-200, 200, shape[:-1] + (1,))
    return x + mains * np.sin(2 * np.pi * 50.0 * t + 3 * ph)


def best_of(fn, repeats: int) -> tuple[float, float, np.ndarray]:
    """(best wall s, best CPU s over all threads, output)."""
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    sf = 250.0
    data = {"white": np.random.default_rng(0).standard_normal((28, 32, 7500)) * 10.0,
            "EEG-like 1/f + drift": eeg_like((28, 32, 7500), sf, seed=1)}
    band_de(data["white"][:1, :1], sf)  # warm-up: import MNE, design the filters once
    print(f"one FACED subject (28, 32, 7500) @ {sf:g} Hz, best of {args.repeats} (wall; CPU of all threads)")
    for name, x in data.items():
        t_ref, c_ref, ref = best_of(lambda: reference_de(x, sf), max(2, args.repeats // 2))
        runs = {
            "before: previous band_de (float32)": lambda: previous_band_de(x, sf),
            "after: band_de float32 (default)": lambda: band_de(x, sf),
            "after: band_de float64": lambda: band_de(x, sf, precision="float64"),
        }
        print(f"\n[{name}] reference mne.filter.filter_data + DE : {t_ref:7.3f} s wall  {c_ref:7.3f} s CPU")
        for label, fn in runs.items():
            t, c, out = best_of(fn, args.repeats)
            err = np.abs(out - ref).max(axis=(0, 1, 2))
            print(f"  {label:37s}: {t:7.3f} s  ratio {t_ref / t:5.1f}x wall  {c_ref / c:5.1f}x CPU   "
                  f"max |diff| {err.max():.1e} nats (per band {' '.join(f'{e:.0e}' for e in err)})")
    x = data["white"]
    t_ref, _, ref = best_of(lambda: reference_de(x, sf), 1)
    t_fft, _, fft_de = best_of(lambda: band_de_fft(x, sf), args.repeats)
    r = [np.corrcoef(fft_de[..., b].ravel(), ref[..., b].ravel())[0, 1] for b in range(len(FACED_BANDS))]
    print(f"\nplain FFT-periodogram DE (other defn, white): {t_fft:7.3f} s   ratio {t_ref / t_fft:5.1f}x   "
          f"r per band vs filter DE {np.round(r, 3).tolist()}")


if __name__ == "__main__":
    main()
