import pytest

from vaxis import cli
from vaxis.eeg.synthetic import make_faced


def test_doctor_reports_environment(capsys):
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for needle in ("torch", "device:", "offline model minilm", "cache", "HF_HUB_OFFLINE=1"):
        assert needle in out


def test_data_check_ok_on_synthetic(tmp_path, capsys):
    make_faced(tmp_path / "faced", n_subjects=3, seed=0, kinds=("de", "ratings"))
    assert cli.main(["data", "check", str(tmp_path / "faced")]) == 0
    assert "3 subjects" in capsys.readouterr().out


def test_data_check_fails_clearly(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["data", "check", str(tmp_path / "empty")]) == 1
    assert "error" in capsys.readouterr().err


def test_unknown_subcommand_exits():
    with pytest.raises(SystemExit):
        cli.main(["frobnicate"])


def test_extract_uses_the_models_pooling_takes_layers_and_writes_settings(tmp_path, capsys):
    import json

    import numpy as np

    from vaxis.text import llm

    texts = tmp_path / "texts.txt"
    texts.write_text("I love this.\n\nI hate this.\n")
    out = tmp_path / "h.npy"
    assert cli.main(["extract", "minilm", str(texts), "--out", str(out), "--layers", "-1", "2"]) == 0
    hidden = np.load(out)
    settings = json.loads(out.with_suffix(".json").read_text())
    assert hidden.shape == (2, 2, 384)
    assert settings["pooling"] == "mean" and settings["layers"] == [6, 2] and settings["n_texts"] == 2
    assert settings["shape"] == [2, 2, 384] and settings["kind"] == "encoder" and settings["model"] == "minilm"
    m = llm.load_model("minilm", device="cpu")
    ref = llm.extract(m, ["I love this.", "I hate this."], layers=[6, 2], pooling="mean", use_cache=False,
                      progress=False)
    np.testing.assert_allclose(hidden, ref, atol=1e-5)
    assert "pooling mean" in capsys.readouterr().out
    assert cli.main(["extract", "minilm", str(texts), "--out", str(out), "--layers", "9"]) == 1
    assert "out of range" in capsys.readouterr().err


def test_version_and_every_help(capsys):
    import vaxis

    with pytest.raises(SystemExit) as e:
        cli.main(["--version"])
    assert e.value.code == 0 and f"vaxis {vaxis.__version__}" in capsys.readouterr().out
    for cmd in (["book", "-h"], ["book", "build", "-h"], ["data", "check", "-h"], ["extract", "-h"],
                ["sweep", "-h"], ["cache", "-h"], ["cache", "clear", "-h"], ["doctor", "-h"]):
        with pytest.raises(SystemExit) as e:
            cli.main(cmd)
        assert e.value.code == 0, cmd
        assert "usage:" in capsys.readouterr().out, cmd


def test_data_check_reads_a_seedv_folder(tmp_path, capsys):
    from vaxis.eeg.synthetic import make_seedv

    make_seedv(tmp_path / "seedv", n_subjects=2, seed=0, n_windows=(3, 5))
    assert cli.main(["data", "check", str(tmp_path / "seedv")]) == 0
    out = capsys.readouterr().out
    assert "SEED-V folder" in out and "2 subjects OK" in out and "45 trials" in out


def test_cache_ls_and_clear(tmp_path, capsys):
    from vaxis.runs.cache import cached_arrays

    cached_arrays("demo", {"a": 1}, lambda: {"x": [1, 2]}, cache_dir=tmp_path)
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "ls"]) == 0
    assert "demo" in capsys.readouterr().out
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "clear", "nothing"]) == 1
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "clear", "demo", "--yes"]) == 0
    assert not (tmp_path / "demo").exists()


# Issue #26 item 6: a CLI without sharp edges. Every user error is one line on stderr and exit 1, never a traceback.


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_data_check_fails_on_a_folder_without_usable_data(tmp_path, capsys):
    (tmp_path / "f" / "After_remarks" / "sub000").mkdir(parents=True)  # the folders, no file: used to be "0 OK"
    assert cli.main(["data", "check", str(tmp_path / "f")]) == 1
    assert "no FACED data" in _one_line_error(capsys)


class _RunsCode:
    def __reduce__(self):  # unpickling would call print(...): the restricted unpickler must refuse the global
        return (print, ("THIS PICKLE RAN CODE",))


def test_a_refused_pickle_is_one_line(tmp_path, capsys):
    import pickle

    make_faced(tmp_path / "faced", n_subjects=3, seed=0, kinds=("de", "ratings"))
    bad = tmp_path / "faced" / "EEG_Features" / "DE" / "sub001.pkl.pkl"
    assert bad.is_file()
    bad.write_bytes(pickle.dumps(_RunsCode()))
    assert cli.main(["data", "check", str(tmp_path / "faced")]) == 1
    out, err = capsys.readouterr()
    assert "THIS PICKLE RAN CODE" not in out
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert "sub001" in err and "refused" in err and "builtins.print" in err


def test_user_errors_are_one_line_and_debug_shows_the_traceback(tmp_path, monkeypatch, capsys):
    assert cli.main(["data", "check", str(tmp_path / "absent")]) == 1
    _one_line_error(capsys)
    monkeypatch.setenv("VAXIS_DEBUG", "1")
    with pytest.raises(FileNotFoundError):
        cli.main(["data", "check", str(tmp_path / "absent")])


