"""Count vectors and the checks shared by the window and pool chains
(:mod:`.window_chain`, :mod:`.pool_chain`): the caps on their sizes, the supported
regimes, compositions and their indices, multinomial and hypergeometric block laws, and
the sampling policy on count vectors."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import special

from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...models import check_categorical
from ...regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
    SamplingPolicy,
    as_regime,
    refuse_curation,
)
from ...sampling import sampling_distribution
from .._results import check_generations

#: Largest number of labelled window states (``C**K``, ``C`` count vectors of total
#: ``N``) enumerated to build the lumped chain or propagated before it.
MAX_LABELLED_STATES = 2_000_000
#: Largest number of lumped states of the homogeneous MostRecent chain.
MAX_STATES = 100_000
#: Largest number of multiply-adds of one construction or propagation (transition
#: entries, growing-state propagation summed over the generations).
MAX_WORK = 300_000_000
#: Largest transient set solved by sparse LU (beyond: Neumann series).
SOLVE_MAX_STATES = 3000
#: Largest vocabulary (support of :math:`p^{(0)}`) the chains accept.
MAX_TOKENS = 4
DEFAULT_TOL = 1e-12
DEFAULT_MAX_GENERATIONS = 100_000
#: Largest generation the forward propagations accept.
MAX_GENERATIONS = 1_000_000

WINDOW_SUPPORTED = ("Replace", "MostRecent")
ALL_SUPPORTED = ("Replace", "MostRecent", "RandomlySampled", "Accumulate",
                 "AccumulateSubsample", "Mix")


# ---------------------------------------------------------------------- validation
def _regime_kind(regime, what: str, allowed=ALL_SUPPORTED) -> tuple[str, int, int]:
    """``(kind, n, K)``: kind in ``window`` (Replace, MostRecent), ``uniform``,
    ``accumulate``, ``subsample``."""
    if not isinstance(regime, (Regime, str)):
        raise WrongTypeError(
            f"regime must be a Regime or a spec string, got {type(regime).__name__}")
    regime = as_regime(regime)
    refuse_curation(regime, what)
    kind = {Replace: "window", MostRecent: "window", RandomlySampled: "uniform",
            Accumulate: "accumulate", AccumulateSubsample: "subsample",
            Mix: "mix"}.get(type(regime))
    name = type(regime).__name__
    if kind is None or name not in allowed:
        why = ""
        if kind in ("uniform", "accumulate", "subsample", "mix"):
            why = (f" Under {name} collapse is not absorbing (real data stays in the "
                   "training set), so there is no collapse time or permanent loss: use "
                   "dirac_probability, overlapping_surviving_tokens or "
                   "theory.stationary_homozygosity.")
        raise UnsupportedRegimeError(f"{what} is not available for {regime!r}.{why}",
                                     allowed)
    if kind == "window":
        K = regime.window if isinstance(regime, MostRecent) else 1
        return kind, regime.n, K
    if kind == "mix":
        return kind, regime.synthetic, 1
    return kind, regime.n, 1


def _support(model) -> np.ndarray:
    model = check_categorical(model)
    p = model.p[model.p > 0]
    if p.size > MAX_TOKENS:
        raise TooLargeError(
            f"the exact overlapping-generation chains take at most {MAX_TOKENS} tokens in "
            f"the support of p^(0); got {p.size} (under plain sampling a token's own laws "
            "are lumped to two tokens exactly; this quantity, or this sampling policy, "
            "needs the whole vector)")
    return p


def lump_token(model, t: int, policy: SamplingPolicy):
    """``(model, t)`` with every token but ``t`` merged into one, where that is exact.

    Under plain sampling a token's count is a Markov chain of its own under every
    regime: a multinomial (or hypergeometric) draw of the token against the rest has the
    law of the draw from the two-token model :math:`(p_t, 1 - p_t)`, and refitting
    (frequencies) commutes with merging tokens. So the token-level laws (loss time,
    first-loss probability) of any vocabulary are those of two tokens, token 0 of
    ``Categorical([p_t, 1 - p_t])``. A sampling policy acts on the whole vector (a
    temperature on each probability, top-k and top-p on the ranks), merging does not
    commute with it, and the model is returned unchanged."""
    p = model.p
    if not policy.plain or np.count_nonzero(p) <= 2 or p[t] in (0.0, 1.0):
        return model, t
    from ...models import Categorical

    rest = float(p.sum() - p[t])
    return Categorical([float(p[t]), rest]), 0


def _check_m(m) -> np.ndarray:
    return check_generations(m, MAX_GENERATIONS).astype(np.int64)




# ---------------------------------------------------------------------- count vectors
@lru_cache(maxsize=64)
def _comps(total: int, s: int):
    """Compositions of ``total`` into ``s`` parts ``(C, s)`` and a lookup array from the
    key :math:`\\sum_{i<s-1} c_i (total+1)^i` to the index."""
    if s == 1:
        arr = np.array([[total]], dtype=np.int64)
    else:
        grids = np.indices((total + 1,) * (s - 1)).reshape(s - 1, -1).T
        grids = grids[grids.sum(axis=1) <= total]
        arr = np.concatenate([grids, total - grids.sum(axis=1, keepdims=True)], axis=1)
    R = total + 1
    weights = R ** np.arange(s - 1, dtype=np.int64)
    keys = arr[:, :s - 1] @ weights if s > 1 else np.zeros(1, dtype=np.int64)
    lut = np.full(R ** (s - 1), -1, dtype=np.int64)
    lut[keys] = np.arange(arr.shape[0])
    arr.setflags(write=False)
    lut.setflags(write=False)
    return arr, lut


def _ncomps(total: int, s: int) -> int:
    """Number of compositions of ``total`` into ``s`` parts (no allocation)."""
    return math.comb(total + s - 1, s - 1)


def _index(counts: np.ndarray, total: int) -> np.ndarray:
    s = counts.shape[-1]
    _, lut = _comps(total, s)
    if s == 1:
        return np.zeros(counts.shape[:-1], dtype=np.int64)
    w = (total + 1) ** np.arange(s - 1, dtype=np.int64)
    return lut[counts[..., :s - 1] @ w]


@lru_cache(maxsize=64)
def _add_table(a: int, b: int, s: int) -> np.ndarray:
    """``T[u, v]``: index among the compositions of ``a + b`` of ``comp_a[u] + comp_b[v]``."""
    ca, _ = _comps(a, s)
    cb, _ = _comps(b, s)
    out = _index(ca[:, None, :] + cb[None, :, :], a + b)
    out.setflags(write=False)
    return out


def _multinomial(P: np.ndarray, b: int) -> np.ndarray:
    """``(R, C_b)``: :math:`\\mathrm{Mult}(b, P_r)` over the compositions of ``b``."""
    P = np.atleast_2d(np.asarray(P, dtype=np.float64))
    comps, _ = _comps(b, P.shape[1])
    logc = special.gammaln(b + 1.0) - special.gammaln(comps + 1.0).sum(axis=1)
    logP = np.log(np.where(P > 0, P, 1.0))
    lp = logc[None, :] + logP @ comps.T
    bad = ((P == 0).astype(np.float64) @ (comps > 0).T.astype(np.float64)) > 0
    out = np.exp(lp)
    out[bad] = 0.0
    return out


def _hypergeometric(pool: np.ndarray, total: int, n: int) -> np.ndarray:
    """``(R, C_n)``: ``n`` of the pool's ``total`` samples without replacement."""
    comps, _ = _comps(n, pool.shape[1])
    lg = special.gammaln
    num = (lg(pool[:, None, :] + 1.0) - lg(comps[None, :, :] + 1.0)
           - lg(np.maximum(pool[:, None, :] - comps[None, :, :], 0) + 1.0)).sum(axis=2)
    den = lg(total + 1.0) - lg(n + 1.0) - lg(total - n + 1.0)
    out = np.exp(num - den)
    out[(comps[None, :, :] > pool[:, None, :]).any(axis=2)] = 0.0
    return out


