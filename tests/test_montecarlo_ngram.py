"""The n-gram simulators (numba, numpy) against an exact enumeration written from the
definition in rational arithmetic, against the raw-text oracle ``reference_simulate``
under every regime, and against each other; the engine's contract for NGram.

Every statistical check is seeded; z-scores use the exact variance of the enumeration
(|z| < 5) and each family of checks has a negative control that must fail. The numba
cases are in the slow tier (the kernel's first compilation takes about 20 s of CPU); the
default suite runs the same checks on the numpy backend, and ``modelcollapse verify``
(CI) checks the numba kernel against the exact theory.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    NGram,
    RandomlySampled,
    Replace,
)
from modelcollapse.errors import TooLargeError
from modelcollapse.montecarlo import Problem, reference_simulate, simulate
from modelcollapse.montecarlo._numba.ngram import _sampling_table, alias_law
from modelcollapse.regimes import SamplingPolicy
from modelcollapse.sampling import sampling_distribution

F = Fraction
BACKENDS = [pytest.param("numba", marks=pytest.mark.slow), "numpy"]


# ---------------------------------------------------------------------- the definition
def _sampling_row(row, temperature_power):
    """The row under temperature 1/j (j an integer): p^j normalised, exactly."""
    w = [p**temperature_power for p in row]
    s = sum(w)
    return [x / s for x in w]


def _generation_law(table, V, starts, lengths, power=1):
    """``{counts: probability}`` of the transition counts of sequences of the given
    ``lengths``, each started from a context drawn from ``starts`` ({row: prob}), every
    token drawn from the (tempered) row of the previous one: enumerated path by path."""
    law = {tuple([0] * (V * V)): F(1)}
    rows = [_sampling_row(r, power) for r in table]
    for L in lengths:
        one = defaultdict(F)
        for c0, w0 in starts.items():
            for path in itertools.product(range(V), repeat=L):
                w, c, cnt = w0, c0, [0] * (V * V)
                for x in path:
                    w *= rows[c][x]
                    cnt[c * V + x] += 1
                    c = x
                if w:
                    one[tuple(cnt)] += w
        new = defaultdict(F)
        for a, pa in law.items():
            for b, pb in one.items():
                new[tuple(i + j for i, j in zip(a, b, strict=True))] += pa * pb
        law = new
    return law


def _refit(counts, V, prev, unseen):
    """The fitted bigram table of ``counts``, a context never visited getting its
    previous row (keep), the unigram row of the counts (backoff) or uniform."""
    total = sum(counts)
    uni = [sum(counts[c * V + x] for c in range(V)) for x in range(V)]
    out = []
    for c in range(V):
        row = counts[c * V:(c + 1) * V]
        N = sum(row)
        if N:
            out.append(tuple(F(k, N) for k in row))
        elif unseen == "keep":
            out.append(prev[c])
        elif unseen == "backoff" and total:
            out.append(tuple(F(k, total) for k in uni))
        else:
            out.append(tuple(F(1, V) for _ in range(V)))
    return tuple(out)


def _chain_law(table, V, starts, lengths, generations, unseen, power=1):
    """``[{(table, counts): probability}]`` for generations 1..``generations``: the
    exact law of the fitted table (and its corpus's counts) under Replace."""
    out = []
    law = {(table, None): F(1)}
    for m in range(generations):
        new = defaultdict(F)
        for (tab, _), p in law.items():
            pw = 1 if m == 0 else power  # generation 1 draws the real model as it is
            for cnt, q in _generation_law(tab, V, starts, lengths, pw).items():
                new[(_refit(cnt, V, tab, unseen), cnt)] += p * q
        law = new
        out.append(law)
    return out


def _stat(tab, cnt, P0, P1, pi0, name):
    """One statistic of a fitted bigram table, as the simulators define it."""
    V = len(tab)
    P = np.array(tab, dtype=float)
    if name == "homozygosity":
        return float(((P**2).sum(axis=1)) @ pi0)
    if name == "l1_first":
        return float(np.abs(P - np.array(P1, dtype=float)).sum(axis=1) @ pi0)
    if name == "l1_real":
        return float(np.abs(P - P0).sum(axis=1) @ pi0)
    if name == "distinct":
        return np.count_nonzero(cnt) / sum(cnt)
    if name == "unigram_l1":
        f = np.array([sum(cnt[c * V + x] for c in range(V)) for x in range(V)]) / sum(cnt)
        return float(np.abs(f - pi0 @ P0).sum())
    raise KeyError(name)


def _exact_moments(model, lengths, generations, name, power=1):
    """Exact mean and variance of a statistic at the last generation."""
    V = model.vocab_size
    table = tuple(tuple(F(x).limit_denominator(10**6) for x in r) for r in model.table)
    law = model.start_law()
    starts = {c: F(w).limit_denominator(10**9) for c, w in enumerate(law) if w > 0}
    laws = _chain_law(table, V, starts, lengths, generations, model.unseen, power)
    pi0 = model.stationary_contexts()
    first = {}
    if name == "l1_first":  # needs the joint law of P1 and P_m: generations <= 2 here
        assert generations == 2
        mean = sq = 0.0
        for (t1, _), p1 in laws[0].items():
            for cnt, q in _generation_law(t1, V, starts, lengths, power).items():
                t2 = _refit(cnt, V, t1, model.unseen)
                v = _stat(t2, cnt, model.table, t1, pi0, name)
                w = float(p1 * q)
                mean += w * v
                sq += w * v * v
        return mean, sq - mean**2
    mean = sq = 0.0
    for (tab, cnt), p in laws[-1].items():
        v = _stat(tab, cnt, model.table, first, pi0, name)
        mean += float(p) * v
        sq += float(p) * v * v
    return mean, sq - mean**2


def zscore(sample, mean, var) -> float:
    sample = np.asarray(sample, dtype=np.float64)
    return (sample.mean() - mean) / np.sqrt(var / sample.size)


BIGRAM = NGram([[0.75, 0.25], [0.5, 0.5]], length=3)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", [
    dict(model=BIGRAM, n=6, name="homozygosity"),
    dict(model=NGram(BIGRAM.table, start=0, length=3, unseen="backoff"), n=5,
         name="homozygosity"),
    dict(model=NGram(BIGRAM.table, start=1, length=2, unseen="uniform"), n=5,
         name="unigram_l1"),
    dict(model=BIGRAM, n=6, name="l1_first"),
    dict(model=NGram(BIGRAM.table, start=0, length=3), n=6, name="distinct",
         temperature=0.5),
])
def test_two_generations_match_the_exact_enumeration(backend, case):
    model, n, name = case["model"], case["n"], case["name"]
    T = case.get("temperature", 1.0)
    L = model.length
    lengths = [L] * (n // L) + ([n % L] if n % L else [])
    mean, var = _exact_moments(model, lengths, 2, name, power=round(1 / T))
    res = simulate(model, Replace(n, temperature=T), 2, replicates=4000, backend=backend,
                   seed=5, statistics=(name,))
    s = res[name][:, 2]
    assert abs(zscore(s, mean, var)) < 5
    # negative control: the exact law of another start law or table is rejected
    other = NGram(np.array([[0.9, 0.1], [0.5, 0.5]]), start=model.start, length=L,
                  unseen=model.unseen)
    m2, _v2 = _exact_moments(other, lengths, 2, name, power=round(1 / T))
    assert abs(zscore(s, m2, var)) > 5


def _collapse_cdf(model, lengths, generations):
    """Exact P(T <= m), m = 1..generations: T the first generation whose fit has a
    Dirac row in every context reachable from the start (under keep, absorbing)."""
    V = model.vocab_size
    table = tuple(tuple(F(x).limit_denominator(10**6) for x in r) for r in model.table)
    starts = {model.start: F(1)}

    def done(tab):
        seen, todo = set(starts), list(starts)
        while todo:
            c = todo.pop()
            nz = [x for x in range(V) if tab[c][x]]
            if len(nz) > 1:
                return False
            for x in nz:
                if x not in seen:
                    seen.add(x)
                    todo.append(x)
        return True

    law = {table: F(1)}
    cdf, absorbed = [], F(0)
    for _ in range(generations):
        new = defaultdict(F)
        for tab, p in law.items():
            for cnt, q in _generation_law(tab, V, starts, lengths).items():
                new[_refit(cnt, V, tab, "keep")] += p * q
        law = {}
        for tab, p in new.items():
            if done(tab):
                absorbed += p
            else:
                law[tab] = p
        cdf.append(absorbed)
    return [float(c) for c in cdf]


@pytest.mark.parametrize("backend", BACKENDS)
def test_collapse_to_repetition_matches_the_exact_law(backend):
    model = NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3)
    cdf = _collapse_cdf(model, [3], 6)
    res = simulate(model, Replace(3), None, replicates=3000, backend=backend, seed=9)
    T = res.collapse_time
    assert (T >= 1).all()
    for m, p in enumerate(cdf, start=1):
        assert abs(zscore(T <= m, p, p * (1 - p))) < 5, m
    # negative control: the law of one 4-token sequence is another
    wrong = _collapse_cdf(NGram(model.table, start=0, length=4), [4], 3)
    assert max(abs(zscore(T <= m, p, p * (1 - p))) for m, p in enumerate(wrong, 1)) > 5


