"""The tail (Dohmatob et al. 2024): the exact test-error sums against rational arithmetic
and seeded simulation of the memorising learner, and the paper's exponents against slope
fits of the exact sums over decades (with wrong exponents as negative controls)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import theory
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from modelcollapse.models import Categorical
from modelcollapse.sampling import SamplingPolicy

Z8 = Categorical.zipf(8, 2.0)


def test_float_equals_rational():
    for kw in ({}, {"policy": SamplingPolicy(top_k=3)},
               {"policy": SamplingPolicy(temperature=0.5)},
               {"generations": 1, "samples": 5}, {"generations": 3, "samples": 4}):
        T = [0, 2, 7]
        ex = theory.tail_test_error(Z8, T, clean=[0, 1, 3], exact=True, **kw)
        fl = theory.tail_test_error(Z8, T, clean=[0, 1, 3], **kw)
        assert all(isinstance(v, Fraction) for v in ex)
        np.testing.assert_allclose(fl, [float(v) for v in ex], rtol=1e-12)
    # T = 0: nothing learnt, the error is 1
    assert theory.tail_test_error(Z8, 0, exact=True) == 1


def test_against_a_simulated_learner():
    """Draw T0 real samples, fit, draw T from the fit, count the test mass of unseen tokens
    (4000 seeded replicates, |z| < 5); the clean error at T as negative control."""
    rng = np.random.default_rng(5)
    p = Z8.p
    T0, T, R = 6, 5, 4000
    errs = np.empty(R)
    for r in range(R):
        fit = rng.multinomial(T0, p) / T0
        fit = rng.multinomial(T0, fit) / T0  # generation 2
        seen = rng.multinomial(T, fit) > 0
        errs[r] = p[~seen].sum()
    want = theory.tail_test_error(Z8, T, generations=2, samples=T0)
    se = errs.std() / math.sqrt(R)
    assert abs(errs.mean() - want) < 5 * se
    assert abs(errs.mean() - theory.tail_test_error(Z8, T)) > 5 * se


def test_plateaus_exact():
    """T = inf: the cut mass (top-k), and one fitted generation's plateau equals the clean
    error at T0 (an identity: P(token unseen in T0 draws) = (1 - p_i)^T0)."""
    m = Categorical.zipf(1000, 1.5)
    assert theory.tail_test_error(m, math.inf, policy=SamplingPolicy(top_k=10)) == \
        pytest.approx(m.p[10:].sum(), rel=1e-12)
    for T0 in (10, 100):
        assert theory.tail_test_error(m, math.inf, generations=1, samples=T0) == \
            pytest.approx(theory.tail_test_error(m, T0), rel=1e-12)
    # more generations lose more of the tail: the plateau rises
    pl = [theory.tail_test_error(m, math.inf, generations=g, samples=50) for g in (1, 2, 4)]
    assert pl[0] < pl[1] < pl[2]


@pytest.mark.parametrize("beta", [pytest.param(1.5, marks=pytest.mark.slow), 2.0,
                                  pytest.param(3.0, marks=pytest.mark.slow)])
def test_exponents_by_slope_fits(beta):
    """Theorem 2.1 and Corollary 2.2 of Dohmatob et al.: slopes of the exact sums over
    two decades against -(1 - 1/beta) (T and the T0 plateau) and -(beta - 1) (top-k).
    (``modelcollapse verify --only dohmatob.tails`` fits all three betas.)"""
    ex = theory.tail_exponents(beta)
    m = Categorical.zipf(200_000, beta)
    T = np.round(np.logspace(2.5, 4.5, 7))
    sT = np.polyfit(np.log(T), np.log(theory.tail_test_error(m, T)), 1)[0]
    ks = np.round(np.logspace(1.5, 3.5, 5)).astype(int)
    pk = [theory.tail_test_error(m, math.inf, policy=SamplingPolicy(top_k=int(k)))
          for k in ks]
    sk = np.polyfit(np.log(ks), np.log(pk), 1)[0]
    T0 = np.array([30, 100, 300])
    p0 = [theory.tail_test_error(m, math.inf, generations=1, samples=int(t)) for t in T0]
    s0 = np.polyfit(np.log(T0), np.log(p0), 1)[0]
    assert abs(sT + ex.T) < 0.02 and abs(sk + ex.k) < 0.03 and abs(s0 + ex.samples) < 0.03
    assert abs(sT + ex.k) > 0.1 and abs(sk + ex.T) > 0.1  # the wrong exponents fail


def test_grokking_with_clean_data():
    """A clean share of a growing training set (Theorem 3.2): the error stalls near the
    cut's plateau, then follows the clean error of the clean samples alone."""
    m = Categorical.zipf(100_000, 2.0)
    cut = SamplingPolicy(top_k=100)
    plateau = theory.tail_test_error(m, math.inf, policy=cut)
    N = np.array([10**4, 10**5, 10**7, 10**8])
    share = 0.05
    clean = np.round(share * N).astype(int)
    E = theory.tail_test_error(m, N - clean, policy=cut, clean=clean)
    assert abs(E[1] / plateau - 1) < 0.15  # on the plateau
    alone = theory.tail_test_error(m, clean)
    assert abs(E[-1] / alone[-1] - 1) < 0.05  # the clean samples decide the tail
    assert E[-1] < 0.1 * plateau  # the plateau is left behind
    synthetic_only = theory.tail_test_error(m, N[-1], policy=cut)
    assert synthetic_only > 0.99 * plateau  # negative control: no clean data, no escape


def test_bad_input():
    with pytest.raises(ValueError, match="beta must be > 1"):
        theory.tail_exponents(1.0)
    with pytest.raises(WrongTypeError):
        theory.tail_exponents("2")
    with pytest.raises(ValueError, match="whole numbers"):
        theory.tail_test_error(Z8, 2.5)
    with pytest.raises(ValueError, match=">= 0"):
        theory.tail_test_error(Z8, -1)
    with pytest.raises(ValueError, match="needs samples"):
        theory.tail_test_error(Z8, 3, generations=2)
    with pytest.raises(ValueError, match="samples applies"):
        theory.tail_test_error(Z8, 3, samples=4)
    with pytest.raises(UnsupportedRegimeError):
        theory.tail_test_error(Z8, 3, generations=1, samples=4,
                               policy=SamplingPolicy(top_k=2))
    with pytest.raises(TooLargeError):
        theory.tail_test_error(Z8, 3, generations=1, samples=10**5)
    with pytest.raises(ValueError, match="clean has shape"):
        theory.tail_test_error(Z8, [1, 2, 3], clean=[1, 2])
    with pytest.raises(ValueError, match="clean must be"):
        theory.tail_test_error(Z8, 3, clean=-1)
