"""JAX backend: replicates vectorised with ``vmap``, generations run by ``lax.scan``.

Every kernel keeps its per-replicate state as JAX arrays (leading axis: replicates)
between chunks, and compiles one ``jit`` function per chunk length and state shape.
Replicate ``r`` draws from one key derived from ``SeedSequence(seed).spawn(R)[r]``,
folded with the generation index, so its path does not depend on how many replicates
run alongside it. All draws are exact: multinomials by ``n`` categorical draws
(inverse cumulative sums) when the sample size is at most ``INVERSE_MAX_RATIO`` times
the (padded) vocabulary, else by conditional binomials on a binary tree over the
vocabulary; Gaussian fits by their sufficient statistics (mean and a Bartlett-factored
Wishart scatter), pooled by Chan's formula.

JAX is imported lazily (the package imports without it). Kernels compute in float64
inside a local :func:`x64` context: the process-wide ``jax_enable_x64`` is never changed.
"""

from __future__ import annotations

import copy
import json
from typing import ClassVar

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
from ._kernel import PINV_RTOL, Kernel

_jax = None
_CACHE: dict = {}  # compiled chunk functions, oldest first
_CACHE_SIZE = 64
#: categorical multinomials with n <= this x (padded vocabulary) use n categorical draws
INVERSE_MAX_RATIO = 4


def _import_jax():
    global _jax
    if _jax is None:
        try:
            import jax
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'backend="jax" needs JAX: pip install "modelcollapse[jax]" (or use '
                'backend="numba")') from exc

        _jax = jax
    return _jax


def x64():
    """A context in which JAX computes in float64 (the process-wide setting stays as
    the caller left it)."""
    jax = _import_jax()
    enable = getattr(jax, "enable_x64", None)
    if enable is None:  # pragma: no cover - JAX < 0.6
        from jax.experimental import enable_x64 as enable
    return enable(True)


def _pow2_at_least(x: int) -> int:
    return 1 << max(0, int(x - 1).bit_length())


# ---------------------------------------------------------------------- samplers
def _binomial_split(key, counts, s):
    """Left-child counts of the nodes with ``counts``; ``s`` (nodes, 2) the children's
    masses."""
    jax = _jax
    jnp = jax.numpy
    tot = s[:, 0] + s[:, 1]
    pl = jnp.clip(jnp.where(tot > 0, s[:, 0] / jnp.where(tot > 0, tot, 1.0), 0.0), 0, 1)
    left = jax.random.binomial(key, counts, pl)
    left = jnp.where(pl <= 0, 0.0, jnp.where(pl >= 1, counts, left))
    return jnp.clip(left, 0.0, counts)


def _multinomial_inverse(key, n: int, q):
    """Exact ``Mult(n, q)`` for a static ``n``: ``n`` independent categorical draws by
    inverting the cumulative sum of ``q`` (a token of mass 0 is never drawn), counted
    with a scatter-add. ``O(n log |q|)``: cheaper than the binomial tree when ``n`` is
    not much larger than the vocabulary."""
    jax = _jax
    jnp = jax.numpy
    c = jnp.cumsum(q)
    u = jax.random.uniform(key, (n,), jnp.float64) * c[-1]
    # u < c[-1] up to rounding: never past the last token of positive mass
    last = q.shape[0] - 1 - jnp.argmax(q[::-1] > 0)
    idx = jnp.minimum(jnp.searchsorted(c, u, side="right"), last)
    return jnp.zeros(q.shape[0], jnp.float64).at[idx].add(1.0)


def _interleave(left, right):
    return _jax.numpy.stack([left, right], axis=1).reshape(-1)


def _multinomial(key, n, q, levels):
    """Exact ``Mult(n, q)`` for ``q`` of size ``2**levels`` (float counts summing to
    ``n``): conditional binomials down a binary tree of partial sums.

    The top levels run in a ``fori_loop`` on a fixed-size (padded) node array, so that
    the graph holds few binomial samplers (fast to compile); the widest bottom levels
    of a large vocabulary are unrolled, each on its own exact number of nodes."""
    jax = _jax
    jnp = jax.numpy
    sums = [q]  # sums[j]: masses of the 2**(levels - j) nodes of level levels - j
    for _ in range(levels):
        sums.append(sums[-1].reshape(-1, 2).sum(axis=1))
    unroll = 5 if levels > 12 else 0
    top = levels - unroll
    keys = jax.random.split(key, unroll + 1)
    counts = jnp.reshape(jnp.asarray(n, jnp.float64), (1,))
    if top:
        H = 1 << (top - 1)  # parents of the last looped level
        table = jnp.stack([jnp.pad(sums[levels - lv - 1], (0, 2 * H - (2 << lv)))
                           for lv in range(top)])

        def body(lv, c):
            par = c[:H]
            left = _binomial_split(jax.random.fold_in(keys[unroll], lv), par,
                                   table[lv].reshape(H, 2))
            return _interleave(left, par - left)

        counts = jax.lax.fori_loop(0, top, body, jnp.zeros(2 * H).at[0].set(counts[0]))
    for lv in range(top, levels):
        left = _binomial_split(keys[lv - top], counts, sums[levels - lv - 1].reshape(-1, 2))
        counts = _interleave(left, counts - left)
    return counts


