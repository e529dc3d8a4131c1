"""The environment files stay in step: requirements.txt is the single source of truth."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def _reqs(name):
    lines = (ROOT / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def test_every_requirement_is_pinned():
    for name in ("requirements.txt", "requirements-models.txt"):
        for line in _reqs(name):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", line), f"{name}: {line!r} not pinned"


def test_torch_is_the_cpu_pin():
    assert "torch==2.13.0" in _reqs("requirements.txt")


def test_environment_yml_points_at_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    assert "-r requirements.txt" in pip and "-e ." in pip
    conda_pkgs = [d for d in env["dependencies"] if isinstance(d, str)]
    # nothing but python and pip may be declared outside requirements.txt
    assert all(re.match(r"(python|pip)\b", d) for d in conda_pkgs), conda_pkgs
    assert any(d.startswith("python=3.11") for d in conda_pkgs)


def test_installed_versions_match_pins():
    from importlib.metadata import PackageNotFoundError, version

    for line in _reqs("requirements.txt"):
        name, want = line.split("==")
        try:
            have = version(name)
        except PackageNotFoundError:
            raise AssertionError(f"{name} is pinned but not installed; run make setup")
        assert have.split("+")[0] == want, f"{name}: installed {have}, pinned {want}"
