r"""The perplexity, under the real model, of text written by generation :math:`m`.

Shumailov et al. (2024, Fig. 1b) score every training sequence of every generation with
the generation-0 model and plot the histograms. For the categorical chain the law of that
score is computable. A sequence of :math:`L` tokens :math:`X_1..X_L`, drawn i.i.d. from
:math:`p^{(m)}`, scored by a fixed per-token cost :math:`a_i` (the real model's
:math:`a_i = -\log q_i`, :math:`q = p^{(0)}`), has log-perplexity

.. math:: \ell = \frac1L \sum_{t=1}^L a_{X_t}.

Under plain sampling every regime is neutral: :math:`E p^{(m)} = q` and, by lumping
(any two tokens merged give the same chain), :math:`\operatorname{Cov} p^{(m)} =
c_m(\operatorname{diag} q - q q^\top)` with :math:`c_m = S_m|_{S_0=0}` the homozygosity
recursion started from zero (:func:`~modelcollapse.theory.homozygosity_from_S0`;
:math:`c_m = 1-(1-1/n)^m` for ``Replace(n)``). With :math:`\mu = q\cdot a` and
:math:`\sigma^2 = q\cdot a^2 - \mu^2`:

.. math::
    E\ell = \mu, \qquad
    \operatorname{Var} E[\ell \mid p^{(m)}] = c_m\sigma^2, \qquad
    E\operatorname{Var}[\ell \mid p^{(m)}] = (1-c_m)\sigma^2/L,

so :math:`\operatorname{Var}\ell = c_m\sigma^2 + (1-c_m)\sigma^2/L`. The histogram of one
run's corpus is the law of :math:`\ell` given :math:`p^{(m)}`: its centre wanders (standard
deviation :math:`\sqrt{c_m}\,\sigma` across runs) with no drift of its mean, and its width
*shrinks* by :math:`\sqrt{1-c_m}`. Sampling alone therefore moves the bulk by
:math:`O(\sqrt{m/n})\sigma` and grows no tail; a fitted model's own error is what
:math:`\sqrt{c_m}\sigma` cannot explain. From generation 1 on, the fitted laws of
``Replace``, ``Mix`` (the same real block) and ``Accumulate`` satisfy
:math:`E[p^{(m)} \mid p^{(1)}] = p^{(1)}`, so the centre's shift from generation 1 has
variance :math:`(c_m - c_1)\sigma^2` (``shift_sd``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ...errors import WrongTypeError
from ...models import Categorical, check_categorical, check_positive_int
from ...regimes import (
    Accumulate,
    Mix,
    Regime,
    Replace,
    accepts_regime_spec,
    require_plain_sampling,
)
from .._results import check_generations

__all__ = ["SequencePerplexity", "sequence_perplexity"]


@dataclass(frozen=True)
class SequencePerplexity:
    r"""The law of one sequence's log-perplexity :math:`\ell` under the real model, for
    text of :math:`L` tokens written by generation :math:`m` (arrays over ``m``; with
    ``exact=True`` one generation, every field a ``Fraction``).

    ``mean`` :math:`E\ell`; ``variance`` :math:`\operatorname{Var}\ell`; ``center_var``
    the variance, across runs, of one run's mean :math:`E[\ell\mid p^{(m)}]`;
    ``width_var`` :math:`E\operatorname{Var}[\ell\mid p^{(m)}]`, the squared width of
    one run's histogram; ``shift_var`` the variance of the centre's shift from
    generation 1 (``None`` for regimes without :math:`E[p^{(m)}\mid p^{(1)}] = p^{(1)}`;
    0 at ``m <= 1``); ``drift`` :math:`c_m`; ``sigma2`` the per-token variance of the
    cost under :math:`q`. The ``*_sd`` properties are the square roots (floats).
    """

    m: np.ndarray
    length: int
    mean: float
    sigma2: float
    drift: np.ndarray
    variance: np.ndarray
    center_var: np.ndarray
    width_var: np.ndarray
    shift_var: np.ndarray | None

    @property
    def mean_perplexity(self) -> float:
        return math.exp(self.mean)

    @property
    def center_sd(self):
        return np.sqrt(np.asarray(self.center_var, dtype=float))

    @property
    def width_sd(self):
        return np.sqrt(np.asarray(self.width_var, dtype=float))

    @property
    def shift_sd(self):
        return None if self.shift_var is None else np.sqrt(
            np.asarray(self.shift_var, dtype=float))


def _drift(regime, m: int, exact: bool):
    from .diversity import homozygosity_from_S0

    return homozygosity_from_S0(Fraction(0) if exact else 0.0, regime, m)


@accepts_regime_spec
def sequence_perplexity(model: Categorical, regime: Regime, m, length: int, *,
                        cost=None, exact: bool = False) -> SequencePerplexity:
    r"""The law of the log-perplexity, under the real model :math:`q = p^{(0)}`, of a
    sequence of ``length`` tokens written by generation ``m`` of the categorical chain.

    .. math:: E\ell = \mu,\quad \operatorname{Var}\ell = c_m\sigma^2 + (1-c_m)\sigma^2/L,

    with :math:`\mu, \sigma^2` the mean and variance of the per-token cost
    :math:`a = -\log q` under :math:`q`, and :math:`c_m` the homozygosity recursion from
    :math:`S_0 = 0` (module docstring: the derivation, the centre and width of one run's
    histogram).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`q`.
    regime : Regime
        Any regime with plain sampling (a spec string is read).
    m : int or array_like of int
        Generations, ``>= 0``.
    length : int
        Tokens scored per sequence, ``>= 1``.
    cost : array_like, optional
        The per-token cost :math:`a` (default :math:`-\log q`, finite where
        :math:`q > 0`; tokens with :math:`q_i = 0` are never written).
    exact : bool
        Rational arithmetic (``fractions.Fraction``; scalar ``m``; needs a rational
        ``cost``, so ``cost`` must be given): the fields are ``Fraction``.

    Raises
    ------
    UnsupportedRegimeError
        Under a sampling policy (the law is no longer linear in :math:`p^{(m)}`).
    """
    q = check_categorical(model).p
    if not isinstance(regime, Regime):
        raise WrongTypeError(f"regime must be a Regime or a spec string, got {regime!r}")
    require_plain_sampling(regime, "sequence_perplexity")
    L = check_positive_int(length, "length")
    if not isinstance(exact, bool):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    if cost is None:
        if exact:
            raise ValueError("exact=True needs a rational cost vector (-log q is not "
                             "rational): give cost=")
        a = np.zeros_like(q)
        a[q > 0] = -np.log(q[q > 0])
    else:
        a = list(cost) if exact else np.asarray(cost, dtype=float)
        if len(a) != q.size:
            raise ValueError(f"cost must have one entry per token ({q.size}), got "
                             f"{len(a)}")
        if not exact and not np.all(np.isfinite(a[q > 0])):
            raise ValueError("cost must be finite where the model has mass")
    martingale = isinstance(regime, (Replace, Accumulate)) or (
        isinstance(regime, Mix) and not regime.fresh)
    if exact:
        if not isinstance(m, int) or isinstance(m, bool) or m < 0:
            raise WrongTypeError(f"exact=True takes one integer m >= 0, got {m!r}")
        from ...models import exact_probabilities

        qv = exact_probabilities(model)
        av = [Fraction(x) for x in a]
        one = Fraction(1)
    else:
        m = check_generations(m)
        qv, av, one = q, a, 1.0
    mu = sum(p * x for p, x in zip(qv, av, strict=True)) if exact else float(q @ a)
    s2 = (sum(p * x * x for p, x in zip(qv, av, strict=True)) - mu * mu) if exact else max(
        float(q @ (a * a)) - mu * mu, 0.0)
    c = _drift(regime, m, exact)
    c1 = _drift(regime, min(m, 1) if exact else np.minimum(m, 1), exact)
    if not exact:
        c, c1 = np.asarray(c, dtype=float), np.asarray(c1, dtype=float)
    shift = (c - c1) * s2 if martingale else None
    return SequencePerplexity(m=m, length=L, mean=mu, sigma2=s2, drift=c,
                              variance=c * s2 + (one - c) * s2 / L, center_var=c * s2,
                              width_var=(one - c) * s2 / L, shift_var=shift)
