r"""Large-``n`` asymptotics of the collapse time under a sampling policy
(:mod:`modelcollapse.theory.categorical.policy_chain` is the exact chain).

**Large n** (see :func:`policy_collapse_time_asymptotic`):

* ``T < 1``: the deterministic part multiplies the log-ratio of the two most likely
  tokens by ``1/T`` each generation, :math:`\ell_{m} = \ell_0 T^{-(m-1)}`,
  :math:`\ell_0 = \ln(p_{(1)}/p_{(2)})`; collapse happens in the generation where the
  minority mass :math:`\approx e^{-\ell}` falls to order ``1/n``, i.e. after
  :math:`1 + \ln(\ln n/\ell_0)/\ln(1/T)` generations: :math:`E[T] = \Theta(\log\log n)`.
* ``T = 1``: neutral Wright--Fisher, :math:`E[T] \sim -2n\sum_i(1-p_i)\ln(1-p_i)`
  (Littler), linear in ``n``; top-k at ``T = 1`` acts once (generation 2 sees only the
  top ``k`` tokens of :math:`p^{(1)}`), so :math:`E[T] \approx 1 +` the plain value of
  the renormalised top-k law; top-p turns collapse into the first time the leading mass
  reaches ``P`` (still linear in ``n``, smaller constant).
* ``T > 1``: the deterministic part flattens towards uniform on the current support
  (ratio ``r -> r^{1/T}``), so collapse needs a large deviation against the drift:
  :math:`\ln E[T] \sim c(T)\, n` with the discrete Freidlin--Wentzell rate
  :math:`c(T) = \min_{\text{paths}} \sum_k \mathrm{KL}(y_{k+1} \| \pi(y_k))` from the
  uniform point to a Dirac (computed for two tokens by :func:`policy_ld_rate`).
"""

from __future__ import annotations

import math

import numpy as np

from ...errors import UnsupportedRegimeError, WrongTypeError
from ...models import Categorical, check_categorical, check_positive_int
from ...regimes import SamplingPolicy
from ...sampling import sampling_distribution
from .._results import Estimate
from .approximate import band
from .diffusion import littler_rate
from .policy_chain import _policy_n, _support

__all__ = [
    "policy_collapse_time_asymptotic",
    "policy_ld_rate",
]


# ---------------------------------------------------------------------- large n
def deterministic_hazards(p: np.ndarray, n: int, policy: SamplingPolicy,
                          max_generations: int = 10_000, window: int = 1
                          ) -> np.ndarray | None:
    r"""The hazards :math:`h_m`, ``m = 1, 2, ...``: the probability that the fit of
    generation ``m`` is a Dirac mass when its samples come from the deterministic path,
    until the survival :math:`\prod_m (1 - h_m)` falls below ``1e-17``.

    ``window = 1`` (``Replace``): generation ``m`` draws ``n`` samples from
    :math:`s_m`, :math:`s_1 = p^{(0)}` (real data is drawn plainly),
    :math:`s_{m+1} = \pi(s_m)`, and :math:`h_m = \sum_i s_{m,i}^n`. ``window = K``
    (``MostRecent``): generation ``m`` draws :math:`b = \lfloor n/k \rfloor` samples
    from each of the laws of the :math:`k = \min(K, m)` latest models, the law of
    model ``j`` being :math:`p^{(0)}` for ``j = 0`` and :math:`\pi(\bar q^{(j)})`
    otherwise, :math:`\bar q^{(m)}` the mean of the ``k`` laws, and
    :math:`h_m = \sum_i \prod_j s_{j,i}^b`. ``None`` when the path stalls at a fixed
    point that is not a Dirac mass (tied modes, top-k or top-p at ``T = 1``: the noise
    then decides) or has not collapsed within ``max_generations``."""
    laws = [p.copy()]  # the sampling law of model j (p^(0) drawn plainly)
    surv, hs = 1.0, []
    with np.errstate(under="ignore", divide="ignore"):
        for m in range(1, max_generations + 1):
            k = min(window, m)
            b = n // k
            src = laws[-k:]
            logs = sum(b * np.log(s) for s in src)  # -inf where a law lacks the token
            h = float(np.exp(logs[np.isfinite(logs)]).sum())
            hs.append(min(h, 1.0))
            surv *= max(1.0 - h, 0.0)
            if surv < 1e-17:
                return np.array(hs)
            fit = sum(src) / k
            nxt = sampling_distribution(fit, policy)
            if all(np.allclose(nxt, s, rtol=1e-15, atol=0.0) for s in src):
                return None  # every law in the window is the next one: a fixed point
            laws.append(nxt)
            del laws[:-window]
    return None


