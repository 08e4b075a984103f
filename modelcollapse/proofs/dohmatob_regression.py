r"""Dohmatob, Feng & Kempe 2024 (arXiv 2402.07712): regression collapse with a fresh
design, linear in the generations when under-parameterised, exponential when
over-parameterised and noise-free.

``n`` generations each fit :math:`T_0` fresh rows :math:`x \sim N(0, I_d)` labelled by the
previous model with noise std :math:`\sigma_0`; a downstream model fits ``T`` fresh rows
labelled by :math:`\hat w_n` with noise std :math:`\sigma`. Under-parameterised:
:math:`E_{\rm test} = \sigma^2 d/(T-d-1) + n\sigma_0^2 d/(T_0-d-1)`. Noise-free and
over-parameterised (:math:`d > T_0`): :math:`E\lVert\hat w_n - w_0\rVert^2/\lVert
w_0\rVert^2 = 1 - (T_0/d)^n`. Derived here for any noise (:math:`T_0 \le d-2`):
:math:`E\lVert\hat w_n - w_0\rVert^2 = (1 - (T_0/d)^n)(\lVert w_0\rVert^2 +
\sigma_0^2T_0d/((d-T_0)(d-T_0-1)))`.

Derivation. One generation is :math:`w_k = P_kw_{k-1} + \sigma_0X_k^+\varepsilon_k`,
:math:`P_k = X_k^+X_k`. Under-parameterised :math:`P_k = I`: the errors add independent
terms of mean square :math:`\sigma_0^2 d/(T_0-d-1)` (inverse Wishart), and the
downstream fit adds :math:`\sigma^2 d/(T-d-1)`. Over-parameterised, :math:`P_k` is a
uniformly random rank-:math:`T_0` projector independent of :math:`w_{k-1}`, so
:math:`E w_k = r E w_{k-1}` and :math:`E\lVert w_k\rVert^2 = rE\lVert w_{k-1}\rVert^2 + a`
with :math:`r = T_0/d`, :math:`a = \sigma_0^2T_0/(d-T_0-1)`; ``sympy.rsolve`` and
:math:`E\lVert w_n - w_0\rVert^2 = E\lVert w_n\rVert^2 - 2w_0^\top Ew_n + \lVert
w_0\rVert^2` give the closed form, which reduces to :math:`1 - r^n` at :math:`a = 0`.

Checks: the sympy derivation; the downstream formula against the package's replace law
and against seeded numba simulations of the synthetic generations followed by a NumPy
downstream fit; the noise-free and the noisy over-parameterised laws against seeded
simulations (the simulator's fresh design draws :math:`x \sim N(0, I_d)`).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

from .. import montecarlo
from ..models import LinearRegression
from ..regimes import Replace
from ..theory.regression import (
    dohmatob_noise_free_error,
    dohmatob_test_error,
    regression_test_error,
)
from ._registry import Check, Theorem, close, equal, mean_se, zcheck

KEY = "dohmatob2024.regression"
REPLICATES = 4000


def derivation() -> dict:
    """Symbolic derivation of both laws; returns sympy objects and ``proved`` flags."""
    n = sp.symbols("n", integer=True, nonnegative=True)
    s, s0, tau, tau0 = sp.symbols("sigma sigma_0 tau tau_0", positive=True)
    # under-parameterised: E_n = E_{n-1} + sigma0^2 tau0, E_0 = 0; downstream + sigma^2 tau
    E = sp.Function("E")
    chain = sp.rsolve(E(n + 1) - E(n) - s0**2 * tau0, E(n), {E(0): 0})
    test = s**2 * tau + chain
    d, T, T0 = sp.symbols("d T T_0", positive=True)
    published = s**2 * d / (T - d - 1) + n * s0**2 * d / (T0 - d - 1)
    under_ok = sp.simplify(test.subs({tau: d / (T - d - 1), tau0: d / (T0 - d - 1)})
                           - published) == 0
    # over-parameterised: M_n = E||w_n||^2 = r M_{n-1} + a, E w_n = r^n w_0
    r, a, W = sp.symbols("r a W", positive=True)
    M = sp.Function("M")
    second = sp.rsolve(M(n + 1) - r * M(n) - a, M(n), {M(0): W})
    error = second - 2 * r**n * W + W
    closed = (1 - r**n) * (W + a / (1 - r))
    over_ok = sp.simplify(error - closed) == 0
    noise_free = sp.simplify(error.subs(a, 0) / W)
    nf_ok = sp.simplify(noise_free - (1 - r**n)) == 0
    # a/(1 - r) with r = T0/d, a = sigma0^2 T0/(d - T0 - 1)
    level = sp.simplify((a / (1 - r)).subs({a: s0**2 * T0 / (d - T0 - 1), r: T0 / d}))
    level_ok = sp.simplify(level - s0**2 * T0 * d / ((d - T0) * (d - T0 - 1))) == 0
    return {"under_parameterised": test, "second_moment": second, "error": error,
            "closed_form": closed, "noise_free_relative": noise_free, "noise_level": level,
            "proved": {"under_parameterised": bool(under_ok),
                       "over_parameterised": bool(over_ok),
                       "noise_free": bool(nf_ok), "noise_level": bool(level_ok)}}


def _sim(model, T0, generations, seed, statistics=("test_error",)):
    return montecarlo.simulate(model, Replace(T0), generations, replicates=REPLICATES,
                               backend="numba", seed=seed, statistics=statistics)


def _downstream(coef, w, T, noise, rng):
    """Error of a least-squares fit on ``T`` fresh rows labelled by ``coef`` (rows)."""
    R, d = coef.shape
    X = rng.standard_normal((R, T, d))
    y = np.einsum("rtd,rd->rt", X, coef) + noise * rng.standard_normal((R, T))
    w_hat = np.linalg.solve(np.einsum("rti,rtj->rij", X, X),
                            np.einsum("rti,rt->ri", X, y)[..., None])[..., 0]
    return ((w_hat - w) ** 2).sum(axis=1)


def checks() -> list[Check]:
    rows: list[Check] = []
    der = derivation()
    for name, ok in der["proved"].items():
        rows.append(Check(KEY, f"sympy: {name}", "sympy simplify",
                          "identity == 0" if ok else "not proved", "0", ok))

    # consistency with the replace law (T = T0, sigma = sigma0) and exact noise-free values
    for d, T0, s0, n in ((4, 20, 1.0, 3), (6, 30, 0.7, 5)):
        model = LinearRegression.isotropic(d, s0, "fresh")
        rows.append(close(KEY, f"E_test(T=T0={T0}, n={n}) = replace E_(n+1), d={d}",
                          "closed forms", dohmatob_test_error(d, T0, s0, T0, s0, n),
                          regression_test_error(model, Replace(T0), n + 1), rtol=1e-13))
    for d, T0, n in ((20, 8, 3), (12, 4, 6)):
        value = dohmatob_noise_free_error(d, T0, n, exact=True)
        ref = Fraction(1)
        for _ in range(n):  # E||w_k||^2 / ||w||^2 = r E||w_{k-1}||^2 / ||w||^2
            ref *= Fraction(T0, d)
        rows.append(equal(KEY, f"1-(T0/d)^n, d={d}, T0={T0}, n={n}", "Fraction recursion",
                          value, 1 - ref))
        model = LinearRegression(np.eye(d)[0], noise=0.0, design="fresh")
        rows.append(close(KEY, f"replace law at sigma=0 = 1-(T0/d)^n, d={d}, T0={T0}",
                          "closed forms", regression_test_error(model, Replace(T0), n),
                          float(value), rtol=1e-14))

    # downstream formula: numba synthetic generations, NumPy downstream fit
    for d, T0, s0, T, s, n, seed in ((4, 20, 1.0, 40, 0.5, 3, 21), (6, 30, 0.7, 15, 1.0, 5, 22)):
        model = LinearRegression.isotropic(d, s0, "fresh")
        sim = _sim(model, T0, n, seed, statistics=("coef",))
        err = _downstream(sim["coef"][:, n], model.w, T, s, np.random.default_rng(seed))
        mean, se = mean_se(err)
        rows.append(zcheck(KEY, f"E_test d={d}, T0={T0}, sigma0={s0}, T={T}, sigma={s}, "
                           f"n={n}", f"numba + numpy simulation x{REPLICATES}", mean,
                           dohmatob_test_error(d, T, s, T0, s0, n), se))

    # over-parameterised, noise-free and noisy
    for d, T0, s0, seed in ((12, 4, 0.0, 23), (20, 5, 0.0, 24), (12, 4, 0.5, 25)):
        model = LinearRegression.isotropic(d, s0, "fresh")
        e = _sim(model, T0, 8, seed)["test_error"]
        for n in (1, 3, 8):
            mean, se = mean_se(e[:, n])
            if s0 == 0:
                rows.append(zcheck(KEY, f"noise-free relative error, d={d}, T0={T0}, n={n}",
                                   f"numba simulation x{REPLICATES}", mean,
                                   dohmatob_noise_free_error(d, T0, n), se))
            else:
                rows.append(zcheck(KEY, f"noisy over-param error, d={d}, T0={T0}, "
                                   f"sigma0={s0}, n={n}", f"numba simulation x{REPLICATES}",
                                   mean, regression_test_error(model, Replace(T0), n), se))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Dohmatob et al. 2024: linear collapse (fresh design), 1-(T0/d)^n when noise-free",
    source="arXiv 2402.07712 (statements as in docs/theory/regression.md)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
    derivation=derivation,
)
