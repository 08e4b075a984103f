"""Numba backend: compiled per-replicate kernels run in parallel threads.

Each replicate owns a ``numpy.random.Generator`` seeded from its own child of
``SeedSequence(seed)`` and is advanced, a chunk of generations at a time, by one call of
a ``nogil`` compiled function; a thread pool runs the replicates concurrently. A result
therefore does not depend on the number of threads.

Categorical generations are multinomial draws by conditional binomials
(:math:`X_i \\sim \\mathrm{Bin}(n - \\sum_{j<i} X_j,\\ q_i/(1-\\sum_{j<i} q_j))`) over the
tokens still alive only, stopping as soon as the ``n`` samples are placed: under
``Replace`` the cost of a generation is one binomial draw per surviving token at most,
the physical limit of a count-based simulator.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)
from ._numba_continuous import KERNELS as _CONTINUOUS
from ._numba_continuous import _Threaded

#: Order of the categorical statistics in the kernel's output rows.
CAT_STATS = ("support_size", "homozygosity", "entropy", "l1_real", "kl_real", "l1_first",
             "kl_first")
REPLACE, MIX_FIXED, MIX_FRESH, ACCUMULATE, SUBSAMPLE, MOST_RECENT, RANDOMLY = range(7)


# ---------------------------------------------------------------------- compiled parts
@njit(nogil=True, cache=True)
def _binomial_inversion(rng, n, p):
    r"""Bin(n, p) by sequential inversion (small means): the pmf recurrence
    :math:`f(x+1) = f(x)\,(n-x)p/((x+1)(1-p))` from :math:`f(0) = (1-p)^n`."""
    q = 1.0 - p
    f0 = math.exp(n * math.log1p(-p))
    r = p / q
    g = r * (n + 1)
    mean = n * p
    bound = min(n, int(mean + 10.0 * math.sqrt(mean * q + 1.0)))
    while True:
        x = 0
        f = f0
        u = rng.random()
        while u > f:
            x += 1
            if x > bound:
                break
            u -= f
            f = (g / x - r) * f
        if x <= bound:
            return x


@njit(nogil=True, cache=True)
def _binomial_btrs(rng, n, p):
    """Bin(n, p), ``n p >= 10``, ``p <= 1/2``: transformed rejection with squeeze (BTRS,
    Hörmann 1993). The log-factorials of the exact acceptance test are only computed
    when the squeeze fails."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    vr = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    m = math.floor((n + 1) * p)
    h = -1.0
    lpq = 0.0
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        if us >= 0.07 and v <= vr:
            return int(k)
        if h < 0.0:
            lpq = math.log(p / q)
            h = math.lgamma(m + 1.0) + math.lgamma(n - m + 1.0)
        v = math.log(v * alpha / (a / (us * us) + b))
        if v <= h - math.lgamma(k + 1.0) - math.lgamma(n - k + 1.0) + (k - m) * lpq:
            return int(k)


@njit(nogil=True, cache=True)
def binomial(rng, n, p):
    """An exact Bin(n, p) draw from ``rng`` (``numpy.random.Generator``): inversion for
    means below 10, BTRS above; ``p > 1/2`` by symmetry. Written here because the
    parameters change at every call of a conditional-binomial multinomial, where this is
    1.3-2.5x faster than ``Generator.binomial`` (its set-up is redone at each call)."""
    if n <= 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1.0 - p)
    if n * p < 10.0:
        return _binomial_inversion(rng, n, p)
    return _binomial_btrs(rng, n, p)


@njit(nogil=True, cache=True)
def _mult_add(rng, n, q, idx, nidx, out):
    """``out[idx] += Multinomial(n, q[idx])`` by conditional binomials over ``idx``
    (``q[idx]`` sums to 1); stops once the ``n`` samples are placed."""
    rem_n = n
    rem_p = 1.0
    for t in range(nidx):
        if rem_n == 0:
            break
        i = idx[t]
        pi = q[i]
        if pi <= 0.0:
            continue
        if t == nidx - 1 or pi >= rem_p:
            x = rem_n
        else:
            x = binomial(rng, rem_n, pi / rem_p)
        out[i] += x
        rem_n -= x
        rem_p -= pi
    if rem_n > 0:  # rounding left mass for the last tokens: give it to the last one alive
        for t in range(nidx - 1, -1, -1):
            if q[idx[t]] > 0.0:
                out[idx[t]] += rem_n
                break


