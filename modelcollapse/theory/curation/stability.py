r"""Stability of recursive training with a share of real data, with or without curation.

With infinitely many samples per generation, ``Mix(real=N, synthetic=n)`` is the map

.. math:: p^{(m+1)} = F(p^{(m)}), \qquad F(p) = (1-\alpha)\,p^{(0)} + \alpha\,
          \mathcal C(\pi(p)), \qquad \alpha = \frac{n}{N+n} = \frac{\lambda}{1+\lambda},

with :math:`\lambda = n/N` the synthetic-to-real ratio, :math:`\pi` the sampling policy
and :math:`\mathcal C` the curation (the identity without one). This is the
non-parametric retraining step of Bertrand et al. 2023 (arXiv 2310.00429, their
objective with real weight 1 and synthetic weight :math:`\lambda`) and of Ferbach et al.
2024 (arXiv 2407.09499, curated). A fixed point :math:`p^*` is locally stable when the
spectral radius of the Jacobian of :math:`F` at :math:`p^*`, on the simplex's tangent
space, is below one; :func:`real_data_stability` solves :math:`p^*` and that radius.

What the papers' sufficient conditions say here (derived in the docs' theory page):

* Bertrand et al.'s Theorem 1 asks :math:`\lambda(1 + L\varepsilon/\alpha_c) < 1/2`
  (:math:`\alpha_c` the strong concavity, :math:`L` the Hessian's Lipschitz constant,
  :math:`\varepsilon` the distance from the data to the model class). The categorical
  family is realisable (:math:`\varepsilon = 0`), so it reads :math:`\lambda < 1/2`;
  without curation the exact radius is :math:`\alpha = \lambda/(1+\lambda) < 1` for every
  :math:`\lambda`: the condition is sufficient, far from necessary.
* Ferbach et al.'s Theorem 2.4: best-of-``K`` curation with :math:`\lambda(K-1) < 1`
  keeps :math:`\mathrm{KL}(p^{(m)} \| p^{(0)}) \le -\log(1 - \lambda(K-1))` for all
  ``m``. (Since :math:`\mathcal C(q) \le K q` token-wise, :math:`p^{(m)} \le c_m p^{(0)}`
  with :math:`c_{m+1} = (1 + \lambda K c_m)/(1+\lambda)`, whose fixed point is
  :math:`1/(1-\lambda(K-1))`.)
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ...curation import BestOfK, curated_distribution
from ...errors import UnsupportedRegimeError
from ...models import check_categorical
from ...regimes import Mix, MostRecent, Replace, accepts_regime_spec, as_regime
from ...sampling import sampling_distribution

__all__ = ["CuratedConvergence", "RealDataStability", "curated_convergence",
           "real_data_stability"]

#: Fixed-point iterations before Newton's polish: at most this many, until the
#: max-norm of ``F(p) - p`` is below :data:`POLISH_FROM`.
MAX_ITERATIONS = 20_000
POLISH_FROM = 1e-6
#: Convergence of the fixed point (max-norm of ``F(p) - p``).
TOLERANCE = 1e-13


class RealDataStability(NamedTuple):
    r"""``fixed_point`` :math:`p^*` (all tokens); ``spectral_radius`` of the Jacobian of
    :math:`F` at :math:`p^*` on the tangent space (``stable`` when below one);
    ``lam`` :math:`\lambda = n/N`; ``reward`` :math:`v \cdot p^*` (the curation's vector,
    ``nan`` without one) and ``homozygosity`` :math:`\sum_i p^{*2}_i`; ``kl_bound``
    Ferbach et al.'s :math:`-\log(1-\lambda(K-1))` (best-of-``K`` with
    :math:`\lambda(K-1) < 1`; ``inf`` otherwise); ``bertrand`` whether Bertrand et al.'s
    realisable condition :math:`\lambda < 1/2` holds; ``residual`` the max-norm of
    :math:`F(p^*) - p^*`."""

    fixed_point: np.ndarray
    spectral_radius: float
    stable: bool
    lam: float
    reward: float
    homozygosity: float
    kl_bound: float
    bertrand: bool
    residual: float


def step_map(model, regime):
    """``(F, support)``: the infinite-sample map of a ``Mix`` on the support of
    ``p^(0)`` (vectors on the support; input renormalised, so ``F`` is defined on the
    positive orthant and constant along rays)."""
    model = check_categorical(model)
    regime = as_regime(regime)
    if not isinstance(regime, Mix):
        raise UnsupportedRegimeError(
            f"real_data_stability is for Mix (a share of real data); got "
            f"{type(regime).__name__}: Replace has no real data and collapses "
            "(curated_fixation)", ("Mix",))
    cur = regime.curation
    if cur is not None:
        cur.check_size(model.size)
    sup = np.flatnonzero(model.p > 0)
    p0 = model.p[sup]
    a = regime.alpha
    pol = regime.sampling

    def F(x):
        full = np.zeros(model.size)
        full[sup] = x / x.sum()
        q = sampling_distribution(full, pol)
        if cur is not None:
            q = curated_distribution(q, cur)
        return (1 - a) * p0 + a * q[sup]

    return F, sup


def jacobian(F, x: np.ndarray) -> np.ndarray:
    """The Jacobian of ``F`` (defined on the positive orthant, constant along rays) at
    ``x``: central differences along each coordinate, with steps relative to that
    coordinate. It maps every vector to the tangent space (sum zero) and ``x`` to 0, so
    its eigenvalues are those of the map on the tangent space, and a 0."""
    J = np.empty((x.size, x.size))
    for i in range(x.size):
        h = 1e-6 * x[i]
        up, down = x.copy(), x.copy()
        up[i] += h
        down[i] -= h
        J[:, i] = (F(up) - F(down)) / (up[i] - down[i])  # the step actually taken
    return J


def spectral_radius(F, x: np.ndarray) -> float:
    """The spectral radius of ``F``'s Jacobian at ``x`` on the tangent space."""
    return 0.0 if x.size == 1 else float(np.max(np.abs(np.linalg.eigvals(jacobian(F, x)))))


