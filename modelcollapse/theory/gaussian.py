r"""Exact moments of a Gaussian refitted generation after generation (Shumailov et al.
2024; Gerstgrasser et al. 2024; THEORY.md §8-§9).

Notation: generation ``t`` fits :math:`N(\mu_t, \Sigma_t)` by the sample mean and the
sample covariance with divisor ``den = K - 1`` (``estimator="unbiased"``) or ``K``
(``"mle"``) on its ``K`` training points; :math:`\mu_0, \Sigma_0` is the real
distribution, :math:`\sigma_t^2 = \Sigma_t` in one dimension. All results are exact for
finite ``t`` and accept ``t = numpy.inf`` for the limit.

``Replace(M)``. By Cochran's theorem :math:`\Sigma_t = L_{t-1} W_t L_{t-1}^\top/\mathrm{den}`
with :math:`W_t \sim \mathrm{Wishart}_d(M-1, I)` independent of the past, so the
generalised variance is a product of independent factors,
:math:`\det\Sigma_t/\det\Sigma_0 = \prod_{i\le t}\prod_{j=1}^d \chi^2_{M-j,i}/\mathrm{den}`:

.. math:: E\Big(\frac{\det\Sigma_t}{\det\Sigma_0}\Big)^s = \Big[\prod_{j=1}^d
          \Big(\frac{2}{\mathrm{den}}\Big)^s \frac{\Gamma(\frac{M-j}{2}+s)}
          {\Gamma(\frac{M-j}{2})}\Big]^t,\qquad
          E\log\frac{\det\Sigma_t}{\det\Sigma_0} = t\sum_j\Big[\psi\big(\tfrac{M-j}2\big)
          + \log\tfrac{2}{\mathrm{den}}\Big],

with variance :math:`t\sum_j\psi'(\frac{M-j}{2})`; :math:`E\Sigma_t = r^t\Sigma_0`,
:math:`r = (M-1)/\mathrm{den}`; :math:`E\lVert\mu_t-\mu_0\rVert^2 = \mathrm{tr}\,\Sigma_0
\sum_{i<t} r^i/M` (``t/M`` unbiased, :math:`1 - ((M-1)/M)^t` MLE).

``Accumulate(M)``. Generation ``t`` pools all ``tM`` points. With :math:`S_t` the pooled
scatter, the new ``M`` points add their own scatter and the between-group term:
:math:`S_t = S_{t-1} + \sigma_{t-1}^2(\chi^2_{M-1} + \tfrac{t-1}{t} Z^2)`, so
:math:`E\sigma_t^2/E\sigma_{t-1}^2 = 1 - 1/(t^2 M)` (MLE) or
:math:`1 - 1/(t(tM-1))` (unbiased): a convergent product, no collapse. The MLE limit is
:math:`\sigma_0^2 \sqrt M \sin(\pi/\sqrt M)/\pi` (Euler's sine product); the unbiased one
:math:`\sigma_0^2\,\Gamma(2-1/M)/(\Gamma(2-a)\Gamma(2-b))`, ``a, b`` the roots of
:math:`Mk^2 - k - 1`. The mean moves by :math:`(\bar x_t - \mu_{t-1})/t`:
:math:`E(\mu_t-\mu_0)^2 = \sum_{k=1}^t E\sigma_{k-1}^2/(k^2 M) \le \frac{\pi^2}{6}
\frac{\sigma_0^2}{M}` (MLE).

``Mix(real=N, synthetic=n, fresh=True)``: N new real points and n points of the previous
fit. With :math:`v_t = E\sigma_t^2/\sigma_0^2` and :math:`e_t = E(\mu_t-\mu_0)^2/\sigma_0^2`,

.. math:: e_t = \frac{N + n^2 e_{t-1} + n v_{t-1}}{(N+n)^2},\quad
          v_t = \frac{N-1 + (n-1)v_{t-1} + \frac{Nn}{N+n}(e_{t-1} + \frac1N +
          \frac{v_{t-1}}{n})}{N+n-\delta},

``delta = 1`` (unbiased) or 0, from :math:`v_1 = (N-1)/(N-\delta)`, :math:`e_1 = 1/N`:
a linear recursion with a unique stationary point (ergodic; no collapse). In ``d``
dimensions every expectation stays proportional to :math:`\Sigma_0`, so the same
scalars give :math:`E\Sigma_t = v_t\Sigma_0` and :math:`E\lVert\mu_t-\mu_0\rVert^2 =
e_t\,\mathrm{tr}\,\Sigma_0`. The derivations are in :mod:`modelcollapse.proofs`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, polygamma, psi

from ..models import Gaussian, _check_positive_int
from ..regimes import Accumulate, Mix, Regime, Replace

__all__ = [
    "expected_det_ratio",
    "expected_mean_error",
    "expected_std",
    "expected_trace_ratio",
    "expected_variance",
    "expected_w2sq",
    "gaussian_schedule",
    "log_det_moments",
    "schedule_bounded",
    "stationary_point",
    "variance_moment",
]


# ---------------------------------------------------------------------- validation
def _check_model(model) -> Gaussian:
    if not isinstance(model, Gaussian):
        raise ValueError(f"model must be a Gaussian, got {type(model).__name__}")
    return model


def _den(model, K):
    return K - 1 if model.estimator == "unbiased" else K


def _check_t(t):
    ts = np.asarray(t, dtype=np.float64)
    if np.any(np.isnan(ts)) or np.any(ts < 0) or np.any(
            np.isfinite(ts) & (ts != np.floor(ts))):
        raise ValueError(f"t must be a non-negative integer (or numpy.inf), got {t!r}")
    return ts


def _ret(arr, t):
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if np.ndim(t) == 0 else arr


def _regime_kind(model, regime, what, allowed=("replace", "accumulate", "mix")):
    if isinstance(regime, Replace):
        kind = "replace"
        if regime.n < model.dim + 1:
            raise ValueError(f"Replace(n) needs n >= d + 1 = {model.dim + 1} for a "
                             f"non-singular fit, got n={regime.n}")
    elif isinstance(regime, Accumulate):
        kind = "accumulate"
        if regime.n < model.dim + 1:
            raise ValueError(f"Accumulate(n) needs n >= d + 1 = {model.dim + 1}")
    elif isinstance(regime, Mix):
        if not regime.fresh:
            raise NotImplementedError(
                f"{what} is exact for Mix(..., fresh=True) (new real data each "
                "generation); with the same real data every generation, simulate it "
                "with modelcollapse.montecarlo")
        kind = "mix"
        if regime.real < model.dim + 1:
            raise ValueError(f"Mix needs real >= d + 1 = {model.dim + 1}")
    elif isinstance(regime, Regime):
        raise NotImplementedError(
            f"{what} is exact for Replace, Accumulate and Mix(fresh=True); simulate "
            f"{type(regime).__name__} with modelcollapse.montecarlo")
    else:
        raise ValueError(f"regime must be a Regime such as Replace(n), got {regime!r}")
    if kind not in allowed:
        raise NotImplementedError(
            f"{what} has no exact finite-t form under {type(regime).__name__}: the "
            "variance is not a product of independent factors there; simulate it with "
            "modelcollapse.montecarlo (or use expected_variance / expected_mean_error)")
    return kind


# ---------------------------------------------------------------------- Replace
def _replace_log_moment(model, M, s):
    """log E (det ratio of one generation)^s."""
    den = _den(model, M)
    j = np.arange(1, model.dim + 1)
    a = (M - j) / 2.0
    if np.any(a + s <= 0):
        raise ValueError(f"the moment of order s={s} is infinite (needs s > -(M-d)/2)")
    return float(np.sum(gammaln(a + s) - gammaln(a) + s * math.log(2.0 / den)))


def _power(log_factor, ts):
    """exp(t * log_factor), with the t = inf limits."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.exp(np.where(np.isfinite(ts), ts, 0.0) * log_factor)
    if log_factor < 0:
        lim = 0.0
    elif log_factor > 0:
        lim = np.inf
    else:
        lim = 1.0
    return np.where(np.isfinite(ts), out, lim)


