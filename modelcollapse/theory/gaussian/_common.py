"""Checks and helpers shared by the Gaussian theory modules: the model and regime checks,
the estimator's denominator, the ``Replace`` log-moment of one step."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from ...errors import UnsupportedRegimeError, WrongTypeError
from ...models import Gaussian
from ...regimes import Accumulate, Mix, Regime, Replace, refuse_curation, require_plain_sampling


# ---------------------------------------------------------------------- validation
def _check_model(model) -> Gaussian:
    if not isinstance(model, Gaussian):
        raise WrongTypeError(f"model must be a Gaussian, got {type(model).__name__}")
    return model


def _den(model, K):
    return K - 1 if model.estimator == "unbiased" else K


def _check_t(m):
    ts = np.asarray(m, dtype=np.float64)
    if np.any(np.isnan(ts)) or np.any(ts < 0) or np.any(
            np.isfinite(ts) & (ts != np.floor(ts))):
        raise ValueError(f"m must be a non-negative integer (or numpy.inf), got {m!r}")
    return ts


def _ret(arr, t):
    arr = np.asarray(arr, dtype=np.float64)
    return float(arr) if np.ndim(t) == 0 else arr


def _regime_kind(model, regime, what, allowed=("replace", "accumulate", "mix"),
                 singular_ok=False, temperature_ok=False):
    """The regime's kind; the sample size must give a non-singular fit (``n >= d + 1``),
    or, with ``singular_ok`` (formulas linear in the fit: its mean and trace are defined
    for a singular fit too), at least 2 samples. ``temperature_ok``: ``Replace`` may
    sample its fits at a temperature (from N(mu, T Sigma))."""
    if temperature_ok and isinstance(regime, Replace) and regime.top_k is None \
            and regime.top_p is None:
        refuse_curation(regime, what)
    else:
        require_plain_sampling(regime, what)
    need = 2 if singular_ok else model.dim + 1
    why = "for a fit" if singular_ok else "for a non-singular fit"
    if isinstance(regime, Replace):
        kind = "replace"
        if regime.n < need:
            raise ValueError(f"Replace(n) needs n >= {need} {why}, got n={regime.n}")
    elif isinstance(regime, Accumulate):
        kind = "accumulate"
        if regime.n < need:
            raise ValueError(f"Accumulate(n) needs n >= {need} {why}, got n={regime.n}")
    elif isinstance(regime, Mix):
        if not regime.fresh:
            raise UnsupportedRegimeError(
                f"{what} is exact for Mix(..., fresh=True) (new real data each "
                "generation); with the same real data every generation, simulate it "
                "with modelcollapse.montecarlo", _supported(allowed))
        kind = "mix"
        if regime.real < need:
            raise ValueError(f"Mix needs real >= {need} {why}, got real={regime.real}")
    elif isinstance(regime, Regime):
        raise UnsupportedRegimeError(
            f"{what} is exact for Replace, Accumulate and Mix(fresh=True); simulate "
            f"{type(regime).__name__} with modelcollapse.montecarlo", _supported(allowed))
    else:
        raise ValueError(f"regime must be a Regime such as Replace(n), got {regime!r}")
    if kind not in allowed:
        if kind == "mix":
            why = ("the fresh real points enter additively, sigma_m^2 = A_m sigma_{m-1}^2 "
                   "+ B_m (a perpetuity), so sigma_m^2 is not a product of independent "
                   "factors and its non-integer moments have no product form")
        else:
            why = "the variance is not a product of independent factors there"
        raise UnsupportedRegimeError(
            f"{what} has no exact finite-m form under {type(regime).__name__}: {why}; "
            "simulate it with modelcollapse.montecarlo (or use expected_variance / "
            "expected_mean_error)", _supported(allowed))
    return kind


def _supported(kinds) -> tuple[str, ...]:
    names = {"replace": "Replace", "accumulate": "Accumulate", "mix": "Mix(fresh=True)"}
    return tuple(names[k] for k in kinds)


# ---------------------------------------------------------------------- Replace
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)


def _log_gamma_ratio(a, s):
    """log Gamma(a+s)/Gamma(a) to ~1e-16 absolute (gammaln(a+s) - gammaln(a) loses
    ~eps*log Gamma(a), 1e-12 at a = 500): Stirling's series for a, a + s >= 10."""
    if min(a, a + s) < 10:
        return float(gammaln(a + s) - gammaln(a))
    b = a + s
    corr = sum(c * (b ** -(2 * n + 1) - a ** -(2 * n + 1)) for n, c in enumerate(_STIRLING))
    return (a - 0.5) * math.log1p(s / a) + s * math.log(b) - s + corr


def _replace_log_moment(model, M, s):
    """log E (det ratio of one generation)^s."""
    den = _den(model, M)
    j = np.arange(1, model.dim + 1)
    a = (M - j) / 2.0
    if np.any(a + s <= 0):
        raise ValueError(f"the moment of order s={s} is infinite (needs s > -(M-d)/2)")
    return float(sum(_log_gamma_ratio(float(aj), s) for aj in a) + len(a) * s * math.log(2.0 / den))


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


def _replace_ratio(model, regime, ts):
    """:math:`E\\Sigma_m/\\Sigma_0` under ``Replace(n, temperature=T)``: :math:`c^m
    T^{m-1}` with :math:`c = (n-1)/\\mathrm{den}` (generation 1 is fitted to real
    samples; later ones to samples of :math:`N(\\mu, T\\Sigma)`)."""
    M = regime.n
    c = _power(math.log((M - 1) / _den(model, M)), ts)
    if regime.temperature == 1.0:
        return c
    with np.errstate(invalid="ignore", over="ignore"):
        return c * np.where(ts >= 1, _power(math.log(regime.temperature), ts - 1), 1.0)


def mix_matrix(model, N, n):
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
    A, x = mix_matrix(model, regime.real, regime.synthetic)
    out = np.empty((tmax + 1, 2))
    out[0] = (1.0, 0.0)
    for k in range(1, tmax + 1):
        out[k] = x[:2]
        x = A @ x
    return out
