"""NumPy backend: exact count / sufficient-statistic kernels vectorised over replicates.

One generator (``default_rng(seed_seq)``) drives all replicates, one generation at a
time. Every family implements a few primitives on *groups* of training samples
(``draw`` a group from an earlier model, ``merge`` two groups, ``subsample`` a pool,
``fit`` a group) and :class:`PlanKernel` runs the one generic loop over the regime's
:class:`~modelcollapse.regimes.Plan`. Registered fast paths (:data:`FAST_PATHS`)
replace the generic loop for particular (family, plan) pairs and are tested equal in
law to it.
"""

from __future__ import annotations

import numpy as np

from . import _em, _stats
from ._engine import log_eps_threshold
from ._kernel import PINV_RTOL, Kernel

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
    k1, m1, S1 = a[:3]
    k2, m2, S2 = b[:3]
    k = k1 + k2
    safe = np.where(k > 0, k, 1).astype(np.float64)
    delta = m2 - m1
    mean = m1 + delta * (k2 / safe)[:, None]
    S = S1 + S2 + np.einsum("ri,rj->rij", delta, delta) * (k1 * k2 / safe)[:, None, None]
    return k, mean, S


def gaussian_group(rng, mean, chol, k):
    """Exact ``(k, sample mean, scatter, F)`` of ``k`` points from :math:`N(\\mu, LL^\\top)`
    (``k`` scalar or ``(R,)``, zeros allowed); ``F = L B`` is a lower-triangular factor
    of the scatter (``F F^T = S``)."""
    R, d = mean.shape
    k = np.broadcast_to(np.asarray(k, dtype=np.int64), (R,))
    z = rng.standard_normal((R, d))
    safe = np.sqrt(np.maximum(k, 1))[:, None]
    m = mean + np.einsum("rij,rj->ri", chol, z) / safe
    B = bartlett(rng, np.maximum(k - 1, 0), d, R)
    LB = chol @ B
    return k.astype(np.float64), m, LB @ np.swapaxes(LB, 1, 2), LB


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


def psd_factor(cov: np.ndarray) -> np.ndarray:
    """A lower-triangular ``L`` with ``L L^T = cov`` (batched); positive-semidefinite
    (singular) matrices get a factor from their QR-triangularised square root."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        lam, U = np.linalg.eigh(cov)
        root = U * np.sqrt(np.maximum(lam, 0.0))[..., None, :]  # root root^T = cov
        r = np.linalg.qr(np.swapaxes(root, -1, -2), mode="r")  # root^T = Q r
        L = np.swapaxes(r, -1, -2)  # L L^T = r^T r = root root^T
        sign = np.where(np.diagonal(L, axis1=-2, axis2=-1) < 0, -1.0, 1.0)
        return L * sign[..., None, :]


def pinv_solve(A, b):
    """Minimum-norm solutions of ``A w = b`` for PSD Gram matrices ``A`` (batched), with
    the backends' common cut-off :data:`PINV_RTOL`."""
    A = (A + np.swapaxes(A, -1, -2)) / 2
    lam, U = np.linalg.eigh(A)
    cut = np.maximum(lam[..., -1:], 0.0) * A.shape[-1] * PINV_RTOL
    inv = np.where(lam > cut, 1.0 / np.where(lam > cut, lam, 1.0), 0.0)
    return np.einsum("rij,rj->ri", U, inv * np.einsum("rji,rj->ri", U, b))


def _scatter(X):
    mean = X.mean(axis=1)
    D = X - mean[:, None]
    return np.full(X.shape[0], float(X.shape[1])), mean, np.einsum("rki,rkj->rij", D, D)


def _stack(d):
    return {k: v[:, None] for k, v in d.items()}


def _collect(rows, names):
    return {k: np.stack([r[k] for r in rows], axis=1) for k in names}


# ---------------------------------------------------------------------- the generic loop
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

    def advance(self, g0, g1, keep=None):
        want = set(range(g0 + 1, g1 + 1) if keep is None else np.asarray(keep).tolist())
        rows = []
        for m in range(g0 + 1, g1 + 1):
            self._step(m)
            self._times(m)
            if m in want:
                rows.append(self._stats())
        return _collect(rows, self.names)