# ---------------------------------------------------------------------- accumulate / mix
def _accumulate_v(model, M, tmax):
    """v_k = E sigma_k^2/sigma_0^2 (trace ratio) for k = 0..tmax under Accumulate(M)."""
    k = np.arange(2, tmax + 1, dtype=np.float64)
    if model.estimator == "mle":
        v1 = (M - 1) / M
        factors = 1.0 - 1.0 / (k * k * M)
    else:
        v1 = 1.0
        factors = 1.0 - 1.0 / (k * (k * M - 1.0))
    v = np.empty(tmax + 1)
    v[0] = 1.0
    if tmax >= 1:
        v[1] = v1
        v[2:] = v1 * np.cumprod(factors)
    return v


def _accumulate_v_limit(model, M):
    if model.estimator == "mle":
        x = 1.0 / math.sqrt(M)
        return math.sin(math.pi * x) / (math.pi * x)
    disc = math.sqrt(1.0 + 4.0 * M)
    a, b = (1 + disc) / (2 * M), (1 - disc) / (2 * M)
    return math.exp(math.lgamma(2 - 1 / M) - math.lgamma(2 - a) - math.lgamma(2 - b))


def _accumulate_e(model, M, tmax):
    """e_k = E (mu_k - mu_0)^2/sigma_0^2 for k = 0..tmax."""
    v = _accumulate_v(model, M, tmax)
    k = np.arange(1, tmax + 1, dtype=np.float64)
    e = np.zeros(tmax + 1)
    e[1:] = np.cumsum(v[:-1] / (k * k * M))
    return e


