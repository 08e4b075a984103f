r"""Exact chains of a categorical model under a curated ``Mix(real=N, synthetic=n)``:
Wright--Fisher with selection and a block of real data.

Model (what :func:`modelcollapse.montecarlo.simulate` does)::

    p^(1) = Z/N,                  Z ~ Mult(N, p^(0))                  (real, uncurated)
    p^(m+1) = (Z_m + Y_m)/(N+n),  Y_m ~ Mult(n, C(pi(p^(m))))         (m >= 1)

with ``Z_m = Z`` (``fresh=False``: the same real samples every generation) or
``Z_m ~ Mult(N, p^(0))`` afresh (``fresh=True``: immigration, the population-genetic
*mutation--selection balance*). :math:`\pi` is the sampling policy and :math:`C` the
curation (:mod:`modelcollapse.curation`).

* ``fresh=False``: the real counts ``Z`` never change, so the chain splits into one chain
  per ``Z`` on the synthetic counts ``Y`` (compositions of ``n``);
  :math:`T_Z[y, y'] = \mathrm{Mult}(n, C(\pi((Z+y)/(N+n))))(y')`.
* ``fresh=True``: the state is the pooled count ``W = Z_m + Y_m`` (compositions of
  ``N+n``), :math:`T[W, W'] = \sum_z \mathrm{Mult}(N, p^{(0)})(z)\,
  \mathrm{Mult}(n, C(\pi(W/(N+n))))(W' - z)`.

Neither chain collapses: every real token stays (``fresh=False``) or comes back
(``fresh=True``), so the long-run answer is a *stationary* law, which
:meth:`MixChain.stationary` solves exactly (:math:`\pi(I - T + \mathbf 1\mathbf 1^\top) =
\mathbf 1^\top`, non-singular exactly when the stationary law is unique). Float64 only.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg

from ...errors import TooLargeError
from ...models import check_categorical
from ...regimes import Mix
from ...sampling import sampling_distribution
from ..categorical.policy_chain import _compositions
from .chain import (
    MAX_STATES,
    checked_regime,
    curated_rows,
    multinomial_pmf,
    refuse_rejected_start,
    rejected_states,
    state_count,
)

#: ``fresh=False``: the largest total work, (number of real blocks) x (synthetic
#: states)^2 (transition entries built one block at a time; about a second per 10^7).
MAX_WORK = 30_000_000


def mix_regime(regime, what: str):
    """``(N, n, fresh, policy, curation)`` of a curated ``Mix``."""
    regime = checked_regime(regime, what, Mix)
    return regime.real, regime.synthetic, regime.fresh, regime.sampling, regime.curation


class MixChain:
    """The exact chain of a curated ``Mix`` on the support of ``p^(0)`` (float64).

    After construction: ``fits1`` (gen-1 fits, one row per real composition) with law
    ``law1``; ``law(m)`` the law of the generation-``m`` state over the rows of ``fits``.
    """

    def __init__(self, model, regime, what: str):
        model = check_categorical(model)
        N, n, fresh, policy, cur = mix_regime(regime, what)
        cur.check_size(model.size)
        self.N, self.n, self.fresh, self.policy, self.curation = N, n, fresh, policy, cur
        self.V = model.size
        self.sup = np.flatnonzero(model.p > 0)
        s = self.sup.size
        C1, Cn, Cw = state_count(N, s), state_count(n, s), state_count(N + n, s)
        if fresh and Cw > MAX_STATES:
            raise TooLargeError(
                f"{what}: the chain has {Cw} states (compositions of N+n={N + n} over "
                f"{s} tokens), above the cap {MAX_STATES}; use smaller N, n or support, "
                "or simulate")
        if not fresh and (Cn > MAX_STATES or C1 * Cn * Cn > MAX_WORK):
            raise TooLargeError(
                f"{what}: {C1} real blocks times {Cn} synthetic states (N={N}, n={n} "
                f"over {s} tokens) is above the cap ({MAX_STATES} states, "
                f"{MAX_WORK} block entries); use smaller N, n or support, or simulate")
        p0 = model.p[self.sup]
        self.Z = _compositions(N, s)
        self.Y = _compositions(n, s)
        self.fits1 = self.Z / N
        self.law1 = multinomial_pmf(p0[None, :], self.Z, N)[0]
        refuse_rejected_start(rejected_states(self.Z, cur, self.sup), self.law1, "real")
        # Gen 1 -> gen 2: Y ~ Mult(n, law of the gen-1 fit).
        self.Y1 = multinomial_pmf(self._laws(self.fits1), self.Y, n)
        if fresh:
            self.W = _compositions(N + n, s)
            self.fits = self.W / (N + n)
            index = {tuple(int(v) for v in row): i for i, row in enumerate(self.W)}
            # conv[y, W'] = P(Z' + y = W') for a fresh real block Z' (generation 1's law)
            conv = np.zeros((Cn, Cw))
            for zi, z in enumerate(self.Z):
                if self.law1[zi] == 0.0:
                    continue
                tgt = [index[tuple(int(v) for v in row)] for row in self.Y + z]
                conv[np.arange(Cn), tgt] += self.law1[zi]
            self.T = multinomial_pmf(self._laws(self.fits), self.Y, n) @ conv
            #: the law of generation 2's pooled counts
            self.start = (self.law1 @ self.Y1) @ conv
        else:
            self.fits_by_block = [(z[None, :] + self.Y) / (N + n) for z in self.Z]
            live = np.flatnonzero(self.law1 > 0)
            # one curated map for every live block's fits (equal rows mapped once); each
            # block's transition matrix is built when it is used (memory: one block)
            laws = self._laws(np.concatenate([self.fits_by_block[zi] for zi in live]))
            self.laws_by_block = [None] * len(self.Z)
            for j, zi in enumerate(live):
                self.laws_by_block[zi] = laws[j * Cn:(j + 1) * Cn]

    def _blocks(self):
        """``(block index, transition matrix)`` of each real block of positive
        probability (``fresh=False``)."""
        for zi, laws in enumerate(self.laws_by_block):
            if laws is not None:
                yield zi, multinomial_pmf(laws, self.Y, self.n)

    def _laws(self, fits: np.ndarray) -> np.ndarray:
        """The curated law of the next synthetic sample, per fit row (support only)."""
        P = np.zeros((fits.shape[0], self.V))
        P[:, self.sup] = fits
        Q = curated_rows(sampling_distribution(P, self.policy), self.curation)
        return Q[:, self.sup]

    # ------------------------------------------------------------------ moments
    def moments(self, generations: int):
        """``(mean fit, homozygosity)`` per generation ``1..generations`` on the
        support: arrays of shape ``(generations, s)`` and ``(generations,)``."""
        means = [self.law1 @ self.fits1]
        homs = [self.law1 @ (self.fits1 ** 2).sum(axis=1)]
        if generations == 1:
            return np.array(means), np.array(homs)
        if self.fresh:
            v = self.start
            for _ in range(generations - 1):
                means.append(v @ self.fits)
                homs.append(v @ (self.fits ** 2).sum(axis=1))
                v = v @ self.T
            return np.array(means), np.array(homs)
        mean = np.zeros((generations - 1, self.sup.size))
        hom = np.zeros(generations - 1)
        for zi, T in self._blocks():
            F = self.fits_by_block[zi]
            v = self.law1[zi] * self.Y1[zi]
            h = (F ** 2).sum(axis=1)
            for g in range(generations - 1):
                mean[g] += v @ F
                hom[g] += v @ h
                v = v @ T
        return np.concatenate([means, mean]), np.concatenate([homs, hom])

    def stationary(self):
        """``(mean fit, homozygosity)`` of the stationary law (the limit in ``m``), each
        chain solved on the states reachable from generation 2 (a kept block's chain also
        lists synthetic counts of tokens the block lacks, which it never reaches)."""
        if self.fresh:
            live, pi = _stationary(self.T, self.start)
            F = self.fits[live]
            return pi @ F, float(pi @ (F ** 2).sum(axis=1))
        mean = np.zeros(self.sup.size)
        hom = 0.0
        for zi, T in self._blocks():
            live, pi = _stationary(T, self.Y1[zi])
            F = self.fits_by_block[zi][live]
            mean += self.law1[zi] * (pi @ F)
            hom += self.law1[zi] * float(pi @ (F ** 2).sum(axis=1))
        return mean, hom


def _reachable(T: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The states reachable from the support of ``start`` through ``T > 0``."""
    seen = start > 0
    frontier = seen.copy()
    while frontier.any():
        new = (T[frontier] > 0).any(axis=0) & ~seen
        seen |= new
        frontier = new
    return np.flatnonzero(seen)


def _stationary(T: np.ndarray, start: np.ndarray):
    r"""``(states, law)``: the stationary law of ``T`` on the states reachable from
    ``start``, from :math:`\pi(I - T + \mathbf 1\mathbf 1^\top) = \mathbf 1^\top`
    (non-singular exactly when that law is unique; ``ValueError`` when it is not, or
    when the system is too ill-conditioned to trust)."""
    live = _reachable(T, start)
    A = np.eye(live.size) - T[np.ix_(live, live)] + 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", linalg.LinAlgWarning)
            pi = linalg.solve(A.T, np.ones(live.size))
    except (linalg.LinAlgError, linalg.LinAlgWarning) as exc:
        raise ValueError(
            "the curated chain has several stationary laws (several closed classes, "
            "e.g. under top_k=1), or its system is too ill-conditioned: the long-run "
            "answer depends on the start; use curated_path at a large m") from exc
    pi = np.clip(pi, 0.0, None)
    return live, pi / pi.sum()
