r"""Exact collapse theory for the overlapping-generation regimes (small ``n``, 2--4 tokens).

docs/theory/regimes.md; the simulators' :class:`~modelcollapse.regimes.Plan` is the
definition. Generation ``m``'s count vector :math:`X^{(m)}` is the sum of its training
blocks and :math:`p^{(m)} = X^{(m)}/N_m` (``N_m`` its training-set size).

``MostRecent(n, K)`` (and ``Replace(n)`` = ``MostRecent(n, 1)``)
    Generation ``g`` has :math:`k = \min(K, g)` blocks of :math:`b = \lfloor n/k\rfloor`
    samples, block ``j`` drawn from :math:`p^{(g-j)}` (model 0: fresh draws of
    :math:`p^{(0)}`), so :math:`X^{(g)} = \sum_{j=1}^k \mathrm{Mult}(b, p^{(g-j)})` and
    :math:`N_g = kb`. The process is Markov on the window
    :math:`Z_g = (X^{(g-K+1)}, \dots, X^{(g)})`. Generations :math:`g < 2K - 1`
    (where the window still holds the real model or fits of other sizes) are propagated
    on labelled states; from :math:`G_0 = 2K-1` on the chain is homogeneous on ``K``-tuples
    of count vectors of total :math:`N = K\lfloor n/K\rfloor`, and it is **lumped** by the
    symmetry of the tokens (a permutation acting on all ``K`` vectors at once; the full
    symmetric group for symmetric quantities, the stabiliser of a token for its loss).

    * **Collapse** (the engine's ``collapse_time``): :math:`T = \min\{m \ge 1:
      p^{(m)}\ \text{is a Dirac}\}`; a Dirac :math:`p^{(0)}` gives ``T = 1`` (the
      first fit; the theory counts fitted models, the simulators record 0 there).
      :math:`T` is a first passage of the window chain (:func:`overlapping_collapse_time`,
      :func:`overlapping_collapse_moments`).
    * **A Dirac fit is not absorbing when** ``K > 1``: the next fit still draws from the
      ``K - 1`` older models of the window, so :math:`P(p^{(m)}\ \text{Dirac})`
      (:func:`dirac_probability`) is not :math:`P(T \le m)`. The absorbing states are
      the windows of ``K`` *identical* Diracs; the **absorption time**
      :math:`A = \min\{m \ge K: p^{(m-K+1)} = \dots = p^{(m)} = \delta_i\}`
      (:func:`overlapping_absorption_time`) satisfies :math:`T \le A` and
      :math:`A \ge K`; for ``K = 1`` they coincide.
    * **Token loss**: the engine's ``token_loss_time`` is the first ``m`` with
      :math:`p^{(m)}_i = 0`; for ``K > 1`` the token may return from an older model of
      the window. It is gone for good once it is absent from ``K`` consecutive fits
      (``permanent=True`` in :func:`overlapping_token_loss`). Both laws are defective:
      :math:`P(\text{never lost for good}) = p_i` (fixation of token ``i``, since
      :math:`E p^{(m)} = p^{(0)}`).

``RandomlySampled(n)``, ``Accumulate(n)``, ``AccumulateSubsample(n)``: **collapse is not
absorbing** (or impossible), so there is no collapse time to speak of; what is exact
here is :math:`P(p^{(m)}\ \text{is a Dirac})`, :math:`E|\mathrm{supp}\,p^{(m)}|` and
:math:`E\sum_i (p^{(m)}_i)^2` at finite ``m`` by forward propagation of a growing state
(refused with :class:`~modelcollapse.errors.TooLargeError` beyond the size caps), and the
stationary homozygosity (:func:`modelcollapse.theory.stationary_homozygosity`).

* ``RandomlySampled(n)``: each sample picks a model uniformly in :math:`0..g-1`, so
  given the past :math:`X^{(g)} \sim \mathrm{Mult}(n, \bar p_g)`,
  :math:`\bar p_g = (p^{(0)} + Y_{g-1}/n)/g` with :math:`Y_{g} = \sum_{t\le g} X^{(t)}`:
  Markov on :math:`Y`. Real draws are fresh, so a lost token comes back with probability
  at least :math:`1-(1-p_i/g)^n` each generation, and a Dirac fit is left again.
* ``Accumulate(n)``: :math:`p^{(m)}` is the law of the whole pool, which keeps the ``n``
  real samples: for ``m >= 1`` the support never changes, so
  :math:`P(\text{Dirac}) = \sum_i p_i^n` and
  :math:`E|\mathrm{supp}| = \sum_i (1 - (1-p_i)^n)` at every ``m >= 1`` (a token is lost
  at generation 1 or never). The pool chain checks these and the homozygosity.
* ``AccumulateSubsample(n)``: state (pool, fit); the fit is a subsample of the pool
  without replacement and can be a Dirac or miss a token, but the pool keeps every
  token of the real sample, so both are left again with positive probability.

Solvers: sparse LU of :math:`I - Q` (SuperLU) for the moments; forward propagation of
the law (non-negative sums) for the distributions. The tests check the chain against a
plain enumeration in ``Fraction`` arithmetic, against the genealogy homozygosity
(:func:`modelcollapse.theory.homozygosity`, to 1e-12) and against the Numba simulator.
"""

