r"""Suresh, Thangaraj & Khandavally (arXiv 2412.17646, AISTATS 2025): Gaussian forgetting.

A 1-D Gaussian refitted on ``n`` samples per generation with the unbiased variance
(:math:`\sigma_k^2 = \sigma_{k-1}^2\chi^2_{n-1}/(n-1)`) satisfies, as stated in the
theory chapter, docs/theory/bounds.md, :math:`P(\sigma_k > \varepsilon) \le
(\sigma_0/\varepsilon)\exp(-k/(4n-1))`.

Reading and evidence: the bound is Markov's inequality on :math:`E\sigma_k =
\sigma_0 c_4(n)^k` with :math:`c_4(n) = \sqrt{2/(n-1)}\,\Gamma(n/2)/\Gamma((n-1)/2)
\le e^{-1/(4n-1)}` (checked in 40-digit arithmetic; the gap is
:math:`\approx 3/(16n^2)`), so it holds for the marginal probability at generation
``k``, and a fortiori for the survival :math:`P(\tau_\varepsilon > k) \le
P(\sigma_k \ge \varepsilon\sigma_0)` of the collapse time. It is true as printed (no
erratum), but vacuous (above 1) for :math:`k < (4n-1)\log(\sigma_0/\varepsilon)`, and its
rate is nearly sharp: the exact marginal decays like :math:`\rho^k` with
:math:`\rho = \min_\theta E(\chi^2_{n-1}/(n-1))^\theta`, attained near
:math:`\theta = 1/2`, where the moment is :math:`c_4(n)`.

Checks: :math:`c_4(n) e^{1/(4n-1)} \le 1`; the bound against the exact marginal
:math:`P(\sigma_k > \varepsilon\sigma_0)` (Gil-Pelaez inversion of the exact
characteristic function of :math:`\log\sigma_k^2`) and against the exact survival of the
collapse time (:func:`modelcollapse.theory.gaussian_collapse_time`, grid
with a reported cdf error below 1e-6); the collapse-time law against a seeded
simulation.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from scipy import integrate

from ..models import Gaussian
from ..regimes import Replace
from ..theory import gaussian_collapse_time
from ..theory.bounds import suresh_gaussian_bound
from ..theory.gaussian.passage import step_cf
from ._registry import Check, Theorem, within, zcheck

KEY = "suresh2025.gaussian"


def marginal_sf(n: int, eps: float, k: int) -> float:
    r"""Exact :math:`P(\sigma_k > \varepsilon\sigma_0)`, unbiased fit: Gil-Pelaez on
    :math:`\log(\sigma_k^2/\sigma_0^2)`, whose characteristic function is the ``k``-th
    power of that of :math:`\log(\chi^2_{n-1}/(n-1))`."""
    a = 2.0 * math.log(eps)

    def integrand(u):
        phi = step_cf(np.array([u]), n, 1, float(n - 1))[0] ** k
        return (np.exp(-1j * u * a) * phi).imag / u

    val, _ = integrate.quad(integrand, 0.0, np.inf, limit=400, epsabs=1e-13, epsrel=1e-11)
    return 0.5 + val / math.pi


def checks() -> list[Check]:
    rows: list[Check] = []
    for n in (2, 3, 10, 100, 10_000):
        with mpmath.workdps(40):
            c4 = mpmath.sqrt(mpmath.mpf(2) / (n - 1)) * mpmath.gamma(mpmath.mpf(n) / 2) / \
                mpmath.gamma(mpmath.mpf(n - 1) / 2)
            ratio = float(c4 * mpmath.exp(mpmath.mpf(1) / (4 * n - 1)))
        rows.append(within(KEY, f"c4({n}) <= exp(-1/(4n-1)) (Markov on E sigma_k)",
                           "mpmath, 40 digits", ratio, 0.0, 1.0,
                           note=f"1 - ratio = {1 - ratio:.2e}"))
    for n, eps, ks in ((2, 0.5, (1, 5, 20)), (5, 0.5, (10, 40, 80)),
                       (10, 0.1, (50, 200, 400)), (30, 0.3, (100, 400))):
        law = gaussian_collapse_time(Gaussian(0, 1), Replace(n), eps)
        for k in ks:
            bound = suresh_gaussian_bound(n, eps, k)
            marg = marginal_sf(n, eps, k)
            rows.append(within(KEY, f"P(sigma_{k} > {eps} sigma0) <= bound, n={n}",
                               "Gil-Pelaez (exact cf)", marg, 0.0, bound,
                               note=f"bound {bound:.3g}; ratio {marg / bound:.2g}"))
            rows.append(within(KEY, f"P(tau_{eps} > {k}) <= P(sigma_{k} >= {eps} sigma0), "
                               f"n={n}", "grid law (exact)", law.sf(k), 0.0,
                               marg + law.error + 1e-12,
                               note=f"grid error {law.error:.1e}"))
    # seeded simulation of the collapse-time law
    from ..montecarlo import simulate

    n, eps, R = 10, 0.1, 4000
    law = gaussian_collapse_time(Gaussian(0, 1), Replace(n), eps)
    res = simulate(Gaussian(0, 1), Replace(n), int(law.quantile(1 - 1e-9)) + 1,
                   replicates=R, backend="numba", seed=2025, statistics=(), eps=eps)
    times = np.asarray(res.collapse_time, dtype=np.float64)
    rows.append(zcheck(KEY, f"E tau_{eps}, n={n}: simulation vs grid law",
                       f"numba simulation, {R} replicates, seed 2025", times.mean(),
                       law.mean(), math.sqrt(law.var() / R)))
    k = 100
    hit = float(np.mean(times > k))
    p = law.sf(k)
    rows.append(zcheck(KEY, f"P(tau_{eps} > {k}), n={n}: simulation vs grid law",
                       f"numba simulation, {R} replicates, seed 2025", hit, p,
                       math.sqrt(p * (1 - p) / R)))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Suresh et al. 2025: a Gaussian refitted with the unbiased variance forgets "
          "at rate exp(-k/(4n-1))",
    source="arXiv 2412.17646 (statement as in docs/theory/bounds.md)",
    statement=__doc__.split("\n\n")[1],
    checks=checks,
)
