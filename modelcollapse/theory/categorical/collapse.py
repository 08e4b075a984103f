r"""The collapse time :math:`T = \inf\{m \ge 1 : p^{(m)} \text{ is a Dirac mass}\}` of a
categorical model, under every regime and sampling policy: its law
(:func:`collapse_time`) and its mean (:func:`expected_collapse_time`). Each dispatches
(:mod:`._dispatch`) to the exact solver of the regime: the coalescent dual of ``Replace``
(:mod:`.replace_chain`), the partition chain of a sampling policy (:mod:`.policy_chain`),
the window chain of ``MostRecent`` (:mod:`.window_chain`)."""

from __future__ import annotations

import math

import numpy as np

from ...errors import TooLargeError
from ...models import (
    Categorical,
    check_categorical,
    check_positive_int,
)
from ...regimes import (
    MostRecent,
    Regime,
    Replace,
    accepts_regime_spec,
    as_regime,
)
from .._results import Estimate, check_method, check_tol
from ..distributions import GenerationDistribution
from . import marginal, rational
from ._dispatch import _not_absorbing, _overlapping_exact, _policy_replace, _replace_n
from .approximate import EIG_MAX_WINDOW, band, fail, family_of, generations_guess, round_up
from .diffusion import diffusion_collapse_time, littler_rate
from .effective_size import most_recent_effective_size
from .policy_asymptotics import deterministic_hazards, policy_ld_rate
from .policy_chain import _support
from .policy_laws import policy_collapse_time, policy_expected_collapse_time
from .replace_chain import (
    CHAIN_MAX_STATES,
    DEFAULT_TOL,
    MAX_EXACT_N,
    _collapse_functionals,
    _distribution,
    _max_generations,
    _propagate,
    collapse_moments,
)
from .window_laws import overlapping_collapse_time, overlapping_expected_collapse_time

__all__ = [
    "collapse_time",
    "expected_collapse_time",
]


# ---------------------------------------------------------------------- collapse time
def _or_approximate(solver, model, regime, method, law, progress=False, **kw):
    """The exact ``solver``; under ``method="auto"``, where it would not fit
    (``TooLargeError``), the approximation of :mod:`.approximate` with its measured
    error band, or a refusal naming the simulation that answers."""
    what = "collapse_time" if law else "expected_collapse_time"
    try:
        return solver(model, regime, **kw)
    except TooLargeError as exc:
        if method != "auto":
            raise
        return _fallback(model, regime, what, law, exc, progress)


