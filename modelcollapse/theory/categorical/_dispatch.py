"""Which solver answers a categorical quantity under a regime: the one place where the
public functions of :mod:`modelcollapse.theory.categorical` choose between the ``Replace``
solvers (:mod:`.replace_chain`), the policy chain (:mod:`.policy_chain`), the window chain
(:mod:`.window_chain`) and the pool chains (:mod:`.pool_chain`). A new regime field or
model family changes the dispatch here."""

from __future__ import annotations

from ...errors import UnsupportedRegimeError
from ...regimes import (
    Accumulate,
    Mix,
    Regime,
    Replace,
    require_plain_sampling,
)

# ---------------------------------------------------------------------- validation
#: ``method`` values under which a Replace regime with a sampling policy is solved by the
#: exact lumped chain of :mod:`modelcollapse.theory.categorical.policy_chain`.
POLICY_METHODS = ("auto", "chain")


def _policy_replace(regime, method) -> bool:
    """True for ``Replace(n)`` with a sampling policy (temperature, top-k, top-p): the
    chain is no longer the neutral one, and only the exact chain on count partitions
    (:mod:`modelcollapse.theory.categorical.policy_chain`) applies; another ``method`` is
    a ValueError."""
    if not (isinstance(regime, Replace) and not regime.sampling.plain):
        return False
    if method not in POLICY_METHODS:
        raise ValueError(
            f"{regime!r} samples with a policy, so the chain is not the neutral one that "
            f"method={method!r} solves; use method='auto' (the exact chain on count "
            "partitions, modelcollapse.theory.categorical.policy_chain)")
    return True


def _overlapping_exact(regime, method, what: str) -> bool:
    """True for the regimes with overlapping generations (``MostRecent``,
    ``RandomlySampled``, ``Accumulate``, ``AccumulateSubsample``), with any sampling
    policy: their exact laws are the small-state window and pool chains
    (:mod:`modelcollapse.theory.categorical.window_chain`,
    :mod:`modelcollapse.theory.categorical.pool_chain`; ``TooLargeError`` beyond their
    caps); another ``method`` than ``"auto"`` is a ValueError."""
    if not (isinstance(regime, Regime) and not isinstance(regime, (Replace, Mix))):
        return False
    if method not in ("auto", "chain"):
        raise ValueError(
            f"{what} under {type(regime).__name__} has one exact method, the chain on the "
            "window or pool of counts (modelcollapse.theory.categorical.window_chain, "
            f"pool_chain); method={method!r} is for Replace: use method='auto'")
    return True


def _not_absorbing(regime, what: str):
    """``UnsupportedRegimeError`` for a collapse time under a regime whose Dirac fits are
    not absorbing."""
    why = ("the pool keeps every token of the real block, so p^(m) is a Dirac only if "
           "that block was one (probability sum_i p_i^n, decided at generation 1)"
           if isinstance(regime, Accumulate) else
           "a Dirac fit is not absorbing (real or pooled data keep returning)")
    return UnsupportedRegimeError(
        f"{what}: under {type(regime).__name__} {why}, so there is no collapse time to "
        "give; ask for "
        "theory.dirac_probability (P(p^(m) is a Dirac)), "
        "expected_surviving_tokens or stationary_homozygosity instead",
        ("Replace", "MostRecent"))


def _mix_chain(method, what: str) -> bool:
    """``Mix`` quantities without a closed form come from the exact chain on (real
    sample, synthetic block) of :mod:`modelcollapse.theory.categorical.pool_chain` (small
    sizes)."""
    if method not in ("auto", "chain"):
        raise ValueError(f"{what} under Mix has one exact method, the chain on the real "
                         f"and synthetic counts; method={method!r} is for Replace: use "
                         "method='auto'")
    return True


def _replace_n(regime, what: str) -> int:
    require_plain_sampling(regime, what)
    if isinstance(regime, Replace):
        return regime.n
    if isinstance(regime, Mix):
        raise ValueError(
            f"{what} is defined for Replace(n): under Mix the fixed real samples keep "
            "every token of p^(1) alive, so the model never collapses"
        )
    if isinstance(regime, Regime):
        raise UnsupportedRegimeError(
            f"exact {what} is implemented for Replace(n) only; simulate "
            f"{type(regime).__name__} with modelcollapse.montecarlo", ("Replace",))
    raise ValueError(f"regime must be a Regime such as Replace(n), got {regime!r}")
