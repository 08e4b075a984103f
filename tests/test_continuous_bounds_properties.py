"""Property-based tests of the continuous-model bounds and identities (hypothesis,
deterministic profile)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from modelcollapse import Accumulate, Gaussian, LinearRegression, Mix, Replace, theory
from modelcollapse.proofs.suresh_gaussian import marginal_sf


@given(n=st.integers(2, 60), eps=st.floats(0.05, 0.95), k=st.integers(1, 300))
def test_suresh_gaussian_bound_holds(n, eps, k):
    """The bound dominates the exact P(sigma_k > eps sigma_0) (Gil-Pelaez inversion)."""
    exact = marginal_sf(n, eps, k)
    assert exact <= theory.suresh_gaussian_bound(n, eps, k) + 1e-9


@given(M=st.integers(2, 500), t=st.integers(1, 5000))
def test_accumulate_mean_error_below_pi2_over_6(M, t):
    model = Gaussian(0.0, 3.0, estimator="mle")
    e = theory.expected_mean_error(model, Accumulate(M), t)
    assert e <= math.pi**2 / 6 * 3.0 / M
    assert e <= theory.expected_mean_error(model, Accumulate(M), np.inf) + 1e-12


@given(M=st.integers(2, 300), t=st.integers(0, 400), N=st.integers(2, 50),
       n=st.integers(1, 50), which=st.sampled_from(["replace", "accumulate", "mix"]))
def test_mle_conserves_second_moment_about_the_truth(M, t, N, n, which):
    """MLE: E sigma_t^2 + E(mu_t - mu_0)^2 = sigma_0^2 in every regime with a closed form."""
    model = Gaussian(1.0, 2.0, estimator="mle")
    reg = {"replace": Replace(M), "accumulate": Accumulate(M),
           "mix": Mix(N, n, fresh=True)}[which]
    total = theory.expected_variance(model, reg, t) + theory.expected_mean_error(model, reg, t)
    assert math.isclose(total, 2.0, rel_tol=1e-11)


@given(d=st.integers(1, 12), extra=st.integers(2, 60), t=st.integers(1, 200),
       noise=st.floats(0.1, 3.0))
def test_regression_accumulate_below_its_ceiling_and_replace(d, extra, t, noise):
    T = d + extra
    model = LinearRegression(np.ones(d), noise=noise, design="fixed")
    acc = theory.regression_test_error(model, Accumulate(T), t)
    rep = theory.regression_test_error(model, Replace(T), t)
    assert acc <= theory.accumulate_error_bound(model, Accumulate(T)) * (1 + 1e-12)
    assert acc <= rep * (1 + 1e-12)


@given(M=st.integers(3, 200), t=st.integers(1, 300))
def test_unbiased_variance_is_a_martingale_but_log_variance_drifts_down(M, t):
    model = Gaussian(0.0, 1.0)
    assert math.isclose(theory.expected_variance(model, Replace(M), t), 1.0)
    mean, var = theory.log_det_moments(model, Replace(M), t)
    assert mean < 0 < var
    # Jensen: E sigma_t = E sqrt(sigma_t^2) < sqrt(E sigma_t^2) = 1
    assert theory.expected_std(model, Replace(M), t) < 1.0