def _bartlett(key, df, d):
    """Lower-triangular ``A`` with ``A A^T ~ Wishart_d(df, I)`` (generalised Bartlett:
    exact also for singular ``df < d``; ``df <= 0`` gives 0)."""
    jax = _jax
    jnp = jax.numpy
    k1, k2 = jax.random.split(key)
    i = jnp.arange(d)
    shape = (df - i) / 2.0
    ok = shape > 0
    g = jax.random.gamma(k1, jnp.where(ok, shape, 1.0))
    diag = jnp.where(ok, jnp.sqrt(2.0 * g), 0.0)
    Z = jax.random.normal(k2, (d, d))
    return jnp.tril(Z, -1) * ok[None, :] + jnp.diag(diag)


def _factor(S):
    """A factor ``L`` with ``L L^T = S`` for a PSD ``S`` (Cholesky, eigen fallback)."""
    jnp = _jax.numpy
    Lc = jnp.linalg.cholesky(S)
    lam, U = jnp.linalg.eigh(S)
    Le = U * jnp.sqrt(jnp.maximum(lam, 0.0))[None, :]
    return jnp.where(jnp.all(jnp.isfinite(Lc)), Lc, Le)


def _gauss_group(key, mu, L, k):
    """Sufficient statistics ``(k, mean, M2)`` of ``k`` points of ``N(mu, L L^T)``."""
    jax = _jax
    jnp = jax.numpy
    k1, k2 = jax.random.split(key)
    d = mu.shape[0]
    z = jax.random.normal(k1, (d,))
    mean = mu + L @ z / jnp.sqrt(jnp.maximum(k, 1.0))
    LA = L @ _bartlett(k2, k - 1.0, d)
    return k, mean, LA @ LA.T


def _chan(a, b):
    k1, m1, M1 = a
    k2, m2, M2 = b
    jnp = _jax.numpy
    k = k1 + k2
    safe = jnp.maximum(k, 1.0)
    delta = m2 - m1
    return k, m1 + delta * k2 / safe, M1 + M2 + jnp.outer(delta, delta) * k1 * k2 / safe


def _chan_many(ks, means, M2s):
    """Pool groups ``(ks (G,), means (G, d), M2s (G, d, d))`` at once."""
    jnp = _jax.numpy
    K = ks.sum()
    mean = (ks[:, None] * means).sum(0) / jnp.maximum(K, 1.0)
    dev = means - mean
    M2 = M2s.sum(0) + jnp.einsum("g,gi,gj->ij", ks, dev, dev)
    return K, mean, M2


def _pinv_solve(A, b):
    """Minimum-norm solution of ``A w = b`` for a PSD Gram matrix ``A``."""
    jnp = _jax.numpy
    lam, U = jnp.linalg.eigh(A)
    cut = jnp.maximum(jnp.max(lam), 0.0) * A.shape[0] * PINV_RTOL
    inv = jnp.where(lam > cut, 1.0 / jnp.where(lam > cut, lam, 1.0), 0.0)
    return U @ (inv * (U.T @ b))


