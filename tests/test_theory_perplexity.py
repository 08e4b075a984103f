"""The law of a sequence's log-perplexity under the real model (theory.sequence_perplexity):
checked against a brute-force enumeration of the chain's paths and of the scored
sequences, in rational arithmetic."""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction as F
from math import factorial

import numpy as np
import pytest

from modelcollapse import theory
from modelcollapse.errors import UnsupportedRegimeError, WrongTypeError
from modelcollapse.models import Categorical
from modelcollapse.regimes import Accumulate, Mix, Replace

Q = (F(1, 2), F(1, 3), F(1, 6))
COST = (F(1), F(5, 2), F(-1, 3))  # any rational cost: the law is linear in it


def _multinomial(k: int, p):
    """{counts: probability} of k draws from p (exact)."""
    out = {}
    for c in itertools.product(range(k + 1), repeat=len(p)):
        if sum(c) != k:
            continue
        w = F(factorial(k))
        for ci, pi in zip(c, p, strict=True):
            w *= pi ** ci / factorial(ci)
        if w:
            out[c] = w
    return out


def _paths(regime, m: int):
    """{(p^(1), p^(m)): probability} by enumerating every path of the chain."""
    n = regime.n if not isinstance(regime, Mix) else regime.real + regime.synthetic
    # state: (p1, current fit, pool counts (Accumulate) or real counts (Mix))
    states = defaultdict(F)
    if isinstance(regime, Mix):
        for c, w in _multinomial(regime.real, Q).items():
            p = tuple(F(x, regime.real) for x in c)
            states[(p, p, c)] += w
    else:
        for c, w in _multinomial(n, Q).items():
            p = tuple(F(x, n) for x in c)
            states[(p, p, c)] += w
    for _ in range(2, m + 1):
        new = defaultdict(F)
        for (p1, p, kept), w in states.items():
            k = regime.synthetic if isinstance(regime, Mix) else n
            for c, v in _multinomial(k, p).items():
                tot = c if isinstance(regime, Replace) else tuple(
                    a + b for a, b in zip(kept, c, strict=True))
                size = sum(tot)
                fit = tuple(F(x, size) for x in tot)
                keep = tot if isinstance(regime, Accumulate) else kept
                new[(p1, fit, keep)] += w * v
        states = new
    out = defaultdict(F)
    for (p1, p, _), w in states.items():
        out[(p1, p)] += w
    return out


def _brute(regime, m: int, L: int):
    paths = _paths(regime, m) if m >= 1 else {(Q, Q): F(1)}
    e1 = e2 = cen2 = wid = sh1 = sh2 = F(0)
    for (p1, p), w in paths.items():
        mean_p = sum(pi * a for pi, a in zip(p, COST, strict=True))
        m1 = sum(pi * a for pi, a in zip(p1, COST, strict=True))
        for seq in itertools.product(range(3), repeat=L):
            pr = w
            for t in seq:
                pr *= p[t]
            ell = sum(COST[t] for t in seq) / L
            e1 += pr * ell
            e2 += pr * ell * ell
        cen2 += w * mean_p * mean_p
        wid += w * (sum(pi * a * a for pi, a in zip(p, COST, strict=True)) - mean_p ** 2) / L
        sh1 += w * (mean_p - m1)
        sh2 += w * (mean_p - m1) ** 2
    return {"mean": e1, "variance": e2 - e1 * e1, "center_var": cen2 - e1 * e1,
            "width_var": wid, "shift_var": sh2 - sh1 * sh1}


@pytest.mark.parametrize("regime, m", [(Replace(3), 0), (Replace(3), 1), (Replace(3), 3),
                                       (Mix(1, 2), 3), (Mix(2, 1), 2),
                                       (Accumulate(2), 3)])
def test_law_matches_enumeration(regime, m):
    L = 2
    got = theory.sequence_perplexity(Categorical([float(x) for x in Q]), regime, m, L,
                                     cost=COST, exact=True)
    want = _brute(regime, m, L)
    for k, v in want.items():
        assert getattr(got, k) == v, (k, getattr(got, k), v)
    flt = theory.sequence_perplexity(Categorical([float(x) for x in Q]), regime, [m], L,
                                     cost=[float(c) for c in COST])
    assert flt.variance[0] == pytest.approx(float(want["variance"]), rel=1e-12)
    assert flt.shift_sd[0] ** 2 == pytest.approx(float(want["shift_var"]), abs=1e-15)


def test_fresh_real_block_is_not_a_martingale():
    """Negative control: with the real block redrawn every generation the shift from
    generation 1 is not (c_m - c_1) sigma^2, so the function gives no shift law, and the
    identity it uses for the fixed block would be wrong there."""
    regime = Mix(1, 2, fresh=True)
    got = theory.sequence_perplexity(Categorical([float(x) for x in Q]), regime, 3, 2,
                                     cost=COST, exact=True)
    assert got.shift_var is None
    # the fresh chain: p^(m) = (R real_m + S syn)/n with a new real sample each generation
    n = 3
    states = defaultdict(F)
    for c, w in _multinomial(1, Q).items():
        p = tuple(F(x, 1) for x in c)
        states[(p, p)] += w
    for _ in range(2, 4):
        new = defaultdict(F)
        for (p1, p), w in states.items():
            for cr, wr in _multinomial(1, Q).items():
                for cs, ws in _multinomial(2, p).items():
                    fit = tuple(F(a + b, n) for a, b in zip(cr, cs, strict=True))
                    new[(p1, fit)] += w * wr * ws
        states = new
    d = [(sum((a - b) * c for a, b, c in zip(p, p1, COST, strict=True)), w)
         for (p1, p), w in states.items()]
    var = sum(w * x * x for x, w in d) - sum(w * x for x, w in d) ** 2
    assert var != (got.drift - theory.sequence_perplexity(
        Categorical([float(x) for x in Q]), regime, 1, 2, cost=COST, exact=True).drift) \
        * got.sigma2


def test_default_cost_is_log_loss_and_sampling_moves_the_centre():
    q = Categorical.zipf(50, exponent=1.2)
    r = theory.sequence_perplexity(q, Replace(1000), np.arange(0, 30, 10), 64)
    p = q.p
    assert r.mean == pytest.approx(-(p * np.log(p)).sum(), rel=1e-12)  # the entropy
    assert r.mean_perplexity == pytest.approx(np.exp(r.mean))
    c = 1 - (1 - 1 / 1000) ** np.arange(0, 30, 10)
    np.testing.assert_allclose(r.drift, c, rtol=1e-12)
    assert np.all(np.diff(r.center_sd) > 0) and np.all(np.diff(r.width_sd) < 0)


def test_bad_input():
    q = Categorical([0.5, 0.5])
    with pytest.raises(UnsupportedRegimeError):
        theory.sequence_perplexity(q, "replace:10:temperature=0.8", 1, 4)
    with pytest.raises(ValueError, match="length"):
        theory.sequence_perplexity(q, Replace(10), 1, 0)
    with pytest.raises(ValueError, match="cost"):
        theory.sequence_perplexity(q, Replace(10), 1, 4, cost=[1.0])
    with pytest.raises(ValueError, match="cost"):
        theory.sequence_perplexity(q, Replace(10), 1, 4, cost=[1.0, np.nan])
    with pytest.raises(ValueError, match="rational cost"):
        theory.sequence_perplexity(q, Replace(10), 1, 4, exact=True)
    with pytest.raises(WrongTypeError):
        theory.sequence_perplexity(q, Replace(10), 1.5, 4)
    with pytest.raises(WrongTypeError):
        theory.sequence_perplexity([0.5, 0.5], Replace(10), 1, 4)
