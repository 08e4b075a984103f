"""JAX kernel of the n-gram family: text generated a position at a time for all
sequences and replicates at once, counted, refitted.

One generation of one replicate (``vmap`` over replicates, ``lax.scan`` over the
generations in :mod:`.core`): the synthetic blocks of the plan (the last model, a
window of models, or a multinomial allocation of the ``n`` tokens over every earlier
model) and the real block are generated as sequences of ``length`` tokens, each token
one inverse-CDF draw (one uniform) in the cumulative row of its context's sampling law
(the fit under the sampling policy; plain for the real model), the sequences of a block
side by side in a padded grid scanned over positions (``length=None``: one sequence per
block, the blocks one after another in a single scan over the tokens); the transitions
are counted by a scatter-add into a dense ``(V**k, V)`` table, pooled by the plan, and
refitted by the model's rule (:func:`modelcollapse.ngram.refit`, written here in
``jnp``). The statistics are those of :func:`.._stats.ngram_stats`; the collapse time
(every context reachable from the start law's support has a Dirac row) is tracked under
``unseen="keep"`` and ``smoothing=0`` only, as on the other backends.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .. import _stats
from .._numpy.ngram import reachable_dirac
from . import core
from .categorical import CategoricalKernel
from .core import JaxKernel, _multinomial_inverse


def cumulative(table: np.ndarray) -> np.ndarray:
    """Row-wise cumulative sums for inverse-CDF draws, 2.0 from each row's last positive
    entry on (a uniform in [0, 1) never passes it, whatever the rounding): the draw is
    the number of entries ``<= u``, and a token of mass 0 is never drawn."""
    xp = np if isinstance(table, np.ndarray) else core._jax.numpy
    V = table.shape[-1]
    cum = xp.cumsum(table, axis=-1)
    last = V - 1 - xp.argmax(table[..., ::-1] > 0, axis=-1)
    return xp.where(xp.arange(V) >= last[..., None], 2.0, cum)


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


class NGramKernel(JaxKernel):
    """Per replicate: the fit ``P``, the first fit ``P1``, the cumulative sampling
    tables of the models the plan reads (``cq``: the last one; ``ring``: a window;
    ``hist``: all of them, slot ``j`` for model ``j``, slot 0 the real model, plain),
    the real block's counts, the pool (counts, or the transition codes of every
    generation for a subsampled pool) and the collapse time."""

    def __init__(self, problem, replicates, seed_seq):
        model = problem.model
        self.plan = plan = problem.plan
        if plan.pool == "subsample" and (plan.real or plan.synthetic_from != 1
                                         or plan.sources != "last"):
            raise ValueError("the JAX n-gram kernel subsamples pools of one block of the "
                             "last model per generation (AccumulateSubsample); use "
                             "backend='numba' for this plan")
        self.C, self.V = model.table.shape
        self.order = model.order
        self.L = model.length
        self.unseen = model.unseen
        self.alpha = float(model.smoothing)
        self.policy = problem.sampling
        self.P0 = np.ascontiguousarray(model.table, dtype=np.float64)
        self.cum0 = cumulative(self.P0)
        self.pi0 = model.stationary_contexts()
        self.u0 = self.pi0 @ self.P0
        law = model.start_law()
        self.start = -1 if model.start == "stationary" else int(model.start)
        self.startcum = cumulative(law)
        self.support = law > 0
        self.keep_rule = model.unseen == "keep" and model.smoothing == 0
        if plan.pool == "subsample":
            self.grows = {"pool": (plan.n, 0)}
        elif plan.sources == "uniform":
            self.grows = {"hist": (1, 0.0)}
        super().__init__(problem, replicates, seed_seq)
        self.collapse_time = np.full(self.R, self.collapse_time_init(), dtype=np.int64)

    @classmethod
    def scratch_bytes(cls, problem, replicates):
        """Per replicate during a generation: the counts carried through the scan and
        the rows gathered at one position (about one row per sequence of a block)."""
        m, plan = problem.model, problem.plan
        L = m.length or max(plan.n, plan.real, 1)
        seqs = _ceil_div(max(plan.n, plan.real, 1), L) + (plan.window if plan.sources ==
                                                          "window" else 1)
        return 8.0 * replicates * (3 * m.table.size + 2 * seqs * m.vocab_size)

    # ------------------------------------------------------------------ state
    def init_state(self):
        jnp = core._jax.numpy
        plan = self.plan
        P0, cum0 = jnp.asarray(self.P0), jnp.asarray(self.cum0)
        st = {"P": P0, "P1": jnp.zeros_like(P0),
              "ct": jnp.asarray(self.collapse_time_init(), jnp.int64)}
        if plan.real:
            st["real"] = jnp.zeros_like(P0)
        if plan.pool == "accumulate":
            st["pool"] = jnp.zeros_like(P0)
        elif plan.pool == "subsample":
            st["pool"] = jnp.zeros((0,), jnp.int64)
        if plan.sources == "last":
            st["cq"] = cum0
        elif plan.sources == "window":
            st["ring"] = jnp.zeros((plan.window, self.C, self.V)).at[0].set(cum0)
        else:  # slot j: model j; grows by one slot per generation
            st["hist"] = cum0[None]
        return self._broadcast(st)

    def collapse_time_init(self):
        """0 when the real model has already collapsed (under the keep rule), else -1."""
        return 0 if self.keep_rule and bool(
            reachable_dirac(self.P0[None], self.support.astype(np.float64))[0]) else -1

    # ------------------------------------------------------------------ text
    def _start_contexts(self, key, shape):
        """First contexts of sequences: the fixed start, or draws of the start law."""
        jax = core._jax
        jnp = jax.numpy
        if self.start >= 0:
            return jnp.full(shape, self.start, jnp.int64)
        u = jax.random.uniform(key, shape, jnp.float64)
        return jnp.searchsorted(jnp.asarray(self.startcum), u,
                                side="right").astype(jnp.int64)

    def _layout(self, sizes_max: int, blocks: int, per_block=None):
        """``(S, Lc)``: the padded grid of the sequences of ``blocks`` blocks of at most
        ``sizes_max`` tokens in all (``per_block``: the static bound on the number of
        sequences when it is not ``ceil(sizes_max / Lc)`` plus one per extra block);
        ``None`` for ``length=None`` (the blocks one after another in one scan)."""
        if self.L is None:
            return None
        Lc = max(1, min(self.L, sizes_max))
        if per_block is not None:
            return per_block(Lc), Lc
        return _ceil_div(sizes_max, Lc) + blocks - 1, Lc

    def generate(self, key, tables, models, sizes, total: int, grid):
        """Transition counts ``(C, V)`` of blocks of ``sizes`` tokens (int ``(B,)``,
        ``total`` at most in all), block ``b`` generated from the cumulative sampling
        table ``tables[models[b]]``: sequences of ``length`` tokens from the start law,
        each token one uniform. ``grid``: ``(S, Lc)`` (:meth:`_layout`), or ``None``."""
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        C, V = self.C, self.V
        B = sizes.shape[0]
        k_start, k_tok = jax.random.split(key)
        ends = jnp.cumsum(sizes)
        zero = jnp.zeros(C * V)
        if grid is not None:  # sequences side by side, scanned over positions
            S, Lc = grid
            nrow = (sizes + Lc - 1) // Lc
            rend = jnp.cumsum(nrow)
            r = jnp.arange(S)
            b = jnp.minimum(jnp.searchsorted(rend, r, side="right"), B - 1)
            i = r - (rend[b] - nrow[b])  # the row's place among its block's sequences
            length = jnp.where(r < rend[-1], jnp.clip(sizes[b] - i * Lc, 0, Lc), 0)
            model = models[b]

            def body(carry, t):
                ctx, counts = carry
                u = jax.random.uniform(jax.random.fold_in(k_tok, t), (S,), jnp.float64)
                x = jnp.sum(tables[model, ctx] <= u[:, None], axis=-1, dtype=jnp.int64)
                code = ctx * V + x
                counts = counts.at[code].add(jnp.where(t < length, 1.0, 0.0))
                return (code % C, counts), None

            ctx0 = self._start_contexts(k_start, (S,))
            (_, counts), _ = lax.scan(body, (ctx0, zero), jnp.arange(Lc))
        else:  # one sequence per block, the blocks one after another
            first = ends - sizes
            starts = self._start_contexts(k_start, (B,))

            def body(carry, t):
                ctx, counts = carry
                b = jnp.minimum(jnp.searchsorted(ends, t, side="right"), B - 1)
                ctx = jnp.where(t == first[b], starts[b], ctx)
                u = jax.random.uniform(jax.random.fold_in(k_tok, t), (), jnp.float64)
                x = jnp.sum(tables[models[b], ctx] <= u, dtype=jnp.int64)
                code = ctx * V + x
                counts = counts.at[code].add(jnp.where(t < ends[-1], 1.0, 0.0))
                return (code % C, counts), None

            (_, counts), _ = lax.scan(body, (jnp.asarray(0, jnp.int64), zero),
                                      jnp.arange(total))
        return counts.reshape(C, V)

    def synthetic(self, st, key, m):
        """The generation's synthetic blocks, counted."""
        jax = core._jax
        jnp = jax.numpy
        plan = self.plan
        n = plan.n
        if plan.sources == "last":
            return self.generate(key, st["cq"][None], jnp.zeros(1, jnp.int64),
                                 jnp.full(1, n, jnp.int64), n, self._layout(n, 1))
        if plan.sources == "window":
            W = plan.window
            k = jnp.minimum(W, m)
            i = jnp.arange(W)
            models = (m - k + i) % W
            sizes = jnp.where(i < k, n // k, 0).astype(jnp.int64)
            grid = self._layout(n, W, lambda Lc: max(
                kk * _ceil_div(n // kk, Lc) for kk in range(1, W + 1)))
            return self.generate(key, st["ring"], models, sizes, n, grid)
        # each token's model uniform among 0..m-1: a multinomial allocation
        hist = st["hist"]
        H = hist.shape[0]
        k_alloc, k_gen = jax.random.split(key)
        w = jnp.where(jnp.arange(H) < m, 1.0, 0.0)
        sizes = _multinomial_inverse(k_alloc, n, w / w.sum()).astype(jnp.int64)
        z = min(n, H)  # blocks with tokens
        grid = self._layout(n, H, lambda Lc: min(n, (n + z * (Lc - 1)) // Lc))
        return self.generate(k_gen, hist, jnp.arange(H), sizes, n, grid)

    # ------------------------------------------------------------------ the fit
    def backoff_rows(self, counts):
        """:func:`modelcollapse.ngram.backoff_rows` of one table of counts."""
        jnp = core._jax.numpy
        C, V = self.C, self.V
        out = jnp.full((C, V), 1.0 / V)
        done = jnp.zeros(C, bool)
        low = counts
        for j in range(self.order - 1, -1, -1):
            low = low.reshape(V, V**j, V).sum(axis=0)
            visits = low.sum(axis=-1)
            rows = jnp.where(visits[:, None] > 0,
                             low / jnp.where(visits > 0, visits, 1.0)[:, None], 0.0)
            idx = np.arange(C) % V**j
            take = (visits[idx] > 0) & ~done
            out = jnp.where(take[:, None], rows[idx], out)
            done = done | take
        return out

    def refit(self, counts, prev):
        """:func:`modelcollapse.ngram.refit` of one table of counts."""
        jnp = core._jax.numpy
        V = self.V
        visits = counts.sum(axis=-1, keepdims=True)
        if self.alpha > 0:
            return (counts + self.alpha) / (visits + self.alpha * V)
        table = jnp.where(visits > 0, counts / jnp.where(visits > 0, visits, 1.0), 0.0)
        if self.unseen == "keep":
            other = prev
        elif self.unseen == "backoff":
            other = self.backoff_rows(counts)
        else:
            other = jnp.full_like(counts, 1.0 / V)
        return jnp.where(visits == 0, other, table)

    def sampling(self, P):
        """The sampling law of every row (the categorical kernel's compiled twin of
        :func:`modelcollapse.sampling.sampling_distribution`, row by row)."""
        if self.policy.plain:
            return P
        shim = SimpleNamespace(policy=self.policy, P=self.V)
        return core._jax.vmap(lambda row: CategoricalKernel.sampling(shim, row))(P)

    def collapsed(self, P, open_):
        """Every context reachable from the start law's support through transitions of
        ``P`` has a Dirac row (searched only while ``open_``)."""
        jax = core._jax
        jnp = jax.numpy
        C, V = self.C, self.V
        nz = P > 0
        dirac = jnp.count_nonzero(nz, axis=-1) == 1

        def cond(s):
            seen, grew = s
            return grew & jnp.all(dirac | ~seen)

        def body(s):
            seen, _ = s
            # transition (c, x) leads to context (c V + x) mod C: the flat index mod C
            new = seen | (seen[:, None] & nz).reshape(V, C).any(axis=0)
            return new, jnp.any(new != seen)

        seen, _ = jax.lax.while_loop(cond, body, (jnp.asarray(self.support), open_))
        return jnp.all(dirac | ~seen)

    # ------------------------------------------------------------------ one generation
    def step(self, st, key, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        n, C, V = plan.n, self.C, self.V
        st = dict(st)
        k_syn, k_real, k_sub = jax.random.split(key, 3)
        if plan.synthetic_from > 1:
            counts = lax.cond(m >= plan.synthetic_from,
                              lambda: self.synthetic(st, k_syn, m),
                              lambda: jnp.zeros((C, V)))
        else:
            counts = self.synthetic(st, k_syn, m)
        if plan.real:
            N = plan.real

            def real():
                return self.generate(k_real, jnp.asarray(self.cum0)[None],
                                     jnp.zeros(1, jnp.int64), jnp.full(1, N, jnp.int64),
                                     N, self._layout(N, 1))
            rc = real() if plan.real_fresh else lax.cond(m == 1, real, lambda: st["real"])
            st["real"] = rc
            counts = counts + rc
        if plan.pool == "accumulate":
            st["pool"] = st["pool"] + counts
            counts = st["pool"]
        elif plan.pool == "subsample":  # the transition codes of every generation
            codes = jnp.repeat(jnp.arange(C * V), counts.reshape(-1).astype(jnp.int64),
                               total_repeat_length=n)
            pool = lax.dynamic_update_slice(st["pool"], codes, ((m - 1) * n,))
            st["pool"] = pool
            u = jax.random.uniform(k_sub, pool.shape)
            u = jnp.where(jnp.arange(pool.shape[0]) < m * n, u, -1.0)
            idx = lax.top_k(u, n)[1]  # n of the m n codes, without replacement
            counts = jnp.zeros(C * V).at[pool[idx]].add(1.0).reshape(C, V)
        P = self.refit(counts, st["P"])
        st["P"] = P
        st["P1"] = jnp.where(m == 1, P, st["P1"])
        cq = cumulative(self.sampling(P))
        if plan.sources == "last":
            st["cq"] = cq
        elif plan.sources == "window":
            st["ring"] = st["ring"].at[m % plan.window].set(cq)
        else:
            st["hist"] = st["hist"].at[m].set(cq)
        if self.keep_rule:
            open_ = st["ct"] < 0
            st["ct"] = jnp.where(open_ & self.collapsed(P, open_), m, st["ct"])
        return st, self.stats(P, st["P1"], counts)

    def stats(self, P, P1, counts):
        """:func:`.._stats.ngram_stats` of one fit (``counts``: its training corpus)."""
        jnp = core._jax.numpy
        want = set(self.names)
        pi0 = jnp.asarray(self.pi0)
        out = {}
        nz = P > 0
        if "transitions" in want:
            out["transitions"] = jnp.count_nonzero(nz).astype(jnp.float64)
        if "dirac_mass" in want:
            out["dirac_mass"] = jnp.where(jnp.count_nonzero(nz, axis=-1) == 1, pi0,
                                          0.0).sum()
        if "homozygosity" in want:
            out["homozygosity"] = jnp.sum(P * P, axis=-1) @ pi0
        if "entropy" in want:
            h = -jnp.where(nz, P * jnp.log(jnp.where(nz, P, 1.0)), 0.0).sum(axis=-1)
            out["entropy"] = h @ pi0
        if "l1_real" in want:
            out["l1_real"] = jnp.abs(P - jnp.asarray(self.P0)).sum(axis=-1) @ pi0
        if "l1_first" in want:
            out["l1_first"] = jnp.abs(P - P1).sum(axis=-1) @ pi0
        total = jnp.maximum(counts.sum(), 1.0)
        if "unigram_l1" in want:
            f = counts.sum(axis=0) / total
            out["unigram_l1"] = jnp.abs(f - jnp.asarray(self.u0)).sum()
        if "distinct" in want:
            out["distinct"] = jnp.count_nonzero(counts).astype(jnp.float64) / total
        return {k: out[k] for k in self.names}

    def initial_stats(self):
        out = _stats.ngram_stats(self.P0[None], self.P0, None, self.pi0, None, self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}

    def after(self, st):
        self.collapse_time = np.asarray(st["ct"], dtype=np.int64)
