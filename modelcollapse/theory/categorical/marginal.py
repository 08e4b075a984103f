r"""Per-token binomial chains (forward in time), the second exact method.

One token's count in a generation of ``n`` samples is itself a Markov chain,
:math:`X' \sim \mathrm{Bin}(n, X/n)`, with transition matrix
:math:`P_{ij} = \binom{n}{j}(i/n)^j(1-i/n)^{n-j}` on ``{0..n}`` (absorbing at 0 and n).
Dense linear algebra: :math:`O(n^2)` memory, :math:`O(n^3)` for the fundamental matrix,
so this method is meant for ``n`` up to a few thousand; it is the independent check of
the coalescent solvers.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import linalg, special, stats

__all__ = [
    "absorbed_green",
    "binom_pmf",
    "binomial_rows",
    "check_n",
    "collapse_functionals",
    "first_generation_law",
    "fundamental_solve",
    "grouped",
    "loss_functionals",
    "propagate",
    "wf_matrix",
]

#: Largest ``n`` accepted by the dense marginal method.
MAX_N = 3000


def check_n(n: int) -> None:
    if n > MAX_N:
        raise ValueError(
            f"method='marginal' builds a dense (n+1)x(n+1) matrix and needs n <= {MAX_N}; "
            f"got n={n}. Use method='coalescent'."
        )


#: Below this success probability the binomial law is computed from logarithms
#: (scipy's pmf overflows internally near 1e-307).
TINY_P = 1e-250


def binom_pmf(j: np.ndarray, n: int, p: np.ndarray) -> np.ndarray:
    r"""``Bin(n, p).pmf(j)`` (broadcast), also for ``p`` down to the smallest subnormal.

    For ``p < TINY_P`` every term with ``j >= 1`` is below ``n * TINY_P`` and the log form
    :math:`\log\binom nj + j\log p + (n-j)\log(1-p)` is exact to rounding.
    """
    j, p = np.broadcast_arrays(np.asarray(j), np.asarray(p, dtype=np.float64))
    tiny = p < TINY_P
    out = np.empty(j.shape)
    out[~tiny] = stats.binom.pmf(j[~tiny], n, p[~tiny])
    if tiny.any():
        jt, pt = j[tiny].astype(np.float64), p[tiny]
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.where(jt > 0, jt * np.log(pt), 0.0)
        logc = special.gammaln(n + 1.0) - special.gammaln(jt + 1.0) - special.gammaln(n - jt + 1.0)
        out[tiny] = np.exp(logc + logp + (n - jt) * np.log1p(-pt))
    return out


@lru_cache(maxsize=4)
def wf_matrix(n: int) -> np.ndarray:
    """Transition matrix of one token's count, rows ``i = 0..n``."""
    i = np.arange(n + 1)
    P = binom_pmf(i[None, :], n, (i / n)[:, None])
    P.setflags(write=False)
    return P


@lru_cache(maxsize=4)
def _lu(n: int):
    P = wf_matrix(n)
    Q = P[1:n, 1:n]
    return linalg.lu_factor(np.eye(n - 1) - Q)


def fundamental_solve(n: int, v: np.ndarray) -> np.ndarray:
    """:math:`(I-Q)^{-1} v` on the transient states ``1..n-1``."""
    return linalg.lu_solve(_lu(n), v)


def binomial_rows(n: int, probs: np.ndarray) -> np.ndarray:
    """Rows ``Bin(n, p_g)`` over ``0..n`` for each entry of ``probs``."""
    j = np.arange(n + 1)
    return binom_pmf(j[None, :], n, np.asarray(probs, dtype=np.float64)[:, None])


def grouped(p: np.ndarray):
    """Distinct probabilities of the support and their multiplicities."""
    vals, counts = np.unique(p[p > 0], return_counts=True)
    return vals, counts.astype(np.float64)


def first_generation_law(n: int, p: np.ndarray) -> np.ndarray:
    r"""Summed laws of the tokens' counts in generation 1, :math:`\sum_i \mathrm{Bin}(n, p_i)`
    (tokens with equal probability are grouped)."""
    vals, counts = grouped(p)
    return counts @ binomial_rows(n, vals)


def collapse_functionals(n: int):
    """``1{x = n}`` (token fixed) and ``x/n - 1{x = n}`` (its share, if not yet fixed)."""
    x = np.arange(n + 1)
    fixed = (x == n).astype(np.float64)
    return fixed, x / n - fixed


def loss_functionals(n: int):
    """``1{x = 0}`` (lost) and ``h(x) = 1 - x/n`` on ``x >= 1`` (not yet lost, lost later)."""
    x = np.arange(n + 1)
    return (x == 0).astype(np.float64), np.where(x > 0, 1.0 - x / n, 0.0)


def absorbed_green(n: int, start: np.ndarray, h: np.ndarray):
    r"""``start . sum_k (k+1)^j Q^k h`` for j = 0, 1 as (w1, w2) dot products.

    ``start`` and ``h`` are over ``0..n``; only the transient part ``1..n-1`` is used.
    Returns :math:`(\sum_k s Q^k h,\ \sum_k (k+1) s Q^k h)`.
    """
    if n == 1:
        return 0.0, 0.0
    w1 = fundamental_solve(n, h[1:n])
    w2 = fundamental_solve(n, w1)
    s = start[1:n]
    return float(s @ w1), float(s @ w2)


def propagate(n: int, start: np.ndarray, funcs: np.ndarray, tol: float, max_steps: int):
    r"""Rows ``start . P^k f_r`` for ``k = 0, 1, ...`` (backward iteration of ``funcs``).

    Stops after the step at which ``start . P^k 1_{transient}`` drops below ``tol``.
    """
    P = wf_matrix(n)
    F = np.array(funcs, dtype=np.float64).T.copy()  # (n+1, r)
    transient = np.zeros(n + 1)
    transient[1:n] = 1.0
    out = []
    for _ in range(max_steps):
        out.append(start @ F)
        alive = float(start @ transient)
        if alive < tol:
            break
        F = P @ F
        transient = P @ transient
    return np.array(out)
