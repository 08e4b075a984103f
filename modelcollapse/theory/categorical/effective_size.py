r"""``MostRecent(n, K)`` as one Wright--Fisher population: the transfer matrix of two
lineages through the window and the effective size :math:`N_e` it implies."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...regimes import as_regime
from .._results import check_flag

__all__ = [
    "most_recent_effective_size",
    "most_recent_transfer_matrix",
]


# ---------------------------------------------------------------------- MostRecent N_e
def most_recent_transfer_matrix(n: int, window: int, *, exact: bool = False):
    r"""The stationary (:math:`s > K`) transfer matrix of the banded recursion of
    ``MostRecent(n, K)``: with :math:`X_s = (E(s, s-d))_{d<K}` and
    :math:`Z_s = (X_{s-1}, \dots, X_{s-K})` (length :math:`K^2`),
    :math:`Z_{s+1} = T Z_s`. Returns a ``K^2 x K^2`` float64 array, or (``exact=True``)
    a list of lists of ``Fraction``.

    Parameters
    ----------
    n : int
        Samples per generation, ``>= 1``.
    window : int
        The window ``K``, ``1 <= K <= n``.
    exact : bool, default False
        Build the matrix in ``Fraction`` arithmetic and return it unrounded.

    Returns
    -------
    numpy.ndarray or list of list of Fraction
        The ``K^2 x K^2`` matrix ``T``: a float64 array, or with ``exact=True`` a list of
        rows of ``Fraction``.

    Raises
    ------
    WrongTypeError
        ``n`` or ``window`` not an integer, or ``exact`` not a bool.
    ValueError
        ``n < 1``, ``window < 1`` or ``window > n``.

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("MostRecent: a banded pair recursion").
    .. [2] The theory chapter, docs/theory/regimes.md ("The effective size of MostRecent").
    """
    reg = as_regime(_most_recent(n, window))
    n, K = reg.n, reg.window
    exact = check_flag(exact, "exact")
    one = Fraction(1)  # built exactly, rounded once at the end
    zero = one * 0
    b = n // K
    N = K * b
    size = K * K

    def idx(lag, d):  # position of E(s-lag, s-lag-d) in Z_s (lag = 1..K)
        return (lag - 1) * K + d

    T = [[zero] * size for _ in range(size)]

    def add(row, a1, a2, w):  # E(a1, a2) with a_i = s - lag_i (s is the new generation)
        lag = min(a1, a2)
        d = abs(a1 - a2)
        T[row][idx(lag, d)] += w

    # new X_s, expressed through Z_s = (X_{s-1}, ..., X_{s-K}); lags count back from s
    for d in range(1, K):
        for j in range(1, K + 1):
            add(d, j, d, one / K)
    for j1 in range(1, K + 1):
        for j2 in range(1, K + 1):
            if N == 1:  # n = 1: one sample per generation, no pair of distinct ones
                continue
            w = (b - 1 if j1 == j2 else b) * one / (N - 1) / K * (1 - one / N)
            add(0, j1, j2, w)
    # shift: X_{s-1}, ..., X_{s-K+1} move down one lag
    for lag in range(1, K):
        for d in range(K):
            T[idx(lag + 1, d)][idx(lag, d)] = one
    if exact:
        return T
    return np.array([[float(x) for x in row] for row in T])


def _most_recent(n, window):
    from ...regimes import MostRecent

    return MostRecent(n, window)


def most_recent_effective_size(n: int, window: int) -> float:
    r"""Effective population size of ``MostRecent(n, K)`` on the diffusion scale.

    For :math:`m > K`, :math:`1 - S_m = (1-S_0) D_m` and :math:`D_m` obeys the
    stationary banded recursion (:func:`most_recent_transfer_matrix`), so
    :math:`D_m \approx C\lambda^m` with :math:`\lambda` the largest root of its
    characteristic polynomial (the Perron root of the non-negative transfer matrix);
    :math:`N_e = 1/(1-\lambda)`. With :math:`N = K\lfloor n/K\rfloor` samples per fit,

    .. math:: N_e = N\Big(\frac{K+1}{2}\Big)^2 + O(K^2) \quad (n \to \infty),

    the overlapping-generations law: a lineage steps back a uniform
    :math:`j \in \{1..K\}` generations (mean :math:`\bar T = (K+1)/2`), two lineages
    are in the same generation a fraction :math:`1/\bar T` of the time, and each
    generation they share they meet with probability :math:`\approx 1/(N \bar T)`.
    ``K = 1`` gives :math:`N_e = n` exactly.

    Parameters
    ----------
    n : int
        Samples per generation, ``>= 1``.
    window : int
        The window ``K``, ``1 <= K <= n``.

    Returns
    -------
    float
        :math:`N_e`; ``math.inf`` when the Perron root is 1 or more.

    Raises
    ------
    WrongTypeError
        ``n`` or ``window`` not an integer.
    ValueError
        ``n < 1``, ``window < 1`` or ``window > n``.

    References
    ----------
    .. [1] J. Felsenstein (1971). *Inbreeding and variance effective numbers in populations with
       overlapping generations.* Genetics 68, 581–597.
    .. [2] The theory chapter, docs/theory/regimes.md ("The effective size of MostRecent").
    """
    T = most_recent_transfer_matrix(n, window)
    lam = float(np.max(np.abs(np.linalg.eigvals(T))))
    return math.inf if lam >= 1.0 else 1.0 / (1.0 - lam)
