r"""Published bounds as functions returning numbers, one module per paper:
:mod:`.seddik` (Seddik et al. 2024, Theorems 1 and 3), :mod:`.seddik_theorem4`
(Theorem 4) and :mod:`.suresh` (Suresh et al. 2025)."""

from .seddik import (
    mardia_G,
    seddik_collapse_probability_bounds,
    seddik_deviation_bound,
    seddik_eq11_max_synthetic,
    seddik_expected_collapse_time_bounds,
    seddik_max_synthetic,
)
from .seddik_theorem4 import (
    seddik_split_expectation,
    seddik_theorem4_bound,
)
from .suresh import (
    suresh_bernoulli_bounds,
    suresh_g,
    suresh_gaussian_bound,
    suresh_poisson_survival,
    suresh_unigram_bounds,
)

__all__ = [
    "mardia_G",
    "seddik_collapse_probability_bounds",
    "seddik_deviation_bound",
    "seddik_eq11_max_synthetic",
    "seddik_expected_collapse_time_bounds",
    "seddik_max_synthetic",
    "seddik_split_expectation",
    "seddik_theorem4_bound",
    "suresh_bernoulli_bounds",
    "suresh_g",
    "suresh_gaussian_bound",
    "suresh_poisson_survival",
    "suresh_unigram_bounds",
]