from __future__ import annotations

import math
from functools import lru_cache
from itertools import permutations

import numpy as np
from scipy import sparse, special
from scipy.sparse.linalg import splu

from ..errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ..models import _check_positive_int, check_categorical
from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
    SamplingPolicy,
    as_regime,
)
from ..sampling import sampling_distribution
from .categorical import Estimate, Moments, _check_generations
from .distributions import GenerationDistribution

__all__ = [
    "MAX_LABELLED_STATES",
    "MAX_STATES",
    "MAX_WORK",
    "dirac_probability",
    "first_loss_probability",
    "overlapping_absorption_moments",
    "overlapping_absorption_time",
    "overlapping_collapse_moments",
    "overlapping_collapse_time",
    "overlapping_expected_collapse_time",
    "overlapping_homozygosity",
    "overlapping_state_count",
    "overlapping_surviving_tokens",
    "overlapping_token_loss",
]

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
            f"the support of p^(0); got {p.size}: lump tokens or simulate with "
            "modelcollapse.montecarlo")
    return p


def _check_m(m) -> np.ndarray:
    return _check_generations(m, MAX_GENERATIONS).astype(np.int64)


def _check_tol(tol) -> float:
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"tol must be a number, got {tol!r}")
    tol = float(tol)
    if not 0 < tol < 1:
        raise ValueError(f"tol must be in (0, 1), got {tol}")
    return tol