def _deterministic_hazard_mean(p: np.ndarray, n: int, policy: SamplingPolicy,
                               max_generations: int = 10_000) -> float:
    r""":math:`\sum_{m \ge 0}\prod_{j=1}^m (1 - h_j)` with the hazards of
    :func:`deterministic_hazards`."""
    hs = deterministic_hazards(p, n, policy, max_generations)
    if hs is None:
        raise RuntimeError("the deterministic-path hazard did not reach collapse")
    return float(1.0 + np.cumprod(1.0 - hs).sum())


def policy_ld_rate(temperature: float, *, grid: int = 2000) -> float:
    r"""Large-deviation rate :math:`c(T)` of collapse for two tokens and ``T > 1``:
    :math:`\ln E[T] \sim c(T)\, n`.

    One generation moves the minority frequency from ``x`` to ``y`` with probability
    :math:`\approx e^{-n\,\mathrm{KL}(y\|\pi(x))}` (Sanov / Cramér for the binomial,
    :math:`\pi(x) = x^{1/T}/(x^{1/T}+(1-x)^{1/T})`), so the cheapest escape from the
    attracting point ``1/2`` to the absorbing ``0`` costs
    :math:`c(T) = V(1/2)`, :math:`V(x) = \min_y [\mathrm{KL}(y\|\pi(x)) + V(y)]`,
    :math:`V(0) = 0` (the final step costs :math:`-\ln(1-\pi(x))`); solved by value
    sweep on a grid of ``grid`` points (escape paths only move down). ``T = 1`` gives
    0 up to the grid (no drift: polynomial times), and the rate grows with ``T``:
    0.4164 (T = 1.5), 0.5515 (T = 2), 0.6344 (T = 3).

    Parameters
    ----------
    temperature : float
        The temperature ``T``, finite and ``>= 1``.
    grid : int, default 2000
        Number of grid steps on ``[0, 1/2]``, ``>= 10``.

    Returns
    -------
    float
        :math:`c(T)`.

    Raises
    ------
    WrongTypeError
        ``temperature`` not a real number, or ``grid`` not an integer.
    ValueError
        ``temperature`` below 1 or not finite, or ``grid < 10``.

    References
    ----------
    .. [1] M. I. Freidlin, A. D. Wentzell (1998). *Random Perturbations of Dynamical Systems*, 2nd
       ed. Springer.
    .. [2] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [3] The theory chapter, docs/theory/policies.md ("T > 1: exp(c n)").
    """
    if isinstance(temperature, bool) or not isinstance(
            temperature, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"temperature must be a real number, got {temperature!r}")
    T = float(temperature)
    if not (math.isfinite(T) and T >= 1):
        raise ValueError(f"temperature must be >= 1 (the large-deviation rate of T > 1), "
                         f"got {T}")
    grid = check_positive_int(grid, "grid", minimum=10)
    x = np.linspace(0.0, 0.5, grid + 1)
    w = x[1:] ** (1 / T)
    qx = np.concatenate([[0.0], w / (w + (1 - x[1:]) ** (1 / T))])
    # the drift pushes x up towards 1/2, so an optimal escape path only goes down:
    # one sweep in increasing x, V(x) = min(-ln(1 - q(x)), min_{0<y<x} KL(y||q) + V(y))
    V = np.zeros(grid + 1)
    for i in range(1, grid + 1):
        q = qx[i]
        y = x[1:i]
        best = -math.log1p(-q)
        if y.size:
            kl = y * np.log(y / q) + (1 - y) * np.log((1 - y) / (1 - q))
            best = min(best, float((kl + V[1:i]).min()))
        V[i] = best
    return float(V[-1])


