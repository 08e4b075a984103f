"""The n-gram theory (modelcollapse.theory.ngram) against independent computations:
brute-force sums of autocorrelations, a direct sampler written here, the exact dynamic
programme of one row against the first-order bias, and the simulator; each statistical
check with a negative control that must fail."""

from __future__ import annotations

import numpy as np
import pytest

from modelcollapse import NGram, Replace, theory
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from modelcollapse.montecarlo import simulate

EXAMPLE = NGram([[0.9, 0.1], [0.3, 0.7]])


def _brute_sigma2(model, K=4000):
    """sum_{k} Cov(g_x(c_0), g_x(c_k)) by explicit matrix powers (no fundamental matrix)."""
    Q = model.context_transitions().toarray()
    pi = model.stationary_contexts()
    V = model.vocab_size
    G = np.zeros((model.contexts, V))
    G[np.arange(model.contexts), np.arange(model.contexts) % V] = 1
    u = pi @ G
    out = u * (1 - u)
    Qk = np.eye(model.contexts)
    for _ in range(K):
        Qk = Qk @ Q
        out = out + 2 * (((G * pi[:, None]).T @ Qk @ G).diagonal() - u**2)
    return out


@pytest.mark.parametrize("model", [EXAMPLE, NGram.random(3, 1, seed=3),
                                   NGram.random(2, 3, seed=1)])
