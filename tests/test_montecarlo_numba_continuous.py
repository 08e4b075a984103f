"""Numba kernels of the continuous families against the raw-sample reference (two-sample
KS at fixed seeds), exact theory (|z| < 5) and reproducibility (seeds, threads,
replicate prefixes, chunks)."""

import numpy as np
import pytest
from scipy.stats import ks_2samp

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Gaussian,
    GaussianMixture,
    LinearRegression,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    montecarlo,
)
from modelcollapse.montecarlo import Problem, reference_simulate
from modelcollapse.montecarlo._numba import gaussian as nc
from modelcollapse.montecarlo._numba import threads

P_MIN = 1e-3


def run(model, regime, generations, replicates, seed, **kw):
    return montecarlo.simulate(model, regime, generations, replicates=replicates,
                               backend="numba", seed=seed, **kw)


def reference(model, regime, generations, replicates, seed):
    return reference_simulate(Problem(model, regime), generations, replicates=replicates,
                              seed=seed)


def z(estimate, expected, sample):
    return (estimate - expected) / (np.std(sample, ddof=1) / np.sqrt(sample.size))


# ---------------------------------------------------------------------- KS vs reference
G1U = Gaussian(0.5, 2.0)
G1M = Gaussian(0.5, 2.0, estimator="mle")
C2 = [[1.0, 0.5], [0.5, 2.0]]
G2U = Gaussian([1.0, -1.0], C2)
G2M = Gaussian([1.0, -1.0], C2, estimator="mle")

GAUSS_CASES = [
    (G1U, Replace(8)), (G1M, Mix(6, 4)), (G1U, Mix(6, 4, fresh=True)),
    (G1M, Accumulate(5)), (G1U, AccumulateSubsample(6)), (G1M, MostRecent(9, 3)),
    (G1U, RandomlySampled(6)),
    (G2M, Replace(8)), (G2U, Accumulate(5)), (G2M, AccumulateSubsample(6)),
    # every regime runs in one dimension above; the rest of the 2-d sweep is slow tier
    *(pytest.param(m, r, marks=pytest.mark.slow) for m, r in [
        (G2U, Mix(6, 4)), (G2M, Mix(6, 4, fresh=True)), (G2U, MostRecent(9, 3)),
        (G2M, RandomlySampled(6))]),
]


@pytest.mark.parametrize(("model", "regime"), GAUSS_CASES)
def test_gaussian_matches_reference(model, regime):
    G = 6
    ref = reference(model, regime, G, 400, seed=11)
    fast = run(model, regime, G, 3000, seed=12)
    for name in ("logdet_ratio", "mean_sq_error", "w2"):
        a, b = ref[name][:, -1], fast[name][:, -1]
        p = ks_2samp(a, b).pvalue
        assert p > P_MIN, (name, p)
    # generation 0 is the real model, exactly as the reference states it
    for name in ("mean", "var", "w2", "logdet_ratio"):
        np.testing.assert_allclose(fast[name][:, 0], ref[name][:1, 0].repeat(3000, 0))


def test_gaussian_singular_fit():
    # two points in 2-D (a problem the engine refuses): a rank-one covariance, which the
    # kernel still samples from, on its line (generalised Bartlett, semi-definite Cholesky)
    problem = Problem(G2U, Replace(2), statistics=("mean", "var", "logdet_ratio"))
    k = nc.GaussianKernel(problem, 50, np.random.SeedSequence(1))
    out = k.advance(0, 5)
    np.testing.assert_array_equal(k.collapse_time, np.ones(50, dtype=np.int64))
    assert np.all(np.isfinite(out["mean"])) and np.all(out["var"] >= 0)
    assert np.all(out["logdet_ratio"] < -20)


def test_gaussian_negative_control():
    ref = reference(G1U, Replace(16), 6, 400, seed=11)
    fast = run(G1U, Replace(8), 6, 3000, seed=12)
    for name in ("logdet_ratio", "mean_sq_error"):
        assert ks_2samp(ref[name][:, -1], fast[name][:, -1]).pvalue < P_MIN


def _label_free(w, cov):
    """Mixture statistics that do not depend on the order of the components."""
    tr = np.trace(cov, axis1=-2, axis2=-1)
    return {"min_weight": w.min(axis=-1), "max_trace": tr.max(axis=-1)}


