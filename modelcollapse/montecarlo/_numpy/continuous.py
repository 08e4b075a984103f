"""NumPy kernels of the continuous families (Gaussian, Gaussian mixture, linear
regression): the generic plan loop on sufficient statistics or raw samples."""

from __future__ import annotations

import numpy as np

from .. import _em, _stats
from .._engine import log_eps_threshold
from .core import (
    PlanKernel,
    _scatter,
    bartlett,
    chan_merge,
    gaussian_group,
    gaussian_points,
    pinv_solve,
    psd_factor,
    subsample_rows,
)


# ---------------------------------------------------------------------- gaussian
class GaussianKernel(PlanKernel):
    """Groups are ``(k, mean, scatter, F)`` (``F``: a triangular factor of the scatter
    when the group is one block, else ``None``), or raw points for subsampled pools;
    ``history[j] = (mean, cov, L, logdet)``. A fit of one block carries the factor
    ``L_t = F/\\sqrt{den}`` (under ``Replace``, ``L_{t-1} B_t/\\sqrt{den}``): no
    re-factorisation, and ``log det`` accumulates exactly."""

    def __init__(self, problem, replicates, seed_seq):
        m = problem.model
        self.d = m.dim
        self.ddof = 1 if m.estimator == "unbiased" else 0
        self.R = replicates
        super().__init__(problem, replicates, seed_seq)
        self.mean, self.cov, _, self.logdet = self.history[0]
        self.ld0 = float(np.linalg.slogdet(m.cov)[1])
        self.collapse_time = -np.ones(self.R, dtype=np.int64)
        self.threshold = log_eps_threshold(problem)

    def real_theta(self):
        m, R = self.model, self.R
        L = np.linalg.cholesky(m.cov)
        return (np.broadcast_to(m.mean, (R, self.d)), np.broadcast_to(m.cov, (R, self.d,
                                                                               self.d)),
                np.broadcast_to(L, (R, self.d, self.d)),
                np.full(R, float(np.linalg.slogdet(m.cov)[1])))

    def draw(self, j, k, offset):
        mean, _, L, _ = self.history[j]
        T = self.problem.sampling.temperature
        if j > 0 and T != 1.0:  # a fitted model sampled at temperature T: N(mu, T Sigma)
            L = L * np.sqrt(T)
        if self.raw:
            return gaussian_points(self.rng, mean, L, k)
        return gaussian_group(self.rng, mean, L, k)

    def merge(self, a, b):
        if self.raw:
            return np.concatenate([a, b], axis=1)
        return chan_merge(a, b)

    def subsample(self, pool, n):
        return _scatter(subsample_rows(self.rng, pool, pool.shape[1], n))

    def fit(self, g, m):
        k, mean, S = g[:3]
        den = (k - self.ddof)[:, None, None]
        cov = S / den
        if len(g) > 3:  # one block: its factor, no re-factorisation
            L = g[3] / np.sqrt(den)
        else:
            L = psd_factor(cov)
        with np.errstate(divide="ignore"):
            logdet = 2 * np.log(np.abs(np.diagonal(L, axis1=1, axis2=2))).sum(axis=1)
        self.mean, self.cov, self.logdet = mean, cov, logdet
        return mean, cov, L, logdet

    def _stats(self):
        return _stats.gaussian_stats(self.mean, self.cov, self.model.mean, self.model.cov,
                                     self.names, logdet_ratio=self.logdet - self.ld0)

    def _times(self, m):
        ld = self.logdet - self.ld0
        self.collapse_time[(self.collapse_time < 0) & (ld < self.threshold)] = m


