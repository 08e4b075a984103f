"""Exact theory of model collapse: closed forms, exact Markov-chain and coalescent
solvers, diffusion approximations and published bounds.

Every exact quantity has at least two independent methods (``method=``), tested
against each other and against exact rational arithmetic on tiny cases.
"""

from .bounds import (
    mardia_G,
    seddik_collapse_probability_bounds,
    seddik_deviation_bound,
    seddik_eq11_max_synthetic,
    seddik_expected_collapse_time_bounds,
    seddik_max_synthetic,
    suresh_bernoulli_bounds,
    suresh_g,
    suresh_gaussian_bound,
    suresh_poisson_survival,
    suresh_unigram_bounds,
)
from .categorical import (
    Estimate,
    ForgettingTime,
    collapse_time,
    diffusion_collapse_time,
    diffusion_loss_time,
    expected_collapse_time,
    expected_surviving_tokens,
    forgetting_time,
    homozygosity,
    token_loss,
)
from .distributions import GenerationDistribution
from .gaussian import (
    expected_det_ratio,
    expected_mean_error,
    expected_std,
    expected_trace_ratio,
    expected_variance,
    expected_w2sq,
    gaussian_schedule,
    log_det_moments,
    schedule_bounded,
    stationary_point,
    variance_moment,
)
from .gaussian_collapse import GaussianCollapseTime, gaussian_collapse_time, log_chi2_step
from .regression import (
    accumulate_error_bound,
    accumulate_replace_ratio,
    dohmatob_noise_free_error,
    dohmatob_test_error,
    expected_pinv_trace,
    regression_test_error,
)

__all__ = [
    "Estimate",
    "ForgettingTime",
    "GaussianCollapseTime",
    "GenerationDistribution",
    "accumulate_error_bound",
    "accumulate_replace_ratio",
    "collapse_time",
    "diffusion_collapse_time",
    "diffusion_loss_time",
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
    "forgetting_time",
    "gaussian_collapse_time",
    "gaussian_schedule",
    "homozygosity",
    "log_chi2_step",
    "log_det_moments",
    "mardia_G",
    "regression_test_error",
    "schedule_bounded",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
    "stationary_point",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_gaussian_bound",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
    "token_loss",
    "variance_moment",
]
