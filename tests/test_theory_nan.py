"""A NaN argument is a clear ValueError everywhere in the theory API (one check,
``models.check_real``, serves every real argument), never a NaN result."""

from __future__ import annotations

import inspect
import math
from fractions import Fraction

import pytest

from modelcollapse import NGram, theory
from modelcollapse.models import Categorical, Gaussian, LinearRegression, check_real
from modelcollapse.regimes import MostRecent, Replace

NAN = math.nan
BAR = Categorical([0.6, 0.4])

# (function, positional arguments, the real argument to make NaN)
CALLS = [
    (theory.variance_moment, (Gaussian(), Replace(10), 3), "s"),
    (theory.collapse_time, (BAR, Replace(5)), "tol"),
    (theory.forgetting_time, (2, 10), "tol"),
    (theory.ngram_repetition_time, (NGram([[0.5, 0.5], [0.5, 0.5]], start=0), "replace:2"),
     "tol"),
    (theory.token_loss, (BAR, Replace(5), 0), "tol"),
    (theory.overlapping_collapse_time, (BAR, MostRecent(4, 2)), "tol"),
    (theory.overlapping_absorption_time, (BAR, MostRecent(4, 2)), "tol"),
    (theory.overlapping_token_loss, (BAR, MostRecent(4, 2), 0), "tol"),
    (theory.policy_collapse_time, (BAR, Replace(4, temperature=0.5)), "tol"),
    (theory.gaussian_collapse_time, (Gaussian(), Replace(50)), "eps"),
    (theory.gaussian_collapse_time, (Gaussian(), Replace(50)), "resolution"),
    (theory.gaussian_collapse_time, (Gaussian(), Replace(50)), "tol"),
    (theory.gaussian_collapse_time, (Gaussian(), Replace(50)), "truncation"),
    (theory.suresh_gaussian_bound, (10, 0.1, 3), "sigma0"),
    (theory.suresh_gaussian_bound, (10, None, 3), "eps"),
    (theory.diffusion_loss_time, (None, 10), "x"),
    (theory.suresh_bernoulli_bounds, (None, 10, 3), "p0"),
    (theory.suresh_poisson_survival, (None, 10, 3), "lam0"),
    (theory.seddik_max_synthetic, (BAR, 10, None), "eps"),
    (theory.seddik_eq11_max_synthetic, (10, None, 2), "eps"),
    (theory.policy_ld_rate, (None,), "temperature"),
    (theory.schedule_bounded, (None,), "exponent"),
    (theory.genealogy_homozygosity_from_S0, (None, Replace(5), 3), "S0"),
    (theory.dohmatob_test_error, (2, 10, None, 20, 0.5, 2), "noise"),
    (theory.dohmatob_test_error, (2, 10, 0.5, 20, None, 2), "noise0"),
]


def _call(f, args, name, value):
    params = list(inspect.signature(f).parameters)
    i = params.index(name)
    if i < len(args):
        args = tuple(value if j == i else a for j, a in enumerate(args))
        return f(*args)
    return f(*args, **{name: value})


@pytest.mark.parametrize("f,args,name", CALLS, ids=[f"{c[0].__name__}-{c[2]}" for c in CALLS])
def test_nan_is_a_value_error_naming_the_argument(f, args, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        _call(f, args, name, NAN)


def test_every_float_default_argument_is_covered():
    """Every public function's argument with a float default is in CALLS (a new one must
    be added, and so checked)."""
    covered = {(c[0].__name__, c[2]) for c in CALLS}
    for fname in theory.__all__:
        f = getattr(theory, fname)
        if inspect.isclass(f) or not callable(f):
            continue
        for p in inspect.signature(f).parameters.values():
            if isinstance(p.default, float):
                assert (fname, p.name) in covered, (fname, p.name)


def test_the_checks_can_fail():
    """Controls: a finite value of each argument passes the check, and ``check_real``
    rejects NaN whatever its type."""
    assert theory.variance_moment(Gaussian(), Replace(10), 3, s=2.0) > 0
    assert theory.diffusion_loss_time(0.5, 10) > 0
    assert theory.genealogy_homozygosity_from_S0(Fraction(1, 2), Replace(5), 3) > 0.5
    import numpy as np

    for nan in (NAN, np.float32("nan"), np.float64("nan")):
        with pytest.raises(ValueError, match="x must be a number"):
            check_real(nan, "x")
    assert check_real(np.inf, "x") == math.inf  # ranges are the caller's


def test_nan_in_a_model_or_regression_is_refused_at_construction():
    with pytest.raises(ValueError):
        Categorical([0.5, NAN])
    with pytest.raises(ValueError):
        Gaussian(NAN, 1.0)
    with pytest.raises(ValueError):
        LinearRegression([1.0, NAN])


def test_nan_in_a_law_method_is_a_value_error():
    law = theory.collapse_time(BAR, Replace(5))
    for method in (law.cdf, law.sf, law.pmf):
        with pytest.raises(ValueError, match="generations must be integers"):
            method(NAN)
    with pytest.raises(ValueError, match="q must lie in"):
        law.quantile(NAN)
    assert law.quantile(0.5) >= 1  # control
