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

from ..models import Categorical, _check_positive_int, exact_probabilities
from ..regimes import Replace

__all__ = [
    "seddik_collapse_probability_bounds",
    "seddik_expected_collapse_time_bounds",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
]


def _n_of(regime) -> int:
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


def suresh_g(k: int) -> float:
    r""":math:`g_k`: :math:`g_1 = 1`, :math:`g_{k+1} = 1 - e^{-g_k}`; :math:`k g_k \to 2`."""
    k = _check_positive_int(k, "k")
    g = 1.0
    for _ in range(k - 1):
        g = -math.expm1(-g)
    return g


def suresh_bernoulli_bounds(p0: float, n: int, k: int):
    r"""Bounds on the survival :math:`P(P_k \ne 0)` of a Bernoulli parameter ``p0``
    re-estimated ``k`` times from ``n`` samples:

    .. math:: 1 - e^{-np_0g_k} \le P(P_k \ne 0) \le
              1 - (1 - 3np_0^2 - 3kp_0)^+\, e^{-np_0g_k}.

    ``P_1`` is the estimate from ``n`` samples of ``p0`` (Seddik's ``p^(1)``).
    """
    p0 = float(p0)
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
    lam0 = float(lam0)
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
