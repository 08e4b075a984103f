"""Exceptions of the toolkit.

A wrong *type* of argument raises :class:`WrongTypeError`, a subclass of both
``TypeError`` and ``ValueError`` (as NumPy's ``AxisError`` is both a ``ValueError`` and an
``IndexError``): code that catches either keeps working.
"""

from __future__ import annotations

__all__ = ["TooLargeError", "UnsupportedRegimeError", "WrongTypeError"]


class WrongTypeError(TypeError, ValueError):
    """An argument of the wrong type (e.g. a Gaussian where a Categorical is needed)."""


class TooLargeError(ValueError):
    """A request whose estimated cost (memory, time) exceeds a limit the caller can
    raise; the message says how to reduce it."""


class UnsupportedRegimeError(NotImplementedError):
    """A computation with no exact form under the given regime (or sampling policy);
    :attr:`supported` lists what it covers, and the message ends with that list."""

    def __init__(self, message: str, supported=()):
        self.supported = tuple(supported)
        if self.supported:
            message = f"{message} [supported: {', '.join(self.supported)}]"
        super().__init__(message)
