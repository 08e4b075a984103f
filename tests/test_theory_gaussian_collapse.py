"""The Gaussian collapse-time law against simulation, quadrature and its own grids."""

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

import modelcollapse.theory.gaussian.collapse_time as gc_module
from modelcollapse.errors import TooLargeError
from modelcollapse.models import Categorical, Gaussian
from modelcollapse.montecarlo import simulate
from modelcollapse.regimes import Mix, Replace
from modelcollapse.theory import gaussian_collapse_time, log_chi2_step
from modelcollapse.theory.gaussian.collapse_time import AUTO_GRID_SECONDS, TABULATE_MAX
from modelcollapse.theory.gaussian.passage import _drift, _ladder_integral, _step_kernel


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
    pytest.param(Gaussian(np.zeros(2), np.eye(2), estimator="mle"), 8, 0.1, 3,
                 marks=pytest.mark.slow),  # the 2-d law: slow tier
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
@pytest.mark.parametrize("eps", [0.5, pytest.param(0.05, marks=pytest.mark.slow)])
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


# ---------------------------------------------------------------------- corrected diffusion
def test_ladder_integral_known_laws():
    """rho = kappa_3/6 + I for upward crossings; I for Gaussian steps is -zeta(1/2)/sqrt(2pi)
    (kappa_3 = 0), and for steps E - 1 (E exponential) the ladder heights are exponential
    by memorylessness, so E H^2 / (2 E H) = 1 = 2/6 + I."""
    value, err = _ladder_integral(lambda lam: np.zeros(lam.shape, dtype=np.complex128))
    assert value == pytest.approx(-special.zeta(0.5) / math.sqrt(2 * math.pi), abs=1e-9)
    assert err < 1e-9

    def r_exponential(lam):
        # log E exp(i lam (E - 1)) + lam^2/2 = sum_{n >= 3} (i lam)^n / n
        z = 1j * lam
        out = -z - np.log1p(-z) + lam**2 / 2
        small = np.abs(lam) < 0.3
        zs = z[small]
        out[small] = sum(zs**n / n for n in range(3, 40))
        return out

    value, _ = _ladder_integral(r_exponential)
    assert value == pytest.approx(2 / 3, abs=1e-6)


def test_drift_is_accurate_at_large_M():
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    for M, d, est in ((10, 1, "unbiased"), (1000, 2, "mle"), (10**9, 1, "unbiased"),
                      (10**12, 3, "mle")):
        den = M - 1 if est == "unbiased" else M
        exact = sum(mpmath.digamma(mpmath.mpf(M - j) / 2) + mpmath.log(mpmath.mpf(2) / den)
                    for j in range(1, d + 1))
        assert _drift(M, d, float(den)) == pytest.approx(float(exact), rel=1e-12)
    # the direct sum psi + log(2/den) loses digits to cancellation
    assert log_chi2_step(100, 1, "mle")[0] == pytest.approx(_drift(100, 1, 100.0), rel=1e-12)


def grid_cdf(model, M, eps):
    law = gaussian_collapse_time(model, Replace(M), eps, method="grid")
    t = np.arange(law.horizon + 200)
    return t, law.cdf(t), law.error


@pytest.mark.parametrize(("M", "eps", "d", "estimator"), [
    (10, 0.5, 1, "mle"), (30, 0.1, 2, "unbiased"), (20, 0.9, 3, "mle"),
    (40, 0.01, 1, "unbiased"), (60, 0.3, 5, "mle"),
])
def test_diffusion_against_grid_within_stated_error(M, eps, d, estimator):
    model = Gaussian(np.zeros(d), 1.0, estimator=estimator)
    t, exact, grid_error = grid_cdf(model, M, eps)
    law = gaussian_collapse_time(model, Replace(M), eps, method="diffusion")
    assert law.method == "diffusion"
    assert set(law.errors) == {"approximation", "numerical"}
    assert law.error == pytest.approx(sum(law.errors.values()))
    assert law.errors["numerical"] < 1e-7
    diff = np.max(np.abs(law.cdf(t) - exact))
    assert diff <= law.error + grid_error
    # the stated bound is not vacuous: within a factor 30 of the measured error
    assert law.error < 30 * diff
    # negative control: the uncorrected Brownian law fails the same check
    bm = gaussian_collapse_time(model, Replace(M), eps, method="brownian")
    assert np.max(np.abs(bm.cdf(t) - exact)) > law.error + grid_error