@njit(nogil=True, cache=True)
def _support(v, idx):
    """Indices of the positive entries of ``v`` into ``idx``; returns their number."""
    k = 0
    for i in range(v.size):
        if v[i] > 0.0:
            idx[k] = i
            k += 1
    return k


@njit(nogil=True, cache=True)
def _temper(P, idx, nidx, T, out):
    """``out[idx] = P^(1/T)/sum`` over ``idx`` (other entries untouched)."""
    if T == 1.0:
        for t in range(nidx):
            out[idx[t]] = P[idx[t]]
        return
    mx = -np.inf
    for t in range(nidx):
        v = math.log(P[idx[t]]) / T
        if v > mx:
            mx = v
    s = 0.0
    for t in range(nidx):
        w = math.exp(math.log(P[idx[t]]) / T - mx)
        out[idx[t]] = w
        s += w
    for t in range(nidx):
        out[idx[t]] /= s


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
def _subsample(rng, pool, total, n, out):
    """``out`` = counts of ``n`` items drawn without replacement from the multiset with
    counts ``pool`` (``total`` items): Floyd's algorithm on item indices, then a merge
    walk through the cumulative counts."""
    chosen = set()
    for j in range(total - n, total):
        t = rng.integers(0, j + 1)
        if t in chosen:
            chosen.add(j)
        else:
            chosen.add(t)
    picks = np.empty(n, dtype=np.int64)
    k = 0
    for t in chosen:
        picks[k] = t
        k += 1
    picks.sort()
    out[:] = 0.0
    cum = 0
    tok = 0
    for k in range(n):
        while picks[k] >= cum + pool[tok]:
            cum += pool[tok]
            tok += 1
        out[tok] += 1.0


@njit(nogil=True, cache=True)
def _record(m, col, P, P1, sup, ns, p0, want, out, tokens, tokout, ct, lt):
    """Statistics, collapse and token-loss times of generation ``m`` (column ``col``;
    ``out`` has one column when no statistic is recorded)."""
    if m == 1:
        P1[:] = P
    _stats(P, sup, ns, p0, P1, True, want, out, col if out.shape[1] > 1 else 0)
    if ct[0] < 0 and ns == 1:
        ct[0] = m
    for j in range(tokens.size):
        x = P[tokens[j]]
        tokout[col, j] = x
        if lt[j] < 0 and x == 0.0:
            lt[j] = m


@njit(nogil=True, cache=True)
def _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, col):
    """A collapsed Replace chain is absorbed: its statistics from column ``col`` to the
    end of the chunk repeat the last ones."""
    G = tokout.shape[0]
    if out.shape[1] > 1:
        if col == 0:
            _stats(P, sup, 1, p0, P1, True, want, out, 0)
        for cc in range(max(col, 1), G):
            for s in range(out.shape[0]):
                out[s, cc] = out[s, cc - 1]
    for cc in range(col, G):
        for j in range(tokens.size):
            tokout[cc, j] = P[tokens[j]]


#: Under Replace at temperature 1, a generation with more than ``PARENT_FRACTION * n``
#: surviving tokens draws each new sample's parent uniformly among the ``n`` old samples
#: (``n`` uniforms, cheaper than one binomial per token); fewer use conditional binomials.
PARENT_FRACTION = 0.05


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
def _replace_chunk(rng, n, g0, g1, p0, P, P1, sup, nsup, cnt, tokens, want, out, tokout,
                   ct, lt):
    r"""Replace at temperature 1 on integer counts ``cnt[t]`` of the tokens ``sup[t]``.

    Wright--Fisher: each of the ``n`` new samples copies a uniformly chosen old sample,
    so the new counts are Multinomial(n, cnt/n). Drawn either by choosing parents
    (exact uniform integers cut from the bits of uniform doubles) or by conditional binomials
    :math:`\mathrm{Bin}(n - \sum_{s<t} X_s,\ c_t/(n - \sum_{s<t} c_s))` over the survivors.
    """
    V = p0.size
    owner = np.empty(n, dtype=np.int64)
    newc = np.zeros(V, dtype=np.int64)
    for m in range(g0 + 1, g1 + 1):
        col = m - g0 - 1
        ns = nsup[0]
        if ns == 1 and m > 1:  # collapsed: absorbing
            _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, col)
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
        _record(m, col, P, P1, sup, k, p0, want, out, tokens, tokout, ct, lt)