# ---------------------------------------------------------------------- every regime
NG = NGram.random(3, 1, seed=2, length=4)
REGIMES = [Replace(12), Mix(6, 10), Mix(6, 10, fresh=True), Accumulate(8),
           AccumulateSubsample(8), MostRecent(12, 3), RandomlySampled(10),
           Replace(12, temperature=0.7, top_k=2)]
STATS = ("homozygosity", "l1_first", "unigram_l1")


@pytest.fixture(scope="module")
def reference():
    return {reg: reference_simulate(Problem(NG, reg, statistics=STATS), 4, replicates=300,
                                    seed=11) for reg in REGIMES}


def ks_p(a, b) -> float:
    return stats.ks_2samp(np.round(np.ravel(a), 10), np.round(np.ravel(b), 10)).pvalue


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_regime_matches_the_raw_text_oracle(backend, reference):
    for reg in REGIMES:
        res = simulate(NG, reg, 4, replicates=1500, backend=backend, seed=3,
                       statistics=STATS)
        for name in STATS:
            assert ks_p(res[name][:, 4], reference[reg][name][:, 4]) > 1e-3, (reg, name)
    # negative control: another regime's law is rejected
    res = simulate(NG, Replace(8), 4, replicates=1500, backend=backend, seed=3,
                   statistics=STATS)
    assert ks_p(res["homozygosity"][:, 4], reference[REGIMES[0]]["homozygosity"][:, 4]) \
        < 1e-3


