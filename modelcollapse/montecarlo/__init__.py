"""Monte Carlo simulation of recursive training.

:func:`simulate` runs any model under any regime on the ``numpy``, ``numba`` or ``jax``
backend and returns a :class:`SimulationResult`; :func:`reference_simulate` is the
plain raw-sample oracle the fast kernels are tested against.
"""

from ._engine import BACKENDS, Problem, SimulationResult, load, simulate
from ._reference import categorical_paths, collapse_times, reference_simulate
from ._stats import DESCRIPTIONS, STATISTICS

__all__ = [
    "BACKENDS",
    "DESCRIPTIONS",
    "STATISTICS",
    "Problem",
    "SimulationResult",
    "categorical_paths",
    "collapse_times",
    "load",
    "reference_simulate",
    "simulate",
]