def _accumulate_e_limit(model, M, tol=1e-15):
    # sum_k v_{k-1}/(k^2 M): v converges, so sum the first 10^6 terms exactly and the
    # rest with the limit of v (error < (v_K - v_inf)/(K M) < 1e-12)
    K = 1_000_000
    e = _accumulate_e(model, M, K)[-1]
    vinf = _accumulate_v_limit(model, M)
    tail = vinf * float(polygamma(1, K + 1)) / M  # sum_{k > K} 1/k^2 = psi'(K+1)
    return e + tail


def _mix_matrix(model, N, n):
    """(v, e, 1) -> next (v, e, 1) under Mix(N, n, fresh=True), sigma_0 = 1."""
    delta = 1.0 if model.estimator == "unbiased" else 0.0
    D = N + n - delta
    h = N * n / (N + n)
    A = np.array([
        [((n - 1) + h / n) / D, h / D, ((N - 1) + h / N) / D],
        [n / (N + n) ** 2, n * n / (N + n) ** 2, N / (N + n) ** 2],
        [0.0, 0.0, 1.0],
    ])
    v1 = (N - 1) / (N - delta)
    return A, np.array([v1, 1.0 / N, 1.0])


def _mix_path(model, regime, tmax):
    A, x = _mix_matrix(model, regime.real, regime.synthetic)
    out = np.empty((tmax + 1, 2))
    out[0] = (1.0, 0.0)
    for k in range(1, tmax + 1):
        out[k] = x[:2]
        x = A @ x
    return out


def stationary_point(model, regime) -> tuple[float, float]:
    r"""Stationary point :math:`(v^*, e^*)` of ``Mix(real=N, synthetic=n, fresh=True)``:
    :math:`E\Sigma_t \to v^*\Sigma_0` and :math:`E\lVert\mu_t-\mu_0\rVert^2 \to
    e^*\,\mathrm{tr}\,\Sigma_0` (the fixed point of the linear recursion in the module
    docstring; the recursion's matrix has spectral radius below 1, so it is reached
    geometrically from any start)."""
    _check_model(model)
    if not (isinstance(regime, Mix) and regime.fresh):
        raise ValueError("stationary_point needs Mix(real, synthetic, fresh=True): "
                         "Replace collapses and Accumulate converges without fresh data")
    A, _ = _mix_matrix(model, regime.real, regime.synthetic)
    B = A[:2, :2]
    c = A[:2, 2]
    v, e = np.linalg.solve(np.eye(2) - B, c)
    return float(v), float(e)


