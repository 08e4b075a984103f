r"""Gerstgrasser et al. 2024 (arXiv 2404.01413): replacing data collapses linearly,
accumulating data stays below :math:`\pi^2/6` times the real-data error.

Linear regression :math:`y = x^\top w + \sigma\varepsilon`, :math:`x \sim N(0, I_d)`, one
fixed design :math:`X \in \mathbb R^{T\times d}` relabelled every generation, least
squares (minimum-norm when :math:`T < d`), test error :math:`E\lVert w_t - w\rVert^2`:
replace :math:`E_t = t\,\sigma^2 d/(T-d-1)`; accumulate (all labelled copies stacked)
:math:`E_t = \frac{\sigma^2 d}{T-d-1}\sum_{i=1}^t i^{-2} \le \frac{\pi^2}{6}
\frac{\sigma^2 d}{T-d-1}` (:math:`T \ge d+2`). Over-parameterised (:math:`T \le d-2`)
both gain the bias :math:`\lVert w\rVert^2(1 - T/d)` (expected :math:`d - T` for
:math:`w \sim N(0, I)`) and the variance unit becomes :math:`\sigma^2 T/(d-T-1)`. Dey &
Donoho (arXiv 2410.22812): the accumulate risk is at most :math:`\pi^2/6` times the
real-data-only risk.

Derivation. The stacked design :math:`1_m \otimes X` has pseudo-inverse
:math:`\tfrac1m 1_m^\top \otimes X^+`, so the pooled fit applies :math:`X^+` to the mean
label vector: :math:`w_m = \tfrac1m\sum_{k<m} P w_k + \tfrac{\sigma}{m}X^+\sum_{j\le m}
\varepsilon_j` with :math:`P = X^+X`. Writing :math:`w_m = Pw + \sigma X^+\sum_j c_{m,j}
\varepsilon_j` gives :math:`c_{m,j} = \tfrac1m(\sum_{k=j}^{m-1} c_{k,j} + 1)`, solved by
:math:`c_{m,j} = 1/j` (sympy); replace has :math:`c_{m,j} = 1`. Then
:math:`E\lVert w_t - w\rVert^2 = E\lVert(I-P)w\rVert^2 + \sigma^2 E\,\mathrm{tr}(X^\top
X)^+\sum_j c_{t,j}^2`, with :math:`\sum_j j^{-2} = \pi^2/6 - \psi_1(t+1) \to \pi^2/6`;
:math:`E\,\mathrm{tr}(X^\top X)^{-1} = d/(T-d-1)` (inverse Wishart; sympy checks its
:math:`d = 1` case :math:`E[1/\chi^2_\nu] = 1/(\nu-2)`), and :math:`E P = (T/d)I` by
rotation invariance (sympy checks :math:`d = 2, T = 1`).

Checks: the sympy derivation; the closed forms (digamma) against exact rational sums;
the Dey-Donoho ceiling; seeded numba simulations of the fixed design (under- and
over-parameterised) and of the fresh design under replace, with a negative control (the
replace law must be rejected on accumulate data).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy as sp

from .. import montecarlo
from ..models import LinearRegression
from ..regimes import Accumulate, Replace
from ..theory.regression import (
    accumulate_error_bound,
    accumulate_replace_ratio,
    expected_pinv_trace,
    regression_test_error,
)
from ._registry import Check, Theorem, close, fmt, mean_se, within, zcheck

KEY = "gerstgrasser2024.accumulate"
REPLICATES = 4000


def derivation() -> dict:
    """Symbolic derivation of the replace and accumulate errors; returns sympy objects
    and ``proved`` flags (each an identity reduced to 0 by ``simplify``)."""
    m, j, k = sp.symbols("m j k", integer=True, positive=True)
    t = sp.symbols("t", integer=True, nonnegative=True)
    v, b = sp.symbols("v b", positive=True)  # variance unit sigma^2 tau, bias
    # replace: noise coefficients c_{m,j} = 1, variance V_t = V_{t-1} + v
    V = sp.Function("V")
    replace = sp.rsolve(V(t + 1) - V(t) - v, V(t), {V(0): 0})
    replace_ok = sp.simplify(replace - v * t) == 0
    # accumulate: c_{m,j} = (sum_{k=j}^{m-1} c_{k,j} + 1)/m is solved by c = 1/j
    c = 1 / j
    coeff_residual = sp.simplify(sp.summation(c, (k, j, m - 1)) / m + 1 / m - c)
    # variance: sum_j c_{t,j}^2 = H_t^(2), which solves A_m = A_{m-1} + v/m^2
    acc = v * sp.summation(1 / j**2, (j, 1, m))
    rec_residual = sp.simplify(sp.expand_func(
        (acc - acc.subs(m, m - 1) - v / m**2).rewrite(sp.polygamma)))
    limit = sp.limit(acc, m, sp.oo)
    limit_ok = sp.simplify(limit - sp.pi**2 / 6 * v) == 0
    # inverse Wishart, d = 1: E[1/chi2_nu] = 1/(nu - 2)   (nu = T > 2)
    x, nu = sp.symbols("x nu", positive=True)
    chi2 = x ** (nu / 2 - 1) * sp.exp(-x / 2) / (2 ** (nu / 2) * sp.gamma(nu / 2))
    inv_mean = sp.simplify(sp.integrate(chi2 / x, (x, 0, sp.oo), conds="none"))
    inv_ok = sp.simplify(inv_mean - 1 / (nu - 2)) == 0
    # bias: uniformly random rank-1 projector in R^2, E||(I-P)w||^2 = ||w||^2 (1 - 1/2)
    th = sp.symbols("theta", real=True)
    a1, a2 = sp.symbols("a1 a2", real=True)
    u = sp.Matrix([sp.cos(th), sp.sin(th)])
    resid = (sp.eye(2) - u * u.T) * sp.Matrix([a1, a2])
    bias = sp.integrate(sp.expand((resid.T * resid)[0]), (th, 0, 2 * sp.pi)) / (2 * sp.pi)
    bias_ok = sp.simplify(bias - (a1**2 + a2**2) * (1 - sp.Rational(1, 2))) == 0
    return {
        "replace_variance": replace, "accumulate_variance": acc, "accumulate_limit": limit,
        "coefficient_residual": coeff_residual, "recursion_residual": rec_residual,
        "inverse_chi2_mean": inv_mean, "projector_bias_d2_T1": sp.simplify(bias),
        "replace_error": b + replace, "accumulate_error": b + acc,
        "proved": {
            "replace": bool(replace_ok),
            "accumulate_coefficients": coeff_residual == 0,
            "accumulate_recursion": rec_residual == 0,
            "pi2_over_6_limit": bool(limit_ok),
            "inverse_chi2": bool(inv_ok),
            "projector_bias": bool(bias_ok),
        },
    }


def _sim(model, regime, generations, seed):
    e = montecarlo.simulate(model, regime, generations, replicates=REPLICATES,
                            backend="numba", seed=seed, statistics=("test_error",))
    return mean_se(e["test_error"])


def checks() -> list[Check]:
    rows: list[Check] = []
    der = derivation()
    for name, ok in der["proved"].items():
        rows.append(Check(KEY, f"sympy: {name}", "sympy simplify",
                          "identity == 0" if ok else "not proved", "0", ok))

    # closed forms (digamma) vs exact rational sums, sigma = 1, ||w|| = 1
    for d, T in ((3, 20), (10, 50), (7, 33)):
        model = LinearRegression.isotropic(d, 1.0, "fixed")
        unit = expected_pinv_trace(d, T, exact=True)
        for t in (1, 7, 200):
            exact = unit * sum(Fraction(1, i * i) for i in range(1, t + 1))
            rows.append(close(KEY, f"accumulate E_{t}, d={d}, T={T}", "Fraction sum",
                              regression_test_error(model, Accumulate(T), t), exact,
                              rtol=1e-13))
            rows.append(close(KEY, f"replace E_{t}, d={d}, T={T}", "Fraction",
                              regression_test_error(model, Replace(T), t), t * unit,
                              rtol=1e-13))
    # over-parameterised: bias + variance in exact arithmetic (w = e_1, ||w||^2 = 1)
    d, T, t = 20, 8, 6
    model = LinearRegression(np.eye(d)[0], noise=0.5, design="fixed")
    unit = Fraction(1, 4) * expected_pinv_trace(d, T, exact=True)
    exact = 1 - Fraction(T, d) + unit * sum(Fraction(1, i * i) for i in range(1, t + 1))
    rows.append(close(KEY, f"over-param accumulate E_{t}, d={d}, T={T}, sigma=1/2",
                      "Fraction sum", regression_test_error(model, Accumulate(T), t), exact,
                      rtol=1e-13))

    # the pi^2/6 ceiling and the vanishing ratio
    model = LinearRegression.isotropic(5, 1.0, "fixed")
    bound = accumulate_error_bound(model, Accumulate(30))
    rows.append(close(KEY, "ceiling = (pi^2/6) x real-data error, d=5, T=30",
                      "closed form", bound, math.pi**2 / 6 * regression_test_error(
                          model, Replace(30), 1), rtol=1e-14))
    far = float(regression_test_error(model, Accumulate(30), 10**6))
    rows.append(within(KEY, "accumulate E_(10^6) <= ceiling, gap ~ v/t", "closed form",
                       far, bound - 1.1 * 5 / 24 * 1e-6, bound,
                       note=f"gap {bound - far:.3e}"))
    ratio = accumulate_replace_ratio(model, 30, 10**4)
    rows.append(close(KEY, "accumulate/replace at t=10^4 ~ pi^2/(6t)", "closed form",
                      ratio, math.pi**2 / 6 / 1e4, rtol=2e-4))

    # seeded simulations
    cases = [("fixed", 3, 20, 1.0, 11), ("fixed", 8, 36, 1.0, 12), ("fixed", 12, 4, 0.5, 13)]
    for design, d, T, s, seed in cases:
        model = LinearRegression.isotropic(d, s, design)
        for regime in (Replace(T), Accumulate(T)):
            mean, se = _sim(model, regime, 10, seed)
            for t in (1, 3, 10):
                rows.append(zcheck(KEY, f"{type(regime).__name__} E_{t}, {design}, d={d}, "
                                   f"T={T}, sigma={s}", f"numba simulation x{REPLICATES}",
                                   mean[t], regression_test_error(model, regime, t), se[t]))
            if isinstance(regime, Accumulate):
                acc_mean, acc_se = mean, se
        if d == 3:
            ctrl = regression_test_error(model, Replace(T), 10)
            z = (acc_mean[10] - ctrl) / acc_se[10]
            rows.append(Check(KEY, f"negative control: replace law on accumulate data, d={d}",
                              "numba simulation", fmt(acc_mean[10]), fmt(ctrl), abs(z) >= 5,
                              f"z={z:+.1f} (must be rejected)"))
    model = LinearRegression.isotropic(4, 1.0, "fresh")
    mean, se = _sim(model, Replace(25), 10, 15)
    rows.append(zcheck(KEY, "replace E_10, fresh design, d=4, T=25",
                       f"numba simulation x{REPLICATES}", mean[10],
                       regression_test_error(model, Replace(25), 10), se[10]))
    model = LinearRegression.isotropic(5, 1.0, "fixed")
    mean, se = _sim(model, Accumulate(12), 40, 16)
    bound = accumulate_error_bound(model, Accumulate(12))
    rows.append(within(KEY, "simulated accumulate E_40 <= pi^2/6 ceiling, d=5, T=12",
                       "numba simulation", mean[40], 0.0, bound + 5 * se[40],
                       note=f"exact {regression_test_error(model, Accumulate(12), 40):.4f}"))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Gerstgrasser et al. 2024: replace grows linearly, accumulate stays below pi^2/6",
    source="arXiv 2404.01413 (Thm on linear regression); Dey & Donoho arXiv 2410.22812",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derivation,
)
