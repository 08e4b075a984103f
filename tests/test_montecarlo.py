"""The Monte Carlo engine: fast kernels against the raw-sample reference, against the
exact theory, and against each other; the result object; the engine's contract.

Statistical checks are seeded (deterministic). Distribution checks use a two-sample
Kolmogorov--Smirnov test at significance 1e-3 (the null is the kernel and the
reference having the same law); each family of checks has a negative control that
must reject. Theory checks require |z| < 5.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Categorical,
    Gaussian,
    GaussianMixture,
    LinearRegression,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    montecarlo,
    theory,
)
from modelcollapse.montecarlo import Problem, reference_simulate, simulate

ALPHA = 1e-3
FAST = ("numpy", "numba")


def ks_p(a, b) -> float:
    """Two-sample KS p-value; values are rounded to 1e-10 so that discrete statistics
    computed in different orders of summation compare equal."""
    return stats.ks_2samp(np.round(np.ravel(a), 10), np.round(np.ravel(b), 10)).pvalue


def zscore(sample, mean, var) -> float:
    sample = np.asarray(sample, dtype=np.float64)
    return (sample.mean() - mean) / np.sqrt(var / sample.size)


# ---------------------------------------------------------------------- categorical
CAT = Categorical([0.4, 0.3, 0.15, 0.1, 0.05])
CAT_REGIMES = [Replace(12), Mix(6, 10), Mix(6, 10, fresh=True), Accumulate(8),
               AccumulateSubsample(8), MostRecent(12, 3), RandomlySampled(10)]


@pytest.fixture(scope="module")
def cat_reference():
    out = {}
    for reg in CAT_REGIMES:
        pr = Problem(CAT, reg, statistics=("homozygosity", "l1_first"), tokens=(4,))
        out[reg] = reference_simulate(pr, 6, replicates=600, seed=11)
    return out


@pytest.mark.parametrize("backend", FAST)
@pytest.mark.parametrize("regime", CAT_REGIMES, ids=repr)
def test_categorical_kernels_match_reference(backend, regime, cat_reference):
    ref = cat_reference[regime]
    sim = simulate(CAT, regime, 6, replicates=600, backend=backend, seed=5,
                   statistics=("homozygosity", "l1_first"))
    for name in ("homozygosity", "l1_first"):
        assert sim[name].shape == (600, 7)
        assert ks_p(ref[name][:, -1], sim[name][:, -1]) > ALPHA, name


def test_categorical_negative_control(cat_reference):
    """The same KS check rejects a kernel run with another n."""
    ref = cat_reference[Replace(12)]["homozygosity"][:, -1]
    for backend in FAST:
        sim = simulate(CAT, Replace(8), 6, replicates=600, backend=backend, seed=5,
                       statistics="homozygosity")
        assert ks_p(ref, sim["homozygosity"][:, -1]) < ALPHA


@pytest.mark.parametrize("backend", FAST)
def test_temperature_matches_reference(backend):
    model = Categorical.zipf(20, 1.0)
    for T in (0.5, 2.0):
        for reg in (Replace(30, temperature=T), Mix(10, 20, temperature=T)):
            pr = Problem(model, reg, statistics=("entropy",))
            ref = reference_simulate(pr, 5, replicates=500, seed=3)["entropy"][:, -1]
            sim = simulate(model, reg, 5, replicates=500, backend=backend, seed=4,
                           statistics="entropy")["entropy"][:, -1]
            assert ks_p(ref, sim) > ALPHA, (T, reg)
    # negative control: tempering changes the law
    cold = simulate(model, Replace(30, temperature=0.5), 5, replicates=500, backend=backend,
                    seed=4, statistics="entropy")["entropy"][:, -1]
    plain = simulate(model, Replace(30), 5, replicates=500, backend=backend, seed=4,
                     statistics="entropy")["entropy"][:, -1]
    assert ks_p(cold, plain) < ALPHA
    assert cold.mean() < plain.mean()  # T < 1 sharpens: lower entropy


@pytest.mark.parametrize("backend", FAST)
def test_categorical_exact_invariants(backend):
    n = 37
    res = simulate(Categorical.zipf(50, 1.2), Replace(n), 20, replicates=50,
                   backend=backend, seed=1, tokens=range(50))
    P = res["token_prob"]
    assert np.allclose(P.sum(axis=2), 1.0)
    counts = P[:, 1:] * n
    assert np.allclose(counts, np.round(counts), atol=1e-9)
    support = res["support_size"]
    assert np.array_equal(support[:, 1:], np.count_nonzero(P[:, 1:], axis=2))
    assert np.all(np.diff(support[:, 1:], axis=1) <= 0)  # Replace never revives a token
    assert np.allclose(res["tv_real"], res["l1_real"] / 2)
    assert np.all(np.isnan(res["l1_first"][:, 0]))
    assert np.allclose(res["l1_first"][:, 1], 0.0)
    # loss times agree with the recorded probabilities
    lt = res.token_loss_time
    for r in range(5):
        for j in range(50):
            zeros = np.flatnonzero(P[r, :, j] == 0)
            assert lt[r, j] == (zeros[0] if zeros.size else -1)


def test_fresh_mix_tokens_come_back():
    """With fresh real data a token lost at one generation can return (no collapse)."""
    res = simulate(Categorical.uniform(30), Mix(5, 5, fresh=True), 40, replicates=20,
                   backend="numba", seed=0, statistics="support_size")
    s = res["support_size"][:, 1:]
    assert np.any(np.diff(s, axis=1) > 0)


# ---------------------------------------------------------------------- theory vs simulation
@pytest.mark.parametrize("backend", [b if b == "numba" else
                                     pytest.param(b, marks=pytest.mark.slow) for b in FAST])
def test_collapse_time_against_exact_law(backend):
    model, reg = Categorical([0.5, 0.3, 0.2]), Replace(20)
    law = theory.collapse_time(model, reg)
    res = simulate(model, reg, None, replicates=4000, backend=backend, seed=2,
                   statistics=())
    T = res.collapse_time
    assert np.all(T >= 1) and res.generations == T.max()
    assert abs(zscore(T, law.mean(), law.var())) < 5
    # the whole law: chi-square over deciles of the exact law
    edges = np.unique([law.quantile(q) for q in np.linspace(0.1, 0.9, 9)])
    obs = np.histogram(T, bins=np.r_[0, edges + 0.5, np.inf])[0]  # bins (e_k, e_k+1]
    probs = np.diff(np.r_[0.0, law.cdf(edges.astype(int)), 1.0])
    assert stats.chisquare(obs, probs * T.size).pvalue > ALPHA
    # negative control: the law of another n is rejected
    other = theory.collapse_time(model, Replace(25))
    probs_other = np.diff(np.r_[0.0, other.cdf(edges.astype(int)), 1.0])
    assert stats.chisquare(obs, probs_other * T.size).pvalue < ALPHA


@pytest.mark.parametrize("backend", FAST)
def test_token_loss_and_surviving_tokens_against_theory(backend):
    model, reg = Categorical.zipf(40, 1.0), Replace(60)
    res = simulate(model, reg, 30, replicates=3000, backend=backend, seed=8,
                   tokens=(10, 39), statistics=("support_size", "token_prob"))
    for j, tok in enumerate((10, 39)):
        law = theory.token_loss(model, reg, tok)
        lost = res.token_loss_time[:, j]
        # P(lost by generation 30) against the exact cdf, binomial variance
        p = float(law.cdf(30))
        assert abs(zscore(lost >= 0, p, p * (1 - p))) < 5
        # E p_i^(m) = p_i and Var p_i^(m) = p_i (1 - p_i) (1 - (1 - 1/n)^m), exactly
        m = 30
        pi = model.p[tok]
        var = pi * (1 - pi) * (1 - (1 - 1 / reg.n) ** m)
        assert abs(zscore(res["token_prob"][:, m, j], pi, var)) < 5
    ms = np.array([1, 5, 30])
    expected = theory.expected_surviving_tokens(model, reg, ms)
    for m, e in zip(ms, expected, strict=True):
        s = res["support_size"][:, m]
        assert abs(zscore(s, e, s.var(ddof=1))) < 5
    # negative control: the theory of another n is rejected
    wrong = theory.expected_surviving_tokens(model, Replace(40), 30)
    s = res["support_size"][:, 30]
    assert abs(zscore(s, wrong, s.var(ddof=1))) > 5


@pytest.mark.parametrize("regime", [Replace(15), Mix(8, 12), Mix(8, 12, fresh=True)],
                         ids=repr)
def test_homozygosity_against_closed_forms(regime):
    """E S_m of theory.homozygosity (Seddik Thms 1-2, and the fresh-mix recursion)
    against simulation; sample-variance z-scores."""
    model = Categorical([0.5, 0.25, 0.15, 0.1])
    res = simulate(model, regime, 12, replicates=4000, backend="numba", seed=21,
                   statistics="homozygosity")
    for m in (1, 4, 12):
        S = res["homozygosity"][:, m]
        assert abs(zscore(S, theory.homozygosity(model, regime, m), S.var(ddof=1))) < 5


def test_fresh_mix_homozygosity_exact_rational():
    """The fresh-mix closed form against brute-force enumeration of the chain in
    rational arithmetic (2 tokens, N = 2, n = 2)."""
    from fractions import Fraction as F
    from math import comb

    N, n = 2, 2
    p = F(1, 3)
    reg = Mix(N, n, fresh=True)

    def binom(k, x, q):
        return comb(k, x) * q**x * (1 - q) ** (k - x)

    # law of p^(1) = Bin(N, p)/N; then p' = (R + S)/(N + n), R ~ Bin(N, p), S ~ Bin(n, p)
    law = {F(x, N): binom(N, x, p) for x in range(N + 1)}
    for m in range(1, 5):
        S = sum(w * (q * q + (1 - q) * (1 - q)) for q, w in law.items())
        assert S == theory.homozygosity([p, 1 - p], reg, m, exact=True)
        new = {}
        for q, w in law.items():
            for r in range(N + 1):
                for s in range(n + 1):
                    key = F(r + s, N + n)
                    new[key] = new.get(key, 0) + w * binom(N, r, p) * binom(n, s, q)
        law = new


# ---------------------------------------------------------------------- continuous (numpy)
GAUSS_CASES = [
    (Gaussian(), Replace(5)), (Gaussian(estimator="mle"), Mix(5, 5)),
    (Gaussian(), Mix(5, 5, fresh=True)), (Gaussian(), Accumulate(4)),
    (Gaussian(), AccumulateSubsample(5)), (Gaussian(), MostRecent(6, 3)),
    (Gaussian(), RandomlySampled(5)),
    (Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]], estimator="mle"), Replace(4)),
    (Gaussian([0.0, 1.0], [[1.0, 0.3], [0.3, 2.0]]), RandomlySampled(5)),
]


@pytest.mark.parametrize("model,regime", GAUSS_CASES, ids=lambda x: repr(x))
def test_numpy_gaussian_matches_reference(model, regime):
    pr = Problem(model, regime, statistics=("logdet_ratio", "w2"))
    ref = reference_simulate(pr, 5, replicates=500, seed=1)
    sim = simulate(model, regime, 5, replicates=500, backend="numpy", seed=2,
                   statistics=("logdet_ratio", "w2"))
    for name in ("logdet_ratio", "w2"):
        assert ks_p(ref[name][:, -1], sim[name][:, -1]) > ALPHA, name


REG_CASES = [(LinearRegression.isotropic(3, design=d), r) for d in ("fixed", "fresh")
             for r in (Replace(8), Mix(8, 6), Accumulate(8), AccumulateSubsample(8),
                       MostRecent(8, 2), RandomlySampled(8))]


@pytest.mark.parametrize("model,regime", REG_CASES, ids=lambda x: repr(x))
def test_numpy_regression_matches_reference(model, regime):
    pr = Problem(model, regime, statistics=("test_error",))
    ref = reference_simulate(pr, 4, replicates=400, seed=1)["test_error"][:, -1]
    sim = simulate(model, regime, 4, replicates=400, backend="numpy", seed=2,
                   statistics="test_error")["test_error"][:, -1]
    assert ks_p(ref, sim) > ALPHA


def test_numpy_mixture_matches_reference():
    model = GaussianMixture.blob(2, components=2, max_iter=30)
    pr = Problem(model, Replace(40), statistics=("weights",))
    ref = reference_simulate(pr, 3, replicates=120, seed=1)["weights"][:, -1].min(axis=1)
    sim = simulate(model, Replace(40), 3, replicates=120, backend="numpy", seed=2,
                   statistics="weights")["weights"][:, -1].min(axis=1)
    assert ks_p(ref, sim) > ALPHA


def test_continuous_negative_control():
    pr = Problem(Gaussian(), Replace(5), statistics=("logdet_ratio",))
    ref = reference_simulate(pr, 5, replicates=500, seed=1)["logdet_ratio"][:, -1]
    sim = simulate(Gaussian(), Replace(8), 5, replicates=500, backend="numpy", seed=2,
                   statistics="logdet_ratio")["logdet_ratio"][:, -1]
    assert ks_p(ref, sim) < ALPHA


def test_gaussian_against_exact_moments():
    """Unbiased: E log sigma_t^2 = t [psi((M-1)/2) + log(2/(M-1))] with variance
    t psi'((M-1)/2); MLE: E sigma_t^2 = ((M-1)/M)^t (log-moment and mean checks)."""
    from scipy.special import polygamma, psi

    M, t = 10, 8
    res = simulate(Gaussian(), Replace(M), t, replicates=4000, backend="numpy", seed=3,
                   statistics=("logdet_ratio", "mean_sq_error"))
    mu = t * (psi((M - 1) / 2) + np.log(2 / (M - 1)))
    var = t * polygamma(1, (M - 1) / 2)
    assert abs(zscore(res["logdet_ratio"][:, t], mu, var)) < 5
    # E (mu_t - mu_0)^2 = t sigma^2/M (a sum of t independent N(0, sigma_s^2/M) steps);
    # check the log-free statistic at small t where rare paths do not dominate
    e = res["mean_sq_error"][:, 2]
    assert abs(zscore(e, 2 / M, e.var(ddof=1))) < 5
    mle = simulate(Gaussian(estimator="mle"), Replace(M), t, replicates=4000,
                   backend="numpy", seed=3, statistics="var")["var"][:, t, 0]
    assert abs(zscore(mle, ((M - 1) / M) ** t, mle.var(ddof=1))) < 5
    assert abs(zscore(mle, 1.0, mle.var(ddof=1))) > 5  # negative control