@njit(nogil=True, cache=True)
def _categorical_chunk(rng, code, n, N, window, T, g0, g1, p0, P, P1, aux, ring, sup,
                       nsup, tokens, want, out, tokout, ct, lt):
    """Advance one replicate through generations ``g0+1 .. g1``.

    ``P``: current fit; ``P1``: first fit; ``aux``: Mix real counts / accumulated pool
    counts / RandomlySampled running sum of sampling distributions; ``ring``: latest
    sampling distributions (MostRecent); ``sup[:nsup[0]]``: support of ``P``.
    """
    V = p0.size
    c = np.zeros(V)
    q = np.zeros(V)
    idx = np.empty(V, dtype=np.int64)
    for m in range(g0 + 1, g1 + 1):
        col = m - g0 - 1
        ns = nsup[0]
        if code == REPLACE:
            if ns == 1 and m > 1:  # collapsed: absorbing
                _fill_absorbed(P, sup, p0, P1, want, out, tokens, tokout, col)
                break
            for t in range(ns):
                c[sup[t]] = 0.0
            if m == 1:
                _mult_add(rng, n, p0, sup, ns, c)
            else:
                _temper(P, sup, ns, T, q)
                _mult_add(rng, n, q, sup, ns, c)
            k = 0
            for t in range(ns):
                i = sup[t]
                P[i] = c[i] / n
                if c[i] > 0:
                    sup[k] = i
                    k += 1
            nsup[0] = k
        else:
            c[:] = 0.0
            if code == MIX_FIXED or code == MIX_FRESH:
                if m == 1 or code == MIX_FRESH:
                    aux[:] = 0.0
                    k0 = _support(p0, idx)
                    _mult_add(rng, N, p0, idx, k0, aux)
                c[:] = aux
                total = N
                if m > 1:
                    _temper(P, sup, ns, T, q)
                    _mult_add(rng, n, q, sup, ns, c)
                    total = N + n
            elif code == ACCUMULATE or code == SUBSAMPLE:
                if m == 1:
                    k0 = _support(p0, idx)
                    _mult_add(rng, n, p0, idx, k0, aux)
                else:
                    _temper(P, sup, ns, T, q)
                    _mult_add(rng, n, q, sup, ns, aux)
                if code == ACCUMULATE or m == 1:
                    c[:] = aux
                    total = m * n
                else:
                    _subsample(rng, aux.astype(np.int64), m * n, n, c)
                    total = n
            elif code == MOST_RECENT:
                k = min(window, m)
                each = n // k
                for j in range(k):
                    kj = _support(ring[j], idx)
                    _mult_add(rng, each, ring[j], idx, kj, c)
                total = each * k
            else:  # RANDOMLY
                for i in range(V):
                    q[i] = aux[i] / m
                kq = _support(q, idx)
                _mult_add(rng, n, q, idx, kq, c)
                total = n
            for i in range(V):
                P[i] = c[i] / total
            nsup[0] = _support(P, sup)
            ns = nsup[0]
            if code == MOST_RECENT or code == RANDOMLY:
                q[:] = 0.0
                _temper(P, sup, ns, T, q)
                if code == MOST_RECENT:
                    for j in range(min(window, m + 1) - 1, 0, -1):  # shift, newest first
                        ring[j, :] = ring[j - 1]
                    ring[0, :] = q
                else:
                    for i in range(V):
                        aux[i] += q[i]
        _record(m, col, P, P1, sup, nsup[0], p0, want, out, tokens, tokout, ct, lt)


