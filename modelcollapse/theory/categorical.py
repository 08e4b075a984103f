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
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ..errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ..models import (
    Categorical,
    _check_positive_int,
    check_categorical,
    check_real,
    exact_probabilities,
)
from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
    accepts_regime_spec,
    require_plain_sampling,
)
from . import _exact, _marginal
from .distributions import GenerationDistribution

__all__ = [
    "Estimate",
    "collapse_time",
    "diffusion_collapse_time",
    "diffusion_loss_time",
    "expected_collapse_time",
    "expected_surviving_tokens",
    "forgetting_time",
    "homozygosity",
    "token_loss",
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


class Estimate(float):
    """A float that remembers how it was computed (``.method``, ``.exact``).

    References
    ----------
    .. [1] The theory chapter, docs/theory/coalescent.md ("How the toolkit computes it").
    """

    method: str
    exact: bool

    def __new__(cls, value, method: str, exact: bool):
        obj = super().__new__(cls, value)
        obj.method = method
        obj.exact = exact
        return obj

    def __repr__(self) -> str:
        return f"Estimate({float(self)!r}, method={self.method!r}, exact={self.exact})"

    def __reduce__(self):  # pickle and deepcopy keep the value and its provenance
        return (type(self), (float(self), self.method, self.exact))


class Moments(NamedTuple):
    """Mean and variance of a random time (a tuple: ``mean, var = ...`` still works).

    References
    ----------
    .. [1] The theory chapter, docs/theory/coalescent.md ("The duality formula").
    """

    mean: float
    var: float


# ---------------------------------------------------------------------- validation
#: ``method`` values under which a Replace regime with a sampling policy is solved by the
#: exact lumped chain of :mod:`modelcollapse.theory.policies`.
POLICY_METHODS = ("auto", "chain")


def _policy_replace(regime, method) -> bool:
    """True for ``Replace(n)`` with a sampling policy (temperature, top-k, top-p): the
    chain is no longer the neutral one, and only the exact chain on count partitions
    (:mod:`modelcollapse.theory.policies`) applies; another ``method`` is a ValueError."""
    if not (isinstance(regime, Replace) and not regime.sampling.plain):
        return False
    if method not in POLICY_METHODS:
        raise ValueError(
            f"{regime!r} samples with a policy, so the chain is not the neutral one that "
            f"method={method!r} solves; use method='auto' (the exact chain on count "
            "partitions, modelcollapse.theory.policies)")
    return True


def _overlapping_exact(regime, method, what: str) -> bool:
    """True for the regimes with overlapping generations (``MostRecent``,
    ``RandomlySampled``, ``Accumulate``, ``AccumulateSubsample``), with any sampling
    policy: their exact laws are the small-state chains of
    :mod:`modelcollapse.theory.overlapping` (``TooLargeError`` beyond their caps); another
    ``method`` than ``"auto"`` is a ValueError."""
    if not (isinstance(regime, Regime) and not isinstance(regime, (Replace, Mix))):
        return False
    if method not in ("auto", "chain"):
        raise ValueError(
            f"{what} under {type(regime).__name__} has one exact method, the chain on the "
            f"window or pool of counts (modelcollapse.theory.overlapping); method={method!r} "
            "is for Replace: use method='auto'")
    return True


def _not_absorbing(regime, what: str):
    """``UnsupportedRegimeError`` for a collapse time under a regime whose Dirac fits are
    not absorbing."""
    why = ("the pool keeps every token of the real block, so p^(m) is a Dirac only if "
           "that block was one (probability sum_i p_i^n, decided at generation 1)"
           if isinstance(regime, Accumulate) else
           "a Dirac fit is not absorbing (real or pooled data keep returning)")
    return UnsupportedRegimeError(
        f"{what}: under {type(regime).__name__} {why}, so there is no collapse time to "
        "give; ask for "
        "theory.overlapping.dirac_probability (P(p^(m) is a Dirac)), "
        "expected_surviving_tokens or stationary_homozygosity instead",
        ("Replace", "MostRecent"))


def _mix_chain(method, what: str) -> bool:
    """``Mix`` quantities without a closed form come from the exact chain on (real
    sample, synthetic block) of :mod:`modelcollapse.theory.overlapping` (small sizes)."""
    if method not in ("auto", "chain"):
        raise ValueError(f"{what} under Mix has one exact method, the chain on the real "
                         f"and synthetic counts; method={method!r} is for Replace: use "
                         "method='auto'")
    return True


def _replace_n(regime, what: str) -> int:
    require_plain_sampling(regime, what)
    if isinstance(regime, Replace):
        return regime.n
    if isinstance(regime, Mix):
        raise ValueError(
            f"{what} is defined for Replace(n): under Mix the fixed real samples keep "
            "every token of p^(1) alive, so the model never collapses"
        )
    if isinstance(regime, Regime):
        raise UnsupportedRegimeError(
            f"exact {what} is implemented for Replace(n) only; simulate "
            f"{type(regime).__name__} with modelcollapse.montecarlo", ("Replace",))
    raise ValueError(f"regime must be a Regime such as Replace(n), got {regime!r}")


#: the exact coalescent solver refuses larger n (O(n) memory, O(n^1.5) time)
MAX_COALESCENT_N = 10**8
#: method="chain" refuses chains with more states than this (rational LU is ~ states^3)
CHAIN_MAX_STATES = 120
#: expected_surviving_tokens: the ancestral chain counts as collapsed once
#: P(A_k >= 2) < DONE_TOL (the support is then one token up to that probability)
DONE_TOL = 1e-17
#: method="marginal" iterates the transition matrix once per generation
MARGINAL_MAX_GENERATIONS = 10**7


def _check_generations(m, max_generations: int | None = None) -> np.ndarray:
    """``m`` as an integer array: ``WrongTypeError`` (a ``TypeError`` and a
    ``ValueError``) for anything but integers, ``ValueError`` for negative ones,
    ``TooLargeError`` above ``max_generations`` (a solver's cap). The one generation
    check of the theory API."""
    ms = np.asarray(m)
    if isinstance(m, (bool, np.bool_)) or ms.dtype.kind not in "iu":
        raise WrongTypeError(f"m must be a non-negative integer or array of them, got {m!r}")
    if np.any(ms < 0):
        raise ValueError(f"m must be >= 0 (a non-negative integer or array of them), "
                         f"got {m!r}")
    if max_generations is not None and ms.size and int(ms.max()) > max_generations:
        raise TooLargeError(f"m must be <= {max_generations}, got {int(ms.max())}")
    return ms


def _check_tol(tol: float) -> float:
    tol = float(tol)
    if not (0 < tol < 1):
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    return tol


def _check_method(method: str, allowed: tuple[str, ...]) -> str:
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    return method


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
    return _check_positive_int(max_generations, "max_generations")


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


# ---------------------------------------------------------------------- collapse time
@accepts_regime_spec
def collapse_time(
    model: Categorical,
    regime: Regime,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> GenerationDistribution:
    r"""Law of the total-collapse time ``T`` under ``Replace(n)``.

    :math:`T = \inf\{m \ge 1 : p^{(m)} \text{ is a Dirac mass}\}`, indexed as in
    Seddik et al. 2024 (:math:`p^{(1)}` is the first fitted model). With the coalescent
    dual (docs/theory/coalescent.md),

    .. math:: P(T > m) = E\,f(A_{m-1}), \quad f(j) = 1 - \sum_i p_i^j,

    where :math:`A_k` is the number of distinct generation-1 ancestors of the ``n``
    samples of generation ``k+1`` (:math:`A_0 = n`).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace
        With a sampling policy (``temperature``, ``top_k``, ``top_p``) the law is that of
        the exact chain on count partitions
        (:func:`modelcollapse.theory.policies.policy_collapse_time`).
    method : {"auto", "coalescent", "marginal"}
        Coalescent dual (any vocabulary, :math:`O(n^{1.5})` per pass; what ``"auto"``
        uses for plain sampling) or per-token binomial chains (``n <= 3000``).
    tol : float
        The coalescent law is propagated explicitly until the ancestral chain has at
        most ``SPECTRAL_STATES`` states, and continued exactly beyond (a finite sum of
        geometric terms from its eigen-decomposition); it stops earlier if
        :math:`P(T > M) <` ``tol``, and the marginal method always stops there. Past
        such a stop the tail is extrapolated geometrically with rate :math:`1 - 1/n`.
    max_generations : int, optional
        Safety limit on ``M``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    GenerationDistribution
        with ``pmf``, ``cdf``, ``sf``, ``mean``, ``var``, ``quantile``.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/coalescent.md ("The duality formula").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):
        from .policies import policy_collapse_time

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return policy_collapse_time(model, regime, tol=tol, **kw)
    if _overlapping_exact(regime, method, "collapse_time"):
        if not isinstance(regime, MostRecent):
            raise _not_absorbing(regime, "collapse_time")
        from .overlapping import overlapping_collapse_time

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return overlapping_collapse_time(model, regime, tol=tol, **kw)
    n = _replace_n(regime, "collapse_time")
    tol = _check_tol(tol)
    method = _check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    max_gen = _max_generations(max_generations, n, tol)
    if model.is_dirac:
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method=method)
    if method == "coalescent":
        f, q = _collapse_functionals(model.p, n)
        vals, _, terms, _ = _propagate(n, np.stack([q, f]), tol, max_gen,
                                       progress=progress, desc="collapse law", tail_row=1)
        return _distribution(vals[:, 0], vals[:, 1], 1.0, 0.0, n, 1, "coalescent", terms)
    _marginal.check_n(n)
    B = _marginal.first_generation_law(n, model.p)
    fixed, u = _marginal.collapse_functionals(n)  # p_i - P(fixed) = E[X/n - 1{X=n}]
    vals = _marginal.propagate(n, B, [fixed, u], tol, max_gen)
    return _distribution(vals[:, 0], vals[:, 1], 1.0, 0.0, n, 1, "marginal")


def _collapse_moments(model: Categorical, n: int, method: str) -> tuple[float, float]:
    """Exact ``(E[T], Var[T])`` under ``Replace(n)``."""
    _check_exact_n(n)
    if model.is_dirac:
        return 1.0, 0.0
    if method == "coalescent":
        f, _ = _collapse_functionals(model.p, n)
        g1, g2 = _green(n, f)
    else:
        _marginal.check_n(n)
        B = _marginal.first_generation_law(n, model.p)
        g1, g2 = _marginal.absorbed_green(n, B, _marginal.collapse_functionals(n)[1])
    mean = 1.0 + g1
    second = 1.0 + 2.0 * g2 + g1
    return mean, second - mean * mean


@accepts_regime_spec
def expected_collapse_time(
    model: Categorical,
    regime: Regime,
    *,
    method: str = "auto",
    max_exact_n: int = MAX_EXACT_N,
) -> Estimate:
    r"""Expected total-collapse time :math:`E[T]` under ``Replace(n)``.

    .. math:: E[T] = 1 + \sum_{k\ge0} E f(A_k) = 1 + \big[(I-Q)^{-1} f\big](n)

    solved by forward substitution on the lower-triangular ancestral chain, one banded
    occupancy row at a time (:math:`O(n^{1.5})` time, :math:`O(n)` memory).

    Under a sampling policy (``Replace(n, temperature=..., top_k=..., top_p=...)``) the
    chain is not the neutral one: ``"auto"`` then solves the exact chain on count
    partitions (:func:`modelcollapse.theory.policies.policy_expected_collapse_time`).

    Parameters
    ----------
    method : {"auto", "coalescent", "marginal", "chain", "diffusion"}
        ``"auto"`` uses ``"coalescent"`` when ``n <= max_exact_n`` and otherwise falls
        back to ``"diffusion"``; the returned value's ``.method`` says which was used.
        ``"chain"`` is the full multinomial chain in exact rational arithmetic
        (tiny ``n`` and vocabularies). ``"diffusion"`` is Littler's
        :math:`-2n\sum_i (1-p_i)\ln(1-p_i)`, biased upward by O(1) at finite ``n``,
        floored at 1 (:math:`T \ge 1`).

    Returns
    -------
    Estimate
        A float with attributes ``.method`` and ``.exact``.

    References
    ----------
    .. [1] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [2] The theory chapter, docs/theory/coalescent.md ("The exact solvers").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):
        from .policies import policy_expected_collapse_time

        return policy_expected_collapse_time(model, regime)
    if _overlapping_exact(regime, method, "expected_collapse_time"):
        if not isinstance(regime, MostRecent):
            raise _not_absorbing(regime, "expected_collapse_time")
        from .overlapping import overlapping_expected_collapse_time

        return overlapping_expected_collapse_time(model, regime)
    n = _replace_n(regime, "expected_collapse_time")
    method = _check_method(method, ("auto", "coalescent", "marginal", "chain", "diffusion"))
    max_exact_n = _check_positive_int(max_exact_n, "max_exact_n")
    if method == "auto":
        method = "coalescent" if n <= max_exact_n else "diffusion"
    if method == "diffusion":
        return Estimate(diffusion_collapse_time(model, regime), "diffusion", False)
    if method == "chain":
        s = model.support_size
        states = math.comb(n + s - 1, s - 1)  # compositions of n into s counts
        if states > CHAIN_MAX_STATES:
            raise TooLargeError(
                f"method='chain' solves the full chain on {states} states in exact "
                f"rational arithmetic (cost ~ states^3 with growing rationals); the limit "
                f"is {CHAIN_MAX_STATES}: use "
                "method='coalescent' (exact, float64) for this model")
        return Estimate(float(_exact.expected_collapse_time(model.p, n)), "chain", True)
    mean, _ = _collapse_moments(model, n, method)
    return Estimate(mean, method, True)


@accepts_regime_spec
def diffusion_collapse_time(model: Categorical, regime: Regime) -> float:
    r"""Kimura--Littler diffusion value :math:`-2n\sum_i (1-p_i)\ln(1-p_i)`, floored at
    1: :math:`T \ge 1` always (``p^{(1)}`` is the first fit; a Dirac ``p`` gives
    exactly 1), where the diffusion value of a nearly collapsed model tends to 0.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}` (only its probabilities strictly between 0
        and 1 contribute).
    regime : Replace
        ``Replace(n)`` with plain sampling; ``n`` scales the value. A spec string is not
        accepted here.

    Returns
    -------
    float
        The diffusion value floored at 1, an approximation of :math:`E[T]` (compare the
        exact :func:`expected_collapse_time`).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``.
    ValueError
        ``regime`` is a ``Mix`` or not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime than ``Replace``, or a sampling policy.

    References
    ----------
    .. [1] M. Kimura (1955). *Solution of a process of random genetic drift with a continuous
       model.* PNAS 41, 144–150.
    .. [2] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [3] The theory chapter, docs/theory/coalescent.md ("Diffusion approximations").
    """
    model = check_categorical(model)
    n = _replace_n(regime, "diffusion_collapse_time")
    return max(1.0, n * littler_rate(model.p))


def littler_rate(p) -> float:
    r""":math:`-2\sum_i (1-p_i)\ln(1-p_i)` over the tokens with :math:`0 < p_i < 1`: the
    diffusion collapse time per sample of population size (Littler 1975), shared by every
    diffusion value of the toolkit (``Replace(n)``: :math:`n` times it; an effective size
    :math:`N_e` in its place for overlapping generations)."""
    p = np.asarray(p, dtype=np.float64)
    p = p[(p > 0) & (p < 1)]
    return float(-2.0 * np.sum((1 - p) * np.log1p(-p)))


def diffusion_loss_time(x: float, n: int) -> float:
    r"""Diffusion mean time to loss of a token at frequency ``x``, given loss:
    :math:`-2n\,x\ln x/(1-x)` (Kimura & Ohta 1969).

    Parameters
    ----------
    x : float
        Current frequency of the token, strictly between 0 and 1.
    n : int
        Population size (the ``n`` of ``Replace(n)``), ``>= 1``.

    Returns
    -------
    float
        The approximate mean number of generations until the token is lost, given that it
        is lost.

    Raises
    ------
    WrongTypeError
        ``x`` is not a real number or ``n`` not an integer.
    ValueError
        ``x`` outside ``(0, 1)``, or ``n < 1``.

    References
    ----------
    .. [1] M. Kimura, T. Ohta (1969). *The average number of generations until fixation of a mutant
       gene in a finite population.* Genetics 61, 763–771.
    .. [2] The theory chapter, docs/theory/coalescent.md ("Diffusion approximations").
    """
    x = check_real(x, "x")
    if not 0 < x < 1:
        raise ValueError(f"x must be in (0, 1), got {x}")
    n = _check_positive_int(n, "n")
    return -2.0 * n * x * math.log(x) / (1.0 - x)


# ---------------------------------------------------------------------- token loss
@accepts_regime_spec
def token_loss(
    model: Categorical,
    regime: Regime,
    token,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> GenerationDistribution:
    r"""Law of :math:`T_i`, the first generation ``m >= 1`` with :math:`p^{(m)}_i = 0`.

    The law is defective: the token is never lost with probability :math:`p_i` (it is
    the one that fixes, Seddik Prop. 1); ``.defect`` holds that mass, ``.mean()`` is
    infinite and ``.conditional()`` gives the law given loss. By the dual,
    :math:`P(T_i \le m) = E(1-p_i)^{A_{m-1}}`.

    ``token`` is an index or, when the model has labels, a word.

    Under ``MostRecent``, ``Accumulate`` and ``Replace`` with a sampling policy the law
    comes from the exact window chain (small ``n``; the default ``method`` means it, and
    ``"chain"`` names it): :func:`modelcollapse.theory.overlapping.overlapping_token_loss`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Regime
        ``Replace(n)`` (any sampling policy), ``MostRecent`` or ``Accumulate``. A spec
        string is not accepted here (``ValueError``).
    token : int or str
        Index of the token, or its label when the model has labels.
    method : {"auto", "coalescent", "marginal", "chain"}, default "auto"
        For plain ``Replace(n)``: the coalescent dual (what ``"auto"`` selects) or the
        per-token binomial chain (``n <= 3000``). Otherwise the exact window chain,
        which ``"auto"`` and ``"chain"`` select.
    tol : float, default 1e-12
        Tolerance on the neglected tail mass, in ``(0, 1)``: the law is propagated until
        the remaining mass is below it, then continued geometrically (exactly, for the
        coalescent method, once the ancestral chain has a few states).
    max_generations : int, optional
        Safety limit on the generations propagated; by default ``4 n ln(1/tol) + 1000``
        for plain ``Replace`` and 100000 for the window chain.
    progress : bool, default False
        Show a progress bar (plain ``Replace``, ``method="coalescent"``).

    Returns
    -------
    GenerationDistribution
        The defective law of :math:`T_i`: ``.defect`` is the probability that the token is
        never lost. Under plain ``Replace`` a token of probability 0 is lost at ``m = 1``;
        a token of probability 1 is never lost (``defect = 1``).

    Raises
    ------
    ValueError
        An unknown ``method`` or one the regime does not take, ``tol`` outside ``(0, 1)``,
        a bad ``token``, ``method="marginal"`` with ``n > 3000``, or ``regime`` not a
        :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``max_generations`` not an integer.
    UnsupportedRegimeError
        ``RandomlySampled``, ``AccumulateSubsample`` and ``Mix`` (see
        :func:`modelcollapse.theory.overlapping.first_loss_probability`).
    TooLargeError
        ``n`` above ``10**8``, or the window chain beyond its size caps.
    RuntimeError
        The coalescent law has not converged within ``max_generations``.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/token-loss.md ("The loss time of a token").
    """
    model = check_categorical(model)
    if isinstance(regime, Replace) and not regime.sampling.plain:
        if method not in ("auto", "chain"):
            raise ValueError(
                f"{regime!r} samples with a policy: its token-loss law comes from the exact "
                f"window chain, not method={method!r}; use method='auto'")
        from .overlapping import overlapping_token_loss

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return overlapping_token_loss(model, regime, token, tol=tol, **kw)
    if isinstance(regime, (RandomlySampled, AccumulateSubsample, Mix)):
        raise UnsupportedRegimeError(
            f"token_loss: under {type(regime).__name__} the real data keep the token or "
            "bring a lost one back (Mix with the same real samples: it is lost only if "
            "they lack it), and the "
            "exact state grows with m, so there is no law with a tail to give; "
            "theory.overlapping.first_loss_probability(model, regime, token, m) gives "
            "P(T_i <= m) exactly for finite m",
            ("Replace", "MostRecent", "Accumulate"))
    if isinstance(regime, (MostRecent, Accumulate)) and _overlapping_exact(
            regime, method, "token_loss"):
        from .overlapping import overlapping_token_loss

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return overlapping_token_loss(model, regime, token, tol=tol, **kw)
    n = _replace_n(regime, "token_loss")
    tol = _check_tol(tol)
    method = _check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    i = model.token_index(token)
    pi_ = float(model.p[i])
    max_gen = _max_generations(max_generations, n, tol)
    if pi_ == 0.0:
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method=method)
    if pi_ == 1.0:
        return GenerationDistribution([0.0], [0.0], defect=1.0, method=method)
    terms = None
    if method == "coalescent":
        H, phi = _loss_functionals(pi_, n)
        vals, _, terms, _ = _propagate(n, np.stack([H, phi]), tol, max_gen, tail_row=1,
                                       progress=progress, desc="token-loss law")
    else:
        _marginal.check_n(n)
        b = _marginal.binomial_rows(n, np.array([pi_]))[0]
        vals = _marginal.propagate(n, b, list(_marginal.loss_functionals(n)), tol, max_gen)
    return _distribution(vals[:, 0], vals[:, 1], 1.0 - pi_, pi_, n, 1, method, terms)


class ForgettingTime(GenerationDistribution):
    """Law of the time to lose a token, conditioned on its loss.

    ``p_loss`` is the probability that the token is ever lost (``1 - count/n``);
    ``mean()`` and ``var()`` are the exact conditional moments from the Green's function
    (fundamental matrix) of the chain, not sums of the truncated law.

    References
    ----------
    .. [1] The theory chapter, docs/theory/token-loss.md ("Forgetting time: the conditioned chain").
    """

    def __init__(self, law: GenerationDistribution, p_loss: float, mean: float, var: float,
                 count: int, n: int):
        super().__init__(law._cdf, law._tail, ratio=law.ratio,
                         tail_terms=(law._coefs, law._rates), method=law.method)
        self.p_loss = p_loss
        self._mean = mean
        self._var = var
        self.count = count
        self.n = n

    def mean(self) -> float:
        return self._mean

    def var(self) -> float:
        return self._var

    def __repr__(self) -> str:
        return (
            f"ForgettingTime(count={self.count}, n={self.n}, p_loss={self.p_loss:.6g}, "
            f"mean={self._mean:.6g}, median={self.median():g}, method={self.method!r})"
        )


def forgetting_time(
    count: int,
    n: int,
    *,
    method: str = "coalescent",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> ForgettingTime:
    r"""Time to forget a token seen ``count`` times among the ``n`` current samples.

    Under ``Replace(n)`` the token's count is the Wright--Fisher chain
    :math:`X' \sim \mathrm{Bin}(n, X/n)` from :math:`X_0 = c`. Its loss time
    :math:`\tau` is finite with probability :math:`h(c) = 1 - c/n`. Conditioned on loss
    (Doob h-transform with :math:`h(j) = 1 - j/n`),

    .. math:: E[\tau \mid \text{loss}] = \frac{[(I-Q)^{-1} h](c)}{h(c)}, \qquad
              P(\tau \le t \mid \text{loss}) = \frac{P_c(X_t = 0)}{h(c)} .

    ``method="marginal"`` uses the dense fundamental matrix of the count chain;
    ``method="coalescent"`` the dual (the token is lost by ``t`` iff none of the
    :math:`A_t` ancestral samples carries it: probability
    :math:`\binom{n-c}{A_t}/\binom{n}{A_t}`), which scales to large ``n``.

    Parameters
    ----------
    count : int
        Copies ``c`` of the token among the ``n`` current samples, ``1 <= count < n``.
    n : int
        Samples per generation (``Replace(n)``), ``>= 2``.
    method : {"coalescent", "marginal"}, default "coalescent"
        The coalescent dual, or the dense fundamental matrix of the count chain
        (``n <= 3000``).
    tol : float, default 1e-12
        Tolerance on the neglected tail mass, in ``(0, 1)``: the law is propagated until
        the remaining mass is below it (the coalescent method continues it exactly once
        the ancestral chain has a few states).
    max_generations : int, optional
        Safety limit on the generations propagated; by default ``4 n ln(1/tol) + 1000``.
    progress : bool, default False
        Show a progress bar (``method="coalescent"``).

    Returns
    -------
    ForgettingTime
        The conditional law (``pmf``, ``cdf``, ``quantile``, ``median``), exact
        ``mean()``/``var()``, and ``p_loss``.

    Raises
    ------
    WrongTypeError
        ``count``, ``n`` or ``max_generations`` not an integer.
    ValueError
        ``count < 1``, ``count >= n``, ``n < 2``, ``tol`` outside ``(0, 1)``, an unknown
        ``method``, or ``method="marginal"`` with ``n > 3000``.
    TooLargeError
        ``n`` above ``10**8`` (the exact solvers' reach).
    RuntimeError
        The coalescent law has not converged within ``max_generations``.

    References
    ----------
    .. [1] J. L. Doob (1957). *Conditional Brownian motion and the boundary limits of harmonic
       functions.* Bulletin de la Société Mathématique de France 85, 431–458.
    .. [2] The theory chapter, docs/theory/token-loss.md ("Forgetting time: the conditioned chain").
    """
    from ..models import _check_positive_int

    n = _check_positive_int(n, "n", minimum=2)
    count = _check_positive_int(count, "count")
    if count >= n:
        raise ValueError(f"count must be < n (a token with count n is never lost); got "
                         f"count={count}, n={n}")
    tol = _check_tol(tol)
    method = _check_method(method, ("coalescent", "marginal"))
    max_gen = _max_generations(max_generations, n, tol)
    p_loss = 1.0 - count / n
    terms = None
    if method == "coalescent":
        H, phi = _forgetting_functionals(count, n)
        vals, _, terms, _ = _propagate(n, np.stack([H, phi]), tol, max_gen, tail_row=1,
                                       progress=progress, desc="forgetting law")
        # the moments are sums of the propagated row, continued exactly by its spectral
        # terms (the Green's-function solve would pass over every occupancy row again)
        g1, g2 = (_green_from_rows(n, vals[:, 1], terms) if terms is not None
                  else _green(n, phi))
    else:
        _marginal.check_n(n)
        start = np.zeros(n + 1)
        start[count] = 1.0
        lost, h = _marginal.loss_functionals(n)
        vals = _marginal.propagate(n, start, [lost, h], tol, max_gen)
        g1, g2 = _marginal.absorbed_green(n, start, h)
    law = _distribution(vals[:, 0], vals[:, 1], 0.0, 1.0 - p_loss, n, 0, method, terms)
    cond = law.conditional()
    mean = g1 / p_loss
    second = (2.0 * g2 - g1) / p_loss
    return ForgettingTime(cond, p_loss, mean, second - mean * mean, count, n)


# ---------------------------------------------------------------------- surviving tokens
@accepts_regime_spec
def expected_surviving_tokens(
    model: Categorical, regime: Regime, m, *, method: str = "auto"
):
    r"""Expected support size :math:`E|\mathrm{supp}\,p^{(m)}|` under ``Replace(n)``.

    .. math:: E|\mathrm{supp}\,p^{(m)}| = \sum_i \big(1 - E(1-p_i)^{A_{m-1}}\big),
              \quad m \ge 1,

    and the support size of :math:`p^{(0)}` at ``m = 0``. ``m`` may be an int or an
    array of ints; the result has the same shape. ``method``: ``"auto"`` (the
    coalescent dual for plain sampling; the exact chain on count partitions,
    :func:`modelcollapse.theory.policies.policy_surviving_tokens`, under a sampling
    policy), ``"coalescent"`` or ``"marginal"`` (dense per-token chains, ``n <= 3000``).

    The other regimes, ``Mix`` included, and any sampling policy: the exact chains of
    :mod:`modelcollapse.theory.overlapping` (small sizes; ``TooLargeError`` beyond).
    Under ``Mix`` with the same real samples the support is that of the real sample
    from generation 1 on, :math:`\sum_i (1 - (1-p_i)^N)`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Regime
        ``Replace(n)`` (any sampling policy), ``MostRecent``, ``RandomlySampled``,
        ``Accumulate``, ``AccumulateSubsample`` or ``Mix``. A spec string is not accepted
        here (``ValueError``).
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real model).
    method : {"auto", "coalescent", "marginal"}, default "auto"
        For plain ``Replace(n)``; under a sampling policy and the other regimes only
        ``"auto"`` (or ``"chain"``, the exact chain it selects there) is accepted.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``m``; a float64 array of the shape of ``m`` for an array.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), an unknown ``method`` or one
        the regime does not take, ``method="marginal"`` with ``n > 3000`` or ``m > 10**7 + 1``,
        or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical`` (under the overlapping-generation regimes and
        ``Mix``, also an ``m`` of a wrong type).
    TooLargeError
        ``n`` above ``10**8`` (the exact solvers' reach), or the exact chains of the other
        regimes and of the sampling policies beyond their size caps.

    References
    ----------
    .. [1] The theory chapter, docs/theory/token-loss.md ("Surviving tokens").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):
        from .policies import policy_surviving_tokens

        return policy_surviving_tokens(model, regime, m)
    if _overlapping_exact(regime, method, "expected_surviving_tokens") or (
            isinstance(regime, Mix) and _mix_chain(method, "expected_surviving_tokens")):
        from .overlapping import overlapping_surviving_tokens

        return overlapping_surviving_tokens(model, regime, m)
    n = _replace_n(regime, "expected_surviving_tokens")
    method = _check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    ms = _check_generations(m)
    # beyond 2**62 generations every chain has collapsed long ago: no int64 wrap-around
    flat = np.minimum(ms.ravel(), 2**62).astype(np.int64)
    vals_p, counts = _marginal.grouped(model.p)
    out = np.empty(flat.size)
    out[flat == 0] = counts.sum()
    ks = sorted({int(x) - 1 for x in flat if x >= 1})
    if ks:
        with np.errstate(divide="ignore"):
            lg = np.log1p(-vals_p)  # -inf for a Dirac token, which always survives
        if method == "coalescent":
            # the ancestral chain is propagated until it lives on a few states (or
            # P(A_k >= 2) < DONE_TOL); the law of any later A_k is a matrix power
            vals, snaps, _, law_K = _propagate(n, np.zeros((1, n + 1)), DONE_TOL,
                                               max(ks) + 1, snap_ks=ks, spectral=True,
                                               require_done=False)
            last = vals.shape[0] - 1
            res = {}
            for idx, k in enumerate(ks):
                if k <= last:
                    law = snaps[idx]
                elif np.count_nonzero(law_K[2:]) <= SPECTRAL_STATES:
                    law = _later_transient(n, law_K, k - last)
                else:  # stopped by DONE_TOL: one lineage left, up to that mass
                    res[k] = 1.0
                    continue
                # one lineage leaves exactly one token; with a >= 2 lineages token g
                # survives with probability 1 - (1 - p_g)^a: E = 1 + E[psi(A) - 1; A >= 2]
                a_idx = 2 + np.flatnonzero(law[2:] > 0)
                surv = -np.expm1(np.outer(a_idx.astype(np.float64), lg)) @ counts
                res[k] = 1.0 + float(law[a_idx] @ (surv - 1.0))
        else:
            if max(ks) > MARGINAL_MAX_GENERATIONS:
                raise ValueError(
                    f"method='marginal' iterates every generation; m = {max(ks) + 1} is "
                    f"above {MARGINAL_MAX_GENERATIONS}: use method='coalescent', which "
                    "stops once the chain has collapsed")
            _marginal.check_n(n)
            start = _marginal.first_generation_law(n, model.p)
            alive = 1.0 - _marginal.loss_functionals(n)[0]
            P = _marginal.wf_matrix(n)
            res = {}
            v = alive
            for k in range(max(ks) + 1):
                if k in ks:
                    res[k] = float(start @ v)
                v = P @ v
        for j, x in enumerate(flat):
            if x >= 1:
                out[j] = res[int(x) - 1]
    if ms.ndim == 0:
        return float(out[0])
    return out.reshape(ms.shape)


# ---------------------------------------------------------------------- homozygosity
@accepts_regime_spec
def homozygosity(model: Categorical, regime: Regime, m, *, exact: bool = False):
    r"""Expected homozygosity :math:`S_m = E\sum_i (p^{(m)}_i)^2`.

    ``Replace(n)`` (Seddik Thm 1, eq. 6): :math:`S_m = 1 - (1-1/n)^m (1-S_0)`.

    ``Mix(real=N, synthetic=n)``, :math:`\alpha = n/(N+n)`,
    :math:`\beta = \alpha[(1+1/N)\alpha - 1/N]`: the per-token recursion
    :math:`\nu^{(m+1)} = (1-\alpha)(1+2\alpha)p/N + (1-1/N)(1-\alpha^2)p^2 + \beta\nu^{(m)}`
    from :math:`S_1 = 1/N + (1-1/N)S_0` gives, for ``m >= 1``,

    .. math:: S_m = L + \beta^{m-1}(S_1 - L), \quad
              L = \frac{(1+2\alpha)/N + (1-1/N)(1+\alpha)S_0}{1 + (1+1/N)\alpha}.

    This corrects a sign in the transient term of Seddik et al.'s printed eq. (9); see
    :mod:`modelcollapse.proofs.seddik_theorem2`.

    ``Mix(real=N, synthetic=n, fresh=True)`` (new real samples every generation):
    :math:`E p^{(m)} = p^{(0)}` and :math:`V_m = S_m - S_0` obeys
    :math:`V_1 = (1-S_0)/N`, :math:`V_{m+1} = \beta' V_m + (1-S_0)/(N+n)` with
    :math:`\beta' = \alpha^2(1-1/n)`, so
    :math:`S_m = S_0 + V_\infty + \beta'^{m-1}(V_1 - V_\infty)`,
    :math:`V_\infty = (1-S_0)/((N+n)(1-\beta'))`: stationary, no collapse.

    ``MostRecent``, ``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample``:
    from the two-lineage genealogy, :math:`S_m = 1 - (1-S_0)D_m`
    (:func:`modelcollapse.theory.genealogy.genealogy_homozygosity`).

    ``exact=True`` evaluates in rational arithmetic (``fractions.Fraction``) for scalar
    ``m``; ``model`` may then also be a sequence of ``Fraction`` probabilities (converted by
    :func:`modelcollapse.models.exact_probabilities`).

    Under a sampling policy (temperature, top-k, top-p; any regime) the sum of squares
    is no longer a closed recursion: :math:`S_m` comes from the exact chains on count
    vectors (small ``n`` and vocabularies,
    :func:`modelcollapse.theory.overlapping.overlapping_homozygosity`), in float64 only.

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        probabilities (see above).
    regime : Regime
        ``Replace``, ``Mix`` (``fresh`` or not), ``MostRecent``, ``RandomlySampled``,
        ``Accumulate`` or ``AccumulateSubsample``, with any sampling policy (then in
        float64 only). A spec string is not accepted here (``ValueError``).
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` gives :math:`S_0`); a scalar with ``exact=True``.
    exact : bool, default False
        Evaluate in rational arithmetic.

    Returns
    -------
    float, numpy.ndarray or Fraction
        A float for a scalar ``m``, a float64 array of the shape of ``m`` for an array, a
        ``Fraction`` with ``exact=True``.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), ``exact=True`` with an array
        ``m``, or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical`` (with ``exact=False``).
    UnsupportedRegimeError
        ``exact=True`` with a sampling policy.
    TooLargeError
        Under a sampling policy, the exact chains beyond their size caps; under the
        overlapping-generation regimes, ``m`` beyond the genealogy recursions' limits.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/categorical.md ("Homozygosity").
    .. [3] The theory chapter, docs/theory/categorical.md ("Partially synthetic data: the Mix
       regime").
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    if isinstance(regime, Regime) and not regime.sampling.plain:
        if exact:
            raise UnsupportedRegimeError(
                f"homozygosity(exact=True) is rational for plain sampling only; {regime!r} "
                "sets a sampling policy: use exact=False (the exact chain in float64)",
                ("plain sampling",))
        from .overlapping import overlapping_homozygosity

        return overlapping_homozygosity(model, regime, m)
    if _overlapping(regime):
        from .genealogy import genealogy_homozygosity

        return genealogy_homozygosity(model, regime, m, exact=exact)
    ms = _check_generations(m)
    if exact:
        if ms.ndim != 0:
            raise ValueError("exact=True takes a scalar m")
        p = exact_probabilities(model)
        return homozygosity_from_S0(sum(x * x for x in p), regime, int(ms))
    model = check_categorical(model)
    out = homozygosity_from_S0(model.homozygosity, regime, ms.astype(np.float64))
    if ms.ndim == 0:
        return float(out)
    return np.asarray(out, dtype=np.float64)


def _overlapping(regime) -> bool:
    """Regimes whose lineages jump back more than one generation (exact homozygosity from
    the two-lineage genealogy, :mod:`modelcollapse.theory.genealogy`)."""
    return isinstance(regime, Regime) and not isinstance(regime, (Replace, Mix))


def homozygosity_from_S0(S0, regime: Regime, m):
    """The closed forms of :func:`homozygosity` from :math:`S_0`: in exact arithmetic when
    ``S0`` is a ``Fraction`` and ``m`` an int, in float64 (``m`` may be an array) otherwise.
    """
    require_plain_sampling(regime, "homozygosity")
    if _overlapping(regime):
        from .genealogy import genealogy_homozygosity_from_S0

        ms = m if isinstance(S0, Fraction) else np.asarray(m).astype(np.int64)
        return genealogy_homozygosity_from_S0(S0, regime, ms)
    exact = isinstance(S0, Fraction)
    one = Fraction(1) if exact else 1.0
    if isinstance(regime, Replace):
        n = regime.n
        if exact:
            decay = (1 - one / n) ** m
        else:  # exp(m log1p(-1/n)) keeps full relative accuracy for large m
            decay = np.exp(m * math.log1p(-1.0 / n)) if n > 1 else np.where(m == 0, 1.0, 0.0)
        return 1 - decay * (1 - S0)
    if isinstance(regime, Mix) and regime.fresh:
        # V_m = sum_i Var p_i^(m) = S_m - S_0: V_1 = (1-S_0)/N and
        # V_{m+1} = beta V_m + (1-S_0)/(N+n), beta = alpha^2 (1-1/n)
        N, n = regime.real, regime.synthetic
        a = one * n / (N + n)
        beta = a * a * (1 - one / n)
        V1 = (1 - S0) / N
        Vinf = (1 - S0) / (N + n) / (1 - beta)
        if exact:
            return S0 if m == 0 else S0 + Vinf + beta ** (m - 1) * (V1 - Vinf)
        return np.where(m >= 1, S0 + Vinf + beta ** np.maximum(m - 1, 0) * (V1 - Vinf), S0)
    if isinstance(regime, Mix):
        N, n = regime.real, regime.synthetic
        a = one * n / (N + n)
        beta = a * ((1 + one / N) * a - one / N)
        S1 = one / N + (1 - one / N) * S0
        L = ((1 + 2 * a) / N + (1 - one / N) * (1 + a) * S0) / (1 + (1 + one / N) * a)
        if exact:
            return S0 if m == 0 else L + beta ** (m - 1) * (S1 - L)
        return np.where(m >= 1, L + beta ** np.maximum(m - 1, 0) * (S1 - L), S0)
    _replace_n(regime, "homozygosity")
    raise AssertionError  # pragma: no cover
