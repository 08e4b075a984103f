r"""What survives: the expected number of surviving tokens
:math:`E|\mathrm{supp}\,p^{(m)}|` and the expected homozygosity
:math:`S_m = E\sum_i (p_i^{(m)})^2`, under every regime."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ...errors import UnsupportedRegimeError, WrongTypeError
from ...models import (
    Categorical,
    check_categorical,
    exact_probabilities,
)
from ...regimes import (
    Mix,
    Regime,
    Replace,
    accepts_regime_spec,
    require_plain_sampling,
)
from .._results import check_generations, check_method
from . import marginal
from ._dispatch import _mix_chain, _overlapping_exact, _policy_replace, _replace_n
from .approximate import simulation_fallback
from .genealogy import genealogy_homozygosity, genealogy_homozygosity_from_S0
from .policy_laws import policy_surviving_tokens
from .pool_chain import overlapping_homozygosity, overlapping_surviving_tokens
from .replace_chain import (
    DONE_TOL,
    MARGINAL_MAX_GENERATIONS,
    SPECTRAL_STATES,
    _later_transient,
    _propagate,
)

__all__ = [
    "expected_surviving_tokens",
    "homozygosity",
    "homozygosity_from_S0",
]


# ---------------------------------------------------------------------- surviving tokens
@simulation_fallback("expected_surviving_tokens")
@accepts_regime_spec
def expected_surviving_tokens(
    model: Categorical, regime: Regime, m, *, method: str = "auto"
):
    r"""Expected support size :math:`E|\mathrm{supp}\,p^{(m)}|` under ``Replace(n)``.

    .. math:: E|\mathrm{supp}\,p^{(m)}| = \sum_i \big(1 - E(1-p_i)^{A_{m-1}}\big),
              \quad m \ge 1,

    and the support size of :math:`p^{(0)}` at ``m = 0``. ``m`` may be an int or an
    array of ints; the result has the same shape. ``method``: ``"auto"`` (the
    coalescent dual for plain sampling; the exact chain on count partitions,
    :func:`modelcollapse.theory.policy_surviving_tokens`, under a sampling
    policy), ``"coalescent"`` or ``"marginal"`` (dense per-token chains, ``n <= 3000``).

    The other regimes, ``Mix`` included, and any sampling policy: the exact chains of
    :mod:`modelcollapse.theory.categorical.window_chain` (small sizes; ``TooLargeError`` beyond).
    Under ``Mix`` with the same real samples the support is that of the real sample
    from generation 1 on, :math:`\sum_i (1 - (1-p_i)^N)`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Regime
        ``Replace(n)`` (any sampling policy), ``MostRecent``, ``RandomlySampled``,
        ``Accumulate``, ``AccumulateSubsample`` or ``Mix``. A spec string is not accepted
        here (``ValueError``).
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` is the real model).
    method : {"auto", "coalescent", "marginal"}, default "auto"
        For plain ``Replace(n)``; under a sampling policy and the other regimes only
        ``"auto"`` (or ``"chain"``, the exact chain it selects there) is accepted.

    Returns
    -------
    float or numpy.ndarray
        A float for a scalar ``m``; a float64 array of the shape of ``m`` for an array.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), an unknown ``method`` or one
        the regime does not take, ``method="marginal"`` with ``n > 3000`` or ``m > 10**7 + 1``,
        or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical`` (under the overlapping-generation regimes and
        ``Mix``, also an ``m`` of a wrong type).
    TooLargeError
        ``n`` above ``10**8`` (the exact solvers' reach), or the exact chains of the other
        regimes and of the sampling policies beyond their size caps.

    References
    ----------
    .. [1] The theory chapter, docs/theory/token-loss.md ("Surviving tokens").
    """
    model = check_categorical(model)
    if _policy_replace(regime, method):

        return policy_surviving_tokens(model, regime, m)
    if _overlapping_exact(regime, method, "expected_surviving_tokens") or (
            isinstance(regime, Mix) and _mix_chain(method, "expected_surviving_tokens")):

        return overlapping_surviving_tokens(model, regime, m)
    n = _replace_n(regime, "expected_surviving_tokens")
    method = check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    ms = check_generations(m)
    # beyond 2**62 generations every chain has collapsed long ago: no int64 wrap-around
    flat = np.minimum(ms.ravel(), 2**62).astype(np.int64)
    vals_p, counts = marginal.grouped(model.p)
    out = np.empty(flat.size)
    out[flat == 0] = counts.sum()
    ks = sorted({int(x) - 1 for x in flat if x >= 1})
    if ks:
        with np.errstate(divide="ignore"):
            lg = np.log1p(-vals_p)  # -inf for a Dirac token, which always survives
        if method == "coalescent":
            # the ancestral chain is propagated until it lives on a few states (or
            # P(A_k >= 2) < DONE_TOL); the law of any later A_k is a matrix power
            vals, snaps, _, law_K = _propagate(n, np.zeros((1, n + 1)), DONE_TOL,
                                               max(ks) + 1, snap_ks=ks, spectral=True,
                                               require_done=False)
            last = vals.shape[0] - 1
            res = {}
            for idx, k in enumerate(ks):
                if k <= last:
                    law = snaps[idx]
                elif np.count_nonzero(law_K[2:]) <= SPECTRAL_STATES:
                    law = _later_transient(n, law_K, k - last)
                else:  # stopped by DONE_TOL: one lineage left, up to that mass
                    res[k] = 1.0
                    continue
                # one lineage leaves exactly one token; with a >= 2 lineages token g
                # survives with probability 1 - (1 - p_g)^a: E = 1 + E[psi(A) - 1; A >= 2]
                a_idx = 2 + np.flatnonzero(law[2:] > 0)
                surv = -np.expm1(np.outer(a_idx.astype(np.float64), lg)) @ counts
                res[k] = 1.0 + float(law[a_idx] @ (surv - 1.0))
        else:
            if max(ks) > MARGINAL_MAX_GENERATIONS:
                raise ValueError(
                    f"method='marginal' iterates every generation; m = {max(ks) + 1} is "
                    f"above {MARGINAL_MAX_GENERATIONS}: use method='coalescent', which "
                    "stops once the chain has collapsed")
            marginal.check_n(n)
            start = marginal.first_generation_law(n, model.p)
            alive = 1.0 - marginal.loss_functionals(n)[0]
            P = marginal.wf_matrix(n)
            res = {}
            v = alive
            for k in range(max(ks) + 1):
                if k in ks:
                    res[k] = float(start @ v)
                v = P @ v
        for j, x in enumerate(flat):
            if x >= 1:
                out[j] = res[int(x) - 1]
    if ms.ndim == 0:
        return float(out[0])
    return out.reshape(ms.shape)


# ---------------------------------------------------------------------- homozygosity
@simulation_fallback("homozygosity")
@accepts_regime_spec
def homozygosity(model: Categorical, regime: Regime, m, *, exact: bool = False):
    r"""Expected homozygosity :math:`S_m = E\sum_i (p^{(m)}_i)^2`.

    ``Replace(n)`` (Seddik Thm 1, eq. 6): :math:`S_m = 1 - (1-1/n)^m (1-S_0)`.

    ``Mix(real=N, synthetic=n)``, :math:`\alpha = n/(N+n)`,
    :math:`\beta = \alpha[(1+1/N)\alpha - 1/N]`: the per-token recursion
    :math:`\nu^{(m+1)} = (1-\alpha)(1+2\alpha)p/N + (1-1/N)(1-\alpha^2)p^2 + \beta\nu^{(m)}`
    from :math:`S_1 = 1/N + (1-1/N)S_0` gives, for ``m >= 1``,

    .. math:: S_m = L + \beta^{m-1}(S_1 - L), \quad
              L = \frac{(1+2\alpha)/N + (1-1/N)(1+\alpha)S_0}{1 + (1+1/N)\alpha}.

    This corrects a sign in the transient term of Seddik et al.'s printed eq. (9); see
    :mod:`modelcollapse.proofs.seddik_theorem2`.

    ``Mix(real=N, synthetic=n, fresh=True)`` (new real samples every generation):
    :math:`E p^{(m)} = p^{(0)}` and :math:`V_m = S_m - S_0` obeys
    :math:`V_1 = (1-S_0)/N`, :math:`V_{m+1} = \beta' V_m + (1-S_0)/(N+n)` with
    :math:`\beta' = \alpha^2(1-1/n)`, so
    :math:`S_m = S_0 + V_\infty + \beta'^{m-1}(V_1 - V_\infty)`,
    :math:`V_\infty = (1-S_0)/((N+n)(1-\beta'))`: stationary, no collapse.

    ``MostRecent``, ``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample``:
    from the two-lineage genealogy, :math:`S_m = 1 - (1-S_0)D_m`
    (:func:`modelcollapse.theory.genealogy_homozygosity`).

    ``exact=True`` evaluates in rational arithmetic (``fractions.Fraction``) for scalar
    ``m``; ``model`` may then also be a sequence of ``Fraction`` probabilities (converted by
    :func:`modelcollapse.models.exact_probabilities`).

    Under a sampling policy (temperature, top-k, top-p; any regime) the sum of squares
    is no longer a closed recursion: :math:`S_m` comes from the exact chains on count
    vectors (small ``n`` and vocabularies,
    :func:`modelcollapse.theory.overlapping_homozygosity`), in float64 only.

    Parameters
    ----------
    model : Categorical or sequence of Fraction
        The real distribution :math:`p^{(0)}`; with ``exact=True`` also a sequence of
        probabilities (see above).
    regime : Regime
        ``Replace``, ``Mix`` (``fresh`` or not), ``MostRecent``, ``RandomlySampled``,
        ``Accumulate`` or ``AccumulateSubsample``, with any sampling policy (then in
        float64 only). A spec string is not accepted here (``ValueError``).
    m : int or array_like of int
        Generations, ``>= 0`` (``m = 0`` gives :math:`S_0`); a scalar with ``exact=True``.
    exact : bool, default False
        Evaluate in rational arithmetic.

    Returns
    -------
    float, numpy.ndarray or Fraction
        A float for a scalar ``m``, a float64 array of the shape of ``m`` for an array, a
        ``Fraction`` with ``exact=True``.

    Raises
    ------
    ValueError
        ``m`` not a non-negative integer (or array of them), ``exact=True`` with an array
        ``m``, or ``regime`` not a :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical`` (with ``exact=False``).
    UnsupportedRegimeError
        ``exact=True`` with a sampling policy.
    TooLargeError
        Under a sampling policy, the exact chains beyond their size caps; under the
        overlapping-generation regimes, ``m`` beyond the genealogy recursions' limits.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/categorical.md ("Homozygosity").
    .. [3] The theory chapter, docs/theory/categorical.md ("Partially synthetic data: the Mix
       regime").
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    if isinstance(regime, Regime) and not regime.sampling.plain:
        if exact:
            raise UnsupportedRegimeError(
                f"homozygosity(exact=True) is rational for plain sampling only; {regime!r} "
                "sets a sampling policy: use exact=False (the exact chain in float64)",
                ("plain sampling",))

        return overlapping_homozygosity(model, regime, m)
    if _overlapping(regime):

        return genealogy_homozygosity(model, regime, m, exact=exact)
    ms = check_generations(m)
    if exact:
        if ms.ndim != 0:
            raise ValueError("exact=True takes a scalar m")
        p = exact_probabilities(model)
        return homozygosity_from_S0(sum(x * x for x in p), regime, int(ms))
    model = check_categorical(model)
    out = homozygosity_from_S0(model.homozygosity, regime, ms.astype(np.float64))
    if ms.ndim == 0:
        return float(out)
    return np.asarray(out, dtype=np.float64)


def _overlapping(regime) -> bool:
    """Regimes whose lineages jump back more than one generation (exact homozygosity from
    the two-lineage genealogy, :mod:`modelcollapse.theory.categorical.genealogy`)."""
    return isinstance(regime, Regime) and not isinstance(regime, (Replace, Mix))


def homozygosity_from_S0(S0, regime: Regime, m):
    """The closed forms of :func:`homozygosity` from :math:`S_0`: in exact arithmetic when
    ``S0`` is a ``Fraction`` and ``m`` an int, in float64 (``m`` may be an array) otherwise.
    """
    require_plain_sampling(regime, "homozygosity")
    if _overlapping(regime):

        ms = m if isinstance(S0, Fraction) else np.asarray(m).astype(np.int64)
        return genealogy_homozygosity_from_S0(S0, regime, ms)
    exact = isinstance(S0, Fraction)
    one = Fraction(1) if exact else 1.0
    if isinstance(regime, Replace):
        n = regime.n
        if exact:
            decay = (1 - one / n) ** m
        else:  # exp(m log1p(-1/n)) keeps full relative accuracy for large m
            decay = np.exp(m * math.log1p(-1.0 / n)) if n > 1 else np.where(m == 0, 1.0, 0.0)
        return 1 - decay * (1 - S0)
    if isinstance(regime, Mix) and regime.fresh:
        # V_m = sum_i Var p_i^(m) = S_m - S_0: V_1 = (1-S_0)/N and
        # V_{m+1} = beta V_m + (1-S_0)/(N+n), beta = alpha^2 (1-1/n)
        N, n = regime.real, regime.synthetic
        a = one * n / (N + n)
        beta = a * a * (1 - one / n)
        V1 = (1 - S0) / N
        Vinf = (1 - S0) / (N + n) / (1 - beta)
        if exact:
            return S0 if m == 0 else S0 + Vinf + beta ** (m - 1) * (V1 - Vinf)
        return np.where(m >= 1, S0 + Vinf + beta ** np.maximum(m - 1, 0) * (V1 - Vinf), S0)
    if isinstance(regime, Mix):
        N, n = regime.real, regime.synthetic
        a = one * n / (N + n)
        beta = a * ((1 + one / N) * a - one / N)
        S1 = one / N + (1 - one / N) * S0
        L = ((1 + 2 * a) / N + (1 - one / N) * (1 + a) * S0) / (1 + (1 + one / N) * a)
        if exact:
            return S0 if m == 0 else L + beta ** (m - 1) * (S1 - L)
        return np.where(m >= 1, L + beta ** np.maximum(m - 1, 0) * (S1 - L), S0)
    _replace_n(regime, "homozygosity")
    raise AssertionError  # pragma: no cover
