r"""Seddik et al. 2024 (arXiv 2404.05090), Theorem 4: the expected maximal split of the
real sample and the bound built on it, as printed and as derived."""

from __future__ import annotations

import math
from itertools import combinations, islice
from typing import NamedTuple

import numpy as np
from scipy.special import gammaln

from ...errors import TooLargeError
from ...models import Categorical, check_positive_int
from ...regimes import accepts_regime_spec
from .seddik import _exp, _log_mardia_G, _mix_sizes

__all__ = [
    "SplitExpectation",
    "seddik_split_expectation",
    "seddik_theorem4_bound",
]

# ---------------------------------------------------------------------- Seddik Thm 4
#: :func:`seddik_split_expectation` enumerates at most this many count vectors of the
#: ``N`` real samples exactly (``method="exact"`` refuses more: ``TooLargeError``).
SEDDIK_T4_MAX_STATES = 200_000
#: Monte Carlo sample size of :func:`seddik_split_expectation` (``method="montecarlo"``).
SEDDIK_T4_SAMPLES = 20_000
#: The Monte Carlo bound uses the estimate plus this many standard errors (capped).
SEDDIK_T4_MC_Z = 4.0
#: Subset sums are enumerated (2^(s-1) of them, vectorised) up to this support size;
#: beyond, a bitset of reachable subset sums is built per count vector.
_SUBSET_ENUM_MAX_S = 14
_SEDDIK_T4_FORMS = ("printed", "derived", "conditional")
_SPLIT_METHODS = ("auto", "exact", "montecarlo")


class SplitExpectation(NamedTuple):
    r""":math:`E[\max_A p^{(1)}(A)\,p^{(1)}(A^c)]` over the empirical law
    :math:`p^{(1)}` of ``N`` real samples, with how it was computed."""

    value: float
    stderr: float  # 0 for exact enumeration (float rounding only)
    method: str  # "exact" (every count vector) or "montecarlo" (seeded)
    points: int  # count vectors enumerated, or Monte Carlo samples


def _phi(x: float) -> float:
    r"""Mardia's :math:`\varphi(x) = \log\frac{1-x}{x}/(1-2x) = 2\,\mathrm{artanh}(t)/t`,
    :math:`t = 1 - 2x`, on :math:`[0, 1/2]`: decreasing, :math:`\varphi(1/2) = 2`,
    :math:`\varphi(0) = \infty`."""
    if x <= 0.0:
        return math.inf
    t = 1.0 - 2.0 * x
    if t < 1e-6:
        return 2.0 + 2.0 * t * t / 3.0  # 2 artanh(t)/t = 2 + 2t^2/3 + O(t^4)
    return 2.0 * math.atanh(t) / t


