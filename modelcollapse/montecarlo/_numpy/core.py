"""NumPy backend core: exact count / sufficient-statistic kernels vectorised over replicates.

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

from .._kernel import PINV_RTOL, Kernel

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