def test_diffusion_mean_matches_wald_identity():
    """E tau = E[-X_tau]/|mu| (Wald), with E[a - X_tau] = rho s + |mu|/4 + o(|mu|) for
    the diffusion; the exact grid's mean (233 generations) agrees to 0.02 (observed
    0.009)."""
    model = Gaussian(0, 1, estimator="mle")
    _, exact, _ = grid_cdf(model, 100, 0.1)
    grid_mean = float(np.sum(1.0 - exact))
    law = gaussian_collapse_time(model, Replace(100), 0.1, method="diffusion")
    mu, s = law.drift, math.sqrt(law.step_var)
    wald = (-law.barrier + law.info["rho"] * s - mu / 4) / -mu
    assert law.mean() == pytest.approx(wald, abs=0.02)
    assert abs(law.mean() - grid_mean) < 0.02
    # without the overshoot the mean is short by rho s / |mu| ~ 4.3 generations
    bm = gaussian_collapse_time(model, Replace(100), 0.1, method="brownian")
    assert grid_mean - bm.mean() > 3


def walk_cdf(M, d, den, a, times, replicates, seed):
    """Empirical P(tau <= t) of the walk X_t = sum of log(chi2_{M-j}/den), simulated
    exactly (chi2_k = 2 Gamma(k/2)) up to max(times)."""
    rng = np.random.default_rng(seed)
    T = int(max(times))
    x = np.zeros(replicates)
    alive = np.arange(replicates)
    tau = np.full(replicates, T + 1)
    for t in range(1, T + 1):
        step = np.zeros(alive.size)
        for j in range(1, d + 1):
            step += np.log(2.0 * rng.standard_gamma((M - j) / 2, alive.size) / den)
        x[alive] += step
        hit = x[alive] < a
        tau[alive[hit]] = t
        alive = alive[~hit]
    return np.array([np.mean(tau <= t) for t in times])


def test_diffusion_against_monte_carlo_at_M_1e5():
    M, eps, R = 10**5, 0.97, 50_000
    model = Gaussian(0, 1, estimator="mle")
    law = gaussian_collapse_time(model, Replace(M), eps)
    assert law.method == "diffusion"
    times = law.quantile([0.05, 0.2, 0.5]).astype(np.int64)
    emp = walk_cdf(M, 1, float(M), 2 * math.log(eps), times, R, seed=7)
    F = law.cdf(times)
    se = np.sqrt(F * (1 - F) / R)
    assert np.all(np.abs(emp - F) <= 5 * se + law.error), (emp - F) / se
    # negative control: the uncorrected Brownian law is rejected (z about -9)
    bm = gaussian_collapse_time(model, Replace(M), eps, method="brownian")
    Fb = bm.cdf(times)
    assert np.max(np.abs(emp - Fb) / np.sqrt(Fb * (1 - Fb) / R)) > 5


def test_auto_picks_grid_at_small_M_and_diffusion_at_large_M():
    small = gaussian_collapse_time(Gaussian(0, 1), Replace(20), 0.1)
    assert small.method == "grid"
    assert small.info["grid_seconds_estimate"] <= AUTO_GRID_SECONDS
    explicit = gaussian_collapse_time(Gaussian(0, 1), Replace(20), 0.1, method="grid")
    assert np.array_equal(small.cdf(np.arange(500)), explicit.cdf(np.arange(500)))
    big = gaussian_collapse_time(Gaussian(0, 1), Replace(10**4), 0.1)
    assert big.method == "diffusion"
    assert big.info["grid_seconds_estimate"] > AUTO_GRID_SECONDS
    assert 0 < big.error < 1e-5


