r"""Suresh, Thangaraj & Khandavally (arXiv 2412.17646, AISTATS 2025): rates of forgetting.

With :math:`g(x) = 1 - e^{-x}`, :math:`g_1 = 1`, :math:`g_{k+1} = g(g_k)`
(:math:`g_k \in [1/k, 3/k]`, :math:`k g_k \to 2`), as stated in the theory chapter,
docs/theory/bounds.md (the paper's full text was not reachable to quote its theorem numbers):

* Bernoulli, ``n`` samples: :math:`1 - e^{-np_0g_k} \le P(P_k \ne 0) \le
  1 - (1 - 3np_0^2 - 3kp_0)^+ e^{-np_0g_k}`.
* Poisson, :math:`n\Lambda_{k+1} \sim \mathrm{Poisson}(n\Lambda_k)`:
  :math:`P(\Lambda_k \ne 0) = 1 - e^{-n\lambda_0 g_k}` exactly.
* Unigram: :math:`\sum_i(1 - e^{-np_ig_k}) \le E[\#\text{distinct after } k] \le
  \sum_i(1 - e^{-np_ig_k}(1 - 3np_i^2 - 3kp_i)^+)`.
* A word seen ``c`` times is forgotten after about :math:`2c/\ln 2` generations (median).

Checks: the bounds against the exact survival laws of the coalescent dual; the Poisson
identity against the law of the count chain propagated with a truncated Poisson
transition matrix (truncation error below :math:`e^{-80}`); the median forgetting time
of the exact conditioned chain against :math:`2c/\ln 2`, which it approaches from below
(ratio 0.94 at c = 10, 0.99 at c = 80 for n = 10^5).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .. import theory
from ..models import Categorical
from ..regimes import Replace
from ._registry import Check, Theorem, close, within

KEY = "suresh2025.rates"


def checks() -> list[Check]:
    rows: list[Check] = []
    for p0, n in ((0.001, 1000), (0.01, 100), (0.05, 100)):
        law = theory.token_loss(Categorical([p0, 1 - p0]), Replace(n), 0)
        for k in (1, 5, 50):
            lo, hi = theory.suresh_bernoulli_bounds(p0, n, k)
            rows.append(within(KEY, f"Bernoulli P(P_{k} != 0), p0={p0}, n={n}",
                               "exact token-loss law", law.sf(k), lo, hi))
    # Poisson: forward law of the count chain with a truncated Poisson kernel
    K = 2000
    i = np.arange(K + 1)
    kern = stats.poisson.pmf(i[None, :], i[:, None])
    kern[:, K] += 1.0 - kern.sum(axis=1)  # lump the (< e^-80 relevant) overflow into K
    for lam_n in (0.5, 5.0):
        law = stats.poisson.pmf(i, lam_n)
        law[K] += 1.0 - law.sum()
        for k in range(1, 41):
            if k in (1, 2, 10, 40):
                rows.append(close(KEY, f"Poisson P(L_{k} != 0), n*lambda0={lam_n}",
                                  "truncated count chain", theory.suresh_poisson_survival(
                                      lam_n, 1, k), 1.0 - law[0], rtol=1e-10))
            law = law @ kern
    model = Categorical.zipf(5000, 1.1)
    n = 10_000
    ks = np.array([1, 10, 100, 1000])
    exact = theory.expected_surviving_tokens(model, Replace(n), ks)
    for k, e in zip(ks, exact, strict=True):
        lo, hi = theory.suresh_unigram_bounds(model, Replace(n), int(k))
        rows.append(within(KEY, f"unigram E[#distinct after {k}], zipf(5000,1.1), n={n}",
                           "exact coalescent", float(e), lo, hi))
    for c, rel in ((10, 0.10), (40, 0.02)):
        med = theory.forgetting_time(c, 100_000, tol=1e-6).median()
        approx = 2 * c / math.log(2)
        rows.append(close(KEY, f"median time to forget a word seen {c} times (n=1e5)",
                          "exact conditioned chain", med, approx, rtol=rel,
                          note=f"ratio {med / approx:.3f}; tolerance {rel:.0%}"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Suresh et al. 2025: Bernoulli, Poisson and unigram rates; forgetting in ~2c/ln 2",
    source="arXiv 2412.17646 (statements as in docs/theory/bounds.md)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
