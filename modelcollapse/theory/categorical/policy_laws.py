r"""Exact laws of the categorical chain under a sampling policy (``Replace(n, temperature=T,
top_k=k, top_p=P)``): the policy map itself, the collapse time (moments, mean, law) and
the surviving tokens, from the partition chain of
:mod:`modelcollapse.theory.categorical.policy_chain`."""

from __future__ import annotations

import numpy as np

from ...errors import TooLargeError, WrongTypeError
from ...models import Categorical, check_categorical, check_positive_int, exact_probabilities
from ...regimes import SamplingPolicy
from ...sampling import exact_sampling_distribution, sampling_distribution
from .._results import Estimate, Moments, check_generations
from ..distributions import GenerationDistribution
from .policy_chain import (
    DEFAULT_MAX_GENERATIONS,
    DEFAULT_TOL,
    _exact_chain,
    _policy_n,
    float_chain,
)

__all__ = [
    "policy_collapse_moments",
    "policy_collapse_time",
    "policy_expected_collapse_time",
    "policy_sampling_distribution",
    "policy_surviving_tokens",
]


# ---------------------------------------------------------------------- the policy
def policy_sampling_distribution(p, regime, *, exact: bool = False):
    r"""The distribution :math:`\pi(p)` synthetic samples are drawn from.

    ``exact=False``: the simulators' own function
    (:func:`modelcollapse.sampling.sampling_distribution`), float64.
    ``exact=True``: an independent rational implementation (``1/T`` an integer), for
    ``p`` a sequence of ``Fraction`` or a :class:`Categorical`.

    Parameters
    ----------
    p : Categorical or sequence of float
        The fitted distribution; with ``exact=True`` also a sequence of ``Fraction``.
    regime : Replace, str or SamplingPolicy
        The policy itself, or ``Replace(n, ...)`` or a spec string, whose policy is used.
    exact : bool, default False
        Use the rational implementation.

    Returns
    -------
    numpy.ndarray or list of Fraction
        :math:`\pi(p)`, one entry per entry of ``p``: a float64 array, or a list of
        ``Fraction`` with ``exact=True``.

    Raises
    ------
    ValueError
        ``exact=True`` with ``1/T`` not an integer, ``Fraction`` probabilities that do not
        sum to 1, or an invalid spec string.
    WrongTypeError
        ``regime`` is neither a ``Regime``, a string nor a ``SamplingPolicy``.
    UnsupportedRegimeError
        Another regime than ``Replace``.

    References
    ----------
    .. [1] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [2] The theory chapter, docs/theory/policies.md ("The policy and the chain").
    """
    if isinstance(regime, SamplingPolicy):
        policy = regime
    else:
        _, policy = _policy_n(regime, "policy_sampling_distribution")
    if exact:
        return exact_sampling_distribution(tuple(exact_probabilities(p)), policy)
    arr = check_categorical(p).p if isinstance(p, Categorical) else \
        np.asarray(p, dtype=np.float64)
    return sampling_distribution(arr, policy)


