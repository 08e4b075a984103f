"""The registry of theorems and the shape of a numeric check."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import import_module

__all__ = ["Check", "Theorem", "run", "theorems"]

#: Modules of ``modelcollapse.proofs`` that define a ``THEOREM``, in report order.
MODULES = (
    "seddik_theorem1",
    "seddik_proposition1",
    "seddik_theorem2",
    "seddik_theorem3",
    "suresh_rates",
    "suresh_gaussian",
    "coalescent_duality",
    "genealogies",
    "overlapping_collapse",
    "sampling_policies",
    "shumailov_theorem31",
    "gaussian_accumulate",
    "gaussian_fresh_mix",
    "gerstgrasser_accumulate",
    "dohmatob_regression",
    "ngram_chains",
    "sequence_perplexity",
    "ferbach_curation",
    "real_data_stability",
    "verification",
    "dohmatob_tails",
    "alemohammad_bias",
)


@dataclass(frozen=True)
class Check:
    """One row of ``modelcollapse verify``: numeric evidence for a claim."""

    theorem: str
    claim: str
    method: str
    value: str
    reference: str
    passed: bool
    note: str = ""

    def __post_init__(self):
        object.__setattr__(self, "passed", bool(self.passed))

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Theorem:
    """A published (or derived) claim with its derivation and checks."""

    key: str
    title: str
    source: str
    statement: str
    checks: Callable[[], list[Check]] = field(repr=False)
    derivation: Callable[[], dict] | None = field(default=None, repr=False)


def theorems() -> list[Theorem]:
    """All registered theorems, in report order."""
    return [import_module(f"{__package__}.{name}").THEOREM for name in MODULES]


def run(select: str | None = None) -> list[Check]:
    """Run the checks of every theorem whose key contains ``select`` (all if None)."""
    rows: list[Check] = []
    chosen = [t for t in theorems() if select is None or select in t.key]
    if not chosen:
        keys = ", ".join(t.key for t in theorems())
        raise ValueError(f"no theorem key contains {select!r}; keys: {keys}")
    for thm in chosen:
        try:
            rows.extend(thm.checks())
        except Exception as exc:  # a crashing check is a failing check
            rows.append(Check(thm.key, "checks run", "-", type(exc).__name__, str(exc)[:80],
                              False))
    return rows


# ---------------------------------------------------------------------- check helpers
def fmt(x) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, tuple):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    x = float(x)
    if x == 0 or 1e-4 <= abs(x) < 1e7:
        return f"{x:.10g}"
    return f"{x:.6e}"


def close(theorem, claim, method, value, reference, *, rtol=1e-9, atol=0.0, note=""):
    """Passes when ``|value - reference| <= atol + rtol*|reference|``."""
    ok = math.isfinite(float(value)) and abs(float(value) - float(reference)) <= (
        atol + rtol * abs(float(reference)))
    err = abs(float(value) - float(reference))
    return Check(theorem, claim, method, fmt(value), fmt(reference), ok,
                 note or f"|diff|={err:.1e}")


def equal(theorem, claim, method, value, reference, note=""):
    """Exact equality (rational arithmetic)."""
    return Check(theorem, claim, method, fmt(float(value)), fmt(float(reference)),
                 value == reference, note or "exact rational equality")


def within(theorem, claim, method, value, lower, upper, note=""):
    ok = lower <= value <= upper
    return Check(theorem, claim, method, fmt(value), f"[{fmt(lower)}, {fmt(upper)}]", ok, note)


def mean_se(x, axis: int = 0):
    """Sample mean and its standard error (``ddof=1``) along ``axis``."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / math.sqrt(x.shape[axis])


def zcheck(theorem, claim, method, estimate, expected, std_error, *, zmax=5.0, note=""):
    """Seeded Monte Carlo check: ``|estimate - expected| / std_error < zmax``."""
    z = (float(estimate) - float(expected)) / float(std_error)
    return Check(theorem, claim, method, fmt(estimate), fmt(expected), abs(z) < zmax,
                 note or f"z={z:+.2f}")


def zreject(theorem, claim, method, estimate, wrong, std_error, *, zmin=5.0):
    """Negative control of :func:`zcheck`: the same seeded estimate must be *rejected*
    against a wrong expected value, ``|estimate - wrong| / std_error > zmin``."""
    z = (float(estimate) - float(wrong)) / float(std_error)
    return Check(theorem, claim, method, fmt(estimate), fmt(wrong), abs(z) > zmin,
                 f"z={z:+.1f} (must exceed {zmin:g})")


def zsample(theorem, claim, method, sample, expected, *, zmax=5.0, note="sample s.e."):
    """:func:`zcheck` of the mean of a seeded ``sample`` with its sample standard error
    (where no exact variance is at hand)."""
    mean, se = mean_se(sample)
    return zcheck(theorem, claim, method, mean, expected, se, zmax=zmax, note=note)
