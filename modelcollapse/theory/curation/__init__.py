r"""Theory of curated recursive training (best-of-K with a reward, verification).

The one-step map is :func:`modelcollapse.curation.curated_distribution`; here are its
consequences for a categorical model retrained on curated samples of itself:

* :func:`curated_path` -- the expected fit :math:`E[p^{(m)}]`, its expected reward
  :math:`E[r \cdot p^{(m)}]` and homozygosity :math:`E[\sum_i (p^{(m)}_i)^2]` per
  generation: the exact chain for ``Replace(n)`` (small ``n``; ``exact=True`` in
  rational arithmetic) or the deterministic recursion of infinitely many samples
  (``method="deterministic"``, every regime).
* :func:`curated_fixation` -- which token the chain fixes on, and when: the exact chain
  (small ``n``), the selection diffusion (two tokens, large ``n``) or Kimura's formula
  (two tokens, the ``K = inf`` tilt, weak selection).

References: Ferbach et al. 2024 (arXiv 2407.09499) for best-of-K curation; Feng et al.
2024 (arXiv 2406.07515) for verification; the chain is Wright--Fisher with selection
(Ewens 2004, ch. 3--4).
"""

from __future__ import annotations

from collections import deque
from fractions import Fraction
from typing import NamedTuple

import numpy as np

from ...curation import BestOfK, curated_distribution
from ...errors import UnsupportedRegimeError, WrongTypeError
from ...models import check_categorical
from ...regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
    accepts_regime_spec,
    as_regime,
)
from ...sampling import sampling_distribution
from .._results import check_generations
from .chain import CuratedChain, curated_regime
from .diffusion import diffusion_fixation, kimura_fixation
from .mix import MixChain
from .stability import (
    CuratedConvergence,
    RealDataStability,
    curated_convergence,
    real_data_stability,
)

__all__ = ["CuratedConvergence", "CuratedFixation", "CuratedPath", "CuratedStationary",
           "RealDataStability", "curated_convergence", "curated_fixation", "curated_path",
           "curated_stationary", "real_data_stability"]


class CuratedPath(NamedTuple):
    """Per generation ``m`` (rows follow ``generations``): ``mean`` the expected fit
    :math:`E[p^{(m)}]` (one column per token), ``reward`` :math:`E[v \\cdot p^{(m)}]`
    with ``v`` the curation's vector (a reward, or a verifier's acceptance), and
    ``homozygosity`` :math:`E[\\sum_i (p^{(m)}_i)^2]`; ``method`` says which solver ran."""

    generations: np.ndarray
    mean: np.ndarray
    reward: np.ndarray
    homozygosity: np.ndarray
    method: str


class CuratedStationary(NamedTuple):
    """The long-run (stationary) answer of a curated ``Mix``: ``mean`` the expected fit,
    ``reward`` :math:`E[v \\cdot p]`, ``homozygosity`` :math:`E[\\sum_i p_i^2]` under the
    chain's stationary law (averaged over generation 1's real block when it is kept,
    ``fresh=False``); ``method``."""

    mean: np.ndarray
    reward: float
    homozygosity: float
    method: str


class CuratedFixation(NamedTuple):
    """``probabilities[i]``: the chance that the chain fixes on token ``i`` (zero off the
    support); ``mean_time``: the expected first generation with a Dirac fit (counting
    fitted models, ``None`` where the method gives none); ``method``."""

    probabilities: np.ndarray
    mean_time: float | None
    method: str


def _vector(regime) -> np.ndarray:
    return as_regime(regime).curation.vector


