r"""Exact laws of the window chain of ``MostRecent(n, K)`` (and ``Replace(n)``, ``K = 1``),
any sampling policy, small ``n`` and 2--4 tokens: collapse and absorption times (laws and
moments), token loss (first and permanent), and the chain's size. The chain itself is in
:mod:`modelcollapse.theory.categorical.window_chain`."""

from __future__ import annotations

import numpy as np

from ...models import check_categorical, check_positive_int
from ...regimes import as_regime
from .._results import Estimate, Moments, check_flag, check_tol
from ..distributions import GenerationDistribution
from ._counts import (
    DEFAULT_MAX_GENERATIONS,
    DEFAULT_TOL,
    WINDOW_SUPPORTED,
    _regime_kind,
    lump_token,
)
from .window_chain import _certain_at, _moments, _passage, _window_chain

__all__ = [
    "overlapping_absorption_moments",
    "overlapping_absorption_time",
    "overlapping_collapse_moments",
    "overlapping_collapse_time",
    "overlapping_expected_collapse_time",
    "overlapping_state_count",
    "overlapping_token_loss",
]


def overlapping_state_count(model, regime) -> int:
    """Number of lumped window states of the homogeneous ``MostRecent(n, K)`` chain
    (``K``-tuples of count vectors of total :math:`K\\lfloor n/K\\rfloor`, up to a
    permutation of the tokens). Raises :class:`TooLargeError` where the solvers would.

    Parameters
    ----------
    model : Categorical
        The real distribution ``p^(0)``, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy (a truncating
        one, top-k or top-p, leaves the states unlumped), or its spec string.

    Returns
    -------
    int
        The number of states of the chain the solvers build.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    ValueError
        An invalid spec string.
    UnsupportedRegimeError
        Another regime.
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    chain = _window_chain(model, regime, "overlapping_state_count")
    chain._build()
    return int(chain.P.shape[0])


def overlapping_collapse_time(model, regime, *, tol: float = DEFAULT_TOL,
                              max_generations: int = DEFAULT_MAX_GENERATIONS
                              ) -> GenerationDistribution:
    r"""Law of the engine's collapse time :math:`T = \min\{m\ge1: p^{(m)}\ \text{Dirac}\}`
    under ``MostRecent(n, K)`` (or ``Replace(n)``), exactly.

    Generations before :math:`2K-1` on labelled windows, then the lumped window chain
    killed at the first Dirac fit; the law is propagated until :math:`P(T > M) <`
    ``tol`` (or ``max_generations``) and continues geometrically at the last one-step
    ratio. ``T`` is *not* an absorption time for ``K > 1``: see
    :func:`overlapping_absorption_time` and :func:`dirac_probability`. A Dirac
    :math:`p^{(0)}` gives ``T = 1`` (its first fit; the simulators record 0 there, as they
    count from the real model).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy, or its spec
        string.
    tol : float, default 1e-12
        The law is propagated until the remaining mass is below ``tol``, in ``(0, 1)``.
    max_generations : int, default 100000
        Safety limit on the generations propagated.

    Returns
    -------
    GenerationDistribution
        The law of ``T`` (``method="window-chain"``; ``"dirac"``, with ``T = 1``, for a
        Dirac :math:`p^{(0)}`).

    Raises
    ------
    WrongTypeError
        ``tol`` not a number, ``max_generations`` not an integer, ``model`` not a
        ``Categorical``, or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``tol`` outside ``(0, 1)``, ``max_generations < 1``, or an invalid spec string.
    UnsupportedRegimeError
        Another regime (a Dirac fit is not absorbing there).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _window_passage(model, regime, "dirac", "overlapping_collapse_time", tol,
                           max_generations)


def _window_passage(model, regime, target: str, what: str, tol, max_generations):
    """The law of the first passage of the window chain into ``target`` (arguments
    checked before any work)."""
    tol = check_tol(tol)
    max_generations = check_positive_int(max_generations, "max_generations")
    _, _, K = _regime_kind(regime, what, WINDOW_SUPPORTED)
    if check_categorical(model).is_dirac:
        return _certain_at(K if target == "absorbed" else 1)
    chain = _window_chain(model, regime, what)
    return _passage(chain, target, tol=tol, max_generations=max_generations)


