r"""Exact theory of categorical collapse under a sampling policy (temperature, top-k, top-p).

Model (docs/theory/policies.md, and what :func:`modelcollapse.montecarlo.simulate` does): under
``Replace(n, temperature=T, top_k=k, top_p=P)``

.. math::

    p^{(1)} = X^{(1)}/n,\quad X^{(1)} \sim \mathrm{Mult}(n, p^{(0)}); \qquad
    p^{(m+1)} = X^{(m+1)}/n,\quad X^{(m+1)} \sim \mathrm{Mult}\big(n, \pi(p^{(m)})\big),

where :math:`\pi` is the sampling policy of
:func:`modelcollapse.sampling.sampling_distribution`: temperature
:math:`p \mapsto p^{1/T}/\sum p^{1/T}`, then top-k (the ``k`` most likely tokens), then
top-p (the most likely tokens while the mass of the more likely ones is below
:math:`P(1 - 10^{-12})`), each renormalised, ties to the lower index. **Generation 1 is
drawn from** :math:`p^{(0)}` **itself**: real samples are never
transformed (the simulators' ``hist[0] = p0``). ``T`` (the collapse time) is the first
:math:`m \ge 1` with :math:`p^{(m)}` a Dirac mass.

The chain is a finite Markov chain on count vectors; it is no longer a martingale
(:math:`E[p^{(m+1)} | p^{(m)}] = \pi(p^{(m)})`), but Dirac states remain absorbing:
tempering a Dirac gives the same Dirac (:math:`1^{1/T} = 1`, :math:`0^{1/T} = 0`), and
top-k / top-p keep its one token. From every non-Dirac state a Dirac is reached in one
step with positive probability (all ``n`` draws on the most likely kept token), so
absorption is certain and :math:`I - Q` is invertible.

**Symmetry (lumping).** The policy is permutation-equivariant up to the tie rule, and
tied tokens have equal counts, so the law of the *sorted* count vector at the next
generation depends only on the sorted count vector now. The solvers therefore work on
partitions of ``n`` into at most ``s`` parts (``s = |supp p^(0)|``) instead of the
:math:`\binom{n+s-1}{s-1}` compositions; the labelled law enters only through the first
step, :math:`\mathrm{Mult}(n, p^{(0)})`, which is summed over compositions.

**Exact arithmetic.** ``exact=True`` redoes everything in :class:`fractions.Fraction`
when the policy maps rationals to rationals: :math:`1/T` an integer ``j``
(:math:`p \mapsto p^j/\sum p^j`; ``T = 1`` and ``T = 1/2`` included) with any top-k /
top-p. It uses its own implementation of the policy (so it checks the float one).

The public laws are in :mod:`modelcollapse.theory.categorical.policy_laws`, the large-``n``
asymptotics in :mod:`modelcollapse.theory.categorical.policy_asymptotics`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy import special

from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...models import Categorical, check_categorical, exact_probabilities
from ...regimes import Regime, Replace, SamplingPolicy, as_regime, refuse_curation
from ...sampling import exact_sampling_distribution, exact_temper_power, sampling_distribution

__all__ = [
    "policy_state_count",
]

#: Float solver: largest number of lumped states (partitions of ``n`` into at most ``s``
#: parts); the dense ``I - Q`` then takes at most 72 MB.
MAX_STATES = 3000
#: Float solver: largest ``states x compositions`` (the compositions of ``n`` over the
#: largest kept support, enumerated once per state to build a transition row).
MAX_WORK = 60_000_000
#: ``exact=True``: largest number of lumped states (rational elimination ~ states^3).
EXACT_MAX_STATES = 60
#: ``exact=True``: largest ``states x compositions``.
EXACT_MAX_WORK = 40_000
#: Default tolerance on the neglected tail of :func:`policy_collapse_time`.
DEFAULT_TOL = 1e-12
#: Default limit on the generations :func:`policy_collapse_time` propagates explicitly.
DEFAULT_MAX_GENERATIONS = 200_000


# ---------------------------------------------------------------------- validation
def _policy_n(regime, what: str) -> tuple[int, SamplingPolicy]:
    """``(n, policy)`` of a ``Replace`` regime (or its spec string)."""
    if not isinstance(regime, (Regime, str)):
        raise WrongTypeError(
            f"regime must be a Regime such as Replace(n, temperature=0.5) or a spec "
            f"string, got {type(regime).__name__}")
    regime = as_regime(regime)
    refuse_curation(regime, what)
    if not isinstance(regime, Replace):
        raise UnsupportedRegimeError(
            f"exact {what} under a sampling policy is implemented for Replace(n) only; "
            f"simulate {regime!r} with modelcollapse.montecarlo", ("Replace",))
    return regime.n, regime.sampling


def _support(model: Categorical) -> np.ndarray:
    """Positive probabilities of ``model``, in token order."""
    return model.p[model.p > 0]


@lru_cache(maxsize=256)
def _partition_count(n: int, s: int, cap: int | None = None) -> int:
    """Partitions of ``n`` into at most ``s`` parts (DP, exact integers); with ``cap``,
    any number above it as soon as the count is known to exceed it (the count grows with
    the parts allowed, and already with two parts it is ``n // 2 + 1``), so that the size
    check of a large ``n`` stays instant."""
    if cap is not None and s >= 2 and n // 2 + 1 > cap:
        return n // 2 + 1
    # c[j] = partitions of j into parts of size <= s (conjugate: at most s parts)
    c = [1] + [0] * n
    for part in range(1, min(s, n) + 1):
        for j in range(part, n + 1):
            c[j] += c[j - part]
        if cap is not None and c[n] > cap:
            break
    return c[n]


def _kept_bound(policy: SamplingPolicy, s: int) -> int:
    return s if policy.top_k is None else min(s, policy.top_k)


def _cost(n: int, s: int, policy: SamplingPolicy) -> tuple[int, int, int]:
    states = _partition_count(n, s)
    k = _kept_bound(policy, s)
    first = math.comb(n + s - 1, s - 1)  # the labelled first step
    return states, states * math.comb(n + k - 1, k - 1), first


def policy_state_count(model: Categorical, regime) -> int:
    """Number of lumped states of the chain (partitions of ``n`` into at most ``s``
    parts, ``s = |supp p^(0)|``); the float solvers refuse more than :data:`MAX_STATES`.
    Compare :math:`\\binom{n+s-1}{s-1}` compositions without the symmetry.

    Parameters
    ----------
    model : Categorical
        The real distribution; only its support size ``s`` is used.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.

    Returns
    -------
    int
        The number of lumped states (no size limit applies here).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor
        a string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    ValueError
        An invalid spec string.

    References
    ----------
    .. [1] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    model = check_categorical(model)
    n, _ = _policy_n(regime, "policy_state_count")
    return _partition_count(n, model.support_size)


def _check_size(n: int, s: int, policy: SamplingPolicy, exact: bool) -> None:
    """``TooLargeError`` before any allocation."""
    max_states = EXACT_MAX_STATES if exact else MAX_STATES
    max_work = EXACT_MAX_WORK if exact else MAX_WORK
    states = _partition_count(n, s, max_states)
    at_least = states > max_states
    if not at_least:
        states, work, first = _cost(n, s, policy)
    else:
        work = first = states
    if states > max_states or work > max_work or first > max_work:
        raise TooLargeError(
            f"the {'exact (Fraction)' if exact else 'float'} sampling-policy chain for "
            f"n={n}, support {s} has {'at least ' if at_least else ''}{states} lumped "
            f"states and costs {'at least ' if at_least else ''}{max(work, first)} "
            f"multinomial terms; the limits are {max_states} states and {max_work} terms "
            "(MAX_STATES/MAX_WORK in modelcollapse.theory.categorical.policy_chain): use a "
            "smaller n or vocabulary, exact=False, or simulate with modelcollapse.montecarlo")


# ---------------------------------------------------------------------- state spaces
def _partitions(n: int, s: int) -> list[tuple[int, ...]]:
    """Partitions of ``n`` into at most ``s`` parts, non-increasing, padded to length
    ``s``; the Dirac state ``(n, 0, ..., 0)`` comes first."""
    out: list[tuple[int, ...]] = []

    def rec(rest, maxpart, prefix):
        if len(prefix) == s:
            if rest == 0:
                out.append(tuple(prefix))
            return
        for part in range(min(rest, maxpart), -1, -1):
            if part * (s - len(prefix)) < rest:
                break
            rec(rest - part, part, [*prefix, part])

    rec(n, n, [])
    return out


@lru_cache(maxsize=32)
def _compositions(n: int, k: int) -> np.ndarray:
    """All compositions of ``n`` into ``k`` non-negative parts, shape ``(C, k)``."""
    if k == 1:
        return np.array([[n]], dtype=np.int64)
    bars = np.array(list(combinations(range(n + k - 1), k - 1)), dtype=np.int64)
    edges = np.concatenate([np.full((bars.shape[0], 1), -1), bars,
                            np.full((bars.shape[0], 1), n + k - 1)], axis=1)
    comps = np.diff(edges, axis=1) - 1
    comps.setflags(write=False)
    return comps


def _log_multinomial(comps: np.ndarray, n: int) -> np.ndarray:
    return special.gammaln(n + 1.0) - special.gammaln(comps + 1.0).sum(axis=1)


def _targets(comps: np.ndarray, s: int, index: dict) -> np.ndarray:
    """Lumped-state index of each composition (sorted, padded to ``s``)."""
    srt = -np.sort(-comps, axis=1)
    if srt.shape[1] < s:
        srt = np.concatenate([srt, np.zeros((srt.shape[0], s - srt.shape[1]),
                                            dtype=np.int64)], axis=1)
    uniq, inv = np.unique(srt, axis=0, return_inverse=True)
    lut = np.array([index[tuple(int(v) for v in row)] for row in uniq], dtype=np.int64)
    return lut[inv.ravel()]


class _Chain:
    """The lumped chain in float64: ``states`` (Dirac first), the transition matrix
    ``P`` and the generation-1 law ``pi1``."""

    def __init__(self, p: np.ndarray, n: int, policy: SamplingPolicy):
        s = p.size
        self.n, self.s = n, s
        self.states = _partitions(n, s)
        S = len(self.states)
        index = {st: i for i, st in enumerate(self.states)}
        self.support = np.array([sum(1 for v in st if v) for st in self.states])
        P = np.zeros((S, S))
        cache = {}
        for i, st in enumerate(self.states):
            x = np.array(st, dtype=np.float64) / n
            q = sampling_distribution(x, policy)
            k = int(np.count_nonzero(q))  # kept tokens: a prefix of the sorted state
            if k not in cache:
                comps = _compositions(n, k)
                cache[k] = (comps, _log_multinomial(comps, n), _targets(comps, s, index))
            comps, logc, tgt = cache[k]
            with np.errstate(divide="ignore"):
                lp = logc + comps @ np.log(q[:k])
            P[i] = np.bincount(tgt, weights=np.exp(lp), minlength=S)
        P[0] = 0.0
        P[0, 0] = 1.0  # the Dirac state (exactly absorbing)
        self.P = P
        comps = _compositions(n, s)
        with np.errstate(divide="ignore"):
            lp = _log_multinomial(comps, n) + comps @ np.log(p)
        self.pi1 = np.bincount(_targets(comps, s, index), weights=np.exp(lp), minlength=S)

    def moments(self) -> tuple[float, float]:
        """``(E[T], Var T)`` by the fundamental matrix, factored with GTH pivots (see
        :func:`_gth_factor`): every operation adds or multiplies non-negative numbers,
        so the values keep their relative accuracy even when leaving the transient
        states is very rare (``T > 1``, where :math:`E[T]` grows like :math:`e^{cn}`)."""
        P = self.P
        fac = _gth_factor(P[1:, 1:], P[1:, 0])
        with np.errstate(over="ignore", invalid="ignore"):
            t = _gth_solve(fac, np.ones(P.shape[0] - 1))
            t2 = 2.0 * _gth_solve(fac, t) - t
            pi = self.pi1[1:]
            mean = 1.0 + float(pi @ t)
            second = 1.0 + 2.0 * float(pi @ t) + float(pi @ t2)
            var = second - mean * mean
        if not math.isfinite(var):  # E[T^2] beyond float64 (E[T] > ~1e154)
            return mean, math.inf
        return mean, max(var, 0.0)


def _gth_factor(Q: np.ndarray, exit_: np.ndarray):
    r"""LU factors of :math:`I - Q` (``Q`` sub-stochastic, ``exit_`` its row defects)
    with the Grassmann--Taksar--Heyman pivot: eliminating state ``k`` censors the chain
    on the states after it, and the pivot :math:`1 - Q_{kk}` is formed as the escape
    probability :math:`\mathrm{exit}_k + \sum_{j>k} Q_{kj}` of the censored chain, a
    sum of non-negative terms (no cancellation). :math:`O(m^3/3)`."""
    A = np.array(Q, dtype=np.float64)
    e = np.array(exit_, dtype=np.float64)
    m = A.shape[0]
    d = np.empty(m)
    for k in range(m):
        d[k] = e[k] + A[k, k + 1:].sum()
        if not d[k] > 0.0:
            raise TooLargeError(
                "the chain's escape probability from one of its states underflows float64 "
                "(below 1e-308), so E[T] is beyond float64's range; for T > 1, "
                "ln E[T] ~ c(T) n with c = policy_ld_rate(T); use a smaller n for exact "
                "values")
        if k + 1 < m:
            col = A[k + 1:, k] / d[k]
            A[k + 1:, k] = col
            A[k + 1:, k + 1:] += np.outer(col, A[k, k + 1:])
            e[k + 1:] += col * e[k]
    return A, d


def _gth_solve(fac, b: np.ndarray) -> np.ndarray:
    """Solve :math:`(I - Q)x = b` from :func:`_gth_factor`'s factors (``b >= 0``: all
    terms non-negative)."""
    A, d = fac
    m = d.size
    y = np.array(b, dtype=np.float64)
    for k in range(m - 1):  # forward: fold the eliminated states' right-hand sides in
        y[k + 1:] += A[k + 1:, k] * y[k]
    x = np.empty(m)
    for k in range(m - 1, -1, -1):
        x[k] = (y[k] + A[k, k + 1:] @ x[k + 1:]) / d[k]
    return x


class _ExactChain:
    """The lumped chain in exact rational arithmetic."""

    def __init__(self, p: list[Fraction], n: int, policy: SamplingPolicy):
        s = len(p)
        self.n, self.s = n, s
        self.states = _partitions(n, s)
        S = len(self.states)
        index = {st: i for i, st in enumerate(self.states)}
        fact = [math.factorial(i) for i in range(n + 1)]
        P = [[Fraction(0)] * S for _ in range(S)]
        P[0][0] = Fraction(1)
        for i, st in enumerate(self.states[1:], start=1):
            q = exact_sampling_distribution(tuple(Fraction(v, n) for v in st), policy)
            k = sum(1 for v in q if v > 0)
            for y in _compositions(n, k):
                y = [int(v) for v in y]
                w = Fraction(fact[n])
                for yi in y:
                    w /= fact[yi]
                for yi, qi in zip(y, q[:k], strict=True):
                    if yi:
                        w *= qi**yi
                P[i][index[tuple(sorted(y, reverse=True)) + (0,) * (s - k)]] += w
        self.P = P
        pi1 = [Fraction(0)] * S
        for y in _compositions(n, s):
            y = [int(v) for v in y]
            w = Fraction(fact[n])
            for yi in y:
                w /= fact[yi]
            for yi, pi in zip(y, p, strict=True):
                if yi:
                    w *= pi**yi
            pi1[index[tuple(sorted(y, reverse=True))]] += w
        self.pi1 = pi1

    def moments(self) -> tuple[Fraction, Fraction]:
        S = len(self.states)
        m = S - 1
        # augmented [I - Q | 1 | .] solved by Gauss-Jordan in Fractions
        A = [[(Fraction(int(a == b)) - self.P[a + 1][b + 1]) for b in range(m)]
             for a in range(m)]
        t = _solve_fraction(A, [Fraction(1)] * m)
        t2 = [2 * v - w for v, w in zip(_solve_fraction(A, t), t, strict=True)]
        pi = self.pi1[1:]
        et = sum((a * b for a, b in zip(pi, t, strict=True)), Fraction(0))
        et2 = sum((a * b for a, b in zip(pi, t2, strict=True)), Fraction(0))
        mean = 1 + et
        second = 1 + 2 * et + et2
        return mean, second - mean * mean

    def cdf(self, generations: int) -> list[Fraction]:
        """Exact :math:`P(T \\le m)`, ``m = 0..generations``."""
        law = list(self.pi1)
        out = [Fraction(0), law[0]]
        S = len(law)
        for _ in range(generations - 1):
            law = [sum((law[a] * self.P[a][b] for a in range(S) if law[a]), Fraction(0))
                   for b in range(S)]
            out.append(law[0])
        return out[:generations + 1]


def _solve_fraction(A: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Solve ``A x = b`` exactly (Gaussian elimination with a non-zero pivot)."""
    return solve_fractions(A, [b])[0]


def solve_fractions(A: list[list[Fraction]], bs: list[list[Fraction]]) -> list[list[Fraction]]:
    """Solve ``A x = b`` exactly for every ``b`` in ``bs`` with one Gaussian elimination
    (a non-zero pivot)."""
    m, k = len(A), len(bs)
    M = [[*A[i], *(b[i] for b in bs)] for i in range(m)]
    for c in range(m):
        piv = next(r for r in range(c, m) if M[r][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for r in range(m):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c], strict=True)]
    return [[M[i][m + j] for i in range(m)] for j in range(k)]


def float_chain(model, regime, what) -> _Chain:
    model = check_categorical(model)
    n, policy = _policy_n(regime, what)
    p = _support(model)
    _check_size(n, p.size, policy, exact=False)
    return _Chain(p, n, policy)


def _exact_chain(model, regime, what) -> _ExactChain:
    n, policy = _policy_n(regime, what)
    if not isinstance(model, Categorical) and (
            isinstance(model, (str, bytes)) or not hasattr(model, "__iter__")):
        raise WrongTypeError(
            f"model must be a Categorical or a sequence of Fraction, got {type(model).__name__}")
    p = [x for x in exact_probabilities(model) if x > 0]
    if exact_temper_power(policy) is None:
        raise ValueError(
            f"exact=True needs 1/temperature to be an integer, got temperature="
            f"{policy.temperature}")
    _check_size(n, len(p), policy, exact=True)
    return _ExactChain(p, n, policy)