def policy_collapse_time_asymptotic(model: Categorical, regime, *, form: str = "hazard"):
    r"""Large-``n`` approximation of :math:`E[T]` under a sampling policy.

    ``T < 1`` (a unique most likely token):

    * ``form="hazard"``: the deterministic path :math:`\bar q^{(j)} = \pi^{j}(p^{(0)})`
      with the exact one-generation collapse probability along it,
      :math:`E[T] \approx \sum_{m\ge0}\prod_{j=1}^{m}(1 - \sum_i(\bar q^{(j-1)}_i)^n)`
      (``method="deterministic-hazard"``): only the last generation's noise matters,
      since earlier the minority counts are a positive power of ``n``. Its measured
      relative error band is ``.error`` (docs/theory/approximations.md).
    * ``form="leading"``: the generation at which the deterministic minority mass
      :math:`e^{-\ell_0 T^{-(m-1)}}` equals :math:`\ln 2/n` (hazard 1/2),
      :math:`1 + \ln\!\big(\ln(n/\ln 2)/\ell_0\big)/\ln(1/T)` with
      :math:`\ell_0 = \ln(p_{(1)}/p_{(2)})` (``method="loglog-leading"``): the
      :math:`\log\log n` growth; :math:`E[T]` minus it stays bounded and oscillates
      (``T`` is an integer concentrated on one or two values).

    ``T = 1``: Littler's diffusion value :math:`1\{\text{top-k}\} + (-2n)\sum_i
    (1-\tilde p_i)\ln(1-\tilde p_i)` with :math:`\tilde p` the renormalised top-k of
    :math:`p^{(0)}` (``method="diffusion"``); top-p is not covered (collapse is then
    the hitting time of the level ``top_p`` by the leading mass).

    ``T > 1``: ``UnsupportedRegimeError``: only the rate is known,
    :math:`\ln E[T] \sim n\, c(T)` (:func:`policy_ld_rate`, two tokens).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`.
    regime : Replace or str
        ``Replace(n)`` with any sampling policy (plain sampling included: the neutral
        chain), or its spec string.
    form : {"hazard", "leading"}, default "hazard"
        The approximation for ``T < 1`` (ignored otherwise).

    Returns
    -------
    Estimate
        A float with ``.exact == False`` and ``.method`` one of ``"deterministic-hazard"``,
        ``"loglog-leading"`` and ``"diffusion"`` (floored at 1); ``Estimate(1.0,
        method="dirac", exact=True)`` for a Dirac :math:`p^{(0)}`.

    Raises
    ------
    ValueError
        An unknown ``form``, or an invalid spec string.
    WrongTypeError
        ``model`` is not a ``Categorical``, or ``regime`` neither a ``Regime`` nor a
        string.
    UnsupportedRegimeError
        ``T > 1``, top-p at ``T = 1``, tied most likely tokens at ``T < 1``, or another
        regime than ``Replace``.
    RuntimeError
        The deterministic path does not collapse within 10000 generations
        (``form="hazard"``).

    References
    ----------
    .. [1] R. A. Littler (1975). *Loss of variability at one locus in a finite population.*
       Mathematical Biosciences 25, 151–163.
    .. [2] M. Marchi, S. Soatto, P. Chaudhari, P. Tabuada (2024). *Heat Death of Generative Models
       in Closed-Loop Learning.* arXiv:2404.02325.
    .. [3] The theory chapter, docs/theory/policies.md ("Large n: three growth regimes").
    """
    model = check_categorical(model)
    n, policy = _policy_n(regime, "policy_collapse_time_asymptotic")
    if form not in ("hazard", "leading"):
        raise ValueError(f"form must be 'hazard' or 'leading', got {form!r}")
    p = _support(model)
    if p.size == 1:
        return Estimate(1.0, "dirac", True)
    T = policy.temperature
    if T < 1:
        top = np.sort(p)[::-1]
        if top[1] >= top[0] * (1 - 1e-12):
            raise UnsupportedRegimeError(
                "the T < 1 asymptotic needs a unique most likely token: with a tie the "
                "deterministic map never separates the leaders and the noise decides",
                ("T < 1 with a unique mode",))
        if form == "leading":
            l0 = math.log(top[0] / top[1])
            val = 1.0 + math.log(math.log(n / math.log(2)) / l0) / math.log(1 / T)
            return Estimate(val, "loglog-leading", False)
        err, _, basis = band("deterministic-hazard", n, temperature=T)
        return Estimate(_deterministic_hazard_mean(p, n, policy), "deterministic-hazard",
                        False, err, basis)
    if T == 1:
        if policy.top_p is not None and policy.top_p < 1:
            raise UnsupportedRegimeError(
                "no closed-form large-n value for top-p: collapse is the hitting time of "
                "the level top_p by the leading mass", ("T=1 plain or top-k",))
        ptil = sampling_distribution(p, policy)
        shift = 0.0 if policy.top_k is None or policy.top_k >= p.size else 1.0
        val = shift + n * littler_rate(ptil)
        return Estimate(max(val, 1.0), "diffusion", False)
    raise UnsupportedRegimeError(
        f"E[T] grows exponentially in n for T = {T} > 1: only the rate ln E[T] ~ c(T) n "
        "is known (policy_ld_rate); use policy_expected_collapse_time for small n",
        ("T < 1", "T = 1 (plain or top-k)"))
