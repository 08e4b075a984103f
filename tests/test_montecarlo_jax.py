"""The JAX backend against the raw-sample oracle ``reference_simulate`` and theory.

Distributional comparisons use fixed seeds (deterministic) and a two-sample KS test at
significance 1e-3 on a final-generation statistic (rounded to 9 decimals, so that the
atoms of discrete statistics compare equal across backends).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jax")
from scipy.stats import binom, chisquare, ks_2samp

from modelcollapse import montecarlo, theory
from modelcollapse.models import (
    Categorical,
    Gaussian,
    GaussianMixture,
    LinearRegression,
)
from modelcollapse.montecarlo import check_problem, reference_simulate
from modelcollapse.regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)

ALPHA = 1e-3
CAT = Categorical.zipf(5, 1.0)
TOKENS = (0, 4)
GAUSS = Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]])
_RUNS: dict = {}


def jax_run(model, regime, generations, replicates, seed=0, **kw):
    """``simulate(..., backend="jax")`` through the engine (memoised in this module)."""
    key = (id(model), repr(regime), generations, replicates, seed, repr(sorted(kw.items())))
    if key not in _RUNS:
        _RUNS[key] = montecarlo.simulate(model, regime, generations, replicates=replicates,
                                         backend="jax", seed=seed, **kw)
    return _RUNS[key]


def ref_run(model, regime, generations, replicates, seed=12345, **kw):
    problem = check_problem(model, regime, kw.get("tokens", ()), None, 0.01)
    return reference_simulate(problem, generations, replicates=replicates, seed=seed)


def ks_p(a, b) -> float:
    return ks_2samp(np.round(np.ravel(a), 9), np.round(np.ravel(b), 9)).pvalue


CAT_REGIMES = [Replace(10), Mix(8, 6), Mix(8, 6, fresh=True), Accumulate(6),
               AccumulateSubsample(6), MostRecent(9, 3), RandomlySampled(8)]


def tiered(values, default):
    """``values`` as parameters, those not in ``default`` in the slow tier: each JAX
    compilation costs seconds, and the regimes share the plan-driven core, so the default
    suite runs a few regimes per test and ``-m slow`` the rest."""
    return [v if v in default
            else pytest.param(*(v if isinstance(v, tuple) else (v,)), marks=pytest.mark.slow)
            for v in values]


# ---------------------------------------------------------------------- categorical
@pytest.mark.parametrize("regime", tiered(CAT_REGIMES, [Replace(10), Mix(8, 6, fresh=True),
                                                         MostRecent(9, 3)]), ids=repr)
def test_categorical_matches_reference(regime):
    G = 4
    res = jax_run(CAT, regime, G, 600, tokens=TOKENS)
    ref = ref_run(CAT, regime, G, 200)
    assert res["homozygosity"].shape == (600, G + 1)
    for name in ("homozygosity", "l1_real", "support_size"):
        assert ks_p(res[name][:, -1], ref[name][:, -1]) > ALPHA, name
    # an exact invariant of every regime: the first generation's distance is 0 at m = 1
    np.testing.assert_allclose(res["l1_first"][:, 1], 0.0, atol=1e-12)
    assert np.isnan(res["kl_first"][:, 0]).all()


@pytest.mark.parametrize("sampler", ["inverse", "tree"])
def test_multinomial_samplers_exact_law(sampler):
    """Both JAX multinomial samplers against the exact law: each token's count is
    Binomial(n, q_i) (chi-square over its values, significance 1e-3), tokens of mass 0
    never drawn, counts sum to n; a wrong law is rejected (negative control)."""
    import jax

    from modelcollapse.montecarlo._jax import core as J

    J._import_jax()
    q = np.array([0.45, 0.0, 0.3, 0.05, 0.2, 0.0, 0.0, 0.0])
    n, R = 7, 20_000
    with J.x64():
        keys = jax.random.split(jax.random.PRNGKey(3), R)
        if sampler == "inverse":
            draw = jax.jit(jax.vmap(lambda k: J._multinomial_inverse(k, n,
                                                                      jax.numpy.asarray(q))))
        else:
            draw = jax.jit(jax.vmap(lambda k: J._multinomial(k, float(n),
                                                              jax.numpy.asarray(q), 3)))
        counts = np.asarray(draw(keys))
    assert counts.shape == (R, 8)
    np.testing.assert_array_equal(counts.sum(axis=1), n)
    assert (counts[:, q == 0] == 0).all()
    for i in (0, 2, 3, 4):
        observed = np.bincount(counts[:, i].astype(int), minlength=n + 1)
        expected = R * binom.pmf(np.arange(n + 1), n, q[i])
        keep = expected >= 5
        obs = np.r_[observed[keep], observed[~keep].sum()]
        exp = np.r_[expected[keep], expected[~keep].sum()]
        assert chisquare(obs[exp > 0], exp[exp > 0] * obs.sum() / exp.sum()).pvalue > ALPHA
    # negative control: token 0 against Binomial(n, 0.42) is rejected
    observed = np.bincount(counts[:, 0].astype(int), minlength=n + 1)
    expected = R * binom.pmf(np.arange(n + 1), n, 0.42)
    assert chisquare(observed, expected * observed.sum() / expected.sum()).pvalue < ALPHA


def test_categorical_tree_sampler_matches_reference():
    """A sample size above INVERSE_MAX_RATIO x the padded vocabulary takes the binomial
    tree: still the law of the reference simulator."""
    from modelcollapse.montecarlo._jax import core as J

    regime = Replace(J.INVERSE_MAX_RATIO * 8 + 9)
    res = jax_run(CAT, regime, 4, 600)
    ref = ref_run(CAT, regime, 4, 200)
    for name in ("homozygosity", "l1_real"):
        assert ks_p(res[name][:, -1], ref[name][:, -1]) > ALPHA, name


def test_categorical_negative_control():
    """The same comparison against a reference with another n must reject."""
    res = jax_run(CAT, Replace(10), 4, 600, tokens=TOKENS)
    ref = ref_run(CAT, Replace(3), 4, 200)
    assert ks_p(res["homozygosity"][:, -1], ref["homozygosity"][:, -1]) < ALPHA


def test_categorical_temperature_matches_reference():
    res = jax_run(CAT, Replace(10, temperature=0.6), 3, 600, statistics=["homozygosity"])
    ref = ref_run(CAT, Replace(10, temperature=0.6), 3, 200)
    assert ks_p(res["homozygosity"][:, -1], ref["homozygosity"][:, -1]) > ALPHA
    plain = jax_run(CAT, Replace(10), 4, 600, tokens=TOKENS)
    assert res["homozygosity"][:, -1].mean() > plain["homozygosity"][:, 3].mean()


def test_categorical_exact_invariants():
    n = 10
    res = jax_run(CAT, Replace(n), 4, 600, tokens=TOKENS)
    supp = res["support_size"]
    assert (supp >= 1).all() and (supp <= CAT.size).all()
    assert (np.diff(supp, axis=1) <= 0).all()  # Replace never regains a token
    tp = res["token_prob"][:, 1:] * n
    np.testing.assert_allclose(tp, np.round(tp), atol=1e-9)  # multiples of 1/n
    assert res["homozygosity"].min() >= 1 / CAT.size - 1e-12
    # loss times are the first generation where the token's probability is 0
    for j in range(len(TOKENS)):
        p = res["token_prob"][:, :, j]
        gone = p == 0
        first = np.where(gone.any(axis=1), gone.argmax(axis=1), -1)
        np.testing.assert_array_equal(res.token_loss_time[:, j], first)
    ct = res.collapse_time
    first = np.where((supp == 1).any(axis=1), (supp == 1).argmax(axis=1), -1)
    np.testing.assert_array_equal(ct, first)


def test_categorical_homozygosity_theory():
    """Replace: E S_m = 1 - (1 - 1/n)^m (1 - S_0), |z| < 5."""
    regime = Replace(10)
    res = jax_run(CAT, regime, 4, 600, tokens=TOKENS)
    S = res["homozygosity"]
    m = np.arange(S.shape[1])
    expect = theory.homozygosity(CAT, regime, m)
    np.testing.assert_allclose(expect, 1 - (1 - 1 / 10) ** m * (1 - CAT.homozygosity))
    se = S.std(axis=0, ddof=1) / np.sqrt(S.shape[0])
    z = (S.mean(axis=0)[1:] - expect[1:]) / se[1:]
    assert np.all(np.abs(z) < 5), z
    np.testing.assert_allclose(S[:, 0], CAT.homozygosity)


def test_same_seed_and_per_replicate_streams():
    def run(R, seed, **kw):
        return montecarlo.simulate(CAT, Replace(10), 4, replicates=R, backend="jax",
                                   seed=seed, tokens=TOKENS, **kw)

    a, b, c, d = run(4, 7), run(4, 7), run(8, 7), run(4, 8)
    for k in a.names:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(a[k], c[k][:4])
    assert not np.array_equal(a["homozygosity"], d["homozygosity"])
    # chunks of 2 generations re-use the compiled chunk and do not change the paths
    e = run(8, 7, chunk=2)
    np.testing.assert_array_equal(c["l1_real"], e["l1_real"])
    np.testing.assert_array_equal(c.token_loss_time, e.token_loss_time)


def test_run_to_collapse():
    res = montecarlo.simulate(Categorical.uniform(3), Replace(4), None, replicates=50,
                              backend="jax", seed=1, statistics=["support_size"])
    assert res.backend == "jax" and not res.interrupted
    ct = res.collapse_time
    assert (ct >= 1).all() and res.generations >= ct.max()
    supp = res["support_size"]
    assert (supp[np.arange(50), ct] == 1).all()
    assert (supp[np.arange(50), ct - 1] > 1).all()


# ---------------------------------------------------------------------- gaussian
@pytest.mark.parametrize("regime", tiered([Replace(6), Mix(5, 4), Accumulate(4),
                                           AccumulateSubsample(5)],
                                          [Accumulate(4)]), ids=repr)
def test_gaussian_matches_reference(regime):
    G = 4
    res = jax_run(GAUSS, regime, G, 600)
    ref = ref_run(GAUSS, regime, G, 200)
    for name in ("trace_ratio", "logdet_ratio", "w2", "mean_sq_error"):
        assert ks_p(res[name][:, -1], ref[name][:, -1]) > ALPHA, name
    assert res["var"].shape == (600, G + 1, 2)
    np.testing.assert_allclose(res["var"][:, 0], np.broadcast_to(np.diag(GAUSS.cov), (600, 2)))


def test_gaussian_mle_variance_theory_and_collapse():
    """mle: E var_t = var0 ((M-1)/M)^t; collapse_time agrees with logdet_ratio."""
    model = Gaussian(0.0, 2.0, estimator="mle")
    M, G = 5, 6
    res = jax_run(model, Replace(M), G, 4000, eps=0.5)
    v = res["var"][..., 0]
    expect = 2.0 * ((M - 1) / M) ** np.arange(G + 1)
    se = v.std(axis=0, ddof=1) / np.sqrt(v.shape[0])
    z = (v.mean(axis=0)[1:] - expect[1:]) / se[1:]
    assert np.all(np.abs(z) < 5), z
    below = res["logdet_ratio"] < 2 * np.log(0.5)
    first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    np.testing.assert_array_equal(res.collapse_time, first)
    assert (first > 0).any()


# ---------------------------------------------------------------------- mixture
def test_mixture_matches_reference():
    model = GaussianMixture.blob(2, 2, max_iter=30)
    G = 2
    res = jax_run(model, Replace(30), G, 300)
    ref = ref_run(model, Replace(30), G, 100)
    assert np.isnan(res["weights"][:, 0]).all()  # the real blob has one component
    for g in (1, 2):
        a = np.sort(res["weights"][:, g], axis=1)[:, -1]
        b = np.sort(ref["weights"][:, g], axis=1)[:, -1]
        assert ks_p(a, b) > ALPHA
        tr_a = np.trace(res["covs"][:, g], axis1=2, axis2=3).sum(axis=1)
        tr_b = np.trace(ref["covs"][:, g], axis1=2, axis2=3).sum(axis=1)
        assert ks_p(tr_a, tr_b) > ALPHA
    np.testing.assert_allclose(res["weights"][:, 1:].sum(axis=-1), 1.0, atol=1e-9)


# ---------------------------------------------------------------------- regression
@pytest.mark.parametrize(("regime", "design"), tiered(
    [(Replace(6), "fixed"), (Replace(6), "fresh"), (Accumulate(4), "fixed"),
     (Accumulate(4), "fresh")], [(Accumulate(4), "fresh")]),
    ids=lambda v: v if isinstance(v, str) else repr(v))
def test_regression_matches_reference(regime, design):
    model = LinearRegression.isotropic(3, noise=0.7, design=design)
    G = 3
    res = jax_run(model, regime, G, 600)
    ref = ref_run(model, regime, G, 200)
    assert ks_p(res["test_error"][:, -1], ref["test_error"][:, -1]) > ALPHA
    assert ks_p(res["coef"][:, -1, 0], ref["coef"][:, -1, 0]) > ALPHA
    np.testing.assert_allclose(res["coef"][:, 0], np.broadcast_to(model.w, (600, 3)))


def test_jax_backend_leaves_process_precision_alone():
    """The JAX backend computes in float64 inside a local context: the process-wide
    ``jax_enable_x64`` flag is as the caller left it, before and after."""
    import jax

    before = bool(jax.config.jax_enable_x64)
    res = montecarlo.simulate(CAT, Replace(10), 3, replicates=4, backend="jax", seed=0,
                              statistics=["homozygosity"])
    assert res["homozygosity"].dtype == np.float64
    assert bool(jax.config.jax_enable_x64) == before
    assert jax.numpy.ones(2).dtype == (np.float64 if before else np.float32)


@pytest.mark.slow
@pytest.mark.parametrize("model,stat", [(Gaussian(0.0, 1.0), "trace_ratio"),
                                        (LinearRegression(np.ones(2)), "test_error")])
def test_uniform_history_survives_a_chunk_ending_at_capacity(model, stat):
    """Model g1 is written at history index g1: a chunk that ends exactly at the
    capacity (8 generations, chunk=8) kept it once the arrays hold g1 + 1 slots (an
    out-of-range .at[].set is dropped silently; trace_ratio was 1.85 against 1.13)."""
    from modelcollapse.regimes import RandomlySampled

    a = montecarlo.simulate(model, RandomlySampled(10), 8, replicates=4000, seed=1,
                            backend="jax", chunk=8, statistics=(stat,))[stat][:, -1]
    b = montecarlo.simulate(model, RandomlySampled(10), 8, replicates=4000, seed=2,
                            backend="numba", statistics=(stat,))[stat][:, -1]
    assert ks_2samp(a, b).pvalue > 1e-3
    c = montecarlo.simulate(model, Replace(10), 8, replicates=4000, seed=2,
                            backend="numba", statistics=(stat,))[stat][:, -1]
    assert ks_2samp(a, c).pvalue < 1e-3  # control: another regime's law
