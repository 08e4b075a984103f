"""Exact solvers against each other and against exact rational arithmetic."""

from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import Categorical, Mix, MostRecent, RandomlySampled, Replace, theory
from modelcollapse.theory import GenerationDistribution
from modelcollapse.theory.categorical import rational as _exact
from modelcollapse.theory.categorical.replace_chain import collapse_moments as _collapse_moments

TINY = [
    ([Fraction(1, 2), Fraction(1, 2)], 4),
    ([Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)], 5),
    ([Fraction(1, 4), Fraction(1, 4), Fraction(1, 2)], 6),
    ([Fraction(1, 10), Fraction(9, 10)], 7),
    ([Fraction(1, 5)] * 5, 3),
]


@pytest.mark.parametrize(("p", "n"), TINY)
def test_expected_collapse_time_three_methods_and_rationals(p, n):
    model = Categorical([float(x) for x in p])
    exact = _exact.expected_collapse_time(p, n)
    for method in ("coalescent", "marginal", "chain"):
        v = theory.expected_collapse_time(model, Replace(n), method=method)
        assert v.exact and v.method == method
        assert float(v) == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize(("p", "n"), TINY)
def test_collapse_law_against_rational_chain(p, n):
    model = Categorical([float(x) for x in p])
    cdf = [float(x) for x in _exact.collapse_cdf(p, n, 10)]
    for method in ("coalescent", "marginal"):
        law = theory.collapse_time(model, Replace(n), method=method)
        assert np.allclose(law.cdf(np.arange(11)), cdf, rtol=1e-12, atol=1e-15)
        assert np.allclose(law.pmf(np.arange(1, 11)), np.diff(cdf), rtol=1e-9, atol=1e-15)


def test_two_samples_closed_form():
    # n = 2: p^(1) is Dirac w.p. S_0, otherwise (1/2, 1/2), which is Dirac next time w.p. 1/2
    # so E[T] = 1 + 2 (1 - S_0), by hand, independent of every solver.
    for p in ([0.3, 0.7], [0.2, 0.3, 0.5], [0.25] * 4):
        model = Categorical(p)
        S0 = model.homozygosity
        for method in ("coalescent", "marginal"):
            assert theory.expected_collapse_time(model, Replace(2), method=method) == (
                pytest.approx(1 + 2 * (1 - S0), rel=1e-13))


def test_law_moments_agree_with_green_functions():
    model = Categorical.zipf(30, 1.2)
    for n in (20, 150):
        law = theory.collapse_time(model, Replace(n))
        mean, var = _collapse_moments(model, n, "coalescent")
        assert law.mean() == pytest.approx(mean, rel=1e-10)
        assert law.var() == pytest.approx(var, rel=1e-8)
        mm, vm = _collapse_moments(model, n, "marginal")
        assert mean == pytest.approx(mm, rel=1e-10) and var == pytest.approx(vm, rel=1e-8)
        assert law.horizon < 6 * n  # the rest is the exact spectral continuation
        assert 0 < law.sf(40 * n) < 1e-12
        marg = theory.collapse_time(model, Replace(n), method="marginal")
        m = np.arange(1, 6 * n)
        assert np.allclose(law.pmf(m), marg.pmf(m), rtol=1e-8, atol=1e-16)


def test_coalescent_matches_marginal_at_larger_n():
    model = Categorical.geometric(40, 0.8)
    n = 1200
    a = theory.expected_collapse_time(model, Replace(n), method="coalescent")
    b = theory.expected_collapse_time(model, Replace(n), method="marginal")
    assert float(a) == pytest.approx(float(b), rel=1e-10)


def test_dirac_and_single_sample():
    assert theory.expected_collapse_time(Categorical([0, 1, 0]), Replace(50)) == 1.0
    law = theory.collapse_time(Categorical([0, 1.0]), Replace(50))
    assert law.pmf(1) == 1.0 and law.mean() == 1.0
    # n = 1: p^(1) is always a Dirac mass
    assert theory.expected_collapse_time(Categorical.uniform(5), Replace(1)) == 1.0


@pytest.mark.parametrize(("p", "n"), TINY[:3])
def test_token_loss_against_rational_chain(p, n):
    model = Categorical([float(x) for x in p])
    for token in range(len(p)):
        surv = [float(x) for x in _exact.token_survival(p, n, token, 8)]
        for method in ("coalescent", "marginal"):
            law = theory.token_loss(model, Replace(n), token, method=method)
            assert law.defect == pytest.approx(float(p[token]))
            assert np.allclose(law.sf(np.arange(9)), surv, rtol=1e-12, atol=1e-15)