# ---------------------------------------------------------------------- public solvers
def policy_collapse_moments(model, regime, *, exact: bool = False):
    r"""Exact :math:`(E[T], \mathrm{Var}\,T)` under ``Replace(n)`` with a sampling policy.

    With :math:`Q` the transition matrix among non-Dirac lumped states,
    :math:`t = (I-Q)^{-1}\mathbf 1` (expected steps to absorption) and
    :math:`t^{(2)} = 2(I-Q)^{-1}t - t` (second moments), and :math:`\pi_1` the law of
    the generation-1 state (:math:`\mathrm{Mult}(n, p^{(0)})`, lumped):

    .. math:: E[T] = 1 + \pi_1 t, \qquad E[T^2] = 1 + 2\pi_1 t + \pi_1 t^{(2)}.

    Returns a :class:`~modelcollapse.theory.Moments` ``(mean, var)``; ``exact=True``
    gives ``Fraction`` values (``1/T`` an integer; ``model`` may be a sequence of
    ``Fraction``), refused above :data:`EXACT_MAX_STATES` states.

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        ``Fraction`` probabilities.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    exact : bool, default False
        Solve in ``Fraction`` arithmetic (``1/T`` an integer; at most
        :data:`EXACT_MAX_STATES` lumped states).

    Returns
    -------
    Moments
        ``Moments(mean, var)``: floats (``(1.0, 0.0)`` for a Dirac :math:`p^{(0)}`; ``var``
        is ``inf`` when :math:`E[T^2]` exceeds the float64 range), or ``Fraction`` values
        with ``exact=True``.

    Raises
    ------
    WrongTypeError
        ``exact`` not a bool, ``model`` not a ``Categorical`` (or, with ``exact=True``, a
        sequence), or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``exact=True`` with ``1/T`` not an integer, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms (with ``exact=True``: :data:`EXACT_MAX_STATES` states).

    References
    ----------
    .. [1] W. K. Grassmann, M. I. Taksar, D. P. Heyman (1985). *Regenerative analysis and steady
       state distributions for Markov chains.* Operations Research 33, 1107–1116.
    .. [2] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    if exact:
        return Moments(*_exact_chain(model, regime, "policy_collapse_moments").moments())
    model = check_categorical(model)
    if model.is_dirac:
        _policy_n(regime, "policy_collapse_moments")
        return Moments(1.0, 0.0)
    return Moments(*float_chain(model, regime, "policy_collapse_moments").moments())


def policy_expected_collapse_time(model, regime, *, exact: bool = False):
    r""":math:`E[T]` under ``Replace(n)`` with a sampling policy, by the fundamental
    matrix of the lumped chain (see :func:`policy_collapse_moments`).

    Returns an :class:`~modelcollapse.theory.Estimate` (``method="policy-chain"``,
    ``exact=True``), or with ``exact=True`` the rational value itself (a ``Fraction``).

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        ``Fraction`` probabilities.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    exact : bool, default False
        Solve in ``Fraction`` arithmetic (``1/T`` an integer; at most
        :data:`EXACT_MAX_STATES` lumped states).

    Returns
    -------
    Estimate or Fraction
        A float with ``.method == "policy-chain"`` and ``.exact == True``; a ``Fraction``
        with ``exact=True``.

    Raises
    ------
    WrongTypeError
        ``exact`` not a bool, ``model`` not a ``Categorical`` (or, with ``exact=True``, a
        sequence), or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``exact=True`` with ``1/T`` not an integer, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms (with ``exact=True``: :data:`EXACT_MAX_STATES` states).

    References
    ----------
    .. [1] W. K. Grassmann, M. I. Taksar, D. P. Heyman (1985). *Regenerative analysis and steady
       state distributions for Markov chains.* Operations Research 33, 1107–1116.
    .. [2] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    mean, _ = policy_collapse_moments(model, regime, exact=exact)
    if exact:
        return mean
    return Estimate(mean, "policy-chain", True)


