"""Numba backend: compiled per-replicate kernels run in parallel threads.

One module per concern: :mod:`.threads` (generators, thread pool, plan codes),
:mod:`.samplers` (exact binomials, multinomials, Wisharts, subsamples), and one per
family (:mod:`.categorical`, :mod:`.gaussian`, :mod:`.mixture`, :mod:`.regression`),
each with one compiled loop over the regime's plan; :data:`FAST_PATHS` registers the
specialised kernels that replace it for particular (family, plan) pairs.
"""

from __future__ import annotations

from .categorical import CategoricalKernel, ReplaceCountsKernel
from .gaussian import Gauss1ReplaceKernel, GaussianKernel
from .mixture import MixtureKernel
from .ngram import NGramKernel
from .regression import RegressionKernel
from .samplers import binomial

__all__ = ["FAST_PATHS", "KERNELS", "binomial"]

KERNELS = {"categorical": CategoricalKernel, "gaussian": GaussianKernel,
           "mixture": MixtureKernel, "regression": RegressionKernel, "ngram": NGramKernel}

#: Simulates curated regimes (best-of-K, verifier) of the categorical family.
CURATION = True
#: Simulates a Gaussian sampled at a temperature (from N(mu, T Sigma)).
GAUSSIAN_TEMPERATURE = True

#: ``(family, predicate(problem), kernel)``: the first match replaces the generic loop.
FAST_PATHS = [
    ("categorical", lambda pr: pr.plan.absorbing and pr.sampling.plain
     and pr.curation is None, ReplaceCountsKernel),
    ("gaussian", lambda pr: pr.plan.absorbing and pr.model.dim == 1
     and pr.sampling.plain, Gauss1ReplaceKernel),
]
