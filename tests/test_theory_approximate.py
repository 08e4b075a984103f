"""``method="auto"`` beyond the exact solvers: lumping (exact), the approximations and
their measured bands, and the refusals that name a simulation."""

from __future__ import annotations

import json
import math
import pickle
from pathlib import Path

import numpy as np
import pytest

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Categorical,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    theory,
)
from modelcollapse.errors import TooLargeError
from modelcollapse.theory._results import Estimate
from modelcollapse.theory.categorical import approximate, pool_chain
from modelcollapse.theory.categorical.collapse import approximate_collapse
from modelcollapse.theory.categorical.diffusion import littler_rate

RESULTS = Path(__file__).parents[1] / "benchmarks" / "results" / "approx_errors.json"


# ---------------------------------------------------------------------- lumping
@pytest.mark.parametrize("regime, identity", [
    (MostRecent(8, 2), MostRecent(8, 2, top_k=4)),
    (RandomlySampled(5), RandomlySampled(5, top_k=4)),
    (AccumulateSubsample(5), AccumulateSubsample(5, top_k=4)),
    (Mix(3, 4, fresh=True), Mix(3, 4, fresh=True, top_k=4)),
])
def test_lumped_first_loss_equals_the_full_chain(regime, identity):
    # top_k = 4 on 4 tokens is the identity policy, but not "plain": the chain then runs
    # on all four tokens, an independent computation of the lumped two-token value
    m = Categorical([0.4, 0.3, 0.2, 0.1])
    a = theory.first_loss_probability(m, regime, 2, np.arange(4))
    b = theory.first_loss_probability(m, identity, 2, np.arange(4))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    assert a[-1] > 0.1  # a check that could fail: the probabilities are not trivial


def test_lumping_lifts_the_token_limit_and_keeps_policies_out():
    m = Categorical.uniform(50)
    law = theory.token_loss(m, MostRecent(12, 2), 3)  # 50 tokens: two after lumping
    same = theory.token_loss(Categorical([0.02, 0.98]), MostRecent(12, 2), 0)
    assert law.defect == pytest.approx(same.defect, abs=1e-14)
    assert law.conditional().mean() == pytest.approx(same.conditional().mean(), rel=1e-12)
    with pytest.raises(TooLargeError, match="at most 4 tokens"):  # a policy: no lumping
        theory.first_loss_probability(m, MostRecent(12, 2, temperature=0.9), 3, 2)


def test_accumulate_support_closed_form_matches_the_chain():
    m = Categorical([0.5, 0.3, 0.2])
    n = 4
    rows = pool_chain._accumulate_stats(m.p, n, 3, Replace(1).sampling)
    closed = theory.expected_surviving_tokens(m, Accumulate(n), [1, 2, 3])
    np.testing.assert_allclose(closed, [r["support"] for r in rows], atol=1e-13)
    dirac = theory.dirac_probability(m, Accumulate(n), [1, 3])
    np.testing.assert_allclose(dirac, [rows[0]["dirac"], rows[2]["dirac"]], atol=1e-13)
    big = theory.expected_surviving_tokens(Categorical.uniform(1000), Accumulate(500), 7)
    assert big == pytest.approx(1000 * (1 - (1 - 1e-3) ** 500), rel=1e-12)


# ---------------------------------------------------------------------- approximations
def test_most_recent_at_scale_is_the_effective_size_with_a_band():
    m = Categorical.uniform(50)
    n, K = 10**6, 5
    T = theory.expected_collapse_time(m, MostRecent(n, K))
    assert (T.method, T.exact) == ("effective-size", False)
    assert 0 < T.error < 0.5 and "n >= " in T.basis
    Ne = theory.most_recent_effective_size(n, K)
    # N_e = N ((K+1)/2)^2 + O(K^2): the scaling of the theory chapter, independently
    assert Ne == pytest.approx(n * ((K + 1) / 2) ** 2, rel=1e-3)
    assert float(T) == pytest.approx(Ne * littler_rate(m.p), rel=1e-4)


def test_most_recent_law_and_mean_agree():
    m = Categorical([0.5, 0.5])
    reg = MostRecent(3000, 3)
    law = theory.collapse_time(m, reg)
    T = theory.expected_collapse_time(m, reg)
    assert not law.exact and law.method == "effective-size"
    assert law.error is not None and law.error_mean is not None
    assert law.mean() == pytest.approx(float(T), rel=1e-9)


def test_temperature_at_scale_is_the_deterministic_hazard():
    m = Categorical([0.6, 0.4])
    reg = Replace(10**5, temperature=0.9)
    T = theory.expected_collapse_time(m, reg)
    assert (T.method, T.exact) == ("deterministic-hazard", False) and T.error < 0.5
    law = theory.collapse_time(m, reg)
    assert law.mean() == pytest.approx(float(T), rel=1e-12)
    # the deterministic path by hand: q -> q^(1/T) normalised; hazard sum_i q_i^n
    q, surv, total = np.array([0.6, 0.4]), 1.0, 1.0
    for _ in range(10_000):
        surv *= 1 - np.sum(q ** reg.n)
        total += surv
        if surv < 1e-17:
            break
        q = q ** (1 / 0.9) / np.sum(q ** (1 / 0.9))
    assert float(T) == pytest.approx(total, rel=1e-12)


def test_window_with_temperature_at_scale_is_the_window_hazard():
    m = Categorical([0.6, 0.4])
    T = theory.expected_collapse_time(m, MostRecent(10**5, 3, temperature=0.8))
    assert (T.method, T.exact) == ("window-hazard", False) and T.error < 0.5
    # a window of one is Replace: the same hazards as the deterministic path
    one = theory.expected_collapse_time(m, MostRecent(10**5, 1, temperature=0.8))
    rep = theory.expected_collapse_time(m, Replace(10**5, temperature=0.8))
    assert float(one) == pytest.approx(float(rep), rel=1e-12)
    # older models in the window slow the collapse down
    assert float(T) > float(rep)


