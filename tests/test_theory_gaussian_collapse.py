"""The Gaussian collapse-time law against simulation, quadrature and its own grids."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from modelcollapse.models import Categorical, Gaussian
from modelcollapse.montecarlo import simulate
from modelcollapse.regimes import Mix, Replace
from modelcollapse.theory.gaussian_collapse import (
    _step_kernel,
    gaussian_collapse_time,
    log_chi2_step,
)


def simulated_times(model, M, eps, law, replicates, seed):
    gens = int(law.quantile(1 - 1e-9)) + 1
    res = simulate(model, Replace(M), gens, replicates=replicates, backend="numba",
                   seed=seed, statistics=(), eps=eps)
    times = np.asarray(res.collapse_time)
    assert np.all(times >= 1)  # every replicate collapsed within the horizon
    return times


def decile_chi2_pvalue(times, law):
    """Chi-square of the times binned at the law's deciles (exact bin probabilities)."""
    edges = np.unique(law.quantile(np.arange(1, 10) / 10))
    upper = np.append(edges, np.inf)
    cdf = np.append(law.cdf(edges.astype(np.int64)), 1.0)
    probs = np.diff(np.concatenate([[0.0], cdf]))
    counts = np.array([np.sum(times <= u) for u in upper])
    counts = np.diff(np.concatenate([[0], counts]))
    expected = probs * times.size
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    return stats.chi2.sf(chi2, probs.size - 1)


CASES = [  # (model, M, eps, seed)
    (Gaussian(0.0, 1.0, estimator="unbiased"), 10, 0.1, 1),
    (Gaussian(0.0, 2.0, estimator="mle"), 5, 0.01, 2),
    (Gaussian(np.zeros(2), np.eye(2), estimator="mle"), 8, 0.1, 3),
]


@pytest.mark.parametrize(("model", "M", "eps", "seed"), CASES)
def test_grid_law_against_simulation(model, M, eps, seed):
    law = gaussian_collapse_time(model, Replace(M), eps)
    R = 20_000
    times = simulated_times(model, M, eps, law, R, seed)
    z = (times.mean() - law.mean()) / math.sqrt(law.var() / R)
    assert abs(z) < 5, z
    assert decile_chi2_pvalue(times, law) > 1e-4
    # negative control: the law for another sample size is rejected
    other = gaussian_collapse_time(model, Replace(M + 2), eps)
    z_other = (times.mean() - other.mean()) / math.sqrt(other.var() / R)
    assert abs(z_other) > 10
    assert decile_chi2_pvalue(times, other) < 1e-8


def step_pdf(y, den):
    """Density of Y = log(chi2_1/den) (M = 2)."""
    v = den * math.exp(y)
    return stats.chi2.pdf(v, 1) * v


def step_sf(y, den):
    """P(Y >= y) for M = 2."""
    return special.gammaincc(0.5, den * math.exp(y) / 2)


