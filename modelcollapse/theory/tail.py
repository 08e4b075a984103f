r"""The tail: test error of a memorising learner trained on synthetic data (the "Hutter
model" of Dohmatob et al. 2024, "A Tale of Tails", arXiv 2402.07043).

Tokens :math:`i` follow :math:`p` (typically Zipf, :math:`p_i \propto i^{-\beta}`), each
with a fixed answer; a learner that has seen :math:`i` answers it, one that has not errs.
Trained on ``T`` independent samples of a generator :math:`q` (and ``clean`` samples of
:math:`p` itself), its expected test error is

.. math:: E(T) = \sum_i p_i\,(1 - q_i)^T\,(1 - p_i)^{\mathrm{clean}}

(their eq. (9) with a deterministic labeller). Every generator of the toolkit fits here:

* a **sampling policy** of :math:`p` (``policy=``): ``top_k=k`` cuts the tail at rank
  ``k`` (their §2), ``top_p`` likewise, a temperature below 1 thins it;
* the **m-th recursive model** (``generations=m``, ``samples=T0``): :math:`q =
  p^{(m)}` of ``Replace(T0)``, so :math:`E = \sum_i p_i E[(1 - p^{(m)}_i)^T]`. A token's
  count is a one-dimensional chain, :math:`X^{(1)} \sim \mathrm{Bin}(T_0, p_i)`,
  :math:`X^{(j+1)} \sim \mathrm{Bin}(T_0, X^{(j)}/T_0)`, so the expectation is exact:
  :math:`f = M^{m-1}(1 - x/T_0)^T` backwards through the binomial kernel ``M``, then
  :math:`\sum_x \mathrm{Bin}(x; T_0, p_i) f(x)`.

``T = inf`` gives the plateau, the mass the generator never shows:
:math:`\sum_{i: q_i = 0} p_i` for a policy, :math:`E[\sum_{i: p^{(m)}_i = 0} p_i]`
recursively (at ``m = 1`` the clean error at ``T0``: :math:`\sum_i p_i (1 - p_i)^{T_0}`).

Asymptotics (their Theorem 2.1 and Corollary 2.2; :func:`tail_exponents`): with clean
data :math:`E \asymp T^{-(1 - 1/\beta)}`; cut at rank ``k``, :math:`E \asymp
T^{-(1-1/\beta)} + k^{-(\beta - 1)}`; a generator fitted to :math:`T_0` samples cuts at
:math:`k \asymp T_0^{1/\beta}`, a plateau :math:`\asymp T_0^{-(1 - 1/\beta)}`. The
toolkit checks the exponents by slope fits of these exact sums over decades.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import NamedTuple

import numpy as np
from scipy import stats

from ..errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ..models import check_categorical, check_positive_int, exact_probabilities
from ..sampling import SamplingPolicy, exact_sampling_distribution, sampling_distribution

__all__ = ["TailExponents", "tail_exponents", "tail_test_error"]

#: Largest ``samples`` (``T0``) of the recursive generator: the binomial kernel is
#: ``(T0 + 1)**2`` floats.
MAX_SAMPLES = 4000
#: Entries of the token-by-count binomial matrix built at once.
CHUNK = 1 << 22
#: ``exact=True``: largest ``samples`` and vocabulary.
EXACT_MAX_SAMPLES, EXACT_MAX_TOKENS = 40, 200


class TailExponents(NamedTuple):
    r"""The exponents of Dohmatob et al.'s scaling laws for Zipf data with exponent
    :math:`\beta > 1`: ``T`` (:math:`E \asymp T^{-c}`, :math:`c = 1 - 1/\beta`, clean
    data, Theorem 2.1), ``k`` (the plateau of a tail cut at rank ``k``,
    :math:`k^{-(\beta-1)}`), ``cut`` (the rank a sample of :math:`T_0` cuts at,
    :math:`T_0^{1/\beta}`, Corollary 2.2) and ``samples`` (that plateau,
    :math:`T_0^{-c}`)."""

    T: float
    k: float
    cut: float
    samples: float


def tail_exponents(beta) -> TailExponents:
    r"""The asymptotic exponents for :math:`p_i \propto i^{-\beta}` (``ValueError`` for
    :math:`\beta \le 1`, where :math:`\sum_i i^{-\beta}` diverges)."""
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"beta must be a real number, got {beta!r}")
    beta = float(beta)
    if not math.isfinite(beta) or beta <= 1:
        raise ValueError(f"beta must be > 1 (the Zipf sum of i^-beta diverges otherwise), "
                         f"got {beta}")
    c = 1 - 1 / beta
    return TailExponents(T=c, k=beta - 1, cut=1 / beta, samples=c)


def _check_T(T, exact: bool):
    arr = np.asarray(T, dtype=object if exact else np.float64)
    flat = [float(t) for t in np.ravel(arr)]
    if any(math.isnan(t) or t < 0 for t in flat):
        raise ValueError(f"T must be >= 0 samples, got {T!r}")
    if any(t != math.inf and not float(t).is_integer() for t in flat):
        raise ValueError(f"T must be whole numbers of samples (or inf), got {T!r}")
    if exact and any(t == math.inf for t in flat):
        raise ValueError("exact=True needs finite T")
    return np.asarray(T, dtype=np.float64), np.ndim(T) == 0


def tail_test_error(model, T, *, policy=None, generations: int = 0, samples=None,
                    clean: int = 0, exact: bool = False):
    r"""Expected test error of the memorising learner trained on ``T`` samples of a
    generator of ``model`` (and ``clean`` samples of ``model``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p` (e.g. ``Categorical.zipf(V, beta)``).
    T : int, inf or array
        Synthetic training samples; ``inf`` gives the plateau.
    policy : SamplingPolicy, optional
        The generator :math:`\pi(p)` (``top_k``: the tail cut at rank ``k``) when
        ``generations = 0``.
    generations : int
        ``0``: the generator is :math:`\pi(p)`; ``m >= 1``: the ``m``-th model of
        ``Replace(samples)`` (plain sampling), averaged exactly over its randomness.
    samples : int
        :math:`T_0`, the samples each recursive generation is fitted to (at most
        :data:`MAX_SAMPLES`).
    clean : int or array of int
        Samples of :math:`p` added to the training set (an array: one per entry of
        ``T``, e.g. a fixed clean share of a growing training set: the grokking curve of
        their Theorem 3.2).
    exact : bool
        Rational arithmetic (integer ``T``; ``1/temperature`` an integer).

    Returns
    -------
    float, Fraction or array (the shape of ``T``)
    """
    model = check_categorical(model)
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    generations = check_positive_int(generations, "generations", minimum=0)
    if policy is None:
        policy = SamplingPolicy()
    if not isinstance(policy, SamplingPolicy):
        raise WrongTypeError(f"policy must be a SamplingPolicy or None, got {policy!r}")
    Ts, scalar = _check_T(T, exact)
    cleans = _check_clean(clean, Ts.shape)
    if generations == 0:
        if samples is not None:
            raise ValueError("samples applies to generations >= 1 (the recursive "
                             "generator); generations=0 uses the policy's generator")
        out = _policy_error(model, Ts, policy, cleans, exact)
    else:
        if samples is None:
            raise ValueError(f"generations={generations} needs samples=T0 (the samples "
                             "each recursive generation is fitted to)")
        T0 = check_positive_int(samples, "samples")
        if not policy.plain:
            raise UnsupportedRegimeError(
                "the recursive generator's token counts form a one-dimensional chain under "
                "plain sampling only; simulate a policy", ("plain sampling",))
        cap = EXACT_MAX_SAMPLES if exact else MAX_SAMPLES
        if T0 > cap:
            raise TooLargeError(f"samples={T0} is above the cap {cap}: the binomial kernel "
                                f"has (samples + 1)**2 entries")
        out = _recursive_error(model, Ts, generations, T0, cleans, exact)
    if exact:
        return out[0] if scalar else np.array(out, dtype=object).reshape(Ts.shape)
    return float(out[0]) if scalar else np.asarray(out).reshape(Ts.shape)


def _check_clean(clean, shape) -> np.ndarray:
    arr = np.asarray(clean)
    if arr.dtype.kind not in "iu" or np.any(arr < 0):
        raise (ValueError if arr.dtype.kind in "iuf" else WrongTypeError)(
            f"clean must be a whole number of samples >= 0 (or an array of them), got "
            f"{clean!r}")
    try:
        return np.broadcast_to(arr, shape).astype(np.int64).ravel()
    except ValueError:
        raise ValueError(f"clean has shape {arr.shape}, T has shape {shape}: give one clean "
                         "count, or one per entry of T") from None


def _policy_error(model, Ts, policy, cleans, exact):
    if exact:
        p = exact_probabilities(model)
        if len(p) > EXACT_MAX_TOKENS:
            raise TooLargeError(f"exact=True sums over at most {EXACT_MAX_TOKENS} tokens")
        q = exact_sampling_distribution(p, policy)
        return [sum((pi * (1 - qi) ** int(t) * (1 - pi) ** int(c)
                     for pi, qi in zip(p, q, strict=True)), Fraction(0))
                for t, c in zip(Ts.ravel(), cleans, strict=True)]
    p = model.p
    q = sampling_distribution(p, policy)
    logq = np.log1p(-np.minimum(q, 1.0))  # log(1 - q); -inf where q = 1
    out = []
    for t, c in zip(Ts.ravel(), cleans, strict=True):
        w = p * (1 - p) ** c
        if t == math.inf:
            out.append(float(w[q == 0].sum()))
        else:
            with np.errstate(invalid="ignore"):
                terms = np.where(q == 0, 1.0, np.exp(t * logq) if t else 1.0)
            out.append(float(w @ terms))
    return out


def _recursive_error(model, Ts, m, T0, cleans, exact):
    x = np.arange(T0 + 1)
    if exact:
        p = exact_probabilities(model)
        if len(p) > EXACT_MAX_TOKENS:
            raise TooLargeError(f"exact=True sums over at most {EXACT_MAX_TOKENS} tokens")
        binom = [[Fraction(math.comb(T0, y)) * Fraction(k, T0) ** y
                  * (1 - Fraction(k, T0)) ** (T0 - y) for y in range(T0 + 1)]
                 for k in range(T0 + 1)]
        out = []
        for t, c in zip(Ts.ravel(), cleans, strict=True):
            f = [(1 - Fraction(k, T0)) ** int(t) for k in range(T0 + 1)]
            for _ in range(m - 1):
                f = [sum((binom[k][y] * f[y] for y in range(T0 + 1)), Fraction(0))
                     for k in range(T0 + 1)]
            out.append(sum((pi * (1 - pi) ** int(c) * sum(
                (Fraction(math.comb(T0, k)) * pi ** k * (1 - pi) ** (T0 - k) * f[k]
                 for k in range(T0 + 1)), Fraction(0)) for pi in p), Fraction(0)))
        return out
    p = model.p[model.p > 0]
    F = np.empty((T0 + 1, Ts.size))
    for j, t in enumerate(Ts.ravel()):
        F[:, j] = (x == 0) if t == math.inf else (1 - x / T0) ** t
    if m > 1:
        M = stats.binom.pmf(x[None, :], T0, x[:, None] / T0)  # M[k, y] = Bin(y; T0, k/T0)
        for _ in range(m - 1):
            F = M @ F
    W = p[:, None] * (1 - p[:, None]) ** cleans[None, :]
    out = np.zeros(Ts.size)
    # Bin(T0, p_i) is negligible beyond its mean + 40 sd + 40 (a tail below 1e-300):
    # tokens in order of p, each block summed up to its largest token's cut-off
    order = np.argsort(p)
    ps, Ws = p[order], W[order]
    hi = np.minimum(T0, np.ceil(T0 * ps + 40 * np.sqrt(T0 * ps * (1 - ps)) + 40)).astype(int)
    s = 0
    while s < ps.size:
        cols = hi[s] + 1
        e = s + max(1, CHUNK // cols)
        e = min(ps.size, s + max(1, int(np.searchsorted(hi[s:e], hi[s] * 2 + 1))))
        cols = hi[e - 1] + 1
        B = stats.binom.pmf(x[None, :cols], T0, ps[s:e, None])
        out += (Ws[s:e] * (B @ F[:cols])).sum(axis=0)
        s = e
    return list(out)
