"""Numba kernels of the linear-regression family: the fit is ``pinv(X^T X) X^T y``.

Fresh design: a group of ``k`` rows gives :math:`A = BB^\\top \\sim \\mathrm{Wishart}_d(k, I)`
and :math:`b = A w + \\sigma B \\xi`. Fixed design: per-replicate design rows drawn
once; a block of all its rows relabelled by ``w`` gives :math:`b = G w + \\sigma C \\xi`
(``G`` its Gram matrix, :math:`CC^\\top = G`), blocks of some rows (a window's warm-up,
uniformly chosen models) raw labels. ``AccumulateSubsample`` keeps a raw pool of
labelled rows. :func:`_reg_chunk` is the one loop over the plan.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .. import _stats
from .._kernel import PINV_RTOL
from .samplers import _allocate, _bartlett, _chol_batch, _copy, _subsample
from .threads import ACCUMULATE, LAST, SUBSAMPLE, WINDOW, Threaded


@njit(nogil=True, cache=True)
def _reg_group(rng, w, k, sigma, B, xi, A, b):
    """Fresh design: add ``X^T X`` and ``X^T y`` of ``k`` rows labelled by ``w``."""
    d = w.shape[0]
    _bartlett(rng, k, B)
    for a in range(d):
        xi[a] = rng.standard_normal()
    for a in range(d):
        for c in range(d):
            t = 0.0
            for e in range(min(a, c) + 1):
                t += B[a, e] * B[c, e]
            A[a, c] += t
            b[a] += t * w[c]
        t = 0.0
        for e in range(a + 1):
            t += B[a, e] * xi[e]
        b[a] += sigma * t


@njit(nogil=True, cache=True)
def _reg_gram(rng, w, G, C, sigma, xi, A, b):
    """Fixed design block with Gram ``G = C C^T`` relabelled by ``w``:
    ``A += G``, ``b += G w + sigma C xi``."""
    d = w.shape[0]
    for a in range(d):
        xi[a] = rng.standard_normal()
    for a in range(d):
        t = 0.0
        u = 0.0
        for c in range(d):
            A[a, c] += G[a, c]
            t += G[a, c] * w[c]
            u += C[a, c] * xi[c]
        b[a] += t + sigma * u


@njit(nogil=True, cache=True)
def _reg_rows(rng, w, X, r0, r1, sigma, addA, A, b):
    """Raw rows ``X[r0:r1]`` relabelled by ``w``: ``b += X^T y`` (``A += X^T X``)."""
    d = w.shape[0]
    for r in range(r0, r1):
        y = sigma * rng.standard_normal()
        for a in range(d):
            y += X[r, a] * w[a]
        for a in range(d):
            b[a] += X[r, a] * y
            if addA:
                for c in range(d):
                    A[a, c] += X[r, a] * X[r, c]


@njit(nogil=True, cache=True)
def _pinv_solve(A, b, out):
    """``out = pinv(A) b`` for a symmetric positive semi-definite ``A``."""
    d = b.shape[0]
    lam, U = np.linalg.eigh(A)
    tol = max(lam[d - 1], 0.0) * d * PINV_RTOL
    for a in range(d):
        out[a] = 0.0
    for e in range(d):
        if lam[e] > tol:
            t = 0.0
            for a in range(d):
                t += U[a, e] * b[a]
            t /= lam[e]
            for a in range(d):
                out[a] += t * U[a, e]


@njit(nogil=True, cache=True)
def _reg_chunk(rng, plan, fixed, sigma, w0, hw, pA, pb, rA, rb, Xs, Gs, Cs, Gr, Cr,
               poolX, poolY, perm, g0, g1, o_te, o_coef):
    src, n, window, real = plan[0], plan[1], plan[2], plan[3]
    real_fresh, syn_from, pooling = plan[4], plan[5], plan[6]
    d = w0.shape[0]
    H = hw.shape[0]
    B = np.empty((d, d))
    xi = np.empty(d)
    A = np.empty((d, d))
    b = np.empty(d)
    wn = np.empty(d)
    counts = np.zeros(g1 + 1 if src != LAST and src != WINDOW else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        s = (m - 1) % H
        A[:] = 0.0
        b[:] = 0.0
        if pooling == SUBSAMPLE:  # raw pool of labelled rows (one block of the last model)
            base = (m - 1) * n
            for r in range(n):
                x = poolX[base + r]
                if fixed:
                    _copy(x, Xs[r])
                else:
                    for a in range(d):
                        x[a] = rng.standard_normal()
                y = sigma * rng.standard_normal()
                for a in range(d):
                    y += x[a] * hw[s, a]
                poolY[base + r] = y
                perm[base + r] = base + r
            _subsample(rng, perm, m * n, n)
            for r in range(n):
                x = poolX[perm[r]]
                y = poolY[perm[r]]
                for a in range(d):
                    b[a] += x[a] * y
                    for c in range(d):
                        A[a, c] += x[a] * x[c]
        else:
            if m >= syn_from:  # the synthetic blocks
                if src == LAST:
                    if fixed:
                        _reg_gram(rng, hw[s], Gs, Cs, sigma, xi, A, b)
                    else:
                        _reg_group(rng, hw[s], n, sigma, B, xi, A, b)
                elif src == WINDOW:
                    k = min(window, m)
                    per = n // k
                    full = k * per == n
                    for q in range(k):
                        j = m - k + q
                        if fixed:
                            _reg_rows(rng, hw[j % H], Xs, q * per, (q + 1) * per, sigma,
                                      not full, A, b)
                        else:
                            _reg_group(rng, hw[j % H], per, sigma, B, xi, A, b)
                    if fixed and full:
                        A += Gs
                else:
                    _allocate(rng, n, m, counts)
                    off = 0
                    for j in range(m):
                        c = counts[j]
                        if c > 0:
                            if fixed:
                                _reg_rows(rng, hw[j], Xs, off, off + c, sigma, False, A, b)
                            else:
                                _reg_group(rng, hw[j], c, sigma, B, xi, A, b)
                            off += c
                    if fixed:
                        A += Gs
            if real > 0:  # the real block
                if m == 1 or real_fresh:
                    rA[:] = 0.0
                    rb[:] = 0.0
                    if fixed:
                        _reg_gram(rng, w0, Gr, Cr, sigma, xi, rA, rb)
                    else:
                        _reg_group(rng, w0, real, sigma, B, xi, rA, rb)
                A += rA
                b += rb
            if pooling == ACCUMULATE:
                pA += A
                pb += b
                _copy(A, pA)
                _copy(b, pb)
        _pinv_solve(A, b, wn)
        hw[m % H] = wn
        te = 0.0
        for a in range(d):
            te += (wn[a] - w0[a]) ** 2
            o_coef[i, a] = wn[a]
        o_te[i] = te


@njit(nogil=True, cache=True)
def _reg_many(rngs, idx, plan, fixed, sigma, w0, hw, pA, pb, rA, rb, Xs, Gs, Cs, Gr, Cr,
              poolX, poolY, perm, g0, g1, o_te, o_coef):
    for r in idx:
        _reg_chunk(rngs[r], plan, fixed, sigma, w0, hw[r], pA[r], pb[r], rA[r], rb[r], Xs[r],
                   Gs[r], Cs[r], Gr[r], Cr[r], poolX[r], poolY[r], perm[r], g0, g1, o_te[r],
                   o_coef[r])


class RegressionKernel(Threaded):
    """Linear regression, fixed or fresh Gaussian design, any plan."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        plan = self.plan
        if plan.pool == "subsample" and (plan.real or plan.sources != "last"):
            raise NotImplementedError("the Numba regression kernel subsamples pools of one "
                                      "block of the last model per generation")
        m = self.model
        R, d = self.R, m.dim
        self.d = d
        self.fixed = m.design == "fixed"
        self.sigma = float(m.noise)
        self.w0 = np.ascontiguousarray(m.w, dtype=np.float64)
        H = self.history_size(0)
        self.hw = np.empty((R, H, d))
        self.hw[:, 0] = self.w0
        self.pA = np.zeros((R, d, d))
        self.pb = np.zeros((R, d))
        self.rA = np.zeros((R, d, d))
        self.rb = np.zeros((R, d))
        self.poolX = np.zeros((R, 0, d))
        self.poolY = np.zeros((R, 0))
        self.perm = np.zeros((R, 0), dtype=np.int64)
        self.Gs = np.zeros((R, d, d))
        self.Cs = np.zeros((R, d, d))
        self.Gr = np.zeros((R, d, d))
        self.Cr = np.zeros((R, d, d))
        keep_rows = self.fixed and (plan.sources != "last" or plan.pool == "subsample")
        self.Xs = np.zeros((R, self.n if keep_rows else 0, d))
        if self.fixed:  # the fixed design, drawn once per replicate
            for r, rng in enumerate(self.rngs):
                Xs = rng.standard_normal((self.n, d))
                self.Gs[r] = Xs.T @ Xs
                if keep_rows:
                    self.Xs[r] = Xs
                if self.N:
                    Xr = rng.standard_normal((self.N, d))
                    self.Gr[r] = Xr.T @ Xr
            _chol_batch(self.Gs, self.Cs)
            _chol_batch(self.Gr, self.Cr)

    def initial(self) -> dict:
        st = _stats.regression_stats(self.w0[None], self.w0, self.names)
        return {k: np.repeat(v[:, None], self.R, axis=0) for k, v in st.items()}

    def advance(self, g0: int, g1: int, keep=None) -> dict:
        R, d, G = self.R, self.d, g1 - g0
        if self.plan.sources == "uniform":
            self.hw = self._grow(self.hw, g1 + 1)
        if self.plan.pool == "subsample":
            self.poolX = self._grow(self.poolX, g1 * self.n)
            self.poolY = self._grow(self.poolY, g1 * self.n)
            self.perm = self._grow(self.perm, g1 * self.n)
        out = {"test_error": np.empty((R, G)), "coef": np.empty((R, G, d))}

        def one(idx):
            _reg_many(self.rng_list, idx, self.codes, self.fixed, self.sigma, self.w0,
                      self.hw, self.pA, self.pb, self.rA, self.rb, self.Xs, self.Gs, self.Cs,
                      self.Gr, self.Cr, self.poolX, self.poolY, self.perm, g0, g1,
                      out["test_error"], out["coef"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)
