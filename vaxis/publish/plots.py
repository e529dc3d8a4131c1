"""Figure helpers shared by the chapters."""

from __future__ import annotations

__all__ = ["source_tag", "titled", "book_style"]


def book_style() -> None:
    """The book's one figure style (seaborn's ``ticks`` theme, colour-blind palette, readable small fonts)."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(context="notebook", style="ticks", palette="colorblind", font_scale=0.9)
    mpl.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False,
                         "axes.titlesize": 10, "legend.frameon": False})


def source_tag(source: str) -> str:
    """Short label for figure titles; synthetic data are always flagged loudly."""
    if source == "synthetic":
        return "SYNTHETIC data (not real EEG)"
    return {"faced": "FACED (real)", "seedv": "SEED-V (real)", "text": "text only"}.get(source, source)


def titled(title: str, source: str) -> str:
    """``'<title> | <source tag>'``: every EEG figure title names its data source."""
    return f"{title} | {source_tag(source)}"
