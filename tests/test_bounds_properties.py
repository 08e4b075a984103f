"""Property-based tests of the published bounds, in exact arithmetic where algebraic."""

import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from modelcollapse import Categorical, Mix, Replace, montecarlo, theory
from modelcollapse.errors import TooLargeError
from modelcollapse.proofs import seddik_theorem1, seddik_theorem2
from modelcollapse.theory import bounds
from modelcollapse.theory.categorical import rational as _exact
from modelcollapse.theory.categorical.diversity import homozygosity_from_S0

mpmath.mp.dps = 50
MIX_DERIVATION = seddik_theorem2.derive()


@st.composite
def rational_simplex(draw, max_s=3, max_den=12):
    s = draw(st.integers(1, max_s))
    weights = draw(st.lists(st.integers(1, max_den), min_size=s, max_size=s))
    total = sum(weights)
    return [Fraction(w, total) for w in weights]


@given(p=rational_simplex(), n=st.integers(1, 5), m=st.integers(1, 6))
def test_seddik_eq7_exact(p, n, m):
    rho = _exact.collapse_cdf(p, n, m)[m]
    lo, hi = theory.seddik_collapse_probability_bounds(p, n, m, exact=True)
    assert isinstance(lo, Fraction) and isinstance(hi, Fraction)
    assert lo <= rho <= hi


@given(p=rational_simplex(), n=st.integers(1, 5))
def test_seddik_eq8_exact(p, n):
    ET = _exact.expected_collapse_time(p, n)
    lo, hi = theory.seddik_expected_collapse_time_bounds(p, n, exact=True)
    assert lo <= ET <= hi


@given(p=rational_simplex(max_s=3), n=st.integers(1, 5), m=st.integers(0, 5))
def test_seddik_eq6_exact(p, n, m):
    S = _exact.homozygosity(p, n, max(m, 1))[m]
    assert theory.homozygosity(p, Replace(n), m, exact=True) == S


def _mp(x):
    return mpmath.mpf(x.numerator) / x.denominator


@given(num=st.integers(1, 9), den=st.integers(10, 40), n=st.integers(1, 6), k=st.integers(1, 6))
def test_suresh_bernoulli_bounds(num, den, n, k):
    p0 = Fraction(num, den)
    surv = _exact.token_survival([p0, 1 - p0], n, 0, k)[k]
    g = mpmath.mpf(1)
    for _ in range(k - 1):
        g = 1 - mpmath.exp(-g)
    e = mpmath.exp(-n * _mp(p0) * g)
    lower = 1 - e
    upper = 1 - max(0, 1 - 3 * n * _mp(p0) ** 2 - 3 * k * _mp(p0)) * e
    assert lower <= _mp(surv) <= upper
    lo, hi = theory.suresh_bernoulli_bounds(float(p0), n, k)  # float version agrees
    assert lo == pytest.approx(float(lower), rel=1e-12)
    assert hi == pytest.approx(float(upper), rel=1e-12)


@given(p=rational_simplex(max_s=3, max_den=9), n=st.integers(1, 5), k=st.integers(1, 5))
def test_suresh_unigram_bounds(p, n, k):
    distinct = sum(_exact.token_survival(p, n, i, k)[k] for i in range(len(p)))
    lo, hi = theory.suresh_unigram_bounds([float(x) for x in p], n, k)
    # evaluate the bounds at 50 digits too
    g = mpmath.mpf(1)
    for _ in range(k - 1):
        g = 1 - mpmath.exp(-g)
    lo_mp = sum(1 - mpmath.exp(-n * _mp(x) * g) for x in p)
    hi_mp = sum(1 - mpmath.exp(-n * _mp(x) * g)
                * max(0, 1 - 3 * n * _mp(x) ** 2 - 3 * k * _mp(x)) for x in p)
    assert lo_mp <= _mp(distinct) <= hi_mp
    assert lo == pytest.approx(float(lo_mp), rel=1e-12)
    assert hi == pytest.approx(float(hi_mp), rel=1e-12)


@given(lam=st.floats(0.01, 8.0), k=st.integers(1, 12))
def test_suresh_poisson_identity_by_generating_function(lam, k):
    # P(C_k = 0) = G_1(G(...G(0))) with Poisson pgf G(z) = exp(z - 1), iterated in mpmath
    z = mpmath.mpf(0)
    for _ in range(k - 1):
        z = mpmath.exp(z - 1)
    zero = mpmath.exp(lam * (z - 1))
    assert theory.suresh_poisson_survival(lam, 1, k) == pytest.approx(float(1 - zero), rel=1e-12)


