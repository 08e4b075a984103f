r"""Exact moments of a Gaussian refitted generation after generation (Shumailov et al.
2024; Gerstgrasser et al. 2024; docs/theory/gaussian.md).

Notation: generation ``m`` fits :math:`N(\mu_m, \Sigma_m)` by the sample mean and the
sample covariance with divisor ``den = K - 1`` (``estimator="unbiased"``) or ``K``
(``"mle"``) on its ``K`` training points; :math:`\mu_0, \Sigma_0` is the real
distribution, :math:`\sigma_m^2 = \Sigma_m` in one dimension. All results are exact
(closed forms, or for Accumulate's non-integer moments numerics to ~1e-12) for finite
``m`` and accept ``m = numpy.inf`` for the limit.

``Replace(M)``. By Cochran's theorem :math:`\Sigma_m = L_{m-1} W_m L_{m-1}^\top/\mathrm{den}`
with :math:`W_m \sim \mathrm{Wishart}_d(M-1, I)` independent of the past, so the
generalised variance is a product of independent factors,
:math:`\det\Sigma_m/\det\Sigma_0 = \prod_{i\le m}\prod_{j=1}^d \chi^2_{M-j,i}/\mathrm{den}`:

.. math:: E\Big(\frac{\det\Sigma_m}{\det\Sigma_0}\Big)^s = \Big[\prod_{j=1}^d
          \Big(\frac{2}{\mathrm{den}}\Big)^s \frac{\Gamma(\frac{M-j}{2}+s)}
          {\Gamma(\frac{M-j}{2})}\Big]^m,\qquad
          E\log\frac{\det\Sigma_m}{\det\Sigma_0} = m\sum_j\Big[\psi\big(\tfrac{M-j}2\big)
          + \log\tfrac{2}{\mathrm{den}}\Big],

with variance :math:`m\sum_j\psi'(\frac{M-j}{2})`; :math:`E\Sigma_m = r^m\Sigma_0`,
:math:`r = (M-1)/\mathrm{den}`; :math:`E\lVert\mu_m-\mu_0\rVert^2 = \mathrm{tr}\,\Sigma_0
\sum_{i<m} r^i/M` (``m/M`` unbiased, :math:`1 - ((M-1)/M)^m` MLE).

``Accumulate(M)``. Generation ``m`` pools all ``mM`` points. With :math:`S_m` the pooled
scatter, the new ``M`` points add their own scatter and the between-group term:
:math:`S_m = S_{m-1} + \sigma_{m-1}^2(\chi^2_{M-1} + \tfrac{m-1}{m} Z^2)`, so
:math:`E\sigma_m^2/E\sigma_{m-1}^2 = 1 - 1/(m^2 M)` (MLE) or
:math:`1 - 1/(m(mM-1))` (unbiased): a convergent product, no collapse. The MLE limit is
:math:`\sigma_0^2 \sqrt M \sin(\pi/\sqrt M)/\pi` (Euler's sine product); the unbiased one
:math:`\sigma_0^2\,\Gamma(2-1/M)/(\Gamma(2-a)\Gamma(2-b))`, ``a, b`` the roots of
:math:`Mk^2 - k - 1`. The mean moves by :math:`(\bar x_m - \mu_{m-1})/m`:
:math:`E(\mu_m-\mu_0)^2 = \sum_{k=1}^m E\sigma_{k-1}^2/(k^2 M) \le \frac{\pi^2}{6}
\frac{\sigma_0^2}{M}` (MLE).

In one dimension, since :math:`S_{k-1} = D_{k-1}\sigma_{k-1}^2` with
:math:`D_k = kM - \delta` (``delta = 1`` unbiased, 0 MLE) and :math:`Q_k \sim
\chi^2_{M-1}`, :math:`Z_k \sim N(0,1)` are independent of the past,
:math:`\sigma_m^2/\sigma_0^2 = \prod_{k\le m} F_k` with *independent* factors

.. math:: F_1 = \frac{Q_1}{M-\delta},\qquad F_k = \frac{(k-1)M - \delta + Y_k}{kM-\delta}
          = 1 + \frac{Y_k - M}{D_k},\quad Y_k = Q_k + \tfrac{k-1}{k}Z_k^2\ (k\ge2),

so :math:`E\sigma_m^{2s} = \sigma_0^{2s}\prod_k E F_k^s` (finite iff
:math:`s > -(M-1)/2`), :math:`E\log(\sigma_m^2/\sigma_0^2) = \sum_k E\log F_k` and
:math:`\mathrm{Var} = \sum_k \mathrm{Var}\log F_k`. :math:`Y_k` has the density
:math:`c_k^{-1/2} f_{\chi^2_M}(y)\,{}_1F_1(\frac12;\frac M2;-\frac{y}{2(k-1)})`,
:math:`c_k = (k-1)/k`; the factor moments are computed by Gauss-Laguerre quadrature
against it for small ``k`` and, from the first ``k`` where the rigorous Lagrange bound on
the remainder is below 1e-17, by the order-19 Taylor series of :math:`(1+u)^s`,
:math:`\log(1+u)`, :math:`\log^2(1+u)` with the exact moments of :math:`Y_k` (from its
cumulants :math:`2^{n-1}(n-1)!(M-1+c_k^n)`). The terms are
:math:`O(1/k^2)` (:math:`\log EF_k^s \sim s(s-2)/(Mk^2)`, :math:`E\log F_k \sim
-2/(Mk^2)`, :math:`\mathrm{Var}\log F_k \sim 2/(Mk^2)`): every moment converges as
``m -> inf`` and :math:`\log\sigma_m^2` has a non-degenerate limit law. In ``d > 1``
dimensions the step factor is :math:`\det(aI + W + c\,zz^\top)/D^d` with ``W`` Wishart,
which has no such closed form: these moments are 1-D only.

``Mix(real=N, synthetic=n, fresh=True)``: N new real points and n points of the previous
fit. With :math:`v_m = E\sigma_m^2/\sigma_0^2` and :math:`e_m = E(\mu_m-\mu_0)^2/\sigma_0^2`,

.. math:: e_m = \frac{N + n^2 e_{m-1} + n v_{m-1}}{(N+n)^2},\quad
          v_m = \frac{N-1 + (n-1)v_{m-1} + \frac{Nn}{N+n}(e_{m-1} + \frac1N +
          \frac{v_{m-1}}{n})}{N+n-\delta},

``delta = 1`` (unbiased) or 0, from :math:`v_1 = (N-1)/(N-\delta)`, :math:`e_1 = 1/N`:
a linear recursion with a unique stationary point (ergodic; no collapse). In ``d``
dimensions every expectation stays proportional to :math:`\Sigma_0`, so the same
scalars give :math:`E\Sigma_m = v_m\Sigma_0` and :math:`E\lVert\mu_m-\mu_0\rVert^2 =
e_m\,\mathrm{tr}\,\Sigma_0`. The step is not a product: the fresh real part makes
:math:`\sigma_m^2 = A_m\sigma_{m-1}^2 + B_m` a perpetuity, so only the first two
moments (this linear recursion) are exact here.

What is exact where (``m`` finite or ``numpy.inf``; ``--``: NotImplementedError):

==========================================  ===========  ==============  ===============
function                                    Replace(M)   Accumulate(M)   Mix(fresh=True)
==========================================  ===========  ==============  ===============
expected_trace_ratio, expected_variance,    closed form  closed form     linear
expected_mean_error                         (any d)      (any d)         recursion (any d)
variance_moment (real s),                   closed form  factor moments  --
expected_det_ratio                          (any d)      (1-D)
expected_std, expected_w2sq                 closed form  factor moments  --
                                            (1-D)        (1-D)
log_det_moments                             closed form  factor moments  --
                                            (any d)      (1-D)
==========================================  ===========  ==============  ===============

"Factor moments" are numerical (quadrature + series with a bounded remainder, relative
error ~1e-12; exact series for integer ``s >= 0``); everything else is a closed form or
an exact recursion. The derivations are in :mod:`modelcollapse.proofs`.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln, hyp1f1, polygamma, psi, roots_genlaguerre, zeta

from ..errors import UnsupportedRegimeError, WrongTypeError
from ..models import Gaussian, _check_positive_int, check_real
from ..regimes import Accumulate, Mix, Regime, Replace, accepts_regime_spec, require_plain_sampling
from .categorical import Moments


class StationaryPoint(NamedTuple):
    """The stationary point of the Gaussian moment recursion under fresh real data:
    :math:`E\\Sigma_m \\to` ``trace_ratio`` :math:`\\Sigma_0`,
    :math:`E\\lVert\\mu_m-\\mu_0\\rVert^2 \\to` ``mean_error``
    :math:`\\mathrm{tr}\\,\\Sigma_0` (a tuple: ``v, e = ...`` still works).

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """

    trace_ratio: float
    mean_error: float


__all__ = [
    "StationaryPoint",
    "expected_det_ratio",
    "expected_mean_error",
    "expected_std",
    "expected_trace_ratio",
    "expected_variance",
    "expected_w2sq",
    "gaussian_schedule",
    "log_det_moments",
    "schedule_bounded",
    "stationary_point",
    "variance_moment",
]


# ---------------------------------------------------------------------- validation
def _check_model(model) -> Gaussian:
    if not isinstance(model, Gaussian):
        raise WrongTypeError(f"model must be a Gaussian, got {type(model).__name__}")
    return model


def _den(model, K):
    return K - 1 if model.estimator == "unbiased" else K


def _check_t(m):
    ts = np.asarray(m, dtype=np.float64)
    if np.any(np.isnan(ts)) or np.any(ts < 0) or np.any(
            np.isfinite(ts) & (ts != np.floor(ts))):
        raise ValueError(f"m must be a non-negative integer (or numpy.inf), got {m!r}")
    return ts


def _ret(arr, t):
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if np.ndim(t) == 0 else arr


def _regime_kind(model, regime, what, allowed=("replace", "accumulate", "mix"),
                 singular_ok=False):
    """The regime's kind; the sample size must give a non-singular fit (``n >= d + 1``),
    or, with ``singular_ok`` (formulas linear in the fit: its mean and trace are defined
    for a singular fit too), at least 2 samples."""
    require_plain_sampling(regime, what)
    need = 2 if singular_ok else model.dim + 1
    why = "for a fit" if singular_ok else "for a non-singular fit"
    if isinstance(regime, Replace):
        kind = "replace"
        if regime.n < need:
            raise ValueError(f"Replace(n) needs n >= {need} {why}, got n={regime.n}")
    elif isinstance(regime, Accumulate):
        kind = "accumulate"
        if regime.n < need:
            raise ValueError(f"Accumulate(n) needs n >= {need} {why}, got n={regime.n}")
    elif isinstance(regime, Mix):
        if not regime.fresh:
            raise UnsupportedRegimeError(
                f"{what} is exact for Mix(..., fresh=True) (new real data each "
                "generation); with the same real data every generation, simulate it "
                "with modelcollapse.montecarlo", _supported(allowed))
        kind = "mix"
        if regime.real < need:
            raise ValueError(f"Mix needs real >= {need} {why}, got real={regime.real}")
    elif isinstance(regime, Regime):
        raise UnsupportedRegimeError(
            f"{what} is exact for Replace, Accumulate and Mix(fresh=True); simulate "
            f"{type(regime).__name__} with modelcollapse.montecarlo", _supported(allowed))
    else:
        raise ValueError(f"regime must be a Regime such as Replace(n), got {regime!r}")
    if kind not in allowed:
        if kind == "mix":
            why = ("the fresh real points enter additively, sigma_m^2 = A_m sigma_{m-1}^2 "
                   "+ B_m (a perpetuity), so sigma_m^2 is not a product of independent "
                   "factors and its non-integer moments have no product form")
        else:
            why = "the variance is not a product of independent factors there"
        raise UnsupportedRegimeError(
            f"{what} has no exact finite-m form under {type(regime).__name__}: {why}; "
            "simulate it with modelcollapse.montecarlo (or use expected_variance / "
            "expected_mean_error)", _supported(allowed))
    return kind


def _supported(kinds) -> tuple[str, ...]:
    names = {"replace": "Replace", "accumulate": "Accumulate", "mix": "Mix(fresh=True)"}
    return tuple(names[k] for k in kinds)


# ---------------------------------------------------------------------- Replace
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)


def _log_gamma_ratio(a, s):
    """log Gamma(a+s)/Gamma(a) to ~1e-16 absolute (gammaln(a+s) - gammaln(a) loses
    ~eps*log Gamma(a), 1e-12 at a = 500): Stirling's series for a, a + s >= 10."""
    if min(a, a + s) < 10:
        return float(gammaln(a + s) - gammaln(a))
    b = a + s
    corr = sum(c * (b ** -(2 * n + 1) - a ** -(2 * n + 1)) for n, c in enumerate(_STIRLING))
    return (a - 0.5) * math.log1p(s / a) + s * math.log(b) - s + corr


