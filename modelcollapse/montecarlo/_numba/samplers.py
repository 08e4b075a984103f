"""Compiled samplers shared by the Numba kernels: exact binomials and multinomials on
counts, sampling policies, subsamples, Bartlett-factored Wisharts, Gaussian groups."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ...sampling import TOP_P_SLACK


@njit(nogil=True, cache=True)
def _copy(dst, src):
    """``dst[...] = src`` element by element, for arrays of one shape. A slice assignment
    between arrays compiles Numba's shape-mismatch error path (string formatting), seconds
    of compile time in every kernel that uses it."""
    for i in range(src.size):
        dst.flat[i] = src.flat[i]


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


#: curation codes of :func:`_curated_add`
CUR_NONE, CUR_BEST_OF, CUR_VERIFIER, CUR_TILT = 0, 1, 2, 3


def curation_codes(curation, V):
    """``(kind, K, vector)`` of a :class:`~modelcollapse.curation.Curation` (or ``None``)
    for :func:`_curated_add`."""
    from ...curation import BestOfK

    if curation is None or (isinstance(curation, BestOfK) and curation.k == 1):
        return CUR_NONE, 1, np.ones(V)
    if isinstance(curation, BestOfK):
        return (CUR_TILT if curation.limit else CUR_BEST_OF, 0 if curation.limit else
                curation.k, np.ascontiguousarray(curation.weights))
    return CUR_VERIFIER, 0, np.ascontiguousarray(curation.vector, dtype=np.float64)


@njit(nogil=True, cache=True)
def _curated_add(rng, n, q, idx, nidx, kind, K, vec, law, out, raw=False):
    """``out[idx] +=`` the counts of ``n`` kept samples of a model that emits from ``q``
    (support ``idx``) under the curation ``(kind, K, vec)`` (:func:`curation_codes`);
    returns the raw samples drawn for them: ``n K`` for best of ``K``, ``n`` for best of
    infinity or none, and for the verifier (only if ``raw``, else ``n``: an extra draw)
    ``n + NB(n, E_q a)``, the failures of ``n`` Bernoulli(``E_q a``) successes,
    independent of the kept tokens.

    Best of ``K``: per kept sample, ``K`` candidates by inversion on the cumulative of
    ``q`` (in ``law``), one chosen by the Luce rule with weights ``vec`` (a running
    choice: candidate ``c`` replaces the current one with probability
    ``w_c / (w_1 + ... + w_c)``), the selection itself. Verifier and best of infinity:
    the kept samples are independent draws from ``q vec / sum(q vec)`` (the law of the
    samples a rejection loop keeps; a ``ValueError`` if the verifier keeps nothing)."""
    if kind == CUR_NONE:
        _mult_add(rng, n, q, idx, nidx, out)
        return float(n)
    if kind != CUR_BEST_OF:
        tot = 0.0
        for t in range(nidx):
            i = idx[t]
            law[i] = q[i] * vec[i]
            tot += law[i]
        if tot <= 0.0:
            raise ValueError("the verifier keeps none of the tokens the model emits "
                             "(acceptance is zero on its whole support): nothing can be kept")
        for t in range(nidx):
            law[idx[t]] /= tot
        _mult_add(rng, n, law, idx, nidx, out)
        if raw and kind == CUR_VERIFIER and n > 0 and tot < 1.0:
            return float(n + rng.negative_binomial(n, tot))
        return float(n)
    acc = 0.0
    for t in range(nidx):
        acc += q[idx[t]]
        law[t] = acc
    for _ in range(n):
        s = 0.0
        chosen = idx[0]
        for c in range(K):
            u = rng.random() * acc
            lo, hi = 0, nidx - 1
            while lo < hi:
                mid = (lo + hi) // 2
                if law[mid] > u:
                    hi = mid
                else:
                    lo = mid + 1
            i = idx[lo]
            w = vec[i]
            s += w
            if c == 0 or rng.random() * s < w:
                chosen = i
        out[chosen] += 1.0
    return float(n * K)


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
def _policy(P, idx, nidx, T, top_k, top_p, out):
    """``out[idx]`` = the sampling distribution of ``P`` (support ``idx``): tempered at
    ``T``, then the ``top_k`` (``<= 0``: off) most likely tokens, then the smallest set
    of most likely tokens of mass ``>= top_p`` (``>= 1``: off), each renormalised;
    ties go to the lower token index (``idx`` is increasing)."""
    _temper(P, idx, nidx, T, out)
    if top_k <= 0 and top_p >= 1.0:
        return
    vals = np.empty(nidx)
    for t in range(nidx):
        vals[t] = -out[idx[t]]
    order = np.argsort(vals, kind="mergesort")  # stable: ties keep index order
    keep = nidx if top_k <= 0 else min(top_k, nidx)
    s = 0.0
    for r in range(keep):
        s += out[idx[order[r]]]
    if top_p < 1.0:
        before = 0.0
        cut = keep
        for r in range(keep):
            if before >= top_p * (1.0 - TOP_P_SLACK) * s:
                cut = r
                break
            before += out[idx[order[r]]]
        keep = cut
        s = before
    for r in range(nidx):
        i = idx[order[r]]
        out[i] = out[i] / s if r < keep else 0.0


@njit(nogil=True, cache=True)
def _subsample_counts(rng, pool, total, n, out):
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
def _chol(S, L):
    """Lower Cholesky factor of a positive semi-definite ``S`` into ``L``; a column
    whose pivot vanishes (relative to the diagonal) is set to zero."""
    d = S.shape[0]
    for j in range(d):
        s = S[j, j]
        for k in range(j):
            s -= L[j, k] * L[j, k]
        for i in range(j):
            L[i, j] = 0.0
        if s > 1e-14 * abs(S[j, j]) and s > 0.0:
            r = math.sqrt(s)
            L[j, j] = r
            for i in range(j + 1, d):
                t = S[i, j]
                for k in range(j):
                    t -= L[i, k] * L[j, k]
                L[i, j] = t / r
        else:
            L[j, j] = 0.0
            for i in range(j + 1, d):
                L[i, j] = 0.0


@njit(nogil=True, cache=True)
def _chol_batch(S, L):
    for r in range(S.shape[0]):
        _chol(S[r], L[r])


@njit(nogil=True, cache=True)
def _bartlett(rng, nu, B):
    """``B`` lower triangular with :math:`BB^\\top \\sim \\mathrm{Wishart}_d(\\nu, I)`;
    columns ``j >= nu`` are zero (the singular Wishart when ``nu < d``)."""
    d = B.shape[0]
    for i in range(d):
        for j in range(d):
            B[i, j] = 0.0
    for j in range(min(nu, d)):
        B[j, j] = math.sqrt(rng.chisquare(nu - j))
        for i in range(j + 1, d):
            B[i, j] = rng.standard_normal()


@njit(nogil=True, cache=True)
def _gauss_point(rng, mean, L, z, out):
    """``out = mean + L z`` with fresh standard normals ``z``."""
    d = mean.shape[0]
    for a in range(d):
        z[a] = rng.standard_normal()
    for a in range(d):
        t = mean[a]
        for b in range(a + 1):
            t += L[a, b] * z[b]
        out[a] = t


@njit(nogil=True, cache=True)
def _subsample(rng, perm, P, n):
    """Partial Fisher-Yates: ``perm[:n]`` becomes a uniform sample without replacement of
    the ``P`` entries of ``perm[:P]`` (which may be in any order)."""
    for i in range(n):
        j = rng.integers(i, P)
        t = perm[i]
        perm[i] = perm[j]
        perm[j] = t


@njit(nogil=True, cache=True)
def _allocate(rng, n, m, counts):
    """``counts[:m] ~ Mult(n, uniform over m)``."""
    for j in range(m):
        counts[j] = 0
    for _ in range(n):
        counts[rng.integers(0, m)] += 1


@njit(nogil=True, cache=True)
def _gauss_group(rng, mean, L, k, z, B, gm, gM2):
    """Mean ``gm`` and scatter ``gM2`` of ``k`` points of ``N(mean, L L^T)``."""
    d = mean.shape[0]
    sk = math.sqrt(k)
    if d == 1:
        l = L[0, 0]
        gm[0] = mean[0] + l * rng.standard_normal() / sk
        gM2[0, 0] = l * l * rng.chisquare(k - 1) if k > 1 else 0.0
        return
    for a in range(d):
        z[a] = rng.standard_normal()
    for a in range(d):
        t = 0.0
        for b in range(a + 1):
            t += L[a, b] * z[b]
        gm[a] = mean[a] + t / sk
    _bartlett(rng, k - 1, B)
    # gM2 = (L B)(L B)^T; reuse z-free work: compute LB into B in place (row by row from
    # the bottom, as row a of L B needs rows <= a of B)
    for a in range(d - 1, -1, -1):
        for c in range(d):
            t = 0.0
            for b in range(c, a + 1):
                t += L[a, b] * B[b, c]
            B[a, c] = t
    for a in range(d):
        for c in range(a + 1):
            t = 0.0
            for e in range(d):
                t += B[a, e] * B[c, e]
            gM2[a, c] = t
            gM2[c, a] = t


@njit(nogil=True, cache=True)
def _chan(k1, m1, M1, k2, m2, M2):
    """Pool ``(k2, m2, M2)`` into ``(k1, m1, M1)`` in place; returns ``k1 + k2``."""
    d = m1.shape[0]
    k = k1 + k2
    f = k1 * k2 / k
    for a in range(d):
        m2[a] -= m1[a]  # delta (m2 is scratch)
    for a in range(d):
        for b in range(d):
            M1[a, b] += M2[a, b] + m2[a] * m2[b] * f
    for a in range(d):
        m1[a] += m2[a] * k2 / k
    return k
