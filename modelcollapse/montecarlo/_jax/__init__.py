"""JAX backend: replicates vectorised with ``vmap``, generations run by ``lax.scan``.

:mod:`.core` holds the lazy import, the float64 context, the exact samplers and the
driver; one module per family (:mod:`.categorical`, :mod:`.gaussian`, :mod:`.mixture`,
:mod:`.ngram`, :mod:`.regression`) holds its one loop over the regime's plan.
"""

from __future__ import annotations

from .categorical import CategoricalKernel
from .core import x64
from .gaussian import GaussianKernel
from .mixture import MixtureKernel
from .ngram import NGramKernel
from .regression import RegressionKernel

__all__ = ["CURATION", "KERNELS", "x64"]

KERNELS = {"categorical": CategoricalKernel, "gaussian": GaussianKernel,
           "mixture": MixtureKernel, "ngram": NGramKernel,
           "regression": RegressionKernel}

#: Simulates curated regimes (best-of-K, verifier) of the categorical family.
CURATION = True