def _replace_log_moment(model, M, s):
    """log E (det ratio of one generation)^s."""
    den = _den(model, M)
    j = np.arange(1, model.dim + 1)
    a = (M - j) / 2.0
    if np.any(a + s <= 0):
        raise ValueError(f"the moment of order s={s} is infinite (needs s > -(M-d)/2)")
    return float(sum(_log_gamma_ratio(float(aj), s) for aj in a) + len(a) * s * math.log(2.0 / den))


def _power(log_factor, ts):
    """exp(t * log_factor), with the t = inf limits."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(np.where(np.isfinite(ts), ts, 0.0) * log_factor)
    if log_factor < 0:
        lim = 0.0
    elif log_factor > 0:
        lim = np.inf
    else:
        lim = 1.0
    return np.where(np.isfinite(ts), out, lim)


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


def _mix_matrix(model, N, n):
    """(v, e, 1) -> next (v, e, 1) under Mix(N, n, fresh=True), sigma_0 = 1."""
    delta = 1.0 if model.estimator == "unbiased" else 0.0
    D = N + n - delta
    h = N * n / (N + n)
    A = np.array([
        [((n - 1) + h / n) / D, h / D, ((N - 1) + h / N) / D],
        [n / (N + n) ** 2, n * n / (N + n) ** 2, N / (N + n) ** 2],
        [0.0, 0.0, 1.0],
    ])
    v1 = (N - 1) / (N - delta)
    return A, np.array([v1, 1.0 / N, 1.0])


def _mix_path(model, regime, tmax):
    A, x = _mix_matrix(model, regime.real, regime.synthetic)
    out = np.empty((tmax + 1, 2))
    out[0] = (1.0, 0.0)
    for k in range(1, tmax + 1):
        out[k] = x[:2]
        x = A @ x
    return out


@accepts_regime_spec
def stationary_point(model, regime) -> StationaryPoint:
    r"""Stationary point :math:`(v^*, e^*)` of ``Mix(real=N, synthetic=n, fresh=True)``:
    :math:`E\Sigma_m \to v^*\Sigma_0` and :math:`E\lVert\mu_m-\mu_0\rVert^2 \to
    e^*\,\mathrm{tr}\,\Sigma_0` (the fixed point of the linear recursion in the module
    docstring; the recursion's matrix has spectral radius below 1, so it is reached
    geometrically from any start).

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension; its ``estimator`` (``"unbiased"`` or
        ``"mle"``) sets the divisor ``den``.
    regime : Mix
        ``Mix(real=N, synthetic=n, fresh=True)`` with plain sampling and ``N >= 2``.

    Returns
    -------
    tuple of float
        ``(v_star, e_star)``, a plain tuple.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``regime`` is not ``Mix(..., fresh=True)`` (``Mix(fresh=False)`` included), or
        ``real < 2``.
    UnsupportedRegimeError
        A sampling policy.

    References
    ----------
    .. [1] Q. Bertrand, A. J. Bose, A. Duplessis, M. Jiralerspong, G. Gidel (2024). *On the
       Stability of Iterative Retraining of Generative Models on their own Data.* ICLR 2024.
       arXiv:2310.00429.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    _check_model(model)
    if not (isinstance(regime, Mix) and regime.fresh):
        raise ValueError("stationary_point needs Mix(real, synthetic, fresh=True): "
                         "Replace collapses and Accumulate converges without fresh data")
    _regime_kind(model, regime, "stationary_point", allowed=("mix",), singular_ok=True)
    A, _ = _mix_matrix(model, regime.real, regime.synthetic)
    B = A[:2, :2]
    c = A[:2, 2]
    v, e = np.linalg.solve(np.eye(2) - B, c)
    return StationaryPoint(float(v), float(e))


