"""Exact theory of the overlapping-generation regimes (the window and pool chains of
modelcollapse.theory.categorical)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import theory
from modelcollapse import theory as O
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError
from modelcollapse.models import Categorical, Gaussian
from modelcollapse.montecarlo import simulate
from modelcollapse.regimes import (
    Accumulate,
    AccumulateSubsample,
    MostRecent,
    RandomlySampled,
    Replace,
)

BAR = Categorical([0.6, 0.4])
THREE = Categorical([0.5, 0.3, 0.2])


# ------------------------------------------------------------------ brute force
def _binom(k: int, q: Fraction) -> dict[int, Fraction]:
    return {j: math.comb(k, j) * q**j * (1 - q) ** (k - j) for j in range(k + 1)}


def _brute_most_recent_4_2(p0: Fraction, M: int):
    """MostRecent(4, 2), two tokens, by plain enumeration in Fractions. ``x`` counts
    token 0. Generation 1: Bin(4, p0); generation 2: Bin(2, p0) + Bin(2, x1/4);
    generation g >= 3: Bin(2, x_{g-2}/4) + Bin(2, x_{g-1}/4). Returns, for g = 1..M,
    P(T <= g) (first Dirac fit), P(Dirac at g), E support, E sum p^2."""
    def add(a, b):
        out: dict[int, Fraction] = {}
        for i, u in a.items():
            for j, v in b.items():
                out[i + j] = out.get(i + j, Fraction(0)) + u * v
        return out

    law = {(None, x): w for x, w in _binom(4, p0).items()}  # (x_{g-1}, x_g)
    first = dict(law)  # same chain, killed at the first Dirac fit
    out = []
    for g in range(1, M + 1):
        if g > 1:
            new, newk = {}, {}
            for src, dst in ((law, new), (first, newk)):
                for (a, x), w in src.items():
                    old = _binom(2, p0) if a is None else _binom(2, Fraction(a, 4))
                    for y, v in add(old, _binom(2, Fraction(x, 4))).items():
                        dst[(x, y)] = dst.get((x, y), Fraction(0)) + w * v
            law, first = new, newk
        first = {k: w for k, w in first.items() if k[1] not in (0, 4)}
        dirac = sum(w for (_, x), w in law.items() if x in (0, 4))
        sup = sum(w * (1 if x in (0, 4) else 2) for (_, x), w in law.items())
        hom = sum(w * (Fraction(x, 4) ** 2 + Fraction(4 - x, 4) ** 2) for (_, x), w in
                  law.items())
        out.append((1 - sum(first.values()), dirac, sup, hom))
    return out


def _brute_moments_4_2(p0: float) -> tuple[float, float]:
    """E[T], Var T of MostRecent(4, 2), two tokens, from the dense 25-state window
    chain written out here (numpy), generation 2 handled by hand."""
    from scipy import stats

    def bsum(q1, q2):  # law of Bin(2, q1) + Bin(2, q2) on 0..4
        return np.convolve(stats.binom.pmf(range(3), 2, q1), stats.binom.pmf(range(3), 2, q2))

    S = [(a, x) for a in range(5) for x in range(5)]
    idx = {s: i for i, s in enumerate(S)}
    P = np.zeros((25, 25))
    for (a, x), i in idx.items():
        for y, v in enumerate(bsum(a / 4, x / 4)):
            P[i, idx[(x, y)]] += v
    alive = [i for (a, x), i in idx.items() if x not in (0, 4)]
    Q = P[np.ix_(alive, alive)]
    N = np.linalg.inv(np.eye(len(alive)) - Q)
    t = N @ np.ones(len(alive))
    t2 = 2 * N @ t - t  # E[(remaining)^2]
    # generation 2's window from generation 1 (alive x1 in 1..3)
    q = np.zeros(25)
    g1 = stats.binom.pmf(range(5), 4, p0)
    for x1 in range(1, 4):
        for y, v in enumerate(bsum(p0, x1 / 4)):
            q[idx[(x1, y)]] += g1[x1] * v
    qa = q[alive]
    # T = 1 (Dirac at 1), T = 2 (killed at 2), or T = 2 + R with R ~ remaining
    p1 = g1[0] + g1[4]
    p2 = q.sum() - qa.sum()
    mean = p1 + 2 * p2 + qa @ (2 + t)
    second = p1 + 4 * p2 + qa @ (4 + 4 * t + t2)
    return mean, second - mean**2


def test_most_recent_4_2_against_fraction_enumeration():
    brute = _brute_most_recent_4_2(Fraction(3, 5), 8)
    reg = MostRecent(4, 2)
    law = O.overlapping_collapse_time(BAR, reg)
    ms = np.arange(1, 9)
    np.testing.assert_allclose(law.cdf(ms), [float(b[0]) for b in brute], rtol=1e-13)
    np.testing.assert_allclose(O.dirac_probability(BAR, reg, ms), [float(b[1]) for b in brute],
                               rtol=1e-13)
    np.testing.assert_allclose(O.overlapping_surviving_tokens(BAR, reg, ms),
                               [float(b[2]) for b in brute], rtol=1e-13)
    np.testing.assert_allclose(O.overlapping_homozygosity(BAR, reg, ms),
                               [float(b[3]) for b in brute], rtol=1e-13)
    # the genealogy's exact rational homozygosity, to the last bit
    for g in (1, 2, 5, 8):
        ex = theory.homozygosity([Fraction(3, 5), Fraction(2, 5)], reg, g, exact=True)
        assert ex == brute[g - 1][3]


def test_most_recent_4_2_moments_against_dense_chain():
    mean, var = O.overlapping_collapse_moments(BAR, MostRecent(4, 2))
    bm, bv = _brute_moments_4_2(0.6)
    assert mean == pytest.approx(bm, rel=1e-12)
    assert var == pytest.approx(bv, rel=1e-11)
    law = O.overlapping_collapse_time(BAR, MostRecent(4, 2))
    assert law.mean() == pytest.approx(mean, rel=1e-11)
    assert law.var() == pytest.approx(var, rel=1e-9)
    est = O.overlapping_expected_collapse_time(BAR, MostRecent(4, 2))
    assert est.method == "window-chain" and est.exact


def test_solve_and_neumann_agree(monkeypatch):
    reg = MostRecent(12, 3)
    lu = O.overlapping_collapse_moments(BAR, reg)
    from modelcollapse.theory.categorical import window_chain

    monkeypatch.setattr(window_chain, "SOLVE_MAX_STATES", 0)
    neu = O.overlapping_collapse_moments(BAR, reg)
    np.testing.assert_allclose(neu, lu, rtol=1e-11)
    assert O.overlapping_state_count(BAR, reg) == 1099


# ------------------------------------------------------------------ Replace = window 1
def test_replace_is_window_one():
    reg = Replace(10)
    law = O.overlapping_collapse_time(THREE, reg)
    ref = theory.collapse_time(THREE, reg)
    ms = np.arange(0, 60, 7)
    np.testing.assert_allclose(law.cdf(ms), ref.cdf(ms), rtol=1e-10, atol=1e-15)
    assert O.overlapping_expected_collapse_time(THREE, reg) == pytest.approx(
        float(theory.expected_collapse_time(THREE, reg)), rel=1e-11)
    np.testing.assert_allclose(O.overlapping_surviving_tokens(THREE, reg, ms),
                               theory.expected_surviving_tokens(THREE, reg, ms), rtol=1e-11)
    np.testing.assert_allclose(O.dirac_probability(THREE, reg, ms), law.cdf(ms), atol=1e-14)
    # K = 1: absorption is collapse
    assert O.overlapping_absorption_moments(THREE, reg)[0] == pytest.approx(
        float(theory.expected_collapse_time(THREE, reg)), rel=1e-11)
    tl = O.overlapping_token_loss(THREE, reg, 2)
    ref_tl = theory.token_loss(THREE, reg, 2)
    np.testing.assert_allclose(tl.cdf(ms), ref_tl.cdf(ms), rtol=1e-10, atol=1e-15)


# ------------------------------------------------------------------ genealogy cross-check
@pytest.mark.parametrize("reg", [MostRecent(6, 2), MostRecent(7, 3), MostRecent(8, 2),
                                 RandomlySampled(4), Accumulate(4), AccumulateSubsample(4)])
@pytest.mark.parametrize("model", [BAR, THREE])
def test_homozygosity_equals_genealogy(model, reg):
    ms = np.array([0, 1, 2, 3, 4, 7, 12])
    np.testing.assert_allclose(O.overlapping_homozygosity(model, reg, ms),
                               theory.homozygosity(model, reg, ms), rtol=0, atol=1e-12)


# ------------------------------------------------------------------ structure
def test_most_recent_structure():
    reg = MostRecent(8, 2)
    T = O.overlapping_collapse_time(THREE, reg)
    A = O.overlapping_absorption_time(THREE, reg)
    ms = np.arange(0, 200)
    assert np.all(A.cdf(ms) <= T.cdf(ms) + 1e-15)  # A >= T
    assert A.cdf(1) == 0.0 and A.cdf(2) > 0  # A >= K
    assert O.overlapping_absorption_moments(THREE, reg)[0] > O.overlapping_collapse_moments(
        THREE, reg)[0]
    # a Dirac fit is not absorbing for K > 1: P(Dirac at m) < P(T <= m)
    d = O.dirac_probability(THREE, reg, ms[2:50])
    assert np.all(d < T.cdf(ms[2:50]))
    for i, p in enumerate(THREE.p):
        gone = O.overlapping_token_loss(THREE, reg, i, permanent=True)
        first = O.overlapping_token_loss(THREE, reg, i)
        assert gone.defect == pytest.approx(p, abs=1e-12)  # fixation probability
        assert first.defect < p
        assert np.all(first.cdf(ms) >= gone.cdf(ms) - 1e-15)  # first zero <= gone
    # a Dirac p^(0): T = 1 (its first fit; the theory counts fitted models, as under
    # Replace), A = K; the simulators record 0 (they count from the real model)
    dirac = Categorical([1.0, 0.0])
    law = O.overlapping_collapse_time(dirac, reg)
    assert (law.cdf(0), law.cdf(1)) == (0.0, 1.0)
    assert law.cdf(1) == theory.collapse_time(dirac, Replace(4)).cdf(1) == 1.0
    assert O.overlapping_absorption_moments(dirac, reg) == (reg.window, 0.0)
    assert O.dirac_probability(dirac, reg, 5) == 1.0


def test_accumulate_closed_forms():
    n = 4
    reg = Accumulate(n)
    ms = np.arange(1, 8)
    p = THREE.p
    np.testing.assert_allclose(O.dirac_probability(THREE, reg, ms), np.sum(p**n), rtol=1e-13)
    np.testing.assert_allclose(O.overlapping_surviving_tokens(THREE, reg, ms),
                               np.sum(1 - (1 - p) ** n), rtol=1e-13)
    tl = O.overlapping_token_loss(THREE, reg, 1)
    assert tl.cdf(1) == pytest.approx(0.7**n) and tl.defect == pytest.approx(1 - 0.7**n)


# ------------------------------------------------------------------ simulation
def _z(sample, mean, var):
    return (sample.mean() - mean) / math.sqrt(var / sample.size)


def test_most_recent_against_numba_simulation():
    reg = MostRecent(6, 2)
    R, G = 10_000, 200
    res = simulate(BAR, reg, G, replicates=R, seed=20241, backend="numba", tokens=[1],
                   statistics=("support_size", "token_prob"))
    ct = res.collapse_time
    T = O.overlapping_collapse_time(BAR, reg)
    assert T.sf(G) < 1e-6 and np.all(ct >= 1)
    mean, var = O.overlapping_collapse_moments(BAR, reg)
    assert abs(_z(ct.astype(float), mean, var)) < 5
    # negative control: the Replace(6) law is rejected on MostRecent(6, 2) data
    rm, rv = theory.collapse_time(BAR, Replace(6)).mean(), theory.collapse_time(
        BAR, Replace(6)).var()
    assert abs(_z(ct.astype(float), rm, rv)) > 5
    # token loss (first zero; may return) and its defect
    lt = res.token_loss_time[:, 0]
    L = O.overlapping_token_loss(BAR, reg, 1)
    frac = (lt >= 0).mean()
    q = L.cdf(G)
    assert abs(frac - q) / math.sqrt(q * (1 - q) / R) < 5
    # support size at a few generations (binary for two tokens: exact variance)
    ss = res.statistic("support_size")
    for g in (1, 3, 10, 40):
        e = O.overlapping_surviving_tokens(BAR, reg, g)
        v = (e - 1) * (2 - e)
        assert abs(ss[:, g].mean() - e) / math.sqrt(v / R) < 5
    # absorption: K identical Diracs, and nothing changes afterwards
    x = res.statistic("token_prob")[:, :, 0]  # p_1^(g), g = 0..G
    dirac = (x == 0) | (x == 1)
    same = dirac[:, 1:] & dirac[:, :-1] & (x[:, 1:] == x[:, :-1])
    A = np.where(same.any(axis=1), same.argmax(axis=1) + 1, -1)
    assert np.all(A >= 2)
    rows = np.arange(R)
    final = x[rows, A]
    assert np.all(x == np.where(np.arange(G + 1)[None, :] >= A[:, None], final[:, None], x))
    am, av = O.overlapping_absorption_moments(BAR, reg)
    assert O.overlapping_absorption_time(BAR, reg).sf(G) < 1e-5
    assert abs(_z(A.astype(float), am, av)) < 5
    # fixation: the absorbing token is token 1 with probability p_1
    f1 = (final == 1).mean()
    assert abs(f1 - 0.4) / math.sqrt(0.24 / R) < 5


@pytest.mark.parametrize("reg", [RandomlySampled(5), AccumulateSubsample(4)])
def test_non_absorbing_regimes_against_simulation(reg):
    R, G = 10_000, 12
    res = simulate(THREE, reg, G, replicates=R, seed=7, backend="numba",
                   statistics=("support_size",))
    ss = res.statistic("support_size")
    for g in (1, 2, 5, 12):
        d = O.dirac_probability(THREE, reg, g)
        assert abs((ss[:, g] == 1).mean() - d) / math.sqrt(d * (1 - d) / R) < 5
        e = O.overlapping_surviving_tokens(THREE, reg, g)
        assert abs(ss[:, g].mean() - e) / (ss[:, g].std() / math.sqrt(R)) < 5
    # a Dirac fit is left again: P(Dirac) stays far below 1
    assert O.dirac_probability(THREE, reg, G) < 0.5


# ------------------------------------------------------------------ validation
def test_validation():
    with pytest.raises(TypeError):
        O.dirac_probability(Gaussian([0.0], [[1.0]]), MostRecent(4, 2), 3)
    with pytest.raises(TypeError):
        O.dirac_probability(BAR, 3, 3)
    with pytest.raises(TypeError):
        O.dirac_probability(BAR, MostRecent(4, 2), 1.5)
    with pytest.raises(ValueError, match="m must be"):
        O.dirac_probability(BAR, MostRecent(4, 2), -1)
    with pytest.raises(ValueError, match="tol"):
        O.overlapping_collapse_time(BAR, MostRecent(4, 2), tol=2.0)
    with pytest.raises(TypeError, match="permanent"):
        O.overlapping_token_loss(BAR, MostRecent(4, 2), 0, permanent=1)
    with pytest.raises(ValueError, match="token"):
        O.overlapping_token_loss(BAR, MostRecent(4, 2), 5)
    with pytest.raises(UnsupportedRegimeError, match="not absorbing"):
        O.overlapping_collapse_time(BAR, RandomlySampled(4))
    with pytest.raises(UnsupportedRegimeError):
        O.overlapping_token_loss(BAR, AccumulateSubsample(4), 0)
    with pytest.raises(TooLargeError):
        O.overlapping_collapse_time(THREE, MostRecent(300, 3))
    with pytest.raises(TooLargeError):
        O.dirac_probability(THREE, RandomlySampled(50), 200)
    with pytest.raises(TooLargeError):
        O.dirac_probability(Categorical.uniform(6), MostRecent(4, 2), 2)
    # spec strings are accepted
    assert O.dirac_probability(BAR, "most-recent:4:2", 1) == pytest.approx(0.6**4 + 0.4**4)
