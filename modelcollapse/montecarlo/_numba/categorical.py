"""Numba kernels of the categorical family.

Categorical generations are multinomial draws by conditional binomials
(:math:`X_i \\sim \\mathrm{Bin}(n - \\sum_{j<i} X_j,\\ q_i/(1-\\sum_{j<i} q_j))`) over the
tokens still alive only, stopping as soon as the ``n`` samples are placed: under
``Replace`` the cost of a generation is one binomial draw per surviving token at most,
the physical limit of a count-based simulator. :func:`_categorical_chunk` is the one
loop over the regime's plan; :func:`_replace_chunk` is the registered fast path of plain
``Replace`` (integer counts, parent choice when many tokens survive).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .samplers import (
    CUR_BEST_OF,
    CUR_NONE,
    CUR_VERIFIER,
    _copy,
    _curated_add,
    _mult_add,
    _policy,
    _subsample_counts,
    _support,
    binomial,
    curation_codes,
)
from .threads import ACCUMULATE, LAST, NONE, WINDOW, Threaded

#: Order of the categorical statistics in the kernel's output rows.
CAT_STATS = ("support_size", "homozygosity", "entropy", "l1_real", "kl_real", "l1_first",
             "kl_first", "raw_samples")
#: Row of ``raw_samples`` (written by the chunk loops, not by :func:`_stats`).
RAW = 7


@njit(nogil=True, cache=True)
def _stats(P, idx, nidx, p0, P1, have_first, want, out, col):
    """The statistics of :data:`CAT_STATS` over the support ``idx`` of ``P``."""
    out[0, col] = nidx
    if want[1]:
        s = 0.0
        for t in range(nidx):
            s += P[idx[t]] ** 2
        out[1, col] = s
    if want[2]:
        s = 0.0
        for t in range(nidx):
            x = P[idx[t]]
            s -= x * math.log(x)
        out[2, col] = s
    for which in range(2):
        if not (want[3 + 2 * which] or want[4 + 2 * which]):
            continue
        if which == 1 and not have_first:
            out[5, col] = np.nan
            out[6, col] = np.nan
            continue
        ref = p0 if which == 0 else P1
        l1 = 0.0
        covered = 0.0
        kl = 0.0
        for t in range(nidx):
            i = idx[t]
            l1 += abs(P[i] - ref[i])
            covered += ref[i]
            if ref[i] > 0.0:
                kl += P[i] * math.log(P[i] / ref[i])
            else:
                kl = np.inf
        out[3 + 2 * which, col] = l1 + max(0.0, 1.0 - covered)
        out[4 + 2 * which, col] = kl


@njit(nogil=True, cache=True)
def _record(m, col, P, P1, sup, ns, p0, want, out, tokens, tokout, ct, lt):
    """Collapse and token-loss times of generation ``m``, and its statistics in output
    column ``col`` (``col < 0``: a generation that is not recorded)."""
    if m == 1:
        _copy(P1, P)
    if col >= 0:
        _stats(P, sup, ns, p0, P1, True, want, out, col)
    if ct[0] < 0 and ns == 1:
        ct[0] = m
    for j in range(tokens.size):
        x = P[tokens[j]]
        if col >= 0:
            tokout[col, j] = x
        if lt[j] < 0 and x == 0.0:
            lt[j] = m


@njit(nogil=True, cache=True)
def _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, colmap, j0, raw):
    """A collapsed Replace chain is absorbed: every recorded column of the chunk from
    position ``j0`` on holds the (constant) statistics of the collapsed fit, and
    ``raw`` samples drawn per generation."""
    first = -1
    for j in range(j0, colmap.size):
        c = colmap[j]
        if c < 0:
            continue
        if first < 0:
            _stats(P, sup, 1, p0, P1, True, want, out, c)
            out[RAW, c] = raw
            first = c
        else:
            for s in range(out.shape[0]):
                out[s, c] = out[s, first]
        for t in range(tokens.size):
            tokout[c, t] = P[tokens[t]]


#: Under Replace at temperature 1, a generation with more than ``PARENT_FRACTION * n``
#: surviving tokens draws each new sample's parent uniformly among the ``n`` old samples
#: (``n`` uniforms, cheaper than one binomial per token); fewer use conditional binomials.
PARENT_FRACTION = 0.05
#: Peak bytes per item of a subsample of the pool (:func:`._subsample_counts`: Floyd's
#: hash set, about 135 bytes an item at its peak when measured, and the sorted picks).
SUBSAMPLE_BYTES = 150


@njit(nogil=True, cache=True)
def _parents(rng, n, owner, newc):
    """``newc[owner[x]] += 1`` for ``n`` independent uniform integers ``x`` in [0, n).

    A uniform double carries 53 random bits (``u * 2**53`` is an exact integer); it is cut
    into ``53 // b`` independent ``b``-bit integers, ``2**b >= n``, and those ``>= n`` are
    rejected: exactly uniform, with several draws per call of the generator.
    """
    b = 1
    while (1 << b) < n:
        b += 1
    mask = (1 << b) - 1
    per = 53 // b
    placed = 0
    while placed < n:
        k = np.int64(rng.random() * 9007199254740992.0)  # 2**53
        for _ in range(per):
            x = k & mask
            k >>= b
            if x < n:
                newc[owner[x]] += 1
                placed += 1
                if placed == n:
                    break


@njit(nogil=True, cache=True)
def _replace_chunk(rng, n, g0, g1, colmap, p0, P, P1, sup, nsup, cnt, tokens, want, out,
                   tokout, ct, lt):
    r"""Replace at temperature 1 on integer counts ``cnt[t]`` of the tokens ``sup[t]``.

    Wright--Fisher: each of the ``n`` new samples copies a uniformly chosen old sample,
    so the new counts are Multinomial(n, cnt/n). Drawn either by choosing parents
    (exact uniform integers cut from the bits of uniform doubles) or by conditional binomials
    :math:`\mathrm{Bin}(n - \sum_{s<t} X_s,\ c_t/(n - \sum_{s<t} c_s))` over the survivors.
    """
    V = p0.size
    # parents are drawn only while more than PARENT_FRACTION * n tokens survive, so
    # only when n < V / PARENT_FRACTION: never an array of n for a small vocabulary
    owner = np.empty(n if V > PARENT_FRACTION * n else 0, dtype=np.int64)
    newc = np.zeros(V, dtype=np.int64)
    for m in range(g0 + 1, g1 + 1):
        col = m - g0 - 1
        ns = nsup[0]
        if ns == 1 and m > 1:  # collapsed: absorbing
            _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, colmap, col, n)
            break
        if m == 1:
            for t in range(ns):
                newc[t] = 0
            c = np.zeros(V)
            _mult_add(rng, n, p0, sup, ns, c)
            for t in range(ns):
                newc[t] = np.int64(c[sup[t]])
        elif ns > PARENT_FRACTION * n:
            pos = 0
            for t in range(ns):
                for _ in range(cnt[t]):
                    owner[pos] = t
                    pos += 1
                newc[t] = 0
            _parents(rng, n, owner, newc)
        else:
            rem_n = n
            rem_c = n
            for t in range(ns):
                ct_ = cnt[t]
                if rem_n == 0:
                    newc[t] = 0
                    continue
                if t == ns - 1 or ct_ >= rem_c:
                    x = rem_n
                else:
                    x = binomial(rng, rem_n, ct_ / rem_c)
                newc[t] = x
                rem_n -= x
                rem_c -= ct_
        k = 0
        for t in range(ns):
            i = sup[t]
            if newc[t] > 0:
                sup[k] = i
                cnt[k] = newc[t]
                P[i] = newc[t] / n
                k += 1
            else:
                P[i] = 0.0
        nsup[0] = k
        if colmap[col] >= 0:
            out[RAW, colmap[col]] = n
        _record(m, colmap[col], P, P1, sup, k, p0, want, out, tokens, tokout, ct, lt)


@njit(nogil=True, cache=True)
def _categorical_chunk(rng, plan, T, top_k, top_p, cur, cvec, claw, g0, g1, colmap, p0, P,
                       P1, hist, realc, pool, sup, nsup, tokens, want, out, tokout, ct, lt):
    """Advance one replicate through generations ``g0+1 .. g1`` of the plan
    ``plan = (sources, n, window, real, real_fresh, synthetic_from, pool)`` (codes of
    :data:`SOURCES` and :data:`POOLS`).

    ``P``: current fit, support ``sup[:nsup[0]]``; ``P1``: first fit; ``hist``: sampling
    distributions of the latest models, newest first (``"last"``: one; ``"window"``:
    ``window``; ``"uniform"``: ``hist[0]`` is their running sum, or, with a curation,
    ``hist[j]`` is model ``j``'s), model 0's being ``p0`` itself; ``realc``: the real
    block's counts; ``pool``: the pooled counts.
    ``cur = (kind, K)`` and ``cvec`` the curation of the samples of fitted models
    (:func:`~.samplers.curation_codes`; ``claw`` scratch); samples of ``p0`` are plain.
    """
    src, n, window, real = plan[0], plan[1], plan[2], plan[3]
    real_fresh, syn_from, pooling = plan[4], plan[5], plan[6]
    absorbing = src == LAST and real == 0 and pooling == NONE
    want_raw = want[RAW]
    # a collapsed chain's verifier still draws a random number of raw samples
    stays = not (want_raw and cur[0] == CUR_VERIFIER)
    per_kept = float(cur[1]) if cur[0] == CUR_BEST_OF else 1.0  # best of K: K each
    V = p0.size
    c = np.zeros(V)
    idx = np.empty(V, dtype=np.int64)
    for m in range(g0 + 1, g1 + 1):
        col = m - g0 - 1
        ns = nsup[0]
        if absorbing:
            if ns == 1 and m > 1 and cur[0] == CUR_VERIFIER and cvec[sup[0]] <= 0.0:
                raise ValueError("the verifier keeps none of the tokens the model emits "
                                 "(acceptance is zero on its whole support): nothing can "
                                 "be kept")
            if ns == 1 and m > 1 and stays:  # collapsed: absorbing
                _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, colmap, col,
                               n * per_kept)
                break
            for t in range(ns):
                c[sup[t]] = 0.0
        else:
            c[:] = 0.0
        total = 0
        drawn = 0.0  # raw samples drawn for generation m
        if m >= syn_from:  # the synthetic blocks
            if src == LAST:
                if m > 1:
                    drawn += _curated_add(rng, n, hist[0], sup, ns, cur[0], cur[1], cvec,
                                          claw, c, want_raw)
                else:
                    kq = _support(p0, idx)
                    _mult_add(rng, n, p0, idx, kq, c)
                    drawn += n
                total = n
            elif src == WINDOW:
                k = min(window, m)
                each = n // k
                for j in range(k):
                    kj = _support(hist[j], idx)
                    if m - 1 - j > 0:  # a fitted model (hist is newest first)
                        drawn += _curated_add(rng, each, hist[j], idx, kj, cur[0], cur[1],
                                              cvec, claw, c, want_raw)
                    else:
                        _mult_add(rng, each, hist[j], idx, kj, c)
                        drawn += each
                total = each * k
            elif cur[0] == CUR_NONE:  # each from a uniformly chosen model: their mean law
                q = hist[0] / m
                kq = _support(q, idx)
                _mult_add(rng, n, q, idx, kq, c)
                total = n
                drawn += n
            else:  # curated: n allotted uniformly to models 0..m-1 (hist[j]: model j)
                uni = np.full(m, 1.0 / m)
                alloc = np.zeros(m)
                _mult_add(rng, n, uni, np.arange(m), m, alloc)
                for j in range(m):
                    kj = _support(hist[j], idx)
                    if j == 0:  # real samples: never curated
                        _mult_add(rng, np.int64(alloc[0]), hist[0], idx, kj, c)
                        drawn += alloc[0]
                    else:  # every source is checked, as the other backends do
                        drawn += _curated_add(rng, np.int64(alloc[j]), hist[j], idx, kj,
                                              cur[0], cur[1], cvec, claw, c, want_raw)
                total = n
        if real > 0:
            if m == 1 or real_fresh:
                realc[:] = 0.0
                k0 = _support(p0, idx)
                _mult_add(rng, real, p0, idx, k0, realc)
                drawn += real
            for i in range(V):
                c[i] += realc[i]
            total += real
        if pooling != NONE:
            for i in range(V):
                pool[i] += c[i]
            if pooling == ACCUMULATE or m == 1:
                _copy(c, pool)
                total = real + (m - syn_from + 1) * n
            else:
                size = (m - syn_from + 1) * n
                _subsample_counts(rng, pool.astype(np.int64), size, n, c)
                total = n
        if absorbing:
            k = 0
            for t in range(ns):
                i = sup[t]
                P[i] = c[i] / total
                if c[i] > 0:
                    sup[k] = i
                    k += 1
            nsup[0] = k
        else:
            for i in range(V):
                P[i] = c[i] / total
            nsup[0] = _support(P, sup)
        ns = nsup[0]
        if src == LAST:
            _policy(P, sup, ns, T, top_k, top_p, hist[0])
        elif src == WINDOW:
            for j in range(min(window, m + 1) - 1, 0, -1):  # shift, newest first
                _copy(hist[j], hist[j - 1])
            hist[0, :] = 0.0
            _policy(P, sup, ns, T, top_k, top_p, hist[0])
        elif cur[0] != CUR_NONE:  # curated uniform: every model kept, slot m
            hist[m, :] = 0.0
            _policy(P, sup, ns, T, top_k, top_p, hist[m])
        else:
            c[:] = 0.0
            _policy(P, sup, ns, T, top_k, top_p, c)
            for i in range(V):
                hist[0, i] += c[i]
        if colmap[col] >= 0:
            out[RAW, colmap[col]] = drawn
        _record(m, colmap[col], P, P1, sup, ns, p0, want, out, tokens, tokout, ct, lt)


@njit(nogil=True, cache=True)
def _categorical_many(rngs, idx, fast, plan, T, top_k, top_p, cur, cvec, claw, g0, g1,
                      colmap, p0, P, P1, hist, realc, pool, sup, nsup, cnt, tokens, want,
                      out, tokout, ct, lt):
    """The chunk of every replicate in ``idx`` (one thread's block); ``colmap[j]`` is the
    output column of generation ``g0 + 1 + j`` (``-1``: not recorded)."""
    for r in idx:
        if fast:
            _replace_chunk(rngs[r], plan[1], g0, g1, colmap, p0, P[r], P1[r], sup[r],
                           nsup[r], cnt[r], tokens, want, out[r], tokout[r], ct[r:r + 1],
                           lt[r])
        else:
            _categorical_chunk(rngs[r], plan, T, top_k, top_p, cur, cvec, claw[r], g0, g1,
                               colmap, p0, P[r], P1[r], hist[r], realc[r], pool[r], sup[r],
                               nsup[r], tokens, want, out[r], tokout[r], ct[r:r + 1], lt[r])


class CategoricalKernel(Threaded):
    """Any regime and sampling policy: the generic plan loop (:func:`_categorical_chunk`)."""

    fast = False

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        plan = problem.plan
        R = self.R
        self.p0 = np.ascontiguousarray(self.model.p, dtype=np.float64)
        V = self.p0.size
        self.P = np.tile(self.p0, (R, 1))
        self.P1 = np.zeros((R, V))
        self.hist = np.zeros((R, plan.window if plan.sources == "window" else 1, V))
        #: curated RandomlySampled keeps every model (slot j: model j), grown per chunk
        self.every_model = plan.sources == "uniform" and \
            curation_codes(problem.curation, V)[0] != CUR_NONE
        self.hist[:, 0] = self.p0  # model 0 is sampled as it is
        self.realc = np.zeros((R, V) if plan.real else (R, 1))
        self.pool = np.zeros((R, V) if plan.pool != "none" else (R, 1))
        sup0 = np.flatnonzero(self.p0)
        self.sup = np.zeros((R, V), dtype=np.int64)
        self.sup[:, :sup0.size] = sup0
        self.nsup = np.full((R, 1), sup0.size, dtype=np.int64)
        self.fast_replace = self.fast
        self.cnt = np.zeros((R, V) if self.fast_replace else (R, 1), dtype=np.int64)
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.collapse_time = np.full(R, 0 if sup0.size == 1 else -1, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((R, 1), dtype=np.int64)
        self.want = np.array([s in self.names for s in CAT_STATS], dtype=np.bool_)
        self.want[3] |= self.want[4]
        self.want[5] |= self.want[6]

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        V = problem.model.size
        return int(max(1, min(target, 2_000_000 // max(V, 1), 1000)))

    @classmethod
    def scratch_bytes(cls, problem, replicates):
        """Per thread: the parents' owner array (``n`` int64, only while ``n <
        V / PARENT_FRACTION``) and a subsample's Floyd set of ``n`` items."""
        plan, V = problem.plan, problem.model.size
        per = 0.0
        if cls.fast and V > PARENT_FRACTION * plan.n:
            per += 8.0 * plan.n
        if plan.pool == "subsample":
            per += SUBSAMPLE_BYTES * plan.n
        return per * cls.threads_for(replicates)

    def initial(self):
        out = np.empty((len(CAT_STATS), 1))
        idx = np.flatnonzero(self.p0)
        _stats(self.p0, idx, idx.size, self.p0, self.p0, False, self.want, out, 0)
        out[RAW, 0] = np.nan  # nothing is drawn for generation 0
        row = dict(zip(CAT_STATS, out[:, 0], strict=False))
        res = {k: np.full((self.R, 1), row[k]) for k in self.names if k != "token_prob"}
        if "token_prob" in self.names:
            res["token_prob"] = np.tile(self.p0[self.tokens], (self.R, 1, 1))
        return {k: res[k] for k in self.names}

    def advance(self, g0, g1, keep=None):
        R, G = self.R, g1 - g0
        keep = np.arange(g0 + 1, g1 + 1) if keep is None else np.asarray(keep)
        colmap = np.full(G, -1, dtype=np.int64)
        colmap[keep - g0 - 1] = np.arange(keep.size)
        out = np.empty((R, len(CAT_STATS), keep.size))
        tokout = np.empty((R, keep.size, self.tokens.size))
        pol = self.problem.sampling
        T = float(pol.temperature)
        top_k = 0 if pol.top_k is None else int(pol.top_k)
        top_p = 1.0 if pol.top_p is None else float(pol.top_p)
        kind, K, cvec = curation_codes(self.problem.curation, self.p0.size)
        if self.every_model:
            self.hist = self._grow(self.hist, self.history_size(g1))
        cur = np.array([kind, K], dtype=np.int64)
        claw = np.zeros((self.R, self.p0.size if kind else 1))

        def block(idx):
            _categorical_many(self.rng_list, idx, self.fast_replace, self.codes, T,
                              top_k, top_p, cur, cvec, claw, g0, g1, colmap, self.p0,
                              self.P, self.P1, self.hist, self.realc, self.pool, self.sup,
                              self.nsup, self.cnt,
                              self.tokens, self.want, out, tokout, self.collapse_time,
                              self.loss_time)

        self._parallel(block)
        res = {name: out[:, i] for i, name in enumerate(CAT_STATS) if name in self.names}
        if "token_prob" in self.names:
            res["token_prob"] = tokout
        return {k: res[k] for k in self.names}


class ReplaceCountsKernel(CategoricalKernel):
    """Registered fast path of plain ``Replace``: :func:`_replace_chunk` on integer
    counts (tested equal in law to the generic loop)."""

    fast = True
