r"""Sampling bias (Alemohammad et al. 2023, arXiv 2307.01850, §2.3, eqs. (1)--(2)): a
Gaussian refitted (unbiased covariance) to samples of :math:`N(\mu_{t-1}, \lambda
\Sigma_{t-1})` has :math:`E[\Sigma_t \mid \Sigma_{t-1}] = \lambda \Sigma_{t-1}`, and
:math:`\Sigma_t \to 0` almost surely for every :math:`\lambda \le 1`. In the toolkit
:math:`\lambda` is the regime's temperature and real samples are untempered, so
:math:`E\Sigma_m = \lambda^{m-1}\Sigma_0`; :math:`\log\det\Sigma_m/\det\Sigma_0` is
:math:`(m-1)d\log\lambda` plus a sum of :math:`md` independent
:math:`\log(\chi^2_{n-j}/(n-1))`, whose mean per generation is negative (Jensen), hence
the almost-sure collapse.

Checks: the law's cdf against the chi-square closed form (m = 1) and a convolution by
quadrature (m = 2); its quantiles against seeded simulation (the unbiased law as negative
control); :math:`E\Sigma_m` against simulation (the paper's index, :math:`\lambda^m`, as
negative control); the drift per generation negative for :math:`\lambda = 1`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, stats

from .. import theory
from ..models import Gaussian
from ..montecarlo import simulate
from ..regimes import Replace
from ._registry import Theorem, close, mean_se, within, zcheck, zreject

KEY = "alemohammad.sampling-bias"


def checks():
    rows = []
    g1 = Gaussian(0.0, 1.0)
    n, lam = 10, 0.8
    law1 = theory.log_det_law(g1, Replace(n, temperature=lam), 1)
    rows.append(close(KEY, "cdf of log sigma_1^2 at -0.2 (m=1: real data)",
                      "chi-square closed form", law1.cdf(-0.2),
                      stats.chi2.cdf(math.exp(-0.2) * (n - 1), n - 1), atol=1e-9))
    law2 = theory.log_det_law(g1, Replace(n, temperature=lam), 2)

    def f1(z):
        x = math.exp(z) * (n - 1)
        return stats.chi2.pdf(x, n - 1) * x

    conv, _ = integrate.quad(lambda z: f1(z) * stats.chi2.cdf(
        math.exp(-0.5 - math.log(lam) - z) * (n - 1), n - 1), -12, 4, limit=200)
    rows.append(close(KEY, "cdf of log sigma_2^2 at -0.5", "convolution by quadrature",
                      law2.cdf(-0.5), conv, atol=1e-8))
    g = Gaussian(np.zeros(2), np.eye(2))
    reg = Replace(8, temperature=0.85)
    m, reps = 6, 20_000
    res = simulate(g, reg, m, replicates=reps, seed=2307, record="all",
                   statistics=["logdet_ratio", "trace_ratio"])
    y = res.statistic("logdet_ratio")[:, m]
    law = theory.log_det_law(g, reg, m)
    plain = theory.log_det_law(g, Replace(8), m)
    for q in (0.1, 0.5, 0.9):
        x = law.quantile(q)
        rows.append(zcheck(KEY, f"P(log det ratio <= its {q} quantile), d=2, m={m}",
                           "simulation", (y <= x).mean(), q, math.sqrt(q * (1 - q) / reps)))
    x = law.quantile(0.5)
    F0 = plain.cdf(x)
    rows.append(zreject(KEY, "control: the unbiased law at that median", "must be rejected",
                        (y <= x).mean(), F0, math.sqrt(F0 * (1 - F0) / reps)))
    tr, se = mean_se(res.statistic("trace_ratio")[:, m])
    want = theory.expected_trace_ratio(g, reg, m)
    rows.append(close(KEY, "E Sigma_m / Sigma_0 = lambda^(m-1)", "closed form", want,
                      0.85 ** (m - 1), rtol=1e-12))
    rows.append(zcheck(KEY, f"E tr Sigma_m / tr Sigma_0, m={m}", "simulation", tr, want, se))
    rows.append(zreject(KEY, "control: the paper's index, lambda^m", "must be rejected", tr,
                        0.85 ** m, se))
    for n_, d in ((3, 1), (10, 1), (10, 4), (1000, 10)):
        drift = theory.log_chi2_step(n_, d)[0]
        rows.append(within(KEY, f"drift of log det per generation < 0 (lambda=1), n={n_}, "
                                f"d={d}", "digamma closed form", drift, -math.inf, 0.0))
    return rows


THEOREM = Theorem(
    key=KEY,
    title="Sampling bias of a Gaussian: E Sigma_t = lambda Sigma_(t-1), and the law of "
          "log det",
    source="Alemohammad et al. 2023, arXiv 2307.01850, eqs. (1)-(2); docs/theory/"
           "mitigations.md",
    statement=__doc__.split("\n\n")[0],
    checks=checks,
)
