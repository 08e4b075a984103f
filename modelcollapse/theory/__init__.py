"""Exact theory of model collapse: closed forms, exact Markov-chain and coalescent
solvers, diffusion approximations and published bounds.

Every exact quantity has at least two independent methods (``method=``), tested
against each other and against exact rational arithmetic on tiny cases.
"""

from .bounds import (
    seddik_collapse_probability_bounds,
    seddik_expected_collapse_time_bounds,
    suresh_bernoulli_bounds,
    suresh_g,
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

__all__ = [
    "Estimate",
    "ForgettingTime",
    "GenerationDistribution",
    "collapse_time",
    "diffusion_collapse_time",
    "diffusion_loss_time",
    "expected_collapse_time",
    "expected_surviving_tokens",
    "forgetting_time",
    "homozygosity",
    "seddik_collapse_probability_bounds",
    "seddik_expected_collapse_time_bounds",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
    "token_loss",
]
