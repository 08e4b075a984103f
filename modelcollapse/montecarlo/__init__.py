"""Monte Carlo simulation of recursive training.

For now this holds the plain reference simulators (readable NumPy loops on raw
multinomial draws) that the proofs use as their seeded simulation evidence; the fast
Numba/JAX engine builds on them.
"""

from ._reference import categorical_paths, collapse_times

__all__ = ["categorical_paths", "collapse_times"]