@accepts_regime_spec
def collapse_time(
    model: Categorical,
    regime: Regime,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> GenerationDistribution:
    r"""Law of the total-collapse time ``T`` under ``Replace(n)``.

    :math:`T = \inf\{m \ge 1 : p^{(m)} \text{ is a Dirac mass}\}`, indexed as in
    Seddik et al. 2024 (:math:`p^{(1)}` is the first fitted model). With the coalescent
    dual (docs/theory/coalescent.md),

    .. math:: P(T > m) = E\,f(A_{m-1}), \quad f(j) = 1 - \sum_i p_i^j,

    where :math:`A_k` is the number of distinct generation-1 ancestors of the ``n``
    samples of generation ``k+1`` (:math:`A_0 = n`).

    Under ``MostRecent`` and under a sampling policy the exact chains of those regimes
    are used while they fit; beyond them ``method="auto"`` returns an approximation
    (``.exact`` is ``False``, ``.method`` names it, ``.error`` bounds its
    Wasserstein-1 distance to the exact law relative to the mean and ``.error_mean`` the
    relative error of its mean, as measured by ``benchmarks/bench_approx.py``), or
    refuses with the simulation that answers (docs/theory/approximations.md).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace
        With a sampling policy (``temperature``, ``top_k``, ``top_p``) the law is that of
        the exact chain on count partitions
        (:func:`modelcollapse.theory.policy_collapse_time`).
    method : {"auto", "coalescent", "marginal"}
        Coalescent dual (any vocabulary, :math:`O(n^{1.5})` per pass; what ``"auto"``
        uses for plain sampling) or per-token binomial chains (``n <= 3000``).
    tol : float
        The coalescent law is propagated explicitly until the ancestral chain has at
        most ``SPECTRAL_STATES`` states, and continued exactly beyond (a finite sum of
        geometric terms from its eigen-decomposition); it stops earlier if
        :math:`P(T > M) <` ``tol``, and the marginal method always stops there. Past
        such a stop the tail is extrapolated geometrically with rate :math:`1 - 1/n`.
    max_generations : int, optional
        Safety limit on ``M``.
    progress : bool
        Show a progress bar.

    Returns
    -------
    GenerationDistribution
        with ``pmf``, ``cdf``, ``sf``, ``mean``, ``var``, ``quantile``; ``.exact`` and
        the error bands say whether it is an approximation.

    Raises
    ------
    TooLargeError
        Beyond the exact solvers with no measured approximation: the message names the
        ``montecarlo.simulate`` call that answers and its estimated cost (or, at a
        temperature above 1, why nothing reaches it).

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/coalescent.md ("The duality formula").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):
        kw = {} if max_generations is None else {"max_generations": max_generations}
        return _or_approximate(policy_collapse_time, model, regime, method, True,
                               progress, tol=tol, **kw)
    if _overlapping_exact(regime, method, "collapse_time"):
        if not isinstance(regime, MostRecent):
            raise _not_absorbing(regime, "collapse_time")
        kw = {} if max_generations is None else {"max_generations": max_generations}
        return _or_approximate(overlapping_collapse_time, model, regime, method, True,
                               progress, tol=tol, **kw)
    n = _replace_n(regime, "collapse_time")
    tol = check_tol(tol)
    method = check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    max_gen = _max_generations(max_generations, n, tol)
    if model.is_dirac:
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method=method)
    if method == "coalescent":
        f, q = _collapse_functionals(model.p, n)
        vals, _, terms, _ = _propagate(n, np.stack([q, f]), tol, max_gen,
                                       progress=progress, desc="collapse law", tail_row=1)
        return _distribution(vals[:, 0], vals[:, 1], 1.0, 0.0, n, 1, "coalescent", terms)
    marginal.check_n(n)
    B = marginal.first_generation_law(n, model.p)
    fixed, u = marginal.collapse_functionals(n)  # p_i - P(fixed) = E[X/n - 1{X=n}]
    vals = marginal.propagate(n, B, [fixed, u], tol, max_gen)
    return _distribution(vals[:, 0], vals[:, 1], 1.0, 0.0, n, 1, "marginal")


@accepts_regime_spec
def expected_collapse_time(
    model: Categorical,
    regime: Regime,
    *,
    method: str = "auto",
    max_exact_n: int = MAX_EXACT_N,
) -> Estimate:
    r"""Expected total-collapse time :math:`E[T]` under ``Replace(n)``.

    .. math:: E[T] = 1 + \sum_{k\ge0} E f(A_k) = 1 + \big[(I-Q)^{-1} f\big](n)

    solved by forward substitution on the lower-triangular ancestral chain, one banded
    occupancy row at a time (:math:`O(n^{1.5})` time, :math:`O(n)` memory).

    Under a sampling policy (``Replace(n, temperature=..., top_k=..., top_p=...)``) the
    chain is not the neutral one: ``"auto"`` then solves the exact chain on count
    partitions (:func:`modelcollapse.theory.policy_expected_collapse_time`), and under
    ``MostRecent`` the window chain. Beyond what those chains can solve, ``"auto"``
    returns an approximation with a measured relative error band (``.error``, ``.basis``:
    the effective size for ``MostRecent``, the deterministic hazard at a temperature
    below 1, top-k then the neutral chain; docs/theory/approximations.md) or refuses with
    the simulation that answers and its cost (``TooLargeError``).

    Parameters
    ----------
    method : {"auto", "coalescent", "marginal", "chain", "diffusion"}
        ``"auto"`` uses ``"coalescent"`` when ``n <= max_exact_n`` and otherwise falls
        back to ``"diffusion"``; the returned value's ``.method`` says which was used.
        ``"chain"`` is the full multinomial chain in exact rational arithmetic
        (tiny ``n`` and vocabularies). ``"diffusion"`` is Littler's
        :math:`-2n\sum_i (1-p_i)\ln(1-p_i)`, biased upward by O(1) at finite ``n``,
        floored at 1 (:math:`T \ge 1`).

    Returns
    -------
    Estimate
        A float with attributes ``.method``, ``.exact`` and, for an approximation,
        ``.error`` (a relative error band) and ``.basis``.

    References
    ----------
    .. [1] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [2] The theory chapter, docs/theory/coalescent.md ("The exact solvers").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):
        return _or_approximate(policy_expected_collapse_time, model, regime, method, False)
    if _overlapping_exact(regime, method, "expected_collapse_time"):
        if not isinstance(regime, MostRecent):
            raise _not_absorbing(regime, "expected_collapse_time")
        return _or_approximate(overlapping_expected_collapse_time, model, regime, method,
                               False)
    n = _replace_n(regime, "expected_collapse_time")
    method = check_method(method, ("auto", "coalescent", "marginal", "chain", "diffusion"))
    max_exact_n = check_positive_int(max_exact_n, "max_exact_n")
    if method == "auto":
        method = "coalescent" if n <= max_exact_n else "diffusion"
    if method == "diffusion":
        err, _, basis = band("diffusion", n)
        return Estimate(diffusion_collapse_time(model, regime), "diffusion", False, err,
                        basis)
    if method == "chain":
        s = model.support_size
        states = math.comb(n + s - 1, s - 1)  # compositions of n into s counts
        if states > CHAIN_MAX_STATES:
            raise TooLargeError(
                f"method='chain' solves the full chain on {states} states in exact "
                f"rational arithmetic (cost ~ states^3 with growing rationals); the limit "
                f"is {CHAIN_MAX_STATES}: use "
                "method='coalescent' (exact, float64) for this model")
        return Estimate(float(rational.expected_collapse_time(model.p, n)), "chain", True)
    mean, _ = collapse_moments(model, n, method)
    return Estimate(mean, method, True)


