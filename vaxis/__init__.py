"""vaxis: a runnable account of the shared LLM / EEG valence axis and the saturation regularity.

Sub-packages by stage (see the README's architecture section): :mod:`vaxis.text`, :mod:`vaxis.eeg`,
:mod:`vaxis.decoding`, :mod:`vaxis.claims`, :mod:`vaxis.runs`, :mod:`vaxis.publish`, with :mod:`vaxis.stats` and
:mod:`vaxis.cli` on top. Importing :mod:`vaxis` is cheap; heavy dependencies (torch, transformers, mne) are imported
by the modules that need them. The flat module paths of 0.2 (``vaxis.training``, ...) were removed in 0.4; CHANGELOG.md
lists where each one lives.
"""

__version__ = "0.4.0"

__all__ = ["__version__"]
