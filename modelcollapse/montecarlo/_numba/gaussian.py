"""Numba kernels of the Gaussian family: exact sufficient statistics.

A group of ``k`` points of :math:`N(\\mu, LL^\\top)` has mean :math:`\\mu + L z/\\sqrt k`
and scatter :math:`(LB)(LB)^\\top`, :math:`BB^\\top \\sim \\mathrm{Wishart}_d(k-1, I)`
(generalised Bartlett, exact when singular); groups pool with Chan's formula. A fit of a
single group carries its factor :math:`L_t = L B/\\sqrt{\\mathrm{den}}` (under
``Replace``: :math:`L_{t-1} B_t/\\sqrt{\\mathrm{den}}`), so long runs never
re-factorise an ill-conditioned :math:`\\Sigma_t` and :math:`\\log\\det\\Sigma_t`
accumulates exactly; pooled fits are re-factorised. ``AccumulateSubsample`` keeps a raw
pool of points. :func:`_gauss_chunk` is the one loop over the plan; a 1-D ``Replace``
fast path works on two scalars.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .. import _stats
from .._engine import log_eps_threshold
from .samplers import _allocate, _chan, _chol, _copy, _gauss_group, _gauss_point, _subsample
from .threads import ACCUMULATE, LAST, SUBSAMPLE, UNIFORM, WINDOW, Threaded


@njit(nogil=True, cache=True)
def _gauss_chunk(rng, plan, ddof, sqrt_t, mu0, L0, h0, c0, tr0, ld0, thr, want_w2, hmean,
                 hL, pk, pmean, pM2, rk, rmean, rM2, raw, perm, ct, g0, g1,
                 o_mean, o_var, o_mse, o_tr, o_ld, o_w2):
    """Generations ``g0+1 .. g1`` of one replicate: the synthetic blocks of the plan
    (from ``hmean``/``hL``, fit ``j`` in slot ``j % H``; ``hL`` holds the sampling
    factors, ``sqrt_t`` times the fitted ones), the real block (``rk``,
    ``rmean``, ``rM2``), the pool (``pk``, ``pmean``, ``pM2``, or raw points)."""
    src, n, window, real = plan[0], plan[1], plan[2], plan[3]
    real_fresh, syn_from, pooling = plan[4], plan[5], plan[6]
    d = mu0.shape[0]
    H = hmean.shape[0]
    z = np.empty(d)
    B = np.empty((d, d))
    F = np.empty((d, d))
    gm = np.empty(d)
    gM2 = np.empty((d, d))
    km = np.empty(d)
    kM2 = np.empty((d, d))
    cov = np.empty((d, d))
    Lc = np.empty((d, d))
    M = np.empty((d, d))
    counts = np.zeros(g1 + 1 if src == UNIFORM else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        km[:] = 0.0
        kM2[:] = 0.0
        K = 0.0
        blocks = 0
        if pooling == SUBSAMPLE:  # raw pool of points (one block of the last model)
            s = (m - 1) % H
            base = (m - 1) * n
            for r in range(n):
                _gauss_point(rng, hmean[s], hL[s], z, raw[base + r])
                perm[base + r] = base + r
            _subsample(rng, perm, m * n, n)
            for r in range(n):
                x = raw[perm[r]]
                for a in range(d):
                    km[a] += x[a]
            for a in range(d):
                km[a] /= n
            for r in range(n):
                x = raw[perm[r]]
                for a in range(d):
                    for b in range(d):
                        kM2[a, b] += (x[a] - km[a]) * (x[b] - km[b])
            K = float(n)
            blocks = 2
        else:
            if m >= syn_from:  # the synthetic blocks
                if src == LAST:
                    s = (m - 1) % H
                    _gauss_group(rng, hmean[s], hL[s], n, z, B, gm, gM2)
                    _copy(F, B)
                    K = _chan(K, km, kM2, float(n), gm, gM2)
                    blocks += 1
                elif src == WINDOW:
                    k = min(window, m)
                    per = n // k
                    for j in range(m - k, m):
                        _gauss_group(rng, hmean[j % H], hL[j % H], per, z, B, gm, gM2)
                        _copy(F, B)
                        K = _chan(K, km, kM2, float(per), gm, gM2)
                        blocks += 1
                else:
                    _allocate(rng, n, m, counts)
                    for j in range(m):
                        if counts[j] > 0:
                            _gauss_group(rng, hmean[j % H], hL[j % H], counts[j], z, B,
                                         gm, gM2)
                            _copy(F, B)
                            K = _chan(K, km, kM2, float(counts[j]), gm, gM2)
                            blocks += 1
            if real > 0:  # the real block
                if m == 1 or real_fresh:
                    _gauss_group(rng, mu0, L0, real, z, B, rmean, rM2)
                    _copy(F, B)
                    rk[0] = real
                    blocks += 1
                else:  # reused: its factor is not at hand
                    blocks += 2
                _copy(gm, rmean)
                K = _chan(K, km, kM2, rk[0], gm, rM2)
            if pooling == ACCUMULATE:
                pk[0] = _chan(pk[0], pmean, pM2, K, km, kM2)
                K = pk[0]
                _copy(km, pmean)
                _copy(kM2, pM2)
                if m > 1:
                    blocks += 1
        # the fit of generation m
        den = K - ddof
        for a in range(d):
            for b in range(d):
                cov[a, b] = kM2[a, b] / den
        if blocks == 1 and d > 1:  # one group: its factor, no re-factorisation
            sd = math.sqrt(den)
            for a in range(d):
                for b in range(d):
                    Lc[a, b] = F[a, b] / sd
        else:
            _chol(cov, Lc)
        t = m % H
        hmean[t] = km
        for a in range(d):  # the sampling factor: sqrt(T) L (samples from N(mu, T Sigma))
            for b in range(d):
                hL[t, a, b] = Lc[a, b] * sqrt_t
        # statistics
        mse = 0.0
        tr = 0.0
        for a in range(d):
            o_mean[i, a] = km[a]
            o_var[i, a] = cov[a, a]
            mse += (km[a] - mu0[a]) ** 2
            tr += cov[a, a]
        o_mse[i] = mse
        o_tr[i] = tr / tr0
        if d == 1:
            ld = math.log(cov[0, 0]) if cov[0, 0] > 0.0 else -np.inf
        else:
            ld = 0.0
            for a in range(d):
                if Lc[a, a] != 0.0:
                    ld += 2.0 * math.log(abs(Lc[a, a]))
                else:
                    ld = -np.inf
                    break
        ld -= ld0
        o_ld[i] = ld
        if ct[0] < 0 and ld < thr:
            ct[0] = m
        if want_w2:
            if d == 1:
                cross = math.sqrt(max(cov[0, 0] * c0, 0.0))
            else:
                for a in range(d):
                    for b in range(d):
                        u = 0.0
                        for e in range(d):
                            u += cov[a, e] * h0[e, b]
                        gM2[a, b] = u
                for a in range(d):
                    for b in range(d):
                        u = 0.0
                        for e in range(d):
                            u += h0[a, e] * gM2[e, b]
                        M[a, b] = u
                lam = np.linalg.eigvalsh(M)
                cross = 0.0
                for a in range(d):
                    cross += math.sqrt(max(lam[a], 0.0))
            o_w2[i] = math.sqrt(max(mse + tr + tr0 - 2.0 * cross, 0.0))


@njit(nogil=True, cache=True)
def _gauss1_replace_chunk(rng, n, ddof, mu0, c0, ld0, thr, hmean, hL, ct, g0, g1,
                          o_mean, o_var, o_mse, o_tr, o_ld, o_w2):
    r"""1-D Gaussian under Replace(n) on two scalars: :math:`\mu' = \mu + \sigma Z/\sqrt n`,
    :math:`\sigma'^2 = \sigma^2 \chi^2_{n-1}/\mathrm{den}` (Cochran)."""
    mu = hmean[0, 0]
    sd = hL[0, 0, 0]
    var = sd * sd
    sq = math.sqrt(n)
    den = n - ddof
    s0 = math.sqrt(c0)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        mu = mu + sd * rng.standard_normal() / sq
        var = var * rng.chisquare(n - 1) / den
        sd = math.sqrt(var)
        e = (mu - mu0[0]) ** 2
        ld = math.log(var) - ld0 if var > 0.0 else -np.inf
        o_mean[i, 0] = mu
        o_var[i, 0] = var
        o_mse[i] = e
        o_tr[i] = var / c0
        o_ld[i] = ld
        o_w2[i] = math.sqrt(e + (sd - s0) ** 2)
        if ct[0] < 0 and ld < thr:
            ct[0] = m
    hmean[0, 0] = mu
    hL[0, 0, 0] = sd


@njit(nogil=True, cache=True)
def _gauss_many(rngs, idx, fast, plan, ddof, sqrt_t, mu0, L0, h0, c0, tr0, ld0, thr,
                want_w2,
                hmean, hL, pk, pmean, pM2, rk, rmean, rM2, raw, perm, ct, g0, g1,
                o_mean, o_var, o_mse, o_tr, o_ld, o_w2):
    for r in idx:
        if fast:
            _gauss1_replace_chunk(rngs[r], plan[1], ddof, mu0, c0, ld0, thr, hmean[r], hL[r],
                                  ct[r:r + 1], g0, g1, o_mean[r], o_var[r], o_mse[r],
                                  o_tr[r], o_ld[r], o_w2[r])
        else:
            _gauss_chunk(rngs[r], plan, ddof, sqrt_t, mu0, L0, h0, c0, tr0, ld0, thr, want_w2,
                         hmean[r], hL[r], pk[r], pmean[r], pM2[r], rk[r], rmean[r], rM2[r],
                         raw[r], perm[r], ct[r:r + 1], g0, g1, o_mean[r], o_var[r],
                         o_mse[r], o_tr[r], o_ld[r], o_w2[r])


class GaussianKernel(Threaded):
    """d-dimensional Gaussian on exact sufficient statistics, any plan."""

    fast = False

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        if self.plan.pool == "subsample" and (self.plan.real or self.plan.sources != "last"):
            raise NotImplementedError("the Numba Gaussian kernel subsamples pools of one "
                                      "block of the last model per generation")
        m = self.model
        d = self.d = m.dim
        R = self.R
        self.mu0 = np.ascontiguousarray(m.mean, dtype=np.float64)
        self.c0 = np.ascontiguousarray(m.cov, dtype=np.float64)
        self.L0 = np.linalg.cholesky(self.c0)
        self.h0 = np.ascontiguousarray(_stats._sqrtm_psd(self.c0))
        self.tr0 = float(np.trace(self.c0))
        self.ld0 = float(np.linalg.slogdet(self.c0)[1])
        self.thr = float(log_eps_threshold(problem))
        self.ddof = 1.0 if m.estimator == "unbiased" else 0.0
        H = self.history_size(0)
        self.hmean = np.empty((R, H, d))
        self.hL = np.empty((R, H, d, d))
        self.hmean[:, 0] = self.mu0
        self.hL[:, 0] = self.L0
        self.pk = np.zeros((R, 1))
        self.pmean = np.zeros((R, d))
        self.pM2 = np.zeros((R, d, d))
        self.rk = np.zeros((R, 1))
        self.rmean = np.zeros((R, d))
        self.rM2 = np.zeros((R, d, d))
        self.raw = np.zeros((R, 0, d))
        self.perm = np.zeros((R, 0), dtype=np.int64)
        self.collapse_time = np.full(R, -1, dtype=np.int64)

    def initial(self) -> dict:
        st = _stats.gaussian_stats(self.mu0[None], self.c0[None], self.mu0, self.c0,
                                   self.names)
        return {k: np.repeat(v[:, None], self.R, axis=0) for k, v in st.items()}

    def advance(self, g0: int, g1: int, keep=None) -> dict:
        R, d, G = self.R, self.d, g1 - g0
        if self.plan.sources == "uniform":
            self.hmean = self._grow(self.hmean, g1 + 1)
            self.hL = self._grow(self.hL, g1 + 1)
        if self.plan.pool == "subsample":
            self.raw = self._grow(self.raw, g1 * self.n)
            self.perm = self._grow(self.perm, g1 * self.n)
        out = {"mean": np.empty((R, G, d)), "var": np.empty((R, G, d)),
               "mean_sq_error": np.empty((R, G)), "trace_ratio": np.empty((R, G)),
               "logdet_ratio": np.empty((R, G)), "w2": np.empty((R, G))}
        want_w2 = "w2" in self.names
        ct = self.collapse_time

        def one(idx):
            _gauss_many(self.rng_list, idx, self.fast, self.codes, self.ddof,
                        math.sqrt(self.problem.sampling.temperature), self.mu0,
                        self.L0, self.h0, float(self.c0[0, 0]), self.tr0, self.ld0, self.thr,
                        want_w2, self.hmean, self.hL, self.pk, self.pmean, self.pM2, self.rk,
                        self.rmean, self.rM2, self.raw, self.perm, ct, g0, g1, out["mean"],
                        out["var"], out["mean_sq_error"], out["trace_ratio"],
                        out["logdet_ratio"], out["w2"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)


class Gauss1ReplaceKernel(GaussianKernel):
    """Registered fast path of a 1-D Gaussian under ``Replace``: two scalars per
    generation (tested equal in law to the generic loop)."""

    fast = True
