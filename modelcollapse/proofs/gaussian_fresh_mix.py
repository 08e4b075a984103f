r"""Gaussian with fresh real data every generation: a stationary point, no collapse
(docs/theory/gaussian.md and docs/theory/categorical.md; Bertrand et al. 2024,
Gerstgrasser et al. 2024 in the Gaussian case).

``Mix(real=N, synthetic=n, fresh=True)``: generation ``t`` fits ``N`` new real points
and ``n`` points of fit ``t - 1``. From conditional moments (derived below),
:math:`v_t = E\sigma_t^2/\sigma_0^2` and :math:`e_t = E(\mu_t-\mu_0)^2/\sigma_0^2` obey
the linear recursion

.. math:: e_t = \frac{N + n^2 e_{t-1} + n v_{t-1}}{(N+n)^2},\qquad
          v_t = \frac{N-1 + (n-1)v_{t-1} + \frac{Nn}{N+n}(e_{t-1} + \frac1N +
          \frac{v_{t-1}}{n})}{N+n-\delta}

(``delta = 1`` unbiased, 0 MLE), whose matrix has spectral radius < 1: the chain
converges geometrically to the unique stationary point :math:`(v^*, e^*)` whatever the
start, in ``d`` dimensions too (all expectations stay proportional to
:math:`\Sigma_0`). Checks: the recursion from sympy, its fixed point, the spectral
radius over a grid of (N, n), and seeded simulation far past the transient.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .. import montecarlo, theory
from ..models import Gaussian
from ..regimes import Mix
from ..theory.gaussian.moments import mix_matrix
from ._registry import Check, Theorem, close, zsample

KEY = "freshmix.gaussian"


def derive() -> dict:
    N, n, delta, v, e = sp.symbols("N n delta v e", positive=True)
    # pooled scatter of the real block R and the synthetic block S:
    # E Q_R = (N-1), E Q_S = (n-1) v, between-group term N n/(N+n) E(xbar_R - xbar_S)^2
    # with E(xbar_R - xbar_S)^2 = e + 1/N + v/n (independent, unbiased blocks)
    v_next = ((N - 1) + (n - 1) * v + N * n / (N + n) * (e + 1 / N + v / n)) / (
        N + n - delta)
    # mu_t - mu_0 = (N (xbar_R - mu_0) + n (xbar_S - mu_0))/(N + n)
    e_next = (N**2 * (1 / N) + n**2 * (e + v / n)) / (N + n) ** 2
    fixed = sp.solve([sp.Eq(v, v_next), sp.Eq(e, e_next)], [v, e], dict=True)[0]
    return {"v_next": sp.simplify(v_next), "e_next": sp.simplify(e_next),
            "v*": sp.simplify(fixed[v]), "e*": sp.simplify(fixed[e])}


def checks() -> list[Check]:
    rows: list[Check] = []
    d = derive()
    N_, n_, dl = sp.symbols("N n delta", positive=True)
    for est, delta in (("unbiased", 1), ("mle", 0)):
        for N, n in ((5, 5), (10, 90)):
            model = Gaussian(estimator=est)
            v, e = theory.stationary_point(model, Mix(N, n, fresh=True))
            sub = {N_: N, n_: n, dl: delta}
            rows.append(close(KEY, f"v* = lim E sigma^2/sigma0^2, {est}, N={N}, n={n}",
                              "sympy fixed point", v, float(d["v*"].subs(sub)), rtol=1e-12))
            rows.append(close(KEY, f"e* = lim E(mu-mu0)^2/sigma0^2, {est}, N={N}, n={n}",
                              "sympy fixed point", e, float(d["e*"].subs(sub)), rtol=1e-12))
    radius = 0.0
    for est in ("unbiased", "mle"):
        for N in (2, 3, 10, 100):
            for n in (1, 2, 10, 1000):
                A, _ = mix_matrix(Gaussian(estimator=est), N, n)
                radius = max(radius, float(np.max(np.abs(np.linalg.eigvals(A[:2, :2])))))
    rows.append(Check(KEY, "spectral radius of the recursion < 1 (N, n over a grid)",
                      "numpy eigvals", f"max {radius:.4f}", "< 1", radius < 1))
    R, t = 6000, 60
    for model, (N, n) in ((Gaussian(), (5, 20)),
                          (Gaussian([0, 0], [[1.0, 0.4], [0.4, 1.0]], estimator="mle"),
                           (4, 12))):
        reg = Mix(N, n, fresh=True)
        v, e = theory.stationary_point(model, reg)
        res = montecarlo.simulate(model, reg, t, replicates=R, backend="numba", seed=51,
                                  statistics=("trace_ratio", "mean_sq_error"))
        x = res["trace_ratio"][:, t]
        rows.append(zsample(KEY, f"E tr Sigma_t/tr Sigma_0 -> v* = {v:.5f}, d={model.dim}",
                            f"simulation R={R}, t={t}", x, v))
        y = res["mean_sq_error"][:, t] / np.trace(model.cov)
        rows.append(zsample(KEY, f"E||mu_t-mu_0||^2/tr Sigma_0 -> e* = {e:.5f}, d={model.dim}",
                            f"simulation R={R}, t={t}", y, e))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Gaussian with fresh real data: linear moment recursion, unique stationary point",
    source="docs/theory/gaussian.md (derived here)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derive,
)
