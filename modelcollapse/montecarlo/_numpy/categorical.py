"""NumPy kernels of the categorical family: the generic plan loop on dense counts, and
the registered counts fast path of plain ``Replace``."""

from __future__ import annotations

import numpy as np

from ...curation import curate_samples
from ...sampling import sampling_distribution
from .. import _stats
from .core import PlanKernel, _VectorKernel

# ---------------------------------------------------------------------- categorical
#: Under plain Replace, generations whose rows have on average more than
#: ``PARENT_FRACTION * n`` surviving tokens draw parents (``n`` integers per row, about
#: 17 ns each) instead of one binomial per survivor (about 140 ns each).
PARENT_FRACTION = 0.12


class CategoricalKernel(PlanKernel):
    """Dense ``(R, V)`` counts; ``history[j]`` holds model ``j``'s *sampling*
    distribution (the fit under the sampling policy), ``P`` the current fit."""

    def __init__(self, problem, replicates, seed_seq):
        self.p0 = problem.model.p
        self.V = self.p0.size
        self.R = replicates
        self.P = np.broadcast_to(self.p0, (replicates, self.V)).copy()
        super().__init__(problem, replicates, seed_seq)
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.P1 = None
        self.collapse_time = np.where(np.count_nonzero(self.p0) == 1, 0, -1) * \
            np.ones(self.R, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((self.R, 1), dtype=np.int64)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 50))

    def real_theta(self):
        return np.broadcast_to(self.p0, (self.R, self.V))

    def _step(self, m):
        self.drawn = np.zeros(self.R)  # raw samples drawn for generation m
        super()._step(m)

    def draw(self, j, k, offset):
        cur = self.problem.curation
        if cur is None or j == 0:  # samples of p^(0) are real: never curated
            self.drawn = self.drawn + k
            return self.rng.multinomial(k, self.history[j]).astype(np.float64)
        ks = np.broadcast_to(k, (self.R,))
        out = np.empty((self.R, self.V))
        for r in range(self.R):  # the selection itself, replicate by replicate
            tok, raw = curate_samples(self.rng, self.history[j][r], int(ks[r]), cur)
            out[r] = np.bincount(tok, minlength=self.V)
            self.drawn[r] += raw
        return out

    def merge(self, a, b):
        return a + b

    def subsample(self, pool, n):
        rows = pool.astype(np.int64)
        return np.array([self.rng.multivariate_hypergeometric(row, n) for row in rows],
                        dtype=np.float64)

    def fit(self, counts, m):
        self.P = counts / counts.sum(axis=1, keepdims=True)
        if m == 1:
            self.P1 = self.P.copy()
        return sampling_distribution(self.P, self.problem.sampling)

    def _stats(self):
        return _stats.categorical_stats(self.P, self.p0, self.P1, self.tokens, self.names,
                                        raw=getattr(self, "drawn", None))

    def _times(self, m):
        single = np.count_nonzero(self.P, axis=1) == 1
        self.collapse_time[(self.collapse_time < 0) & single] = m
        lost = self.P[:, self.tokens] == 0
        self.loss_time[(self.loss_time < 0) & lost] = m


