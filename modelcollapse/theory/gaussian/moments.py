r"""Exact moments of a Gaussian refitted generation after generation (Shumailov et al.
2024; Gerstgrasser et al. 2024; docs/theory/gaussian.md).

Notation: generation ``m`` fits :math:`N(\mu_m, \Sigma_m)` by the sample mean and the
sample covariance with divisor ``den = K - 1`` (``estimator="unbiased"``) or ``K``
(``"mle"``) on its ``K`` training points; :math:`\mu_0, \Sigma_0` is the real
distribution, :math:`\sigma_m^2 = \Sigma_m` in one dimension. All results are exact
(closed forms, or for Accumulate's non-integer moments numerics to ~1e-12) for finite
``m`` and accept ``m = numpy.inf`` for the limit.

``Replace(M)``. By Cochran's theorem :math:`\Sigma_m = L_{m-1} W_m L_{m-1}^\top/\mathrm{den}`
with :math:`W_m \sim \mathrm{Wishart}_d(M-1, I)` independent of the past, so the
generalised variance is a product of independent factors,
:math:`\det\Sigma_m/\det\Sigma_0 = \prod_{i\le m}\prod_{j=1}^d \chi^2_{M-j,i}/\mathrm{den}`:

.. math:: E\Big(\frac{\det\Sigma_m}{\det\Sigma_0}\Big)^s = \Big[\prod_{j=1}^d
          \Big(\frac{2}{\mathrm{den}}\Big)^s \frac{\Gamma(\frac{M-j}{2}+s)}
          {\Gamma(\frac{M-j}{2})}\Big]^m,\qquad
          E\log\frac{\det\Sigma_m}{\det\Sigma_0} = m\sum_j\Big[\psi\big(\tfrac{M-j}2\big)
          + \log\tfrac{2}{\mathrm{den}}\Big],

with variance :math:`m\sum_j\psi'(\frac{M-j}{2})`; :math:`E\Sigma_m = r^m\Sigma_0`,
:math:`r = (M-1)/\mathrm{den}`; :math:`E\lVert\mu_m-\mu_0\rVert^2 = \mathrm{tr}\,\Sigma_0
\sum_{i<m} r^i/M` (``m/M`` unbiased, :math:`1 - ((M-1)/M)^m` MLE).

``Accumulate(M)``. Generation ``m`` pools all ``mM`` points. With :math:`S_m` the pooled
scatter, the new ``M`` points add their own scatter and the between-group term:
:math:`S_m = S_{m-1} + \sigma_{m-1}^2(\chi^2_{M-1} + \tfrac{m-1}{m} Z^2)`, so
:math:`E\sigma_m^2/E\sigma_{m-1}^2 = 1 - 1/(m^2 M)` (MLE) or
:math:`1 - 1/(m(mM-1))` (unbiased): a convergent product, no collapse. The MLE limit is
:math:`\sigma_0^2 \sqrt M \sin(\pi/\sqrt M)/\pi` (Euler's sine product); the unbiased one
:math:`\sigma_0^2\,\Gamma(2-1/M)/(\Gamma(2-a)\Gamma(2-b))`, ``a, b`` the roots of
:math:`Mk^2 - k - 1`. The mean moves by :math:`(\bar x_m - \mu_{m-1})/m`:
:math:`E(\mu_m-\mu_0)^2 = \sum_{k=1}^m E\sigma_{k-1}^2/(k^2 M) \le \frac{\pi^2}{6}
\frac{\sigma_0^2}{M}` (MLE).

In one dimension, since :math:`S_{k-1} = D_{k-1}\sigma_{k-1}^2` with
:math:`D_k = kM - \delta` (``delta = 1`` unbiased, 0 MLE) and :math:`Q_k \sim
\chi^2_{M-1}`, :math:`Z_k \sim N(0,1)` are independent of the past,
:math:`\sigma_m^2/\sigma_0^2 = \prod_{k\le m} F_k` with *independent* factors

.. math:: F_1 = \frac{Q_1}{M-\delta},\qquad F_k = \frac{(k-1)M - \delta + Y_k}{kM-\delta}
          = 1 + \frac{Y_k - M}{D_k},\quad Y_k = Q_k + \tfrac{k-1}{k}Z_k^2\ (k\ge2),

so :math:`E\sigma_m^{2s} = \sigma_0^{2s}\prod_k E F_k^s` (finite iff
:math:`s > -(M-1)/2`), :math:`E\log(\sigma_m^2/\sigma_0^2) = \sum_k E\log F_k` and
:math:`\mathrm{Var} = \sum_k \mathrm{Var}\log F_k`. :math:`Y_k` has the density
:math:`c_k^{-1/2} f_{\chi^2_M}(y)\,{}_1F_1(\frac12;\frac M2;-\frac{y}{2(k-1)})`,
:math:`c_k = (k-1)/k`; the factor moments are computed by Gauss-Laguerre quadrature
against it for small ``k`` and, from the first ``k`` where the rigorous Lagrange bound on
the remainder is below 1e-17, by the order-19 Taylor series of :math:`(1+u)^s`,
:math:`\log(1+u)`, :math:`\log^2(1+u)` with the exact moments of :math:`Y_k` (from its
cumulants :math:`2^{n-1}(n-1)!(M-1+c_k^n)`). The terms are
:math:`O(1/k^2)` (:math:`\log EF_k^s \sim s(s-2)/(Mk^2)`, :math:`E\log F_k \sim
-2/(Mk^2)`, :math:`\mathrm{Var}\log F_k \sim 2/(Mk^2)`): every moment converges as
``m -> inf`` and :math:`\log\sigma_m^2` has a non-degenerate limit law. In ``d > 1``
dimensions the step factor is :math:`\det(aI + W + c\,zz^\top)/D^d` with ``W`` Wishart,
which has no such closed form: these moments are 1-D only.

``Mix(real=N, synthetic=n, fresh=True)``: N new real points and n points of the previous
fit. With :math:`v_m = E\sigma_m^2/\sigma_0^2` and :math:`e_m = E(\mu_m-\mu_0)^2/\sigma_0^2`,

.. math:: e_m = \frac{N + n^2 e_{m-1} + n v_{m-1}}{(N+n)^2},\quad
          v_m = \frac{N-1 + (n-1)v_{m-1} + \frac{Nn}{N+n}(e_{m-1} + \frac1N +
          \frac{v_{m-1}}{n})}{N+n-\delta},

``delta = 1`` (unbiased) or 0, from :math:`v_1 = (N-1)/(N-\delta)`, :math:`e_1 = 1/N`:
a linear recursion with a unique stationary point (ergodic; no collapse). In ``d``
dimensions every expectation stays proportional to :math:`\Sigma_0`, so the same
scalars give :math:`E\Sigma_m = v_m\Sigma_0` and :math:`E\lVert\mu_m-\mu_0\rVert^2 =
e_m\,\mathrm{tr}\,\Sigma_0`. The step is not a product: the fresh real part makes
:math:`\sigma_m^2 = A_m\sigma_{m-1}^2 + B_m` a perpetuity, so only the first two
moments (this linear recursion) are exact here.

What is exact where (``m`` finite or ``numpy.inf``; ``--``: NotImplementedError):

==========================================  ===========  ==============  ===============
function                                    Replace(M)   Accumulate(M)   Mix(fresh=True)
==========================================  ===========  ==============  ===============
expected_trace_ratio, expected_variance,    closed form  closed form     linear
expected_mean_error                         (any d)      (any d)         recursion (any d)
variance_moment (real s),                   closed form  factor moments  --
expected_det_ratio                          (any d)      (1-D)
expected_std, expected_w2sq                 closed form  factor moments  --
                                            (1-D)        (1-D)
log_det_moments                             closed form  factor moments  --
                                            (any d)      (1-D)
==========================================  ===========  ==============  ===============

"Factor moments" are numerical (quadrature + series with a bounded remainder, relative
error ~1e-12; exact series for integer ``s >= 0``); everything else is a closed form or
an exact recursion. The derivations are in :mod:`modelcollapse.proofs`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ...models import check_real
from ...regimes import Mix, accepts_regime_spec
from ._common import (
    _check_model,
    _check_t,
    _den,
    _mix_path,
    _power,
    _regime_kind,
    _replace_log_moment,
    _replace_ratio,
    _ret,
    mix_matrix,
)
from .accumulate import (
    _acc_sum,
    _accumulate_e,
    _accumulate_e_limit,
    _accumulate_v,
    _accumulate_v_limit,
)

__all__ = [
    "StationaryPoint",
    "expected_det_ratio",
    "expected_mean_error",
    "expected_std",
    "expected_trace_ratio",
    "expected_variance",
    "expected_w2sq",
    "mix_matrix",
    "stationary_point",
    "variance_moment",
]


class StationaryPoint(NamedTuple):
    """The stationary point of the Gaussian moment recursion under fresh real data:
    :math:`E\\Sigma_m \\to` ``trace_ratio`` :math:`\\Sigma_0`,
    :math:`E\\lVert\\mu_m-\\mu_0\\rVert^2 \\to` ``mean_error``
    :math:`\\mathrm{tr}\\,\\Sigma_0` (a tuple: ``v, e = ...`` still works).

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """

    trace_ratio: float
    mean_error: float


@accepts_regime_spec
def stationary_point(model, regime) -> StationaryPoint:
    r"""Stationary point :math:`(v^*, e^*)` of ``Mix(real=N, synthetic=n, fresh=True)``:
    :math:`E\Sigma_m \to v^*\Sigma_0` and :math:`E\lVert\mu_m-\mu_0\rVert^2 \to
    e^*\,\mathrm{tr}\,\Sigma_0` (the fixed point of the linear recursion in the module
    docstring; the recursion's matrix has spectral radius below 1, so it is reached
    geometrically from any start).

    Parameters
    ----------
    model : Gaussian
        The real distribution, any dimension; its ``estimator`` (``"unbiased"`` or
        ``"mle"``) sets the divisor ``den``.
    regime : Mix
        ``Mix(real=N, synthetic=n, fresh=True)`` with plain sampling and ``N >= 2``.

    Returns
    -------
    tuple of float
        ``(v_star, e_star)``, a plain tuple.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``regime`` is not ``Mix(..., fresh=True)`` (``Mix(fresh=False)`` included), or
        ``real < 2``.
    UnsupportedRegimeError
        A sampling policy.

    References
    ----------
    .. [1] Q. Bertrand, A. J. Bose, A. Duplessis, M. Jiralerspong, G. Gidel (2024). *On the
       Stability of Iterative Retraining of Generative Models on their own Data.* ICLR 2024.
       arXiv:2310.00429.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    _check_model(model)
    if not (isinstance(regime, Mix) and regime.fresh):
        raise ValueError("stationary_point needs Mix(real, synthetic, fresh=True): "
                         "Replace collapses and Accumulate converges without fresh data")
    _regime_kind(model, regime, "stationary_point", allowed=("mix",), singular_ok=True)
    A, _ = mix_matrix(model, regime.real, regime.synthetic)
    B = A[:2, :2]
    c = A[:2, 2]
    v, e = np.linalg.solve(np.eye(2) - B, c)
    return StationaryPoint(float(v), float(e))


