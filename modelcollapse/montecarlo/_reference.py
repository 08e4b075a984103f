"""Reference simulators: plain NumPy loops on raw samples, obviously correct, not fast.

:func:`reference_simulate` is the oracle of the fast kernels: it draws every training
sample one by one (tokens, points, labelled rows), refits the model on the raw data, and
states the semantics of every regime in a few readable lines. The two older helpers
:func:`categorical_paths` and :func:`collapse_times` (multinomial draws on the full
vector, the way the papers' scripts do it) serve the proofs and the benchmarks.
"""

from __future__ import annotations

import numpy as np

from ..curation import curate_samples
from ..models import (
    Categorical,
    Gaussian,
    GaussianMixture,
    LinearRegression,
    check_categorical,
    check_positive_int,
)
from ..ngram import NGram, refit
from ..regimes import Mix, Replace
from ..sampling import sampling_distribution
from . import _em, _stats

__all__ = ["categorical_paths", "collapse_times", "reference_simulate", "sources"]

REAL = 0  # index of the real distribution p^(0) among the models


def sources(regime, m: int, rng) -> list[tuple[int, int]]:
    """The synthetic data of generation ``m >= 1`` as ``(model index, sample count)``
    pairs; model 0 is the real distribution (the regime's plan; the real block and the
    accumulated pools are the caller's)."""
    return regime.plan().blocks(m, rng)


class _RawModel:
    """Raw-sample operations of one replicate: ``sample(theta, k)``, ``fit(data)``,
    ``concat(blocks)``, ``take(data, idx)`` and ``stats(theta)``. ``drawn``: the raw
    samples drawn for the current generation (``None`` at generation 0)."""

    drawn = None


class _RawCategorical(_RawModel):
    def __init__(self, model, problem, rng):
        self.p0, self.V, self.rng = model.p, model.size, rng
        self.policy = problem.sampling
        self.curation = problem.curation
        self.tokens = np.asarray(problem.tokens, dtype=np.int64)
        self.p1 = None
        self.real = self.p0

    def sample(self, theta, k, j):
        if j == REAL:
            self.drawn += k
            return self.rng.choice(self.V, size=k, p=theta)
        q = sampling_distribution(theta[None], self.policy)[0]
        tok, raw = curate_samples(self.rng, q, k, self.curation)
        self.drawn += raw
        return tok

    def fit(self, data, prev):
        return np.bincount(data, minlength=self.V) / data.size

    def stats(self, theta, names):
        return _stats.categorical_stats(theta[None], self.p0, None if self.p1 is None
                                        else self.p1[None], self.tokens, names,
                                        raw=self.drawn)


class _RawGaussian(_RawModel):
    def __init__(self, model, problem, rng):
        self.model, self.rng = model, rng
        self.real = (model.mean, model.cov)
        self.ddof = 1 if model.estimator == "unbiased" else 0

    def sample(self, theta, k, j):
        return self.rng.multivariate_normal(theta[0], theta[1], size=k, method="cholesky")

    def fit(self, data, prev):
        mean = data.mean(axis=0)
        diff = data - mean
        return mean, diff.T @ diff / (data.shape[0] - self.ddof)

    def stats(self, theta, names):
        return _stats.gaussian_stats(theta[0][None], theta[1][None], self.model.mean,
                                     self.model.cov, names)


class _RawMixture(_RawModel):
    def __init__(self, model, problem, rng):
        self.model, self.rng = model, rng
        self.real = (model.weights, model.means, model.covs)

    def sample(self, theta, k, j):
        w, mu, cov = theta
        comp = self.rng.choice(w.size, size=k, p=w)
        out = np.empty((k, mu.shape[1]))
        for i, c in enumerate(comp):
            out[i] = self.rng.multivariate_normal(mu[c], cov[c], method="cholesky")
        return out

    def fit(self, data, prev):
        m = self.model
        if prev is self.real:
            start = _em.em_init(data[None], m.components)
        else:
            start = tuple(a[None] for a in prev)
        w, mu, cov = _em.em_fit(data[None], *start, max_iter=m.max_iter, tol=m.tol,
                                reg_covar=m.reg_covar)
        return w[0], mu[0], cov[0]

    def stats(self, theta, names):
        w, mu, cov = theta
        if w.size != self.model.components:  # the real mixture has another size
            K, d = self.model.components, self.model.dim
            w, mu, cov = np.full(K, np.nan), np.full((K, d), np.nan), np.full((K, d, d),
                                                                                np.nan)
        return _stats.mixture_stats(w[None], mu[None], cov[None], names)


