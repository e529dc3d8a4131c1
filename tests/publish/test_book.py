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


PROBE = '<body data-vaxis-layout="1 tables, 1 rules" data-vaxis-rules="1" data-vaxis-overflow="">'
GOOD = (f'<html>{PROBE}<main><p>ok</p><img src="../_images/a.png"><mjx-container>\\frac{{1}}{{2}}</mjx-container>'
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


def test_sitecheck_reads_the_layout_probe():
    assert sitecheck.layout(GOOD) == {"layout": "1 tables, 1 rules", "rules": "1", "overflow": ""}
    assert sitecheck.layout("<html><body><main></main></body></html>") is None
    wide = GOOD.replace('data-vaxis-overflow=""', 'data-vaxis-overflow="table 1 (1400 px wide, column ends at 990 px)"')
    assert sitecheck.check_dom(wide, is_chapter=False) == [
        "wider than the page column: table 1 (1400 px wide, column ends at 990 px)"]
    rule = GOOD.replace('data-vaxis-overflow=""', 'data-vaxis-overflow="rule block 1 (2400 px of content in 700 px)"')
    assert any("rule block 1" in p for p in sitecheck.check_dom(rule, is_chapter=True))


def test_sitecheck_needs_the_probe_on_the_scoreboard_and_a_rule_on_chapters():
    bare = GOOD.replace(PROBE, "<body>")
    assert sitecheck.check_dom(bare, is_chapter=False) == []                 # a plain page: nothing to measure
    assert any("probe" in p for p in sitecheck.check_dom(bare, is_chapter=False, needs_layout=True))
    assert any("probe" in p for p in sitecheck.check_dom(bare, is_chapter=True))
    norule = GOOD.replace('data-vaxis-rules="1"', 'data-vaxis-rules="0"')
    assert sitecheck.check_dom(norule, is_chapter=False) == []
    assert any("no rule block" in p for p in sitecheck.check_dom(norule, is_chapter=True))


def test_the_book_ships_the_reader_css_and_the_layout_probe():
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    static = [ROOT / d for d in cfg["html_static_path"]]
    for name in cfg["html_css_files"] + cfg["html_js_files"]:
        assert any((d / name).is_file() for d in static), name
    assert "vaxis-layout.js" in cfg["html_js_files"] and "vaxis.css" in cfg["html_css_files"]
    js = (ROOT / "book" / "_static" / "vaxis-layout.js").read_text()
    assert all(f"data-vaxis-{k}" in js for k in ("layout", "rules", "overflow")) and "vaxis-rule" in js
    css = (ROOT / "book" / "_static" / "vaxis.css").read_text()
    assert "pre-wrap" in css and "div.admonition.vaxis-rule" in css


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


def test_a_bad_value_fails_the_build_before_any_chapter_runs():
    from vaxis.publish.book import chapter_sources, check_params

    srcs = chapter_sources(["01", "04"])
    check_params({"quick": "false", "n_perm": 10}, srcs)                  # "false" is a boolean, n_perm only in 04
    with pytest.raises(SystemExit) as err:
        check_params({"models": "minilm", "n_perm": "many"}, srcs)
    msg = str(err.value)
    assert "01_v_axis: models must be a list" in msg and "04_eeg_projection: models must be a list" in msg
    assert "04_eeg_projection: n_perm must be an integer" in msg and "01_v_axis: n_perm" not in msg


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


def test_widget_outputs_and_state_are_dropped_from_the_staged_page(tmp_path):
    """With ipywidgets installed (for JupyterLab) tqdm draws widgets; a static page cannot run them."""
    import nbformat

    from vaxis.publish.book import WIDGET_MIME, _drop_widgets

    nb = nbformat.v4.new_notebook()
    bar = nbformat.v4.new_output("display_data", data={WIDGET_MIME: {"model_id": "x"}, "text/plain": "0%| | 0/3"})
    text = nbformat.v4.new_output("stream", name="stdout", text="3\n")
    nb.cells = [nbformat.v4.new_code_cell("list(tqdm(range(3)))", outputs=[bar, text]),
                nbformat.v4.new_markdown_cell("m")]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, str(path))
    assert _drop_widgets(path) == 1
    back = nbformat.read(str(path), as_version=4)
    assert [o["output_type"] for o in back.cells[0].outputs] == ["stream"] and "widgets" not in back.metadata
    assert _drop_widgets(path) == 0
    cfg = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert cfg["nb_ipywidgets_js"] == {}                # myst-nb adds no CDN widget manager either


def test_sitecheck_flags_scripts_from_the_network():
    remote = GOOD.replace("<main>", '<script src="https://cdn.example/embed-amd.js"></script><main>')
    assert sitecheck.check_dom(remote, is_chapter=True) == ["loads 1 script(s) from the network (the book must work "
                                                           "offline)"]
    local = GOOD.replace("<main>", '<script src="../_static/vaxis-layout.js"></script><main>')
    assert sitecheck.check_dom(local, is_chapter=True) == []
