"""vaxis: a runnable account of the shared LLM / EEG valence axis and the saturation regularity.

The package is flat: one noun-named module per concern (see the README's architecture section).
Importing :mod:`vaxis` is cheap; heavy dependencies (torch, transformers, mne) are imported by
the modules that need them.
"""

__version__ = "0.2.0"

__all__ = ["__version__"]