# ---------------------------------------------------------------------- public moments
@accepts_regime_spec
def expected_trace_ratio(model, regime, m):
    r""":math:`E\,\mathrm{tr}\,\Sigma_m/\mathrm{tr}\,\Sigma_0` (in fact
    :math:`E\Sigma_m = c_m\Sigma_0`; this returns :math:`c_m`). ``m`` may be an array
    or ``numpy.inf``.

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        :math:`c_m`: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [3] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_trace_ratio", singular_ok=True,
                        temperature_ok=True)
    ts = _check_t(m)
    if kind == "replace":
        return _ret(_replace_ratio(model, regime, ts), m)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_v(model, regime.n, tmax)
        lim = _accumulate_v_limit(model, regime.n)
    else:
        path = _mix_path(model, regime, tmax)[:, 0]
        lim = stationary_point(model, regime)[0]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out, m)


@accepts_regime_spec
def expected_variance(model, regime, m):
    r""":math:`E\sigma_m^2` of a 1-D Gaussian (:math:`E\Sigma_m` in ``d`` dimensions: a
    ``d x d`` matrix per ``m``).

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        1-D: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array. ``d`` dimensions: an array of shape ``numpy.shape(m) + (d, d)``.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [3] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    c = np.asarray(expected_trace_ratio(model, regime, m))
    if model.dim == 1:
        return _ret(c * model.cov[0, 0], m)
    return np.multiply.outer(c, model.cov)


