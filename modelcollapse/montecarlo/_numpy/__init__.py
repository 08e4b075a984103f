"""NumPy backend: exact count / sufficient-statistic kernels vectorised over replicates.

One generator (``default_rng(seed_seq)``) drives all replicates, one generation at a
time. Every family implements a few primitives on *groups* of training samples
(``draw`` a group from an earlier model, ``merge`` two groups, ``subsample`` a pool,
``fit`` a group) and :class:`~.core.PlanKernel` runs the one generic loop over the
regime's :class:`~modelcollapse.regimes.Plan`. Registered fast paths (:data:`FAST_PATHS`)
replace the generic loop for particular (family, plan) pairs and are tested equal in
law to it.
"""

from __future__ import annotations

from .categorical import CategoricalKernel, ReplaceCountsKernel
from .continuous import GaussianKernel, MixtureKernel, RegressionKernel
from .core import PlanKernel, bartlett, chan_merge, pinv_solve
from .ngram import NGramKernel

__all__ = ["FAST_PATHS", "KERNELS", "PlanKernel", "bartlett", "chan_merge", "pinv_solve"]

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
]
