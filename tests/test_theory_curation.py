"""Theory of curated retraining: the exact chain (float against rational), against seeded
simulation (|z| < 5 with the exact variance, negative controls), the selection diffusion
against the chain and against Kimura's closed forms, and the deterministic recursion
against its closed form."""

import math
from fractions import Fraction

import numpy as np
import pytest

from modelcollapse import montecarlo as mc
from modelcollapse import theory
from modelcollapse.curation import BestOfK, Verifier
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError
from modelcollapse.models import Categorical
from modelcollapse.regimes import Accumulate, Mix, Replace

P0 = Categorical([0.5, 0.3, 0.2])


def _f(v):
    return np.array([float(x) for x in v])


@pytest.mark.parametrize("cur", [BestOfK([0.0, 1.0, 2.0], 3), Verifier([1.0, 0.5, 0.25]),
                                 BestOfK([0.0, 0.5, 1.0], math.inf)],
                         ids=["best-of-3", "verifier", "tilt"])
def test_chain_float_equals_rational(cur):
    reg = Replace(3, curation=cur)
    ex = theory.curated_path(P0, reg, [1, 2, 4], exact=True)
    fl = theory.curated_path(P0, reg, [1, 2, 4])
    np.testing.assert_allclose(fl.mean, [_f(r) for r in ex.mean], rtol=1e-10)
    np.testing.assert_allclose(fl.homozygosity, _f(ex.homozygosity), rtol=1e-10)
    np.testing.assert_allclose(fl.reward, _f(ex.reward), rtol=1e-10)
    fx, ff = theory.curated_fixation(P0, reg, exact=True), theory.curated_fixation(P0, reg)
    assert sum(fx.probabilities) == 1
    np.testing.assert_allclose(ff.probabilities, _f(fx.probabilities), rtol=1e-10)
    assert float(ff.mean_time) == pytest.approx(float(fx.mean_time), rel=1e-10)
    # generation 1 is real: E[p^(1)] = p0 exactly
    assert ex.mean[0] == [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]


def test_expected_reward_rises_and_fixes_on_the_best_token():
    """Ferbach et al.: the expected reward rises generation after generation; with finite
    n the chain fixes, most often on the token of largest reward."""
    reg = Replace(8, curation=BestOfK([0.0, 1.0, 2.0], 4))
    path = theory.curated_path(P0, reg, np.arange(1, 30))
    assert np.all(np.diff(path.reward) > 0)
    fix = theory.curated_fixation(P0, reg)
    assert np.argmax(fix.probabilities) == 2
    # two solvers: propagated laws at a late generation against the absorption solve
    late = theory.curated_path(P0, reg, 400)
    assert late.reward == pytest.approx(fix.probabilities @ [0.0, 1.0, 2.0], rel=1e-9)
    assert path.reward[-1] < late.reward
    # negative control: with an equal reward nothing is selected: E[p^(m)] stays p0
    flat = theory.curated_path(P0, Replace(8, curation=BestOfK([1.0, 1.0, 1.0], 4)), 10)
    np.testing.assert_allclose(flat.mean, P0.p, rtol=1e-10)
    neutral = theory.curated_fixation(P0, Replace(8, curation=BestOfK([1.0] * 3, 4)))
    np.testing.assert_allclose(neutral.probabilities, P0.p, rtol=1e-10)


@pytest.mark.parametrize("cur", [BestOfK([0.0, 1.0, 2.0], 3), Verifier([1.0, 0.4, 0.7])],
                         ids=["best-of-3", "verifier"])
def test_chain_against_simulation(cur):
    """E[p^(4)], fixation frequencies and the mean collapse time of the chain against
    4000 seeded numba replicates (|z| < 5; the uncurated values as negative control)."""
    n = 6
    reg = Replace(n, curation=cur)
    path = theory.curated_path(P0, reg, 4)
    fix = theory.curated_fixation(P0, reg)
    res = mc.simulate(P0, reg, 400, replicates=4000, seed=11, tokens=[0, 1, 2],
                      progress=False, record="listed" if False else "all")
    tp = res.statistic("token_prob")
    m4 = tp[:, 4]
    z = (m4.mean(0) - path.mean) / (m4.std(0) / math.sqrt(len(m4)))
    assert np.all(np.abs(z) < 5), z
    assert np.abs((m4.mean(0) - P0.p) / (m4.std(0) / math.sqrt(len(m4)))).max() > 5
    ct = res.collapse_time
    assert np.all(ct > 0)
    zt = (ct.mean() - fix.mean_time) / (ct.std() / math.sqrt(len(ct)))
    assert abs(zt) < 5, zt
    won = np.argmax(tp[:, -1], axis=1)
    freq = np.bincount(won, minlength=3) / len(won)
    sd = np.sqrt(fix.probabilities * (1 - fix.probabilities) / len(won))
    assert np.all(np.abs(freq - fix.probabilities) < 5 * sd), (freq, fix.probabilities)
    assert np.any(np.abs(freq - P0.p) > 5 * np.sqrt(P0.p * (1 - P0.p) / len(won)))


