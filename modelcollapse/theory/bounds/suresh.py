r"""The rates of Suresh, Thangaraj & Khandavally (arXiv 2412.17646, AISTATS 2025) with
:math:`g(x) = 1 - e^{-x}`, :math:`g_1 = 1`, :math:`g_{k+1} = g(g_k)`, as functions
returning numbers.

Every function that is algebraic in its inputs accepts ``fractions.Fraction`` inputs
(via ``exact=True``) and then returns exact rationals, so that property tests can check
a true inequality without rounding error.
"""

from __future__ import annotations

import math

import numpy as np

from ...models import Categorical, check_positive_int, check_real
from ...regimes import accepts_regime_spec
from .seddik import _n_of

__all__ = [
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_gaussian_bound",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
]

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
    m = check_positive_int(m, "m")
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
    n = check_positive_int(n, "n")
    m = check_positive_int(m, "m")
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
    n = check_positive_int(n, "n")
    m = check_positive_int(m, "m")
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
    m = check_positive_int(m, "m")
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
    n = check_positive_int(n, "n", minimum=2)
    m = check_positive_int(m, "m", minimum=0)
    eps, sigma0 = check_real(eps, "eps"), check_real(sigma0, "sigma0")
    if not (eps > 0 and math.isfinite(eps)):
        raise ValueError(f"eps must be finite and > 0, got {eps}")
    if not (sigma0 > 0 and math.isfinite(sigma0)):
        raise ValueError(f"sigma0 must be finite and > 0, got {sigma0}")
    return sigma0 / eps * math.exp(-m / (4 * n - 1))