@accepts_regime_spec(curation=True)
def curated_path(model, regime, m, *, exact: bool = False, method: str = "auto"):
    r"""Expected fit, reward and homozygosity of generation(s) ``m`` under a curated
    regime.

    Parameters
    ----------
    model : Categorical
        :math:`p^{(0)}`.
    regime : Regime or str
        With a ``curation`` (:class:`~modelcollapse.curation.BestOfK` or
        :class:`~modelcollapse.curation.Verifier`) and any sampling policy.
    m : int or array of int
        Generations ``>= 1``.
    exact : bool
        Rational arithmetic (the chain, :data:`~.chain.EXACT_MAX_STATES` states at most);
        the entries are then lists of Fractions.
    method : {"auto", "chain", "deterministic"}
        ``"chain"`` (``"auto"``): the exact chain of ``Replace(n)`` on labelled counts
        (:mod:`.chain`), or of ``Mix(real=N, synthetic=n)`` on real and synthetic counts
        (:mod:`.mix`; float64 only); ``"deterministic"``: infinitely many samples per generation,
        :math:`p^{(m+1)} = \mathcal{C}(\pi(p^{(m)}))` under ``Replace``, the same map
        mixed with :math:`p^{(0)}` under ``Mix`` (share :math:`\alpha` synthetic),
        averaged over the pool or window under ``Accumulate`` /
        ``AccumulateSubsample`` / ``MostRecent``, and over the uniformly chosen source
        under ``RandomlySampled``, :math:`p^{(m)} = \frac1m\big(p^{(0)} +
        \sum_{j=1}^{m-1} \mathcal{C}(\pi(p^{(j)}))\big)` (real samples uncurated;
        sampling noise ignored).

    Returns
    -------
    CuratedPath
    """
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    ms = check_generations(m).astype(np.int64)
    scalar = ms.ndim == 0
    if np.any(ms < 1):
        raise ValueError(f"m must be >= 1 (generation 1 is the first fit), got {m!r}")
    if method not in ("auto", "chain", "deterministic"):
        raise ValueError(f"method must be 'auto', 'chain' or 'deterministic', got {method!r}")
    if method == "deterministic":
        if exact:
            raise ValueError("exact=True is for the chain; the deterministic recursion "
                             "is float64")
        return _deterministic(model, regime, ms, scalar)
    if isinstance(as_regime(regime), Mix):
        if exact:
            raise ValueError("exact=True is implemented for the Replace chain; the Mix "
                             "chain is float64")
        chain = MixChain(model, regime, "curated_path")
        mean, hom = chain.moments(int(ms.max()))
        v = _vector(regime)[chain.sup]
        rows = []
        for g in ms.ravel():
            full = np.zeros(chain.V)
            full[chain.sup] = mean[g - 1]
            rows.append((full, float(v @ mean[g - 1]), float(hom[g - 1])))
        return _pack(ms, scalar, rows, "chain", False)
    chain = CuratedChain(model, regime, "curated_path", exact=exact)
    G = int(ms.max())
    laws = chain.distributions(G)
    X = chain.X
    v = _vector(regime)[chain.sup]
    rows = []
    for g in ms.ravel():
        d = laws[g - 1]
        if chain.exact:
            mean = [sum((d[a] * Fraction(int(X[a, i]), chain.n) for a in range(chain.S)),
                        Fraction(0)) for i in range(chain.sup.size)]
            hom = sum((d[a] * sum(Fraction(int(x), chain.n) ** 2 for x in X[a])
                       for a in range(chain.S)), Fraction(0))
            rew = sum((Fraction(float(vi)) * mi for vi, mi in zip(v, mean, strict=True)),
                      Fraction(0))
            full = [Fraction(0)] * chain.V
            for t, i in enumerate(chain.sup):
                full[i] = mean[t]
            rows.append((full, rew, hom))
        else:
            mean = d @ X / chain.n
            full = np.zeros(chain.V)
            full[chain.sup] = mean
            rows.append((full, float(v @ mean), float(d @ ((X / chain.n) ** 2).sum(axis=1))))
    return _pack(ms, scalar, rows, "exact-chain" if exact else "chain", chain.exact)


def _pack(ms, scalar, rows, method, exact):
    if exact:
        mean = [r[0] for r in rows]
        rew = [r[1] for r in rows]
        hom = [r[2] for r in rows]
        if scalar:
            return CuratedPath(ms, mean[0], rew[0], hom[0], method)
        return CuratedPath(ms, mean, rew, hom, method)
    mean = np.array([r[0] for r in rows])
    rew = np.array([r[1] for r in rows])
    hom = np.array([r[2] for r in rows])
    if scalar:
        return CuratedPath(ms, mean[0], rew[0], hom[0], method)
    shape = ms.shape
    return CuratedPath(ms, mean.reshape(*shape, -1), rew.reshape(shape), hom.reshape(shape),
                       method)


def _deterministic(model, regime, ms, scalar):
    model = check_categorical(model)
    regime = as_regime(regime)
    cur = regime.curation
    if cur is None:
        raise ValueError(f"curated_path needs a regime with a curation; {regime!r} has none")
    cur.check_size(model.size)
    p0 = model.p
    pol = regime.sampling

    def step(p):
        return curated_distribution(sampling_distribution(p, pol), cur)

    G = int(ms.max())
    want = set(int(g) for g in ms.ravel())
    fits = {}  # the requested p^(g)
    recent = deque([p0], maxlen=regime.window if isinstance(regime, MostRecent) else 1)
    total = p0.copy()  # sum of the kept laws of models 0..g-1 (model 0: real, uncurated)
    for g in range(1, G + 1):
        if isinstance(regime, Replace):
            p = recent[-1]
        elif isinstance(regime, Mix):
            a = regime.alpha
            p = p0 if g == 1 else (1 - a) * p0 + a * recent[-1]
        elif isinstance(regime, (Accumulate, AccumulateSubsample, RandomlySampled)):
            # the pool of every model's samples, or (RandomlySampled) each sample's source
            # uniform among models 0..g-1: the mean of their kept laws
            p = total / g
        elif isinstance(regime, MostRecent):
            p = np.mean(recent, axis=0)  # the latest min(window, g) models
        else:  # pragma: no cover
            raise UnsupportedRegimeError(type(regime).__name__, ("Replace",))
        if g in want:
            fits[g] = p
        law = step(p)
        recent.append(law)
        total = total + law
    v = cur.vector
    rows = [(fits[g], float(v @ fits[g]), float(fits[g] @ fits[g])) for g in ms.ravel()]
    return _pack(ms, scalar, rows, "deterministic", False)


