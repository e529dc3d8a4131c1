"""Fixtures shared by the claims tests (chapters 6 and 7 train against the same toy LLM targets)."""

from __future__ import annotations

import numpy as np
import pytest

from vaxis.claims.common.strategies import AlignmentTargets

#: toy valence positions of the nine FACED categories (anger ... tenderness), negatives first
POS = np.array([-1.0, -0.8, -0.9, -0.7, 0.0, 0.8, 0.6, 1.0, 0.9])


@pytest.fixture(scope="module")
def targets() -> AlignmentTargets:
    """Toy LLM targets: the positions above, a random (9, 16) geometry and random (30, 5) channel embeddings."""
    rng = np.random.default_rng(0)
    return AlignmentTargets(POS, rng.normal(size=(9, 16)), rng.normal(size=(30, 5)))
