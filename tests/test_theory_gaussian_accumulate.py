"""Exact moments of sigma_t under Accumulate(M) (theory.gaussian): the product of independent
step factors F_k against independent computations: the closed-form E sigma_t^2, exact
rational binomial expansions, brute-force 2-D quadrature, and seeded simulation."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import polygamma

from modelcollapse import Accumulate, Gaussian, Mix, Replace, montecarlo, theory
from modelcollapse.theory.gaussian import accumulate as tg

G1 = Gaussian(0.5, 2.0)
G1M = Gaussian(0.5, 2.0, estimator="mle")
G2 = Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]])
MODELS = [(G1, 1), (G1M, 0)]  # (model, delta)


def zscore(x, mean, var=None):
    x = np.asarray(x, dtype=np.float64)
    var = x.var(ddof=1) if var is None else var
    return (x.mean() - mean) / math.sqrt(var / x.size)


@pytest.mark.parametrize("M", [2, 3, 10, 200])
def test_s1_matches_closed_form_trace_ratio(M):
    ts = np.array([0, 1, 2, 7, 100, 10**4, 10**5, np.inf])
    for model, _ in MODELS:
        want = theory.expected_trace_ratio(model, Accumulate(M), ts)
        got = theory.variance_moment(model, Accumulate(M), ts, 1.0)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
        assert theory.expected_det_ratio(model, Accumulate(M), 7) == pytest.approx(
            want[3], rel=1e-10)
        # scalar t and t = 0
        assert theory.variance_moment(model, Accumulate(M), 0, 0.5) == 1.0
        assert isinstance(theory.expected_std(model, Accumulate(M), 3), float)


def _exact_integer_moment(M, delta, k, s):
    """E F_k^s for integer s >= 0 by the binomial expansion in exact rationals:
    E Q^j = prod_{i<j} (M-1+2i) (chi2_{M-1}), E Z^{2m} = (2m-1)!!."""
    if k == 1:
        a, c = Fraction(0), Fraction(0)
    else:
        a, c = Fraction((k - 1) * M - delta), Fraction(k - 1, k)
    D = Fraction(k * M - delta) if k > 1 else Fraction(M - delta)

    def eq(j):
        return math.prod(M - 1 + 2 * i for i in range(j))

    def ez(m):
        return math.prod(range(1, 2 * m, 2))

    tot = Fraction(0)
    for i in range(s + 1):  # (a + Y)^s, Y = Q + c Z^2
        ey = sum(math.comb(i, j) * eq(j) * c ** (i - j) * ez(i - j) for j in range(i + 1))
        tot += math.comb(s, i) * a ** (s - i) * ey
    return tot / D**s


@pytest.mark.parametrize("s", [2, 3, 5])
def test_integer_moments_against_exact_binomial_expansion(s):
    for M in (2, 5):
        for model, delta in MODELS:
            # the quadrature alone, per factor
            ks = np.array([2.0, 3.0, 4.0, 9.0, 30.0])
            quad = tg._acc_quad(M, float(delta), ks, "pow", float(s)) + 1.0
            exact = [float(_exact_integer_moment(M, delta, int(k), s)) for k in ks]
            np.testing.assert_allclose(quad, exact, rtol=1e-12)
            # the public product (series path: exact for integer s)
            prod = Fraction(1)
            for k in range(1, 13):
                prod *= _exact_integer_moment(M, delta, k, s)
            assert theory.variance_moment(model, Accumulate(M), 12, s) == pytest.approx(
                float(prod), rel=1e-12)


def _dblquad_factor(M, delta, k, g):
    """E g(F_k) by brute-force 2-D quadrature over (Z >= 0, Q = v^2) (v removes the
    q^{(M-3)/2} endpoint singularity of the chi2_{M-1} density)."""
    c, a, D = (k - 1) / k, (k - 1) * M - delta, k * M - delta

    def f(v, z):
        q = v * v
        return (2 * g((a + q + c * z * z) / D) * stats.norm.pdf(z)
                * stats.chi2.pdf(q, M - 1) * 2 * v)

    val, _ = integrate.dblquad(f, 0, 12, 0, 12, epsabs=1e-14, epsrel=1e-11)
    return val


_DBLQUAD_CASES = [(2, 1, 2, "pow", 0.5), (2, 1, 2, "pow", -0.7), (2, 1, 2, "log", 0.0),
                  (2, 1, 2, "log2", 0.0), (5, 0, 6, "pow", 2.5), (5, 0, 6, "log", 0.0)]


@pytest.mark.parametrize(
    "case", [c if i in (0, 5) else pytest.param(c, marks=pytest.mark.slow)
             for i, c in enumerate(_DBLQUAD_CASES)])
def test_quadrature_against_dblquad(case):
    """The 1-D quadrature against brute-force 2-D quadrature (two cases by default, all
    six with ``-m slow``: each 2-D integral takes about two seconds)."""
    M, delta, k, kind, s = case
    funcs = {"log": math.log, "log2": lambda f: math.log(f) ** 2}
    g = (lambda f: f**s) if kind == "pow" else funcs[kind]
    want = _dblquad_factor(M, delta, k, g)
    got = tg._acc_quad(M, float(delta), np.array([float(k)]), kind, s)[0]
    got += 1.0 if kind == "pow" else 0.0
    assert got == pytest.approx(want, rel=1e-10, abs=1e-13), (M, k, kind, s)


def test_series_and_quadrature_overlap_and_bound():
    """Past the switch point k0 the truncated series and the quadrature agree within the
    stated bound (plus ~1e-15 quadrature error); before it, the bound is not met."""
    for M in (2, 4, 30):
        for delta in (0.0, 1.0):
            for kind, s in (("pow", 0.5), ("pow", -1.3), ("log", 0.0), ("log2", 0.0)):
                k0 = tg._acc_series_from(M, delta, kind, s, tg._ACC_J)
                ks = np.arange(max(k0 - 3, 2), k0 + 20, dtype=np.float64)
                ser, bound = tg._acc_series(M, delta, ks, kind, s)
                quad = tg._acc_quad(M, delta, ks, kind, s)
                assert np.all(np.abs(ser - quad) <= bound + 2e-15)
                assert np.all(bound[ks >= k0] <= tg._ACC_TOL)
                if k0 > 2:
                    assert bound[ks == k0 - 1][0] > tg._ACC_TOL


@pytest.mark.parametrize("M", [2, 7])
def test_limits_converge_like_the_leading_term(M):
    """t = inf against t = T: the per-generation terms are b/k^2 + O(k^-3) with
    b = s(s-2)/M (log E F^s), -2/M (E log F), 2/M (Var log F)."""
    T = 10**4
    tail = float(polygamma(1, T + 1))  # sum_{k>T} 1/k^2
    for model, _ in MODELS:
        reg = Accumulate(M)
        for s in (0.5, 3.0, -0.4):
            lt, li = np.log(theory.variance_moment(model, reg, [T, np.inf], s))
            assert (li - lt) / tail == pytest.approx(s * (s - 2) / M, rel=3e-3)
        (mt, mi), (vt, vi) = theory.log_det_moments(model, reg, [T, np.inf])
        assert (mi - mt) / tail == pytest.approx(-2 / M, rel=3e-3)
        assert (vi - vt) / tail == pytest.approx(2 / M, rel=3e-3)
        assert np.isfinite([mi, vi]).all() and vi > 0
        w = theory.expected_w2sq(model, reg, [10, 100, 1000, np.inf])
        assert np.all(np.diff(w) > 0) and np.isfinite(w[-1])


@pytest.mark.parametrize("model", [G1, G1M], ids=["unbiased", "mle"])
def test_against_simulation(model):
    """Exact variances: Var log sigma_t^2 from log_det_moments, Var sigma_t =
    E sigma_t^2 - (E sigma_t)^2; E W2^2 against its sample standard error."""
    M, t = 4, 8
    reg = Accumulate(M)
    res = montecarlo.simulate(model, reg, t, replicates=20_000, backend="numba", seed=11,
                              statistics=("var", "w2", "logdet_ratio"))
    logv = res["logdet_ratio"][:, t]
    mean, var = theory.log_det_moments(model, reg, t)
    assert abs(zscore(logv, mean, var)) < 5
    assert logv.var(ddof=1) == pytest.approx(var, rel=0.06)
    sd = np.sqrt(res["var"][:, t, 0])
    es = theory.expected_std(model, reg, t)
    assert abs(zscore(sd, es, theory.expected_variance(model, reg, t) - es**2)) < 5
    w2sq = res["w2"][:, t] ** 2
    assert abs(zscore(w2sq, theory.expected_w2sq(model, reg, t))) < 5
    # negative control: the Replace(M) values are rejected by the same tests
    rmean, rvar = theory.log_det_moments(model, Replace(M), t)
    assert abs(zscore(logv, rmean, rvar)) > 5
    res_std = theory.expected_std(model, Replace(M), t)
    assert abs(zscore(sd, res_std)) > 5
    assert abs(zscore(w2sq, theory.expected_w2sq(model, Replace(M), t))) > 5


def test_bad_arguments():
    with pytest.raises(ValueError, match="1-D"):
        theory.variance_moment(G2, Accumulate(5), 2, 0.5)
    with pytest.raises(ValueError, match="1-D"):
        theory.log_det_moments(G2, Accumulate(5), 2)
    with pytest.raises(ValueError, match="infinite"):
        theory.variance_moment(G1, Accumulate(3), 2, -1.0)  # needs s > -(M-1)/2 = -1
    assert theory.variance_moment(G1, Accumulate(3), 2, -0.9) > 0
    for f in (theory.expected_w2sq, theory.expected_std, theory.log_det_moments):
        with pytest.raises(NotImplementedError, match="perpetuity"):
            f(G1, Mix(5, 5, fresh=True), 1)
