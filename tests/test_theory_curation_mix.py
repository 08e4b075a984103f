"""Curation with real data: the exact Mix chains against the neutral closed forms, against
seeded simulation (|z| < 5, the Replace chain's values as negative control), their
stationary laws against late generations and against the infinite-sample fixed point
(O(1/n)); the fixed point's stability against closed-form Jacobians, and the papers'
sufficient conditions (Bertrand et al., Ferbach et al.) against the exact map."""

import math

import numpy as np
import pytest

from modelcollapse import montecarlo as mc
from modelcollapse import theory
from modelcollapse.curation import BestOfK, Verifier, curated_distribution
from modelcollapse.errors import TooLargeError, UnsupportedRegimeError
from modelcollapse.models import Categorical
from modelcollapse.regimes import Accumulate, Mix, MostRecent, Replace, SamplingPolicy
from modelcollapse.sampling import sampling_distribution

P0 = Categorical([0.5, 0.3, 0.2])
R = np.array([0.0, 1.0, 2.0])


@pytest.mark.parametrize("fresh", [False, True], ids=["kept-block", "fresh"])
def test_neutral_curation_is_the_uncurated_closed_form(fresh):
    """An equal reward selects nothing: the chain's homozygosity is the closed form of
    theory.homozygosity for Mix (a separate derivation) and E[p^(m)] = p0; the
    stationary value is the closed form's limit. A reward moves both (control)."""
    ms = np.array([1, 2, 3, 6])
    reg = Mix(4, 6, fresh=fresh, curation=BestOfK([0.0, 0.0, 0.0], 3))
    path = theory.curated_path(P0, reg, ms)
    want = theory.homozygosity(P0, Mix(4, 6, fresh=fresh), ms)
    np.testing.assert_allclose(path.homozygosity, want, rtol=1e-12)
    np.testing.assert_allclose(path.mean, np.tile(P0.p, (4, 1)), atol=1e-12)
    st = theory.curated_stationary(P0, reg)
    limit = theory.homozygosity(P0, Mix(4, 6, fresh=fresh), 2000)
    assert st.homozygosity == pytest.approx(float(limit), rel=1e-10)
    moved = theory.curated_path(P0, Mix(4, 6, fresh=fresh, curation=BestOfK(R, 3)), 6)
    assert abs(moved.homozygosity - want[-1]) > 1e-3
    assert moved.reward > P0.p @ R + 0.1


@pytest.mark.parametrize("fresh", [False, True], ids=["kept-block", "fresh"])
@pytest.mark.parametrize("cur", [BestOfK(R, 3), Verifier([1.0, 0.4, 0.7])],
                         ids=["best-of-3", "verifier"])
def test_mix_chain_against_simulation(cur, fresh):
    """E[p^(4)] of the chain against 4000 seeded numba replicates (|z| < 5); the
    Replace chain (no real data) as negative control."""
    reg = Mix(3, 5, fresh=fresh, curation=cur)
    path = theory.curated_path(P0, reg, 4)
    res = mc.simulate(P0, reg, 4, replicates=4000, seed=5, tokens=[0, 1, 2],
                      progress=False)
    m4 = res.statistic("token_prob")[:, 4]
    se = m4.std(0) / math.sqrt(len(m4))
    z = (m4.mean(0) - path.mean) / se
    assert np.all(np.abs(z) < 5), z
    alone = theory.curated_path(P0, Replace(5, curation=cur), 4).mean
    assert np.abs((m4.mean(0) - alone) / se).max() > 5


def test_stationary_law_two_solvers_and_the_large_n_limit():
    """The stationary law equals the propagated law at a late generation; as N = n grows
    it approaches the infinite-sample fixed point of real_data_stability as O(1/n)."""
    reg = Mix(4, 6, fresh=True, curation=BestOfK(R, 3))
    st = theory.curated_stationary(P0, reg)
    late = theory.curated_path(P0, reg, 400)
    np.testing.assert_allclose(st.mean, late.mean, atol=1e-12)
    assert st.reward == pytest.approx(late.reward, abs=1e-12)
    model = Categorical([0.4, 0.6])
    gaps = []
    for N in (10, 40):
        reg = Mix(N, N, fresh=True, curation=BestOfK([1.0, 0.0], 4))
        star = theory.real_data_stability(model, reg).fixed_point
        gaps.append(abs(theory.curated_stationary(model, reg).mean[0] - star[0]))
    assert gaps[0] / gaps[1] == pytest.approx(4.0, rel=0.1)
    assert gaps[1] < 2e-3
    # negative control: the stationary point is not p0 (selection moved it)
    assert abs(star[0] - 0.4) > 0.1


