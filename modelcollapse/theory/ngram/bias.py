r"""The refitted rows of an n-gram model after one generation: the maximum-likelihood
bias at order :math:`1/n`, and the exact law of one row for small models.

The fit of context :math:`i` is :math:`\hat P_{ij} = N_{ij}/N_i`, both counts taken from
the same text: a transition :math:`i \to j` changes how often the text comes back to
:math:`i`. The delta method on the ratio gives, to first order,

.. math:: E\hat P_{ij} - P_{ij} \approx \frac{P_{ij}\,\mathrm{Var}\,N_i
   - \mathrm{Cov}(N_{ij}, N_i)}{(E N_i)^2},

with the exact second moments of a stationary segment of ``L`` transitions
(sources :math:`c_0..c_{L-1}`, :math:`W_L` of :mod:`.chain`):
:math:`\mathrm{Var}\,N_i = \pi_i[2 (W_L)_{ii} - L - L\pi_i]`,
:math:`\mathrm{Cov}(N_{ij}, N_i) = \pi_i P_{ij}[(W_L)_{ii} - L\pi_i
+ (W_{L-1})_{ji} - (L-1)\pi_i]`. For one long text the limit is a closed form in the
mean first passage times :math:`m` of the context chain:

.. math:: E\hat P_{ij} = P_{ij}\Bigl(1 + \frac{1 + m_{ji} - m_{ii}}{n}\Bigr) + O(n^{-2}),

(:math:`m_{ii} = 1/\pi_i` the mean return time, :math:`m_{ii}` read as 0 in
:math:`m_{ji}` when :math:`j = i`): a transition that leads away from :math:`i` for
longer than an average return is over-estimated, a self-transition under-estimated
(the row sums stay 1 since :math:`\sum_j P_{ij}(1 + m_{ji}) = m_{ii}`). So a row's
homozygosity is not a submartingale, as it is for one categorical with a fixed sample
size: for rows :math:`(0.9, 0.1), (0.3, 0.7)` and one text of ``n`` tokens,
:math:`E h_0' \approx h_0 - 0.24/n`.

:func:`ngram_row_expectations` computes the exact law of one row's counts by dynamic
programming over (current context, counts of the row) along each sequence, for small
models.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...models import check_positive_int
from .chain import check_length, context_chain, segments

__all__ = ["RowExpectations", "ngram_row_expectations", "ngram_transition_bias"]

#: Largest DP state array ``C * (L_total + 1)**V`` of :func:`ngram_row_expectations`.
MAX_ROW_STATES = 2 * 10**7


def ngram_transition_bias(model, n: int, length: int | None = None, *,
                          asymptotic: bool = False) -> np.ndarray:
    r"""First-order bias :math:`E\hat P - P` of every row after one generation of ``n``
    tokens in sequences of ``length`` (``None``: one) from the stationary start.

    ``asymptotic=True``: the long-text closed form :math:`P_{ij}(1 + m_{ji} -
    m_{ii})/n`; else the delta method with the exact segment moments (module formulas).

    Examples
    --------
    >>> from modelcollapse import NGram
    >>> b = ngram_transition_bias(NGram([[0.9, 0.1], [0.3, 0.7]]), 1, asymptotic=True)
    >>> b.round(6)    # P_ij (1 + m_ji - m_ii): m_00 = 4/3, m_10 = 10/3, m_01 = 10, m_11 = 4
    array([[-0.3,  0.3],
           [ 2.1, -2.1]])
    """
    n = check_positive_int(n, "n")
    ch = context_chain(model)
    P, pi = ch.table, ch.pi
    C, V = P.shape
    nxt = (np.arange(C)[:, None] * V + np.arange(V)[None, :]) % C  # j as a context
    if asymptotic:
        M = ch.first_passage()
        mji = M[nxt, np.arange(C)[:, None]]  # m_{j i} for the context j reached
        mji = np.where(nxt == np.arange(C)[:, None], 0.0, mji)
        return P * (1 + mji - np.diag(M)[:, None]) / n
    if model.start != "stationary":
        raise ValueError("the finite-length bias is derived for a stationary start; use "
                         "asymptotic=True for one long text")
    L = check_length(length, n)
    EN = np.zeros(C)
    VarN = np.zeros(C)
    Cov = np.zeros((C, V))
    for seg, count in segments(n, L).items():
        W = ch.weighted_powers(seg)
        W1 = ch.weighted_powers(seg - 1) if seg > 1 else np.zeros((C, C))
        d = np.diag(W)
        EN += count * seg * pi
        VarN += count * pi * (2 * d - seg - seg * pi)
        back = W1[nxt, np.arange(C)[:, None]]  # (W_{L-1})_{j i}
        Cov += count * pi[:, None] * P * ((d - seg * pi)[:, None] + back
                                           - (seg - 1) * pi[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        return (P * VarN[:, None] - Cov) / EN[:, None] ** 2


class RowExpectations(NamedTuple):
    """Exact one-generation expectations of the refit of one context's row."""

    mean: np.ndarray  #: :math:`E \hat P_{c\cdot}` (V,)
    homozygosity: float  #: :math:`E \sum_x \hat P_{cx}^2`
    unseen: float  #: :math:`P(N_c = 0)`
    visits: float  #: :math:`E N_c`


