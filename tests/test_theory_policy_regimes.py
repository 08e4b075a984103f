"""Sampling policies under every regime: the exact chains of
modelcollapse.theory.categorical (window and pool chains) against a plain enumeration
written from the regimes' definitions (no lumping, no shared code; Fractions where the
policy is rational), against the partition chain of
modelcollapse.theory.categorical.policy_chain, and against the Numba simulator."""

from __future__ import annotations

import dataclasses
import math
from fractions import Fraction
from itertools import product

import numpy as np
import pytest
from _oracles import policy_oracle

from modelcollapse import theory
from modelcollapse import theory as O
from modelcollapse import theory as P
from modelcollapse.errors import UnsupportedRegimeError
from modelcollapse.models import Categorical
from modelcollapse.montecarlo import simulate
from modelcollapse.regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)

P3 = (Fraction(1, 2), Fraction(1, 3), Fraction(1, 6))
THREE = Categorical([float(x) for x in P3])


# ------------------------------------------------------------------ plain enumeration
def _mult(k, q):
    """{count tuple: probability} of Mult(k, q)."""
    out = {}
    for c in product(range(k + 1), repeat=len(q)):
        if sum(c) != k:
            continue
        pr = Fraction(math.factorial(k), math.prod(math.factorial(ci) for ci in c))
        for ci, qi in zip(c, q, strict=True):
            pr = pr * qi**ci
        if pr:
            out[c] = out.get(c, 0) + pr
    return out


def _hyper(pool, n):
    """{count tuple: probability} of n draws without replacement from ``pool``."""
    tot = sum(pool)
    out = {}
    for c in product(*(range(min(x, n) + 1) for x in pool)):
        if sum(c) == n:
            out[c] = Fraction(math.prod(math.comb(x, ci) for x, ci in zip(pool, c, strict=True)),
                              math.comb(tot, n))
    return out


def _add(a, b):
    return tuple(x + y for x, y in zip(a, b, strict=True))


def _conv(laws):
    out = {(0,) * 3: 1}
    for law in laws:
        new = {}
        for c, pc in out.items():
            for d, pd in law.items():
                k = _add(c, d)
                new[k] = new.get(k, 0) + pc * pd
        out = new
    return out


def _features(law):
    """(P(Dirac), E support, E sum p^2) of a law of fits (count tuples)."""
    d = s = h = 0
    for c, pr in law.items():
        tot = sum(c)
        d += pr * (sum(1 for x in c if x) == 1)
        s += pr * sum(1 for x in c if x)
        h += pr * sum(Fraction(x * x, tot * tot) for x in c)
    return d, s, h


def enumerate_regime(regime, p, M, pol):
    """Generations 1..M of ``regime`` by forward enumeration of its raw state:
    (P(Dirac), E support, E sum p^2) per generation."""
    n = regime.synthetic if isinstance(regime, Mix) else regime.n

    def draw(fit):  # a fitted model is sampled through the policy
        tot = sum(fit)
        return pol([Fraction(x, tot) for x in fit])

    rows = []
    if isinstance(regime, (Replace, MostRecent)):
        K = regime.window if isinstance(regime, MostRecent) else 1
        states = {(): 1}  # the last min(K, g-1) fits, oldest first
        for g in range(1, M + 1):
            k = min(K, g)
            b = n // k
            new = {}
            for win, pr in states.items():
                models = ([p] if g <= K else []) + [draw(f) for f in win]
                for fit, q in _conv([_mult(b, m) for m in models[-k:]]).items():
                    key = (*win, fit)[-K:]
                    new[key] = new.get(key, 0) + pr * q
            states = new
            fits = {}
            for win, pr in states.items():
                fits[win[-1]] = fits.get(win[-1], 0) + pr
            rows.append(_features(fits))
    elif isinstance(regime, RandomlySampled):
        states = {(): 1}  # the multiset of past fits
        for g in range(1, M + 1):
            new, fits = {}, {}
            for past, pr in states.items():
                laws = [p] + [draw(f) for f in past]
                mix = tuple(sum(m[i] for m in laws) / g for i in range(3))
                for fit, q in _mult(n, mix).items():
                    key = tuple(sorted((*past, fit)))
                    new[key] = new.get(key, 0) + pr * q
                    fits[fit] = fits.get(fit, 0) + pr * q
            states = new
            rows.append(_features(fits))
    elif isinstance(regime, Mix):  # state (real sample, fit); fresh: a new real sample
        N, n = regime.real, regime.synthetic
        real = _mult(N, p)
        rows.append(_features(real))
        states = {(r, r): q for r, q in real.items()}
        for _ in range(2, M + 1):
            new, fits = {}, {}
            for (r, fit), pr in states.items():
                for r2, q2 in (real.items() if regime.fresh else [(r, 1)]):
                    for blk, q in _mult(n, draw(fit)).items():
                        f2 = _add(r2, blk)
                        new[(r2, f2)] = new.get((r2, f2), 0) + pr * q2 * q
                        fits[f2] = fits.get(f2, 0) + pr * q2 * q
            states = new
            rows.append(_features(fits))
    else:  # Accumulate, AccumulateSubsample: state (pool, fit)
        sub = isinstance(regime, AccumulateSubsample)
        states = {(c, c): q for c, q in _mult(n, p).items()}
        for g in range(1, M + 1):
            if g > 1:
                new = {}
                for (pool, fit), pr in states.items():
                    for blk, q in _mult(n, draw(fit)).items():
                        pool2 = _add(pool, blk)
                        for fit2, h in (_hyper(pool2, n).items() if sub else [(pool2, 1)]):
                            key = (pool2, fit2)
                            new[key] = new.get(key, 0) + pr * q * h
                states = new
            fits = {}
            for (_, fit), pr in states.items():
                fits[fit] = fits.get(fit, 0) + pr
            rows.append(_features(fits))
    return rows


