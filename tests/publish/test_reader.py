"""The reader view: rules as wrapped prose, data folders without machine paths (issue 26, item 5)."""

import re

import pytest

from vaxis.publish import text_verdicts, verdicts
from vaxis.publish.reader import RuleBlock, data_line, folder_name, rule_block, rule_paragraphs, show_rule

RULES = {n: getattr(text_verdicts if n <= 3 else verdicts, f"RULE_{n}") for n in range(1, 9)}
FIELDS = {"alpha": 0.05, "margin": 0.1, "margin_pts": 1.0, "min_reduced": 12, "headline": "greedy", "size": 5,
          "protocol": "fixed"}


def _filled(text):
    names = set(re.findall(r"\{(\w+)", text))
    return text.format(**{k: FIELDS.get(k, 7) for k in names}) if names else text


@pytest.mark.parametrize("n", sorted(RULES))
def test_every_rule_renders_whole_as_wrapped_paragraphs(n):
    text = _filled(RULES[n])
    block = RuleBlock(text)
    assert " ".join(block.paragraphs) == " ".join(text.split())          # nothing lost, nothing added
    plain = str(block)
    assert max(len(line) for line in plain.splitlines()) <= 100
    assert plain.startswith("The rule, fixed before the run:")
    html = block._repr_html_()
    assert html.startswith('<div class="admonition note vaxis-rule">') and html.count("<p>") == len(block.paragraphs)
    assert "{" not in plain                                             # every placeholder filled


def test_paragraph_breaks_fall_before_parts_and_criteria():
    paras = rule_paragraphs("Intro: two parts. Part A x holds; Part B y fails. 'replicates': all. Synthetic data: no.")
    assert paras == ["Intro: two parts.", "Part A x holds;", "Part B y fails.", "'replicates': all.",
                     "Synthetic data: no."]
    assert rule_paragraphs("(1) a; (2) b.") == ["(1) a;", "(2) b."]


def test_html_is_escaped_and_verdict_words_stand_out():
    html = RuleBlock("REPLICATES if p < 0.05 & the <b> tag is text; FAILS otherwise.")._repr_html_()
    assert "p &lt; 0.05 &amp; the &lt;b&gt; tag" in html and "<b>" not in html
    assert "<strong>REPLICATES</strong>" in html and "<strong>FAILS</strong>" in html
    md = RuleBlock("a_b *c*", title="T")._repr_markdown_()
    assert md.startswith("> **T**") and r"a\_b \*c\*" in md


def test_rule_block_fills_placeholders_and_show_rule_prints_outside_a_kernel(capsys):
    block = rule_block(verdicts.RULE_4, alpha=0.01, margin=0.2)
    assert "p < 0.01" in block.text and "below 0.2" in block.text
    assert rule_block("plain {x}").text == "plain {x}"                  # no fields: the text as given
    assert show_rule(verdicts.RULE_4, alpha=0.01, margin=0.2) is None
    assert capsys.readouterr().out.strip() == str(block)


@pytest.mark.parametrize("path,want", [("/home/someone/data/FACED", "FACED"), ("/tmp/cache/synthetic/faced-1a2b/",
                                                                             "faced-1a2b"),
                                       ("faced", "faced"), (None, "-")])
def test_folder_name_drops_the_machine_path(path, want):
    assert folder_name(path) == want


def test_data_line_names_source_and_folder_only():
    line = data_line("FACED (real)", "/work/shared/data/faced")
    assert line == "DATA: FACED (real) from folder 'faced'" and "/" not in line
