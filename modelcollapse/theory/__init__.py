"""Exact theory of model collapse: closed forms, exact Markov-chain and coalescent
solvers, diffusion approximations and published bounds.

Every exact quantity has at least two independent methods (``method=``), tested
against each other and against exact rational arithmetic on tiny cases.

Conventions, the same in every function:

* **Generations**: the argument is ``m`` everywhere (generation 0 is the real model,
  generation 1 the first fit); a scalar ``m`` gives a float, an integer array an array
  of its shape. Times count fitted models: a Dirac :math:`p^{(0)}` collapses at
  ``T = 1`` (the simulators record 0 there, as they count from the real model).
* **Regimes** are objects (:class:`~modelcollapse.regimes.Replace`, ...) or their spec
  strings (``"replace:100"``, ``"most-recent:1000:4:temperature=0.8"``).
* **Exactness**: ``exact=True`` computes in rational arithmetic (``fractions.Fraction``)
  where a function offers it; ``method=`` chooses among float solvers, and the results
  say which one ran (:class:`Estimate` ``.method`` / ``.exact``, a law's ``.method``).
* **Results**: floats, arrays, :class:`Estimate`, laws
  (:class:`GenerationDistribution`) and named tuples (:class:`Moments`,
  :class:`StationaryPoint`); all pickle and deep-copy.
* **Errors**: a wrong type raises :class:`~modelcollapse.errors.WrongTypeError` (a
  ``TypeError`` and a ``ValueError``), a wrong value ``ValueError``, a regime or policy
  without an exact form :class:`~modelcollapse.errors.UnsupportedRegimeError` (a
  ``NotImplementedError`` listing what is supported), a request beyond a size cap
  :class:`~modelcollapse.errors.TooLargeError` (a ``ValueError``), before any work.
"""

from ._results import Estimate, Moments
from .bounds import (
    mardia_G,
    seddik_collapse_probability_bounds,
    seddik_deviation_bound,
    seddik_eq11_max_synthetic,
    seddik_expected_collapse_time_bounds,
    seddik_max_synthetic,
    seddik_split_expectation,
    seddik_theorem4_bound,
    suresh_bernoulli_bounds,
    suresh_g,
    suresh_gaussian_bound,
    suresh_poisson_survival,
    suresh_unigram_bounds,
)
from .categorical import (
    ForgettingTime,
    collapse_time,
    diffusion_collapse_time,
    diffusion_loss_time,
    dirac_probability,
    expected_collapse_time,
    expected_surviving_tokens,
    first_loss_probability,
    forgetting_time,
    genealogy_homozygosity,
    genealogy_homozygosity_from_S0,
    homozygosity,
    most_recent_effective_size,
    most_recent_transfer_matrix,
    noncoalescence,
    overlapping_absorption_moments,
    overlapping_absorption_time,
    overlapping_collapse_moments,
    overlapping_collapse_time,
    overlapping_expected_collapse_time,
    overlapping_homozygosity,
    overlapping_state_count,
    overlapping_surviving_tokens,
    overlapping_token_loss,
    policy_collapse_moments,
    policy_collapse_time,
    policy_collapse_time_asymptotic,
    policy_expected_collapse_time,
    policy_ld_rate,
    policy_sampling_distribution,
    policy_state_count,
    policy_surviving_tokens,
    stationary_homozygosity,
    token_loss,
)
from .distributions import GenerationDistribution
from .gaussian import (
    GaussianCollapseTime,
    StationaryPoint,
    expected_det_ratio,
    expected_mean_error,
    expected_std,
    expected_trace_ratio,
    expected_variance,
    expected_w2sq,
    gaussian_collapse_time,
    gaussian_schedule,
    log_chi2_step,
    log_det_moments,
    schedule_bounded,
    stationary_point,
    variance_moment,
)
from .ngram import (
    AutocorrelationTime,
    DriftFactor,
    RowExpectations,
    UnigramMoments,
    ngram_autocorrelation_time,
    ngram_context_sizes,
    ngram_drift_factor,
    ngram_row_expectations,
    ngram_transition_bias,
    ngram_unigram_drift,
    ngram_unigram_moments,
)
from .regression import (
    accumulate_error_bound,
    accumulate_replace_ratio,
    dohmatob_noise_free_error,
    dohmatob_test_error,
    expected_pinv_trace,
    regression_test_error,
)

__all__ = [
    "AutocorrelationTime",
    "DriftFactor",
    "Estimate",
    "ForgettingTime",
    "GaussianCollapseTime",
    "GenerationDistribution",
    "Moments",
    "RowExpectations",
    "StationaryPoint",
    "UnigramMoments",
    "accumulate_error_bound",
    "accumulate_replace_ratio",
    "collapse_time",
    "diffusion_collapse_time",
    "diffusion_loss_time",
    "dirac_probability",
    "dohmatob_noise_free_error",
    "dohmatob_test_error",
    "expected_collapse_time",
    "expected_det_ratio",
    "expected_mean_error",
    "expected_pinv_trace",
    "expected_std",
    "expected_surviving_tokens",
    "expected_trace_ratio",
    "expected_variance",
    "expected_w2sq",
    "first_loss_probability",
    "forgetting_time",
    "gaussian_collapse_time",
    "gaussian_schedule",
    "genealogy_homozygosity",
    "genealogy_homozygosity_from_S0",
    "homozygosity",
    "log_chi2_step",
    "log_det_moments",
    "mardia_G",
    "most_recent_effective_size",
    "most_recent_transfer_matrix",
    "ngram_autocorrelation_time",
    "ngram_context_sizes",
    "ngram_drift_factor",
    "ngram_row_expectations",
    "ngram_transition_bias",
    "ngram_unigram_drift",
    "ngram_unigram_moments",
    "noncoalescence",
    "overlapping_absorption_moments",
    "overlapping_absorption_time",
    "overlapping_collapse_moments",
    "overlapping_collapse_time",
    "overlapping_expected_collapse_time",
    "overlapping_homozygosity",
    "overlapping_state_count",
    "overlapping_surviving_tokens",
    "overlapping_token_loss",
    "policy_collapse_moments",
    "policy_collapse_time",
    "policy_collapse_time_asymptotic",
    "policy_expected_collapse_time",
    "policy_ld_rate",
    "policy_sampling_distribution",
    "policy_state_count",
    "policy_surviving_tokens",
    "regression_test_error",
    "schedule_bounded",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
    "seddik_split_expectation",
    "seddik_theorem4_bound",
    "stationary_homozygosity",
    "stationary_point",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_gaussian_bound",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
    "token_loss",
    "variance_moment",
]