def _iterate(F, x: np.ndarray, tol: float) -> np.ndarray:
    for _ in range(MAX_ITERATIONS):
        y = F(x)
        done = np.max(np.abs(y - x)) < tol
        x = y
        if done:
            break
    return x


def _newton(F, x: np.ndarray) -> np.ndarray:
    """Newton's method on ``F(x) - x`` within the simplex (steps summing to zero)."""
    for _ in range(20):
        g = F(x) - x
        if np.max(np.abs(g)) < TOLERANCE or x.size == 1:
            break
        A = np.vstack([jacobian(F, x) - np.eye(x.size), np.ones(x.size)])
        step = np.linalg.lstsq(A, np.append(-g, 0.0), rcond=None)[0]
        scale = 1.0
        while np.any(x + scale * step <= 0):
            scale /= 2
        x = x + scale * step
    return x


@accepts_regime_spec(curation=True)
def real_data_stability(model, regime) -> RealDataStability:
    r"""Fixed point and local stability of ``Mix`` with infinitely many samples.

    Parameters
    ----------
    model : Categorical
        :math:`p^{(0)}`, the real data.
    regime : Mix or str
        ``Mix(real=N, synthetic=n)``, with or without a curation and a sampling policy;
        only the ratio :math:`\lambda = n/N` matters here (``fresh`` neither).

    Returns
    -------
    RealDataStability

    Notes
    -----
    :math:`p^*` is found by iterating :math:`F` from :math:`p^{(0)}` (to a residual
    :data:`POLISH_FROM`, :data:`MAX_ITERATIONS` at most), then polished by Newton's
    method within the simplex; where that point is unstable the iteration is followed
    on, and the point kept only if the iteration never leaves it (the start lies on its
    stable manifold, as for two equal tokens). The Jacobian is by central differences
    (relative step ``1e-6``), so a sampling policy with a cut (top-k, top-p) is
    differentiated on its smooth piece. ``kl_bound`` is Ferbach et al.'s for plain
    sampling only (it needs :math:`\mathcal C(\pi(p)) \le K p`).
    """
    regime = as_regime(regime)
    F, sup = step_map(model, regime)
    model = check_categorical(model)
    x = _iterate(F, model.p[sup].copy(), POLISH_FROM)
    star = _newton(F, x)
    rho = spectral_radius(F, star)
    if rho >= 1:
        # the iteration may have passed slowly near an unstable point: follow it on, and
        # keep that point only if it never leaves (p^(0) on its stable manifold)
        y = x
        for _ in range(MAX_ITERATIONS):
            y = F(y)
            dist = np.max(np.abs(y - star))
            if dist > 1e-3 or dist < 1e-14:  # it leaves, or sits on the point
                break
        if dist > 1e-3:
            star = _newton(F, _iterate(F, y, POLISH_FROM))
            rho = spectral_radius(F, star)
    x = star
    residual = float(np.max(np.abs(F(x) - x)))
    full = np.zeros(model.size)
    full[sup] = x
    cur = regime.curation
    lam = regime.synthetic / regime.real
    reward = float(cur.vector @ full) if cur is not None else math.nan
    if (isinstance(cur, BestOfK) and not cur.limit and lam * (cur.k - 1) < 1
            and regime.sampling.plain):  # the bound needs C(pi(p)) <= K p
        kl_bound = -math.log1p(-lam * (cur.k - 1))
    elif cur is None and regime.sampling.plain:
        kl_bound = 0.0  # best-of-1: p* = p^(0)
    else:
        kl_bound = math.inf
    return RealDataStability(full, rho, rho < 1, lam, reward, float(full @ full),
                             kl_bound, lam < 0.5, residual)