def test_regression_against_gerstgrasser():
    """Fixed design: E test error = t sigma^2 d/(T-d-1) (replace) and
    sigma^2 d/(T-d-1) sum_{i<=t} 1/i^2 (accumulate)."""
    d, T, t = 3, 12, 5
    model = LinearRegression.isotropic(d, noise=1.0)
    base = d / (T - d - 1)
    rep = simulate(model, Replace(T), t, replicates=6000, backend="numpy", seed=4,
                   statistics="test_error")["test_error"][:, t]
    acc = simulate(model, Accumulate(T), t, replicates=6000, backend="numpy", seed=4,
                   statistics="test_error")["test_error"][:, t]
    assert abs(zscore(rep, t * base, rep.var(ddof=1))) < 5
    harmonic = sum(1 / i**2 for i in range(1, t + 1))
    assert abs(zscore(acc, base * harmonic, acc.var(ddof=1))) < 5
    assert abs(zscore(acc, t * base, acc.var(ddof=1))) > 5  # accumulate is not replace


# ---------------------------------------------------------------------- engine contract
@pytest.mark.parametrize("backend", FAST)
def test_seeding_is_reproducible(backend):
    a = simulate(CAT, Mix(5, 9), 5, replicates=8, backend=backend, seed=42)
    b = simulate(CAT, Mix(5, 9), 5, replicates=8, backend=backend, seed=42)
    c = simulate(CAT, Mix(5, 9), 5, replicates=8, backend=backend, seed=43)
    assert np.array_equal(a["homozygosity"], b["homozygosity"])
    assert not np.array_equal(a["homozygosity"], c["homozygosity"])


