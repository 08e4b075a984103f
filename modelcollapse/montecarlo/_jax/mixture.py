"""JAX kernel of the Gaussian-mixture family: raw samples, EM exactly as :mod:`.._em`
(warm-started), the one loop over the plan."""

from __future__ import annotations

import numpy as np

from .. import _em, _stats
from . import core
from .core import JaxKernel, rows_models


class MixtureKernel(JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.K = model.components
        self.K0 = model.weights.size
        self.Km = max(self.K, self.K0)
        self.d = model.dim
        self.plan = plan = problem.plan
        self.n_new = plan.n
        if plan.pool != "none":
            if plan.real or plan.sources != "last":
                raise NotImplementedError("the JAX mixture kernel pools one block of the "
                                          "last model per generation")
            self.grows = {"pool": (plan.n, 0.0)}
        elif plan.sources == "uniform":
            self.grows = {"hw": (1, 0.0), "hmu": (1, 0.0), "hL": (1, 0.0)}
        super().__init__(problem, replicates, seed_seq)

    def _pad(self, w, mu, covs):
        Km, d = self.Km, self.d
        k = w.shape[0]
        W = np.zeros(Km)
        W[:k] = w
        M = np.zeros((Km, d))
        M[:k] = mu
        C = np.broadcast_to(np.eye(d), (Km, d, d)).copy()
        C[:k] = covs
        return W, M, C

    def real_padded(self):
        m = self.model
        w, mu, C = self._pad(m.weights, m.means, m.covs)
        return w, mu, np.linalg.cholesky(C)

    def init_state(self):
        jnp = core._jax.numpy
        K, d, Km = self.K, self.d, self.Km
        w0, mu0, L0 = (jnp.asarray(a) for a in self.real_padded())
        st = {"w": jnp.zeros(K), "mu": jnp.zeros((K, d)), "cov": jnp.zeros((K, d, d)),
              "sw": w0, "smu": mu0, "sL": L0}
        plan = self.plan
        if plan.real:
            st["real"] = jnp.zeros((plan.real, d))
        if plan.pool != "none":
            st["pool"] = jnp.zeros((0, d))
        if plan.sources == "window":
            W = plan.window
            st["rw"] = jnp.zeros((W, Km)).at[0].set(w0)
            st["rmu"] = jnp.zeros((W, Km, d)).at[0].set(mu0)
            st["rL"] = jnp.zeros((W, Km, d, d)).at[0].set(L0)
        elif plan.sources == "uniform":
            st["hw"] = jnp.zeros((0, Km))
            st["hmu"] = jnp.zeros((0, Km, d))
            st["hL"] = jnp.zeros((0, Km, d, d))
        return self._broadcast(st)

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if self.plan.sources == "uniform" and old == 0 and self.cap:
            w0, mu0, L0 = self.real_padded()
            self.state["hw"] = self.state["hw"].at[:, 0].set(w0)
            self.state["hmu"] = self.state["hmu"].at[:, 0].set(mu0)
            self.state["hL"] = self.state["hL"].at[:, 0].set(L0)

    def sample(self, key, w, mu, L, n):
        """``n`` points; ``w, mu, L`` are per-row parameters (n, Km, ...) or one model."""
        jax = core._jax
        jnp = jax.numpy
        k1, k2 = jax.random.split(key)
        if w.ndim == 1:
            c = jax.random.categorical(k1, jnp.log(w), shape=(n,))
            mus, Ls = mu[c], L[c]
        else:
            c = jax.random.categorical(k1, jnp.log(w), axis=-1)
            rows = jnp.arange(n)
            mus, Ls = mu[rows, c], L[rows, c]
        z = jax.random.normal(k2, (n, self.d))
        return mus + jnp.einsum("nij,nj->ni", Ls, z)

    def step(self, st, key, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        st = dict(st)
        k1, k2, k3, _k4 = jax.random.split(key, 4)
        w0, mu0, L0 = (jnp.asarray(a) for a in self.real_padded())
        n = self.n_new
        # the synthetic rows
        if plan.sources == "window":
            slot, mask = rows_models(plan, m, n, k3, plan.window)
            pw, pmu, pL = st["rw"][slot], st["rmu"][slot], st["rL"][slot]
            X = self.sample(k1, pw, pmu, pL, n)
        elif plan.sources == "uniform":
            slot, mask = rows_models(plan, m, n, k3, st["hw"].shape[0])
            pw, pmu, pL = st["hw"][slot], st["hmu"][slot], st["hL"][slot]
            X = self.sample(k1, pw, pmu, pL, n)
        else:
            X = self.sample(k1, st["sw"], st["smu"], st["sL"], n)
            mask = jnp.ones(n, bool)
        if plan.synthetic_from > 1:
            mask = mask & (m >= plan.synthetic_from)
        if plan.real:  # the real block
            N = plan.real
            if plan.real_fresh:
                real = self.sample(k2, w0, mu0, L0, N)
            else:
                real = lax.cond(m == 1, lambda: self.sample(k2, w0, mu0, L0, N),
                                lambda: st["real"])
            st["real"] = real
            X = jnp.concatenate([real, X])
            mask = jnp.concatenate([jnp.ones(N, bool), mask])
        if plan.pool != "none":
            pool = lax.dynamic_update_slice(st["pool"], X, ((m - 1) * n, 0))
            st["pool"] = pool
            valid = jnp.arange(pool.shape[0]) < m * n
            if plan.pool == "accumulate":
                X, mask = pool, valid
            else:
                u = jnp.where(valid, jax.random.uniform(k2, valid.shape), -1.0)
                X = pool[lax.top_k(u, n)[1]]
        w, mu, cov = self.fit(X, mask.astype(jnp.float64), st, m)
        st["w"], st["mu"], st["cov"] = w, mu, cov
        pad = self.Km - self.K
        sw = jnp.concatenate([w, jnp.zeros(pad)])
        smu = jnp.concatenate([mu, jnp.zeros((pad, self.d))])
        sL = jnp.concatenate([jnp.linalg.cholesky(cov),
                              jnp.broadcast_to(jnp.eye(self.d), (pad, self.d, self.d))])
        st["sw"], st["smu"], st["sL"] = sw, smu, sL
        if plan.sources == "window":
            i = m % plan.window
            st["rw"], st["rmu"], st["rL"] = (st["rw"].at[i].set(sw), st["rmu"].at[i].set(smu),
                                             st["rL"].at[i].set(sL))
        elif plan.sources == "uniform":
            st["hw"], st["hmu"], st["hL"] = (st["hw"].at[m].set(sw), st["hmu"].at[m].set(smu),
                                             st["hL"].at[m].set(sL))
        out = {"weights": w, "means": mu, "covs": cov}
        return st, {k: out[k] for k in self.names}

    def em_init(self, X, mask):
        """:func:`._em.em_init` on the rows where ``mask`` is 1."""
        jnp = core._jax.numpy
        K = self.K
        n = mask.sum()
        mu = (mask[:, None] * X).sum(0) / n
        dev = (X - mu) * mask[:, None]
        C = dev.T @ dev / n
        _, U = jnp.linalg.eigh(C)
        proj = jnp.where(mask > 0, X @ U[:, -1], jnp.inf)
        order = jnp.argsort(proj, stable=True)
        ranks = jnp.floor((jnp.arange(K) + 0.5) * n / K).astype(jnp.int64)
        means = X[order[ranks]]
        return jnp.full(K, 1.0 / K), means, jnp.broadcast_to(C, (K, *C.shape))

    def fit(self, X, mask, st, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        model = self.model
        d = self.d
        n = mask.sum()
        start = lax.cond(m == 1, lambda: self.em_init(X, mask),
                         lambda: (st["w"], st["mu"], st["cov"]))
        eye = jnp.eye(d)

        def body(c):
            (w, mu, cov), prev, it, _ = c
            L = jnp.linalg.cholesky(cov)
            diff = X[None] - mu[:, None]  # (K, n, d)
            z = jax.scipy.linalg.solve_triangular(
                L, jnp.swapaxes(diff, 1, 2), lower=True)  # (K, d, n)
            maha = (z * z).sum(1)  # (K, n)
            logdet = 2 * jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
            logp = -0.5 * (maha + logdet[:, None] + d * np.log(2 * np.pi)) + \
                jnp.log(w)[:, None]
            mx = logp.max(0)
            lse = mx + jnp.log(jnp.exp(logp - mx).sum(0))
            ll = (lse * mask).sum() / n
            resp = jnp.exp(logp - lse) * mask
            Nk = resp.sum(1) + _em.EPS10
            mu2 = resp @ X / Nk[:, None]
            dv = X[None] - mu2[:, None]
            cov2 = jnp.einsum("kn,kni,knj->kij", resp, dv, dv) / Nk[:, None, None]
            done = jnp.abs(ll - prev) < model.tol
            return (Nk / n, mu2, cov2 + model.reg_covar * eye), ll, it + 1, ~done

        def cond(c):
            return c[3] & (c[2] < model.max_iter)

        c = lax.while_loop(cond, body, (start, jnp.asarray(-jnp.inf), 0, jnp.asarray(True)))
        return c[0]

    def initial_stats(self):
        m = self.model
        if self.K0 == self.K:
            w, mu, cov = m.weights, m.means, m.covs
        else:
            K, d = self.K, self.d
            w, mu, cov = np.full(K, np.nan), np.full((K, d), np.nan), np.full((K, d, d),
                                                                                np.nan)
        out = _stats.mixture_stats(w[None], mu[None], cov[None], self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}
