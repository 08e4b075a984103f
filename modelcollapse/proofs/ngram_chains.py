r"""n-gram models trained on their own text (docs/theory/ngram.md): the per-context
picture, its bias, the unigram drift with the autocorrelation time, collapse to repetition.

A generation of ``n`` tokens refits every context :math:`c` to its :math:`N_c \approx
n\pi_c` visits, but the visits come from the same text as the transitions: the
maximum-likelihood row is biased at order :math:`1/n`,
:math:`E\hat P_{ij} = P_{ij}(1 + (1 + m_{ji} - m_{ii})/n) + O(n^{-2})` (mean first
passage times :math:`m`), so a row's homozygosity can go down; the token frequencies
of the text vary like those of :math:`n/\tau_x` independent tokens,
:math:`\tau_x = \sigma_x^2/(u_x(1-u_x))` from the fundamental matrix; without smoothing
the chain ends in deterministic text.

Checks: the fundamental-matrix variances against brute-force sums of autocovariances;
the closed-form moments of a generation's token frequencies against the recursion from
the start law (two exact methods); seeded simulation of the frequency variance at three
corpus sizes against the exact moments, with the independent-token value rejected; the
first-order bias against the exact dynamic programme of one row at two sizes (error
:math:`O(n^{-2})`); a two-row example, exact and simulated, with the
independent Wright--Fisher (submartingale) prediction rejected; the per-context
homozygosity under Replace, Mix, Accumulate and MostRecent (each context one
categorical with its share of the regime's sizes) against simulation, with the
whole-corpus-per-context value rejected; the exact law of the
time to deterministic text against a path enumeration in rational arithmetic and the
simulator, with another model's law rejected.
"""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np

from .. import theory
from ..models import Categorical
from ..montecarlo import simulate
from ..ngram import NGram
from ..regimes import Accumulate, Mix, MostRecent, Replace
from ._registry import Check, Theorem, close, mean_se, within, zcheck, zreject

KEY = "ngram.context-chains"
EXAMPLE = NGram([[0.9, 0.1], [0.3, 0.7]])


def _brute_sigma2(model, K=3000) -> np.ndarray:
    Q = model.context_transitions().toarray()
    pi = model.stationary_contexts()
    C, V = model.contexts, model.vocab_size
    G = np.zeros((C, V))
    G[np.arange(C), np.arange(C) % V] = 1
    u = pi @ G
    out, Qk = u * (1 - u), np.eye(C)
    for _ in range(K):
        Qk = Qk @ Q
        out = out + 2 * (((G * pi[:, None]).T @ Qk @ G).diagonal() - u**2)
    return out


def _enumerated_first_row(model, n) -> Fraction:
    """E[P-hat_00] after one sequence of n tokens from context 0, by enumerating every
    path in rational arithmetic (keep rule)."""
    P = [[Fraction(x).limit_denominator(1000) for x in r] for r in model.table]
    total = Fraction(0)
    for path in itertools.product(range(2), repeat=n):
        w, c, n00, n0 = Fraction(1), 0, 0, 0
        for x in path:
            w *= P[c][x]
            if c == 0:
                n0 += 1
                n00 += x == 0
            c = x
        total += w * (Fraction(n00, n0) if n0 else P[0][0])
    return total


