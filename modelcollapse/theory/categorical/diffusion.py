r"""Diffusion (Kimura--Littler) approximations of the categorical chain: the mean collapse
time :math:`-2n\sum_i (1-p_i)\ln(1-p_i)` and the mean loss time of one token."""

from __future__ import annotations

import math

import numpy as np

from ...models import (
    Categorical,
    check_categorical,
    check_positive_int,
    check_real,
)
from ...regimes import (
    Regime,
    accepts_regime_spec,
)
from ._dispatch import _replace_n

__all__ = [
    "diffusion_collapse_time",
    "diffusion_loss_time",
    "littler_rate",
]


@accepts_regime_spec
def diffusion_collapse_time(model: Categorical, regime: Regime) -> float:
    r"""Kimura--Littler diffusion value :math:`-2n\sum_i (1-p_i)\ln(1-p_i)`, floored at
    1: :math:`T \ge 1` always (``p^{(1)}`` is the first fit; a Dirac ``p`` gives
    exactly 1), where the diffusion value of a nearly collapsed model tends to 0.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}` (only its probabilities strictly between 0
        and 1 contribute).
    regime : Replace
        ``Replace(n)`` with plain sampling; ``n`` scales the value. A spec string is not
        accepted here.

    Returns
    -------
    float
        The diffusion value floored at 1, an approximation of :math:`E[T]` (compare the
        exact :func:`expected_collapse_time`).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``.
    ValueError
        ``regime`` is a ``Mix`` or not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime than ``Replace``, or a sampling policy.

    References
    ----------
    .. [1] M. Kimura (1955). *Solution of a process of random genetic drift with a continuous
       model.* PNAS 41, 144–150.
    .. [2] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [3] The theory chapter, docs/theory/coalescent.md ("Diffusion approximations").
    """
    model = check_categorical(model)
    n = _replace_n(regime, "diffusion_collapse_time")
    return max(1.0, n * littler_rate(model.p))


def littler_rate(p) -> float:
    r""":math:`-2\sum_i (1-p_i)\ln(1-p_i)` over the tokens with :math:`0 < p_i < 1`: the
    diffusion collapse time per sample of population size (Littler 1975), shared by every
    diffusion value of the toolkit (``Replace(n)``: :math:`n` times it; an effective size
    :math:`N_e` in its place for overlapping generations)."""
    p = np.asarray(p, dtype=np.float64)
    p = p[(p > 0) & (p < 1)]
    return float(-2.0 * np.sum((1 - p) * np.log1p(-p)))


def diffusion_loss_time(x: float, n: int) -> float:
    r"""Diffusion mean time to loss of a token at frequency ``x``, given loss:
    :math:`-2n\,x\ln x/(1-x)` (Kimura & Ohta 1969).

    Parameters
    ----------
    x : float
        Current frequency of the token, strictly between 0 and 1.
    n : int
        Population size (the ``n`` of ``Replace(n)``), ``>= 1``.

    Returns
    -------
    float
        The approximate mean number of generations until the token is lost, given that it
        is lost.

    Raises
    ------
    WrongTypeError
        ``x`` is not a real number or ``n`` not an integer.
    ValueError
        ``x`` outside ``(0, 1)``, or ``n < 1``.

    References
    ----------
    .. [1] M. Kimura, T. Ohta (1969). *The average number of generations until fixation of a mutant
       gene in a finite population.* Genetics 61, 763–771.
    .. [2] The theory chapter, docs/theory/coalescent.md ("Diffusion approximations").
    """
    x = check_real(x, "x")
    if not 0 < x < 1:
        raise ValueError(f"x must be in (0, 1), got {x}")
    n = check_positive_int(n, "n")
    return -2.0 * n * x * math.log(x) / (1.0 - x)
