"""NumPy kernel of the n-gram family: the generic plan loop on dense transition counts,
text generated one position at a time for all replicates and sequences at once."""

from __future__ import annotations

import numpy as np

from ...ngram import refit
from ...sampling import sampling_distribution
from .. import _stats
from .core import PlanKernel


def reachable_dirac(P: np.ndarray, start: np.ndarray) -> np.ndarray:
    """Per replicate (``P``: ``(R, C, V)``), whether every context reachable from the
    support of the start law ``start`` (``(C,)``) through transitions of ``P`` has a
    Dirac row: the generated text is then deterministic."""
    R, C, V = P.shape
    nxt = (np.arange(C)[:, None] * V + np.arange(V)[None, :]) % C
    seen = np.broadcast_to(start > 0, (R, C)).copy()
    while True:
        on = (P > 0) & seen[:, :, None]
        new = np.zeros((R, C), dtype=bool)
        r, c, x = np.nonzero(on)
        new[r, nxt[c, x]] = True
        grown = seen | new
        if (grown == seen).all():
            break
        seen = grown
    dirac = np.count_nonzero(P, axis=2) == 1
    return (dirac | ~seen).all(axis=1)


class NGramKernel(PlanKernel):
    """Dense ``(R, C, V)`` counts; ``history[j]`` holds model ``j``'s sampling table
    (the fit under the sampling policy), ``P`` the current fit, ``counts`` the
    transition counts of the last fit."""

    def __init__(self, problem, replicates, seed_seq):
        m = problem.model
        self.P0 = m.table
        self.C, self.V = self.P0.shape
        self.R = replicates
        self.P = np.broadcast_to(self.P0, (replicates, self.C, self.V)).copy()
        self.pi0 = m.stationary_contexts()
        self.start = m.start_law()
        self.L = m.length
        super().__init__(problem, replicates, seed_seq)
        self.P1 = self.counts = None
        self.keep_rule = m.unseen == "keep" and m.smoothing == 0
        done = reachable_dirac(self.P0[None], self.start)[0] and self.keep_rule
        self.collapse_time = np.full(self.R, 0 if done else -1, dtype=np.int64)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 50))

    def real_theta(self):
        return np.broadcast_to(self.P0, (self.R, self.C, self.V))

    def draw(self, j, k, offset):
        """Transition counts of ``k`` tokens (an int or ``(R,)``) from model ``j``:
        sequences of ``length`` tokens generated position by position."""
        Q = self.history[j]
        k = np.broadcast_to(np.asarray(k, dtype=np.int64), (self.R,))
        R, C, V = self.R, self.C, self.V
        counts = np.zeros((R, C * V))
        kmax = int(k.max()) if k.size else 0
        if kmax == 0:
            return counts.reshape(R, C, V)
        L = self.L or kmax
        S = -(-kmax // L)  # sequences of the longest block
        cum = np.cumsum(Q, axis=2)
        ctx = self.rng.choice(C, size=(R, S), p=self.start)
        rows = np.arange(R)[:, None]
        for t in range(L):
            pos = np.arange(S)[None, :] * L + t
            live = pos < k[:, None]
            if not live.any():
                break
            u = self.rng.random((R, S))
            c = cum[rows, ctx]  # (R, S, V)
            x = np.minimum((c <= u[:, :, None] * c[:, :, -1:]).sum(axis=2), V - 1)
            code = ctx * V + x
            np.add.at(counts, (np.broadcast_to(rows, (R, S))[live], code[live]), 1.0)
            ctx = code % C
        return counts.reshape(R, C, V)

    def merge(self, a, b):
        return a + b

    def subsample(self, pool, n):
        R = pool.shape[0]
        flat = pool.reshape(R, -1).astype(np.int64)
        out = np.array([self.rng.multivariate_hypergeometric(row, n) for row in flat],
                       dtype=np.float64)
        return out.reshape(pool.shape)

    def fit(self, counts, m):
        model = self.model
        self.counts = counts
        self.P = refit(counts, model.order, model.unseen, model.smoothing, self.P)
        if m == 1:
            self.P1 = self.P.copy()
        return sampling_distribution(self.P, self.problem.sampling)

    def _stats(self):
        return _stats.ngram_stats(self.P, self.P0, self.P1, self.pi0, self.counts,
                                  self.names)

    def _times(self, m):
        if not self.keep_rule:
            return
        open_ = self.collapse_time < 0
        if open_.any():
            done = reachable_dirac(self.P[open_], self.start)
            idx = np.flatnonzero(open_)[done]
            self.collapse_time[idx] = m
