from pathlib import Path

import pytest
import yaml

from vaxis.publish import book, sitecheck

ROOT = Path(__file__).resolve().parents[2]


def test_parse_params_yaml_values():
    assert book.parse_params(["quick=true", "models=[minilm, gemma3-270m]", "seed=3", "data_dir=/x"]) == {
        "quick": True, "models": ["minilm", "gemma3-270m"], "seed": 3, "data_dir": "/x"}
    with pytest.raises(SystemExit):
        book.parse_params(["quick"])


def test_toc_lists_every_chapter_in_order():
    toc = yaml.safe_load(book.render_toc())
    numbered = next(p for p in toc["parts"] if p.get("numbered"))
    assert [c["file"] for c in numbered["chapters"]] == [
        f"book/chapters/{p.stem}" for p in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))]
    back = [c["file"] for c in toc["parts"][-1]["chapters"]]
    assert back[:-1] == [f"book/chapters/{p.stem}" for p in sorted((ROOT / "notebooks").glob("methods_*.py"))]


def test_paired_notebooks_in_sync():
    assert book.sync(check=True) == 0


def test_chapters_have_parameters_cell_and_no_definitions():
    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = src.read_text()
        assert 'tags=["parameters"' in text, f"{src.name} has no parameters cell"
        assert not [ln for ln in text.splitlines() if ln.startswith(("def ", "class "))], src.name


GOOD = ('<html><body><main><p>ok</p><img src="../_images/a.png"><mjx-container>\\frac{1}{2}</mjx-container>'
        '</main></body></html>')


def test_sitecheck_accepts_good_page():
    assert sitecheck.check_dom(GOOD, is_chapter=True) == []


@pytest.mark.parametrize("bad,why", [
    ('<main><p>Traceback (most recent call last)</p><img src=\"../_images/f.png\"></main>', "error"),
    ('<main><p>see $$x^2$$</p><img src=\"../_images/f.png\"></main>', "raw TeX"),
    ('<main><p>no figure</p><img src="logo.svg"></main>', "no figure"),
    ('', "empty"),
])
def test_sitecheck_flags_problems(bad, why):
    problems = sitecheck.check_dom(bad, is_chapter=True)
    assert problems and any(why in p for p in problems)


def test_every_parameter_is_visible_to_papermill():
    """papermill silently drops a parameter whose line it cannot parse (e.g. a quote in a comment)."""
    import re

    import jupytext
    import papermill as pm

    for src in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        nb = jupytext.read(src)
        cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        names = set(re.findall(r"^(\w+)\s*=", cell.source, re.M))
        declared = set(pm.inspect_notebook(str(src.with_suffix(".ipynb"))))
        assert names <= declared, f"{src.name}: papermill cannot see {sorted(names - declared)}"


def test_a_parameter_no_chapter_declares_fails_and_lists_the_declared_ones():
    from vaxis.publish.book import chapter_sources, check_params

    srcs = chapter_sources()
    check_params({"quick": True, "seed": 1}, srcs)                       # declared by every chapter
    with pytest.raises(SystemExit) as err:
        check_params({"qiuck": True}, srcs)
    msg = str(err.value)
    assert "qiuck" in msg and "quick:" in msg and "05_rediscovery" in msg


def test_setup_cells_are_collapsed_in_the_staged_page(tmp_path):
    """The parameters cell and papermill's injected one get ``hide-input``; a narrative cell keeps its tags."""
    import nbformat

    from vaxis.publish.book import _hide_setup

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell("a = 2", metadata={"tags": ["injected-parameters"]}),
                nbformat.v4.new_code_cell("print(a)"), nbformat.v4.new_markdown_cell("text")]
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, str(path))
    _hide_setup(path)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(str(path), as_version=4).cells]
    assert tags == [["parameters", "hide-input"], ["injected-parameters", "hide-input"], [], []]
