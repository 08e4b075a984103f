r"""The categorical (next-token) model: one context of a language model, refitted to its own
samples, under every regime and sampling policy.

Find a result by what it computes (the public function), then by the chain that solves
it under your regime:

========================  ============================================================
What                      Module
========================  ============================================================
collapse time (law, mean) :mod:`.collapse` (``collapse_time``,
                          ``expected_collapse_time``)
one token's loss          :mod:`.loss` (``token_loss``, ``forgetting_time``)
surviving tokens,         :mod:`.diversity` (``expected_surviving_tokens``,
homozygosity              ``homozygosity``)
perplexity of the text    :mod:`.perplexity` (``sequence_perplexity``: the law of a
                          sequence's log-perplexity under the real model)
diffusion approximations  :mod:`.diffusion`
two-lineage genealogy     :mod:`.genealogy` (homozygosity of every regime, stationary
                          values), :mod:`.effective_size` (``MostRecent`` as one
                          population)
beyond the exact chains   :mod:`.approximate` (the measured error bands of
                          ``method="auto"``'s approximations, the refusals that name a
                          simulation); the approximations are computed in
                          :mod:`.collapse` (``approximate_collapse``)
========================  ============================================================

The chains, one per kind of regime (each public function says which it uses; the choice
is made in one place, :mod:`._dispatch`):

* ``Replace(n)``, plain sampling: :mod:`.replace_chain` (the coalescent dual, any
  vocabulary and ``n`` up to ``10**8``; numba kernels in :mod:`._coalescent`),
  :mod:`.marginal` (per-token binomial chains) and :mod:`.rational` (the full chain in
  exact rational arithmetic, tiny cases);
* ``Replace(n)`` with a sampling policy (temperature, top-k, top-p): the partition chain
  of :mod:`.policy_chain`, its laws in :mod:`.policy_laws`, large-``n`` asymptotics in
  :mod:`.policy_asymptotics`;
* ``MostRecent(n, K)``, any policy: the window chain of :mod:`.window_chain`, its laws in
  :mod:`.window_laws` (e.g. the exact collapse-time law under ``MostRecent`` with a
  temperature is :func:`.window_laws.overlapping_collapse_time`, which
  :func:`collapse_time` calls);
* ``RandomlySampled``, ``Accumulate``, ``AccumulateSubsample``, ``Mix``, any policy: the
  pool chains of :mod:`.pool_chain` (shared count-vector helpers in :mod:`._counts`).
"""

from .collapse import (
    collapse_time,
    expected_collapse_time,
)
from .diffusion import (
    diffusion_collapse_time,
    diffusion_loss_time,
)
from .diversity import (
    expected_surviving_tokens,
    homozygosity,
)
from .effective_size import (
    most_recent_effective_size,
    most_recent_transfer_matrix,
)
from .genealogy import (
    genealogy_homozygosity,
    genealogy_homozygosity_from_S0,
    noncoalescence,
    stationary_homozygosity,
)
from .loss import (
    ForgettingTime,
    forgetting_time,
    token_loss,
)
from .perplexity import SequencePerplexity, sequence_perplexity
from .policy_asymptotics import (
    policy_collapse_time_asymptotic,
    policy_ld_rate,
)
from .policy_chain import (
    policy_state_count,
)
from .policy_laws import (
    policy_collapse_moments,
    policy_collapse_time,
    policy_expected_collapse_time,
    policy_sampling_distribution,
    policy_surviving_tokens,
)
from .pool_chain import (
    dirac_probability,
    first_loss_probability,
    overlapping_homozygosity,
    overlapping_surviving_tokens,
)
from .window_laws import (
    overlapping_absorption_moments,
    overlapping_absorption_time,
    overlapping_collapse_moments,
    overlapping_collapse_time,
    overlapping_expected_collapse_time,
    overlapping_state_count,
    overlapping_token_loss,
)

__all__ = [
    "ForgettingTime",
    "SequencePerplexity",
    "collapse_time",
    "diffusion_collapse_time",
    "diffusion_loss_time",
    "dirac_probability",
    "expected_collapse_time",
    "expected_surviving_tokens",
    "first_loss_probability",
    "forgetting_time",
    "genealogy_homozygosity",
    "genealogy_homozygosity_from_S0",
    "homozygosity",
    "most_recent_effective_size",
    "most_recent_transfer_matrix",
    "noncoalescence",
    "overlapping_absorption_moments",
    "overlapping_absorption_time",
    "overlapping_collapse_moments",
    "overlapping_collapse_time",
    "overlapping_expected_collapse_time",
    "overlapping_homozygosity",
    "overlapping_state_count",
    "overlapping_surviving_tokens",
    "overlapping_token_loss",
    "policy_collapse_moments",
    "policy_collapse_time",
    "policy_collapse_time_asymptotic",
    "policy_expected_collapse_time",
    "policy_ld_rate",
    "policy_sampling_distribution",
    "policy_state_count",
    "policy_surviving_tokens",
    "sequence_perplexity",
    "stationary_homozygosity",
    "token_loss",
]
