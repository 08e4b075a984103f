"""Which backend kernel simulates a problem: the backends, their capabilities, and the
dispatch to a registered fast path or the family's generic kernel."""

from __future__ import annotations

from importlib import import_module

BACKENDS = ("numpy", "numba", "jax")


def _simulates(mod, problem) -> bool:
    """Whether the backend module ``mod`` simulates ``problem`` (its family; a curation
    where the regime has one: ``mod.CURATION``; a Gaussian's sampling temperature:
    ``mod.GAUSSIAN_TEMPERATURE``)."""
    tempered_gaussian = problem.family == "gaussian" and not problem.sampling.plain
    return problem.family in mod.KERNELS and (problem.curation is None
                                              or getattr(mod, "CURATION", False)) and (
        not tempered_gaussian or getattr(mod, "GAUSSIAN_TEMPERATURE", False))


def _kernel_class(backend: str, problem):
    """The backend's kernel for ``problem``: its first registered fast path whose
    predicate holds, else the family's generic kernel."""
    mod = import_module(f"._{backend}", __package__)
    if not _simulates(mod, problem):
        have = [b for b in BACKENDS if _simulates(import_module(f"._{b}", __package__),
                                                  problem)]
        name = type(problem.model).__name__
        what = (f"{'an' if name[0] in 'AEINOU' else 'a'} {name}"
                if problem.family not in mod.KERNELS else "curation"
                if problem.curation is not None else "a Gaussian sampling temperature")
        raise ValueError(f"backend {backend!r} does not simulate {what}; use backend="
                         f"{' or '.join(map(repr, have))}")
    for family, applies, cls in getattr(mod, "FAST_PATHS", ()):
        if family == problem.family and applies(problem):
            return cls
    return mod.KERNELS[problem.family]
