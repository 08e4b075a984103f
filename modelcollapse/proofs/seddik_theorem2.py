r"""Seddik et al. 2024 (arXiv 2404.05090), Theorem 2 / eq. (9): partially synthetic.

``Mix(real=N, synthetic=n)``: the same ``N`` real samples every generation plus ``n``
samples of the previous model, :math:`p^{(m+1)} = (1-\alpha)p^{(1)} + \alpha\hat p_n(p^{(m)})`
with :math:`\alpha = n/(N+n)`, :math:`\beta = \alpha[(1+1/N)\alpha - 1/N]`. The per-token
recursion (Appendix B) is

.. math:: \nu^{(1)} = p/N + (1-1/N)p^2, \qquad
          \nu^{(m+1)} = (1-\alpha)(1+2\alpha)\frac pN + (1-\tfrac1N)(1-\alpha^2)p^2
                        + \beta\,\nu^{(m)},

and the paper prints, for ``m >= 1``, eq. (9):

.. math:: S_{m+1} = \frac{\frac1N\,[1 + 2\alpha - (1-\frac1N)\alpha\beta^m]
          + (1-\frac1N)S_0\,[1 + \alpha - \frac{\alpha}{N}\beta^m]}{1 + (1+\frac1N)\alpha}.

**Erratum.** Solving the recursion (sympy ``rsolve``, below) gives the same limit and the
same rate :math:`\beta^m`, but the :math:`S_0` term's transient has the opposite sign:

.. math:: S_{m+1} = \frac{\frac1N\,[1 + 2\alpha - (1-\frac1N)\alpha\beta^m]
          + (1-\frac1N)S_0\,[1 + \alpha + \frac{\alpha}{N}\beta^m]}{1 + (1+\frac1N)\alpha}
          = L + \beta^m (S_1 - L).

(The printed form fails already at ``m = 0``, where it should return
:math:`S_1 = 1/N + (1-1/N)S_0`.) Evidence: exact rational enumeration of the chain on a
tiny case equals the corrected form and differs from the printed one, and a seeded
simulation separates them by many standard errors.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Mix
from ..theory.categorical import rational
from ._registry import Check, Theorem, equal, fmt, zcheck

KEY = "seddik2024.thm2"


def _symbols():
    N, n, p, S0 = sp.symbols("N n p S_0", positive=True)
    return N, n, p, S0


def derive() -> dict:
    r"""Derive the per-token recursion from conditional moments and solve it."""
    N, n, p, S0 = _symbols()
    m = sp.symbols("m", integer=True, nonnegative=True)
    a = n / (N + n)
    r, nu = sp.symbols("r nu")  # r = p^(1)_i, nu = E[(p^(m)_i)^2 | r]
    # E[p^(m+1)^2 | r, p^(m)] with p^(m+1) = (1-a) r + a X/n, X ~ Bin(n, p^(m)),
    # E[p^(m) | r] = r:  (1-a)^2 r^2 + 2a(1-a) r^2 + a^2 ((1-1/n) nu + r/n)
    step = (1 - a) ** 2 * r**2 + 2 * a * (1 - a) * r**2 + a**2 * ((1 - 1 / n) * nu + r / n)
    # average over the real sample: r^2 -> E r^2 = p/N + (1-1/N)p^2 and r -> p
    Er2 = p / N + (1 - 1 / N) * p**2
    step_avg = sp.expand(step.subs(r**2, Er2)).subs(r, p)
    beta = sp.simplify(step_avg.coeff(nu, 1))
    const = sp.simplify(step_avg.coeff(nu, 0))
    beta_paper = a * ((1 + 1 / N) * a - 1 / N)
    const_paper = (1 - a) * (1 + 2 * a) * p / N + (1 - 1 / N) * (1 - a**2) * p**2
    recursion_ok = (sp.simplify(beta - beta_paper) == 0
                    and sp.simplify(const - const_paper) == 0)
    # solve the summed recursion S_{k+1} = C + beta S_k, S_1 = 1/N + (1-1/N) S0
    S = sp.Function("S")
    # summing over tokens maps p -> 1 and p^2 -> S_0 (const is a quadratic in p)
    C = sp.diff(const, p).subs(p, 0) + sp.diff(const, p, 2) / 2 * S0
    sol = sp.rsolve(S(m + 1) - C - beta * S(m), S(m), {S(1): 1 / N + (1 - 1 / N) * S0})
    D = 1 + (1 + 1 / N) * a
    printed = (((1 + 2 * a - (1 - 1 / N) * a * beta_paper**m) / N
                + (1 - 1 / N) * S0 * (1 + a - a / N * beta_paper**m)) / D)
    corrected = (((1 + 2 * a - (1 - 1 / N) * a * beta_paper**m) / N
                  + (1 - 1 / N) * S0 * (1 + a + a / N * beta_paper**m)) / D)
    sol_next = sol.subs(m, m + 1)  # S_{m+1}
    corrected_ok = sp.simplify(sp.expand(sol_next - corrected)) == 0
    printed_gap = sp.factor(sp.simplify((printed - sol_next).subs(m, 0)))
    return {"beta": beta, "constant": const, "recursion_matches_paper": recursion_ok,
            "solution": sol, "printed_eq9": printed, "corrected_eq9": corrected,
            "corrected_proved": corrected_ok, "printed_minus_solution_at_m0": printed_gap}


def _eval(expr, N, n, S0, m):
    Ns, ns, _, S0s = _symbols()
    ms = sp.symbols("m", integer=True, nonnegative=True)
    val = expr.subs({Ns: N, ns: n, S0s: S0, ms: m})
    return Fraction(str(sp.nsimplify(val))) if val.is_Rational else float(val)


def checks() -> list[Check]:
    rows: list[Check] = []
    d = derive()
    rows.append(Check(KEY, "per-token recursion (App. B) from conditional moments",
                      "sympy", "matches" if d["recursion_matches_paper"] else "differs",
                      "paper's recursion", bool(d["recursion_matches_paper"])))
    rows.append(Check(KEY, "corrected eq. (9) solves the recursion", "sympy rsolve",
                      "simplify(diff) == 0" if d["corrected_proved"] else "nonzero", "0",
                      bool(d["corrected_proved"])))
    gap = d["printed_minus_solution_at_m0"]
    rows.append(Check(KEY, "ERRATUM: printed eq. (9) does not solve it", "sympy rsolve",
                      f"printed S_1 - S_1 = {gap}", "nonzero", gap != 0,
                      "sign of (alpha/N) beta^m in the S_0 term"))

    # exact rational enumeration, tiny case
    p = [Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)]
    N, n = 2, 3
    exact = rational.mix_homozygosity(p, N, n, 4)
    S0 = sum(x * x for x in p)
    for m in (1, 2, 3, 4):
        ours = theory.homozygosity(p, Mix(N, n), m, exact=True)
        rows.append(equal(KEY, f"S_{m}, p=(1/2,1/3,1/6), N={N}, n={n}",
                          "exact enumeration (Fraction)", ours, exact[m]))
    for m in (2, 3):
        printed = _eval(d["printed_eq9"], N, n, S0, m - 1)
        rows.append(Check(KEY, f"ERRATUM: printed (9) gives S_{m} = {fmt(float(printed))}",
                          "exact enumeration (Fraction)", fmt(float(exact[m])),
                          "must differ", printed != exact[m], "printed form is wrong"))

    # seeded simulation: separates the two forms
    model = Categorical([0.7, 0.3])
    N, n, R = 5, 20, 100_000
    paths = montecarlo.categorical_paths(model, Mix(N, n), 5, replicates=R, seed=9)
    S0 = model.homozygosity
    for m in (2, 3, 5):
        S = theory.homozygosity(model, Mix(N, n), m)
        est = float((paths[:, m] ** 2).sum(axis=1).mean())
        se = np.sqrt(S * (1 - S) / R)
        rows.append(zcheck(KEY, f"S_{m}, p=(.7,.3), N={N}, n={n}", f"simulation R={R}",
                           est, S, se))
        printed = _eval(d["printed_eq9"], N, n, S0, m - 1)
        z = (est - float(printed)) / se
        rows.append(Check(KEY, f"ERRATUM: printed (9) S_{m} = {fmt(float(printed))}",
                          f"simulation R={R}", fmt(est), "|z| > 5", abs(z) > 5, f"z={z:+.1f}"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Seddik et al. 2024, Theorem 2 / eq. (9) (partially synthetic) - with erratum",
    source="arXiv 2404.05090, Thm 2, eq. (9), App. B",
    statement="S_m under Mix: limit L and rate beta^m as printed; the S_0 transient term "
              "has the opposite sign (corrected here).",
    checks=checks,
    derivation=derive,
)
