"""The Gaussian sampling bias (Alemohammad et al. 2023): the exact law of log det Sigma_m
under Replace(n, temperature=T) against closed forms and a convolution by quadrature,
against seeded simulation (both backends; |z| < 5, the unbiased law as negative control),
and E[Sigma_m] = T^(m-1) c^m Sigma_0."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from modelcollapse import montecarlo as mc
from modelcollapse import theory
from modelcollapse.errors import UnsupportedRegimeError
from modelcollapse.models import Gaussian
from modelcollapse.regimes import Accumulate, Replace

G1 = Gaussian(0.0, 1.0)


def test_law_closed_form_and_convolution():
    n, T = 10, 0.8
    law1 = theory.log_det_law(G1, Replace(n, temperature=T), 1)  # real data: no bias yet
    for y in (-1.0, -0.2, 0.3):
        assert law1.cdf(y) == pytest.approx(stats.chi2.cdf(math.exp(y) * (n - 1), n - 1),
                                            abs=1e-9)
    law2 = theory.log_det_law(G1, Replace(n, temperature=T), 2)

    def f1(z):  # density of log(chi2_{n-1}/(n-1))
        x = math.exp(z) * (n - 1)
        return stats.chi2.pdf(x, n - 1) * x

    for y in (-1.5, -0.5, 0.2):
        conv, _ = integrate.quad(
            lambda z, y=y: f1(z) * stats.chi2.cdf(math.exp(y - math.log(T) - z) * (n - 1),
                                                  n - 1), -12, 4, limit=200)
        assert law2.cdf(y) == pytest.approx(conv, abs=1e-8)
    # negative control: without the bias the law is another one
    assert abs(theory.log_det_law(G1, Replace(n), 2).cdf(-0.5) - law2.cdf(-0.5)) > 0.05


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_law_against_simulation(backend):
    g = Gaussian(np.zeros(2), np.eye(2))
    reg = Replace(8, temperature=0.85)
    m, R = 6, 4000
    res = mc.simulate(g, reg, m, replicates=R, backend=backend, seed=4, progress=False,
                      statistics=["logdet_ratio", "trace_ratio"])
    y = res.statistic("logdet_ratio")[:, m]
    law = theory.log_det_law(g, reg, m)
    plain = theory.log_det_law(g, Replace(8), m)
    worst_plain = 0.0
    for q in (0.1, 0.3, 0.5, 0.7, 0.9):
        x = law.quantile(q)
        emp = (y <= x).mean()
        assert abs(emp - q) < 5 * math.sqrt(q * (1 - q) / R), (q, emp)
        F0 = plain.cdf(x)
        worst_plain = max(worst_plain, abs(emp - F0) / math.sqrt(F0 * (1 - F0) / R))
    assert worst_plain > 5
    # E[Sigma_m] = T^(m-1) c^m Sigma_0 (unbiased fit: c = 1); the paper's T^m is the
    # index shifted by the real first fit
    tr = res.statistic("trace_ratio")[:, m]
    want = theory.expected_trace_ratio(g, reg, m)
    assert want == pytest.approx(0.85 ** (m - 1), rel=1e-12)
    se = tr.std() / math.sqrt(R)
    assert abs(tr.mean() - want) < 5 * se
    assert abs(tr.mean() - 0.85 ** m) > 5 * se


def test_moments_shift_and_refusals():
    plain = theory.log_det_moments(G1, Replace(10), 5)
    biased = theory.log_det_moments(G1, Replace(10, temperature=0.5), 5)
    assert biased[0] == pytest.approx(plain[0] + 4 * math.log(0.5), rel=1e-12)
    assert biased[1] == plain[1]
    with pytest.raises(ValueError, match="m must be an integer >= 1"):
        theory.log_det_law(G1, Replace(10), 0)
    with pytest.raises(UnsupportedRegimeError):
        theory.log_det_law(G1, Accumulate(10), 2)
    with pytest.raises(UnsupportedRegimeError):
        theory.log_det_moments(G1, Accumulate(10, temperature=0.5), 2)
    assert theory.expected_variance(Gaussian(0.0, 2.0), Replace(10, temperature=0.5), 3) \
        == pytest.approx(2.0 * 0.5**2, rel=1e-12)
    with pytest.raises(UnsupportedRegimeError):
        theory.expected_std(G1, Replace(10, temperature=0.5), 2)
    with pytest.raises(ValueError, match="top_k and top_p"):
        mc.simulate(G1, Replace(10, top_k=2), 2, replicates=2, progress=False)