# ---------------------------------------------------------------------- public moments
def expected_trace_ratio(model, regime, t):
    r""":math:`E\,\mathrm{tr}\,\Sigma_t/\mathrm{tr}\,\Sigma_0` (in fact
    :math:`E\Sigma_t = c_t\Sigma_0`; this returns :math:`c_t`). ``t`` may be an array
    or ``numpy.inf``."""
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_trace_ratio")
    ts = _check_t(t)
    if kind == "replace":
        M = regime.n
        return _ret(_power(math.log((M - 1) / _den(model, M)), ts), t)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_v(model, regime.n, tmax)
        lim = _accumulate_v_limit(model, regime.n)
    else:
        path = _mix_path(model, regime, tmax)[:, 0]
        lim = stationary_point(model, regime)[0]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out, t)


def expected_variance(model, regime, t):
    r""":math:`E\sigma_t^2` of a 1-D Gaussian (:math:`E\Sigma_t` in ``d`` dimensions: a
    ``d x d`` matrix per ``t``)."""
    model = _check_model(model)
    c = np.asarray(expected_trace_ratio(model, regime, t))
    if model.dim == 1:
        return _ret(c * model.cov[0, 0], t)
    return np.multiply.outer(c, model.cov)


def expected_mean_error(model, regime, t):
    r""":math:`E\lVert\mu_t - \mu_0\rVert^2`."""
    model = _check_model(model)
    kind = _regime_kind(model, regime, "expected_mean_error")
    ts = _check_t(t)
    tr0 = float(np.trace(model.cov))
    if kind == "replace":
        M = regime.n
        r = (M - 1) / _den(model, M)
        if r == 1.0:
            out = ts / M
        else:  # sum_{i<t} r^i / M
            out = (1.0 - _power(math.log(r), ts)) / (1.0 - r) / M
        return _ret(out * tr0, t)
    finite = ts[np.isfinite(ts)].astype(np.int64)
    tmax = int(finite.max()) if finite.size else 0
    if kind == "accumulate":
        path = _accumulate_e(model, regime.n, tmax)
        lim = _accumulate_e_limit(model, regime.n) if np.any(~np.isfinite(ts)) else 0.0
    else:
        path = _mix_path(model, regime, tmax)[:, 1]
        lim = stationary_point(model, regime)[1]
    out = np.where(np.isfinite(ts), path[np.where(np.isfinite(ts), ts, 0).astype(int)], lim)
    return _ret(out * tr0, t)


def variance_moment(model, regime, t, s=1.0):
    r""":math:`E(\det\Sigma_t/\det\Sigma_0)^s` under ``Replace(M)`` (1-D:
    :math:`E\sigma_t^{2s}/\sigma_0^{2s}`), any real ``s > -(M-d)/2``."""
    model = _check_model(model)
    _regime_kind(model, regime, "variance_moment", allowed=("replace",))
    ts = _check_t(t)
    return _ret(_power(_replace_log_moment(model, regime.n, float(s)), ts), t)


def expected_det_ratio(model, regime, t):
    r""":math:`E\det\Sigma_t/\det\Sigma_0 = [\prod_{j=1}^d (M-j)/\mathrm{den}]^t` under
    ``Replace(M)``: tends to 0 for ``d >= 2`` even with the unbiased estimator."""
    return variance_moment(model, regime, t, 1.0)


def expected_std(model, regime, t):
    r""":math:`E\sigma_t` of a 1-D Gaussian under ``Replace(M)``:
    :math:`\sigma_0 [c_4]^t`, :math:`c_4 = \sqrt{2/\mathrm{den}}\,
    \Gamma(M/2)/\Gamma((M-1)/2)`."""
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_std is for a 1-D Gaussian")
    return _ret(np.asarray(variance_moment(model, regime, t, 0.5)) * model.std, t)


