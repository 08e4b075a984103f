"""Fuzzing the public API: every call returns finite, in-range values or raises
``ValueError`` / ``TypeError`` / ``NotImplementedError`` (hypothesis, deterministic
profile). Nothing here is timed; where a refusal must come before the work, the work is
replaced by a sentinel that fails if it is reached."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelcollapse import theory

OK_ERRORS = (ValueError, TypeError, NotImplementedError)

NASTY_INT = st.sampled_from([-(10**30), -5, -1, 0, 1, 2, 3, 7, 10**6, 10**15, 10**30,
                             2**63, True, 1.5, float("nan"), "3", None])
NASTY_FLOAT = st.sampled_from([-1.0, 0.0, 1e-307, 1e-12, 0.3, 0.5, 1.0, 2.0, 1e308,
                               float("inf"), float("nan"), -0.0, True, "0.5", None, 3])


def _finite(x):
    if isinstance(x, (bool, np.bool_)):
        return True
    if isinstance(x, (int, np.integer)):
        return True
    if isinstance(x, (float, np.floating)):
        return math.isfinite(x) or x == math.inf  # inf is an honest "unbounded"
    if isinstance(x, (tuple, list)):
        return all(_finite(v) for v in x)
    if isinstance(x, np.ndarray):
        return bool(np.all(np.isfinite(x) | np.isposinf(x)))
    return True


def _call(fn, *args, **kwargs):
    try:
        out = fn(*args, **kwargs)
    except OK_ERRORS:
        return None
    assert _finite(out), (fn.__name__, args, kwargs, out)
    return out


SCALAR = [
    (theory.diffusion_loss_time, (NASTY_FLOAT, NASTY_INT)),
    (theory.mardia_G, (NASTY_INT, NASTY_INT)),
    (theory.seddik_eq11_max_synthetic, (NASTY_INT, NASTY_FLOAT, NASTY_INT)),
    (theory.log_chi2_step, (NASTY_INT, NASTY_INT, st.sampled_from(["unbiased", "mle", "x",
                                                                    3]))),
    (theory.schedule_bounded, (NASTY_FLOAT,)),
    (theory.suresh_g, (NASTY_INT,)),
    (theory.suresh_bernoulli_bounds, (NASTY_FLOAT, NASTY_INT, NASTY_INT)),
    (theory.suresh_poisson_survival, (NASTY_FLOAT, NASTY_INT, NASTY_INT)),
    (theory.suresh_gaussian_bound, (NASTY_INT, NASTY_FLOAT, NASTY_INT, NASTY_FLOAT)),
    (theory.expected_pinv_trace, (NASTY_INT, NASTY_INT)),
    (theory.dohmatob_noise_free_error, (NASTY_INT, NASTY_INT, NASTY_INT)),
    (theory.forgetting_time, (NASTY_INT, NASTY_INT)),
]


@pytest.mark.parametrize("fn,strategies", SCALAR, ids=[f.__name__ for f, _ in SCALAR])
def test_scalar_functions(fn, strategies):
    @settings(max_examples=60)
    @given(st.tuples(*strategies))
    def run(args):
        out = _call(fn, *args)
        if fn is theory.mardia_G and out is not None:
            assert out >= 0
        if fn is theory.seddik_eq11_max_synthetic and out is not None:
            assert out >= 0
        if fn is theory.diffusion_loss_time and out is not None:
            assert out >= 0

    run()


def test_suresh_g_beyond_the_iterated_range():
    """The ODE continuation of ``g_k`` against the exact recursion (k = 1.5e5) and its
    limit k g_k -> 2 (k = 1e15)."""
    g = 1.0
    for _ in range(150_000 - 1):
        g = -math.expm1(-g)
    assert abs(theory.suresh_g(150_000) / g - 1) < 1e-10
    assert abs(theory.suresh_g(10**15) * 10**15 - 2) < 1e-12
    assert abs(theory.suresh_g(150_000) / (g * 1.001) - 1) > 1e-4  # the check can fail


# ---------------------------------------------------------------------- models and regimes
from modelcollapse import (  # noqa: E402
    Accumulate,
    AccumulateSubsample,
    Categorical,
    Gaussian,
    LinearRegression,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    montecarlo,
)
from modelcollapse.regimes import Regime  # noqa: E402

GOOD_SIZES = st.sampled_from([2, 3, 5, 12])
SIZES = st.one_of(GOOD_SIZES, GOOD_SIZES, GOOD_SIZES,
                  st.sampled_from([-3, 0, 1, 10**30, 2.5, "4", None, True]))


@st.composite
def regimes(draw):
    kind = draw(st.sampled_from([Replace, Mix, Accumulate, AccumulateSubsample, MostRecent,
                                 RandomlySampled, "spec"]))
    sampling = draw(st.sampled_from([{}, {}, {}, {"temperature": 0.5}, {"top_k": 2},
                                     {"top_p": 0.7}, {"temperature": -1.0},
                                     {"temperature": "2"}, {"top_p": 1.5}, {"top_k": 0}]))
    if kind == "spec":
        return draw(st.sampled_from(["replace:5", "mix:3:4", "most-recent:6:2",
                                     "replace", "mix:x:3", "nope:3", "replace:5:top_p=2",
                                     "accumulate:4:temperature=0.5", 7]))
    if kind is Mix:
        return Mix(draw(SIZES), draw(SIZES), **sampling)
    if kind is MostRecent:
        return MostRecent(draw(SIZES), draw(SIZES), **sampling)
    return kind(draw(SIZES), **sampling)


MODELS = st.sampled_from([Categorical([0.5, 0.3, 0.2]), Categorical.uniform(4),
                          Categorical([0.5, 0.3, 0.2]), Gaussian(0.0, 2.0),
                          Categorical([1.0, 0.0]), Gaussian(0.0, 2.0),
                          Gaussian([0.0, 0.0], 1.0, estimator="mle"),
                          LinearRegression([1.0, -1.0], noise=0.5), "uniform:3",
                          "gaussian:2", [0.5, 0.5], None])


def _regime_or_error(draw_regime):
    try:
        return draw_regime()
    except OK_ERRORS:
        return None


RAN = {"simulate": 0}


@settings(max_examples=120)
@given(st.data())
def _fuzz_simulate(data):
    regime = _regime_or_error(lambda: data.draw(regimes()))
    if regime is None:
        return
    model = data.draw(MODELS)
    gens = data.draw(st.sampled_from([0, 3, 3, 3, -1, 2.5, None, 10**12]))
    reps = data.draw(st.sampled_from([2, 2, 2, 0, 10**9, "3"]))
    backend = data.draw(st.sampled_from(["numpy", "numpy", "numba", "numba", "torch"]))
    res = _call(montecarlo.simulate, model, regime, gens, replicates=reps, backend=backend,
                seed=data.draw(st.sampled_from([0, 0, 1, -1, True, "s", None])),
                max_generations=200)
    if res is not None:
        RAN["simulate"] += 1
        for name in res.names:
            v = res[name]
            assert v.shape[:2] == (res.replicates, len(res.recorded))
            finite = v[np.isfinite(v)]
            if name in ("support_size", "homozygosity", "trace_ratio", "test_error",
                        "mean_sq_error", "w2", "l1_real", "tv_real"):
                assert (finite >= 0).all(), name


def test_simulate():
    _fuzz_simulate()
    assert RAN["simulate"] >= 5  # the fuzz reaches real simulations, not only refusals


THEORY = [theory.expected_collapse_time, theory.diffusion_collapse_time,
          theory.seddik_expected_collapse_time_bounds, theory.seddik_deviation_bound,
          theory.expected_variance, theory.expected_mean_error, theory.expected_trace_ratio,
          theory.log_det_moments, theory.stationary_point, theory.accumulate_error_bound]


@pytest.mark.parametrize("fn", THEORY, ids=[f.__name__ for f in THEORY])
def test_theory_with_models_and_regimes(fn):
    @settings(max_examples=40)
    @given(st.data())
    def run(data):
        regime = _regime_or_error(lambda: data.draw(regimes()))
        model = data.draw(MODELS)
        extra = () if fn in (theory.expected_collapse_time, theory.diffusion_collapse_time,
                             theory.seddik_expected_collapse_time_bounds,
                             theory.seddik_deviation_bound, theory.stationary_point,
                             theory.accumulate_error_bound) else \
            (data.draw(st.sampled_from([0, 3, -1, 1.5, 10**9, np.inf])),)
        out = _call(fn, model, regime, *extra)
        if fn is theory.expected_collapse_time and out is not None:
            assert float(out) >= 1  # T >= 1 always

    run()


def test_regime_specs_never_crash():
    @settings(max_examples=100)
    @given(st.text(alphabet="replacemixfsh-:=0123456789._tokp", max_size=30))
    def run(text):
        _call(Regime.from_spec, text)

    run()


@pytest.mark.parametrize("call,match", [
    (lambda: montecarlo.simulate("uniform:3", "replace:5", 3, replicates=2, seed=True),
     "seed must be"),
    (lambda: montecarlo.simulate("uniform:3", Replace(10**30), 3, replicates=2),
     "above 2\\*\\*53"),
    (lambda: Replace(5, temperature="2"), "temperature must be a real number"),
    (lambda: theory.diffusion_loss_time(0.5, n=-10), "n must be >= 1"),
    (lambda: theory.seddik_eq11_max_synthetic(10**6, 0.1, s=1), None),
    (lambda: theory.log_chi2_step(1.5), "M must be an integer"),
    (lambda: theory.log_chi2_step(5, d=0), "d must be >= 1"),
    (lambda: theory.log_chi2_step(5, estimator="x"), "estimator"),
    (lambda: theory.log_chi2_step(1), "M must be >= 2"),
    (lambda: theory.schedule_bounded(float("nan")), "exponent must be finite"),
    (lambda: theory.mardia_G(10**6, 10**6), None),
])
def test_the_reported_bad_inputs(call, match):
    """The cases reported as accepted or crashing: now a clear error, or an honest
    in-range value (eq. (11) for s = 1 allows no synthetic sample: 0; G_n(s) beyond
    float64: inf)."""
    if match is None:
        out = call()
        assert out == 0.0 or out == math.inf
        return
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_collapse_time_is_at_least_one():
    """T >= 1 always: the diffusion fallback of method="auto" (and the diffusion value
    of a Dirac) never reports less; max_exact_n is validated."""
    nearly = Categorical([1 - 1e-12, 1e-12])
    est = theory.expected_collapse_time(nearly, Replace(3_000_000))
    assert est.method == "diffusion" and float(est) >= 1
    assert theory.diffusion_collapse_time(Categorical([1.0, 0.0]), Replace(10)) == 1.0
    exact = theory.expected_collapse_time(Categorical([1 - 1e-6, 1e-6]), Replace(50))
    assert abs(theory.diffusion_collapse_time(Categorical([1 - 1e-6, 1e-6]), Replace(50))
               - float(exact)) < 1e-3  # both about 1
    with pytest.raises(ValueError, match="max_exact_n must be >= 1"):
        theory.expected_collapse_time(nearly, Replace(5), max_exact_n=-1)


def test_gaussian_collapse_time_refuses_a_blown_error_budget():
    """max_generations far below the collapse time: refused with the scale, not a law
    whose error is 0.999."""
    from modelcollapse import Gaussian

    with pytest.raises(ValueError, match=r"not yet collapsed.*about 4") as exc:
        theory.gaussian_collapse_time(Gaussian(0, 1), Replace(10), eps=0.1,
                                      max_generations=5)
    assert "raise max_generations" in str(exc.value)
    law = theory.gaussian_collapse_time(Gaussian(0, 1), Replace(10), eps=0.1)
    assert law.error < 1e-6 and 40 < law.mean() < 46


def test_surviving_tokens_after_collapse_cost_nothing_more(monkeypatch):
    """E|supp p^(m)| once every chain has collapsed is 1, reached without iterating to m
    (m = 10**8 used to take 14 s and 1.8 GB); m >= 2**63 does not wrap around; the
    values before collapse agree with the marginal method."""
    from modelcollapse.theory.categorical import diversity

    rows = []
    original = diversity._propagate

    def counted(*args, **kwargs):
        out = original(*args, **kwargs)
        rows.append(out[0].shape[0])
        return out

    m = Categorical.uniform(20)
    with monkeypatch.context() as mp:
        mp.setattr(diversity, "_propagate", counted)
        assert theory.expected_surviving_tokens(m, Replace(50), 10**8) == 1.0
    assert rows and rows[0] < 10**5  # generations propagated: the chain's, not m
    big = theory.expected_surviving_tokens(m, Replace(50), np.array([3, 2**63], np.uint64))
    assert big[1] == 1.0 and big[0] > 1.5
    gens = [1, 10, 100, 400]
    a = theory.expected_surviving_tokens(m, Replace(50), gens)
    b = theory.expected_surviving_tokens(m, Replace(50), gens, method="marginal")
    np.testing.assert_allclose(a, b, rtol=1e-10)
    with pytest.raises(ValueError, match="use method='coalescent'"):
        theory.expected_surviving_tokens(m, Replace(50), 10**8, method="marginal")


def _never(*args, **kwargs):
    raise AssertionError("work started for a request that must be refused first")


def test_the_rational_chain_refuses_big_state_spaces_at_once(monkeypatch):
    from modelcollapse.errors import TooLargeError
    from modelcollapse.theory.categorical import rational

    with monkeypatch.context() as mp:  # refused before the rational solve starts
        mp.setattr(rational, "expected_collapse_time", _never)
        with pytest.raises(TooLargeError, match=r"on 286 states.*use method='coalescent'"):
            theory.expected_collapse_time(Categorical([0.25] * 4), Replace(10),
                                          method="chain")
    small = theory.expected_collapse_time(Categorical([0.5, 0.5]), Replace(6), method="chain")
    coal = theory.expected_collapse_time(Categorical([0.5, 0.5]), Replace(6))
    assert abs(float(small) - float(coal)) < 1e-12


def test_more_reported_bad_inputs(monkeypatch):
    from modelcollapse import Gaussian

    for big in (1e308, 1.7e308):  # symmetrising no longer overflows to inf
        assert np.isfinite(Gaussian(cov=big).cov).all()
        assert np.isfinite(Gaussian([0.0, 0.0], big).cov).all()
    with pytest.raises(ValueError, match="real >= 2"):
        theory.stationary_point(Gaussian(), Mix(1, 10, fresh=True))
    from modelcollapse.theory.categorical import collapse

    with monkeypatch.context() as mp:  # refused before the solver's work starts
        mp.setattr(collapse, "_collapse_functionals", _never)
        with pytest.raises(ValueError, match="max_generations must be >= 1"):
            theory.collapse_time(Categorical.uniform(50), Replace(2000), max_generations=-5)


@pytest.mark.parametrize("call", [
    lambda: theory.expected_collapse_time(Gaussian(), Replace(5)),
    lambda: theory.expected_variance(Categorical.uniform(3), Replace(5), 1),
    lambda: theory.regression_test_error(Gaussian(), Replace(5), 1),
    lambda: theory.gaussian_collapse_time(Categorical.uniform(3), Replace(5)),
    lambda: montecarlo.simulate([0.5, 0.5], Replace(3), 2),
])
def test_a_wrong_model_type_is_a_type_error(call):
    """A TypeError (the WrongTypeError is also a ValueError, for older callers)."""
    with pytest.raises(TypeError, match="model must be"):
        call()


@pytest.mark.parametrize("call,supported", [
    (lambda: theory.expected_collapse_time(Categorical.uniform(3), RandomlySampled(6)),
     ("Replace", "MostRecent")),
    (lambda: theory.expected_variance(Gaussian(), MostRecent(6, 2), 1),
     ("Replace", "Accumulate", "Mix(fresh=True)")),
    (lambda: theory.variance_moment(Gaussian(), Mix(5, 5, fresh=True), 1),
     ("Replace", "Accumulate")),
    (lambda: theory.regression_test_error(LinearRegression([1.0]), Mix(5, 5), 1),
     ("Replace", "Accumulate")),
    (lambda: theory.token_loss(Categorical.uniform(3), Mix(5, 5), 0),
     ("Replace", "MostRecent", "Accumulate")),
    (lambda: theory.homozygosity(Categorical.uniform(3), Replace(5, top_k=2), 2, exact=True),
     ("plain sampling",)),
])
def test_unsupported_regimes_say_what_is_supported(call, supported):
    from modelcollapse.errors import UnsupportedRegimeError

    with pytest.raises(UnsupportedRegimeError) as exc:
        call()
    assert isinstance(exc.value, NotImplementedError)
    assert exc.value.supported == supported
    assert str(exc.value).endswith(f"[supported: {', '.join(supported)}]")


def test_huge_sizes_are_refused_or_handled_at_once(monkeypatch):
    from modelcollapse import Gaussian
    from modelcollapse.errors import TooLargeError
    from modelcollapse.theory.categorical import loss, replace_chain

    with monkeypatch.context() as mp:  # refused before any O(n) array is built
        mp.setattr(loss, "_forgetting_functionals", _never)
        mp.setattr(replace_chain, "_collapse_functionals", _never)
        with pytest.raises(TooLargeError, match="above 100000000"):
            theory.forgetting_time(1, 10**30)
        with pytest.raises(TooLargeError, match="diffusion"):
            theory.expected_collapse_time(Categorical.uniform(3), Replace(10**9),
                                          method="coalescent")
    # the Gaussian step law of any M: a finite mean and variance
    mean, var = theory.log_det_moments(Gaussian(), Replace(10**30), 3)
    assert math.isfinite(mean) and math.isfinite(var) and mean <= 0 < var
