r"""Shumailov et al. 2024 (Nature 631:755; arXiv 2305.17493), Theorem 3.1: a Gaussian
refitted on its own samples collapses.

``Replace(M)``, one dimension, unbiased estimator (divisor ``M - 1``). The paper states
that :math:`E\,W_2^2(N(\mu_0,\sigma_0^2), N(\mu_t,\sigma_t^2)) \to \infty` and that
:math:`\sigma_t \to 0` almost surely, although :math:`E\sigma_t^2 = \sigma_0^2` for all
``t``. Counterpart with the MLE (divisor ``M``, used by the papers' own figure code):
:math:`E\sigma_t^2 = \sigma_0^2((M-1)/M)^t` and :math:`E W_2^2 \to 2\sigma_0^2`, bounded.

Derivation (below, in sympy): by Cochran :math:`\sigma_t^2 = \sigma_{t-1}^2
\chi^2_{M-1}/\mathrm{den}` and :math:`\mu_t = \mu_{t-1} + \sigma_{t-1}Z/\sqrt M`, so
:math:`E(\mu_t-\mu_0)^2 = \sum_{i<t}E\sigma_i^2/M = t\sigma_0^2/M` (unbiased): since
:math:`W_2^2 \ge (\mu_t-\mu_0)^2`, :math:`E W_2^2 \ge t\sigma_0^2/M \to \infty`.
:math:`\log\sigma_t^2` is a random walk with step mean
:math:`\psi(\frac{M-1}2) - \log\frac{M-1}2 < 0` (because :math:`\psi(x) < \log x`), so by
the strong law :math:`\log\sigma_t^2 \to -\infty` a.s. Checks: the closed forms against
quadrature of the chi-square law, the sign of the drift for M = 2..10^6 at 50 digits
(mpmath), and seeded simulation (|z| < 5 with the exact variances
:math:`\mathrm{Var}\log\sigma_t^2 = t\psi'(\frac{M-1}2)` and
:math:`\mathrm{Var}\,\sigma_t = E\sigma_t^2 - (E\sigma_t)^2`).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import sympy as sp
from scipy import integrate, stats

from .. import montecarlo, theory
from ..models import Gaussian
from ..regimes import Replace
from ._registry import Check, Theorem, close, within, zcheck, zsample

KEY = "shumailov2024.thm3.1"


def derive() -> dict:
    """The moment recursions of one refit, solved in sympy."""
    t, i = sp.symbols("t i", integer=True, nonnegative=True)
    M, s0, den = sp.symbols("M sigma_0 den", positive=True)
    # E[sigma_t^2 | past] = sigma_{t-1}^2 (M-1)/den  =>  E sigma_t^2 = s0^2 r^t
    r = (M - 1) / den
    v = sp.Function("v")
    var_sol = sp.rsolve(v(t + 1) - r * v(t), v(t), {v(0): s0**2})
    # E(mu_t - mu_0)^2 = E(mu_{t-1} - mu_0)^2 + E sigma_{t-1}^2 / M
    mean_err = sp.summation(var_sol.subs(t, i) / M, (i, 0, t - 1))
    unbiased = sp.simplify(mean_err.subs(den, M - 1))
    mle = sp.simplify(mean_err.subs(den, M))
    return {"E sigma_t^2": var_sol, "E (mu_t-mu_0)^2 (unbiased)": unbiased,
            "E (mu_t-mu_0)^2 (mle)": mle,
            "unbiased_is_t_over_M": sp.simplify(unbiased - t * s0**2 / M) == 0,
            "mle_closed_form": sp.simplify(mle - s0**2 * (1 - ((M - 1) / M) ** t)) == 0}


def checks() -> list[Check]:
    rows: list[Check] = []
    d = derive()
    rows.append(Check(KEY, "E(mu_t-mu_0)^2 = t sigma0^2/M (unbiased)", "sympy summation",
                      str(d["E (mu_t-mu_0)^2 (unbiased)"]), "t*sigma_0**2/M",
                      bool(d["unbiased_is_t_over_M"])))
    rows.append(Check(KEY, "E(mu_t-mu_0)^2 = sigma0^2 (1-((M-1)/M)^t) (mle)",
                      "sympy summation", str(d["E (mu_t-mu_0)^2 (mle)"]),
                      "sigma_0**2*(1-((M-1)/M)**t)", bool(d["mle_closed_form"])))
    # the drift of log sigma^2 is negative: psi(x) < log x, at 50 digits
    mpmath.mp.dps = 50
    worst = max(mpmath.digamma(mpmath.mpf(M - 1) / 2) - mpmath.log(mpmath.mpf(M - 1) / 2)
                for M in (2, 3, 5, 10, 100, 10**4, 10**6))
    rows.append(Check(KEY, "drift psi((M-1)/2) - log((M-1)/2) < 0, M = 2..1e6",
                      "mpmath 50 digits", f"max {mpmath.nstr(worst, 6)}", "< 0", worst < 0))
    # closed forms against quadrature of the chi-square law
    M = 6
    for est, den in (("unbiased", M - 1), ("mle", M)):
        model = Gaussian(0.0, 1.0, estimator=est)
        one = integrate.quad(lambda x, den=den: math.sqrt(x / den) * stats.chi2.pdf(x, M - 1),
                             0, np.inf)[0]
        rows.append(close(KEY, f"E sigma_5 ({est}, M={M})", "chi-square quadrature",
                          theory.expected_std(model, Replace(M), 5), one**5, rtol=1e-9))
    # simulation: sigma_t -> 0 although E sigma_t^2 = sigma_0^2 (unbiased)
    M, t, R = 10, 200, 4000
    model = Gaussian(0.0, 1.0)
    res = montecarlo.simulate(model, Replace(M), t, replicates=R, backend="numpy", seed=31,
                              statistics=("logdet_ratio", "var", "mean_sq_error"))
    mean, var = theory.log_det_moments(model, Replace(M), t)
    rows.append(zcheck(KEY, f"E log sigma_t^2, M={M}, t={t}", f"simulation R={R}",
                       res["logdet_ratio"][:, t].mean(), mean, math.sqrt(var / R)))
    frac = float(np.mean(res["var"][:, t, 0] < 1e-2))
    rows.append(within(KEY, f"P(sigma_{t}^2 < 0.01 sigma0^2), unbiased, M={M}",
                       f"simulation R={R}", frac, 0.9, 1.0,
                       "collapse although E sigma_t^2 = sigma_0^2"))
    sd = np.sqrt(res["var"][:, 50, 0])
    es = theory.expected_std(model, Replace(M), 50)
    rows.append(zcheck(KEY, f"E sigma_50, M={M}", f"simulation R={R}", sd.mean(), es,
                       math.sqrt((1.0 - es**2) / R), note="exact Var sigma_t"))
    # the raw mean of (mu_t - mu_0)^2 is dominated by rare paths once t >> M (its
    # variance grows like ((M+1)/(M-1))^t): check it where t ~ M
    e = res["mean_sq_error"][:, M]
    rows.append(zsample(KEY, f"E(mu_t-mu_0)^2 = t/M at t = M = {M}", f"simulation R={R}",
                        e, 1.0, note="sample s.e.; E W2^2 >= t/M -> infinity"))
    w = [theory.expected_w2sq(model, Replace(M), k) for k in (10, 100, 1000, 10_000)]
    rows.append(Check(KEY, "E W2^2 grows without bound (unbiased)", "exact moments",
                      ", ".join(f"{x:.3g}" for x in w), "increasing, -> inf",
                      bool(np.all(np.diff(w) > 0))
                      and theory.expected_w2sq(model, Replace(M), np.inf) == np.inf))
    mle = Gaussian(0.0, 1.0, estimator="mle")
    lim = theory.expected_w2sq(mle, Replace(M), np.inf)
    rows.append(close(KEY, "E W2^2 -> 2 sigma0^2 (mle): bounded", "exact moments, t = inf",
                      lim, 2.0, rtol=1e-12))
    res = montecarlo.simulate(mle, Replace(M), 30, replicates=R, backend="numpy", seed=32,
                              statistics=("w2",))
    w2sq = res["w2"][:, 30] ** 2
    rows.append(zsample(KEY, f"E W2^2 at t=30 (mle, M={M})", f"simulation R={R}",
                        w2sq, theory.expected_w2sq(mle, Replace(M), 30)))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Shumailov et al. 2024, Thm 3.1: E W2^2 -> inf and sigma -> 0 a.s. (unbiased); "
          "bounded with the MLE",
    source="Nature 631:755 (2024), arXiv 2305.17493, Thm 3.1",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derive,
)
