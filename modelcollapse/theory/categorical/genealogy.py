r"""Exact expected homozygosity under every regime, from the genealogy of two samples.

docs/theory/regimes.md. The statistic is :math:`S_m = E\sum_i (p^{(m)}_i)^2`. Every fitted
model :math:`p^{(m)}` is the empirical law of its training set :math:`F_m` (a multiset of
:math:`N_m` samples), so :math:`\sum_i (p^{(m)}_i)^2` is the probability that **two
independent draws from** :math:`p^{(m)}` (two uniform positions of :math:`F_m`, equal
with probability :math:`1/N_m`) carry the same token. Trace both draws back through the
regime's :class:`~modelcollapse.regimes.Plan` (the engine's plan is the definition):
a draw from a fitted model copies a uniform element of that model's training set, which
is itself a draw from an earlier model or a real draw. Two lineages are *identical by
descent* (IBD) when they reach the same sample; a lineage that reaches a real draw stops.
Under plain sampling every sample's token has marginal law :math:`p^{(0)}`, and two
distinct real draws are independent, so with :math:`c_m = P(\text{IBD})`

.. math:: S_m = c_m + (1-c_m) S_0, \qquad 1 - S_m = (1 - S_0)\,D_m,\quad D_m = 1-c_m .

:math:`D_m` (:func:`noncoalescence`) does not depend on the model. Real draws are
*fresh* under ``MostRecent`` and ``RandomlySampled`` (every draw from model 0 is new)
and *kept* under ``Accumulate`` and ``AccumulateSubsample`` (the pool's block 0: ``n``
real samples drawn at generation 1, never redrawn), exactly as the simulators do.

The four genealogies and their exact solutions (:math:`n` samples per generation):

``RandomlySampled(n)``
    A sample of :math:`F_g` is a draw from model :math:`t` uniform in
    :math:`\{0,\dots,g-1\}`. The generations a lineage visits are the records of a
    uniform descent: generation :math:`s` is visited with probability :math:`1/(s+1)`,
    independently over :math:`s` (if the lineage jumps at or below :math:`s`, it lands
    uniformly on :math:`\{0..s\}`). Two lineages visit :math:`s` together with
    probability :math:`1/(s+1)^2` and then meet with probability :math:`1/n`; both
    start in :math:`F_m` (meet with probability :math:`1/n`). Hence

    .. math:: D_m = \prod_{j=1}^{m}\Big(1 - \frac{1}{n j^2}\Big) =: P_m(n).

``Accumulate(n)``
    The pool of generation :math:`m` is blocks :math:`0..m-1` of ``n`` samples (block 0
    real, kept; block :math:`b` drawn from :math:`p^{(b)}`), :math:`N_m = mn`, and
    :math:`p^{(m)}` is the law of the *whole pool*. A draw from :math:`p^{(b)}` lands in
    a uniform block of :math:`0..b-1`: the same record structure, with block 0 (the kept
    real sample) a place where lineages can still meet. Again :math:`D_m = P_m(n)`:
    **Accumulate and RandomlySampled have the same** :math:`S_m` **at every m**.

``AccumulateSubsample(n)``
    The pool grows as under Accumulate; :math:`F_m` is a uniform ``n``-subset of it.
    Let :math:`\Delta_t` be the probability that a uniform *distinct* pair of the pool
    of :math:`t` blocks is not IBD. A pair of distinct objects of block :math:`b`
    copies two elements of :math:`F_b` (equal w.p. :math:`1/n`, else a uniform distinct
    pool pair); an object of block :math:`b` and a uniform object of an older block
    copies a uniform pool element (equal w.p. :math:`1/(bn)`). Splitting the pool pair
    by blocks (same block w.p. :math:`(n-1)/(tn-1)`; otherwise the larger block is
    :math:`b` w.p. :math:`2b/(t(t-1))`) and writing :math:`U_t = t(tn-1)\Delta_t`:
    :math:`U_{t+1} - U_t = [(n-1)(1-1/n) + 2nt(1 - 1/(tn))]\Delta_t`, a first-order
    recursion, so

    .. math:: D_m = \Big(1-\frac1n\Big)\prod_{u=2}^{m}
              \Big(1 - \frac{3n-1}{n\,u\,(nu-1)}\Big).

``MostRecent(n, K)``
    Generation :math:`g` has :math:`k=\min(K,g)` blocks of :math:`b=\lfloor n/k\rfloor`
    samples, block :math:`j` drawn from :math:`p^{(g-j)}` (:math:`j = 1..k`; model 0 is
    fresh real draws), :math:`N_g = kb`. With :math:`E(s_1, s_2)` the probability that
    a draw from :math:`p^{(s_1)}` and an independent draw from :math:`p^{(s_2)}` are
    not IBD (:math:`E = 1` when either model is 0):

    .. math::
       E(s,s) &= \Big(1-\frac1{N_s}\Big)\frac1{k_s}\Big[\frac{b_s-1}{N_s-1}\sum_j E(s-j,s-j)
                 + \frac{b_s}{N_s-1}\sum_{j\ne j'} E(s-j, s-j')\Big],\\
       E(s_1,s_2) &= \frac1{k_{s_1}}\sum_{j=1}^{k_{s_1}} E(s_1-j, s_2)\quad (s_1 > s_2),

    a recursion over pairs of generations with :math:`|s_1 - s_2| < K` (a band), and
    :math:`D_m = E(m, m)`. ``Replace(n)`` is the case :math:`K = 1`:
    :math:`D_m = (1-1/n)^m` (Seddik et al. Thm 1).

Method ``"pairs"`` is the unreduced recursion over pairs of generations (blocks) of the
two lineages, for every regime (cost :math:`O(m^3)`, :math:`O(mK^2)` for MostRecent);
``"closed"`` evaluates the products above (:math:`O(m)`; MostRecent has no product
form and uses its banded pair recursion). ``"auto"`` is ``"closed"``. The tests check
both against a forward recursion of second moments in exact rational arithmetic and
against the simulators.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...models import check_categorical, exact_probabilities
from ...regimes import as_regime, require_plain_sampling
from .._results import check_flag, check_generations, check_method

__all__ = [
    "genealogy_homozygosity",
    "genealogy_homozygosity_from_S0",
    "noncoalescence",
    "stationary_homozygosity",
]

METHODS = ("auto", "closed", "pairs")
#: ``method="pairs"`` refuses more generations than this (its cost is cubic)
PAIRS_MAX_GENERATIONS = 400
#: largest generation the O(m) methods accept
MAX_GENERATIONS = 10**8
SUPPORTED = ("Replace", "MostRecent", "RandomlySampled", "Accumulate",
             "AccumulateSubsample")


# ---------------------------------------------------------------------- validation
def _genealogy(regime) -> tuple:
    """``(kind, n, window)`` of a regime from its plan: ``kind`` is ``"window"``
    (Replace: window 1; MostRecent), ``"uniform"``, ``"accumulate"`` or ``"subsample"``."""
    regime = as_regime(regime)
    require_plain_sampling(regime, "genealogy_homozygosity")
    plan = regime.plan()
    if plan.real or plan.synthetic_from != 1:
        raise UnsupportedRegimeError(
            f"genealogy_homozygosity covers regimes without a separate real block; use "
            f"modelcollapse.theory.homozygosity for {regime!r}", SUPPORTED)
    if plan.pool == "accumulate":
        return "accumulate", plan.n, 1
    if plan.pool == "subsample":
        return "subsample", plan.n, 1
    if plan.sources == "uniform":
        return "uniform", plan.n, 1
    if plan.sources == "window":
        return "window", plan.n, plan.window
    return "window", plan.n, 1  # "last", no pool, no real block: Replace


def _check_m(m) -> np.ndarray:
    return check_generations(m, MAX_GENERATIONS).astype(np.int64)




# ---------------------------------------------------------------------- closed forms
def _closed(kind: str, n: int, M: int, exact: bool) -> list:
    """``[D_0, ..., D_M]`` from the product forms (``kind`` not ``"window"``)."""
    one = Fraction(1) if exact else 1.0
    out = [one]
    d = one
    if kind in ("uniform", "accumulate"):
        for j in range(1, M + 1):
            d = d * (1 - one / (n * j * j))
            out.append(d)
        return out
    # subsample
    for u in range(1, M + 1):
        d = d * (1 - one / n) if u == 1 else d * (1 - (3 * n - 1) * one / (n * u * (n * u - 1)))
        out.append(d)
    return out


def _closed_float(kind: str, n: int, M: int) -> np.ndarray:
    """Vectorised float64 ``D_0..D_M`` (cumulative sums of ``log1p``)."""
    j = np.arange(1, M + 1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind in ("uniform", "accumulate"):
            terms = np.log1p(-1.0 / (n * j * j))
        else:
            terms = np.log1p(-(3.0 * n - 1.0) / (n * j * (n * j - 1.0)))
            if M:
                terms[0] = math.log1p(-1.0 / n) if n > 1 else -np.inf
        return np.exp(np.concatenate(([0.0], np.cumsum(terms))))


# ---------------------------------------------------------------------- pair recursions
def _window_pairs(n: int, K: int, M: int, exact: bool) -> list:
    """Banded pair recursion of MostRecent(n, K) (Replace: K = 1), generic arithmetic.

    ``E[s][d]`` is the probability that a draw from :math:`p^{(s)}` and one from
    :math:`p^{(s-d)}` are not IBD (:math:`0 \\le d < K`; 1 when ``s - d <= 0``)."""
    one = Fraction(1) if exact else 1.0
    E = [[one] * K]

    def get(a, b):
        if a < b:
            a, b = b, a
        return one if b <= 0 else E[a][a - b]

    for s in range(1, M + 1):
        k = min(K, s)
        b = n // k
        N = k * b
        row = [one] * K
        for d in range(1, min(K, s)):
            row[d] = sum(get(s - j, s - d) for j in range(1, k + 1)) * one / k
        same = sum(get(s - j, s - j) for j in range(1, k + 1))
        diff = sum(get(s - j1, s - j2) for j1 in range(1, k + 1)
                   for j2 in range(1, k + 1) if j1 != j2)
        inner = (same * (b - 1) + diff * b) * one / (N - 1) / k if N > 1 else one
        row[0] = (1 - one / N) * inner
        E.append(row)
    return [E[s][0] for s in range(M + 1)]


def _window_float(n: int, K: int, M: int) -> np.ndarray:
    """The banded recursion vectorised over the band (float64)."""
    E = np.ones((M + 1, K))
    jj = np.arange(1, K + 1)
    for s in range(1, M + 1):
        k = min(K, s)
        b = n // k
        N = k * b
        j = jj[:k]
        if K > 1 and s > 1:
            d = np.arange(1, min(K, s))
            a1, a2 = s - j[:, None], s - d[None, :]
            E[s, d] = E[np.maximum(a1, a2), np.abs(a1 - a2)].mean(axis=0)
        a1, a2 = s - j[:, None], s - j[None, :]
        G = E[np.maximum(a1, a2), np.abs(a1 - a2)]
        same = np.trace(G)
        diff = G.sum() - same
        inner = (same * (b - 1) + diff * b) / (N - 1) / k if N > 1 else 1.0
        E[s, 0] = (1.0 - 1.0 / N) * inner
    return E[:, 0].copy()


def _uniform_pairs(n: int, M: int, exact: bool) -> list:
    """RandomlySampled: ``E(s1, s2)`` for a draw from each of two models, unreduced."""
    one = Fraction(1) if exact else 1.0
    E = {}

    def get(a, b):
        if a < b:
            a, b = b, a
        return one if b == 0 else E[a, b]

    for s1 in range(1, M + 1):
        for s2 in range(1, s1):  # s1 > s2: the draw from s1 picks an object of F_{s1}
            E[s1, s2] = sum(get(t, s2) for t in range(s1)) * one / s1
        # two independent draws from p^(s): same object 1/n, else two independent models
        tot = sum(get(t1, t2) for t1 in range(s1) for t2 in range(s1))
        E[s1, s1] = (1 - one / n) * tot / (s1 * s1)
    return [one] + [E[s, s] for s in range(1, M + 1)]


def _pool_pairs(kind: str, n: int, M: int, exact: bool) -> list:
    """Accumulate / AccumulateSubsample: objects of the pool by block, unreduced.

    ``C[b1, b2]`` (``b1 >= b2``): probability that two distinct objects, uniform in
    blocks ``b1`` and ``b2`` (a uniform distinct pair when equal), are not IBD. Block 0
    holds the kept real samples. Block ``m`` stands for two fresh draws from ``p^(m)``.
    """
    one = Fraction(1) if exact else 1.0
    C = {(0, 0): one}

    def pair_in_pool(t):
        """A uniform distinct pair of the pool of blocks 0..t-1."""
        same = sum(C[b, b] for b in range(t)) * (n - 1)
        diff = sum(C[b1, b2] for b1 in range(t) for b2 in range(b1)) * 2 * n
        return (same + diff) * one / (t * (t * n - 1)) if t * n > 1 else one

    def two_uniform(t):
        """Two independent uniform objects of the pool of blocks 0..t-1."""
        return (1 - one / (t * n)) * pair_in_pool(t)

    out = [one]
    for b1 in range(1, M + 1):
        for b2 in range(b1):
            # the block-b1 object copies a uniform object of the pool 0..b1-1
            tot = one * 0
            for t in range(b1):
                if t == b2:
                    tot += (1 - one / n) * C[b2, b2]
                else:
                    tot += C[max(t, b2), min(t, b2)]
            C[b1, b2] = tot / b1
        if kind == "accumulate":
            C[b1, b1] = two_uniform(b1)
        else:  # two copies of the same subsample F_b1 of size n
            C[b1, b1] = (1 - one / n) * pair_in_pool(b1)
        out.append(C[b1, b1])
    return out


# ---------------------------------------------------------------------- public API
def noncoalescence(regime, m, *, exact: bool = False, method: str = "auto"):
    r""":math:`D_m = 1 - c_m`: the probability that two independent draws from
    :math:`p^{(m)}` are **not** identical by descent (see the module docstring), so
    that :math:`S_m = 1 - (1-S_0) D_m` for every model. ``D_0 = 1``.

    ``m`` is an int or an integer array (float64 result of the same shape);
    ``exact=True`` returns a ``Fraction`` for a scalar ``m``.

    Parameters
    ----------
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate`` or
        ``AccumulateSubsample`` with plain sampling, or its spec string.
    m : int or array_like of int
        Generations, ``>= 0``; a scalar with ``exact=True``.
    exact : bool, default False
        Rational arithmetic (``fractions.Fraction``).
    method : {"auto", "closed", "pairs"}, default "auto"
        As in :func:`genealogy_homozygosity` (``"auto"`` is ``"closed"``; ``"pairs"``
        takes ``m <= 400``).

    Returns
    -------
    float, numpy.ndarray or Fraction
        A float for a scalar ``m``, a float64 array of the shape of ``m`` for an array, a
        ``Fraction`` with ``exact=True``.

    Raises
    ------
    WrongTypeError
        ``regime`` neither a ``Regime`` nor a string, ``m`` not an integer (or array of
        them), ``exact`` not a bool, or ``method`` not a string.
    ValueError
        A negative ``m``, ``exact=True`` with an array ``m``, an unknown ``method``, or an
        invalid spec string.
    UnsupportedRegimeError
        ``Mix`` (see :func:`modelcollapse.theory.homozygosity`) or a sampling policy.
    TooLargeError
        ``m`` above ``10**8``, ``method="pairs"`` with ``m > 400``, or ``MostRecent(n, K)``
        with ``m K^2`` above ``2e8``.

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("Genealogies and homozygosity").
    """
    kind, n, K = _genealogy(regime)
    ms = _check_m(m)
    exact = check_flag(exact, "exact")
    method = check_method(method, METHODS)
    M = int(ms.max()) if ms.size else 0
    if exact and ms.ndim:
        raise ValueError("exact=True takes a scalar m")
    if method == "pairs" and M > PAIRS_MAX_GENERATIONS:
        raise TooLargeError(f"method='pairs' is cubic in m; m must be <= "
                            f"{PAIRS_MAX_GENERATIONS}, got {M}: use method='closed'")
    if kind == "window":
        if exact or method == "pairs":
            vals = _window_pairs(n, K, M, exact)
        else:
            if M * K * K > 2 * 10**8:
                raise TooLargeError(f"MostRecent(n, {K}) up to m={M} needs ~{M * K * K:.1e}"
                                    " operations (limit 2e8)")
            vals = _window_float(n, K, M)
    elif method == "pairs":
        vals = (_uniform_pairs(n, M, exact) if kind == "uniform"
                else _pool_pairs(kind, n, M, exact))
    elif exact:
        vals = _closed(kind, n, M, True)
    else:
        vals = _closed_float(kind, n, M)
    if exact:
        return vals[M]
    vals = np.asarray(vals, dtype=np.float64)
    out = vals[ms]
    return float(out) if ms.ndim == 0 else out


def genealogy_homozygosity_from_S0(S0, regime, m, *, method: str = "auto"):
    r""":math:`S_m = 1 - (1 - S_0) D_m` from :math:`S_0 = \sum_i p_i^2`: exact
    (``Fraction``) when ``S0`` is a ``Fraction`` and ``m`` an int, float64 otherwise.

    Parameters
    ----------
    S0 : float or Fraction
        :math:`S_0 = \sum_i p_i^2` of the real distribution, in ``[0, 1]``.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate`` or
        ``AccumulateSubsample`` with plain sampling, or its spec string.
    m : int or array_like of int
        Generations, ``>= 0``; a scalar when ``S0`` is a ``Fraction``.
    method : {"auto", "closed", "pairs"}, default "auto"
        As in :func:`genealogy_homozygosity` (``"auto"`` is ``"closed"``; ``"pairs"``
        takes ``m <= 400``).

    Returns
    -------
    float, numpy.ndarray or Fraction
        A ``Fraction`` when ``S0`` is one; otherwise a float for a scalar ``m`` and a
        float64 array of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``S0`` neither a real number nor a ``Fraction``, ``regime`` neither a ``Regime``
        nor a string, ``m`` not an integer (or array of them), or ``method`` not a string.
    ValueError
        A float ``S0`` outside ``[0, 1]``, a negative ``m``, an array ``m`` with a
        ``Fraction`` ``S0``, an unknown ``method``, or an invalid spec string.
    UnsupportedRegimeError
        ``Mix`` (see :func:`modelcollapse.theory.homozygosity`) or a sampling policy.
    TooLargeError
        ``m`` above ``10**8``, ``method="pairs"`` with ``m > 400``, or ``MostRecent(n, K)``
        with ``m K^2`` above ``2e8``.

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("Genealogies and homozygosity").
    """
    if isinstance(S0, Fraction):
        return 1 - (1 - S0) * noncoalescence(regime, m, exact=True, method=method)
    if isinstance(S0, (bool, np.bool_)) or not isinstance(
            S0, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"S0 must be a real number or a Fraction, got {S0!r}")
    if not 0.0 <= float(S0) <= 1.0:
        raise ValueError(f"S0 must be in [0, 1], got {S0}")
    D = noncoalescence(regime, m, method=method)
    out = 1.0 - (1.0 - float(S0)) * np.asarray(D)
    return float(out) if np.ndim(out) == 0 else out


def genealogy_homozygosity(model, regime, m, *, exact: bool = False, method: str = "auto"):
    r"""Expected homozygosity :math:`S_m = E\sum_i (p^{(m)}_i)^2` under ``Replace``,
    ``MostRecent``, ``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample``
    (plain sampling), exactly: :math:`S_m = 1 - (1-S_0)D_m` with :math:`D_m` from the
    genealogy of two draws (module docstring; :func:`noncoalescence`).

    Parameters
    ----------
    model : Categorical (with ``exact=True`` also a sequence of ``Fraction`` probabilities)
    regime : Regime or spec string
    m : int or integer array
        Generations (0 is the real model).
    exact : bool
        Rational arithmetic (``fractions.Fraction``) for a scalar ``m``.
    method : {"auto", "closed", "pairs"}
        ``"closed"``: the product forms (O(m)); ``"pairs"``: the unreduced recursion over
        pairs of generations of the two lineages (O(m^3), m <= 400).

    Returns
    -------
    float, ndarray of float64 (shape of ``m``) or Fraction

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("Genealogies and homozygosity").
    """
    exact = check_flag(exact, "exact")
    if exact:
        p = exact_probabilities(model) if not isinstance(model, (str, bytes)) else None
        if p is None:
            raise WrongTypeError(f"model must be a Categorical, got {type(model).__name__}")
        ms = _check_m(m)
        if ms.ndim:
            raise ValueError("exact=True takes a scalar m")
        return genealogy_homozygosity_from_S0(sum(x * x for x in p), regime, int(ms),
                                              method=method)
    model = check_categorical(model)
    return genealogy_homozygosity_from_S0(model.homozygosity, regime, m, method=method)


def stationary_homozygosity(model, regime, *, exact: bool = False):
    r""":math:`S_\infty = \lim_m S_m`.

    * ``RandomlySampled(n)`` and ``Accumulate(n)``: :math:`D_\infty = \prod_{j\ge1}
      (1 - x^2/j^2) = \sin(\pi x)/(\pi x)` with :math:`x = 1/\sqrt n` (Euler's product),
      so :math:`S_\infty = 1 - (1-S_0)\,\frac{\sin(\pi/\sqrt n)}{\pi/\sqrt n}`; the
      approach is algebraic, :math:`D_m - D_\infty \sim D_\infty/(nm)`.
    * ``AccumulateSubsample(n)``: the factor is :math:`(u-\alpha)(u-\beta)/(u(u-1/n))`
      with :math:`\alpha,\beta = (1 \mp \sqrt{12n-3})/(2n)` (:math:`\alpha+\beta = 1/n`),
      so the product telescopes into Gamma functions:
      :math:`D_\infty = (1-\frac1n)\,\Gamma(2)\Gamma(2-\frac1n)/(\Gamma(2-\alpha)\Gamma(2-\beta))`;
      :math:`D_m - D_\infty \sim (3-1/n)D_\infty/(nm)`.
    * ``Replace`` and ``MostRecent``: :math:`S_\infty = 1` (collapse).

    Method: the closed products of :func:`noncoalescence` and their infinite limits.
    ``exact=True`` is refused for the transcendental limits (``ValueError``) except the
    collapsing regimes (``Fraction(1)``).

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        probabilities (:func:`modelcollapse.models.exact_probabilities`).
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate`` or
        ``AccumulateSubsample`` with plain sampling, or its spec string.
    exact : bool, default False
        Return a ``Fraction`` (the collapsing regimes only).

    Returns
    -------
    float or Fraction
        :math:`S_\infty`; ``1.0`` (``Fraction(1)`` with ``exact=True``) under ``Replace``
        and ``MostRecent``.

    Raises
    ------
    ValueError
        ``exact=True`` under ``RandomlySampled``, ``Accumulate`` or ``AccumulateSubsample``
        (a transcendental limit), ``Fraction`` probabilities that do not sum to 1, or an
        invalid spec string.
    WrongTypeError
        ``model`` is not a ``Categorical`` (with ``exact=False``), ``regime`` neither a
        ``Regime`` nor a string, or ``exact`` not a bool.
    UnsupportedRegimeError
        ``Mix`` or a sampling policy.

    References
    ----------
    .. [1] L. Euler (1735/1748). The product :math:`\sin(\pi x)/(\pi x) = \prod_{j\ge1}(1 -
       x^2/j^2)`; see any text on the Gamma function (reflection formula
       :math:`\Gamma(1-x)\Gamma(1+x) = \pi x/\sin(\pi x)`).
    .. [2] The theory chapter, docs/theory/regimes.md ("Stationary homozygosity").
    """
    kind, n, _ = _genealogy(regime)
    exact = check_flag(exact, "exact")
    if exact:
        p = exact_probabilities(model)
        S0 = sum(x * x for x in p)
    else:
        S0 = check_categorical(model).homozygosity
    if kind == "window":
        return Fraction(1) if exact else 1.0
    if exact:
        raise ValueError("exact=True: the limit is transcendental (sin, Gamma) for "
                         f"{type(as_regime(regime)).__name__}")
    if n == 1:
        return 1.0
    if kind in ("uniform", "accumulate"):
        x = math.pi / math.sqrt(n)
        D = math.sin(x) / x
    else:
        r = math.sqrt(12 * n - 3)
        a, b = (1 - r) / (2 * n), (1 + r) / (2 * n)
        D = (1 - 1 / n) * math.exp(math.lgamma(2 - 1 / n) - math.lgamma(2 - a)
                                   - math.lgamma(2 - b))
    return 1.0 - (1.0 - S0) * D
