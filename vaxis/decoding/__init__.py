"""EEG decoding: the decoder registry (DE and raw-signal models), subject-disjoint protocols and metrics, per-fold
data views, the stacked trainer, and the DE + SVM baseline. Consumes :mod:`vaxis.eeg`; knows nothing of claims."""