@accepts_regime_spec
def expected_mean_error(model, regime, m):
    r""":math:`E\lVert\mu_m - \mu_0\rVert^2`.

    Parameters
    ----------
    model : Gaussian
        The real distribution :math:`N(\mu_0, \Sigma_0)`, any dimension; its
        ``estimator`` (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace, Accumulate or Mix
        ``Replace(M)``, ``Accumulate(M)`` or ``Mix(real, synthetic, fresh=True)`` with
        plain sampling and at least 2 samples (``M >= 2``, ``real >= 2``). A spec string is
        not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        The expected squared distance of the means: a float for a scalar ``m``, a float64 array
        of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), too few samples, or ``regime``
        not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        Another regime, ``Mix`` with ``fresh=False``, or a sampling policy.

    References
    ----------
    .. [1] M. Gerstgrasser et al. (2024). *Is Model Collapse Inevitable? Breaking the Curse of
       Recursion by Accumulating Real and Synthetic Data.* arXiv:2404.01413.
    .. [2] J. Kazdan et al. (2024). *Collapse or Thrive? Perils and Promises of Synthetic Data in a
       Self-Generating World.* arXiv:2410.16713.
    .. [3] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [4] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    .. [5] The theory chapter, docs/theory/gaussian.md ("Fresh real data: a stationary point").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_mean_error", singular_ok=True)
    ts = _check_t(m)
    tr0 = float(np.trace(model.cov))
    if kind == "replace":
        M = regime.n
        r = (M - 1) / _den(model, M)
        if r == 1.0:
            out = ts / M
        else:  # sum_{i<m} r^i / M
            out = (1.0 - _power(math.log(r), ts)) / (1.0 - r) / M
        return _ret(out * tr0, m)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_e(model, regime.n, tmax)
        lim = _accumulate_e_limit(model, regime.n) if np.any(~np.isfinite(ts)) else 0.0
    else:
        path = _mix_path(model, regime, tmax)[:, 1]
        lim = stationary_point(model, regime)[1]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out * tr0, m)


def _acc_1d(model, what):
    if model.dim != 1:
        raise ValueError(
            f"{what} under Accumulate is implemented for a 1-D Gaussian: in d dimensions "
            "the step factor det(aI + W + c z z^T)/D^d (W Wishart) has no closed-form "
            "moments; simulate it with modelcollapse.montecarlo")


@accepts_regime_spec
def variance_moment(model, regime, m, s=1.0):
    r""":math:`E(\det\Sigma_m/\det\Sigma_0)^s` (1-D: :math:`E\sigma_m^{2s}/\sigma_0^{2s}`).

    ``Replace(M)``: :math:`[\prod_{j\le d}(2/\mathrm{den})^s\Gamma(\frac{M-j}2+s)/
    \Gamma(\frac{M-j}2)]^m`, any real ``s > -(M-d)/2``.

    ``Accumulate(M)``, 1-D only: :math:`\prod_{k\le m} E F_k^s` over the independent
    step factors of the module docstring, any real ``s > -(M-1)/2`` (only
    :math:`F_1 = \chi^2_{M-1}/(M-\delta)` limits ``s``; :math:`F_k \ge 1 - M/D_k > 0` for
    ``k >= 2``); exact (finite binomial expansion) for integer ``s >= 0``, quadrature and
    a series with a bounded remainder otherwise (relative error ~1e-12). Converges as
    ``m -> inf`` (:math:`\log E F_k^s \sim s(s-2)/(Mk^2)`).

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
    s : float, default 1.0
        Order of the moment: ``s > -(M-d)/2`` under ``Replace``, ``s > -(M-1)/2`` under
        ``Accumulate``.

    Returns
    -------
    float or numpy.ndarray
        The moment: a float for a scalar ``m``, a float64 array of the shape of ``m`` for an
        array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < d + 1``, ``s`` at or below its
        lower limit (an infinite moment), ``Accumulate`` with ``d > 1``, or ``regime`` not a
        :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    kind = _regime_kind(model, regime, "variance_moment", allowed=("replace", "accumulate"))
    ts = _check_t(m)
    s = check_real(s, "s")
    if kind == "accumulate":
        _acc_1d(model, "variance_moment")
        return _ret(np.exp(_acc_sum(model, regime.n, ts, "pow", s)), m)
    return _ret(_power(_replace_log_moment(model, regime.n, s), ts), m)