MIX_MODEL = GaussianMixture([0.4, 0.6], [[-1.5, 0.0], [1.5, 0.5]],
                            [np.eye(2), [[0.5, 0.1], [0.1, 0.8]]], max_iter=40, tol=1e-6)
BLOB = GaussianMixture.blob(1, 2, max_iter=40, tol=1e-6)


@pytest.mark.parametrize(("model", "regime"), [
    (MIX_MODEL, Replace(40)), pytest.param(BLOB, Accumulate(30), marks=pytest.mark.slow)])
def test_mixture_matches_reference(model, regime):
    G = 3
    ref = reference(model, regime, G, 150, seed=21)
    fast = run(model, regime, G, 1000, seed=22)
    a = _label_free(ref["weights"][:, -1], ref["covs"][:, -1])
    b = _label_free(fast["weights"][:, -1], fast["covs"][:, -1])
    for name in a:
        p = ks_2samp(a[name], b[name]).pvalue
        assert p > P_MIN, (name, p)
    # generation 0: the real mixture, or NaN when its size differs from `components`
    np.testing.assert_array_equal(fast["weights"][:, 0], ref["weights"][:1, 0].repeat(1000, 0))


def test_mixture_other_regimes_run():
    for regime in (Mix(30, 20), Mix(30, 20, fresh=True), AccumulateSubsample(20),
                   MostRecent(30, 2), RandomlySampled(30)):
        res = run(MIX_MODEL, regime, 3, 4, seed=1)
        w = res["weights"]
        assert w.shape == (4, 4, 2) and np.allclose(w.sum(axis=-1), 1)
        assert np.all(np.isfinite(res["covs"]))


REG3 = LinearRegression([1.0, -0.5, 0.25], noise=0.7, design="fixed")
REG3F = LinearRegression([1.0, -0.5, 0.25], noise=0.7, design="fresh")

REG_CASES = [
    (REG3, Replace(8)), (REG3F, Replace(8)), (REG3, Accumulate(8)), (REG3F, Accumulate(8)),
    (REG3, Mix(6, 4)), (REG3F, Mix(6, 4)), (REG3, Mix(6, 4, fresh=True)),
    (REG3F, Mix(6, 4, fresh=True)), (REG3, MostRecent(8, 2)), (REG3F, MostRecent(9, 4)),
    (REG3, MostRecent(8, 4)), (REG3, RandomlySampled(8)), (REG3F, RandomlySampled(8)),
    (REG3, AccumulateSubsample(6)), (REG3F, AccumulateSubsample(6)),
    (REG3, Replace(2)), (REG3F, Replace(2)),  # under-determined: minimum-norm fits
]


@pytest.mark.parametrize(("model", "regime"), REG_CASES)
def test_regression_matches_reference(model, regime):
    G = 5
    ref = reference(model, regime, G, 400, seed=31)
    fast = run(model, regime, G, 3000, seed=32)
    for a, b in ((ref["test_error"][:, -1], fast["test_error"][:, -1]),
                 (ref["coef"][:, -1, 0], fast["coef"][:, -1, 0])):
        p = ks_2samp(a, b).pvalue
        assert p > P_MIN, p


def test_regression_negative_control():
    ref = reference(REG3, Replace(12), 5, 400, seed=31)
    fast = run(REG3, Replace(8), 5, 3000, seed=32)
    assert ks_2samp(ref["test_error"][:, -1], fast["test_error"][:, -1]).pvalue < P_MIN


# ---------------------------------------------------------------------- exact theory
def test_gaussian_variance_theory():
    M, R, var0 = 20, 20000, 2.0
    mle = run(Gaussian(0.0, var0, estimator="mle"), Replace(M), 10, R, seed=3)["var"][..., 0]
    unb = run(Gaussian(0.0, var0), Replace(M), 10, R, seed=4)
    for t in (1, 5, 10):
        assert abs(z(mle[:, t].mean(), var0 * ((M - 1) / M) ** t, mle[:, t])) < 5
        v = unb["var"][:, t, 0]
        assert abs(z(v.mean(), var0, v)) < 5
        mse = unb["mean_sq_error"][:, t]
        assert abs(z(mse.mean(), t * var0 / M, mse)) < 5
    # negative control: the MLE variance is not a martingale
    assert abs(z(mle[:, 10].mean(), var0, mle[:, 10])) > 5


