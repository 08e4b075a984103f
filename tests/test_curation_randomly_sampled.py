"""Curation under RandomlySampled: a sample drawn from p^(0) is real (never curated), one
drawn from a fitted model is curated. Every simulator's mean fit of generation 2 against
its exact value (|z| < 5 with the Monte Carlo standard error; the uncurated value as a
negative control), later generations between backends (two-sample |z| < 5), the
infinite-sample recursion, the verifier's error and the spec / dictionary round trip."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from modelcollapse import montecarlo as mc
from modelcollapse.curation import BestOfK, Verifier, curated_distribution
from modelcollapse.models import Categorical
from modelcollapse.montecarlo import check_problem, reference_simulate
from modelcollapse.regimes import RandomlySampled, Regime, Replace
from modelcollapse.theory import curated_path

MODEL = Categorical([0.5, 0.3, 0.2])
REWARD = [0.0, 1.0, 2.0]
CURATIONS = {"best-of-3": BestOfK(REWARD, 3), "best-of-inf": BestOfK(REWARD, math.inf),
             "verifier": Verifier([0.2, 0.6, 1.0])}
N = 4
R = 3000


def _first_fits(n, p):
    """``(probability, p^(1))`` over the multinomial law of ``Mult(n, p)/n``."""
    V = p.size
    for c in itertools.product(range(n + 1), repeat=V):
        if sum(c) == n:
            prob = math.factorial(n) * np.prod([p[i] ** c[i] / math.factorial(c[i])
                                                for i in range(V)])
            yield prob, np.asarray(c, dtype=np.float64) / n


def exact_second_mean(cur, n=N, p=MODEL.p):
    r""":math:`E[p^{(2)}] = (p^{(0)} + E[\mathcal{C}(p^{(1)})])/2`: each of generation 2's
    samples comes from p^(0) (real) or p^(1) (curated) with probability 1/2, by
    enumeration of p^(1)'s multinomial law."""
    kept = sum(w * curated_distribution(p1, cur) for w, p1 in _first_fits(n, p))
    return (p + kept) / 2


def _simulate(regime, backend, G=4, seed=5, replicates=R):
    """``token_prob`` of generations 0..G (the backends run 4 generations whatever
    the test reads, so that JAX compiles one program per regime)."""
    if backend == "reference":
        out = reference_simulate(check_problem(MODEL, regime, tokens=[0, 1, 2]), G,
                                 replicates=replicates, seed=seed)
        return out["token_prob"]
    res = mc.simulate(MODEL, regime, G, replicates=replicates, backend=backend, seed=seed,
                      tokens=[0, 1, 2], statistics=["token_prob"], progress=False)
    return res.statistic("token_prob")


def _z(x, want):
    return (x.mean(axis=0) - want) / (x.std(axis=0, ddof=1) / math.sqrt(x.shape[0]))


CASES = [(b, k) for b in ("numpy", "numba", "reference") for k in CURATIONS] + \
    [("jax", "best-of-3"), ("jax", "verifier")]


@pytest.mark.parametrize(("backend", "kind"), CASES, ids=[f"{b}-{k}" for b, k in CASES])
def test_second_generation_mean_fit_is_exact(backend, kind):
    """E[p^(2)] of each simulator (|z| < 5); the uncurated E[p^(2)] = p0 is rejected
    (|z| > 5)."""
    if backend == "jax":
        pytest.importorskip("jax")
    cur = CURATIONS[kind]
    reg = RandomlySampled(N, curation=cur)
    tp = _simulate(reg, backend, G=2, replicates=R // 3)[:, 2] if backend == "reference" \
        else _simulate(reg, backend)[:, 2]
    z = _z(tp, exact_second_mean(cur))
    assert np.abs(z).max() < 5, z
    assert np.abs(_z(tp, MODEL.p)).max() > 5  # negative control: uncurated


def test_exact_second_mean_control():
    """The oracle itself: best of one is uncurated (E[p^(2)] = p0), and a curated
    Replace's E[p^(2)] = E[C(p^(1))] differs from RandomlySampled's."""
    np.testing.assert_allclose(exact_second_mean(BestOfK(REWARD, 1)), MODEL.p, atol=1e-12)
    cur = CURATIONS["verifier"]
    rs = exact_second_mean(cur)
    assert np.abs(2 * rs - MODEL.p - rs).max() > 0.01


@pytest.mark.slow
def test_later_generations_agree_between_backends():
    """Generation 4 (sources up to p^(3)): Numba and JAX against NumPy, two-sample
    |z| < 5, for best of 3 (every model's candidates) and the verifier."""
    for kind in ("best-of-3", "verifier"):
        reg = RandomlySampled(N, curation=CURATIONS[kind])
        ref = _simulate(reg, "numpy", seed=1)[:, 4]
        others = ["numba"]
        try:
            import jax  # noqa: F401
            others.append("jax")
        except ImportError:  # pragma: no cover
            pass
        for b in others:
            x = _simulate(reg, b, seed=2)[:, 4]
            se = np.sqrt(ref.var(axis=0, ddof=1) / R + x.var(axis=0, ddof=1) / R)
            z = (x.mean(axis=0) - ref.mean(axis=0)) / se
            assert np.abs(z).max() < 5, (kind, b, z)


def test_deterministic_recursion():
    r"""Infinitely many samples: :math:`p^{(m)} = (p^{(0)} + \sum_{1 \le j < m}
    \mathcal{C}(p^{(j)}))/m`, written out; not the curated Replace recursion."""
    cur = CURATIONS["verifier"]
    reg = RandomlySampled(10, curation=cur)
    got = curated_path(MODEL, reg, [1, 2, 3], method="deterministic").mean
    p1 = MODEL.p
    p2 = (MODEL.p + curated_distribution(p1, cur)) / 2
    p3 = (MODEL.p + curated_distribution(p1, cur) + curated_distribution(p2, cur)) / 3
    np.testing.assert_allclose(got, [p1, p2, p3], rtol=1e-12)
    rep = curated_path(MODEL, Replace(10, curation=cur), 3, method="deterministic").mean
    assert np.abs(rep - p3).max() > 0.05


def test_verifier_that_keeps_nothing_of_a_fitted_model():
    """p^(1) of one real sample is a Dirac on a rejected token (probability 0.9): every
    backend says the verifier keeps none of it."""
    reg = RandomlySampled(1, curation=Verifier([0.0, 1.0]))
    backends = ["numpy", "numba"]
    try:
        import jax  # noqa: F401
        backends.append("jax")
    except ImportError:  # pragma: no cover
        pass
    for b in backends:
        with pytest.raises(ValueError, match="keeps none"):
            mc.simulate(Categorical([0.9, 0.1]), reg, 3, replicates=40, backend=b,
                        seed=0, progress=False)


@pytest.mark.parametrize("kind", list(CURATIONS))
def test_spec_and_dict_round_trip(kind):
    reg = RandomlySampled(7, temperature=0.8, curation=CURATIONS[kind])
    assert Regime.from_spec(reg.spec) == reg
    assert Regime.from_dict(json.loads(json.dumps(reg.to_dict()))) == reg
    assert reg.plan().curation == CURATIONS[kind]
    assert reg.plan().sources == "uniform"
