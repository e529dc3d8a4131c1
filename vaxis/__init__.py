"""vaxis: a runnable account of the shared LLM / EEG valence axis and the saturation regularity.

Sub-packages by stage (see the README's architecture section): :mod:`vaxis.text`, :mod:`vaxis.eeg`,
:mod:`vaxis.decoding`, :mod:`vaxis.claims`, :mod:`vaxis.runs`, :mod:`vaxis.publish`, with :mod:`vaxis.stats` and
:mod:`vaxis.cli` on top. Importing :mod:`vaxis` is cheap; heavy dependencies (torch, transformers, mne) are imported
by the modules that need them. The flat module paths of 0.2 (``vaxis.training``, ...) still import, with a
:class:`DeprecationWarning`, as the same module objects (:mod:`vaxis._legacy`); they go in 0.4.
"""

from vaxis import _legacy

__version__ = "0.3.0"

__all__ = ["__version__"]

_legacy.install()


def __getattr__(name: str):
    """``from vaxis import training`` (a 0.2 path): the moved module, after a :class:`DeprecationWarning`."""
    if f"vaxis.{name}" in _legacy.MOVED:
        return _legacy.load(f"vaxis.{name}")
    raise AttributeError(f"module 'vaxis' has no attribute {name!r}")