class _RawRegression(_RawModel):
    """A sample is a labelled row ``(x, y)``; with a fixed design the rows' ``x`` are
    the fixed design's rows, in the order the regime assigns them."""

    def __init__(self, model, problem, rng):
        self.model, self.rng = model, rng
        self.real = model.w
        self.d = model.dim
        self.X_syn = self.X_real = None

    def fixed_design(self, n_syn, n_real):
        self.X_syn = self.rng.standard_normal((n_syn, self.d))
        if n_real:
            self.X_real = self.rng.standard_normal((n_real, self.d))

    def sample(self, theta, k, j, rows=None):
        if self.model.design == "fresh":
            X = self.rng.standard_normal((k, self.d))
        else:
            X = rows
        y = X @ theta + self.model.noise * self.rng.standard_normal(k)
        return np.column_stack([X, y])

    def fit(self, data, prev):
        return np.linalg.lstsq(data[:, :-1], data[:, -1], rcond=None)[0]

    def stats(self, theta, names):
        return _stats.regression_stats(theta[None], self.model.w, names)


class _RawNGram(_RawModel):
    """A sample is one transition ``(context, token)`` coded ``context * V + token``;
    a block of ``k`` is generated as sequences of ``model.length`` tokens, token by
    token."""

    def __init__(self, model, problem, rng):
        self.model, self.rng = model, rng
        self.policy = problem.sampling
        self.V, self.C = model.vocab_size, model.contexts
        self.real = model.table
        self.start = model.start_law()
        self.pi0 = model.stationary_contexts()
        self.p1 = self.counts = None

    def sample(self, theta, k, j):
        q = theta if j == REAL else sampling_distribution(theta, self.policy)
        L = self.model.length or max(k, 1)
        out = []
        while len(out) < k:
            ctx = self.rng.choice(self.C, p=self.start)
            for _ in range(min(L, k - len(out))):
                x = self.rng.choice(self.V, p=q[ctx])
                out.append(ctx * self.V + x)
                ctx = (ctx * self.V + x) % self.C
        return np.asarray(out, dtype=np.int64)

    def fit(self, data, prev):
        m = self.model
        self.counts = np.bincount(data, minlength=self.C * self.V).reshape(self.C, self.V)
        return refit(self.counts, m.order, m.unseen, m.smoothing, prev)

    def stats(self, theta, names):
        return _stats.ngram_stats(theta[None], self.real, None if self.p1 is None else
                                  self.p1[None], self.pi0,
                                  None if self.counts is None else self.counts[None], names)


_RAW = {Categorical: _RawCategorical, NGram: _RawNGram, Gaussian: _RawGaussian,
        GaussianMixture: _RawMixture, LinearRegression: _RawRegression}


def _one_replicate(problem, generations, rng, names):
    model, plan = problem.model, problem.plan
    raw = _RAW[type(model)](model, problem, rng)
    fixed = isinstance(model, LinearRegression) and model.design == "fixed"
    if fixed:
        raw.fixed_design(plan.n, plan.real)
    thetas = [raw.real]
    rows = [raw.stats(raw.real, names)]
    pool = None
    real_block = None
    for m in range(1, generations + 1):
        blocks = []
        start = 0
        raw.drawn = 0
        for j, k in plan.blocks(m, rng):  # fixed design: consecutive blocks of its rows
            if fixed:
                blocks.append(raw.sample(thetas[j], k, j, rows=raw.X_syn[start:start + k]))
                start += k
            else:
                blocks.append(raw.sample(thetas[j], k, j))
        if plan.real:
            if real_block is None or plan.real_fresh:
                rows_real = {"rows": raw.X_real} if fixed else {}
                real_block = raw.sample(raw.real, plan.real, REAL, **rows_real)
            blocks.insert(0, real_block)
        data = np.concatenate(blocks)
        if plan.pool != "none":
            pool = data if pool is None else np.concatenate([pool, data])
            data = pool
            if plan.pool == "subsample":
                data = pool[rng.choice(pool.shape[0], size=plan.n, replace=False)]
        theta = raw.fit(data, thetas[-1])
        thetas.append(theta)
        if m == 1 and isinstance(raw, (_RawCategorical, _RawNGram)):
            raw.p1 = theta
        rows.append(raw.stats(theta, names))
    return {k: np.concatenate([r[k] for r in rows]) for k in names}