@pytest.mark.parametrize("estimator", ["unbiased", "mle"])
@pytest.mark.parametrize("eps", [0.5, 0.05])
def test_grid_against_quadrature_for_M2(estimator, eps):
    den = 1.0 if estimator == "unbiased" else 2.0
    a = 2 * math.log(eps)
    law = gaussian_collapse_time(Gaussian(0, 1, estimator=estimator), Replace(2), eps)
    assert law.error < 1e-6
    p1 = step_sf(a, den)
    p2 = integrate.quad(lambda y: step_pdf(y, den) * step_sf(a - y, den), a, 12,
                        epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    p3 = integrate.dblquad(
        lambda y2, y1: step_pdf(y1, den) * step_pdf(y2, den) * step_sf(a - y1 - y2, den),
        a, 12, lambda y1: a - y1, lambda y1: 12.0, epsabs=1e-11, epsrel=1e-10)[0]
    assert law.sf(1) == pytest.approx(p1, abs=1e-7)
    assert law.sf(2) == pytest.approx(p2, abs=1e-7)
    assert law.sf(3) == pytest.approx(p3, abs=1e-7)
    assert law.sf(0) == 1.0 and law.pmf(0) == 0.0


def test_first_generation_is_the_chi2_cdf():
    for M, est, eps in ((10, "unbiased", 0.5), (50, "mle", 0.8), (3, "mle", 0.1)):
        den = M - 1 if est == "unbiased" else M
        law = gaussian_collapse_time(Gaussian(0, 1, estimator=est), Replace(M), eps)
        exact = stats.chi2.cdf(den * eps**2, M - 1)
        assert law.pmf(1) == pytest.approx(exact, abs=1e-7)


@pytest.mark.parametrize(("M", "d", "estimator"),
                         [(2, 1, "unbiased"), (10, 1, "mle"), (1000, 1, "unbiased")])
def test_step_kernel_against_gammainc(M, d, estimator):
    den = M - 1 if estimator == "unbiased" else M
    s = math.sqrt(log_chi2_step(M, d, estimator)[1])
    h = s / 4
    mlo, ker = _step_kernel(M, d, float(den), h)
    x = (mlo + np.arange(ker.size)) * h
    cdf = special.gammainc((M - 1) / 2, den * np.exp(np.stack([x - h / 2, x + h / 2])) / 2)
    assert np.max(np.abs(ker - (cdf[1] - cdf[0]))) < 1e-13
    assert ker.sum() == pytest.approx(1.0, abs=1e-12)


def test_step_moments_match_kernel_in_3d():
    M, d = 6, 3
    mean, var = log_chi2_step(M, d, "unbiased")
    mlo, ker = _step_kernel(M, d, float(M - 1), 0.01)
    x = (mlo + np.arange(ker.size)) * 0.01
    assert np.dot(x, ker) == pytest.approx(mean, abs=1e-10)
    # cell masses at cell centres: Sheppard's h^2/12
    assert np.dot((x - mean) ** 2, ker) == pytest.approx(var + 0.01**2 / 12, rel=1e-9)


@pytest.mark.parametrize(("M", "eps", "estimator", "d"),
                         [(2, 1e-3, "unbiased", 1), (30, 0.5, "mle", 1), (7, 0.05, "unbiased", 3)])
def test_two_resolutions_agree_within_reported_error(M, eps, estimator, d):
    model = Gaussian(np.zeros(d), 1.0, estimator=estimator)
    a = gaussian_collapse_time(model, Replace(M), eps, resolution=4)
    b = gaussian_collapse_time(model, Replace(M), eps, resolution=8)
    t = np.arange(max(a.horizon, b.horizon) + 50)
    diff = np.max(np.abs(a.cdf(t) - b.cdf(t)))
    assert diff <= a.error + b.error
    assert a.error < 1e-6 and b.error <= a.error
    assert a.mean() == pytest.approx(b.mean(), rel=1e-6)
    assert a.var() == pytest.approx(b.var(), rel=1e-5)
    assert a.quantile(0.5) == a.median() == b.median()


@pytest.mark.parametrize(("M", "eps", "estimator"),
                         [(2, 0.5, "unbiased"), (2, 1e-3, "mle"), (10, 0.1, "unbiased"),
                          (10, 1e-3, "mle"), (60, 0.3, "unbiased")])
def test_brownian_is_biased_low(M, eps, estimator):
    model = Gaussian(0, 1, estimator=estimator)
    grid = gaussian_collapse_time(model, Replace(M), eps)
    bm = gaussian_collapse_time(model, Replace(M), eps, method="brownian")
    assert math.isnan(bm.error)
    assert bm.drift == grid.drift < 0
    # ignoring the overshoot (and monitoring continuously) collapses too early
    assert bm.mean() < grid.mean()
    assert bm.median() <= grid.median()
    # ... by about the expected overshoot over the drift: at most a few generations
    assert grid.mean() - bm.mean() < 3 * math.sqrt(grid.step_var) / abs(grid.drift)


def test_brownian_moments_are_inverse_gaussian():
    model = Gaussian(0, 1)
    bm = gaussian_collapse_time(model, Replace(200), 0.1, method="brownian")
    mu, var = log_chi2_step(200)
    a = 2 * math.log(0.1)
    # the law of the integer ceiling of an IG time: mean within 1 of a/mu
    assert abs(bm.mean() - a / mu) < 1.0
    assert bm.var() == pytest.approx(abs(a) * var / abs(mu) ** 3, rel=1e-2)


def test_unbiased_step_drift_and_martingale():
    for M in (2, 5, 100):
        mean, _ = log_chi2_step(M, 1, "unbiased")
        assert mean < 0
        mle, _ = log_chi2_step(M, 1, "mle")
        assert mle == pytest.approx(mean + math.log((M - 1) / M), rel=1e-12)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"eps": 0.0}, "eps"),
    ({"eps": 1.0}, "eps"),
    ({"eps": -0.5}, "eps"),
    ({"regime": Mix(10, 10)}, "regime"),
    ({"model": Categorical([0.5, 0.5])}, "model"),
    ({"model": Gaussian(np.zeros(3), 1.0), "regime": Replace(3)}, "M"),
    ({"regime": Replace(1)}, "M"),
    ({"method": "exact"}, "method"),
    ({"tol": 0.0}, "tol"),
    ({"resolution": -1.0}, "resolution"),
])
def test_bad_arguments(kwargs, name):
    args = {"model": Gaussian(0, 1), "regime": Replace(10), "eps": 0.1}
    args.update(kwargs)
    method = args.pop("method", "grid")
    extra = {k: args.pop(k) for k in ("tol", "resolution") if k in args}
    with pytest.raises(ValueError, match=name):
        gaussian_collapse_time(args["model"], args["regime"], args["eps"], method=method,
                               **extra)
