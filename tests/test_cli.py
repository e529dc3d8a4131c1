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
    assert cli.main(["cache", "--cache-dir", str(tmp_path), "clear", "demo"]) == 0
    assert not (tmp_path / "demo").exists()
