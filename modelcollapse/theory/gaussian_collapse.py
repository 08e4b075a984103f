r"""Law of the collapse time of a Gaussian refitted generation after generation: exact
(grid propagation) for moderate ``M``, Siegmund's corrected diffusion approximation with
a measured error bound for any ``M``.

Under ``Replace(M)`` a Gaussian fit is exactly (Cochran; Bartlett in ``d`` dimensions)
:math:`\Sigma_t = \Sigma_{t-1}^{1/2} W_t \Sigma_{t-1}^{1/2}/\mathrm{den}` with
:math:`W_t \sim \mathrm{Wishart}_d(M-1, I)` independent of the past, ``den = M - 1``
(``estimator="unbiased"``) or ``den = M`` (``"mle"``). By Bartlett's decomposition
:math:`\det W_t = \prod_{j=1}^d \chi^2_{M-j}` with independent factors, so

.. math::

    X_t = \log\frac{\det\Sigma_t}{\det\Sigma_0} = \sum_{s=1}^t Y_s, \qquad
    Y \overset{d}{=} \sum_{j=1}^d \log\frac{\chi^2_{M-j}}{\mathrm{den}},

a random walk with i.i.d. steps. In one dimension :math:`X_t = \log(\sigma_t^2/\sigma_0^2)`.
The collapse time is the first passage below :math:`a = 2d\log\varepsilon`,

.. math::

    \tau_\varepsilon = \min\{t \ge 1 : X_t < a\}
    = \min\{t \ge 1 : (\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon\},

the ``collapse_time`` of :func:`modelcollapse.montecarlo.simulate`. The step has
:math:`E[Y] = \sum_j \psi((M-j)/2) + d\log(2/\mathrm{den}) < 0` (Jensen: even for the
unbiased estimator, whose :math:`\sigma_t^2` is a martingale) and
:math:`\mathrm{Var}\,Y = \sum_j \psi'((M-j)/2)`, so :math:`\tau_\varepsilon < \infty`
almost surely.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from scipy import fft, special

from ..errors import TooLargeError, WrongTypeError
from ..models import Gaussian
from ..regimes import Replace, accepts_regime_spec, require_plain_sampling
from .distributions import GenerationDistribution
from .gaussian import _den, log_chi2_step

__all__ = ["GaussianCollapseTime", "gaussian_collapse_time", "log_chi2_step"]

METHODS = ("auto", "grid", "diffusion", "brownian")

#: ``method="auto"`` runs the exact grid when its estimated time is at most this (seconds).
AUTO_GRID_SECONDS = 5.0
#: Seconds per unit of grid work (generations x sum over levels of nfft log2 nfft),
#: measured on the development machine (1.1e-9 to 3.3e-9 over 48 runs, M = 100..3000).
_GRID_SECONDS_PER_UNIT = 2e-9
#: Generations tabulated by the approximations; beyond, their law is evaluated directly.
TABULATE_MAX = 2**20
#: The stated error of ``method="diffusion"``: sup_t |F - F_exact| <= A M^-3/2
#: + C Delta^3 + B M^-1/2 beta^-2 + E beta^-4 (Delta = |mu|/s, beta = |a|/s); twice the
#: envelope of the measured errors (benchmarks/bench_gaussian_collapse.py), rounded up.
_APPROX_A, _APPROX_C, _APPROX_B, _APPROX_E = 0.08, 0.007, 0.31, 0.01


class GaussianCollapseTime(GenerationDistribution):
    r"""Law of the Gaussian collapse time :math:`\tau_\varepsilon` (a
    :class:`GenerationDistribution`) with its error budget.

    Attributes
    ----------
    method : str
        The method used: ``"grid"``, ``"diffusion"`` or ``"brownian"`` (``"auto"``
        resolves to one of the first two).
    error : float
        Bound on :math:`\sup_t |\hat F(t) - F(t)|`, the sum of ``errors`` (``nan`` for the
        Brownian approximation, whose bias is not controlled). For ``"grid"`` a
        computed bound; for ``"diffusion"`` a measured, extrapolated one (see
        :func:`gaussian_collapse_time`).
    errors : dict
        ``"grid"``: ``"discretisation"`` (Richardson estimate: the largest difference
        between the extrapolations from the two coarser and the two finer grids),
        ``"truncation"`` (mass that left the grid above the upper cut, measured, at most
        :math:`e^{-x_{\max}}` by Ville's inequality), ``"tail"`` (survival at the last
        propagated generation: the geometric continuation beyond it is wrong by at most
        this much) and ``"kernel"`` (mass defect of the discretised step law).
        ``"diffusion"``: ``"approximation"`` (the measured bound on the corrected
        diffusion's own error, extrapolated in ``M``) and ``"numerical"`` (quadrature and
        interpolation of its density, and of the overshoot constant, measured).
    drift, step_var : float
        :math:`E[Y]` and :math:`\mathrm{Var}\,Y`.
    barrier : float
        :math:`a = 2d\log\varepsilon`.
    info : dict
        ``"grid"``: grid spacings, grid sizes and generations propagated, per level.
        ``"diffusion"`` / ``"brownian"``: the overshoot constant ``rho``, the corrected
        barrier ``b`` (:math:`|a| + \rho s`), the time shift, the tail decay rate, and
        the parameters ``ig_mean``, ``shape`` of the inverse-Gaussian with barrier ``b``.
        ``"auto"`` adds ``grid_seconds_estimate``.

    Notes
    -----
    The approximations tabulate at most ``TABULATE_MAX`` generations (``horizon``);
    beyond, probabilities, quantiles and moments come from their continuous law
    directly, so that ``M = 10**7`` (a collapse time of :math:`\sim 10^8` generations)
    needs no per-generation arrays of that length.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").
    """

    def __init__(self, cdf, tail, *, ratio, method, error, errors, drift, step_var,
                 barrier, info, passage=None, shift=0.0):
        super().__init__(cdf, tail, ratio=ratio, method=method)
        self.error = float(error)
        self.errors = dict(errors)
        self.drift = float(drift)
        self.step_var = float(step_var)
        self.barrier = float(barrier)
        self.info = dict(info)
        self._passage = passage  # continuous law: P(tau > m) = passage.sf(m + shift)
        self._shift = float(shift)
        self._moments = None

    # the continuation beyond the horizon: the approximation's own law, not a geometric tail
    def _tail_beyond(self, j):
        if self._passage is None:
            return super()._tail_beyond(j)
        return self._passage.sf(self.horizon + np.asarray(j, dtype=np.float64) + self._shift)

    def _cdf_at(self, m):
        out = super()._cdf_at(m)
        if self._passage is not None:
            beyond = m > self.horizon
            if np.any(beyond):
                out[beyond] = self._passage.cdf(m[beyond].astype(np.float64) + self._shift)
        return out

    def _moment_sums(self):
        if self._passage is None:
            return super()._moment_sums()
        if self._moments is None:
            self._moments = self._passage_moment_sums()
        return self._moments

    def _passage_moment_sums(self):
        H, c, law = self.horizon, self._shift, self._passage
        tail = self._tail
        m = np.arange(H + 1, dtype=np.float64)
        s1 = math.fsum(tail)
        s2 = math.fsum((2 * m + 1) * tail)
        count = math.ceil(law.x[-1]) - H  # beyond, the survival is below tol * e^-40
        if count <= 2**20:  # sum the continuation term by term
            m = np.arange(H + 1, H + 1 + max(count, 0), dtype=np.float64)
            g = law.sf(m + c)
            return s1 + math.fsum(g), s2 + math.fsum((2 * m + 1) * g)
        # sum_{m > H} g(m), g(m) = S(m + c): midpoint rule from H + 1/2 plus the
        # Euler-Maclaurin end term g'(H + 1/2)/24 (the law extends over more than 2**20
        # generations, its density varies on a scale of thousands: the next term, with
        # the third derivative, is negligible)
        X = H + 0.5 + c
        i0, i1, i2 = law.tail_moments(X)
        int_s = i1 - X * i0  # int_X^inf S(t) dt
        int_ts = 0.5 * (i2 - X * X * i0)  # int_X^inf t S(t) dt
        fX = float(law.pdf(np.array([X]))[0])
        sX = float(law.sf(np.array([X]))[0])
        s1 += int_s - fX / 24.0
        s2 += 2.0 * int_ts + (1.0 - 2.0 * c) * int_s + (2.0 * sX - (2.0 * H + 2.0) * fX) / 24.0
        return s1, s2

    def conditional(self):
        """The law given collapse: the collapse time is finite almost surely, so itself."""
        return self


# ---------------------------------------------------------------------- the step law
def _step_cf(u: np.ndarray, M: int, d: int, den: float) -> np.ndarray:
    """Characteristic function of ``Y``: prod_j (2/den)^{iu} Gamma(k_j + iu)/Gamma(k_j)."""
    out = np.zeros(u.shape, dtype=np.complex128)
    for j in range(1, d + 1):
        k = (M - j) / 2.0
        out += 1j * u * math.log(2.0 / den) + special.loggamma(k + 1j * u) - special.gammaln(k)
    return np.exp(out)


def _step_kernel(M: int, d: int, den: float, h: float) -> tuple[int, np.ndarray]:
    """Cell masses ``P(Y in [mh - h/2, mh + h/2))`` for ``m = mlo .. mlo + len - 1``.

    By Fourier inversion of the exact characteristic function times the cell-average
    factor ``sinc``, on sub-cells of ``h/q`` (``q`` odd, so that ``|cf|`` at the Nyquist
    frequency is below 1e-18) summed back into cells.
    """
    mean, var = log_chi2_step(M, d, "unbiased" if den == M - 1 else "mle")
    s = math.sqrt(var)
    kmin = (M - d) / 2.0  # the left tail of the density decays like exp(kmin * y)
    lo = mean - max(14.0 * s, 45.0 / kmin)
    hi = mean + 14.0 * s + 4.0
    q = 1
    while abs(_step_cf(np.array([math.pi * q / h]), M, d, den)[0]) > 1e-18 and q < 999:
        q += 2
    hs = h / q
    mlo, mhi = math.floor(lo / h) - 1, math.ceil(hi / h) + 1
    ncell = mhi - mlo + 1
    nsub = ncell * q
    L = fft.next_fast_len(2 * nsub, real=True)
    u = 2.0 * math.pi * np.arange(L // 2 + 1) / (L * hs)
    x0 = mlo * h - (q // 2) * hs  # centre of the first sub-cell
    phi = _step_cf(u, M, d, den) * np.sinc(u * hs / (2.0 * math.pi)) * np.exp(-1j * u * x0)
    sub = fft.irfft(np.conj(phi), n=L)[:nsub]
    return mlo, sub.reshape(ncell, q).sum(axis=1)


# ---------------------------------------------------------------------- propagation
def _propagate(M, d, den, a, h_target, xmax, tol, max_generations, bar=None):
    """One grid: cells ``[a + ih, a + (i+1)h)``, ``i = 0..N-1``, the start ``0`` at the
    centre of cell ``na``; returns (killed mass per generation, survival, lost, info)."""
    na = max(1, math.ceil(-a / h_target - 0.5))
    h = -a / (na + 0.5)
    N = na + 1 + math.ceil(xmax / h)
    mlo, ker = _step_kernel(M, d, den, h)
    K = ker.size
    nfft = fft.next_fast_len(N + K - 1, real=True)
    kf = fft.rfft(ker, nfft)
    p = np.zeros(N)
    p[na] = 1.0
    q0 = -mlo  # output index of cell 0
    kill = [0.0]
    surv = [1.0]
    lost = 0.0
    mass = 1.0
    t = 0
    rfft, irfft = fft.rfft, fft.irfft
    while mass > tol and t < max_generations:
        out = irfft(rfft(p, nfft) * kf, nfft)
        kill.append(math.fsum(out[:q0]) if q0 > 0 else 0.0)
        lost += float(out[q0 + N:N + K - 1].sum())
        p = out[q0:q0 + N]
        mass = float(p.sum())
        surv.append(mass)
        t += 1
        if bar is not None and t % 256 == 0:
            bar.update(256)
    if bar is not None:
        bar.update(t % 256)
    info = {"h": h, "cells": N, "generations": t, "fft": nfft,
            "kernel_defect": abs(float(ker.sum()) - 1.0)}
    return np.array(kill), np.array(surv), max(lost, 0.0), info


def _as_law(kill, surv):
    cdf = np.cumsum(kill)
    tail = np.maximum(surv, 0.0)
    ratio = min(max(tail[-1] / tail[-2], 0.0), 1 - 1e-12) if tail[-2] > 0 else 0.0
    return GenerationDistribution(cdf, tail, ratio=ratio)


def _richardson(fc, ff, hc, hf):
    """Second-order Richardson extrapolation of values on grids ``hc > hf`` to ``h = 0``."""
    w = hc * hc / (hc * hc - hf * hf)
    return w * ff + (1.0 - w) * fc


# ---------------------------------------------------------------------- corrected diffusion
#: 8-point Gauss--Legendre nodes and weights on [-1, 1].
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(8)
_NSERIES = 40  # cumulant-series terms; |theta| <= k_min/4 keeps the remainder below 4**-40


def _drift(M: int, d: int, den: float) -> float:
    r""":math:`E[Y] = \sum_j[\psi(k_j) - \log k_j + \log((M-j)/\mathrm{den})]`,
    :math:`k_j = (M-j)/2`, to full relative precision for any ``M`` (the direct
    :math:`\psi(k) + \log(2/\mathrm{den})` cancels to :math:`O(1/M)`)."""
    j = np.arange(1, d + 1, dtype=np.float64)
    k = (float(M) - j) / 2.0
    big = k >= 20.0
    kb = k[big]
    z = 1.0 / (kb * kb)
    # psi(k) - log(k) = -1/(2k) - sum_n B_2n / (2n k^2n): remainder < 691/(32760 k^12)
    series = -0.5 / kb - z * (1 / 12 - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z / 132))))
    out = np.empty(d)
    out[big] = series
    out[~big] = special.digamma(k[~big]) - np.log(k[~big])
    # log(2k/den) = log1p(((M - den) - j)/den), M - den in {0, 1} exactly
    rel = (float(M - int(den)) - j) / den
    return float(math.fsum(out) + math.fsum(np.log1p(rel)))


def _horner(c: np.ndarray, x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape, c[-1])
    for ck in c[-2::-1]:
        out = out * x + ck
    return out


class _Cumulants:
    r"""The cumulant function :math:`K(\theta) = \log E e^{\theta Y}` of a step, with
    :math:`K'`, :math:`K''` and :math:`L = K - \theta K'`, accurate at any ``M``: the
    cumulant series :math:`K(\theta) = \mu\theta + \sum_{n\ge2}\kappa_n\theta^n/n!`,
    :math:`\kappa_n = \sum_j\psi^{(n-1)}(k_j)`, for :math:`|\theta| \le k_{\min}/4`,
    log-gamma functions beyond. ``ks=None``: Gaussian steps (only ``kappa_2``)."""

    def __init__(self, mu: float, var: float, ks=None, den: float = 1.0):
        self.mu = float(mu)
        self.var = float(var)
        self.ks = None if ks is None else np.asarray(ks, dtype=np.float64)
        if self.ks is None:
            self.kappa = np.array([self.var])
            self.radius = math.inf
            self.kmin = math.inf
        else:
            self.kappa = np.array([float(np.sum(special.polygamma(n - 1, self.ks)))
                                   for n in range(2, _NSERIES + 2)])
            self.kappa[0] = self.var
            self.kmin = float(self.ks.min())
            self.radius = self.kmin / 4.0
            self.c = self.ks.size * math.log(2.0 / den)
        self.fact = np.array([math.factorial(n) for n in range(0, self.kappa.size + 2)],
                             dtype=np.float64)

    def skewness(self) -> float:
        return float(self.kappa[1] / self.var**1.5) if self.kappa.size > 1 else 0.0

    def _coefficients(self, r: float):
        """Series coefficients in ``theta`` (of ``K''``, ``(K' - mu)/theta``,
        ``-L/theta^2``), truncated where ``(r/k_min)^n`` is below 1e-18."""
        n = self.kappa.size
        if r > 0 and math.isfinite(self.kmin):
            n = min(n, max(2, math.ceil(-41.5 / math.log(r / self.kmin)) + 1))
        m = np.arange(n)
        kap = self.kappa[:n]
        return (kap / self.fact[m], kap / self.fact[m + 1], kap * (m + 1) / self.fact[m + 2])

    def derivs(self, th: np.ndarray):
        """``(K', K'', L)`` at ``th`` (an array inside the domain ``th > -k_min``)."""
        k1 = np.empty(th.shape)
        k2 = np.empty(th.shape)
        lg = np.empty(th.shape)
        ser = np.abs(th) <= self.radius
        if np.any(ser):
            x = th[ser]
            c2, c1, cl = self._coefficients(float(np.max(np.abs(x))))
            k1[ser] = self.mu + x * _horner(c1, x)
            k2[ser] = _horner(c2, x)
            lg[ser] = -(x * x) * _horner(cl, x)
        rest = ~ser
        if np.any(rest):
            x = th[rest]
            a0 = np.full(x.shape, self.c) * x
            a1 = np.full(x.shape, self.c)
            a2 = np.zeros(x.shape)
            for k in self.ks:
                a0 += special.gammaln(k + x) - special.gammaln(k)
                a1 += special.digamma(k + x)
                a2 += special.polygamma(1, k + x)
            k1[rest] = a1
            k2[rest] = a2
            lg[rest] = a0 - x * a1
        return k1, k2, lg

    def solve(self, x: np.ndarray) -> np.ndarray:
        r"""The saddlepoint :math:`\theta` with :math:`K'(\theta) = x` (Newton: ``K'`` is
        increasing and concave, so after one step the iterates increase to the root;
        steps that leave the domain are halved towards its edge)."""
        th = (x - self.mu) / self.var
        lo = -self.kmin
        th = np.where(th <= lo, lo + 0.5 * np.minimum(1.0, self.kmin), th)
        active = np.arange(th.size)
        for _ in range(200):
            t = th[active]
            k1, k2, _ = self.derivs(t)
            new = t - (k1 - x[active]) / k2
            out = new <= lo
            new[out] = 0.5 * (t[out] + lo)
            th[active] = new
            active = active[np.abs(new - t) > 1e-14 * (1.0 + np.abs(t))]
            if active.size == 0:
                break
        return th


def _ladder_integral(R, cutoff: float = 1e-16) -> tuple[float, float]:
    r""":math:`-\frac1\pi\int_0^\infty \lambda^{-2}\log\big|2(1-g(\lambda))/\lambda^2\big|
    \,d\lambda` for a standardised step with characteristic function
    :math:`g(\lambda) = e^{L}`, :math:`L = -\lambda^2/2 + R(\lambda)`; ``R`` is vectorised
    and accurate relative to its size near 0. Returns (value, quadrature error estimate).

    Where :math:`|L| < 0.2` the integrand is evaluated without cancellation, from
    :math:`1 - g = -L\,\frac{e^{L}-1}{L}`: :math:`\log\frac{2(1-g)}{\lambda^2} =
    \log\big(1 - \frac{2R}{\lambda^2}\big) + \frac L2 + \log\frac{\sinh(L/2)}{L/2}`;
    elsewhere directly. Gauss--Legendre panels of width 1/2 up to 16, then growing
    geometrically, up to :math:`\Lambda` with :math:`|g(\Lambda)|/\Lambda <` ``cutoff``;
    beyond, the integrand is :math:`\log(2/\lambda^2)/\lambda^2` (integrated exactly) up
    to :math:`\int_\Lambda^\infty |g|/\lambda^2 \le |g(\Lambda)|/\Lambda` (for a
    decreasing :math:`|g|`). The error estimate compares with the rule on panels twice
    as wide."""
    lam_max = 16.0
    while abs(np.exp(R(np.array([lam_max]))[0] - lam_max**2 / 2)) > cutoff * lam_max:
        lam_max *= 2.0
        if lam_max > 1e12:
            raise ValueError("the step law's characteristic function does not decay")

    def integrand(lam):
        r = R(lam)
        x = lam * lam / 2.0
        L = r - x
        out = np.empty(lam.shape)
        near = np.abs(L) < 0.2
        z = -r[near] / x[near]
        w = L[near] / 2.0
        lsh = np.empty(w.shape, dtype=np.complex128)
        small = np.abs(w) < 0.1
        w2 = w[small] ** 2
        lsh[small] = w2 / 6 - w2**2 / 180 + 2 * w2**3 / 2835 - w2**4 / 37800
        wb = w[~small]
        lsh[~small] = np.log(np.sinh(wb) / wb)
        out[near] = (0.5 * np.log1p(2.0 * z.real + z.real**2 + z.imag**2) + w.real
                     + lsh.real)
        far = ~near
        out[far] = (np.log(np.abs(-np.expm1(L[far]))) + math.log(2.0)
                    - 2.0 * np.log(lam[far]))
        return out / (lam * lam)

    uniform = np.linspace(0.0, 16.0, 33)
    n_geo = max(0, math.ceil(math.log(lam_max / 16.0) / math.log(1.25)))
    edges = np.concatenate([uniform, 16.0 * (lam_max / 16.0) ** (np.arange(1, n_geo + 1)
                                                               / max(n_geo, 1))])

    def rule(e):
        lo, hi = e[:-1, None], e[1:, None]
        pts = 0.5 * (lo + hi) + 0.5 * (hi - lo) * _GL_NODES[None, :]
        wts = 0.5 * (hi - lo) * _GL_WEIGHTS[None, :]
        return float(np.sum(wts * integrand(pts.ravel()).reshape(pts.shape)))

    fine_edges = np.sort(np.concatenate([edges, 0.5 * (edges[:-1] + edges[1:])]))
    coarse, fine = rule(edges), rule(fine_edges)
    tail = (math.log(2.0) - 2.0 * (math.log(lam_max) + 1.0)) / lam_max
    return -(fine + tail) / math.pi, abs(fine - coarse) / math.pi + cutoff / math.pi


def _ladder_rho(cum: _Cumulants, den: float) -> tuple[float, float]:
    r"""Expected overshoot below the barrier, in step standard deviations, of the
    driftless walk with the step law of ``Y`` (Siegmund 1979):
    :math:`\rho = -\frac{\gamma}{6} - \frac1\pi\int_0^\infty\lambda^{-2}
    \log|2(1-g(\lambda))/\lambda^2|\,d\lambda`, ``g`` the characteristic function of the
    standardised step, :math:`\gamma` its skewness (``-gamma``: the crossing is
    downwards). Returns (rho, quadrature error)."""
    s = math.sqrt(cum.var)

    def R(lam):
        u = lam / s
        out = np.zeros(lam.shape, dtype=np.complex128)
        ser = u <= cum.radius
        if np.any(ser):
            iu = 1j * u[ser]
            # sum_{n >= 3} kappa_n (iu)^n / n!, truncated where (u/k_min)^n < 1e-18
            r = float(np.max(u[ser])) / cum.kmin
            n = cum.kappa.size if r <= 0 else min(cum.kappa.size,
                                                  max(2, math.ceil(-41.5 / math.log(r)) + 1))
            acc = np.zeros(iu.shape, dtype=np.complex128)
            p = iu * iu
            for i, kn in enumerate(cum.kappa[1:n]):
                p = p * iu
                acc += kn * p / cum.fact[i + 3]
            out[ser] = acc
        rest = ~ser
        if np.any(rest):
            ub = u[rest]
            acc = 1j * ub * (cum.c - cum.mu)
            for k in cum.ks:
                acc = acc + special.loggamma(k + 1j * ub) - special.gammaln(k)
            out[rest] = acc + lam[rest] ** 2 / 2
        return out

    value, err = _ladder_integral(R)
    return -cum.skewness() / 6.0 + value, err


class _PassageLaw:
    r"""A continuous first-passage law on :math:`(0, \infty)` with the saddlepoint
    hitting-time density

    .. math:: f(t) = \frac{b}{t}\,\frac{\exp(t K(\hat\theta) + \hat\theta b)}
              {\sqrt{2\pi t K''(\hat\theta)}}, \qquad K'(\hat\theta) = -b/t,

    normalised to mass 1, tabulated by 8-point Gauss--Legendre on panels (geometric and
    uniform nodes), and interpolated by cubic Hermite splines of :math:`\log F` and
    :math:`\log S` (exact slopes :math:`f/F` and :math:`-f/S`). For Gaussian steps
    :math:`f` is the inverse-Gaussian density exactly."""

    def __init__(self, cum: _Cumulants, b: float, t_end: float, nodes: int = 1500):
        self.cum = cum
        self.b = float(b)
        theta_inf = cum.solve(np.array([0.0]))  # K'(theta*) = 0: slowest decay
        self.rate = float(-cum.derivs(theta_inf)[2][0])  # -K(theta*) > 0
        self.t_end = float(t_end)
        t_lo = self.t_end * 1e-12
        geo = np.geomspace(t_lo, self.t_end, nodes)
        lin = np.linspace(t_lo, self.t_end, nodes)
        x = np.unique(np.concatenate([geo, lin]))
        self.x = x
        lo, hi = x[:-1], x[1:]
        mid = 0.5 * (lo + hi)
        # two half panels (the integrals) and the whole panel (their check)
        halves = []
        for a_, b_ in ((lo, mid), (mid, hi), (lo, hi)):
            pts = 0.5 * (a_ + b_)[:, None] + 0.5 * (b_ - a_)[:, None] * _GL_NODES[None, :]
            wts = 0.5 * (b_ - a_)[:, None] * _GL_WEIGHTS[None, :]
            fv = self.pdf_raw(pts.ravel()).reshape(pts.shape)
            halves.append((np.sum(wts * fv, axis=1), np.sum(wts * fv * pts, axis=1),
                           np.sum(wts * fv * pts * pts, axis=1)))
        left, right, whole = halves
        panel = [left[k] + right[k] for k in range(3)]
        head = t_lo * float(self.pdf_raw(np.array([t_lo]))[0])  # f is bounded near 0
        self.mass = head + math.fsum(panel[0])
        quad_err = float(np.sum(np.abs(panel[0] - whole[0]))) / self.mass
        # moments of the panels, for the tail sums; F and S at the nodes
        self.p0, self.p1, self.p2 = (p / self.mass for p in panel)
        F = np.concatenate([[head], head + np.cumsum(panel[0])]) / self.mass
        S = np.concatenate([np.cumsum(panel[0][::-1])[::-1], [0.0]]) / self.mass
        fx = self.pdf_raw(x) / self.mass
        self._build_splines(x, F, S, fx)
        # interpolation check at the panel midpoints
        Fmid = F[:-1] + left[0] / self.mass
        Smid = S[1:] + right[0] / self.mass
        use_f = Fmid < 0.5
        interp = np.where(use_f, np.abs(self.cdf(mid) - Fmid), np.abs(self.sf(mid) - Smid))
        self.numerical_error = quad_err + float(np.max(interp))
        self.head = head / self.mass

    # -- density
    def pdf_raw(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        th = self.cum.solve(-self.b / t)
        _, k2, lg = self.cum.derivs(th)
        with np.errstate(under="ignore", over="ignore"):
            logf = (math.log(self.b) - np.log(t) + t * lg
                    - 0.5 * np.log(2.0 * math.pi * t * k2))
            return np.exp(logf)

    def _build_splines(self, x, F, S, fx):
        from scipy.interpolate import CubicHermiteSpline

        okF = F > 1e-300
        okS = S > 1e-300
        self.xF0 = float(x[okF][0])
        self.splF = CubicHermiteSpline(x[okF], np.log(F[okF]), fx[okF] / F[okF])
        self.xS1 = float(x[okS][-1])
        self.S1 = float(S[okS][-1])
        self.splS = CubicHermiteSpline(x[okS], np.log(S[okS]), -fx[okS] / S[okS])
        half = np.nonzero(F >= 0.5)[0]
        self.t_half = float(x[half[0]]) if half.size else self.t_end

    # -- the law, continuous time
    def _logF(self, t):
        out = np.full(t.shape, -np.inf)
        ok = t >= self.xF0
        out[ok] = self.splF(np.minimum(t[ok], self.x[-1]))
        return out

    def _logS(self, t):
        out = np.empty(t.shape)
        inside = t <= self.xS1
        out[inside] = self.splS(np.maximum(t[inside], self.x[0]))
        far = ~inside
        # beyond the last node: the asymptotic decay t^(-3/2) exp(-rate t)
        tf = t[far]
        out[far] = (math.log(self.S1) - self.rate * (tf - self.xS1)
                    - 1.5 * np.log(tf / self.xS1))
        return out

    def cdf(self, t):
        t = np.asarray(t, dtype=np.float64)
        left = t < self.t_half
        out = np.empty(t.shape)
        out[left] = np.exp(self._logF(t[left]))
        out[~left] = -np.expm1(self._logS(t[~left]))
        return np.clip(out, 0.0, 1.0)

    def sf(self, t):
        t = np.asarray(t, dtype=np.float64)
        left = t < self.t_half
        out = np.empty(t.shape)
        out[left] = -np.expm1(self._logF(t[left]))
        out[~left] = np.exp(self._logS(t[~left]))
        return np.clip(out, 0.0, 1.0)

    def pdf(self, t):
        return self.pdf_raw(np.asarray(t, dtype=np.float64)) / self.mass

    def tail_moments(self, X: float) -> tuple[float, float, float]:
        r""":math:`\int_X^\infty t^k f(t)\,dt`, ``k = 0, 1, 2`` (normalised)."""
        x = self.x
        if X >= x[-1]:
            return 0.0, 0.0, 0.0
        X = max(X, float(x[0]))
        i = int(np.searchsorted(x, X, side="right"))  # first node above X
        hi = float(x[i])
        pts = 0.5 * (X + hi) + 0.5 * (hi - X) * _GL_NODES
        wts = 0.5 * (hi - X) * _GL_WEIGHTS
        fv = self.pdf(pts)
        part = (float(np.sum(wts * fv)), float(np.sum(wts * fv * pts)),
                float(np.sum(wts * fv * pts * pts)))
        return tuple(part[k] + math.fsum(p[i:]) for k, p in enumerate((self.p0, self.p1, self.p2)))


# ---------------------------------------------------------------------- public
def _check_args(model, regime, eps, method):
    if not isinstance(model, Gaussian):
        raise WrongTypeError(f"model must be a Gaussian, got {type(model).__name__}")
    require_plain_sampling(regime, "gaussian_collapse_time")
    if not isinstance(regime, Replace):
        raise ValueError(f"regime must be Replace(M), got {regime!r}")
    eps = float(eps)
    if not (0.0 < eps < 1.0):
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    M, d = regime.n, model.dim
    if M < d + 1:
        raise ValueError(f"regime.n = M must be >= d + 1 = {d + 1} for a {d}-D Gaussian, "
                         f"got M = {M}")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    return M, d, eps


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _check_options(resolution, tol, truncation, max_generations, progress):
    if not (_real(resolution) and resolution > 0 and math.isfinite(resolution)):
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    if not (_real(tol) and 0.0 < tol < 1.0):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if not (_real(truncation) and 0.0 < truncation < 1.0):
        raise ValueError(f"truncation must be in (0, 1), got {truncation!r}")
    if not (_real(max_generations) and math.isfinite(max_generations)
            and max_generations >= 1 and max_generations == int(max_generations)):
        raise ValueError(f"max_generations must be a positive integer, got {max_generations!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True or False, got {progress!r}")


def _grid_seconds(M, d, a, mu, var, resolution, tol, truncation) -> float:
    """Estimated time of ``method="grid"``: generations (the mean collapse time plus
    ``log(1/tol)`` over the tail's decay rate) times the three levels' FFT work
    ``nfft log2 nfft``, times a measured constant."""
    s = math.sqrt(var)
    xmax = math.log(1.0 / truncation)
    h0 = min(s / resolution, -a / 4.0, 0.25)
    kmin = (M - d) / 2.0
    work = 0.0
    for lvl in range(3):
        na = max(1, math.ceil(-a / (h0 / 2**lvl) - 0.5))
        h = -a / (na + 0.5)
        cells = na + 1 + math.ceil(xmax / h)
        kernel = math.ceil((max(14.0 * s, 45.0 / kmin) + 14.0 * s + 4.0) / h) + 3
        n = cells + kernel - 1
        work += n * math.log2(n)
    generations = (-a + 0.6 * s) / -mu + math.log(1.0 / tol) * 2.0 * var / (mu * mu)
    return generations * work * _GRID_SECONDS_PER_UNIT


@accepts_regime_spec
def gaussian_collapse_time(model, regime, eps: float = 0.01, *, method: str = "auto",
                           resolution: float = 4.0, tol: float = 1e-10,
                           truncation: float = 1e-12, max_generations: int = 10_000_000,
                           progress: bool = False) -> GaussianCollapseTime:
    r"""Law of the Gaussian collapse time :math:`\tau_\varepsilon = \min\{t \ge 1:
    (\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon\}` under ``Replace(M)``.

    :math:`X_t = \log(\det\Sigma_t/\det\Sigma_0)` is a random walk with steps
    :math:`Y = \sum_{j=1}^d\log(\chi^2_{M-j}/\mathrm{den})` (``den = M-1`` unbiased,
    ``M`` MLE; Cochran and Bartlett), drift :math:`\mu = E[Y] < 0` and variance
    :math:`s^2 = \mathrm{Var}\,Y` per generation, and :math:`\tau_\varepsilon` its first
    passage below :math:`a = 2d\log\varepsilon`; in 1-D, the first ``t`` with
    :math:`\sigma_t < \varepsilon\sigma_0`.

    Parameters
    ----------
    model : Gaussian
        Only ``model.dim`` and ``model.estimator`` matter (the law does not depend on the
        mean or the covariance).
    regime : Replace
        ``Replace(M)`` with ``M >= d + 1``.
    eps : float
        Threshold in ``(0, 1)``.
    method : {"auto", "grid", "diffusion", "brownian"}
        ``"auto"`` (default): ``"grid"`` when its estimated time is at most
        ``AUTO_GRID_SECONDS`` (5 s: ``M`` up to a few hundred, depending on ``eps``,
        ``d`` and the estimator), else ``"diffusion"``; ``.method`` says which ran.

        ``"grid"``: the exact law, by propagating the density of :math:`X_t` killed
        below ``a`` on a grid, one convolution (FFT) with the exact step law per
        generation. The step law's cell masses come from the characteristic function
        :math:`E e^{iuY} = \prod_j (2/\mathrm{den})^{iu}\Gamma((M-j)/2+iu)/\Gamma((M-j)/2)`.
        The barrier lies on a cell edge and the start at a cell centre. The scheme is
        second order in the spacing ``h``; it runs on three grids,
        :math:`h_0 \approx \sigma_Y/\mathrm{resolution}`, :math:`h_0/2`, :math:`h_0/4`,
        and returns the Richardson extrapolation of the two finer ones; the difference
        with the extrapolation of the two coarser ones is the reported discretisation
        error (conservative: the observed errors are 10--15 times smaller). The grid is
        cut at :math:`x_{\max} = \log(1/\mathrm{truncation})` above the start: as
        :math:`e^{X_t}` is a non-negative supermartingale (a martingale for the unbiased
        1-D fit), Ville's inequality bounds the mass that ever leaves by
        ``truncation``; it is measured and reported. Each grid runs until the survival
        is below ``tol``; beyond, the tail continues geometrically.

        ``"diffusion"``: Siegmund's corrected diffusion approximation, with a
        saddlepoint (skewness) correction and a continuity correction in time. The walk
        crosses ``a`` by an overshoot whose mean, for a driftless walk and a far
        barrier, is :math:`\rho s` with (Siegmund 1979; *Sequential Analysis* 1985,
        ch. X; checked here on Gaussian steps, :math:`\rho = -\zeta(1/2)/\sqrt{2\pi}
        = 0.5826`, and exponential ones, :math:`\rho = 1`)

        .. math:: \rho = -\frac{\gamma}{6} - \frac1\pi\int_0^\infty\frac{1}{\lambda^2}
                  \log\Big|\frac{2(1 - g(\lambda))}{\lambda^2}\Big|\,d\lambda,

        ``g`` the characteristic function of the standardised step
        :math:`(Y-\mu)/s` (from the exact one above) and :math:`\gamma` its skewness
        (the sign: the crossing is downwards, and :math:`\gamma < 0`). The barrier moves
        to :math:`b = |a| + \rho s`. With the drift the mean overshoot is
        :math:`\rho s + |\mu|/4 + o(|\mu|)` (checked against the grid through Wald's
        identity :math:`E\tau = (|a| + E[a - X_\tau])/|\mu|`), a quarter generation;
        the law of the integer :math:`\tau` is read off at :math:`m + 1/4`:
        :math:`P(\tau \le m) = F(m + 1/4)`, which makes :math:`E\tau` agree with Wald's
        identity (measured: to 0.01 generation at ``M = 100``). ``F`` has the density
        of the hitting-time identity of a continuous process,
        :math:`f(t) = (b/t)\,p_t(-b)`, with :math:`p_t` the saddlepoint density of
        :math:`X_t` from the exact cumulant function :math:`K(\theta) = \log E
        e^{\theta Y} = d\theta\log(2/\mathrm{den}) + \sum_j[\log\Gamma(k_j+\theta) -
        \log\Gamma(k_j)]`, :math:`k_j = (M-j)/2`:

        .. math:: f(t) = \frac{b}{t}\,\frac{\exp(tK(\hat\theta) + \hat\theta b)}
                  {\sqrt{2\pi t K''(\hat\theta)}},\qquad K'(\hat\theta) = -\frac{b}{t},

        normalised (its mass differs from 1 by :math:`O(M^{-2})`). For Gaussian steps
        ``f`` is the inverse-Gaussian density; the saddlepoint keeps the skewness
        :math:`\gamma \approx -\sqrt{2/M}` of the steps, which shapes the early
        collapses. Error: measured against ``"grid"`` (see Notes), it decays like
        :math:`M^{-3/2}` (the inverse-Gaussian with the same ``b`` and shift: like
        :math:`M^{-1}`; without ``rho``: like :math:`M^{-1/2}`); ``error`` is a bound
        fitted to the measurements and extrapolated beyond the ``M`` measured.

        ``"brownian"``: the uncorrected inverse-Gaussian first passage of a Brownian
        motion with drift :math:`\mu` and variance :math:`s^2` per generation,
        :math:`P(\tau \le t) = F_{IG}(t; |a|/|\mu|, a^2/s^2)`. It ignores the overshoot
        of the walk below ``a`` and its monitoring at integer times only, so it is
        stochastically too small (biased low, by :math:`O(M^{-1/2})` in the cdf;
        ``error`` is ``nan``).
    resolution : float
        Cells per step standard deviation on the coarsest grid (``"grid"``); the spacing
        is also at most ``|a|/4`` and 0.25.
    tol : float
        Survival at which propagation stops (the ``"tail"`` error); for the
        approximations, the survival at which tabulation stops.
    truncation : float
        Bound on the mass lost above the grid.
    max_generations : int
        Safety cap on the generations propagated (``"grid"``).
    progress : bool
        Show a progress bar (tqdm) over the generations of each grid level.

    Returns
    -------
    GaussianCollapseTime
        A :class:`GenerationDistribution` (``cdf``, ``sf``, ``pmf``, ``mean``, ``var``,
        ``quantile``, ``median``) with ``error``, a bound on the cdf error, and its parts
        in ``errors``.

    Raises
    ------
    ValueError
        A bad argument (naming it), before any work. :class:`~modelcollapse.errors.
        TooLargeError` (a ``ValueError``) when the collapse time is beyond the exact
        integers of float64 (:math:`2^{52}` generations; ``M`` beyond about
        :math:`10^{13}`).

    Notes
    -----
    Cost. ``"grid"``: about :math:`M\log(1/\mathrm{tol})` generations (the tail decays
    like :math:`r^t`, :math:`1 - r \approx \mu^2/(2s^2) \approx 1/(4M)`), each an FFT of
    :math:`(|a| + x_{\max})\sqrt{M/2}\,\mathrm{resolution}` points, on three grids:
    milliseconds for ``M = 10``, about a second for ``M = 100``, tens of seconds for
    ``M = 1000``, hours for ``M = 10**5`` (``progress=True`` shows it). ``"auto"``
    estimates it (generations times :math:`n\log_2 n` per FFT, times a measured
    constant) and runs the grid only under ``AUTO_GRID_SECONDS``. ``"diffusion"`` and
    ``"brownian"``: independent of ``M``, 0.1 to 1 s: about :math:`10^5` saddlepoint
    solves (vectorised Newton steps) on a few thousand quadrature panels, and at most
    ``TABULATE_MAX`` (:math:`2^{20}`) tabulated generations; beyond ``horizon`` the law
    is evaluated from its interpolants (so ``M = 10**7``, a collapse time of
    :math:`10^8` generations, takes no more time or memory); the interpolation error
    (cubic Hermite splines of :math:`\log F` and :math:`\log(1-F)`, measured at the panel
    midpoints) is ``errors["numerical"]``, about 1e-8.

    Error of ``"diffusion"``. ``python benchmarks/bench_gaussian_collapse.py`` measures
    :math:`\sup_t|F_{\mathrm{diffusion}}(t) - F_{\mathrm{grid}}(t)|` on 206 laws:
    ``M`` = 10, 30, 100, 300, 1000 with ``eps`` = 0.99, 0.9, 0.7, 0.5, 0.1, 0.01, ``d`` =
    1, 2 and both estimators; ``d = 3`` for ``M <= 300``; ``d`` = 5, 10 at ``eps`` = 0.5,
    0.01; ``M = 3000`` at ``eps`` = 0.99, 0.9, 0.5 (the grid's own error is below 1e-6).
    For ``eps <= 0.7`` the error decays like :math:`C M^{-p}`, ``p`` = 1.47 to 1.57 (least
    squares over ``M >= 100`` for each ``eps``, ``d`` and estimator); the worst case over
    ``d`` = 1, 2 and the estimators at ``eps = 0.5`` is 5.0e-3, 7.7e-4, 1.2e-4, 2.2e-5,
    3.6e-6 and 6.8e-7 for ``M`` = 10, 30, 100, 300, 1000, 3000 (at ``eps = 0.01``: 1.3e-3
    to 7.5e-7 for ``M`` = 10 to 1000; the uncorrected ``"brownian"`` at ``eps = 0.5``:
    0.12 to 7.3e-3, like :math:`M^{-1/2}`). The stated bound is

    .. math:: \mathtt{errors["approximation"]} = \min\Big(1,\ \frac{0.08}{M^{3/2}}
              + 0.007\,\Delta^3 + \frac{0.31}{M^{1/2}\beta^2} + \frac{0.01}{\beta^4}\Big),
              \qquad \Delta = \frac{|\mu|}{s},\ \beta = \frac{|a|}{s},

    the drift per generation and the barrier in step standard deviations: twice the
    envelope of all 206 measurements, rounded up (``0.01/beta^4`` from the barriers
    within one step standard deviation, where the error, up to 0.07, depends on
    :math:`\beta` rather than on ``M``; the other three by a linear programme). Every
    measured error is below half of it; the median ratio is 5.5. At fixed ``eps`` and
    ``d`` every term is :math:`O(M^{-3/2})` or smaller, so for ``M > 3000`` it
    extrapolates the measured power law; :math:`\Delta^3` (:math:`\Delta \approx
    (d+1)\sqrt{d/(8M)}` unbiased, larger for the MLE) carries the growth with ``d``,
    measured up to ``d = 10`` (fitted on ``d <= 3`` alone, the envelope bounds ``d`` = 5,
    10 too). ``error`` adds ``errors["numerical"]``; for ``M = 10**5``, ``eps = 0.01``
    it is about 1e-8.

    References
    ----------
    .. [1] W. G. Cochran (1934). *The distribution of quadratic forms in a normal system.*
       Mathematical Proceedings of the Cambridge Philosophical Society 30, 178–191.
    .. [2] D. Siegmund (1979). *Corrected diffusion approximations in certain random walk problems.*
       Advances in Applied Probability 11, 701–719; D. Siegmund (1985). *Sequential Analysis: Tests
       and Confidence Intervals*, ch. X. Springer.
    .. [3] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").

    Examples
    --------
    >>> from modelcollapse.models import Gaussian
    >>> from modelcollapse.regimes import Replace
    >>> law = gaussian_collapse_time(Gaussian(0, 1), Replace(10), eps=0.1)
    >>> law.method, round(law.mean(), 3), law.error < 1e-6
    ('grid', 43.094, True)
    >>> big = gaussian_collapse_time(Gaussian(0, 1), Replace(10**5), eps=0.01)
    >>> big.method, big.error < 1e-6
    ('diffusion', True)
    """
    M, d, eps = _check_args(model, regime, eps, method)
    _check_options(resolution, tol, truncation, max_generations, progress)
    den = float(_den(model, M))
    a = 2.0 * d * math.log(eps)
    mu = _drift(M, d, den)
    var = log_chi2_step(M, d, model.estimator)[1]
    extra = {}
    if method == "auto":
        seconds = _grid_seconds(M, d, a, mu, var, resolution, tol, truncation)
        method = "grid" if seconds <= AUTO_GRID_SECONDS else "diffusion"
        extra = {"grid_seconds_estimate": seconds}
    if method == "grid":
        law = _grid(M, d, den, a, mu, var, resolution, tol, truncation, max_generations,
                    progress)
    else:
        law = _approximation(M, d, den, a, mu, var, tol, method == "diffusion")
    law.info.update(extra)
    return law


def _grid(M, d, den, a, mu, var, resolution, tol, truncation, max_generations, progress):
    s = math.sqrt(var)
    xmax = math.log(1.0 / truncation)
    h0 = min(s / resolution, -a / 4.0, 0.25)
    runs = []
    for lvl in range(3):
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc=f"grid {lvl + 1}/3", unit="gen", leave=False)
        try:
            runs.append(_propagate(M, d, den, a, h0 / 2**lvl, xmax, tol, max_generations,
                                   bar))
        finally:
            if bar is not None:
                bar.close()
    laws = [_as_law(k, sv) for k, sv, _, _ in runs]
    hs = [r[3]["h"] for r in runs]
    H = max(law.horizon for law in laws)
    t = np.arange(H + 1)
    cdfs = [law.cdf(t) for law in laws]
    sfs = [law.sf(t) for law in laws]
    cdf_c = _richardson(cdfs[0], cdfs[1], hs[0], hs[1])
    cdf = _richardson(cdfs[1], cdfs[2], hs[1], hs[2])
    sf = _richardson(sfs[1], sfs[2], hs[1], hs[2])
    cdf = np.maximum.accumulate(np.clip(cdf, 0.0, 1.0))
    sf = np.minimum.accumulate(np.clip(sf, 0.0, 1.0))
    errors = {
        "discretisation": float(np.max(np.abs(cdf - cdf_c))),
        "truncation": max(r[2] for r in runs),
        "tail": max(float(r[1][-1]) for r in runs),
        "kernel": max(r[3]["kernel_defect"] for r in runs),
    }
    if errors["tail"] > 10 * tol:  # stopped by max_generations: the law is not known
        raise ValueError(
            f"max_generations={max_generations} stops the propagation with "
            f"{errors['tail']:.3g} of the probability mass not yet collapsed, so the "
            f"law is not determined; the mean collapse time is about {a / mu:.3g} "
            "generations: raise max_generations (or use method='diffusion')")
    ratio = laws[2].ratio
    info = {"levels": [r[3] for r in runs], "xmax": xmax}
    return GaussianCollapseTime(cdf, sf, ratio=ratio, method="grid",
                                error=sum(errors.values()), errors=errors, drift=mu,
                                step_var=var, barrier=a, info=info)


def _diffusion_error_bound(M: int, delta: float, beta: float) -> float:
    """The measured, extrapolated bound on the corrected diffusion's cdf error;
    ``delta = |mu|/s`` and ``beta = |a|/s``, the drift per generation and the barrier in
    step standard deviations."""
    M = float(M)
    return min(1.0, _APPROX_A * M**-1.5 + _APPROX_C * delta**3
               + _APPROX_B * M**-0.5 / beta**2 + _APPROX_E / beta**4)


def _approximation(M, d, den, a, mu, var, tol, corrected):
    """``"diffusion"`` (``corrected``) or ``"brownian"``: a :class:`_PassageLaw`,
    tabulated up to the first generation with survival below ``tol`` (at most
    ``TABULATE_MAX``) and continued by itself."""
    s = math.sqrt(var)
    if corrected:
        cum = _Cumulants(mu, var, (M - np.arange(1, d + 1, dtype=np.float64)) / 2.0, den)
        rho, rho_err = _ladder_rho(cum, den)
        b = -a + rho * s
        shift = 0.25
    else:
        cum = _Cumulants(mu, var)
        rho, rho_err = 0.0, 0.0
        b = -a
        shift = 0.0
    rate = float(-cum.derivs(cum.solve(np.array([0.0])))[2][0])
    t_end = b / -mu + (math.log(1.0 / tol) + 40.0) / rate
    if not t_end < 2.0**52:
        raise TooLargeError(
            f"the collapse time for M={M} is of order {b / -mu:.3g} generations and its "
            f"law extends to {t_end:.3g}, beyond float64's exact integers (2**52): "
            "use a smaller M")
    law = _PassageLaw(cum, b, t_end)
    nodes_below = np.nonzero(law.sf(law.x) <= tol)[0]
    h_nat = math.ceil(law.x[nodes_below[0]] - shift) if nodes_below.size else math.ceil(t_end)
    H = max(1, min(h_nat, TABULATE_MAX))
    t = np.arange(H + 1, dtype=np.float64) + shift
    cdf = law.cdf(t)
    tail = law.sf(t)
    cdf[0], tail[0] = 0.0, 1.0
    info = {"rho": rho, "b": b, "time_shift": shift, "decay_rate": rate,
            "ig_mean": b / -mu, "shape": b * b / var, "mass": law.mass,
            "nodes": int(law.x.size), "tabulated": H, "t_end": t_end}
    if corrected:
        errors = {"approximation": _diffusion_error_bound(M, -mu / s, -a / s),
                  "numerical": law.numerical_error + rho_err}
        error = sum(errors.values())
        method = "diffusion"
    else:
        errors, error, method = {}, math.nan, "brownian"
    return GaussianCollapseTime(cdf, tail, ratio=math.exp(-rate), method=method,
                                error=error, errors=errors, drift=mu, step_var=var,
                                barrier=a, info=info, passage=law, shift=shift)
