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
from itertools import combinations, islice
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln

from ..errors import TooLargeError
from ..models import Categorical, _check_positive_int, check_real, exact_probabilities
from ..regimes import Mix, Replace, accepts_regime_spec, require_plain_sampling

__all__ = [
    "mardia_G",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
    "seddik_split_expectation",
    "seddik_theorem4_bound",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_gaussian_bound",
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


@accepts_regime_spec
def seddik_collapse_probability_bounds(model, regime, m: int, *, exact: bool = False):
    r"""Seddik Thm 1 eq. (7): bounds on :math:`\rho_m = P(T \le m)`, ``m >= 1``.

    .. math:: 1 - n(1-S_0)(1-\tfrac1n)^m \;\le\; \rho_m \;\le\;
              1 - \frac{(1-S_0)(1-\frac1n)^m}{1 - 1/\tilde s}

    Returns ``(lower, upper)``; for a Dirac :math:`p^{(0)}` (``s~ = 1``) both are 1.

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}`: a ``Categorical`` or its probabilities
        (``Fraction`` entries allowed with ``exact=True``).
    regime : Replace or int
        ``Replace(n)`` with plain sampling, or ``n`` itself. A spec string is not accepted
        here.
    m : int
        Generation, ``>= 1``.
    exact : bool, default False
        Compute in ``Fraction`` arithmetic (float probabilities are first replaced by
        nearby rationals, :func:`modelcollapse.models.exact_probabilities`).

    Returns
    -------
    tuple
        ``(lower, upper)``: floats, or ``Fraction`` with ``exact=True``. The lower bound is
        not clipped at 0.

    Raises
    ------
    ValueError
        ``regime`` neither ``Replace(n)`` nor a positive int, ``m < 1``, or (``exact=True``)
        ``Fraction`` probabilities that do not sum to 1.
    WrongTypeError
        ``m`` not an integer.
    UnsupportedRegimeError
        ``Replace`` with a sampling policy.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorem 1: total collapse").
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


@accepts_regime_spec
def seddik_expected_collapse_time_bounds(model, regime, *, exact: bool = False):
    r"""Seddik Thm 1 eq. (8):

    .. math:: 1 + \frac{(1-S_0)(n-1)}{1 - 1/\tilde s} \le E[T] \le 1 + (1-S_0)\,n(n-1).

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}`: a ``Categorical`` or its probabilities
        (``Fraction`` entries allowed with ``exact=True``).
    regime : Replace or int
        ``Replace(n)`` with plain sampling, or ``n`` itself. A spec string is not accepted
        here.
    exact : bool, default False
        Compute in ``Fraction`` arithmetic (float probabilities are first replaced by
        nearby rationals, :func:`modelcollapse.models.exact_probabilities`).

    Returns
    -------
    tuple
        ``(lower, upper)`` on :math:`E[T]`: floats, or ``Fraction`` with ``exact=True``;
        ``(1, 1)`` for a Dirac :math:`p^{(0)}`.

    Raises
    ------
    ValueError
        ``regime`` neither ``Replace(n)`` nor a positive int, or (``exact=True``)
        ``Fraction`` probabilities that do not sum to 1.
    UnsupportedRegimeError
        ``Replace`` with a sampling policy.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorem 1: total collapse").
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


def suresh_g(m: int) -> float:
    r""":math:`g_m`: :math:`g_1 = 1`, :math:`g_{m+1} = 1 - e^{-g_m}`; :math:`m g_m \to 2`.

    The recursion is iterated exactly up to ``m = 10**5``. Beyond, :math:`u = 1/g`
    obeys :math:`u_{m+1} = u_m + 1/2 + 1/(12u_m) + O(u_m^{-3})` (expand
    :math:`1/(1-e^{-x}) = 1/x + 1/2 + x/12 - x^3/720 + \dots`), whose flow
    :math:`du/dm = 1/2 + 1/(12u)` integrates to
    :math:`m - m_0 = 2(u - u_0) - \tfrac13\ln\frac{6u+1}{6u_0+1}`, solved for ``u`` by
    Newton's method: relative error below :math:`10^{-11}` for every ``m``.

    Parameters
    ----------
    m : int
        Index, ``>= 1``.

    Returns
    -------
    float
        :math:`g_m`, in ``(0, 1]``.

    Raises
    ------
    WrongTypeError
        ``m`` is not an integer.
    ValueError
        ``m < 1``.

    References
    ----------
    .. [1] A. T. Suresh, A. Thangaraj, A. N. K. Khandavally (2025). *Rate of Model Collapse in
       Recursive Training.* AISTATS 2025. arXiv:2412.17646.
    .. [2] The theory chapter, docs/theory/bounds.md ("Suresh et al.: rates of forgetting").
    """
    m = _check_positive_int(m, "m")
    g = 1.0
    for _ in range(min(m, SURESH_G_ITERATIONS) - 1):
        g = -math.expm1(-g)
    if m <= SURESH_G_ITERATIONS:
        return g
    u0 = 1.0 / g
    dk = float(m - SURESH_G_ITERATIONS)
    u = u0 + dk / 2
    for _ in range(50):
        f = 2 * (u - u0) - math.log((6 * u + 1) / (6 * u0 + 1)) / 3 - dk
        step = f / (2 - 2 / (6 * u + 1))
        u -= step
        if abs(step) <= 1e-15 * u:
            break
    return 1.0 / u


def suresh_bernoulli_bounds(p0: float, n: int, m: int):
    r"""Bounds on the survival :math:`P(P_m \ne 0)` of a Bernoulli parameter ``p0``
    re-estimated ``m`` times from ``n`` samples:

    .. math:: 1 - e^{-np_0g_m} \le P(P_m \ne 0) \le
              1 - (1 - 3np_0^2 - 3mp_0)^+\, e^{-np_0g_m}.

    ``P_1`` is the estimate from ``n`` samples of ``p0`` (Seddik's ``p^(1)``).

    Parameters
    ----------
    p0 : float
        The initial Bernoulli parameter, in ``[0, 1]``.
    n : int
        Samples per generation, ``>= 1``.
    m : int
        Number of generations, ``>= 1``.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    WrongTypeError
        ``p0`` not a real number, or ``n`` or ``m`` not an integer.
    ValueError
        ``p0`` outside ``[0, 1]``, ``n < 1`` or ``m < 1``.

    References
    ----------
    .. [1] A. T. Suresh, A. Thangaraj, A. N. K. Khandavally (2025). *Rate of Model Collapse in
       Recursive Training.* AISTATS 2025. arXiv:2412.17646.
    .. [2] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [3] The theory chapter, docs/theory/bounds.md ("Suresh et al.: rates of forgetting").
    """
    p0 = check_real(p0, "p0")
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must be in [0, 1], got {p0}")
    n = _check_positive_int(n, "n")
    m = _check_positive_int(m, "m")
    e = math.exp(-n * p0 * suresh_g(m))
    lower = 1.0 - e
    upper = 1.0 - max(0.0, 1.0 - 3 * n * p0 * p0 - 3 * m * p0) * e
    return lower, upper


def suresh_poisson_survival(lam0: float, n: int, m: int) -> float:
    r"""Poisson model :math:`n\Lambda_{m+1} \sim \mathrm{Poisson}(n\Lambda_m)`:
    :math:`P(\Lambda_m \ne 0) = 1 - e^{-n\lambda_0 g_m}` exactly.

    Parameters
    ----------
    lam0 : float
        The initial rate :math:`\lambda_0`, finite and ``>= 0``.
    n : int
        Samples per generation, ``>= 1``.
    m : int
        Number of generations, ``>= 1``.

    Returns
    -------
    float
        :math:`P(\Lambda_m \ne 0)`.

    Raises
    ------
    WrongTypeError
        ``lam0`` not a real number, or ``n`` or ``m`` not an integer.
    ValueError
        ``lam0`` negative or not finite, ``n < 1`` or ``m < 1``.

    References
    ----------
    .. [1] A. T. Suresh, A. Thangaraj, A. N. K. Khandavally (2025). *Rate of Model Collapse in
       Recursive Training.* AISTATS 2025. arXiv:2412.17646.
    .. [2] The theory chapter, docs/theory/bounds.md ("Suresh et al.: rates of forgetting").
    """
    lam0 = check_real(lam0, "lam0")
    if not lam0 >= 0 or not math.isfinite(lam0):
        raise ValueError(f"lam0 must be finite and >= 0, got {lam0}")
    n = _check_positive_int(n, "n")
    m = _check_positive_int(m, "m")
    return -math.expm1(-n * lam0 * suresh_g(m))


@accepts_regime_spec
def suresh_unigram_bounds(model, regime, m: int):
    r"""Bounds on the expected number of distinct tokens after ``m`` generations:

    .. math:: \sum_i (1 - e^{-np_ig_m}) \le E|\mathrm{supp}\,p^{(m)}| \le
              \sum_i \big(1 - e^{-np_ig_m}(1 - 3np_i^2 - 3mp_i)^+\big).

    Parameters
    ----------
    model : Categorical or array_like of float
        The real distribution :math:`p^{(0)}`, or its probabilities (zeros are ignored).
    regime : Replace or int
        ``Replace(n)`` with plain sampling, or ``n`` itself. A spec string is not accepted
        here.
    m : int
        Number of generations, ``>= 1``.

    Returns
    -------
    tuple of float
        ``(lower, upper)``.

    Raises
    ------
    ValueError
        ``regime`` neither ``Replace(n)`` nor a positive int, or ``m < 1``.
    WrongTypeError
        ``m`` is not an integer.
    UnsupportedRegimeError
        ``Replace`` with a sampling policy.

    References
    ----------
    .. [1] A. T. Suresh, A. Thangaraj, A. N. K. Khandavally (2025). *Rate of Model Collapse in
       Recursive Training.* AISTATS 2025. arXiv:2412.17646.
    .. [2] The theory chapter, docs/theory/bounds.md ("Suresh et al.: rates of forgetting").
    """
    n = _n_of(regime)
    m = _check_positive_int(m, "m")
    p = model.p if isinstance(model, Categorical) else np.asarray(model, dtype=np.float64)
    p = p[p > 0]
    e = np.exp(-n * p * suresh_g(m))
    lower = float(np.sum(-np.expm1(-n * p * suresh_g(m))))
    upper = float(np.sum(1.0 - e * np.maximum(0.0, 1.0 - 3 * n * p * p - 3 * m * p)))
    return lower, upper


def suresh_gaussian_bound(n: int, eps: float, m: int, sigma0: float = 1.0) -> float:
    r"""Suresh et al. 2025 (docs/theory/bounds.md): a 1-D Gaussian refitted with the unbiased
    variance on ``n`` samples per generation has
    :math:`P(\sigma_m > \varepsilon) \le (\sigma_0/\varepsilon)\exp(-m/(4n-1))`.

    Markov's inequality on :math:`E\sigma_m = \sigma_0 c_4(n)^m` with
    :math:`c_4(n) \le e^{-1/(4n-1)}`; see :mod:`modelcollapse.proofs.suresh_gaussian`.
    Here ``eps`` is an absolute threshold (``sigma0`` the real standard deviation).

    Parameters
    ----------
    n : int
        Samples per generation, ``>= 2``.
    eps : float
        The threshold :math:`\varepsilon`, finite and ``> 0``.
    m : int
        Number of generations, ``>= 0``.
    sigma0 : float, default 1.0
        The real standard deviation :math:`\sigma_0`, finite and ``> 0``.

    Returns
    -------
    float
        The bound (it can exceed 1).

    Raises
    ------
    WrongTypeError
        ``n`` or ``m`` is not an integer.
    ValueError
        ``n < 2``, ``m < 0``, or ``eps`` or ``sigma0`` not finite and positive.

    References
    ----------
    .. [1] A. T. Suresh, A. Thangaraj, A. N. K. Khandavally (2025). *Rate of Model Collapse in
       Recursive Training.* AISTATS 2025. arXiv:2412.17646.
    .. [2] The theory chapter, docs/theory/bounds.md ("Suresh et al.: the Gaussian").
    """
    n = _check_positive_int(n, "n", minimum=2)
    m = _check_positive_int(m, "m", minimum=0)
    eps, sigma0 = check_real(eps, "eps"), check_real(sigma0, "sigma0")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be finite and > 0, got {eps}")
    if not (sigma0 > 0 and math.isfinite(sigma0)):
        raise ValueError(f"sigma0 must be finite and > 0, got {sigma0}")
    return sigma0 / eps * math.exp(-m / (4 * n - 1))


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

    Parameters
    ----------
    n : int
        Number of samples, ``>= 1``.
    s : int
        Number of symbols, ``>= 1``.

    Returns
    -------
    float
        :math:`G_n(s)`; 0 for ``s = 1``, ``math.inf`` beyond the float64 range.

    Raises
    ------
    WrongTypeError
        ``n`` or ``s`` is not an integer.
    ValueError
        ``n < 1`` or ``s < 1``.

    References
    ----------
    .. [1] J. Mardia, J. Jiao, E. Tánczos, R. D. Nowak, T. Weissman (2020). *Concentration
       inequalities for the empirical distribution of discrete distributions: beyond the method of
       types.* Information and Inference 9, 813–850.
    .. [2] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [3] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
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


def _exp(x: float) -> float:
    """``exp(x)``, or ``inf`` beyond the float range (a bound too large to be useful)."""
    return math.exp(x) if x < 709.0 else math.inf


@accepts_regime_spec
def seddik_deviation_bound(model, regime) -> float:
    r"""Seddik Thm 3: under ``Mix(real=N, synthetic=n)`` (the same ``N`` real samples every
    generation), for every ``m >= 2``

    .. math:: E\|p^{(m)} - p^{(1)}\|_1 < \frac1N\sqrt{\frac{\pi n}{2}}\;G_n(s),

    with :math:`G_n(s)` of :func:`mardia_G` and ``s`` the support size of
    :math:`p^{(0)}` (every :math:`p^{(m)}` lives on it). Often above the trivial bound 2:
    checked against exact enumeration and simulation in
    :mod:`modelcollapse.proofs.seddik_theorem3`.

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities; only its support size
        ``s`` is used.
    regime : Mix
        ``Mix(real=N, synthetic=n)`` with ``fresh=False`` and plain sampling. A spec string
        is not accepted here.

    Returns
    -------
    float
        The bound on :math:`E\|p^{(m)} - p^{(1)}\|_1`.

    Raises
    ------
    ValueError
        ``regime`` is not a ``Mix``, or is one with ``fresh=True``.
    UnsupportedRegimeError
        A sampling policy.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] J. Mardia, J. Jiao, E. Tánczos, R. D. Nowak, T. Weissman (2020). *Concentration
       inequalities for the empirical distribution of discrete distributions: beyond the method of
       types.* Information and Inference 9, 813–850.
    .. [3] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
    """
    N, n, s = _mix_sizes(model, regime)
    return _exp(_log_deviation_bound(N, n, s))


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

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities; only its support size
        ``s`` is used.
    real : int
        Number ``N`` of real samples, ``>= 1``.
    eps : float
        Target bound :math:`\varepsilon`, finite and ``> 0``.

    Returns
    -------
    int or float
        The largest such ``n`` (an int, 0 if none), or ``math.inf``.

    Raises
    ------
    WrongTypeError
        ``real`` not an integer, or ``eps`` not a real number.
    ValueError
        ``real < 1``, or ``eps`` not finite and positive.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] J. Mardia, J. Jiao, E. Tánczos, R. D. Nowak, T. Weissman (2020). *Concentration
       inequalities for the empirical distribution of discrete distributions: beyond the method of
       types.* Information and Inference 9, 813–850.
    .. [3] The theory chapter, docs/theory/bounds.md ("Seddik et al. eq. (11): how much synthetic
       data").
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

    Parameters
    ----------
    real : int
        Number ``N`` of real samples, ``>= 1``.
    eps : float
        Target bound :math:`\varepsilon`, finite and ``> 0``.
    s : int
        Support size of :math:`p^{(0)}`, ``>= 1``.

    Returns
    -------
    float
        The right-hand side, floored at 0 (not rounded to an integer).

    Raises
    ------
    WrongTypeError
        ``real`` or ``s`` not an integer, or ``eps`` not a real number.
    ValueError
        ``real < 1``, ``s < 1``, or ``eps`` not finite and positive.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/bounds.md ("Seddik et al. eq. (11): how much synthetic
       data").
    """
    real = _check_positive_int(real, "real")
    eps = _check_eps(eps)
    s = _check_positive_int(s, "s")
    value = 2 * math.pi * math.exp(-2) * min(
        s - 2, math.log(math.sqrt(2 * math.pi) * real * eps / (6 * math.e * s)))
    return max(0.0, value)  # a negative right-hand side: no n satisfies the bound


# ---------------------------------------------------------------------- Seddik Thm 4
#: :func:`seddik_split_expectation` enumerates at most this many count vectors of the
#: ``N`` real samples exactly (``method="exact"`` refuses more: ``TooLargeError``).
SEDDIK_T4_MAX_STATES = 200_000
#: Monte Carlo sample size of :func:`seddik_split_expectation` (``method="montecarlo"``).
SEDDIK_T4_SAMPLES = 20_000
#: The Monte Carlo bound uses the estimate plus this many standard errors (capped).
SEDDIK_T4_MC_Z = 4.0
#: Subset sums are enumerated (2^(s-1) of them, vectorised) up to this support size;
#: beyond, a bitset of reachable subset sums is built per count vector.
_SUBSET_ENUM_MAX_S = 14
_SEDDIK_T4_FORMS = ("printed", "derived", "conditional")
_SPLIT_METHODS = ("auto", "exact", "montecarlo")


class SplitExpectation(NamedTuple):
    r""":math:`E[\max_A p^{(1)}(A)\,p^{(1)}(A^c)]` over the empirical law
    :math:`p^{(1)}` of ``N`` real samples, with how it was computed."""

    value: float
    stderr: float  # 0 for exact enumeration (float rounding only)
    method: str  # "exact" (every count vector) or "montecarlo" (seeded)
    points: int  # count vectors enumerated, or Monte Carlo samples


def _phi(x: float) -> float:
    r"""Mardia's :math:`\varphi(x) = \log\frac{1-x}{x}/(1-2x) = 2\,\mathrm{artanh}(t)/t`,
    :math:`t = 1 - 2x`, on :math:`[0, 1/2]`: decreasing, :math:`\varphi(1/2) = 2`,
    :math:`\varphi(0) = \infty`."""
    if x <= 0.0:
        return math.inf
    t = 1.0 - 2.0 * x
    if t < 1e-6:
        return 2.0 + 2.0 * t * t / 3.0  # 2 artanh(t)/t = 2 + 2t^2/3 + O(t^4)
    return 2.0 * math.atanh(t) / t


def _max_split(counts: np.ndarray, N: int) -> np.ndarray:
    r""":math:`\max_A q_A(1-q_A)` for every row of ``counts`` (shape ``(K, s)``, rows
    summing to ``N``), :math:`q_A` the subset sums over ``N``: ``q(1-q)`` increases as
    ``q`` nears 1/2, so the maximum is at the subset sum closest to ``N/2``."""
    K, s = counts.shape
    if s == 1:
        return np.zeros(K)
    if s <= _SUBSET_ENUM_MAX_S:
        # subsets containing symbol 0 suffice (q_A(1-q_A) is symmetric in A <-> A^c)
        masks = np.arange(2 ** (s - 1), dtype=np.int64)
        member = np.ones((s, masks.size), dtype=np.int64)
        for i in range(1, s):
            member[i] = (masks >> (i - 1)) & 1
        out = np.empty(K)
        chunk = max(1, 2_000_000 // masks.size)
        for lo in range(0, K, chunk):
            sums = counts[lo:lo + chunk].astype(np.int64) @ member
            out[lo:lo + chunk] = (sums * (N - sums)).max(axis=1)
        return out / float(N) ** 2
    out = np.empty(K)
    half = N // 2
    for row, r in enumerate(counts):
        parts = sorted(int(x) for x in r if x)
        reach, total, i = 1, 0, 0
        while i < len(parts) and parts[i] <= total + 1:  # sums 0..total all reachable
            total += parts[i]
            i += 1
        reach = (1 << (total + 1)) - 1
        for x in parts[i:]:
            reach |= reach << x
        d = 0
        while not ((reach >> (half - d)) & 1 or (reach >> (half + d)) & 1):
            d += 1
        k = half - d if (reach >> (half - d)) & 1 else half + d
        out[row] = k * (N - k)
    return out / float(N) ** 2


def _compositions_array(N: int, s: int, start: int, stop: int) -> np.ndarray:
    """Compositions ``start..stop-1`` of ``N`` into ``s`` parts (stars and bars)."""
    bars = np.array(list(islice(combinations(range(N + s - 1), s - 1), start, stop)),
                    dtype=np.int64).reshape(-1, s - 1)
    k = bars.shape[0]
    edges = np.hstack([np.full((k, 1), -1), bars, np.full((k, 1), N + s - 1)])
    return np.diff(edges, axis=1) - 1


def _split_values(model, real, method, samples, seed, max_states):
    """``(values, weights, method, points)``: :math:`\\max_A p^{(1)}(A)p^{(1)}(A^c)` on
    every count vector (weights: multinomial probabilities) or on Monte Carlo draws
    (weights ``1/samples``)."""
    N = _check_positive_int(real, "real")
    if not isinstance(method, str) or method not in _SPLIT_METHODS:
        raise ValueError(f"method must be one of {_SPLIT_METHODS}, got {method!r}")
    samples = _check_positive_int(samples, "samples", minimum=2)
    seed = _check_positive_int(seed, "seed", minimum=0)
    max_states = _check_positive_int(max_states, "max_states")
    p = model.p if isinstance(model, Categorical) else model
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(
            p.sum() - 1.0) > 1e-9:
        raise ValueError(f"model must be a probability vector, got {model!r}")
    p = p[p > 0] / p[p > 0].sum()
    s = p.size
    if s == 1:
        return np.zeros(1), np.ones(1), "exact", 1
    states = math.comb(N + s - 1, s - 1)
    if method == "exact" and states > max_states:
        raise TooLargeError(
            f"exact enumeration of p^(1) needs {states} count vectors of N={N} real samples "
            f"on {s} symbols, more than max_states={max_states}: raise max_states, or use "
            "method='montecarlo'")
    if method == "exact" or (method == "auto" and states <= max_states):
        values, weights = np.empty(states), np.empty(states)
        logp, lgN = np.log(p), gammaln(N + 1)
        step = 50_000
        for lo in range(0, states, step):
            c = _compositions_array(N, s, lo, lo + step)
            hi = lo + c.shape[0]
            values[lo:hi] = _max_split(c, N)
            weights[lo:hi] = np.exp(lgN - gammaln(c + 1).sum(axis=1) + c @ logp)
        return values, weights, "exact", states
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(N, p, size=samples)
    return _max_split(counts, N), np.full(samples, 1.0 / samples), "montecarlo", samples


def _mean_se(values, weights, method):
    mean = float(weights @ values)
    if method == "exact":
        return mean, 0.0
    k = values.size
    return mean, float(np.std(values, ddof=1) / math.sqrt(k))


def seddik_split_expectation(model, real: int, *, method: str = "auto",
                             samples: int = SEDDIK_T4_SAMPLES, seed: int = 0,
                             max_states: int = SEDDIK_T4_MAX_STATES) -> SplitExpectation:
    r""":math:`E[\max_A p^{(1)}(A)\,p^{(1)}(A^c)]`, :math:`p^{(1)}` the empirical law of
    ``real`` samples of ``model`` (the quantity in :math:`\zeta` of Seddik Thm 4).

    For a fixed :math:`p^{(1)}`, :math:`\max_A p^{(1)}(A)(1-p^{(1)}(A)) = q(1-q)` with
    ``q`` the subset sum of :math:`p^{(1)}` closest to 1/2. ``method="exact"`` sums this
    over all :math:`\binom{N+s-1}{s-1}` count vectors with their multinomial
    probabilities (``TooLargeError`` beyond ``max_states``); ``"montecarlo"`` averages
    ``samples`` seeded multinomial draws and reports the standard error; ``"auto"``
    (default) is exact up to ``max_states``. For ``s = 2`` the value is
    :math:`(1 - 1/N)p_1p_2` (:math:`E[r_1r_2] = N(N-1)p_1p_2`).

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities (summing to 1 within
        1e-9).
    real : int
        Number ``N`` of real samples, ``>= 1``.
    method : {"auto", "exact", "montecarlo"}, default "auto"
        Exact enumeration of the count vectors, a seeded Monte Carlo average, or exact up
        to ``max_states`` count vectors and Monte Carlo beyond.
    samples : int, default 20000
        Monte Carlo sample size, ``>= 2``.
    seed : int, default 0
        Seed of the Monte Carlo draws, ``>= 0``.
    max_states : int, default 200000
        Largest number of count vectors enumerated exactly, ``>= 1``.

    Returns
    -------
    SplitExpectation
        Named tuple ``(value, stderr, method, points)``: the expectation, its standard
        error (0 when exact), ``"exact"`` or ``"montecarlo"``, and the number of count
        vectors or Monte Carlo draws. A Dirac :math:`p^{(0)}` gives
        ``(0.0, 0.0, "exact", 1)``.

    Raises
    ------
    ValueError
        An unknown ``method``, ``model`` not a probability vector, or an integer argument
        below its minimum.
    WrongTypeError
        ``real``, ``samples``, ``seed`` or ``max_states`` not an integer.
    TooLargeError
        ``method="exact"`` with more than ``max_states`` count vectors.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
    """
    values, weights, how, points = _split_values(model, real, method, samples, seed,
                                                 max_states)
    mean, se = _mean_se(values, weights, how)
    return SplitExpectation(mean, se, how, points)


@accepts_regime_spec
def seddik_theorem4_bound(model, regime, *, form: str = "printed", method: str = "auto",
                          samples: int = SEDDIK_T4_SAMPLES, seed: int = 0,
                          max_states: int = SEDDIK_T4_MAX_STATES) -> float:
    r"""Seddik Thm 4: under ``Mix(real=N, synthetic=n)`` (the same ``N`` real samples every
    generation), :math:`\alpha = n/(N+n)`, for every ``m >= 2``

    .. math:: E\|p^{(m)} - p^{(1)}\|_1 < \frac1N\sqrt{\frac{\pi n}{\varphi(\zeta)}}\;G_n(s),
              \qquad \varphi(x) = \frac{1}{1-2x}\log\frac{1-x}{x},

    Theorem 3 (:func:`seddik_deviation_bound`) with :math:`\varphi(\zeta) \ge 2`
    (:math:`\zeta \le 1/2`) in place of 2, hence never larger. With
    :math:`\bar v = E[\max_A p^{(1)}(A)p^{(1)}(A^c)]` (:func:`seddik_split_expectation`):

    * ``form="printed"`` (the paper): :math:`\zeta = \frac12 - (\frac12 - 2\bar v)(1-\alpha)^2`;
    * ``form="derived"``: :math:`\zeta = \frac12 - (1-\alpha)\sqrt{1/4 - \bar v}`, never
      larger, so the bound is sharper;
    * ``form="conditional"``: :math:`\sqrt{\pi n}\,G_n(s)\,E[\varphi(\zeta_1)^{-1/2}]/N`
      with :math:`\zeta_1 = \min\{\frac12, (1-\alpha)\pi_{p^{(1)}} + \alpha\}`, the
      expectation over :math:`p^{(1)}` exact (no Jensen step).

    The argument: :math:`p^{(k+1)} - p^{(1)} = \alpha(\hat p_n(p^{(k)}) - p^{(k)}) +
    \alpha(p^{(k)} - p^{(1)})` gives :math:`E\|p^{(m)}-p^{(1)}\|_1 < \frac{n}{N}\sup_k
    E\|\hat p_n(p^{(k)}) - p^{(k)}\|_1`, and Mardia's inequality (Lemma 1) integrated over
    :math:`\varepsilon` gives :math:`E[\|\hat p_n(p)-p\|_1 \mid p] \le
    G_n(s)\sqrt{\pi/(n\varphi(\pi_p))}`, :math:`\pi_p = \max_A\min\{p(A), 1-p(A)\}`.
    ``conditional`` then uses :math:`\pi_{p^{(k)}} \le (1-\alpha)\pi_{p^{(1)}} + \alpha`
    (every :math:`p^{(k)}(A) \in [(1-\alpha)p^{(1)}(A), (1-\alpha)p^{(1)}(A) + \alpha]`):
    valid for every ``s``, but no better than Theorem 3 once :math:`\alpha` is large.
    ``printed`` and ``derived`` use that :math:`\varphi^{-1/2}` is increasing and concave
    in :math:`\pi_p` and in :math:`v = \pi_p(1-\pi_p) = \max_A p(A)p(A^c)` (Jensen), and
    the step :math:`E\max_A p^{(k)}(A)p^{(k)}(A^c) \le \frac14 - (1-\alpha)^2(\frac14 -
    \bar v)` (for one set ``A``, :math:`E(p^{(k)}(A) - \frac12)^2 \ge
    (1-\alpha)^2(p^{(1)}(A) - \frac12)^2`). ``derived`` inverts
    :math:`v = \pi(1-\pi)` exactly; ``printed`` follows from it through
    :math:`\pi \le 2\pi(1-\pi)`. The step holds for ``s = 2`` (one set ``A``); for
    ``s >= 3`` it exchanges :math:`E` and :math:`\max_A` (it fails for a fixed
    :math:`p^{(1)} = (1/3,1/3,1/3)`, ``N = 3``, ``n = 1``), so there ``printed`` and
    ``derived`` are checked numerically only (:mod:`modelcollapse.proofs.seddik_theorem3`).

    :math:`\bar v` is computed by ``method`` as in :func:`seddik_split_expectation`;
    with Monte Carlo the estimate plus :data:`SEDDIK_T4_MC_Z` standard errors (capped at
    its largest possible value) is used, so the bound errs on the larger side. Returns
    0 for a Dirac :math:`p^{(0)}`.

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities (summing to 1 within
        1e-9).
    regime : Mix
        ``Mix(real=N, synthetic=n)`` with ``fresh=False`` and plain sampling. A spec string
        is not accepted here.
    form : {"printed", "derived", "conditional"}, default "printed"
        Which bound (see above).
    method : {"auto", "exact", "montecarlo"}, default "auto"
        Exact enumeration of the count vectors, a seeded Monte Carlo average, or exact up
        to ``max_states`` count vectors and Monte Carlo beyond.
    samples : int, default 20000
        Monte Carlo sample size, ``>= 2``.
    seed : int, default 0
        Seed of the Monte Carlo draws, ``>= 0``.
    max_states : int, default 200000
        Largest number of count vectors enumerated exactly, ``>= 1``.

    Returns
    -------
    float
        The bound on :math:`E\|p^{(m)} - p^{(1)}\|_1`; 0 for a Dirac :math:`p^{(0)}`.

    Raises
    ------
    ValueError
        ``regime`` is not a ``Mix`` or is one with ``fresh=True``, an unknown ``form`` or
        ``method``, ``model`` not a probability vector, or an integer argument below its
        minimum.
    WrongTypeError
        ``real``, ``samples``, ``seed`` or ``max_states`` not an integer.
    TooLargeError
        ``method="exact"`` with more than ``max_states`` count vectors.
    UnsupportedRegimeError
        A sampling policy.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] J. Mardia, J. Jiao, E. Tánczos, R. D. Nowak, T. Weissman (2020). *Concentration
       inequalities for the empirical distribution of discrete distributions: beyond the method of
       types.* Information and Inference 9, 813–850.
    .. [3] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
    """
    N, n, s = _mix_sizes(model, regime)
    if not isinstance(form, str) or form not in _SEDDIK_T4_FORMS:
        raise ValueError(f"form must be one of {_SEDDIK_T4_FORMS}, got {form!r}")
    values, weights, how, _ = _split_values(model, N, method, samples, seed, max_states)
    if s == 1:
        return 0.0
    alpha = n / (N + n)
    z = 0.0 if how == "exact" else SEDDIK_T4_MC_Z
    log_front = 0.5 * math.log(math.pi * n) + _log_mardia_G(n, s) - math.log(N)
    if form == "conditional":
        pi1 = 0.5 * (1.0 - np.sqrt(np.maximum(0.0, 1.0 - 4.0 * values)))
        zeta1 = np.minimum(0.5, (1.0 - alpha) * pi1 + alpha)
        g = np.array([_phi(float(x)) ** -0.5 for x in zeta1])
        mean, se = _mean_se(g, weights, how)
        return _exp(log_front) * min(math.sqrt(0.5), mean + z * se)
    mean, se = _mean_se(values, weights, how)
    vbar = min(0.25, mean + z * se)
    if form == "printed":
        zeta = 0.5 - (0.5 - 2.0 * vbar) * (1.0 - alpha) ** 2
    else:
        zeta = 0.5 - (1.0 - alpha) * math.sqrt(max(0.0, 0.25 - vbar))
    return _exp(log_front - 0.5 * math.log(_phi(zeta)))
