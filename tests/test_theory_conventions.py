"""One convention across the theory API: regimes as objects or spec strings everywhere;
edge cases that used to crash."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from modelcollapse import theory
from modelcollapse.models import Categorical, Gaussian, LinearRegression
from modelcollapse.regimes import Regime

P3 = Categorical([0.5, 0.3, 0.2])
G = Gaussian(0.0, 1.0)
REG = LinearRegression(np.ones(2), noise=0.5)

CALLS = [  # (function, model, spec, other positional arguments)
    ("collapse_time", P3, "replace:10", ()),
    ("expected_collapse_time", P3, "replace:10", ()),
    ("expected_collapse_time", P3, "most-recent:4:2:temperature=0.7", ()),
    ("diffusion_collapse_time", P3, "replace:1000", ()),
    ("expected_surviving_tokens", P3, "mix:4:3", (3,)),
    ("homozygosity", P3, "replace:10", (3,)),
    ("homozygosity", P3, "accumulate-subsample:4", (3,)),
    ("token_loss", P3, "replace:10:top_k=2", (2,)),
    ("dirac_probability", P3, "randomly-sampled:4", (3,)),
    ("first_loss_probability", P3, "mix-fresh:3:2", (2, 3)),
    ("expected_variance", G, "accumulate:10", (3,)),
    ("expected_w2sq", G, "replace:10", (3,)),
    ("stationary_point", G, "mix-fresh:5:5", ()),
    ("gaussian_collapse_time", G, "replace:5", (0.1,)),
    ("regression_test_error", REG, "replace:10", (3,)),
    ("accumulate_error_bound", REG, "accumulate:10", ()),
    ("seddik_deviation_bound", P3, "mix:10:10", ()),
    ("seddik_collapse_probability_bounds", P3, "replace:10", (3,)),
    ("suresh_unigram_bounds", P3, "replace:10", (3,)),
    ("genealogy_homozygosity", P3, "most-recent:6:2", (3,)),
    ("stationary_homozygosity", P3, "accumulate:10", ()),
]


def _same(a, b):
    if isinstance(a, theory.GenerationDistribution):
        ms = np.arange(40)
        np.testing.assert_array_equal(a.cdf(ms), b.cdf(ms))
    elif isinstance(a, tuple):
        for x, y in zip(a, b, strict=True):
            _same(x, y)
    else:
        np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


@pytest.mark.parametrize(("name", "model", "spec", "args"), CALLS,
                         ids=[f"{c[0]}-{c[2]}" for c in CALLS])
def test_spec_strings_everywhere(name, model, spec, args):
    f = getattr(theory, name)
    _same(f(model, spec, *args), f(model, Regime.from_spec(spec), *args))
    with pytest.raises(ValueError, match="unknown regime"):
        f(model, "replaec:10", *args)


def test_every_regime_taking_function_accepts_a_spec():
    """Every public function with a ``regime`` argument reads spec strings: it is wrapped
    by ``accepts_regime_spec``, or it is an overlapping / genealogy / policy solver,
    which reads them itself (checked on one call each)."""
    readers = ("window_laws", "pool_chain", "genealogy", "effective_size", "policy_laws",
               "policy_chain", "policy_asymptotics")
    for name in theory.__all__:
        f = getattr(theory, name)
        if inspect.isfunction(f) and "regime" in inspect.signature(f).parameters:
            module = inspect.unwrap(f).__module__.rsplit(".", 1)[-1]
            assert hasattr(f, "__wrapped__") or module in readers, name
    assert theory.dirac_probability(P3, "most-recent:4:2", 2) == \
        theory.dirac_probability(P3, Regime.from_spec("most-recent:4:2"), 2)
    assert theory.noncoalescence("accumulate:5", 3) == \
        theory.noncoalescence(Regime.from_spec("accumulate:5"), 3)
    assert theory.policy_state_count(P3, "replace:6:temperature=0.5") == \
        theory.policy_state_count(P3, Regime.from_spec("replace:6:temperature=0.5"))


def test_edge_cases_that_crashed():
    assert theory.most_recent_effective_size(1, 1) == 1.0
    assert np.all(theory.most_recent_transfer_matrix(1, 1) == 0.0)
    # a bound beyond the float range is infinite, not an OverflowError
    assert theory.seddik_deviation_bound(Categorical.uniform(8000),
                                         Regime.from_spec("mix:10:10000")) == math.inf
    # token_loss takes "auto" like the other laws (the coalescent dual under Replace)
    a = theory.token_loss(P3, "replace:10", 2, method="auto")
    b = theory.token_loss(P3, "replace:10", 2, method="coalescent")
    np.testing.assert_array_equal(a.cdf(np.arange(30)), b.cdf(np.arange(30)))
    from modelcollapse.theory import bounds
    assert "suresh_gaussian_bound" in bounds.__all__


def test_wrong_types_are_type_errors_everywhere():
    """A wrong type is a TypeError (WrongTypeError, also a ValueError) in every module;
    a wrong value of the right type a plain ValueError."""
    from modelcollapse.errors import WrongTypeError
    from modelcollapse.regimes import Replace

    for call in (lambda: theory.homozygosity(P3, Replace(4), 1.5),
                 lambda: theory.expected_surviving_tokens(P3, Replace(4), [1.0, 2.0]),
                 lambda: theory.dirac_probability(P3, Replace(4), 1.5),
                 lambda: theory.homozygosity(P3, Replace(4), 2, exact=1),
                 lambda: theory.policy_surviving_tokens(P3, Replace(4, temperature=0.5), 2,
                                                        distribution="yes"),
                 lambda: theory.suresh_gaussian_bound(10, "0.1", 3)):
        with pytest.raises(WrongTypeError):
            call()
    with pytest.raises(ValueError) as exc:
        theory.expected_surviving_tokens(P3, Replace(4), -1)
    assert not isinstance(exc.value, TypeError)


def test_named_results():
    from modelcollapse.regimes import Replace

    sp = theory.stationary_point(G, "mix-fresh:5:5")
    assert isinstance(sp, theory.StationaryPoint) and sp == (sp.trace_ratio, sp.mean_error)
    assert isinstance(theory.log_chi2_step(10), theory.Moments)
    ld = theory.log_det_moments(G, Replace(5), 3)
    assert isinstance(ld, theory.Moments) and ld.var > 0
