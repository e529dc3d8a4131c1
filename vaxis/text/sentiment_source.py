"""Which sentiment data a run reads, and how a page names it (re-exported by :mod:`vaxis.text.sentiment`).

The data root is, in order: the ``data_dir`` argument; ``$VAXIS_SENTIMENT_DIR``; the shared offline copies
``../shared/data/sentiment`` next to the repository; the full benchmarks that ``vaxis data fetch sentiment`` put in
the cache (``<cache>/data/sentiment``, see :mod:`vaxis.text.fetch`); else the **embedded sample** shipped with the
package (``vaxis/data/sentiment_sample``: 100 positive + 100 negative texts per benchmark, plus neutrals for the
graded ones; origin and licence in its README). A run on the embedded sample says so on its page
(:meth:`SentimentSource.banner`), as the EEG chapters flag a synthetic cohort.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vaxis.runs.cache import cache_root

__all__ = ["EMBEDDED_DIR", "SHARED_DIR", "FETCH_STAMP", "SentimentSource", "fetched_dir", "sentiment_source",
           "resolve_sentiment_dir"]

#: the sample shipped as package data; its README starts with ``EMBEDDED SAMPLE``
EMBEDDED_DIR = Path(__file__).resolve().parents[1] / "data" / "sentiment_sample"
#: the shared offline copies of the full benchmarks (CI and the project's machines)
SHARED_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "sentiment"
#: written last into a fetched folder, so that only a complete fetch is ever found
FETCH_STAMP = "FETCHED.json"

_KINDS = {
    "argument": "sentiment benchmarks from the folder given",
    "env": "sentiment benchmarks from $VAXIS_SENTIMENT_DIR",
    "shared": "sentiment benchmarks (full offline copies, ../shared/data/sentiment)",
    "fetched": "sentiment benchmarks (full, fetched by `vaxis data fetch sentiment` into the cache)",
    "embedded": "EMBEDDED SAMPLE of the sentiment benchmarks (100 positive + 100 negative texts each, shipped with "
                "vaxis; not the full sets)",
}


def fetched_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``vaxis data fetch sentiment`` puts the full benchmarks: ``<cache root>/data/sentiment``."""
    return cache_root(cache_dir) / "data" / "sentiment"


@dataclass(frozen=True)
class SentimentSource:
    """A sentiment data root and how it was chosen (``kind``: one of ``argument``, ``env``, ``shared``,
    ``fetched``, ``embedded``)."""

    root: Path
    kind: str

    @property
    def embedded(self) -> bool:
        """Whether this is the embedded sample (a folder whose README starts with ``EMBEDDED SAMPLE`` counts too)."""
        if self.kind == "embedded":
            return True
        readme = self.root / "README.md"
        return readme.is_file() and readme.read_text(encoding="utf-8", errors="ignore").startswith("EMBEDDED SAMPLE")

    @property
    def tag(self) -> str:
        """Short label for tables and results: ``EMBEDDED SAMPLE`` or the kind of full copy."""
        return "EMBEDDED SAMPLE" if self.embedded else {"fetched": "fetched full benchmarks",
                                                          "shared": "full offline copies"}.get(self.kind, "folder")

    def describe(self) -> str:
        """One line naming the data without the machine's path: what it is and the folder's name."""
        what = _KINDS["embedded"] if self.embedded else _KINDS[self.kind]
        return f"{what} (folder '{self.root.name}')"

    def banner(self) -> str:
        """The loud warning a page prints when it reads the embedded sample ('' otherwise)."""
        if not self.embedded:
            return ""
        return ("*** EMBEDDED SAMPLE: every number below comes from a 200-text sample per benchmark shipped with "
                "vaxis, not from the full benchmarks (`vaxis data fetch sentiment` gets those). ***")


def sentiment_source(data_dir: str | os.PathLike | None = None,
                     cache_dir: str | os.PathLike | None = None) -> SentimentSource:
    """The data root a run reads and why (order in the module docstring); never fails: the embedded sample is last.

    A ``data_dir`` or ``$VAXIS_SENTIMENT_DIR`` is returned as given even if it does not exist (the readers then name
    the missing file); the fetched copy counts only once its :data:`FETCH_STAMP` is written.
    """
    if data_dir is not None:
        return SentimentSource(Path(data_dir).expanduser(), "argument")
    env = os.environ.get("VAXIS_SENTIMENT_DIR")
    if env:
        return SentimentSource(Path(env).expanduser(), "env")
    if SHARED_DIR.is_dir():
        return SentimentSource(SHARED_DIR, "shared")
    fetched = fetched_dir(cache_dir)
    if (fetched / FETCH_STAMP).is_file():
        return SentimentSource(fetched, "fetched")
    return SentimentSource(EMBEDDED_DIR, "embedded")


def resolve_sentiment_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Sentiment data root: ``data_dir``, else ``$VAXIS_SENTIMENT_DIR``, else the shared copies, else the fetched
    copy in the cache, else the embedded sample (see :func:`sentiment_source`)."""
    return sentiment_source(data_dir).root
