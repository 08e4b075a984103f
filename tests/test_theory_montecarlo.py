"""Theory against seeded simulation (plain NumPy multinomial loop), |z| < 5 with the
exact variance, each with a negative control that must fail."""

import numpy as np
import pytest

from modelcollapse import Categorical, Mix, Replace, montecarlo, theory
from modelcollapse.theory.categorical.replace_chain import collapse_moments as _collapse_moments


def z(estimate, expected, se):
    return (estimate - expected) / se


def test_collapse_time_mean_and_law():
    model = Categorical.zipf(6, 1.0)
    n, R = 25, 6000
    T, winner = montecarlo.collapse_times(model, Replace(n), replicates=R, seed=123)
    mean, var = _collapse_moments(model, n, "coalescent")
    assert abs(z(T.mean(), mean, np.sqrt(var / R))) < 5
    # negative control: the mean for a different n is rejected
    wrong, _ = _collapse_moments(model, 32, "coalescent")
    assert abs(z(T.mean(), wrong, np.sqrt(var / R))) > 5
    law = theory.collapse_time(model, Replace(n))
    for m in (10, 30, 80):
        c = law.cdf(m)
        assert abs(z(np.mean(T <= m), c, np.sqrt(c * (1 - c) / R))) < 5
    # Proposition 1: collapse onto token i with probability p_i
    for i, pi in enumerate(model.p):
        assert abs(z(np.mean(winner == i), pi, np.sqrt(pi * (1 - pi) / R))) < 5


def test_token_loss_and_surviving_tokens():
    model = Categorical.geometric(8, 0.6)
    n, R, M = 40, 5000, 30
    paths = montecarlo.categorical_paths(model, Replace(n), M, replicates=R, seed=5)
    alive = paths > 0
    for token in (0, 3, 7):
        law = theory.token_loss(model, Replace(n), token)
        for m in (1, 5, 30):
            c = law.cdf(m)
            est = np.mean(~alive[:, m, token])
            assert abs(z(est, c, np.sqrt(c * (1 - c) / R))) < 5
    ms = np.array([1, 10, 30])
    expect = theory.expected_surviving_tokens(model, Replace(n), ms)
    count = alive[:, ms, :].sum(axis=2)
    # the support size lies in [0, s], so its variance is at most E(s - E)... use the
    # exact bound Var <= (s - mu) * mu for a variable in [0, s]
    s = model.size
    for j in range(ms.size):
        se = np.sqrt((s - expect[j]) * expect[j] / R)
        assert abs(z(count[:, j].mean(), expect[j], se)) < 5
    # negative control: the generation-1 value is far from generation 30
    assert abs(z(count[:, 2].mean(), expect[0], np.sqrt((s - expect[0]) * expect[0] / R))) > 5


def test_forgetting_time_median_by_simulation():
    # count chain X' ~ Bin(n, X/n) from X = c, conditioned on loss
    count, n, R = 4, 60, 20000
    f = theory.forgetting_time(count, n)
    rng = np.random.default_rng(99)
    x = np.full(R, count)
    t = np.zeros(R, dtype=int)
    alive = np.ones(R, bool)
    step = 0
    while np.any(alive & (x > 0) & (x < n)):
        step += 1
        live = alive & (x > 0) & (x < n)
        x[live] = rng.binomial(n, x[live] / n)
        t[live & (x == 0)] = step
    lost = x == 0
    p_loss = f.p_loss
    assert abs(z(lost.mean(), p_loss, np.sqrt(p_loss * (1 - p_loss) / R))) < 5
    tl = t[lost]
    for q in (5, 10, 40):
        c = f.cdf(q)
        assert abs(z(np.mean(tl <= q), c, np.sqrt(c * (1 - c) / tl.size))) < 5
    wrong = theory.forgetting_time(count + 3, n).cdf(10)
    assert abs(z(np.mean(tl <= 10), wrong, np.sqrt(wrong * (1 - wrong) / tl.size))) > 5


def test_mix_homozygosity_by_simulation_and_printed_erratum():
    model = Categorical([0.6, 0.3, 0.1])
    regime = Mix(real=4, synthetic=12)
    R = 50_000
    paths = montecarlo.categorical_paths(model, regime, 4, replicates=R, seed=77)
    sq = (paths**2).sum(axis=2)
    for m in (1, 2, 4):
        S = theory.homozygosity(model, regime, m)
        assert abs(z(sq[:, m].mean(), S, np.sqrt(S * (1 - S) / R))) < 5
    # negative control: Replace's S_2 with the same n is rejected
    S_rep = theory.homozygosity(model, Replace(12), 2)
    assert abs(z(sq[:, 2].mean(), S_rep, np.sqrt(S_rep * (1 - S_rep) / R))) > 5


@pytest.mark.slow
def test_collapse_time_large_simulation():
    model = Categorical.uniform(50)
    n, R = 200, 4000
    T, _ = montecarlo.collapse_times(model, Replace(n), replicates=R, seed=2024)
    mean, var = _collapse_moments(model, n, "coalescent")
    assert abs(z(T.mean(), mean, np.sqrt(var / R))) < 5
