"""Numba kernel of the n-gram family: text generated token by token, counted, refitted.

One generation of one replicate is a compiled loop: every synthetic block is generated as
sequences (start context, then ``length`` tokens, each one uniform draw in the alias
table of its context's sampling law, Walker's method: the physical limit of one
categorical draw per generated token), its transitions counted in a dense ``(V**k, V)``
table, and the table refitted by the model's rule (:func:`modelcollapse.ngram.refit`);
the regime's plan (window, uniform allocation, real block, pools) is read as in the
categorical kernel. Statistics are computed for the recorded generations only.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import _stats
from .samplers import _allocate, _policy, _subsample_counts, _support
from .threads import ACCUMULATE, LAST, NONE, SUBSAMPLE, WINDOW, Threaded

#: Order of the n-gram statistics in the kernel's output rows (``tv_*`` from ``l1_*``).
NGRAM_STATS = ("transitions", "dirac_mass", "homozygosity", "entropy", "l1_real",
               "l1_first", "unigram_l1", "distinct")
UNSEEN_CODES = {"keep": 0, "backoff": 1, "uniform": 2}


def cumulative(table: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums for inverse-CDF draws: from each row's last positive
    entry on, 2.0 (a uniform in [0, 1) never passes it, whatever the rounding)."""
    cum = np.cumsum(table, axis=-1)
    last = table.shape[-1] - 1 - np.argmax(table[..., ::-1] > 0, axis=-1)
    cols = np.arange(table.shape[-1])
    return np.where(cols >= last[..., None], 2.0, cum)


@njit(nogil=True, cache=True)
def _alias(row, prob, alias, small, large):
    """Walker's alias table of ``row`` (Vose's construction): a draw is ``j`` uniform
    on ``0..V-1``, kept with probability ``prob[j]``, else ``alias[j]``. Columns left
    over by rounding keep themselves, except tokens of probability 0, which always
    defer to the most likely token (so they are never drawn)."""
    V = row.size
    ns = nl = 0
    best = 0
    for j in range(V):
        prob[j] = row[j] * V
        alias[j] = j
        if row[j] > row[best]:
            best = j
        if prob[j] < 1.0:
            small[ns] = j
            ns += 1
        else:
            large[nl] = j
            nl += 1
    while ns > 0 and nl > 0:
        ns -= 1
        a = small[ns]
        g = large[nl - 1]
        alias[a] = g
        prob[g] = prob[g] + prob[a] - 1.0
        if prob[g] < 1.0:
            nl -= 1
            small[ns] = g
            ns += 1
    for t in range(nl):
        prob[large[t]] = 1.0
    for t in range(ns):
        a = small[t]
        if row[a] > 0.0:
            prob[a] = 1.0
        else:
            prob[a] = 0.0
            alias[a] = best


@njit(nogil=True, cache=True)
def _draw(cum, u):
    """The smallest ``x`` with ``cum[x] > u`` (binary search)."""
    lo, hi = 0, cum.size - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        if cum[mid] > u:
            hi = mid
        else:
            lo = mid + 1
    return lo


