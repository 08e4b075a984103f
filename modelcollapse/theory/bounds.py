r"""Published bounds, as functions returning numbers.

Seddik et al. 2024 (arXiv 2404.05090) Theorem 1, and the rates of Suresh, Thangaraj &
Khandavally (arXiv 2412.17646, AISTATS 2025) with :math:`g(x) = 1 - e^{-x}`,
:math:`g_1 = 1`, :math:`g_{k+1} = g(g_k)`.

Every function that is algebraic in its inputs accepts ``fractions.Fraction`` inputs
(via ``exact=True``) and then returns exact rationals, so that property tests can check
a true inequality without rounding error.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ..models import Categorical, _check_positive_int, check_real, exact_probabilities
from ..regimes import Mix, Replace, require_plain_sampling

__all__ = [
    "mardia_G",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
]


def _n_of(regime) -> int:
    require_plain_sampling(regime, "this bound")
    if isinstance(regime, Replace):
        return regime.n
    if isinstance(regime, (int, np.integer)) and not isinstance(regime, bool):
        return _check_positive_int(regime, "n")
    raise ValueError(f"regime must be Replace(n) or an int n, got {regime!r}")


def _p_and_stats(model, exact: bool):
    p = model.p if isinstance(model, Categorical) else model
    if exact:
        fr = exact_probabilities(p)
        S0 = sum(x * x for x in fr)
        s_tilde = sum(1 for x in fr if x > 0)
        return S0, s_tilde
    p = np.asarray(p, dtype=np.float64)
    return float(p @ p), int(np.count_nonzero(p))


def seddik_collapse_probability_bounds(model, regime, m: int, *, exact: bool = False):
    r"""Seddik Thm 1 eq. (7): bounds on :math:`\rho_m = P(T \le m)`, ``m >= 1``.

    .. math:: 1 - n(1-S_0)(1-\tfrac1n)^m \;\le\; \rho_m \;\le\;
              1 - \frac{(1-S_0)(1-\frac1n)^m}{1 - 1/\tilde s}

    Returns ``(lower, upper)``; for a Dirac :math:`p^{(0)}` (``s~ = 1``) both are 1.
    """
    n = _n_of(regime)
    m = _check_positive_int(m, "m")
    S0, st = _p_and_stats(model, exact)
    if st == 1:
        return (Fraction(1), Fraction(1)) if exact else (1.0, 1.0)
    if exact:
        decay = (1 - Fraction(1, n)) ** m
        lower = 1 - n * (1 - S0) * decay
        upper = 1 - (1 - S0) * decay / (1 - Fraction(1, st))
        return lower, upper
    decay = math.exp(m * math.log1p(-1.0 / n)) if n > 1 else 0.0
    return 1 - n * (1 - S0) * decay, 1 - (1 - S0) * decay / (1 - 1 / st)


def seddik_expected_collapse_time_bounds(model, regime, *, exact: bool = False):
    r"""Seddik Thm 1 eq. (8):

    .. math:: 1 + \frac{(1-S_0)(n-1)}{1 - 1/\tilde s} \le E[T] \le 1 + (1-S_0)\,n(n-1).
    """
    n = _n_of(regime)
    S0, st = _p_and_stats(model, exact)
    if st == 1:
        return (Fraction(1), Fraction(1)) if exact else (1.0, 1.0)
    if exact:
        return 1 + (1 - S0) * (n - 1) / (1 - Fraction(1, st)), 1 + (1 - S0) * n * (n - 1)
    return 1 + (1 - S0) * (n - 1) / (1 - 1 / st), 1 + (1 - S0) * n * (n - 1)


#: suresh_g iterates the recursion exactly this far, then integrates its asymptotic ODE
SURESH_G_ITERATIONS = 100_000


def suresh_g(k: int) -> float:
    r""":math:`g_k`: :math:`g_1 = 1`, :math:`g_{k+1} = 1 - e^{-g_k}`; :math:`k g_k \to 2`.

    The recursion is iterated exactly up to ``k = 10**5``. Beyond, :math:`u = 1/g`
    obeys :math:`u_{k+1} = u_k + 1/2 + 1/(12u_k) + O(u_k^{-3})` (expand
    :math:`1/(1-e^{-x}) = 1/x + 1/2 + x/12 - x^3/720 + \dots`), whose flow
    :math:`du/dk = 1/2 + 1/(12u)` integrates to
    :math:`k - k_0 = 2(u - u_0) - \tfrac13\ln\frac{6u+1}{6u_0+1}`, solved for ``u`` by
    Newton's method: relative error below :math:`10^{-11}` for every ``k``.
    """
    k = _check_positive_int(k, "k")
    g = 1.0
    for _ in range(min(k, SURESH_G_ITERATIONS) - 1):
        g = -math.expm1(-g)
    if k <= SURESH_G_ITERATIONS:
        return g
    u0 = 1.0 / g
    dk = float(k - SURESH_G_ITERATIONS)
    u = u0 + dk / 2
    for _ in range(50):
        f = 2 * (u - u0) - math.log((6 * u + 1) / (6 * u0 + 1)) / 3 - dk
        step = f / (2 - 2 / (6 * u + 1))
        u -= step
        if abs(step) <= 1e-15 * u:
            break
    return 1.0 / u


def suresh_bernoulli_bounds(p0: float, n: int, k: int):
    r"""Bounds on the survival :math:`P(P_k \ne 0)` of a Bernoulli parameter ``p0``
    re-estimated ``k`` times from ``n`` samples:

    .. math:: 1 - e^{-np_0g_k} \le P(P_k \ne 0) \le
              1 - (1 - 3np_0^2 - 3kp_0)^+\, e^{-np_0g_k}.

    ``P_1`` is the estimate from ``n`` samples of ``p0`` (Seddik's ``p^(1)``).
    """
    p0 = check_real(p0, "p0")
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be in [0, 1], got {p0}")
    n = _check_positive_int(n, "n")
    k = _check_positive_int(k, "k")
    e = math.exp(-n * p0 * suresh_g(k))
    lower = 1.0 - e
    upper = 1.0 - max(0.0, 1.0 - 3 * n * p0 * p0 - 3 * k * p0) * e
    return lower, upper


def suresh_poisson_survival(lam0: float, n: int, k: int) -> float:
    r"""Poisson model :math:`n\Lambda_{k+1} \sim \mathrm{Poisson}(n\Lambda_k)`:
    :math:`P(\Lambda_k \ne 0) = 1 - e^{-n\lambda_0 g_k}` exactly."""
    lam0 = check_real(lam0, "lam0")
    if not lam0 >= 0 or not math.isfinite(lam0):
        raise ValueError(f"lam0 must be finite and >= 0, got {lam0}")
    n = _check_positive_int(n, "n")
    k = _check_positive_int(k, "k")
    return -math.expm1(-n * lam0 * suresh_g(k))


def suresh_unigram_bounds(model, regime, k: int):
    r"""Bounds on the expected number of distinct tokens after ``k`` generations:

    .. math:: \sum_i (1 - e^{-np_ig_k}) \le E|\mathrm{supp}\,p^{(k)}| \le
              \sum_i \big(1 - e^{-np_ig_k}(1 - 3np_i^2 - 3kp_i)^+\big).
    """
    n = _n_of(regime)
    k = _check_positive_int(k, "k")
    p = model.p if isinstance(model, Categorical) else np.asarray(model, dtype=np.float64)
    p = p[p > 0]
    e = np.exp(-n * p * suresh_g(k))
    lower = float(np.sum(-np.expm1(-n * p * suresh_g(k))))
    upper = float(np.sum(1.0 - e * np.maximum(0.0, 1.0 - 3 * n * p * p - 3 * k * p)))
    return lower, upper


def suresh_gaussian_bound(n: int, eps: float, k: int, sigma0: float = 1.0) -> float:
    r"""Suresh et al. 2025 (THEORY.md §5): a 1-D Gaussian refitted with the unbiased
    variance on ``n`` samples per generation has
    :math:`P(\sigma_k > \varepsilon) \le (\sigma_0/\varepsilon)\exp(-k/(4n-1))`.

    Markov's inequality on :math:`E\sigma_k = \sigma_0 c_4(n)^k` with
    :math:`c_4(n) \le e^{-1/(4n-1)}`; see :mod:`modelcollapse.proofs.suresh_gaussian`.
    Here ``eps`` is an absolute threshold (``sigma0`` the real standard deviation).
    """
    n = _check_positive_int(n, "n", minimum=2)
    k = _check_positive_int(k, "k", minimum=0)
    eps, sigma0 = float(eps), float(sigma0)
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be finite and > 0, got {eps}")
    if not (sigma0 > 0 and math.isfinite(sigma0)):
        raise ValueError(f"sigma0 must be finite and > 0, got {sigma0}")
    return sigma0 / eps * math.exp(-k / (4 * n - 1))


# ---------------------------------------------------------------------- Seddik Thm 3
#: Constants of Mardia et al. 2020 (Seddik et al. Lemma 1).
MARDIA_C0 = math.e**3 / (2 * math.pi)
MARDIA_C1 = 6 * math.e / math.pi**1.5


def _log_mardia_G(n: int, s: int) -> float:
    """``log G_n(s)`` (``-inf`` for ``s = 1``), without overflow for large ``s`` or ``n``."""
    if s < MARDIA_C0 * n / 4 + 2:
        if s == 1:
            return -math.inf
        return s * math.log(2.0) + math.log1p(-(2.0 ** (1 - s)))
    if s < MARDIA_C0 * n / math.e + 2:
        return math.log(MARDIA_C1 * s) + s / 2 * math.log(MARDIA_C0 * n / s)
    return math.log(MARDIA_C1 * s) + MARDIA_C0 * n / (2 * math.e)


def mardia_G(n: int, s: int) -> float:
    r""":math:`G_n(s)` of Mardia et al. 2020 (Seddik et al. Lemma 1), with
    :math:`C_0 = e^3/(2\pi)`, :math:`C_1 = 6e/\pi^{3/2}`:

    .. math:: G_n(s) = \begin{cases} 2^s - 2 & s < C_0 n/4 + 2,\\
              C_1 s\,(C_0 n/s)^{s/2} & C_0 n/4 + 2 \le s < C_0 n/e + 2,\\
              C_1 s\, e^{C_0 n/(2e)} & s \ge C_0 n/e + 2, \end{cases}

    so that :math:`P(\|\hat p_n - p\|_1 \ge \varepsilon) \le e^{-n\varphi(\pi_p)
    \varepsilon^2/4} G_n(s)` for the empirical law :math:`\hat p_n` of ``n`` samples of a
    law on ``s`` symbols. Not monotone in ``n``: it drops where the first case begins.
    """
    n = _check_positive_int(n, "n")
    s = _check_positive_int(s, "s")
    lg = _log_mardia_G(n, s)
    return math.inf if lg > 709.0 else math.exp(lg)  # beyond float64: unbounded


def _mix_sizes(model, regime):
    require_plain_sampling(regime, "Seddik's Theorem 3")
    if not isinstance(regime, Mix):
        raise ValueError(f"regime must be Mix(real=N, synthetic=n), got {regime!r}")
    if regime.fresh:
        raise ValueError("Seddik's Theorem 3 is for the same real samples every generation: "
                         "regime must be Mix(..., fresh=False)")
    return regime.real, regime.synthetic, _p_and_stats(model, exact=False)[1]


def _log_deviation_bound(real: int, n: int, s: int) -> float:
    return 0.5 * math.log(math.pi * n / 2) + _log_mardia_G(n, s) - math.log(real)


def seddik_deviation_bound(model, regime) -> float:
    r"""Seddik Thm 3: under ``Mix(real=N, synthetic=n)`` (the same ``N`` real samples every
    generation), for every ``m >= 2``

    .. math:: E\|p^{(m)} - p^{(1)}\|_1 < \frac1N\sqrt{\frac{\pi n}{2}}\;G_n(s),

    with :math:`G_n(s)` of :func:`mardia_G` and ``s`` the support size of
    :math:`p^{(0)}` (every :math:`p^{(m)}` lives on it). Often above the trivial bound 2:
    checked against exact enumeration and simulation in
    :mod:`modelcollapse.proofs.seddik_theorem3`.
    """
    N, n, s = _mix_sizes(model, regime)
    return math.exp(_log_deviation_bound(N, n, s))


def _check_eps(eps) -> float:
    eps = check_real(eps, "eps")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be finite and > 0, got {eps}")
    return eps


def seddik_max_synthetic(model, real: int, eps: float) -> int | float:
    r"""The largest number ``n`` of synthetic samples per generation such that the bound
    of Seddik Thm 3 (:func:`seddik_deviation_bound`) is at most ``eps`` for *every*
    :math:`n' \le n`, with ``real`` real samples; 0 if even ``n = 1`` is not covered,
    ``math.inf`` for a Dirac :math:`p^{(0)}` (or beyond float range).

    Solved exactly from the bound (it increases in ``n`` within each case of
    :math:`G_n(s)`), rather than from the paper's eq. (11) (see
    :func:`seddik_eq11_max_synthetic`), which keeps only the small-``n`` case.
    """
    real = _check_positive_int(real, "real")
    eps = _check_eps(eps)
    s = _p_and_stats(model, exact=False)[1]
    if s == 1:
        return math.inf
    log_eps = math.log(eps)

    def ok(n: int) -> bool:
        return _log_deviation_bound(real, n, s) <= log_eps

    # case boundaries in n: exponential for n <= a, power for a < n <= b, constant after
    def largest(cond, guess):
        n = max(0, math.floor(guess))
        while cond(n + 1):
            n += 1
        while n >= 1 and not cond(n):
            n -= 1
        return n

    a = largest(lambda n: s >= MARDIA_C0 * n / math.e + 2, math.e * (s - 2) / MARDIA_C0)
    b = largest(lambda n: s >= MARDIA_C0 * n / 4 + 2, 4 * (s - 2) / MARDIA_C0)
    for lo, hi in ((1, a), (a + 1, b)):
        if lo > hi:
            continue
        if not ok(lo):
            return lo - 1
        if ok(hi):
            continue
        while hi - lo > 1:  # ok(lo), not ok(hi): the bound increases within a case
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if ok(mid) else (lo, mid)
        return lo
    # last case, G constant: ok iff n <= (2/pi) (N eps / G)^2
    if not ok(b + 1):
        return b
    log_c = math.log(2 / math.pi) + 2 * (math.log(real * eps) - _log_mardia_G(b + 1, s))
    if log_c > 700:  # beyond any sample size (and float range): unbounded in practice
        return math.inf
    c = max(b + 1, math.floor(math.exp(log_c)))
    if c >= 2**52:
        # beyond 2**52 neighbouring integers have the same float bound: the closed form
        # is the answer, to float precision (relative 1e-15)
        return c
    # below, the closed form is within a few units of the exact integer: fix it up
    while c > b + 1 and not ok(c):
        c -= 1
    while ok(c + 1):
        c += 1
    return c


def seddik_eq11_max_synthetic(real: int, eps: float, s: int) -> float:
    r"""Seddik et al. eq. (11) as printed: the synthetic sample size below which the
    Thm 3 bound stays below ``eps``,

    .. math:: n \le 2\pi e^{-2}\min\Big\{s - 2,\;
              \log\frac{\sqrt{2\pi}\,N\varepsilon}{6es}\Big\}.

    It uses the small-``n`` case of :math:`G_n(s)` only; compare
    :func:`seddik_max_synthetic`, which solves the bound exactly.
    """
    real = _check_positive_int(real, "real")
    eps = _check_eps(eps)
    s = _check_positive_int(s, "s")
    value = 2 * math.pi * math.exp(-2) * min(
        s - 2, math.log(math.sqrt(2 * math.pi) * real * eps / (6 * math.e * s)))
    return max(0.0, value)  # a negative right-hand side: no n satisfies the bound