def test_numba_replicate_streams_and_thread_independence():
    import numba

    a = simulate(CAT, Replace(20), 30, replicates=8, backend="numba", seed=7)
    b = simulate(CAT, Replace(20), 30, replicates=4, backend="numba", seed=7)
    assert np.array_equal(a["homozygosity"][:4], b["homozygosity"])
    old = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        c = simulate(CAT, Replace(20), 30, replicates=8, backend="numba", seed=7)
    finally:
        numba.set_num_threads(old)
    assert np.array_equal(a["homozygosity"], c["homozygosity"])
    assert np.array_equal(a.collapse_time, c.collapse_time)


def test_chunking_does_not_change_results():
    a = simulate(CAT, Accumulate(9), 12, replicates=6, backend="numba", seed=1, chunk=5)
    b = simulate(CAT, Accumulate(9), 12, replicates=6, backend="numba", seed=1, chunk=12)
    assert np.array_equal(a["l1_real"], b["l1_real"])


class _Bar:
    """A stand-in for ``tqdm``: counts the engine's updates (whole chunks) and ticks
    (blocks of replicates within a chunk), and raises ``KeyboardInterrupt`` at the
    ``update_at``-th update or ``tick_at``-th tick, as a Ctrl-C during the run would."""

    updates: tuple | list = ()
    ticks = 0
    update_at = tick_at = None

    def __init__(self, *args, **kwargs):
        type(self).updates, type(self).ticks = [], 0

    def update(self, k):
        type(self).updates.append(k)
        if len(self.updates) == self.update_at:
            raise KeyboardInterrupt

    def set_postfix_str(self, text, refresh=True):
        if not text:  # the engine clears the note when a chunk ends
            return
        type(self).ticks += 1
        if self.ticks == self.tick_at:
            raise KeyboardInterrupt

    def close(self):
        pass