@given(k=st.integers(1, 3000))
def test_suresh_g_range(k):
    g = theory.suresh_g(k)
    assert 1 / k <= g <= 3 / k


def test_g_limit():
    assert 5000 * theory.suresh_g(5000) == pytest.approx(2.0, rel=2e-3)


@given(N=st.integers(1, 30), n=st.integers(2, 30), num=st.integers(1, 99), m=st.integers(1, 15))
def test_mix_closed_form_matches_sympy_derivation(N, n, num, m):
    # rsolve's generic solution divides by n - 1 (beta = 0 at n = 1); the exact
    # enumeration test below covers n = 1
    sol = MIX_DERIVATION["solution"]
    Ns, ns, S0s = sp.symbols("N n S_0", positive=True)
    ms = sp.symbols("m", integer=True, nonnegative=True)
    sym = sp.simplify(sol.subs({Ns: N, ns: n, S0s: sp.Rational(num, 100), ms: m}))
    assert sym.is_Rational
    val = homozygosity_from_S0(Fraction(num, 100), Mix(N, n), m)
    assert sp.Rational(val.numerator, val.denominator) == sym


@given(p=rational_simplex(max_s=3, max_den=6), N=st.integers(1, 3), n=st.integers(1, 3),
       m=st.integers(1, 3))
def test_mix_closed_form_matches_exact_enumeration(p, N, n, m):
    assert theory.homozygosity(p, Mix(N, n), m, exact=True) == (
        _exact.mix_homozygosity(p, N, n, m)[m])


def test_replace_closed_form_is_derived():
    assert seddik_theorem1.derive()["proved"]


def test_homozygosity_array_shapes():
    model = Categorical.uniform(4)
    out = theory.homozygosity(model, Replace(10), np.arange(5))
    assert out.shape == (5,) and out[0] == pytest.approx(0.25)


# ---------------------------------------------------------------------- Seddik Thm 3
@given(q=st.integers(1, 9), N=st.integers(1, 10), n=st.integers(1, 5), m=st.integers(2, 4))
def test_seddik_theorem3_against_exact_enumeration(q, N, n, m):
    """s = 2, where the bound is within a small factor: the exact E||p^(m) - p^(1)||_1
    (rational enumeration of the whole chain) is below it."""
    p = [Fraction(q, 10), 1 - Fraction(q, 10)]
    exact = _exact.mix_l1_first(p, N, n, m)[m - 1]
    bound = theory.seddik_deviation_bound(p, Mix(N, n))
    assert float(exact) < bound
    assert bound == pytest.approx(math.sqrt(math.pi * n / 2) * 2 / N, rel=1e-12)


def test_mix_l1_first_enumerator_against_simulation():
    """The exact enumerator of E||p^(m) - p^(1)||_1 against a seeded simulation, |z| < 5
    with the exact variance; a perturbed expectation fails (negative control)."""
    p = [Fraction(1, 2), Fraction(1, 4), Fraction(1, 4)]
    N, n, M, R = 4, 3, 3, 40_000
    mean = _exact.mix_l1_first(p, N, n, M)
    second = _exact.mix_expectations(
        p, N, n, M, lambda pm, p1: sum(abs(a - b) for a, b in zip(pm, p1, strict=True)) ** 2)
    assert mean[0] == 0  # m = 1: p^(1) itself
    sim = montecarlo.simulate(Categorical([0.5, 0.25, 0.25]), Mix(N, n), M, replicates=R,
                              backend="numpy", seed=5, statistics=("l1_first",),
                              progress=False)["l1_first"]
    for m in (2, 3):
        se = math.sqrt(float(second[m - 1] - mean[m - 1] ** 2) / R)
        est = float(sim[:, m].mean())
        assert abs(est - float(mean[m - 1])) / se < 5
        assert abs(est - 1.1 * float(mean[m - 1])) / se > 5


def test_mardia_G_cases():
    C0 = math.e**3 / (2 * math.pi)
    # s < C0 n/4 + 2: 2^s - 2
    assert theory.mardia_G(10, 3) == pytest.approx(6.0)
    assert theory.mardia_G(1, 2) == pytest.approx(2.0)
    # small-n case (s >= C0 n/e + 2) and middle case, by their formulas
    n, s = 10, 20
    assert s >= C0 * n / math.e + 2
    assert theory.mardia_G(n, s) == pytest.approx(
        6 * math.e / math.pi**1.5 * s * math.exp(C0 * n / (2 * math.e)), rel=1e-12)
    n, s = 30, 30
    assert C0 * n / 4 + 2 <= s < C0 * n / math.e + 2
    assert theory.mardia_G(n, s) == pytest.approx(
        6 * math.e / math.pi**1.5 * s * (C0 * n / s) ** (s / 2), rel=1e-12)
    # large s: finite in logs where 2^s would overflow a float product
    assert math.isfinite(math.log(theory.mardia_G(10**6, 900)))
    with pytest.raises(ValueError, match="n"):
        theory.mardia_G(0, 3)


