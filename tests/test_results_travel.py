"""Result objects pickle and deep-copy (so they pass through Dask, multiprocessing and
joblib) and keep their values and provenance."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from modelcollapse import montecarlo, theory
from modelcollapse.models import Categorical, Gaussian
from modelcollapse.regimes import MostRecent, Replace

BAR = Categorical([0.6, 0.4])


def _roundtrips(obj):
    return [pickle.loads(pickle.dumps(obj)), copy.deepcopy(obj), copy.copy(obj)]


def test_estimate_keeps_value_and_provenance():
    est = theory.expected_collapse_time(BAR, Replace(10))
    for back in _roundtrips(est):
        assert type(back) is theory.Estimate
        assert float(back) == float(est)
        assert (back.method, back.exact) == ("coalescent", True)
    approx = theory.expected_collapse_time(BAR, Replace(10), method="diffusion")
    assert pickle.loads(pickle.dumps(approx)).exact is False


@pytest.mark.parametrize("make", [
    lambda: theory.collapse_time(BAR, Replace(10)),
    lambda: theory.token_loss(BAR, Replace(10), 1),
    lambda: theory.forgetting_time(1, 10),
    lambda: theory.overlapping_collapse_time(BAR, MostRecent(4, 2)),
    lambda: theory.gaussian_collapse_time(Gaussian(0.0, 1.0), Replace(5), 0.1),
], ids=["collapse_time", "token_loss", "forgetting_time", "window_chain", "gaussian"])
def test_laws_travel(make):
    law = make()
    ms = np.arange(0, 30)
    for back in _roundtrips(law):
        assert type(back) is type(law)
        np.testing.assert_array_equal(back.cdf(ms), law.cdf(ms))
        assert back.method == law.method


def test_moments_are_named_tuples():
    m = theory.overlapping_collapse_moments(BAR, MostRecent(4, 2))
    assert isinstance(m, theory.Moments) and isinstance(m, tuple)
    mean, var = m
    assert (m.mean, m.var) == (mean, var)
    assert pickle.loads(pickle.dumps(m)) == m
    p = theory.policy_collapse_moments(BAR, Replace(6, temperature=0.5))
    assert isinstance(p, theory.Moments)
    assert p.mean == pytest.approx(float(theory.expected_collapse_time(
        BAR, Replace(6, temperature=0.5))), rel=1e-12)


def test_simulation_result_travels():
    res = montecarlo.simulate(BAR, Replace(6), 4, replicates=8, seed=1, backend="numpy")
    for back in _roundtrips(res):
        np.testing.assert_array_equal(back["homozygosity"], res["homozygosity"])
        np.testing.assert_array_equal(back.collapse_time, res.collapse_time)


def test_law_plot_draws_the_law():
    import matplotlib.pyplot as plt

    law = theory.collapse_time(BAR, Replace(20))
    try:
        ax = law.plot()
        m, y = ax.lines[0].get_data()
        np.testing.assert_array_equal(m, np.arange(m.size))
        np.testing.assert_allclose(y, law.pmf(m), rtol=0, atol=0)
        assert law.cdf(int(m[-1])) >= 0.999 > law.cdf(int(m[-1]) - 1)  # default range
        law.plot(ax, kind="sf", upto=50)
        assert ax.get_yscale() == "log"
        assert ax.lines[1].get_data()[0][-1] == 50
        big = theory.collapse_time(BAR, Replace(10**5)).plot(kind="cdf")
        assert big.lines[0].get_data()[0].size <= 2001  # thinned, not 10^5 points
        lost = theory.token_loss(BAR, Replace(20), 1)  # defective: range of the finite part
        assert lost.plot().lines[0].get_data()[0][-1] < 10 * 20
        with pytest.raises(ValueError, match="kind"):
            law.plot(kind="density")
        with pytest.raises(ValueError, match="upto"):
            law.plot(upto=-1)
    finally:
        plt.close("all")