def enumerate_first_loss(regime, p, M, pol, token):
    """P(the token is absent from some fit of generations 1..g), g = 1..M, under
    RandomlySampled or AccumulateSubsample, by the same enumeration with the paths that
    lose the token removed."""
    n, lost, out = regime.n, 0, []

    def draw(fit):
        tot = sum(fit)
        return pol([Fraction(x, tot) for x in fit])

    if isinstance(regime, RandomlySampled):
        states = {(): 1}
        for g in range(1, M + 1):
            new = {}
            for past, pr in states.items():
                laws = [p] + [draw(f) for f in past]
                mix = tuple(sum(m[i] for m in laws) / g for i in range(3))
                for fit, q in _mult(n, mix).items():
                    if fit[token] == 0:
                        lost += pr * q
                        continue
                    key = tuple(sorted((*past, fit)))
                    new[key] = new.get(key, 0) + pr * q
            states = new
            out.append(lost)
        return out
    states = {}
    for c, q in _mult(n, p).items():
        if c[token] == 0:
            lost += q
        else:
            states[(c, c)] = q
    out.append(lost)
    for _ in range(2, M + 1):
        new = {}
        for (pool, fit), pr in states.items():
            for blk, q in _mult(n, draw(fit)).items():
                pool2 = _add(pool, blk)
                for fit2, h in _hyper(pool2, n).items():
                    if fit2[token] == 0:
                        lost += pr * q * h
                        continue
                    new[(pool2, fit2)] = new.get((pool2, fit2), 0) + pr * q * h
        states = new
        out.append(lost)
    return out


@pytest.mark.parametrize("regime", [RandomlySampled(3), RandomlySampled(3, top_k=2),
                                    AccumulateSubsample(3), AccumulateSubsample(3, top_p=0.6)],
                         ids=repr)
def test_first_loss_equals_enumeration(regime):
    """P(T_i <= m) in exact rationals, for the least likely token."""
    pol = regime.sampling
    top_p = None if pol.top_p is None else Fraction(pol.top_p).limit_denominator(1000)
    ref = enumerate_first_loss(regime, P3, 4, lambda q: policy_oracle(q, 1, pol.top_k, top_p), 2)
    assert all(isinstance(x, Fraction) for x in ref)
    got = O.first_loss_probability(THREE, regime, 2, np.arange(0, 5))
    np.testing.assert_allclose(got, [0.0, *map(float, ref)], rtol=1e-12, atol=1e-15)
    assert O.first_loss_probability(THREE, regime, 2, 3) == pytest.approx(float(ref[2]),
                                                                          rel=1e-12)


