"""Numba kernels of the Gaussian-mixture family: raw samples, refitted by EM exactly as
:mod:`.._em` (warm-started from the previous fit). :func:`_mix_chunk` is the one loop
over the plan."""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import _stats
from .samplers import _allocate, _chol, _copy, _gauss_point, _subsample
from .threads import ACCUMULATE, LAST, NONE, UNIFORM, WINDOW, Threaded

EPS10 = 10 * np.finfo(np.float64).eps
LOG2PI = math.log(2 * math.pi)


@njit(nogil=True, cache=True)
def _mix_sample(rng, w, mu, L, cnt, out, off, z):
    """``cnt`` points of the mixture ``(w, mu, L L^T)`` into ``out[off:off + cnt]``."""
    K = w.shape[0]
    for r in range(cnt):
        u = rng.random()
        c = 0
        acc = w[0]
        while u >= acc and c < K - 1:
            c += 1
            acc += w[c]
        _gauss_point(rng, mu[c], L[c], z, out[off + r])


@njit(nogil=True, cache=True)
def _em(X, init, w, mu, cov, max_iter, tol, reg):
    """EM of :mod:`._em` on ``X`` (n, d), in place on ``(w, mu, cov)``; ``init``: start
    from the data (``_em.em_init``), else from the given parameters."""
    n, d = X.shape
    K = w.shape[0]
    if init:
        xm = np.zeros(d)
        for i in range(n):
            for a in range(d):
                xm[a] += X[i, a]
        for a in range(d):
            xm[a] /= n
        C = np.zeros((d, d))
        for i in range(n):
            for a in range(d):
                for b in range(d):
                    C[a, b] += (X[i, a] - xm[a]) * (X[i, b] - xm[b])
        C /= n
        _, U = np.linalg.eigh(C)
        proj = np.empty(n)
        for i in range(n):
            t = 0.0
            for a in range(d):
                t += X[i, a] * U[a, d - 1]
            proj[i] = t
        order = np.argsort(proj, kind="mergesort")
        for k in range(K):
            r = int((k + 0.5) * n / K)
            _copy(mu[k], X[order[r]])
            _copy(cov[k], C)
            w[k] = 1.0 / K
    resp = np.empty((K, n))
    Lk = np.empty((d, d))
    diff = np.empty(d)
    zz = np.empty(d)
    prev = -np.inf
    for _ in range(max_iter):
        for k in range(K):
            _chol(cov[k], Lk)
            ld = 0.0
            for a in range(d):
                ld += 2.0 * np.log(Lk[a, a])
            lw = np.log(w[k])
            for i in range(n):
                maha = 0.0
                for a in range(d):
                    t = X[i, a] - mu[k, a]
                    for b in range(a):
                        t -= Lk[a, b] * zz[b]
                    zz[a] = t / Lk[a, a]
                    maha += zz[a] * zz[a]
                resp[k, i] = -0.5 * (maha + ld + d * LOG2PI) + lw
        ll = 0.0
        for i in range(n):
            mx = resp[0, i]
            for k in range(1, K):
                mx = max(mx, resp[k, i])
            s = 0.0
            for k in range(K):
                s += np.exp(resp[k, i] - mx)
            lse = mx + np.log(s)
            ll += lse
            for k in range(K):
                resp[k, i] = np.exp(resp[k, i] - lse)
        ll /= n
        for k in range(K):
            nk = 0.0
            for i in range(n):
                nk += resp[k, i]
            nk += EPS10
            for a in range(d):
                t = 0.0
                for i in range(n):
                    t += resp[k, i] * X[i, a]
                mu[k, a] = t / nk
            for a in range(d):
                for b in range(d):
                    cov[k, a, b] = 0.0
            for i in range(n):
                rk = resp[k, i]
                for a in range(d):
                    diff[a] = X[i, a] - mu[k, a]
                for a in range(d):
                    for b in range(d):
                        cov[k, a, b] += rk * diff[a] * diff[b]
            for a in range(d):
                for b in range(d):
                    cov[k, a, b] /= nk
                cov[k, a, a] += reg
            w[k] = nk / n
        if abs(ll - prev) < tol:
            break
        prev = ll


@njit(nogil=True, cache=True)
def _model_sample(rng, j, w0, mu0, L0, hw, hmu, hL, cnt, out, off, z):
    """``cnt`` points of model ``j`` (0: the real mixture) into ``out[off:]``."""
    if j == 0:
        _mix_sample(rng, w0, mu0, L0, cnt, out, off, z)
    else:
        t = j % hw.shape[0]
        _mix_sample(rng, hw[t], hmu[t], hL[t], cnt, out, off, z)