def _check_flag(value, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise WrongTypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


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


# ---------------------------------------------------------------------- window chain
def _kill_mask(kind, cols: np.ndarray, K: int) -> np.ndarray:
    """Which windows (``cols``: ``(S, w, s)`` counts, oldest first) meet the event
    ``kind``: ``"dirac"`` (the newest fit is a Dirac), ``"absorbed"`` (``K`` identical
    Diracs), ``("zero", i)`` (token ``i`` absent from the newest fit), ``("gone", i)``
    (absent from all ``K`` fits), ``("fixed", i)`` (``K`` Diracs on ``i``)."""
    S, w, _ = cols.shape
    single = np.count_nonzero(cols, axis=2) == 1  # (S, w)
    if kind == "dirac":
        return single[:, -1]
    if kind == "absorbed":
        if w < K:
            return np.zeros(S, dtype=bool)
        top = cols.argmax(axis=2)
        return single.all(axis=1) & (top == top[:, :1]).all(axis=1)
    tag, i = kind
    if tag == "zero":
        return cols[:, -1, i] == 0
    if tag == "gone":
        return (cols[:, :, i] == 0).all(axis=1) if w == K else np.zeros(S, dtype=bool)
    if tag == "fixed":
        if w < K:
            return np.zeros(S, dtype=bool)
        return (cols[:, :, i] == cols.sum(axis=2)).all(axis=1)
    raise ValueError(kind)  # pragma: no cover


class _WindowChain:
    """``MostRecent(n, K)`` on the support ``p`` (``s`` tokens); ``fixed`` is the token
    the lumping must keep apart (``None``: the full symmetric group)."""

    def __init__(self, p: np.ndarray, n: int, K: int, fixed: int | None = None,
                 policy: SamplingPolicy | None = None):
        self.p, self.n, self.K, self.s = p, n, K, p.size
        self.policy = policy = policy or SamplingPolicy()
        self.G0 = 2 * K - 1
        self.b = n // K
        self.N = K * self.b
        self.fixed = fixed
        s = self.s
        C = _ncomps(self.N, s)
        labelled = C**K
        cb = _ncomps(self.b, s)
        conv = sum(_ncomps(j * self.b, s) for j in range(1, K)) * cb
        if labelled > MAX_LABELLED_STATES:
            raise TooLargeError(
                f"MostRecent({n}, {K}) with {s} tokens has {labelled} labelled window "
                f"states (limit MAX_LABELLED_STATES = {MAX_LABELLED_STATES}): use a "
                "smaller n, window or vocabulary, or simulate with modelcollapse.montecarlo")
        # the tokens are exchangeable under plain sampling and temperature; top-k/top-p
        # break ties by token index, so a permutation of a window with ties is not
        # equivalent to it: no lumping then
        group = ([tuple(range(s))] if _truncates(policy) else
                 [g for g in permutations(range(s)) if fixed is None or g[fixed] == fixed])
        est_states = labelled // len(group) + C
        if est_states > MAX_STATES or est_states * max(conv, C) > MAX_WORK:
            raise TooLargeError(
                f"MostRecent({n}, {K}) with {s} tokens has about {est_states} lumped states "
                f"and costs about {est_states * max(conv, C):.2e} operations (limits "
                f"MAX_STATES = {MAX_STATES}, MAX_WORK = {MAX_WORK:.0e}): use a smaller n, "
                "window or vocabulary, or simulate with modelcollapse.montecarlo")
        self.group = group
        self.comps = _comps(self.N, s)[0]

    # ---------------------------------------------------------- lumping
    def _build(self):
        if hasattr(self, "P"):
            return
        K, s, C = self.K, self.s, self.comps.shape[0]
        perm_idx = np.stack([_index(self.comps[:, list(g)], self.N) for g in self.group])
        flat = np.arange(C**K, dtype=np.int64)
        digits = np.stack([(flat // C ** (K - 1 - j)) % C for j in range(K)], axis=1)
        best = None
        for gi in range(len(self.group)):
            pd = perm_idx[gi][digits]
            f = np.zeros(flat.size, dtype=np.int64)
            for j in range(K):
                f = f * C + pd[:, j]
            best = f if best is None else np.minimum(best, f)
        reps = np.unique(best)
        self.lab2lump = np.searchsorted(reps, best)
        L = reps.size
        rep_digits = digits[reps]
        self.rep_counts = self.comps[rep_digits]  # (L, K, s)
        # transitions: law of the new fit y from each representative window
        A = _multinomial(_draw(self.comps / self.N, self.policy), self.b)  # (C, C_b)
        rows, cols, vals = [], [], []
        chunk = max(1, 4_000_000 // max(C, 1))
        for start in range(0, L, chunk):
            d = rep_digits[start:start + chunk]
            acc = A[d[:, 0]]
            tot = self.b
            for j in range(1, K):
                acc = _convolve(acc, tot, A[d[:, j]], self.b, s)
                tot += self.b
            base = (reps[start:start + chunk] % C ** (K - 1)) * C
            r, y = np.nonzero(acc > 0)
            rows.append(start + r)
            cols.append(self.lab2lump[base[r] + y])
            vals.append(acc[r, y])
        self.P = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(L, L))
        self.P.sum_duplicates()
        self.feat = _fit_stats(self.rep_counts[:, -1, :])

    def mask(self, kind) -> np.ndarray:
        self._build()
        return _kill_mask(kind, self.rep_counts, self.K)

    # ---------------------------------------------------------- labelled phase
    def phase1(self, kill=None, horizon=None):
        """Propagate generations ``1..min(G0, horizon)`` on labelled windows. Returns
        ``(stats rows per generation, killed mass per generation, states, probs,
        totals)``; with ``kill`` the windows meeting it are removed after each
        generation (their mass recorded)."""
        s, K, n = self.s, self.K, self.n
        G = self.G0 if horizon is None else min(self.G0, horizon)
        states = np.zeros((1, 0), dtype=np.int64)
        probs = np.ones(1)
        totals: list[int] = []
        rows, killed = [], []
        for g in range(1, G + 1):
            k = min(K, g)
            b = n // k
            Ng = k * b
            acc, tot = None, 0
            if g <= K:
                acc = np.repeat(_multinomial(self.p, b), states.shape[0], axis=0)
                tot = b
            for j, t in enumerate(totals):
                part = _multinomial(_draw(_comps(t, s)[0] / t, self.policy), b)[states[:, j]]
                acc = part if acc is None else _convolve(acc, tot, part, b, s)
                tot += b
            joint = probs[:, None] * acc
            yc = _comps(Ng, s)[0]
            marg = joint.sum(axis=0)
            feats = _fit_stats(yc)
            rows.append({k_: _dot(marg, v) for k_, v in feats.items()})
            drop = len(totals) == K
            keep_cols = states[:, 1:] if drop else states
            r, y = np.nonzero(joint > 0)
            new_states = np.concatenate([keep_cols[r], y[:, None]], axis=1)
            new_probs = joint[r, y]
            totals = ([*totals[1:], Ng] if drop else [*totals, Ng])
            if drop:  # windows that differ only in the dropped fit merge
                radix = [_comps(t, s)[0].shape[0] for t in totals]
                key = np.zeros(new_states.shape[0], dtype=np.int64)
                for j, R in enumerate(radix):
                    key = key * R + new_states[:, j]
                uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
                new_probs = np.bincount(inv.ravel(), weights=new_probs, minlength=uniq.size)
                new_states = new_states[first]
            states, probs = new_states, new_probs
            if states.size * s > 4 * MAX_LABELLED_STATES * K:  # pragma: no cover
                raise TooLargeError("labelled window law too large")
            if kill is not None:
                cols = np.stack([_comps(t, s)[0][states[:, j]]
                                 for j, t in enumerate(totals)], axis=1)
                dead = _kill_mask(kill, cols, K)
                killed.append(float(probs[dead].sum()))
                states, probs = states[~dead], probs[~dead]
            else:
                killed.append(0.0)
        return rows, killed, states, probs, totals

    def lump(self, states, probs) -> np.ndarray:
        """The law of labelled windows of generation ``G0`` on the lumped states."""
        self._build()
        C = self.comps.shape[0]
        flat = np.zeros(states.shape[0], dtype=np.int64)
        for j in range(self.K):
            flat = flat * C + states[:, j]
        return np.bincount(self.lab2lump[flat], weights=probs, minlength=self.P.shape[0])


# ---------------------------------------------------------------------- window solvers
def _window_chain(model, regime, what, fixed=None):
    _, n, K = _regime_kind(regime, what, WINDOW_SUPPORTED)
    p = _support(model)
    return _WindowChain(p, n, K, fixed, as_regime(regime).sampling)


def _passage(chain: _WindowChain, kill, never=None, *, tol, max_generations):
    """Law of the first generation whose window meets ``kill``, as a
    :class:`GenerationDistribution`; ``never`` marks absorbing windows from which it
    never happens (the law's defect)."""
    _, killed, states, probs, _ = chain.phase1(kill)
    G0 = chain.G0
    law = chain.lump(states, probs)
    dead = chain.mask(kill)
    P = chain.P
    alive = ~dead
    trans = alive & (~chain.mask(never) if never is not None else True)
    idx_t = np.flatnonzero(trans)
    Q = P[idx_t][:, idx_t].tocsc()
    kill_rate = np.asarray(P[idx_t][:, np.flatnonzero(dead)].sum(axis=1)).ravel()
    if never is not None:  # h = P(eventually killed | transient window)
        h = np.clip(_solve(Q, kill_rate), 0.0, 1.0)
    else:
        h = np.ones(idx_t.size)
    lt = law[idx_t]
    defect = max(1.0 - sum(killed) - _dot(lt, h), 0.0) if never is not None else 0.0
    cdf = [0.0]
    for x in killed:
        cdf.append(cdf[-1] + x)
    # tail[g] = P(g < T < inf); generations 1..G0-1 from the cdf
    tails = [max(1.0 - defect - c, 0.0) for c in cdf[:-1]]
    tails.append(_dot(lt, h))
    Qt = Q.T.tocsr()
    ratio = 0.0
    g = G0
    while tails[-1] >= tol and g < max_generations:
        absorbed = _dot(lt, kill_rate)
        lt = Qt @ lt
        cdf.append(cdf[-1] + absorbed)
        tails.append(_dot(lt, h))
        g += 1
        if tails[-2] > 0:
            ratio = tails[-1] / tails[-2]
    ratio = min(max(ratio, 0.0), 1.0 - 1e-16)
    return GenerationDistribution(np.array(cdf), np.array(tails), defect=defect,
                                  ratio=ratio, method="window-chain")


def _solve(Q, rhs: np.ndarray, *, lu=None) -> np.ndarray:
    r""":math:`(I-Q)^{-1}` ``rhs`` for a sub-stochastic ``Q`` from which every state
    leaves: sparse LU up to :data:`SOLVE_MAX_STATES` states (its fill-in grows fast
    with the window), else the Neumann series :math:`\sum_j Q^j` ``rhs`` (sums of
    non-negative terms, as many steps as the propagation of the law)."""
    if lu is not None or Q.shape[0] <= SOLVE_MAX_STATES:
        lu = lu or splu(sparse.identity(Q.shape[0], format="csc") - Q.tocsc())
        return lu.solve(rhs)
    Q = Q.tocsr()
    x = rhs.copy()
    term = rhs.copy()
    for _ in range(MAX_GENERATIONS):
        term = Q @ term
        x += term
        if term.max(initial=0.0) <= 1e-17 * x.max(initial=0.0):
            return x
    raise TooLargeError("the Neumann series of the window chain did not converge")


def _moments(chain: _WindowChain, kill) -> Moments:
    """``(E T, Var T)`` of a certain first passage: labelled generations, then
    :math:`t = (I-Q)^{-1}1` on the lumped chain."""
    _, killed, states, probs, _ = chain.phase1(kill)
    G0 = chain.G0
    law = chain.lump(states, probs)
    alive = np.flatnonzero(~chain.mask(kill))
    Q = chain.P[alive][:, alive]
    lu = splu(sparse.identity(alive.size, format="csc") - Q.tocsc()) \
        if alive.size <= SOLVE_MAX_STATES else None
    t = _solve(Q, np.ones(alive.size), lu=lu)
    Nt = _solve(Q, t, lu=lu)
    q = law[alive]
    surv = 1.0
    s1 = s2 = 0.0
    for g in range(G0):  # P(T > g), g = 0..G0-1
        s1 += surv
        s2 += (2 * g + 1) * surv
        surv -= killed[g]
    s1 += _dot(q, t)
    s2 += (2 * G0 + 1) * _dot(q, t) + 2.0 * _dot(q, Nt - t)
    return Moments(s1, max(s2 - s1 * s1, 0.0))


def _certain_at(g: int):
    """The law of a time equal to ``g >= 1`` with certainty (a Dirac :math:`p^{(0)}`:
    the first fit is a Dirac, ``T = 1``; the window holds it ``K`` times at ``A = K``)."""
    cdf = np.zeros(g + 1)
    cdf[g] = 1.0
    tail = np.where(np.arange(g + 1) < g, 1.0, 0.0)  # P(m < T < inf)
    return GenerationDistribution(cdf, tail, method="dirac")


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
    tol = _check_tol(tol)
    max_generations = _check_positive_int(max_generations, "max_generations")
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
    tol = _check_tol(tol)
    max_generations = _check_positive_int(max_generations, "max_generations")
    permanent = _check_flag(permanent, "permanent")
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
    i = int(np.count_nonzero(model.p[:t]))  # index of the token within the support
    chain = _window_chain(model, regime, "overlapping_token_loss", fixed=i)
    kill = ("gone", i) if permanent else ("zero", i)
    return _passage(chain, kill, ("fixed", i), tol=tol, max_generations=max_generations)


# ---------------------------------------------------------------------- fit statistics
def _window_stats(p, n, K, M, policy) -> dict:
    """Per-generation statistics ``m = 0..M`` under ``MostRecent(n, K)``."""
    chain = _WindowChain(p, n, K, policy=policy)
    rows, _, states, probs, _ = chain.phase1(None, horizon=M)
    if M > chain.G0:
        law = chain.lump(states, probs)
        Pt = chain.P.T.tocsr()
        for _ in range(chain.G0 + 1, M + 1):
            law = Pt @ law
            rows.append({k: _dot(law, v) for k, v in chain.feat.items()})
    return rows


def _growing_check(states_per_gen, C_new, what):
    work = sum(states_per_gen) * C_new
    if max(states_per_gen) > MAX_LABELLED_STATES or work > MAX_WORK:
        raise TooLargeError(
            f"{what}: the exact state grows with m (up to {max(states_per_gen)} states, "
            f"{work:.2e} operations; limits {MAX_LABELLED_STATES} and {MAX_WORK:.0e}): use "
            "a smaller m, n or vocabulary, or simulate with modelcollapse.montecarlo")


def _kill_token(rows, joint, fits, token):
    """With ``token`` (index in the support): remove from ``joint`` (columns: the new
    fits ``fits``) the paths whose fit lacks it, and record in ``rows[-1]["lost"]`` the
    probability that it has been absent from some fit so far (rows then describe the
    surviving paths only)."""
    if token is None:
        return
    dead = fits[:, token] == 0
    gone = float(joint[:, dead].sum())
    joint[:, dead] = 0.0
    rows[-1]["lost"] = (rows[-2]["lost"] if len(rows) > 1 else 0.0) + gone


def _uniform_stats(p, n, M, policy, token=None) -> list:
    """RandomlySampled(n): Markov on :math:`Y_{g-1}`, :math:`X^{(g)} \\sim
    \\mathrm{Mult}(n, (p^{(0)} + Y_{g-1}/n)/g)`."""
    if not policy.plain:
        return _uniform_policy_stats(p, n, M, policy, token)
    s = p.size
    Cn = _comps(n, s)[0]
    _growing_check([_ncomps(g * n, s) for g in range(M)], Cn.shape[0], "RandomlySampled")
    feats = _fit_stats(Cn)
    law = np.ones(1)
    rows = []
    for g in range(1, M + 1):
        Y = _comps((g - 1) * n, s)[0]
        mix = (p[None, :] + Y / n) / g
        joint = law[:, None] * _multinomial(mix, n)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
        if g < M:
            law = np.bincount(_add_table((g - 1) * n, n, s).ravel(), weights=joint.ravel(),
                              minlength=_comps(g * n, s)[0].shape[0])
    return rows


def _uniform_policy_stats(p, n, M, policy, token=None) -> list:
    """RandomlySampled(n) under a sampling policy: given the past, :math:`X^{(g)} \\sim
    \\mathrm{Mult}(n, (p^{(0)} + \\sum_{t=1}^{g-1} \\pi(p^{(t)}))/g)` with :math:`\\pi` the
    policy's map, which is not linear: the law depends on the multiset of the past fits,
    not on their sum. The state is that multiset (sorted fit indices), merged when equal.
    """
    s = p.size
    Cn = _comps(n, s)[0]
    C = Cn.shape[0]
    sizes = [math.comb(C + g - 1, g) for g in range(M)]  # multisets of g fits
    _growing_check(sizes, C, "RandomlySampled with a sampling policy")
    pol = _draw(Cn / n, policy)  # (C, s)
    feats = _fit_stats(Cn)
    states = np.zeros((1, 0), dtype=np.int64)
    law = np.ones(1)
    rows = []
    for g in range(1, M + 1):
        mix = (p[None, :] + pol[states].sum(axis=1)) / g
        joint = law[:, None] * _multinomial(mix, n)  # (S, C)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
        if g < M:
            r, y = np.nonzero(joint > 0)
            new = np.sort(np.concatenate([states[r], y[:, None]], axis=1), axis=1)
            states, inv = np.unique(new, axis=0, return_inverse=True)
            law = np.bincount(inv.ravel(), weights=joint[r, y], minlength=states.shape[0])
    return rows


def _mix_stats(p, N, n, fresh, M, policy, token=None) -> list:
    """Mix(N, n): generation 1 is the real sample :math:`R \\sim \\mathrm{Mult}(N,
    p^{(0)})`; generation ``g >= 2`` is :math:`R + S_g`, :math:`S_g \\sim
    \\mathrm{Mult}(n, \\pi(p^{(g-1)}))`, with the same ``R`` (Markov on ``(R, S)``) or,
    ``fresh``, a new one each generation (Markov on the fit :math:`R_g + S_g`)."""
    s = p.size
    CN, Cn, CF = _comps(N, s)[0], _comps(n, s)[0], _comps(N + n, s)[0]
    work = (CN.shape[0] * Cn.shape[0] ** 2 if not fresh else CF.shape[0] * Cn.shape[0]) * M
    if work > MAX_WORK or CN.shape[0] * Cn.shape[0] > MAX_LABELLED_STATES:
        raise TooLargeError(
            f"Mix({N}, {n}): the exact chain costs about {work:.2e} operations (limit "
            f"MAX_WORK = {MAX_WORK:.0e}): use a smaller m, N, n or vocabulary, or simulate "
            "with modelcollapse.montecarlo")
    real = _multinomial(p, N)[0]  # law of R over CN
    rows = [{k: _dot(real, v) for k, v in _fit_stats(CN).items()}]
    law_real = real.copy()
    _kill_token(rows, law_real[None, :], CN, token)
    if M == 1:
        return rows
    featF = _fit_stats(CF)
    first = _multinomial(_draw(CN / N, policy), n)  # (CN, Cn): S_2 given R
    A = _multinomial(_draw(CF / (N + n), policy), n)  # (CF, Cn): S given the last fit
    add = _add_table(N, n, s)  # (CN, Cn) -> index in CF
    if not fresh:
        L = law_real[:, None] * first  # (R, S) of generation 2
        for g in range(2, M + 1):
            if g > 2:
                L = np.einsum("rs,rst->rt", L, A[add])
            marg = np.bincount(add.ravel(), weights=L.ravel(), minlength=CF.shape[0])
            rows.append({k: _dot(marg, v) for k, v in featF.items()})
            if token is not None:
                dead = CF[add, token] == 0
                gone = float(L[dead].sum())
                L = np.where(dead, 0.0, L)
                rows[-1]["lost"] = rows[-2]["lost"] + gone
        return rows
    law_S = law_real @ first  # S_2 (R_1 is gone: the real block is new)
    for _ in range(2, M + 1):
        law_F = _convolve(real[None, :], N, law_S[None, :], n, s)[0]
        rows.append({k: _dot(law_F, v) for k, v in featF.items()})
        _kill_token(rows, law_F[None, :], CF, token)
        law_S = law_F @ A
    return rows


def _accumulate_stats(p, n, M, policy) -> list:
    """Accumulate(n): the pool :math:`Y_g` (``g n`` samples) is Markov,
    :math:`Y_{g+1} = Y_g + \\mathrm{Mult}(n, Y_g/(gn))`, :math:`p^{(g)} = Y_g/(gn)`."""
    s = p.size
    Cn = _comps(n, s)[0].shape[0]
    _growing_check([_ncomps(g * n, s) for g in range(1, M + 1)], Cn, "Accumulate")
    law = _multinomial(p, n)[0]
    rows = []
    for g in range(1, M + 1):
        Y = _comps(g * n, s)[0]
        rows.append({k: _dot(law, v) for k, v in _fit_stats(Y).items()})
        if g < M:
            joint = law[:, None] * _multinomial(_draw(Y / (g * n), policy), n)
            law = np.bincount(_add_table(g * n, n, s).ravel(), weights=joint.ravel(),
                              minlength=_comps((g + 1) * n, s)[0].shape[0])
    return rows


def _subsample_stats(p, n, M, policy, token=None) -> list:
    """AccumulateSubsample(n): the pool gains ``Mult(n, F_g/n)``, then the fit
    :math:`F_{g+1}` is ``n`` of the pool without replacement."""
    s = p.size
    Cn = _comps(n, s)[0]
    _growing_check([_ncomps(g * n, s) for g in range(1, M + 1)], Cn.shape[0] ** 2,
                   "AccumulateSubsample")
    feats = _fit_stats(Cn)
    pool_law = _multinomial(p, n)[0]  # generation 1: pool = fit = the real sample
    rows = [{k: _dot(pool_law, v) for k, v in feats.items()}]
    joint = np.diag(pool_law)  # (pool, fit) of generation 1 (both of total n)
    _kill_token(rows, joint, Cn, token)
    Mn = _multinomial(_draw(Cn / n, policy), n)  # (fit, new block)
    for g in range(2, M + 1):
        tot = (g - 1) * n
        blocks = joint @ Mn  # (pool, new block)
        pool_law = np.bincount(_add_table(tot, n, s).ravel(), weights=blocks.ravel(),
                               minlength=_comps(tot + n, s)[0].shape[0])
        pool = _comps(tot + n, s)[0]
        joint = pool_law[:, None] * _hypergeometric(pool, tot + n, n)
        marg = joint.sum(axis=0)
        rows.append({k: _dot(marg, v) for k, v in feats.items()})
        _kill_token(rows, joint, Cn, token)
    return rows


def _stats(model, regime, m, what, key):
    kind, n, K = _regime_kind(regime, what)
    regime = as_regime(regime)
    policy = regime.sampling
    ms = _check_m(m)
    model = check_categorical(model)
    p = _support(model)
    M = int(ms.max()) if ms.size else 0
    row0 = {"dirac": float(p.size == 1), "support": float(p.size),
            "homozygosity": float(np.sum(p * p))}
    if p.size == 1 or M == 0:
        rows = [row0] * (M + 1)
    elif kind == "window":
        rows = [row0, *_window_stats(p, n, K, M, policy)]
    elif kind == "uniform":
        rows = [row0, *_uniform_stats(p, n, M, policy)]
    elif kind == "accumulate":
        rows = [row0, *_accumulate_stats(p, n, M, policy)]
    elif kind == "mix":
        rows = [row0, *_mix_stats(p, regime.real, n, regime.fresh, M, policy)]
    else:
        rows = [row0, *_subsample_stats(p, n, M, policy)]
    vals = np.array([r[key] for r in rows])[ms]
    return float(vals) if ms.ndim == 0 else vals


def dirac_probability(model, regime, m):
    r""":math:`P(p^{(m)}\ \text{is a Dirac})`, exactly, for ``Replace``, ``MostRecent``,
    ``RandomlySampled``, ``Accumulate`` and ``AccumulateSubsample`` (``m`` an int or an
    integer array; float64 of the same shape).

    Only under ``Replace`` is this :math:`P(T \le m)`: under ``MostRecent(n, K > 1)`` a
    Dirac fit can be followed by a non-Dirac one (the window's older models), and under
    the other three regimes real data stays in the training set, so a Dirac fit is not
    absorbing (``Accumulate``: :math:`\sum_i p_i^n` at every ``m >= 1``, the real sample
    was a Dirac). ``MostRecent``: the window chain; the others: forward propagation of a
    state that grows with ``m`` (refused beyond :data:`MAX_WORK` with ``TooLargeError``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The probability that the fit is a Dirac mass: a float for a scalar ``m``, a float64
        array of the shape of ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("What is absorbing").
    """
    return _stats(model, regime, m, "dirac_probability", "dirac")


def overlapping_surviving_tokens(model, regime, m):
    r""":math:`E|\mathrm{supp}\,p^{(m)}|`, exactly, under the regimes of
    :func:`dirac_probability` (same method). ``Accumulate``:
    :math:`\sum_i(1-(1-p_i)^n)` at every ``m >= 1``.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The expected support size: a float for a scalar ``m``, a float64 array of the shape of
        ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _stats(model, regime, m, "overlapping_surviving_tokens", "support")


def overlapping_homozygosity(model, regime, m):
    r""":math:`E\sum_i(p^{(m)}_i)^2` from the exact chains of this module (a check of
    :func:`modelcollapse.theory.homozygosity`, which gets it from the genealogy of two
    samples for any ``n``).

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support.
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        The expected homozygosity: a float for a scalar ``m``, a float64 array of the shape of
        ``m`` for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    return _stats(model, regime, m, "overlapping_homozygosity", "homozygosity")


def first_loss_probability(model, regime, token, m):
    r""":math:`P(T_i \le m)`, :math:`T_i` the first generation ``>= 1`` whose fit gives
    ``token`` probability 0 (the engine's ``token_loss_time``), exactly, under every
    regime of :func:`dirac_probability` and any sampling policy (``m`` an int or an
    integer array).

    ``Replace`` / ``MostRecent``: the cdf of :func:`overlapping_token_loss`.
    ``Accumulate``: :math:`(1-p_i)^n` for every ``m >= 1`` (the pool keeps the real
    sample). ``RandomlySampled`` and ``AccumulateSubsample``: the growing-state
    propagation of :func:`dirac_probability` with the paths that lose the token removed
    (the token can come back afterwards, so :math:`T_i` is a first passage, not a
    permanent loss). A token of probability 0 is lost at ``m = 1`` (its first fit), as
    in :func:`modelcollapse.theory.token_loss`.

    Parameters
    ----------
    model : Categorical
        The real distribution :math:`p^{(0)}`, at most 4 tokens in its support (any number
        under ``Accumulate``).
    regime : Regime or str
        ``Replace``, ``MostRecent``, ``RandomlySampled``, ``Accumulate``,
        ``AccumulateSubsample`` or ``Mix``, with any sampling policy, or its spec string.
    token : int or str
        Index of the token, or its label when the model has labels.
    m : int or array_like of int
        Generations, ``0 <= m <= 10**6`` (``m = 0`` is the real model).

    Returns
    -------
    float or numpy.ndarray
        :math:`P(T_i \le m)`: a float for a scalar ``m``, a float64 array of the shape of ``m``
        for an array.

    Raises
    ------
    WrongTypeError
        ``model`` is not a ``Categorical``, ``regime`` neither a ``Regime`` nor a string,
        or ``m`` not an integer (or array of them).
    ValueError
        A negative ``m``, a bad ``token``, or an invalid spec string.
    TooLargeError
        More than 4 tokens in the support, ``m`` above ``10**6``, or a state space beyond
        the size caps (:data:`MAX_LABELLED_STATES`, :data:`MAX_STATES`, :data:`MAX_WORK`).

    References
    ----------
    .. [1] The theory chapter, docs/theory/regimes.md ("The exact window and pool chains").
    """
    kind, n, _ = _regime_kind(regime, "first_loss_probability")
    policy = as_regime(regime).sampling
    ms = _check_m(m)
    model = check_categorical(model)
    t = model.token_index(token)
    pt = float(model.p[t])
    M = int(ms.max()) if ms.size else 0
    if pt == 0.0 or pt == 1.0:
        vals = np.where(np.arange(M + 1) >= 1, 1.0 if pt == 0.0 else 0.0, 0.0)
    elif kind == "window":
        law = overlapping_token_loss(model, regime, token)
        vals = np.array([law.cdf(g) for g in range(M + 1)])
    elif kind == "accumulate":
        vals = np.where(np.arange(M + 1) >= 1, (1.0 - pt) ** n, 0.0)
    else:
        p = _support(model)
        i = int(np.count_nonzero(model.p[:t]))
        if not M:
            rows = []
        elif kind == "mix":
            regime = as_regime(regime)
            rows = _mix_stats(p, regime.real, n, regime.fresh, M, policy, token=i)
        else:
            grow = _uniform_stats if kind == "uniform" else _subsample_stats
            rows = grow(p, n, M, policy, token=i)
        vals = np.array([0.0, *(r["lost"] for r in rows)])
    out = vals[ms]
    return float(out) if ms.ndim == 0 else out