# ---------------------------------------------------------------------- the base
class _JaxKernel(Kernel):
    """Drives a per-replicate ``step(state, key, m) -> (state, stats)``."""

    #: state entries whose axis 0 (per replicate) grows with the generations:
    #: {name: (samples per generation, fill value)}
    grows: ClassVar[dict] = {}

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        jax = _import_jax()
        data = np.stack([s.generate_state(2, np.uint32) for s in self.replicate_seeds()])
        with x64():
            self.keys = jax.random.wrap_key_data(jax.numpy.asarray(data),
                                                 impl="threefry2x32")
            self.cap = 0
            self._fns = {}
            self.state = self.init_state()

    # --- per kernel
    def init_state(self) -> dict:
        raise NotImplementedError

    def step(self, state, key, m):
        raise NotImplementedError

    def initial_stats(self) -> dict:
        raise NotImplementedError

    # --- driver
    def _broadcast(self, tree):
        jnp = _jax.numpy
        return _jax.tree_util.tree_map(
            lambda a: jnp.broadcast_to(jnp.asarray(a), (self.R, *np.shape(a))), tree)

    def _ensure_capacity(self, g1):
        if not self.grows or g1 <= self.cap:
            return
        jnp = _jax.numpy
        new = _pow2_at_least(max(g1, 8, 2 * self.cap))
        for name, (per, fill) in self.grows.items():
            a = self.state[name]
            pad = [(0, 0)] * a.ndim
            pad[1] = (0, (new - self.cap) * per)
            self.state[name] = jnp.pad(a, pad, constant_values=fill)
        self.cap = new

    def _signature(self):
        sig = self.__dict__.get("_sig")
        if sig is None:
            p = self.problem
            model = json.dumps(p.model.to_dict(), sort_keys=True)
            sig = self._sig = (type(self), model, p.regime.spec, p.tokens, self.names, p.eps)
        return sig

    def _compiled(self, length):
        """The jitted chunk function, shared by the kernels of identical problems (it
        depends on the problem only; arrays of other shapes retrace as usual)."""
        jax = _jax
        key = (self._signature(), length, self.cap)
        fn = _CACHE.get(key)
        if fn is None:
            spec = copy.copy(self)  # the constants only: no state, no keys
            spec.state = spec.keys = None
            spec._fns = {}

            def one(state, rkey, ms):
                def body(st, m):
                    return spec.step(st, jax.random.fold_in(rkey, m), m)
                return jax.lax.scan(body, state, ms)

            fn = jax.jit(jax.vmap(one, in_axes=(0, 0, None)))
            _CACHE[key] = fn
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.pop(next(iter(_CACHE)))
        return fn

    def initial(self) -> dict:
        with x64():
            out = self.initial_stats()
            return {k: np.asarray(out[k], dtype=np.float64)[:, None] for k in self.names}

    def advance(self, g0, g1, keep=None):
        jnp = _jax.numpy
        with x64():
            self._ensure_capacity(g1)
            ms = jnp.arange(g0 + 1, g1 + 1, dtype=jnp.int64)
            self.state, out = self._compiled(g1 - g0)(self.state, self.keys, ms)
            self.after(self.state)
            return self.select({k: np.asarray(out[k], dtype=np.float64)
                                for k in self.names}, g0, keep)

    def after(self, state):
        pass