def _convolve(acc: np.ndarray, a: int, part: np.ndarray, b: int, s: int) -> np.ndarray:
    """Law of the sum of independent count vectors (rows: laws over compositions of
    ``a`` and of ``b``) over the compositions of ``a + b``."""
    table = _add_table(a, b, s)
    out = np.zeros((acc.shape[0], _comps(a + b, s)[0].shape[0]))
    for v in range(part.shape[1]):  # u -> table[u, v] is injective for fixed v
        out[:, table[:, v]] += acc * part[:, v:v + 1]
    return out


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """A dot product without BLAS threads (the solvers call it once per generation)."""
    return float(np.einsum("i,i->", a, b))


def _fit_stats(comps: np.ndarray) -> dict:
    """Per-composition features of a fit: Dirac, support size, sum of squares."""
    tot = comps.sum(axis=1)
    sup = np.count_nonzero(comps, axis=1)
    return {"dirac": (sup == 1).astype(np.float64), "support": sup.astype(np.float64),
            "homozygosity": (comps.astype(np.float64) ** 2).sum(axis=1) / tot**2}


def _truncates(policy: SamplingPolicy) -> bool:
    """Whether ``policy`` truncates (top-k / top-p), breaking ties by token index."""
    return policy.top_k is not None or (policy.top_p is not None and policy.top_p < 1)


def _draw(P: np.ndarray, policy: SamplingPolicy) -> np.ndarray:
    """The laws synthetic samples are drawn from, for fitted models ``P`` (rows): the
    sampling policy's map (the real model ``p^(0)`` is always sampled plainly)."""
    return sampling_distribution(np.asarray(P, dtype=np.float64), policy)
