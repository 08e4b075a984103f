r"""``method="auto"`` beyond the exact solvers: approximations that carry a measured error
band, and refusals that name the simulation which answers instead.

Every public quantity of the categorical theory first tries its exact solver; a solver
that would not fit in time or memory says so up front (``TooLargeError``) and
:func:`modelcollapse.theory.categorical.collapse.collapse_time` and
:func:`~modelcollapse.theory.categorical.collapse.expected_collapse_time` fall back to an
approximation; the other quantities refuse with the simulator call that answers them
(:func:`simulation_fallback`). Five approximations have measured bands:

``"effective-size"``
    ``MostRecent(n, K)``, plain sampling: the neutral chain of ``Replace`` with the
    window's effective size :math:`N_e` (:func:`.most_recent_effective_size`),
    :math:`E[T] \approx E[T]_{\mathrm{Replace}(\mathrm{round}(N_e))}` (the exact
    coalescent there, or Littler's diffusion when :math:`N_e` is beyond it).
``"deterministic-hazard"``
    ``Replace(n)`` with a temperature below 1 (and any top-k or top-p): the law of ``T``
    from the one-generation collapse probabilities along the deterministic path
    :math:`\bar q^{(j)} = \pi^j(p^{(0)})`,
    :math:`P(T > m) \approx \prod_{j \le m}(1 - \sum_i (\bar q_i^{(j-1)})^n)`.
``"window-hazard"``
    ``MostRecent(n, K)`` with a temperature below 1: the same along the deterministic
    path of the window (each fit the mean of the laws of the ``K`` latest models, each
    of which gives :math:`\lfloor n/K \rfloor` samples).
``"top-k-neutral"``
    ``Replace(n, top_k=k)`` at ``T = 1``: the first generation keeps the ``k`` most
    likely tokens, after which top-k acts on at most ``k`` tokens and the chain is the
    neutral one: :math:`T \approx 1 + T_{\mathrm{Replace}(n)}(\tilde p)`, :math:`\tilde p`
    the renormalised top ``k`` of :math:`p^{(0)}`.
``"diffusion"``
    ``Replace(n)``, plain sampling, ``n`` above the exact coalescent's
    ``max_exact_n``: Littler's :math:`-2n\sum_i(1-p_i)\ln(1-p_i)`.

The approximations themselves are computed by
:func:`modelcollapse.theory.categorical.collapse.approximate_collapse` (which calls the
exact ``Replace`` solvers); this module holds their bands, the simulation hints and the
choice of approximation. The bands are measured by ``python benchmarks/bench_approx.py``,
which compares each approximation with the exact solvers over the whole range where both
run and with seeded simulation beyond it, and writes them to ``approx_bands.json``
beside this module (every comparison is in ``benchmarks/results/approx_errors.json``).
The band reported at ``n`` is the largest error (plus five standard errors for a
simulated reference) measured at the largest compared size :math:`n^* \le n` and above,
among the comparisons at least as hard (window, temperature, Littler rate): every
approximation here is exact in the limit :math:`n \to \infty`, and its measured error
shrinks with ``n``. A parameter harder than every comparison (a larger window, a
temperature closer to 1) gets no band, and ``auto`` refuses rather than guess.

References
----------
.. [1] The theory chapter, docs/theory/approximations.md.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import TooLargeError
from ...regimes import MostRecent, Replace, as_regime, refuse_curation

__all__ = [
    "BANDS_PATH",
    "band",
    "simulation_fallback",
    "simulation_hint",
]

#: The measured bands, written by ``python benchmarks/bench_approx.py``.
BANDS_PATH = Path(__file__).with_name("approx_bands.json")
#: Largest window compared (the effective size needs a ``K^2 x K^2`` eigenproblem).
EIG_MAX_WINDOW = 64


@lru_cache(maxsize=1)
def _table() -> dict:
    with open(BANDS_PATH, encoding="utf-8") as f:
        return json.load(f)


def round_up(x: float) -> float:
    """``x`` rounded up to two significant digits (a band is never rounded down)."""
    if x <= 0:
        return 0.0
    e = math.floor(math.log10(x)) - 1
    return float(f"{math.ceil(x / 10**e - 1e-9) * 10**e:.3g}")


def band(family: str, n: int, **where) -> tuple[float | None, float | None, str]:
    """``(mean_band, law_band, basis)`` of an approximation at size ``n``.

    ``mean_band`` bounds the relative error of the mean, ``law_band`` the
    Wasserstein-1 distance of the law relative to the mean (``None`` where no law was
    compared). ``where`` gives the parameters of the request (e.g. ``window=5``,
    ``temperature=0.8``); none may be harder than every comparison, and only
    comparisons at least as hard count: a parameter's ``"harder"`` direction in the
    table says which way the error grows (a larger window, a temperature closer to 1, a
    smaller Littler rate). Among those, the band is the largest error measured at the
    largest compared size :math:`n^* \\le n` and above. Outside the compared range, or
    below the smallest compared ``n``, both bands are ``None`` and ``basis`` says why."""
    fam = _table()["families"][family]
    pts = fam["points"]  # dicts: n, mean_err, law_err (None: no law compared), params
    for key, value in where.items():
        lo, hi, harder = fam["domain"][key]
        if (value > hi) if harder == "above" else (value < lo):  # harder than compared
            return None, None, (f"{key}={value:g} is outside the compared range "
                                f"[{lo:g}, {hi:g}] of the {family!r} approximation")
        pts = [p for p in pts if (p[key] >= value if harder == "above"
                                  else p[key] <= value)]
    grid = sorted({p["n"] for p in pts})
    if not grid or n < grid[0]:
        return None, None, (f"n={n} is below the smallest size compared for the "
                            f"{family!r} approximation at these parameters")
    nstar = max(g for g in grid if g <= n)
    above = [p for p in pts if p["n"] >= nstar]
    mean_err = round_up(max(p["mean_err"] for p in above))
    laws = [p["law_err"] for p in above if p["law_err"] is not None]
    law_err = round_up(max(laws)) if laws else None
    basis = (f"largest error measured at n >= {nstar} over {len(above)} comparisons "
             f"at least as hard (benchmarks/bench_approx.py, {family!r})")
    return mean_err, law_err, basis


def simulator_rate() -> float:
    """Replicate-generation-token steps per second of the numba simulator, measured by
    ``benchmarks/bench_approx.py`` (the cost model of :func:`simulation_hint`)."""
    return float(_table()["simulator_steps_per_second"])


def _samples(regime) -> int:
    """Synthetic samples per generation (``n``; ``Mix``: its synthetic block)."""
    return getattr(regime, "n", None) or regime.synthetic


def simulation_hint(model, regime, generations: int, what: str,
                    replicates: int = 1000) -> str:
    """The simulator call that answers ``what`` for ``model`` under ``regime``, with its
    estimated cost: ``replicates x generations x tokens`` steps (an upper bound: lost
    tokens cost nothing) at :func:`simulator_rate`."""
    regime = as_regime(regime)
    V = int(np.count_nonzero(model.p))
    steps = float(replicates) * generations * min(V, _samples(regime))
    secs = steps / simulator_rate()
    if secs < 120:
        cost = f"{secs:.0f} s"
    elif secs < 2 * 86400:
        cost = f"{secs / 3600:.1f} h"
    else:
        cost = f"{secs / 86400:.3g} days"
    return (f"simulate it instead: modelcollapse.montecarlo.simulate(model, {regime!r}, "
            f"{generations}, replicates={replicates}, seed=0) answers {what} (about "
            f"{steps:.1e} token-steps, {cost} on one core at the "
            f"{simulator_rate():.1e} steps/s measured by benchmarks/bench_approx.py)")


def generations_guess(regime) -> int:
    """How many generations a simulation of ``regime`` needs to answer a question about
    collapse or loss: ``20 ln n`` at a temperature below 1 (everything happens within
    :math:`O(\\log\\log n)` generations), else ten times the neutral time scale,
    ``10 n`` (``10 n (K+1)^2 / 4`` for a window ``K``: its effective size)."""
    regime = as_regime(regime)
    n = _samples(regime)
    if regime.sampling.temperature < 1:
        return max(1, int(20 * math.log(n + 1)))
    K = getattr(regime, "window", 1)
    return 10 * n * (K + 1) ** 2 // 4


def simulation_fallback(what: str):
    """Decorator: a ``TooLargeError`` of the exact solvers leaves ``what`` with the
    simulator call that answers it and its estimated cost appended (generations: the
    largest ``m`` asked for, else :func:`generations_guess`)."""
    def deco(fn):
        sig = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except TooLargeError as exc:
                if "simulate it instead" in str(exc):
                    raise
                try:
                    a = sig.bind(*args, **kwargs).arguments
                    regime = as_regime(a["regime"])
                    m = a.get("m")
                    G = int(np.max(m)) if m is not None and np.size(m) else \
                        generations_guess(regime)
                    hint = simulation_hint(a["model"], regime, max(G, 1), what)
                except Exception:  # pragma: no cover - the original error says enough
                    raise exc from None
                raise TooLargeError(f"{str(exc).rstrip('.')}; {hint}") from None
        return wrapper
    return deco


def _policy_family(policy) -> str | None:
    T = policy.temperature
    if T < 1:
        return "deterministic-hazard"
    if T == 1 and policy.top_k is not None and (policy.top_p is None or policy.top_p >= 1):
        return "top-k-neutral"
    return None


def fail(what, why, model, regime, generations):
    """Refuse ``what`` (``TooLargeError``): why, and the simulation that answers it."""
    raise TooLargeError(f"{what}: {why}; no approximation with a measured error covers "
                        f"it: {simulation_hint(model, regime, generations, what)}")


# ---------------------------------------------------------------------- collapse time
def family_of(regime) -> str | None:
    """The approximation that covers the collapse time under ``regime`` (``None``: none
    does)."""
    regime = as_regime(regime)
    refuse_curation(regime, "the collapse-time approximations")
    if isinstance(regime, MostRecent):
        if regime.sampling.plain:
            return "effective-size"
        return "window-hazard" if regime.sampling.temperature < 1 else None
    if isinstance(regime, Replace) and not regime.sampling.plain:
        return _policy_family(regime.sampling)
    return None