# ---------------------------------------------------------------------- categorical
class CategoricalKernel(_JaxKernel):
    """The generic loop over the regime's plan, on padded count vectors."""

    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.V = model.size
        self.levels = max(1, int(np.ceil(np.log2(self.V))))
        self.P = 1 << self.levels
        p0 = np.zeros(self.P)
        p0[:self.V] = model.p
        self.p0np = p0
        self.policy = problem.sampling
        self.plan = plan = problem.plan
        self.tok = np.asarray(problem.tokens, dtype=np.int64)
        if plan.pool == "subsample":
            if plan.real or plan.synthetic_from != 1 or plan.sources != "last":
                raise NotImplementedError("the JAX backend subsamples pools of one block "
                                          "of the last model per generation")
            self.grows = {"pool": (plan.n, 0)}
        super().__init__(problem, replicates, seed_seq)
        p0v = model.p
        self.collapse_time = np.full(self.R, 0 if np.count_nonzero(p0v) == 1 else -1,
                                     dtype=np.int64)
        lt0 = np.where(p0v[self.tok] == 0, 0, -1).astype(np.int64)
        self.loss_time = np.broadcast_to(lt0, (self.R, self.tok.size)).copy()

    def init_state(self):
        jnp = _jax.numpy
        p0 = jnp.asarray(self.p0np)
        plan = self.plan
        st = {"p": p0, "p1": jnp.zeros_like(p0), "q": p0,
              "ct": jnp.asarray(self.collapse_time_init(), jnp.int64),
              "lt": jnp.asarray(np.where(self.p0np[self.tok] == 0, 0, -1), jnp.int64)}
        if plan.real:
            st["real"] = jnp.zeros_like(p0)
        if plan.pool == "accumulate":
            st["pool"] = jnp.zeros_like(p0)
        elif plan.pool == "subsample":
            st["pool"] = jnp.zeros((0,), jnp.int64)
        if plan.sources == "window":
            st["ring"] = jnp.zeros((plan.window, self.P)).at[0].set(p0)
        elif plan.sources == "uniform":
            st["qsum"] = p0
        return self._broadcast(st)

    def collapse_time_init(self):
        return 0 if np.count_nonzero(self.p0np) == 1 else -1

    def sampling(self, p):
        """The sampling distribution of the fit ``p`` (see ``_stats.sampling_distribution``)."""
        jnp = _jax.numpy
        pol = self.policy
        if pol.plain:
            return p
        q = p
        if pol.temperature != 1.0:
            logp = jnp.where(p > 0, jnp.log(jnp.where(p > 0, p, 1.0)), -jnp.inf)
            logp = logp / pol.temperature
            w = jnp.exp(logp - logp.max())
            q = w / w.sum()
        top_p = pol.top_p if pol.top_p is not None and pol.top_p < 1 else None
        if pol.top_k is None and top_p is None:
            return q
        order = jnp.argsort(-q, stable=True)
        qs = q[order]
        if pol.top_k is not None:
            qs = jnp.where(jnp.arange(self.P) < pol.top_k, qs, 0.0)
            qs = qs / qs.sum()
        if top_p is not None:
            before = jnp.cumsum(qs) - qs
            qs = jnp.where(before < top_p * (1 - _stats.TOP_P_SLACK), qs, 0.0)
            qs = qs / qs.sum()
        return jnp.zeros_like(q).at[order].set(qs)

    def mult(self, key, n, q):
        # a static sample size not far above the vocabulary: n categorical draws, far
        # cheaper on a CPU than one tree binomial per vocabulary node
        if isinstance(n, (int, np.integer)) and n <= INVERSE_MAX_RATIO * self.P:
            return _multinomial_inverse(key, int(n), q)
        return _multinomial(key, n, q, self.levels)

    def step(self, st, key, m):
        jax = _jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        n = plan.n
        st = dict(st)
        k1, k2, _k3 = jax.random.split(key, 3)
        k_syn = k2 if plan.real else k1
        mf = m.astype(jnp.float64)
        p0 = jnp.asarray(self.p0np)
        # the synthetic blocks
        if plan.sources == "last":
            def syn():
                return self.mult(k_syn, n, st["q"])
            size = n
        elif plan.sources == "window":
            W = plan.window
            k = jnp.minimum(W, m)
            per = n // k
            ns = jnp.where(jnp.arange(W) < k, per, 0).astype(jnp.float64)
            keys = jax.random.split(k_syn, W)

            def syn():
                return jax.vmap(self.mult)(keys, ns, st["ring"]).sum(0)
            size = k * per
        else:  # each sample from a uniformly chosen model: the mean of their laws
            def syn():
                return self.mult(k_syn, n, st["qsum"] / mf)
            size = n
        if plan.synthetic_from > 1:
            on = m >= plan.synthetic_from
            counts = lax.cond(on, syn, lambda: jnp.zeros(self.P))
            total = jnp.where(on, size, 0)
        else:
            counts, total = syn(), size
        # the real block
        if plan.real:
            N = plan.real
            if plan.real_fresh:
                real = self.mult(k1, N, p0)
            else:
                real = lax.cond(m == 1, lambda: self.mult(k1, N, p0), lambda: st["real"])
            st["real"] = real
            counts = counts + real
            total = total + N
        # the pool
        if plan.pool == "accumulate":
            st["pool"] = st["pool"] + counts
            counts = st["pool"]
            total = plan.real + (m - plan.synthetic_from + 1) * n
        elif plan.pool == "subsample":
            toks = jnp.repeat(jnp.arange(self.P), counts.astype(jnp.int64),
                              total_repeat_length=n)
            pool = lax.dynamic_update_slice(st["pool"], toks, ((m - 1) * n,))
            st["pool"] = pool
            u = jax.random.uniform(k2, pool.shape)
            u = jnp.where(jnp.arange(pool.shape[0]) < m * n, u, -1.0)
            idx = lax.top_k(u, n)[1]
            counts = jnp.zeros(self.P).at[pool[idx]].add(1.0)
            total = n
        p = counts / jnp.asarray(total, jnp.float64)
        q = self.sampling(p)
        st["q"] = q
        if plan.sources == "window":
            st["ring"] = st["ring"].at[m % plan.window].set(q)
        elif plan.sources == "uniform":
            st["qsum"] = st["qsum"] + q
        st["p"] = p
        st["p1"] = jnp.where(m == 1, p, st["p1"])
        supp = jnp.count_nonzero(p)
        st["ct"] = jnp.where((st["ct"] < 0) & (supp == 1), m, st["ct"])
        if self.tok.size:
            tp = p[jnp.asarray(self.tok)]
            st["lt"] = jnp.where((st["lt"] < 0) & (tp == 0), m, st["lt"])
        return st, self.stats(p, st["p1"], supp)

    def stats(self, p, p1, supp):
        jnp = _jax.numpy
        p0 = jnp.asarray(self.p0np)
        want = set(self.names)
        out = {}
        logp = jnp.log(jnp.where(p > 0, p, 1.0))
        if "support_size" in want:
            out["support_size"] = supp.astype(jnp.float64)
        if "homozygosity" in want:
            out["homozygosity"] = jnp.dot(p, p)
        if "entropy" in want:
            out["entropy"] = -jnp.sum(jnp.where(p > 0, p * logp, 0.0))
        for ref, tag in ((p0, "real"), (p1, "first")):
            if want & {f"l1_{tag}", f"kl_{tag}"}:
                out[f"l1_{tag}"] = jnp.abs(p - ref).sum()
                lr = jnp.where(ref > 0, jnp.log(jnp.where(ref > 0, ref, 1.0)), -jnp.inf)
                out[f"kl_{tag}"] = jnp.sum(jnp.where(p > 0, p * (logp - lr), 0.0))
        if "token_prob" in want:
            out["token_prob"] = p[jnp.asarray(self.tok)]
        return {k: out[k] for k in self.names}

    def initial_stats(self):
        p0 = self.model.p
        out = _stats.categorical_stats(p0[None], p0, None, self.tok, self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}

    def after(self, st):
        self.collapse_time = np.asarray(st["ct"], dtype=np.int64)
        self.loss_time = np.asarray(st["lt"], dtype=np.int64).reshape(self.R, self.tok.size)