@pytest.fixture
def fake_bar(monkeypatch):
    import tqdm.auto

    monkeypatch.setattr(tqdm.auto, "tqdm", _Bar)
    monkeypatch.setattr(_Bar, "update_at", None)
    monkeypatch.setattr(_Bar, "tick_at", None)
    return _Bar


def _same(a, b, upto=None):
    cols = slice(None) if upto is None else slice(0, upto + 1)
    for k in a.names:
        assert np.array_equal(a[k], b[k][:, cols], equal_nan=True), k


TIME_CASES = [(CAT, Replace(12), "numba"), (CAT, MostRecent(12, 3), "numba"),
              (Gaussian([0, 0], 1.0), Mix(5, 8), "numba"), (CAT, Mix(6, 10), "numpy")]


@pytest.mark.parametrize(("model", "regime", "backend"), TIME_CASES)
def test_time_bounded_chunks_do_not_change_results(model, regime, backend, monkeypatch):
    """Chunks sized from measured time (one generation and one replicate per block
    under a tiny budget; growing chunks and blocks under a huge one) and one fixed
    chunk give identical results for one seed (seeds are per replicate)."""
    from modelcollapse.montecarlo import _engine

    kw = {"replicates": 7, "backend": backend, "seed": 5}
    if model is CAT:
        kw["tokens"] = (4,)
    whole = simulate(model, regime, 40, chunk=40, **kw)
    for budget in (1e-9, 1e9):
        monkeypatch.setattr(_engine, "CHUNK_SECONDS", budget)
        res = simulate(model, regime, 40, **kw)
        _same(res, whole)
        for a, b in ((res.collapse_time, whole.collapse_time),
                     (res.token_loss_time, whole.token_loss_time)):
            assert (a is None and b is None) or np.array_equal(a, b)
    other = simulate(model, regime, 40, chunk=40, **{**kw, "seed": 6})
    assert not np.array_equal(other[other.names[0]], whole[whole.names[0]])  # control


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_chunks_adapt_to_the_time_budget(backend, fake_bar, monkeypatch):
    """A tiny budget gives one generation per chunk (and, on numba, one replicate per
    block, each a tick); a huge one grows the chunks (1, 4, 16, ..., at most the memory
    bound) and shows fewer updates."""
    from modelcollapse.montecarlo import _engine

    monkeypatch.setattr(_engine, "CHUNK_SECONDS", 1e-9)
    monkeypatch.setattr(_engine, "TICK_SECONDS", 0.0)  # every tick shown
    simulate(CAT, Mix(6, 10), 30, replicates=5, backend=backend, seed=0, progress=True)
    assert fake_bar.updates == [1] * 30
    assert fake_bar.ticks == (30 * 5 if backend == "numba" else 0)
    monkeypatch.setattr(_engine, "CHUNK_SECONDS", 1e9)
    simulate(CAT, Mix(6, 10), 30, replicates=5, backend=backend, seed=0, progress=True)
    assert fake_bar.updates == [1, 4, 16, 9]


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_interrupt_keeps_the_generations_that_ran(backend, fake_bar, monkeypatch):
    """Ctrl-C raised by the progress bar after a few chunks (at its 4th update) or
    within a chunk (at a block's tick) keeps every finished generation, equal to the
    same generations of an uninterrupted run."""
    from modelcollapse.montecarlo import _engine

    kw = {"replicates": 6, "backend": backend, "seed": 2, "tokens": (4,),
          "on_interrupt": "return"}
    full = simulate(CAT, Mix(6, 10), 20, **kw)
    monkeypatch.setattr(_engine, "CHUNK_SECONDS", 1e-9)
    monkeypatch.setattr(fake_bar, "update_at", 4)
    res = simulate(CAT, Mix(6, 10), 20, progress=True, **kw)
    assert res.interrupted and res.generations == 4 == sum(fake_bar.updates)
    _same(res, full, upto=4)
    if backend == "numba":  # in the 3rd chunk's 2nd block: two chunks are kept
        monkeypatch.setattr(fake_bar, "update_at", None)
        monkeypatch.setattr(fake_bar, "tick_at", 2 * 6 + 2)
        monkeypatch.setattr(_engine, "TICK_SECONDS", 0.0)
        res = simulate(CAT, Mix(6, 10), 20, progress=True, **kw)
        assert res.interrupted and res.generations == 2 == sum(fake_bar.updates)
        _same(res, full, upto=2)
        assert np.all(res.token_loss_time <= 2)