def test_first_loss_against_simulation():
    reg = AccumulateSubsample(4, temperature=0.7)
    res = simulate(THREE, reg, 6, replicates=20_000, seed=33, backend="numba", tokens=(2,),
                   statistics=())
    lost = res.token_loss_time[:, 0]
    F = O.first_loss_probability(THREE, reg, 2, np.arange(7))
    for g in (1, 3, 6):
        hit = ((lost >= 0) & (lost <= g)).astype(float)
        assert abs(_z(hit, F[g], F[g] * (1 - F[g]))) < 5
    plain = O.first_loss_probability(THREE, AccumulateSubsample(4), 2, 6)  # negative control
    hit = ((lost >= 0) & (lost <= 6)).astype(float)
    assert abs(_z(hit, plain, plain * (1 - plain))) > 5


CASES = [  # (regime, policy kwargs, generations); rational policies are checked exactly
    (MostRecent(4, 2, top_k=2), 4),
    (MostRecent(4, 2, temperature=0.6), 4),
    (MostRecent(3, 3, top_p=0.6), 5),
    (Replace(4, top_p=0.6, temperature=1.5), 4),
    (RandomlySampled(3, top_k=2), 4),
    (RandomlySampled(3, temperature=2.0), 4),
    (Accumulate(3, top_k=1), 4),
    (Accumulate(3, temperature=0.5, top_p=0.9), 3),
    (AccumulateSubsample(3, top_p=0.6), 4),
    (AccumulateSubsample(3, temperature=0.7), 4),
    (Mix(3, 2), 4),
    (Mix(3, 2, top_k=2), 4),
    (Mix(2, 3, fresh=True, temperature=0.6), 4),
    (Mix(2, 2, fresh=True, top_p=0.6), 4),
]


@pytest.mark.parametrize(("regime", "M"), CASES, ids=[repr(c[0]) for c in CASES])
def test_chains_equal_plain_enumeration(regime, M):
    pol = regime.sampling
    rational = pol.temperature == 1.0
    p = P3 if rational else tuple(float(x) for x in P3)

    def mapped(q):
        return policy_oracle(q, pol.temperature, pol.top_k,
                       None if pol.top_p is None else
                       (Fraction(pol.top_p).limit_denominator(1000) if rational else pol.top_p))

    ref = enumerate_regime(regime, p, M, mapped)
    if rational:  # the enumeration is exact: the chains agree to rounding
        assert all(isinstance(x, Fraction) for row in ref for x in row)
    ms = np.arange(1, M + 1)
    got = [O.dirac_probability(THREE, regime, ms),
           O.overlapping_surviving_tokens(THREE, regime, ms),
           O.overlapping_homozygosity(THREE, regime, ms)]
    for j in range(3):
        np.testing.assert_allclose(got[j], [float(r[j]) for r in ref], rtol=1e-11,
                                   atol=1e-14)


@pytest.mark.parametrize("regime", [Mix(3, 2), Mix(2, 3, fresh=True)], ids=repr)
def test_mix_chain_equals_closed_form_homozygosity(regime):
    """Plain Mix: the chain on (real sample, fit) against the closed forms."""
    ms = np.arange(0, 7)
    np.testing.assert_allclose(O.overlapping_homozygosity(THREE, regime, ms),
                               theory.homozygosity(THREE, regime, ms), rtol=1e-12)
    if not regime.fresh:  # the support is the real sample's from generation 1 on
        np.testing.assert_allclose(theory.expected_surviving_tokens(THREE, regime, ms[1:]),
                                   np.sum(1 - (1 - THREE.p) ** regime.real), rtol=1e-12)


def test_enumeration_sees_the_policy():
    """Negative control: the plain-sampling values differ from the policy's."""
    reg = MostRecent(4, 2, top_k=2)
    pol = enumerate_regime(reg, P3, 3, lambda q: policy_oracle(q, top_k=2))
    plain = enumerate_regime(reg, P3, 3, lambda q: policy_oracle(q))
    assert abs(float(pol[2][2] - plain[2][2])) > 1e-3
    np.testing.assert_allclose(O.overlapping_homozygosity(THREE, MostRecent(4, 2), 3),
                               float(plain[2][2]), rtol=1e-11)