# ---------------------------------------------------------------------- public moments
@accepts_regime_spec
def expected_trace_ratio(model, regime, m):
    r""":math:`E\,\mathrm{tr}\,\Sigma_m/\mathrm{tr}\,\Sigma_0` (in fact
    :math:`E\Sigma_m = c_m\Sigma_0`; this returns :math:`c_m`). ``m`` may be an array
    or ``numpy.inf``.

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        :math:`c_m`: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [3] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_trace_ratio", singular_ok=True)
    ts = _check_t(m)
    if kind == "replace":
        M = regime.n
        return _ret(_power(math.log((M - 1) / _den(model, M)), ts), m)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_v(model, regime.n, tmax)
        lim = _accumulate_v_limit(model, regime.n)
    else:
        path = _mix_path(model, regime, tmax)[:, 0]
        lim = stationary_point(model, regime)[0]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out, m)


@accepts_regime_spec
def expected_variance(model, regime, m):
    r""":math:`E\sigma_m^2` of a 1-D Gaussian (:math:`E\Sigma_m` in ``d`` dimensions: a
    ``d x d`` matrix per ``m``).

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        1-D: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array. ``d`` dimensions: an array of shape ``numpy.shape(m) + (d, d)``.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [3] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    c = np.asarray(expected_trace_ratio(model, regime, m))
    if model.dim == 1:
        return _ret(c * model.cov[0, 0], m)
    return np.multiply.outer(c, model.cov)


