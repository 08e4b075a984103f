r"""Seddik et al. 2024 (arXiv 2404.05090), Proposition 1: where the model collapses.

Fully synthetic training: :math:`P(\lim_{m\to\infty} p^{(m)} = \delta_i) = p_i` for every
token ``i``.

Why: each token's frequency is a bounded martingale, :math:`E[p'_i \mid p] = p_i`, so it
converges, and the only fixed points of multinomial resampling are Dirac masses.

Checks: the absorption probability at ``n`` of each token's binomial count chain,
computed numerically from the fundamental matrix :math:`B = (I-Q)^{-1}R` (no martingale
argument used), and the fraction of seeded simulated runs that collapse onto each token
(binomial standard error).
"""

from __future__ import annotations

import numpy as np

from .. import montecarlo
from ..models import Categorical
from ..regimes import Replace
from ..theory.categorical import marginal
from ._registry import Check, Theorem, close, zcheck

KEY = "seddik2024.prop1"


def checks() -> list[Check]:
    rows: list[Check] = []
    model = Categorical.zipf(5, 1.0)
    n = 30
    P = marginal.wf_matrix(n)
    R = P[1:n, n]  # one-step absorption at n from transient states
    fix_from = marginal.fundamental_solve(n, R)  # P(absorbed at n | start x)
    B = marginal.binomial_rows(n, model.p)
    for i in range(model.size):
        prob = B[i, n] + B[i, 1:n] @ fix_from
        rows.append(close(KEY, f"P(collapse onto token {i}), zipf(5,1), n={n}",
                          "fundamental matrix", prob, model.p[i], rtol=1e-10))
    model = Categorical([0.5, 0.3, 0.2])
    n, reps = 20, 20_000
    _, winner = montecarlo.collapse_times(model, Replace(n), replicates=reps, seed=1)
    for i in range(model.size):
        frac = float(np.mean(winner == i))
        pi = model.p[i]
        rows.append(zcheck(KEY, f"P(collapse onto token {i}), p=(.5,.3,.2), n={n}",
                           f"simulation R={reps}", frac, pi, np.sqrt(pi * (1 - pi) / reps)))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Seddik et al. 2024, Proposition 1 (collapse onto token i with probability p_i)",
    source="arXiv 2404.05090, Prop. 1",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