# ---------------------------------------------------------------------- beyond the exact solvers
def approximate_collapse(model, regime, law: bool, progress: bool = False):
    """The approximation of the collapse time's mean (``law=False``) or law under
    ``regime``, without its band: the value the comparison of
    ``benchmarks/bench_approx.py`` measures. ``None`` where the approximation does not
    apply (a stalled deterministic path); ``ValueError`` for a regime no approximation
    covers."""
    regime = as_regime(regime)
    family = family_of(regime)
    if family == "effective-size":
        N = max(1, round(most_recent_effective_size(regime.n, regime.window)))
        if law:  # the coalescent law at N_e (a progress bar on request: seconds at 10**6)
            return collapse_time(model, Replace(N), progress=progress)
        return expected_collapse_time(model, Replace(N))
    n, policy = regime.n, regime.sampling
    p = _support(model)
    if family == "top-k-neutral":
        top = np.sort(p)[::-1][:policy.top_k]
        ptil = type(model)(top / top.sum())
        if not law:
            inner = expected_collapse_time(ptil, Replace(n))
            return Estimate(1.0 + float(inner), family, False, inner.error)
        inner = collapse_time(ptil, Replace(n), progress=progress)
        return GenerationDistribution(
            np.concatenate([[0.0], inner._cdf]), np.concatenate([[1.0], inner._tail]),
            ratio=inner.ratio, tail_terms=(inner._coefs, inner._rates), method=family,
            exact=False)
    if family is None:
        raise ValueError(f"no approximation of the collapse time covers {regime!r}")
    window = regime.window if isinstance(regime, MostRecent) else 1
    hs = deterministic_hazards(p, n, policy, window=window) if p.size > 1 \
        else np.array([1.0])
    if hs is None:
        return None
    surv = np.concatenate([[1.0], np.cumprod(1.0 - hs)])  # P(T > m), m = 0..M
    if not law:
        return Estimate(float(surv.sum()), family, False)
    return GenerationDistribution(1.0 - surv, surv, method=family, exact=False)


