r"""The selection diffusion of a curated two-token chain (large ``n``).

With two tokens and :math:`z` the share of the first, one curated generation moves
:math:`z` on average to :math:`f(z) = \mathcal{C}(\pi(z, 1-z))_1` and resamples ``n``
tokens, so the chain is approximated by the diffusion with drift and variance per
generation

.. math:: M(z) = f(z) - z = z(1-z)\,g(z), \qquad V(z) = z(1-z)/n

(Wright--Fisher with frequency-dependent selection :math:`g`; for the ``K = inf`` tilt,
:math:`g(z) = (w_1 - w_2)/(z w_1 + (1-z) w_2) \approx r_1 - r_2`). With the scale density
:math:`\psi(y) = \exp(-2n\int_0^y g)`, :math:`S(y) = \int_0^y \psi` and the speed density
:math:`m(y) = 2/(V\psi)`, the first token fixes with probability :math:`u(z) = S(z)/S(1)`
and absorption takes, in expectation,

.. math::

    t(z) = (1 - u(z)) \int_0^z S(y)\, m(y)\, dy + u(z) \int_z^1 \big(S(1) - S(y)\big)\,
           m(y)\, dy

generations (Ewens 2004, *Mathematical Population Genetics*, §4.3--4.4); with
:math:`g = 0`, :math:`t(z) = -2n[z\ln z + (1-z)\ln(1-z)]`, Kimura's neutral time. For
:math:`g \equiv s`, :math:`u(z) = (1 - e^{-2nsz})/(1 - e^{-2ns})` (Kimura 1962).

The integrals are computed by the trapezoidal rule on a grid clustered at both ends
(:data:`GRID` points, :math:`y = (1 - \cos \pi t)/2`), in log scale for :math:`\psi`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ...curation import BestOfK, curated_distribution
from ...errors import TooLargeError
from ...sampling import sampling_distribution

#: Grid points of the quadrature on [0, 1].
GRID = 20_001
#: Largest :math:`2n|\int_0^1 g|` handled (the scale density spans ``exp`` of it).
MAX_SCALE_EXPONENT = 600.0
#: Largest finite ``K`` of the two-token binomial-sum map.
MAX_K = 20_000


def two_token_map(z: np.ndarray, policy, curation, sup: np.ndarray) -> np.ndarray:
    """:math:`f(z)`: the kept share of the first support token when the fit is
    :math:`(z, 1 - z)` on the two tokens ``sup``."""
    P = np.zeros((z.size, curation.size))
    P[:, sup[0]], P[:, sup[1]] = z, 1 - z
    Q = sampling_distribution(P, policy)
    if isinstance(curation, BestOfK) and not curation.limit and curation.k > 1:
        K = curation.k
        if K > MAX_K:
            raise TooLargeError(f"the two-token map sums K + 1 = {K + 1} terms per point, "
                                f"above MAX_K = {MAX_K}; use k=math.inf (the limit)")
        w = curation.weights[sup]
        j = np.arange(K + 1)
        share = np.where(j > 0, j * w[0] / np.maximum(j * w[0] + (K - j) * w[1], 1e-300),
                         0.0)
        out = np.empty(z.size)
        step = max(1, 2_000_000 // (K + 1))
        for s in range(0, z.size, step):
            q = Q[s:s + step, sup[0]]
            out[s:s + step] = stats.binom.pmf(j[None, :], K, q[:, None]) @ share
        return out
    return curated_distribution(Q, curation)[:, sup[0]]


def diffusion_fixation(n: int, policy, curation, sup, z0: float):
    """``(fixation probability of the first token, mean absorption time)`` of the
    diffusion, averaged over generation 1's ``Bin(n, z0)`` start (the time counts
    fitted models, as the exact chain's)."""
    t = np.linspace(0.0, 1.0, GRID)
    y = (1 - np.cos(np.pi * t)) / 2
    y[0], y[-1] = 0.0, 1.0
    inner = y[1:-1]
    g = np.empty_like(y)
    g[1:-1] = (two_token_map(inner, policy, curation, sup) - inner) / (inner * (1 - inner))
    g[0] = g[1] + (g[2] - g[1]) * (y[0] - y[1]) / (y[2] - y[1])
    g[-1] = g[-2] + (g[-2] - g[-3]) * (y[-1] - y[-2]) / (y[-2] - y[-3])
    dy = np.diff(y)
    G = np.concatenate([[0.0], np.cumsum((g[1:] + g[:-1]) / 2 * dy)])
    logpsi = -2 * n * G
    if np.abs(logpsi).max() > MAX_SCALE_EXPONENT:
        raise TooLargeError(
            f"selection is too strong for the diffusion (2n|int g| reaches "
            f"{np.abs(logpsi).max():.0f} > {MAX_SCALE_EXPONENT:.0f}): fixation is then "
            "nearly certain; use the exact chain (smaller n) or simulate")
    logpsi -= logpsi.max()
    psi = np.exp(logpsi)
    S = np.concatenate([[0.0], np.cumsum((psi[1:] + psi[:-1]) / 2 * dy)])
    S1 = S[-1]
    u = S / S1
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_a = np.where(inner > 0, S[1:-1] / psi[1:-1], 0.0) * 2 * n / (inner * (1 - inner))
        ratio_b = (S1 - S[1:-1]) / psi[1:-1] * 2 * n / (inner * (1 - inner))
    a = np.concatenate([[2 * n], ratio_a, [ratio_a[-1]]])  # A(0) = 2n; A(1) unused
    b = np.concatenate([[ratio_b[0]], ratio_b, [2 * n]])  # B(1) = 2n; B(0) unused
    IA = np.concatenate([[0.0], np.cumsum((a[1:] + a[:-1]) / 2 * dy)])  # int_0^y A
    IBr = np.concatenate([[0.0], np.cumsum(((b[1:] + b[:-1]) / 2 * dy)[::-1])])[::-1]
    k = np.arange(n + 1)
    z = k / n
    uz = np.interp(z, y, u)
    tz = (1 - uz) * np.interp(z, y, IA) + uz * np.interp(z, y, IBr)
    tz[0] = tz[-1] = 0.0
    w = stats.binom.pmf(k, n, z0)
    return float(w @ uz), 1.0 + float(w @ tz)


def kimura_fixation(n: int, s: float, z0: float) -> float:
    r"""Kimura's :math:`u(z) = (1 - e^{-2nsz})/(1 - e^{-2ns})` averaged over generation
    1's ``Bin(n, z0)`` start (``s = 0``: :math:`u = z`)."""
    k = np.arange(n + 1)
    z = k / n
    if s == 0:
        u = z
    else:
        u = np.expm1(-2 * n * s * z) / math.expm1(-2 * n * s)
    return float(stats.binom.pmf(k, n, z0) @ u)
