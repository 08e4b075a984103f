r"""Exact theory of next-token (categorical) collapse: Seddik et al. 2024 and beyond.

Model: :math:`p^{(0)}` is the real distribution; under ``Replace(n)``,
:math:`p^{(m)} = X/n` with :math:`X \sim \mathrm{Mult}(n, p^{(m-1)})` for ``m >= 1``
(neutral Wright--Fisher, population ``n``). ``T`` is the first ``m >= 1`` at which
:math:`p^{(m)}` is a Dirac mass.

Two exact methods, chosen by ``method=`` and tested against each other:

``"coalescent"``
    The dual (docs/theory/coalescent.md): the ``n`` samples of generation ``m`` have
    :math:`A_{m-1}` distinct ancestors among the ``n`` samples of generation 1, which
    are i.i.d. from :math:`p^{(0)}`. Hence :math:`P(T \le m) = E\,q(A_{m-1})` with
    :math:`q(j) = \sum_i p_i^j` and :math:`P(\text{token } i \text{ lost by } m) =
    E(1-p_i)^{A_{m-1}}`. Cost is independent of the vocabulary size.
``"marginal"``
    Per-token binomial chains forward in time: collapse events "token i fixed" are
    disjoint, so :math:`P(T \le m) = \sum_i P(X_i^{(m)} = n)`; dense fundamental matrix,
    ``n <= 3000``.

plus ``"chain"`` (the full multinomial chain in exact rational arithmetic, tiny cases),
and ``"diffusion"`` (Kimura / Littler approximations).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import TooLargeError
from ...models import (
    Categorical,
    check_positive_int,
)
from ..distributions import GenerationDistribution
from . import marginal

__all__ = [
    "collapse_moments",
]

#: Largest ``n`` for which ``method="auto"`` runs the exact coalescent solver.
MAX_EXACT_N = 2_000_000
#: Default tolerance on the neglected tail mass of distributions.
DEFAULT_TOL = 1e-12
#: Entries of the cached occupancy rows (8 bytes each) used by forward propagation:
#: the first rows, needed by every late generation; rows above come from checkpoints.
#: Kept small: memory is slow to touch for the first time (about 2.5 ms per MB here).
ROW_CACHE_BUDGET = 4_000_000
#: Entries of the checkpointed occupancy rows above the cache (8 bytes each): a
#: generation whose band of states lies above the cache rebuilds its rows from the
#: nearest checkpoint instead of from the top of the cache.
CHECKPOINT_BUDGET = 8_000_000
#: Once the ancestral chain lives on at most this many states, the rest of the law is
#: summed exactly by eigen-decomposition (kept small: see ``spectral_tail``).
SPECTRAL_STATES = 10


#: the exact coalescent solver refuses larger n (O(n) memory, O(n^1.5) time)
MAX_COALESCENT_N = 10**8
#: method="chain" refuses chains with more states than this (rational LU is ~ states^3)
CHAIN_MAX_STATES = 120
#: expected_surviving_tokens: the ancestral chain counts as collapsed once
#: P(A_k >= 2) < DONE_TOL (the support is then one token up to that probability)
DONE_TOL = 1e-17
#: method="marginal" iterates the transition matrix once per generation
MARGINAL_MAX_GENERATIONS = 10**7


# ---------------------------------------------------------------------- engines
def _coalescent():
    from . import _coalescent as c  # numba is imported lazily

    return c


def _green(n: int, phi: np.ndarray) -> tuple[float, float]:
    """:math:`(\\sum_k E\\phi(A_k), \\sum_k (k+1)E\\phi(A_k))` from ``A_0 = n``."""
    if n == 1:
        return 0.0, 0.0
    c = _coalescent()
    g1, g2 = c.green(n, np.ascontiguousarray(phi, dtype=np.float64), c.coefficients(n))
    return float(g1[n]), float(g2[n])


def _propagate(n, phis, tol, max_generations, snap_ks=(), progress=False, desc="",
               require_done=True, tail_row=None, spectral=False):
    r"""Rows :math:`E\phi_r(A_k)` for ``k = 0..K``.

    Stops when :math:`P(A_k\ge2) <` ``tol``, or, when ``tail_row`` is given or
    ``spectral`` is true, as soon as the chain lives on at most ``SPECTRAL_STATES``
    states: the rest of row ``tail_row`` is then an exact finite sum of geometric terms
    (``_coalescent.spectral_tail``), and the law of any later ``A_k`` a power of the
    transient block on those few states (:func:`_later_transient`).

    Returns ``(values[K+1, r], snapshots, tail_terms, law)``; ``tail_terms`` is ``None``
    or ``(coefs, rates)`` continuing row ``tail_row`` from ``k = K``, and ``law`` is the
    law of ``A_K`` (indexed by the number of lineages).
    """
    _check_exact_n(n)
    c = _coalescent()
    phis = np.ascontiguousarray(np.atleast_2d(phis), dtype=np.float64)
    snap_arr = np.asarray(sorted(snap_ks), dtype=np.int64)
    snaps = np.zeros((snap_arr.size, n + 1))
    kspec = SPECTRAL_STATES if (tail_row is not None or spectral) else 0
    if n == 1:
        vals = phis[:, 1][None, :]
        for i in range(snap_arr.size):
            snaps[i, 1] = 1.0
        return vals, snaps, None, np.array([0.0, 1.0])
    coef = c.coefficients(n)
    data, offsets, los, his, L = c.build_row_cache(n, ROW_CACHE_BUDGET, coef)
    ck = c.Checkpoints(n, L, CHECKPOINT_BUDGET).as_tuple()
    work = np.zeros((3, n + 3))
    pi = np.zeros(n + 1)
    pi[n] = 1.0
    amax = n
    k = 0
    chunks = []
    chunk = 4096
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(desc=desc or "generations", unit="gen", leave=False)
    try:
        while k < max_generations:
            steps = min(chunk, max_generations - k)
            out = np.zeros((steps, phis.shape[0]))
            k_next, amax, done = c.forward(
                n, pi, amax, phis, steps, tol, kspec, data, offsets, los, his, L, coef, ck,
                work, out, snap_arr, snaps, k,
            )
            chunks.append(out[: k_next - k])
            if bar is not None:
                bar.update(k_next - k)
            k = k_next
            if done:
                break
            chunk = min(2 * chunk, 1 << 20)
        else:
            if not require_done:
                return np.concatenate(chunks, axis=0), snaps, None, pi
            raise RuntimeError(
                f"P(A >= 2) still above tol={tol:g} after max_generations={max_generations}; "
                "raise max_generations or tol"
            )
    finally:
        if bar is not None:
            bar.close()
    vals = np.concatenate(chunks, axis=0)
    terms = None
    if tail_row is not None and amax <= kspec:
        # the kernel stops before stepping: pi is the law of A_K, the last recorded row
        coefs, rates = c.spectral_tail(n, pi, phis[tail_row : tail_row + 1])
        terms = (coefs[0], rates)
    return vals, snaps, terms, pi


def _later_transient(n: int, law: np.ndarray, steps: int) -> np.ndarray:
    """``P(A_{K+steps} = a)`` for ``a >= 2`` (zero at ``a <= 1``) from the law of ``A_K``
    living on a few states, by a power of the dense transient block of the occupancy
    rows (repeated squaring of a substochastic matrix: underflows to exact zeros)."""
    out = np.zeros_like(law)
    if not np.any(law[2:] > 0):
        return out
    K = int(np.flatnonzero(law)[-1])
    Q = _coalescent().occupancy_block(n, K)[2:, 2:]  # rows/cols 2..K
    out[2 : K + 1] = law[2 : K + 1] @ np.linalg.matrix_power(Q, int(steps))
    return out


def _green_from_rows(n: int, vals: np.ndarray, terms) -> tuple[float, float]:
    r""":math:`(\sum_k v_k, \sum_k (k+1) v_k)` of a propagated row ``v_k = E\phi(A_k)``,
    ``k = 0..K``, continued exactly by its spectral ``terms`` beyond ``K``:
    :math:`v_{K+j} = \sum_a c_a\lambda_a^j`, so the continuation adds
    :math:`\sum_a c_a \lambda_a/(1-\lambda_a)` and
    :math:`\sum_a c_a[(K+1)\lambda_a/(1-\lambda_a) + \lambda_a/(1-\lambda_a)^2]`, with
    :math:`1-\lambda_a = -\mathrm{expm1}(\sum_{i<a}\log(1-i/n))` to full accuracy."""
    K = vals.size - 1
    kk = np.arange(1, K + 2, dtype=np.float64)
    g1 = float(np.sum(vals))  # pairwise summation of non-negative terms
    g2 = float(np.sum(kk * vals))
    coefs, lam = terms
    one_minus = -np.expm1(_coalescent().log_eigenvalues(n, lam.size + 1)[2:])
    r = lam / one_minus
    g1 += math.fsum(coefs * r)
    g2 += math.fsum(coefs * ((K + 1) * r + r / one_minus))
    return g1, g2


def _check_exact_n(n: int) -> None:
    """``TooLargeError`` for an ``n`` beyond the exact solvers' reach, before any work."""
    if n > MAX_COALESCENT_N:
        raise TooLargeError(
            f"the exact solvers keep O(n) arrays and take O(n^1.5) time; n={n} is above "
            f"{MAX_COALESCENT_N}: use the diffusion approximations (method='diffusion', "
            "theory.diffusion_loss_time)")


