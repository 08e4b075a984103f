"""Closed forms of recursive linear regression (modelcollapse.theory.regression) against
exact rational sums, plain-NumPy Monte Carlo and montecarlo.simulate."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import montecarlo
from modelcollapse.models import Categorical, LinearRegression
from modelcollapse.regimes import Accumulate, Mix, Replace
from modelcollapse.theory.regression import (
    accumulate_error_bound,
    accumulate_replace_ratio,
    dohmatob_noise_free_error,
    dohmatob_test_error,
    expected_pinv_trace,
    regression_test_error,
)

ZMAX = 5.0


def _z(samples, expected):
    samples = np.asarray(samples, dtype=np.float64)
    se = samples.std(ddof=1) / math.sqrt(samples.size)
    return (samples.mean() - expected) / se


def _h2(t):
    return sum(Fraction(1, i * i) for i in range(1, t + 1))


# ---------------------------------------------------------------------- exact values
def test_expected_pinv_trace_cases():
    assert expected_pinv_trace(3, 10, exact=True) == Fraction(3, 6)
    assert expected_pinv_trace(10, 3, exact=True) == Fraction(3, 6)
    assert expected_pinv_trace(1, 3) == 1.0
    for T in (4, 5, 6):
        assert expected_pinv_trace(5, T) == math.inf


@pytest.mark.parametrize(("d", "T"), [(1, 3), (3, 20), (10, 50), (7, 9)])
@pytest.mark.parametrize("t", [1, 2, 9, 150])
def test_closed_forms_match_rational_sums(d, T, t):
    model = LinearRegression(np.eye(d)[0], noise=1.0, design="fixed")
    unit = Fraction(d, T - d - 1)
    acc = regression_test_error(model, Accumulate(T), t)
    assert acc == pytest.approx(float(unit * _h2(t)), rel=1e-13)
    assert regression_test_error(model, Replace(T), t) == pytest.approx(float(t * unit),
                                                                        rel=1e-13)


def test_over_parameterised_fixed_design_rational():
    d, T, s = 20, 8, Fraction(1, 2)
    model = LinearRegression(np.eye(d)[0], noise=0.5, design="fixed")
    bias = 1 - Fraction(T, d)
    unit = s * s * Fraction(T, d - T - 1)
    t = np.arange(0, 12)
    rep = regression_test_error(model, Replace(T), t)
    acc = regression_test_error(model, Accumulate(T), t)
    assert rep[0] == acc[0] == 0.0
    for k in range(1, 12):
        assert rep[k] == pytest.approx(float(bias + k * unit), rel=1e-13)
        assert acc[k] == pytest.approx(float(bias + unit * _h2(k)), rel=1e-13)
    # docs/theory/regression.md: bias (d - T) for w ~ N(0, I) = ||w||^2 (1 - T/d) in
    # expectation over w
    model_d = LinearRegression(np.ones(d), noise=0.0, design="fixed")  # ||w||^2 = d
    assert regression_test_error(model_d, Replace(T), 3) == pytest.approx(d - T, rel=1e-13)


def test_fresh_over_parameterised_closed_form():
    d, T, s = 20, 8, 0.5
    model = LinearRegression.isotropic(d, s, "fresh")
    r = Fraction(T, d)
    level = 1 + Fraction(1, 4) * Fraction(T * d, (d - T) * (d - T - 1))
    for t in (1, 2, 5, 30):
        assert regression_test_error(model, Replace(T), t) == pytest.approx(
            float((1 - r**t) * level), rel=1e-12)
    # sigma = 0: Dohmatob's 1 - (T/d)^t, and it is also the t = 1 value of accumulate
    quiet = LinearRegression.isotropic(d, 0.0, "fresh")
    assert regression_test_error(quiet, Replace(T), 4) == pytest.approx(
        dohmatob_noise_free_error(d, T, 4), rel=1e-12)
    assert regression_test_error(quiet, Accumulate(T), 1) == pytest.approx(0.6, rel=1e-12)


def test_infinite_and_trivial_cases():
    assert regression_test_error(LinearRegression.isotropic(5, 1.0), Replace(6), 2) == math.inf
    assert regression_test_error(LinearRegression.isotropic(5, 1.0, "fresh"), Replace(4),
                                 1) == math.inf
    assert regression_test_error(LinearRegression.isotropic(5, 1.0), Replace(6), 0) == 0.0
    quiet = LinearRegression.isotropic(5, 0.0, "fresh")
    assert regression_test_error(quiet, Accumulate(5), 7) == 0.0
    assert regression_test_error(LinearRegression.isotropic(5, 0.0), Replace(5), 7) == 0.0


def test_bound_and_ratio():
    model = LinearRegression.isotropic(5, 2.0, "fixed")
    bound = accumulate_error_bound(model, Accumulate(30))
    assert bound == pytest.approx(math.pi**2 / 6 * 4 * 5 / 24, rel=1e-14)
    ts = np.array([1, 10, 1000, 10**6])
    acc = regression_test_error(model, Accumulate(30), ts)
    assert np.all(acc < bound) and np.all(np.diff(acc) > 0)
    ratio = accumulate_replace_ratio(model, Accumulate(30), ts)
    np.testing.assert_allclose(ratio, [float(_h2(1)), float(_h2(10)) / 10,
                                       float(_h2(1000)) / 1000,
                                       (math.pi**2 / 6 - 1e-6 + 5e-13) / 1e6], rtol=1e-9)
    # over-parameterised: the bias is paid once, the ceiling is b + (pi^2/6) v
    over = LinearRegression(np.eye(20)[0], noise=0.5, design="fixed")
    assert accumulate_error_bound(over, 8) == pytest.approx(
        0.6 + math.pi**2 / 6 * 0.25 * 8 / 11, rel=1e-14)
    fresh = LinearRegression.isotropic(5, 1.0, "fresh")
    assert accumulate_error_bound(fresh, Accumulate(30)) == pytest.approx(
        math.pi**2 / 6 * 5 / 24)
    with pytest.raises(NotImplementedError, match="T < d"):
        accumulate_error_bound(LinearRegression.isotropic(20, 1.0, "fresh"), Accumulate(8))


def test_dohmatob_formulas():
    assert dohmatob_test_error(4, 40, 0.5, 20, 1.0, 3) == pytest.approx(
        0.25 * 4 / 35 + 3 * 4 / 15, rel=1e-14)
    assert dohmatob_test_error(4, 40, 0.5, 20, 1.0, 0) == pytest.approx(1 / 35, rel=1e-14)
    model = LinearRegression.isotropic(6, 0.7, "fresh")
    assert dohmatob_test_error(6, 30, 0.7, 30, 0.7, 5) == pytest.approx(
        regression_test_error(model, Replace(30), 6), rel=1e-13)
    assert dohmatob_noise_free_error(20, 8, 3, exact=True) == 1 - Fraction(2, 5) ** 3
    assert dohmatob_noise_free_error(20, 25, 3) == 0.0
    assert dohmatob_noise_free_error(20, 8, 0) == 0.0


# ---------------------------------------------------------------------- Monte Carlo
def test_inverse_wishart_identity_numpy():
    rng = np.random.default_rng(20240601)
    X = rng.standard_normal((20000, 12, 3))
    tr = np.trace(np.linalg.inv(np.einsum("rti,rtj->rij", X, X)), axis1=1, axis2=2)
    assert abs(_z(tr, expected_pinv_trace(3, 12))) < ZMAX
    X = rng.standard_normal((20000, 3, 12))  # over-parameterised: tr (X X^T)^-1
    tr = np.trace(np.linalg.inv(np.einsum("rik,rjk->rij", X, X)), axis1=1, axis2=2)
    assert abs(_z(tr, expected_pinv_trace(12, 3))) < ZMAX


def _numpy_fixed_design(d, T, s, t, accumulate, R, rng):
    """Plain NumPy: one design per replicate, labelled copies stacked under accumulate."""
    w = np.ones(d) / math.sqrt(d)
    X = rng.standard_normal((R, T, d))
    prev = np.tile(w, (R, 1))
    Xs, ys = [], []
    for _ in range(t):
        y = np.einsum("rtd,rd->rt", X, prev) + s * rng.standard_normal((R, T))
        Xs, ys = ([*Xs, X], [*ys, y]) if accumulate else ([X], [y])
        A, b = np.concatenate(Xs, axis=1), np.concatenate(ys, axis=1)
        prev = np.einsum("rdt,rt->rd", np.linalg.pinv(A), b)
    return ((prev - w) ** 2).sum(axis=1)


@pytest.mark.parametrize(("d", "T", "s"), [(3, 12, 1.0), (8, 3, 0.5)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_fixed_design_numpy_monte_carlo(d, T, s, accumulate):
    rng = np.random.default_rng(7 + d + 100 * accumulate)
    t = 4
    err = _numpy_fixed_design(d, T, s, t, accumulate, 3000, rng)
    model = LinearRegression.isotropic(d, s, "fixed")
    regime = Accumulate(T) if accumulate else Replace(T)
    assert abs(_z(err, regression_test_error(model, regime, t))) < ZMAX


def _simulate(model, regime, generations, seed, replicates=4000):
    return montecarlo.simulate(model, regime, generations, replicates=replicates,
                               backend="numba", seed=seed,
                               statistics=("test_error",))["test_error"]


@pytest.mark.parametrize(("design", "d", "T", "s", "regime_cls"), [
    ("fixed", 4, 25, 1.0, Replace), ("fixed", 4, 25, 1.0, Accumulate),
    ("fresh", 4, 25, 1.0, Replace), ("fixed", 12, 4, 0.5, Replace),
    ("fixed", 12, 4, 0.5, Accumulate), ("fresh", 12, 4, 0.5, Replace),
])
def test_simulate_agrees(design, d, T, s, regime_cls):
    model = LinearRegression.isotropic(d, s, design)
    e = _simulate(model, regime_cls(T), 8, seed=31 + d)
    exact = regression_test_error(model, regime_cls(T), np.arange(9))
    assert e[:, 0].max() == 0.0 and exact[0] == 0.0
    for t in (1, 4, 8):
        assert abs(_z(e[:, t], exact[t])) < ZMAX, t


def test_negative_controls_fail():
    model = LinearRegression.isotropic(4, 1.0, "fixed")
    e = _simulate(model, Accumulate(25), 8, seed=5)
    assert abs(_z(e[:, 8], regression_test_error(model, Replace(25), 8))) > ZMAX
    # the fixed-design accumulate law is not the fresh-design one at small T - d
    fresh = LinearRegression.isotropic(3, 1.0, "fresh")
    e = _simulate(fresh, Accumulate(6), 30, seed=6, replicates=20000)
    fixed_law = regression_test_error(LinearRegression.isotropic(3, 1.0), Accumulate(6), 30)
    assert abs(_z(e[:, 30], fixed_law)) > ZMAX
    assert e[:, 30].mean() < accumulate_error_bound(fresh, Accumulate(6))


def test_dohmatob_downstream_simulated():
    d, T0, s0, T, s, n = 4, 20, 1.0, 40, 0.5, 3
    model = LinearRegression.isotropic(d, s0, "fresh")
    coef = montecarlo.simulate(model, Replace(T0), n, replicates=4000, backend="numba",
                               seed=11, statistics=("coef",))["coef"][:, n]
    rng = np.random.default_rng(12)
    X = rng.standard_normal((coef.shape[0], T, d))
    y = np.einsum("rtd,rd->rt", X, coef) + s * rng.standard_normal((coef.shape[0], T))
    w_hat = np.linalg.solve(np.einsum("rti,rtj->rij", X, X),
                            np.einsum("rti,rt->ri", X, y)[..., None])[..., 0]
    err = ((w_hat - model.w) ** 2).sum(axis=1)
    assert abs(_z(err, dohmatob_test_error(d, T, s, T0, s0, n))) < ZMAX


# ---------------------------------------------------------------------- validation
def test_argument_validation():
    model = LinearRegression.isotropic(3, 1.0)
    with pytest.raises(ValueError, match="model"):
        regression_test_error(Categorical([0.5, 0.5]), Replace(10), 1)
    with pytest.raises(ValueError, match="regime"):
        regression_test_error(model, "replace", 1)
    with pytest.raises(ValueError, match="m must"):
        regression_test_error(model, Replace(10), -1)
    with pytest.raises(ValueError, match="m must"):
        regression_test_error(model, Replace(10), 1.5)
    with pytest.raises(ValueError, match="m must"):
        regression_test_error(model, Replace(10), [[1, 2]])
    with pytest.raises(NotImplementedError, match="Mix"):
        regression_test_error(model, Mix(10, 10), 2)
    fresh = LinearRegression.isotropic(3, 1.0, "fresh")
    with pytest.raises(NotImplementedError, match="fresh-design Accumulate"):
        regression_test_error(fresh, Accumulate(10), [1, 2])
    assert regression_test_error(fresh, Accumulate(10), 1) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="regime"):
        accumulate_error_bound(model, Mix(10, 10))
    with pytest.raises(ValueError, match="m must"):
        accumulate_replace_ratio(model, 10, 0)
    with pytest.raises(ValueError, match="T must be >= dim"):
        dohmatob_test_error(5, 6, 1.0, 20, 1.0, 1)
    with pytest.raises(ValueError, match="T0 must be >= dim"):
        dohmatob_test_error(5, 20, 1.0, 6, 1.0, 1)
    with pytest.raises(ValueError, match="noise0"):
        dohmatob_test_error(5, 20, 1.0, 20, -1.0, 1)
    with pytest.raises(ValueError, match="n must"):
        dohmatob_test_error(5, 20, 1.0, 20, 1.0, -1)
    with pytest.raises(ValueError, match="T0 must"):
        dohmatob_noise_free_error(5, 0, 1)
    with pytest.raises(ValueError, match="d must"):
        expected_pinv_trace(0, 3)