def test_token_loss_conditional_mean_two_ways():
    model = Categorical.zipf(8, 1.0)
    n = 60
    for token in (0, 7):
        a = theory.token_loss(model, Replace(n), token).conditional()
        b = theory.token_loss(model, Replace(n), token, method="marginal").conditional()
        assert a.mean() == pytest.approx(b.mean(), rel=1e-9)
        assert a.quantile(0.9) == b.quantile(0.9)


def test_token_loss_by_label():
    model = Categorical([0.5, 0.5], labels=["a", "b"])
    a = theory.token_loss(model, Replace(4), "b")
    assert a.defect == 0.5
    with pytest.raises(ValueError, match="not in the vocabulary"):
        theory.token_loss(model, Replace(4), "c")


@pytest.mark.parametrize(("count", "n"), [(1, 2), (1, 10), (3, 25), (10, 300)])
def test_forgetting_time_two_methods(count, n):
    a = theory.forgetting_time(count, n)
    b = theory.forgetting_time(count, n, method="marginal")
    assert a.p_loss == pytest.approx(1 - count / n)
    assert a.mean() == pytest.approx(b.mean(), rel=1e-9)
    assert a.var() == pytest.approx(b.var(), rel=1e-8)
    t = np.arange(0, 5 * n)
    assert np.allclose(a.cdf(t), b.cdf(t), rtol=1e-9, atol=1e-15)
    # the exact Green's-function mean equals the mean of the computed law
    assert a.mean() == pytest.approx(GenerationDistribution.mean(a), rel=1e-9)


def test_forgetting_time_n2_by_hand():
    # count 1 among 2: each generation the token is lost w.p. 1/4, fixed w.p. 1/4,
    # stays at 1 w.p. 1/2; given loss the time is Geometric(1/2) on {1, 2, ...}.
    f = theory.forgetting_time(1, 2)
    assert f.p_loss == 0.5
    assert f.mean() == pytest.approx(2.0, rel=1e-12)
    assert f.var() == pytest.approx(2.0, rel=1e-10)
    assert f.pmf(3) == pytest.approx(0.125, rel=1e-12)


def test_expected_surviving_tokens_three_ways():
    p = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    n = 5
    model = Categorical([float(x) for x in p])
    ms = np.arange(0, 7)
    exact = [float(sum(_exact.token_survival(p, n, i, 6)[m] for i in range(3))) for m in ms]
    for method in ("coalescent", "marginal"):
        got = theory.expected_surviving_tokens(model, Replace(n), ms, method=method)
        assert np.allclose(got, exact, rtol=1e-12)
    big = Categorical.zipf(300, 1.1)
    ms = np.array([1, 5, 50, 400])
    a = theory.expected_surviving_tokens(big, Replace(500), ms)
    b = theory.expected_surviving_tokens(big, Replace(500), ms, method="marginal")
    assert np.allclose(a, b, rtol=1e-10)
    assert theory.expected_surviving_tokens(big, Replace(500), 0) == 300


def test_homozygosity_exact_rationals():
    p = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    model = Categorical([float(x) for x in p])
    chain = _exact.homozygosity(p, 4, 5)
    mix = _exact.mix_homozygosity(p, 2, 3, 4)
    for m in range(5):
        assert theory.homozygosity(p, Replace(4), m, exact=True) == chain[m]
        assert theory.homozygosity(p, Mix(2, 3), m, exact=True) == mix[m]
        assert theory.homozygosity(model, Replace(4), m) == pytest.approx(float(chain[m]))
        assert theory.homozygosity(model, Mix(2, 3), m) == pytest.approx(float(mix[m]))


def test_homozygosity_edge_cases():
    model = Categorical([0.5, 0.25, 0.25])
    # n = 1: p^(1) is a Dirac mass, S_0 = 3/8 at m = 0
    assert list(theory.homozygosity(model, Replace(1), np.arange(3))) == [0.375, 1.0, 1.0]
    assert theory.homozygosity(model, Replace(1), 0, exact=True) == Fraction(3, 8)
    # a Categorical is converted to nearby rationals (1/3 stays 1/3), renormalised
    assert theory.homozygosity(Categorical.uniform(3), Replace(4), 3, exact=True) == (
        1 - Fraction(3, 4) ** 3 * Fraction(2, 3))
    with pytest.raises(ValueError, match="exactly 1"):
        theory.homozygosity([Fraction(1, 2), Fraction(1, 3)], Replace(4), 1, exact=True)


