"""JAX kernel of the linear-regression family (fixed or fresh Gaussian design): the one
loop over the plan; fits by the minimum-norm solve with the backends' common
``PINV_RTOL``."""

from __future__ import annotations

import numpy as np

from .. import _stats
from . import core
from .core import JaxKernel, _bartlett, _multinomial, _pinv_solve, rows_models


class RegressionKernel(JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.d = model.dim
        self.sigma = model.noise
        self.fixed = model.design == "fixed"
        self.plan = plan = problem.plan
        self.n_syn = plan.n
        if plan.pool == "subsample":
            if plan.real or plan.sources != "last":
                raise NotImplementedError("the JAX regression kernel subsamples pools of "
                                          "one block of the last model per generation")
            self.grows = {"pool": (plan.n, 0.0)}
        elif plan.sources == "uniform":
            self.grows = {"hist": (1, 0.0)}
        super().__init__(problem, replicates, seed_seq)

    def init_state(self):
        jax = core._jax
        jnp = jax.numpy
        d = self.d
        w0 = jnp.asarray(self.model.w)
        st = {"w": w0}
        plan = self.plan
        if plan.real:
            st["rb"] = (jnp.zeros((d, d)), jnp.zeros(d))
        if plan.pool == "accumulate":
            st["acc"] = (jnp.zeros((d, d)), jnp.zeros(d))
        elif plan.pool == "subsample":
            st["pool"] = jnp.zeros((0, d + 1))
        if plan.sources == "window":
            st["ring"] = jnp.zeros((plan.window, d)).at[0].set(w0)
        elif plan.sources == "uniform":
            st["hist"] = jnp.zeros((0, d))
        st = self._broadcast(st)
        if self.fixed:  # the design rows, drawn once per replicate
            n_real = plan.real

            def design(key):
                k1, k2 = jax.random.split(jax.random.fold_in(key, 0))
                return (jax.random.normal(k1, (self.n_syn, d)),
                        jax.random.normal(k2, (n_real, d)))

            st["Xs"], st["Xr"] = jax.vmap(design)(self.keys)
        return st

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if self.plan.sources == "uniform" and old == 0 and self.cap:
            self.state["hist"] = self.state["hist"].at[:, 0].set(self.model.w)

    def group(self, key, theta, k):
        """Fresh design: ``(X^T X, X^T y)`` of ``k`` rows labelled by ``theta``."""
        jax = core._jax
        k1, k2 = jax.random.split(key)
        B = _bartlett(k1, k, self.d)
        A = B @ B.T
        return A, A @ theta + self.sigma * (B @ jax.random.normal(k2, (self.d,)))

    def rows(self, key, X, thetas, mask):
        """Fixed design: ``(X^T X, X^T y)`` of the rows ``X`` labelled by per-row
        ``thetas`` (rows with ``mask`` 0 left out)."""
        jax = core._jax
        y = (X * thetas).sum(1) + self.sigma * jax.random.normal(key, (X.shape[0],))
        Xm = X * mask[:, None]
        return Xm.T @ X, Xm.T @ y

    def step(self, st, key, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        st = dict(st)
        d = self.d
        k1, k2, k3 = jax.random.split(key, 3)
        w0 = jnp.asarray(self.model.w)
        th = st["w"]
        n = self.n_syn
        if plan.pool == "subsample":  # raw pool of labelled rows
            X = st["Xs"] if self.fixed else jax.random.normal(k1, (n, d))
            y = X @ th + self.sigma * jax.random.normal(k2, (n,))
            pool = lax.dynamic_update_slice(st["pool"], jnp.column_stack([X, y]),
                                            ((m - 1) * n, 0))
            st["pool"] = pool
            valid = jnp.arange(pool.shape[0]) < m * n
            u = jnp.where(valid, jax.random.uniform(k3, valid.shape), -1.0)
            D = pool[lax.top_k(u, n)[1]]
            A, b = D[:, :d].T @ D[:, :d], D[:, :d].T @ D[:, d]
        else:
            # the synthetic blocks
            if plan.sources == "last":
                if self.fixed:
                    A, b = self.rows(k1, st["Xs"], jnp.broadcast_to(th, (n, d)), jnp.ones(n))
                else:
                    A, b = self.group(k1, th, float(n))
            else:
                hist = st["ring"] if plan.sources == "window" else st["hist"]
                H = hist.shape[0]
                if self.fixed:
                    slot, mask = rows_models(plan, m, n, k3, H)
                    A, b = self.rows(k1, st["Xs"], hist[slot], mask.astype(jnp.float64))
                else:
                    if plan.sources == "window":
                        k = jnp.minimum(H, m)
                        per = (n // k).astype(jnp.float64)
                        j = (m - k + jnp.arange(H))
                        ns = jnp.where(jnp.arange(H) < k, per, 0.0)
                        thetas = hist[j % H]
                    else:
                        lv = max(1, int(np.log2(H)))
                        wts = jnp.where(jnp.arange(H) < m, 1.0, 0.0)
                        ns = _multinomial(k3, float(n), wts / wts.sum(), lv)
                        thetas = hist
                    As, bs = jax.vmap(self.group)(jax.random.split(k1, H), thetas, ns)
                    A, b = As.sum(0), bs.sum(0)
            if plan.synthetic_from > 1:
                on = m >= plan.synthetic_from
                A, b = jnp.where(on, A, 0.0), jnp.where(on, b, 0.0)
            if plan.real:  # the real block
                if self.fixed:
                    Xr = st["Xr"]

                    def real_block():
                        return self.rows(k2, Xr, jnp.broadcast_to(w0, Xr.shape),
                                         jnp.ones(plan.real))
                else:
                    def real_block():
                        return self.group(k2, w0, float(plan.real))
                rb = real_block() if plan.real_fresh else \
                    lax.cond(m == 1, real_block, lambda: st["rb"])
                st["rb"] = rb
                A, b = rb[0] + A, rb[1] + b
            if plan.pool == "accumulate":
                st["acc"] = (st["acc"][0] + A, st["acc"][1] + b)
                A, b = st["acc"]
        wn = _pinv_solve((A + A.T) / 2, b)
        st["w"] = wn
        if plan.sources == "window":
            st["ring"] = st["ring"].at[m % plan.window].set(wn)
        elif plan.sources == "uniform":
            st["hist"] = st["hist"].at[m].set(wn)
        diff = wn - w0
        out = {"test_error": diff @ diff, "coef": wn}
        return st, {k: out[k] for k in self.names}

    def initial_stats(self):
        out = _stats.regression_stats(self.model.w[None], self.model.w, self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}