def overlapping_collapse_moments(model, regime) -> Moments:
    r""":math:`(E[T], \mathrm{Var}\,T)` of the engine's collapse time under
    ``MostRecent(n, K)``: :math:`E[T] = \sum_{g<G_0}P(T>g) + q\,t`,
    :math:`E[T^2] = \sum_{g<G_0}(2g+1)P(T>g) + (2G_0+1)q\,t + 2q\,(Nt - t)`, with
    :math:`q` the surviving law at :math:`G_0 = 2K-1`, :math:`N = (I-Q)^{-1}`,
    :math:`t = N\mathbf 1` (sparse LU).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy, or its spec
        string.

    Returns
    -------
    Moments
        ``Moments(mean, var)`` of ``T``, floats; ``(0.0, 0.0)`` for a Dirac
        :math:`p^{(0)}`.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    ValueError
        An invalid spec string.
    UnsupportedRegimeError
        Another regime (a Dirac fit is not absorbing there).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    _regime_kind(regime, "overlapping_collapse_moments", WINDOW_SUPPORTED)
    if check_categorical(model).is_dirac:
        return Moments(1.0, 0.0)
    return _moments(_window_chain(model, regime, "overlapping_collapse_moments"), "dirac")


def overlapping_expected_collapse_time(model, regime) -> Estimate:
    """:math:`E[T]` of the engine's collapse time under ``MostRecent(n, K)``, exact
    (``method="window-chain"``); see :func:`overlapping_collapse_moments`.

    Parameters
    ----------
    model : Categorical
        The real distribution ``p^(0)``, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy, or its spec
        string.

    Returns
    -------
    Estimate
        A float with ``.method == "window-chain"`` and ``.exact == True`` (0 for a Dirac
        ``p^(0)``).

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    ValueError
        An invalid spec string.
    UnsupportedRegimeError
        Another regime (a Dirac fit is not absorbing there).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return Estimate(overlapping_collapse_moments(model, regime)[0], "window-chain", True)


