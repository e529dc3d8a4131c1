"""The loss terms behind the 25 alignment strategies of :mod:`vaxis.claims.common.strategies`: distillation,
similarity (RSA, CKA), contrastive, direct V-readout and topographic-penalty terms, each a function
``(r (G, B, d), h (G, B, 9) | None, pen (G, B, 4) | None, logits (G, B, K), y (G, B), t) -> (G,)`` over G
stacked models."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

__all__ = ["Term"]



# ----------------------------------------------------------------------------------------------- helpers
def _kl_soft(q: torch.Tensor, logits: torch.Tensor, T: float) -> torch.Tensor:
    """T^2 KL(q || softmax(logits / T)) averaged over the batch: (G, B, K) -> (G,)."""
    lp = F.log_softmax(logits / T, -1)
    return (T * T) * (q * (q.clamp_min(1e-12).log() - lp)).sum(-1).mean(-1)


def _sqdist(r: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances of standardised rows: (G, B, d) -> (G, B, B)."""
    r = (r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-6)
    n = (r * r).sum(-1)
    return (n[..., :, None] + n[..., None, :] - 2 * r @ r.transpose(1, 2)).clamp_min(0)


def _pair_corr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Pearson correlation over the upper-triangle pairs of (G, B, B) matrices (optionally masked): (G,)."""
    B = a.shape[-1]
    m = torch.triu(torch.ones(B, B, dtype=torch.bool, device=a.device), 1).expand_as(a)
    m = (m & mask) if mask is not None else m
    w = m.to(a.dtype)
    n = w.sum((1, 2)).clamp_min(1)
    am = a - (a * w).sum((1, 2), keepdim=True) / n[:, None, None]
    bm = b - (b * w).sum((1, 2), keepdim=True) / n[:, None, None]
    cov = (am * bm * w).sum((1, 2))
    return cov / ((am * am * w).sum((1, 2)).sqrt() * (bm * bm * w).sum((1, 2)).sqrt() + 1e-8)


def _corr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Pearson correlation along the batch axis: (G, B) x (G, B) -> (G,)."""
    a, b = a - a.mean(-1, keepdim=True), b - b.mean(-1, keepdim=True)
    return (a * b).sum(-1) / ((a * a).sum(-1).sqrt() * (b * b).sum(-1).sqrt() + 1e-8)


def _soft(dist: torch.Tensor, T: float) -> torch.Tensor:
    """Soft targets softmax(-dist / (T * median off-diagonal distance)), rows per class: (9, 9)."""
    off = dist[~torch.eye(len(dist), dtype=torch.bool)]
    return torch.softmax(-dist / (T * off.median().clamp_min(1e-8)), -1)


# ------------------------------------------------------------------------------------------- the terms
# Each term: (r (G,B,d), h (G,B,9) | None, pen (G,B,4) | None, logits (G,B,K), y (G,B), t: tensors) -> (G,)
Term = Callable[..., torch.Tensor]


def _kd(T: float, source: str = "D") -> Term:
    def term(r, h, pen, logits, y, t):
        return _kl_soft(_soft(t["D"] if source == "D" else t["Dv"], T)[y], logits, T)
    return term


def _rsa(target: str, on: str = "rep") -> Term:
    def term(r, h, pen, logits, y, t):
        x = F.log_softmax(logits, -1) if on == "logits" else r
        tgt = t["D"][y[..., :, None], y[..., None, :]] if target == "D" else \
            (t["pos"][y][..., :, None] - t["pos"][y][..., None, :]).abs()
        return 1 - _pair_corr(_sqdist(x), tgt)
    return term


def _rsa_centroid(r, h, pen, logits, y, t):
    oh = F.one_hot(y, 9).to(r.dtype)                                         # (G, B, 9)
    cnt = oh.sum(1)                                                          # (G, 9)
    cen = oh.transpose(1, 2) @ r / cnt.clamp_min(1)[..., None]               # (G, 9, d)
    present = cnt > 0
    n = (cen * cen).sum(-1)
    cd = (n[..., :, None] + n[..., None, :] - 2 * cen @ cen.transpose(1, 2)).clamp_min(0)
    return 1 - _pair_corr(cd, t["D"].expand_as(cd), present[..., :, None] & present[..., None, :])


