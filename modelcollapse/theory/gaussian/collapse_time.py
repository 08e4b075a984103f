r"""Law of the collapse time of a Gaussian refitted generation after generation: exact
(grid propagation) for moderate ``M``, Siegmund's corrected diffusion approximation with
a measured error bound for any ``M``.

Under ``Replace(M)`` a Gaussian fit is exactly (Cochran; Bartlett in ``d`` dimensions)
:math:`\Sigma_t = \Sigma_{t-1}^{1/2} W_t \Sigma_{t-1}^{1/2}/\mathrm{den}` with
:math:`W_t \sim \mathrm{Wishart}_d(M-1, I)` independent of the past, ``den = M - 1``
(``estimator="unbiased"``) or ``den = M`` (``"mle"``). By Bartlett's decomposition
:math:`\det W_t = \prod_{j=1}^d \chi^2_{M-j}` with independent factors, so

.. math::

    X_t = \log\frac{\det\Sigma_t}{\det\Sigma_0} = \sum_{s=1}^t Y_s, \qquad
    Y \overset{d}{=} \sum_{j=1}^d \log\frac{\chi^2_{M-j}}{\mathrm{den}},

a random walk with i.i.d. steps. In one dimension :math:`X_t = \log(\sigma_t^2/\sigma_0^2)`.
The collapse time is the first passage below :math:`a = 2d\log\varepsilon`,

.. math::

    \tau_\varepsilon = \min\{t \ge 1 : X_t < a\}
    = \min\{t \ge 1 : (\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon\},

the ``collapse_time`` of :func:`modelcollapse.montecarlo.simulate`. The step has
:math:`E[Y] = \sum_j \psi((M-j)/2) + d\log(2/\mathrm{den}) < 0` (Jensen: even for the
unbiased estimator, whose :math:`\sigma_t^2` is a martingale) and
:math:`\mathrm{Var}\,Y = \sum_j \psi'((M-j)/2)`, so :math:`\tau_\varepsilon < \infty`
almost surely.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ...errors import TooLargeError, WrongTypeError
from ...models import Gaussian
from ...regimes import Replace, accepts_regime_spec, require_plain_sampling
from ..distributions import GenerationDistribution
from ._common import _den
from .log_moments import log_chi2_step
from .passage import _as_law, _Cumulants, _drift, _ladder_rho, _PassageLaw, _propagate, _richardson

__all__ = [
    "GaussianCollapseTime",
    "gaussian_collapse_time",
]

METHODS = ("auto", "grid", "diffusion", "brownian")

#: ``method="auto"`` runs the exact grid when its estimated time is at most this (seconds).
AUTO_GRID_SECONDS = 5.0
#: Seconds per unit of grid work (generations x sum over levels of nfft log2 nfft),
#: measured on the development machine (1.1e-9 to 3.3e-9 over 48 runs, M = 100..3000).
_GRID_SECONDS_PER_UNIT = 2e-9
#: Generations tabulated by the approximations; beyond, their law is evaluated directly.
TABULATE_MAX = 2**20
#: The stated error of ``method="diffusion"``: sup_t |F - F_exact| <= A M^-3/2
#: + C Delta^3 + B M^-1/2 beta^-2 + E beta^-4 (Delta = |mu|/s, beta = |a|/s); twice the
#: envelope of the measured errors (benchmarks/bench_gaussian_collapse.py), rounded up.
_APPROX_A, _APPROX_C, _APPROX_B, _APPROX_E = 0.08, 0.007, 0.31, 0.01


class GaussianCollapseTime(GenerationDistribution):
    r"""Law of the Gaussian collapse time :math:`\tau_\varepsilon` (a
    :class:`GenerationDistribution`) with its error budget.

    Attributes
    ----------
    method : str
        The method used: ``"grid"``, ``"diffusion"`` or ``"brownian"`` (``"auto"``
        resolves to one of the first two).
    error : float
        Bound on :math:`\sup_t |\hat F(t) - F(t)|`, the sum of ``errors`` (``nan`` for the
        Brownian approximation, whose bias is not controlled). For ``"grid"`` a
        computed bound; for ``"diffusion"`` a measured, extrapolated one (see
        :func:`gaussian_collapse_time`).
    errors : dict
        ``"grid"``: ``"discretisation"`` (Richardson estimate: the largest difference
        between the extrapolations from the two coarser and the two finer grids),
        ``"truncation"`` (mass that left the grid above the upper cut, measured, at most
        :math:`e^{-x_{\max}}` by Ville's inequality), ``"tail"`` (survival at the last
        propagated generation: the geometric continuation beyond it is wrong by at most
        this much) and ``"kernel"`` (mass defect of the discretised step law).
        ``"diffusion"``: ``"approximation"`` (the measured bound on the corrected
        diffusion's own error, extrapolated in ``M``) and ``"numerical"`` (quadrature and
        interpolation of its density, and of the overshoot constant, measured).
    drift, step_var : float
        :math:`E[Y]` and :math:`\mathrm{Var}\,Y`.
    barrier : float
        :math:`a = 2d\log\varepsilon`.
    info : dict
        ``"grid"``: grid spacings, grid sizes and generations propagated, per level.
        ``"diffusion"`` / ``"brownian"``: the overshoot constant ``rho``, the corrected
        barrier ``b`` (:math:`|a| + \rho s`), the time shift, the tail decay rate, and
        the parameters ``ig_mean``, ``shape`` of the inverse-Gaussian with barrier ``b``.
        ``"auto"`` adds ``grid_seconds_estimate``.

    Notes
    -----
    The approximations tabulate at most ``TABULATE_MAX`` generations (``horizon``);
    beyond, probabilities, quantiles and moments come from their continuous law
    directly, so that ``M = 10**7`` (a collapse time of :math:`\sim 10^8` generations)
    needs no per-generation arrays of that length.

    References
    ----------
    .. [1] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").
    """

    def __init__(self, cdf, tail, *, ratio, method, error, errors, drift, step_var,
                 barrier, info, passage=None, shift=0.0):
        super().__init__(cdf, tail, ratio=ratio, method=method)
        self.error = float(error)
        self.errors = dict(errors)
        self.drift = float(drift)
        self.step_var = float(step_var)
        self.barrier = float(barrier)
        self.info = dict(info)
        self._passage = passage  # continuous law: P(tau > m) = passage.sf(m + shift)
        self._shift = float(shift)
        self._moments = None

    # the continuation beyond the horizon: the approximation's own law, not a geometric tail
    def _tail_beyond(self, j):
        if self._passage is None:
            return super()._tail_beyond(j)
        return self._passage.sf(self.horizon + np.asarray(j, dtype=np.float64) + self._shift)

    def _cdf_at(self, m):
        out = super()._cdf_at(m)
        if self._passage is not None:
            beyond = m > self.horizon
            if np.any(beyond):
                out[beyond] = self._passage.cdf(m[beyond].astype(np.float64) + self._shift)
        return out

    def _moment_sums(self):
        if self._passage is None:
            return super()._moment_sums()
        if self._moments is None:
            self._moments = self._passage_moment_sums()
        return self._moments

    def _passage_moment_sums(self):
        H, c, law = self.horizon, self._shift, self._passage
        tail = self._tail
        m = np.arange(H + 1, dtype=np.float64)
        s1 = math.fsum(tail)
        s2 = math.fsum((2 * m + 1) * tail)
        count = math.ceil(law.x[-1]) - H  # beyond, the survival is below tol * e^-40
        if count <= 2**20:  # sum the continuation term by term
            m = np.arange(H + 1, H + 1 + max(count, 0), dtype=np.float64)
            g = law.sf(m + c)
            return s1 + math.fsum(g), s2 + math.fsum((2 * m + 1) * g)
        # sum_{m > H} g(m), g(m) = S(m + c): midpoint rule from H + 1/2 plus the
        # Euler-Maclaurin end term g'(H + 1/2)/24 (the law extends over more than 2**20
        # generations, its density varies on a scale of thousands: the next term, with
        # the third derivative, is negligible)
        X = H + 0.5 + c
        i0, i1, i2 = law.tail_moments(X)
        int_s = i1 - X * i0  # int_X^inf S(t) dt
        int_ts = 0.5 * (i2 - X * X * i0)  # int_X^inf t S(t) dt
        fX = float(law.pdf(np.array([X]))[0])
        sX = float(law.sf(np.array([X]))[0])
        s1 += int_s - fX / 24.0
        s2 += 2.0 * int_ts + (1.0 - 2.0 * c) * int_s + (2.0 * sX - (2.0 * H + 2.0) * fX) / 24.0
        return s1, s2

    def conditional(self):
        """The law given collapse: the collapse time is finite almost surely, so itself."""
        return self


# ---------------------------------------------------------------------- public
def _check_args(model, regime, eps, method):
    if not isinstance(model, Gaussian):
        raise WrongTypeError(f"model must be a Gaussian, got {type(model).__name__}")
    require_plain_sampling(regime, "gaussian_collapse_time")
    if not isinstance(regime, Replace):
        raise ValueError(f"regime must be Replace(M), got {regime!r}")
    eps = float(eps)
    if not (0.0 < eps < 1.0):
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    M, d = regime.n, model.dim
    if M < d + 1:
        raise ValueError(f"regime.n = M must be >= d + 1 = {d + 1} for a {d}-D Gaussian, "
                         f"got M = {M}")
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))}, "
                         f"got {method!r}")
    return M, d, eps


def _real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, (bool, np.bool_))


def _check_options(resolution, tol, truncation, max_generations, progress):
    if not (_real(resolution) and resolution > 0 and math.isfinite(resolution)):
        raise ValueError(f"resolution must be positive, got {resolution!r}")
    if not (_real(tol) and 0.0 < tol < 1.0):
        raise ValueError(f"tol must be in (0, 1), got {tol!r}")
    if not (_real(truncation) and 0.0 < truncation < 1.0):
        raise ValueError(f"truncation must be in (0, 1), got {truncation!r}")
    if not (_real(max_generations) and math.isfinite(max_generations)
            and max_generations >= 1 and max_generations == int(max_generations)):
        raise ValueError(f"max_generations must be a positive integer, got {max_generations!r}")
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"progress must be True or False, got {progress!r}")


def _grid_seconds(M, d, a, mu, var, resolution, tol, truncation) -> float:
    """Estimated time of ``method="grid"``: generations (the mean collapse time plus
    ``log(1/tol)`` over the tail's decay rate) times the three levels' FFT work
    ``nfft log2 nfft``, times a measured constant."""
    s = math.sqrt(var)
    xmax = math.log(1.0 / truncation)
    h0 = min(s / resolution, -a / 4.0, 0.25)
    kmin = (M - d) / 2.0
    work = 0.0
    for lvl in range(3):
        na = max(1, math.ceil(-a / (h0 / 2**lvl) - 0.5))
        h = -a / (na + 0.5)
        cells = na + 1 + math.ceil(xmax / h)
        kernel = math.ceil((max(14.0 * s, 45.0 / kmin) + 14.0 * s + 4.0) / h) + 3
        n = cells + kernel - 1
        work += n * math.log2(n)
    generations = (-a + 0.6 * s) / -mu + math.log(1.0 / tol) * 2.0 * var / (mu * mu)
    return generations * work * _GRID_SECONDS_PER_UNIT


@accepts_regime_spec
def gaussian_collapse_time(model, regime, eps: float = 0.01, *, method: str = "auto",
                           resolution: float = 4.0, tol: float = 1e-10,
                           truncation: float = 1e-12, max_generations: int = 10_000_000,
                           progress: bool = False) -> GaussianCollapseTime:
    r"""Law of the Gaussian collapse time :math:`\tau_\varepsilon = \min\{t \ge 1:
    (\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon\}` under ``Replace(M)``.

    :math:`X_t = \log(\det\Sigma_t/\det\Sigma_0)` is a random walk with steps
    :math:`Y = \sum_{j=1}^d\log(\chi^2_{M-j}/\mathrm{den})` (``den = M-1`` unbiased,
    ``M`` MLE; Cochran and Bartlett), drift :math:`\mu = E[Y] < 0` and variance
    :math:`s^2 = \mathrm{Var}\,Y` per generation, and :math:`\tau_\varepsilon` its first
    passage below :math:`a = 2d\log\varepsilon`; in 1-D, the first ``t`` with
    :math:`\sigma_t < \varepsilon\sigma_0`.

    Parameters
    ----------
    model : Gaussian
        Only ``model.dim`` and ``model.estimator`` matter (the law does not depend on the
        mean or the covariance).
    regime : Replace
        ``Replace(M)`` with ``M >= d + 1``.
    eps : float
        Threshold in ``(0, 1)``.
    method : {"auto", "grid", "diffusion", "brownian"}
        ``"auto"`` (default): ``"grid"`` when its estimated time is at most
        ``AUTO_GRID_SECONDS`` (5 s: ``M`` up to a few hundred, depending on ``eps``,
        ``d`` and the estimator), else ``"diffusion"``; ``.method`` says which ran.

        ``"grid"``: the exact law, by propagating the density of :math:`X_t` killed
        below ``a`` on a grid, one convolution (FFT) with the exact step law per
        generation. The step law's cell masses come from the characteristic function
        :math:`E e^{iuY} = \prod_j (2/\mathrm{den})^{iu}\Gamma((M-j)/2+iu)/\Gamma((M-j)/2)`.
        The barrier lies on a cell edge and the start at a cell centre. The scheme is
        second order in the spacing ``h``; it runs on three grids,
        :math:`h_0 \approx \sigma_Y/\mathrm{resolution}`, :math:`h_0/2`, :math:`h_0/4`,
        and returns the Richardson extrapolation of the two finer ones; the difference
        with the extrapolation of the two coarser ones is the reported discretisation
        error (conservative: the observed errors are 10--15 times smaller). The grid is
        cut at :math:`x_{\max} = \log(1/\mathrm{truncation})` above the start: as
        :math:`e^{X_t}` is a non-negative supermartingale (a martingale for the unbiased
        1-D fit), Ville's inequality bounds the mass that ever leaves by
        ``truncation``; it is measured and reported. Each grid runs until the survival
        is below ``tol``; beyond, the tail continues geometrically.

        ``"diffusion"``: Siegmund's corrected diffusion approximation, with a
        saddlepoint (skewness) correction and a continuity correction in time. The walk
        crosses ``a`` by an overshoot whose mean, for a driftless walk and a far
        barrier, is :math:`\rho s` with (Siegmund 1979; *Sequential Analysis* 1985,
        ch. X; checked here on Gaussian steps, :math:`\rho = -\zeta(1/2)/\sqrt{2\pi}
        = 0.5826`, and exponential ones, :math:`\rho = 1`)

        .. math:: \rho = -\frac{\gamma}{6} - \frac1\pi\int_0^\infty\frac{1}{\lambda^2}
                  \log\Big|\frac{2(1 - g(\lambda))}{\lambda^2}\Big|\,d\lambda,

        ``g`` the characteristic function of the standardised step
        :math:`(Y-\mu)/s` (from the exact one above) and :math:`\gamma` its skewness
        (the sign: the crossing is downwards, and :math:`\gamma < 0`). The barrier moves
        to :math:`b = |a| + \rho s`. With the drift the mean overshoot is
        :math:`\rho s + |\mu|/4 + o(|\mu|)` (checked against the grid through Wald's
        identity :math:`E\tau = (|a| + E[a - X_\tau])/|\mu|`), a quarter generation;
        the law of the integer :math:`\tau` is read off at :math:`m + 1/4`:
        :math:`P(\tau \le m) = F(m + 1/4)`, which makes :math:`E\tau` agree with Wald's
        identity (measured: to 0.01 generation at ``M = 100``). ``F`` has the density
        of the hitting-time identity of a continuous process,
        :math:`f(t) = (b/t)\,p_t(-b)`, with :math:`p_t` the saddlepoint density of
        :math:`X_t` from the exact cumulant function :math:`K(\theta) = \log E
        e^{\theta Y} = d\theta\log(2/\mathrm{den}) + \sum_j[\log\Gamma(k_j+\theta) -
        \log\Gamma(k_j)]`, :math:`k_j = (M-j)/2`:

        .. math:: f(t) = \frac{b}{t}\,\frac{\exp(tK(\hat\theta) + \hat\theta b)}
                  {\sqrt{2\pi t K''(\hat\theta)}},\qquad K'(\hat\theta) = -\frac{b}{t},

        normalised (its mass differs from 1 by :math:`O(M^{-2})`). For Gaussian steps
        ``f`` is the inverse-Gaussian density; the saddlepoint keeps the skewness
        :math:`\gamma \approx -\sqrt{2/M}` of the steps, which shapes the early
        collapses. Error: measured against ``"grid"`` (see Notes), it decays like
        :math:`M^{-3/2}` (the inverse-Gaussian with the same ``b`` and shift: like
        :math:`M^{-1}`; without ``rho``: like :math:`M^{-1/2}`); ``error`` is a bound
        fitted to the measurements and extrapolated beyond the ``M`` measured.

        ``"brownian"``: the uncorrected inverse-Gaussian first passage of a Brownian
        motion with drift :math:`\mu` and variance :math:`s^2` per generation,
        :math:`P(\tau \le t) = F_{IG}(t; |a|/|\mu|, a^2/s^2)`. It ignores the overshoot
        of the walk below ``a`` and its monitoring at integer times only, so it is
        stochastically too small (biased low, by :math:`O(M^{-1/2})` in the cdf;
        ``error`` is ``nan``).
    resolution : float
        Cells per step standard deviation on the coarsest grid (``"grid"``); the spacing
        is also at most ``|a|/4`` and 0.25.
    tol : float
        Survival at which propagation stops (the ``"tail"`` error); for the
        approximations, the survival at which tabulation stops.
    truncation : float
        Bound on the mass lost above the grid.
    max_generations : int
        Safety cap on the generations propagated (``"grid"``).
    progress : bool
        Show a progress bar (tqdm) over the generations of each grid level.

    Returns
    -------
    GaussianCollapseTime
        A :class:`GenerationDistribution` (``cdf``, ``sf``, ``pmf``, ``mean``, ``var``,
        ``quantile``, ``median``) with ``error``, a bound on the cdf error, and its parts
        in ``errors``.

    Raises
    ------
    ValueError
        A bad argument (naming it), before any work. :class:`~modelcollapse.errors.
        TooLargeError` (a ``ValueError``) when the collapse time is beyond the exact
        integers of float64 (:math:`2^{52}` generations; ``M`` beyond about
        :math:`10^{13}`).

    Notes
    -----
    Cost. ``"grid"``: about :math:`M\log(1/\mathrm{tol})` generations (the tail decays
    like :math:`r^t`, :math:`1 - r \approx \mu^2/(2s^2) \approx 1/(4M)`), each an FFT of
    :math:`(|a| + x_{\max})\sqrt{M/2}\,\mathrm{resolution}` points, on three grids:
    milliseconds for ``M = 10``, about a second for ``M = 100``, tens of seconds for
    ``M = 1000``, hours for ``M = 10**5`` (``progress=True`` shows it). ``"auto"``
    estimates it (generations times :math:`n\log_2 n` per FFT, times a measured
    constant) and runs the grid only under ``AUTO_GRID_SECONDS``. ``"diffusion"`` and
    ``"brownian"``: independent of ``M``, 0.1 to 1 s: about :math:`10^5` saddlepoint
    solves (vectorised Newton steps) on a few thousand quadrature panels, and at most
    ``TABULATE_MAX`` (:math:`2^{20}`) tabulated generations; beyond ``horizon`` the law
    is evaluated from its interpolants (so ``M = 10**7``, a collapse time of
    :math:`10^8` generations, takes no more time or memory); the interpolation error
    (cubic Hermite splines of :math:`\log F` and :math:`\log(1-F)`, measured at the panel
    midpoints) is ``errors["numerical"]``, about 1e-8.

    Error of ``"diffusion"``. ``python benchmarks/bench_gaussian_collapse.py`` measures
    :math:`\sup_t|F_{\mathrm{diffusion}}(t) - F_{\mathrm{grid}}(t)|` on 206 laws:
    ``M`` = 10, 30, 100, 300, 1000 with ``eps`` = 0.99, 0.9, 0.7, 0.5, 0.1, 0.01, ``d`` =
    1, 2 and both estimators; ``d = 3`` for ``M <= 300``; ``d`` = 5, 10 at ``eps`` = 0.5,
    0.01; ``M = 3000`` at ``eps`` = 0.99, 0.9, 0.5 (the grid's own error is below 1e-6).
    For ``eps <= 0.7`` the error decays like :math:`C M^{-p}`, ``p`` = 1.47 to 1.57 (least
    squares over ``M >= 100`` for each ``eps``, ``d`` and estimator); the worst case over
    ``d`` = 1, 2 and the estimators at ``eps = 0.5`` is 5.0e-3, 7.7e-4, 1.2e-4, 2.2e-5,
    3.6e-6 and 6.8e-7 for ``M`` = 10, 30, 100, 300, 1000, 3000 (at ``eps = 0.01``: 1.3e-3
    to 7.5e-7 for ``M`` = 10 to 1000; the uncorrected ``"brownian"`` at ``eps = 0.5``:
    0.12 to 7.3e-3, like :math:`M^{-1/2}`). The stated bound is

    .. math:: \mathtt{errors["approximation"]} = \min\Big(1,\ \frac{0.08}{M^{3/2}}
              + 0.007\,\Delta^3 + \frac{0.31}{M^{1/2}\beta^2} + \frac{0.01}{\beta^4}\Big),
              \qquad \Delta = \frac{|\mu|}{s},\ \beta = \frac{|a|}{s},

    the drift per generation and the barrier in step standard deviations: twice the
    envelope of all 206 measurements, rounded up (``0.01/beta^4`` from the barriers
    within one step standard deviation, where the error, up to 0.07, depends on
    :math:`\beta` rather than on ``M``; the other three by a linear programme). Every
    measured error is below half of it; the median ratio is 5.5. At fixed ``eps`` and
    ``d`` every term is :math:`O(M^{-3/2})` or smaller, so for ``M > 3000`` it
    extrapolates the measured power law; :math:`\Delta^3` (:math:`\Delta \approx
    (d+1)\sqrt{d/(8M)}` unbiased, larger for the MLE) carries the growth with ``d``,
    measured up to ``d = 10`` (fitted on ``d <= 3`` alone, the envelope bounds ``d`` = 5,
    10 too). ``error`` adds ``errors["numerical"]``; for ``M = 10**5``, ``eps = 0.01``
    it is about 1e-8.

    References
    ----------
    .. [1] W. G. Cochran (1934). *The distribution of quadratic forms in a normal system.*
       Mathematical Proceedings of the Cambridge Philosophical Society 30, 178–191.
    .. [2] D. Siegmund (1979). *Corrected diffusion approximations in certain random walk problems.*
       Advances in Applied Probability 11, 701–719; D. Siegmund (1985). *Sequential Analysis: Tests
       and Confidence Intervals*, ch. X. Springer.
    .. [3] The theory chapter, docs/theory/gaussian.md ("The collapse-time law").

    Examples
    --------
    >>> from modelcollapse.models import Gaussian
    >>> from modelcollapse.regimes import Replace
    >>> law = gaussian_collapse_time(Gaussian(0, 1), Replace(10), eps=0.1)
    >>> law.method, round(law.mean(), 3), law.error < 1e-6
    ('grid', 43.094, True)
    >>> big = gaussian_collapse_time(Gaussian(0, 1), Replace(10**5), eps=0.01)
    >>> big.method, big.error < 1e-6
    ('diffusion', True)
    """
    M, d, eps = _check_args(model, regime, eps, method)
    _check_options(resolution, tol, truncation, max_generations, progress)
    den = float(_den(model, M))
    a = 2.0 * d * math.log(eps)
    mu = _drift(M, d, den)
    var = log_chi2_step(M, d, model.estimator)[1]
    extra = {}
    if method == "auto":
        seconds = _grid_seconds(M, d, a, mu, var, resolution, tol, truncation)
        method = "grid" if seconds <= AUTO_GRID_SECONDS else "diffusion"
        extra = {"grid_seconds_estimate": seconds}
    if method == "grid":
        law = _grid(M, d, den, a, mu, var, resolution, tol, truncation, max_generations,
                    progress)
    else:
        law = _approximation(M, d, den, a, mu, var, tol, method == "diffusion")
    law.info.update(extra)
    return law


def _grid(M, d, den, a, mu, var, resolution, tol, truncation, max_generations, progress):
    s = math.sqrt(var)
    xmax = math.log(1.0 / truncation)
    h0 = min(s / resolution, -a / 4.0, 0.25)
    runs = []
    for lvl in range(3):
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(desc=f"grid {lvl + 1}/3", unit="gen", leave=False)
        try:
            runs.append(_propagate(M, d, den, a, h0 / 2**lvl, xmax, tol, max_generations,
                                   bar))
        finally:
            if bar is not None:
                bar.close()
    laws = [_as_law(k, sv) for k, sv, _, _ in runs]
    hs = [r[3]["h"] for r in runs]
    H = max(law.horizon for law in laws)
    t = np.arange(H + 1)
    cdfs = [law.cdf(t) for law in laws]
    sfs = [law.sf(t) for law in laws]
    cdf_c = _richardson(cdfs[0], cdfs[1], hs[0], hs[1])
    cdf = _richardson(cdfs[1], cdfs[2], hs[1], hs[2])
    sf = _richardson(sfs[1], sfs[2], hs[1], hs[2])
    cdf = np.maximum.accumulate(np.clip(cdf, 0.0, 1.0))
    sf = np.minimum.accumulate(np.clip(sf, 0.0, 1.0))
    errors = {
        "discretisation": float(np.max(np.abs(cdf - cdf_c))),
        "truncation": max(r[2] for r in runs),
        "tail": max(float(r[1][-1]) for r in runs),
        "kernel": max(r[3]["kernel_defect"] for r in runs),
    }
    if errors["tail"] > 10 * tol:  # stopped by max_generations: the law is not known
        raise ValueError(
            f"max_generations={max_generations} stops the propagation with "
            f"{errors['tail']:.3g} of the probability mass not yet collapsed, so the "
            f"law is not determined; the mean collapse time is about {a / mu:.3g} "
            "generations: raise max_generations (or use method='diffusion')")
    ratio = laws[2].ratio
    info = {"levels": [r[3] for r in runs], "xmax": xmax}
    return GaussianCollapseTime(cdf, sf, ratio=ratio, method="grid",
                                error=sum(errors.values()), errors=errors, drift=mu,
                                step_var=var, barrier=a, info=info)


def _diffusion_error_bound(M: int, delta: float, beta: float) -> float:
    """The measured, extrapolated bound on the corrected diffusion's cdf error;
    ``delta = |mu|/s`` and ``beta = |a|/s``, the drift per generation and the barrier in
    step standard deviations."""
    M = float(M)
    return min(1.0, _APPROX_A * M**-1.5 + _APPROX_C * delta**3
               + _APPROX_B * M**-0.5 / beta**2 + _APPROX_E / beta**4)


def _approximation(M, d, den, a, mu, var, tol, corrected):
    """``"diffusion"`` (``corrected``) or ``"brownian"``: a :class:`_PassageLaw`,
    tabulated up to the first generation with survival below ``tol`` (at most
    ``TABULATE_MAX``) and continued by itself."""
    s = math.sqrt(var)
    if corrected:
        cum = _Cumulants(mu, var, (M - np.arange(1, d + 1, dtype=np.float64)) / 2.0, den)
        rho, rho_err = _ladder_rho(cum, den)
        b = -a + rho * s
        shift = 0.25
    else:
        cum = _Cumulants(mu, var)
        rho, rho_err = 0.0, 0.0
        b = -a
        shift = 0.0
    rate = float(-cum.derivs(cum.solve(np.array([0.0])))[2][0])
    t_end = b / -mu + (math.log(1.0 / tol) + 40.0) / rate
    if not t_end < 2.0**52:
        raise TooLargeError(
            f"the collapse time for M={M} is of order {b / -mu:.3g} generations and its "
            f"law extends to {t_end:.3g}, beyond float64's exact integers (2**52): "
            "use a smaller M")
    law = _PassageLaw(cum, b, t_end)
    nodes_below = np.nonzero(law.sf(law.x) <= tol)[0]
    h_nat = math.ceil(law.x[nodes_below[0]] - shift) if nodes_below.size else math.ceil(t_end)
    H = max(1, min(h_nat, TABULATE_MAX))
    t = np.arange(H + 1, dtype=np.float64) + shift
    cdf = law.cdf(t)
    tail = law.sf(t)
    cdf[0], tail[0] = 0.0, 1.0
    info = {"rho": rho, "b": b, "time_shift": shift, "decay_rate": rate,
            "ig_mean": b / -mu, "shape": b * b / var, "mass": law.mass,
            "nodes": int(law.x.size), "tabulated": H, "t_end": t_end}
    if corrected:
        errors = {"approximation": _diffusion_error_bound(M, -mu / s, -a / s),
                  "numerical": law.numerical_error + rho_err}
        error = sum(errors.values())
        method = "diffusion"
    else:
        errors, error, method = {}, math.nan, "brownian"
    return GaussianCollapseTime(cdf, tail, ratio=math.exp(-rate), method=method,
                                error=error, errors=errors, drift=mu, step_var=var,
                                barrier=a, info=info, passage=law, shift=shift)