def _segment_row_law(P, c, L, mu):
    """Law of the counts of row ``c``'s transitions in one sequence of ``L`` tokens,
    shape ``(L+1,)*V`` (summed over the final context)."""
    C, V = P.shape
    shape = (C,) + (L + 1,) * V
    D = np.zeros(shape)
    D[(slice(None),) + (0,) * V] = mu
    for _ in range(L):
        new = np.zeros(shape)
        for a in range(C):
            if not D[a].any():
                continue
            for x in range(V):
                p = P[a, x]
                if p == 0:
                    continue
                b = (a * V + x) % C
                block = D[a] * p
                if a == c:  # one more transition c -> x
                    src = [slice(None)] * V
                    dst = [slice(None)] * V
                    src[x] = slice(0, L)
                    dst[x] = slice(1, L + 1)
                    new[b][tuple(dst)] += block[tuple(src)]
                else:
                    new[b] += block
        D = new
    return D.sum(axis=0)


def ngram_row_expectations(model, context, n: int) -> RowExpectations:
    r"""Exact expectations of context ``context``'s refitted row after one generation
    of ``n`` tokens (sequences of ``model.length``, started from the model's start law),
    under the model's refit rule ``"keep"`` or ``"uniform"`` with its smoothing: dynamic
    programming over (current context, the row's counts), sequence by sequence.

    Raises
    ------
    UnsupportedRegimeError
        ``unseen="backoff"`` (the unseen row depends on the other rows' counts).
    TooLargeError
        More than :data:`MAX_ROW_STATES` states.

    Examples
    --------
    >>> from modelcollapse import NGram
    >>> m = NGram([[0.9, 0.1], [0.3, 0.7]])
    >>> e = ngram_row_expectations(m, 0, 200)
    >>> bool(e.homozygosity < 0.82)   # h_0 = 0.82 goes down
    True
    """
    from ...ngram import NGram

    if not isinstance(model, NGram):
        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    n = check_positive_int(n, "n")
    c = int(context) if isinstance(context, (int, np.integer)) else \
        model.context_index(context)
    if not 0 <= c < model.contexts:
        raise ValueError(f"context must be a row index in [0, {model.contexts}), got {c}")
    if model.unseen == "backoff":
        raise UnsupportedRegimeError(
            "the exact row law covers the refit rules 'keep' and 'uniform' (a backoff row "
            "depends on the other rows' counts)", supported=("keep", "uniform"))
    P, V, C = model.table, model.vocab_size, model.contexts
    L = check_length(model.length, n)
    segs = segments(n, L)
    states = C * (min(n, sum(s * k for s, k in segs.items())) + 1) ** V
    if states > MAX_ROW_STATES:
        raise TooLargeError(
            f"the exact row law needs about {states:.3g} states (C (n+1)^V), above "
            f"{MAX_ROW_STATES:.0e}; use ngram_transition_bias for the first-order law, or "
            "montecarlo.simulate")
    mu = model.start_law()
    law = np.ones((1,) * V)
    from scipy.signal import fftconvolve

    for seg, count in segs.items():
        one = _segment_row_law(P, c, seg, mu)
        for _ in range(count):
            law = np.maximum(fftconvolve(law, one), 0.0) if law.size > 1 else one.copy()
    law /= law.sum()
    grids = np.indices(law.shape)  # (V, ...) the counts N_{c x}
    Nc = grids.sum(axis=0)
    alpha = model.smoothing
    if alpha > 0:
        rows = (grids + alpha) / (Nc + alpha * V)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            rows = np.where(Nc > 0, grids / np.where(Nc > 0, Nc, 1), np.nan)
        empty = P[c] if model.unseen == "keep" else np.full(V, 1.0 / V)
        rows = np.where(Nc > 0, rows, empty.reshape((V,) + (1,) * V))
    mean = (rows * law).reshape(V, -1).sum(axis=1)
    hom = float(((rows**2).sum(axis=0) * law).sum())
    return RowExpectations(mean, hom, float(law[Nc == 0].sum()), float((Nc * law).sum()))
