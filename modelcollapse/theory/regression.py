r"""Exact expected test error of recursively refitted linear regression.

The model (:class:`~modelcollapse.models.LinearRegression`) is
:math:`y = x^\top w + \sigma\varepsilon` with :math:`x \sim N(0, I_d)`; each generation
is fitted by least squares (minimum-norm when under-determined) to ``T`` rows labelled
by the previous generation's weights :math:`w_{m-1}` (:math:`w_0 = w`) plus fresh noise.
The test error is :math:`E\lVert w_m - w\rVert^2`, the excess risk on a fresh isotropic
input. Expectations are over the Gaussian design and the noise, with ``w`` fixed.

Two facts of Gaussian matrices carry every formula. For :math:`X \in \mathbb R^{T\times d}`
with i.i.d. :math:`N(0,1)` entries,

.. math::
    \tau(d, T) := E\,\mathrm{tr}\,(X^\top X)^{+} =
    \begin{cases} d/(T-d-1) & T \ge d+2 \text{ (inverse Wishart)},\\
                  T/(d-T-1) & T \le d-2
                  \ (\mathrm{tr}(X^\top X)^+ = \mathrm{tr}(XX^\top)^{-1}),\\
                  +\infty   & T \in \{d-1, d, d+1\},\end{cases}

and, for :math:`T < d`, the projector :math:`P = X^+X` onto the row space is a uniformly
random rank-``T`` projector, so :math:`E P = (T/d) I` and
:math:`E\lVert(I-P)v\rVert^2 = (1 - T/d)\lVert v\rVert^2` for any fixed ``v``.

Fixed design (one ``X`` relabelled every generation). Since :math:`PX^+ = X^+`,
replace gives :math:`w_m = Pw + \sigma X^+\sum_{i\le m}\varepsilon_i`. Under accumulate
the stacked design :math:`1_m \otimes X` has pseudo-inverse :math:`\tfrac1m 1_m^\top
\otimes X^+`, so the pooled fit is :math:`X^+` applied to the *mean* label vector:
:math:`w_m = \tfrac1m\sum_{j\le m}(Pw_{j-1} + \sigma X^+\varepsilon_j)`, whose solution is
:math:`w_m = Pw + \sigma X^+\sum_{j\le m}\varepsilon_j/j`. Hence, with
:math:`b = \lVert w\rVert^2 (1 - T/d)^+` and :math:`v = \sigma^2\tau(d, T)`,

.. math:: E_{\rm replace}(m) = b + m\,v, \qquad
          E_{\rm accumulate}(m) = b + v\sum_{i=1}^m i^{-2} \;\le\; b + \tfrac{\pi^2}{6} v.

Fresh design, replace: :math:`w_m = P_m w_{m-1} + \sigma X_m^+\varepsilon_m` with
independent :math:`X_m`; for :math:`T \ge d` this is :math:`E = m\,v`; for :math:`T < d`,
with :math:`r = T/d`, :math:`E w_m = r^m w` and
:math:`E\lVert w_m\rVert^2 = r E\lVert w_{m-1}\rVert^2 + v`, so

.. math:: E\lVert w_m - w\rVert^2 = (1 - r^m)\Bigl(\lVert w\rVert^2
          + \frac{\sigma^2 T d}{(d-T)(d-T-1)}\Bigr),

which is Dohmatob et al.'s :math:`1 - (T/d)^m` relative error when :math:`\sigma = 0`.
See :mod:`modelcollapse.proofs.gerstgrasser_accumulate` and
:mod:`modelcollapse.proofs.dohmatob_regression` for the sympy derivations and checks.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from scipy import special

from ..errors import UnsupportedRegimeError, WrongTypeError
from ..models import LinearRegression, check_positive_int
from ..regimes import Accumulate, Mix, Replace, accepts_regime_spec, require_plain_sampling

__all__ = [
    "accumulate_error_bound",
    "accumulate_replace_ratio",
    "dohmatob_noise_free_error",
    "dohmatob_test_error",
    "expected_pinv_trace",
    "regression_test_error",
]

#: :math:`\sum_{i\ge1} i^{-2}`.
ZETA2 = math.pi**2 / 6


# ---------------------------------------------------------------------- helpers
def _check_int(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_model(model) -> LinearRegression:
    if not isinstance(model, LinearRegression):
        raise WrongTypeError(f"model must be a LinearRegression, got {type(model).__name__}")
    return model


def _check_noise(value, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}") from None
    if not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return x


def _rows(regime, allowed=(Replace, Accumulate)) -> int:
    """Rows per generation ``T`` of a Replace/Accumulate regime or of an int."""
    require_plain_sampling(regime, "the regression theory")
    if isinstance(regime, allowed):
        return regime.n
    if isinstance(regime, (int, np.integer)) and not isinstance(regime, bool):
        return check_positive_int(regime, "regime (rows per generation)")
    names = " or ".join(c.__name__ for c in allowed)
    raise ValueError(f"regime must be {names} (or an int number of rows), got {regime!r}")


def _generations(m):
    """``m`` as an int (scalar input) or a 1-D int64 array; all entries >= 0."""
    if isinstance(m, (int, np.integer)) and not isinstance(m, bool):
        return _check_int(m, "m", 0), True
    arr = np.asarray(m)
    if arr.ndim != 1 or arr.size == 0 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"m must be an integer or a non-empty 1-D array of integers, got {m!r}")
    if np.any(arr < 0):
        raise ValueError(f"m must be >= 0, got {int(arr.min())}")
    return arr.astype(np.int64), False


def _h2(t) -> np.ndarray:
    r""":math:`H^{(2)}_t = \sum_{i=1}^t i^{-2} = \pi^2/6 - \psi_1(t+1)` (0 at ``t = 0``)."""
    t = np.asarray(t, dtype=np.float64)
    return ZETA2 - special.polygamma(1, t + 1.0)


def expected_pinv_trace(d: int, T: int, *, exact: bool = False):
    r""":math:`E\,\mathrm{tr}\,(X^\top X)^+` for a ``T x d`` matrix of i.i.d. N(0, 1) entries.

    .. math::
        \tau(d, T) = \begin{cases} d/(T-d-1) & T \ge d+2,\\ T/(d-T-1) & T \le d-2,\\
        +\infty & \text{otherwise.}\end{cases}

    The first case is the mean of the inverse Wishart :math:`W_d(T, I)^{-1}`,
    :math:`E W^{-1} = I/(T-d-1)`; the second uses
    :math:`\mathrm{tr}(X^\top X)^+ = \mathrm{tr}(XX^\top)^{-1}` with
    :math:`XX^\top \sim W_T(d, I)`. At :math:`T \in \{d-1, d, d+1\}` the expectation
    diverges (e.g. :math:`d = T = 1`: :math:`E[1/\chi^2_1] = \infty`).

    Parameters
    ----------
    d, T : int
        Columns (dimension) and rows, both ``>= 1``.
    exact : bool
        Return a ``fractions.Fraction`` (``math.inf`` where infinite).

    Returns
    -------
    float or Fraction

    References
    ----------
    .. [1] The theory chapter, docs/theory/regression.md ("Two facts about Gaussian designs").
    """
    d = _check_int(d, "d", 1)
    T = _check_int(T, "T", 1)
    if T >= d + 2:
        val = Fraction(d, T - d - 1)
    elif T <= d - 2:
        val = Fraction(T, d - T - 1)
    else:
        return math.inf
    return val if exact else float(val)


def _parts(model: LinearRegression, T: int) -> tuple[float, float]:
    """Bias ``||w||^2 (1 - T/d)^+`` and per-generation variance ``sigma^2 tau(d, T)``."""
    d = model.dim
    w2 = float(model.w @ model.w)
    bias = w2 * (d - T) / d if T < d else 0.0
    s2 = model.noise**2
    var = 0.0 if s2 == 0.0 else s2 * expected_pinv_trace(d, T)
    return bias, var


def _times(scalar: bool, value):
    if scalar:
        return float(np.asarray(value).reshape(-1)[0])
    return np.asarray(value, dtype=np.float64)


# ---------------------------------------------------------------------- public API
@accepts_regime_spec
def regression_test_error(model, regime, m):
    r"""Exact :math:`E\lVert w_m - w\rVert^2` after ``m`` generations.

    With :math:`b = \lVert w\rVert^2(1 - T/d)^+` (minimum-norm bias, zero when
    :math:`T \ge d`) and :math:`v = \sigma^2\tau(d, T)` (see :func:`expected_pinv_trace`):

    * ``Replace(T)``, fixed design: :math:`b + m\,v` (Gerstgrasser et al. 2024; the bias
      is paid once, as :math:`w_m = Pw + \sigma X^+\sum_{i\le m}\varepsilon_i`).
    * ``Accumulate(T)``, fixed design: :math:`b + v\sum_{i=1}^m i^{-2}` (the stacked fit
      is :math:`X^+` times the mean label vector, so
      :math:`w_m = Pw + \sigma X^+\sum_{i\le m}\varepsilon_i/i`).
    * ``Replace(T)``, fresh design: :math:`m\,v` for :math:`T \ge d`; for :math:`T < d`,
      :math:`(1 - r^m)(\lVert w\rVert^2 + v/(1-r))`, :math:`r = T/d`, i.e.
      :math:`(1-(T/d)^m)\bigl(\lVert w\rVert^2 + \sigma^2Td/((d-T)(d-T-1))\bigr)`.
    * ``Accumulate(T)``, fresh design: generation 1 only (it equals replace), or
      :math:`\sigma = 0` with :math:`T \ge d` (exact recovery, 0). Otherwise the pooled
      fit involves inverses of sums of independent Wishart matrices and no closed form is
      known: ``NotImplementedError`` (simulate it).
    * ``Mix``: ``NotImplementedError``. Conditional on the design the error is a series
      in :math:`K = (X_R^\top X_R + X_S^\top X_S)^{-1}X_S^\top X_S`, whose moments over
      the Gaussian design have no closed form.

    The value is ``inf`` where a variance term diverges (:math:`\sigma > 0` and
    :math:`T \in \{d-1, d, d+1\}`), and 0 at ``m = 0`` (:math:`w_0 = w`).

    Parameters
    ----------
    model : LinearRegression
        True weights ``w``, noise :math:`\sigma` and design (``"fixed"`` or ``"fresh"``).
    regime : Replace or Accumulate
        ``T = regime.n`` labelled rows per generation.
    m : int or 1-D array of int
        Generations, ``>= 0`` (``m = 1`` is the fit to real data).

    Returns
    -------
    float or numpy.ndarray
        Same shape as ``m``.

    Raises
    ------
    ValueError
        A bad ``model``, ``regime`` or ``m``.
    NotImplementedError
        Fresh-design accumulate beyond generation 1 (with noise or ``T < d``), and ``Mix``.

    References
    ----------
    .. [1] M. Gerstgrasser et al. (2024). *Is Model Collapse Inevitable? Breaking the Curse of
       Recursion by Accumulating Real and Synthetic Data.* arXiv:2404.01413.
    .. [2] E. Dohmatob, Y. Feng, J. Kempe (2024). *Model Collapse Demystified: The Case of
       Regression.* arXiv:2402.07712.
    .. [3] The theory chapter, docs/theory/regression.md ("Replace: linear growth").
    .. [4] The theory chapter, docs/theory/regression.md ("Accumulate: bounded").
    """
    model = _check_model(model)
    m, scalar = _generations(m)
    require_plain_sampling(regime, "regression_test_error")
    if isinstance(regime, Mix):
        raise UnsupportedRegimeError(
            "regression_test_error has no closed form under Mix: the error is a matrix "
            "series in (X_R'X_R + X_S'X_S)^-1 X_S'X_S whose expectation over the Gaussian "
            "design is not known in closed form; use montecarlo.simulate",
            ("Replace", "Accumulate"))
    if not isinstance(regime, (Replace, Accumulate)):
        raise ValueError(f"regime must be Replace or Accumulate, got {regime!r}")
    T, d = regime.n, model.dim
    bias, var = _parts(model, T)
    tt = np.atleast_1d(np.asarray(m, dtype=np.float64))
    pos = tt > 0
    with np.errstate(invalid="ignore"):
        if model.design == "fixed":
            steps = tt if isinstance(regime, Replace) else _h2(tt)
            out = np.where(pos, bias + var * steps if var else bias + 0 * steps, 0.0)
        else:
            if isinstance(regime, Accumulate) and np.any(tt > 1) and not (
                    model.noise == 0 and T >= d):
                raise NotImplementedError(
                    "fresh-design Accumulate has no known closed form beyond generation 1 "
                    "(the pooled fit inverts sums of independent Wishart matrices); "
                    "use montecarlo.simulate, or design='fixed'")
            if T >= d:
                out = np.where(pos, var * tt, 0.0)
            else:
                r = T / d
                w2 = float(model.w @ model.w)
                level = w2 + (var / (1 - r) if var else 0.0)
                out = (1.0 - r**tt) * level
                out = np.where(pos, out, 0.0)
    return _times(scalar, out)


@accepts_regime_spec
def accumulate_error_bound(model, regime) -> float:
    r"""Ceiling of the accumulate test error over all generations.

    Fixed design: the exact supremum :math:`\sup_t E_{\rm accumulate}(t) = b +
    \tfrac{\pi^2}{6}\,v`, i.e. :math:`\tfrac{\pi^2}{6}\sigma^2 d/(T-d-1)` when
    :math:`T \ge d+2` (Gerstgrasser et al. 2024): :math:`\pi^2/6` times the
    real-data-only risk :math:`E_1`, the form of Dey & Donoho's (2024) universal bound.
    With a bias (:math:`T \le d-2`) it is :math:`b + \tfrac{\pi^2}{6}v \le
    \tfrac{\pi^2}{6}E_1`.

    Fresh design, :math:`T \ge d`: Dey & Donoho's ceiling :math:`\tfrac{\pi^2}{6}E_1 =
    \tfrac{\pi^2}{6}\sigma^2\tau(d, T)`; it is not derived here (the pooled fit has no
    closed form) and is checked by simulation only (the fresh-design error lies well
    below it, the pool holding ``t T`` distinct rows). Fresh design, :math:`T < d`:
    ``NotImplementedError`` -- the ceiling *fails* there: the pool of ``mT`` fresh rows
    crosses the interpolation threshold ``mT ~ d`` and the minimum-norm fit's variance
    peaks (e.g. ``d = 20, T = 8, sigma = 0.5``: :math:`E_1 \approx 0.78`, but
    :math:`E_6 \approx 2.2 > \tfrac{\pi^2}{6}E_1 \approx 1.29` in simulation).

    Parameters
    ----------
    model : LinearRegression
    regime : Accumulate, Replace or int
        Only the rows per generation ``T`` are used.

    Returns
    -------
    float
        ``inf`` where the variance diverges.

    References
    ----------
    .. [1] M. Gerstgrasser et al. (2024). *Is Model Collapse Inevitable? Breaking the Curse of
       Recursion by Accumulating Real and Synthetic Data.* arXiv:2404.01413.
    .. [2] A. Dey, D. Donoho (2024). *Universality of the* :math:`\pi^2/6` *Pathway in Avoiding
       Model Collapse.* arXiv:2410.22812.
    .. [3] The theory chapter, docs/theory/regression.md ("Accumulate: bounded").
    """
    model = _check_model(model)
    T = _rows(regime)
    bias, var = _parts(model, T)
    if model.design == "fixed":
        return bias + ZETA2 * var
    if T < model.dim:
        raise NotImplementedError(
            "fresh-design accumulate with T < d has no pi^2/6 ceiling: the pooled "
            "minimum-norm fit peaks when the pool size crosses d (see the docstring)")
    return ZETA2 * var


@accepts_regime_spec
def accumulate_replace_ratio(model, regime, m):
    r"""Ratio :math:`E_{\rm accumulate}(m) / E_{\rm replace}(m)` of the exact errors.

    For :math:`T \ge d+2` (fixed design) this is :math:`m^{-1}\sum_{i\le m} i^{-2}`,
    independent of the model, and tends to 0 like :math:`\pi^2/(6m)`: replace grows
    linearly, accumulate stays bounded. With a bias :math:`b` (fixed design,
    :math:`T \le d-2`) it is :math:`(b + vH^{(2)}_m)/(b + vm)`.

    Parameters
    ----------
    model : LinearRegression
    regime : Accumulate, Replace or int
        Only the rows per generation ``T`` are used.
    m : int or 1-D array of int
        Generations, ``>= 1``.

    Returns
    -------
    float or numpy.ndarray
        ``nan`` where both errors are 0 or infinite.

    References
    ----------
    .. [1] M. Gerstgrasser et al. (2024). *Is Model Collapse Inevitable? Breaking the Curse of
       Recursion by Accumulating Real and Synthetic Data.* arXiv:2404.01413.
    .. [2] The theory chapter, docs/theory/regression.md ("Accumulate: bounded").
    """
    model = _check_model(model)
    T = _rows(regime)
    t_checked, _ = _generations(m)
    if np.any(np.asarray(t_checked) < 1):
        raise ValueError(f"m must be >= 1 for a ratio, got {m!r}")
    acc = regression_test_error(model, Accumulate(T), m)
    rep = regression_test_error(model, Replace(T), m)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.divide(acc, rep)
    return float(ratio) if np.ndim(ratio) == 0 else ratio


def dohmatob_test_error(dim: int, T: int, noise: float, T0: int, noise0: float,
                        n: int) -> float:
    r"""Dohmatob, Feng & Kempe (2024): test error of a downstream fit after ``n``
    generations of synthetic data (fresh design, under-parameterised).

    Generations :math:`k = 1, \dots, n` each fit ``T0`` fresh rows
    :math:`x \sim N(0, I_d)` labelled by :math:`w_{k-1}` (:math:`w_0 = w`) with noise
    std :math:`\sigma_0`; the downstream model then fits ``T`` fresh rows labelled by
    :math:`w_n` with noise std :math:`\sigma`. Its error is

    .. math:: E\lVert\hat w - w\rVert^2 = \frac{\sigma^2 d}{T-d-1}
              + n\,\frac{\sigma_0^2 d}{T_0-d-1}.

    (Each fit adds an independent :math:`\sigma X^+\varepsilon` of mean square
    :math:`\sigma^2\tau(d, T)`; with ``T = T0`` and :math:`\sigma = \sigma_0` it is
    ``regression_test_error(model, Replace(T0), n + 1)``.)

    Parameters
    ----------
    dim : int
        Dimension ``d >= 1``.
    T : int
        Rows of the downstream fit, ``>= d + 2``.
    noise : float
        Downstream label noise std :math:`\sigma \ge 0`.
    T0 : int
        Rows per synthetic generation, ``>= d + 2``.
    noise0 : float
        Label noise std :math:`\sigma_0 \ge 0` of every synthetic generation (and of the
        real data of generation 1).
    n : int
        Generations of synthetic data, ``>= 0`` (0: the clean error
        :math:`\sigma^2 d/(T-d-1)`).

    Returns
    -------
    float

    References
    ----------
    .. [1] E. Dohmatob, Y. Feng, J. Kempe (2024). *Model Collapse Demystified: The Case of
       Regression.* arXiv:2402.07712.
    .. [2] The theory chapter, docs/theory/regression.md ("Replace: linear growth").
    """
    d = _check_int(dim, "dim", 1)
    T = _check_int(T, "T", 1)
    T0 = _check_int(T0, "T0", 1)
    n = _check_int(n, "n", 0)
    s = _check_noise(noise, "noise")
    s0 = _check_noise(noise0, "noise0")
    if T < d + 2:
        raise ValueError(f"T must be >= dim + 2 = {d + 2} (under-parameterised), got {T}")
    if T0 < d + 2:
        raise ValueError(f"T0 must be >= dim + 2 = {d + 2} (under-parameterised), got {T0}")
    return s**2 * d / (T - d - 1) + n * s0**2 * d / (T0 - d - 1)


def dohmatob_noise_free_error(d: int, T0: int, n: int, *, exact: bool = False):
    r"""Dohmatob et al.'s exponential collapse, noise-free and over-parameterised:
    :math:`E\lVert w_n - w\rVert^2/\lVert w\rVert^2 = 1 - (T_0/d)^n`.

    Fresh design, :math:`\sigma = 0`, ``T0`` rows per generation: :math:`w_n =
    P_n\cdots P_1 w` with independent uniformly random rank-``T0`` projectors, so
    :math:`E\lVert w_n\rVert^2 = (T_0/d)^n\lVert w\rVert^2` and
    :math:`w^\top E w_n = (T_0/d)^n\lVert w\rVert^2`. For :math:`T_0 \ge d` every fit
    recovers ``w`` and the value is 0.

    Parameters
    ----------
    d : int
        Dimension, ``>= 1``.
    T0 : int
        Rows per generation, ``>= 1``.
    n : int
        Generations, ``>= 0``.
    exact : bool
        Return a ``fractions.Fraction``.

    Returns
    -------
    float or Fraction

    References
    ----------
    .. [1] E. Dohmatob, Y. Feng, J. Kempe (2024). *Model Collapse Demystified: The Case of
       Regression.* arXiv:2402.07712.
    .. [2] The theory chapter, docs/theory/regression.md ("Replace: linear growth").
    """
    d = _check_int(d, "d", 1)
    T0 = _check_int(T0, "T0", 1)
    n = _check_int(n, "n", 0)
    if not exact:  # (T0/d)^n in floating point: no rational power of a huge n
        return -math.expm1(n * math.log(min(T0, d) / d)) if T0 < d else 0.0
    if n > 10**4:
        raise ValueError(f"exact=True needs n <= 10**4 (a rational of about n digits), "
                         f"got n={n}; use exact=False")
    return 1 - Fraction(min(T0, d), d) ** n