@accepts_regime_spec(curation=True)
def curated_stationary(model, regime) -> CuratedStationary:
    r"""The stationary expected fit, reward and homozygosity of a curated
    ``Mix(real=N, synthetic=n)``: the limit of :func:`curated_path` as
    :math:`m \to \infty`, from the exact chain of :mod:`.mix` (float64).

    With real data the chain does not collapse: ``fresh=True`` (new real samples every
    generation) is selection balanced by immigration, one stationary law; with
    ``fresh=False`` each real block of generation 1 has its own stationary law, averaged
    here over that block's multinomial law. For infinitely many samples see
    :func:`real_data_stability`.

    Parameters
    ----------
    model : Categorical
        :math:`p^{(0)}`.
    regime : Mix or str
        With a curation (and any sampling policy).

    Returns
    -------
    CuratedStationary
    """
    chain = MixChain(model, regime, "curated_stationary")
    mean, hom = chain.stationary()
    full = np.zeros(chain.V)
    full[chain.sup] = mean
    v = _vector(regime)
    return CuratedStationary(full, float(v @ full), float(hom), "chain")


@accepts_regime_spec(curation=True)
def curated_fixation(model, regime, *, exact: bool = False, method: str = "auto"):
    r"""Fixation under a curated ``Replace(n)``: the probability that the chain ends on
    each token, and the expected collapse time (first generation with a Dirac fit).

    Parameters
    ----------
    model : Categorical
        :math:`p^{(0)}`.
    regime : Replace or str
        With a curation.
    exact : bool
        Rational arithmetic (``method="chain"``).
    method : {"auto", "chain", "diffusion", "kimura"}
        ``"chain"``: the exact chain (:mod:`.chain`); ``"diffusion"``: the selection
        diffusion of :mod:`.diffusion` (a support of two tokens; averages over
        generation 1's binomial start); ``"kimura"``: Kimura's
        :math:`u = (1 - e^{-2nsz})/(1 - e^{-2ns})` with :math:`s = r_1 - r_2`, the
        weak-selection limit of the ``k = inf`` tilt at temperature 1 (fixation only).
        ``"auto"``: the chain when it fits its state cap, else the diffusion.

    Returns
    -------
    CuratedFixation
    """
    if method not in ("auto", "chain", "diffusion", "kimura"):
        raise ValueError(f"method must be 'auto', 'chain', 'diffusion' or 'kimura', got "
                         f"{method!r}")
    if not isinstance(exact, (bool, np.bool_)):
        raise WrongTypeError(f"exact must be True or False, got {exact!r}")
    model = check_categorical(model)
    n, policy, cur = curated_regime(regime, "curated_fixation")
    cur.check_size(model.size)
    sup = np.flatnonzero(model.p > 0)
    if method == "auto":
        from .chain import EXACT_MAX_STATES, MAX_STATES, state_count

        cap = EXACT_MAX_STATES if exact else MAX_STATES
        method = "chain" if exact or state_count(n, sup.size) <= cap or sup.size != 2 \
            else "diffusion"
    if method == "chain":
        chain = CuratedChain(model, regime, "curated_fixation", exact=exact)
        fix, time = chain.absorption()
        out = [Fraction(0)] * model.size if exact else np.zeros(model.size)
        for t, i in enumerate(sup):
            out[i] = fix[t]
        return CuratedFixation(out, time, "exact-chain" if exact else "chain")
    if exact:
        raise ValueError(f"exact=True is for method='chain', not {method!r}")
    if sup.size != 2:
        raise UnsupportedRegimeError(
            f"method={method!r} is for a support of two tokens; this model has "
            f"{sup.size}: use method='chain' (small n) or simulate", ("two tokens",))
    z0 = float(model.p[sup[0]])
    out = np.zeros(model.size)
    if method == "kimura":
        if not (isinstance(cur, BestOfK) and cur.limit and policy.plain):
            raise ValueError("method='kimura' is the weak-selection limit of the k=inf "
                             "tilt at temperature 1 (plain sampling); use "
                             "method='diffusion'")
        s = cur.reward[sup[0]] - cur.reward[sup[1]]
        u = kimura_fixation(n, s, z0)
        out[sup] = u, 1 - u
        return CuratedFixation(out, None, "kimura")
    u, t = diffusion_fixation(n, policy, cur, sup, z0)
    out[sup] = u, 1 - u
    return CuratedFixation(out, t, "diffusion")

