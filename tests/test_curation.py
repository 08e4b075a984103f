"""Curation and verification: the one-step map (quadrature against rational enumeration
and the two-token binomial sum), the simulation of the selection itself (seeded, |z| < 5
with the exact variance, negative controls), the regime field and the bad inputs."""

import math
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from modelcollapse import montecarlo as mc
from modelcollapse.curation import (
    BestOfK,
    Verifier,
    curate_samples,
    curated_distribution,
    exact_curated_distribution,
    expected_raw_samples,
)
from modelcollapse.errors import UnsupportedRegimeError, WrongTypeError
from modelcollapse.models import Categorical
from modelcollapse.regimes import Mix, Regime, Replace

Q = [Fraction(2, 5), Fraction(3, 10), Fraction(1, 5), Fraction(1, 10)]
R = [0.0, 1.0, -0.5, 2.0]


def _f(x):
    return np.array([float(v) for v in x])


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_best_of_quadrature_equals_enumeration(k):
    cur = BestOfK(R, k)
    exact = exact_curated_distribution(Q, cur)
    assert sum(exact) == 1
    np.testing.assert_allclose(curated_distribution(_f(Q), cur), _f(exact), rtol=1e-11,
                               atol=1e-14)
    if k > 1:  # negative control: the limit K = inf is another law
        assert np.abs(_f(exact_curated_distribution(Q, BestOfK(R, math.inf)))
                      - _f(exact)).max() > 1e-3


def test_best_of_two_tokens_binomial_sum():
    """Two tokens: the kept token is 1 with probability sum_j Bin(j; K, p) j w1 / (j w1 +
    (K - j) w2), a finite sum (an independent formula)."""
    w = np.exp([0.3, -0.4])
    for p, k in [(0.2, 5), (0.7, 40), (0.01, 300)]:
        j = np.arange(k + 1)
        f1 = np.sum(stats.binom.pmf(j, k, p) * j * w[0] / (j * w[0] + (k - j) * w[1]))
        got = curated_distribution(np.array([p, 1 - p]), BestOfK(np.log(w), k))
        assert got[0] == pytest.approx(f1, rel=1e-11)


def test_best_of_tends_to_the_tilt():
    """C_K - C_inf = O(1/K): the gap shrinks about tenfold per tenfold K."""
    q = _f(Q)
    tilt = curated_distribution(q, BestOfK(R, math.inf))
    np.testing.assert_allclose(tilt, q * np.exp(R) / (q @ np.exp(R)), rtol=1e-14)
    gaps = [np.abs(curated_distribution(q, BestOfK(R, k)) - tilt).max()
            for k in (100, 1000, 10000)]
    assert 7 < gaps[0] / gaps[1] < 13 and 7 < gaps[1] / gaps[2] < 13


def test_verifier_map_and_raw_samples():
    cur = Verifier([1, 0.5, 0, 0.2])
    exact = exact_curated_distribution(Q, cur)
    np.testing.assert_allclose(curated_distribution(_f(Q), cur), _f(exact), rtol=1e-14)
    assert exact[2] == 0
    acc = float(sum(q * Fraction(a) for q, a in zip(Q, cur.acceptance, strict=True)))
    assert expected_raw_samples(_f(Q), 100, cur) == pytest.approx(100 / acc)


@pytest.mark.parametrize("cur", [BestOfK(R, 4), Verifier([1, 0.5, 0, 0.2])],
                         ids=["best-of-4", "verifier"])
def test_selection_simulated_matches_the_map(cur):
    """Kept-sample frequencies of the simulated selection against the map (|z| < 5 with
    the multinomial variance), and the uncurated law as a negative control."""
    rng = np.random.default_rng(7)
    n = 40_000
    tok, raw = curate_samples(rng, _f(Q), n, cur)
    freq = np.bincount(tok, minlength=4) / n
    law = _f(exact_curated_distribution(Q, cur))
    sd = np.sqrt(law * (1 - law) / n) + 1e-300
    assert np.all(np.abs(freq - law) < 5 * sd + 1e-12)
    assert np.any(np.abs(freq - _f(Q)) > 5 * np.sqrt(_f(Q) * (1 - _f(Q)) / n))
    if isinstance(cur, Verifier):  # raw draws: negative binomial, mean n/a, var n(1-a)/a^2
        a = float(_f(Q) @ cur.vector)
        assert abs(raw - n / a) < 5 * math.sqrt(n * (1 - a)) / a
    else:
        assert raw == 4 * n