@pytest.mark.slow
def test_alias_tables_draw_the_sampling_law():
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.full(7, 0.3), size=40)
    P[:5, 2:] = 0.0
    P[:5] /= P[:5].sum(axis=1, keepdims=True)
    for pol in (SamplingPolicy(), SamplingPolicy(0.6, 3, None), SamplingPolicy(1.3, None,
                                                                                0.8)):
        prob, alias = np.empty(P.shape), np.empty(P.shape, dtype=np.int32)
        _sampling_table(P, float(pol.temperature), pol.top_k or 0, pol.top_p or 1.0,
                        pol.plain, prob, alias, np.ones(P.shape[0], dtype=bool))
        law = alias_law(prob, alias)
        want = sampling_distribution(P, pol)
        np.testing.assert_allclose(law, want, atol=1e-14)
        assert (law[want == 0] == 0).all()  # a token of probability 0 is never drawn
    assert not np.allclose(alias_law(prob, alias), P)  # control: the policy shows


# ---------------------------------------------------------------------- the contract
@pytest.mark.slow
def test_backends_agree_on_a_pydoc_model():
    model = NGram.from_pydoc(1, length=64)
    a = simulate(model, Replace(5000), 3, replicates=60, seed=1, statistics=("l1_real",))
    b = simulate(model, Replace(5000), 3, replicates=60, seed=1, backend="numpy",
                 statistics=("l1_real",))
    assert ks_p(a["l1_real"][:, 3], b["l1_real"][:, 3]) > 1e-3
    assert (a["l1_real"][:, 3] > a["l1_real"][:, 1]).mean() > 0.9  # drift grows


