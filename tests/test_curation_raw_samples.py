"""The ``raw_samples`` statistic: samples drawn to build each generation's data.

A verifier needs a random number of raw draws: given the model :math:`q` it emits from,
``n + NB(n, E_q a)`` (mean ``n / E_q a``, :func:`modelcollapse.curation.
expected_raw_samples`). Averaged over the chain, ``n / E[E_q a]`` is wrong (Jensen), so
generation 2 is checked against its exact mean by enumerating p^(1)'s multinomial law
(|z| < 5 with the replicates' standard error; the Jensen value as a negative control), on
every simulator. Best of K costs exactly ``n K``; best of infinity and no curation ``n``.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from modelcollapse import montecarlo as mc
from modelcollapse.curation import BestOfK, Verifier, expected_raw_samples
from modelcollapse.models import Categorical
from modelcollapse.montecarlo import check_problem, reference_simulate
from modelcollapse.regimes import Mix, RandomlySampled, Replace

MODEL = Categorical([0.5, 0.3, 0.2])
VERIFIER = Verifier([0.2, 0.6, 1.0])
N = 3
R = 4000
BACKENDS = ["numpy", "numba", "jax", "reference"]


def _first_fits(n, p):
    """``(probability, p^(1))`` over the multinomial law of ``Mult(n, p)/n``."""
    for c in itertools.product(range(n + 1), repeat=p.size):
        if sum(c) == n:
            prob = math.factorial(n) * np.prod([p[i] ** c[i] / math.factorial(c[i])
                                                for i in range(p.size)])
            yield prob, np.asarray(c, dtype=np.float64) / n


def exact_second_raw(regime):
    r"""E[raw draws of generation 2]: given p^(1), a block of ``k`` samples of p^(1)
    costs :math:`k / E_{p^{(1)}} a` on average; ``Replace``: ``k = n``;
    ``RandomlySampled``: ``k ~ Bin(n, 1/2)`` from p^(1), the rest real (one draw each)."""
    share = {Replace: 1.0, RandomlySampled: 0.5}[type(regime)]
    n = regime.n
    kept = sum(w * float(expected_raw_samples(p1, share * n, VERIFIER))
               for w, p1 in _first_fits(n, MODEL.p))
    return (1 - share) * n + kept


def _raw(regime, backend, G=2, replicates=R, seed=3):
    if backend == "jax":
        pytest.importorskip("jax")
    if backend == "reference":
        return reference_simulate(check_problem(MODEL, regime), G, replicates=replicates,
                                  seed=seed)["raw_samples"]
    return mc.simulate(MODEL, regime, G, replicates=replicates, backend=backend, seed=seed,
                       statistics=["raw_samples"], progress=False).statistic("raw_samples")


KINDS = ("replace", "randomly-sampled")
IDS = [f"{b}-{k}" for b in BACKENDS for k in KINDS]
CASES = [pytest.param(b, k, marks=pytest.mark.slow) if (b, k) == ("jax", "randomly-sampled")
         else (b, k) for b in BACKENDS for k in KINDS]


@pytest.mark.parametrize(("backend", "kind"), CASES, ids=IDS)
def test_verifier_raw_draws_of_generation_two_are_exact(backend, kind):
    """Mean raw draws of generation 2 (|z| < 5); the Jensen value n / (a . E[p^(1)]) =
    n / (a . p0) for the curated block is rejected (|z| > 5)."""
    reg = (Replace if kind == "replace" else RandomlySampled)(N, curation=VERIFIER)
    x = _raw(reg, backend, replicates=R // 4 if backend == "reference" else R)
    assert np.all(np.isnan(x[:, 0]))  # nothing drawn for generation 0
    np.testing.assert_array_equal(x[:, 1], N)  # generation 1: n real draws
    x2 = x[:, 2]
    se = x2.std(ddof=1) / math.sqrt(x2.size)
    want = exact_second_raw(reg)
    assert abs(x2.mean() - want) / se < 5, (x2.mean(), want, se)
    share = 1.0 if kind == "replace" else 0.5
    jensen = (1 - share) * N + float(expected_raw_samples(MODEL.p, share * N, VERIFIER))
    assert abs(x2.mean() - jensen) / se > 5  # negative control
    assert np.all(x2 >= N) and np.all(x2 == np.round(x2))


@pytest.mark.parametrize("backend", BACKENDS)
def test_best_of_k_costs_exactly_n_k(backend):
    """Best of K: n K draws a generation from generation 2 on (generation 1 is real:
    n); best of infinity: n; a kept real block of Mix is drawn once, a fresh one every
    generation."""
    G = 3
    x = _raw(Replace(N, curation=BestOfK([0, 1, 2], 4)), backend, G, replicates=50)
    np.testing.assert_array_equal(x[:, 1:], [[N, 4 * N, 4 * N]] * 50)
    cur = BestOfK([0, 1, 2], 2)
    if backend != "jax":  # (JAX: fewer programs to compile; the same code path)
        x = _raw(Replace(N, curation=BestOfK([0, 1, 2], math.inf)), backend, G,
                 replicates=50)
        np.testing.assert_array_equal(x[:, 1:], N)
        x = _raw(Mix(5, N, curation=cur), backend, G, replicates=50)
        np.testing.assert_array_equal(x[:, 1:], [[5, 2 * N, 2 * N]] * 50)
    x = _raw(Mix(5, N, fresh=True, curation=cur), backend, G, replicates=50)
    np.testing.assert_array_equal(x[:, 1:], [[5, 5 + 2 * N, 5 + 2 * N]] * 50)


def test_opt_in_and_uncurated():
    """Not recorded unless asked for; an uncurated run draws n a generation (the NumPy
    and Numba fast paths of plain Replace included)."""
    res = mc.simulate(MODEL, Replace(N, curation=VERIFIER), 2, replicates=5, seed=0,
                      backend="numpy", progress=False)
    assert "raw_samples" not in res.statistics
    for b in ("numpy", "numba"):
        x = _raw(Replace(N), b, 3, replicates=20)
        np.testing.assert_array_equal(x[:, 1:], N)
    assert "raw_samples" in mc.DESCRIPTIONS and "raw_samples" in mc.STATISTICS[
        "categorical"]
