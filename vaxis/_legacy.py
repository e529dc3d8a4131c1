"""The module paths of vaxis 0.2 (one flat package), kept importable for one release.

``import vaxis.training`` (or ``from vaxis import training``) warns :class:`DeprecationWarning` and returns the module
that now lives at ``vaxis.decoding.training``: the same module object, registered in :data:`sys.modules` under both
names. :class:`LegacyFinder` (installed on :data:`sys.meta_path` by ``vaxis/__init__.py``) serves the ``import``
statement (and ``python -m vaxis.book``, through the loader's ``get_code``); ``vaxis.__getattr__`` serves attribute
access; both go through :func:`load`. The table goes in 0.4.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

REMOVED_IN = "0.4"

#: old module path -> new module path
MOVED: dict[str, str] = {
    **{f"vaxis.{m}": f"vaxis.text.{m}"
       for m in ("sentences", "llm", "axis", "zeroshot", "agreement", "reference_texts")},
    "vaxis.benchmarks": "vaxis.text.sentiment",
    "vaxis.pipeline": "vaxis.eeg.pipeline",
    **{f"vaxis.{m}": f"vaxis.decoding.{m}"
       for m in ("decoder_base", "decoders", "decoders_raw", "training", "training_data", "stacking", "baselines")},
    **{f"vaxis.{m}": f"vaxis.claims.{m}"
       for m in ("projection", "rediscovery", "probes", "alignment", "alignment_train", "alignment_controls",
                 "alignment_stats", "alignment_jobs", "saturation", "saturation_criteria", "saturation_jobs",
                 "ensemble", "ensemble_jobs", "reference")},
    **{f"vaxis.{m}": f"vaxis.runs.{m}" for m in ("sweep", "executors", "jobs", "cache")},
    **{f"vaxis.{m}": f"vaxis.publish.{m}"
       for m in ("book", "results", "scoreboard", "verdicts", "sitecheck", "plots", "calibration")},
}


def load(old: str):
    """The module that ``old`` names now, after a :class:`DeprecationWarning`; registered under ``old`` too."""
    new = MOVED[old]
    warnings.warn(f"{old} moved to {new}; the old path goes in {REMOVED_IN}", DeprecationWarning, stacklevel=3)
    module = importlib.import_module(new)
    sys.modules[old] = module
    return module


class _AliasLoader(importlib.abc.Loader):
    def create_module(self, spec):
        module = load(spec.name)
        self._spec = module.__spec__                   # the import machinery stamps the alias spec on the module
        return module

    def exec_module(self, module):                     # the new module is already executed; give its spec back
        module.__spec__ = self._spec

    def get_code(self, fullname):
        """``python -m vaxis.book ...`` (runpy asks for code, not a module): the new module's code, after the
        warning."""
        new = MOVED[fullname]
        warnings.warn(f"{fullname} moved to {new}; the old path goes in {REMOVED_IN}", DeprecationWarning,
                      stacklevel=2)
        return importlib.util.find_spec(new).loader.get_code(new)


class LegacyFinder(importlib.abc.MetaPathFinder):
    """Finds the 0.2 paths of :data:`MOVED` and loads each as its new module."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in MOVED:
            return None
        origin = importlib.util.find_spec(MOVED[fullname]).origin      # the file ``python -m`` runs as __main__
        return importlib.util.spec_from_loader(fullname, _AliasLoader(), origin=origin)


def install() -> None:
    """Put one :class:`LegacyFinder` first on :data:`sys.meta_path` (idempotent). First, because it claims only the
    names of :data:`MOVED`, and a finder that knows an older copy of the package (an editable install elsewhere, a
    stale site-packages) must not serve its flat files for them."""
    if not any(isinstance(f, LegacyFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, LegacyFinder())
