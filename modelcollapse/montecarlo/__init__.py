"""Monte Carlo simulation of recursive training.

:func:`simulate` runs any model under any regime on the ``numpy``, ``numba`` or ``jax``
backend and returns a :class:`SimulationResult`; :func:`reference_simulate` is the
plain raw-sample oracle the fast kernels are tested against.

How the engine is built
-----------------------
A regime compiles to a frozen, backend-neutral
:class:`~modelcollapse.regimes.Plan`: the real block (``real`` samples of the real
distribution, drawn once or anew each generation), the synthetic blocks (``n`` samples
from the last model, from a window of the latest models, or each from a uniformly
chosen earlier model), the pool (none, accumulated, or accumulated then subsampled) and
the sampling policy of synthetic draws. Nothing in the simulators asks which regime
class it was given; a new regime is a new plan.

Each backend implements, per model family, a few primitives on *groups* of training
samples (draw a group from an earlier model, merge groups, subsample a pool, fit) and
**one** loop over the plan: :class:`._numpy.PlanKernel`; the compiled
``_numba/<family>.py`` loops; the ``_jax/<family>.py`` ``step`` functions scanned over
generations. Specialised kernels are registered as fast paths for particular (family,
plan) pairs (``FAST_PATHS`` of each backend: e.g. categorical and 1-D Gaussian
``Replace``) and are tested equal in law to the generic loop.

The driver (:mod:`._engine`) validates the request, estimates its memory before any
work (:mod:`._memory`; refused above ``max_memory``), runs the kernel chunk by chunk
(progress bar; Ctrl-C raises unless ``on_interrupt="return"``) and keeps the
statistics of the generations the recording policy asks for (:mod:`._record`).
"""

from ._engine import BACKENDS, Problem, SimulationResult, check_problem, load, simulate
from ._reference import categorical_paths, collapse_times, reference_simulate
from ._stats import DESCRIPTIONS, STATISTICS
from .textchain import TextChainResult, text_chain

__all__ = [
    "BACKENDS",
    "DESCRIPTIONS",
    "STATISTICS",
    "Problem",
    "SimulationResult",
    "TextChainResult",
    "categorical_paths",
    "check_problem",
    "collapse_times",
    "load",
    "reference_simulate",
    "simulate",
    "text_chain",
]