# ---------------------------------------------------------------------- mixture
class MixtureKernel(PlanKernel):
    """Groups are raw points ``(R, k, d)``; the fit is EM, warm-started from the
    previous generation's fit."""

    def __init__(self, problem, replicates, seed_seq):
        self.R = replicates
        super().__init__(problem, replicates, seed_seq)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 10))

    def real_theta(self):
        m, R = self.model, self.R
        return (np.broadcast_to(m.weights, (R, *m.weights.shape)).copy(),
                np.broadcast_to(m.means, (R, *m.means.shape)).copy(),
                np.broadcast_to(m.covs, (R, *m.covs.shape)).copy())

    def draw(self, j, k, offset):
        """``k`` raw points per replicate from the mixtures ``history[j]``."""
        w, mu, cov = self.history[j]
        R, K, d = mu.shape
        u = self.rng.random((R, k))
        comp = (u[:, :, None] > np.cumsum(w, axis=1)[:, None, :]).sum(axis=2)
        comp = np.minimum(comp, K - 1)
        L = np.linalg.cholesky(cov)
        z = self.rng.standard_normal((R, k, d))
        rr = np.arange(R)[:, None]
        return mu[rr, comp] + np.einsum("rkij,rkj->rki", L[rr, comp], z)

    def uniform_blocks(self, m):
        # each point from a model drawn uniformly among the m fits so far
        n = self.plan.n
        pick = self.rng.integers(0, m, size=(self.R, n))
        X = np.empty((self.R, n, self.model.dim))
        for j in range(m):
            X = np.where((pick == j)[:, :, None], self.draw(j, n, 0), X)
        return X

    def merge(self, a, b):
        return np.concatenate([a, b], axis=1)

    def subsample(self, pool, n):
        return subsample_rows(self.rng, pool, pool.shape[1], n)

    def fit(self, X, m):
        mod = self.model
        start = _em.em_init(X, mod.components) if m == 1 else self.history[-1]
        return _em.em_fit(X, *start, max_iter=mod.max_iter, tol=mod.tol,
                          reg_covar=mod.reg_covar)

    def _stats(self):
        w, mu, cov = self.history[-1]
        if w.shape[1] != self.model.components:
            K, d = self.model.components, self.model.dim
            w = np.full((self.R, K), np.nan)
            mu = np.full((self.R, K, d), np.nan)
            cov = np.full((self.R, K, d, d), np.nan)
        return _stats.mixture_stats(w, mu, cov, self.names)


# ---------------------------------------------------------------------- regression
class RegressionKernel(PlanKernel):
    """Groups are ``(A = X^T X, b = X^T y)``, or raw rows ``(R, k, d+1)`` for subsampled
    pools. A fixed design relabels the same rows every generation: the synthetic blocks
    take consecutive rows of ``X`` (``offset``), the real block its own rows."""

    def __init__(self, problem, replicates, seed_seq):
        mod = problem.model
        self.d, self.sigma = mod.dim, mod.noise
        self.R = replicates
        super().__init__(problem, replicates, seed_seq)
        self.fixed = mod.design == "fixed"
        if self.fixed:
            self.X = self.rng.standard_normal((self.R, self.plan.n, self.d))
            if self.plan.real:
                self.X_real = self.rng.standard_normal((self.R, self.plan.real, self.d))
        self.W = self.history[0]

    def real_theta(self):
        return np.broadcast_to(self.model.w, (self.R, self.d)).copy()

    def _label(self, W, X):
        return np.einsum("rkd,rd->rk", X, W) + self.sigma * self.rng.standard_normal(
            X.shape[:2])

    def _rows_group(self, X, y):
        if self.raw:
            return np.concatenate([X, y[:, :, None]], axis=2)
        return np.einsum("rki,rkj->rij", X, X), np.einsum("rki,rk->ri", X, y)

    def draw(self, j, k, offset):
        W = self.history[j]
        if self.fixed:
            if np.ndim(k) == 0:
                X = self.X[:, offset:offset + k]
                return self._rows_group(X, self._label(W, X))
            idx = np.arange(self.X.shape[1])[None, :]
            mask = (idx >= offset[:, None]) & (idx < (offset + k)[:, None])
            X = self.X * mask[:, :, None]
            return self._rows_group(X, self._label(W, X) * mask)
        if self.raw:
            X = self.rng.standard_normal((self.R, k, self.d))
            return self._rows_group(X, self._label(W, X))
        # exact (A, b) of k fresh rows: A ~ Wishart(k, I), b = A w + sigma B xi
        B = bartlett(self.rng, k, self.d, self.R)
        A = B @ np.swapaxes(B, 1, 2)
        xi = self.rng.standard_normal((self.R, self.d))
        return A, np.einsum("rij,rj->ri", A, W) + self.sigma * np.einsum("rij,rj->ri", B, xi)

    def draw_real(self, k):
        if self.fixed:
            return self._rows_group(self.X_real, self._label(self.history[0], self.X_real))
        return self.draw(0, k, 0)

    def merge(self, a, b):
        if self.raw:
            return np.concatenate([a, b], axis=1)
        return a[0] + b[0], a[1] + b[1]

    def subsample(self, pool, n):
        sub = subsample_rows(self.rng, pool, pool.shape[1], n)
        X, y = sub[:, :, :-1], sub[:, :, -1]
        return np.einsum("rki,rkj->rij", X, X), np.einsum("rki,rk->ri", X, y)

    def fit(self, g, m):
        self.W = pinv_solve(*g)
        return self.W

    def _stats(self):
        return _stats.regression_stats(self.W, self.model.w, self.names)