def test_huge_M_is_continued_beyond_the_tabulated_horizon():
    law = gaussian_collapse_time(Gaussian(0, 1), Replace(10**7), 0.01)
    assert law.method == "diffusion" and math.isfinite(law.error) and law.error < 1e-7
    assert law.horizon == TABULATE_MAX
    med = law.median()
    assert med > law.horizon
    assert law.cdf(int(med)) >= 0.5 > law.cdf(int(med) - 1)
    # the mean collapse time is |a|/|mu| ~ 9.2e7 generations (Wald), plus the overshoot
    assert law.mean() == pytest.approx(law.barrier / law.drift, rel=1e-3)
    assert law.sf(10**12) == 0.0 and law.cdf(0) == 0.0
    t = np.array([law.horizon - 1, law.horizon, law.horizon + 1])
    assert np.all(np.diff(law.cdf(t)) > 0)
    assert np.allclose(law.cdf(t) + law.sf(t), 1.0)
    assert law.conditional() is law


@pytest.mark.parametrize(("M", "eps", "method"),
                         [(50, 0.1, "diffusion"), (2000, 0.5, "diffusion"),
                          (50, 0.1, "brownian"), (3, 0.5, "diffusion")])
def test_continuation_agrees_with_tabulation(monkeypatch, M, eps, method):
    full = gaussian_collapse_time(Gaussian(0, 1), Replace(M), eps, method=method)
    monkeypatch.setattr(gc_module, "TABULATE_MAX", max(1, full.horizon // 7))
    cut = gaussian_collapse_time(Gaussian(0, 1), Replace(M), eps, method=method)
    assert cut.horizon < full.horizon
    t = np.arange(full.horizon + 50)
    assert np.max(np.abs(full.cdf(t) - cut.cdf(t))) == 0.0
    assert np.max(np.abs(full.pmf(t) - cut.pmf(t))) == 0.0
    assert cut.mean() == pytest.approx(full.mean(), rel=1e-9)
    assert cut.var() == pytest.approx(full.var(), rel=1e-7)
    q = [0.01, 0.5, 0.99, 1 - 1e-9]
    assert np.array_equal(cut.quantile(q), full.quantile(q))


def test_brownian_is_the_inverse_gaussian():
    law = gaussian_collapse_time(Gaussian(0, 1), Replace(50), 0.1, method="brownian")
    mu, var, a = law.drift, law.step_var, law.barrier
    mean, shape = a / mu, a * a / var
    ig = stats.invgauss(mean / shape, scale=shape)
    t = np.arange(1, law.horizon + 100)
    assert np.max(np.abs(law.cdf(t) - ig.cdf(t))) < 1e-7
    assert np.max(np.abs(law.sf(t) / ig.sf(t) - 1)) < 1e-6


def test_progress_bar_on_the_grid(capsys):
    plain = gaussian_collapse_time(Gaussian(0, 1), Replace(10), 0.1, method="grid")
    shown = gaussian_collapse_time(Gaussian(0, 1), Replace(10), 0.1, method="grid",
                                   progress=True)
    assert "grid 1/3" in capsys.readouterr().err
    t = np.arange(plain.horizon + 1)
    assert np.array_equal(plain.cdf(t), shown.cdf(t))


def test_too_large_is_refused():
    with pytest.raises(TooLargeError, match="2\\*\\*52"):
        gaussian_collapse_time(Gaussian(0, 1), Replace(10**15), 0.01)
    assert issubclass(TooLargeError, ValueError)


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"method": "exact"}, "'auto', 'grid', 'diffusion', 'brownian'"),
    ({"method": None}, "method"),
    ({"progress": "yes"}, "progress"),
    ({"max_generations": 0}, "max_generations"),
    ({"tol": 1.5, "method": "diffusion"}, "tol"),
    ({"truncation": 0.0}, "truncation"),
    ({"resolution": float("nan")}, "resolution"),
])
def test_bad_options(kwargs, name):
    with pytest.raises(ValueError, match=name):
        gaussian_collapse_time(Gaussian(0, 1), Replace(10**6), 0.1, **kwargs)
