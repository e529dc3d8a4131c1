"""Chapter parameters are checked before any model or data loads (issue 26, item 2)."""

import re
from pathlib import Path

import pytest

from vaxis.publish import params as P
from vaxis.publish.book import chapter_sources
from vaxis.publish.params import ParameterError, check_parameters, parameter_cell

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = [s.stem for s in chapter_sources()]          # every page the book executes

SOURCE = '''# %% [markdown]
# # A chapter

# %% tags=["parameters"]
faced_dir = None     # FACED folder
models = ["minilm", "smollm2-135m"]
benchmark_names = ["sst2", "imdb"]
quick = False        # small settings
seeds = list(range(3))
n_texts = 500        # None reads every row
margin = 0.10
protocol = "kfold"
device = "auto"
train = {"epochs": 6, "lr": 1e-3}
results_dir = None
splits = None
executor = "local"
archs = ["linear", "mlp"]
method = "mean-diff"
tasks = ["9class", "binary"]

# %%
print(quick)
'''


@pytest.fixture
def src(tmp_path):
    path = tmp_path / "99_test.py"
    path.write_text(SOURCE)
    return path


def _ns(src, **values):
    ns = {k: v for k, (v, _) in parameter_cell("99_test", src).items()}
    ns.update(values)
    ns["In"] = ["", SOURCE.split("# %%")[2]]       # the kernel's input history: the parameters cell only
    return ns


def test_parameter_cell_reads_defaults_and_comments(src):
    spec = parameter_cell("99_test", src)
    assert list(spec)[:3] == ["faced_dir", "models", "benchmark_names"]
    assert spec["seeds"][0] == [0, 1, 2] and spec["margin"][0] == 0.1 and spec["train"][0]["lr"] == 0.001
    assert spec["quick"][1] == "small settings" and spec["faced_dir"] == (None, "FACED folder")


@pytest.mark.parametrize("given,want", [("false", False), ("True", True), ("0", False), (1, True), (False, False)])
def test_booleans_accept_true_false_strings(src, given, want):
    ns = _ns(src, quick=given)
    check_parameters(ns, "99_test", source=src, announce=False)
    assert ns["quick"] is want


@pytest.mark.parametrize("name,value,match", [
    ("quick", "maybe", "quick must be true or false"),
    ("quick", 2, "quick must be true or false"),
    ("models", "minilm", "models must be a list, got the string 'minilm'"),
    ("models", ["minilm", 3], r"models\[1\] must be a non-empty string"),
    ("seeds", [0, "a"], r"seeds\[1\] must be an integer"),
    ("n_texts", "abc", "n_texts must be an integer, got 'abc'"),
    ("n_texts", 2.5, "n_texts must be an integer"),
    ("n_texts", True, "n_texts must be an integer"),
    ("n_texts", 0, "n_texts must be at least 1"),
    ("margin", "wide", "margin must be a number"),
    ("protocol", "loso", "protocol must be one of kfold, fixed"),
    ("device", "gpu", "device must be auto, cpu"),
    ("benchmark_names", ["sst2", "sst3"], "'sst3' is not a benchmark name"),
    ("benchmark_names", ["/nonexistent/mine.tsv"], "is no such file"),
    ("faced_dir", "/nonexistent/faced", "folder '/nonexistent/faced' does not exist"),
    ("faced_dir", 3, "faced_dir must be a folder path"),
    ("train", {"epochs": 2, "lrr": 0.1}, r"train has unknown key\(s\) \['lrr'\]"),
    ("train", {"epochs": "six"}, "train.epochs must be an integer"),
    ("splits", {"train": ["sub000"], "test": ["sub001"]}, "splits must map train, val and test to lists"),
    ("splits", "/x/manifest.json", "splits must be a mapping"),
    ("executor", "slurm", "executor must be one of inline, local, ray"),
    ("archs", ["mlp", "resnet"], r"archs\[1\] must be one of .*linear.*mlp"),
    ("method", "svd", "method must be one of mean-diff, pca, lda"),
    ("tasks", ["3class"], r"tasks\[0\] must be one of 9class, binary"),
])
def test_bad_values_are_refused_with_one_clear_line(src, name, value, match):
    with pytest.raises(ParameterError, match=match):
        check_parameters(_ns(src, **{name: value}), "99_test", source=src, announce=False)


