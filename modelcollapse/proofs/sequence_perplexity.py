r"""The perplexity, under the real model, of text written by generation m
(docs/theory/perplexity.md).

Under plain sampling every regime keeps :math:`E p^{(m)} = q` and, by lumping,
:math:`\operatorname{Cov} p^{(m)} = c_m(\operatorname{diag} q - qq^\top)` with :math:`c_m`
the homozygosity recursion from :math:`S_0 = 0`. So the log-perplexity
:math:`\ell = \frac1L\sum_t a_{X_t}` of :math:`L` tokens drawn from :math:`p^{(m)}` has
:math:`E\ell = q\cdot a`, a centre :math:`E[\ell\mid p^{(m)}]` of variance
:math:`c_m\sigma^2` and a width :math:`E\operatorname{Var}[\ell\mid p^{(m)}] =
(1-c_m)\sigma^2/L`. For Replace, Mix with the same real block and Accumulate,
:math:`E[p^{(m)}\mid p^{(1)}] = p^{(1)}`, so the centre's shift from generation 1 has
variance :math:`(c_m - c_1)\sigma^2`. Sampling alone moves the histogram's centre by
:math:`O(\sqrt{m/n})\,\sigma`, in either direction, and narrows it.

Checks: seeded simulation of the chain (the toolkit's simulator, every token's
probability recorded) under Replace, Mix and Accumulate: the mean and variance of the
centre, its shift from generation 1 and the mean and variance of one sequence's score
(drawn from each replicate's fitted law), against the law (|z| < 5); negative controls:
the independent-draw values (:math:`c_m = 0`, no drift) and, under Mix with a fresh real
block, the martingale identity, rejected.
"""

from __future__ import annotations

import numpy as np

from .. import theory
from ..models import Categorical
from ..montecarlo import simulate
from ..regimes import Accumulate, Mix, Replace
from ._registry import Theorem, mean_se, zcheck, zreject

KEY = "categorical.sequence-perplexity"
Q = Categorical([0.45, 0.25, 0.15, 0.1, 0.05])
M, L, REPLICATES = 6, 8, 40_000


def _var_se(x):
    """The sample variance and its standard error (from the squared deviations)."""
    d = (x - x.mean()) ** 2
    return mean_se(d)


def checks():
    rows = []
    q = Q.p
    a = -np.log(q)
    for seed, reg in enumerate((Replace(40), Mix(20, 30), Accumulate(30)), start=71):
        law = theory.sequence_perplexity(Q, reg, [1, M], L)
        p = simulate(Q, reg, M, replicates=REPLICATES, seed=seed, statistics=["token_prob"],
                     tokens=range(q.size))["token_prob"]
        p1, pm = p[:, 1], p[:, M]
        centre = pm @ a
        mean, se = mean_se(centre)
        rows.append(zcheck(KEY, f"E centre, {reg.spec}, m={M}", "simulation", mean,
                           law.mean, se))
        var, vse = _var_se(centre)
        rows.append(zcheck(KEY, f"Var centre = c_m sigma^2, {reg.spec}", "simulation", var,
                           law.center_var[1], vse))
        rows.append(zreject(KEY, f"control: no drift (c_m = 0), {reg.spec}",
                            "must be rejected", var, 0.0, vse))
        shift = centre - p1 @ a
        svar, sse = _var_se(shift)
        rows.append(zcheck(KEY, f"Var shift from m=1 = (c_m - c_1) sigma^2, {reg.spec}",
                           "simulation", svar, law.shift_var[1], sse))
        # one sequence of L tokens from each replicate's fitted law
        rng = np.random.default_rng(seed)
        u = rng.random((REPLICATES, L))
        cum = np.cumsum(pm, axis=1)
        idx = np.minimum((u[:, :, None] > cum[:, None, :]).sum(axis=2), q.size - 1)
        ell = a[idx].mean(axis=1)
        lvar, lse = _var_se(ell)
        rows.append(zcheck(KEY, f"Var of one sequence's score, {reg.spec}", "simulation",
                           lvar, law.variance[1], lse))
        emean, ese = mean_se(ell)
        rows.append(zcheck(KEY, f"E one sequence's score, {reg.spec}", "simulation", emean,
                           law.mean, ese))
        if isinstance(reg, Replace):
            rows.append(zreject(KEY, f"control: independent tokens from q, {reg.spec}",
                                "must be rejected", lvar, law.sigma2 / L, lse))
    # the fresh real block pulls back to q: no martingale from generation 1
    reg = Mix(20, 30, fresh=True)
    p = simulate(Q, reg, M, replicates=REPLICATES, seed=79, statistics=["token_prob"],
                 tokens=range(q.size))["token_prob"]
    shift = (p[:, M] - p[:, 1]) @ a
    svar, sse = _var_se(shift)
    fixed = theory.sequence_perplexity(Q, Mix(20, 30), [1, M], L)  # the same real block
    rows.append(zreject(KEY, "control: the fixed block's shift law on mix-fresh data",
                        "must be rejected", svar, fixed.shift_var[1], sse))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="The perplexity of generated text under the real model",
    source="docs/theory/perplexity.md (derived here; the histograms of Shumailov et al. "
           "2024, Fig. 1b)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