@njit(nogil=True, cache=True)
def _categorical_many(rngs, idx, fast, code, n, N, window, T, g0, g1, p0, P, P1, aux, ring,
                      sup, nsup, cnt, tokens, want, out, tokout, ct, lt):
    """The chunk of every replicate in ``idx`` (one thread's block)."""
    for r in idx:
        if fast:
            _replace_chunk(rngs[r], n, g0, g1, p0, P[r], P1[r], sup[r], nsup[r], cnt[r],
                           tokens, want, out[r], tokout[r], ct[r:r + 1], lt[r])
        else:
            _categorical_chunk(rngs[r], code, n, N, window, T, g0, g1, p0, P[r], P1[r],
                               aux[r], ring[r], sup[r], nsup[r], tokens, want, out[r],
                               tokout[r], ct[r:r + 1], lt[r])


# ---------------------------------------------------------------------- kernel
_CODES = {Replace: REPLACE, Accumulate: ACCUMULATE, AccumulateSubsample: SUBSAMPLE,
          MostRecent: MOST_RECENT, RandomlySampled: RANDOMLY}


class CategoricalKernel(_Threaded):
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        r = self.regime
        R = self.R
        self.p0 = np.ascontiguousarray(self.model.p, dtype=np.float64)
        V = self.p0.size
        # the categorical kernel has its own regime codes (Mix split by freshness)
        self.code = (MIX_FRESH if r.fresh else MIX_FIXED) if isinstance(r, Mix) else \
            _CODES[type(r)]
        self.P = np.tile(self.p0, (R, 1))
        self.P1 = np.zeros((R, V))
        self.aux = np.zeros((R, V))
        if self.code == RANDOMLY:
            self.aux[:] = self.p0
        self.ring = np.zeros((R, self.window, V)) if self.code == MOST_RECENT else \
            np.zeros((R, 1, 1))
        if self.code == MOST_RECENT:
            self.ring[:, 0] = self.p0
        sup0 = np.flatnonzero(self.p0)
        self.sup = np.zeros((R, V), dtype=np.int64)
        self.sup[:, :sup0.size] = sup0
        self.nsup = np.full((R, 1), sup0.size, dtype=np.int64)
        self.fast_replace = self.code == REPLACE and problem.temperature == 1.0
        self.cnt = np.zeros((R, V) if self.fast_replace else (R, 1), dtype=np.int64)
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.collapse_time = np.full(R, 0 if sup0.size == 1 else -1, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((R, 1), dtype=np.int64)
        self.want = np.array([s in self.names for s in CAT_STATS], dtype=np.bool_)
        self.want[3] |= self.want[4]
        self.want[5] |= self.want[6]

    def default_chunk(self, target):
        V = self.p0.size
        return int(max(1, min(target, 2_000_000 // max(V, 1), 1000)))

    def initial(self):
        out = np.empty((len(CAT_STATS), 1))
        idx = np.flatnonzero(self.p0)
        _stats(self.p0, idx, idx.size, self.p0, self.p0, False, self.want, out, 0)
        row = dict(zip(CAT_STATS, out[:, 0], strict=False))
        res = {k: np.full((self.R, 1), row[k]) for k in self.names if k != "token_prob"}
        if "token_prob" in self.names:
            res["token_prob"] = np.tile(self.p0[self.tokens], (self.R, 1, 1))
        return {k: res[k] for k in self.names}

    def advance(self, g0, g1):
        R, G = self.R, g1 - g0
        record = any(k != "token_prob" for k in self.names)
        out = np.empty((R, len(CAT_STATS), G if record else 1))  # 1: nothing recorded
        tokout = np.empty((R, G, self.tokens.size))
        T = float(self.problem.temperature)

        def block(idx):
            _categorical_many(self.rng_list, idx, self.fast_replace, self.code, self.n,
                              self.N, self.window, T, g0, g1, self.p0, self.P, self.P1,
                              self.aux, self.ring, self.sup, self.nsup, self.cnt,
                              self.tokens, self.want, out, tokout, self.collapse_time,
                              self.loss_time)

        self._parallel(block)
        res = {name: out[:, i] for i, name in enumerate(CAT_STATS) if name in self.names}
        if "token_prob" in self.names:
            res["token_prob"] = tokout
        return {k: res[k] for k in self.names}


KERNELS = {"categorical": CategoricalKernel, **_CONTINUOUS}
