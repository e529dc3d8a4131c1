"""The decoders' shared base class and the FACED scalp layout the spatial decoders use.

Kept apart from :mod:`vaxis.decoding.decoders` (the registry) so that :mod:`vaxis.decoding.decoders_raw` can subclass
the base
without importing the registry that lists it.
"""

from __future__ import annotations

import torch
from torch import nn

from vaxis.decoding.dropout import KeyedDropout
from vaxis.eeg.faced import FACED_EEG_CHANNELS

__all__ = ["_Decoder", "DecoderBase", "FACED_EEG_CHANNELS", "FACED_GRID"]

# 9 x 9 scalp grid (10-20 layout, nose up) used by the grid CNN; "-" is an empty cell.
_GRID_ROWS = [
    "- - - Fp1 - Fp2 - - -",
    "- - - - - - - - -",
    "F7 - F3 - Fz - F4 - F8",
    "- FC5 - FC1 - FC2 - FC6 -",
    "T7 - C3 - Cz - C4 - T8",
    "- CP5 - CP1 - CP2 - CP6 -",
    "P7 - P3 - Pz - P4 - P8",
    "- - - PO3 - PO4 - - -",
    "- - - O1 Oz O2 - - -",
]
FACED_GRID = {name: (r, c) for r, row in enumerate(_GRID_ROWS) for c, name in enumerate(row.split()) if name != "-"}


class _Decoder(nn.Module):
    """Base: stores the shared constructor arguments; ``forward = head(represent(x))``.

    Class attributes: ``input`` (what ``x`` is, see the module docstring), ``kind`` (``"de"`` / ``"raw"``)
    and ``rep_is_logits``: True where ``rep_and_logits`` returns the logits as the representation (then
    d logits / d representation is the identity), False where logits = ``head(drop(representation))``.
    A subclass that overrides ``rep_and_logits`` must set it.
    """

    input = "window"
    kind = "de"
    rep_is_logits: bool = False

    def __init__(self, n_chans: int, n_bands: int, n_classes: int, n_times: int | None = None,
                 sfreq: float | None = None, hidden: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.n_chans, self.n_bands, self.n_classes = n_chans, n_bands, n_classes
        self.n_times, self.sfreq, self.hidden = n_times, sfreq, hidden
        self.drop = KeyedDropout(dropout)      # plain dropout until a trainer keys it (vaxis.decoding.dropout)

    def represent(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def rep_and_logits(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(representation (n, d), logits (n, n_classes)) from one pass through the trunk."""
        r = self.represent(x)
        return r, self.head(self.drop(r))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rep_and_logits(x)[1]


DecoderBase = _Decoder