def log_det_moments(model, regime, t):
    r"""Mean and variance of :math:`\log(\det\Sigma_t/\det\Sigma_0)` under
    ``Replace(M)`` (1-D: of :math:`\log\sigma_t^2/\sigma_0^2`): ``t`` times
    :math:`\sum_j[\psi(\frac{M-j}2) + \log\frac2{\mathrm{den}}]` and
    :math:`\sum_j\psi'(\frac{M-j}2)`. Returns ``(mean, var)``."""
    model = _check_model(model)
    _regime_kind(model, regime, "log_det_moments", allowed=("replace",))
    ts = _check_t(t)
    M = regime.n
    j = np.arange(1, model.dim + 1)
    a = (M - j) / 2.0
    drift = float(np.sum(psi(a) + math.log(2.0 / _den(model, M))))
    var = float(np.sum(polygamma(1, a)))
    with np.errstate(invalid="ignore"):
        mean = np.where(np.isfinite(ts), ts * drift, -np.inf if drift < 0 else np.inf)
        v = np.where(np.isfinite(ts), ts * var, np.inf)
    return _ret(mean, t), _ret(v, t)


def expected_w2sq(model, regime, t):
    r""":math:`E W_2^2(N(\mu_0,\sigma_0^2), N(\mu_t,\sigma_t^2)) = E(\mu_t-\mu_0)^2 +
    E\sigma_t^2 - 2\sigma_0 E\sigma_t + \sigma_0^2` for a 1-D Gaussian under
    ``Replace(M)``. Unbounded in ``t`` with the unbiased estimator (Shumailov et al.
    Thm 3.1), bounded with the MLE (limit :math:`2\sigma_0^2`)."""
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("expected_w2sq is implemented for a 1-D Gaussian")
    _regime_kind(model, regime, "expected_w2sq", allowed=("replace",))
    s0 = model.std
    out = (np.asarray(expected_mean_error(model, regime, t))
           + np.asarray(expected_variance(model, regime, t))
           - 2 * s0 * np.asarray(expected_std(model, regime, t)) + s0 * s0)
    return _ret(out, t)


# ---------------------------------------------------------------------- schedules
def gaussian_schedule(model, sizes) -> dict:
    r"""A 1-D Gaussian refitted under ``Replace`` with sample size ``sizes[i-1]`` at
    generation ``i`` (Shumailov et al.: growing sample sizes). Returns arrays over
    ``t = 0..len(sizes)`` of ``variance`` :math:`E\sigma_t^2`, ``std`` :math:`E\sigma_t`,
    ``mean_error`` :math:`E(\mu_t-\mu_0)^2 = \sum_{i\le t} E\sigma_{i-1}^2/M_i` and
    ``w2sq`` :math:`E W_2^2`. With the unbiased estimator ``mean_error`` is
    :math:`\sigma_0^2\sum_i 1/M_i`: :math:`E W_2^2` stays bounded iff
    :math:`\sum_i 1/M_i < \infty` (see :func:`schedule_bounded`)."""
    model = _check_model(model)
    if model.dim != 1:
        raise ValueError("gaussian_schedule is implemented for a 1-D Gaussian")
    Ms = [_check_positive_int(int(m) if float(m).is_integer() else m, "sizes[i]",
                              minimum=2) for m in sizes]
    v = [1.0]
    sd = [1.0]
    e = [0.0]
    for M in Ms:
        den = _den(model, M)
        e.append(e[-1] + v[-1] / M)
        v.append(v[-1] * (M - 1) / den)
        sd.append(sd[-1] * math.exp(0.5 * math.log(2.0 / den) + math.lgamma(M / 2)
                                    - math.lgamma((M - 1) / 2)))
    var0 = model.cov[0, 0]
    v, sd, e = np.array(v) * var0, np.array(sd) * model.std, np.array(e) * var0
    w2 = e + v - 2 * model.std * sd + var0
    return {"variance": v, "std": sd, "mean_error": e, "w2sq": w2}


def schedule_bounded(exponent: float) -> bool:
    r"""Whether :math:`E W_2^2` stays bounded (unbiased estimator) for sample sizes
    :math:`M_i \propto i^{p}`: iff :math:`\sum_i i^{-p}` converges, i.e. ``p > 1``
    (decided by sympy's convergence test)."""
    import sympy as sp

    p = sp.nsimplify(float(exponent))
    i = sp.Symbol("i", positive=True, integer=True)
    return bool(sp.Sum(i ** (-p), (i, 1, sp.oo)).is_convergent())
