"""Test-wide settings: offline, a private cache per session, a small fixed thread count."""

from __future__ import annotations

import os

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
if os.environ.get("PYTEST_XDIST_WORKER_COUNT"):
    # make test runs the suite in parallel (pytest-xdist): each worker gets its share of the cores for torch / BLAS,
    # so n workers x their threads never oversubscribe the machine (set before torch or numpy is imported).
    _share = max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"]))
    for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(_var, str(_share))


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
