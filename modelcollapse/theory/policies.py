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

**Large n** (see :func:`policy_collapse_time_asymptotic`):

* ``T < 1``: the deterministic part multiplies the log-ratio of the two most likely
  tokens by ``1/T`` each generation, :math:`\ell_{m} = \ell_0 T^{-(m-1)}`,
  :math:`\ell_0 = \ln(p_{(1)}/p_{(2)})`; collapse happens in the generation where the
  minority mass :math:`\approx e^{-\ell}` falls to order ``1/n``, i.e. after
  :math:`1 + \ln(\ln n/\ell_0)/\ln(1/T)` generations: :math:`E[T] = \Theta(\log\log n)`.
* ``T = 1``: neutral Wright--Fisher, :math:`E[T] \sim -2n\sum_i(1-p_i)\ln(1-p_i)`
  (Littler), linear in ``n``; top-k at ``T = 1`` acts once (generation 2 sees only the
  top ``k`` tokens of :math:`p^{(1)}`), so :math:`E[T] \approx 1 +` the plain value of
  the renormalised top-k law; top-p turns collapse into the first time the leading mass
  reaches ``P`` (still linear in ``n``, smaller constant).
* ``T > 1``: the deterministic part flattens towards uniform on the current support
  (ratio ``r -> r^{1/T}``), so collapse needs a large deviation against the drift:
  :math:`\ln E[T] \sim c(T)\, n` with the discrete Freidlin--Wentzell rate
  :math:`c(T) = \min_{\text{paths}} \sum_k \mathrm{KL}(y_{k+1} \| \pi(y_k))` from the
  uniform point to a Dirac (computed for two tokens by :func:`policy_ld_rate`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy import special

from ..errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ..models import Categorical, _check_positive_int, check_categorical, exact_probabilities
from ..regimes import Regime, Replace, SamplingPolicy, as_regime
from ..sampling import exact_sampling_distribution, exact_temper_power, sampling_distribution
from .categorical import Estimate, Moments, _check_generations, littler_rate
from .distributions import GenerationDistribution

__all__ = [
    "EXACT_MAX_STATES",
    "MAX_STATES",
    "MAX_WORK",
    "policy_collapse_moments",
    "policy_collapse_time",
    "policy_collapse_time_asymptotic",
    "policy_expected_collapse_time",
    "policy_ld_rate",
    "policy_sampling_distribution",
    "policy_state_count",
    "policy_surviving_tokens",
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
    if not isinstance(regime, Replace):
        raise UnsupportedRegimeError(
            f"exact {what} under a sampling policy is implemented for Replace(n) only; "
            f"simulate {regime!r} with modelcollapse.montecarlo", ("Replace",))
    return regime.n, regime.sampling


def _support(model: Categorical) -> np.ndarray:
    """Positive probabilities of ``model``, in token order."""
    return model.p[model.p > 0]


@lru_cache(maxsize=256)
def _partition_count(n: int, s: int) -> int:
    """Partitions of ``n`` into at most ``s`` parts (DP, exact integers)."""
    # c[j] = partitions of j into parts of size <= s (conjugate: at most s parts)
    c = [1] + [0] * n
    for part in range(1, s + 1):
        for j in range(part, n + 1):
            c[j] += c[j - part]
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
    states, work, first = _cost(n, s, policy)
    max_states = EXACT_MAX_STATES if exact else MAX_STATES
    max_work = EXACT_MAX_WORK if exact else MAX_WORK
    if states > max_states or work > max_work or first > max_work:
        raise TooLargeError(
            f"the {'exact (Fraction)' if exact else 'float'} sampling-policy chain for "
            f"n={n}, support {s} has {states} lumped states and costs {max(work, first)} "
            f"multinomial terms; the limits are {max_states} states and {max_work} terms "
            "(MAX_STATES/MAX_WORK in modelcollapse.theory.policies): use a smaller n or "
            "vocabulary, exact=False, or simulate with modelcollapse.montecarlo")


# ---------------------------------------------------------------------- the policy
def policy_sampling_distribution(p, regime, *, exact: bool = False):
    r"""The distribution :math:`\pi(p)` synthetic samples are drawn from.

    ``exact=False``: the simulators' own function
    (:func:`modelcollapse.sampling.sampling_distribution`), float64.
    ``exact=True``: an independent rational implementation (``1/T`` an integer), for
    ``p`` a sequence of ``Fraction`` or a :class:`Categorical`.

    Parameters
    ----------
    p : Categorical or sequence of float
        The fitted distribution; with ``exact=True`` also a sequence of ``Fraction``.
    regime : Replace, str or SamplingPolicy
        The policy itself, or ``Replace(n, ...)`` or a spec string, whose policy is used.
    exact : bool, default False
        Use the rational implementation.

    Returns
    -------
    numpy.ndarray or list of Fraction
        :math:`\pi(p)`, one entry per entry of ``p``: a float64 array, or a list of
        ``Fraction`` with ``exact=True``.

    Raises
    ------
    ValueError
        ``exact=True`` with ``1/T`` not an integer, ``Fraction`` probabilities that do not
        sum to 1, or an invalid spec string.
    WrongTypeError
        ``regime`` is neither a ``Regime``, a string nor a ``SamplingPolicy``.
    UnsupportedRegimeError
        Another regime than ``Replace``.

    References
    ----------
    .. [1] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [2] The theory chapter, docs/theory/policies.md ("The policy and the chain").
    """
    if isinstance(regime, SamplingPolicy):
        policy = regime
    else:
        _, policy = _policy_n(regime, "policy_sampling_distribution")
    if exact:
        return exact_sampling_distribution(tuple(exact_probabilities(p)), policy)
    arr = check_categorical(p).p if isinstance(p, Categorical) else \
        np.asarray(p, dtype=np.float64)
    return sampling_distribution(arr, policy)


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
    m = len(b)
    M = [[*row[:], b[i]] for i, row in enumerate(A)]
    for c in range(m):
        piv = next(r for r in range(c, m) if M[r][c] != 0)
        M[c], M[piv] = M[piv], M[c]
        inv = 1 / M[c][c]
        M[c] = [v * inv for v in M[c]]
        for r in range(m):
            if r != c and M[r][c] != 0:
                f = M[r][c]
                M[r] = [a - f * bb for a, bb in zip(M[r], M[c], strict=True)]
    return [M[i][m] for i in range(m)]


def _float_chain(model, regime, what) -> _Chain:
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


# ---------------------------------------------------------------------- public solvers
def policy_collapse_moments(model, regime, *, exact: bool = False):
    r"""Exact :math:`(E[T], \mathrm{Var}\,T)` under ``Replace(n)`` with a sampling policy.

    With :math:`Q` the transition matrix among non-Dirac lumped states,
    :math:`t = (I-Q)^{-1}\mathbf 1` (expected steps to absorption) and
    :math:`t^{(2)} = 2(I-Q)^{-1}t - t` (second moments), and :math:`\pi_1` the law of
    the generation-1 state (:math:`\mathrm{Mult}(n, p^{(0)})`, lumped):

    .. math:: E[T] = 1 + \pi_1 t, \qquad E[T^2] = 1 + 2\pi_1 t + \pi_1 t^{(2)}.

    Returns a :class:`~modelcollapse.theory.Moments` ``(mean, var)``; ``exact=True``
    gives ``Fraction`` values (``1/T`` an integer; ``model`` may be a sequence of
    ``Fraction``), refused above :data:`EXACT_MAX_STATES` states.

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        ``Fraction`` probabilities.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    exact : bool, default False
        Solve in ``Fraction`` arithmetic (``1/T`` an integer; at most
        :data:`EXACT_MAX_STATES` lumped states).

    Returns
    -------
    Moments
        ``Moments(mean, var)``: floats (``(1.0, 0.0)`` for a Dirac :math:`p^{(0)}`; ``var``
        is ``inf`` when :math:`E[T^2]` exceeds the float64 range), or ``Fraction`` values
        with ``exact=True``.

    Raises
    ------
    WrongTypeError
        ``exact`` not a bool, ``model`` not a ``Categorical`` (or, with ``exact=True``, a
        sequence), or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``exact=True`` with ``1/T`` not an integer, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms (with ``exact=True``: :data:`EXACT_MAX_STATES` states).

    References
    ----------
    .. [1] W. K. Grassmann, M. I. Taksar, D. P. Heyman (1985). *Regenerative analysis and steady
       state distributions for Markov chains.* Operations Research 33, 1107–1116.
    .. [2] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    if exact:
        return Moments(*_exact_chain(model, regime, "policy_collapse_moments").moments())
    model = check_categorical(model)
    if model.is_dirac:
        _policy_n(regime, "policy_collapse_moments")
        return Moments(1.0, 0.0)
    return Moments(*_float_chain(model, regime, "policy_collapse_moments").moments())


def policy_expected_collapse_time(model, regime, *, exact: bool = False):
    r""":math:`E[T]` under ``Replace(n)`` with a sampling policy, by the fundamental
    matrix of the lumped chain (see :func:`policy_collapse_moments`).

    Returns an :class:`~modelcollapse.theory.Estimate` (``method="policy-chain"``,
    ``exact=True``), or with ``exact=True`` the rational value itself (a ``Fraction``).

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        ``Fraction`` probabilities.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    exact : bool, default False
        Solve in ``Fraction`` arithmetic (``1/T`` an integer; at most
        :data:`EXACT_MAX_STATES` lumped states).

    Returns
    -------
    Estimate or Fraction
        A float with ``.method == "policy-chain"`` and ``.exact == True``; a ``Fraction``
        with ``exact=True``.

    Raises
    ------
    WrongTypeError
        ``exact`` not a bool, ``model`` not a ``Categorical`` (or, with ``exact=True``, a
        sequence), or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``exact=True`` with ``1/T`` not an integer, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms (with ``exact=True``: :data:`EXACT_MAX_STATES` states).

    References
    ----------
    .. [1] W. K. Grassmann, M. I. Taksar, D. P. Heyman (1985). *Regenerative analysis and steady
       state distributions for Markov chains.* Operations Research 33, 1107–1116.
    .. [2] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    mean, _ = policy_collapse_moments(model, regime, exact=exact)
    if exact:
        return mean
    return Estimate(mean, "policy-chain", True)


def policy_collapse_time(model, regime, *, tol: float = DEFAULT_TOL,
                         max_generations: int = DEFAULT_MAX_GENERATIONS
                         ) -> GenerationDistribution:
    r"""Law of ``T`` under ``Replace(n)`` with a sampling policy.

    :math:`P(T \le m) = (\pi_1 P^{m-1})_{\mathrm{Dirac}}` for ``m >= 1``; the law is
    propagated explicitly until :math:`P(T > M) <` ``tol``, or until the one-step
    survival ratio :math:`P(T > m)/P(T > m-1)` has converged to the Perron root of
    :math:`Q` (to 1e-15; the tail is then geometric at that rate, the quasi-stationary
    regime), or ``max_generations``; beyond ``M`` the tail continues geometrically at
    the last ratio.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    tol : float, default 1e-12
        Tolerance on the neglected tail :math:`P(T > M)`, in ``(0, 1)``.
    max_generations : int, default 200000
        Safety limit on the generations propagated.

    Returns
    -------
    GenerationDistribution
        The law of ``T`` (``method="policy-chain"``); ``T = 1`` for a Dirac
        :math:`p^{(0)}`.

    Raises
    ------
    WrongTypeError
        ``tol`` not a number, ``max_generations`` not an integer, ``model`` not a
        ``Categorical``, or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``tol`` outside ``(0, 1)``, ``max_generations < 1``, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms, or a tail decaying too slowly for float64 (use
        :func:`policy_collapse_moments`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"tol must be a number, got {tol!r}")
    tol = float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    max_generations = _check_positive_int(max_generations, "max_generations")
    model = check_categorical(model)
    if model.is_dirac:
        _policy_n(regime, "policy_collapse_time")
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method="policy-chain")
    chain = _float_chain(model, regime, "policy_collapse_time")
    P = chain.P
    Q = P[1:, 1:]
    r = P[1:, 0]
    law = chain.pi1[1:].copy()
    cdf, tail = [0.0, float(chain.pi1[0])], [1.0, float(law.sum())]
    hazard, stable = 1.0, 0
    for _ in range(max_generations - 1):
        if tail[-1] < tol:
            break
        absorbed = float(law @ r)  # a sum of non-negative terms: accurate when tiny
        law = law @ Q
        cdf.append(cdf[-1] + absorbed)
        tail.append(float(law.sum()))
        new = absorbed / tail[-2]
        stable = stable + 1 if abs(new - hazard) <= 1e-12 * new else 0
        hazard = new
        if stable >= 20:  # quasi-stationary: the tail is geometric from here on
            break
    if tail[-1] >= tol and hazard < 1e-13:
        raise TooLargeError(
            f"the collapse law's geometric tail has rate 1 - {hazard:.3e}, which float64 "
            "cannot represent (E[T] ~ 1/hazard): use policy_collapse_moments for E[T] and "
            "Var T (exact), or a smaller n")
    return GenerationDistribution(np.array(cdf), np.array(tail), ratio=1.0 - hazard,
                                  method="policy-chain")


def policy_surviving_tokens(model, regime, m, *, distribution: bool = False):
    r"""Expected support size :math:`E|\mathrm{supp}\,p^{(m)}|` under ``Replace(n)``
    with a sampling policy (``m`` an int or array of ints; ``m = 0`` gives
    :math:`|\mathrm{supp}\,p^{(0)}|`), from the law :math:`\pi_1 P^{m-1}` of the lumped
    chain. ``distribution=True`` (scalar ``m``) returns the law of the support size
    instead: an array ``a`` with ``a[k] = P(|supp p^(m)| = k)``, ``k = 0..s``.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    m : int or array_like of int
        Generations, ``>= 0``; a scalar with ``distribution=True``.
    distribution : bool, default False
        Return the law of the support size instead of its mean.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``m``, a float64 array of the shape of ``m`` for an array;
        with ``distribution=True`` a float64 array of length ``s + 1``.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), ``distribution=True`` with an
        array ``m``, or an invalid spec string.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms.

    References
    ----------
    .. [1] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    ms = _check_generations(m)
    if not isinstance(distribution, (bool, np.bool_)):
        raise WrongTypeError(f"distribution must be True or False, got {distribution!r}")
    model = check_categorical(model)
    _policy_n(regime, "policy_surviving_tokens")
    s = model.support_size
    flat = ms.ravel().astype(np.int64)
    if distribution and ms.ndim != 0:
        raise ValueError("distribution=True takes a scalar m")
    if model.is_dirac or flat.max(initial=0) == 0:
        laws = {int(x): None for x in flat}
        chain = None
    else:
        chain = _float_chain(model, regime, "policy_surviving_tokens")
        want = sorted({int(x) for x in flat if x >= 1})
        laws, law = {}, chain.pi1.copy()
        for g in range(1, want[-1] + 1):
            if g > 1:
                law = law @ chain.P
            if g in want:
                laws[g] = law.copy()
    out, dists = np.empty(flat.size), []
    for j, x in enumerate(flat):
        x = int(x)
        if x == 0 or chain is None:
            k = s if x == 0 else 1
            out[j] = k
            d = np.zeros(s + 1)
            d[k] = 1.0
        else:
            out[j] = float(laws[x] @ chain.support)
            d = np.bincount(chain.support, weights=laws[x], minlength=s + 1)
        dists.append(d)
    if distribution:
        return dists[0]
    return float(out[0]) if ms.ndim == 0 else out.reshape(ms.shape)


# ---------------------------------------------------------------------- large n
def _deterministic_hazard_mean(p: np.ndarray, n: int, policy: SamplingPolicy,
                               max_generations: int = 10_000) -> float:
    r""":math:`\sum_{m \ge 0}\prod_{j=1}^m (1 - h_j)` with the deterministic-path hazard
    :math:`h_j = \sum_i (\bar q^{(j-1)}_i)^n`, :math:`\bar q^{(0)} = p^{(0)}`,
    :math:`\bar q^{(j)} = \pi(\bar q^{(j-1)})`."""
    q = p.copy()
    surv, total = 1.0, 1.0  # P(T > 0) = 1
    for _j in range(1, max_generations + 1):
        with np.errstate(under="ignore"):
            h = float(np.exp(n * np.log(q[q > 0])).sum())
        surv *= max(1.0 - h, 0.0)
        total += surv
        if surv < 1e-17:
            return total
        q = sampling_distribution(q, policy)
    raise RuntimeError("the deterministic-path hazard did not reach collapse")


def policy_ld_rate(temperature: float, *, grid: int = 2000) -> float:
    r"""Large-deviation rate :math:`c(T)` of collapse for two tokens and ``T > 1``:
    :math:`\ln E[T] \sim c(T)\, n`.

    One generation moves the minority frequency from ``x`` to ``y`` with probability
    :math:`\approx e^{-n\,\mathrm{KL}(y\|\pi(x))}` (Sanov / Cramér for the binomial,
    :math:`\pi(x) = x^{1/T}/(x^{1/T}+(1-x)^{1/T})`), so the cheapest escape from the
    attracting point ``1/2`` to the absorbing ``0`` costs
    :math:`c(T) = V(1/2)`, :math:`V(x) = \min_y [\mathrm{KL}(y\|\pi(x)) + V(y)]`,
    :math:`V(0) = 0` (the final step costs :math:`-\ln(1-\pi(x))`); solved by value
    sweep on a grid of ``grid`` points (escape paths only move down). ``T = 1`` gives
    0 up to the grid (no drift: polynomial times), and the rate grows with ``T``:
    0.4164 (T = 1.5), 0.5515 (T = 2), 0.6344 (T = 3).

    Parameters
    ----------
    temperature : float
        The temperature ``T``, finite and ``>= 1``.
    grid : int, default 2000
        Number of grid steps on ``[0, 1/2]``, ``>= 10``.

    Returns
    -------
    float
        :math:`c(T)`.

    Raises
    ------
    WrongTypeError
        ``temperature`` not a real number, or ``grid`` not an integer.
    ValueError
        ``temperature`` below 1 or not finite, or ``grid < 10``.

    References
    ----------
    .. [1] M. I. Freidlin, A. D. Wentzell (1998). *Random Perturbations of Dynamical Systems*, 2nd
       ed. Springer.
    .. [2] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [3] The theory chapter, docs/theory/policies.md ("T > 1: exp(c n)").
    """
    if isinstance(temperature, bool) or not isinstance(
            temperature, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"temperature must be a real number, got {temperature!r}")
    T = float(temperature)
    if not (math.isfinite(T) and T >= 1):
        raise ValueError(f"temperature must be >= 1 (the large-deviation rate of T > 1), "
                         f"got {T}")
    grid = _check_positive_int(grid, "grid", minimum=10)
    x = np.linspace(0.0, 0.5, grid + 1)
    w = x[1:] ** (1 / T)
    qx = np.concatenate([[0.0], w / (w + (1 - x[1:]) ** (1 / T))])
    # the drift pushes x up towards 1/2, so an optimal escape path only goes down:
    # one sweep in increasing x, V(x) = min(-ln(1 - q(x)), min_{0<y<x} KL(y||q) + V(y))
    V = np.zeros(grid + 1)
    for i in range(1, grid + 1):
        q = qx[i]
        y = x[1:i]
        best = -math.log1p(-q)
        if y.size:
            kl = y * np.log(y / q) + (1 - y) * np.log((1 - y) / (1 - q))
            best = min(best, float((kl + V[1:i]).min()))
        V[i] = best
    return float(V[-1])


def policy_collapse_time_asymptotic(model: Categorical, regime, *, form: str = "hazard"):
    r"""Large-``n`` approximation of :math:`E[T]` under a sampling policy.

    ``T < 1`` (a unique most likely token):

    * ``form="hazard"``: the deterministic path :math:`\bar q^{(j)} = \pi^{j}(p^{(0)})`
      with the exact one-generation collapse probability along it,
      :math:`E[T] \approx \sum_{m\ge0}\prod_{j=1}^{m}(1 - \sum_i(\bar q^{(j-1)}_i)^n)`
      (``method="deterministic-hazard"``): only the last generation's noise matters,
      since earlier the minority counts are a positive power of ``n``.
    * ``form="leading"``: the generation at which the deterministic minority mass
      :math:`e^{-\ell_0 T^{-(m-1)}}` equals :math:`\ln 2/n` (hazard 1/2),
      :math:`1 + \ln\!\big(\ln(n/\ln 2)/\ell_0\big)/\ln(1/T)` with
      :math:`\ell_0 = \ln(p_{(1)}/p_{(2)})` (``method="loglog-leading"``): the
      :math:`\log\log n` growth; :math:`E[T]` minus it stays bounded and oscillates
      (``T`` is an integer concentrated on one or two values).

    ``T = 1``: Littler's diffusion value :math:`1\{\text{top-k}\} + (-2n)\sum_i
    (1-\tilde p_i)\ln(1-\tilde p_i)` with :math:`\tilde p` the renormalised top-k of
    :math:`p^{(0)}` (``method="diffusion"``); top-p is not covered (collapse is then
    the hitting time of the level ``top_p`` by the leading mass).

    ``T > 1``: ``UnsupportedRegimeError``: only the rate is known,
    :math:`\ln E[T] \sim n\, c(T)` (:func:`policy_ld_rate`, two tokens).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    form : {"hazard", "leading"}, default "hazard"
        The approximation for ``T < 1`` (ignored otherwise).

    Returns
    -------
    Estimate
        A float with ``.exact == False`` and ``.method`` one of ``"deterministic-hazard"``,
        ``"loglog-leading"`` and ``"diffusion"`` (floored at 1); ``Estimate(1.0,
        method="dirac", exact=True)`` for a Dirac :math:`p^{(0)}`.

    Raises
    ------
    ValueError
        An unknown ``form``, or an invalid spec string.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    UnsupportedRegimeError
        ``T > 1``, top-p at ``T = 1``, tied most likely tokens at ``T < 1``, or another
        regime than ``Replace``.
    RuntimeError
        The deterministic path does not collapse within 10000 generations
        (``form="hazard"``).

    References
    ----------
    .. [1] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [2] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [3] The theory chapter, docs/theory/policies.md ("Large n: three growth regimes").
    """
    model = check_categorical(model)
    n, policy = _policy_n(regime, "policy_collapse_time_asymptotic")
    if form not in ("hazard", "leading"):
        raise ValueError(f"form must be 'hazard' or 'leading', got {form!r}")
    p = _support(model)
    if p.size == 1:
        return Estimate(1.0, "dirac", True)
    T = policy.temperature
    if T < 1:
        top = np.sort(p)[::-1]
        if top[1] >= top[0] * (1 - 1e-12):
            raise UnsupportedRegimeError(
                "the T < 1 asymptotic needs a unique most likely token: with a tie the "
                "deterministic map never separates the leaders and the noise decides",
                ("T < 1 with a unique mode",))
        if form == "leading":
            l0 = math.log(top[0] / top[1])
            val = 1.0 + math.log(math.log(n / math.log(2)) / l0) / math.log(1 / T)
            return Estimate(val, "loglog-leading", False)
        return Estimate(_deterministic_hazard_mean(p, n, policy), "deterministic-hazard",
                        False)
    if T == 1:
        if policy.top_p is not None and policy.top_p < 1:
            raise UnsupportedRegimeError(
                "no closed-form large-n value for top-p: collapse is the hitting time of "
                "the level top_p by the leading mass", ("T=1 plain or top-k",))
        ptil = sampling_distribution(p, policy)
        shift = 0.0 if policy.top_k is None or policy.top_k >= p.size else 1.0
        val = shift + n * littler_rate(ptil)
        return Estimate(max(val, 1.0), "diffusion", False)
    raise UnsupportedRegimeError(
        f"E[T] grows exponentially in n for T = {T} > 1: only the rate ln E[T] ~ c(T) n "
        "is known (policy_ld_rate); use policy_expected_collapse_time for small n",
        ("T < 1", "T = 1 (plain or top-k)"))
