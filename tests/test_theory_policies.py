"""Exact collapse theory under a sampling policy (modelcollapse.theory.categorical.policy_chain)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import theory
from modelcollapse import theory as P
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError
from modelcollapse.models import Categorical
from modelcollapse.montecarlo import simulate
from modelcollapse.proofs.sampling_policies import count_chain_moments
from modelcollapse.regimes import Mix, Replace
from modelcollapse.theory.categorical import policy_chain

BAR = Categorical([0.6, 0.4])


def _sim_T(model, regime, R, seed):
    res = simulate(model, regime, None, replicates=R, seed=seed, statistics=(),
                   record="last", backend="numba")
    assert np.all(res.collapse_time >= 1)
    return res.collapse_time.astype(np.float64)


def _z(sample, mean, var):
    return (sample.mean() - mean) / math.sqrt(var / sample.size)


# ------------------------------------------------------------------ (a) the held-out bar
def test_bar_temperature_half_float_equals_fraction_and_count_chain():
    reg = Replace(10, temperature=0.5)
    est = P.policy_expected_collapse_time(BAR, reg)
    assert est.method == "policy-chain" and est.exact
    ex = P.policy_expected_collapse_time([Fraction(3, 5), Fraction(2, 5)], reg, exact=True)
    assert isinstance(ex, Fraction)
    assert float(est) == pytest.approx(float(ex), rel=1e-13)
    mean, var = P.policy_collapse_moments(BAR, reg)
    _emean, evar = P.policy_collapse_moments([Fraction(3, 5), Fraction(2, 5)], reg, exact=True)
    assert var == pytest.approx(float(evar), rel=1e-12)
    cm, cv = count_chain_moments(0.6, 10, 0.5)
    assert mean == pytest.approx(cm, rel=1e-12) and var == pytest.approx(cv, rel=1e-10)
    assert float(est) == pytest.approx(3.9459236895871803, rel=1e-13)


def test_bar_temperature_two_against_independent_count_chain():
    reg = Replace(10, temperature=2.0)
    mean, var = P.policy_collapse_moments(BAR, reg)
    cm, cv = count_chain_moments(0.6, 10, 2.0)
    assert mean == pytest.approx(cm, rel=1e-10)
    assert var == pytest.approx(cv, rel=1e-9)
    assert mean == pytest.approx(127.96186781165, rel=1e-11)


@pytest.mark.parametrize("T, R", [(0.5, 20_000), (2.0, 8_000)])
def test_bar_against_numba_simulation(T, R):
    reg = Replace(10, temperature=T)
    mean, var = P.policy_collapse_moments(BAR, reg)
    sample = _sim_T(BAR, reg, R, seed=20240)
    assert abs(_z(sample, mean, var)) < 5


# ------------------------------------------------------------------ (b) truncation
@pytest.mark.parametrize("regime", [Replace(8, top_k=2), Replace(8, top_p=0.8),
                                    Replace(8, temperature=0.5, top_p=0.7)])
def test_truncation_against_fraction_and_simulation(regime):
    model = Categorical([0.5, 0.3, 0.2])
    mean, var = P.policy_collapse_moments(model, regime)
    ex = P.policy_expected_collapse_time(
        [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)], regime, exact=True)
    assert mean == pytest.approx(float(ex), rel=1e-12)
    sample = _sim_T(model, regime, 10_000, seed=7)
    assert abs(_z(sample, mean, var)) < 5


def test_top_k_removes_the_tail_in_one_generation():
    model = Categorical([0.5, 0.3, 0.2])
    d = P.policy_surviving_tokens(model, Replace(8, top_k=2), 2, distribution=True)
    assert d[3] == 0.0 and d.sum() == pytest.approx(1.0)
    surv = P.policy_surviving_tokens(model, Replace(8, top_k=2), np.array([0, 1, 2]))
    assert surv[0] == 3 and surv[1] > 2 and surv[2] <= 2
    # top_k=1 keeps one token: generation 2 is a Dirac surely
    law = P.policy_collapse_time(model, Replace(8, top_k=1))
    assert law.cdf(2) == pytest.approx(1.0, abs=1e-15)


def test_dirac_is_absorbing_under_every_policy():
    e = np.array([0.0, 1.0, 0.0])
    for reg in (Replace(5, temperature=0.3), Replace(5, temperature=4.0),
                Replace(5, top_k=2), Replace(5, top_p=0.5)):
        assert np.array_equal(P.policy_sampling_distribution(e, reg), e)
        assert P.policy_sampling_distribution(
            [Fraction(0), Fraction(1), Fraction(0)], reg.__class__(5, top_k=reg.top_k,
                                                                   top_p=reg.top_p),
            exact=True) == [0, 1, 0]
    assert P.policy_expected_collapse_time(Categorical([0, 1.0]), Replace(5, top_k=1)) == 1


# ------------------------------------------------------------------ (c) negative control
def test_negative_control_plain_value_is_rejected_at_half_temperature():
    reg = Replace(10, temperature=0.5)
    sample = _sim_T(BAR, reg, 20_000, seed=20240)
    plain_mean, plain_var = P.policy_collapse_moments(BAR, Replace(10))
    assert abs(_z(sample, plain_mean, plain_var)) > 5
    # and a wrong temperature's exact value is rejected too
    m07, v07 = P.policy_collapse_moments(BAR, Replace(10, temperature=0.7))
    assert abs(_z(sample, m07, v07)) > 5


# ------------------------------------------------------------------ consistency
def test_plain_policy_matches_the_categorical_solvers():
    model = Categorical([0.5, 0.3, 0.2])
    for n in (6, 15):
        a = P.policy_expected_collapse_time(model, Replace(n))
        b = theory.expected_collapse_time(model, Replace(n), method="coalescent")
        assert float(a) == pytest.approx(float(b), rel=1e-11)
        sa = P.policy_surviving_tokens(model, Replace(n), 4)
        sb = theory.expected_surviving_tokens(model, Replace(n), 4)
        assert sa == pytest.approx(sb, rel=1e-11)


def test_law_matches_moments_and_exact_cdf():
    reg = Replace(10, temperature=0.5)
    law = P.policy_collapse_time(BAR, reg)
    mean, var = P.policy_collapse_moments(BAR, reg)
    assert law.mean() == pytest.approx(mean, rel=1e-10)
    assert law.var() == pytest.approx(var, rel=1e-8)
    chain = policy_chain._exact_chain([Fraction(3, 5), Fraction(2, 5)], reg, "test")
    cdf = chain.cdf(6)
    assert [law.cdf(m) for m in range(7)] == pytest.approx([float(c) for c in cdf],
                                                             rel=1e-12, abs=1e-300)
    law2 = P.policy_collapse_time(BAR, Replace(12, temperature=2.0))
    m2, _v2 = P.policy_collapse_moments(BAR, Replace(12, temperature=2.0))
    assert law2.mean() == pytest.approx(m2, rel=1e-8)


# ------------------------------------------------------------------ large n
def test_low_temperature_loglog_growth_and_hazard_asymptotic():
    reg = lambda n: Replace(n, temperature=0.5)  # noqa: E731
    ns = (20, 100, 500, 2000)
    exact = np.array([float(P.policy_expected_collapse_time(BAR, reg(n))) for n in ns])
    lead = np.array([float(P.policy_collapse_time_asymptotic(BAR, reg(n), form="leading"))
                     for n in ns])
    haz = np.array([float(P.policy_collapse_time_asymptotic(BAR, reg(n))) for n in ns])
    assert np.all(np.diff(exact) > 0)
    # E[T] - (1 + log(log(n/ln 2)/l0)/log 2) stays bounded (the log log n law)
    assert np.all((exact - lead > 0) & (exact - lead < 1.0))
    # the deterministic-path hazard is within 0.35 generations, 1.5% at n = 2000
    assert np.all(np.abs(exact - haz) < 0.35)
    assert abs(exact[-1] - haz[-1]) / exact[-1] < 0.015
    assert exact[-1] < 6.0 < float(P.policy_expected_collapse_time(BAR, Replace(2000)))


def test_high_temperature_exponential_growth_matches_ld_rate():
    c = P.policy_ld_rate(2.0)
    lo = math.log(P.policy_collapse_moments(BAR, Replace(300, temperature=2.0))[0])
    hi = math.log(P.policy_collapse_moments(BAR, Replace(400, temperature=2.0))[0])
    assert (hi - lo) / 100 == pytest.approx(c, rel=2e-3)
    assert 0 <= P.policy_ld_rate(1.0) < 0.01 * c  # 0 up to the grid
    with pytest.raises(UnsupportedRegimeError):
        P.policy_collapse_time_asymptotic(BAR, Replace(50, temperature=2.0))


def test_unit_temperature_asymptotic_is_diffusion():
    est = P.policy_collapse_time_asymptotic(BAR, Replace(1000))
    assert est.method == "diffusion"
    ex = P.policy_expected_collapse_time(BAR, Replace(1000))
    assert 0 < est - ex < 5
    model = Categorical([0.5, 0.3, 0.2])
    est = P.policy_collapse_time_asymptotic(model, Replace(60, top_k=2))
    ex = P.policy_expected_collapse_time(model, Replace(60, top_k=2))
    assert abs(est - ex) < 0.1 * ex


# ------------------------------------------------------------------ (d) arguments
def test_bad_arguments():
    with pytest.raises(TypeError, match="model"):
        P.policy_expected_collapse_time("0.6,0.4", Replace(5, temperature=0.5))
    with pytest.raises(TypeError, match="regime"):
        P.policy_expected_collapse_time(BAR, 5)
    with pytest.raises(TypeError, match="exact"):
        P.policy_collapse_moments(BAR, Replace(5), exact="yes")
    with pytest.raises(ValueError, match="tol"):
        P.policy_collapse_time(BAR, Replace(5, temperature=0.5), tol=2.0)
    with pytest.raises(TypeError, match="tol"):
        P.policy_collapse_time(BAR, Replace(5, temperature=0.5), tol="small")
    with pytest.raises(ValueError, match="max_generations"):
        P.policy_collapse_time(BAR, Replace(5, temperature=0.5), max_generations=0)
    with pytest.raises(ValueError, match="m must"):
        P.policy_surviving_tokens(BAR, Replace(5, temperature=0.5), -1)
    with pytest.raises(ValueError, match="form"):
        P.policy_collapse_time_asymptotic(BAR, Replace(5, temperature=0.5), form="x")
    with pytest.raises(ValueError, match="temperature"):
        P.policy_expected_collapse_time(BAR, Replace(5, temperature=0.7), exact=True)
    with pytest.raises(ValueError, match="temperature"):
        P.policy_ld_rate(0.5)
    with pytest.raises(UnsupportedRegimeError):
        P.policy_expected_collapse_time(BAR, Mix(5, 5, temperature=0.5))
    with pytest.raises(UnsupportedRegimeError):  # tied leaders: no T < 1 asymptotic
        P.policy_collapse_time_asymptotic(Categorical([0.5, 0.5]),
                                          Replace(50, temperature=0.5))


def test_too_large_refused_before_work(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("work started")

    monkeypatch.setattr(policy_chain, "_Chain", boom)
    monkeypatch.setattr(policy_chain, "_ExactChain", boom)
    big = Categorical.uniform(30)
    with pytest.raises(TooLargeError):
        P.policy_expected_collapse_time(big, Replace(100, temperature=0.5))
    with pytest.raises(TooLargeError):
        P.policy_collapse_time(BAR, Replace(10**6, temperature=0.5))
    with pytest.raises(TooLargeError):
        P.policy_expected_collapse_time(big, Replace(40, top_k=2), exact=True)
    assert P.policy_state_count(big, Replace(100)) > policy_chain.MAX_STATES
    assert P.policy_state_count(BAR, Replace(10)) == 6


def test_expected_collapse_time_beyond_float_range_is_refused():
    """At T = 2 E[T] grows like e^{0.55 n}: past n ~ 1300 it exceeds float64. The solver
    refuses with TooLargeError (no division-by-zero warnings, no inf) and points to the
    rate; just below, the value is finite and near e^{c n} scaling."""
    import warnings

    from modelcollapse.errors import TooLargeError

    model = Categorical([0.6, 0.4])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TooLargeError, match="policy_ld_rate"):
            theory.expected_collapse_time(model, Replace(1400, temperature=2))
        ok = theory.expected_collapse_time(model, Replace(1200, temperature=2))
    assert 1e280 < float(ok) < 1e300
