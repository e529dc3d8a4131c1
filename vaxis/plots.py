"""Figure helpers shared by the chapters."""

from __future__ import annotations

__all__ = ["source_tag", "titled"]


def source_tag(source: str) -> str:
    """Short label for figure titles; synthetic data are always flagged loudly."""
    if source == "synthetic":
        return "SYNTHETIC data (not real EEG)"
    return {"faced": "FACED (real)", "seedv": "SEED-V (real)", "text": "text only"}.get(source, source)


def titled(title: str, source: str) -> str:
    """``'<title> | <source tag>'``: every EEG figure title names its data source."""
    return f"{title} | {source_tag(source)}"
