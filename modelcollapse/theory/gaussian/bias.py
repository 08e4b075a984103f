r"""The exact law of :math:`\log\det\Sigma_m` under ``Replace(n)``, with a sampling bias.

Alemohammad et al. 2023 (arXiv 2307.01850, §2.3, eqs. (1)--(2)) sample each fitted
Gaussian with its covariance scaled by :math:`\lambda \le 1` ("sampling bias"), so that
:math:`E[\Sigma_t \mid \Sigma_{t-1}] = \lambda\Sigma_{t-1}` for the unbiased fit. In the
toolkit this is the regime's temperature: ``Replace(n, temperature=T)`` draws from
:math:`N(\mu, T\Sigma)` (a Gaussian density raised to :math:`1/T` is that law). Real
samples are never tempered, so generation 1 is fitted to :math:`N(\mu_0, \Sigma_0)` and
the toolkit's :math:`\Sigma_m` is the paper's :math:`\Sigma_{m-1}` with their real fit as
start: :math:`E\Sigma_m = (T c)^{m-1} c\,\Sigma_0`, :math:`c = (n-1)/\mathrm{den}`.

By Bartlett's decomposition each generation multiplies :math:`\det\Sigma` by an
independent :math:`\prod_{j=1}^d \chi^2_{n-j}/\mathrm{den}` (and :math:`T^d` from
generation 2 on), so

.. math::

    Y_m = \log\frac{\det\Sigma_m}{\det\Sigma_0} = (m-1)\,d\log T
        + \sum_{s=1}^m \sum_{j=1}^d \log\frac{\chi^2_{n-j}}{\mathrm{den}},

a sum of :math:`md` independent log-chi-square variables, whose characteristic function
is a product of gamma ratios,

.. math::

    \varphi_m(u) = e^{iu[(m-1)d\log T + md\log(2/\mathrm{den})]}
        \prod_{j=1}^d\Big(\frac{\Gamma(\frac{n-j}2 + iu)}{\Gamma(\frac{n-j}2)}\Big)^m .

:class:`LogDetLaw` inverts it (Gil-Pelaez, :math:`F(y) = \frac12 - \frac1\pi
\int_0^\infty \mathrm{Im}[e^{-iuy}\varphi(u)]/u\,du`, adaptive quadrature to the point
where :math:`|\varphi| < 10^{-18}`): the exact law, up to quadrature error.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import integrate, optimize
from scipy.special import loggamma

from ...regimes import accepts_regime_spec
from ._common import _check_model, _regime_kind
from .log_moments import log_det_moments

__all__ = ["LogDetLaw", "log_det_law"]

#: Quadrature tolerance (absolute, on the cdf).
TOL = 1e-11


class LogDetLaw:
    r"""The law of :math:`Y_m = \log(\det\Sigma_m/\det\Sigma_0)`: ``cdf``, ``sf``,
    ``quantile``, ``mean``, ``var`` (from :func:`~modelcollapse.theory.log_det_moments`),
    and ``collapse_probability(eps)`` :math:`= P\big((\det\Sigma_m/\det\Sigma_0)^{1/2d}
    < \varepsilon\big)`, the simulators' collapse criterion."""

    def __init__(self, dfs: np.ndarray, den: float, m: int, shift: float, mean: float,
                 var: float):
        self.a = dfs / 2.0  # gamma shapes (n - j)/2
        self.m, self.den, self.shift = m, den, shift
        self.mean, self.var = mean, var
        self.d = dfs.size
        self._lg0 = loggamma(self.a).real
        # |phi(u)| < 1e-18 beyond U: |Gamma(a + iu)/Gamma(a)| decays like e^{-pi u/2}
        self.U = optimize.brentq(lambda u: self._logabs(u) + 41.5, 1e-9, 1e6)

    def _logabs(self, u: float) -> float:
        return self.m * float(np.sum(loggamma(self.a + 1j * u).real - self._lg0))

    def _phi(self, u):
        lg = self.m * np.sum(loggamma(self.a[None, :] + 1j * np.asarray(u)[:, None])
                             - self._lg0, axis=1)
        c = self.shift + self.m * self.d * math.log(2.0 / self.den)
        return np.exp(lg + 1j * np.asarray(u) * c)

    def cdf(self, y):
        """:math:`P(Y_m \\le y)`."""
        ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
        out = np.empty(ys.size)
        for i, yy in enumerate(ys):
            def f(u, yy=yy):
                u = np.atleast_1d(u)
                return (np.exp(-1j * u * yy) * self._phi(u)).imag / u
            val, _ = integrate.quad(lambda u: f(u)[0], 0.0, self.U, limit=2000,
                                    epsabs=TOL, epsrel=TOL)
            out[i] = 0.5 - val / math.pi
        out = np.clip(out, 0.0, 1.0)
        return float(out[0]) if np.ndim(y) == 0 else out.reshape(np.shape(y))

    def sf(self, y):
        """:math:`P(Y_m > y)`."""
        return 1.0 - self.cdf(y)

    def quantile(self, q: float) -> float:
        """The ``q``-quantile (root of the cdf)."""
        if not 0.0 < q < 1.0:
            raise ValueError(f"q must be in (0, 1), got {q}")
        sd = math.sqrt(self.var)
        lo, hi = self.mean - 12 * sd - 1, self.mean + 12 * sd + 1
        return float(optimize.brentq(lambda y: self.cdf(y) - q, lo, hi, xtol=1e-10))

    def collapse_probability(self, eps: float) -> float:
        """:math:`P(Y_m < 2d\\log\\varepsilon)`: generation ``m`` counts as collapsed."""
        if not 0.0 < eps < 1.0:
            raise ValueError(f"eps must be in (0, 1), got {eps}")
        return self.cdf(2 * self.d * math.log(eps))


@accepts_regime_spec
def log_det_law(model, regime, m: int) -> LogDetLaw:
    r"""The exact law of :math:`\log(\det\Sigma_m/\det\Sigma_0)` under ``Replace(n)``
    with any sampling temperature ``T`` (the sampling bias :math:`\lambda` of
    Alemohammad et al.), by inversion of its characteristic function.

    Parameters
    ----------
    model : Gaussian
        The real distribution (its ``estimator`` sets ``den``: ``n - 1`` or ``n``).
    regime : Replace or str
        ``Replace(n)`` with ``n >= d + 1``, optionally ``temperature=T``.
    m : int
        Generation, ``>= 1``.

    Returns
    -------
    LogDetLaw
    """
    model = _check_model(model)
    _regime_kind(model, regime, "log_det_law", allowed=("replace",), temperature_ok=True)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"m must be an integer >= 1, got {m!r}")
    n, d = regime.n, model.dim
    den = float(n - 1 if model.estimator == "unbiased" else n)
    shift = (m - 1) * d * math.log(regime.temperature)
    mean, var = log_det_moments(model, regime, int(m))
    return LogDetLaw(n - np.arange(1, d + 1, dtype=np.float64), den, int(m), shift,
                     float(mean), float(var))
