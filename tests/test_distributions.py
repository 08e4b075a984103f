import math

import numpy as np
import pytest
from scipy import stats

from modelcollapse.theory import GenerationDistribution


def geometric_law(theta, horizon):
    m = np.arange(horizon + 1)
    sf = (1 - theta) ** m  # T ~ Geometric(theta) on {1, 2, ...}
    return GenerationDistribution(1 - sf, sf, ratio=1 - theta)


@pytest.mark.parametrize("theta", [0.5, 0.1, 0.01])
def test_geometric_moments_and_quantiles_against_scipy(theta):
    law = geometric_law(theta, 50)  # the tail beyond 50 is extrapolated geometrically
    ref = stats.geom(theta)
    assert law.mean() == pytest.approx(ref.mean(), rel=1e-12)
    assert law.var() == pytest.approx(ref.var(), rel=1e-10)
    m = np.arange(0, 400)
    assert np.allclose(law.pmf(m), ref.pmf(m), rtol=1e-9, atol=1e-300)
    assert np.allclose(law.cdf(m), ref.cdf(m), rtol=1e-12)
    assert np.allclose(law.sf(m), ref.sf(m), rtol=1e-9)
    for q in (0.01, 0.5, 0.9, 0.999999):
        assert law.quantile(q) == ref.ppf(q)


def test_defective_law_and_conditioning():
    # never happens with probability 0.25; given it happens, Geometric(0.5)
    m = np.arange(30)
    tail = 0.75 * 0.5**m
    law = GenerationDistribution(0.75 - tail, tail, defect=0.25, ratio=0.5)
    assert math.isinf(law.mean())
    assert law.sf(1000) == pytest.approx(0.25)
    assert math.isinf(law.quantile(0.9))
    cond = law.conditional()
    assert cond.mean() == pytest.approx(2.0, rel=1e-12)
    assert cond.median() == 1.0


def test_bad_arguments():
    law = geometric_law(0.5, 10)
    with pytest.raises(ValueError, match="q must lie"):
        law.quantile(1.5)
    with pytest.raises(ValueError, match="integers"):
        law.pmf(1.5)
    with pytest.raises(ValueError, match="same"):
        GenerationDistribution([0, 1], [1])
