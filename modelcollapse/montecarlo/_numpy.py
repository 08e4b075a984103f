"""NumPy backend: exact count / sufficient-statistic kernels vectorised over replicates.

One generator (``default_rng(seed_seq)``) drives all replicates, one generation at a
time; each generation costs a few array operations on ``(replicates, ...)`` arrays.
"""

from __future__ import annotations

import numpy as np

from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)
from . import _em, _stats
from ._engine import log_eps_threshold
from ._kernel import Kernel


# ---------------------------------------------------------------------- samplers
def bartlett(rng, dof, d: int, R: int) -> np.ndarray:
    r"""Lower-triangular factors ``B`` with :math:`BB^\top \sim \mathrm{Wishart}_d(\nu, I)`,
    shape ``(R, d, d)``, for integer ``dof`` :math:`\nu \ge 0` (scalar or ``(R,)``).

    Bartlett: :math:`B_{ii}^2 \sim \chi^2_{\nu-i+1}`, :math:`B_{ij} \sim N(0, 1)` for
    ``j < i``. For :math:`\nu < d` the columns ``j > nu`` vanish (Gram--Schmidt on the
    ``nu x d`` data matrix), which keeps the construction exact for singular Wisharts.
    """
    dof = np.broadcast_to(np.asarray(dof, dtype=np.int64), (R,))
    i = np.arange(d)
    df = dof[:, None] - i[None, :]  # nu - i (0-based i)
    diag = np.sqrt(rng.chisquare(np.maximum(df, 1)) * (df > 0))
    B = np.tril(rng.standard_normal((R, d, d)), k=-1)
    B *= (i[None, None, :] < dof[:, None, None])  # column j exists only if j < nu
    B[:, i, i] = diag
    return B


def chan_merge(a, b):
    """Pool two groups of points given as ``(count, mean, scatter)`` (Chan et al. 1979)."""
    k1, m1, S1 = a
    k2, m2, S2 = b
    k = k1 + k2
    safe = np.where(k > 0, k, 1).astype(np.float64)
    delta = m2 - m1
    mean = m1 + delta * (k2 / safe)[:, None]
    S = S1 + S2 + np.einsum("ri,rj->rij", delta, delta) * (k1 * k2 / safe)[:, None, None]
    return k, mean, S


def gaussian_group(rng, mean, chol, k):
    """Exact ``(k, sample mean, scatter)`` of ``k`` points from :math:`N(\\mu, LL^\\top)`
    (``k`` scalar or ``(R,)``, zeros allowed)."""
    R, d = mean.shape
    k = np.broadcast_to(np.asarray(k, dtype=np.int64), (R,))
    z = rng.standard_normal((R, d))
    safe = np.sqrt(np.maximum(k, 1))[:, None]
    m = mean + np.einsum("rij,rj->ri", chol, z) / safe
    B = bartlett(rng, np.maximum(k - 1, 0), d, R)
    LB = chol @ B
    return k.astype(np.float64), m, LB @ np.swapaxes(LB, 1, 2)


def gaussian_points(rng, mean, chol, k: int) -> np.ndarray:
    """``k`` raw points per replicate, shape ``(R, k, d)``."""
    R, d = mean.shape
    z = rng.standard_normal((R, k, d))
    return mean[:, None, :] + np.einsum("rij,rkj->rki", chol, z)


def subsample_rows(rng, pool: np.ndarray, size: int, n: int) -> np.ndarray:
    """``n`` of the first ``size`` rows of each replicate's pool, without replacement."""
    keys = rng.random((pool.shape[0], size))
    idx = np.argpartition(keys, n - 1, axis=1)[:, :n] if n < size else \
        np.broadcast_to(np.arange(size), (pool.shape[0], size))
    return np.take_along_axis(pool, idx[:, :, None], axis=1)


def _scatter(X):
    mean = X.mean(axis=1)
    D = X - mean[:, None]
    return np.full(X.shape[0], float(X.shape[1])), mean, np.einsum("rki,rkj->rij", D, D)


def _stack(d):
    return {k: v[:, None] for k, v in d.items()}


def _collect(rows, names):
    return {k: np.stack([r[k] for r in rows], axis=1) for k in names}


