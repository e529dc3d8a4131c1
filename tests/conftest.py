"""Test-wide settings: offline, a private cache per session, a small fixed thread count."""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """Every test session writes its caches into a fresh temporary folder, never the user's."""
    old = os.environ.get("VAXIS_CACHE")
    os.environ["VAXIS_CACHE"] = str(tmp_path_factory.mktemp("vaxis_cache"))
    yield
    if old is None:
        os.environ.pop("VAXIS_CACHE", None)
    else:
        os.environ["VAXIS_CACHE"] = old
