"""Regimes and models as data: specs, dictionaries, plans and sampling policies."""

from fractions import Fraction

import numpy as np
import pytest
from _oracles import policy_oracle
from hypothesis import given
from hypothesis import strategies as st

from modelcollapse import (
    Accumulate,
    AccumulateSubsample,
    Categorical,
    Gaussian,
    GaussianMixture,
    LinearRegression,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)
from modelcollapse.errors import WrongTypeError
from modelcollapse.models import Model
from modelcollapse.regimes import Plan, Regime, SamplingPolicy

REGIMES = [Replace(10), Mix(5, 7), Mix(5, 7, fresh=True), Accumulate(4),
           AccumulateSubsample(6), MostRecent(9, 3), RandomlySampled(8),
           Replace(10, temperature=0.7), MostRecent(12, 4, top_k=3, top_p=0.9),
           Mix(3, 4, fresh=True, temperature=2.0, top_p=0.5)]


@pytest.mark.parametrize("regime", REGIMES, ids=repr)
def test_spec_and_dict_round_trip(regime):
    assert Regime.from_spec(regime.spec) == regime
    assert Regime.from_dict(regime.to_dict()) == regime
    assert hash(Regime.from_spec(regime.spec)) == hash(regime)
    assert regime.spec.split(":")[0] in Regime._registry


def test_spec_strings_as_documented():
    assert Mix(100, 100).spec == "mix:100:100"
    assert Mix(100, 50, fresh=True).spec == "mix-fresh:100:50"
    assert MostRecent(1000, 4, temperature=0.8).spec == "most-recent:1000:4:temperature=0.8"
    assert Regime.from_spec("replace:1000:temperature=0.7:top_p=0.9") == \
        Replace(1000, temperature=0.7, top_p=0.9)
    assert Regime.from_spec(" Accumulate-Subsample:5 ") == AccumulateSubsample(5)
    assert Replace.from_spec("replace:3") == Replace(3)
    assert repr(Replace(10)) == "Replace(n=10)"
    # an old file's class-name type is still read
    assert Regime.from_dict({"type": "MostRecent", "n": 4, "window": 2}) == MostRecent(4, 2)


def test_a_field_given_twice_is_refused():
    for text in ("replace:100:temperature=0.5:temperature=2",
                 "replace:100:temperature=0.5: temperature = 2",
                 "mix:4:4:top_k=3:top_p=0.5:top_k=none"):
        key = "top_k" if "top_k" in text else "temperature"
        with pytest.raises(ValueError, match=f"the field '{key}' is given twice"):
            Regime.from_spec(text)
    # controls: each field once parses, whatever the order
    assert Regime.from_spec("replace:100:temperature=0.5") == Replace(100, temperature=0.5)
    assert Regime.from_spec("mix:4:4:top_p=0.5:top_k=3") == Mix(4, 4, top_k=3, top_p=0.5)


@pytest.mark.parametrize("text,match", [
    ("replace", "takes 1 size argument"),
    ("replace:x", "N in 'replace:x' must be an integer"),
    ("nope:3", "unknown regime 'nope'"),
    ("mix:3", "takes 2 size argument"),
    ("replace:3:top_q=1", "unknown field 'top_q'"),
    ("replace:3:temperature=0", "temperature must be finite and > 0"),
    ("replace:3:top_p=1.5", r"top_p must be in \(0, 1\]"),
    ("replace:3:top_k=0", "top_k must be >= 1"),
    ("replace:0", "n must be >= 1"),
    ("most-recent:3:5", "window must be <= n"),
])
def test_bad_specs(text, match):
    with pytest.raises(ValueError, match=match):
        Regime.from_spec(text)
    with pytest.raises(ValueError):  # a wrong subclass, too
        Replace.from_spec("mix:2:2")


def test_wrong_types():
    with pytest.raises(WrongTypeError, match="temperature must be a real number"):
        Replace(3, temperature="2")
    with pytest.raises(TypeError, match="top_k must be a positive integer"):
        Replace(3, top_k=2.5)
    with pytest.raises(TypeError, match="regime spec must be a string"):
        Regime.from_spec(3)
    with pytest.raises(ValueError, match="unknown regime type"):
        Regime.from_dict({"type": "nope"})


def test_plans():
    assert Replace(5).plan() == Plan(5)
    assert Replace(5).plan().absorbing
    p = Mix(4, 6, fresh=True).plan()
    assert (p.n, p.real, p.real_fresh, p.synthetic_from) == (6, 4, True, 2)
    assert p.blocks(1) == [] and p.blocks(3) == [(2, 6)]
    assert [p.fit_size(m) for m in (1, 2, 3)] == [4, 10, 10] and p.min_fit_size == 4
    w = MostRecent(10, 3).plan()
    assert w.blocks(1) == [(0, 10)] and w.blocks(2) == [(0, 5), (1, 5)]
    assert w.blocks(7) == [(4, 3), (5, 3), (6, 3)] and w.min_fit_size == 9
    a = Accumulate(5).plan()
    assert [a.fit_size(m) for m in (1, 2, 7)] == [5, 10, 35] and not a.absorbing
    assert AccumulateSubsample(5).plan().fit_size(9) == 5
    u = RandomlySampled(20).plan()
    blocks = u.blocks(4, np.random.default_rng(0))
    assert sum(k for _, k in blocks) == 20 and {j for j, _ in blocks} <= {0, 1, 2, 3}
    assert u.history is None and w.history == 3
    assert Replace(5, top_k=2).plan().sampling == SamplingPolicy(top_k=2)


