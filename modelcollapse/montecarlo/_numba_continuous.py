"""Numba kernels of the continuous families: Gaussian, GaussianMixture, LinearRegression.

Each replicate owns a ``numpy.random.Generator`` (seeded from its own spawned
``SeedSequence``) and its own state arrays; one ``@njit(nogil=True)`` call advances one
replicate by a chunk of generations, and replicates run in parallel threads. Results do
not depend on the number of threads.

* Gaussian: exact sufficient statistics. A group of ``k`` points of :math:`N(\\mu,\\Sigma)`
  has mean :math:`\\mu + L z/\\sqrt k` and scatter :math:`L W L^\\top`,
  :math:`W \\sim \\mathrm{Wishart}_d(k-1, I)` (generalised Bartlett, exact when singular);
  groups pool with Chan's formula. ``AccumulateSubsample`` keeps a raw pool of points.
* GaussianMixture: raw samples and EM exactly as :mod:`._em`.
* LinearRegression: the fit is ``pinv(X^T X) X^T y``. Fresh design: a group of ``k``
  rows gives :math:`A = BB^\\top \\sim \\mathrm{Wishart}_d(k, I)` and
  :math:`b = A w + \\sigma B \\xi`. Fixed design: per-replicate design rows drawn once; a
  block relabelled by ``w`` gives :math:`b = G w + \\sigma C \\xi` (``G`` its Gram
  matrix, :math:`CC^\\top = G`), or raw labels where the blocks vary (``MostRecent``
  warm-up, ``RandomlySampled``, ``AccumulateSubsample``).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit
from numba.typed import List

from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)
from . import _stats
from ._engine import log_eps_threshold
from ._kernel import Kernel

__all__ = ["KERNELS", "GaussianKernel", "MixtureKernel", "RegressionKernel"]

REPLACE, MIX, ACCUMULATE, ACCSUB, MOSTRECENT, RANDOM = 0, 1, 2, 3, 4, 5
_CODES = {Replace: REPLACE, Mix: MIX, Accumulate: ACCUMULATE, AccumulateSubsample: ACCSUB,
          MostRecent: MOSTRECENT, RandomlySampled: RANDOM}
EPS10 = 10 * np.finfo(np.float64).eps
LOG2PI = math.log(2 * math.pi)
#: Relative cut-off of the eigenvalues of ``X^T X`` in the minimum-norm solve.
PINV_RTOL = 1e-13


# ---------------------------------------------------------------------- shared helpers
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


# ---------------------------------------------------------------------- Gaussian
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


@njit(nogil=True, cache=True)
def _gauss_chunk(rng, code, n, N, fresh, window, ddof, mu0, L0, h0, c0, tr0, ld0, thr,
                 want_w2, hmean, hL, pk, pmean, pM2, raw, perm, ct, g0, g1,
                 o_mean, o_var, o_mse, o_tr, o_ld, o_w2):
    d = mu0.shape[0]
    H = hmean.shape[0]
    z = np.empty(d)
    B = np.empty((d, d))
    gm = np.empty(d)
    gM2 = np.empty((d, d))
    km = np.empty(d)
    kM2 = np.empty((d, d))
    cov = np.empty((d, d))
    Lc = np.empty((d, d))
    M = np.empty((d, d))
    counts = np.zeros(g1 + 1 if code == RANDOM else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        km[:] = 0.0
        kM2[:] = 0.0
        K = 0.0
        s = (m - 1) % H
        if code == REPLACE:
            _gauss_group(rng, hmean[s], hL[s], n, z, B, gm, gM2)
            K = _chan(K, km, kM2, float(n), gm, gM2)
        elif code == MIX:
            if m == 1 or fresh:
                _gauss_group(rng, mu0, L0, N, z, B, pmean, pM2)
            gm[:] = pmean
            K = _chan(K, km, kM2, float(N), gm, pM2)
            if m >= 2:
                _gauss_group(rng, hmean[s], hL[s], n, z, B, gm, gM2)
                K = _chan(K, km, kM2, float(n), gm, gM2)
        elif code == ACCUMULATE:
            _gauss_group(rng, hmean[s], hL[s], n, z, B, gm, gM2)
            pk[0] = _chan(pk[0], pmean, pM2, float(n), gm, gM2)
            K = pk[0]
            km[:] = pmean
            kM2[:] = pM2
        elif code == MOSTRECENT:
            k = min(window, m)
            per = n // k
            for j in range(m - k, m):
                _gauss_group(rng, hmean[j % H], hL[j % H], per, z, B, gm, gM2)
                K = _chan(K, km, kM2, float(per), gm, gM2)
        elif code == RANDOM:
            _allocate(rng, n, m, counts)
            for j in range(m):
                if counts[j] > 0:
                    _gauss_group(rng, hmean[j % H], hL[j % H], counts[j], z, B, gm, gM2)
                    K = _chan(K, km, kM2, float(counts[j]), gm, gM2)
        else:  # ACCSUB: raw pool of points
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
        # the fit of generation m
        den = K - ddof
        for a in range(d):
            for b in range(d):
                cov[a, b] = kM2[a, b] / den
        _chol(cov, Lc)
        t = m % H
        hmean[t] = km
        hL[t] = Lc
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
            ld = np.log(cov[0, 0])
        else:
            ld = 0.0
            for a in range(d):
                if Lc[a, a] > 0.0:
                    ld += 2.0 * np.log(Lc[a, a])
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
def _gauss_many(rngs, idx, code, n, N, fresh, window, ddof, mu0, L0, h0, c0, tr0, ld0, thr,
                want_w2, hmean, hL, pk, pmean, pM2, raw, perm, ct, g0, g1,
                o_mean, o_var, o_mse, o_tr, o_ld, o_w2):
    for r in idx:
        if code == REPLACE and mu0.shape[0] == 1:
            _gauss1_replace_chunk(rngs[r], n, ddof, mu0, c0, ld0, thr, hmean[r], hL[r],
                                  ct[r:r + 1], g0, g1, o_mean[r], o_var[r], o_mse[r],
                                  o_tr[r], o_ld[r], o_w2[r])
            continue
        _gauss_chunk(rngs[r], code, n, N, fresh, window, ddof, mu0, L0, h0, c0, tr0, ld0,
                     thr, want_w2, hmean[r], hL[r], pk[r], pmean[r], pM2[r], raw[r], perm[r],
                     ct[r:r + 1], g0, g1, o_mean[r], o_var[r], o_mse[r], o_tr[r], o_ld[r],
                     o_w2[r])


# ---------------------------------------------------------------------- threads
class _Threaded(Kernel):
    """Per-replicate generators and the thread pool."""

    #: Worker threads (``None``: ``numba.get_num_threads()``).
    workers: int | None = None

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.rngs = [np.random.default_rng(s) for s in self.replicate_seeds()]
        self._rng_list = None
        r = self.regime
        self.code = _CODES[type(r)]
        self.n = r.synthetic if isinstance(r, Mix) else r.n
        self.N = r.real if isinstance(r, Mix) else 0
        self.fresh = bool(isinstance(r, Mix) and r.fresh)
        self.window = r.window if isinstance(r, MostRecent) else 1

    def history_size(self, g1: int) -> int:
        """Slots of the fit history (fit ``j`` in slot ``j % H``)."""
        if self.code == MOSTRECENT:
            return self.window
        if self.code == RANDOM:
            return g1 + 1
        return 1

    @staticmethod
    def _grow(a: np.ndarray, size: int, fill=0) -> np.ndarray:
        """``a`` with axis 1 grown to at least ``size`` (doubling), contents kept."""
        if a.shape[1] >= size:
            return a
        new = max(size, 2 * a.shape[1])
        out = np.full((a.shape[0], new, *a.shape[2:]), fill, dtype=a.dtype)
        out[:, :a.shape[1]] = a
        return out

    @property
    def rng_list(self):
        """The generators as a ``numba.typed.List`` (built once; shares their states)."""
        if self._rng_list is None:
            lst = List()
            for g in self.rngs:
                lst.append(g)
            self._rng_list = lst
        return self._rng_list

    def _parallel(self, fn) -> None:
        """``fn(idx)`` on the replicates ``idx`` (int64 array), one block per thread."""
        R = self.R
        W = self.workers if self.workers is not None else numba.get_num_threads()
        W = max(1, min(int(W), R))
        self.rng_list  # noqa: B018 (build the typed list before the threads start)
        if W == 1:
            fn(np.arange(R, dtype=np.int64))
            return
        blocks = [np.arange(w, R, W, dtype=np.int64) for w in range(W)]
        with ThreadPoolExecutor(W) as ex:
            list(ex.map(fn, blocks))


class GaussianKernel(_Threaded):
    """d-dimensional Gaussian on exact sufficient statistics."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
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
        self.raw = np.zeros((R, 0, d))
        self.perm = np.zeros((R, 0), dtype=np.int64)
        self.collapse_time = np.full(R, -1, dtype=np.int64)

    def initial(self) -> dict:
        st = _stats.gaussian_stats(self.mu0[None], self.c0[None], self.mu0, self.c0,
                                   self.names)
        return {k: np.repeat(v[:, None], self.R, axis=0) for k, v in st.items()}

    def advance(self, g0: int, g1: int, keep=None) -> dict:
        R, d, G = self.R, self.d, g1 - g0
        if self.code == RANDOM:
            self.hmean = self._grow(self.hmean, g1 + 1)
            self.hL = self._grow(self.hL, g1 + 1)
        if self.code == ACCSUB:
            self.raw = self._grow(self.raw, g1 * self.n)
            self.perm = self._grow(self.perm, g1 * self.n)
        out = {"mean": np.empty((R, G, d)), "var": np.empty((R, G, d)),
               "mean_sq_error": np.empty((R, G)), "trace_ratio": np.empty((R, G)),
               "logdet_ratio": np.empty((R, G)), "w2": np.empty((R, G))}
        want_w2 = "w2" in self.names
        ct = self.collapse_time

        def one(idx):
            _gauss_many(self.rng_list, idx, self.code, self.n, self.N, self.fresh,
                        self.window, self.ddof, self.mu0, self.L0, self.h0,
                        float(self.c0[0, 0]), self.tr0, self.ld0, self.thr, want_w2,
                        self.hmean, self.hL, self.pk, self.pmean, self.pM2, self.raw,
                        self.perm, ct, g0, g1, out["mean"], out["var"],
                        out["mean_sq_error"], out["trace_ratio"], out["logdet_ratio"],
                        out["w2"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)


# ---------------------------------------------------------------------- mixture
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
            mu[k] = X[order[r]]
            cov[k] = C
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
def _mix_chunk(rng, code, n, N, fresh, window, max_iter, tol, reg, w0, mu0, L0,
               hw, hmu, hcov, hL, realblk, pool, perm, X, g0, g1, o_w, o_mu, o_cov):
    H = hw.shape[0]
    K, d = hmu.shape[1], hmu.shape[2]
    z = np.empty(d)
    w = np.empty(K)
    mu = np.empty((K, d))
    cov = np.empty((K, d, d))
    counts = np.zeros(g1 + 1 if code == RANDOM else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        s = (m - 1) % H
        if code == REPLACE:
            if m == 1:
                _mix_sample(rng, w0, mu0, L0, n, X, 0, z)
            else:
                _mix_sample(rng, hw[s], hmu[s], hL[s], n, X, 0, z)
            data = X[:n]
        elif code == MIX:
            if m == 1 or fresh:
                _mix_sample(rng, w0, mu0, L0, N, realblk, 0, z)
            if m == 1:
                data = realblk
            else:
                X[:N] = realblk
                _mix_sample(rng, hw[s], hmu[s], hL[s], n, X, N, z)
                data = X[:N + n]
        elif code == ACCUMULATE or code == ACCSUB:
            base = (m - 1) * n
            if m == 1:
                _mix_sample(rng, w0, mu0, L0, n, pool, base, z)
            else:
                _mix_sample(rng, hw[s], hmu[s], hL[s], n, pool, base, z)
            if code == ACCUMULATE:
                data = pool[:m * n]
            else:
                for r in range(n):
                    perm[base + r] = base + r
                _subsample(rng, perm, m * n, n)
                for r in range(n):
                    X[r] = pool[perm[r]]
                data = X[:n]
        elif code == MOSTRECENT:
            k = min(window, m)
            per = n // k
            off = 0
            for j in range(m - k, m):
                if j == 0:
                    _mix_sample(rng, w0, mu0, L0, per, X, off, z)
                else:
                    t = j % H
                    _mix_sample(rng, hw[t], hmu[t], hL[t], per, X, off, z)
                off += per
            data = X[:off]
        else:  # RANDOM
            _allocate(rng, n, m, counts)
            off = 0
            for j in range(m):
                c = counts[j]
                if c > 0:
                    if j == 0:
                        _mix_sample(rng, w0, mu0, L0, c, X, off, z)
                    else:
                        _mix_sample(rng, hw[j], hmu[j], hL[j], c, X, off, z)
                    off += c
            data = X[:n]
        if m > 1:
            w[:] = hw[s]
            mu[:] = hmu[s]
            cov[:] = hcov[s]
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
def _mix_many(rngs, idx, code, n, N, fresh, window, max_iter, tol, reg, w0, mu0, L0,
              hw, hmu, hcov, hL, realblk, pool, perm, X, g0, g1, o_w, o_mu, o_cov):
    for r in idx:
        _mix_chunk(rngs[r], code, n, N, fresh, window, max_iter, tol, reg, w0, mu0, L0,
                   hw[r], hmu[r], hcov[r], hL[r], realblk[r], pool[r], perm[r], X[r], g0, g1,
                   o_w[r], o_mu[r], o_cov[r])


class MixtureKernel(_Threaded):
    """Gaussian mixture on raw samples, refitted by EM."""

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
        self.perm = np.zeros((R, 0), dtype=np.int64)
        rows = self.N + self.n if self.code == MIX else self.n
        if self.code == ACCUMULATE:
            rows = 0
        self.X = np.zeros((R, rows, d))

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
        if self.code == RANDOM:
            self.hw = self._grow(self.hw, g1 + 1)
            self.hmu = self._grow(self.hmu, g1 + 1)
            self.hcov = self._grow(self.hcov, g1 + 1)
            self.hL = self._grow(self.hL, g1 + 1)
        if self.code in (ACCUMULATE, ACCSUB):
            self.pool = self._grow(self.pool, g1 * self.n)
            self.perm = self._grow(self.perm, g1 * self.n)
        out = {"weights": np.empty((R, G, K)), "means": np.empty((R, G, K, d)),
               "covs": np.empty((R, G, K, d, d))}
        m = self.model

        def one(idx):
            _mix_many(self.rng_list, idx, self.code, self.n, self.N, self.fresh, self.window,
                      m.max_iter, m.tol, m.reg_covar, self.w0, self.mu0, self.L0, self.hw,
                      self.hmu, self.hcov, self.hL, self.realblk, self.pool, self.perm,
                      self.X, g0, g1, out["weights"], out["means"], out["covs"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)


# ---------------------------------------------------------------------- regression
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
def _reg_chunk(rng, code, n, N, fresh, window, fixed, sigma, w0, hw, pA, pb, rA, rb,
               Xs, Gs, Cs, Gr, Cr, poolX, poolY, perm, g0, g1, o_te, o_coef):
    d = w0.shape[0]
    H = hw.shape[0]
    B = np.empty((d, d))
    xi = np.empty(d)
    A = np.empty((d, d))
    b = np.empty(d)
    wn = np.empty(d)
    counts = np.zeros(g1 + 1 if code == RANDOM else 1, np.int64)
    for m in range(g0 + 1, g1 + 1):
        i = m - g0 - 1
        s = (m - 1) % H
        A[:] = 0.0
        b[:] = 0.0
        if code == REPLACE:
            if fixed:
                _reg_gram(rng, hw[s], Gs, Cs, sigma, xi, A, b)
            else:
                _reg_group(rng, hw[s], n, sigma, B, xi, A, b)
        elif code == MIX:
            if m == 1 or fresh:
                rA[:] = 0.0
                rb[:] = 0.0
                if fixed:
                    _reg_gram(rng, w0, Gr, Cr, sigma, xi, rA, rb)
                else:
                    _reg_group(rng, w0, N, sigma, B, xi, rA, rb)
            A += rA
            b += rb
            if m >= 2:
                if fixed:
                    _reg_gram(rng, hw[s], Gs, Cs, sigma, xi, A, b)
                else:
                    _reg_group(rng, hw[s], n, sigma, B, xi, A, b)
        elif code == ACCUMULATE:
            if fixed:
                _reg_gram(rng, hw[s], Gs, Cs, sigma, xi, pA, pb)
            else:
                _reg_group(rng, hw[s], n, sigma, B, xi, pA, pb)
            A += pA
            b += pb
        elif code == MOSTRECENT:
            k = min(window, m)
            per = n // k
            full = k * per == n
            for q in range(k):
                j = m - k + q
                if fixed:
                    _reg_rows(rng, hw[j % H], Xs, q * per, (q + 1) * per, sigma, not full,
                              A, b)
                else:
                    _reg_group(rng, hw[j % H], per, sigma, B, xi, A, b)
            if fixed and full:
                A += Gs
        elif code == RANDOM:
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
        else:  # ACCSUB: raw pool of labelled rows
            base = (m - 1) * n
            for r in range(n):
                x = poolX[base + r]
                if fixed:
                    x[:] = Xs[r]
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
        _pinv_solve(A, b, wn)
        hw[m % H] = wn
        te = 0.0
        for a in range(d):
            te += (wn[a] - w0[a]) ** 2
            o_coef[i, a] = wn[a]
        o_te[i] = te


@njit(nogil=True, cache=True)
def _reg_many(rngs, idx, code, n, N, fresh, window, fixed, sigma, w0, hw, pA, pb, rA, rb,
              Xs, Gs, Cs, Gr, Cr, poolX, poolY, perm, g0, g1, o_te, o_coef):
    for r in idx:
        _reg_chunk(rngs[r], code, n, N, fresh, window, fixed, sigma, w0, hw[r], pA[r], pb[r],
                   rA[r], rb[r], Xs[r], Gs[r], Cs[r], Gr[r], Cr[r], poolX[r], poolY[r],
                   perm[r], g0, g1, o_te[r], o_coef[r])


class RegressionKernel(_Threaded):
    """Linear regression, fixed or fresh Gaussian design."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
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
        keep_rows = self.fixed and self.code in (MOSTRECENT, RANDOM, ACCSUB)
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
        if self.code == RANDOM:
            self.hw = self._grow(self.hw, g1 + 1)
        if self.code == ACCSUB:
            self.poolX = self._grow(self.poolX, g1 * self.n)
            self.poolY = self._grow(self.poolY, g1 * self.n)
            self.perm = self._grow(self.perm, g1 * self.n)
        out = {"test_error": np.empty((R, G)), "coef": np.empty((R, G, d))}

        def one(idx):
            _reg_many(self.rng_list, idx, self.code, self.n, self.N, self.fresh, self.window,
                      self.fixed, self.sigma, self.w0, self.hw, self.pA, self.pb, self.rA,
                      self.rb, self.Xs, self.Gs, self.Cs, self.Gr, self.Cr, self.poolX,
                      self.poolY, self.perm, g0, g1, out["test_error"], out["coef"])

        self._parallel(one)
        return self.select({k: out[k] for k in self.names}, g0, keep)


KERNELS = {"gaussian": GaussianKernel, "mixture": MixtureKernel,
           "regression": RegressionKernel}