def test_save_and_load_roundtrip(tmp_path):
    model = Categorical([0.5, 0.5], labels=["yes", "no"])
    res = simulate(model, Replace(10), 6, replicates=5, backend="numpy", seed=9,
                   tokens=["no"])
    path = res.save(tmp_path / "run")
    assert path.suffix == ".npz"
    back = montecarlo.load(path)
    assert back.seed == 9 and back.backend == "numpy" and back.tokens == (1,)
    assert back.regime == Replace(10)
    assert np.array_equal(back.model.p, model.p) and back.model.labels == ("yes", "no")
    for k in res.names:
        assert np.array_equal(back[k], res[k], equal_nan=True)
    assert np.array_equal(back.collapse_time, res.collapse_time)
    # the saved parameters reproduce the run
    again = simulate(back.model, back.regime, back.generations, replicates=back.replicates,
                     backend=back.backend, seed=back.seed, tokens=back.tokens)
    assert np.array_equal(again["homozygosity"], res["homozygosity"])
    g = simulate(Gaussian([0, 0], 2.0), Mix(4, 4, fresh=True), 3, replicates=3,
                 backend="numpy", seed=1)
    g2 = montecarlo.load(g.save(tmp_path / "g.npz"))
    assert g2.regime == Mix(4, 4, fresh=True) and np.array_equal(g2.model.cov, 2 * np.eye(2))


