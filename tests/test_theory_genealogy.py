"""Exact homozygosity under MostRecent, RandomlySampled, Accumulate, AccumulateSubsample.

The reference here is organised differently from the genealogy in
``modelcollapse.theory.categorical.genealogy`` (backward, two lineages): it runs *forward* in
time on
second moments of the fitted models, in exact rational arithmetic, straight from the
engine's plan (multinomial draws of each block; a hypergeometric subsample of the pool).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import montecarlo, theory
from modelcollapse.errors import UnsupportedRegimeError
from modelcollapse.models import Categorical, Gaussian
from modelcollapse.regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)
from modelcollapse.theory import (
    genealogy_homozygosity,
    genealogy_homozygosity_from_S0,
    most_recent_effective_size,
    most_recent_transfer_matrix,
    noncoalescence,
    stationary_homozygosity,
)

P = (Fraction(1, 2), Fraction(3, 10), Fraction(1, 5))
MODEL = Categorical([0.5, 0.3, 0.2])
S0 = sum(x * x for x in P)


# ---------------------------------------------------------------------- forward reference
def forward_window(S0, n, K, M):
    """MostRecent(n, K) (Replace: K=1) forward: G[g][h] = E<p^(g), p^(h)>.

    p^(g) = sum_j X_j / N with X_j ~ Mult(b, p^(g-j)) given the past, b = n // k,
    k = min(K, g), N = k b. E|X|^2 = b + b(b-1)|q|^2 and E<X_j, X_j'> = b^2 <q_j, q_j'>."""
    G = {(0, 0): S0}

    def g(a, b):
        return G[max(a, b), min(a, b)]

    out = [S0]
    for s in range(1, M + 1):
        k = min(K, s)
        b = n // k
        N = k * b
        for h in range(0, s):
            G[s, h] = sum(g(s - j, h) for j in range(1, k + 1)) / Fraction(k)
        tot = Fraction(0)
        for j1 in range(1, k + 1):
            for j2 in range(1, k + 1):
                if j1 == j2:
                    tot += b + b * (b - 1) * g(s - j1, s - j1)
                else:
                    tot += b * b * g(s - j1, s - j2)
        G[s, s] = tot / (N * N)
        out.append(G[s, s])
    return out


def forward_uniform(S0, n, M):
    """RandomlySampled(n) forward: p^(s) = X/n, X ~ Mult(n, q_s), q_s the mean of
    p^(0..s-1); G[s][t] = E<p^(s), p^(t)>."""
    G = {(0, 0): S0}

    def g(a, b):
        return G[max(a, b), min(a, b)]

    out = [S0]
    for s in range(1, M + 1):
        for t in range(s):
            G[s, t] = sum(g(r, t) for r in range(s)) / Fraction(s)
        q2 = sum(g(r1, r2) for r1 in range(s) for r2 in range(s)) / Fraction(s * s)
        G[s, s] = Fraction(1, n) + (1 - Fraction(1, n)) * q2
        out.append(G[s, s])
    return out


def forward_accumulate(S0, n, M):
    """Accumulate(n) forward on Q = E sum_i C_i^2 of the pool counts C (size T = m n):
    the new block X ~ Mult(n, C/T) gives E sum (C+X)^2 = Q(1 + 2n/T + n(n-1)/T^2) + n."""
    Q = n + n * (n - 1) * S0
    out = [S0, Q / (n * n)]
    for m in range(1, M):
        T = m * n
        Q = Q * (1 + Fraction(2 * n, T) + Fraction(n * (n - 1), T * T)) + n
        out.append(Q / ((m + 1) * n) ** 2)
    return out


def forward_subsample(S0, n, M):
    """AccumulateSubsample(n) forward: pool counts C (size T), F ~ hypergeometric
    subsample of n: E|F/n|^2 = (T-n)/(n(T-1)) (1 - Q/T^2) + Q/T^2 and E<C, F/n> = Q/T;
    the new block X ~ Mult(n, F/n)."""
    Q = n + n * (n - 1) * S0
    out = [S0]
    for m in range(1, M + 1):
        T = m * n
        h = Q / (T * T) if T == n else \
            Fraction(T - n, n * (T - 1)) * (1 - Q / (T * T)) + Q / (T * T)
        out.append(h)
        Q = Q + 2 * n * Q / T + n + n * (n - 1) * h
    return out


def forward(regime, S0, M):
    if isinstance(regime, Replace):
        return forward_window(S0, regime.n, 1, M)
    if isinstance(regime, MostRecent):
        return forward_window(S0, regime.n, regime.window, M)
    if isinstance(regime, RandomlySampled):
        return forward_uniform(S0, regime.n, M)
    if isinstance(regime, Accumulate):
        return forward_accumulate(S0, regime.n, M)
    return forward_subsample(S0, regime.n, M)


REGIMES = [RandomlySampled(10), Accumulate(10), AccumulateSubsample(10), MostRecent(10, 3),
           MostRecent(10, 4), Replace(10)]


# ---------------------------------------------------------------------- held-out checks
@pytest.mark.parametrize("regime", [Accumulate(10), RandomlySampled(10)])
def test_held_out_accumulate_randomly_sampled(regime):
    ms = np.arange(1, 21)
    got = genealogy_homozygosity(MODEL, regime, ms)
    ref = forward(regime, S0, 20)
    np.testing.assert_allclose(got, [float(ref[m]) for m in ms], rtol=0, atol=1e-9)
    assert genealogy_homozygosity(P, regime, 20, exact=True) == ref[20]


@pytest.mark.parametrize("regime", REGIMES, ids=lambda r: r.spec)
def test_every_regime_against_forward_moments(regime):
    ref = forward(regime, S0, 14)
    for method in ("closed", "pairs"):
        got = genealogy_homozygosity(MODEL, regime, np.arange(15), method=method)
        np.testing.assert_allclose(got, [float(x) for x in ref], rtol=0, atol=1e-12)
    for m in (0, 1, 2, 7, 14):
        assert genealogy_homozygosity(P, regime, m, exact=True) == ref[m]
        assert genealogy_homozygosity(P, regime, m, exact=True, method="pairs") == ref[m]


def test_odd_sizes_and_window_rounding():
    # n not divisible by the window: blocks of floor(n/k), N_g = k floor(n/k)
    for regime in (MostRecent(7, 3), MostRecent(5, 5), AccumulateSubsample(3),
                   RandomlySampled(2), Accumulate(1), MostRecent(1, 1)):
        ref = forward(regime, S0, 9)
        for m in range(10):
            assert genealogy_homozygosity(P, regime, m, exact=True) == ref[m], (regime, m)


def test_replace_matches_existing_theory():
    ms = np.arange(0, 60)
    np.testing.assert_allclose(genealogy_homozygosity(MODEL, Replace(13), ms),
                               theory.homozygosity(MODEL, Replace(13), ms), rtol=1e-13)
    assert genealogy_homozygosity(P, Replace(5), 9, exact=True) == \
        theory.homozygosity(P, Replace(5), 9, exact=True)


def test_accumulate_equals_randomly_sampled_and_closed_products():
    for n in (1, 2, 10, 1000):
        ms = np.arange(0, 500)
        a = noncoalescence(Accumulate(n), ms)
        r = noncoalescence(RandomlySampled(n), ms)
        np.testing.assert_array_equal(a, r)
        prod = np.cumprod(np.concatenate(([1.0], 1 - 1 / (n * np.arange(1.0, 500) ** 2))))
        np.testing.assert_allclose(a, prod, rtol=1e-12, atol=1e-300)


# ---------------------------------------------------------------------- stationary values
def test_stationary_values():
    for n in (2, 10, 100):
        x = math.pi / math.sqrt(n)
        want = 1 - (1 - MODEL.homozygosity) * math.sin(x) / x
        for reg in (RandomlySampled(n), Accumulate(n)):
            assert stationary_homozygosity(MODEL, reg) == pytest.approx(want, rel=1e-14)
        for reg in (RandomlySampled(n), Accumulate(n), AccumulateSubsample(n)):
            lim = stationary_homozygosity(MODEL, reg)
            m = 10**6
            Sm = genealogy_homozygosity(MODEL, reg, m)
            # D_m - D_inf ~ c D_inf / (n m), c = 1 (accumulate), 3 - 1/n (subsample),
            # and 1 - S_inf = (1 - S_0) D_inf
            c = 3.0 - 1.0 / n if isinstance(reg, AccumulateSubsample) else 1.0
            assert lim - Sm == pytest.approx(c * (1 - lim) / (n * m), rel=1e-4)
            assert Sm < lim < 1
    assert stationary_homozygosity(MODEL, MostRecent(10, 3)) == 1.0
    assert stationary_homozygosity(P, Replace(10), exact=True) == 1
    assert stationary_homozygosity(MODEL, AccumulateSubsample(1)) == 1.0


# ---------------------------------------------------------------------- effective size
@pytest.mark.parametrize("n,K", [(6, 2), (9, 3), (8, 4), (5, 2), (12, 1)])
def test_most_recent_effective_size_against_recursion(n, K):
    Ne = most_recent_effective_size(n, K)
    D = noncoalescence(MostRecent(n, K), np.arange(0, 4001))
    lam = D[4000] / D[3999]
    assert 1 / (1 - lam) == pytest.approx(Ne, rel=1e-9)
    # the float matrix is the exact one rounded
    T = most_recent_transfer_matrix(n, K)
    Tex = most_recent_transfer_matrix(n, K, exact=True)
    np.testing.assert_array_equal(T, np.array([[float(x) for x in r] for r in Tex]))


def test_most_recent_effective_size_asymptotics():
    assert most_recent_effective_size(37, 1) == pytest.approx(37, rel=1e-12)
    for K in (2, 3, 5):
        N = K * 2000
        Ne = most_recent_effective_size(N, K)
        assert Ne == pytest.approx(N * (K + 1) ** 2 / 4 + K * (K - 1) / 4, abs=0.01)


# ---------------------------------------------------------------------- simulation
SIM_R = 6000
SIM_M = 20


def _sim(regime, seed):
    res = montecarlo.simulate(MODEL, regime, SIM_M, replicates=SIM_R, seed=seed,
                              backend="numba", statistics=("homozygosity",))
    h = res["homozygosity"]
    assert h.shape == (SIM_R, SIM_M + 1)
    # independent replicates: the sample s.d. / sqrt(R) is the standard error of the mean
    return h.mean(axis=0), h.std(axis=0, ddof=1) / math.sqrt(SIM_R)


@pytest.mark.parametrize("regime,seed", [(RandomlySampled(10), 11), (Accumulate(10), 12),
                                         (AccumulateSubsample(10), 13),
                                         (MostRecent(10, 3), 14), (Replace(10), 15)],
                         ids=lambda x: getattr(x, "spec", str(x)))
def test_simulation_agrees(regime, seed):
    mean, se = _sim(regime, seed)
    ms = np.arange(1, SIM_M + 1)
    z = (mean[ms] - genealogy_homozygosity(MODEL, regime, ms)) / se[ms]
    assert np.all(np.abs(z) < 5), z
    if isinstance(regime, MostRecent):  # negative control: Replace's law is rejected
        zr = (mean[SIM_M] - theory.homozygosity(MODEL, Replace(10), SIM_M)) / se[SIM_M]
        assert abs(zr) > 5
    if isinstance(regime, AccumulateSubsample):  # and so is Accumulate's
        za = (mean[SIM_M] - genealogy_homozygosity(MODEL, Accumulate(10), SIM_M)) / se[SIM_M]
        assert abs(za) > 5


# ---------------------------------------------------------------------- arguments
def test_array_shapes_and_types():
    out = genealogy_homozygosity(MODEL, "accumulate:10", [[1, 2], [3, 4]])
    assert out.shape == (2, 2) and out.dtype == np.float64
    assert isinstance(genealogy_homozygosity(MODEL, MostRecent(10, 2), 3), float)
    assert isinstance(genealogy_homozygosity(P, Accumulate(4), 3, exact=True), Fraction)
    assert genealogy_homozygosity(MODEL, Accumulate(10), 0) == pytest.approx(
        MODEL.homozygosity, rel=1e-15)
    assert genealogy_homozygosity_from_S0(Fraction(1, 3), Replace(3), 2) == \
        1 - Fraction(2, 3) * Fraction(2, 3) ** 2


def test_bad_arguments():
    with pytest.raises(ValueError, match="m must be >= 0"):
        genealogy_homozygosity(MODEL, Accumulate(10), -1)
    with pytest.raises(TypeError, match="m must be"):
        genealogy_homozygosity(MODEL, Accumulate(10), 2.0)
    with pytest.raises(TypeError, match="m must be"):
        genealogy_homozygosity(MODEL, Accumulate(10), "3")
    with pytest.raises(TypeError, match="m must be"):
        genealogy_homozygosity(MODEL, Accumulate(10), True)
    with pytest.raises(TypeError, match="model must be a Categorical"):
        genealogy_homozygosity(Gaussian(0.0, 1.0), Accumulate(10), 3)
    with pytest.raises(TypeError, match="regime must be"):
        genealogy_homozygosity(MODEL, 10, 3)
    with pytest.raises(ValueError, match="regime"):
        genealogy_homozygosity(MODEL, "nonsense:3", 3)
    with pytest.raises(TypeError, match="exact must be"):
        genealogy_homozygosity(MODEL, Accumulate(10), 3, exact=1)
    with pytest.raises(ValueError, match="exact=True takes a scalar m"):
        genealogy_homozygosity(MODEL, Accumulate(10), [1, 2], exact=True)
    with pytest.raises(ValueError, match="method must be one of"):
        genealogy_homozygosity(MODEL, Accumulate(10), 3, method="magic")
    with pytest.raises(TypeError, match="method must be a string"):
        genealogy_homozygosity(MODEL, Accumulate(10), 3, method=3)
    with pytest.raises(ValueError, match="m must be <="):
        genealogy_homozygosity(MODEL, Accumulate(10), 10**4, method="pairs")
    with pytest.raises(ValueError, match="S0 must be in"):
        genealogy_homozygosity_from_S0(1.5, Accumulate(10), 3)
    with pytest.raises(TypeError, match="S0 must be"):
        genealogy_homozygosity_from_S0("0.3", Accumulate(10), 3)
    with pytest.raises(ValueError, match="exact=True: the limit is transcendental"):
        stationary_homozygosity(P, Accumulate(10), exact=True)
    with pytest.raises(ValueError, match="window"):
        most_recent_effective_size(3, 4)
    with pytest.raises(TypeError, match="n must be an integer"):
        most_recent_effective_size(3.0, 1)
    with pytest.raises(UnsupportedRegimeError):
        genealogy_homozygosity(MODEL, Mix(10, 10), 3)
    with pytest.raises(UnsupportedRegimeError):
        genealogy_homozygosity(MODEL, RandomlySampled(10, temperature=0.5), 3)
    assert issubclass(UnsupportedRegimeError, NotImplementedError)