def test_simulators_follow_the_map_one_generation():
    """E[p^(2)] under Replace(n) with best-of-K equals E[C_K(p^(1))], p^(1) ~ Mult(n, p0)/n,
    enumerated exactly; numba and numpy against it (|z| < 5), the plain p0 as control."""
    p0 = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    n, cur = 4, BestOfK([0.0, 1.0, 2.0], 3)
    mean = [Fraction(0)] * 3
    for a in range(n + 1):
        for b in range(n + 1 - a):
            c = (a, b, n - a - b)
            pr = Fraction(math.factorial(n), math.prod(math.factorial(x) for x in c))
            pr *= math.prod(p ** x for p, x in zip(p0, c, strict=True))
            law = exact_curated_distribution([Fraction(x, n) for x in c], cur)
            mean = [m + pr * v for m, v in zip(mean, law, strict=True)]
    want = _f(mean)
    model = Categorical(_f(p0))
    for backend in ("numba", "numpy"):
        res = mc.simulate(model, Replace(n, curation=cur), 2, replicates=6000,
                          backend=backend, seed=3, tokens=[0, 1, 2], progress=False)
        tp = res.statistic("token_prob")[:, 2]
        z = (tp.mean(axis=0) - want) / (tp.std(axis=0) / math.sqrt(tp.shape[0]))
        assert np.all(np.abs(z) < 5), (backend, z)
        zc = (tp.mean(axis=0) - _f(p0)) / (tp.std(axis=0) / math.sqrt(tp.shape[0]))
        assert np.abs(zc).max() > 5, backend


def test_verifier_in_the_simulators_keeps_only_accepted_tokens():
    model = Categorical([0.4, 0.4, 0.2])
    reg = Mix(20, 20, curation=Verifier([1.0, 0.0, 1.0]))
    for backend in ("numba", "numpy"):
        res = mc.simulate(model, reg, 3, replicates=200, backend=backend, seed=1,
                          tokens=[1], progress=False)
        # generation 2 = real block (20) + 20 kept samples, none of them token 1
        p1 = res.statistic("token_prob")[:, 1, 0]
        p2 = res.statistic("token_prob")[:, 2, 0]
        np.testing.assert_allclose(p2, p1 * 20 / 40)


# ---------------------------------------------------------------------- the regime field
def test_regime_spec_dict_round_trip():
    for spec in ("replace:20:best_of=3:reward=0,1,2.5", "mix:10:20:accept=1,0.5,0",
                 "accumulate:5:best_of=inf:reward=0,1", "most-recent:10:2:temperature=0.5"
                 ":best_of=2:reward=1,0"):
        r = Regime.from_spec(spec)
        assert Regime.from_spec(r.spec) == r
        assert Regime.from_dict(r.to_dict()) == r
        assert "curation=" in repr(r)
    assert Replace(5, curation={"type": "verifier", "acceptance": [1, 0]}).curation == \
        Verifier([1, 0])


@pytest.mark.parametrize("spec,match", [
    ("replace:5:best_of=3", "needs both"),
    ("replace:5:reward=1,2", "needs both"),
    ("replace:5:best_of=3:reward=1,2:accept=1,1", "not both"),
    ("replace:5:best_of=x:reward=1,2", "best_of"),
    ("replace:5:accept=1,a", "accept"),
    ("replace:5:best_of=0:reward=1,2", "k"),
    ("replace:5:accept=0,0", "zero for every token"),
    ("replace:5:accept=1,-0.5", "entry 1"),
    ("replace:5:best_of=2:reward=1,nan", "finite"),
])
def test_bad_specs(spec, match):
    with pytest.raises(ValueError, match=match):
        Regime.from_spec(spec)


