r"""Exact laws of the pool regimes by forward propagation of their count chains (small
``n``, 2--4 tokens): ``RandomlySampled``, ``Accumulate``, ``AccumulateSubsample`` and
``Mix``, any sampling policy, and the fit statistics of ``Replace``/``MostRecent`` at
finite ``m``.


``RandomlySampled(n)``, ``Accumulate(n)``, ``AccumulateSubsample(n)``: **collapse is not
absorbing** (or impossible), so there is no collapse time to speak of; what is exact
here is :math:`P(p^{(m)}\ \text{is a Dirac})`, :math:`E|\mathrm{supp}\,p^{(m)}|` and
:math:`E\sum_i (p^{(m)}_i)^2` at finite ``m`` by forward propagation of a growing state
(refused with :class:`~modelcollapse.errors.TooLargeError` beyond the size caps), and the
stationary homozygosity (:func:`modelcollapse.theory.stationary_homozygosity`).

* ``RandomlySampled(n)``: each sample picks a model uniformly in :math:`0..g-1`, so
  given the past :math:`X^{(g)} \sim \mathrm{Mult}(n, \bar p_g)`,
  :math:`\bar p_g = (p^{(0)} + Y_{g-1}/n)/g` with :math:`Y_{g} = \sum_{t\le g} X^{(t)}`:
  Markov on :math:`Y`. Real draws are fresh, so a lost token comes back with probability
  at least :math:`1-(1-p_i/g)^n` each generation, and a Dirac fit is left again.
* ``Accumulate(n)``: :math:`p^{(m)}` is the law of the whole pool, which keeps the ``n``
  real samples: for ``m >= 1`` the support never changes, so
  :math:`P(\text{Dirac}) = \sum_i p_i^n` and
  :math:`E|\mathrm{supp}| = \sum_i (1 - (1-p_i)^n)` at every ``m >= 1`` (a token is lost
  at generation 1 or never). The pool chain checks these and the homozygosity.
* ``AccumulateSubsample(n)``: state (pool, fit); the fit is a subsample of the pool
  without replacement and can be a Dirac or miss a token, but the pool keeps every
  token of the real sample, so both are left again with positive probability.

Solvers: sparse LU of :math:`I - Q` (SuperLU) for the moments; forward propagation of
the law (non-negative sums) for the distributions. The tests check the chain against a
plain enumeration in ``Fraction`` arithmetic, against the genealogy homozygosity
(:func:`modelcollapse.theory.homozygosity`, to 1e-12) and against the Numba simulator.
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import TooLargeError
from ...models import check_categorical
from ...regimes import (
    as_regime,
)
from ._counts import (
    MAX_LABELLED_STATES,
    MAX_WORK,
    _add_table,
    _check_m,
    _comps,
    _convolve,
    _dot,
    _draw,
    _fit_stats,
    _hypergeometric,
    _multinomial,
    _ncomps,
    _regime_kind,
    _support,
    lump_token,
)
from .approximate import simulation_fallback
from .window_chain import _WindowChain
from .window_laws import overlapping_token_loss

__all__ = [
    "dirac_probability",
    "first_loss_probability",
    "overlapping_homozygosity",
    "overlapping_surviving_tokens",
]


# ---------------------------------------------------------------------- fit statistics
def _window_stats(p, n, K, M, policy) -> dict:
    """Per-generation statistics ``m = 0..M`` under ``MostRecent(n, K)``."""
    chain = _WindowChain(p, n, K, policy=policy)
    rows, _, states, probs, _ = chain.phase1(None, horizon=M)
    if M > chain.G0:
        law = chain.lump(states, probs)
        Pt = chain.P.T.tocsr()
        for _ in range(chain.G0 + 1, M + 1):
            law = Pt @ law
            rows.append({k: _dot(law, v) for k, v in chain.feat.items()})
    return rows


def _growing_check(states_per_gen, C_new, what):
    work = sum(states_per_gen) * C_new
    if max(states_per_gen) > MAX_LABELLED_STATES or work > MAX_WORK:
        raise TooLargeError(
            f"{what}: the exact state grows with m (up to {max(states_per_gen)} states, "
            f"{work:.2e} operations; limits {MAX_LABELLED_STATES} and {MAX_WORK:.0e}): use "
            "a smaller m, n or vocabulary, or simulate with modelcollapse.montecarlo")


def _kill_token(rows, joint, fits, token):
    """With ``token`` (index in the support): remove from ``joint`` (columns: the new
    fits ``fits``) the paths whose fit lacks it, and record in ``rows[-1]["lost"]`` the
    probability that it has been absent from some fit so far (rows then describe the
    surviving paths only)."""
    if token is None:
        return
    dead = fits[:, token] == 0
    gone = float(joint[:, dead].sum())
    joint[:, dead] = 0.0
    rows[-1]["lost"] = (rows[-2]["lost"] if len(rows) > 1 else 0.0) + gone


def _uniform_stats(p, n, M, policy, token=None) -> list:
    """RandomlySampled(n): Markov on :math:`Y_{g-1}`, :math:`X^{(g)} \\sim
    \\mathrm{Mult}(n, (p^{(0)} + Y_{g-1}/n)/g)`."""
    if not policy.plain:
        return _uniform_policy_stats(p, n, M, policy, token)
    s = p.size
    Cn = _comps(n, s)[0]
    _growing_check([_ncomps(g * n, s) for g in range(M)], Cn.shape[0], "RandomlySampled")
    feats = _fit_stats(Cn)
    law = np.ones(1)
    rows = []
    for g in range(1, M + 1):
        Y = _comps((g - 1) * n, s)[0]
        mix = (p[None, :] + Y / n) / g
        joint = law[:, None] * _multinomial(mix, n)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
        if g < M:
            law = np.bincount(_add_table((g - 1) * n, n, s).ravel(), weights=joint.ravel(),
                              minlength=_comps(g * n, s)[0].shape[0])
    return rows


def _uniform_policy_stats(p, n, M, policy, token=None) -> list:
    """RandomlySampled(n) under a sampling policy: given the past, :math:`X^{(g)} \\sim
    \\mathrm{Mult}(n, (p^{(0)} + \\sum_{t=1}^{g-1} \\pi(p^{(t)}))/g)` with :math:`\\pi` the
    policy's map, which is not linear: the law depends on the multiset of the past fits,
    not on their sum. The state is that multiset (sorted fit indices), merged when equal.
    """
    s = p.size
    Cn = _comps(n, s)[0]
    C = Cn.shape[0]
    sizes = [math.comb(C + g - 1, g) for g in range(M)]  # multisets of g fits
    _growing_check(sizes, C, "RandomlySampled with a sampling policy")
    pol = _draw(Cn / n, policy)  # (C, s)
    feats = _fit_stats(Cn)
    states = np.zeros((1, 0), dtype=np.int64)
    law = np.ones(1)
    rows = []
    for g in range(1, M + 1):
        mix = (p[None, :] + pol[states].sum(axis=1)) / g
        joint = law[:, None] * _multinomial(mix, n)  # (S, C)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
        if g < M:
            r, y = np.nonzero(joint > 0)
            new = np.sort(np.concatenate([states[r], y[:, None]], axis=1), axis=1)
            states, inv = np.unique(new, axis=0, return_inverse=True)
            law = np.bincount(inv.ravel(), weights=joint[r, y], minlength=states.shape[0])
    return rows


def _mix_stats(p, N, n, fresh, M, policy, token=None) -> list:
    """Mix(N, n): generation 1 is the real sample :math:`R \\sim \\mathrm{Mult}(N,
    p^{(0)})`; generation ``g >= 2`` is :math:`R + S_g`, :math:`S_g \\sim
    \\mathrm{Mult}(n, \\pi(p^{(g-1)}))`, with the same ``R`` (Markov on ``(R, S)``) or,
    ``fresh``, a new one each generation (Markov on the fit :math:`R_g + S_g`)."""
    s = p.size
    CN, Cn, CF = _comps(N, s)[0], _comps(n, s)[0], _comps(N + n, s)[0]
    work = (CN.shape[0] * Cn.shape[0] ** 2 if not fresh else CF.shape[0] * Cn.shape[0]) * M
    if work > MAX_WORK or CN.shape[0] * Cn.shape[0] > MAX_LABELLED_STATES:
        raise TooLargeError(
            f"Mix({N}, {n}): the exact chain costs about {work:.2e} operations (limit "
            f"MAX_WORK = {MAX_WORK:.0e}): use a smaller m, N, n or vocabulary, or simulate "
            "with modelcollapse.montecarlo")
    real = _multinomial(p, N)[0]  # law of R over CN
    rows = [{k: _dot(real, v) for k, v in _fit_stats(CN).items()}]
    law_real = real.copy()
    _kill_token(rows, law_real[None, :], CN, token)
    if M == 1:
        return rows
    featF = _fit_stats(CF)
    first = _multinomial(_draw(CN / N, policy), n)  # (CN, Cn): S_2 given R
    A = _multinomial(_draw(CF / (N + n), policy), n)  # (CF, Cn): S given the last fit
    add = _add_table(N, n, s)  # (CN, Cn) -> index in CF
    if not fresh:
        L = law_real[:, None] * first  # (R, S) of generation 2
        for g in range(2, M + 1):
            if g > 2:
                L = np.einsum("rs,rst->rt", L, A[add])
            marg = np.bincount(add.ravel(), weights=L.ravel(), minlength=CF.shape[0])
            rows.append({k: _dot(marg, v) for k, v in featF.items()})
            if token is not None:
                dead = CF[add, token] == 0
                gone = float(L[dead].sum())
                L = np.where(dead, 0.0, L)
                rows[-1]["lost"] = rows[-2]["lost"] + gone
        return rows
    law_S = law_real @ first  # S_2 (R_1 is gone: the real block is new)
    for _ in range(2, M + 1):
        law_F = _convolve(real[None, :], N, law_S[None, :], n, s)[0]
        rows.append({k: _dot(law_F, v) for k, v in featF.items()})
        _kill_token(rows, law_F[None, :], CF, token)
        law_S = law_F @ A
    return rows


def _accumulate_stats(p, n, M, policy) -> list:
    """Accumulate(n): the pool :math:`Y_g` (``g n`` samples) is Markov,
    :math:`Y_{g+1} = Y_g + \\mathrm{Mult}(n, Y_g/(gn))`, :math:`p^{(g)} = Y_g/(gn)`."""
    s = p.size
    Cn = _comps(n, s)[0].shape[0]
    _growing_check([_ncomps(g * n, s) for g in range(1, M + 1)], Cn, "Accumulate")
    law = _multinomial(p, n)[0]
    rows = []
    for g in range(1, M + 1):
        Y = _comps(g * n, s)[0]
        rows.append({k: _dot(law, v) for k, v in _fit_stats(Y).items()})
        if g < M:
            joint = law[:, None] * _multinomial(_draw(Y / (g * n), policy), n)
            law = np.bincount(_add_table(g * n, n, s).ravel(), weights=joint.ravel(),
                              minlength=_comps((g + 1) * n, s)[0].shape[0])
    return rows


def _subsample_stats(p, n, M, policy, token=None) -> list:
    """AccumulateSubsample(n): the pool gains ``Mult(n, F_g/n)``, then the fit
    :math:`F_{g+1}` is ``n`` of the pool without replacement."""
    s = p.size
    Cn = _comps(n, s)[0]
    _growing_check([_ncomps(g * n, s) for g in range(1, M + 1)], Cn.shape[0] ** 2,
                   "AccumulateSubsample")
    feats = _fit_stats(Cn)
    pool_law = _multinomial(p, n)[0]  # generation 1: pool = fit = the real sample
    rows = [{k: _dot(pool_law, v) for k, v in feats.items()}]
    joint = np.diag(pool_law)  # (pool, fit) of generation 1 (both of total n)
    _kill_token(rows, joint, Cn, token)
    Mn = _multinomial(_draw(Cn / n, policy), n)  # (fit, new block)
    for g in range(2, M + 1):
        tot = (g - 1) * n
        blocks = joint @ Mn  # (pool, new block)
        pool_law = np.bincount(_add_table(tot, n, s).ravel(), weights=blocks.ravel(),
                               minlength=_comps(tot + n, s)[0].shape[0])
        pool = _comps(tot + n, s)[0]
        joint = pool_law[:, None] * _hypergeometric(pool, tot + n, n)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
    return rows


def _stats(model, regime, m, what, key):
    kind, n, K = _regime_kind(regime, what)
    regime = as_regime(regime)
    policy = regime.sampling
    ms = _check_m(m)
    model = check_categorical(model)
    if kind == "accumulate" and key in ("dirac", "support"):
        # the pool keeps the real block: from generation 1 on, the support is that
        # block's (any vocabulary, any policy)
        q = model.p[model.p > 0]
        with np.errstate(under="ignore"):
            later = float(np.sum(q ** n)) if key == "dirac" else \
                float(np.sum(-np.expm1(n * np.log1p(-np.minimum(q, 1.0)))))
        first = float(q.size == 1) if key == "dirac" else float(q.size)
        vals = np.where(ms >= 1, later, first)
        return float(vals) if ms.ndim == 0 else vals
    p = _support(model)
    M = int(ms.max()) if ms.size else 0
    row0 = {"dirac": float(p.size == 1), "support": float(p.size),
            "homozygosity": float(np.sum(p * p))}
    if p.size == 1 or M == 0:
        rows = [row0] * (M + 1)
    elif kind == "window":
        rows = [row0, *_window_stats(p, n, K, M, policy)]
    elif kind == "uniform":
        rows = [row0, *_uniform_stats(p, n, M, policy)]
    elif kind == "accumulate":
        rows = [row0, *_accumulate_stats(p, n, M, policy)]
    elif kind == "mix":
        rows = [row0, *_mix_stats(p, regime.real, n, regime.fresh, M, policy)]
    else:
        rows = [row0, *_subsample_stats(p, n, M, policy)]
    vals = np.array([r[key] for r in rows])[ms]
    return float(vals) if ms.ndim == 0 else vals


@simulation_fallback("dirac_probability")
def dirac_probability(model, regime, m):
    r""":math:`P(p^{(m)}\ \text{is a Dirac})`, exactly, for ``Replace``, ``MostRecent``,
    ``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample`` (``m`` an int or an
    integer array; float64 of the same shape).

    Only under ``Replace`` is this :math:`P(T \le m)`: under ``MostRecent(n, K > 1)`` a
    Dirac fit can be followed by a non-Dirac one (the window's older models), and under
    the other three regimes real data stays in the training set, so a Dirac fit is not
    absorbing (``Accumulate``: :math:`\sum_i p_i^n` at every ``m >= 1``, the real sample
    was a Dirac). ``MostRecent``: the window chain; the others: forward propagation of a
    state that grows with ``m`` (refused beyond :data:`MAX_WORK` with ``TooLargeError``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The probability that the fit is a Dirac mass: a float for a scalar ``m``, a float64
        array of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("What is absorbing").
    """
    return _stats(model, regime, m, "dirac_probability", "dirac")


def overlapping_surviving_tokens(model, regime, m):
    r""":math:`E|\mathrm{supp}\,p^{(m)}|`, exactly, under the regimes of
    :func:`dirac_probability` (same method). ``Accumulate``:
    :math:`\sum_i(1-(1-p_i)^n)` at every ``m >= 1``.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The expected support size: a float for a scalar ``m``, a float64 array of the shape of
        ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _stats(model, regime, m, "overlapping_surviving_tokens", "support")


def overlapping_homozygosity(model, regime, m):
    r""":math:`E\sum_i(p^{(m)}_i)^2` from the exact chains of this module (a check of
    :func:`modelcollapse.theory.homozygosity`, which gets it from the genealogy of two
    samples for any ``n``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The expected homozygosity: a float for a scalar ``m``, a float64 array of the shape of
        ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _stats(model, regime, m, "overlapping_homozygosity", "homozygosity")


@simulation_fallback("first_loss_probability")
def first_loss_probability(model, regime, token, m):
    r""":math:`P(T_i \le m)`, :math:`T_i` the first generation ``>= 1`` whose fit gives
    ``token`` probability 0 (the engine's ``token_loss_time``), exactly, under every
    regime of :func:`dirac_probability` and any sampling policy (``m`` an int or an
    integer array).

    ``Replace`` / ``MostRecent``: the cdf of :func:`overlapping_token_loss`.
    ``Accumulate``: :math:`(1-p_i)^n` for every ``m >= 1`` (the pool keeps the real
    sample). ``RandomlySampled`` and ``AccumulateSubsample``: the growing-state
    propagation of :func:`dirac_probability` with the paths that lose the token removed
    (the token can come back afterwards, so :math:`T_i` is a first passage, not a
    permanent loss). A token of probability 0 is lost at ``m = 1`` (its first fit), as
    in :func:`modelcollapse.theory.token_loss`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support (any number
        under ``Accumulate``).
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    token : int or str
        Index of the token, or its label when the model has labels.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        :math:`P(T_i \le m)`: a float for a scalar ``m``, a float64 array of the shape of ``m``
        for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, a bad ``token``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    kind, n, _ = _regime_kind(regime, "first_loss_probability")
    policy = as_regime(regime).sampling
    ms = _check_m(m)
    model = check_categorical(model)
    t = model.token_index(token)
    pt = float(model.p[t])
    M = int(ms.max()) if ms.size else 0
    if pt == 0.0 or pt == 1.0:
        vals = np.where(np.arange(M + 1) >= 1, 1.0 if pt == 0.0 else 0.0, 0.0)
    elif kind == "window":
        law = overlapping_token_loss(model, regime, token)
        vals = np.array([law.cdf(g) for g in range(M + 1)])
    elif kind == "accumulate":
        vals = np.where(np.arange(M + 1) >= 1, (1.0 - pt) ** n, 0.0)
    else:
        model, t = lump_token(model, t, policy)  # exact under plain sampling
        p = _support(model)
        i = int(np.count_nonzero(model.p[:t]))
        if not M:
            rows = []
        elif kind == "mix":
            regime = as_regime(regime)
            rows = _mix_stats(p, regime.real, n, regime.fresh, M, policy, token=i)
        else:
            grow = _uniform_stats if kind == "uniform" else _subsample_stats
            rows = grow(p, n, M, policy, token=i)
        vals = np.array([0.0, *(r["lost"] for r in rows)])
    out = vals[ms]
    return float(out) if ms.ndim == 0 else out
