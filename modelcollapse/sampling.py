r"""The sampling policy: how synthetic samples are drawn from a fitted categorical model.

A field of every regime (:class:`~modelcollapse.regimes.Regime` carries ``temperature``,
``top_k`` and ``top_p``), and one definition for the whole toolkit: the exact theory
(:mod:`modelcollapse.theory`), every simulator backend and the transformer harness
draw synthetic tokens from

.. math:: \pi(p) = \mathrm{top\_p}\big(\mathrm{top\_k}(p^{1/T}/\textstyle\sum_i p_i^{1/T})\big),

where ``top_k`` keeps the ``k`` most likely tokens and ``top_p`` the smallest set of most
likely tokens whose mass is at least ``top_p`` (a set counts as reaching it within the
relative slack :data:`TOP_P_SLACK`), ties broken towards the lower token index, each step
renormalised. Real samples are never transformed.

:func:`sampling_distribution` is the float64 definition (rows of an array);
:func:`exact_sampling_distribution` the same map in rational arithmetic, written
independently (for ``1/T`` an integer, when the policy maps rationals to rationals).
The compiled twins inside the Numba and JAX kernels and the harness's logit version use
:data:`TOP_P_SLACK` and the same tie rule, and are tested equal to
:func:`sampling_distribution`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .errors import WrongTypeError
from .models import check_positive_int

__all__ = [
    "TOP_P_SLACK",
    "SamplingPolicy",
    "exact_sampling_distribution",
    "exact_temper_power",
    "sampling_distribution",
    "tempered",
]


@dataclass(frozen=True)
class SamplingPolicy:
    r"""How synthetic samples are drawn from a fitted categorical model.

    ``temperature`` :math:`T > 0` maps :math:`p \mapsto p^{1/T}/\sum_i p_i^{1/T}`; then
    ``top_k`` keeps the ``k`` most likely tokens and ``top_p`` the smallest set of most
    likely tokens of mass :math:`\ge` ``top_p`` (ties towards the lower index), each
    followed by renormalisation. ``SamplingPolicy()`` is plain sampling.
    """

    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None

    def __post_init__(self):
        t = self.temperature
        if isinstance(t, bool) or not isinstance(t, (int, float, np.integer, np.floating)):
            raise WrongTypeError(f"temperature must be a real number, got {t!r}")
        t = float(t)
        if not math.isfinite(t) or t <= 0:
            raise ValueError(f"temperature must be finite and > 0, got {t}")
        object.__setattr__(self, "temperature", t)
        if self.top_k is not None:
            if isinstance(self.top_k, bool) or not isinstance(self.top_k, (int, np.integer)):
                raise WrongTypeError(
                    f"top_k must be a positive integer or None, got {self.top_k!r}")
            object.__setattr__(self, "top_k", check_positive_int(self.top_k, "top_k"))
        if self.top_p is not None:
            p = self.top_p
            if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
                raise WrongTypeError(f"top_p must be a number in (0, 1] or None, got {p!r}")
            p = float(p)
            if not 0.0 < p <= 1.0:
                raise ValueError(f"top_p must be in (0, 1], got {p}")
            object.__setattr__(self, "top_p", p)

    @property
    def plain(self) -> bool:
        """True for plain sampling from the fit (``T = 1``, no truncation)."""
        return self.temperature == 1.0 and self.top_k is None and self.top_p in (None, 1.0)



def tempered(P: np.ndarray, temperature: float) -> np.ndarray:
    r"""Sampling distribution at ``temperature``: :math:`p^{1/T}/\sum p^{1/T}` (rows)."""
    if temperature == 1.0:
        return P
    with np.errstate(divide="ignore"):
        logp = np.where(P > 0, np.log(np.where(P > 0, P, 1.0)), -np.inf) / temperature
    logp -= logp.max(axis=-1, keepdims=True)
    w = np.exp(logp)
    return w / w.sum(axis=-1, keepdims=True)


#: ``top_p`` counts a set of tokens as reaching the mass ``top_p`` once its mass is
#: within this relative margin of it (so that, e.g., 0.5 + 0.3 reaches 0.8 despite
#: rounding). Every backend uses the same rule.
TOP_P_SLACK = 1e-12


def sampling_distribution(P: np.ndarray, policy) -> np.ndarray:
    r"""The distribution synthetic samples are drawn from (rows of ``P``), under the
    sampling ``policy`` (:class:`~modelcollapse.regimes.SamplingPolicy`): temperature,
    then ``top_k`` (the ``k`` most likely tokens), then ``top_p`` (the smallest set of
    most likely tokens with mass :math:`\ge` ``top_p``), each renormalised; ties go to
    the lower token index."""
    if policy.plain:
        return P
    Q = tempered(P, policy.temperature)
    top_p = policy.top_p if policy.top_p is not None and policy.top_p < 1 else None
    if policy.top_k is None and top_p is None:
        return Q
    Q = np.atleast_2d(Q)
    order = np.argsort(-Q, axis=-1, kind="stable")
    Qs = np.take_along_axis(Q, order, axis=-1)
    if policy.top_k is not None:
        Qs = np.where(np.arange(Qs.shape[-1]) < policy.top_k, Qs, 0.0)
        Qs = Qs / Qs.sum(axis=-1, keepdims=True)
    if top_p is not None:
        before = np.cumsum(Qs, axis=-1) - Qs  # mass of the more likely tokens
        Qs = np.where(before < top_p * (1 - TOP_P_SLACK), Qs, 0.0)
        Qs = Qs / Qs.sum(axis=-1, keepdims=True)
    out = np.empty_like(Q)
    np.put_along_axis(out, order, Qs, axis=-1)
    return out.reshape(np.shape(P))


# ---------------------------------------------------------------------- exact
def exact_temper_power(policy: SamplingPolicy) -> int | None:
    """``j`` with ``1/T = j`` an integer (the policy then maps rationals to rationals),
    else ``None``."""
    inv = 1.0 / policy.temperature
    j = round(inv)
    return j if j >= 1 and inv == j and 1.0 / j == policy.temperature else None


def exact_sampling_distribution(x, policy: SamplingPolicy) -> list[Fraction]:
    """:math:`\\pi(x)` in exact arithmetic: the same definition as
    :func:`sampling_distribution` (temperature, top-k, top-p with the relative slack
    :data:`TOP_P_SLACK`, ties to the lower index), written independently.

    Parameters
    ----------
    x : sequence of Fraction
        A probability vector, in any order (not checked to sum to 1).
    policy : SamplingPolicy
        With ``1/temperature`` an integer.

    Returns
    -------
    list of Fraction
        :math:`\\pi(x)`, entry by entry.

    Raises
    ------
    ValueError
        ``1/temperature`` is not an integer.
    """
    j = exact_temper_power(policy)
    if j is None:
        raise ValueError(
            f"exact=True needs 1/temperature to be an integer (the policy then maps "
            f"rationals to rationals), got temperature={policy.temperature}")
    w = [xi**j for xi in x]
    tot = sum(w)
    q = [wi / tot for wi in w]
    order = sorted(range(len(q)), key=lambda i: (-q[i], i))
    keep = [i for i in order if q[i] > 0]
    if policy.top_k is not None:
        keep = keep[:policy.top_k]
        tot = sum(q[i] for i in keep)
        q = [qi / tot if i in keep else Fraction(0) for i, qi in enumerate(q)]
    if policy.top_p is not None and policy.top_p < 1:
        thr = Fraction(policy.top_p) * (1 - Fraction(TOP_P_SLACK))
        kept, before = [], Fraction(0)
        for i in keep:
            if before >= thr:
                break
            kept.append(i)
            before += q[i]
        q = [q[i] / before if i in kept else Fraction(0) for i in range(len(q))]
    return q