@given(s=st.integers(2, 40), logN=st.floats(1.0, 5.0), eps=st.floats(0.01, 1.0))
def test_seddik_max_synthetic_by_scanning_the_bound(s, logN, eps):
    """The exact solve against a plain scan of n = 1, 2, ...: the largest n whose every
    predecessor keeps the bound <= eps."""
    N = int(10**logN)
    model = Categorical.uniform(s)
    got = theory.seddik_max_synthetic(model, N, eps)
    assume(got < 3000)
    scan = 0
    while theory.seddik_deviation_bound(model, Mix(N, scan + 1)) <= eps:
        scan += 1
    assert got == scan


def test_seddik_eq11_is_sufficient_and_bad_arguments():
    for s in (20, 100, 600):
        for N in (10**5, 10**9):
            n11 = math.floor(theory.seddik_eq11_max_synthetic(N, 0.05, s))
            if n11 >= 1:
                model = Categorical.uniform(s)
                assert theory.seddik_deviation_bound(model, Mix(N, n11)) <= 0.05
                assert theory.seddik_max_synthetic(model, N, 0.05) >= n11
    assert theory.seddik_max_synthetic(Categorical([1.0, 0.0]), 10, 0.1) == math.inf
    with pytest.raises(ValueError, match="regime must be Mix"):
        theory.seddik_deviation_bound(Categorical.uniform(3), Replace(5))
    with pytest.raises(ValueError, match="fresh=False"):
        theory.seddik_deviation_bound(Categorical.uniform(3), Mix(5, 5, fresh=True))
    with pytest.raises(ValueError, match="eps"):
        theory.seddik_max_synthetic(Categorical.uniform(3), 10, 0.0)
    with pytest.raises(ValueError, match="real"):
        theory.seddik_eq11_max_synthetic(0, 0.1, 3)


def test_seddik_max_synthetic_beyond_float_resolution_is_the_closed_form():
    """With s = 2, G_n(2) = 2 for every n, so the bound is sqrt(pi n/2) * 2 / N and the
    answer is floor((2/pi) (N eps / 2)^2). At N = 10**15 it is about 10**27: the solver
    must return the closed form (to float precision) without stepping through integers
    (it used to loop for tens of seconds). Expected value: mpmath at 50 digits."""
    import mpmath

    mpmath.mp.dps = 50
    for N, eps in ((10**15, 0.1), (10**12, 1.0), (10**9, 0.5)):
        exact = mpmath.floor(2 / mpmath.pi * (N * mpmath.mpf(eps) / 2) ** 2)
        got = theory.seddik_max_synthetic(Categorical.uniform(2), N, eps)
        assert isinstance(got, int)
        assert abs(got - int(exact)) <= 1e-12 * int(exact)
    # negative control: the check distinguishes a result that is off by one part in 1e9
    assert abs(int(exact * (1 + 1e-9)) - int(exact)) > 1e-12 * int(exact)


# ---------------------------------------------------------------------- Seddik Thm 4
def _brute_force_split(p, N):
    """E max_A p1(A) p1(A^c) by a plain loop over all s^N sample sequences, in Fractions."""
    from itertools import combinations, product

    s, total = len(p), Fraction(0)
    for seq in product(range(s), repeat=N):
        prob = Fraction(1)
        for i in seq:
            prob *= p[i]
        q = [Fraction(seq.count(i), N) for i in range(s)]
        best = max(sum(q[i] for i in A) * (1 - sum(q[i] for i in A))
                   for r in range(s + 1) for A in combinations(range(s), r))
        total += prob * best
    return total


@pytest.mark.parametrize("p,N", [
    ([Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)], 4),
    ([Fraction(1, 5), Fraction(1, 5), Fraction(2, 5), Fraction(1, 5)], 5),
    ([Fraction(1, 3), Fraction(2, 3)], 7),
    ([Fraction(1, 6)] * 6, 3),
])
def test_seddik_split_expectation_by_brute_force(p, N):
    got = bounds.seddik_split_expectation([float(x) for x in p], N, method="exact")
    assert got.method == "exact" and got.stderr == 0.0
    assert got.value == pytest.approx(float(_brute_force_split(p, N)), abs=1e-12)