def test_good_values_are_converted_and_written_back(src, tmp_path):
    user = tmp_path / "mine.tsv"
    user.write_text("text\tlabel\nok\t1\n")
    ns = _ns(src, n_texts=None, seeds=(4, 5), margin=0, benchmark_names=["sst2", str(user)], faced_dir=str(tmp_path),
             train={"epochs": 2.0}, splits={"train": ["sub000"], "val": ["sub001"], "test": ["sub002"]},
             device="cuda:1", executor="ray", archs=["tcn"], method="lda")
    out = check_parameters(ns, "99_test", source=src, announce=False)
    assert ns["n_texts"] is None and ns["seeds"] == [4, 5] and isinstance(ns["margin"], float)
    assert ns["train"] == {"epochs": 2, "lr": 1e-3} and isinstance(ns["train"]["epochs"], int)
    assert out["benchmark_names"] == ["sst2", str(user)] and out["faced_dir"] == str(tmp_path)


def test_every_problem_is_listed_at_once(src):
    with pytest.raises(ParameterError) as err:
        check_parameters(_ns(src, quick="maybe", models="minilm"), "99_test", source=src, announce=False)
    assert "quick must be" in str(err.value) and "models must be a list" in str(err.value)


def test_an_injected_unknown_parameter_fails_with_the_known_ones(src):
    from papermill.translators import translate_parameters

    injected = translate_parameters("python", "python", {"qiuck": True, "quick": True}, "Parameters")
    ns = _ns(src, qiuck=True, quick=True)
    ns["In"].append(injected)
    assert P.injected_names(ns) == ["qiuck", "quick"]
    with pytest.raises(ParameterError) as err:
        check_parameters(ns, "99_test", source=src, announce=False)
    msg = str(err.value)
    assert "unknown parameter(s) ['qiuck']" in msg and "quick (default False)" in msg and "n_texts (default 500)" in msg
    ns["In"][-1] = translate_parameters("python", "python", {"quick": True}, "Parameters")
    check_parameters(ns, "99_test", source=src, announce=False)          # declared: fine


def test_without_kernel_history_a_stray_plain_value_counts_as_unknown(src):
    ns = _ns(src, qiuck=True)
    del ns["In"]
    ns["check_parameters"] = check_parameters                            # functions and modules are not parameters
    with pytest.raises(ParameterError, match="qiuck"):
        check_parameters(ns, "99_test", source=src, announce=False)


def test_quick_run_is_recorded_and_announced(src, capsys):
    check_parameters(_ns(src, quick="true"), "99_test", source=src)
    assert "QUICK RUN" in capsys.readouterr().out
    assert P.current_run("99_test") == {"chapter": "99_test", "quick": True} and P.current_run("01_x") == {}
    check_parameters(_ns(src), "99_test", source=src)
    assert "QUICK RUN" not in capsys.readouterr().out and P.current_run("99_test")["quick"] is False


def test_missing_source_is_a_clear_error(tmp_path):
    with pytest.raises(ParameterError, match="does not exist"):
        parameter_cell("99_none", tmp_path / "99_none.py")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_defaults_pass_their_own_check(chapter):
    spec = parameter_cell(chapter)
    assert "quick" in spec and spec["quick"][0] is False
    ns = {k: v for k, (v, _) in spec.items()}
    ns["In"] = []
    assert check_parameters(ns, chapter, announce=False) == {k: v for k, (v, _) in spec.items()}


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_chapter_checks_its_parameters_first_and_shows_its_rule_as_prose(chapter):
    import jupytext

    nb = jupytext.read(ROOT / "notebooks" / f"{chapter}.py")
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    first = [ln for ln in code[1].splitlines() if ln.strip() and not ln.startswith("#")]
    assert first[0].startswith("from vaxis.publish.reader import check_parameters"), first[:2]
    assert first[1] == f'params = check_parameters(globals(), "{chapter}")', first[:2]
    text = "\n".join(code)
    assert not re.search(r"print\((\"rule:\", )?(text_)?verdicts\.(RULE_|rule)", text)
    assert "{eeg.data_dir}" not in text and "{seedv_path}" not in text       # no machine path on the page
    if chapter[:2].isdigit():
        assert re.search(r"show_rule\((text_)?verdicts\.(RULE_|rule)", text)
