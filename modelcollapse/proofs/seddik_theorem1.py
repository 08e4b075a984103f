r"""Seddik et al. 2024 (arXiv 2404.05090), Theorem 1: control on total collapse.

Fully synthetic training (``Replace(n)``), :math:`S_m = E\sum_i (p^{(m)}_i)^2`,
:math:`\rho_m = P(T \le m)`, :math:`\tilde s = |\mathrm{supp}\,p|`:

(6) :math:`S_m = 1 - (1-\frac1n)^m (1-S_0)`

(7) :math:`1 - n(1-S_0)(1-\frac1n)^m \le \rho_m \le 1 - \frac{(1-S_0)(1-\frac1n)^m}{1-1/\tilde s}`

(8) :math:`1 + \frac{(1-S_0)(n-1)}{1-1/\tilde s} \le E[T] \le 1 + (1-S_0)n(n-1)`

Derivation of (6): for one token, :math:`X \sim \mathrm{Bin}(n, p)` has factorial
moment :math:`E[X(X-1)] = G''(1) = n(n-1)p^2` from its generating function
:math:`G(z) = (1-p+pz)^n`, so :math:`E[(X/n)^2 \mid p] = p/n + (1-1/n)p^2`; summing over
tokens, :math:`S_m = 1/n + (1-1/n)S_{m-1}`, solved by ``sympy.rsolve``.

Checks: (6) against the full multinomial chain in exact rational arithmetic, against the
per-token binomial chains in floating point, and against a seeded simulation; (7) and
(8) against the exact collapse law and mean from the coalescent dual (in exact
arithmetic on a tiny case). The bounds hold; the exact mean is about ``2n(1-S_0)``-ish
(Kimura), so the upper bound (order ``n^2``) is loose, as the paper says.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Replace
from ..theory.categorical import marginal, rational
from ._registry import Check, Theorem, close, equal, within, zcheck

KEY = "seddik2024.thm1"


def derive() -> dict:
    """Symbolic derivation of eq. (6); returns the sympy objects."""
    n, p, z, S0 = sp.symbols("n p z S_0", positive=True)
    m = sp.symbols("m", integer=True, nonnegative=True)
    G = (1 - p + p * z) ** n
    fact2 = sp.simplify(sp.diff(G, z, 2).subs(z, 1))  # E[X(X-1)]
    second = sp.simplify((fact2 + n * p) / n**2)  # E[(X/n)^2]
    # linear in p and p^2: summing over tokens maps p -> 1 and p^2 -> S
    coeff_p = sp.simplify(sp.expand(second).coeff(p, 1))
    coeff_p2 = sp.simplify(sp.expand(second).coeff(p, 2))
    S = sp.Function("S")
    rec = S(m + 1) - (coeff_p + coeff_p2 * S(m))
    sol = sp.rsolve(rec, S(m), {S(0): S0})
    closed = 1 - (1 - 1 / n) ** m * (1 - S0)
    proved = sp.simplify(sol - closed) == 0
    return {"factorial_moment": fact2, "second_moment": second, "solution": sol,
            "closed_form": closed, "proved": proved}


def checks() -> list[Check]:
    rows: list[Check] = []
    d = derive()
    rows.append(Check(KEY, "(6) S_m solves S_m = 1/n + (1-1/n) S_{m-1}", "sympy rsolve",
                      "simplify(sol - closed) == 0" if d["proved"] else str(d["solution"]),
                      "0", bool(d["proved"])))

    # (6) exact rational chain
    p = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    n = 4
    exact_S = rational.homozygosity(p, n, 5)
    for m in (1, 3, 5):
        rows.append(equal(KEY, f"(6) S_{m}, p=(1/2,1/3,1/6), n={n}", "multinomial chain (Fraction)",
                          theory.homozygosity(p, Replace(n), m, exact=True),
                          exact_S[m]))

    # (6) per-token binomial chains, floating point
    model = Categorical.zipf(20, 1.2)
    n = 40
    P = marginal.wf_matrix(n)
    B = marginal.binomial_rows(n, model.p)  # generation 1 laws
    sq = (np.arange(n + 1) / n) ** 2
    law = B.copy()
    for m in range(1, 31):
        if m in (1, 10, 30):
            rows.append(close(KEY, f"(6) S_{m}, zipf(20,1.2), n={n}", "binomial chains",
                              theory.homozygosity(model, Replace(n), m), float((law @ sq).sum()),
                              rtol=1e-12))
        law = law @ P

    # (6) seeded simulation; Var(sum p^2) <= S(1-S) since sum p^2 lies in [0, 1]
    model = Categorical([0.5, 0.3, 0.2])
    n, R = 20, 20_000
    paths = montecarlo.categorical_paths(model, Replace(n), 10, replicates=R, seed=20240405)
    for m in (1, 5, 10):
        S = theory.homozygosity(model, Replace(n), m)
        est = float((paths[:, m] ** 2).sum(axis=1).mean())
        rows.append(zcheck(KEY, f"(6) S_{m}, p=(.5,.3,.2), n={n}", f"simulation R={R}",
                           est, S, np.sqrt(S * (1 - S) / R)))

    # (7), (8) in exact arithmetic on a tiny case
    p = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    n = 4
    rho = rational.collapse_cdf(p, n, 8)
    for m in (1, 2, 4, 8):
        lo, hi = theory.seddik_collapse_probability_bounds(p, n, m, exact=True)
        rows.append(within(KEY, f"(7) rho_{m}, p=(1/2,1/3,1/6), n={n}",
                           "multinomial chain (Fraction)", rho[m], lo, hi,
                           "exact rational comparison"))
    ET = rational.expected_collapse_time(p, n)
    lo, hi = theory.seddik_expected_collapse_time_bounds(p, n, exact=True)
    rows.append(within(KEY, f"(8) E[T]={ET}, p=(1/2,1/3,1/6), n={n}",
                       "multinomial chain (Fraction)", ET, lo, hi, "exact rational comparison"))

    # (7), (8) on larger cases, exact coalescent law
    for model, name in ((Categorical.uniform(600), "uniform(600)"),
                        (Categorical.zipf(600, 1.0), "zipf(600,1)")):
        for n in (10, 100, 400):
            law = theory.collapse_time(model, Replace(n))
            for m in (1, n, 5 * n):
                lo, hi = theory.seddik_collapse_probability_bounds(model, Replace(n), m)
                rows.append(within(KEY, f"(7) rho_{m}, {name}, n={n}", "coalescent law",
                                   law.cdf(m), lo - 1e-12, hi + 1e-12))
            ET = theory.expected_collapse_time(model, Replace(n), method="coalescent")
            lo, hi = theory.seddik_expected_collapse_time_bounds(model, Replace(n))
            rows.append(within(KEY, f"(8) E[T], {name}, n={n}", "coalescent Green's fn",
                               float(ET), lo, hi, f"E[T]/n = {ET / n:.4f}"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Seddik et al. 2024, Theorem 1 (total collapse, fully synthetic)",
    source="arXiv 2404.05090, Thm 1, eqs. (6)-(8)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derive,
)
