"""A plain-loop Kalman filter + RTS smoother (SEED's / FACED's LDS reference), independent of vaxis's vectorised
code; shared by the feature and pipeline tests of this folder."""

import numpy as np


def plain_lds(seq, Q=1e-4, R=1.0, V0=0.01):
    """Smooth one sequence ``seq`` (n,) with state and observation maps A = C = 1; returns (n,)."""
    n = len(seq)
    u, V, P = np.zeros(n), np.zeros(n), np.zeros(n)
    mu0 = seq.mean()
    K = V0 / (V0 + R)
    u[0], V[0] = mu0 + K * (seq[0] - mu0), (1 - K) * V0
    for i in range(1, n):
        P[i - 1] = V[i - 1] + Q
        K = P[i - 1] / (P[i - 1] + R)
        u[i] = u[i - 1] + K * (seq[i] - u[i - 1])
        V[i] = (1 - K) * P[i - 1]
    P[n - 1] = V[n - 1] + Q
    out = u.copy()
    for i in range(n - 2, -1, -1):
        out[i] = u[i] + V[i] / P[i] * (out[i + 1] - u[i])
    return out