@pytest.mark.parametrize("k", [2, 5, math.inf])
def test_diffusion_approaches_the_chain(k):
    """Two tokens: the diffusion's fixation probability and mean time against the exact
    chain at n = 50 and 200; the gap is O(1/n)."""
    model = Categorical([0.3, 0.7])
    gaps = []
    for n in (50, 200):
        reg = Replace(n, curation=BestOfK([5.0 / n, 0.0], k))  # 2ns fixed: same shape
        ch = theory.curated_fixation(model, reg, method="chain")
        df = theory.curated_fixation(model, reg, method="diffusion")
        du = abs(ch.probabilities[0] - df.probabilities[0])
        dt = abs(ch.mean_time / df.mean_time - 1)
        assert du < 1.0 / n and dt < 5.0 / n, (n, du, dt)
        gaps.append(dt)
    assert gaps[1] < gaps[0]
    # negative control: the neutral answer is far from the selected one
    assert abs(ch.probabilities[0] - 0.3) > 0.1


def test_diffusion_neutral_and_kimura_closed_forms():
    """Equal rewards: u = z and Kimura's neutral time -2n[z ln z + (1-z) ln(1-z)],
    averaged over generation 1's binomial start; the k=inf tilt at weak selection:
    Kimura's u = (1 - e^{-2nsz}) / (1 - e^{-2ns}) within the O(s) of g = s + O(s)."""
    from scipy import stats

    n, z0 = 500, 0.3
    model = Categorical([z0, 1 - z0])
    df = theory.curated_fixation(model, Replace(n, curation=BestOfK([0.0, 0.0], 3)),
                                 method="diffusion")
    k = np.arange(n + 1)
    z = k / n
    with np.errstate(divide="ignore", invalid="ignore"):
        H = -np.nan_to_num(z * np.log(z)) - np.nan_to_num((1 - z) * np.log(1 - z))
    w = stats.binom.pmf(k, n, z0)
    assert df.probabilities[0] == pytest.approx(z0, abs=1e-9)
    assert df.mean_time == pytest.approx(1 + w @ (2 * n * H), rel=1e-5)
    s = 2.0 / n
    reg = Replace(n, curation=BestOfK([s, 0.0], math.inf))
    kim = theory.curated_fixation(model, reg, method="kimura").probabilities[0]
    dif = theory.curated_fixation(model, reg, method="diffusion").probabilities[0]
    assert abs(kim - dif) < 3 * s
    assert abs(kim - z0) > 0.2  # negative control: selection moved it


def test_deterministic_recursion_closed_forms():
    """n = inf: under Replace with the tilt, p^(m) = p0 w^(m-1) / sum; under Mix the
    recursion converges to the fixed point of p = (1 - a) p0 + a C(p)."""
    r = np.array([0.0, 1.0, 2.0])
    reg = Replace(10, curation=BestOfK(r, math.inf))
    path = theory.curated_path(P0, reg, np.arange(1, 6), method="deterministic")
    for j, m in enumerate(range(1, 6)):
        want = P0.p * np.exp(r * (m - 1))
        np.testing.assert_allclose(path.mean[j], want / want.sum(), rtol=1e-12)
    mix = Mix(10, 10, curation=BestOfK(r, math.inf))
    far = theory.curated_path(P0, mix, 200, method="deterministic").mean
    a = mix.alpha
    fixed = (1 - a) * P0.p + a * far * np.exp(r) / (far @ np.exp(r))
    np.testing.assert_allclose(far, fixed, atol=1e-12)
    assert far.max() < 0.95  # with real data the model does not collapse
    acc = theory.curated_path(P0, Accumulate(10, curation=BestOfK(r, math.inf)), 50,
                              method="deterministic")
    assert acc.reward > P0.p @ r


def test_bad_requests():
    with pytest.raises(ValueError, match="needs a regime with a curation"):
        theory.curated_path(P0, Replace(3), 2)
    with pytest.raises(UnsupportedRegimeError):
        theory.curated_fixation(P0, Mix(3, 3, curation=Verifier([1, 1, 1])))
    with pytest.raises(TooLargeError):
        theory.curated_path(P0, Replace(200, curation=Verifier([1, 1, 1])), 2)
    with pytest.raises(ValueError, match="3 entries, the model has 2"):
        theory.curated_path(Categorical([0.5, 0.5]), "replace:3:accept=1,1,1", 2)
    with pytest.raises(ValueError, match="m must be >= 1"):
        theory.curated_path(P0, "replace:3:accept=1,1,1", 0)
    with pytest.raises(UnsupportedRegimeError, match="two tokens"):
        theory.curated_fixation(P0, "replace:3:accept=1,1,1", method="diffusion")
    with pytest.raises(ValueError, match="kimura"):
        theory.curated_fixation(Categorical([0.5, 0.5]), "replace:30:best_of=3:reward=1,0",
                                method="kimura")
    with pytest.raises(ValueError, match="rejects"):  # generation 1 may hold token 0 only
        theory.curated_path(Categorical([0.9, 0.1]), "replace:2:accept=0,1", 2)