@njit(nogil=True, cache=True)
def _generate(rng, prob, alias, k, L, start, startcum, V, C, counts):
    """Add to ``counts`` the transitions of ``k`` tokens generated from the alias
    tables ``(prob, alias)`` of a model: sequences of ``L`` tokens (``L <= 0``: one
    sequence), each from the start row ``start`` (``< 0``: drawn from the cumulative
    law ``startcum``). The context rolls without division: the oldest token ``head``
    is subtracted, ``c' = (c - head V^(k-1)) V + x``."""
    top = C // V  # V**(k-1)
    made = 0
    while made < k:
        take = k - made if L <= 0 else min(L, k - made)
        ctx = start if start >= 0 else _draw(startcum, rng.random())
        for _ in range(take):
            u = rng.random() * V
            j = int(u)
            x = j if u - j < prob[ctx, j] else alias[ctx, j]
            counts[ctx, x] += 1.0
            ctx = (ctx - (ctx // top) * top) * V + x if top > 1 else x
        made += take


@njit(nogil=True, cache=True)
def _lower_counts(counts, order, V):
    """The order ``j`` counts for ``j = order-1 .. 0`` in one flat buffer: block ``j``
    (offset ``sum_{i<j} V**i * V``) holds ``(V**j, V)`` counts of the contexts' last
    ``j`` tokens (:func:`modelcollapse.ngram.backoff_rows`)."""
    C = counts.shape[0]
    size = 0
    for j in range(order):
        size += V**j * V
    low = np.zeros(size)
    off = size - V**(order - 1) * V  # block order-1 is the last
    Vj = V**(order - 1)
    for c in range(C):
        base = off + (c % Vj) * V
        for x in range(V):
            low[base + x] += counts[c, x]
    for j in range(order - 1, 0, -1):  # block j-1 from block j
        hi = off
        Vj = V**j
        off = hi - V**(j - 1) * V
        for c in range(Vj):
            base = off + (c % V**(j - 1)) * V
            for x in range(V):
                low[base + x] += low[hi + c * V + x]
    return low


@njit(nogil=True, cache=True)
def _backoff_row(low, order, V, c, out):
    """``out`` = the backoff row of context ``c`` from :func:`_lower_counts`: the
    counts of its last ``j`` tokens for the largest visited ``j < order``; uniform if
    none."""
    off = 0
    offs = np.empty(order, dtype=np.int64)
    for j in range(order):
        offs[j] = off
        off += V**j * V
    for j in range(order - 1, -1, -1):
        base = offs[j] + (c % V**j) * V
        tot = 0.0
        for x in range(V):
            tot += low[base + x]
        if tot > 0.0:
            for x in range(V):
                out[x] = low[base + x] / tot
            return
    for x in range(V):
        out[x] = 1.0 / V


@njit(nogil=True, cache=True)
def _refit(counts, order, unseen, alpha, P, changed):
    """``P`` = the refit of ``counts`` by the model's rule (``unseen``: 0 keep,
    1 backoff, 2 uniform; ``alpha``: additive smoothing); ``changed[c]``: whether row
    ``c`` was rewritten (every row but the unvisited ones under keep)."""
    C, V = counts.shape
    low = np.zeros(0)
    for c in range(C):
        tot = 0.0
        for x in range(V):
            tot += counts[c, x]
        changed[c] = tot > 0.0 or alpha > 0.0 or unseen != 0
        if alpha > 0.0:
            for x in range(V):
                P[c, x] = (counts[c, x] + alpha) / (tot + alpha * V)
        elif tot > 0.0:
            for x in range(V):
                P[c, x] = counts[c, x] / tot
        elif unseen == 1:
            if low.size == 0:
                low = _lower_counts(counts, order, V)
            _backoff_row(low, order, V, c, P[c])
        elif unseen == 2:
            for x in range(V):
                P[c, x] = 1.0 / V


@njit(nogil=True, cache=True)
def _sampling_table(P, T, top_k, top_p, plain, prob, alias, rows):
    """``(prob, alias)`` = the alias tables of the sampling law of ``P`` under the
    policy, for the rows where ``rows`` is true (the others are kept)."""
    C, V = P.shape
    idx = np.empty(V, dtype=np.int64)
    law = np.empty(V)
    small = np.empty(V, dtype=np.int64)
    large = np.empty(V, dtype=np.int64)
    for c in range(C):
        if not rows[c]:
            continue
        if plain:
            _alias(P[c], prob[c], alias[c], small, large)
        else:
            law[:] = 0.0
            k = _support(P[c], idx)
            _policy(P[c], idx, k, T, top_k, top_p, law)
            _alias(law, prob[c], alias[c], small, large)


@njit(nogil=True, cache=True)
def _collapsed(P, counts, start, startcum, quick):
    """Every context reachable from the start law (through transitions of ``P``) has a
    Dirac row: the generated text is deterministic. With ``quick`` (the corpus reached
    every row it visits through transitions the fit keeps: not so for a subsample of a
    pool), a visited row with two successors answers no at once."""
    C, V = P.shape
    for c in range(C if quick else 0):
        k = 0
        for x in range(V):
            if counts[c, x] > 0.0:
                k += 1
        if k > 1:
            return False
    seen = np.zeros(C, dtype=np.bool_)
    stack = np.empty(C, dtype=np.int64)
    top = 0
    for c in range(C):
        first = startcum[0] if c == 0 else startcum[c] - startcum[c - 1]
        if (start >= 0 and c == start) or (start < 0 and first > 0.0):
            seen[c] = True
            stack[top] = c
            top += 1
    while top > 0:
        top -= 1
        c = stack[top]
        k = 0
        for x in range(V):
            if P[c, x] > 0.0:
                k += 1
                nxt = (c * V + x) % C
                if not seen[nxt]:
                    seen[nxt] = True
                    stack[top] = nxt
                    top += 1
        if k > 1:
            return False
    return True


@njit(nogil=True, cache=True)
def _ngram_stats(P, P0, P1, have_first, pi0, u0, counts, want, out, col):
    """The statistics of :data:`NGRAM_STATS` of ``P`` into ``out[:, col]`` (those of
    ``want``; the others are left as they are)."""
    C, V = P.shape
    rows = want[0] or want[1] or want[2] or want[3] or want[4] or want[5]
    trans = 0.0
    dirac = hom = ent = l1r = l1f = 0.0
    for c in range(C if rows else 0):
        k = 0
        h = e = a = b = 0.0
        for x in range(V):
            p = P[c, x]
            if p > 0.0:
                k += 1
                h += p * p
                if want[3]:
                    e -= p * math.log(p)
            if want[4]:
                a += abs(p - P0[c, x])
            if want[5] and have_first:
                b += abs(p - P1[c, x])
        trans += k
        w = pi0[c]
        if k == 1:
            dirac += w
        hom += w * h
        ent += w * e
        l1r += w * a
        l1f += w * b
    out[0, col] = trans
    out[1, col] = dirac
    out[2, col] = hom
    out[3, col] = ent
    out[4, col] = l1r
    out[5, col] = l1f if have_first else np.nan
    if want[6] or want[7]:
        tot = 0.0
        nz = 0.0
        f = np.zeros(V)
        for c in range(C):
            for x in range(V):
                v = counts[c, x]
                if v > 0.0:
                    tot += v
                    nz += 1.0
                    f[x] += v
        d = 0.0
        for x in range(V):
            d += abs(f[x] / max(tot, 1.0) - u0[x])
        out[6, col] = d
        out[7, col] = nz / max(tot, 1.0)


@njit(nogil=True, cache=True)
def _ngram_chunk(rng, plan, order, L, start, startcum, unseen, alpha, T, top_k, top_p,
                 plain, g0, g1, colmap, P0, A0, B0, pi0, u0, P, P1, hp, ha, realc,
                 pool, want, out, ct):
    """Advance one replicate through generations ``g0+1 .. g1`` of the plan (codes as
    in the categorical kernel). ``(hp[j % H], ha[j % H])``: the alias tables of the sampling
    law of model ``j >= 1`` (``(A0, B0)``: the real model's, plain)."""
    src, n, window, real = plan[0], plan[1], plan[2], plan[3]
    real_fresh, syn_from, pooling = plan[4], plan[5], plan[6]
    C, V = P.shape
    H = hp.shape[0]
    counts = np.zeros((C, V))
    changed = np.ones(C, dtype=np.bool_)
    alloc = np.zeros(max(g1, 1), dtype=np.int64)
    for m in range(g0 + 1, g1 + 1):
        counts[:, :] = 0.0
        if m >= syn_from:
            if src == LAST:
                if m == 1:
                    _generate(rng, A0, B0, n, L, start, startcum, V, C, counts)
                else:
                    h = (m - 1) % H
                    _generate(rng, hp[h], ha[h], n, L, start, startcum, V, C, counts)
            elif src == WINDOW:
                k = min(window, m)
                each = n // k
                for j in range(m - k, m):
                    if j == 0:
                        _generate(rng, A0, B0, each, L, start, startcum, V, C, counts)
                    else:
                        _generate(rng, hp[j % H], ha[j % H], each, L, start, startcum,
                                  V, C, counts)
            else:
                _allocate(rng, n, m, alloc)
                for j in range(m):
                    if alloc[j] > 0 and j == 0:
                        _generate(rng, A0, B0, alloc[j], L, start, startcum, V, C,
                                  counts)
                    elif alloc[j] > 0:
                        _generate(rng, hp[j % H], ha[j % H], alloc[j], L, start,
                                  startcum, V, C, counts)
        if real > 0:
            if m == 1 or real_fresh:
                realc[:, :] = 0.0
                _generate(rng, A0, B0, real, L, start, startcum, V, C, realc)
            for c in range(C):
                for x in range(V):
                    counts[c, x] += realc[c, x]
        if pooling != NONE:
            for c in range(C):
                for x in range(V):
                    pool[c, x] += counts[c, x]
            if pooling == ACCUMULATE or m == 1:
                counts[:, :] = pool
            else:
                size = (m - syn_from + 1) * n
                flat = counts.reshape(C * V)
                _subsample_counts(rng, pool.reshape(C * V).astype(np.int64), size, n, flat)
        _refit(counts, order, unseen, alpha, P, changed)
        if H > 1:  # the slot holds an older model's tables: rebuild every row
            changed[:] = True
        if m == 1:
            P1[:, :] = P
        _sampling_table(P, T, top_k, top_p, plain, hp[m % H], ha[m % H], changed)
        if ct[0] < 0 and unseen == 0 and alpha == 0.0 and _collapsed(
                P, counts, start, startcum, pooling != SUBSAMPLE):
            ct[0] = m
        col = colmap[m - g0 - 1]
        if col >= 0 and want.any():
            _ngram_stats(P, P0, P1, True, pi0, u0, counts, want, out, col)


@njit(nogil=True, cache=True)
def _ngram_many(rngs, idx, plan, order, L, start, startcum, unseen, alpha, T, top_k, top_p,
                plain, g0, g1, colmap, P0, A0, B0, pi0, u0, P, P1, hp, ha, realc, pool,
                want, out, ct):
    """The chunk of every replicate in ``idx`` (one thread's block)."""
    for r in idx:
        _ngram_chunk(rngs[r], plan, order, L, start, startcum, unseen, alpha, T, top_k,
                     top_p, plain, g0, g1, colmap, P0, A0, B0, pi0, u0, P[r], P1[r], hp[r],
                     ha[r], realc[r], pool[r], want, out[r], ct[r:r + 1])


class NGramKernel(Threaded):
    """Any regime and sampling policy on dense ``(V**k, V)`` tables, per replicate:
    the fit, the first fit, the alias tables of the sampling laws of the models the plan
    reads,
    the real block's and the pool's counts."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        m, plan, R = self.model, problem.plan, self.R
        self.P0 = np.ascontiguousarray(m.table)
        C, V = self.P0.shape
        self.A0 = np.empty((C, V))
        self.B0 = np.empty((C, V), dtype=np.int32)
        _sampling_table(self.P0, 1.0, 0, 1.0, True, self.A0, self.B0,
                        np.ones(C, dtype=np.bool_))
        self.pi0 = m.stationary_contexts()
        self.u0 = self.pi0 @ self.P0
        self.start = -1 if m.start == "stationary" else int(m.start)
        self.startcum = cumulative(m.start_law())
        self.P = np.tile(self.P0, (R, 1, 1))
        self.P1 = np.zeros((R, C, V))
        H = {"last": 1, "window": plan.window, "uniform": 2}[plan.sources]
        # every slot starts as the real model's tables: a refit under keep rebuilds the
        # rows it changes only, the others stay the previous model's (the real one's)
        self.hp = np.tile(self.A0, (R, H, 1, 1))
        self.ha = np.tile(self.B0, (R, H, 1, 1))
        self.realc = np.zeros((R, C, V) if plan.real else (R, 1, 1))
        self.pool = np.zeros((R, C, V) if plan.pool != "none" else (R, 1, 1))
        self.collapse_time = np.full(R, -1, dtype=np.int64)
        if m.unseen == "keep" and m.smoothing == 0 and _collapsed(
                self.P0, np.zeros((C, V)), self.start, self.startcum, False):
            self.collapse_time[:] = 0
        self.want = np.array([s in self.names or (s == "l1_first" and "tv_first" in
                                                  self.names) for s in NGRAM_STATS])

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        m = problem.model
        return int(max(1, min(target, 10**8 // max(m.table.size, 1), 1000)))

    @classmethod
    def scratch_bytes(cls, problem, replicates):
        """Per thread: one generation's counts table."""
        return 8.0 * problem.model.table.size * cls.threads_for(replicates)

    def initial(self):
        out = _stats.ngram_stats(self.P0[None], self.P0, None, self.pi0, None, self.names)
        return {k: np.tile(v[:, None], (self.R, 1)) for k, v in out.items()}

    def advance(self, g0, g1, keep=None):
        R, G = self.R, g1 - g0
        plan, model = self.problem.plan, self.model
        if plan.sources == "uniform":  # every model is read: one slot per generation
            self.hp = self._grow(self.hp, g1 + 1)
            self.ha = self._grow(self.ha, g1 + 1)
        keep = np.arange(g0 + 1, g1 + 1) if keep is None else np.asarray(keep)
        colmap = np.full(G, -1, dtype=np.int64)
        colmap[keep - g0 - 1] = np.arange(keep.size)
        out = np.empty((R, len(NGRAM_STATS), keep.size))
        pol = self.problem.sampling
        T = float(pol.temperature)
        top_k = 0 if pol.top_k is None else int(pol.top_k)
        top_p = 1.0 if pol.top_p is None else float(pol.top_p)
        L = 0 if model.length is None else int(model.length)

        def block(idx):
            _ngram_many(self.rng_list, idx, self.codes, model.order, L, self.start,
                        self.startcum, UNSEEN_CODES[model.unseen], float(model.smoothing),
                        T, top_k, top_p, pol.plain, g0, g1, colmap, self.P0, self.A0,
                        self.B0, self.pi0, self.u0, self.P, self.P1, self.hp, self.ha,
                        self.realc, self.pool, self.want, out, self.collapse_time)

        self._parallel(block)
        res = {name: out[:, i] for i, name in enumerate(NGRAM_STATS) if name in self.names}
        return {k: res[k] for k in self.names}


def alias_law(prob: np.ndarray, alias: np.ndarray) -> np.ndarray:
    r"""The law an alias table draws from (NumPy, for tests):
    :math:`(\mathrm{prob}_x + \sum_{j:\,\mathrm{alias}_j = x} (1 - \mathrm{prob}_j))/V`."""
    V = prob.shape[-1]
    out = prob.copy()
    lead = np.indices(prob.shape[:-1])
    flat_idx = (*tuple(np.broadcast_to(i[..., None], prob.shape) for i in lead), alias)
    np.add.at(out, flat_idx, 1.0 - prob)
    return out / V