@given(q=st.integers(1, 19), N=st.integers(1, 40))
def test_seddik_split_expectation_two_symbols_closed_form(q, N):
    # s = 2: max_A = r1 r2 / N^2 and E[r1 r2] = N(N-1) p1 p2
    p1 = q / 20
    got = bounds.seddik_split_expectation([p1, 1 - p1], N).value
    assert got == pytest.approx((1 - 1 / N) * p1 * (1 - p1), rel=1e-10, abs=1e-15)


def test_seddik_split_expectation_montecarlo_is_seeded_and_within_its_error():
    model = Categorical([0.5, 0.3, 0.2])
    exact = bounds.seddik_split_expectation(model, 30, method="exact")
    mc = bounds.seddik_split_expectation(model, 30, method="montecarlo", samples=20_000, seed=3)
    assert mc.method == "montecarlo" and mc.points == 20_000 and mc.stderr > 0
    assert abs(mc.value - exact.value) < 5 * mc.stderr
    assert abs(mc.value - (exact.value + 10 * mc.stderr)) > 5 * mc.stderr  # control
    assert mc == bounds.seddik_split_expectation(model, 30, method="montecarlo",
                                                 samples=20_000, seed=3)
    # more than 14 symbols: the bitset path agrees with exact subset enumeration
    big = bounds.seddik_split_expectation(Categorical.uniform(16), 3, method="exact")
    # N = 3 on 16 symbols: subset sums cover 0..3 (value 2/9) unless all three agree
    assert big.value == pytest.approx(2 / 9 * (1 - 1 / 16**2), rel=1e-12)


@given(p=rational_simplex(max_s=4, max_den=9), N=st.integers(1, 12), n=st.integers(1, 60))
def test_seddik_theorem4_at_most_theorem3(p, N, n):
    model = [float(x) for x in p]
    b3 = theory.seddik_deviation_bound(model, Mix(N, n))
    printed = bounds.seddik_theorem4_bound(model, Mix(N, n))
    derived = bounds.seddik_theorem4_bound(model, Mix(N, n), form="derived")
    conditional = bounds.seddik_theorem4_bound(model, Mix(N, n), form="conditional")
    assert derived <= printed * (1 + 1e-12)
    assert printed <= b3 * (1 + 1e-12)
    assert conditional <= b3 * (1 + 1e-12)


@given(q=st.integers(1, 9), N=st.integers(1, 6), n=st.integers(1, 4), m=st.integers(2, 3))
def test_seddik_theorem4_against_exact_enumeration(q, N, n, m):
    """s = 2 (the proof is complete there): exact E||p^(m) - p^(1)||_1 < every form."""
    p = [Fraction(q, 10), 1 - Fraction(q, 10)]
    exact = float(_exact.mix_l1_first(p, N, n, m)[m - 1])
    for form in ("printed", "derived", "conditional"):
        assert exact < bounds.seddik_theorem4_bound([float(x) for x in p], Mix(N, n),
                                                    form=form, method="exact")


def test_seddik_theorem4_bad_arguments():
    model = Categorical.uniform(3)
    assert bounds.seddik_theorem4_bound(Categorical([1.0, 0.0]), Mix(5, 5)) == 0.0
    with pytest.raises(ValueError, match="regime must be Mix"):
        bounds.seddik_theorem4_bound(model, Replace(5))
    with pytest.raises(ValueError, match="fresh=False"):
        bounds.seddik_theorem4_bound(model, Mix(5, 5, fresh=True))
    with pytest.raises(ValueError, match="form"):
        bounds.seddik_theorem4_bound(model, Mix(5, 5), form="sharp")
    with pytest.raises(ValueError, match="method"):
        bounds.seddik_theorem4_bound(model, Mix(5, 5), method="exactly")
    with pytest.raises(TypeError, match="samples"):
        bounds.seddik_theorem4_bound(model, Mix(5, 5), samples=1e4)
    with pytest.raises(ValueError, match="seed"):
        bounds.seddik_split_expectation(model, 5, seed=-1)
    with pytest.raises(ValueError, match="real"):
        bounds.seddik_split_expectation(model, 0)
    with pytest.raises(ValueError, match="model"):
        bounds.seddik_split_expectation([0.5, 0.6], 5)
    with pytest.raises(TooLargeError, match="max_states"):
        bounds.seddik_split_expectation(Categorical.uniform(10), 100, method="exact")
    # auto falls back to Monte Carlo there
    assert bounds.seddik_split_expectation(Categorical.uniform(10), 100,
                                           samples=200).method == "montecarlo"
