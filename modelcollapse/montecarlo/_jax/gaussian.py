"""JAX kernel of the Gaussian family: exact sufficient statistics, the one loop over
the plan. A fit of one group carries its triangular factor (``Replace``:
:math:`L_t = L_{t-1} B_t/\\sqrt{\\mathrm{den}}`), so long runs never re-factorise an
ill-conditioned covariance and the log-determinant accumulates exactly."""

from __future__ import annotations

import numpy as np

from .. import _stats
from .._engine import log_eps_threshold
from . import core
from .core import JaxKernel, _chan, _chan_many, _factor, _gauss_group, _multinomial


class GaussianKernel(JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.d = model.dim
        self.ddof = 1 if model.estimator == "unbiased" else 0
        self.mu0, self.S0 = model.mean, model.cov
        lam, U = np.linalg.eigh(self.S0)
        self.h0 = (U * np.sqrt(np.maximum(lam, 0))) @ U.T
        self.logdet0 = np.linalg.slogdet(self.S0)[1]
        self.thr = log_eps_threshold(problem)
        self.plan = plan = problem.plan
        if plan.pool == "subsample":
            if plan.real or plan.sources != "last":
                raise NotImplementedError("the JAX Gaussian kernel subsamples pools of one "
                                          "block of the last model per generation")
            self.grows = {"pool": (plan.n, 0.0)}
        elif plan.sources == "uniform":
            self.grows = {"hmu": (1, 0.0), "hL": (1, 0.0)}
        # one group per generation: its factor is carried
        self.carry = plan.sources == "last" and not plan.real and plan.pool == "none"
        super().__init__(problem, replicates, seed_seq)
        self.collapse_time = np.full(self.R, -1, dtype=np.int64)

    def init_state(self):
        jnp = core._jax.numpy
        d = self.d
        plan = self.plan
        mu0, S0 = jnp.asarray(self.mu0), jnp.asarray(self.S0)
        L0 = jnp.asarray(np.linalg.cholesky(self.S0))
        st = {"mu": mu0, "S": S0, "L": L0, "ct": jnp.asarray(-1, jnp.int64)}
        zero = (jnp.asarray(0.0), jnp.zeros(d), jnp.zeros((d, d)))
        if plan.real:
            st["rb"] = zero
        if plan.pool == "accumulate":
            st["acc"] = zero
        elif plan.pool == "subsample":
            st["pool"] = jnp.zeros((0, d))
        if plan.sources == "window":
            st["rmu"] = jnp.zeros((plan.window, d)).at[0].set(mu0)
            st["rL"] = jnp.zeros((plan.window, d, d)).at[0].set(L0)
        elif plan.sources == "uniform":
            st["hmu"] = jnp.zeros((0, d))
            st["hL"] = jnp.zeros((0, d, d))
        return self._broadcast(st)  # "uniform": slot 0 filled at capacity time

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if self.plan.sources == "uniform" and old == 0 and self.cap:
            self.state["hmu"] = self.state["hmu"].at[:, 0].set(self.mu0)
            self.state["hL"] = self.state["hL"].at[:, 0].set(np.linalg.cholesky(self.S0))

    def step(self, st, key, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        st = dict(st)
        d = self.d
        k1, k2, _k3 = jax.random.split(key, 3)
        k_syn = k2 if plan.real else k1
        mu0, L0 = jnp.asarray(self.mu0), jnp.asarray(np.linalg.cholesky(self.S0))
        F = None
        if plan.pool == "subsample":  # raw pool of points
            n = plan.n
            new = st["mu"] + jax.random.normal(k1, (n, d)) @ st["L"].T
            pool = lax.dynamic_update_slice(st["pool"], new, ((m - 1) * n, 0))
            st["pool"] = pool
            u = jax.random.uniform(k2, (pool.shape[0],))
            u = jnp.where(jnp.arange(pool.shape[0]) < m * n, u, -1.0)
            raw = pool[lax.top_k(u, n)[1]]
            K = float(n)
            mean = raw.mean(0)
            dev = raw - mean
            M2 = dev.T @ dev
        else:
            # the synthetic blocks
            if plan.sources == "last":
                k = float(plan.n) if plan.synthetic_from == 1 else \
                    jnp.where(m >= plan.synthetic_from, float(plan.n), 0.0)
                K, mean, M2, F = _gauss_group(k_syn, st["mu"], st["L"], k)
            elif plan.sources == "window":
                W = plan.window
                k = jnp.minimum(W, m)
                per = (plan.n // k).astype(jnp.float64)
                ns = jnp.where(jnp.arange(W) < k, per, 0.0)
                ks, means, M2s, _ = jax.vmap(_gauss_group)(jax.random.split(k_syn, W), st["rmu"],
                                                     st["rL"], ns)
                K, mean, M2 = _chan_many(ks, means, M2s)
            else:
                cap = st["hmu"].shape[0]
                lv = max(1, int(np.log2(cap)))
                w = jnp.where(jnp.arange(cap) < m, 1.0, 0.0)
                alloc = _multinomial(k1, float(plan.n), w / w.sum(), lv)
                ks, means, M2s, _ = jax.vmap(_gauss_group)(jax.random.split(k2, cap), st["hmu"],
                                                     st["hL"], alloc)
                K, mean, M2 = _chan_many(ks, means, M2s)
            g = (K, mean, M2)
            if plan.real:  # the real block
                N = float(plan.real)
                if plan.real_fresh:
                    rb = _gauss_group(k1, mu0, L0, N)[:3]
                else:
                    rb = lax.cond(m == 1, lambda: _gauss_group(k1, mu0, L0, N)[:3],
                                  lambda: st["rb"])
                st["rb"] = rb
                g = _chan(rb, g)
            if plan.pool == "accumulate":
                st["acc"] = g = _chan(st["acc"], g)
            K, mean, M2 = g
        den = K - self.ddof
        S = M2 / den
        S = (S + S.T) / 2
        if self.carry:
            L = F / jnp.sqrt(den)
            logdet = 2 * jnp.sum(jnp.log(jnp.abs(jnp.diagonal(L))))
        else:
            L = _factor(S)
            logdet = jnp.linalg.slogdet(S)[1]
        st["mu"], st["S"], st["L"] = mean, S, L
        if plan.sources == "window":
            st["rmu"] = st["rmu"].at[m % plan.window].set(mean)
            st["rL"] = st["rL"].at[m % plan.window].set(L)
        elif plan.sources == "uniform":
            st["hmu"] = st["hmu"].at[m].set(mean)
            st["hL"] = st["hL"].at[m].set(L)
        ld = logdet - self.logdet0
        out = self.stats(mean, S, ld)
        st["ct"] = jnp.where((st["ct"] < 0) & (ld < self.thr), m, st["ct"])
        return st, out

    def stats(self, mean, S, ld):
        jnp = core._jax.numpy
        want = set(self.names)
        diff = mean - jnp.asarray(self.mu0)
        out = {}
        if "mean" in want:
            out["mean"] = mean
        if "var" in want:
            out["var"] = jnp.diagonal(S)
        if "mean_sq_error" in want:
            out["mean_sq_error"] = diff @ diff
        if "trace_ratio" in want:
            out["trace_ratio"] = jnp.trace(S) / np.trace(self.S0)
        if "logdet_ratio" in want:
            out["logdet_ratio"] = ld
        if "w2" in want:
            h = jnp.asarray(self.h0)
            lam = jnp.linalg.eigvalsh(h @ S @ h)
            cross = jnp.sqrt(jnp.maximum(lam, 0.0)).sum()
            w2 = diff @ diff + jnp.trace(S) + np.trace(self.S0) - 2 * cross
            out["w2"] = jnp.sqrt(jnp.maximum(w2, 0.0))
        return {k: out[k] for k in self.names}

    def initial_stats(self):
        out = _stats.gaussian_stats(self.mu0[None], self.S0[None], self.mu0, self.S0,
                                    self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}

    def after(self, st):
        self.collapse_time = np.asarray(st["ct"], dtype=np.int64)
