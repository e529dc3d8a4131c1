"""What a reader of a chapter page sees of its setup: the rule as wrapped prose, data sources without machine paths.

``show_rule(verdicts.RULE_4, alpha=alpha, margin=margin)`` displays the rule (``rule_block`` builds the object): the
book and JupyterLab render it as an admonition of wrapped paragraphs (HTML), a terminal or a papermill text log as
wrapped text. ``folder_name``
names a data folder by its last component only, so no page prints the builder's absolute paths.
"""

from __future__ import annotations

import html
import os
import re
import textwrap
from pathlib import Path

from vaxis.publish.params import check_parameters

__all__ = ["RuleBlock", "rule_block", "show_rule", "rule_paragraphs", "folder_name", "data_line", "check_parameters"]

#: A new paragraph starts before each part, each numbered criterion, the verdict mapping and the synthetic clause.
_BREAK = re.compile(r"(?<=[.;:])\s+(?=Part [A-Z]\b|\(\d+\) |'replicates':|Verdict from|Synthetic)")
_LOUD = re.compile(r"\b(REPLICATES|PARTLY|PARTIAL|DOES NOT REPLICATE|INCONCLUSIVE|HOLDS|FAILS|UNDECIDED|SIGNIFICANT|"
                   r"SMALL|AGREES|NOT USED)\b")


def rule_paragraphs(text: str) -> list[str]:
    """The rule's text cut into paragraphs (before each part, criterion and the verdict mapping); no text is lost."""
    return [p.strip() for p in _BREAK.split(" ".join(text.split())) if p.strip()]


class RuleBlock:
    """A verdict rule for display: ``_repr_html_`` (an admonition), ``_repr_markdown_`` and wrapped plain text."""

    def __init__(self, text: str, title: str = "The rule, fixed before the run", width: int = 100) -> None:
        self.text, self.title, self.width = text, title, width

    @property
    def paragraphs(self) -> list[str]:
        return rule_paragraphs(self.text)

    def _repr_html_(self) -> str:
        paras = "".join("<p>" + _LOUD.sub(r"<strong>\1</strong>", html.escape(p)) + "</p>" for p in self.paragraphs)
        return (f'<div class="admonition note vaxis-rule"><p class="admonition-title">{html.escape(self.title)}</p>'
                f"{paras}</div>")

    def _repr_markdown_(self) -> str:
        body = "\n>\n".join("> " + p.replace("*", r"\*").replace("_", r"\_") for p in self.paragraphs)
        return f"> **{self.title}**\n>\n{body}\n"

    def __str__(self) -> str:
        paras = [textwrap.fill(p, self.width) for p in self.paragraphs]
        return f"{self.title}:\n" + "\n\n".join(paras)

    __repr__ = __str__


def rule_block(rule: str, title: str = "The rule, fixed before the run", **fields) -> RuleBlock:
    """``rule`` (a ``verdicts.RULE_N`` text; ``fields`` fill its ``{placeholders}``) as a display block."""
    return RuleBlock(rule.format(**fields) if fields else rule, title)


def show_rule(rule: str, title: str = "The rule, fixed before the run", **fields) -> None:
    """Display :func:`rule_block` in the notebook (anywhere in a cell); outside IPython, print it as wrapped text."""
    from IPython import get_ipython
    from IPython.display import display

    block = rule_block(rule, title, **fields)
    if get_ipython() is None:
        print(block)
    else:
        display(block)


def folder_name(path: str | os.PathLike | None) -> str:
    """The last component of a data folder (``/home/x/data/faced`` -> ``faced``); never the machine's full path."""
    if path is None or not str(path):
        return "-"
    return Path(path).expanduser().name or str(path)


def data_line(source_label: str, path: str | os.PathLike | None) -> str:
    """``"DATA: <source label> from folder '<name>'"``, the line every EEG chapter prints first."""
    return f"DATA: {source_label} from folder '{folder_name(path)}'"