class CuratedConvergence(NamedTuple):
    r"""How fast infinitely many curated samples drive the fit onto ``top`` (the support
    tokens of the largest weight, reward or acceptance): the gap
    :math:`1 - \sum_{i \in top} p^{(m)}_i` (and so the reward's gap to its maximum)
    falls as ``rate**m`` (``kind="geometric"``) or as :math:`m^{-\text{rate}}`
    (``kind="power"``). ``gains[i]`` is :math:`g_i = \lim \mathcal C(p)_i / p_i` as
    :math:`p` nears the top set (``nan`` off the support); ``rate`` is ``inf`` for a
    ``"power"`` and 0 for a ``"geometric"`` law when every support token is on top
    (nothing to select)."""

    top: np.ndarray
    kind: str
    rate: float
    gains: np.ndarray


def _gains(model, cur) -> tuple[np.ndarray, np.ndarray]:
    sup = model.p > 0
    w = cur.weights if isinstance(cur, BestOfK) else np.asarray(cur.vector, float)
    wtop = w[sup].max()
    if wtop <= 0:
        raise ValueError("the verifier rejects every token of the model's support: "
                         "nothing can be kept")
    top = np.flatnonzero(sup & (w == wtop))
    if isinstance(cur, BestOfK) and not cur.limit:
        g = cur.k * w / (w + (cur.k - 1) * wtop)  # the other K-1 candidates are on top
    else:  # the tilt q w / E_q w, or a verifier's q a / E_q a
        g = w / wtop
    return top, np.where(sup, g, np.nan)


@accepts_regime_spec(curation=True)
def curated_convergence(model, regime) -> CuratedConvergence:
    r"""The rate at which a curated regime, with infinitely many samples, converges onto
    the reward's maximisers (``curated_path(method="deterministic")``).

    Near the top set :math:`\mathcal C(p)_i \approx g_i p_i` for the other tokens:
    :math:`g_i = K w_i/(w_i + (K-1)w^*)` for best-of-``K`` (the other ``K - 1``
    candidates are on top), :math:`w_i/w^*` for the tilt and :math:`a_i/a^*` for a
    verifier. Then

    * ``Replace``: :math:`p^{(m+1)}_i \approx g_i p^{(m)}_i`, geometric with ratio
      :math:`\max_i g_i`;
    * ``MostRecent(n, k)``: :math:`p^{(m)}_i \approx \frac{g_i}{k}\sum_{j=1}^{k}
      p^{(m-j)}_i`, geometric with the largest root of
      :math:`x^k = \frac{g}{k}(x^{k-1} + \dots + 1)`, :math:`g = \max_i g_i`;
    * ``Accumulate``, ``AccumulateSubsample``, ``RandomlySampled``:
      :math:`p^{(m+1)}_i = \frac{m + g_i}{m+1} p^{(m)}_i`, so
      :math:`p^{(m)}_i \propto \Gamma(m + g_i)/\Gamma(m+1) \sim m^{-(1 - g_i)}`: a
      power law with exponent :math:`\gamma = \min_i (1 - g_i)`. Keeping every real
      sample does not stop the collapse of diversity under curation: the real share
      :math:`1/m` vanishes, and the gap closes as :math:`m^{-\gamma}`.

    ``Mix`` keeps a fixed real share and converges to an interior point instead
    (:func:`real_data_stability`). Plain sampling only.

    Parameters
    ----------
    model : Categorical
        :math:`p^{(0)}`.
    regime : Regime or str
        With a curation, plain sampling, not ``Mix``.

    Returns
    -------
    CuratedConvergence
    """
    model = check_categorical(model)
    regime = as_regime(regime)
    cur = regime.curation
    if cur is None:
        raise ValueError(f"curated_convergence needs a regime with a curation; "
                         f"{regime!r} has none")
    if not regime.sampling.plain:
        raise UnsupportedRegimeError(
            "curated_convergence is derived for plain sampling (a temperature changes the "
            "map near the top set): use curated_path(method='deterministic')",
            ("plain sampling",))
    if isinstance(regime, Mix):
        raise UnsupportedRegimeError(
            "Mix keeps a fixed real share and converges to an interior fixed point: use "
            "real_data_stability", ("Replace", "MostRecent", "Accumulate",
                                    "AccumulateSubsample", "RandomlySampled"))
    cur.check_size(model.size)
    top, gains = _gains(model, cur)
    rest = np.isfinite(gains)
    rest[top] = False
    g = float(gains[rest].max()) if rest.any() else 0.0
    if isinstance(regime, Replace):
        return CuratedConvergence(top, "geometric", g, gains)
    if isinstance(regime, MostRecent):
        k = regime.window
        # x^k - (g/k)(x^(k-1) + ... + 1) = 0: its largest root (real, in [0, 1))
        roots = np.roots(np.concatenate([[1.0], np.full(k, -g / k)]))
        return CuratedConvergence(top, "geometric", float(np.abs(roots).max()), gains)
    return CuratedConvergence(top, "power", 1.0 - g if rest.any() else math.inf, gains)
