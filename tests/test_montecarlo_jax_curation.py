"""Curation in the JAX backend: best of a finite K simulated sample by sample, best of
infinity and the verifier by their kept-sample law, against the exact curated chain
(seeded, |z| < 5 with the Monte Carlo standard error, the uncurated path as a negative
control), a curated Mix against the NumPy backend (two-sample |z| < 5), and the seeded
stream and the verifier's error."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("jax")

from modelcollapse import montecarlo as mc
from modelcollapse import theory
from modelcollapse.curation import BestOfK, Verifier
from modelcollapse.models import Categorical
from modelcollapse.regimes import Mix, Replace

MODEL = Categorical([0.5, 0.3, 0.2])
REWARD = [0.0, 1.0, 2.0]
CURATIONS = [BestOfK(REWARD, 3), BestOfK(REWARD, math.inf), Verifier([1.0, 0.5, 0.2])]
IDS = ["best-of-3", "best-of-inf", "verifier"]
G = 3


def _token_probs(regime, replicates, seed, backend="jax"):
    res = mc.simulate(MODEL, regime, G, replicates=replicates, backend=backend, seed=seed,
                      tokens=[0, 1, 2], progress=False)
    return res.statistic("token_prob")[:, 1:]  # (replicate, generation 1..G, token)


def _z(x, want):
    return (x.mean(axis=0) - want) / (x.std(axis=0, ddof=1) / math.sqrt(x.shape[0]))


@pytest.mark.parametrize("cur", CURATIONS, ids=IDS)
def test_mean_fit_matches_the_exact_curated_chain(cur):
    """E[p^(m)], m = 1..3, under a curated Replace(6): the exact chain's expected fit
    (|z| < 5); the uncurated path (best of one: E[p^(m)] = p0) must be rejected from
    generation 2 on (|z| > 5)."""
    reg = Replace(6, curation=cur)
    tp = _token_probs(reg, 6000, seed=11)
    want = theory.curated_path(MODEL, reg, np.arange(1, G + 1)).mean
    z = _z(tp, want)
    assert np.abs(z).max() < 5, z
    plain = theory.curated_path(MODEL, Replace(6, curation=BestOfK(REWARD, 1)),
                                np.arange(1, G + 1)).mean
    np.testing.assert_allclose(plain, np.broadcast_to(MODEL.p, plain.shape), atol=1e-12)
    zc = _z(tp[:, 1:], plain[1:])
    assert np.all(np.abs(zc).max(axis=1) > 5), zc  # every curated generation


def test_best_of_k_is_not_its_limit():
    """Negative control for the simulated selection: best of 3 is not the K = inf tilt
    (the JAX samples of best of 3 reject the tilt's exact path)."""
    tp = _token_probs(Replace(6, curation=CURATIONS[0]), 6000, seed=11)
    tilt = theory.curated_path(MODEL, Replace(6, curation=CURATIONS[1]), [2, 3]).mean
    assert np.abs(_z(tp[:, 1:], tilt)).max() > 5


@pytest.mark.parametrize("cur", [CURATIONS[0], CURATIONS[2]], ids=["best-of-3", "verifier"])
def test_curated_mix_matches_numpy(cur):
    """A curated Mix (real block kept, curated synthetic samples from generation 2):
    JAX against the NumPy reference (two-sample |z| < 5 on every token and generation);
    the uncurated Mix as a negative control."""
    reg = Mix(6, 6, curation=cur)
    R = 3000
    a = _token_probs(reg, R, seed=5)
    b = _token_probs(reg, R, seed=6, backend="numpy")
    c = _token_probs(Mix(6, 6), R, seed=6, backend="numpy")

    def z(x, y):
        return (x.mean(0) - y.mean(0)) / np.sqrt(x.var(0) / R + y.var(0) / R + 1e-300)

    assert np.abs(z(a, b)).max() < 5
    assert np.abs(z(a[:, 1:], c[:, 1:])).max() > 5


def test_seeded_stream_is_reproducible():
    """The same seed gives the same paths; another seed others (the compiled chunk of
    the tests above is reused: same problem, same replicates)."""
    reg = Replace(6, curation=CURATIONS[0])
    a = _token_probs(reg, 6000, seed=11)
    np.testing.assert_array_equal(a, _token_probs(reg, 6000, seed=11))
    assert not np.array_equal(a, _token_probs(reg, 6000, seed=12))


def test_verifier_that_keeps_nothing_is_an_error():
    """Generation 1 (real, uncurated) can land on the rejected token only: the verifier
    then keeps nothing, and the JAX backend says so as the others do."""
    reg = Replace(1, curation=Verifier([0.0, 1.0]))
    with pytest.raises(ValueError, match="keeps none"):
        mc.simulate(Categorical([0.9, 0.1]), reg, 3, replicates=50, backend="jax", seed=0,
                    progress=False)
