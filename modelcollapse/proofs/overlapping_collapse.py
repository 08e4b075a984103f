r"""Overlapping generations: exact collapse, absorption and token-loss laws
(docs/theory/regimes.md).

Claim. Under ``MostRecent(n, K)`` the fits form a Markov chain on windows of ``K``
count vectors; the engine's collapse time :math:`T` (first Dirac fit), the absorption
time :math:`A` (``K`` identical Dirac fits, after which nothing changes, :math:`A \ge
\max(T, K)`) and the loss times of a token are first passages of it, computed exactly on
the window chain lumped by token symmetry. A Dirac fit is not absorbing for ``K > 1``
(:math:`P(p^{(m)}\ \text{Dirac}) < P(T \le m)`); a token absent from ``K`` consecutive
fits never returns, and it is never lost for good with probability :math:`p_i`. The
diffusion time scale :math:`-2N_e\sum_i(1-p_i)\ln(1-p_i)`, with :math:`N_e` from
:func:`~modelcollapse.theory.most_recent_effective_size`, is that of **absorption**;
the first Dirac fit comes earlier by a gap that grows with ``n``. Under
``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample`` collapse is not absorbing;
:math:`P(p^{(m)}\ \text{Dirac})` and :math:`E|\mathrm{supp}\,p^{(m)}|` are exact by forward
propagation (``Accumulate``: :math:`\sum_i p_i^n` and :math:`\sum_i (1-(1-p_i)^n)` at
every :math:`m \ge 1`).

Checks: the chain against a plain enumeration in ``Fraction`` arithmetic
(``MostRecent(4, 2)``); :math:`E\sum_i (p^{(m)}_i)^2` of every chain against the genealogy
(:func:`modelcollapse.theory.homozygosity`) to 1e-12; ``K = 1`` against the ``Replace``
solvers; the fixation probability; a seeded Numba simulation with the exact variance,
with a negative control (the ``Replace(n)`` law is rejected on ``MostRecent(n, 2)`` data);
:math:`E[A]` against the :math:`N_e` diffusion time.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Accumulate, AccumulateSubsample, MostRecent, RandomlySampled, Replace
from ..theory.categorical.diffusion import littler_rate
from ._registry import Check, Theorem, close, fmt, within, zcheck, zreject

KEY = "overlapping.exact-chain"


def _fraction_cdf(M: int) -> list[Fraction]:
    """P(T <= g), g = 1..M, for MostRecent(4, 2) and p = (3/5, 2/5), by enumeration."""
    p0 = Fraction(3, 5)

    def binom(k, q):
        return {j: math.comb(k, j) * q**j * (1 - q) ** (k - j) for j in range(k + 1)}

    law = {(None, x): w for x, w in binom(4, p0).items() if x not in (0, 4)}
    out = [1 - sum(law.values())]
    for _ in range(2, M + 1):
        new: dict = {}
        for (a, x), w in law.items():
            old = binom(2, p0) if a is None else binom(2, Fraction(a, 4))
            for i, u in old.items():
                for j, v in binom(2, Fraction(x, 4)).items():
                    key = (x, i + j)
                    new[key] = new.get(key, Fraction(0)) + w * u * v
        law = {k: w for k, w in new.items() if k[1] not in (0, 4)}
        out.append(1 - sum(law.values()))
    return out


def checks() -> list[Check]:
    rows: list[Check] = []
    bar = Categorical([0.6, 0.4])
    three = Categorical([0.5, 0.3, 0.2])
    # 1. the lumped window chain against plain enumeration
    ref = _fraction_cdf(8)
    cdf = theory.overlapping_collapse_time(bar, MostRecent(4, 2)).cdf(np.arange(1, 9))
    err = max(abs(float(r) - c) for r, c in zip(ref, cdf, strict=True))
    rows.append(Check(KEY, "P(T <= m), m = 1..8, MostRecent(4, 2), p = (.6, .4)",
                      "lumped window chain vs Fraction enumeration", fmt(cdf[-1]),
                      fmt(float(ref[-1])), err < 1e-13, f"max |diff| = {err:.1e}"))
    # 2. homozygosity of every chain against the genealogy
    ms = np.array([1, 2, 3, 5, 10])
    for reg in (MostRecent(8, 2), MostRecent(7, 3), RandomlySampled(4), Accumulate(4),
                AccumulateSubsample(4)):
        a = theory.overlapping_homozygosity(three, reg, ms)
        b = theory.homozygosity(three, reg, ms)
        rows.append(close(KEY, f"E sum p_i^2 at m = 1..10, {reg!r}, p = (.5, .3, .2)",
                          "exact chain vs two-lineage genealogy", a[-1], b[-1], atol=1e-12,
                          note=f"max |diff| = {np.abs(a - b).max():.1e}"))
    # 3. K = 1 is Replace
    rows.append(close(KEY, "E[T], MostRecent(10, 1) = Replace(10), p = (.5, .3, .2)",
                      "window chain vs coalescent solver",
                      theory.overlapping_expected_collapse_time(three, MostRecent(10, 1)),
                      theory.expected_collapse_time(three, Replace(10)), rtol=1e-11))
    # 4. fixation: a token is never lost for good with probability p_i
    for i, p in enumerate(three.p):
        d = theory.overlapping_token_loss(three, MostRecent(8, 2), i, permanent=True).defect
        rows.append(close(KEY, f"P(token {i} never lost for good), MostRecent(8, 2)",
                          "killed window chain", d, p, atol=1e-12))
    # 5. Accumulate: the support never changes after generation 1
    rows.append(close(KEY, "P(p^(6) Dirac), Accumulate(4), p = (.5, .3, .2)",
                      "pool chain vs sum p_i^n", theory.dirac_probability(three, Accumulate(4), 6),
                      float(np.sum(three.p**4)), rtol=1e-12))
    # 6. simulation, with the exact variance, and a negative control
    R, G = 10_000, 200
    reg = MostRecent(6, 2)
    res = montecarlo.simulate(bar, reg, G, replicates=R, seed=20242, statistics=(),
                              backend="numba")
    sample = res.collapse_time.astype(np.float64)
    mean, var = theory.overlapping_collapse_moments(bar, reg)
    rows.append(zcheck(KEY, "E[T], MostRecent(6, 2), p = (.6, .4)", f"numba simulation R={R}",
                       sample.mean(), mean, math.sqrt(var / R)))
    law = theory.collapse_time(bar, Replace(6))
    rows.append(zreject(KEY, "negative control: Replace(6)'s E[T] on MostRecent(6, 2) data",
                        f"same z-test, R={R}", sample.mean(), law.mean(),
                        math.sqrt(law.var() / R)))
    # 7. the N_e diffusion time is the absorption time's scale
    h = littler_rate(bar.p)
    for n in (20, 40):
        reg = MostRecent(n, 2)
        ea = theory.overlapping_absorption_moments(bar, reg)[0]
        et = theory.overlapping_collapse_moments(bar, reg)[0]
        diff = h * theory.most_recent_effective_size(n, 2)
        rows.append(within(KEY, f"E[A] / (N_e diffusion time), MostRecent({n}, 2), p = (.6, .4)",
                           "window chain", ea / diff, 0.96, 1.0,
                           note=f"E[A] = {ea:.3f}, E[T] = {et:.3f}, diffusion {diff:.3f}"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Overlapping generations: exact collapse, absorption and token-loss laws",
    source="docs/theory/regimes.md (derived here; MostRecent of Seddik et al. "
           "arXiv 2404.05090 §3.3)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