def test_top_k_at_scale_shifts_the_neutral_chain():
    m = Categorical([0.4, 0.3, 0.2, 0.1])
    T = theory.expected_collapse_time(m, Replace(10**4, top_k=2))
    plain = theory.expected_collapse_time(Categorical([4 / 7, 3 / 7]), Replace(10**4))
    assert T.method == "top-k-neutral" and float(T) == pytest.approx(1 + plain, rel=1e-12)
    # top-k keeping the whole support is the identity: exact
    T3 = theory.expected_collapse_time(Categorical([0.5, 0.5]), Replace(10**4, top_k=2))
    assert T3.exact


def test_diffusion_fallback_carries_its_band():
    T = theory.expected_collapse_time(Categorical([0.5, 0.5]), Replace(10**7))
    assert T.method == "diffusion" and T.error is not None and T.error < 0.01


def test_estimate_keeps_its_band_through_pickle():
    e = Estimate(3.0, "x", False, 0.12, "basis")
    f = pickle.loads(pickle.dumps(e))
    assert (f.method, f.exact, f.error, f.basis) == ("x", False, 0.12, "basis")
    assert "error=0.12" in repr(e)


# ---------------------------------------------------------------------- refusals
def test_refusals_name_the_simulation_and_its_cost():
    m = Categorical.uniform(50)
    with pytest.raises(TooLargeError, match=r"montecarlo.simulate\(.*steps"):
        theory.expected_collapse_time(m, MostRecent(10**6, 5, top_k=3))
    with pytest.raises(TooLargeError, match=r"montecarlo.simulate"):
        theory.expected_surviving_tokens(m, Replace(10**6, temperature=0.8), 10)
    with pytest.raises(TooLargeError, match=r"outside the compared range"):
        theory.expected_collapse_time(m, MostRecent(10**6, 20))
    with pytest.raises(TooLargeError, match=r"stalls"):
        theory.expected_collapse_time(Categorical([0.5, 0.5]), Replace(10**4, temperature=0.5))
    with pytest.raises(TooLargeError, match="policy_ld_rate"):
        theory.expected_collapse_time(m, Replace(10**6, temperature=1.5))
    with pytest.raises(ValueError, match="method"):  # only auto falls back
        theory.expected_collapse_time(m, MostRecent(10**6, 5), method="diffusion")


def test_policy_size_check_is_up_front():
    # the count of partitions of 10**6 is not computed: the refusal says "at least"
    with pytest.raises(TooLargeError, match="at least"):
        theory.policy_expected_collapse_time(Categorical.uniform(50000),
                                             Replace(10**6, temperature=0.8))


# ---------------------------------------------------------------------- the bands
def _rows():
    with open(RESULTS, encoding="utf-8") as f:
        return json.load(f)["rows"]


def _band(row):
    where = {"effective-size": ("window", "rate"),
             "deterministic-hazard": ("temperature",),
             "window-hazard": ("temperature", "window")}.get(row["family"], ())
    return approximate.band(row["family"], row["n"], **{k: row[k] for k in where})


def test_every_committed_error_lies_inside_its_band():
    rows = _rows()
    assert {r["family"] for r in rows} == {"effective-size", "deterministic-hazard",
                                           "window-hazard", "top-k-neutral", "diffusion"}
    for r in rows:
        mean_band, law_band, _ = _band(r)
        assert r["mean_err"] <= mean_band, r
        if r["law_err"] is not None:
            assert r["law_err"] <= law_band, r


def test_band_check_can_fail():
    # negative control: the error measured at the smallest n is far outside the band
    # reported at the largest, so the inclusion test above is not vacuous
    rows = [r for r in _rows() if r["family"] == "effective-size"]
    worst = max(rows, key=lambda r: r["mean_err"])
    big = max(r["n"] for r in rows)
    assert worst["mean_err"] > approximate.band("effective-size", big, window=2,
                                                rate=2.0)[0]


@pytest.mark.parametrize("family, regime_repr", [
    ("effective-size", "MostRecent(n=10, window=2)"),
    ("deterministic-hazard", "Replace(n=100, temperature=0.5)"),
    ("window-hazard", "MostRecent(n=10, window=2, temperature=0.5)"),
    ("top-k-neutral", "Replace(n=10, top_k=2)"),
    ("diffusion", "Replace(n=1000)"),
])
def test_committed_comparison_is_reproduced(family, regime_repr):
    # recompute cheap rows of the committed comparison: a stale JSON fails here
    rows = [r for r in _rows() if r["family"] == family and r["regime"] == regime_repr
            and r["reference"] == "exact"]
    assert rows
    for r in rows:
        p = [float(x) for x in r["model"].strip("()").split(",")] \
            if r["model"].startswith("(") else None
        if p is None:
            continue
        model = Categorical(p)
        regime = eval(regime_repr, {"MostRecent": MostRecent, "Replace": Replace})
        if family == "diffusion":
            approx = theory.diffusion_collapse_time(model, regime)
            ref = theory.expected_collapse_time(model, regime, method="coalescent")
        else:
            approx = approximate_collapse(model, regime, False)
            ref = r["ref_mean"]
        assert float(approx) == pytest.approx(r["approx_mean"], rel=1e-9)
        assert abs(float(approx) / float(ref) - 1) == pytest.approx(r["mean_err"],
                                                                  rel=1e-6, abs=1e-12)
        assert math.isfinite(r["mean_err"])
