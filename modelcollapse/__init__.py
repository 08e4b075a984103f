"""modelcollapse: exact and Monte Carlo theory of model collapse.

>>> from modelcollapse import Categorical, Replace, theory
>>> round(theory.expected_collapse_time(Categorical.uniform(2), Replace(4)), 6)
4.551724
"""

from importlib import import_module

from .models import Categorical, Gaussian, GaussianMixture, LinearRegression
from .ngram import NGram
from .regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
)

__version__ = "0.1.0"

__all__ = [
    "Accumulate",
    "AccumulateSubsample",
    "Categorical",
    "Gaussian",
    "GaussianMixture",
    "LinearRegression",
    "Mix",
    "MostRecent",
    "NGram",
    "RandomlySampled",
    "Regime",
    "Replace",
    "__version__",
    "montecarlo",
    "proofs",
    "theory",
]


def __getattr__(name):  # lazy subpackages keep `import modelcollapse` fast
    if name in ("theory", "montecarlo", "proofs"):
        return import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