def test_large_vocabulary_exact_value_near_diffusion():
    # Kimura-Littler diffusion is an independent approximation; its bias is a few
    # generations, so at n = 1e5 the two agree to better than 1e-4 relative.
    model = Categorical.zipf(20_000, 1.05)
    n = 100_000
    ex = theory.expected_collapse_time(model, Replace(n))
    di = theory.diffusion_collapse_time(model, Replace(n))
    assert ex.method == "coalescent" and ex.exact
    assert 0 < di - ex < 20
    auto = theory.expected_collapse_time(model, Replace(n), max_exact_n=1000)
    assert auto.method == "diffusion" and not auto.exact and float(auto) == di


def test_errors_are_clear():
    model = Categorical.uniform(3)
    with pytest.raises(ValueError, match="never collapses"):
        theory.collapse_time(model, Mix(10, 10))
    with pytest.raises(NotImplementedError, match="not absorbing"):
        theory.expected_collapse_time(model, RandomlySampled(10))
    with pytest.raises(ValueError, match="use method='auto'"):
        theory.expected_collapse_time(model, MostRecent(10, 2), method="coalescent")
    with pytest.raises(ValueError, match="method must be one of"):
        theory.expected_collapse_time(model, Replace(10), method="magic")
    with pytest.raises(ValueError, match="n <= 3000"):
        theory.expected_collapse_time(model, Replace(5000), method="marginal")
    with pytest.raises(ValueError, match="model must be a Categorical"):
        theory.expected_collapse_time([0.5, 0.5], Replace(10))
    with pytest.raises(ValueError, match="regime must be"):
        theory.collapse_time(model, 10)
    with pytest.raises(ValueError, match="count must be < n"):
        theory.forgetting_time(5, 5)
    with pytest.raises(ValueError, match="tol"):
        theory.collapse_time(model, Replace(5), tol=0)
    with pytest.raises(ValueError, match="m must be"):
        theory.homozygosity(model, Replace(5), -1)


@pytest.mark.parametrize("n", [12, 500, 10**6])
def test_spectral_continuation_matches_matrix_powers(n):
    from modelcollapse.theory.categorical import _coalescent

    K = 8
    rng = np.random.default_rng(n)
    pi = np.zeros(n + 1)
    pi[1 : K + 1] = rng.random(K)
    pi /= pi.sum()
    phi = np.zeros((1, n + 1))
    phi[0, 2:] = rng.random(n - 1)
    coefs, lam = _coalescent.spectral_tail(n, pi, phi)
    D = _coalescent.occupancy_block(n, K)[1:, 1:]  # rows/cols 1..K, independent of V
    for j in (0, 1, 7, 100, 3 * n):
        law = pi[1 : K + 1] @ np.linalg.matrix_power(D, j)
        assert coefs[0] @ lam**j == pytest.approx(law @ phi[0, 1 : K + 1], rel=1e-9, abs=1e-300)


def test_marginal_method_with_probabilities_near_the_float_minimum():
    """scipy's binomial pmf overflows internally for p near 1e-307; the dense method must
    still agree with the coalescent one. The pmf itself is checked against mpmath."""
    import mpmath

    from modelcollapse.theory.categorical.marginal import binom_pmf

    mpmath.mp.dps = 40
    n = 50
    for p in (1e-307, 2e-308, 5e-324, 1e-260, 1e-200):
        got = binom_pmf(np.arange(4), n, np.full(4, p))
        for j in range(4):
            pm = mpmath.mpf(p)
            want = float(mpmath.binomial(n, j) * pm**j * (1 - pm) ** (n - j))
            assert got[j] == pytest.approx(want, rel=1e-12, abs=0.0)
    for p in (1e-307, 5e-324):
        model = Categorical([0.6 - p, 0.4, p])
        for fn in (
            lambda meth, m=model: float(theory.expected_collapse_time(m, Replace(30),
                                                                      method=meth)),
            lambda meth, m=model: theory.expected_surviving_tokens(m, Replace(30),
                                                                   [1, 3, 40], method=meth),
            lambda meth, m=model: theory.token_loss(m, Replace(30), 1, method=meth).cdf(5),
        ):
            np.testing.assert_allclose(fn("marginal"), fn("coalescent"), rtol=1e-9)