# ---------------------------------------------------------------------- models
MODELS = [Categorical([0.5, 0.25, 0.25]), Categorical.zipf(30, 1.1),
          Gaussian([1.0, -2.0], [[2.0, 0.3], [0.3, 1.0]], estimator="mle"),
          GaussianMixture.blob(2, components=3),
          GaussianMixture([0.3, 0.7], [[0.0], [2.0]], [1.0, 0.5], max_iter=7),
          LinearRegression([1.0, 2.0, 0.5], noise=0.2, design="fresh")]


@pytest.mark.parametrize("model", MODELS, ids=repr)
def test_model_dict_round_trip(model):
    back = Model.from_dict(model.to_dict())
    assert back == model and type(back) is type(model) and hash(back) == hash(model)


def test_model_specs():
    for text in ("uniform:4", "zipf:50:1.2", "geometric:6:0.5", "p:0.2,0.8",
                 "gaussian:3:2.5:mle", "mixture:2:3", "regression:4:0.5:fresh"):
        m = Model.from_spec(text)
        assert Model.from_spec(m.spec) == m
    assert Model.from_spec("gaussian:2").spec == "gaussian:2:1.0:unbiased"
    with pytest.raises(ValueError, match="has no spec string"):
        _ = Gaussian([1.0], 2.0).spec  # a non-zero mean: not a spec model
    with pytest.raises(ValueError, match="unknown model kind 'zipff'"):
        Model.from_spec("zipff:3")
    with pytest.raises(ValueError, match="expected a Gaussian"):
        Gaussian.from_spec("uniform:3")
    with pytest.raises(TypeError):
        Model.from_spec(3)


# ---------------------------------------------------------------------- sampling policy
def oracle(p, T=1, top_k=None, top_p=None):
    """The policy by its definition, in exact rational arithmetic (T = 1 or 1/2)."""
    return list(policy_oracle([Fraction(x) for x in p], T, top_k,
                              None if top_p is None else Fraction(top_p)))


CASES = [([Fraction(1, 10), Fraction(4, 10), Fraction(2, 10), Fraction(3, 10)], 1, None,
          Fraction(6, 10)),
         ([Fraction(1, 10), Fraction(4, 10), Fraction(2, 10), Fraction(3, 10)], 1, 2, None),
         ([Fraction(1, 4), Fraction(1, 4), Fraction(1, 2), 0], 1, 2, None),  # a tie
         ([Fraction(1, 2), Fraction(3, 10), Fraction(1, 5)], 1, None, Fraction(8, 10)),
         ([Fraction(1, 8), Fraction(3, 8), Fraction(1, 2)], Fraction(1, 2), 2, Fraction(3, 4)),
         ([Fraction(1, 3), Fraction(1, 3), Fraction(1, 3)], 1, None, Fraction(1, 2))]


@pytest.mark.parametrize("p,T,k,tp", CASES)
def test_sampling_distribution_against_definition(p, T, k, tp):
    from modelcollapse.sampling import sampling_distribution

    pol = SamplingPolicy(float(T), k, None if tp is None else float(tp))
    want = np.array([float(x) for x in oracle(p, T, k, tp)])
    got = sampling_distribution(np.array([float(x) for x in p])[None], pol)[0]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("p,T,k,tp", CASES)
def test_numba_and_jax_policies_agree_with_definition(p, T, k, tp):
    from modelcollapse.montecarlo._numba.samplers import _policy

    P = np.array([float(x) for x in p])
    want = np.array([float(x) for x in oracle(p, T, k, tp)])
    idx = np.flatnonzero(P)
    out = np.zeros_like(P)
    _policy(P, idx, idx.size, float(T), 0 if k is None else k,
            1.0 if tp is None else float(tp), out)
    np.testing.assert_allclose(out, want, rtol=1e-12, atol=0)
    pytest.importorskip("jax")
    import jax.numpy as jnp

    from modelcollapse import montecarlo
    from modelcollapse.montecarlo import _jax

    model = Categorical(P)
    regime = Replace(5, temperature=float(T), top_k=k, top_p=None if tp is None else float(tp))
    problem = montecarlo.check_problem(model, regime)
    kern = _jax.CategoricalKernel(problem, 1, np.random.SeedSequence(0))
    with _jax.x64():
        got = np.asarray(kern.sampling(jnp.asarray(kern.p0np)))[:P.size]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_oracle_negative_control():
    """The oracle distinguishes top-p from no truncation (the check can fail)."""
    p = CASES[0][0]
    assert oracle(p, 1, None, Fraction(6, 10)) != oracle(p, 1, None, None)


@given(st.lists(st.integers(0, 20), min_size=2, max_size=8).filter(lambda c: sum(c) > 0),
       st.none() | st.integers(1, 8), st.none() | st.integers(1, 10))
def test_policy_properties(counts, top_k, top_p10):
    """A probability vector whose support shrinks to at most top_k tokens, keeps the most
    likely token, and (top_p) reaches mass top_p with its kept tokens."""
    from modelcollapse.sampling import sampling_distribution

    p = np.array(counts, float) / sum(counts)
    top_p = None if top_p10 is None else top_p10 / 10
    q = sampling_distribution(p[None], SamplingPolicy(1.0, top_k, top_p))[0]
    assert abs(q.sum() - 1) < 1e-12 and (q >= 0).all()
    assert q[np.argmax(p)] > 0
    assert set(np.flatnonzero(q)) <= set(np.flatnonzero(p))
    if top_k is not None:
        assert np.count_nonzero(q) <= top_k
    want = oracle([Fraction(c, sum(counts)) for c in counts], 1, top_k,
                  None if top_p is None else Fraction(top_p10, 10))
    np.testing.assert_allclose(q, [float(x) for x in want], rtol=1e-12, atol=1e-15)