def _banded(value, method, err_mean, err_law, basis):
    """``value`` (an Estimate or a law) relabelled with its method and bands; an inner
    approximation's own band (Littler's diffusion at a large size) adds to the mean's."""
    if isinstance(value, GenerationDistribution):
        return GenerationDistribution(
            value._cdf, value._tail, ratio=value.ratio,
            tail_terms=(value._coefs, value._rates), method=method, exact=False,
            error=err_law, error_mean=err_mean, basis=basis)
    return Estimate(float(value), method, False, round_up(err_mean + (value.error or 0.0)),
                    basis)


def _fallback(model, regime, what: str, law: bool, exact_error: Exception,
              progress: bool = False):
    """The approximate mean (``law=False``: an :class:`Estimate`) or law (a
    :class:`GenerationDistribution` with ``exact=False``) of the collapse time with its
    measured bands, or a ``TooLargeError`` naming the simulation that answers it."""
    regime = as_regime(regime)
    why = str(exact_error).rstrip(".")
    family = family_of(regime)
    if isinstance(regime, MostRecent) and family != "window-hazard":
        n, K = regime.n, regime.window
        if family is None:
            fail(what, why + f" (MostRecent with the sampling policy {regime.sampling!r})",
                 model, regime, generations_guess(regime))
        if K == 1:
            return collapse_time(model, Replace(n), progress=progress) if law else \
                expected_collapse_time(model, Replace(n))
        if K > EIG_MAX_WINDOW:
            fail(what, why + f" (window {K} > {EIG_MAX_WINDOW})", model, regime,
                 generations_guess(regime))
        Ne = most_recent_effective_size(n, K)
        guess = max(1, int(Ne * littler_rate(model.p)))
        err_mean, err_law, basis = band(family, n, window=K, rate=littler_rate(model.p))
        if err_mean is None:
            fail(what, why + f"; {basis}", model, regime, 5 * guess)
        if law and (round(Ne) > MAX_EXACT_N or err_law is None):
            fail(what, why + f"; the law at the effective size N_e = {Ne:.3g} is beyond "
                 f"the exact coalescent's max_exact_n = {MAX_EXACT_N} (the mean is "
                 "available: theory.expected_collapse_time)", model, regime, 5 * guess)
        value = approximate_collapse(model, regime, law, progress)
        return _banded(value, family, err_mean, err_law, f"N_e = {Ne:.6g}; {basis}")
    n, policy = regime.n, regime.sampling
    if family is None and policy.temperature <= 1:  # top-p at T = 1
        fail(what, why + "; at T = 1 top-p cuts the tail only while the leading mass is "
             "below top_p, the deterministic path stalls with several tokens and the "
             "neutral noise decides (its deterministic hazard was measured and its error "
             "grows with n)", model, regime, generations_guess(regime))
    if family is None:  # T > 1: the answer is beyond every method, and the error says why
        if "policy_ld_rate" in why:
            raise exact_error
        c = policy_ld_rate(min(policy.temperature, 50.0))
        raise TooLargeError(
            f"{what}: {why}. At temperature {policy.temperature} > 1 the deterministic "
            "part flattens the model and collapse needs a large deviation: ln E[T] grows "
            f"like c(T) n, with c(T) = {c:.4g} for two tokens (policy_ld_rate), i.e. "
            f"ln E[T] ~ {c * n:.4g} here: no simulation reaches it; use a smaller n for "
            "the exact chain")
    p = model.p[model.p > 0]
    if family == "top-k-neutral" and p.size <= policy.top_k:
        # top-k keeps every token: the neutral chain, exactly
        return collapse_time(model, Replace(n), progress=progress) if law else \
            expected_collapse_time(model, Replace(n))
    where = {"temperature": policy.temperature} if family == "deterministic-hazard" \
        else {"temperature": policy.temperature, "window": regime.window} \
        if family == "window-hazard" else {}
    err_mean, err_law, basis = band(family, n, **where)
    if err_mean is None or (law and err_law is None):
        fail(what, why + f"; {basis}", model, regime, generations_guess(regime))
    value = approximate_collapse(model, regime, law, progress)
    if value is None:
        fail(what, why + "; the deterministic path stalls before a Dirac mass (tied "
             "modes, or top-p keeping several tokens for ever), so the noise decides",
             model, regime, generations_guess(regime))
    return _banded(value, family, err_mean, err_law, basis)
