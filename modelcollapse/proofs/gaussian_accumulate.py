r"""Gaussian under accumulating data (Gerstgrasser et al. 2024; Kazdan et al. 2024;
docs/theory/gaussian.md): no collapse, a finite limit and the :math:`\pi^2/6` ceiling.

``Accumulate(M)``: generation ``t`` fits mean and variance to all ``tM`` points (``M``
real, then ``M`` of each earlier fit). The pooled scatter obeys
:math:`S_t = S_{t-1} + \sigma_{t-1}^2(\chi^2_{M-1} + \frac{t-1}{t}Z^2)`, hence

.. math:: \frac{E\sigma_t^2}{E\sigma_{t-1}^2} = 1 - \frac{1}{t^2M}\ \ (\text{MLE}),\qquad
          1 - \frac{1}{t(tM-1)}\ \ (\text{unbiased}),

and (derived here) :math:`E\sigma_t^2 \to \sigma_0^2\sqrt M\sin(\pi/\sqrt M)/\pi > 0` for
the MLE (Euler's product for the sine), :math:`\sigma_0^2\,\Gamma(2-\frac1M)/
(\Gamma(2-a)\Gamma(2-b))`, :math:`Ma^2 - a - 1 = 0 = Mb^2 - b - 1`, for the unbiased fit;
the mean error :math:`E(\mu_t-\mu_0)^2 = \sum_{k\le t}E\sigma_{k-1}^2/(k^2M)` stays below
:math:`\frac{\pi^2}{6}\frac{\sigma_0^2}{M}` (MLE). With the MLE,
:math:`E\sigma_t^2 + E(\mu_t-\mu_0)^2 = \sigma_0^2` exactly (under Replace too): the fit
keeps the empirical second moment about :math:`\mu_0`, and sampling keeps it in
expectation, so the limit of the mean error is :math:`\sigma_0^2` minus that of the
variance. Checks: the ratio and the closed-form
products in sympy, the limits against long products, and seeded simulation.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from .. import montecarlo, theory
from ..models import Gaussian
from ..regimes import Accumulate, Replace
from ._registry import Check, Theorem, close, within, zsample

KEY = "accumulate.gaussian"


def derive() -> dict:
    t, k = sp.symbols("t k", integer=True, positive=True)
    M, S, delta = sp.symbols("M S delta", positive=True)
    # E[S_t | past] with sigma_{t-1}^2 = S_{t-1}/((t-1)M - delta): the new group's own
    # scatter (M-1) sigma^2 plus the between-group term n1 n2/(n1+n2) E(xbar-mu)^2
    sig2 = S / ((t - 1) * M - delta)
    n1, n2 = (t - 1) * M, M
    ES = S + (M - 1) * sig2 + n1 * n2 / (n1 + n2) * sig2 / M
    ratio = sp.simplify((ES / (t * M - delta)) / sig2)
    mle = sp.simplify(ratio.subs(delta, 0) - (1 - 1 / (t**2 * M)))
    unb = sp.simplify(ratio.subs(delta, 1) - (1 - 1 / (t * (t * M - 1))))
    prod_t = sp.simplify(sp.product(1 - 1 / (k**2 * M), (k, 2, t)))
    x = 1 / sp.sqrt(M)
    limit_mle = sp.simplify((M - 1) / M * sp.limit(prod_t, t, sp.oo))
    return {"one_step_ratio": ratio, "mle_ratio_proved": mle == 0,
            "unbiased_ratio_proved": unb == 0, "product_2..t (mle)": prod_t,
            "limit E sigma^2/sigma0^2 (mle)": limit_mle,
            "limit_is_sine_product": sp.simplify(
                limit_mle - sp.sin(sp.pi * x) / (sp.pi * x)) == 0}


def checks() -> list[Check]:
    rows: list[Check] = []
    d = derive()
    rows.append(Check(KEY, "E sigma_t^2/E sigma_{t-1}^2 = 1 - 1/(t^2 M) (mle)",
                      "sympy from the scatter recursion", str(d["one_step_ratio"]),
                      "1 - 1/(t**2*M)", bool(d["mle_ratio_proved"])))
    rows.append(Check(KEY, "... = 1 - 1/(t(tM-1)) (unbiased)", "sympy",
                      "simplify(diff) == 0", "0", bool(d["unbiased_ratio_proved"])))
    rows.append(Check(KEY, "limit = sqrt(M) sin(pi/sqrt(M))/pi (mle)", "sympy product+limit",
                      str(d["limit E sigma^2/sigma0^2 (mle)"]), "sin(pi x)/(pi x)",
                      bool(d["limit_is_sine_product"])))
    for M in (4, 25):
        mle, unb = Gaussian(estimator="mle"), Gaussian()
        closed = float(((M - 1) / sp.Integer(M)) * d["product_2..t (mle)"].subs(
            {sp.Symbol("M", positive=True): M, sp.Symbol("t", integer=True, positive=True):
             50}))
        rows.append(close(KEY, f"E sigma_50^2, mle, M={M}", "sympy Gamma closed form",
                          theory.expected_trace_ratio(mle, Accumulate(M), 50), closed,
                          rtol=1e-10))
        for model, name in ((mle, "mle"), (unb, "unbiased")):
            rows.append(close(KEY, f"limit of E sigma_t^2, {name}, M={M}",
                              "product to t = 10^6", theory.expected_trace_ratio(
                                  model, Accumulate(M), np.inf),
                              theory.expected_trace_ratio(model, Accumulate(M), 10**6),
                              rtol=1e-5))
        e = theory.expected_mean_error(mle, Accumulate(M), np.inf)
        rows.append(within(KEY, f"E(mu_inf - mu_0)^2 <= (pi^2/6)/M, mle, M={M}",
                           "exact sum", e, 0.0, math.pi**2 / 6 / M))
    # MLE fits keep the empirical second moment about mu_0, and sampling keeps it in
    # expectation: E sigma_t^2 + E(mu_t - mu_0)^2 = sigma_0^2 for every t
    mle = Gaussian(estimator="mle")
    for reg in (Accumulate(3), Replace(3)):
        ts = np.array([1, 7, 100])
        total = (theory.expected_trace_ratio(mle, reg, ts)
                 + theory.expected_mean_error(mle, reg, ts))
        rows.append(close(KEY, f"E sigma_t^2 + E(mu_t-mu_0)^2 = sigma0^2, mle, {reg!r}",
                          "exact, t = 1, 7, 100", float(np.max(np.abs(total - 1))), 0.0,
                          atol=1e-12, note="second moment about mu_0 conserved"))
    # simulation against the finite-t values; replace for contrast
    M, t, R = 5, 40, 8000
    for model in (Gaussian(estimator="mle"), Gaussian()):
        res = montecarlo.simulate(model, Accumulate(M), t, replicates=R, backend="numba",
                                  seed=41, statistics=("trace_ratio", "mean_sq_error"))
        for stat, fn in (("trace_ratio", theory.expected_trace_ratio),
                         ("mean_sq_error", theory.expected_mean_error)):
            x = res[stat][:, t]
            rows.append(zsample(KEY, f"{stat} at t={t}, {model.estimator}, M={M}",
                                f"simulation R={R}", x, fn(model, Accumulate(M), t)))
    rep = theory.expected_trace_ratio(Gaussian(estimator="mle"), Replace(M), t)
    acc = theory.expected_trace_ratio(Gaussian(estimator="mle"), Accumulate(M), t)
    rows.append(Check(KEY, f"accumulate keeps the variance, replace loses it (t={t})",
                      "exact", f"{acc:.4f} vs {rep:.2e}", "acc > 0.5 > rep",
                      acc > 0.5 > rep))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Gaussian accumulate: E sigma_t^2 -> sqrt(M) sin(pi/sqrt M)/pi (mle), mean error "
          "<= (pi^2/6) sigma^2/M",
    source="Gerstgrasser et al. arXiv 2404.01413; Kazdan et al. arXiv 2410.16713; "
           "docs/theory/gaussian.md (derived here)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derive,
)