@accepts_regime_spec
def expected_det_ratio(model, regime, m):
    r""":math:`E\det\Sigma_m/\det\Sigma_0 = [\prod_{j=1}^d (M-j)/\mathrm{den}]^m` under
    ``Replace(M)``: tends to 0 for ``d >= 2`` even with the unbiased estimator. Under
    ``Accumulate`` (1-D) it is :func:`expected_trace_ratio`.

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
    float or numpy.ndarray
        The expected ratio: a float for a scalar ``m``, a float64 array of the shape of ``m``
        for an array.

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
    """
    return variance_moment(model, regime, m, 1.0)


@accepts_regime_spec
def expected_std(model, regime, m):
    r""":math:`E\sigma_m` of a 1-D Gaussian. ``Replace(M)``: :math:`\sigma_0 [c_4]^m`,
    :math:`c_4 = \sqrt{2/\mathrm{den}}\,\Gamma(M/2)/\Gamma((M-1)/2)`. ``Accumulate(M)``:
    :math:`\sigma_0\prod_{k\le m} E F_k^{1/2}` (see :func:`variance_moment`); the limit
    ``m = inf`` is finite and positive.

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution :math:`N(\mu_0, \sigma_0^2)`; its ``estimator``
        (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= 2`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        :math:`E\sigma_m`: a float for a scalar ``m``, a float64 array of the shape of ``m`` for
        an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < 2``, ``model`` not 1-D, or
        ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("Replace: the variance recursion").
    .. [2] The theory chapter, docs/theory/gaussian.md ("Accumulating data: the pi^2/6 ceiling").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_std is for a 1-D Gaussian")
    return _ret(np.asarray(variance_moment(model, regime, m, 0.5)) * model.std, m)


@accepts_regime_spec
def expected_w2sq(model, regime, m):
    r""":math:`E W_2^2(N(\mu_0,\sigma_0^2), N(\mu_m,\sigma_m^2)) = E(\mu_m-\mu_0)^2 +
    E\sigma_m^2 - 2\sigma_0 E\sigma_m + \sigma_0^2` for a 1-D Gaussian under
    ``Replace(M)`` or ``Accumulate(M)``. ``Replace``: unbounded in ``m`` with the
    unbiased estimator (Shumailov et al. Thm 3.1), bounded with the MLE (limit
    :math:`2\sigma_0^2`). ``Accumulate``: bounded for both estimators, with a finite
    positive limit (:math:`E\sigma_m` from :func:`expected_std`).

    Parameters
    ----------
    model : Gaussian
        A 1-D real distribution :math:`N(\mu_0, \sigma_0^2)`; its ``estimator``
        (``"unbiased"`` or ``"mle"``) sets the divisor ``den``.
    regime : Replace or Accumulate
        ``Replace(M)`` or ``Accumulate(M)`` with plain sampling and ``M >= 2`` (a
        non-singular fit). A spec string is not accepted here.
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real distribution); integer-valued floats
        and ``numpy.inf`` (the limit) are accepted.

    Returns
    -------
    float or numpy.ndarray
        The expected squared Wasserstein-2 distance: a float for a scalar ``m``, a float64 array
        of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Gaussian``.
    ValueError
        ``m`` not a non-negative whole number (or ``inf``), ``M < 2``, ``model`` not 1-D, or
        ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    UnsupportedRegimeError
        ``Mix`` (no product form), another regime, or a sampling policy.

    References
    ----------
    .. [1] I. Shumailov, Z. Shumaylov, Y. Zhao, N. Papernot, R. Anderson, Y. Gal (2024). *AI models
       collapse when trained on recursively generated data.* Nature 631, 755–759. Preprint: *The
       Curse of Recursion: Training on Generated Data Makes Models Forget*, arXiv:2305.17493.
    .. [2] The theory chapter, docs/theory/gaussian.md ("Shumailov et al. Theorem 3.1").
    """
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_w2sq is implemented for a 1-D Gaussian")
    _regime_kind(model, regime, "expected_w2sq", allowed=("replace", "accumulate"))
    s0 = model.std
    out = (np.asarray(expected_mean_error(model, regime, m))
           + np.asarray(expected_variance(model, regime, m))
           - 2 * s0 * np.asarray(expected_std(model, regime, m)) + s0 * s0)
    return _ret(out, m)