class PlanKernel(_VectorKernel):
    """The one loop over a :class:`~modelcollapse.regimes.Plan`. A family supplies

    ``real_theta()``
        the real model, batched over replicates (``history[0]``);
    ``draw(j, k, offset)``
        a group of ``k`` samples (int or ``(R,)``) of model ``history[j]`` (model 0 is
        the real one: plain draws; later models follow the sampling policy);
        ``offset`` is the group's first position among the generation's synthetic
        samples (fixed designs use it);
    ``draw_real(k)``
        the real block;
    ``merge(a, b)``, ``subsample(pool, n)``, ``fit(group, m)``
        groups pooled, ``n`` of a pool without replacement, the fitted model.
    """

    #: pools that are subsampled keep raw samples; the family knows how
    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.plan = problem.plan
        self.raw = self.plan.pool == "subsample"
        self.history = [self.real_theta()]
        self.real = self.pool = None

    def _merge(self, a, b):
        return b if a is None else a if b is None else self.merge(a, b)

    def uniform_blocks(self, m):
        """Each of the ``n`` samples from a model drawn uniformly among ``0..m-1``:
        a multinomial allocation, then one group per model."""
        alloc = self.rng.multinomial(self.plan.n, np.full(m, 1.0 / m), size=self.R)
        off = np.zeros(self.R, dtype=np.int64)
        g = None
        for j in range(m):
            g = self._merge(g, self.draw(j, alloc[:, j], off))
            off = off + alloc[:, j]
        return g

    def _step(self, m):
        plan = self.plan
        g = None
        if plan.sources == "uniform" and m >= plan.synthetic_from:
            g = self.uniform_blocks(m)
        else:
            off = 0
            for j, k in plan.blocks(m):
                g = self._merge(g, self.draw(j, k, off))
                off += k
        if plan.real:
            if self.real is None or plan.real_fresh:
                self.real = self.draw_real(plan.real)
            g = self._merge(self.real, g)
        if plan.pool != "none":
            self.pool = g = self._merge(self.pool, g)
            if plan.pool == "subsample":
                g = self.subsample(self.pool, plan.n)
        theta = self.fit(g, m)
        self.history.append(theta)
        keep = plan.history
        if keep is not None and len(self.history) > keep + 1:
            self.history[-keep - 1] = None  # the real model (index 0) always stays

    def draw_real(self, k):
        return self.draw(0, k, 0)


# ---------------------------------------------------------------------- categorical
class CategoricalKernel(PlanKernel):
    """Dense ``(R, V)`` counts; ``history[j]`` holds model ``j``'s *sampling*
    distribution (the fit under the sampling policy), ``P`` the current fit."""

    def __init__(self, problem, replicates, seed_seq):
        self.p0 = problem.model.p
        self.V = self.p0.size
        self.R = replicates
        self.P = np.broadcast_to(self.p0, (replicates, self.V)).copy()
        super().__init__(problem, replicates, seed_seq)
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.P1 = None
        self.collapse_time = np.where(np.count_nonzero(self.p0) == 1, 0, -1) * \
            np.ones(self.R, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((self.R, 1), dtype=np.int64)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 50))

    def real_theta(self):
        return np.broadcast_to(self.p0, (self.R, self.V))

    def draw(self, j, k, offset):
        return self.rng.multinomial(k, self.history[j]).astype(np.float64)

    def merge(self, a, b):
        return a + b

    def subsample(self, pool, n):
        rows = pool.astype(np.int64)
        return np.array([self.rng.multivariate_hypergeometric(row, n) for row in rows],
                        dtype=np.float64)

    def fit(self, counts, m):
        self.P = counts / counts.sum(axis=1, keepdims=True)
        if m == 1:
            self.P1 = self.P.copy()
        return _stats.sampling_distribution(self.P, self.problem.sampling)

    def _stats(self):
        return _stats.categorical_stats(self.P, self.p0, self.P1, self.tokens, self.names)

    def _times(self, m):
        single = np.count_nonzero(self.P, axis=1) == 1
        self.collapse_time[(self.collapse_time < 0) & single] = m
        lost = self.P[:, self.tokens] == 0
        self.loss_time[(self.loss_time < 0) & lost] = m


