r"""Effective sample sizes of an n-gram model's contexts, and how much faster a model of
many contexts drifts than one categorical fitted to the same corpus.

A generation of ``n`` tokens from the stationary start visits context :math:`c` about
:math:`N_c = n\pi_c` times, and its row is refitted to those visits: to first order in
:math:`1/N_c` one Wright--Fisher step with population :math:`n\pi_c`,
:math:`E\|\hat P_c - P_c\|_2^2 \approx (1 - h_c)/(n\pi_c)` (:math:`h_c = \sum_x
P_{cx}^2`) and, for a token of probability :math:`P_{cx}`, :math:`E|\hat P_{cx} -
P_{cx}| \approx \sqrt{2P_{cx}(1-P_{cx})/(\pi n \pi_c)}` (normal approximation). Averaged
over contexts drawn from :math:`\pi` (as the harness draws its evaluation contexts from
real text) and compared with one categorical fitted to the same ``n`` tokens (the
unigram law :math:`u`), the ratios are closed forms in :math:`\pi` and the rows:

.. math:: F_2 = \frac{\sum_c (1 - h_c)}{1 - \sum_x u_x^2}, \qquad
   F_1 = \frac{\sum_c \sqrt{\pi_c}\, s_c}{s_u}, \quad s_c = \sum_x
   \sqrt{P_{cx}(1-P_{cx})},

the squared-distance ratio :math:`F_2` growing like the number of contexts the text
uses (about :math:`V^k` for a rich text), the L1 ratio :math:`F_1` like
:math:`\sum_c\sqrt{\pi_c}`, at most :math:`\sqrt{C}`. Over ``m`` generations of
neutral drift both scale as for one context (:math:`m` and :math:`\sqrt m`), so the
ratios hold at every generation while :math:`m \ll n\pi_c`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...models import check_positive_int
from ...regimes import accepts_regime_spec

__all__ = ["DriftFactor", "ngram_context_sizes", "ngram_drift_factor",
           "ngram_homozygosity"]

#: The regime fields that count samples (scaled to a context's visits).
SIZE_FIELDS = ("n", "real", "synthetic")


def ngram_context_sizes(model, n: int) -> np.ndarray:
    r"""Expected visits :math:`n\pi_c` of every context in a generation of ``n`` tokens
    from the stationary start: each row's effective sample size."""
    n = check_positive_int(n, "n")
    return n * model.stationary_contexts()


class DriftFactor(NamedTuple):
    """Per-context drift against one categorical with the same corpus (module)."""

    l2: float  #: :math:`F_2`, ratio of expected squared distances
    l1: float  #: :math:`F_1`, ratio of expected L1 distances
    contexts_used: float  #: :math:`(\sum_c \sqrt{\pi_c})^2`, the contexts the text uses


def ngram_drift_factor(model) -> DriftFactor:
    r"""The factors :math:`F_2, F_1` by which the contexts of ``model`` (weighted as
    real text visits them) drift faster than one categorical model of its unigram law
    fitted to the same number of tokens, to first order in :math:`1/(n\pi_c)`.

    Examples
    --------
    >>> from modelcollapse import NGram
    >>> f = ngram_drift_factor(NGram([[0.9, 0.1], [0.3, 0.7]]))
    >>> round(f.l2, 4)     # (0.18 + 0.42) / (1 - 0.75^2 - 0.25^2)
    1.6
    """
    from ...errors import WrongTypeError
    from ...ngram import NGram

    if not isinstance(model, NGram):
        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    P, pi = model.table, model.stationary_contexts()  # no dense chain: any size
    u = model.stationary()
    used = pi > 0
    h = (P**2).sum(axis=1)
    f2 = float((1 - h[used]).sum() / (1 - (u**2).sum()))
    s = np.sqrt(P * (1 - P)).sum(axis=1)
    su = float(np.sqrt(u * (1 - u)).sum())
    f1 = float((np.sqrt(pi) * s).sum() / su)
    return DriftFactor(f2, f1, float(np.sqrt(pi).sum() ** 2))


def _context_regime(regime, share: float):
    """``regime`` with every sample count scaled by ``share`` (a context's share of the
    tokens), at least 1."""
    import dataclasses

    sizes = {f.name: max(1, round(getattr(regime, f.name) * share))
             for f in dataclasses.fields(regime) if f.name in SIZE_FIELDS}
    return dataclasses.replace(regime, **sizes)


@accepts_regime_spec
def ngram_homozygosity(model, regime, m):
    r"""Expected homozygosity of the rows, weighted by the real stationary context law,
    :math:`E\sum_c \pi_c \sum_x (P^{(m)}_{cx})^2` (the simulators' ``homozygosity``),
    by the per-context picture: each context is one categorical model refitted to its
    share :math:`\pi_c` of every sample count of the regime (``Replace(n)`` becomes
    ``Replace(n pi_c)``, ``Mix(R, S)`` becomes ``Mix(R pi_c, S pi_c)``, ...), whose
    homozygosity the categorical theory gives exactly
    (:func:`modelcollapse.theory.homozygosity`, every regime; its plateau under real
    data is the stationary value). First order in :math:`1/(n\pi_c)`: the visits are
    random and depend on the transitions drawn (:mod:`.bias`); ``Estimate.exact`` is
    False. Plain sampling, stationary start, contexts with :math:`\pi_c > 0`.
    """
    from ...errors import UnsupportedRegimeError
    from ...models import Categorical
    from ...ngram import NGram
    from .._results import Estimate, check_generations
    from ..categorical import homozygosity

    if not isinstance(model, NGram):
        from ...errors import WrongTypeError

        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    if not regime.sampling.plain:
        raise UnsupportedRegimeError(
            "the per-context homozygosity is derived for plain sampling",
            supported=("plain sampling",))
    ms = check_generations(m)
    pi = model.stationary_contexts()
    used = np.flatnonzero(pi > 0)
    total = np.zeros(ms.shape)
    for c in used:
        row = Categorical(model.table[c])
        total = total + pi[c] * np.asarray(
            homozygosity(row, _context_regime(regime, pi[c]), ms), dtype=float)
    if ms.ndim == 0:
        return Estimate(float(total), "per-context genealogy, N_c = n pi_c", False)
    return total