class _VectorKernel(Kernel):
    """One generator for all replicates; ``advance`` steps every replicate one
    generation at a time (``_step``), updates the collapse / loss times (``_times``) and
    records the statistics of the new fit (``_stats``)."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.rng = np.random.default_rng(seed_seq)

    def _times(self, m):
        pass

    def initial(self):
        return _stack(self._stats())

    def advance(self, g0, g1):
        rows = []
        for m in range(g0 + 1, g1 + 1):
            self._step(m)
            self._times(m)
            rows.append(self._stats())
        return _collect(rows, self.names)


# ---------------------------------------------------------------------- categorical
class CategoricalKernel(_VectorKernel):
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.p0 = self.model.p
        self.V = self.p0.size
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.P = np.broadcast_to(self.p0, (self.R, self.V)).copy()
        self.P1 = None
        self.m = 0
        self.collapse_time = np.where(np.count_nonzero(self.p0) == 1, 0, -1) * \
            np.ones(self.R, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((self.R, 1), dtype=np.int64)
        r = self.regime
        if isinstance(r, MostRecent):
            self.ring = [self.P.copy()]  # sampling distributions of the latest models
        if isinstance(r, RandomlySampled):
            self.qsum = self.P.copy()
        self.pool = None
        self.real = None

    def default_chunk(self, target):
        return max(1, min(target, 50))

    def _q(self, P):
        return _stats.tempered(P, self.problem.temperature)

    def _mult(self, n, Q):
        return self.rng.multinomial(n, Q).astype(np.float64)

    def _step(self, m):
        r, R = self.regime, self.R
        real_q = np.broadcast_to(self.p0, (R, self.V))
        if isinstance(r, Replace):
            alive = np.flatnonzero(self.collapse_time < 0)
            if alive.size:
                Q = real_q[alive] if m == 1 else self._q(self.P[alive])
                self.P[alive] = self._mult(r.n, Q) / r.n
        elif isinstance(r, Mix):
            if self.real is None or r.fresh:
                self.real = self._mult(r.real, real_q)
            counts = self.real if m == 1 else self.real + self._mult(r.synthetic,
                                                                     self._q(self.P))
            self.P = counts / counts.sum(axis=1, keepdims=True)
        elif isinstance(r, (Accumulate, AccumulateSubsample)):
            new = self._mult(r.n, real_q if m == 1 else self._q(self.P))
            self.pool = new if self.pool is None else self.pool + new
            if isinstance(r, Accumulate) or m == 1:
                self.P = self.pool / (m * r.n)
            else:
                pool = self.pool.astype(np.int64)
                train = np.array([self.rng.multivariate_hypergeometric(row, r.n)
                                  for row in pool], dtype=np.float64)
                self.P = train / r.n
        elif isinstance(r, MostRecent):
            k = len(self.ring)
            each = r.n // k
            counts = sum(self._mult(each, Q) for Q in self.ring)
            self.P = counts / (each * k)
            self.ring.append(self._q(self.P))
            if len(self.ring) > r.window:
                self.ring.pop(0)
        elif isinstance(r, RandomlySampled):
            self.P = self._mult(r.n, self.qsum / m) / r.n
            self.qsum += self._q(self.P)
        if m == 1:
            self.P1 = self.P.copy()

    def _stats(self):
        return _stats.categorical_stats(self.P, self.p0, self.P1, self.tokens, self.names)

    def _times(self, m):
        single = np.count_nonzero(self.P, axis=1) == 1
        self.collapse_time[(self.collapse_time < 0) & single] = m
        lost = self.P[:, self.tokens] == 0
        self.loss_time[(self.loss_time < 0) & lost] = m


# ---------------------------------------------------------------------- gaussian
class GaussianKernel(_VectorKernel):
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        m = self.model
        self.d = m.dim
        self.ddof = 1 if m.estimator == "unbiased" else 0
        self.mean = np.broadcast_to(m.mean, (self.R, self.d)).copy()
        self.cov = np.broadcast_to(m.cov, (self.R, self.d, self.d)).copy()
        self.collapse_time = -np.ones(self.R, dtype=np.int64)
        self.threshold = log_eps_threshold(problem)
        self.history = [(self.mean, self.cov)]
        self.pool = self.pool_size = self.real = self.stats_pool = None

    def _chol(self, cov):
        return np.linalg.cholesky(cov)

    def _group(self, j, k):
        mean, cov = self.history[j]
        return gaussian_group(self.rng, mean, self._chol(cov), k)

    def _fit(self, group):
        k, mean, S = group
        return mean, S / (k - self.ddof)[:, None, None]

    def _step(self, m):
        r, R = self.regime, self.R
        if isinstance(r, Replace):
            fit = self._fit(self._group(m - 1, r.n))
        elif isinstance(r, Mix):
            if self.real is None or r.fresh:
                self.real = self._group(0, r.real)
            g = self.real if m == 1 else chan_merge(self.real,
                                                    self._group(m - 1, r.synthetic))
            fit = self._fit(g)
        elif isinstance(r, Accumulate):
            g = self._group(m - 1, r.n)
            self.stats_pool = g if self.stats_pool is None else chan_merge(self.stats_pool, g)
            fit = self._fit(self.stats_pool)
        elif isinstance(r, AccumulateSubsample):
            mean, cov = self.history[m - 1]
            pts = gaussian_points(self.rng, mean, self._chol(cov), r.n)
            self.pool = pts if self.pool is None else np.concatenate([self.pool, pts], axis=1)
            sub = subsample_rows(self.rng, self.pool, self.pool.shape[1], r.n)
            fit = self._fit(_scatter(sub))
        elif isinstance(r, MostRecent):
            k = min(r.window, m)
            g = None
            for j in range(m - k, m):
                h = self._group(j, r.n // k)
                g = h if g is None else chan_merge(g, h)
            fit = self._fit(g)
        elif isinstance(r, RandomlySampled):
            alloc = self.rng.multinomial(r.n, np.full(m, 1.0 / m), size=R)
            g = None
            for j in range(m):
                h = self._group(j, alloc[:, j])
                g = h if g is None else chan_merge(g, h)
            fit = self._fit(g)
        self.mean, self.cov = fit
        self.history.append(fit)
        if isinstance(r, (Replace, Mix, Accumulate, AccumulateSubsample)):
            self.history[1:-1] = [None] * (len(self.history) - 2)  # real + last suffice
        elif isinstance(r, MostRecent) and len(self.history) > r.window + 1:
            self.history[-r.window - 1] = None

    def _stats(self):
        return _stats.gaussian_stats(self.mean, self.cov, self.model.mean, self.model.cov,
                                     self.names)

    def _times(self, m):
        logdet = np.linalg.slogdet(self.cov)[1] - np.linalg.slogdet(self.model.cov)[1]
        self.collapse_time[(self.collapse_time < 0) & (logdet < self.threshold)] = m


# ---------------------------------------------------------------------- mixture
class MixtureKernel(_VectorKernel):
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        m = self.model
        R = self.R
        self.real = (np.broadcast_to(m.weights, (R, *m.weights.shape)).copy(),
                     np.broadcast_to(m.means, (R, *m.means.shape)).copy(),
                     np.broadcast_to(m.covs, (R, *m.covs.shape)).copy())
        self.history = [self.real]
        self.pool = self.real_block = None

    def default_chunk(self, target):
        return max(1, min(target, 10))

    def _points(self, theta, k):
        """``k`` raw points per replicate from the mixtures ``theta``."""
        w, mu, cov = theta
        R, K, d = mu.shape
        u = self.rng.random((R, k))
        comp = (u[:, :, None] > np.cumsum(w, axis=1)[:, None, :]).sum(axis=2)
        comp = np.minimum(comp, K - 1)
        L = np.linalg.cholesky(cov)
        z = self.rng.standard_normal((R, k, d))
        rr = np.arange(R)[:, None]
        return mu[rr, comp] + np.einsum("rkij,rkj->rki", L[rr, comp], z)

    def _points_from(self, j, k):
        return self._points(self.history[j], k)

    def _fit(self, X, m):
        mod = self.model
        start = _em.em_init(X, mod.components) if m == 1 else self.history[-1]
        return _em.em_fit(X, *start, max_iter=mod.max_iter, tol=mod.tol,
                          reg_covar=mod.reg_covar)

    def _step(self, m):
        r, R = self.regime, self.R
        if isinstance(r, Replace):
            X = self._points_from(m - 1, r.n)
        elif isinstance(r, Mix):
            if self.real_block is None or r.fresh:
                self.real_block = self._points_from(0, r.real)
            X = self.real_block if m == 1 else np.concatenate(
                [self.real_block, self._points_from(m - 1, r.synthetic)], axis=1)
        elif isinstance(r, (Accumulate, AccumulateSubsample)):
            new = self._points_from(m - 1, r.n)
            self.pool = new if self.pool is None else np.concatenate([self.pool, new], axis=1)
            X = self.pool if isinstance(r, Accumulate) else \
                subsample_rows(self.rng, self.pool, self.pool.shape[1], r.n)
        elif isinstance(r, MostRecent):
            k = min(r.window, m)
            X = np.concatenate([self._points_from(j, r.n // k) for j in range(m - k, m)],
                               axis=1)
        elif isinstance(r, RandomlySampled):
            # each point from a model drawn uniformly among the m fits so far
            pick = self.rng.integers(0, m, size=(R, r.n))
            X = np.empty((R, r.n, self.model.dim))
            for j in range(m):
                pts = self._points_from(j, r.n)
                X = np.where((pick == j)[:, :, None], pts, X)
        fit = self._fit(X, m)
        self.history.append(fit)
        if not isinstance(r, (MostRecent, RandomlySampled)):
            self.history[1:-1] = [None] * (len(self.history) - 2)

    def _stats(self, theta=None):
        w, mu, cov = self.history[-1] if theta is None else theta
        if w.shape[1] != self.model.components:
            K, d = self.model.components, self.model.dim
            w = np.full((self.R, K), np.nan)
            mu = np.full((self.R, K, d), np.nan)
            cov = np.full((self.R, K, d, d), np.nan)
        return _stats.mixture_stats(w, mu, cov, self.names)



# ---------------------------------------------------------------------- regression
class RegressionKernel(_VectorKernel):
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        mod, r = self.model, self.regime
        self.d, self.sigma = mod.dim, mod.noise
        self.W = np.broadcast_to(mod.w, (self.R, self.d)).copy()
        self.history = [self.W]
        self.fixed = mod.design == "fixed"
        if self.fixed:
            n_syn = r.synthetic if isinstance(r, Mix) else r.n
            self.X = self.rng.standard_normal((self.R, n_syn, self.d))
            if isinstance(r, Mix):
                self.X_real = self.rng.standard_normal((self.R, r.real, self.d))
        self.real = self.pool = self.stats_pool = None

    # a group of labelled rows is summarised by (A = X^T X, b = X^T y)
    def _rows(self, W, X):
        y = np.einsum("rkd,rd->rk", X, W) + self.sigma * self.rng.standard_normal(X.shape[:2])
        return X, y

    def _group_rows(self, X, y):
        return np.einsum("rki,rkj->rij", X, X), np.einsum("rki,rk->ri", X, y)

    def _group(self, W, k, X=None):
        """``k`` rows labelled by ``W``: exact (A, b) for a fresh design, or the fixed
        design rows ``X``."""
        if X is not None:
            return self._group_rows(*self._rows(W, X))
        B = bartlett(self.rng, k, self.d, self.R)
        A = B @ np.swapaxes(B, 1, 2)
        xi = self.rng.standard_normal((self.R, self.d))
        b = np.einsum("rij,rj->ri", A, W) + self.sigma * np.einsum("rij,rj->ri", B, xi)
        return A, b

    def _fresh_rows(self, W, k):
        return self._rows(W, self.rng.standard_normal((self.R, k, self.d)))

    @staticmethod
    def _add(g, h):
        return h if g is None else (g[0] + h[0], g[1] + h[1])

    @staticmethod
    def _fit(g):
        A, b = g
        return np.einsum("rij,rj->ri", np.linalg.pinv(A, hermitian=True), b)

    def _step(self, m):
        r, R = self.regime, self.R
        Xs = self.X if self.fixed else None
        if isinstance(r, Replace):
            g = self._group(self.history[m - 1], r.n, Xs)
        elif isinstance(r, Mix):
            if self.real is None or r.fresh:
                self.real = self._group(self.history[0], r.real,
                                        self.X_real if self.fixed else None)
            g = self.real if m == 1 else self._add(
                self.real, self._group(self.history[m - 1], r.synthetic, Xs))
        elif isinstance(r, Accumulate):
            self.stats_pool = self._add(self.stats_pool,
                                        self._group(self.history[m - 1], r.n, Xs))
            g = self.stats_pool
        elif isinstance(r, AccumulateSubsample):
            W = self.history[m - 1]
            X, y = self._rows(W, Xs) if self.fixed else self._fresh_rows(W, r.n)
            rows = np.concatenate([X, y[:, :, None]], axis=2)
            self.pool = rows if self.pool is None else np.concatenate([self.pool, rows], 1)
            sub = subsample_rows(self.rng, self.pool, self.pool.shape[1], r.n)
            g = self._group_rows(sub[:, :, :-1], sub[:, :, -1])
        elif isinstance(r, MostRecent):
            k = min(r.window, m)
            each = r.n // k
            g = None
            for i, j in enumerate(range(m - k, m)):
                X = Xs[:, i * each:(i + 1) * each] if self.fixed else None
                g = self._add(g, self._group(self.history[j], each, X))
        elif isinstance(r, RandomlySampled):
            alloc = self.rng.multinomial(r.n, np.full(m, 1.0 / m), size=R)
            if self.fixed:  # rows in blocks by model index, as in the reference
                owner = (np.arange(r.n)[None, :] >= np.cumsum(alloc, axis=1)[:, :, None]
                         ).sum(axis=1)  # (R, n): model of each row
                Wrow = np.stack(self.history, axis=1)[np.arange(R)[:, None], owner]
                y = np.einsum("rkd,rkd->rk", Xs, Wrow) + \
                    self.sigma * self.rng.standard_normal((R, r.n))
                g = self._group_rows(Xs, y)
            else:
                g = None
                for j in range(m):
                    g = self._add(g, self._group(self.history[j], alloc[:, j]))
        self.W = self._fit(g)
        self.history.append(self.W)

    def _stats(self):
        return _stats.regression_stats(self.W, self.model.w, self.names)



KERNELS = {"categorical": CategoricalKernel, "gaussian": GaussianKernel,
           "mixture": MixtureKernel, "regression": RegressionKernel}