def _max_split(counts: np.ndarray, N: int) -> np.ndarray:
    r""":math:`\max_A q_A(1-q_A)` for every row of ``counts`` (shape ``(K, s)``, rows
    summing to ``N``), :math:`q_A` the subset sums over ``N``: ``q(1-q)`` increases as
    ``q`` nears 1/2, so the maximum is at the subset sum closest to ``N/2``."""
    K, s = counts.shape
    if s == 1:
        return np.zeros(K)
    if s <= _SUBSET_ENUM_MAX_S:
        # subsets containing symbol 0 suffice (q_A(1-q_A) is symmetric in A <-> A^c)
        masks = np.arange(2 ** (s - 1), dtype=np.int64)
        member = np.ones((s, masks.size), dtype=np.int64)
        for i in range(1, s):
            member[i] = (masks >> (i - 1)) & 1
        out = np.empty(K)
        chunk = max(1, 2_000_000 // masks.size)
        for lo in range(0, K, chunk):
            sums = counts[lo:lo + chunk].astype(np.int64) @ member
            out[lo:lo + chunk] = (sums * (N - sums)).max(axis=1)
        return out / float(N) ** 2
    out = np.empty(K)
    half = N // 2
    for row, r in enumerate(counts):
        parts = sorted(int(x) for x in r if x)
        reach, total, i = 1, 0, 0
        while i < len(parts) and parts[i] <= total + 1:  # sums 0..total all reachable
            total += parts[i]
            i += 1
        reach = (1 << (total + 1)) - 1
        for x in parts[i:]:
            reach |= reach << x
        d = 0
        while not ((reach >> (half - d)) & 1 or (reach >> (half + d)) & 1):
            d += 1
        k = half - d if (reach >> (half - d)) & 1 else half + d
        out[row] = k * (N - k)
    return out / float(N) ** 2


def _compositions_array(N: int, s: int, start: int, stop: int) -> np.ndarray:
    """Compositions ``start..stop-1`` of ``N`` into ``s`` parts (stars and bars)."""
    bars = np.array(list(islice(combinations(range(N + s - 1), s - 1), start, stop)),
                    dtype=np.int64).reshape(-1, s - 1)
    k = bars.shape[0]
    edges = np.hstack([np.full((k, 1), -1), bars, np.full((k, 1), N + s - 1)])
    return np.diff(edges, axis=1) - 1


def _split_values(model, real, method, samples, seed, max_states):
    """``(values, weights, method, points)``: :math:`\\max_A p^{(1)}(A)p^{(1)}(A^c)` on
    every count vector (weights: multinomial probabilities) or on Monte Carlo draws
    (weights ``1/samples``)."""
    N = check_positive_int(real, "real")
    if not isinstance(method, str) or method not in _SPLIT_METHODS:
        raise ValueError(f"method must be one of {_SPLIT_METHODS}, got {method!r}")
    samples = check_positive_int(samples, "samples", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    max_states = check_positive_int(max_states, "max_states")
    p = model.p if isinstance(model, Categorical) else model
    p = np.asarray(p, dtype=np.float64)
    if p.ndim != 1 or p.size == 0 or not np.all(np.isfinite(p)) or np.any(p < 0) or abs(
            p.sum() - 1.0) > 1e-9:
        raise ValueError(f"model must be a probability vector, got {model!r}")
    p = p[p > 0] / p[p > 0].sum()
    s = p.size
    if s == 1:
        return np.zeros(1), np.ones(1), "exact", 1
    states = math.comb(N + s - 1, s - 1)
    if method == "exact" and states > max_states:
        raise TooLargeError(
            f"exact enumeration of p^(1) needs {states} count vectors of N={N} real samples "
            f"on {s} symbols, more than max_states={max_states}: raise max_states, or use "
            "method='montecarlo'")
    if method == "exact" or (method == "auto" and states <= max_states):
        values, weights = np.empty(states), np.empty(states)
        logp, lgN = np.log(p), gammaln(N + 1)
        step = 50_000
        for lo in range(0, states, step):
            c = _compositions_array(N, s, lo, lo + step)
            hi = lo + c.shape[0]
            values[lo:hi] = _max_split(c, N)
            weights[lo:hi] = np.exp(lgN - gammaln(c + 1).sum(axis=1) + c @ logp)
        return values, weights, "exact", states
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(N, p, size=samples)
    return _max_split(counts, N), np.full(samples, 1.0 / samples), "montecarlo", samples


def _mean_se(values, weights, method):
    mean = float(weights @ values)
    if method == "exact":
        return mean, 0.0
    k = values.size
    return mean, float(np.std(values, ddof=1) / math.sqrt(k))


def seddik_split_expectation(model, real: int, *, method: str = "auto",
                             samples: int = SEDDIK_T4_SAMPLES, seed: int = 0,
                             max_states: int = SEDDIK_T4_MAX_STATES) -> SplitExpectation:
    r""":math:`E[\max_A p^{(1)}(A)\,p^{(1)}(A^c)]`, :math:`p^{(1)}` the empirical law of
    ``real`` samples of ``model`` (the quantity in :math:`\zeta` of Seddik Thm 4).

    For a fixed :math:`p^{(1)}`, :math:`\max_A p^{(1)}(A)(1-p^{(1)}(A)) = q(1-q)` with
    ``q`` the subset sum of :math:`p^{(1)}` closest to 1/2. ``method="exact"`` sums this
    over all :math:`\binom{N+s-1}{s-1}` count vectors with their multinomial
    probabilities (``TooLargeError`` beyond ``max_states``); ``"montecarlo"`` averages
    ``samples`` seeded multinomial draws and reports the standard error; ``"auto"``
    (default) is exact up to ``max_states``. For ``s = 2`` the value is
    :math:`(1 - 1/N)p_1p_2` (:math:`E[r_1r_2] = N(N-1)p_1p_2`).

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities (summing to 1 within
        1e-9).
    real : int
        Number ``N`` of real samples, ``>= 1``.
    method : {"auto", "exact", "montecarlo"}, default "auto"
        Exact enumeration of the count vectors, a seeded Monte Carlo average, or exact up
        to ``max_states`` count vectors and Monte Carlo beyond.
    samples : int, default 20000
        Monte Carlo sample size, ``>= 2``.
    seed : int, default 0
        Seed of the Monte Carlo draws, ``>= 0``.
    max_states : int, default 200000
        Largest number of count vectors enumerated exactly, ``>= 1``.

    Returns
    -------
    SplitExpectation
        Named tuple ``(value, stderr, method, points)``: the expectation, its standard
        error (0 when exact), ``"exact"`` or ``"montecarlo"``, and the number of count
        vectors or Monte Carlo draws. A Dirac :math:`p^{(0)}` gives
        ``(0.0, 0.0, "exact", 1)``.

    Raises
    ------
    ValueError
        An unknown ``method``, ``model`` not a probability vector, or an integer argument
        below its minimum.
    WrongTypeError
        ``real``, ``samples``, ``seed`` or ``max_states`` not an integer.
    TooLargeError
        ``method="exact"`` with more than ``max_states`` count vectors.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
    """
    values, weights, how, points = _split_values(model, real, method, samples, seed,
                                                 max_states)
    mean, se = _mean_se(values, weights, how)
    return SplitExpectation(mean, se, how, points)


@accepts_regime_spec
def seddik_theorem4_bound(model, regime, *, form: str = "printed", method: str = "auto",
                          samples: int = SEDDIK_T4_SAMPLES, seed: int = 0,
                          max_states: int = SEDDIK_T4_MAX_STATES) -> float:
    r"""Seddik Thm 4: under ``Mix(real=N, synthetic=n)`` (the same ``N`` real samples every
    generation), :math:`\alpha = n/(N+n)`, for every ``m >= 2``

    .. math:: E\|p^{(m)} - p^{(1)}\|_1 < \frac1N\sqrt{\frac{\pi n}{\varphi(\zeta)}}\;G_n(s),
              \qquad \varphi(x) = \frac{1}{1-2x}\log\frac{1-x}{x},

    Theorem 3 (:func:`seddik_deviation_bound`) with :math:`\varphi(\zeta) \ge 2`
    (:math:`\zeta \le 1/2`) in place of 2, hence never larger. With
    :math:`\bar v = E[\max_A p^{(1)}(A)p^{(1)}(A^c)]` (:func:`seddik_split_expectation`):

    * ``form="printed"`` (the paper): :math:`\zeta = \frac12 - (\frac12 - 2\bar v)(1-\alpha)^2`;
    * ``form="derived"``: :math:`\zeta = \frac12 - (1-\alpha)\sqrt{1/4 - \bar v}`, never
      larger, so the bound is sharper;
    * ``form="conditional"``: :math:`\sqrt{\pi n}\,G_n(s)\,E[\varphi(\zeta_1)^{-1/2}]/N`
      with :math:`\zeta_1 = \min\{\frac12, (1-\alpha)\pi_{p^{(1)}} + \alpha\}`, the
      expectation over :math:`p^{(1)}` exact (no Jensen step).

    The argument: :math:`p^{(k+1)} - p^{(1)} = \alpha(\hat p_n(p^{(k)}) - p^{(k)}) +
    \alpha(p^{(k)} - p^{(1)})` gives :math:`E\|p^{(m)}-p^{(1)}\|_1 < \frac{n}{N}\sup_k
    E\|\hat p_n(p^{(k)}) - p^{(k)}\|_1`, and Mardia's inequality (Lemma 1) integrated over
    :math:`\varepsilon` gives :math:`E[\|\hat p_n(p)-p\|_1 \mid p] \le
    G_n(s)\sqrt{\pi/(n\varphi(\pi_p))}`, :math:`\pi_p = \max_A\min\{p(A), 1-p(A)\}`.
    ``conditional`` then uses :math:`\pi_{p^{(k)}} \le (1-\alpha)\pi_{p^{(1)}} + \alpha`
    (every :math:`p^{(k)}(A) \in [(1-\alpha)p^{(1)}(A), (1-\alpha)p^{(1)}(A) + \alpha]`):
    valid for every ``s``, but no better than Theorem 3 once :math:`\alpha` is large.
    ``printed`` and ``derived`` use that :math:`\varphi^{-1/2}` is increasing and concave
    in :math:`\pi_p` and in :math:`v = \pi_p(1-\pi_p) = \max_A p(A)p(A^c)` (Jensen), and
    the step :math:`E\max_A p^{(k)}(A)p^{(k)}(A^c) \le \frac14 - (1-\alpha)^2(\frac14 -
    \bar v)` (for one set ``A``, :math:`E(p^{(k)}(A) - \frac12)^2 \ge
    (1-\alpha)^2(p^{(1)}(A) - \frac12)^2`). ``derived`` inverts
    :math:`v = \pi(1-\pi)` exactly; ``printed`` follows from it through
    :math:`\pi \le 2\pi(1-\pi)`. The step holds for ``s = 2`` (one set ``A``); for
    ``s >= 3`` it exchanges :math:`E` and :math:`\max_A` (it fails for a fixed
    :math:`p^{(1)} = (1/3,1/3,1/3)`, ``N = 3``, ``n = 1``), so there ``printed`` and
    ``derived`` are checked numerically only (:mod:`modelcollapse.proofs.seddik_theorem3`).

    :math:`\bar v` is computed by ``method`` as in :func:`seddik_split_expectation`;
    with Monte Carlo the estimate plus :data:`SEDDIK_T4_MC_Z` standard errors (capped at
    its largest possible value) is used, so the bound errs on the larger side. Returns
    0 for a Dirac :math:`p^{(0)}`.

    Parameters
    ----------
    model : Categorical or sequence of float
        The real distribution :math:`p^{(0)}` or its probabilities (summing to 1 within
        1e-9).
    regime : Mix
        ``Mix(real=N, synthetic=n)`` with ``fresh=False`` and plain sampling. A spec string
        is not accepted here.
    form : {"printed", "derived", "conditional"}, default "printed"
        Which bound (see above).
    method : {"auto", "exact", "montecarlo"}, default "auto"
        Exact enumeration of the count vectors, a seeded Monte Carlo average, or exact up
        to ``max_states`` count vectors and Monte Carlo beyond.
    samples : int, default 20000
        Monte Carlo sample size, ``>= 2``.
    seed : int, default 0
        Seed of the Monte Carlo draws, ``>= 0``.
    max_states : int, default 200000
        Largest number of count vectors enumerated exactly, ``>= 1``.

    Returns
    -------
    float
        The bound on :math:`E\|p^{(m)} - p^{(1)}\|_1`; 0 for a Dirac :math:`p^{(0)}`.

    Raises
    ------
    ValueError
        ``regime`` is not a ``Mix`` or is one with ``fresh=True``, an unknown ``form`` or
        ``method``, ``model`` not a probability vector, or an integer argument below its
        minimum.
    WrongTypeError
        ``real``, ``samples``, ``seed`` or ``max_states`` not an integer.
    TooLargeError
        ``method="exact"`` with more than ``max_states`` count vectors.
    UnsupportedRegimeError
        A sampling policy.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] J. Mardia, J. Jiao, E. Tánczos, R. D. Nowak, T. Weissman (2020). *Concentration
       inequalities for the empirical distribution of discrete distributions: beyond the method of
       types.* Information and Inference 9, 813–850.
    .. [3] The theory chapter, docs/theory/bounds.md ("Seddik et al. Theorems 3 and 4: drift under
       Mix").
    """
    N, n, s = _mix_sizes(model, regime)
    if not isinstance(form, str) or form not in _SEDDIK_T4_FORMS:
        raise ValueError(f"form must be one of {_SEDDIK_T4_FORMS}, got {form!r}")
    values, weights, how, _ = _split_values(model, N, method, samples, seed, max_states)
    if s == 1:
        return 0.0
    alpha = n / (N + n)
    z = 0.0 if how == "exact" else SEDDIK_T4_MC_Z
    log_front = 0.5 * math.log(math.pi * n) + _log_mardia_G(n, s) - math.log(N)
    if form == "conditional":
        pi1 = 0.5 * (1.0 - np.sqrt(np.maximum(0.0, 1.0 - 4.0 * values)))
        zeta1 = np.minimum(0.5, (1.0 - alpha) * pi1 + alpha)
        g = np.array([_phi(float(x)) ** -0.5 for x in zeta1])
        mean, se = _mean_se(g, weights, how)
        return _exp(log_front) * min(math.sqrt(0.5), mean + z * se)
    mean, se = _mean_se(values, weights, how)
    vbar = min(0.25, mean + z * se)
    if form == "printed":
        zeta = 0.5 - (0.5 - 2.0 * vbar) * (1.0 - alpha) ** 2
    else:
        zeta = 0.5 - (1.0 - alpha) * math.sqrt(max(0.0, 0.25 - vbar))
    return _exp(log_front - 0.5 * math.log(_phi(zeta)))
