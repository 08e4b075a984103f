r"""A tale of tails (Dohmatob et al. 2024, arXiv 2402.07043): a memorising learner trained
on T samples of a generator q has test error :math:`\sum_i p_i (1 - q_i)^T` (their eq.
(9), deterministic labels). For Zipf data :math:`p_i \propto i^{-\beta}`, :math:`\beta > 1`:
with clean data the error decays as :math:`T^{-(1 - 1/\beta)}`; a generator cut at rank k
adds a plateau :math:`\asymp k^{-(\beta-1)}` (Theorem 2.1); a generator fitted to
:math:`T_0` samples cuts at :math:`k \asymp T_0^{1/\beta}`, a plateau
:math:`\asymp T_0^{-(1-1/\beta)}` (Corollary 2.2); a clean share of the training set
leaves the plateau once the clean samples alone reach the tail (Theorem 3.2, grokking).

Checks: the exact sums in float against rational arithmetic; against a simulated learner
(the recursive generator, |z| < 5; the clean error as negative control); the plateau of
one fitted generation equals the clean error at :math:`T_0` (an identity); the three
exponents against slope fits of the exact sums over two decades, the swapped exponents as
negative controls; the grokking curve's two regimes. The exponents are asymptotic: over
finite decades the fitted slopes differ from them by up to 0.025 here.
"""

from __future__ import annotations

import math

import numpy as np

from .. import theory
from ..models import Categorical
from ..sampling import SamplingPolicy
from ._registry import Theorem, close, mean_se, within, zcheck, zreject

KEY = "dohmatob.tails"


def checks():
    rows = []
    z8 = Categorical.zipf(8, 2.0)
    for kw, what in (({"policy": SamplingPolicy(top_k=3)}, "top-3 cut"),
                     ({"generations": 2, "samples": 5}, "2 generations of T0=5")):
        ex = theory.tail_test_error(z8, 6, exact=True, clean=2, **kw)
        fl = theory.tail_test_error(z8, 6, clean=2, **kw)
        rows.append(close(KEY, f"E(T=6, clean=2), {what}", "rational arithmetic", fl,
                          float(ex), rtol=1e-12))
    rng = np.random.default_rng(2402)
    p, T0, T, reps = z8.p, 6, 5, 20_000
    errs = np.empty(reps)
    for r in range(reps):
        fit = rng.multinomial(T0, p) / T0
        fit = rng.multinomial(T0, fit) / T0
        errs[r] = p[rng.multinomial(T, fit) == 0].sum()
    mean, se = mean_se(errs)
    rows.append(zcheck(KEY, "E(T=5), generator = generation 2 of T0=6", "simulated learner",
                       mean, theory.tail_test_error(z8, T, generations=2, samples=T0), se))
    rows.append(zreject(KEY, "control: the clean error at T=5", "must be rejected", mean,
                        theory.tail_test_error(z8, T), se))
    m = Categorical.zipf(200_000, 2.0)
    rows.append(close(KEY, "plateau of one fitted generation = clean error at T0",
                      "identity", theory.tail_test_error(m, math.inf, generations=1,
                                                         samples=300),
                      theory.tail_test_error(m, 300), rtol=1e-12))
    for beta in (1.5, 2.0, 3.0):
        ex = theory.tail_exponents(beta)
        m = Categorical.zipf(200_000, beta)
        T = np.round(np.logspace(2.5, 4.5, 7))
        sT = np.polyfit(np.log(T), np.log(theory.tail_test_error(m, T)), 1)[0]
        ks = np.round(np.logspace(1.5, 3.5, 5)).astype(int)
        pk = [theory.tail_test_error(m, math.inf, policy=SamplingPolicy(top_k=int(k)))
              for k in ks]
        sk = np.polyfit(np.log(ks), np.log(pk), 1)[0]
        T0s = np.array([30, 100, 300])
        p0 = [theory.tail_test_error(m, math.inf, generations=1, samples=int(t))
              for t in T0s]
        s0 = np.polyfit(np.log(T0s), np.log(p0), 1)[0]
        rows.append(close(KEY, f"slope in T = -(1 - 1/beta), beta={beta}", "exact sums",
                          sT, -ex.T, atol=0.02))
        rows.append(close(KEY, f"slope in k = -(beta - 1), beta={beta}", "exact sums", sk,
                          -ex.k, atol=0.03))
        rows.append(close(KEY, f"slope in T0 = -(1 - 1/beta), beta={beta}", "exact sums",
                          s0, -ex.samples, atol=0.03))
        rows.append(within(KEY, f"control: |slope in T + (beta - 1)| > 0.1, beta={beta}",
                           "must differ", abs(sT + ex.k), 0.1, math.inf))
    m = Categorical.zipf(100_000, 2.0)
    cut = SamplingPolicy(top_k=100)
    plateau = theory.tail_test_error(m, math.inf, policy=cut)
    N = np.array([10**5, 10**8])
    clean = np.round(0.05 * N).astype(int)
    E = theory.tail_test_error(m, N - clean, policy=cut, clean=clean)
    rows.append(within(KEY, "grokking: on the plateau at N=1e5 (E / plateau)", "exact sums",
                       E[0] / plateau, 0.85, 1.15))
    rows.append(close(KEY, "grokking: E(N=1e8) = clean error of the 5% clean samples",
                      "exact sums", E[1], theory.tail_test_error(m, int(clean[1])),
                      rtol=0.05))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="The tail: tail cuts, finite samples and clean data change the scaling law",
    source="Dohmatob et al. 2024, arXiv 2402.07043, eq. (9), Theorems 2.1, 3.2, "
           "Corollary 2.2; docs/theory/mitigations.md",
    statement=__doc__.split("\n\n")[0],
    checks=checks,
)