def _cka(r, h, pen, logits, y, t):
    X = r - r.mean(1, keepdim=True)
    Y = t["E"][y]
    Y = Y - Y.mean(1, keepdim=True)
    K, L = X @ X.transpose(1, 2), Y @ Y.transpose(1, 2)
    return 1 - (K * L).sum((1, 2)) / (K.norm(dim=(1, 2)) * L.norm(dim=(1, 2)) + 1e-8)


def _cos_mse(r, h, pen, logits, y, t):
    rn = F.normalize(r - r.mean(1, keepdim=True), dim=-1)
    return ((rn @ rn.transpose(1, 2) - t["S"][y[..., :, None], y[..., None, :]]) ** 2).mean((1, 2))


def _infonce(tau: float, symmetric: bool = False) -> Term:
    def term(r, h, pen, logits, y, t):
        sim = F.normalize(h[..., :8], dim=-1) @ t["E8"].T / tau              # (G, B, 9)
        loss = F.cross_entropy(sim.flatten(0, 1), y.flatten(), reduction="none").view(y.shape).mean(-1)
        if symmetric:                                                        # sentence -> EEG samples
            lp = F.log_softmax(sim.transpose(1, 2), -1)                      # (G, 9, B)
            pos = F.one_hot(y, 9).transpose(1, 2).bool()
            present = pos.any(-1)
            per = -torch.logsumexp(lp.masked_fill(~pos, -1e9), -1)
            loss = loss + (per * present).sum(-1) / present.sum(-1).clamp_min(1)
        return loss
    return term


def _supcon_v(r, h, pen, logits, y, t, tau: float = 0.5, sigma: float = 0.5):
    z = F.normalize(r, dim=-1)
    B = y.shape[-1]
    eye = torch.eye(B, dtype=torch.bool, device=r.device)
    lp = F.log_softmax((z @ z.transpose(1, 2) / tau).masked_fill(eye, -1e9), -1)
    p = t["pos"][y]
    w = torch.exp(-(p[..., :, None] - p[..., None, :]).abs() / sigma).masked_fill(eye, 0)
    return (-(w * lp).sum(-1) / w.sum(-1)).mean(-1)


def _triplet_v(r, h, pen, logits, y, t, margin: float = 0.1):
    z = F.normalize(r, dim=-1)
    p = t["pos"][y]
    out = 0.0
    for s in (1, 2, 3):
        j, k = torch.roll(z, s, 1), torch.roll(z, 2 * s, 1)
        dj, dk = ((z - j) ** 2).sum(-1), ((z - k) ** 2).sum(-1)
        sign = torch.sign((p - torch.roll(p, 2 * s, 1)).abs() - (p - torch.roll(p, s, 1)).abs())
        out = out + (F.relu(margin - sign * (dk - dj)) * sign.abs()).mean(-1)
    return out / 3


def _v_mse(r, h, pen, logits, y, t):
    return ((h[..., 8] - t["pos"][y]) ** 2).mean(-1)


def _v_rank(r, h, pen, logits, y, t):
    u, p = h[..., 8], t["pos"][y]
    gt = (p[..., :, None] > p[..., None, :]).to(u.dtype)
    return (F.relu(1 - (u[..., :, None] - u[..., None, :])) * gt).sum((1, 2)) / gt.sum((1, 2)).clamp_min(1)


def _v_cosine(r, h, pen, logits, y, t):
    a = torch.ones(r.shape[-1], dtype=r.dtype, device=r.device) / r.shape[-1] ** 0.5
    p = t["pos"][y]
    c = F.normalize(r - r.mean(1, keepdim=True), dim=-1) @ a                 # cosine with the fixed direction
    nz = (p.abs() > 1e-6).to(r.dtype)
    return 1 - (torch.sign(p) * c * nz).sum(-1) / nz.sum(-1).clamp_min(1)


def _v_ordinal(r, h, pen, logits, y, t):
    s = torch.sort(torch.unique(t["pos"])).values
    theta = (s[1:] + s[:-1]) / 2                                             # (n_levels - 1,)
    u, p = h[..., 8, None], t["pos"][y][..., None]
    return F.binary_cross_entropy_with_logits(u - theta, (p > theta).to(u.dtype), reduction="none").mean((-1, -2))


def _v_expected(r, h, pen, logits, y, t):
    return ((torch.softmax(logits, -1) @ t["pos"] - t["pos"][y]) ** 2).mean(-1)


def _pen(i: int) -> Term:
    def term(r, h, pen, logits, y, t):
        return pen[..., 0, i]
    return term