def checks() -> list[Check]:
    rows: list[Check] = []
    for model in (EXAMPLE, NGram.random(3, 2, seed=5)):
        t = theory.ngram_autocorrelation_time(model)
        rows.append(close(KEY, f"sigma_x^2, V={model.vocab_size}, k={model.order}",
                          "fundamental matrix vs 3000 autocovariances",
                          float(t.sigma2.sum()), float(_brute_sigma2(model).sum()),
                          rtol=1e-9))
    three = NGram.random(3, 2, seed=5, length=7)
    a = theory.ngram_unigram_moments(three, 50, 7, method="stationary")
    b = theory.ngram_unigram_moments(three, 50, 7, method="recursion")
    rows.append(close(KEY, "tr Cov(f), 50 tokens in sequences of 7",
                      "closed form W_L vs recursion from the start law",
                      float(np.trace(a.cov)), float(np.trace(b.cov)), rtol=1e-10))
    # the variance of the token frequency at several n (V = 2: unigram_l1 = 2|f_0 - u_0|)
    u0 = EXAMPLE.stationary()[0]
    for n in (100, 1000, 10_000):
        mom = theory.ngram_unigram_moments(EXAMPLE, n)
        res = simulate(EXAMPLE, Replace(n), 1, replicates=20_000, seed=n,
                       statistics=("unigram_l1",))
        sq = (res["unigram_l1"][:, 1] / 2) ** 2
        mean, se = mean_se(sq)
        rows.append(zcheck(KEY, f"Var f_0 = tau u(1-u)/n (asympt.), n={n}",
                           "numba simulation x20000 vs exact moments", mean,
                           mom.cov[0, 0], se))
        if n == 1000:
            rows.append(zreject(KEY, "  control: independent tokens, u(1-u)/n",
                                "same simulation", mean, u0 * (1 - u0) / n, se))
    tau = theory.ngram_autocorrelation_time(EXAMPLE).per_token[0]
    rows.append(close(KEY, "tau, rows (.9,.1),(.3,.7)", "(1+lambda)/(1-lambda), lambda=.6",
                      tau, 4.0, rtol=1e-12))
    # the bias of the refit: first order against the exact row law
    errs = []
    for n in (100, 400):
        exact = theory.ngram_row_expectations(EXAMPLE, 0, n).mean[0] - 0.9
        delta = theory.ngram_transition_bias(EXAMPLE, n)[0, 0]
        errs.append(abs(exact - delta) * n**2)
        rows.append(close(KEY, f"E P-hat_00 - P_00, n={n}", "delta method vs exact DP",
                          delta, exact, rtol=0.1, note=f"n^2 |diff| = {errs[-1]:.3f}"))
    rows.append(within(KEY, "  error of the first-order bias is O(1/n^2)",
                       "n^2 |diff| at n=400 over n=100", errs[1] / errs[0], 0.0, 2.0))
    small = NGram(EXAMPLE.table, start=0, length=10)
    rows.append(close(KEY, "E P-hat_00, one 10-token text from context 0",
                      "exact DP vs 1024 paths in Fractions",
                      theory.ngram_row_expectations(small, 0, 10).mean[0],
                      float(_enumerated_first_row(small, 10)), rtol=1e-12))
    n = 200
    pi = EXAMPLE.stationary_contexts()
    ex = [theory.ngram_row_expectations(EXAMPLE, c, n) for c in range(2)]
    rows.append(within(KEY, "E h_0' < h_0 = 0.82 (one 200-token text)", "exact DP",
                       ex[0].homozygosity, 0.0, 0.82))
    exact_h = float(sum(pi[c] * ex[c].homozygosity for c in range(2)))
    res = simulate(EXAMPLE, Replace(n), 1, replicates=40_000, seed=6,
                   statistics=("homozygosity",))
    mean, se = mean_se(res["homozygosity"][:, 1])
    rows.append(zcheck(KEY, "E sum_c pi_c h_c', n=200", "numba simulation x40000 vs exact",
                       mean, exact_h, se))
    hc = (EXAMPLE.table**2).sum(axis=1)
    wf = float(sum(pi[c] * (hc[c] + (1 - hc[c]) / (n * pi[c])) for c in range(2)))
    rows.append(zreject(KEY, "  control: independent WF steps, N_c = n pi_c",
                        "same simulation", mean, wf, se))
    # every regime, per context: one categorical per context with its share of the sizes
    three = NGram.random(3, 1, seed=4, length=200)
    for reg in (Replace(3000), Mix(1500, 1500), Accumulate(1500), MostRecent(3000, 3)):
        pred = theory.ngram_homozygosity(three, reg, 6)
        res = simulate(three, reg, 6, replicates=3000, seed=1,
                       statistics=("homozygosity",))
        mean, se = mean_se(res["homozygosity"][:, 6])
        rows.append(zcheck(KEY, f"E sum pi_c h_c at m=6, {reg!r}",
                           "numba x3000 vs per-context genealogy", mean, pred, se))
        if isinstance(reg, Mix):  # control: every context refitted to the whole corpus
            pi = three.stationary_contexts()
            whole = float(sum(pi[c] * theory.homozygosity(Categorical(three.table[c]),
                                                           reg, 6) for c in range(3)))
            rows.append(zreject(KEY, "  control: contexts with the whole corpus each",
                                "same simulation", mean, whole, se))
    # collapse to repetition
    rep = NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3)
    law = theory.ngram_repetition_time(rep, "replace:3")
    rows.append(close(KEY, "P(T_rep = 1), rows (.5,.5), 3 tokens from 0",
                      "exact table chain vs 3 of 8 paths (000, 101, 111)", float(law.cdf(1)),
                      0.375, rtol=1e-12))
    res = simulate(rep, Replace(3), None, replicates=20_000, seed=3)
    T = res.collapse_time
    mean, se = mean_se(T)
    rows.append(zcheck(KEY, "E T_rep, rows (.5,.5), 3 tokens", "numba x20000 vs exact law",
                       mean, law.mean(), se))
    other = theory.ngram_repetition_time(NGram(rep.table, start=0, length=4), "replace:4")
    rows.append(zreject(KEY, "  control: the law of 4-token texts", "same simulation",
                        mean, other.mean(), se))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="n-gram chains: per-context refits, their bias, tau, repetition",
    source="docs/theory/ngram.md (derived here; Seddik et al. COLM 2024 leave the "
           "autoregressive sample sizes open)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
