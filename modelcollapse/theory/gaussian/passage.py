r"""The passage-time machinery of :func:`modelcollapse.theory.gaussian_collapse_time`: the
step law of the log-determinant walk, its grid propagation, and Siegmund's corrected
diffusion (cumulants, ladder heights, the passage law)."""

from __future__ import annotations

import math

import numpy as np
from scipy import fft, special

from ..distributions import GenerationDistribution
from .log_moments import log_chi2_step

__all__ = [
    "step_cf",
]


# ---------------------------------------------------------------------- the step law
def step_cf(u: np.ndarray, M: int, d: int, den: float) -> np.ndarray:
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
    while abs(step_cf(np.array([math.pi * q / h]), M, d, den)[0]) > 1e-18 and q < 999:
        q += 2
    hs = h / q
    mlo, mhi = math.floor(lo / h) - 1, math.ceil(hi / h) + 1
    ncell = mhi - mlo + 1
    nsub = ncell * q
    L = fft.next_fast_len(2 * nsub, real=True)
    u = 2.0 * math.pi * np.arange(L // 2 + 1) / (L * hs)
    x0 = mlo * h - (q // 2) * hs  # centre of the first sub-cell
    phi = step_cf(u, M, d, den) * np.sinc(u * hs / (2.0 * math.pi)) * np.exp(-1j * u * x0)
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
