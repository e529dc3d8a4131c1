"""Benchmark: FACED differential entropy, MNE reference vs vaxis.eeg.features.band_de, side by side.

One FACED-shaped subject (28 clips, 32 channels, 7500 samples at 250 Hz). Reference: ``mne.filter.filter_data``
per band on all rows, then DE per 1-s window. Ours: each band's filter designed once, one batched FFT
convolution. Also the plain FFT-periodogram DE (a different, faster definition). Prints max |diff| in nats and
time ratios (timings on shared machines are noisy: compare the ratios, measured in the same run).

Run: ``python benchmarks/de_features.py [--repeats 3]``
"""

from __future__ import annotations

import argparse
import time

import mne
import numpy as np

from vaxis.eeg.features import FACED_BANDS, band_de, band_de_fft, de_from_var


def reference_de(x: np.ndarray, sfreq: float = 250.0) -> np.ndarray:
    """(n_clips, n_chans, n_times) -> (n_clips, n_chans, n_windows, n_bands), FACED's released recipe."""
    rows = x.reshape(-1, x.shape[-1])
    win = int(sfreq)
    out = []
    for _, lo, hi in FACED_BANDS:
        f = mne.filter.filter_data(rows, sfreq, lo, hi, verbose="error")
        n_w = f.shape[-1] // win
        out.append(de_from_var(f[:, : n_w * win].reshape(len(rows), n_w, win).var(-1)))
    return np.stack(out, -1).reshape(x.shape[:-1] + (n_w, len(FACED_BANDS)))


def best_of(fn, repeats: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    x = np.random.default_rng(0).standard_normal((28, 32, 7500)) * 10.0
    band_de(x[:1, :1], 250.0)  # warm-up: import MNE, design the filters once
    t_ref, ref = best_of(lambda: reference_de(x), args.repeats)
    t_ours, ours = best_of(lambda: band_de(x, 250.0, precision="float64"), args.repeats)
    t_32, ours32 = best_of(lambda: band_de(x, 250.0, precision="float32"), args.repeats)
    t_fft, fft_de = best_of(lambda: band_de_fft(x, 250.0), args.repeats)
    print(f"one FACED subject (28, 32, 7500) @ 250 Hz, best of {args.repeats}")
    print(f"reference mne.filter.filter_data + DE : {t_ref:8.3f} s")
    print(f"vaxis band_de, float64               : {t_ours:8.3f} s   ratio {t_ref / t_ours:6.1f}x   "
          f"max |diff| {np.abs(ours - ref).max():.2e} nats")
    print(f"vaxis band_de, float32 (default)     : {t_32:8.3f} s   ratio {t_ref / t_32:6.1f}x   "
          f"max |diff| {np.abs(ours32 - ref).max():.2e} nats")
    r = [np.corrcoef(fft_de[..., b].ravel(), ref[..., b].ravel())[0, 1] for b in range(len(FACED_BANDS))]
    print(f"plain FFT-periodogram DE (other defn) : {t_fft:8.3f} s   ratio {t_ref / t_fft:6.1f}x   "
          f"r per band vs filter DE {np.round(r, 3).tolist()}")


if __name__ == "__main__":
    main()
