r"""When a token is lost: the law of the loss time of one token of :math:`p^{(0)}`
(:func:`token_loss`) and the forgetting time of a token with ``c`` copies among the
current samples, conditioned on its loss (:func:`forgetting_time`)."""

from __future__ import annotations

import numpy as np

from ...errors import UnsupportedRegimeError
from ...models import (
    Categorical,
    check_categorical,
)
from ...regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
    accepts_regime_spec,
)
from .._results import check_method, check_tol
from ..distributions import GenerationDistribution
from . import marginal
from ._dispatch import _overlapping_exact, _replace_n
from .approximate import simulation_fallback
from .replace_chain import (
    DEFAULT_TOL,
    _distribution,
    _forgetting_functionals,
    _green,
    _green_from_rows,
    _loss_functionals,
    _max_generations,
    _propagate,
)
from .window_laws import overlapping_token_loss

__all__ = [
    "ForgettingTime",
    "forgetting_time",
    "token_loss",
]


# ---------------------------------------------------------------------- token loss
@simulation_fallback("token_loss")
@accepts_regime_spec
def token_loss(
    model: Categorical,
    regime: Regime,
    token,
    *,
    method: str = "auto",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> GenerationDistribution:
    r"""Law of :math:`T_i`, the first generation ``m >= 1`` with :math:`p^{(m)}_i = 0`.

    The law is defective: the token is never lost with probability :math:`p_i` (it is
    the one that fixes, Seddik Prop. 1); ``.defect`` holds that mass, ``.mean()`` is
    infinite and ``.conditional()`` gives the law given loss. By the dual,
    :math:`P(T_i \le m) = E(1-p_i)^{A_{m-1}}`.

    ``token`` is an index or, when the model has labels, a word.

    Under ``MostRecent``, ``Accumulate`` and ``Replace`` with a sampling policy the law
    comes from the exact window chain (small ``n``; the default ``method`` means it, and
    ``"chain"`` names it): :func:`modelcollapse.theory.overlapping_token_loss`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Regime
        ``Replace(n)`` (any sampling policy), ``MostRecent`` or ``Accumulate``. A spec
        string is not accepted here (``ValueError``).
    token : int or str
        Index of the token, or its label when the model has labels.
    method : {"auto", "coalescent", "marginal", "chain"}, default "auto"
        For plain ``Replace(n)``: the coalescent dual (what ``"auto"`` selects) or the
        per-token binomial chain (``n <= 3000``). Otherwise the exact window chain,
        which ``"auto"`` and ``"chain"`` select.
    tol : float, default 1e-12
        Tolerance on the neglected tail mass, in ``(0, 1)``: the law is propagated until
        the remaining mass is below it, then continued geometrically (exactly, for the
        coalescent method, once the ancestral chain has a few states).
    max_generations : int, optional
        Safety limit on the generations propagated; by default ``4 n ln(1/tol) + 1000``
        for plain ``Replace`` and 100000 for the window chain.
    progress : bool, default False
        Show a progress bar (plain ``Replace``, ``method="coalescent"``).

    Returns
    -------
    GenerationDistribution
        The defective law of :math:`T_i`: ``.defect`` is the probability that the token is
        never lost. Under plain ``Replace`` a token of probability 0 is lost at ``m = 1``;
        a token of probability 1 is never lost (``defect = 1``).

    Raises
    ------
    ValueError
        An unknown ``method`` or one the regime does not take, ``tol`` outside ``(0, 1)``,
        a bad ``token``, ``method="marginal"`` with ``n > 3000``, or ``regime`` not a
        :class:`~modelcollapse.regimes.Regime`.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``max_generations`` not an integer.
    UnsupportedRegimeError
        ``RandomlySampled``, ``AccumulateSubsample`` and ``Mix`` (see
        :func:`modelcollapse.theory.first_loss_probability`).
    TooLargeError
        ``n`` above ``10**8``, or the window chain beyond its size caps.
    RuntimeError
        The coalescent law has not converged within ``max_generations``.

    References
    ----------
    .. [1] M. E. A. Seddik, S.-W. Chen, S. Hayou, P. Youssef, M. Debbah (2024). *How Bad is Training
       on Synthetic Data? A Statistical Analysis of Language Model Collapse.* COLM 2024.
       arXiv:2404.05090.
    .. [2] The theory chapter, docs/theory/token-loss.md ("The loss time of a token").
    """
    model = check_categorical(model)
    if isinstance(regime, Replace) and not regime.sampling.plain:
        if method not in ("auto", "chain"):
            raise ValueError(
                f"{regime!r} samples with a policy: its token-loss law comes from the exact "
                f"window chain, not method={method!r}; use method='auto'")

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return overlapping_token_loss(model, regime, token, tol=tol, **kw)
    if isinstance(regime, (RandomlySampled, AccumulateSubsample, Mix)):
        raise UnsupportedRegimeError(
            f"token_loss: under {type(regime).__name__} the real data keep the token or "
            "bring a lost one back (Mix with the same real samples: it is lost only if "
            "they lack it), and the "
            "exact state grows with m, so there is no law with a tail to give; "
            "theory.first_loss_probability(model, regime, token, m) gives "
            "P(T_i <= m) exactly for finite m",
            ("Replace", "MostRecent", "Accumulate"))
    if isinstance(regime, (MostRecent, Accumulate)) and _overlapping_exact(
            regime, method, "token_loss"):

        kw = {} if max_generations is None else {"max_generations": max_generations}
        return overlapping_token_loss(model, regime, token, tol=tol, **kw)
    n = _replace_n(regime, "token_loss")
    tol = check_tol(tol)
    method = check_method(method, ("auto", "coalescent", "marginal"))
    method = "coalescent" if method == "auto" else method
    i = model.token_index(token)
    pi_ = float(model.p[i])
    max_gen = _max_generations(max_generations, n, tol)
    if pi_ == 0.0:
        return GenerationDistribution([0.0, 1.0], [1.0, 0.0], method=method)
    if pi_ == 1.0:
        return GenerationDistribution([0.0], [0.0], defect=1.0, method=method)
    terms = None
    if method == "coalescent":
        H, phi = _loss_functionals(pi_, n)
        vals, _, terms, _ = _propagate(n, np.stack([H, phi]), tol, max_gen, tail_row=1,
                                       progress=progress, desc="token-loss law")
    else:
        marginal.check_n(n)
        b = marginal.binomial_rows(n, np.array([pi_]))[0]
        vals = marginal.propagate(n, b, list(marginal.loss_functionals(n)), tol, max_gen)
    return _distribution(vals[:, 0], vals[:, 1], 1.0 - pi_, pi_, n, 1, method, terms)


class ForgettingTime(GenerationDistribution):
    """Law of the time to lose a token, conditioned on its loss.

    ``p_loss`` is the probability that the token is ever lost (``1 - count/n``);
    ``mean()`` and ``var()`` are the exact conditional moments from the Green's function
    (fundamental matrix) of the chain, not sums of the truncated law.

    References
    ----------
    .. [1] The theory chapter, docs/theory/token-loss.md ("Forgetting time: the conditioned chain").
    """

    def __init__(self, law: GenerationDistribution, p_loss: float, mean: float, var: float,
                 count: int, n: int):
        super().__init__(law._cdf, law._tail, ratio=law.ratio,
                         tail_terms=(law._coefs, law._rates), method=law.method)
        self.p_loss = p_loss
        self._mean = mean
        self._var = var
        self.count = count
        self.n = n

    def mean(self) -> float:
        return self._mean

    def var(self) -> float:
        return self._var

    def __repr__(self) -> str:
        return (
            f"ForgettingTime(count={self.count}, n={self.n}, p_loss={self.p_loss:.6g}, "
            f"mean={self._mean:.6g}, median={self.median():g}, method={self.method!r})"
        )


def forgetting_time(
    count: int,
    n: int,
    *,
    method: str = "coalescent",
    tol: float = DEFAULT_TOL,
    max_generations: int | None = None,
    progress: bool = False,
) -> ForgettingTime:
    r"""Time to forget a token seen ``count`` times among the ``n`` current samples.

    Under ``Replace(n)`` the token's count is the Wright--Fisher chain
    :math:`X' \sim \mathrm{Bin}(n, X/n)` from :math:`X_0 = c`. Its loss time
    :math:`\tau` is finite with probability :math:`h(c) = 1 - c/n`. Conditioned on loss
    (Doob h-transform with :math:`h(j) = 1 - j/n`),

    .. math:: E[\tau \mid \text{loss}] = \frac{[(I-Q)^{-1} h](c)}{h(c)}, \qquad
              P(\tau \le t \mid \text{loss}) = \frac{P_c(X_t = 0)}{h(c)} .

    ``method="marginal"`` uses the dense fundamental matrix of the count chain;
    ``method="coalescent"`` the dual (the token is lost by ``t`` iff none of the
    :math:`A_t` ancestral samples carries it: probability
    :math:`\binom{n-c}{A_t}/\binom{n}{A_t}`), which scales to large ``n``.

    Parameters
    ----------
    count : int
        Copies ``c`` of the token among the ``n`` current samples, ``1 <= count < n``.
    n : int
        Samples per generation (``Replace(n)``), ``>= 2``.
    method : {"coalescent", "marginal"}, default "coalescent"
        The coalescent dual, or the dense fundamental matrix of the count chain
        (``n <= 3000``).
    tol : float, default 1e-12
        Tolerance on the neglected tail mass, in ``(0, 1)``: the law is propagated until
        the remaining mass is below it (the coalescent method continues it exactly once
        the ancestral chain has a few states).
    max_generations : int, optional
        Safety limit on the generations propagated; by default ``4 n ln(1/tol) + 1000``.
    progress : bool, default False
        Show a progress bar (``method="coalescent"``).

    Returns
    -------
    ForgettingTime
        The conditional law (``pmf``, ``cdf``, ``quantile``, ``median``), exact
        ``mean()``/``var()``, and ``p_loss``.

    Raises
    ------
    WrongTypeError
        ``count``, ``n`` or ``max_generations`` not an integer.
    ValueError
        ``count < 1``, ``count >= n``, ``n < 2``, ``tol`` outside ``(0, 1)``, an unknown
        ``method``, or ``method="marginal"`` with ``n > 3000``.
    TooLargeError
        ``n`` above ``10**8`` (the exact solvers' reach).
    RuntimeError
        The coalescent law has not converged within ``max_generations``.

    References
    ----------
    .. [1] J. L. Doob (1957). *Conditional Brownian motion and the boundary limits of harmonic
       functions.* Bulletin de la Société Mathématique de France 85, 431–458.
    .. [2] The theory chapter, docs/theory/token-loss.md ("Forgetting time: the conditioned chain").
    """
    from ...models import check_positive_int

    n = check_positive_int(n, "n", minimum=2)
    count = check_positive_int(count, "count")
    if count >= n:
        raise ValueError(f"count must be < n (a token with count n is never lost); got "
                         f"count={count}, n={n}")
    tol = check_tol(tol)
    method = check_method(method, ("coalescent", "marginal"))
    max_gen = _max_generations(max_generations, n, tol)
    p_loss = 1.0 - count / n
    terms = None
    if method == "coalescent":
        H, phi = _forgetting_functionals(count, n)
        vals, _, terms, _ = _propagate(n, np.stack([H, phi]), tol, max_gen, tail_row=1,
                                       progress=progress, desc="forgetting law")
        # the moments are sums of the propagated row, continued exactly by its spectral
        # terms (the Green's-function solve would pass over every occupancy row again)
        g1, g2 = (_green_from_rows(n, vals[:, 1], terms) if terms is not None
                  else _green(n, phi))
    else:
        marginal.check_n(n)
        start = np.zeros(n + 1)
        start[count] = 1.0
        lost, h = marginal.loss_functionals(n)
        vals = marginal.propagate(n, start, [lost, h], tol, max_gen)
        g1, g2 = marginal.absorbed_green(n, start, h)
    law = _distribution(vals[:, 0], vals[:, 1], 0.0, 1.0 - p_loss, n, 0, method, terms)
    cond = law.conditional()
    mean = g1 / p_loss
    second = (2.0 * g2 - g1) / p_loss
    return ForgettingTime(cond, p_loss, mean, second - mean * mean, count, n)
