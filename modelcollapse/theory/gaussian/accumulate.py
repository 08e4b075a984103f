r"""The Gaussian chain under ``Accumulate(M)``: the exact factors of
:math:`E\sigma_m^{2s}` and their series (see :mod:`modelcollapse.theory.gaussian.moments`
for the model)."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import gammaln, hyp1f1, polygamma, psi, roots_genlaguerre, zeta

from ._common import _log_gamma_ratio


# ---------------------------------------------------------------------- accumulate / mix
def _accumulate_v(model, M, tmax):
    """v_k = E sigma_k^2/sigma_0^2 (trace ratio) for k = 0..tmax under Accumulate(M)."""
    k = np.arange(2, tmax + 1, dtype=np.float64)
    if model.estimator == "mle":
        v1 = (M - 1) / M
        drop = 1.0 / (k * k * M)
    else:
        v1 = 1.0
        drop = 1.0 / (k * (k * M - 1.0))
    v = np.empty(tmax + 1)
    v[0] = 1.0
    if tmax >= 1:
        v[1] = v1
        # prod (1 - drop) as exp(sum log1p(-drop)): a cumprod of the rounded 1 - drop
        # drifts by ~1e-12 over 10^5 generations
        v[2:] = v1 * np.exp(np.cumsum(np.log1p(-drop)))
    return v


def _accumulate_v_limit(model, M):
    if model.estimator == "mle":
        x = 1.0 / math.sqrt(M)
        return math.sin(math.pi * x) / (math.pi * x)
    disc = math.sqrt(1.0 + 4.0 * M)
    a, b = (1 + disc) / (2 * M), (1 - disc) / (2 * M)
    return math.exp(math.lgamma(2 - 1 / M) - math.lgamma(2 - a) - math.lgamma(2 - b))


def _accumulate_e(model, M, tmax):
    """e_k = E (mu_k - mu_0)^2/sigma_0^2 for k = 0..tmax."""
    v = _accumulate_v(model, M, tmax)
    k = np.arange(1, tmax + 1, dtype=np.float64)
    e = np.zeros(tmax + 1)
    e[1:] = np.cumsum(v[:-1] / (k * k * M))
    return e


def _accumulate_e_limit(model, M, tol=1e-15):
    # sum_k v_{k-1}/(k^2 M): v converges, so sum the first 10^6 terms exactly and the
    # rest with the limit of v (error < (v_K - v_inf)/(K M) < 1e-12)
    K = 1_000_000
    e = _accumulate_e(model, M, K)[-1]
    vinf = _accumulate_v_limit(model, M)
    tail = vinf * float(polygamma(1, K + 1)) / M  # sum_{k > K} 1/k^2 = psi'(K+1)
    return e + tail


# ---------------------------------------------------------------------- accumulate factors
# sigma_t^2/sigma_0^2 = prod_{k<=t} F_k with independent F_1 = chi2_{M-1}/(M - delta) and
# F_k = 1 + U_k, U_k = (Y_k - M)/D_k, D_k = kM - delta, Y_k = chi2_{M-1} + c_k Z^2,
# c_k = (k-1)/k (k >= 2). The law of Y_k is the chi2_M law tilted by a 1F1 factor:
#     f_Y(y) = c_k^{-1/2} f_{chi2_M}(y) 1F1(1/2; M/2; -y/(2(k-1)))
# (sum of Gamma((M-1)/2, 2) and Gamma(1/2, 2c_k)). Per factor we need
#     "pow": E F^s - 1,  "log": E log F,  "var": Var log F.
# Small k: Gauss-Laguerre quadrature against chi2_M (nodes y = 2x, weight x^{M/2-1}e^{-x})
# times the 1F1 tilt. Large k: Taylor series of (1+u)^s, log(1+u), log^2(1+u) in u to
# order J-1, with the exact moments E U^j from the cumulants of Y, and a rigorous bound on
# the Lagrange remainder (u >= -M/D, so 1 + xi >= a/D, a = D - M):
#     pow:  |binom(s,J)| (D/a)^{J-s} E U^J       (J > s; zero for integer 0 <= s < J)
#     log:  (D/a)^J E U^J / J
#     log^2: 2 (H_{J-1} + log(D/a)) (D/a)^J E U^J / J,
# J even so that E U^J = E|U|^J. The series is used from the first k after which every
# bound is below _ACC_TOL; t = inf adds the tail sum_{k>K} g(k), g analytic in 1/k,
# by interpolating k^2 g(k) in 1/k at K, 2K, ..., 32K and summing with Hurwitz zetas.
_ACC_J = 20
_ACC_TOL = 1e-17
_ACC_NODES = 160
_ACC_KQUAD_MAX = 20_000
_ACC_KTAIL = 4096


def _delta(model):
    return 1.0 if model.estimator == "unbiased" else 0.0


@functools.lru_cache(maxsize=64)
def _chi2_rule(M, n=_ACC_NODES):
    """Gauss rule for E g(chi2_M): nodes y and weights summing to 1."""
    x, w = roots_genlaguerre(n, M / 2.0 - 1.0)
    return 2.0 * x, w / math.exp(gammaln(M / 2.0))


def _acc_g(kind, u, s):
    lu = np.log1p(u)
    if kind == "pow":
        return np.expm1(s * lu)
    if kind == "log":
        return lu
    return lu * lu  # "log2"


def _acc_quad(M, delta, ks, kind, s):
    """E g(U_k) by quadrature for k >= 2 (kind: "pow", "log", "log2")."""
    y, w = _chi2_rule(M)
    out = np.empty(len(ks))
    for lo in range(0, len(ks), 512):
        k = np.asarray(ks[lo:lo + 512], dtype=np.float64)[:, None]
        tilt = hyp1f1(0.5, M / 2.0, -y / (2.0 * (k - 1.0))) * np.sqrt(k / (k - 1.0))
        u = (y - M) / (k * M - delta)
        out[lo:lo + 512] = (w * tilt * _acc_g(kind, u, s)).sum(axis=1)
    return out


def _acc_u_moments(M, delta, k, J):
    """E U_k^n, n = 0..J, for an array of k >= 2 (exact, from the cumulants of Y_k:
    kappa_n = 2^{n-1}(n-1)! (M - 1 + c^n), and E Y = M - 1/k)."""
    k = np.asarray(k, dtype=np.float64)
    c = (k - 1.0) / k
    D = k * M - delta
    kap = [None, -1.0 / k / D]  # cumulants of U = (Y - M)/D
    for n in range(2, J + 1):
        kap.append(2.0 ** (n - 1) * math.factorial(n - 1) * (M - 1.0 + c**n) / D**n)
    m = [np.ones_like(k)]
    for n in range(1, J + 1):
        m.append(sum(math.comb(n - 1, i - 1) * kap[i] * m[n - i] for i in range(1, n + 1)))
    return np.stack(m, axis=-1)


def _acc_series(M, delta, k, kind, s, J=_ACC_J):
    """(value, truncation bound) of E g(U_k) by the order-(J-1) Taylor series."""
    k = np.asarray(k, dtype=np.float64)
    mu = _acc_u_moments(M, delta, k, J)
    j = np.arange(1, J)
    logr = np.log(k * M - delta) - np.log((k - 1.0) * M - delta)
    if kind == "pow":
        # binom(s, j) for j = 0..J (scipy's binom is nan at negative integer s)
        bin_ = np.concatenate([[1.0], np.cumprod((s - np.arange(J)) / np.arange(1, J + 1))])
        coef = bin_[1:J]
        bound = abs(bin_[J]) * np.exp((J - s) * logr) * mu[..., J]
    elif kind == "log":
        coef = (-1.0) ** (j + 1) / j
        bound = np.exp(J * logr) * mu[..., J] / J
    else:
        harm = np.concatenate([[0.0], np.cumsum(1.0 / j)])  # H_0..H_{J-1}
        coef = (-1.0) ** j * 2.0 * harm[j - 1] / j
        bound = 2.0 * (harm[J - 1] + logr) * np.exp(J * logr) * mu[..., J] / J
    return mu[..., 1:J] @ coef, bound


def _acc_series_from(M, delta, kind, s, J):
    """First k >= 2 from which every series bound is below _ACC_TOL (ValueError if
    beyond _ACC_KQUAD_MAX)."""
    lo = 2
    for hi in (257, 4097, _ACC_KQUAD_MAX + 1):  # the bound decreases in k: scan in blocks
        k = np.arange(lo, hi, dtype=np.float64)
        bad = np.nonzero(~(_acc_series(M, delta, k, kind, s, J)[1] <= _ACC_TOL))[0]
        if bad.size == 0:
            return lo
        if bad[-1] < k.size - 1:
            return int(k[bad[-1]]) + 1
        lo = hi
    raise ValueError(f"the moment of order s={s} needs too many quadrature steps")


def _acc_kinds(kind):
    return ("log", "log2") if kind == "var" else (kind,)


def _acc_term(M, delta, k, kind, s, k0, J):
    """Per-generation term for an array of k >= 2 (series of order J-1 where k >= k0)."""
    k = np.asarray(k, dtype=np.float64)
    vals = {}
    for kd in _acc_kinds(kind):
        v = np.empty(k.shape)
        small = k < k0
        if np.any(small):
            v[small] = _acc_quad(M, delta, k[small], kd, s)
        for lo in range(0, k.size, 1 << 16):  # blocks: the moments take (J+1) arrays
            blk = slice(lo, lo + (1 << 16))
            big = ~small[blk]
            if np.any(big):
                v[blk][big] = _acc_series(M, delta, k[blk][big], kd, s, J)[0]
        vals[kd] = v
    if kind == "pow":
        return np.log1p(vals["pow"])  # log E F_k^s
    if kind == "log":
        return vals["log"]
    return vals["log2"] - vals["log"] ** 2


def _acc_first(M, delta, kind, s):
    """The k = 1 term: F_1 = chi2_{M-1}/(M - delta)."""
    a = (M - 1) / 2.0
    if kind == "pow":
        if a + s <= 0:
            raise ValueError(f"the moment of order s={s} is infinite (needs s > "
                             f"-(M-1)/2 = {-a})")
        return _log_gamma_ratio(a, s) + s * math.log(2.0 / (M - delta))
    if kind == "log":
        return float(psi(a) + math.log(2.0 / (M - delta)))
    return float(polygamma(1, a))


def _acc_sum(model, M, ts, kind, s=0.0):
    """sum_{k<=t} of the per-generation term at each t (t = inf: the convergent limit):
    log E F_k^s ("pow"), E log F_k ("log") or Var log F_k ("var")."""
    delta = _delta(model)
    # J even and > s (for an integer 0 <= s < J the binomial series is finite: exact)
    J = max(_ACC_J, 2 * (int(max(s, 0.0)) // 2) + 4) if kind == "pow" else _ACC_J
    first = _acc_first(M, delta, kind, s)
    k0 = max(_acc_series_from(M, delta, kd, s, J) for kd in _acc_kinds(kind))
    finite = ts[np.isfinite(ts)]
    tmax = int(finite.max()) if finite.size else 0
    need_inf = bool(np.any(~np.isfinite(ts)))
    K = max(tmax, k0, _ACC_KTAIL) if need_inf else tmax
    cum = np.zeros(K + 1)
    if K >= 1:
        cum[1] = first
    if K >= 2:
        cum[2:] = first + np.cumsum(_acc_term(M, delta, np.arange(2, K + 1), kind, s, k0, J))
    lim = np.nan
    if need_inf:
        kk = K * 2.0 ** np.arange(6)
        g = _acc_term(M, delta, kk, kind, s, k0, J) * kk**2
        p = np.polynomial.polynomial.polyfit(1.0 / kk, g, 5)
        lim = cum[K] + sum(p[m] * float(zeta(m + 2, K + 1)) for m in range(6))
    idx = np.where(np.isfinite(ts), ts, 0).astype(np.int64)
    return np.where(np.isfinite(ts), cum[idx], lim)
