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

The chains shared with the pool regimes (count vectors, checks, caps) are in
:mod:`._counts`; the public laws of the window chain in
:mod:`modelcollapse.theory.categorical.window_laws`.
"""

from __future__ import annotations

from itertools import permutations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import splu

from ...errors import TooLargeError
from ...regimes import (
    SamplingPolicy,
    as_regime,
)
from .._results import Moments
from ..distributions import GenerationDistribution
from ._counts import (
    MAX_GENERATIONS,
    MAX_LABELLED_STATES,
    MAX_STATES,
    MAX_WORK,
    SOLVE_MAX_STATES,
    WINDOW_SUPPORTED,
    _comps,
    _convolve,
    _dot,
    _draw,
    _fit_stats,
    _index,
    _multinomial,
    _ncomps,
    _regime_kind,
    _support,
    _truncates,
)


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