def overlapping_absorption_time(model, regime, *, tol: float = DEFAULT_TOL,
                                max_generations: int = DEFAULT_MAX_GENERATIONS
                                ) -> GenerationDistribution:
    r"""Law of the absorption time :math:`A` under ``MostRecent(n, K)``: the first
    generation ending a run of ``K`` identical Dirac fits, after which nothing changes
    (:math:`A \ge \max(T, K)`; ``A = T`` for ``K = 1``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy, or its spec
        string.
    tol : float, default 1e-12
        The law is propagated until the remaining mass is below ``tol``, in ``(0, 1)``.
    max_generations : int, default 100000
        Safety limit on the generations propagated.

    Returns
    -------
    GenerationDistribution
        The law of ``A`` (``method="window-chain"``; ``"dirac"``, with ``A = 0``, for a
        Dirac :math:`p^{(0)}`).

    Raises
    ------
    WrongTypeError
        ``tol`` not a number, ``max_generations`` not an integer, ``model`` not a
        ``Categorical``, or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``tol`` outside ``(0, 1)``, ``max_generations < 1``, or an invalid spec string.
    UnsupportedRegimeError
        Another regime (a Dirac fit is not absorbing there).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _window_passage(model, regime, "absorbed", "overlapping_absorption_time", tol,
                           max_generations)


def overlapping_absorption_moments(model, regime) -> Moments:
    """:math:`(E[A], \\mathrm{Var}\\,A)` of the absorption time (see
    :func:`overlapping_absorption_time`), by the fundamental matrix.

    Parameters
    ----------
    model : Categorical
        The real distribution ``p^(0)``, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace(n)`` or ``MostRecent(n, K)``, with any sampling policy, or its spec
        string.

    Returns
    -------
    Moments
        ``Moments(mean, var)`` of ``A``, floats; ``(0.0, 0.0)`` for a Dirac ``p^(0)``.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    ValueError
        An invalid spec string.
    UnsupportedRegimeError
        Another regime (a Dirac fit is not absorbing there).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps
        (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    _, _, K = _regime_kind(regime, "overlapping_absorption_moments", WINDOW_SUPPORTED)
    if check_categorical(model).is_dirac:
        return Moments(float(K), 0.0)
    return _moments(_window_chain(model, regime, "overlapping_absorption_moments"),
                    "absorbed")


def overlapping_token_loss(model, regime, token, *, permanent: bool = False,
                           tol: float = DEFAULT_TOL,
                           max_generations: int = DEFAULT_MAX_GENERATIONS
                           ) -> GenerationDistribution:
    r"""Law of the loss time of ``token`` (index or label), a defective law.

    ``MostRecent(n, K)`` / ``Replace(n)``: ``permanent=False`` gives the engine's
    ``token_loss_time``, the first ``m`` with :math:`p^{(m)}_i = 0` (for ``K > 1`` the
    token can still come back from an older model of the window); ``permanent=True``
    the first ``m >= K`` at which it is absent from the last ``K`` fits (gone for good).
    The defect is the probability that the event never happens: :math:`p_i` for
    ``permanent=True`` (token ``i`` fixes), at most :math:`p_i` otherwise.
    Computed on the window chain lumped by the permutations that fix ``token``.

    ``Accumulate(n)``: the pool keeps the real sample, so the token is lost at
    generation 1 (probability :math:`(1-p_i)^n`) or never; both flags give that law.
    ``RandomlySampled`` and ``AccumulateSubsample``: ``UnsupportedRegimeError`` (a lost
    token comes back, and the exact state grows with ``m``, so there is no tail to
    extrapolate): :func:`first_loss_probability` gives :math:`P(T_i \le m)` for finite
    ``m``.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support (any number
        under ``Accumulate``).
    regime : Regime or str
        ``Replace(n)``, ``MostRecent(n, K)`` or ``Accumulate(n)``, with any sampling
        policy, or its spec string.
    token : int or str
        Index of the token, or its label when the model has labels.
    permanent : bool, default False
        ``False``: the first ``m`` with :math:`p^{(m)}_i = 0`; ``True``: the first ``m``
        at which the token is absent from the last ``K`` fits.
    tol : float, default 1e-12
        The law is propagated until its remaining finite tail is below ``tol``, in
        ``(0, 1)``.
    max_generations : int, default 100000
        Safety limit on the generations propagated.

    Returns
    -------
    GenerationDistribution
        The defective law (``.defect``: the probability that the event never happens;
        ``.conditional()``: the law given that it does). A token of probability 0 gives
        ``T = 1`` (``K`` with ``permanent=True``), a token of probability 1
        ``defect = 1``; under ``Accumulate`` the law lives on generation 1 and infinity
        (``method="accumulate-closed"``).

    Raises
    ------
    WrongTypeError
        ``tol`` not a number, ``max_generations`` not an integer, ``permanent`` not a
        bool, ``model`` not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    ValueError
        ``tol`` outside ``(0, 1)``, ``max_generations < 1``, a bad ``token``, or an
        invalid spec string.
    UnsupportedRegimeError
        ``RandomlySampled``, ``AccumulateSubsample`` and ``Mix`` (see
        :func:`first_loss_probability`).
    TooLargeError
        More than 4 tokens in the support, or a chain beyond the size caps.

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    .. [2] The theory chapter, docs/theory/token-loss.md ("Under the other regimes").
    """
    tol = check_tol(tol)
    max_generations = check_positive_int(max_generations, "max_generations")
    permanent = check_flag(permanent, "permanent")
    kind, n, K = _regime_kind(regime, "overlapping_token_loss",
                              ("Replace", "MostRecent", "Accumulate"))
    model = check_categorical(model)
    t = model.token_index(token)
    pt = float(model.p[t])
    if pt == 0.0:  # absent from the first fit; gone for good once K fits lack it
        return _certain_at(K if permanent else 1)
    if kind == "accumulate":
        q = (1.0 - pt) ** n
        return GenerationDistribution([0.0, q], [q, 0.0], defect=1.0 - q,
                                      method="accumulate-closed")
    if pt == 1.0:
        return GenerationDistribution([0.0], [0.0], defect=1.0, method="dirac")
    model, t = lump_token(model, t, as_regime(regime).sampling)  # exact, plain sampling
    i = int(np.count_nonzero(model.p[:t]))  # index of the token within the support
    chain = _window_chain(model, regime, "overlapping_token_loss", fixed=i)
    kill = ("gone", i) if permanent else ("zero", i)
    return _passage(chain, kill, ("fixed", i), tol=tol, max_generations=max_generations)
