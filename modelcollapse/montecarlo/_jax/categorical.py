"""JAX kernel of the categorical family: the one loop over the plan on padded count
vectors (sampling policies and curation included).

Curation (:mod:`modelcollapse.curation`) applies to the samples of fitted models only
(those of :math:`p^{(0)}` are real): best of a finite ``K`` is simulated sample by sample
(``K`` candidates from ``q``, one chosen by a running Gumbel-max on the log-weights: the
Luce rule, exactly, in ``O(n)`` memory); best of infinity and the verifier draw from the
tilted law ``q w / sum(q w)``, the exact law of their kept samples (a verifier's kept
samples are independent draws from ``q a / E_q a``). Under ``RandomlySampled`` each
sample's source is drawn (uniform among the models so far) and the history keeps every
model. A verifier that keeps none of what a model emits is reported after the chunk
(``ValueError``), as the other backends do."""

from __future__ import annotations

import numpy as np

from ...curation import BestOfK
from ...sampling import TOP_P_SLACK
from .. import _stats
from . import core
from .core import INVERSE_MAX_RATIO, JaxKernel, _multinomial, _multinomial_inverse


class CategoricalKernel(JaxKernel):
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
        self.cur, self.K, self.cvec = _curation_codes(problem.curation, self.P)
        self.want_raw = "raw_samples" in problem.statistics
        if plan.pool == "subsample":
            if plan.real or plan.synthetic_from != 1 or plan.sources != "last":
                raise NotImplementedError("the JAX backend subsamples pools of one block "
                                          "of the last model per generation")
            self.grows = {"pool": (plan.n, 0)}
        #: curated RandomlySampled keeps every model's law (slot j: model j)
        self.every_model = plan.sources == "uniform" and self.cur is not None
        if self.every_model:  # and each model's acceptance rate (a verifier's raw draws)
            self.grows = {"hist": (1, 0.0), "hacc": (1, 1.0)}
        super().__init__(problem, replicates, seed_seq)
        p0v = model.p
        self.collapse_time = np.full(self.R, 0 if np.count_nonzero(p0v) == 1 else -1,
                                     dtype=np.int64)
        lt0 = np.where(p0v[self.tok] == 0, 0, -1).astype(np.int64)
        self.loss_time = np.broadcast_to(lt0, (self.R, self.tok.size)).copy()

    @classmethod
    def scratch_bytes(cls, problem, replicates):
        """A multinomial of ``n <= INVERSE_MAX_RATIO x`` the padded vocabulary draws
        ``n`` uniforms and their indices per replicate (vectorised over replicates)."""
        padded = 1 << max(1, int(np.ceil(np.log2(problem.model.size))))
        sizes = [k for k in (problem.plan.n, problem.plan.real)
                 if 0 < k <= INVERSE_MAX_RATIO * padded]
        plan = problem.plan
        if plan.sources == "uniform" and problem.curation is not None:
            # per sample: its source, uniform, candidate, search bounds, Gumbel key
            return 24.0 * replicates * max(sizes, default=0) + 64.0 * replicates * plan.n
        if _curation_codes(problem.curation, padded)[0] == "best-of":
            # per kept sample: a candidate, its uniform, Gumbel key and index, the best
            return 24.0 * replicates * max(sizes, default=0) + 48.0 * replicates * \
                problem.plan.n * (problem.plan.window if problem.plan.sources == "window"
                                  else 1)
        return 24.0 * replicates * max(sizes, default=0)

    def init_state(self):
        jnp = core._jax.numpy
        p0 = jnp.asarray(self.p0np)
        plan = self.plan
        st = {"p": p0, "p1": jnp.zeros_like(p0), "q": p0,
              "ct": jnp.asarray(self.collapse_time_init(), jnp.int64),
              "lt": jnp.asarray(np.where(self.p0np[self.tok] == 0, 0, -1), jnp.int64)}
        if self.cur == "verifier":
            st["none_kept"] = jnp.asarray(False)
        if plan.real:
            st["real"] = jnp.zeros_like(p0)
        if plan.pool == "accumulate":
            st["pool"] = jnp.zeros_like(p0)
        elif plan.pool == "subsample":
            st["pool"] = jnp.zeros((0,), jnp.int64)
        if plan.sources == "window":
            st["ring"] = jnp.zeros((plan.window, self.P)).at[0].set(p0)
        elif self.every_model:  # slot 0 (p0) is set once the history has room
            st["hist"] = jnp.zeros((0, self.P))
            st["hacc"] = jnp.zeros((0,))
            st["bad"] = jnp.asarray(False)
        elif plan.sources == "uniform":
            st["qsum"] = p0
        return self._broadcast(st)

    def _ensure_capacity(self, g1):
        old = self.cap
        super()._ensure_capacity(g1)
        if self.every_model and old == 0 and self.cap:
            self.state["hist"] = self.state["hist"].at[:, 0].set(self.p0np)
            self.state["hacc"] = self.state["hacc"].at[:, 0].set(1.0)

    def collapse_time_init(self):
        return 0 if np.count_nonzero(self.p0np) == 1 else -1

    def sampling(self, p):
        """The sampling distribution of the fit ``p``: a compiled twin of
        :func:`modelcollapse.sampling.sampling_distribution`."""
        jnp = core._jax.numpy
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
            qs = jnp.where(before < top_p * (1 - TOP_P_SLACK), qs, 0.0)
            qs = qs / qs.sum()
        return jnp.zeros_like(q).at[order].set(qs)

    def mult(self, key, n, q):
        # a static sample size not far above the vocabulary: n categorical draws, far
        # cheaper on a CPU than one tree binomial per vocabulary node
        if isinstance(n, (int, np.integer)) and n <= INVERSE_MAX_RATIO * self.P:
            return _multinomial_inverse(key, int(n), q)
        return _multinomial(key, n, q, self.levels)

    def curated(self, key, n, q, on, count=None):
        """Counts of ``count`` (default ``n``, static; ``count <= n``) samples of a model
        that emits from ``q``, curated where ``on`` (a fitted model's samples), plain
        otherwise; and whether a verifier keeps none of ``q``'s support there."""
        jax = core._jax
        jnp = jax.numpy
        count = n if count is None else count
        no = jnp.asarray(False)
        if self.cur is None:
            return self.mult(key, count, q), no
        if self.cur == "best-of":
            vec = jnp.asarray(self.cvec)
            return jax.lax.cond(on, lambda: self.best_of(key, n, count, q, vec),
                                lambda: self.mult(key, count, q)), no
        law, bad = self.kept_law(q)  # tilt, verifier: the kept samples' law
        return self.mult(key, count, jnp.where(on, law, q)), on & bad

    def best_of(self, key, n: int, count, q, logw):
        """Counts of ``count`` kept samples (of ``n`` simulated), each the Luce choice
        among ``K`` candidates from ``q`` (:meth:`luce`)."""
        jax = core._jax
        jnp = jax.numpy
        c = jnp.cumsum(q)
        last = q.shape[0] - 1 - jnp.argmax(q[::-1] > 0)

        def draw(k):
            u = jax.random.uniform(k, (n,), jnp.float64) * c[-1]
            return jnp.minimum(jnp.searchsorted(c, u, side="right"), last)

        tok = self.luce(key, n, draw, logw)
        keep = jnp.where(jnp.arange(n) < count, 1.0, 0.0)
        return jnp.zeros(q.shape[0], jnp.float64).at[tok].add(keep)

    def luce(self, key, n: int, draw, logw, single=None):
        """Tokens of ``n`` Luce choices, each among ``K`` candidates (``draw(key)``: one
        candidate per choice): a running Gumbel-max, ``argmax_j logw[x_j] + G_j`` picks
        ``j`` with probability ``w_j / sum w``; where ``single`` (a mask) only the first
        candidate counts (a real sample, never curated)."""
        jax = core._jax
        jnp = jax.numpy

        def body(j, carry):
            best, tok = carry
            ku, kg = jax.random.split(jax.random.fold_in(key, j))
            cand = draw(ku)
            score = logw[cand] + jax.random.gumbel(kg, (n,), jnp.float64)
            take = score > best
            if single is not None:
                take = take & ((j == 0) | ~single)
            return jnp.where(take, score, best), jnp.where(take, cand, tok)

        init = (jnp.full(n, -jnp.inf), jnp.zeros(n, jnp.int64))
        return jax.lax.fori_loop(0, self.K, body, init)[1]

    def kept_law(self, q):
        """What the curated RandomlySampled history keeps of a fitted model that emits
        from ``q``: ``q`` itself for best of a finite ``K`` (its candidates' law), else
        the law of the kept samples (tilt, verifier); and whether a verifier keeps
        none of ``q``'s support."""
        jnp = core._jax.numpy
        vec = jnp.asarray(self.cvec)
        if self.cur == "best-of":
            return q, jnp.asarray(False)
        if self.cur == "tilt":
            logit = jnp.where(q > 0, jnp.log(jnp.where(q > 0, q, 1.0)) + vec, -jnp.inf)
            law = jnp.exp(logit - logit.max())
            return law / law.sum(), jnp.asarray(False)
        law = q * vec
        bad = ~(law.sum() > 0)
        law = jnp.where(bad, q, law)
        return law / law.sum(), bad

    def search(self, C, rows, u, last):
        """Per sample ``i``: the first token ``t`` with ``C[rows[i], t] > u[i]`` (the
        inverse of row ``rows[i]``'s cumulative law ``C``), at most ``last[rows[i]]``: a
        binary search on gathered entries, ``O(log V)`` per sample."""
        jnp = core._jax.numpy
        lo = jnp.zeros(u.shape, jnp.int64)
        hi = last[rows]
        for _ in range(self.levels + 1):
            active = lo < hi
            mid = (lo + hi) // 2
            go = C[rows, mid] > u
            hi = jnp.where(active & go, mid, hi)
            lo = jnp.where(active & ~go, mid + 1, lo)
        return lo

    def uniform_curated(self, key, n: int, hist, m):
        """Counts of the ``n`` samples of a curated RandomlySampled generation ``m``:
        each sample's source uniform among the models ``0..m-1`` (``hist[j]``, see
        :meth:`kept_law`); a sample of model 0 is a plain draw of ``p0``, one of a
        fitted model a draw of its kept law (tilt, verifier) or the Luce choice among
        ``K`` candidates of it (running Gumbel-max, as :meth:`best_of`)."""
        jax = core._jax
        jnp = jax.numpy
        ks, kc = jax.random.split(key)
        src = jax.random.randint(ks, (n,), 0, m)
        C = jnp.cumsum(hist, axis=1)
        last = hist.shape[1] - 1 - jnp.argmax(hist[:, ::-1] > 0, axis=1)
        top = C[src, -1]

        def draw(k):
            u = jax.random.uniform(k, (n,), jnp.float64) * top
            return self.search(C, src, u, last)

        if self.cur != "best-of":
            tok = draw(kc)
        else:
            tok = self.luce(kc, n, draw, jnp.asarray(self.cvec), single=src == 0)
        return jnp.zeros(self.P, jnp.float64).at[tok].add(1.0), src

    def raw_count(self, key, count, acc):
        """Raw samples a fitted model emits for ``count`` kept ones (arrays alike):
        ``K count`` for best of ``K``, ``count`` for best of infinity, and for a verifier
        of acceptance rate ``acc`` (when ``raw_samples`` is recorded: an extra draw)
        ``count + NB(count, acc)``, drawn as a Poisson of a Gamma(count) times
        ``(1 - acc)/acc`` (independent of the kept tokens, exact)."""
        jax = core._jax
        jnp = jax.numpy
        if self.cur == "best-of":
            return count * float(self.K)
        if self.cur != "verifier" or not self.want_raw:
            return count
        kg, kp = jax.random.split(key)
        live = (count > 0) & (acc > 0) & (acc < 1)
        g = jax.random.gamma(kg, jnp.where(live, count, 1.0))
        lam = jnp.where(live, g * (1 - acc) / jnp.where(live, acc, 1.0), 0.0)
        return count + jnp.where(live, jax.random.poisson(kp, lam), 0).astype(jnp.float64)

    def step(self, st, key, m):
        jax = core._jax
        jnp = jax.numpy
        lax = jax.lax
        plan = self.plan
        n = plan.n
        st = dict(st)
        k1, k2, k3 = jax.random.split(key, 3)
        k_syn = k2 if plan.real else k1
        mf = m.astype(jnp.float64)
        p0 = jnp.asarray(self.p0np)
        vec = jnp.asarray(self.cvec)
        # the synthetic blocks: (counts, a verifier keeps nothing, raw samples drawn)
        if plan.sources == "last":
            def syn():  # model m - 1: a fitted one from m = 2 on
                c, none = self.curated(k_syn, n, st["q"], m > 1)
                raw = jnp.where(m > 1, self.raw_count(k3, float(n), st["q"] @ vec), n)
                return c, none, raw
            size = n
        elif plan.sources == "window":
            W = plan.window
            k = jnp.minimum(W, m)
            per = n // k
            ns = jnp.where(jnp.arange(W) < k, per, 0).astype(jnp.float64)
            keys = jax.random.split(k_syn, W)

            # slot s holds the model j = s (mod W); model 0 (slot 0 while m <= W) is real
            on = ~((jnp.arange(W) == 0) & (m <= W)) & (ns > 0)

            def syn():
                c, none = jax.vmap(lambda kk, q, o, cnt: self.curated(kk, n, q, o, cnt))(
                    keys, st["ring"], on, ns)
                raw = jnp.where(on, self.raw_count(k3, ns, st["ring"] @ vec), ns)
                return c.sum(0), jnp.any(none), raw.sum()
            size = k * per
        elif self.every_model:  # curated: each sample's source drawn, then curated
            def syn():
                c, src = self.uniform_curated(k_syn, n, st["hist"], m)
                alloc = jnp.zeros(st["hacc"].shape[0]).at[src].add(1.0)
                raw = self.raw_count(k3, alloc, st["hacc"])
                return c, st["bad"], alloc[0] + raw[1:].sum()  # model 0: real draws
            size = n
        else:  # each sample from a uniformly chosen model: the mean of their laws
            def syn():
                return self.mult(k_syn, n, st["qsum"] / mf), jnp.asarray(False), n
            size = n
        if plan.synthetic_from > 1:
            on = m >= plan.synthetic_from
            counts, none, drawn = lax.cond(
                on, lambda: tuple(jnp.asarray(x, jnp.float64) if i == 2 else x
                                  for i, x in enumerate(syn())),
                lambda: (jnp.zeros(self.P), jnp.asarray(False), jnp.asarray(0.0)))
            total = jnp.where(on, size, 0)
        else:
            (counts, none, drawn), total = syn(), size
        drawn = jnp.asarray(drawn, jnp.float64)
        if "none_kept" in st:
            st["none_kept"] = st["none_kept"] | none
        # the real block
        if plan.real:
            N = plan.real
            if plan.real_fresh:
                real = self.mult(k1, N, p0)
                drawn = drawn + N
            else:
                real = lax.cond(m == 1, lambda: self.mult(k1, N, p0), lambda: st["real"])
                drawn = drawn + jnp.where(m == 1, N, 0)
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
        elif self.every_model:
            law, bad = self.kept_law(q)
            st["hist"] = st["hist"].at[m].set(law)
            st["hacc"] = st["hacc"].at[m].set(q @ vec)
            st["bad"] = st["bad"] | bad
        elif plan.sources == "uniform":
            st["qsum"] = st["qsum"] + q
        st["p"] = p
        st["p1"] = jnp.where(m == 1, p, st["p1"])
        supp = jnp.count_nonzero(p)
        st["ct"] = jnp.where((st["ct"] < 0) & (supp == 1), m, st["ct"])
        if self.tok.size:
            tp = p[jnp.asarray(self.tok)]
            st["lt"] = jnp.where((st["lt"] < 0) & (tp == 0), m, st["lt"])
        return st, self.stats(p, st["p1"], supp, drawn)

    def stats(self, p, p1, supp, drawn):
        jnp = core._jax.numpy
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
        if "raw_samples" in want:
            out["raw_samples"] = drawn
        return {k: out[k] for k in self.names}

    def initial_stats(self):
        p0 = self.model.p
        out = _stats.categorical_stats(p0[None], p0, None, self.tok, self.names)
        return {k: np.broadcast_to(v, (self.R, *v.shape[1:])) for k, v in out.items()}

    def after(self, st):
        if "none_kept" in st and bool(np.any(np.asarray(st["none_kept"]))):
            raise ValueError("the verifier keeps none of the tokens the model emits "
                             "(acceptance is zero on its whole support): nothing can be "
                             "kept")
        self.collapse_time = np.asarray(st["ct"], dtype=np.int64)
        self.loss_time = np.asarray(st["lt"], dtype=np.int64).reshape(self.R, self.tok.size)


def _curation_codes(curation, P: int):
    """``(kind, K, vector)`` of a curation on ``P`` padded tokens: ``None`` (none, or best
    of one), ``"best-of"`` (finite ``K``; the log-weights ``r - max r``), ``"tilt"``
    (``K = inf``; the same log-weights) or ``"verifier"`` (the acceptance)."""
    if curation is None or (isinstance(curation, BestOfK) and curation.k == 1):
        return None, 1, np.zeros(P)
    vec = np.zeros(P)
    if isinstance(curation, BestOfK):
        r = curation.vector
        vec[:r.size] = r - r.max()
        return ("tilt", 0, vec) if curation.limit else ("best-of", curation.k, vec)
    vec[:curation.size] = curation.vector
    return "verifier", 0, vec
