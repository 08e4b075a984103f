r"""Duality: the coalescent solvers, the per-token chains and the full chain agree.

The theory chapter, docs/theory/coalescent.md. Tracing the ``n`` samples of generation
``m`` back to generation 1 gives
:math:`A_{m-1}` distinct ancestors, i.i.d. from :math:`p^{(0)}`, so

.. math:: P(T \le m) = E\sum_i p_i^{A_{m-1}}, \qquad
          P(p^{(m)}_i = 0) = E(1 - p_i)^{A_{m-1}} .

Three exact computations share nothing but the model: the coalescent dual (backward in
time, banded occupancy rows), the per-token binomial chains (forward in time, dense
fundamental matrix) and the full multinomial chain in exact rational arithmetic. They
must agree to 1e-9 (they agree to about 1e-13). The expected collapse time is also
checked against a seeded simulation with the exact variance, and the Kimura--Littler
diffusion value :math:`-2n\sum_i(1-p_i)\ln(1-p_i)` against the exact one for scaling
(biased upward by a few generations: +2.2, +3.0, +3.8 at n = 1e2, 1e3, 1e4
for zipf(100, 1), a slowly growing bias, so the relative error falls like ~1/n).
"""

from __future__ import annotations

import numpy as np

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Replace
from ..theory.categorical import rational
from ..theory.categorical.replace_chain import collapse_moments
from ._registry import Check, Theorem, close, zcheck

KEY = "duality.exact-solvers"


def checks() -> list[Check]:
    rows: list[Check] = []
    tiny = [(Categorical([0.5, 0.3, 0.2]), "p=(.5,.3,.2)", 5),
            (Categorical([0.25, 0.25, 0.5]), "p=(1/4,1/4,1/2)", 6)]
    for model, name, n in tiny:
        ET = float(rational.expected_collapse_time(model.p, n))
        for method in ("coalescent", "marginal"):
            v = theory.expected_collapse_time(model, Replace(n), method=method)
            rows.append(close(KEY, f"E[T], {name}, n={n}", f"{method} vs Fraction chain",
                              float(v), ET, rtol=1e-9))
        cdf = rational.collapse_cdf(model.p, n, 8)
        law = theory.collapse_time(model, Replace(n))
        rows.append(close(KEY, f"P(T <= 8), {name}, n={n}", "coalescent vs Fraction chain",
                          law.cdf(8), float(cdf[8]), rtol=1e-9))
        surv = rational.token_survival(model.p, n, 1, 6)
        tl = theory.token_loss(model, Replace(n), 1)
        rows.append(close(KEY, f"P(token 1 alive at 6), {name}, n={n}",
                          "coalescent vs Fraction chain", tl.sf(6), float(surv[6]), rtol=1e-9))
    model = Categorical.zipf(50, 1.0)
    n = 200
    for what, a, b in (
        ("E[T]", theory.expected_collapse_time(model, Replace(n), method="coalescent"),
         theory.expected_collapse_time(model, Replace(n), method="marginal")),
        ("Var T", collapse_moments(model, n, "coalescent")[1],
         collapse_moments(model, n, "marginal")[1]),
        ("median T", theory.collapse_time(model, Replace(n)).median(),
         theory.collapse_time(model, Replace(n), method="marginal").median()),
        ("E[#tokens at m=100]",
         theory.expected_surviving_tokens(model, Replace(n), 100),
         theory.expected_surviving_tokens(model, Replace(n), 100, method="marginal")),
        ("E[forget | loss], c=5",
         theory.forgetting_time(5, n).mean(),
         theory.forgetting_time(5, n, method="marginal").mean()),
    ):
        rows.append(close(KEY, f"{what}, zipf(50,1), n={n}", "coalescent vs marginal",
                          float(a), float(b), rtol=1e-9))
    # simulation with the exact variance
    model = Categorical.uniform(10)
    n, R = 30, 4000
    T, _ = montecarlo.collapse_times(model, Replace(n), replicates=R, seed=7)
    mean, var = collapse_moments(model, n, "coalescent")
    rows.append(zcheck(KEY, f"E[T], uniform(10), n={n}", f"simulation R={R}", T.mean(), mean,
                       np.sqrt(var / R)))
    # diffusion: relative bias shrinks like 1/n
    model = Categorical.zipf(100, 1.0)
    for n in (100, 1000, 10_000):
        ex = theory.expected_collapse_time(model, Replace(n), method="coalescent")
        di = theory.expected_collapse_time(model, Replace(n), method="diffusion")
        rows.append(close(KEY, f"diffusion E[T], zipf(100,1), n={n}", "exact coalescent",
                          float(di), float(ex), rtol=5.0 / n,
                          note=f"diffusion - exact = {di - ex:+.3f} generations"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Coalescent duality: three exact solvers agree (and diffusion scales)",
    source="docs/theory/coalescent.md; Kimura 1955, Littler 1975",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