def _max_generations(max_generations, n: int, tol: float) -> int:
    """``max_generations`` validated (``None``: the default), before any work."""
    _check_exact_n(n)
    if max_generations is None:
        return _default_max_generations(n, tol)
    return check_positive_int(max_generations, "max_generations")


def _default_max_generations(n: int, tol: float) -> int:
    # P(A_k >= 2) decays like (1 - 1/n)^k; a generous multiple of n ln(1/tol)
    return int(4 * n * math.log(1.0 / tol) + 1000)


# ---------------------------------------------------------------------- functionals
def _collapse_functionals(p: np.ndarray, n: int):
    """``f(a) = 1 - sum p_i^a`` (survival) and ``q(a) = sum p_i^a`` (collapse), a = 0..n."""
    support = np.sort(p[p > 0])[::-1].copy()
    return _coalescent().collapse_functionals(n, support)


def _loss_functionals(pi_: float, n: int):
    r"""For one token: ``H(a) = (1-p)^a`` (lost by then) and
    ``phi(a) = (1-p) - (1-p)^a`` (not yet lost, lost eventually), a = 0..n."""
    a = np.arange(n + 1, dtype=np.float64)
    if pi_ >= 1.0:
        return np.zeros(n + 1), np.zeros(n + 1)
    lg = math.log1p(-pi_)
    H = np.exp(a * lg)
    phi = (1.0 - pi_) * (-np.expm1((a - 1.0) * lg))
    phi[0] = 0.0
    return H, phi


