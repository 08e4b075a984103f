r"""Moments of log-determinants: the one-step law of
:math:`\log\det W/\mathrm{den}^d` (Bartlett) and the mean and variance of
:math:`\log\det\Sigma_m/\det\Sigma_0` under every regime."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import polygamma, psi

from ...models import check_positive_int
from ...regimes import accepts_regime_spec
from .._results import Moments
from ._common import _check_model, _check_t, _regime_kind, _ret
from .accumulate import _acc_sum
from .moments import _acc_1d

__all__ = [
    "log_chi2_step",
    "log_det_moments",
]


def log_chi2_step(M: int, d: int = 1, estimator: str = "unbiased") -> Moments:
    r"""Mean and variance of the step :math:`Y = \sum_{j=1}^d\log(\chi^2_{M-j}/\mathrm{den})`.

    :math:`E[Y] = \sum_j [\psi((M-j)/2) + \log(2/\mathrm{den})]`,
    :math:`\mathrm{Var}\,Y = \sum_j \psi'((M-j)/2)`.

    Parameters
    ----------
    M : int
        Sample size per generation, ``M >= d + 1``.
    d : int, default 1
        Dimension, ``1 <= d <= 10**6``.
    estimator : {"unbiased", "mle"}, default "unbiased"
        The divisor of the fitted covariance: ``den = M - 1`` or ``M``.

    Returns
    -------
    tuple of float
        ``(mean, var)`` of ``Y``, a plain tuple.

    Raises
    ------
    WrongTypeError
        ``M`` or ``d`` not an integer.
    ValueError
        ``d < 1``, ``d > 10**6``, ``M < d + 1``, or an unknown ``estimator``.

    References
    ----------
    .. [1] W. G. Cochran (1934). *The distribution of quadratic forms in a normal system.*
       Mathematical Proceedings of the Cambridge Philosophical Society 30, 178–191.
    .. [2] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").
    """
    d = check_positive_int(d, "d")
    M = check_positive_int(M, "M", minimum=d + 1)  # chi-square degrees of freedom M - j
    if estimator not in ("unbiased", "mle"):
        raise ValueError(f"estimator must be 'unbiased' or 'mle', got {estimator!r}")
    if d > 10**6:
        raise ValueError(f"d must be <= 10**6, got {d}")
    den = float(M - 1 if estimator == "unbiased" else M)
    ks = (float(M) - np.arange(1, d + 1)) / 2.0  # float: any M, no int64 overflow
    mean = float(np.sum(psi(ks)) + d * math.log(2.0 / den))
    var = float(np.sum(polygamma(1, ks)))
    return Moments(mean, var)


@accepts_regime_spec
def log_det_moments(model, regime, m):
    r"""Mean and variance of :math:`\log(\det\Sigma_m/\det\Sigma_0)` (1-D: of
    :math:`\log\sigma_m^2/\sigma_0^2`). Returns ``(mean, var)``.

    ``Replace(M)``: ``m`` times :math:`\sum_j[\psi(\frac{M-j}2) + \log\frac2{\mathrm{den}}]`
    and :math:`\sum_j\psi'(\frac{M-j}2)` (a random walk: mean and variance grow linearly).
    ``Replace(M, temperature=T)`` samples each fit from :math:`N(\mu, T\Sigma)` (the
    sampling bias :math:`\lambda = T` of Alemohammad et al. 2023, their eq. (1)): the
    mean gains :math:`(m-1)\,d\log T` (generation 1 is fitted to real samples);
    :func:`~modelcollapse.theory.log_det_law` gives the whole law.

    ``Accumulate(M)``, 1-D only: :math:`\sum_{k\le m} E\log F_k` and
    :math:`\sum_{k\le m}\mathrm{Var}\log F_k` over the independent step factors (the
    ``k = 1`` terms are :math:`\psi(\frac{M-1}2) + \log\frac{2}{M-\delta}` and
    :math:`\psi'(\frac{M-1}2)`); both converge as ``m -> inf`` (terms
    :math:`O(1/k^2)`): :math:`\log\sigma_m^2` has a non-degenerate limit law.

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension under ``Replace`` and 1-D under
        ``Accumulate``; its ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor
        ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= d + 1`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    tuple
        ``(mean, var)``, a plain tuple: each a float for a scalar ``m`` and a float64 array
        of the shape of ``m`` for an array. Under ``Replace`` the limit ``m = inf`` is
        ``-inf`` or ``inf`` (the sign of the drift) for the mean and ``inf`` for the
        variance.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < d + 1``, ``Accumulate`` with
        ``d > 1``, or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "log_det_moments", allowed=("replace", "accumulate"),
                        temperature_ok=True)
    ts = _check_t(m)
    M = regime.n
    if kind == "accumulate":
        _acc_1d(model, "log_det_moments")
        return (_ret(_acc_sum(model, M, ts, "log"), m),
                _ret(_acc_sum(model, M, ts, "var"), m))
    drift, var = log_chi2_step(M, model.dim, model.estimator)  # one generation's step
    bias = model.dim * math.log(regime.temperature)  # d log T from generation 2 on
    with np.errstate(invalid="ignore"):
        mean = np.where(np.isfinite(ts), ts * drift + np.maximum(ts - 1, 0) * bias,
                        -np.inf if drift + bias < 0 else np.inf)
        v = np.where(np.isfinite(ts), ts * var, np.inf)
    return Moments(_ret(mean, m), _ret(v, m))