def policy_collapse_time(model, regime, *, tol: float = DEFAULT_TOL,
                         max_generations: int = DEFAULT_MAX_GENERATIONS
                         ) -> GenerationDistribution:
    r"""Law of ``T`` under ``Replace(n)`` with a sampling policy.

    :math:`P(T \le m) = (\pi_1 P^{m-1})_{\mathrm{Dirac}}` for ``m >= 1``; the law is
    propagated explicitly until :math:`P(T > M) <` ``tol``, or until the one-step
    survival ratio :math:`P(T > m)/P(T > m-1)` has converged to the Perron root of
    :math:`Q` (to 1e-15; the tail is then geometric at that rate, the quasi-stationary
    regime), or ``max_generations``; beyond ``M`` the tail continues geometrically at
    the last ratio.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    tol : float, default 1e-12
        Tolerance on the neglected tail :math:`P(T > M)`, in ``(0, 1)``.
    max_generations : int, default 200000
        Safety limit on the generations propagated.

    Returns
    -------
    GenerationDistribution
        The law of ``T`` (``method="policy-chain"``); ``T = 1`` for a Dirac
        :math:`p^{(0)}`.

    Raises
    ------
    WrongTypeError
        ``tol`` not a number, ``max_generations`` not an integer, ``model`` not a
        ``Categorical``, or ``regime`` neither a ``Regime`` nor a string.
    ValueError
        ``tol`` outside ``(0, 1)``, ``max_generations < 1``, or an invalid spec string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms, or a tail decaying too slowly for float64 (use
        :func:`policy_collapse_moments`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"tol must be a number, got {tol!r}")
    tol = float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    max_generations = check_positive_int(max_generations, "max_generations")
    model = check_categorical(model)
    if model.is_dirac:
        _policy_n(regime, "policy_collapse_time")
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method="policy-chain")
    chain = float_chain(model, regime, "policy_collapse_time")
    P = chain.P
    Q = P[1:, 1:]
    r = P[1:, 0]
    law = chain.pi1[1:].copy()
    cdf, tail = [0.0, float(chain.pi1[0])], [1.0, float(law.sum())]
    hazard, stable = 1.0, 0
    for _ in range(max_generations - 1):
        if tail[-1] < tol:
            break
        absorbed = float(law @ r)  # a sum of non-negative terms: accurate when tiny
        law = law @ Q
        cdf.append(cdf[-1] + absorbed)
        tail.append(float(law.sum()))
        new = absorbed / tail[-2]
        stable = stable + 1 if abs(new - hazard) <= 1e-12 * new else 0
        hazard = new
        if stable >= 20:  # quasi-stationary: the tail is geometric from here on
            break
    if tail[-1] >= tol and hazard < 1e-13:
        raise TooLargeError(
            f"the collapse law's geometric tail has rate 1 - {hazard:.3e}, which float64 "
            "cannot represent (E[T] ~ 1/hazard): use policy_collapse_moments for E[T] and "
            "Var T (exact), or a smaller n")
    return GenerationDistribution(np.array(cdf), np.array(tail), ratio=1.0 - hazard,
                                  method="policy-chain")


def policy_surviving_tokens(model, regime, m, *, distribution: bool = False):
    r"""Expected support size :math:`E|\mathrm{supp}\,p^{(m)}|` under ``Replace(n)``
    with a sampling policy (``m`` an int or array of ints; ``m = 0`` gives
    :math:`|\mathrm{supp}\,p^{(0)}|`), from the law :math:`\pi_1 P^{m-1}` of the lumped
    chain. ``distribution=True`` (scalar ``m``) returns the law of the support size
    instead: an array ``a`` with ``a[k] = P(|supp p^(m)| = k)``, ``k = 0..s``.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    m : int or array_like of int
        Generations, ``>= 0``; a scalar with ``distribution=True``.
    distribution : bool, default False
        Return the law of the support size instead of its mean.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``m``, a float64 array of the shape of ``m`` for an array;
        with ``distribution=True`` a float64 array of length ``s + 1``.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), ``distribution=True`` with an
        array ``m``, or an invalid spec string.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    UnsupportedRegimeError
        Another regime than ``Replace``.
    TooLargeError
        A chain above :data:`MAX_STATES` lumped states or :data:`MAX_WORK` multinomial
        terms.

    References
    ----------
    .. [1] The theory chapter, docs/theory/policies.md ("Lumping on partitions").
    """
    ms = check_generations(m)
    if not isinstance(distribution, (bool, np.bool_)):
        raise WrongTypeError(f"distribution must be True or False, got {distribution!r}")
    model = check_categorical(model)
    _policy_n(regime, "policy_surviving_tokens")
    s = model.support_size
    flat = ms.ravel().astype(np.int64)
    if distribution and ms.ndim != 0:
        raise ValueError("distribution=True takes a scalar m")
    if model.is_dirac or flat.max(initial=0) == 0:
        laws = {int(x): None for x in flat}
        chain = None
    else:
        chain = float_chain(model, regime, "policy_surviving_tokens")
        want = sorted({int(x) for x in flat if x >= 1})
        laws, law = {}, chain.pi1.copy()
        for g in range(1, want[-1] + 1):
            if g > 1:
                law = law @ chain.P
            if g in want:
                laws[g] = law.copy()
    out, dists = np.empty(flat.size), []
    for j, x in enumerate(flat):
        x = int(x)
        if x == 0 or chain is None:
            k = s if x == 0 else 1
            out[j] = k
            d = np.zeros(s + 1)
            d[k] = 1.0
        else:
            out[j] = float(laws[x] @ chain.support)
            d = np.bincount(chain.support, weights=laws[x], minlength=s + 1)
        dists.append(d)
    if distribution:
        return dists[0]
    return float(out[0]) if ms.ndim == 0 else out.reshape(ms.shape)