def test_stability_closed_forms():
    """Without curation F(p) = (1-a) p0 + a p: p* = p0, radius a = lam/(1+lam) < 1 for
    every lam (Bertrand et al.'s lam < 1/2 is sufficient only). The K=inf tilt: the
    radius of the analytic Jacobian a (diag(w) - q w^T)/(w.p). Temperature T on two
    equal tokens: p* = (1/2, 1/2), radius a/T: unstable when a > T."""
    for syn in (50, 1000):
        st = theory.real_data_stability(P0, Mix(100, syn))
        a = syn / (100 + syn)
        np.testing.assert_allclose(st.fixed_point, P0.p, atol=1e-12)
        assert st.spectral_radius == pytest.approx(a, rel=1e-6) and st.stable
        assert st.bertrand == (syn / 100 < 0.5) and st.kl_bound == 0.0
    reg = Mix(100, 300, curation=BestOfK(R, math.inf))
    st = theory.real_data_stability(P0, reg)
    p, w, a = st.fixed_point, np.exp(R), reg.alpha
    np.testing.assert_allclose(p, (1 - a) * P0.p + a * p * w / (p @ w), atol=1e-12)
    J = a * (np.diag(w) - np.outer(p * w / (p @ w), w)) / (p @ w)
    B = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])  # tangent basis e_i - e_3
    Jt = np.linalg.lstsq(B, J @ B, rcond=None)[0]
    assert st.spectral_radius == pytest.approx(np.abs(np.linalg.eigvals(Jt)).max(),
                                               rel=1e-6)
    half = Categorical([0.5, 0.5])
    for T, a_syn, stable in ((0.5, 40, True), (0.5, 300, False)):
        reg = Mix(100, a_syn, temperature=T)
        st = theory.real_data_stability(half, reg)
        assert st.spectral_radius == pytest.approx(reg.alpha / T, rel=1e-6)
        assert st.stable is stable


RARE = Categorical([0.98, 0.019, 0.001])


def _path(lam, cur, steps=50):
    p, out = RARE.p, []
    for _ in range(steps):
        p = (RARE.p + lam * curated_distribution(p, cur)) / (1 + lam)
        out.append(p)
    return np.array(out)


@pytest.mark.slow  # verify checks the same bounds (curation.real-data)
@pytest.mark.parametrize("K", [2, 4])
def test_ferbach_real_data_bounds(K):
    """Ferbach et al., along the exact infinite-sample path with lam (K-1) < 1: the
    likelihood ratio p^(m)/p0 stays below c = 1/(1 - lam (K-1)), hence the KL to p0 below
    log c (Thm 2.4), and E[e^r] above its reference floor (Thm 2.3). A rare token of
    large reward brings the ratio within 20% of c: the bound at half the ratio (c = 1.8)
    is broken (control)."""
    r = np.array([0.0, 0.0, 8.0])
    cur = BestOfK(r, K)
    lam = 0.9 / (K - 1)
    path = _path(lam, cur)
    c = 1 / (1 - lam * (K - 1))
    ratio = (path / RARE.p).max()
    assert ratio <= c and ratio > 0.8 * c
    assert ratio > 1 / (1 - lam / 2 * (K - 1))  # control
    kl = (path * np.log(path / RARE.p)).sum(axis=1)
    st = theory.real_data_stability(RARE, Mix(1000, round(1000 * lam), curation=cur))
    assert st.kl_bound == pytest.approx(math.log(c), rel=1e-2)
    assert kl.max() <= math.log(c)
    np.testing.assert_allclose(st.fixed_point, path[-1], atol=1e-3)  # lam rounded
    w = np.exp(r)
    var = RARE.p @ w**2 - (RARE.p @ w) ** 2
    floor = RARE.p @ w + lam / (1 + lam) ** 3 * (K - 1) * var / (K * w.max())
    assert (path @ w).min() >= floor
    cold = SamplingPolicy(temperature=0.5)  # control: outside the theorem it fails
    q = RARE.p
    for _ in range(50):
        q = (RARE.p + lam * curated_distribution(sampling_distribution(q, cold), cur)) / (
            1 + lam)
    assert q @ w < floor