@accepts_regime_spec
def expected_mean_error(model, regime, m):
    r""":math:`E\lVert\mu_m - \mu_0\rVert^2`.

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        The expected squared distance of the means: a float for a scalar ``m``, a float64 array
        of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] M. Gerstgrasser et al. (2024). *Is Model Collapse Inevitable? Breaking the Curse of
       Recursion by Accumulating Real and Synthetic Data.* arXiv:2404.01413.
    .. [2] J. Kazdan et al. (2024). *Collapse or Thrive? Perils and Promises of Synthetic Data in a
       Self-Generating World.* arXiv:2410.16713.
    .. [3] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [4] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [5] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_mean_error", singular_ok=True)
    ts = _check_t(m)
    tr0 = float(np.trace(model.cov))
    if kind == "replace":
        M = regime.n
        r = (M - 1) / _den(model, M)
        if r == 1.0:
            out = ts / M
        else:  # sum_{i<m} r^i / M
            out = (1.0 - _power(math.log(r), ts)) / (1.0 - r) / M
        return _ret(out * tr0, m)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_e(model, regime.n, tmax)
        lim = _accumulate_e_limit(model, regime.n) if np.any(~np.isfinite(ts)) else 0.0
    else:
        path = _mix_path(model, regime, tmax)[:, 1]
        lim = stationary_point(model, regime)[1]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out * tr0, m)


def _acc_1d(model, what):
    if model.dim != 1:
        raise ValueError(
            f"{what} under Accumulate is implemented for a 1-D Gaussian: in d dimensions "
            "the step factor det(aI + W + c z z^T)/D^d (W Wishart) has no closed-form "
            "moments; simulate it with modelcollapse.montecarlo")


@accepts_regime_spec
def variance_moment(model, regime, m, s=1.0):
    r""":math:`E(\det\Sigma_m/\det\Sigma_0)^s` (1-D: :math:`E\sigma_m^{2s}/\sigma_0^{2s}`).

    ``Replace(M)``: :math:`[\prod_{j\le d}(2/\mathrm{den})^s\Gamma(\frac{M-j}2+s)/
    \Gamma(\frac{M-j}2)]^m`, any real ``s > -(M-d)/2``.

    ``Accumulate(M)``, 1-D only: :math:`\prod_{k\le m} E F_k^s` over the independent
    step factors of the module docstring, any real ``s > -(M-1)/2`` (only
    :math:`F_1 = \chi^2_{M-1}/(M-\delta)` limits ``s``; :math:`F_k \ge 1 - M/D_k > 0` for
    ``k >= 2``); exact (finite binomial expansion) for integer ``s >= 0``, quadrature and
    a series with a bounded remainder otherwise (relative error ~1e-12). Converges as
    ``m -> inf`` (:math:`\log E F_k^s \sim s(s-2)/(Mk^2)`).

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension under ``Replace`` and 1-D under
        ``Accumulate``; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor
        ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= d + 1`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.
    s : float, default 1.0
        Order of the moment: ``s > -(M-d)/2`` under ``Replace``, ``s > -(M-1)/2`` under
        ``Accumulate``.

    Returns
    -------
    float or numpy.ndarray
        The moment: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < d + 1``, ``s`` at or below its
        lower limit (an infinite moment), ``Accumulate`` with ``d > 1``, or ``regime`` not a
        :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "variance_moment", allowed=("replace", "accumulate"))
    ts = _check_t(m)
    s = float(s)
    if kind == "accumulate":
        _acc_1d(model, "variance_moment")
        return _ret(np.exp(_acc_sum(model, regime.n, ts, "pow", s)), m)
    return _ret(_power(_replace_log_moment(model, regime.n, s), ts), m)


@accepts_regime_spec
def expected_det_ratio(model, regime, m):
    r""":math:`E\det\Sigma_m/\det\Sigma_0 = [\prod_{j=1}^d (M-j)/\mathrm{den}]^m` under
    ``Replace(M)``: tends to 0 for ``d >= 2`` even with the unbiased estimator. Under
    ``Accumulate`` (1-D) it is :func:`expected_trace_ratio`.

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension under ``Replace`` and 1-D under
        ``Accumulate``; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor
        ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= d + 1`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        The expected ratio: a float for a scalar ``m``, a float64 array of the shape of ``m``
        for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < d + 1``, ``Accumulate`` with
        ``d > 1``, or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    """
    return variance_moment(model, regime, m, 1.0)


@accepts_regime_spec
def expected_std(model, regime, m):
    r""":math:`E\sigma_m` of a 1-D Gaussian. ``Replace(M)``: :math:`\sigma_0 [c_4]^m`,
    :math:`c_4 = \sqrt{2/\mathrm{den}}\,\Gamma(M/2)/\Gamma((M-1)/2)`. ``Accumulate(M)``:
    :math:`\sigma_0\prod_{k\le m} E F_k^{1/2}` (see :func:`variance_moment`); the limit
    ``m = inf`` is finite and positive.

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution :math:`N(\mu_0, \sigma_0^2)`; its ``estimator``
        (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= 2`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        :math:`E\sigma_m`: a float for a scalar ``m``, a float64 array of the shape of ``m`` for
        an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < 2``, ``model`` not 1-D, or
        ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_std is for a 1-D Gaussian")
    return _ret(np.asarray(variance_moment(model, regime, m, 0.5)) * model.std, m)


def log_chi2_step(M: int, d: int = 1, estimator: str = "unbiased") -> Moments:
    r"""Mean and variance of the step :math:`Y = \sum_{j=1}^d\log(\chi^2_{M-j}/\mathrm{den})`.

    :math:`E[Y] = \sum_j [\psi((M-j)/2) + \log(2/\mathrm{den})]`,
    :math:`\mathrm{Var}\,Y = \sum_j \psi'((M-j)/2)`.

    Parameters
    ----------
    M : int
        Sample size per generation, ``M >= d + 1``.
    d : int, default 1
        Dimension, ``1 <= d <= 10**6``.
    estimator : {"unbiased", "mle"}, default "unbiased"
        The divisor of the fitted covariance: ``den = M - 1`` or ``M``.

    Returns
    -------
    tuple of float
        ``(mean, var)`` of ``Y``, a plain tuple.

    Raises
    ------
    WrongTypeError
        ``M`` or ``d`` not an integer.
    ValueError
        ``d < 1``, ``d > 10**6``, ``M < d + 1``, or an unknown ``estimator``.

    References
    ----------
    .. [1] W. G. Cochran (1934). *The distribution of quadratic forms in a normal system.*
       Mathematical Proceedings of the Cambridge Philosophical Society 30, 178–191.
    .. [2] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").
    """
    d = _check_positive_int(d, "d")
    M = _check_positive_int(M, "M", minimum=d + 1)  # chi-square degrees of freedom M - j
    if estimator not in ("unbiased", "mle"):
        raise ValueError(f"estimator must be 'unbiased' or 'mle', got {estimator!r}")
    if d > 10**6:
        raise ValueError(f"d must be <= 10**6, got {d}")
    den = float(M - 1 if estimator == "unbiased" else M)
    ks = (float(M) - np.arange(1, d + 1)) / 2.0  # float: any M, no int64 overflow
    mean = float(np.sum(psi(ks)) + d * math.log(2.0 / den))
    var = float(np.sum(polygamma(1, ks)))
    return Moments(mean, var)


@accepts_regime_spec
def log_det_moments(model, regime, m):
    r"""Mean and variance of :math:`\log(\det\Sigma_m/\det\Sigma_0)` (1-D: of
    :math:`\log\sigma_m^2/\sigma_0^2`). Returns ``(mean, var)``.

    ``Replace(M)``: ``m`` times :math:`\sum_j[\psi(\frac{M-j}2) + \log\frac2{\mathrm{den}}]`
    and :math:`\sum_j\psi'(\frac{M-j}2)` (a random walk: mean and variance grow linearly).

    ``Accumulate(M)``, 1-D only: :math:`\sum_{k\le m} E\log F_k` and
    :math:`\sum_{k\le m}\mathrm{Var}\log F_k` over the independent step factors (the
    ``k = 1`` terms are :math:`\psi(\frac{M-1}2) + \log\frac{2}{M-\delta}` and
    :math:`\psi'(\frac{M-1}2)`); both converge as ``m -> inf`` (terms
    :math:`O(1/k^2)`): :math:`\log\sigma_m^2` has a non-degenerate limit law.

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension under ``Replace`` and 1-D under
        ``Accumulate``; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor
        ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= d + 1`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    tuple
        ``(mean, var)``, a plain tuple: each a float for a scalar ``m`` and a float64 array
        of the shape of ``m`` for an array. Under ``Replace`` the limit ``m = inf`` is
        ``-inf`` or ``inf`` (the sign of the drift) for the mean and ``inf`` for the
        variance.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < d + 1``, ``Accumulate`` with
        ``d > 1``, or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "log_det_moments", allowed=("replace", "accumulate"))
    ts = _check_t(m)
    M = regime.n
    if kind == "accumulate":
        _acc_1d(model, "log_det_moments")
        return (_ret(_acc_sum(model, M, ts, "log"), m),
                _ret(_acc_sum(model, M, ts, "var"), m))
    drift, var = log_chi2_step(M, model.dim, model.estimator)  # one generation's step
    with np.errstate(invalid="ignore"):
        mean = np.where(np.isfinite(ts), ts * drift, -np.inf if drift < 0 else np.inf)
        v = np.where(np.isfinite(ts), ts * var, np.inf)
    return Moments(_ret(mean, m), _ret(v, m))


@accepts_regime_spec
def expected_w2sq(model, regime, m):
    r""":math:`E W_2^2(N(\mu_0,\sigma_0^2), N(\mu_m,\sigma_m^2)) = E(\mu_m-\mu_0)^2 +
    E\sigma_m^2 - 2\sigma_0 E\sigma_m + \sigma_0^2` for a 1-D Gaussian under
    ``Replace(M)`` or ``Accumulate(M)``. ``Replace``: unbounded in ``m`` with the
    unbiased estimator (Shumailov et al. Thm 3.1), bounded with the MLE (limit
    :math:`2\sigma_0^2`). ``Accumulate``: bounded for both estimators, with a finite
    positive limit (:math:`E\sigma_m` from :func:`expected_std`).

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution :math:`N(\mu_0, \sigma_0^2)`; its ``estimator``
        (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= 2`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        The expected squared Wasserstein-2 distance: a float for a scalar ``m``, a float64 array
        of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < 2``, ``model`` not 1-D, or
        ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_w2sq is implemented for a 1-D Gaussian")
    _regime_kind(model, regime, "expected_w2sq", allowed=("replace", "accumulate"))
    s0 = model.std
    out = (np.asarray(expected_mean_error(model, regime, m))
           + np.asarray(expected_variance(model, regime, m))
           - 2 * s0 * np.asarray(expected_std(model, regime, m)) + s0 * s0)
    return _ret(out, m)


# ---------------------------------------------------------------------- schedules
def gaussian_schedule(model, sizes) -> dict:
    r"""A 1-D Gaussian refitted under ``Replace`` with sample size ``sizes[i-1]`` at
    generation ``i`` (Shumailov et al.: growing sample sizes). Returns arrays over
    ``m = 0..len(sizes)`` of ``variance`` :math:`E\sigma_m^2`, ``std`` :math:`E\sigma_m`,
    ``mean_error`` :math:`E(\mu_m-\mu_0)^2 = \sum_{i\le m} E\sigma_{i-1}^2/M_i` and
    ``w2sq`` :math:`E W_2^2`. With the unbiased estimator ``mean_error`` is
    :math:`\sigma_0^2\sum_i 1/M_i`: :math:`E W_2^2` stays bounded iff
    :math:`\sum_i 1/M_i < \infty` (see :func:`schedule_bounded`).

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the
        divisor of the fitted variance.
    sizes : sequence of int
        The sample size of each generation, ``sizes[i-1]`` at generation ``i``, each
        ``>= 2`` (integer-valued floats are accepted).

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``"variance"``, ``"std"``, ``"mean_error"`` and ``"w2sq"``, each a float64
        array of length ``len(sizes) + 1`` indexed by ``m`` (``m = 0``: the real model).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``, or a size is not a whole number.
    ValueError
        ``model`` is not 1-D, or a size is below 2.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("gaussian_schedule is implemented for a 1-D Gaussian")
    Ms = [_check_positive_int(int(m) if float(m).is_integer() else m, "sizes[i]",
                              minimum=2) for m in sizes]
    v = [1.0]
    sd = [1.0]
    e = [0.0]
    for M in Ms:
        den = _den(model, M)
        e.append(e[-1] + v[-1] / M)
        v.append(v[-1] * (M - 1) / den)
        sd.append(sd[-1] * math.exp(0.5 * math.log(2.0 / den) + math.lgamma(M / 2)
                                    - math.lgamma((M - 1) / 2)))
    var0 = model.cov[0, 0]
    v, sd, e = np.array(v) * var0, np.array(sd) * model.std, np.array(e) * var0
    w2 = e + v - 2 * model.std * sd + var0
    return {"variance": v, "std": sd, "mean_error": e, "w2sq": w2}


def schedule_bounded(exponent: float) -> bool:
    r"""Whether :math:`E W_2^2` stays bounded (unbiased estimator) for sample sizes
    :math:`M_i \propto i^{p}`: iff :math:`\sum_i i^{-p}` converges, i.e. ``p > 1``
    (decided by sympy's convergence test).

    Parameters
    ----------
    exponent : float
        The exponent ``p`` of the growth of the sample sizes, finite.

    Returns
    -------
    bool
        ``True`` iff the series converges (``p > 1``).

    Raises
    ------
    WrongTypeError
        ``exponent`` is not a real number.
    ValueError
        ``exponent`` is not finite.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    import sympy as sp

    exponent = check_real(exponent, "exponent")
    if not math.isfinite(exponent):
        raise ValueError(f"exponent must be finite, got {exponent}")
    p = sp.nsimplify(exponent)
    i = sp.Symbol("i", positive=True, integer=True)
    return bool(sp.Sum(i ** (-p), (i, 1, sp.oo)).is_convergent())