@pytest.mark.slow
def test_seeds_reproduce_and_threads_do_not_matter():
    a = simulate(NG, Mix(6, 10), 3, replicates=50, seed=4)
    b = simulate(NG, Mix(6, 10), 3, replicates=50, seed=4)
    for k in a.statistics:
        np.testing.assert_array_equal(a[k], b[k])
    c = simulate(NG, Mix(6, 10), 3, replicates=20, seed=4)
    np.testing.assert_array_equal(a["homozygosity"][:20], c["homozygosity"])


@pytest.mark.parametrize("call,error,match", [
    (lambda: simulate(NG, Replace(5), 2, tokens=[0]), ValueError, "Categorical models"),
    (lambda: simulate(NGram(NG.table, unseen="backoff"), Replace(5), None), ValueError,
     "unseen='keep'"),
    (lambda: simulate(NG, Mix(3, 3), None), ValueError, "under Replace"),
    (lambda: simulate(NG, Replace(5), 2, statistics=["support_size"]), ValueError,
     "unknown statistic 'support_size'"),
    (lambda: simulate(NGram.random(100, 2, seed=0), Replace(5), 2, replicates=10_000,
                      max_memory="1GB"), TooLargeError, "needs about"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_the_theory_repetition_law_equals_the_enumeration():
    from modelcollapse import theory

    model = NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3)
    law = theory.ngram_repetition_time(model, "replace:3")
    np.testing.assert_allclose([float(law.cdf(m)) for m in range(1, 7)],
                               _collapse_cdf(model, [3], 6), rtol=1e-12)
    other = theory.ngram_repetition_time(NGram(model.table, start=0, length=4), "replace:4")
    assert abs(float(other.cdf(2)) - float(law.cdf(2))) > 0.01  # control
    with pytest.raises(ValueError, match="unseen='keep'"):
        theory.ngram_repetition_time(NGram(model.table, unseen="uniform"), "replace:3")
    with pytest.raises(NotImplementedError, match="Replace"):
        theory.ngram_repetition_time(model, "mix:3:3")


@pytest.mark.slow
def test_collapse_under_a_subsampled_pool_checks_reachability():
    """A visited row with two successors may be unreachable once the pool is subsampled:
    the quick answer is not taken there (numba against numpy in law)."""
    from modelcollapse.montecarlo._numba.ngram import _collapsed

    P = np.array([[1.0, 0.0], [0.5, 0.5]])
    counts = np.array([[3.0, 0.0], [1.0, 1.0]])
    start, startcum = 0, np.array([2.0, 2.0])
    assert _collapsed(P, counts, start, startcum, False)
    assert not _collapsed(P, counts, start, startcum, True)  # the quick answer, wrong here
    model = NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3)
    a = simulate(model, AccumulateSubsample(3), 6, replicates=4000, seed=2)
    b = simulate(model, AccumulateSubsample(3), 6, replicates=4000, seed=3, backend="numpy")
    pa, pb = (a.collapse_time >= 0).mean(), (b.collapse_time >= 0).mean()
    se = np.sqrt(pa * (1 - pa) / 4000 + pb * (1 - pb) / 4000)
    assert abs(pa - pb) < 5 * se