def test_checkpointed_rows_give_the_same_laws(monkeypatch):
    """Generations whose states lie above the row cache rebuild their rows from stored
    checkpoints. With a tiny cache and a checkpoint store that fills up early, every
    path (cached rows, checkpoints, rebuild past the last stored checkpoint) is used;
    the laws must equal the dense marginal method's, and the moments of
    forgetting_time (sums of the propagated row plus its spectral continuation) the
    Green's-function solve."""
    from modelcollapse.theory.categorical import replace_chain as categorical

    n = 300
    model = Categorical([0.5, 0.3, 0.15, 0.05])
    t = np.arange(1, 4 * n)
    ref_token = theory.token_loss(model, Replace(n), 3, method="marginal")
    ref_forget = theory.forgetting_time(7, n, method="marginal")
    for cache, store in ((10**8, 10**8), (1, 10**8), (1, 400)):
        monkeypatch.setattr(categorical, "ROW_CACHE_BUDGET", cache)
        monkeypatch.setattr(categorical, "CHECKPOINT_BUDGET", store)
        got = theory.token_loss(model, Replace(n), 3)
        np.testing.assert_allclose(got.cdf(t), ref_token.cdf(t), rtol=1e-9, atol=1e-14)
        f = theory.forgetting_time(7, n)
        np.testing.assert_allclose(f.cdf(t), ref_forget.cdf(t), rtol=1e-9, atol=1e-14)
        assert f.mean() == pytest.approx(ref_forget.mean(), rel=1e-9)
        assert f.var() == pytest.approx(ref_forget.var(), rel=1e-8)
    H, phi = categorical._forgetting_functionals(7, n)
    vals, _, terms, _ = categorical._propagate(n, np.stack([H, phi]), 1e-12, 10**7,
                                               tail_row=1)
    rows = categorical._green_from_rows(n, vals[:, 1], terms)
    np.testing.assert_allclose(rows, categorical._green(n, phi), rtol=1e-10)
    # negative control: dropping the spectral continuation is visibly wrong
    short = categorical._green_from_rows(n, vals[:, 1], (terms[0] * 0.0, terms[1]))
    assert abs(short[1] / categorical._green(n, phi)[1] - 1) > 1e-6


def test_surviving_tokens_long_after_the_band_by_matrix_powers():
    """Once the ancestral chain lives on a few states the law at any later generation is
    a matrix power of the transient block: against the marginal method, which steps
    through every generation."""
    model = Categorical([0.4, 0.3, 0.2, 0.1])
    gens = [1, 50, 300, 2000, 6000]
    a = theory.expected_surviving_tokens(model, Replace(60), gens)
    b = theory.expected_surviving_tokens(model, Replace(60), gens, method="marginal")
    # (the marginal method's sums carry rounding noise of a few 1e-15)
    np.testing.assert_allclose(a - 1.0, b - 1.0, rtol=1e-8, atol=5e-14)
    assert a[3] - 1.0 > 1e-15  # not yet collapsed at 2000: the excess is resolved


@pytest.mark.parametrize("offset", [0, 1, 5])
def test_one_generation_from_checkpoints_against_dense_rows(offset):
    """One step of the forward kernel, with the law's lowest state at (offset 0) or just
    above a stored checkpoint, equals ``pi @ D`` with dense occupancy rows built by the
    plain recursion."""
    from modelcollapse.theory.categorical import _coalescent as c

    n = 400
    coef = c.coefficients(n)
    data, offsets, los, his, L = c.build_row_cache(n, 1, coef)
    ck = c.Checkpoints(n, L, 10**6)
    ck_t = ck.as_tuple()
    work = np.zeros((3, n + 3))
    phis = np.zeros((1, n + 1))
    none, nosnap = np.zeros(0, np.int64), np.zeros((0, n + 1))

    def step(pi, amax):
        out = np.zeros((1, 1))
        c.forward(n, pi, amax, phis, 1, 0.0, 0, data, offsets, los, his, L, coef, ck_t,
                  work, out, none, nosnap, 0)
        return pi

    step(np.eye(n + 1)[n].copy(), n)  # from A = n: passes every row, stores checkpoints
    assert ck.state[0] >= 2
    a0 = L + 2 * ck.stride + offset
    pi = np.zeros(n + 1)
    pi[a0], pi[a0 + 3], pi[n - 1] = 0.5, 0.3, 0.2
    want = pi @ c.occupancy_block(n, n)
    got = step(pi.copy(), n - 1)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # negative control: the law without the bottom state's row is far off
    pi[a0] = 0.0
    assert np.abs(pi @ c.occupancy_block(n, n) - want).max() > 1e-3