# ------------------------------------------------------------------ two exact methods
@pytest.mark.parametrize("regime", [Replace(10, temperature=0.5), Replace(10, temperature=2.0),
                                    Replace(6, top_k=1), Replace(8, top_p=0.7)], ids=repr)
def test_window_chain_equals_partition_chain_under_replace(regime):
    """Replace with a policy: the window chain (compositions, lumped by token
    permutations, or not at all under truncation) and the chain on count partitions."""
    bar = Categorical([0.6, 0.4])
    E, V = O.overlapping_collapse_moments(bar, regime)
    assert E == pytest.approx(P.policy_expected_collapse_time(bar, regime), rel=1e-10)
    assert V == pytest.approx(P.policy_collapse_moments(bar, regime)[1], rel=1e-8)
    ms = np.arange(0, 9)
    np.testing.assert_allclose(O.overlapping_surviving_tokens(THREE, Replace(5, **_kw(regime)),
                                                              ms),
                               P.policy_surviving_tokens(THREE, Replace(5, **_kw(regime)), ms),
                               rtol=1e-10)


def _kw(regime):
    s = regime.sampling
    return {"temperature": s.temperature, "top_k": s.top_k, "top_p": s.top_p}


# ------------------------------------------------------------------ simulation
def _z(x, mean, var):
    return (np.mean(x) - mean) / math.sqrt(var / x.size)


def test_most_recent_policy_collapse_and_loss_against_simulation():
    reg = MostRecent(6, 2, temperature=0.7)
    E, V = theory.overlapping_collapse_moments(THREE, reg)
    assert float(theory.expected_collapse_time(THREE, reg)) == pytest.approx(E, rel=1e-12)
    res = simulate(THREE, reg, 150, replicates=8_000, seed=31, backend="numba", tokens=(2,),
                   statistics=())
    T = res.collapse_time
    assert (T > 0).all()
    assert abs(_z(T, E, V)) < 5
    # negative control: the plain-sampling collapse time is rejected
    E0, V0 = O.overlapping_collapse_moments(THREE, MostRecent(6, 2))
    assert abs(_z(T, E0, V0)) > 5
    law = theory.token_loss(THREE, reg, 2)
    lost = res.token_loss_time[:, 0]
    for g in (1, 3, 8):
        pe = law.cdf(g)
        assert abs(_z(((lost >= 0) & (lost <= g)).astype(float), pe, pe * (1 - pe))) < 5


@pytest.mark.parametrize("regime", [RandomlySampled(4, temperature=0.7),
                                    AccumulateSubsample(4, top_k=2),
                                    Replace(4, top_p=0.6),
                                    Mix(3, 4, fresh=True, top_k=1)], ids=repr)
def test_homozygosity_and_support_against_simulation(regime):
    m = 5
    res = simulate(THREE, regime, m, replicates=10_000, seed=32, backend="numba",
                   statistics=("homozygosity", "support_size"))
    for name, f in (("homozygosity", theory.homozygosity),
                    ("support_size", theory.expected_surviving_tokens)):
        x = res[name][:, m]
        th = f(THREE, regime, m)
        assert abs(_z(x, th, x.var(ddof=1))) < 5, (name, th, x.mean())
    plain = dataclasses.replace(regime, temperature=1.0, top_k=None, top_p=None)
    # negative control: the plain-sampling value is rejected
    x = res["homozygosity"][:, m]
    assert abs(_z(x, theory.homozygosity(THREE, plain, m), x.var(ddof=1))) > 5


def test_refusals():
    with pytest.raises(UnsupportedRegimeError, match="plain sampling"):
        theory.homozygosity(THREE, Replace(4, temperature=0.5), 2, exact=True)
    with pytest.raises(UnsupportedRegimeError, match="first_loss_probability"):
        theory.token_loss(THREE, Mix(4, 4, temperature=0.5), 2)
    with pytest.raises(ValueError, match="one exact method"):
        theory.expected_surviving_tokens(THREE, Mix(4, 4), 2, method="coalescent")
    with pytest.raises(UnsupportedRegimeError, match="first_loss_probability"):
        theory.token_loss(THREE, RandomlySampled(4), 2)
    with pytest.raises(ValueError, match="window chain"):
        theory.token_loss(THREE, Replace(4, top_k=2), 1, method="marginal")