def _forgetting_functionals(count: int, n: int):
    r"""Token with ``count`` copies among the ``n`` current samples: with ``a`` ancestral
    lineages (distinct current samples), ``H(a) = C(n-c, a)/C(n, a)`` is the chance that
    none carries the token; ``phi(a) = (1 - c/n) - H(a)``."""
    c = count
    k = np.arange(n, dtype=np.float64)  # k = 0..n-1
    # log((n-c-k)/(n-k)); -inf once k >= n-c (no carrier-free choice left)
    terms = np.full(n, -np.inf)
    ok = k < n - c
    terms[ok] = np.log1p(-c / (n - k[ok]))
    logH = np.concatenate([[0.0], np.cumsum(terms)])  # logH[a] = sum_{k<a}
    H = np.exp(logH)
    # phi(a) = (1 - c/n)(1 - prod_{k=1}^{a-1} (n-c-k)/(n-k))
    inner = np.concatenate([[0.0, 0.0], np.cumsum(terms[1:])])[: n + 1]
    phi = (1.0 - c / n) * (-np.expm1(inner))
    phi[0] = 0.0
    return H, phi


def _distribution(vals_cdf, vals_tail, c0_tail, defect, n, offset, method, tail_terms=None):
    """Assemble a GenerationDistribution from chain rows indexed by k = m - offset.

    Beyond the last row the tail continues exactly with ``tail_terms`` when given, else
    geometrically at the slowest rate of the chain, ``1 - 1/n``.
    """
    cdf = np.concatenate([np.zeros(offset), vals_cdf])
    tail = np.concatenate([np.full(offset, c0_tail), vals_tail])
    ratio = 1.0 - 1.0 / n if n > 1 else 0.0
    return GenerationDistribution(cdf, tail, defect=defect, ratio=ratio,
                                  tail_terms=tail_terms, method=method)


def collapse_moments(model: Categorical, n: int, method: str) -> tuple[float, float]:
    """Exact ``(E[T], Var[T])`` under ``Replace(n)``."""
    _check_exact_n(n)
    if model.is_dirac:
        return 1.0, 0.0
    if method == "coalescent":
        f, _ = _collapse_functionals(model.p, n)
        g1, g2 = _green(n, f)
    else:
        marginal.check_n(n)
        B = marginal.first_generation_law(n, model.p)
        g1, g2 = marginal.absorbed_green(n, B, marginal.collapse_functionals(n)[1])
    mean = 1.0 + g1
    second = 1.0 + 2.0 * g2 + g1
    return mean, second - mean * mean
