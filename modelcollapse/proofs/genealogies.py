r"""Genealogies of the other regimes: exact expected homozygosity (docs/theory/regimes.md).

Claim. With :math:`S_m = E\sum_i (p^{(m)}_i)^2` and :math:`D_m` the probability that two
independent draws from :math:`p^{(m)}` are not identical by descent,
:math:`S_m = 1 - (1-S_0)D_m` for every regime without a separate real block, and

* ``RandomlySampled(n)`` and ``Accumulate(n)``: :math:`D_m = \prod_{j=1}^m (1 - 1/(nj^2))`
  (the same at every m), :math:`S_\infty = 1 - (1-S_0)\sin(\pi/\sqrt n)/(\pi/\sqrt n)`;
* ``AccumulateSubsample(n)``: :math:`D_m = (1-\frac1n)\prod_{u=2}^m
  (1 - \frac{3n-1}{nu(nu-1)})`, :math:`S_\infty = 1 - (1-S_0)(1-\frac1n)
  \Gamma(2-\frac1n)/(\Gamma(2-\alpha)\Gamma(2-\beta))`, :math:`\alpha,\beta =
  (1\mp\sqrt{12n-3})/(2n)`;
* ``MostRecent(n, K)``: :math:`D_m = E(m,m)` of a banded recursion over pairs of
  generations; :math:`1-S_m \approx C\lambda^m` with :math:`\lambda` its Perron root and
  :math:`N_e = 1/(1-\lambda) = N(K+1)^2/4 + K(K-1)/4 + O(1/N)`, :math:`N = K\lfloor n/K\rfloor`.

Derivation. A draw from a fitted model copies a uniform element of its training set.
Under RandomlySampled a lineage in generation :math:`g` jumps to a uniform model of
:math:`0..g-1`; under Accumulate to a uniform block of the pool :math:`0..g-1` (block 0:
the kept real sample). The levels it visits are the records of a uniform descent: level
:math:`s` with probability :math:`1/(s+1)`, independently. Two lineages share level
:math:`s` with probability :math:`1/(s+1)^2` and then meet with probability :math:`1/n`,
which gives the product. Under AccumulateSubsample the pool pair probability
:math:`\Delta_t` obeys :math:`U_{t+1}-U_t = [(n-1)^2/n + 2nt - 2]\Delta_t` with
:math:`U_t = t(tn-1)\Delta_t`, a first-order recursion (sympy: the ratio is
:math:`1-(3n-1)/(n(t+1)(n(t+1)-1))`, whose numerator factors as :math:`(u-\alpha)(u-\beta)`
with :math:`\alpha+\beta = 1/n`, so the product telescopes into Gamma functions).
Euler: :math:`\prod_j(1-x^2/j^2) = 1/(\Gamma(1-x)\Gamma(1+x)) = \sin\pi x/(\pi x)`.

Checks: the sympy identities; the closed products against the unreduced pair
recursion and against an independent *forward* recursion of second moments in exact
rational arithmetic (exact equality); the Gamma limits against long products; the
Perron root against the decay of the exact recursion and the :math:`N_e` asymptotics;
seeded numba simulations (sample standard error over 4000 replicates) with negative
controls (Replace's law on MostRecent data, Accumulate's law on AccumulateSubsample data).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Accumulate, AccumulateSubsample, MostRecent, RandomlySampled, Replace
from ..theory import (
    genealogy_homozygosity,
    most_recent_effective_size,
    noncoalescence,
    stationary_homozygosity,
)
from ._registry import Check, Theorem, close, equal, mean_se, zcheck

KEY = "genealogy.other-regimes"
REPLICATES = 4000


def derivation() -> dict:
    """Sympy identities behind the closed forms; ``proved`` flags (each reduced to 0)."""
    n, t, u, m, x = sp.symbols("n t u m x", positive=True)
    # AccumulateSubsample: U_{t+1} - U_t = [(n-1)^2/n + 2nt - 2] Delta_t
    ratio = (t * (t * n - 1) + (n - 1) ** 2 / n + 2 * n * t - 2) / ((t + 1) * ((t + 1) * n - 1))
    ratio_res = sp.simplify(ratio - (1 - (3 * n - 1) / (n * (t + 1) * (n * (t + 1) - 1))))
    al, be = (1 - sp.sqrt(12 * n - 3)) / (2 * n), (1 + sp.sqrt(12 * n - 3)) / (2 * n)
    fac_res = sp.simplify(sp.expand(n**2 * (u - al) * (u - be))
                          - (n**2 * u**2 - n * u - (3 * n - 1)))
    G = sp.gamma(m + 1 - al) * sp.gamma(m + 1 - be) / (sp.gamma(m + 1) * sp.gamma(m + 1 - 1 / n))
    tel_res = sp.simplify(sp.gammasimp(G.subs(m, u) / G.subs(m, u - 1))
                          - (u - al) * (u - be) / (u * (u - 1 / n)))
    # Euler: prod_{j<=m} (1 - x^2/j^2) = Gamma(m+1-x)Gamma(m+1+x)/(Gamma(1-x)Gamma(1+x)m!^2)
    H = sp.gamma(m + 1 - x) * sp.gamma(m + 1 + x) / sp.gamma(m + 1) ** 2
    euler_res = sp.simplify(sp.gammasimp(H.subs(m, u) / H.subs(m, u - 1)) - (1 - x**2 / u**2))
    sinc_res = sp.simplify(sp.gammasimp(1 / (sp.gamma(1 - x) * sp.gamma(1 + x)))
                           - sp.sin(sp.pi * x) / (sp.pi * x))
    return {
        "subsample_ratio": ratio, "alpha_beta": (al, be),
        "proved": {
            "subsample first-order recursion": ratio_res == 0,
            "subsample factor (u-alpha)(u-beta)": fac_res == 0,
            "subsample Gamma telescoping": tel_res == 0,
            "Euler product telescoping": euler_res == 0,
            "reflection: 1/(G(1-x)G(1+x)) = sin(pi x)/(pi x)": sinc_res == 0,
        },
    }


# ---------------------------------------------------------------------- forward reference
def _forward(regime, S0: Fraction, M: int) -> list:
    """E|p^(m)|^2, m = 0..M, by forward second-moment recursions from the plan."""
    n = regime.n
    if isinstance(regime, (Accumulate, AccumulateSubsample)):
        Q, out = n + n * (n - 1) * S0, [S0]
        for mm in range(1, M + 1):
            T = mm * n
            if isinstance(regime, Accumulate):
                h = Q / (T * T)
            else:
                h = Q / (T * T) if T == n else \
                    Fraction(T - n, n * (T - 1)) * (1 - Q / (T * T)) + Q / (T * T)
            out.append(h)
            Q = Q + 2 * n * Q / T + n + n * (n - 1) * h
        return out
    G = {(0, 0): S0}

    def g(a, b):
        return G[max(a, b), min(a, b)]

    out = [S0]
    for s in range(1, M + 1):
        if isinstance(regime, RandomlySampled):
            for h in range(s):
                G[s, h] = sum(g(r, h) for r in range(s)) / Fraction(s)
            q2 = sum(g(a, b) for a in range(s) for b in range(s)) / Fraction(s * s)
            G[s, s] = Fraction(1, n) + (1 - Fraction(1, n)) * q2
        else:
            K = regime.window if isinstance(regime, MostRecent) else 1
            k = min(K, s)
            b = n // k
            for h in range(s):
                G[s, h] = sum(g(s - j, h) for j in range(1, k + 1)) / Fraction(k)
            tot = sum((b + b * (b - 1) * g(s - j1, s - j1)) if j1 == j2
                      else b * b * g(s - j1, s - j2)
                      for j1 in range(1, k + 1) for j2 in range(1, k + 1))
            G[s, s] = tot / ((k * b) ** 2)
        out.append(G[s, s])
    return out


def checks() -> list[Check]:
    rows: list[Check] = []
    for name, ok in derivation()["proved"].items():
        rows.append(Check(KEY, f"sympy: {name}", "sympy simplify",
                          "identity == 0" if ok else "not proved", "0", ok))
    p = [Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)]
    S0 = sum(x * x for x in p)
    model = Categorical([0.5, 0.3, 0.2])
    regimes = [RandomlySampled(10), Accumulate(10), AccumulateSubsample(10),
               MostRecent(10, 3), MostRecent(7, 3), Replace(10)]
    for reg in regimes:
        ref = _forward(reg, S0, 10)
        for method in ("closed", "pairs"):
            rows.append(equal(KEY, f"S_10, {reg.spec}, p=(.5,.3,.2)",
                              f"{method} vs forward moments (Fraction)",
                              genealogy_homozygosity(p, reg, 10, exact=True, method=method),
                              ref[10]))
        ref20 = _forward(reg, S0, 20)
        got = genealogy_homozygosity(model, reg, np.arange(1, 21))
        err = max(abs(float(a) - float(b)) for a, b in zip(got, ref20[1:], strict=True))
        rows.append(close(KEY, f"max_m<=20 |S_m - ref|, {reg.spec}", "float64 vs Fraction",
                          err, 0.0, atol=1e-9))
    # the negative control of the exact comparison: RandomlySampled's formula is not
    # AccumulateSubsample's
    wrong = genealogy_homozygosity(p, RandomlySampled(10), 10, exact=True)
    ref = _forward(AccumulateSubsample(10), S0, 10)[10]
    rows.append(Check(KEY, "control: RandomlySampled law vs AccumulateSubsample moments",
                      "must differ", f"{float(wrong):.10g}", f"{float(ref):.10g}",
                      wrong != ref, "rejected" if wrong != ref else "NOT rejected"))
    # stationary limits against long products
    for reg in (Accumulate(10), AccumulateSubsample(10), RandomlySampled(3)):
        lim = stationary_homozygosity(model, reg)
        m = 10**6
        c = 3 - 1 / reg.n if isinstance(reg, AccumulateSubsample) else 1.0
        approx = genealogy_homozygosity(model, reg, m) + c * (1 - lim) / (reg.n * m)
        rows.append(close(KEY, f"S_inf, {reg.spec}", "S_m + tail, m=1e6", lim, approx,
                          rtol=1e-10))
    # N_e of MostRecent
    for n, K in ((9, 3), (8, 4), (12, 2)):
        D = noncoalescence(MostRecent(n, K), np.arange(3001))
        rows.append(close(KEY, f"N_e, most-recent:{n}:{K}", "decay of the exact recursion",
                          most_recent_effective_size(n, K), 1 / (1 - D[3000] / D[2999]),
                          rtol=1e-9))
    for K in (2, 3, 4, 6):
        N = 3000 * K
        rows.append(close(KEY, f"N_e, most-recent:{N}:{K}", "N(K+1)^2/4 + K(K-1)/4",
                          most_recent_effective_size(N, K),
                          N * (K + 1) ** 2 / 4 + K * (K - 1) / 4, rtol=1e-8))
    # simulation
    M = 20
    for seed, reg in enumerate([*regimes[:4], Replace(10)], start=31):
        h = montecarlo.simulate(model, reg, M, replicates=REPLICATES, backend="numba",
                                seed=seed, statistics=("homozygosity",))["homozygosity"]
        mean, se = mean_se(h[:, M])
        rows.append(zcheck(KEY, f"S_{M}, {reg.spec}", f"simulation R={REPLICATES}", mean,
                           genealogy_homozygosity(model, reg, M), se))
        if isinstance(reg, MostRecent):
            z = (mean - theory.homozygosity(model, Replace(10), M)) / se
            rows.append(Check(KEY, f"control: Replace law on {reg.spec} data",
                              "must be rejected (|z| >= 5)", f"z={z:+.1f}", "|z| >= 5",
                              abs(z) >= 5))
        if isinstance(reg, AccumulateSubsample):
            z = (mean - genealogy_homozygosity(model, Accumulate(10), M)) / se
            rows.append(Check(KEY, f"control: Accumulate law on {reg.spec} data",
                              "must be rejected (|z| >= 5)", f"z={z:+.1f}", "|z| >= 5",
                              abs(z) >= 5))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Genealogies of MostRecent, RandomlySampled, Accumulate, AccumulateSubsample",
    source="docs/theory/regimes.md (derived here); Euler's sine product; Felsenstein 1971 (N_e)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derivation,
)