class ReplaceCountsKernel(_VectorKernel):
    r"""Fast path for a categorical model under plain ``Replace``: integer counts of the
    surviving tokens only, packed to the left of each row (``cnt``, token ids ``tok``),
    in the replicates that have not collapsed. A generation is one call of
    ``Generator.multinomial`` over ``(alive replicates, widest support)``: its
    conditional binomials stop at each row's last survivor, so the cost is about one
    binomial draw per surviving token. Statistics are sums over the survivors plus what
    the lost tokens contribute (their real mass for the L1 distances)."""

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.p0 = problem.model.p
        self.n = problem.plan.n
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        sup = np.flatnonzero(self.p0)
        R = self.R
        self.tok = np.broadcast_to(sup, (R, sup.size)).copy()
        self.cnt = self.p1 = None  # generation 0 is the real distribution, not counts
        self.alive = np.arange(R) if sup.size > 1 else np.arange(0)
        self.collapse_time = np.full(R, 0 if sup.size == 1 else -1, dtype=np.int64)
        self.loss_time = np.where(self.p0[self.tokens] == 0, 0, -1)[None, :] * \
            np.ones((R, 1), dtype=np.int64)

    @classmethod
    def chunk_for(cls, problem, replicates, target):
        return max(1, min(target, 200))

    def _step(self, m):
        n, a = self.n, self.alive
        if m == 1:
            P0 = self.p0[self.tok]
            self.cnt = np.rint(n * P0).astype(np.int64)  # a Dirac p0: n on its token
            self.p1 = np.zeros(self.cnt.shape)
            new = self.rng.multinomial(n, P0[a])
            died = True
        else:
            old = self.cnt[a]
            new = self.rng.multinomial(n, old / n)
            died = bool(((new == 0) & (old > 0)).any())
        if died:  # pack the survivors to the left (stable), carrying token ids and p^(1)
            order = np.argsort(new == 0, axis=1, kind="stable")
            rows = np.arange(a.size)[:, None]
            new = new[rows, order]
            self.tok[a] = self.tok[a[:, None], order]
            self.p1[a] = self.p1[a[:, None], order]
        self.cnt[a] = new
        if m == 1:
            self.p1 = self.cnt / n
        ns = np.count_nonzero(new, axis=1)
        width = max(1, int(ns.max()) if ns.size else 1)
        if width < self.cnt.shape[1] // 2 or (died and width < self.cnt.shape[1] - 64):
            # drop the columns nobody uses any more (copies only when worth it)
            self.cnt = self.cnt[:, :width].copy()
            self.tok = self.tok[:, :width].copy()
            self.p1 = self.p1[:, :width].copy()
        done = ns == 1
        if done.any():
            self.collapse_time[a[done]] = m
            self.alive = a[~done]

    def _probs(self):
        """``(P, tok)``: probabilities of the slots and their token ids (all replicates)."""
        if self.cnt is None:
            return (np.broadcast_to(self.p0[self.tok[0]], self.tok.shape), self.tok)
        return self.cnt / self.n, self.tok

    def _stats(self):
        want = set(self.names)
        if not want:
            return {}
        P, tok = self._probs()
        out = {}
        pos = P > 0
        p0 = self.p0[tok]
        if "support_size" in want:
            out["support_size"] = np.count_nonzero(pos, axis=1).astype(np.float64)
        if "homozygosity" in want:
            out["homozygosity"] = np.einsum("rv,rv->r", P, P)
        logP = np.log(np.where(pos, P, 1.0))
        if "entropy" in want:
            out["entropy"] = -(P * logP).sum(axis=1)
        if want & {"l1_real", "kl_real", "tv_real"}:
            covered = np.where(pos, p0, 0.0).sum(axis=1)
            out["l1_real"] = (np.abs(P - p0) * pos).sum(axis=1) + np.maximum(0.0,
                                                                             1 - covered)
            out["kl_real"] = np.where(pos, P * (logP - np.log(np.where(pos, p0, 1.0))),
                                      0.0).sum(axis=1)
        if want & {"l1_first", "kl_first", "tv_first"}:
            if self.p1 is None:
                nan = np.full(self.R, np.nan)
                out["l1_first"] = out["kl_first"] = nan
            else:  # a survivor of generation m was alive at generation 1: p1 > 0
                p1 = self.p1
                covered = np.where(pos, p1, 0.0).sum(axis=1)
                out["l1_first"] = (np.abs(P - p1) * pos).sum(axis=1) + \
                    np.maximum(0.0, 1 - covered)
                out["kl_first"] = np.where(pos, P * (logP - np.log(np.where(pos, p1, 1.0))),
                                           0.0).sum(axis=1)
        if "token_prob" in want:
            out["token_prob"] = np.stack(
                [np.where(tok == t, P, 0.0).sum(axis=1) for t in self.tokens], axis=1) \
                if self.tokens.size else np.zeros((self.R, 0))
        return {k: out[k] for k in self.names}

    def _times(self, m):
        if not self.tokens.size:
            return
        P, tok = self._probs()
        for j, t in enumerate(self.tokens):
            lost = ~((tok == t) & (P > 0)).any(axis=1)
            self.loss_time[(self.loss_time[:, j] < 0) & lost, j] = m


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


KERNELS = {"categorical": CategoricalKernel, "gaussian": GaussianKernel,
           "mixture": MixtureKernel, "regression": RegressionKernel}

#: ``(family, predicate(problem), kernel)``: the first match replaces the generic loop.
FAST_PATHS = [
    ("categorical", lambda pr: pr.plan.absorbing and pr.sampling.plain, ReplaceCountsKernel),
]