@njit(nogil=True, cache=True)
def _mix_chunk(rng, plan, max_iter, tol, reg, w0, mu0, L0, hw, hmu, hcov, hL, realblk,
               pool, psize, perm, X, g0, g1, o_w, o_mu, o_cov):
    src, n, window, real = plan[0], plan[1], plan[2], plan[3]
    real_fresh, syn_from, pooling = plan[4], plan[5], plan[6]
    H = hw.shape[0]
    K, d = hmu.shape[1], hmu.shape[2]
    z = np.empty(d)
    w = np.empty(K)
    mu = np.empty((K, d))
    cov = np.empty((K, d, d))
    counts = np.zeros(g1 + 1 if src == UNIFORM else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        off = 0
        if real > 0:  # the real block
            if m == 1 or real_fresh:
                _mix_sample(rng, w0, mu0, L0, real, realblk, 0, z)
            X[:real] = realblk
            off = real
        if m >= syn_from:  # the synthetic blocks
            if src == LAST:
                _model_sample(rng, m - 1, w0, mu0, L0, hw, hmu, hL, n, X, off, z)
                off += n
            elif src == WINDOW:
                k = min(window, m)
                per = n // k
                for j in range(m - k, m):
                    _model_sample(rng, j, w0, mu0, L0, hw, hmu, hL, per, X, off, z)
                    off += per
            else:
                _allocate(rng, n, m, counts)
                for j in range(m):
                    if counts[j] > 0:
                        _model_sample(rng, j, w0, mu0, L0, hw, hmu, hL, counts[j], X, off, z)
                        off += counts[j]
        data = X[:off]
        if pooling != NONE:
            base = psize[0]
            _copy(pool[base:base + off], X[:off])
            for r in range(off):
                perm[base + r] = base + r
            psize[0] = base + off
            if pooling == ACCUMULATE:
                data = pool[:psize[0]]
            else:
                _subsample(rng, perm, psize[0], n)
                for r in range(n):
                    _copy(X[r], pool[perm[r]])
                data = X[:n]
        if m > 1:
            s = (m - 1) % H
            _copy(w, hw[s])
            _copy(mu, hmu[s])
            _copy(cov, hcov[s])
        _em(data, m == 1, w, mu, cov, max_iter, tol, reg)
        t = m % H
        hw[t] = w
        hmu[t] = mu
        hcov[t] = cov
        for k in range(K):
            _chol(cov[k], hL[t, k])
        o_w[i] = w
        o_mu[i] = mu
        o_cov[i] = cov


@njit(nogil=True, cache=True)
def _mix_many(rngs, idx, plan, max_iter, tol, reg, w0, mu0, L0, hw, hmu, hcov, hL, realblk,
              pool, psize, perm, X, g0, g1, o_w, o_mu, o_cov):
    for r in idx:
        _mix_chunk(rngs[r], plan, max_iter, tol, reg, w0, mu0, L0, hw[r], hmu[r], hcov[r],
                   hL[r], realblk[r], pool[r], psize[r], perm[r], X[r], g0, g1, o_w[r],
                   o_mu[r], o_cov[r])


class MixtureKernel(Threaded):
    """Gaussian mixture on raw samples, refitted by EM, any plan."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        m = self.model
        R, d, K = self.R, m.dim, m.components
        self.d, self.K = d, K
        self.w0 = np.ascontiguousarray(m.weights, dtype=np.float64)
        self.mu0 = np.ascontiguousarray(m.means, dtype=np.float64)
        self.cov0 = np.ascontiguousarray(m.covs, dtype=np.float64)
        self.L0 = np.ascontiguousarray(np.linalg.cholesky(self.cov0))
        H = self.history_size(0)
        self.hw = np.zeros((R, H, K))
        self.hmu = np.zeros((R, H, K, d))
        self.hcov = np.zeros((R, H, K, d, d))
        self.hL = np.zeros((R, H, K, d, d))
        self.realblk = np.zeros((R, self.N, d))
        self.pool = np.zeros((R, 0, d))
        self.psize = np.zeros((R, 1), dtype=np.int64)
        self.perm = np.zeros((R, 0), dtype=np.int64)
        self.X = np.zeros((R, self.N + self.n, d))

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 10))

    def initial(self) -> dict:
        K, d = self.K, self.d
        if self.w0.size == K:
            w, mu, cov = self.w0, self.mu0, self.cov0
        else:
            w, mu, cov = (np.full(K, np.nan), np.full((K, d), np.nan),
                          np.full((K, d, d), np.nan))
        st = _stats.mixture_stats(w[None], mu[None], cov[None], self.names)
        return {k: np.repeat(v[:, None], self.R, axis=0) for k, v in st.items()}

    def advance(self, g0: int, g1: int, keep=None) -> dict:
        R, d, K, G = self.R, self.d, self.K, g1 - g0
        if self.plan.sources == "uniform":
            self.hw = self._grow(self.hw, g1 + 1)
            self.hmu = self._grow(self.hmu, g1 + 1)
            self.hcov = self._grow(self.hcov, g1 + 1)
            self.hL = self._grow(self.hL, g1 + 1)
        if self.plan.pool != "none":
            self.pool = self._grow(self.pool, g1 * (self.N + self.n))
            self.perm = self._grow(self.perm, g1 * (self.N + self.n))
        out = {"weights": np.empty((R, G, K)), "means": np.empty((R, G, K, d)),
               "covs": np.empty((R, G, K, d, d))}
        m = self.model

        def one(idx):
            _mix_many(self.rng_list, idx, self.codes, m.max_iter, m.tol, m.reg_covar,
                      self.w0, self.mu0, self.L0, self.hw, self.hmu, self.hcov, self.hL,
                      self.realblk, self.pool, self.psize, self.perm, self.X, g0, g1,
                      out["weights"], out["means"], out["covs"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)