@pytest.fixture
def fake_model(monkeypatch):
    """extract without a model: records the texts the CLI passes and returns (n_layers=2, n_texts, 3) zeros."""
    import types

    import numpy as np

    seen = {}

    def load_model(name, device="auto", lazy=True):
        seen["loaded"] = name
        return types.SimpleNamespace(default_pooling="mean", n_layers=1, fingerprint="f", kind="encoder",
                                     device="cpu", meta={})

    def extract(model, texts, **kw):
        seen["texts"], seen["kw"] = list(texts), kw
        return np.zeros((2, len(texts), 3), dtype=np.float32)

    monkeypatch.setattr(cli, "load_model", load_model)
    monkeypatch.setattr(cli, "extract", extract)
    return seen


def test_extract_reads_the_text_column_of_a_table(tmp_path, fake_model):
    import json

    import numpy as np

    tsv = tmp_path / "mine.tsv"
    tsv.write_text("\ufeffid\ttext\tlabel\n1\tI love this.\t1\n2\tI hate this.\t0\n", encoding="utf-8")
    out = tmp_path / "h.v1"
    assert cli.main(["extract", "minilm", str(tsv), "--out", str(out)]) == 0
    assert fake_model["texts"] == ["I love this.", "I hate this."]  # not the header, not the labels, not the ids
    assert np.load(out).shape == (2, 2, 3) and not (tmp_path / "h.v1.npy").exists()  # the name as given
    settings = json.loads((tmp_path / "h.json").read_text())
    assert settings["text_column"] == "text" and settings["n_texts"] == 2
    csv = tmp_path / "mine.csv"
    csv.write_text("review,stars\n\"Good, really.\",5\n", encoding="utf-8")
    assert cli.main(["extract", "minilm", str(csv), "--out", str(out), "--text-col", "review"]) == 0
    assert fake_model["texts"] == ["Good, really."]
    txt = tmp_path / "plain.txt"
    txt.write_text("\ufeffone\n\ntwo\n", encoding="utf-8")
    assert cli.main(["extract", "minilm", str(txt), "--out", str(out)]) == 0
    assert fake_model["texts"] == ["one", "two"]


@pytest.mark.parametrize("case", ["missing file", "a directory", "missing out folder", "out is a folder",
                                  "no text column"])
def test_extract_input_errors_are_one_line_before_any_model_loads(tmp_path, fake_model, capsys, case):
    good = tmp_path / "t.txt"
    good.write_text("hello\n")
    table = tmp_path / "t.tsv"
    table.write_text("sentence_id\tscore\n1\t2\n")
    texts, out = {"missing file": (tmp_path / "nope.txt", tmp_path / "h.npy"),
                  "a directory": (tmp_path, tmp_path / "h.npy"),
                  "missing out folder": (good, tmp_path / "no" / "h.npy"),
                  "out is a folder": (good, tmp_path),
                  "no text column": (table, tmp_path / "h.npy")}[case]
    assert cli.main(["extract", "minilm", str(texts), "--out", str(out)]) == 1
    _one_line_error(capsys)
    assert "loaded" not in fake_model


@pytest.mark.parametrize("bad", [["--max-length", "0"], ["--max-length", "-3"], ["--batch-size", "0"]])
def test_extract_refuses_non_positive_sizes(tmp_path, fake_model, capsys, bad):
    (tmp_path / "t.txt").write_text("hello\n")
    with pytest.raises(SystemExit) as e:
        cli.main(["extract", "minilm", str(tmp_path / "t.txt"), *bad])
    assert e.value.code == 2 and bad[0] in capsys.readouterr().err and "loaded" not in fake_model


def test_cache_clear_asks_or_needs_yes_and_clears_one_namespace(tmp_path, monkeypatch, capsys):
    import builtins

    from vaxis.runs.cache import cached_arrays

    for ns in ("hidden", "faced"):
        cached_arrays(ns, {"a": 1}, lambda: {"x": [1, 2]}, cache_dir=tmp_path)
    base = ["cache", "--cache-dir", str(tmp_path), "clear"]
    assert cli.main(base) == 1  # no terminal to ask on, no --yes: nothing is deleted
    assert (tmp_path / "hidden").is_dir() and (tmp_path / "faced").is_dir()
    assert "--yes" in _one_line_error(capsys)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "y"])
    monkeypatch.setattr(builtins, "input", lambda prompt: next(answers))
    assert cli.main(base + ["hidden"]) == 1 and (tmp_path / "hidden").is_dir()  # answered no
    assert cli.main(base + ["hidden"]) == 0 and not (tmp_path / "hidden").exists()  # yes: only that one
    assert (tmp_path / "faced").is_dir()
    assert cli.main(base + ["--yes"]) == 0 and not (tmp_path / "faced").exists()


def test_sweep_status_on_a_missing_store_fails(tmp_path, capsys):
    assert cli.main(["sweep", "status", "--store", str(tmp_path / "nonexistent")]) == 1
    assert "nonexistent" in _one_line_error(capsys)
    assert not (tmp_path / "nonexistent").exists()
    (tmp_path / "store").mkdir()
    assert cli.main(["sweep", "status", "--store", str(tmp_path / "store")]) == 0


def test_doctor_names_the_default_sentiment_folder(monkeypatch, capsys):
    from vaxis.text.sentiment import resolve_sentiment_dir

    monkeypatch.delenv("VAXIS_SENTIMENT_DIR", raising=False)
    assert cli.main(["doctor"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("VAXIS_SENTIMENT_DIR="))
    assert line.startswith("VAXIS_SENTIMENT_DIR=<unset>; default in use: ") and str(resolve_sentiment_dir()) in line