def _interrupt_third_chunk(monkeypatch):
    from modelcollapse.montecarlo._numpy import core as _numpy_core

    calls = {"n": 0}
    original = _numpy_core._VectorKernel.advance

    def flaky(self, g0, g1, *args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, g0, g1, *args)

    monkeypatch.setattr(_numpy_core._VectorKernel, "advance", flaky)


def test_interrupt_returns_finished_generations(monkeypatch):
    _interrupt_third_chunk(monkeypatch)
    res = simulate(CAT, Replace(10), 100, replicates=4, backend="numpy", seed=0, chunk=10,
                   on_interrupt="return")
    assert res.interrupted and res.generations == 20
    assert res["homozygosity"].shape == (4, 21)


def test_interrupt_raises_by_default(monkeypatch):
    _interrupt_third_chunk(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        simulate(CAT, Replace(10), 100, replicates=4, backend="numpy", seed=0, chunk=10)


def test_progress_bar(capsys):
    simulate(CAT, Replace(10), 30, replicates=3, backend="numpy", seed=0, progress=True,
             chunk=10)
    assert "30/30" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs,match", [
    ({"backend": "torch"}, "backend must be one of"),
    ({"statistics": ("nope",)}, "unknown statistic 'nope'"),
    ({"regime": "replace:5:temperature=0.0"}, "temperature must be"),
    ({"replicates": 0}, "replicates must be >= 1"),
    ({"tokens": (99,)}, "out of range"),
    ({"eps": 2.0}, "eps must be in"),
    ({"seed": "abc"}, "seed must be"),
    ({"seed": -1}, "seed must be"),
    ({"chunk": 0}, "chunk must be >= 1"),
])
def test_bad_arguments(kwargs, match):
    args = {"replicates": 2, "backend": "numpy", **kwargs}
    regime = args.pop("regime", Replace(5))
    with pytest.raises(ValueError, match=match):
        simulate(CAT, regime, 3, **args)