class ReplaceCountsKernel(_VectorKernel):
    r"""Fast path for a categorical model under plain ``Replace``: integer counts of the
    surviving tokens only, packed to the left of each row (``cnt``, token ids ``tok``),
    in the replicates that have not collapsed. A generation is one call of
    ``Generator.multinomial`` over ``(alive replicates, widest support)``: its
    conditional binomials stop at each row's last survivor, so the cost is about one
    binomial draw per surviving token. Statistics are sums over the survivors plus what
    the lost tokens contribute (their real mass for the L1 distances)."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.p0 = problem.model.p
        self.n = problem.plan.n
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        sup = np.flatnonzero(self.p0)
        R = self.R
        self.tok = np.broadcast_to(sup, (R, sup.size)).copy()
        self.cnt = self.p1 = None  # generation 0 is the real distribution, not counts
        with np.errstate(divide="ignore"):
            self.logp0 = np.where(self.p0 > 0, np.log(np.where(self.p0 > 0, self.p0, 1)), 0)
        self.alive = np.arange(R) if sup.size > 1 else np.arange(0)
        self.collapse_time = np.full(R, 0 if sup.size == 1 else -1, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((R, 1), dtype=np.int64)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 200))

    @classmethod
    def scratch_bytes(cls, problem, replicates):
        """Drawing parents (:meth:`_parents`, only while ``n < V / PARENT_FRACTION``)
        holds about four int64 arrays of ``replicates x n``."""
        n = problem.plan.n
        return 32.0 * replicates * n if problem.model.size > PARENT_FRACTION * n else 0.0

    def _step(self, m):
        n, a = self.n, self.alive
        if m == 1:
            P0 = self.p0[self.tok]
            self.cnt = np.rint(n * P0).astype(np.int64)  # a Dirac p0: n on its token
            self.p1 = self.cnt / n
            new = self.rng.multinomial(n, P0[a])
            self.acnt, self.atok, self.ap1 = new, self.tok[a], None
            died = True
        else:  # the alive replicates' rows are kept apart, packed: no gathers
            old = self.acnt
            if np.count_nonzero(old) > PARENT_FRACTION * n * old.shape[0]:
                new = self._parents(old)
            else:
                new = self.rng.multinomial(n, old / n)
            died = bool(((new == 0) & (old > 0)).any())
        if died:  # pack the survivors to the left (stable), carrying token ids and p^(1)
            order = np.argsort(new == 0, axis=1, kind="stable")
            rows = np.arange(a.size)[:, None]
            new = new[rows, order]
            self.atok = self.atok[rows, order]
            if self.ap1 is not None:
                self.ap1 = self.ap1[rows, order]
        if m == 1:
            self.ap1 = new / n
        self.acnt = new
        ns = np.count_nonzero(new, axis=1)
        width = max(1, int(ns.max()) if ns.size else 1)
        if width < new.shape[1] // 2 or (died and width < new.shape[1] - 64):
            # drop the columns nobody uses any more (copies only when worth it)
            self.acnt = self.acnt[:, :width].copy()
            self.atok = self.atok[:, :width].copy()
            self.ap1 = self.ap1[:, :width].copy()
        if self.tokens.size:  # token-loss times, from the rows that moved
            live = self.acnt > 0
            for j, t in enumerate(self.tokens):
                lost = ~((self.atok == t) & live).any(axis=1)
                hit = a[(self.loss_time[a, j] < 0) & lost]
                self.loss_time[hit, j] = m
        done = ns == 1
        if done.any():
            self.collapse_time[a[done]] = m
            self._store(a[done], done)
            self._freeze(a[done])
            keep = ~done
            self.alive = a[keep]
            self.acnt, self.atok, self.ap1 = self.acnt[keep], self.atok[keep], self.ap1[keep]

    def _store(self, rows, sel):
        """Write the rows ``sel`` of the alive arrays back to replicates ``rows``."""
        W = self.acnt.shape[1]
        for full, part in ((self.cnt, self.acnt), (self.tok, self.atok), (self.p1, self.ap1)):
            full[rows, :W] = part[sel]
            full[rows, W:] = 0

    def _parents(self, old):
        """Wright--Fisher by parents: each of the ``n`` new samples of a row copies a
        uniformly chosen old one (``n`` integers per row, cheaper than one binomial per
        survivor while many tokens survive)."""
        Ra, W = old.shape
        n = self.n
        owner = np.repeat(np.tile(np.arange(W), Ra), old.ravel())  # column of each sample
        pick = self.rng.integers(0, n, size=(Ra, n)) + (np.arange(Ra) * n)[:, None]
        cols = owner[pick] + (np.arange(Ra) * W)[:, None]
        return np.bincount(cols.ravel(), minlength=Ra * W).reshape(Ra, W)

    def _probs(self, rows=None):
        """``(P, tok, p1)`` of the slots of ``rows``: ``None`` for all replicates,
        ``"alive"`` for the alive ones (their packed arrays), else replicate indices
        (collapsed ones are stored back whole)."""
        if self.cnt is None:
            tok = self.tok if rows is None or isinstance(rows, str) else self.tok[rows]
            return np.broadcast_to(self.p0[tok[:1]], tok.shape), tok, None
        if isinstance(rows, str):
            return self.acnt / self.n, self.atok, self.ap1
        if rows is None:  # every replicate: the alive arrays written back first
            if self.alive.size:
                self._store(self.alive, slice(None))
            return self.cnt / self.n, self.tok, self.p1
        return self.cnt[rows] / self.n, self.tok[rows], self.p1[rows]

    def _freeze(self, rows):
        """A collapsed replicate is absorbed: its statistics, computed once, stay."""
        if not hasattr(self, "frozen"):
            self.frozen = {k: np.zeros((self.R, *v.shape[1:]))
                           for k, v in self._row_stats(rows[:1]).items()}
        for k, v in self._row_stats(rows).items():
            self.frozen[k][rows] = v

    def _stats(self):
        if self.cnt is None:
            return self._row_stats(None)
        alive = self._row_stats("alive") if self.alive.size else None
        if not hasattr(self, "frozen"):  # none collapsed: the alive rows are all, in order
            return alive if alive is not None else self._row_stats(None)
        out = {k: v.copy() for k, v in self.frozen.items()}
        if alive is not None:
            for k, v in alive.items():
                out[k][self.alive] = v
        return out

    def _row_stats(self, rows):
        """Statistics of ``rows`` (``None``: all): sums over the survivors plus what the
        lost tokens contribute (their real and first-generation mass, for L1)."""
        want = set(self.names)
        if not want:
            return {}
        P, tok, p1 = self._probs(rows)
        R = P.shape[0]
        out = {}
        pos = P > 0
        if "support_size" in want:
            out["support_size"] = np.count_nonzero(pos, axis=1).astype(np.float64)
        if "raw_samples" in want:  # plain Replace: n draws a generation
            out["raw_samples"] = np.full(R, np.nan if self.cnt is None else float(self.n))
        if "homozygosity" in want:
            out["homozygosity"] = np.einsum("rv,rv->r", P, P)
        if not want & {"entropy", "l1_real", "kl_real", "l1_first", "kl_first"}:
            pass
        else:
            logP = np.log(np.where(pos, P, 1.0))
            PlogP = np.einsum("rv,rv->r", P, logP)  # P = 0 off the support
            if "entropy" in want:
                out["entropy"] = -PlogP
            refs = []
            if want & {"l1_real", "kl_real"}:
                refs.append(("real", self.p0[tok], self.logp0[tok]))
            if want & {"l1_first", "kl_first"}:
                if p1 is None:
                    out["l1_first"] = out["kl_first"] = np.full(R, np.nan)
                else:  # a survivor of generation m was alive at generation 1: p1 > 0
                    refs.append(("first", p1, np.log(np.where(pos, p1, 1.0))))
            for tag, ref, logref in refs:
                refp = np.where(pos, ref, 0.0)
                covered = refp.sum(axis=1)
                out[f"l1_{tag}"] = np.abs(P - refp).sum(axis=1) + np.maximum(0.0,
                                                                             1 - covered)
                out[f"kl_{tag}"] = PlogP - np.einsum("rv,rv->r", P, logref)
        if "token_prob" in want:
            out["token_prob"] = np.stack(
                [np.where(tok == t, P, 0.0).sum(axis=1) for t in self.tokens], axis=1) \
                if self.tokens.size else np.zeros((R, 0))
        return {k: out[k] for k in self.names}
