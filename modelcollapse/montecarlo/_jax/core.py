"""JAX backend core: lazy import, the float64 context, exact samplers, and the driver
that runs a per-replicate ``step(state, key, m)`` with ``vmap`` over replicates and
``lax.scan`` over generations.

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

from .._kernel import PINV_RTOL, Kernel

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
    """``(k, mean, M2, F)`` of ``k`` points of ``N(mu, L L^T)``: sufficient statistics
    and ``F = L B``, a lower-triangular factor of ``M2``."""
    jax = _jax
    jnp = jax.numpy
    k1, k2 = jax.random.split(key)
    d = mu.shape[0]
    z = jax.random.normal(k1, (d,))
    mean = mu + L @ z / jnp.sqrt(jnp.maximum(k, 1.0))
    F = L @ _bartlett(k2, k - 1.0, d)
    return k, mean, F @ F.T, F


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


def _jnp():
    return _import_jax().numpy


# ---------------------------------------------------------------------- the base
class JaxKernel(Kernel):
    """Drives a per-replicate ``step(state, key, m) -> (state, stats)``."""

    #: one compiled program per chunk length: chunks keep ``chunk_for``'s length
    adaptive = False

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
        """Grow the arrays of ``grows`` to hold generations ``0..g1``: a history slot per
        model (model ``g1`` itself is written at index ``g1``: ``g1 + 1`` slots), a pool
        block per generation. (``.at[i].set`` drops an index out of range silently.)"""
        need = g1 + 1
        if not self.grows or need <= self.cap:
            return
        jnp = _jax.numpy
        new = _pow2_at_least(max(need, 8, 2 * self.cap))
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


def rows_models(plan, m, n, key, hist_len):
    """For a plan whose ``n`` synthetic rows of generation ``m`` come from several
    models: per-row model slot (``m - k + block`` in the ring for ``"window"``, an index
    into the history for ``"uniform"``) and validity (a window's rounding leaves rows
    out)."""
    jax = _jax
    jnp = jax.numpy
    rows = jnp.arange(n)
    if plan.sources == "window":
        W = plan.window
        k = jnp.minimum(W, m)
        per = n // k
        blk = rows // per
        valid = blk < k
        j = m - k + jnp.minimum(blk, k - 1)
        return j % W, valid
    lv = max(1, int(np.log2(hist_len)))
    w = jnp.where(jnp.arange(hist_len) < m, 1.0, 0.0)
    alloc = _multinomial(key, float(n), w / w.sum(), lv)
    cum = jnp.cumsum(alloc)
    j = jnp.searchsorted(cum, rows.astype(jnp.float64), side="right")
    return jnp.minimum(j, hist_len - 1), jnp.ones(n, bool)
