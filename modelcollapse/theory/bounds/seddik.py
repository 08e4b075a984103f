r"""Published bounds of Seddik et al. 2024 (arXiv 2404.05090), Theorems 1 and 3, as
functions returning numbers.

Every function that is algebraic in its inputs accepts ``fractions.Fraction`` inputs
(via ``exact=True``) and then returns exact rationals, so that property tests can check
a true inequality without rounding error.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...models import Categorical, check_positive_int, check_real, exact_probabilities
from ...regimes import Mix, Replace, accepts_regime_spec, require_plain_sampling

__all__ = [
    "mardia_G",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
]


def _n_of(regime) -> int:
    require_plain_sampling(regime, "this bound")
    if isinstance(regime, Replace):
        return regime.n
    if isinstance(regime, (int, np.integer)) and not isinstance(regime, bool):
        return check_positive_int(regime, "n")
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
    m = check_positive_int(m, "m")
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
    n = check_positive_int(n, "n")
    s = check_positive_int(s, "s")
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
    real = check_positive_int(real, "real")
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
    real = check_positive_int(real, "real")
    eps = _check_eps(eps)
    s = check_positive_int(s, "s")
    value = 2 * math.pi * math.exp(-2) * min(
        s - 2, math.log(math.sqrt(2 * math.pi) * real * eps / (6 * math.e * s)))
    return max(0.0, value)  # a negative right-hand side: no n satisfies the bound