def test_bad_requests():
    with pytest.raises(UnsupportedRegimeError, match="Mix"):
        theory.real_data_stability(P0, Replace(10, curation=BestOfK(R, 3)))
    with pytest.raises(UnsupportedRegimeError):
        theory.curated_stationary(P0, Replace(10, curation=BestOfK(R, 3)))
    with pytest.raises(ValueError, match="needs a regime with a curation"):
        theory.curated_stationary(P0, Mix(3, 3))
    with pytest.raises(ValueError, match="exact=True"):
        theory.curated_path(P0, Mix(3, 3, curation=BestOfK(R, 3)), 2, exact=True)
    with pytest.raises(TooLargeError, match="compositions"):
        theory.curated_stationary(P0, Mix(60, 60, fresh=True, curation=BestOfK(R, 3)))
    with pytest.raises(ValueError, match="rejects"):
        theory.curated_stationary(Categorical([0.9, 0.1]), "mix:2:3:accept=0,1")
    with pytest.raises(ValueError, match="3 entries, the model has 2"):
        theory.real_data_stability(Categorical([0.5, 0.5]), "mix:3:3:accept=1,1,1")


def test_cli_reports_the_stationary_answer(capsys):
    """collapse-time of a curated Mix: no collapse, the exact chain's stationary reward
    and homozygosity, the fixed point's radius; a chain above its cap falls back to the
    infinite-sample fixed point and says so."""
    import json

    from modelcollapse.cli import main

    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--regime", "mix:3:4",
                 "--best-of", "3", "--reward", "0,1,2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    reg = Mix(3, 4, curation=BestOfK(R, 3))
    late = theory.curated_path(P0, reg, 500)  # the propagated law, a second solver
    assert out["expected_collapse_time"] is None
    assert out["stationary_reward"] == pytest.approx(late.reward, rel=1e-10)
    assert out["stationary_homozygosity"] == pytest.approx(late.homozygosity, rel=1e-10)
    assert out["stationary_method"] == "exact chain"
    assert out["spectral_radius"] == pytest.approx(
        theory.real_data_stability(P0, reg).spectral_radius, rel=1e-9)
    assert main(["collapse-time", "--p", "0.5,0.3,0.2", "--regime", "mix:400:600",
                 "--accept", "1,0.5,0.2"]) == 0
    text = capsys.readouterr().out
    assert "reward_inf" in text and "infinite-sample fixed point" in text


def test_text_models_refuse_a_curated_regime():
    """The n-gram text chain, the transformer harness and the VAE chain train on every
    sample they draw: a curated regime is refused, not silently run uncurated."""
    from modelcollapse.harness import CONFIGS, resolve_regime, run_vae_chain
    from modelcollapse.montecarlo import text_chain

    reg = Replace(200, curation=BestOfK([0.0, 1.0, 2.0], 3))
    with pytest.raises(UnsupportedRegimeError, match="derived without curation"):
        text_chain(np.arange(50) % 3, 3, 1, reg, 2)
    with pytest.raises(UnsupportedRegimeError, match="harness"):
        resolve_regime("replace:20000:accept=1,1,0.5", CONFIGS["tiny"])
    with pytest.raises(UnsupportedRegimeError, match="VAE"):
        run_vae_chain("tiny", reg, 1)
    assert resolve_regime("replace:20000", CONFIGS["tiny"]) == Replace(20000)  # control


CONV = [BestOfK(R, math.inf), Verifier([0.3, 0.6, 1.0]), BestOfK(R, 3)]


@pytest.mark.parametrize("cur", CONV, ids=["tilt", "verifier", "best-of-3"])
def test_convergence_geometric_rates(cur):
    """Replace and MostRecent(k=3) approach the top token geometrically: the ratio of
    successive gaps of the exact infinite-sample recursion equals the linearised rate
    (max g, and the largest root of x^3 = (g/3)(x^2 + x + 1))."""
    for reg in (Replace(10, curation=cur), MostRecent(10, 3, curation=cur)):
        c = theory.curated_convergence(P0, reg)
        assert c.kind == "geometric" and list(c.top) == [2]
        path = theory.curated_path(P0, reg, [40, 41], method="deterministic")
        gap = path.mean[:, :2].sum(axis=1)  # not 1 - p_2: no cancellation
        assert gap[1] / gap[0] == pytest.approx(c.rate, rel=1e-4)
    # negative control: MostRecent's rate is not Replace's
    assert abs(theory.curated_convergence(P0, MostRecent(10, 3, curation=cur)).rate
               - theory.curated_convergence(P0, Replace(10, curation=cur)).rate) > 0.1


@pytest.mark.parametrize("cur", CONV[:2], ids=["tilt", "verifier"])
def test_accumulating_real_data_still_collapses_diversity(cur):
    """Accumulate keeps every real sample, yet the curated fit converges onto the top
    token as a power of m: the second token's local exponent over [2000, 20000] within
    0.015 of gamma = 1 - g (the gap shrinks as m grows); not the real share's 1/m."""
    reg = Accumulate(10, curation=cur)
    c = theory.curated_convergence(P0, reg)
    assert c.kind == "power" and c.rate == pytest.approx(1 - c.gains[1], rel=1e-12)
    ms = np.array([2000, 20000])
    p1 = theory.curated_path(P0, reg, ms, method="deterministic").mean[:, 1]
    slope = -np.diff(np.log(p1))[0] / np.log(10)
    assert abs(slope - c.rate) < 0.015
    assert abs(slope - 1.0) > 0.3  # control