# ---------------------------------------------------------------------- gaussian
class GaussianKernel(_JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.d = model.dim
        self.ddof = 1 if model.estimator == "unbiased" else 0
        self.mu0, self.S0 = model.mean, model.cov
        lam, U = np.linalg.eigh(self.S0)
        self.h0 = (U * np.sqrt(np.maximum(lam, 0))) @ U.T
        self.logdet0 = np.linalg.slogdet(self.S0)[1]
        self.thr = log_eps_threshold(problem)
        r = problem.regime
        if isinstance(r, AccumulateSubsample):
            self.grows = {"pool": (r.n, 0.0)}
        elif isinstance(r, RandomlySampled):
            self.grows = {"hmu": (1, 0.0), "hL": (1, 0.0)}
        super().__init__(problem, replicates, seed_seq)
        self.collapse_time = np.full(self.R, -1, dtype=np.int64)

    def init_state(self):
        jnp = _jax.numpy
        d = self.d
        mu0, S0 = jnp.asarray(self.mu0), jnp.asarray(self.S0)
        L0 = jnp.asarray(np.linalg.cholesky(self.S0))
        st = {"mu": mu0, "S": S0, "ct": jnp.asarray(-1, jnp.int64)}
        r = self.regime
        if isinstance(r, Mix):
            st["rb"] = (jnp.asarray(0.0), jnp.zeros(d), jnp.zeros((d, d)))
        elif isinstance(r, Accumulate):
            st["acc"] = (jnp.asarray(0.0), jnp.zeros(d), jnp.zeros((d, d)))
        elif isinstance(r, AccumulateSubsample):
            st["pool"] = jnp.zeros((0, d))
        elif isinstance(r, MostRecent):
            st["rmu"] = jnp.zeros((r.window, d)).at[0].set(mu0)
            st["rL"] = jnp.zeros((r.window, d, d)).at[0].set(L0)
        elif isinstance(r, RandomlySampled):
            st["hmu"] = jnp.zeros((0, d))
            st["hL"] = jnp.zeros((0, d, d))
        return self._broadcast(st)  # RandomlySampled: slot 0 filled at capacity time

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if isinstance(self.regime, RandomlySampled) and old == 0 and self.cap:
            self.state["hmu"] = self.state["hmu"].at[:, 0].set(self.mu0)
            self.state["hL"] = self.state["hL"].at[:, 0].set(np.linalg.cholesky(self.S0))

    def step(self, st, key, m):
        jax = _jax
        jnp = jax.numpy
        lax = jax.lax
        r = self.regime
        st = dict(st)
        d = self.d
        k1, k2, _k3 = jax.random.split(key, 3)
        L = _factor(st["S"])
        mu0, L0 = jnp.asarray(self.mu0), jnp.asarray(np.linalg.cholesky(self.S0))
        raw = None
        if isinstance(r, Replace):
            K, mean, M2 = _gauss_group(k1, st["mu"], L, float(r.n))
        elif isinstance(r, Mix):
            N, n = float(r.real), float(r.synthetic)
            first = m == 1
            if r.fresh:
                rb = _gauss_group(k1, mu0, L0, N)
            else:
                rb = lax.cond(first, lambda: _gauss_group(k1, mu0, L0, N), lambda: st["rb"])
            st["rb"] = rb
            syn = _gauss_group(k2, st["mu"], L, jnp.where(first, 0.0, n))
            K, mean, M2 = _chan(rb, syn)
        elif isinstance(r, Accumulate):
            st["acc"] = _chan(st["acc"], _gauss_group(k1, st["mu"], L, float(r.n)))
            K, mean, M2 = st["acc"]
        elif isinstance(r, AccumulateSubsample):
            n = r.n
            new = st["mu"] + jax.random.normal(k1, (n, d)) @ L.T
            pool = lax.dynamic_update_slice(st["pool"], new, ((m - 1) * n, 0))
            st["pool"] = pool
            u = jax.random.uniform(k2, (pool.shape[0],))
            u = jnp.where(jnp.arange(pool.shape[0]) < m * n, u, -1.0)
            raw = pool[lax.top_k(u, n)[1]]
            K = float(n)
            mean = raw.mean(0)
            dev = raw - mean
            M2 = dev.T @ dev
        elif isinstance(r, MostRecent):
            W = r.window
            k = jnp.minimum(W, m)
            per = (r.n // k).astype(jnp.float64)
            ns = jnp.where(jnp.arange(W) < k, per, 0.0)
            ks, means, M2s = jax.vmap(_gauss_group)(jax.random.split(k1, W), st["rmu"],
                                                   st["rL"], ns)
            K, mean, M2 = _chan_many(ks, means, M2s)
        elif isinstance(r, RandomlySampled):
            cap = st["hmu"].shape[0]
            lv = max(1, int(np.log2(cap)))
            w = jnp.where(jnp.arange(cap) < m, 1.0, 0.0)
            alloc = _multinomial(k1, float(r.n), w / w.sum(), lv)
            ks, means, M2s = jax.vmap(_gauss_group)(jax.random.split(k2, cap), st["hmu"],
                                                   st["hL"], alloc)
            K, mean, M2 = _chan_many(ks, means, M2s)
        else:  # pragma: no cover
            raise ValueError(r)
        S = M2 / (K - self.ddof)
        S = (S + S.T) / 2
        st["mu"], st["S"] = mean, S
        if isinstance(r, MostRecent):
            st["rmu"] = st["rmu"].at[m % r.window].set(mean)
            st["rL"] = st["rL"].at[m % r.window].set(_factor(S))
        elif isinstance(r, RandomlySampled):
            st["hmu"] = st["hmu"].at[m].set(mean)
            st["hL"] = st["hL"].at[m].set(_factor(S))
        out = self.stats(mean, S)
        ld = jnp.linalg.slogdet(S)[1] - self.logdet0
        st["ct"] = jnp.where((st["ct"] < 0) & (ld < self.thr), m, st["ct"])
        return st, out

    def stats(self, mean, S):
        jnp = _jax.numpy
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
            out["logdet_ratio"] = jnp.linalg.slogdet(S)[1] - self.logdet0
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


# ---------------------------------------------------------------------- sources of raw data
def _rows_models(regime, m, n, key, hist_len=None):
    """For a regime drawing ``n`` fresh samples at generation ``m``: per-row model slot
    (in the ring for MostRecent, in the history for RandomlySampled) and validity."""
    jax = _jax
    jnp = jax.numpy
    rows = jnp.arange(n)
    if isinstance(regime, MostRecent):
        W = regime.window
        k = jnp.minimum(W, m)
        per = n // k
        blk = rows // per
        valid = blk < k
        j = m - k + jnp.minimum(blk, k - 1)
        return j % W, valid
    if isinstance(regime, RandomlySampled):
        lv = max(1, int(np.log2(hist_len)))
        w = jnp.where(jnp.arange(hist_len) < m, 1.0, 0.0)
        alloc = _multinomial(key, float(n), w / w.sum(), lv)
        cum = jnp.cumsum(alloc)
        j = jnp.searchsorted(cum, rows.astype(jnp.float64), side="right")
        return jnp.minimum(j, hist_len - 1), jnp.ones(n, bool)
    return None, jnp.ones(n, bool)


# ---------------------------------------------------------------------- mixture
class MixtureKernel(_JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.K = model.components
        self.K0 = model.weights.size
        self.Km = max(self.K, self.K0)
        self.d = model.dim
        r = problem.regime
        self.n_new = r.synthetic if isinstance(r, Mix) else r.n
        if isinstance(r, (Accumulate, AccumulateSubsample)):
            self.grows = {"pool": (r.n, 0.0)}
        elif isinstance(r, RandomlySampled):
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
        jnp = _jax.numpy
        K, d, Km = self.K, self.d, self.Km
        w0, mu0, L0 = (jnp.asarray(a) for a in self.real_padded())
        st = {"w": jnp.zeros(K), "mu": jnp.zeros((K, d)), "cov": jnp.zeros((K, d, d)),
              "sw": w0, "smu": mu0, "sL": L0}
        r = self.regime
        if isinstance(r, Mix):
            st["real"] = jnp.zeros((r.real, d))
        elif isinstance(r, (Accumulate, AccumulateSubsample)):
            st["pool"] = jnp.zeros((0, d))
        elif isinstance(r, MostRecent):
            W = r.window
            st["rw"] = jnp.zeros((W, Km)).at[0].set(w0)
            st["rmu"] = jnp.zeros((W, Km, d)).at[0].set(mu0)
            st["rL"] = jnp.zeros((W, Km, d, d)).at[0].set(L0)
        elif isinstance(r, RandomlySampled):
            st["hw"] = jnp.zeros((0, Km))
            st["hmu"] = jnp.zeros((0, Km, d))
            st["hL"] = jnp.zeros((0, Km, d, d))
        return self._broadcast(st)

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if isinstance(self.regime, RandomlySampled) and old == 0 and self.cap:
            w0, mu0, L0 = self.real_padded()
            self.state["hw"] = self.state["hw"].at[:, 0].set(w0)
            self.state["hmu"] = self.state["hmu"].at[:, 0].set(mu0)
            self.state["hL"] = self.state["hL"].at[:, 0].set(L0)

    def sample(self, key, w, mu, L, n):
        """``n`` points; ``w, mu, L`` are per-row parameters (n, Km, ...) or one model."""
        jax = _jax
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
        jax = _jax
        jnp = jax.numpy
        lax = jax.lax
        r = self.regime
        st = dict(st)
        k1, k2, k3, _k4 = jax.random.split(key, 4)
        w0, mu0, L0 = (jnp.asarray(a) for a in self.real_padded())
        n = self.n_new
        if isinstance(r, (MostRecent, RandomlySampled)):
            if isinstance(r, MostRecent):
                slot, mask = _rows_models(r, m, n, k3)
                pw, pmu, pL = st["rw"][slot], st["rmu"][slot], st["rL"][slot]
            else:
                slot, mask = _rows_models(r, m, n, k3, st["hw"].shape[0])
                pw, pmu, pL = st["hw"][slot], st["hmu"][slot], st["hL"][slot]
            X = self.sample(k1, pw, pmu, pL, n)
        else:
            X = self.sample(k1, st["sw"], st["smu"], st["sL"], n)
            mask = jnp.ones(n, bool)
        if isinstance(r, Mix):
            first = m == 1
            if r.fresh:
                real = self.sample(k2, w0, mu0, L0, r.real)
            else:
                real = lax.cond(first, lambda: self.sample(k2, w0, mu0, L0, r.real),
                                lambda: st["real"])
            st["real"] = real
            X = jnp.concatenate([real, X])
            mask = jnp.concatenate([jnp.ones(r.real, bool), mask & ~first])
        elif isinstance(r, (Accumulate, AccumulateSubsample)):
            pool = lax.dynamic_update_slice(st["pool"], X, ((m - 1) * n, 0))
            st["pool"] = pool
            valid = jnp.arange(pool.shape[0]) < m * n
            if isinstance(r, Accumulate):
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
        if isinstance(r, MostRecent):
            i = m % r.window
            st["rw"], st["rmu"], st["rL"] = (st["rw"].at[i].set(sw), st["rmu"].at[i].set(smu),
                                             st["rL"].at[i].set(sL))
        elif isinstance(r, RandomlySampled):
            st["hw"], st["hmu"], st["hL"] = (st["hw"].at[m].set(sw), st["hmu"].at[m].set(smu),
                                             st["hL"].at[m].set(sL))
        out = {"weights": w, "means": mu, "covs": cov}
        return st, {k: out[k] for k in self.names}

    def em_init(self, X, mask):
        """:func:`._em.em_init` on the rows where ``mask`` is 1."""
        jnp = _jax.numpy
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
        jax = _jax
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


# ---------------------------------------------------------------------- regression
class RegressionKernel(_JaxKernel):
    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.d = model.dim
        self.sigma = model.noise
        self.fixed = model.design == "fixed"
        r = problem.regime
        self.n_syn = r.synthetic if isinstance(r, Mix) else r.n
        if isinstance(r, AccumulateSubsample):
            self.grows = {"pool": (r.n, 0.0)}
        elif isinstance(r, RandomlySampled):
            self.grows = {"hist": (1, 0.0)}
        super().__init__(problem, replicates, seed_seq)

    def init_state(self):
        jax = _jax
        jnp = jax.numpy
        d = self.d
        w0 = jnp.asarray(self.model.w)
        st = {"w": w0}
        r = self.regime
        if isinstance(r, Mix):
            st["rb"] = (jnp.zeros((d, d)), jnp.zeros(d))
        elif isinstance(r, Accumulate):
            st["acc"] = (jnp.zeros((d, d)), jnp.zeros(d))
        elif isinstance(r, AccumulateSubsample):
            st["pool"] = jnp.zeros((0, d + 1))
        elif isinstance(r, MostRecent):
            st["ring"] = jnp.zeros((r.window, d)).at[0].set(w0)
        elif isinstance(r, RandomlySampled):
            st["hist"] = jnp.zeros((0, d))
        st = self._broadcast(st)
        if self.fixed:  # the design rows, drawn once per replicate
            n_real = r.real if isinstance(r, Mix) else 0

            def design(key):
                k1, k2 = jax.random.split(jax.random.fold_in(key, 0))
                return (jax.random.normal(k1, (self.n_syn, d)),
                        jax.random.normal(k2, (n_real, d)))

            st["Xs"], st["Xr"] = jax.vmap(design)(self.keys)
        return st

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if isinstance(self.regime, RandomlySampled) and old == 0 and self.cap:
            self.state["hist"] = self.state["hist"].at[:, 0].set(self.model.w)

    def group(self, key, theta, k):
        """Fresh design: ``(X^T X, X^T y)`` of ``k`` rows labelled by ``theta``."""
        jax = _jax
        k1, k2 = jax.random.split(key)
        B = _bartlett(k1, k, self.d)
        A = B @ B.T
        return A, A @ theta + self.sigma * (B @ jax.random.normal(k2, (self.d,)))

    def rows(self, key, X, thetas, mask):
        """Fixed design: ``(X^T X, X^T y)`` of the rows ``X`` labelled by per-row
        ``thetas`` (rows with ``mask`` 0 left out)."""
        jax = _jax
        y = (X * thetas).sum(1) + self.sigma * jax.random.normal(key, (X.shape[0],))
        Xm = X * mask[:, None]
        return Xm.T @ X, Xm.T @ y

    def step(self, st, key, m):
        jax = _jax
        jnp = jax.numpy
        lax = jax.lax
        r = self.regime
        st = dict(st)
        d = self.d
        k1, k2, k3 = jax.random.split(key, 3)
        w0 = jnp.asarray(self.model.w)
        th = st["w"]
        n = self.n_syn
        ones = jnp.ones(n)
        if self.fixed:
            def new_block(key, theta):
                return self.rows(key, st["Xs"], jnp.broadcast_to(theta, (n, d)), ones)
        else:
            def new_block(key, theta):
                return self.group(key, theta, float(n))
        if isinstance(r, Replace):
            A, b = new_block(k1, th)
        elif isinstance(r, Mix):
            first = m == 1
            if self.fixed:
                Xr = st["Xr"]

                def real_block():
                    return self.rows(k2, Xr, jnp.broadcast_to(w0, Xr.shape), jnp.ones(r.real))
            else:
                def real_block():
                    return self.group(k2, w0, float(r.real))
            rb = real_block() if r.fresh else lax.cond(first, real_block, lambda: st["rb"])
            st["rb"] = rb
            As, bs = new_block(k1, th)
            A = rb[0] + jnp.where(first, 0.0, As)
            b = rb[1] + jnp.where(first, 0.0, bs)
        elif isinstance(r, Accumulate):
            As, bs = new_block(k1, th)
            st["acc"] = (st["acc"][0] + As, st["acc"][1] + bs)
            A, b = st["acc"]
        elif isinstance(r, AccumulateSubsample):
            X = st["Xs"] if self.fixed else jax.random.normal(k1, (n, d))
            y = X @ th + self.sigma * jax.random.normal(k2, (n,))
            pool = lax.dynamic_update_slice(st["pool"], jnp.column_stack([X, y]),
                                            ((m - 1) * n, 0))
            st["pool"] = pool
            valid = jnp.arange(pool.shape[0]) < m * n
            u = jnp.where(valid, jax.random.uniform(k3, valid.shape), -1.0)
            D = pool[lax.top_k(u, n)[1]]
            A, b = D[:, :d].T @ D[:, :d], D[:, :d].T @ D[:, d]
        elif isinstance(r, (MostRecent, RandomlySampled)):
            hist = st["ring"] if isinstance(r, MostRecent) else st["hist"]
            H = hist.shape[0]
            if self.fixed:
                slot, mask = _rows_models(r, m, n, k3, H)
                A, b = self.rows(k1, st["Xs"], hist[slot], mask.astype(jnp.float64))
            else:
                if isinstance(r, MostRecent):
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
        else:  # pragma: no cover
            raise ValueError(r)
        wn = _pinv_solve((A + A.T) / 2, b)
        st["w"] = wn
        if isinstance(r, MostRecent):
            st["ring"] = st["ring"].at[m % r.window].set(wn)
        elif isinstance(r, RandomlySampled):
            st["hist"] = st["hist"].at[m].set(wn)
        diff = wn - w0
        out = {"test_error": diff @ diff, "coef": wn}
        return st, {k: out[k] for k in self.names}

    def initial_stats(self):
        out = _stats.regression_stats(self.model.w[None], self.model.w, self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}


KERNELS = {
    "categorical": CategoricalKernel,
    "gaussian": GaussianKernel,
    "mixture": MixtureKernel,
    "regression": RegressionKernel,
}
