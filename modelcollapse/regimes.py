"""What each generation is trained on.

Notation of Seddik et al. 2024 (arXiv 2404.05090): ``p^(0)`` is the real distribution,
``p^(1)`` the first fitted model, ``p^(m)`` the model of generation ``m``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import _check_positive_int

__all__ = ["Accumulate", "Mix", "MostRecent", "RandomlySampled", "Regime", "Replace"]


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
    r"""Partially synthetic (Seddik et al. §3.2): the *same* ``real`` samples every
    generation plus ``synthetic`` fresh samples of the previous model:
    :math:`p^{(m+1)} = (1-\alpha) p^{(1)} + \alpha\, \hat p_n(p^{(m)})`,
    :math:`\alpha = n/(N+n)`, with :math:`p^{(1)}` fitted to the ``N`` real samples.
    """

    real: int
    synthetic: int

    def __post_init__(self):
        object.__setattr__(self, "real", _check_positive_int(self.real, "real"))
        object.__setattr__(
            self, "synthetic", _check_positive_int(self.synthetic, "synthetic")
        )

    @property
    def alpha(self) -> float:
        """Synthetic share :math:`\\alpha = n/(N+n)`."""
        return self.synthetic / (self.real + self.synthetic)


@dataclass(frozen=True)
class MostRecent(Regime):
    r"""Most recent models: ``floor(n/window)`` samples from each of the last ``window``
    models (Seddik et al. §3.3)."""

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
    r"""``n`` samples, each from a model drawn uniformly among ``p^(0) .. p^(m-1)``."""

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))


@dataclass(frozen=True)
class Accumulate(Regime):
    r"""All data so far: each generation adds ``n`` samples of the latest model to the
    pool of real and earlier synthetic data (Gerstgrasser et al. 2024)."""

    n: int

    def __post_init__(self):
        object.__setattr__(self, "n", _check_positive_int(self.n, "n"))