def test_bad_curations():
    with pytest.raises(ValueError, match="k"):
        BestOfK([0, 1], 0)
    with pytest.raises(ValueError, match="k"):
        BestOfK([0, 1], 2.5)
    with pytest.raises(WrongTypeError):
        BestOfK("01", 2)
    with pytest.raises(WrongTypeError):
        Replace(5, curation=[1, 0])
    with pytest.raises(ValueError, match="finite"):
        BestOfK([0, math.inf], 2)
    with pytest.raises(ValueError, match="probabilities"):
        Verifier([0.5, 1.5])
    with pytest.raises(ValueError, match="3 entries, the model has 2"):
        curated_distribution(np.array([0.5, 0.5]), Verifier([1, 1, 1]))
    with pytest.raises(ValueError, match="3 entries, the model has 2"):
        mc.simulate(Categorical([0.5, 0.5]), Replace(5, curation=Verifier([1, 1, 1])), 2,
                    replicates=2, progress=False)
    with pytest.raises(ValueError, match="keeps none"):
        curated_distribution(np.array([0.0, 1.0]), Verifier([1, 0]))
    with pytest.raises(ValueError, match="keeps none"):
        curate_samples(np.random.default_rng(0), np.array([0.0, 1.0]), 5, Verifier([1, 0]))


def test_simulation_stops_when_nothing_can_be_kept():
    """Generation 1 (real, uncurated) can land on rejected tokens only: the next
    generation cannot be drawn, and both backends say so instead of looping."""
    model = Categorical([0.9, 0.1])
    reg = Replace(1, curation=Verifier([0.0, 1.0]))
    for backend in ("numba", "numpy"):
        with pytest.raises(ValueError, match="keeps none"):
            mc.simulate(model, reg, 3, replicates=50, backend=backend, seed=0,
                        progress=False)


def test_uncurated_theory_refuses_a_curated_regime():
    from modelcollapse import theory

    model = Categorical([0.5, 0.3, 0.2])
    reg = Replace(5, curation=BestOfK([0, 1, 2], 2))
    for call in (lambda: theory.expected_collapse_time(model, reg),
                 lambda: theory.homozygosity(model, reg, 3),
                 lambda: theory.token_loss(model, reg, 0, 3),
                 lambda: theory.policy_expected_collapse_time(model, reg),
                 lambda: theory.expected_surviving_tokens(model, "mix:3:3:best_of=2:"
                                                          "reward=0,1,2", 2),
                 lambda: theory.overlapping_expected_collapse_time(
                     model, "most-recent:4:2:best_of=2:reward=0,1,2")):
        with pytest.raises(UnsupportedRegimeError, match="curat"):
            call()


def test_every_backend_simulates_curation():
    """All three backends simulate curated categorical regimes (the JAX backend is
    checked against the exact chain in test_montecarlo_jax_curation.py); what the JAX
    backend still refuses, a Gaussian's sampling temperature, it names."""
    pytest.importorskip("jax")
    from modelcollapse.models import Gaussian

    for backend in ("numpy", "numba", "jax"):
        res = mc.simulate(Categorical([0.5, 0.5]), Replace(5, curation=Verifier([1, 0.5])),
                          2, replicates=2, backend=backend, seed=0, progress=False)
        assert res.statistic("support_size").shape == (2, 3)
    with pytest.raises(ValueError, match="does not simulate a Gaussian sampling "
                       "temperature; use backend='numpy' or 'numba'"):
        mc.simulate(Gaussian(0.0, 1.0), Replace(5, temperature=0.5), 2, replicates=2,
                    backend="jax", progress=False)


def test_cli_curation_flags(capsys):
    """The flags build the same regime as the spec fields; the collapse time of a curated
    Replace is the exact chain's; a field given twice, or a wrong length, is refused."""
    import json

    from modelcollapse import theory
    from modelcollapse.cli import main

    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--regime", "replace:6",
                 "--best-of", "3", "--reward", "0,1,2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["regime"] == "replace:6:best_of=3:reward=0,1,2"
    want = theory.curated_fixation(P0 := Categorical([0.5, 0.3, 0.2]),
                                   Replace(6, curation=BestOfK([0, 1, 2], 3))).mean_time
    assert out["expected_collapse_time"] == pytest.approx(want, rel=1e-12)
    assert P0.size == 3
    with pytest.raises(SystemExit):
        main(["collapse-time", "--p", "0.5,0.5", "--regime", "replace:6:accept=1,1",
              "--accept", "1,0.5"])
    assert "give it once" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--p", "0.5,0.5", "--regime", "replace:6", "--accept", "1,1,1",
              "--generations", "2", "--replicates", "2"])
    assert "3 entries, the model has 2" in capsys.readouterr().err
