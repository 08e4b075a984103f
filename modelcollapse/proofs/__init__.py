"""Theorems of model collapse, one module each, written like the paper.

Each module quotes its claim (paper, equation), derives it in sympy where it is a
closed form, and checks it numerically against an *independent* computation: another
exact solver, exact rational arithmetic, or a seeded simulation. ``modelcollapse
verify`` runs them all.
"""

from ._registry import Check, Theorem, run, theorems

__all__ = ["Check", "Theorem", "run", "theorems"]
