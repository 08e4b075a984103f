"""What each generation is trained on.

Notation of Seddik et al. 2024 (arXiv 2404.05090): ``p^(0)`` is the real distribution,
``p^(1)`` the first fitted model, ``p^(m)`` the model of generation ``m``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .models import _check_positive_int

__all__ = [
    "Accumulate",
    "AccumulateSubsample",
    "Mix",
    "MostRecent",
    "RandomlySampled",
    "Regime",
    "Replace",
]


class Regime:
    """Base class of the training regimes."""

    __slots__ = ()


@dataclass(frozen=True)
class Replace(Regime):
    r"""Fully synthetic: ``p^(1)`` from ``n`` real samples, ``p^(m)`` from ``n`` samples
    of ``p^(m-1)``.
    """

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))


@dataclass(frozen=True)
class Mix(Regime):
    r"""Partially synthetic: ``real`` real samples plus ``synthetic`` fresh samples of the
    previous model each generation; generation 1 is fitted to the ``real`` samples only.

    ``fresh=False`` (Seddik et al. §3.2): the *same* ``N`` real samples every
    generation, so :math:`p^{(m+1)} = (1-\alpha) p^{(1)} + \alpha\, \hat p_n(p^{(m)})`,
    :math:`\alpha = n/(N+n)`. ``fresh=True``: ``N`` new real samples every generation,
    :math:`p^{(m+1)} = (1-\alpha)\hat p_N(p^{(0)}) + \alpha\, \hat p_n(p^{(m)})` (mutation /
    immigration in population genetics: stationary, no collapse).
    """

    real: int
    synthetic: int
    fresh: bool = False

    def __post_init__(self):
        object.__setattr__(self, "real", _check_positive_int(self.real, "real"))
        object.__setattr__(
            self, "synthetic", _check_positive_int(self.synthetic, "synthetic")
        )
        if not isinstance(self.fresh, (bool, np.bool_)):
            raise ValueError(f"fresh must be True or False, got {self.fresh!r}")
        object.__setattr__(self, "fresh", bool(self.fresh))

    @property
    def alpha(self) -> float:
        """Synthetic share :math:`\\alpha = n/(N+n)`."""
        return self.synthetic / (self.real + self.synthetic)


@dataclass(frozen=True)
class MostRecent(Regime):
    r"""Most recent models (Seddik et al. §3.3): generation ``m`` is trained on
    ``floor(n/k)`` samples from each of the ``k = min(window, m)`` latest models
    :math:`p^{(m-k)}, \dots, p^{(m-1)}` (:math:`p^{(0)}` is the real distribution)."""

    n: int
    window: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))
        object.__setattr__(self, "window", _check_positive_int(self.window, "window"))
        if self.window > self.n:
            raise ValueError(
                f"window must be <= n so that each model gives at least one sample; "
                f"got window={self.window}, n={self.n}"
            )


@dataclass(frozen=True)
class RandomlySampled(Regime):
    r"""Generation ``m`` is trained on ``n`` samples, each from a model drawn uniformly
    among :math:`p^{(0)}, \dots, p^{(m-1)}` (Seddik et al. §3.3)."""

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))


@dataclass(frozen=True)
class Accumulate(Regime):
    r"""All data so far (Gerstgrasser et al. 2024): generation 1 is fitted to ``n`` real
    samples; generation ``m`` to those plus ``n`` samples of each of
    :math:`p^{(1)}, \dots, p^{(m-1)}` (``m n`` samples in all)."""

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))


@dataclass(frozen=True)
class AccumulateSubsample(Regime):
    r"""Accumulate, then subsample (Kazdan et al. 2024): the pool grows as under
    :class:`Accumulate` (``n`` real samples, then ``n`` samples of each new model), and
    generation ``m`` is fitted to ``n`` samples drawn *without replacement* from the
    pool of ``m n``."""

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))