def test_regression_fixed_design_theory():
    d, T, sigma, R = 3, 12, 0.8, 20000
    model = LinearRegression(np.ones(d) / np.sqrt(d), noise=sigma, design="fixed")
    base = sigma**2 * d / (T - d - 1)
    rep = run(model, Replace(T), 6, R, seed=5)["test_error"]
    acc = run(model, Accumulate(T), 6, R, seed=6)["test_error"]
    for t in (1, 3, 6):
        assert abs(z(rep[:, t].mean(), t * base, rep[:, t])) < 5
        want = base * sum(1 / i**2 for i in range(1, t + 1))
        assert abs(z(acc[:, t].mean(), want, acc[:, t])) < 5
    # negative control: accumulating is not replacing
    assert abs(z(acc[:, 6].mean(), 6 * base, acc[:, 6])) > 5


# ---------------------------------------------------------------------- reproducibility
REPRO_CASES = [
    (G2U, RandomlySampled(6)), (G1M, AccumulateSubsample(5)), (G2M, MostRecent(9, 3)),
    (MIX_MODEL, Accumulate(20)), (BLOB, RandomlySampled(20)),
    (REG3, RandomlySampled(8)), (REG3F, AccumulateSubsample(6)), (REG3, Mix(6, 4)),
]


def _same(a, b):
    assert a.names == b.names
    for k in a.names:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize(("model", "regime"), REPRO_CASES)
def test_reproducible(model, regime, monkeypatch):
    G = 7
    base = run(model, regime, G, 8, seed=7)
    _same(base, run(model, regime, G, 8, seed=7))
    # chunks of one generation (state carried across kernel calls, buffers regrown)
    _same(base, run(model, regime, G, 8, seed=7, chunk=1))
    # the number of threads does not matter
    for workers in (1, 2):
        monkeypatch.setattr(threads.Threaded, "workers", workers)
        _same(base, run(model, regime, G, 8, seed=7))
    monkeypatch.undo()
    # replicate r draws from its own stream: a 4-replicate run is a prefix
    short = run(model, regime, G, 4, seed=7)
    for k in base.names:
        np.testing.assert_array_equal(base[k][:4], short[k])
    other = run(model, regime, G, 8, seed=8)
    k = base.names[0]
    assert not np.array_equal(base[k], other[k])


def test_numba_threads_setting():
    import numba
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = run(G2U, RandomlySampled(6), 5, 6, seed=9)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = run(G2U, RandomlySampled(6), 5, 6, seed=9)
    finally:
        numba.set_num_threads(before)
    _same(one, two)


# ---------------------------------------------------------------------- end to end
def test_simulate_end_to_end():
    res = montecarlo.simulate(G2U, Replace(5), 12, replicates=6, backend="numba", seed=0)
    assert res.backend == "numba" and res.generations == 12
    assert res["mean"].shape == (6, 13, 2) and res["var"].shape == (6, 13, 2)
    assert res["logdet_ratio"].shape == (6, 13)
    assert res.collapse_time.dtype == np.int64 and res.collapse_time.shape == (6,)
    np.testing.assert_allclose(res["mean"][:, 0], np.tile(G2U.mean, (6, 1)))
    res = montecarlo.simulate(BLOB, Replace(30), 2, replicates=3, backend="numba", seed=0,
                              statistics=("weights", "covs"))
    assert res.names == ("weights", "covs") and res.collapse_time is None
    assert np.all(np.isnan(res["weights"][:, 0])) and res["covs"].shape == (3, 3, 2, 1, 1)
    res = montecarlo.simulate(REG3, Accumulate(6), 4, replicates=3, backend="numba", seed=0)
    assert res["coef"].shape == (3, 5, 3) and np.all(res["test_error"][:, 0] == 0)


def test_collapse_time_is_first_crossing():
    eps = 0.3
    res = run(Gaussian(0.0, 1.0), Replace(3), 40, 200, seed=2, eps=eps)
    ld = res["logdet_ratio"]
    thr = 2 * np.log(eps)
    below = ld < thr
    first = np.where(below.any(axis=1), below.argmax(axis=1), -1)
    np.testing.assert_array_equal(res.collapse_time, first)
    assert (first > 0).sum() > 100
    # statistics=() still tracks the collapse
    quiet = run(Gaussian(0.0, 1.0), Replace(3), 40, 200, seed=2, eps=eps, statistics=())
    np.testing.assert_array_equal(quiet.collapse_time, first)
