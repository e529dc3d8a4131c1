"""Issue 9, ``vaxis doctor``: prints versions, device, offline models, caches and data folders."""

from __future__ import annotations

import importlib.metadata as md
import re
import subprocess
import sys


def test_doctor_reports_environment(tmp_path, monkeypatch, capsys):
    from vaxis.cli import main
    from vaxis.text.models import OFFLINE_MODELS

    faced = tmp_path / "faced"
    faced.mkdir()
    monkeypatch.setenv("VAXIS_FACED_DIR", str(faced))
    monkeypatch.setenv("VAXIS_SEEDV_DIR", str(tmp_path / "missing"))
    monkeypatch.setenv("VAXIS_CACHE", str(tmp_path / "cache"))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert f"numpy          {md.version('numpy')}" in out and f"torch          {__import__('torch').__version__}" in out
    assert "device: cpu only" in out or "device: cuda" in out
    for model in OFFLINE_MODELS:
        assert f"offline model {model}" in out
    assert re.search(r"offline model minilm +present", out)  # installed by requirements-models.txt
    assert f"cache {tmp_path / 'cache'}" in out
    assert f"VAXIS_FACED_DIR={faced} (exists)" in out
    assert f"VAXIS_SEEDV_DIR={tmp_path / 'missing'} (MISSING)" in out
    assert "HF_HUB_OFFLINE=1" in out


def test_doctor_as_a_command():
    proc = subprocess.run([sys.executable, "-m", "vaxis.cli", "doctor"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "python " in proc.stdout and "device:" in proc.stdout and "cache " in proc.stdout
