"""Raw-signal EEG decoders (input ``x`` of shape (n, n_chans, n_times)), registered in :mod:`vaxis.decoding.decoders`.

They follow their papers (BatchNorm included); each exposes ``forward`` and ``represent`` like the DE
decoders. No processed raw FACED signals exist in this project, so they are shape-tested only.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from vaxis.decoding.decoder_base import _Decoder

__all__ = ["EEGNet", "ShallowConvNet", "TSception"]


class _Raw(_Decoder):
    input = "raw"
    kind = "raw"

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.25):
        if n_times is None or sfreq is None:
            raise ValueError(f"{type(self).__name__} needs n_times and sfreq")
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)

    def _out_dim(self) -> int:
        with torch.no_grad():
            was = self.training
            self.eval()
            d = self.represent(torch.zeros(2, self.n_chans, self.n_times)).shape[1]
            self.train(was)
        return d


class EEGNet(_Raw):
    """EEGNet-8,2: Lawhern et al. (2018), *EEGNet: a compact convolutional neural network for EEG-based
    brain-computer interfaces*, J. Neural Eng. 15:056013. Temporal conv (kernel sfreq/2), depthwise spatial
    conv (depth D), separable conv, two average pools. Representation: the flattened last block."""

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.25,
                 f1: int = 8, d: int = 2, f2: int = 16):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        k = max(int(sfreq) // 2, 3)
        self.block1 = nn.Sequential(
            nn.Conv2d(1, f1, (1, k), padding=(0, k // 2), bias=False), nn.BatchNorm2d(f1),
            nn.Conv2d(f1, f1 * d, (n_chans, 1), groups=f1, bias=False), nn.BatchNorm2d(f1 * d), nn.ELU(),
            nn.AvgPool2d((1, 4)), nn.Dropout(dropout))
        self.block2 = nn.Sequential(
            nn.Conv2d(f1 * d, f1 * d, (1, 16), padding=(0, 8), groups=f1 * d, bias=False),
            nn.Conv2d(f1 * d, f2, 1, bias=False), nn.BatchNorm2d(f2), nn.ELU(),
            nn.AvgPool2d((1, 8)), nn.Dropout(dropout))
        self.head = nn.Linear(self._out_dim(), n_classes)

    def represent(self, x):
        return self.block2(self.block1(x.unsqueeze(1))).flatten(1)

    def forward(self, x):
        return self.head(self.represent(x))


class ShallowConvNet(_Raw):
    """Shallow ConvNet: Schirrmeister et al. (2017), *Deep learning with convolutional neural networks for
    EEG decoding and visualization*, Human Brain Mapping 38(11). Temporal conv (40 x 25), spatial conv,
    BatchNorm, square, mean pool (75, stride 15), log: an FBCSP-like band-power pipeline.
    Representation: the flattened log-power features."""

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.5,
                 n_filters: int = 40):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        pool, stride = min(75, n_times // 4), 15
        self.temporal = nn.Conv2d(1, n_filters, (1, 25))
        self.spatial = nn.Conv2d(n_filters, n_filters, (n_chans, 1), bias=False)
        self.bn = nn.BatchNorm2d(n_filters)
        self.pool = nn.AvgPool2d((1, pool), stride=(1, stride))
        self.head = nn.Linear(self._out_dim(), n_classes)

    def represent(self, x):
        h = self.bn(self.spatial(self.temporal(x.unsqueeze(1))))
        return torch.log(self.pool(h * h).clamp_min(1e-6)).flatten(1)

    def forward(self, x):
        return self.head(self.drop(self.represent(x)))


class TSception(_Raw):
    """TSception: Ding et al. (2022), *TSception: capturing temporal dynamics and spatial asymmetry from EEG
    for emotion recognition*, IEEE Trans. Affective Computing 14(3). Multi-scale temporal convs (kernels
    sfreq/2, /4, /8), global and hemispheric spatial convs, a fusion conv, then a dense layer.
    Representation: the dense hidden layer (d = hidden). Hemispheres = first and second half of the channels."""

    def __init__(self, n_chans, n_bands, n_classes, n_times=None, sfreq=None, hidden=64, dropout=0.5,
                 num_t: int = 15, num_s: int = 15):
        super().__init__(n_chans, n_bands, n_classes, n_times, sfreq, hidden, dropout)
        ks = [max(int(sfreq * r), 3) for r in (0.5, 0.25, 0.125)]
        self.tconv = nn.ModuleList(nn.Conv2d(1, num_t, (1, k)) for k in ks)
        self.bn_t = nn.BatchNorm2d(num_t)
        half = n_chans // 2
        self.s_global = nn.Conv2d(num_t, num_s, (n_chans, 1))
        self.s_hemi = nn.Conv2d(num_t, num_s, (half, 1), stride=(half, 1))
        self.bn_s = nn.BatchNorm2d(num_s)
        self.fusion = nn.Conv2d(num_s, num_s, (3, 1), stride=(3, 1))
        self.bn_f = nn.BatchNorm2d(num_s)
        self.fc = nn.Linear(num_s, hidden)
        self.head = nn.Linear(hidden, n_classes)

    def represent(self, x):
        x = x.unsqueeze(1)
        t = torch.cat([F.avg_pool2d(F.leaky_relu(c(x)), (1, 8)) for c in self.tconv], dim=-1)
        t = self.bn_t(t)
        g = F.avg_pool2d(F.leaky_relu(self.s_global(t)), (1, 2))
        h = F.avg_pool2d(F.leaky_relu(self.s_hemi(t))[:, :, :2], (1, 2))
        s = self.bn_s(torch.cat([g, h], dim=2))                      # (n, num_s, 3, time)
        f = self.bn_f(F.avg_pool2d(F.leaky_relu(self.fusion(s)), (1, 4)))
        return F.relu(self.fc(f.mean(dim=(-1, -2))))

    def forward(self, x):
        return self.head(self.drop(self.represent(x)))
