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