def test_convergence_gains_are_the_limit_of_the_map():
    """g_i = lim C(p)_i / p_i as p nears the top token: best-of-3's quadrature map at a
    distance 1e-6 of the Dirac, against K w_i / (w_i + (K-1) w*)."""
    c = theory.curated_convergence(P0, Replace(10, curation=BestOfK(R, 3)))
    eps = 1e-6
    p = np.array([eps, eps, 1 - 2 * eps])
    ratio = curated_distribution(p, BestOfK(R, 3))[:2] / eps
    np.testing.assert_allclose(ratio, c.gains[:2], rtol=1e-5)
    assert np.abs(ratio - np.exp(R[:2] - 2)).max() > 0.05  # control: not the tilt's


def test_convergence_bad_requests():
    with pytest.raises(UnsupportedRegimeError, match="real_data_stability"):
        theory.curated_convergence(P0, Mix(3, 3, curation=BestOfK(R, 3)))
    with pytest.raises(UnsupportedRegimeError, match="plain sampling"):
        theory.curated_convergence(P0, Replace(3, temperature=0.5, curation=BestOfK(R, 3)))
    with pytest.raises(ValueError, match="needs a regime with a curation"):
        theory.curated_convergence(P0, Replace(3))
    with pytest.raises(ValueError, match="rejects every token"):
        theory.curated_convergence(Categorical([0.5, 0.5, 0.0]),
                                   Replace(3, curation=Verifier([0, 0, 1])))
    with pytest.raises(TypeError, match="exact must be True or False"):
        theory.curated_path(P0, Mix(3, 3, curation=BestOfK(R, 3)), 2, exact="yes")
    flat = theory.curated_convergence(P0, Accumulate(3, curation=BestOfK([1, 1, 1], 3)))
    assert flat.rate == math.inf and list(flat.top) == [0, 1, 2]


def test_kept_block_stationary_under_strong_selection():
    """A kept real block lacking a token: its chain lists synthetic counts of that token,
    which it never reaches; the stationary law is solved on the reachable states and
    equals the propagated law (the unreachable states once took all the mass)."""
    for model, r in ((Categorical([0.3, 0.6, 0.1]), (1.0, 0.0, 3.0)),
                     (Categorical([0.3, 0.7 - 1e-13, 1e-13]), (1.0, 0.0, 2.0))):
        reg = Mix(8, 12, curation=BestOfK(r, math.inf))
        late = theory.curated_path(model, reg, [300, 301]).reward
        assert late[0] == pytest.approx(late[1], rel=1e-12)
        assert theory.curated_stationary(model, reg).reward == pytest.approx(late[1],
                                                                             rel=1e-9)
    # several closed classes (fresh data, top_k=1): refused, not guessed
    with pytest.raises(ValueError, match="several stationary laws"):
        theory.curated_stationary(P0, Mix(3, 4, top_k=1, fresh=True,
                                          curation=BestOfK(R, 3)))


def test_stability_with_a_tiny_token_and_a_saddle():
    """A token of mass 1e-13: the Jacobian's steps are relative to each coordinate, and
    a saddle passed on the way is not reported: the same point and radius whatever the
    token order, and F iterated to convergence lands there."""
    model = Categorical([0.3, 0.7 - 1e-13, 1e-13])
    a = theory.real_data_stability(model, Mix(10, 30, curation=BestOfK([1.0, 0, 2], math.inf)))
    b = theory.real_data_stability(Categorical(model.p[::-1]),
                                   Mix(10, 30, curation=BestOfK([2.0, 0, 1], math.inf)))
    np.testing.assert_allclose(a.fixed_point, b.fixed_point[::-1], atol=1e-10)
    assert a.spectral_radius == pytest.approx(b.spectral_radius, rel=1e-6) and a.stable
    cur = BestOfK([1.0, 0, 2], math.inf)
    p = model.p
    for _ in range(3000):
        p = 0.25 * model.p + 0.75 * curated_distribution(p, cur)
    np.testing.assert_allclose(a.fixed_point, p, atol=1e-9)
    # Ferbach's bound needs plain sampling: none under a temperature
    hot = Mix(100, 30, temperature=100.0, curation=BestOfK([0.0, 1.0], 2))
    assert theory.real_data_stability(Categorical([0.7, 0.3]), hot).kl_bound == math.inf