def test_autocorrelation_time_against_brute_force_sums(model):
    t = theory.ngram_autocorrelation_time(model)
    np.testing.assert_allclose(t.sigma2, _brute_sigma2(model), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(t.per_token, t.sigma2 / (t.unigram * (1 - t.unigram)))


def test_two_state_closed_form():
    a, b = 0.1, 0.3  # P(0 -> 1), P(1 -> 0); eigenvalue 1 - a - b
    lam = 1 - a - b
    t = theory.ngram_autocorrelation_time(NGram([[1 - a, a], [b, 1 - b]]))
    np.testing.assert_allclose(t.per_token, (1 + lam) / (1 - lam), rtol=1e-12)


def _direct_frequencies(model, n, L, R, seed):
    """Token frequencies of R corpora of n tokens in sequences of L, by drawing every
    token from its row (no shared code with the package's samplers)."""
    rng = np.random.default_rng(seed)
    P, V, C = model.table, model.vocab_size, model.contexts
    mu = model.start_law()
    cum = np.cumsum(P, axis=1)
    counts = np.zeros((R, V))
    made = 0
    while made < n:
        take = min(L, n - made)
        ctx = rng.choice(C, size=R, p=mu)
        for _ in range(take):
            x = (rng.random(R)[:, None] > cum[ctx]).sum(axis=1).clip(0, V - 1)
            counts[np.arange(R), x] += 1
            ctx = (ctx * V + x) % C
        made += take
    return counts / n


@pytest.mark.parametrize("model,n,L", [(EXAMPLE, 60, None), (NGram.random(3, 2, seed=5),
                                                            50, 7)])
def test_unigram_moments_two_exact_methods_and_a_direct_sampler(model, n, L):
    a = theory.ngram_unigram_moments(model, n, L, method="stationary")
    b = theory.ngram_unigram_moments(model, n, L, method="recursion")
    np.testing.assert_allclose(a.cov, b.cov, atol=1e-15)
    np.testing.assert_allclose(a.mean, b.mean, atol=1e-15)
    f = _direct_frequencies(model, n, L or n, 40_000, seed=2)
    d = ((f - model.stationary()) ** 2).sum(axis=1)
    want = np.trace(a.cov)
    assert abs(d.mean() - want) / (d.std() / np.sqrt(d.size)) < 5
    # negative control: n independent tokens (tau = 1) are rejected
    u = model.stationary()
    iid = (u * (1 - u)).sum() / n
    assert abs(d.mean() - iid) / (d.std() / np.sqrt(d.size)) > 5


def test_fixed_start_moments_against_the_direct_sampler():
    model = NGram(EXAMPLE.table, start=1, length=5)
    mom = theory.ngram_unigram_moments(model, 30, 5)
    assert mom.method == "recursion"
    f = _direct_frequencies(model, 30, 5, 40_000, seed=4)
    for x in range(2):
        z = (f[:, x].mean() - mom.mean[x]) / np.sqrt(mom.cov[x, x] / f.shape[0])
        assert abs(z) < 5
    z_stat = (f[:, 0].mean() - model.stationary()[0]) / np.sqrt(mom.cov[0, 0] / f.shape[0])
    assert abs(z_stat) > 5  # control: a fixed start is not stationary


def test_first_order_bias_against_the_exact_row_law():
    errs = {}
    for n in (100, 400):
        exact = theory.ngram_row_expectations(EXAMPLE, 0, n).mean - EXAMPLE.table[0]
        delta = theory.ngram_transition_bias(EXAMPLE, n)[0]
        errs[n] = np.abs(exact - delta).max()
        assert np.abs(exact - delta).max() < 0.1 * np.abs(exact).max()
    assert errs[400] * 400**2 < 2 * errs[100] * 100**2  # the error is O(1/n^2)
    np.testing.assert_allclose(theory.ngram_transition_bias(EXAMPLE, 10**6),
                               theory.ngram_transition_bias(EXAMPLE, 10**6,
                                                            asymptotic=True), rtol=1e-4)


@pytest.mark.slow  # the same check runs in verify (ngram.context-chains)
def test_homozygosity_goes_down_and_the_simulator_agrees():
    """The issue's example: rows (0.9, 0.1), (0.3, 0.7), one 200-token text."""
    n = 200
    model = NGram(EXAMPLE.table, start="stationary")
    rows = [theory.ngram_row_expectations(model, c, n) for c in range(2)]
    assert rows[0].homozygosity < 0.82
    pi = model.stationary_contexts()
    exact = sum(pi[c] * rows[c].homozygosity for c in range(2))
    res = simulate(model, Replace(n), 1, replicates=40_000, seed=6,
                   statistics=("homozygosity",))
    h = res["homozygosity"][:, 1]
    assert abs(h.mean() - exact) / (h.std() / np.sqrt(h.size)) < 5
    # negative control: independent Wright-Fisher steps of N_c = n pi_c draws
    hc = (model.table**2).sum(axis=1)
    wf = sum(pi[c] * (hc[c] + (1 - hc[c]) / (n * pi[c])) for c in range(2))
    assert abs(h.mean() - wf) / (h.std() / np.sqrt(h.size)) > 5


def test_drift_factor_against_the_simulated_l1_distance():
    model = NGram.random(3, 1, seed=8, length=1000)
    n = 100_000
    f = theory.ngram_drift_factor(model)
    pi = model.stationary_contexts()
    P = model.table
    pred = (np.sqrt(2 / (np.pi * n)) * (np.sqrt(pi) * np.sqrt(P * (1 - P)).sum(axis=1))
            ).sum()
    res = simulate(model, Replace(n), 1, replicates=200, seed=1, statistics=("l1_real",),
                   backend="numpy")
    d = res["l1_real"][:, 1]
    assert abs(d.mean() / pred - 1) < 0.03  # the normal approximation, n pi_c > 10^4
    u = model.stationary()
    single = np.sqrt(2 / (np.pi * n)) * np.sqrt(u * (1 - u)).sum()
    np.testing.assert_allclose(pred / single, f.l1, rtol=1e-12)
    assert abs(d.mean() / single - 1) > 0.3  # control: one categorical drifts less
    hc = (P**2).sum(axis=1)
    np.testing.assert_allclose(f.l2, (1 - hc).sum() / (1 - (u**2).sum()))


def test_per_context_homozygosity_under_real_data():
    from modelcollapse import Categorical, Mix

    model = NGram.random(3, 1, seed=4, length=50)
    reg = Mix(300, 300)
    pred = theory.ngram_homozygosity(model, "mix:300:300", 6)
    assert not pred.exact
    res = simulate(model, reg, 6, replicates=1000, seed=1, statistics=("homozygosity",),
                   backend="numpy")
    h = res["homozygosity"][:, 6]
    assert abs(h.mean() - pred) / (h.std() / np.sqrt(h.size)) < 5
    pi = model.stationary_contexts()
    whole = sum(pi[c] * theory.homozygosity(Categorical(model.table[c]), reg, 6)
                for c in range(3))
    assert abs(h.mean() - whole) / (h.std() / np.sqrt(h.size)) > 5  # control
    # the plateau: generations far apart agree, below the real rows' collapse value 1
    late = theory.ngram_homozygosity(model, reg, np.array([40, 80]))
    assert abs(late[0] - late[1]) < 1e-9 and late[0] < 0.5


def test_unigram_drift_generation_one_is_the_exact_moment():
    model = NGram.random(3, 1, seed=2)
    est = theory.ngram_unigram_drift(model, "replace:500", 1)
    mom = theory.ngram_unigram_moments(model, 500)
    assert est.exact and est == pytest.approx(np.trace(mom.cov), rel=1e-12)
    later = theory.ngram_unigram_drift(model, Replace(500), 4)
    assert not later.exact and later.method == "effective size n/tau"
    np.testing.assert_allclose(theory.ngram_unigram_drift(model, "replace:500", [0, 1]),
                               [0.0, float(est)])


@pytest.mark.parametrize("call,error,match", [
    (lambda: theory.ngram_autocorrelation_time("p:0.5,0.5"), WrongTypeError, "NGram"),
    (lambda: theory.ngram_autocorrelation_time(NGram.random(9, 4, seed=0)), TooLargeError,
     "6561 contexts"),
    (lambda: theory.ngram_autocorrelation_time(NGram([[1.0, 0.0], [0.0, 1.0]])),
     ValueError, "reducible"),
    (lambda: theory.ngram_unigram_drift(EXAMPLE, "mix:5:5", 1), UnsupportedRegimeError,
     "Replace"),
    (lambda: theory.ngram_unigram_drift(NGram(EXAMPLE.table, length=5), "replace:50", 3),
     UnsupportedRegimeError, "length=None"),
    (lambda: theory.ngram_unigram_moments(EXAMPLE, 0), ValueError, "n must be >= 1"),
    (lambda: theory.ngram_unigram_moments(EXAMPLE, 10, method="fast"), ValueError,
     "method must be"),
    (lambda: theory.ngram_row_expectations(NGram.random(3, 1, seed=0), 0, 1000),
     TooLargeError, "states"),
    (lambda: theory.ngram_row_expectations(NGram(EXAMPLE.table, unseen="backoff"), 0, 9),
     UnsupportedRegimeError, "keep"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()
