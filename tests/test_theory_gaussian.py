"""Exact Gaussian moments (theory.gaussian) against independent computations: exact
rational recursions, direct numerical integration, and seeded simulation (|z| < 5)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, stats

from modelcollapse import (
    Accumulate,
    Categorical,
    Gaussian,
    Mix,
    MostRecent,
    Replace,
    montecarlo,
    theory,
)

G1 = Gaussian(0.5, 2.0)
G1M = Gaussian(0.5, 2.0, estimator="mle")
G2 = Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]])


def zscore(x, mean, var=None):
    x = np.asarray(x, dtype=np.float64)
    var = x.var(ddof=1) if var is None else var
    return (x.mean() - mean) / math.sqrt(var / x.size)


def test_replace_moments_by_quadrature():
    """E sigma_1^{2s} and E log sigma_1^2 of one generation by integrating the
    chi-square density, then the t-th power (independent factors)."""
    M = 7
    for model, den in ((G1, M - 1), (G1M, M)):
        for s in (0.5, 1.0, 2.5, -1.0):
            one = integrate.quad(lambda x, s=s, den=den: (x / den) ** s
                                 * stats.chi2.pdf(x, M - 1), 0, np.inf)[0]
            assert theory.variance_moment(model, Replace(M), 3, s) == pytest.approx(
                one**3, rel=1e-9)
        mean1 = integrate.quad(lambda x, den=den: math.log(x / den)
                               * stats.chi2.pdf(x, M - 1), 0, np.inf)[0]
        m, v = theory.log_det_moments(model, Replace(M), 4)
        assert m == pytest.approx(4 * mean1, rel=1e-9)
        second = integrate.quad(lambda x, den=den, m1=mean1: (math.log(x / den) - m1) ** 2
                                * stats.chi2.pdf(x, M - 1), 0, np.inf)[0]
        assert v == pytest.approx(4 * second, rel=1e-8)
    with pytest.raises(ValueError, match="infinite"):
        theory.variance_moment(G1, Replace(3), 2, -1.0)


def test_replace_mean_error_and_variance_exact_rational():
    """E sigma_t^2 and E (mu_t - mu_0)^2 by the exact rational recursion
    e_t = e_{t-1} + v_{t-1}/M, v_t = v_{t-1}(M-1)/den."""
    M = 5
    for model, den in ((G1, M - 1), (G1M, M)):
        v, e = Fraction(2), Fraction(0)
        for t in range(1, 8):
            e, v = e + v / M, v * Fraction(M - 1, den)
            assert theory.expected_variance(model, Replace(M), t) == pytest.approx(
                float(v), rel=1e-13)
            assert theory.expected_mean_error(model, Replace(M), t) == pytest.approx(
                float(e), rel=1e-13)
    # d dimensions: E det ratio = [prod_j (M-j)/den]^t
    assert theory.expected_det_ratio(G2, Replace(M), 3) == pytest.approx(
        ((M - 1) * (M - 2) / (M - 1) ** 2) ** 3, rel=1e-12)


def test_accumulate_limits_match_long_products():
    for model in (G1, G1M):
        for M in (2, 5, 100):
            big = theory.expected_trace_ratio(model, Accumulate(M), 10**6)
            lim = theory.expected_trace_ratio(model, Accumulate(M), np.inf)
            assert big == pytest.approx(lim, rel=1e-5)
            assert lim > 0  # no collapse
    # MLE limit: Euler's sine product
    M = 10
    assert theory.expected_trace_ratio(G1M, Accumulate(M), np.inf) == pytest.approx(
        math.sqrt(M) * math.sin(math.pi / math.sqrt(M)) / math.pi, rel=1e-12)
    # the mean error stays below (pi^2/6) sigma0^2/M for the MLE
    e = theory.expected_mean_error(G1M, Accumulate(M), np.inf)
    assert e < math.pi**2 / 6 * 2.0 / M
    assert e == pytest.approx(theory.expected_mean_error(G1M, Accumulate(M), 10**5), rel=1e-4)


def test_fresh_mix_stationary_point_is_the_limit():
    reg = Mix(6, 9, fresh=True)
    for model in (G1, G1M, G2):
        v, e = theory.stationary_point(model, reg)
        assert theory.expected_trace_ratio(model, reg, 500) == pytest.approx(v, rel=1e-12)
        tr0 = float(np.trace(model.cov))
        assert theory.expected_mean_error(model, reg, 500) == pytest.approx(e * tr0,
                                                                            rel=1e-12)
    with pytest.raises(ValueError, match="fresh=True"):
        theory.stationary_point(G1, Replace(5))


MOMENT_REGIMES = [Replace(6), Accumulate(5), Mix(5, 7, fresh=True)]
MOMENT_CASES = [  # every regime with the unbiased 1-d fit; the MLE and 2-d fits on Replace
    # and one pooling regime by default, the rest in the slow tier
    pytest.param(model, regime, id=f"{name}-{regime!r}",
                 marks=[pytest.mark.slow] if name != "1d-unbiased"
                 and isinstance(regime, Mix) else [])
    for model, name in [(G1, "1d-unbiased"), (G1M, "1d-mle"), (G2, "2d")]
    for regime in MOMENT_REGIMES]


@pytest.mark.parametrize(("model", "regime"), MOMENT_CASES)
def test_moments_against_simulation(model, regime):
    t = 6
    res = montecarlo.simulate(model, regime, t, replicates=20_000, backend="numba", seed=3,
                              statistics=("trace_ratio", "mean_sq_error"))
    assert abs(zscore(res["trace_ratio"][:, t],
                      theory.expected_trace_ratio(model, regime, t))) < 5
    assert abs(zscore(res["mean_sq_error"][:, t],
                      theory.expected_mean_error(model, regime, t))) < 5


def test_replace_log_variance_std_and_w2_against_simulation():
    """Exact variances: Var log sigma_t^2 = t psi'((M-1)/2); Var sigma_t =
    E sigma_t^2 - (E sigma_t)^2."""
    M, t = 8, 10
    for model in (G1, G1M):
        res = montecarlo.simulate(model, Replace(M), t, replicates=20_000, backend="numba",
                                  seed=4, statistics=("logdet_ratio", "var", "w2"))
        mean, var = theory.log_det_moments(model, Replace(M), t)
        assert abs(zscore(res["logdet_ratio"][:, t], mean, var)) < 5
        sd = np.sqrt(res["var"][:, t, 0])
        es = theory.expected_std(model, Replace(M), t)
        assert abs(zscore(sd, es, theory.expected_variance(model, Replace(M), t) - es**2)) < 5
        w2sq = res["w2"][:, t] ** 2
        assert abs(zscore(w2sq, theory.expected_w2sq(model, Replace(M), t))) < 5
    # negative control: the MLE formula does not describe the unbiased chain
    res = montecarlo.simulate(G1, Replace(M), t, replicates=20_000, backend="numba", seed=4,
                              statistics=("logdet_ratio",))
    mean, var = theory.log_det_moments(G1M, Replace(M), t)
    assert abs(zscore(res["logdet_ratio"][:, t], mean, var)) > 5


def test_shumailov_dichotomy_in_the_limits():
    # unbiased: E sigma^2 constant yet E log sigma^2 -> -inf and E W2^2 -> inf
    assert theory.expected_variance(G1, Replace(10), np.inf) == pytest.approx(2.0)
    assert theory.log_det_moments(G1, Replace(10), np.inf)[0] == -np.inf
    assert theory.expected_w2sq(G1, Replace(10), np.inf) == np.inf
    # MLE: E W2^2 -> 2 sigma0^2 (both the mean error and the variance settle)
    assert theory.expected_w2sq(G1M, Replace(10), np.inf) == pytest.approx(2 * 2.0)
    assert theory.expected_det_ratio(G2, Replace(10), np.inf) == 0.0


def test_schedules():
    sizes = [10 * i**2 for i in range(1, 41)]
    s = theory.gaussian_schedule(G1, sizes)
    assert s["mean_error"][-1] == pytest.approx(2.0 * sum(1 / m for m in sizes))
    assert np.all(s["variance"] == pytest.approx(2.0))
    # against Replace with a constant size
    const = theory.gaussian_schedule(G1M, [7] * 5)
    assert const["w2sq"][5] == pytest.approx(theory.expected_w2sq(G1M, Replace(7), 5))
    assert const["std"][5] == pytest.approx(theory.expected_std(G1M, Replace(7), 5))
    assert theory.schedule_bounded(2.0) and theory.schedule_bounded(1.01)
    assert not theory.schedule_bounded(1.0) and not theory.schedule_bounded(0.5)


def test_bad_arguments():
    with pytest.raises(ValueError, match="model must be a Gaussian"):
        theory.expected_variance(Categorical.uniform(2), Replace(5), 1)
    with pytest.raises(ValueError, match="non-negative integer"):
        theory.expected_variance(G1, Replace(5), 1.5)
    with pytest.raises(ValueError, match="n >= 3 for a non-singular fit"):
        theory.expected_det_ratio(G2, Replace(2), 1)  # det of a fit on n <= d points is 0
    with pytest.raises(ValueError, match="n >= 2"):
        theory.expected_variance(G2, Replace(1), 1)
    # mean and trace are defined for a singular fit: E Sigma_1 = ((n-1)/den) Sigma_0
    np.testing.assert_allclose(theory.expected_variance(G2, Replace(2), 1), G2.cov)
    with pytest.raises(NotImplementedError, match="fresh=True"):
        theory.expected_variance(G1, Mix(5, 5), 1)
    with pytest.raises(NotImplementedError, match="simulate"):
        theory.expected_variance(G1, MostRecent(6, 2), 1)
    with pytest.raises(NotImplementedError, match="no exact finite-m"):
        theory.expected_w2sq(G1, Mix(5, 5, fresh=True), 1)
    with pytest.raises(ValueError, match="1-D"):
        theory.expected_std(G2, Replace(5), 1)