def test_bad_model_and_regime_combinations():
    with pytest.raises(ValueError, match="top_k and top_p apply to Categorical"):
        simulate(Gaussian(), Replace(5, top_p=0.5), 3, backend="numpy")
    with pytest.raises(ValueError, match="generations=None"):
        simulate(CAT, Mix(3, 3), None, backend="numpy")
    with pytest.raises(ValueError, match="at least 2 samples"):
        simulate(Gaussian(), Replace(1), 3, backend="numpy")
    with pytest.raises(ValueError, match="model must be"):
        simulate([0.5, 0.5], Replace(3), 3, backend="numpy")
    with pytest.raises(ValueError, match="regime must be"):
        simulate(CAT, "replace", 3, backend="numpy")
    with pytest.raises(ValueError, match="fresh must be"):
        Mix(3, 3, fresh="yes")
    with pytest.raises(ValueError, match="estimator"):
        Gaussian(estimator="biased")
    with pytest.raises(ValueError, match="positive definite"):
        Gaussian([0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="design"):
        LinearRegression([1.0], design="random")


def test_forgetting_time_against_simulation():
    """A token seen c times among n: P(ever lost) = 1 - c/n and the conditional law of
    the loss time (exact mean and variance from the Green's function)."""
    c, n = 3, 30
    law = theory.forgetting_time(c, n)
    res = simulate(Categorical([c / n, 1 - c / n]), Replace(n), None, replicates=6000,
                   backend="numba", seed=12, tokens=(0,), statistics=())
    lost = res.token_loss_time[:, 0] >= 0
    assert abs(zscore(lost, law.p_loss, law.p_loss * (1 - law.p_loss))) < 5
    tau = res.token_loss_time[lost, 0]
    assert abs(zscore(tau, law.mean(), law.var())) < 5
    assert abs(zscore(tau <= law.median(), law.cdf(law.median()),
                      law.cdf(law.median()) * (1 - law.cdf(law.median())))) < 5
    wrong = theory.forgetting_time(c + 2, n)  # negative control
    assert abs(zscore(tau, wrong.mean(), wrong.var())) > 5


def test_seddik_collapse_probability_bounds_hold_in_simulation():
    from modelcollapse.theory import seddik_collapse_probability_bounds

    model, reg = Categorical([0.6, 0.3, 0.1]), Replace(8)
    res = simulate(model, reg, None, replicates=5000, backend="numba", seed=13,
                   statistics=())
    for m in (2, 5, 10, 20):
        lo, hi = seddik_collapse_probability_bounds(model, reg, m)
        rho = np.mean(res.collapse_time <= m)
        se = np.sqrt(max(rho * (1 - rho), 1e-4) / res.replicates)
        assert lo - 5 * se <= rho <= hi + 5 * se


def test_numba_binomial_sampler_is_exact():
    """The hand-written binomial (inversion below mean 10, BTRS above, symmetry above
    p = 1/2) against scipy's pmf: chi-square over all cells with expected count >= 5."""
    from numba import njit

    from modelcollapse.montecarlo._numba import binomial

    @njit
    def draws(rng, k, n, p):
        out = np.empty(k, np.int64)
        for i in range(k):
            out[i] = binomial(rng, n, p)
        return out

    rng = np.random.default_rng(2024)

    def chi2_p(x, n, p):
        ks = np.arange(n + 1)
        exp = stats.binom.pmf(ks, n, p) * x.size
        obs = np.bincount(x, minlength=n + 1)
        keep = exp >= 5
        obs_k, exp_k = obs[keep], exp[keep]
        # lump the tails into one cell so that no mass is ignored
        obs_k = np.r_[obs_k, x.size - obs_k.sum()]
        exp_k = np.r_[exp_k, x.size - exp_k.sum()]
        if exp_k[-1] < 5:
            obs_k, exp_k = obs_k[:-1], exp_k[:-1] * obs_k[:-1].sum() / exp_k[:-1].sum()
        return stats.chisquare(obs_k, exp_k).pvalue

    for n, p in [(1, 0.3), (7, 0.5), (40, 0.2), (50, 0.199), (50, 0.201), (1000, 0.004),
                 (1000, 0.02), (1000, 0.6), (23, 0.97), (100_000, 0.3), (3000, 1e-4)]:
        x = draws(rng, 200_000, n, p)
        assert x.min() >= 0 and x.max() <= n
        assert chi2_p(x, n, p) > ALPHA, (n, p)
    assert draws(rng, 5, 10, 0.0).max() == 0 and draws(rng, 5, 10, 1.0).min() == 10
    # negative control: a 2% error in p is detected
    x = draws(rng, 200_000, 1000, 0.0204)
    assert chi2_p(x, 1000, 0.02) < ALPHA


@pytest.mark.parametrize("model,regime,stat", [  # the continuous families: slow tier (each
    # compiles a JAX program; their backends meet the reference in the default tier)
    pytest.param(Categorical.zipf(12, 1.0), MostRecent(20, 3), "entropy", id="categorical"),
    pytest.param(Gaussian([0.0, 0.0], [[1.0, 0.5], [0.5, 1.0]]), Mix(6, 6, fresh=True), "w2",
                 id="gaussian", marks=pytest.mark.slow),
    pytest.param(LinearRegression.isotropic(2, design="fresh"), RandomlySampled(6),
                 "test_error", id="regression", marks=pytest.mark.slow),
])
def test_backends_agree_with_each_other(model, regime, stat):
    backends = ["numpy", "numba"]
    try:
        import jax  # noqa: F401
        backends.append("jax")
    except ImportError:
        pass
    last = {b: simulate(model, regime, 5, replicates=1500, backend=b, seed=31,
                        statistics=stat)[stat][:, -1] for b in backends}
    for i, a in enumerate(backends):
        for b in backends[i + 1:]:
            assert ks_p(last[a], last[b]) > ALPHA, (a, b)