def reference_simulate(problem, generations: int, *, replicates: int, seed=None) -> dict:
    """Simulate ``problem`` (a :class:`~modelcollapse.montecarlo._engine.Problem`) on
    raw samples; replicate ``r`` uses ``default_rng(SeedSequence(seed).spawn(R)[r])``.

    Returns ``{statistic: array (replicates, generations + 1, ...)}`` for every
    statistic of the model's family.
    """
    names = _stats.STATISTICS[_stats.family(problem.model)]
    seeds = np.random.SeedSequence(seed).spawn(replicates)
    reps = [_one_replicate(problem, generations, np.random.default_rng(s), names)
            for s in seeds]
    return {k: np.stack([r[k] for r in reps]) for k in names}


# ---------------------------------------------------------------------- paper-style loops
def categorical_paths(model, regime, generations: int, *, replicates: int, seed=None):
    r"""Simulate :math:`p^{(0)}, \dots, p^{(\text{generations})}` for each replicate.

    ``Replace(n)``: :math:`p^{(m)} = \mathrm{Mult}(n, p^{(m-1)})/n`.
    ``Mix(real=N, synthetic=n)``: :math:`p^{(1)} = \mathrm{Mult}(N, p^{(0)})/N` and
    :math:`p^{(m+1)} = (1-\alpha)p^{(1)} + \alpha\,\mathrm{Mult}(n, p^{(m)})/n`.

    Returns an array of shape ``(replicates, generations + 1, s)``.
    ``seed`` is anything accepted by :func:`numpy.random.default_rng`.
    """
    p0 = check_categorical(model).p
    generations = check_positive_int(generations, "generations")
    replicates = check_positive_int(replicates, "replicates")
    rng = np.random.default_rng(seed)
    out = np.empty((replicates, generations + 1, p0.size))
    out[:, 0] = p0
    if isinstance(regime, Replace):
        n = regime.n
        for m in range(1, generations + 1):
            out[:, m] = rng.multinomial(n, out[:, m - 1]) / n
    elif isinstance(regime, Mix) and not regime.fresh:
        N, n, a = regime.real, regime.synthetic, regime.alpha
        out[:, 1] = rng.multinomial(N, np.broadcast_to(p0, (replicates, p0.size))) / N
        for m in range(2, generations + 1):
            out[:, m] = (1 - a) * out[:, 1] + a * rng.multinomial(n, out[:, m - 1]) / n
    else:
        raise NotImplementedError(
            f"categorical_paths covers Replace and Mix(fresh=False), not {regime!r}; "
            "use montecarlo.simulate"
        )
    return out


def collapse_times(model, regime, *, replicates: int, seed=None,
                   max_generations: int = 10_000_000):
    """Simulate the total-collapse time ``T`` under ``Replace(n)``.

    Returns ``(T, winner)``: the first generation at which ``p^(m)`` is a Dirac mass,
    and the token it collapsed onto, for each replicate.
    """
    p0 = check_categorical(model).p
    if not isinstance(regime, Replace):
        raise ValueError("collapse_times needs Replace(n): other regimes do not collapse")
    replicates = check_positive_int(replicates, "replicates")
    n = regime.n
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.broadcast_to(p0, (replicates, p0.size)))
    T = np.zeros(replicates, dtype=np.int64)
    winner = np.full(replicates, -1, dtype=np.int64)
    alive = np.arange(replicates)
    m = 1
    while alive.size:
        done = np.count_nonzero(counts[alive], axis=1) == 1
        idx = alive[done]
        T[idx] = m
        winner[idx] = np.argmax(counts[idx], axis=1)
        alive = alive[~done]
        if not alive.size:
            break
        if m >= max_generations:
            raise RuntimeError(f"{alive.size} replicates did not collapse by max_generations")
        counts[alive] = rng.multinomial(n, counts[alive] / n)
        m += 1
    return T, winner
