"""EEG classifiers behind one registry: DE-feature and raw-signal architectures.

Every decoder is built with the same signature::

    DECODERS[name](n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, **kwargs)

and exposes ``forward(x) -> logits (n, n_classes)`` and ``represent(x) -> (n, d)`` (the penultimate
representation that the rediscovery probes read). A class attribute ``input`` says what ``x`` is:

- ``"window"``: one DE window, ``x`` of shape (n, n_chans, n_bands);
- ``"sequence"``: a clip's DE windows in time order, shape (n, n_windows, n_chans, n_bands);
- ``"raw"``: a raw signal, shape (n, n_chans, n_times).

A class attribute ``rep_is_logits`` says whether the representation *is* the logits (True only for
:class:`LinearDecoder`, whose only learned layer is the logit layer); otherwise the logits are
``head(representation)`` and ``head`` is an ``nn.Linear`` (d -> n_classes).

The DE decoders use only ops that :func:`torch.func.vmap` batches well (linear layers, convolutions,
explicit attention, no BatchNorm, no cuDNN RNN), so :mod:`vaxis.decoding.stacking` can train many of them at once.
The raw-signal decoders follow their papers (BatchNorm included) and are shape-tested only: no
processed raw FACED data are available here.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from vaxis.decoding.decoder_base import FACED_EEG_CHANNELS, FACED_GRID, _Decoder
from vaxis.decoding.decoders_raw import EEGNet, ShallowConvNet, TSception

__all__ = ["DECODERS", "DE_DECODERS", "RAW_DECODERS", "build", "FACED_GRID", "FACED_EEG_CHANNELS"]


class LinearDecoder(_Decoder):
    """Multinomial logistic regression on the flattened DE window (n_chans * n_bands features).

    The linear baseline of Zheng & Lu (2015), *Investigating critical frequency bands and channels for
    EEG-based emotion recognition with deep neural networks*, IEEE TAMD 7(3). Its only learned layer is
    the logit layer, so ``represent`` returns the logits (d = n_classes); the untrained copy's
    "representation" is then a random 9-D projection of the input.
    """

    rep_is_logits = True

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, 0.0)
        self.head = nn.Linear(n_chans * n_bands, n_classes)

    def represent(self, x):
        return self.head(x.flatten(1))

    def rep_and_logits(self, x):
        r = self.represent(x)
        return r, r


class MLPDecoder(_Decoder):
    """Two-hidden-layer perceptron on the flattened DE window.

    Follows the DE + deep feed-forward network of Zheng & Lu (2015), IEEE TAMD 7(3) (a DBN there;
    ReLU layers trained end to end here). Representation: the second hidden layer (d = hidden).
    """

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        self.fc1 = nn.Linear(n_chans * n_bands, 2 * hidden)
        self.fc2 = nn.Linear(2 * hidden, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def represent(self, x):
        h = F.relu(self.fc1(x.flatten(1)))
        return F.relu(self.fc2(self.drop(h)))


class DGCNNDecoder(_Decoder):
    """Dynamical graph CNN over electrodes with a learnable adjacency.

    Song, Zheng, Song & Cui (2018), *EEG emotion recognition using dynamical graph convolutional neural
    networks*, IEEE Trans. Affective Computing 11(3). The adjacency ``W`` (n_chans x n_chans) is learned;
    ``L = I - D^-1/2 relu(W) D^-1/2`` and a Chebyshev-polynomial graph convolution of order ``k``
    mixes each electrode's band vector with its neighbours'. Representation: the dense layer after the
    graph convolution (d = hidden).
    """

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0,
                 k: int = 2, node_dim: int = 16):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        self.k = k
        self.adj = nn.Parameter(torch.rand(n_chans, n_chans) * 0.1 + torch.eye(n_chans))
        self.theta = nn.Parameter(torch.randn(k, n_bands, node_dim) / math.sqrt(n_bands * k))
        self.fc = nn.Linear(n_chans * node_dim, hidden)
        self.head = nn.Linear(hidden, n_classes)
        self.register_buffer("eye", torch.eye(n_chans))

    def represent(self, x):
        a = F.relu((self.adj + self.adj.T) / 2)
        d = a.sum(1).clamp_min(1e-6).rsqrt()
        lap = self.eye - d[:, None] * a * d[None, :]
        out, t_prev, t_cur = 0.0, x, lap @ x                 # T0 x = x, T1 x = L x  (n, C, B)
        out = out + t_prev @ self.theta[0]
        if self.k > 1:
            out = out + t_cur @ self.theta[1]
        for i in range(2, self.k):
            t_prev, t_cur = t_cur, 2 * (lap @ t_cur) - t_prev
            out = out + t_cur @ self.theta[i]
        return F.gelu(self.fc(self.drop(F.gelu(out).flatten(1))))


class GridCNNDecoder(_Decoder):
    """2-D CNN on DE maps laid out on a 9 x 9 scalp grid (bands as input planes).

    Follows the continuous CNN of Yang, Wu, Fu & Chen (2018), *Continuous convolutional neural network
    with 3D input for EEG-based emotion recognition*, ICONIP (CCNN). Electrodes are scattered onto the
    grid by a fixed one-hot matrix (FACED layout when n_chans == 30, else a row-major square).
    Representation: the dense layer after the convolutions (d = hidden).
    """

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0,
                 channels: tuple[int, int] = (8, 16)):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        if n_chans == len(FACED_EEG_CHANNELS):
            size, cells = 9, [FACED_GRID[c] for c in FACED_EEG_CHANNELS]
        else:
            size = math.ceil(math.sqrt(n_chans))
            cells = [divmod(i, size) for i in range(n_chans)]
        scatter = torch.zeros(n_chans, size * size)
        for i, (r, c) in enumerate(cells):
            scatter[i, r * size + c] = 1.0
        self.register_buffer("scatter", scatter)
        self.size = size
        c1, c2 = channels
        self.conv1 = nn.Conv2d(n_bands, c1, 3, padding=1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, stride=2)
        side = (size + 1) // 2
        self.side = side
        self.fc = nn.Linear(c2 * side * side, hidden)
        self.head = nn.Linear(hidden, n_classes)

        # 3 x 3 patch indices into the flattened grid (index size*size = a zero pad cell), per conv stride
        for name, stride in (("patch1", 1), ("patch2", 2)):
            idx = []
            for r in range(0, size, stride):
                for c in range(0, size, stride):
                    idx.append([(r + dr) * size + (c + dc) if 0 <= r + dr < size and 0 <= c + dc < size
                                else size * size for dr in (-1, 0, 1) for dc in (-1, 0, 1)])
            self.register_buffer(name, torch.tensor(idx).flatten())

    @staticmethod
    def _conv(h: torch.Tensor, conv: nn.Conv2d, patch: torch.Tensor) -> torch.Tensor:
        """3 x 3 ``conv`` on a flattened grid ``h`` (n, c_in, cells) -> (n, c_out, L) as gather + one matmul.

        Under vmap this is one large batched matmul per layer (a grouped conv / im2col is far slower on CPU).
        """
        n, c_in, _ = h.shape
        hp = torch.cat([h, h.new_zeros(n, c_in, 1)], dim=2)
        cols = hp.index_select(2, patch).reshape(n, c_in, -1, 9).permute(0, 2, 1, 3).reshape(-1, c_in * 9)
        out = cols @ conv.weight.flatten(1).T + conv.bias                     # (n * L, c_out)
        return out.reshape(n, -1, conv.out_channels).transpose(1, 2)

    def represent(self, x):
        g = x.transpose(1, 2) @ self.scatter                                   # (n, n_bands, size * size)
        h = F.relu(self._conv(F.relu(self._conv(g, self.conv1, self.patch1)), self.conv2, self.patch2))
        return F.relu(self.fc(self.drop(h.flatten(1))))


class ChannelTransformerDecoder(_Decoder):
    """Small transformer whose tokens are electrodes (each token = that electrode's band vector).

    A pre-norm encoder block of Vaswani et al. (2017), *Attention is all you need*, NeurIPS, applied over
    electrode tokens with a learned electrode embedding (spatial self-attention over channels, as in
    transformer EEG emotion models). Attention is written out with matmuls so vmap batches it.
    Representation: the mean-pooled tokens after a projection (d = hidden).
    """

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0,
                 d_model: int = 16, heads: int = 2, layers: int = 1):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        self.heads, self.d_model = heads, d_model
        self.embed = nn.Linear(n_bands, d_model)
        self.pos = nn.Parameter(torch.randn(n_chans, d_model) * 0.02)
        self.blocks = nn.ModuleList(
            nn.ModuleDict({"ln1": nn.LayerNorm(d_model), "qkv": nn.Linear(d_model, 3 * d_model),
                           "out": nn.Linear(d_model, d_model), "ln2": nn.LayerNorm(d_model),
                           "ff1": nn.Linear(d_model, 2 * d_model), "ff2": nn.Linear(2 * d_model, d_model)})
            for _ in range(layers))
        self.proj = nn.Linear(d_model, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def represent(self, x):
        n, c, _ = x.shape
        h = self.embed(x) + self.pos
        dh = self.d_model // self.heads
        for b in self.blocks:
            q, k, v = b["qkv"](b["ln1"](h)).reshape(n, c, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(dh), dim=-1)
            h = h + b["out"]((att @ v).transpose(1, 2).reshape(n, c, self.d_model))
            h = h + b["ff2"](F.gelu(b["ff1"](b["ln2"](h))))
        return F.gelu(self.proj(self.drop(h.mean(1))))


class TemporalConvDecoder(_Decoder):
    """Temporal convolutional network over a clip's sequence of one-second DE windows.

    Dilated 1-D convolutions over time as in Bai, Kolter & Koltun (2018), *An empirical evaluation of
    generic convolutional and recurrent networks for sequence modeling*, arXiv:1803.01271 (TCN), applied to
    per-window DE embeddings. Input (n, n_windows, n_chans, n_bands): one sample per clip. Representation:
    time-averaged features (d = hidden).
    """

    input = "sequence"

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0,
                 kernel: int = 3):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        self.embed = nn.Linear(n_chans * n_bands, hidden)
        self.conv1 = nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel, padding=2 * (kernel // 2), dilation=2)
        self.head = nn.Linear(hidden, n_classes)

    def represent(self, x):
        h = F.gelu(self.embed(x.flatten(2))).transpose(1, 2)        # (n, hidden, n_windows)
        h = h + F.gelu(self.conv1(self.drop(h)))
        h = h + F.gelu(self.conv2(self.drop(h)))
        return h.mean(-1)


class SpatialSpectralDecoder(_Decoder):
    """Separable spatio-spectral network: ``k`` learned spatial filters applied to every band, then an MLP.

    In the spirit of filter-bank spatial filtering: Ang, Chin, Zhang & Guan (2008), *Filter bank common spatial
    pattern (FBCSP) in brain-computer interface*, IJCNN; here learned end to end. The first layer
    mixes electrodes with the same ``k`` filters in every band (``x`` (n, C, B) -> (n, k, B)), so the model sees
    band profiles of a few spatial components instead of the raw channel x band grid; a different inductive bias
    from the MLP (unconstrained) and the graph CNN (electrode neighbourhoods), at the MLP's cost.
    Representation: the dense layer after the spatial filters (d = hidden).
    """

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.0,
                 n_filters: int = 16):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        self.spatial = nn.Linear(n_chans, n_filters, bias=False)
        self.fc = nn.Linear(n_filters * n_bands, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def represent(self, x):
        z = self.spatial(x.transpose(1, 2))                           # (n, B, k)
        return F.relu(self.fc(self.drop(F.gelu(z).flatten(1))))



DE_DECODERS: dict[str, type[nn.Module]] = {
    "linear": LinearDecoder,
    "mlp": MLPDecoder,
    "dgcnn": DGCNNDecoder,
    "spatial_spectral": SpatialSpectralDecoder,
    "grid_cnn": GridCNNDecoder,
    "transformer": ChannelTransformerDecoder,
    "tcn": TemporalConvDecoder,
}
RAW_DECODERS: dict[str, type[nn.Module]] = {"eegnet": EEGNet, "shallow_convnet": ShallowConvNet, "tsception": TSception}
DECODERS: dict[str, type[nn.Module]] = {**DE_DECODERS, **RAW_DECODERS}


def build(name: str, n_chans: int, n_bands: int, n_classes: int, n_times: int | None = None,
          sfreq: float | None = None, hidden: int = 64, seed: int | None = None, **kwargs) -> nn.Module:
    """Instantiate ``DECODERS[name]``; with ``seed`` the initial weights are a pure function of it."""
    if name not in DECODERS:
        raise KeyError(f"unknown decoder {name!r}; choose from {sorted(DECODERS)}")
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return DECODERS[name](n_chans, n_bands, n_classes, n_times=n_times, sfreq=sfreq, hidden=hidden, **kwargs)
    return DECODERS[name](n_chans, n_bands, n_classes, n_times=n_times, sfreq=sfreq, hidden=hidden, **kwargs)
