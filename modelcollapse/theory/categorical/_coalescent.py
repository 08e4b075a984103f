r"""Numba kernels of the coalescent dual of multinomial resampling.

Trace the ``n`` samples of a generation back in time: each picks a uniformly random
parent among the ``n`` samples of the previous generation, so the number ``A`` of
distinct ancestors is a decreasing Markov chain on ``{1..n}`` whose row ``a`` is the
occupancy law of ``a`` balls in ``n`` boxes,

.. math:: D_{a+1}(j) = D_a(j)\,\frac{j}{n} + D_a(j-1)\,\frac{n-j+1}{n}, \qquad D_1 = \delta_1 .

Row ``a`` is concentrated on a band of width :math:`O(\sqrt n)` (the number of
collisions has variance :math:`O(n)`), so rows are kept as windows ``[lo, hi]`` and
entries below ``CUT`` at the window edges are dropped (each drop loses less than
``CUT`` of probability mass). Building all rows costs :math:`O(n^{1.5})` time and
:math:`O(n)` memory: about 0.4 ns per entry (the row update is vectorised), under 2 s
for all rows at :math:`n = 10^6`.

These kernels are written by hand because no library computes banded occupancy
transition rows or the triangular Green's-function solve of this chain.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = [
    "Checkpoints",
    "build_row_cache",
    "coefficients",
    "collapse_functionals",
    "forward",
    "green",
    "log_eigenvalues",
    "occupancy_block",
    "spectral_tail",
]

#: Entries of an occupancy row below this value are dropped at the window's edges.
CUT = 1e-30

#: Floating-point freedoms of the inner loops: reassociation lets LLVM vectorise the
#: dot products (sums in a different order, exact to rounding); no assumption about
#: inf/nan.
FAST = {"reassoc", "contract", "nsz"}


def coefficients(n: int) -> np.ndarray:
    """``c[j] = j/n`` for ``j = 0..n+2``, each correctly rounded.

    The row update uses ``(n-j+1)/n = 1 - c[j-1]``, so the coefficients that a row's
    entry ``j`` sends to ``j`` and ``j+1`` sum to one exactly: rounding does not drift
    the total mass (a product ``j * (1/n)`` would bias every row by the rounding of
    ``1/n``: 5e-11 after a million rows).
    """
    return np.arange(n + 3, dtype=np.float64) / n


@njit(cache=True, nogil=True, fastmath=FAST)
def _shift(src, c, dst, w):
    """``dst[k] = src[k] c[k] + src[k-1] (1 - c[k-1])`` for ``k = 1..w-1`` (a kernel of
    its own so that LLVM sees non-aliasing slices and vectorises it; one coefficient
    stream, as the loop is bound by the bandwidth of the second-level cache)."""
    for k in range(1, w):
        dst[k] = src[k] * c[k] + (src[k - 1] - src[k - 1] * c[k - 1])


@njit(cache=True, nogil=True, fastmath=FAST)
def _axpy(w, x, y):
    """``y += w x`` on equal-length slices."""
    for k in range(x.shape[0]):
        y[k] += w * x[k]


@njit(cache=True, nogil=True, fastmath=FAST)
def _dot2(x, u, v):
    """``(x . u, x . v)`` on equal-length slices."""
    s = 0.0
    t = 0.0
    for k in range(x.shape[0]):
        s += x[k] * u[k]
        t += x[k] * v[k]
    return s, t


@njit(cache=True, nogil=True)
def _advance_row(src, dst, lo, hi, n, c):
    """Occupancy row of ``a`` balls on window ``src[lo..hi]`` -> row of ``a + 1`` balls in
    ``dst``; returns the new window. Only the window of a row is ever read: entries
    outside it are stale. ``c`` comes from :func:`coefficients`."""
    _shift(src[lo:hi + 1], c[lo:hi + 1], dst[lo:hi + 1], hi - lo + 1)
    dst[lo] = src[lo] * c[lo]
    dst[hi + 1] = src[hi] - src[hi] * c[hi]  # j = hi + 1 receives only from j - 1 = hi
    hi += 1
    if hi > n:
        hi = n
    while hi > lo and dst[hi] < CUT:
        hi -= 1
    while lo < hi and dst[lo] < CUT:
        lo += 1
    return lo, hi


@njit(cache=True, nogil=True)
def green(n, phi, c):
    r"""Solve :math:`g_1 = (I-Q)^{-1}\phi`, :math:`g_2 = (I-Q)^{-1} g_1` on states 2..n.

    ``phi`` has length ``n + 1`` (indexed by the number of lineages) and must vanish at
    ``a = 1`` (the absorbing state). Then :math:`g_1(a) = \sum_{k\ge0} E_a\phi(A_k)` and
    :math:`g_2(a) = \sum_{k\ge0}(k+1) E_a\phi(A_k)`. Because the chain only decreases,
    :math:`I - Q` is lower triangular and the solve is a forward substitution,
    one occupancy row at a time. ``c`` comes from :func:`coefficients`.
    """
    g1 = np.zeros(n + 1)
    g2 = np.zeros(n + 1)
    src = np.zeros(n + 3)
    dst = np.zeros(n + 3)
    src[1] = 1.0
    lo = 1
    hi = 1
    logdiag = 0.0  # log D_a(a) = sum_{k<a} log(1 - k/n)
    for a in range(2, n + 1):
        lo, hi = _advance_row(src, dst, lo, hi, n, c)
        src, dst = dst, src
        logdiag += np.log1p(-(a - 1) / n)
        denom = -np.expm1(logdiag)  # 1 - D_a(a), accurate when D_a(a) is near 1
        top = hi if hi < a else a - 1
        s1, s2 = _dot2(src[lo:top + 1], g1[lo:top + 1], g2[lo:top + 1])
        g1[a] = (phi[a] + s1) / denom
        g2[a] = (g1[a] + s2) / denom
    return g1, g2


@njit(cache=True, nogil=True)
def build_row_cache(n, budget, c):
    """Store occupancy rows 1..L in a ragged array of at most ``budget`` entries.

    Returns ``(data, offsets, los, his, L)``; row ``a`` is
    ``data[offsets[a] : offsets[a] + his[a] - los[a] + 1]`` over states ``los[a]..his[a]``.
    """
    los = np.zeros(n + 1, np.int64)
    his = np.zeros(n + 1, np.int64)
    offsets = np.zeros(n + 2, np.int64)
    data = np.empty(min(budget, 1 << 16))  # grown by doubling, up to ``budget``
    src = np.zeros(n + 3)
    dst = np.zeros(n + 3)
    src[1] = 1.0
    lo = 1
    hi = 1
    total = 0
    L = 0
    for a in range(1, n + 1):
        if a > 1:
            lo, hi = _advance_row(src, dst, lo, hi, n, c)
            src, dst = dst, src
        width = hi - lo + 1
        if total + width > budget:
            break
        if total + width > data.shape[0]:
            grown = np.empty(min(budget, max(2 * data.shape[0], total + width)))
            grown[:total] = data[:total]
            data = grown
        los[a] = lo
        his[a] = hi
        offsets[a] = total
        data[total:total + width] = src[lo:hi + 1]
        total += width
        L = a
    return data, offsets, los, his, L


@njit(cache=True, nogil=True)
def forward(n, pi, amax, phis, steps, tol, kspec, data, offsets, los, his, L, c, ck,
            work, out, snap_ks, snaps, k0):
    r"""Propagate the law ``pi`` of the number of lineages ``A_k`` forward in ``k``.

    Runs at most ``steps`` generations starting at generation ``k0`` (``pi`` is the law
    of ``A_{k0}``). For each generation ``k`` it writes
    :math:`E\,\phi_r(A_k)` into ``out[k - k0, r]`` *before* stepping, and copies ``pi`` into
    ``snaps[i]`` when ``k == snap_ks[i]``. Stops early, after recording, once
    :math:`P(A_k \ge 2) <` ``tol``, or once no state above ``kspec`` has mass (then the
    rest of the law is a finite sum of geometric terms, see ``spectral_tail``).

    Rows ``a <= L`` come from the cache. Rows above it are rebuilt each generation from
    the nearest checkpoint below the lowest state with mass: ``ck`` (a
    :class:`Checkpoints`) stores every ``ck.stride``-th row above ``L``, filled the first
    time a rebuild passes it, so that a generation costs the rows of its band rather
    than every row from ``L`` up. States above ``L`` with mass below ``CUT`` at the
    bottom of the band are dropped (like the top of the band, each loses less than
    ``CUT``). ``work`` is a ``(3, n + 3)`` scratch array.

    Returns ``(k_next, amax, done)``: the number of the first unrecorded generation, the
    largest state with mass, and whether the tolerance was reached.
    """
    nphi = phis.shape[0]
    new = work[0]
    src = work[1]
    dst = work[2]
    nsnap = snap_ks.shape[0]
    k = k0
    done = False
    for _ in range(steps):
        # record
        for r in range(nphi):
            acc = 0.0
            for a in range(1, amax + 1):
                acc += pi[a] * phis[r, a]
            out[k - k0, r] = acc
        for i in range(nsnap):
            if snap_ks[i] == k:
                for a in range(n + 1):
                    snaps[i, a] = pi[a]
        alive = 0.0
        for a in range(2, amax + 1):
            alive += pi[a]
        k += 1
        if alive < tol or amax <= kspec:
            done = True
            break
        # step: new = sum_a pi[a] D_a, state 1 absorbing
        new[1] = pi[1]
        for a in range(2, amax + 1):
            new[a] = 0.0
        cached_top = amax if amax < L else L
        for a in range(2, cached_top + 1):
            w = pi[a]
            if w > 0.0:
                lo = los[a]
                off = offsets[a]
                _axpy(w, data[off:off + his[a] - lo + 1], new[lo:his[a] + 1])
        if amax > L:
            first = L + 1
            while first < amax and pi[first] < CUT:
                pi[first] = 0.0
                first += 1
            # from the stored row at or below the band (never a cached row: first > L),
            # add each row of the band, then advance to the next
            a, lo, hi = _from_checkpoint(ck, first, src, data, offsets, los, his, L)
            while True:
                w = pi[a]
                if w > 0.0 and a >= first:
                    _axpy(w, src[lo:hi + 1], new[lo:hi + 1])
                if a >= amax:
                    break
                lo, hi = _advance_row(src, dst, lo, hi, n, c)
                src, dst = dst, src
                a += 1
                _store_checkpoint(ck, a, src, lo, hi, L)
        for a in range(1, amax + 1):
            pi[a] = new[a]
        while amax > 1 and pi[amax] < CUT:
            pi[amax] = 0.0
            amax -= 1
    return k, amax, done


class Checkpoints:
    """Ragged store of occupancy rows ``a = L + stride, L + 2 stride, ...`` (filled by
    :func:`forward`), at most ``budget`` entries; later rows are not stored once it is
    full (rebuilds then start lower: slower, never wrong)."""

    def __init__(self, n: int, L: int, budget: int):
        # the widest row (a = n) spans about 23 standard deviations of the number of
        # occupied boxes, sqrt(n (e^-1 - 2 e^-2)) ~ 0.31 sqrt(n)
        width = 7.5 * math.sqrt(n) + 16
        count = max(1, n - L)
        self.stride = max(64, math.ceil(count * width / budget))
        slots = count // self.stride + 2
        self.data = np.zeros(budget)
        self.off = np.zeros(slots + 1, np.int64)
        self.lo = np.zeros(slots, np.int64)
        self.hi = np.zeros(slots, np.int64)
        self.state = np.zeros(2, np.int64)  # (rows stored, entries used)

    def as_tuple(self):
        return (self.stride, self.data, self.off, self.lo, self.hi, self.state)


@njit(cache=True, nogil=True)
def _store_checkpoint(ck, a, row, lo, hi, L):
    stride, data, off, los, his, state = ck
    if (a - L) % stride != 0:
        return
    i = (a - L) // stride - 1
    if i != state[0] or i >= los.shape[0]:  # stored already, or a gap after a full store
        return
    width = hi - lo + 1
    used = state[1]
    if used + width > data.shape[0]:
        return
    data[used:used + width] = row[lo:hi + 1]
    off[i] = used
    los[i] = lo
    his[i] = hi
    state[0] = i + 1
    state[1] = used + width


@njit(cache=True, nogil=True)
def _from_checkpoint(ck, first, row, data, offsets, los, his, L):
    """Load into ``row`` the highest stored row ``a <= first`` (checkpoint, else cached
    row ``L``); returns ``(a, lo, hi)``."""
    stride, cdata, coff, clos, chis, state = ck
    i = min((first - L) // stride, state[0]) - 1
    if i >= 0:
        lo, hi = clos[i], chis[i]
        row[lo:hi + 1] = cdata[coff[i]:coff[i] + hi - lo + 1]
        return L + (i + 1) * stride, lo, hi
    lo, hi = los[L], his[L]
    row[lo:hi + 1] = data[offsets[L]:offsets[L] + hi - lo + 1]
    return L, lo, hi


@njit(cache=True, nogil=True)
def collapse_functionals(n, p_desc):
    r"""``f(a) = 1 - sum_i p_i^a`` and ``q(a) = sum_i p_i^a`` for ``a = 0..n``.

    ``p_desc`` is the support of ``p`` sorted in decreasing order. ``f`` is computed as
    :math:`\sum_i p_i (1 - p_i^{a-1})` with ``expm1`` so that it keeps full relative
    accuracy when ``q`` is close to 1; tokens with :math:`p_i^{a-1} < 10^{-20}` are
    retired and contribute exactly ``p_i`` to ``f`` (error below ``1e-20``).
    """
    s = p_desc.shape[0]
    logp = np.log(p_desc)
    suffix = np.zeros(s + 1)
    for i in range(s - 1, -1, -1):
        suffix[i] = suffix[i + 1] + p_desc[i]
    f = np.zeros(n + 1)
    q = np.zeros(n + 1)
    q[0] = s  # sum_i p_i^0 over the support (never used by the chain)
    active = s
    thresh = np.log(1e-20)
    for a in range(1, n + 1):
        e = a - 1.0
        while active > 0 and e * logp[active - 1] < thresh:
            active -= 1
        fa = suffix[active]
        qa = 0.0
        for i in range(active):
            t = e * logp[i]
            fa += p_desc[i] * (-np.expm1(t))
            qa += p_desc[i] * np.exp(t)
        f[a] = fa
        q[a] = qa
        if active == 0:
            for b in range(a + 1, n + 1):
                f[b] = fa
            break
    return f, q


def occupancy_block(n, K):
    """Dense occupancy rows ``D_a(j)`` for ``a, j = 1..K`` (index 0 unused)."""
    D = np.zeros((K + 1, K + 1))
    row = np.zeros(K + 2)
    row[1] = 1.0
    D[1, 1] = 1.0
    for a in range(2, K + 1):
        new = np.zeros(K + 2)
        j = np.arange(1, a + 1)
        new[1 : a + 1] = row[1 : a + 1] * j / n + row[0:a] * (n - j + 1) / n
        row = new
        D[a, 1 : a + 1] = row[1 : a + 1]
    return D


def log_eigenvalues(n: int, K: int) -> np.ndarray:
    r""":math:`\log\lambda_a = \sum_{i<a}\log(1-i/n)` for ``a = 0..K`` (index 0 and 1:
    0), the log-eigenvalues of the ancestral chain: :math:`\lambda_a = D_a(a)`, the
    chance that ``a`` lineages pick distinct parents."""
    return np.concatenate([[0.0, 0.0], np.cumsum(np.log1p(-np.arange(1, K) / n))])[: K + 1]


def spectral_tail(n, pi, phis):
    r"""Exact continuation of :math:`E\phi_r(A_{k+j})`, ``j >= 0``, once ``pi`` lives on
    ``{1..K}`` with ``K`` small.

    The chain restricted to ``{2..K}`` is lower triangular with distinct eigenvalues
    :math:`\lambda_a = \prod_{i<a}(1 - i/n)`; its right eigenvectors form a unit lower
    triangular ``V`` with :math:`v_a(b) = \sum_{a\le c<b} D_b(c) v_a(c) /
    (\lambda_a - \lambda_b)`. For a functional with :math:`\phi(1) = 0`,
    :math:`E\phi(A_{k+j}) = \sum_a c_a \lambda_a^j`,
    :math:`c_a = (\pi V)_a (V^{-1}\phi)_a`. ``K`` is kept small (the entries of ``V``
    grow roughly like binomial coefficients), so this loses only a few digits.

    Returns ``(coefs[r, K-1], rates[K-1])`` over states ``a = 2..K``.
    """
    K = int(np.max(np.flatnonzero(pi))) if np.any(pi[2:] > 0) else 1
    if K < 2:
        return np.zeros((phis.shape[0], 0)), np.zeros(0)
    D = occupancy_block(n, K)
    a = np.arange(2, K + 1)
    # log lambda_a, and exact differences lambda_a - lambda_b via expm1 of log ratios
    loglam = log_eigenvalues(n, K)
    lam = np.exp(loglam[a])
    m = K - 1
    V = np.eye(m)
    for ia in range(m):
        A = a[ia]
        for ib in range(ia + 1, m):
            B = a[ib]
            diff = np.exp(loglam[B]) * np.expm1(loglam[A] - loglam[B])  # lambda_A - lambda_B
            acc = 0.0
            for ic in range(ia, ib):
                acc += D[B, a[ic]] * V[ic, ia]
            V[ib, ia] = acc / diff
    x = pi[2 : K + 1] @ V  # (pi V)_a
    coefs = np.zeros((phis.shape[0], m))
    for r in range(phis.shape[0]):
        phi = phis[r, 2 : K + 1]
        y = np.linalg.solve(V, phi)  # unit lower triangular
        coefs[r] = x * y
    return coefs, lam
