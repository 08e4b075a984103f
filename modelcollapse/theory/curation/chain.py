r"""Exact chain of a categorical model under a curated ``Replace(n)``: Wright--Fisher with
selection.

Model (what :func:`modelcollapse.montecarlo.simulate` does)::

    p^(1) = X^(1)/n,      X^(1)   ~ Mult(n, p^(0))                 (real, uncurated)
    p^(m+1) = X^(m+1)/n,  X^(m+1) ~ Mult(n, C(pi(p^(m))))

with :math:`\pi` the sampling policy (:mod:`modelcollapse.sampling`) and :math:`C` the
curation (:mod:`modelcollapse.curation`): the best-of-``K`` Luce map, its ``K = inf``
tilt :math:`q \propto q e^{r}`, or a verifier :math:`q \propto q a`. For ``K = inf`` this is
the haploid Wright--Fisher model with selection, fitness :math:`e^{r}`; a finite ``K``
gives frequency-dependent selection. The state is the *labelled* count vector (a reward
breaks the symmetry the neutral solvers lump by): the compositions of ``n`` over the
support of :math:`p^{(0)}`, :math:`\binom{n+s-1}{s-1}` of them.

Dirac states are absorbing (every candidate is the one token), and from any other state a
Dirac is reached in one step with positive probability, so the chain fixes on one token
with probability one. Under a verifier a state whose tokens are all rejected has no next
generation: it can only be generation 1 (later fits are supported on accepted tokens),
and the solver refuses a model for which it has positive probability.

``exact=True`` builds the same chain in :class:`fractions.Fraction` (the policy's
:func:`~modelcollapse.sampling.exact_sampling_distribution`, the curation's
:func:`~modelcollapse.curation.exact_curated_distribution` by enumeration, and Gaussian
elimination); the float chain uses the quadrature map and LU solves.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import linalg

from ...curation import (
    Verifier,
    curated_distribution,
    exact_curated_distribution,
)
from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...models import check_categorical, exact_probabilities
from ...regimes import Replace, as_regime
from ...sampling import exact_sampling_distribution, sampling_distribution
from ..categorical.policy_chain import _compositions, _log_multinomial, solve_fractions

#: Float chain: largest number of states (compositions); the dense transition matrix
#: then takes at most 72 MB.
MAX_STATES = 3000
#: ``exact=True``: largest number of states.
EXACT_MAX_STATES = 60


def checked_regime(regime, what: str, kind: type = Replace):
    """``regime`` (or its spec string) as a curated regime of class ``kind``, the one
    the exact chain of ``what`` is implemented for."""
    regime = as_regime(regime)
    if regime.curation is None:
        raise ValueError(f"{what} needs a regime with a curation (best_of=K:reward=... or "
                         f"accept=...); {regime!r} has none")
    if not isinstance(regime, kind):
        raise UnsupportedRegimeError(
            f"the exact {what} chain is implemented for {kind.__name__}; "
            f"{type(regime).__name__} with a curation: simulate it with "
            "modelcollapse.montecarlo, or use curated_path(method='deterministic')",
            (kind.__name__,))
    return regime


def curated_regime(regime, what: str):
    """``(n, policy, curation)`` of a curated ``Replace`` regime (or its spec string)."""
    regime = checked_regime(regime, what)
    return regime.n, regime.sampling, regime.curation


def rejected_states(X: np.ndarray, curation, sup: np.ndarray) -> np.ndarray:
    """Count rows ``X`` (over the support ``sup``) whose tokens a verifier all rejects:
    nothing can be kept of them."""
    if not isinstance(curation, Verifier):
        return np.zeros(X.shape[0], dtype=bool)
    return (X * (np.asarray(curation.acceptance)[sup] > 0)).sum(axis=1) == 0


def refuse_rejected_start(dead: np.ndarray, start, size: str) -> None:
    """``ValueError`` when generation 1 (``size`` real samples) lands with positive
    probability on a state of ``dead`` (:func:`rejected_states`)."""
    if any(start[b] > 0 for b in np.flatnonzero(dead)):
        raise ValueError(
            f"with positive probability generation 1 ({size} real samples) holds only "
            "tokens the verifier rejects, and then nothing can be kept: the curated "
            f"regime is undefined for this model (raise {size}, or accept some of those "
            "tokens)")


def state_count(n: int, s: int) -> int:
    """Compositions of ``n`` into ``s`` labelled parts."""
    return math.comb(n + s - 1, s - 1)


class CuratedChain:
    """The chain on the support of ``p`` (float64, or Fractions with ``exact``)."""

    def __init__(self, model, regime, what: str, *, exact: bool = False):
        if not isinstance(exact, (bool, np.bool_)):
            raise WrongTypeError(f"exact must be True or False, got {exact!r}")
        model = check_categorical(model)
        n, policy, cur = curated_regime(regime, what)
        cur.check_size(model.size)
        self.exact = bool(exact)
        self.n, self.policy, self.curation = n, policy, cur
        self.V = model.size
        self.sup = np.flatnonzero(model.p > 0)
        s = self.sup.size
        S = state_count(n, s)
        cap = EXACT_MAX_STATES if self.exact else MAX_STATES
        if S > cap:
            raise TooLargeError(
                f"{what}: the chain has {S} states (compositions of n={n} over {s} "
                f"tokens), above the cap {cap}{' for exact=True' if self.exact else ''}; "
                "use a smaller n or support, method='diffusion' (two tokens), or simulate")
        self.X = _compositions(n, s)
        self.S = S
        if self.exact:
            p = exact_probabilities(model)
            self.p0 = [p[i] for i in self.sup]
            self._build_exact()
        else:
            self.p0 = model.p[self.sup]
            self._build_float()

    # ------------------------------------------------------------------ laws
    def _full(self, x):
        v = [Fraction(0)] * self.V if self.exact else np.zeros(self.V)
        for t, i in enumerate(self.sup):
            v[i] = x[t]
        return v

    def _float_laws(self) -> np.ndarray:
        P = np.zeros((self.S, self.V))
        P[:, self.sup] = self.X / self.n
        Q = curated_rows(sampling_distribution(P, self.policy), self.curation, self.dead)
        return Q[:, self.sup]

    def _build_float(self):
        X, n = self.X, self.n
        self.dead = self._dead_states()
        laws = self._float_laws()
        T = multinomial_pmf(laws, X, n)
        T[self.dead] = 0.0
        self.T = T
        self.start = multinomial_pmf(self.p0[None, :], X, n)[0]
        self._check_start()

    def _build_exact(self):
        X, n = self.X, self.n
        self.dead = self._dead_states()
        fact = [math.factorial(k) for k in range(n + 1)]
        coef = [Fraction(fact[n], math.prod(fact[int(k)] for k in row)) for row in X]
        T = []
        for a, row in enumerate(X):
            if self.dead[a]:
                T.append([Fraction(0)] * self.S)
                continue
            x = self._full([Fraction(int(k), n) for k in row])
            q = exact_sampling_distribution(x, self.policy)
            law = exact_curated_distribution(q, self.curation)
            law = [law[i] for i in self.sup]
            T.append([coef[b] * math.prod(law[i] ** int(k) for i, k in enumerate(X[b]))
                      for b in range(self.S)])
        self.T = T
        self.start = [coef[b] * math.prod(self.p0[i] ** int(k) for i, k in enumerate(X[b]))
                      for b in range(self.S)]
        self._check_start()

    def _dead_states(self) -> np.ndarray:
        return rejected_states(self.X, self.curation, self.sup)

    def _check_start(self):
        refuse_rejected_start(self.dead, self.start, "n")

    # ------------------------------------------------------------------ solvers
    @property
    def absorbing(self) -> np.ndarray:
        return np.count_nonzero(self.X, axis=1) == 1

    def distributions(self, generations: int):
        """The law of the state at generations ``1..generations`` (a list)."""
        out = [self.start]
        v = self.start
        for _ in range(generations - 1):
            if self.exact:
                v = [sum((v[a] * self.T[a][b] for a in range(self.S) if v[a]), Fraction(0))
                     for b in range(self.S)]
            else:
                v = v @ self.T
            out.append(v)
        return out

    def absorption(self):
        """``(fixation probability per support token, mean absorption time)``; the time
        counts fitted models (``T = 1`` when ``p^(1)`` is a Dirac)."""
        absb = self.absorbing
        trans = np.flatnonzero(~absb)
        fix_token = np.argmax(self.X[absb], axis=1)
        if self.exact:
            Q = [[(1 if a == b else 0) - self.T[a][b] for b in trans] for a in trans]
            ones = [Fraction(1)] * len(trans)
            t = solve_fractions(Q, [ones] + [[self.T[a][b] for a in trans]
                                         for b in np.flatnonzero(absb)])
            time = 1 + sum(self.start[a] * t[0][i] for i, a in enumerate(trans))
            fix = [Fraction(0)] * self.sup.size
            for j, b in enumerate(np.flatnonzero(absb)):
                fix[fix_token[j]] += self.start[b] + sum(
                    self.start[a] * t[j + 1][i] for i, a in enumerate(trans))
            return fix, time
        A = np.eye(trans.size) - self.T[np.ix_(trans, trans)]
        R = self.T[np.ix_(trans, np.flatnonzero(absb))]
        lu = linalg.lu_factor(A)
        t = linalg.lu_solve(lu, np.ones(trans.size))
        B = linalg.lu_solve(lu, R)
        start = self.start
        absorbed = start[absb] + start[trans] @ B
        fix = np.zeros(self.sup.size)
        np.add.at(fix, fix_token, absorbed)
        return fix, 1.0 + start[trans] @ t


def curated_rows(Q: np.ndarray, curation, skip=None) -> np.ndarray:
    """:func:`~modelcollapse.curation.curated_distribution` of the rows of ``Q`` except
    those in ``skip`` (left as they are)."""
    out = Q.copy()
    rows = np.arange(Q.shape[0]) if skip is None else np.flatnonzero(~skip)
    if rows.size:
        # equal rows (a fit reached from several states) are mapped once
        uniq, inv = np.unique(Q[rows], axis=0, return_inverse=True)
        out[rows] = curated_distribution(uniq, curation)[inv.ravel()]
    return out


def multinomial_pmf(laws: np.ndarray, X: np.ndarray, n: int) -> np.ndarray:
    r"""``M[a, b] = n!/\prod_i X_{b,i}! \prod_i laws_{a,i}^{X_{b,i}}`` (``0^0 = 1``): the
    multinomial probability of each count row of ``X`` (summing to ``n``) under each law
    row, by one matrix product of the log-laws with the counts."""
    # log 0 -> -1e300: a zero count contributes 0 * -1e300 = 0, a positive one sends the
    # entry to exp(-huge) = 0 (all terms are <= 0, so no inf - inf).
    logl = np.full(laws.shape, -1e300)
    np.log(laws, out=logl, where=laws > 0)
    return np.exp(_log_multinomial(X, n)[None, :] + logl @ X.T.astype(np.float64))
