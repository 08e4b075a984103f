"""What every theory module shares, at the bottom of the package: the result types
(:class:`Estimate`, :class:`Moments`) and the argument checks of the theory API
(generations, tolerances, methods, flags). It imports nothing from the theory package, so
every module can import it and no import circle forms."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import TooLargeError, WrongTypeError
from ..models import (
    check_real,
)

__all__ = [
    "Estimate",
    "Moments",
    "check_flag",
    "check_generations",
    "check_method",
    "check_tol",
]


class Estimate(float):
    r"""A float that remembers how it was computed (``.method``, ``.exact``) and, for an
    approximation, how far it may be from the exact value.

    ``error`` is a relative error band, :math:`|\hat x/x - 1| \le` ``error``, measured
    against the exact solvers and seeded simulation (``None`` for an exact value, or for
    an approximation without a measured band); ``basis`` says where the band comes from.

    References
    ----------
    .. [1] The theory chapter, docs/theory/coalescent.md ("How the toolkit computes it").
    .. [2] The theory chapter, docs/theory/approximations.md ("Error bands").
    """

    method: str
    exact: bool
    error: float | None
    basis: str

    def __new__(cls, value, method: str, exact: bool, error: float | None = None,
                basis: str = ""):
        obj = super().__new__(cls, value)
        obj.method = method
        obj.exact = exact
        obj.error = None if error is None else float(error)
        obj.basis = basis
        return obj

    def __repr__(self) -> str:
        extra = "" if self.error is None else f", error={self.error:.2g}"
        return (f"Estimate({float(self)!r}, method={self.method!r}, exact={self.exact}"
                f"{extra})")

    def __reduce__(self):  # pickle and deepcopy keep the value and its provenance
        return (type(self), (float(self), self.method, self.exact, self.error, self.basis))


class Moments(NamedTuple):
    """Mean and variance of a random time (a tuple: ``mean, var = ...`` still works).

    References
    ----------
    .. [1] The theory chapter, docs/theory/coalescent.md ("The duality formula").
    """

    mean: float
    var: float


def check_generations(m, max_generations: int | None = None) -> np.ndarray:
    """``m`` as an integer array: ``WrongTypeError`` (a ``TypeError`` and a
    ``ValueError``) for anything but integers, ``ValueError`` for negative ones,
    ``TooLargeError`` above ``max_generations`` (a solver's cap). The one generation
    check of the theory API."""
    ms = np.asarray(m)
    if isinstance(m, (bool, np.bool_)) or ms.dtype.kind not in "iu":
        raise WrongTypeError(f"m must be a non-negative integer or array of them, got {m!r}")
    if np.any(ms < 0):
        raise ValueError(f"m must be >= 0 (a non-negative integer or array of them), "
                         f"got {m!r}")
    if max_generations is not None and ms.size and int(ms.max()) > max_generations:
        raise TooLargeError(f"m must be <= {max_generations}, got {int(ms.max())}")
    return ms


def check_tol(tol) -> float:
    """``tol`` as a float in ``(0, 1)``: ``WrongTypeError`` for anything but a real
    number, ``ValueError`` outside the interval (NaN included)."""
    tol = check_real(tol, "tol")
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    return tol


def check_method(method, allowed: tuple[str, ...]) -> str:
    """``method`` if it is one of ``allowed``: ``WrongTypeError`` for a non-string,
    ``ValueError`` naming the choices otherwise."""
    if not isinstance(method, str):
        raise WrongTypeError(f"method must be a string, got {method!r}")
    if method not in allowed:
        raise ValueError(f"method must be one of {allowed}, got {method!r}")
    return method


def check_flag(value, name: str) -> bool:
    """``value`` as a bool: ``WrongTypeError`` for anything but ``True``/``False``."""
    if not isinstance(value, (bool, np.bool_)):
        raise WrongTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)
