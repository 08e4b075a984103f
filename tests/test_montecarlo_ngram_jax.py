"""The JAX n-gram kernel against the numba kernel in law under every regime (and the
definitions it shares with :mod:`modelcollapse.ngram` and ``_stats.ngram_stats``).

Distributional comparisons use fixed seeds (deterministic) and a two-sample KS test at
significance 1e-3 on a final-generation statistic, rounded to 9 decimals so that the
atoms of these discrete statistics compare equal across backends; a comparison with
another regime's law must reject (negative control). Each (model, regime) compiles one
JAX program (seconds): those tests are in the slow tier.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")
from scipy.stats import ks_2samp

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    NGram,
    RandomlySampled,
    Replace,
)
from modelcollapse.montecarlo import Problem, _stats, simulate
from modelcollapse.montecarlo._numpy.ngram import reachable_dirac
from modelcollapse.ngram import refit

ALPHA = 1e-3
STATS = ("homozygosity", "l1_first", "unigram_l1")
#: the grid layout (sequences of 4 tokens side by side) and order 1 ...
NG = NGram.random(3, 1, seed=2, length=4)
#: ... and the stream layout (one sequence per block) at order 2 with backoff refits
NG2 = NGram.random(3, 2, seed=4, unseen="backoff")
REGIMES = [Replace(12), Mix(6, 10), Accumulate(8), MostRecent(12, 3), RandomlySampled(10),
           AccumulateSubsample(8), Replace(12, temperature=0.7, top_k=2)]
G, R = 4, 1500
_RUNS: dict = {}


def run(model, regime, backend, seed, generations=G, replicates=R, **kw):
    key = (id(model), repr(regime), backend, seed, generations, replicates)
    if key not in _RUNS:
        _RUNS[key] = simulate(model, regime, generations, replicates=replicates,
                              backend=backend, seed=seed, statistics=STATS, **kw)
    return _RUNS[key]


def ks_p(a, b) -> float:
    return ks_2samp(np.round(np.ravel(a), 9), np.round(np.ravel(b), 9)).pvalue


@pytest.mark.slow
@pytest.mark.parametrize("model", [NG, NG2], ids=["order1-length4", "order2-backoff"])
@pytest.mark.parametrize("regime", REGIMES, ids=repr)
def test_every_regime_matches_numba(model, regime):
    res = run(model, regime, "jax", seed=1)
    ref = run(model, regime, "numba", seed=3)
    assert res["homozygosity"].shape == (R, G + 1)
    for name in STATS:
        assert ks_p(res[name][:, G], ref[name][:, G]) > ALPHA, (regime, name)
    # exact: the distance to the first fit is 0 at generation 1, NaN at generation 0
    np.testing.assert_allclose(res["l1_first"][:, 1], 0.0, atol=1e-12)
    assert np.isnan(res["l1_first"][:, 0]).all()


@pytest.mark.slow
def test_negative_control_another_regime_is_rejected():
    res = run(NG, Replace(12), "jax", seed=1)
    ref = run(NG, Replace(6), "numba", seed=3)
    assert ks_p(res["homozygosity"][:, G], ref["homozygosity"][:, G]) < ALPHA


@pytest.mark.slow
def test_collapse_to_repetition_matches_numba():
    """Run to collapse (every context reachable from the start has a Dirac row): the law
    of the collapse time; another sequence length's law is rejected."""
    model = NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3)
    a = simulate(model, Replace(3), None, replicates=3000, backend="jax", seed=1)
    b = simulate(model, Replace(3), None, replicates=3000, backend="numba", seed=2)
    assert (a.collapse_time >= 1).all()
    assert ks_2samp(a.collapse_time, b.collapse_time).pvalue > ALPHA
    c = simulate(NGram(model.table, start=0, length=6), Replace(6), None,
                 replicates=3000, backend="numba", seed=2)
    assert ks_2samp(a.collapse_time, c.collapse_time).pvalue < ALPHA


@pytest.mark.slow
@pytest.mark.parametrize("order", [1, 2, 3])
def test_refit_stats_and_collapse_match_the_numpy_definitions(order):
    """The kernel's ``jnp`` refit (every rule), statistics and collapse check equal
    ``ngram.refit``, ``_stats.ngram_stats`` and ``reachable_dirac`` on sparse counts."""
    import jax

    from modelcollapse.montecarlo._jax import x64
    from modelcollapse.montecarlo._jax.ngram import NGramKernel

    V = 3
    base = NGram.random(V, order, seed=order)
    rng = np.random.default_rng(order)
    C = V**order
    counts = rng.poisson(0.4, size=(6, C, V)).astype(np.float64)
    counts[0] = 0.0
    counts[1, :, 1:] = 0.0  # Dirac rows
    prev = rng.dirichlet(np.full(V, 0.5), size=(6, C))
    prev[1] = np.eye(V)[np.zeros(C, dtype=int)]
    P1 = rng.dirichlet(np.ones(V), size=(6, C))
    for unseen, alpha in (("keep", 0.0), ("backoff", 0.0), ("uniform", 0.0), ("keep", 0.7)):
        model = NGram(base.table, order=order, unseen=unseen, smoothing=alpha)
        problem = Problem(model, Replace(5), statistics=_stats.STATISTICS["ngram"])
        kernel = NGramKernel(problem, 2, np.random.SeedSequence(0))
        with x64():
            P = np.asarray(jax.jit(jax.vmap(kernel.refit))(counts, prev))
            want = refit(counts, order, unseen, alpha, prev)
            np.testing.assert_allclose(P, want, rtol=0, atol=1e-15)
            got = jax.jit(jax.vmap(kernel.stats))(P, P1, counts)
            ref = _stats.ngram_stats(P, model.table, P1, kernel.pi0, counts, kernel.names)
            for k in kernel.names:
                np.testing.assert_allclose(np.asarray(got[k]), ref[k], rtol=1e-12,
                                           atol=1e-14, err_msg=k)
            check = jax.vmap(lambda p, k=kernel: k.collapsed(p, True))
            done = np.asarray(jax.jit(check)(P))
        np.testing.assert_array_equal(done, reachable_dirac(P, model.start_law()))
        if unseen == "keep" and not alpha:
            assert done[1] and not done.all()  # both answers occur


def test_smoke_shapes_seeds_and_replicate_streams():
    """A few replicates: shapes, generation 0, one seed one result, and a replicate's
    path independent of how many run alongside it."""
    model = NGram.random(2, 1, seed=0, length=3)
    a = simulate(model, Replace(5), 2, replicates=4, backend="jax", seed=7,
                 statistics=STATS)
    b = simulate(model, Replace(5), 2, replicates=4, backend="jax", seed=7,
                 statistics=STATS)
    c = simulate(model, Replace(5), 2, replicates=2, backend="jax", seed=7,
                 statistics=STATS)
    assert a["homozygosity"].shape == (4, 3)
    assert a.collapse_time.shape == (4,)
    ref0 = _stats.ngram_stats(model.table[None], model.table, None,
                              model.stationary_contexts(), None, STATS)
    for k in STATS:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(a[k][:2], c[k])
        np.testing.assert_allclose(a[k][:, 0], ref0[k][0], equal_nan=True)
    assert np.isfinite(a["unigram_l1"][:, 1:]).all()
