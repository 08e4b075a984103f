r"""Collapse to repetition: without smoothing, under ``unseen="keep"``, a transition that
one generation's text does not use is gone for good (the refit gives it probability 0
and no later text can produce it), so the supports of the rows only shrink. The chain
is absorbed when every context reachable from the start law has a Dirac row: the model
then writes one deterministic text (a path into a cycle) for each start context. This
is the language-model form of the categorical chain's collapse.

For tiny models the law of that time is exact: the fitted table is a function of the
transition counts (and the previous table), the law of one generation's counts comes
from a dynamic programme over (current context, counts so far) along each sequence, and
the distribution over tables is carried forward generation by generation (tables keyed
exactly, in rational arithmetic), the absorbed mass collected as :math:`P(T \le m)`.
"""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import numpy as np

from ...errors import TooLargeError, UnsupportedRegimeError, WrongTypeError
from ...regimes import Replace, accepts_regime_spec
from .._results import check_tol
from ..distributions import GenerationDistribution
from .chain import segments

__all__ = ["ngram_repetition_time"]

#: Most distinct tables (or count states) the exact repetition law carries.
MAX_STATES = 200_000


def _counts_law(table, V, C, starts, lengths):
    """``{counts (flat tuple C*V): probability}`` of one generation's transitions."""
    law = {(0,) * (C * V): 1.0}
    rows = [[float(x) for x in r] for r in table]
    for L in lengths:
        cur = defaultdict(float)
        for c0, w in starts.items():
            cur[(c0, (0,) * (C * V))] += w
        for _ in range(L):
            nxt = defaultdict(float)
            for (c, cnt), w in cur.items():
                for x in range(V):
                    p = rows[c][x]
                    if p == 0.0:
                        continue
                    k = list(cnt)
                    k[c * V + x] += 1
                    nxt[((c * V + x) % C, tuple(k))] += w * p
            cur = nxt
            if len(cur) > MAX_STATES:
                raise TooLargeError(
                    f"the exact repetition law needs more than {MAX_STATES} count states "
                    "per generation; use montecarlo.simulate(..., generations=None)")
        one = defaultdict(float)
        for (_, cnt), w in cur.items():
            one[cnt] += w
        new = defaultdict(float)
        for a, pa in law.items():
            for b, pb in one.items():
                new[tuple(i + j for i, j in zip(a, b, strict=True))] += pa * pb
        law = new
    return law


def _refit(cnt, V, C, prev):
    out = []
    for c in range(C):
        row = cnt[c * V:(c + 1) * V]
        N = sum(row)
        out.append(tuple(Fraction(k, N) for k in row) if N else prev[c])
    return tuple(out)


def _deterministic(table, V, C, starts) -> bool:
    seen, todo = set(starts), list(starts)
    while todo:
        c = todo.pop()
        nz = [x for x in range(V) if table[c][x]]
        if len(nz) > 1:
            return False
        for x in nz:
            d = (c * V + x) % C
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return True


@accepts_regime_spec
def ngram_repetition_time(model, regime, *, tol: float = 1e-10,
                          max_generations: int = 10_000) -> GenerationDistribution:
    r"""Exact law of the first generation :math:`T \ge 1` whose fit writes deterministic
    text (every context reachable from the start law has a Dirac row), for a tiny
    :class:`~modelcollapse.ngram.NGram` under plain ``Replace(n)`` with
    ``unseen="keep"`` and no smoothing; computed until the mass not yet absorbed is
    below ``tol`` (the rest continues geometrically at the last measured rate).

    Examples
    --------
    >>> from modelcollapse import NGram
    >>> law = ngram_repetition_time(NGram([[0.5, 0.5], [0.5, 0.5]], start=0, length=3),
    ...                             "replace:3")
    >>> float(law.cdf(1))   # 3 of the 8 texts are deterministic: 000, 101, 111
    0.375
    """
    from ...ngram import NGram

    if not isinstance(model, NGram):
        raise WrongTypeError(f"model must be an NGram, got {type(model).__name__}")
    if not isinstance(regime, Replace) or not regime.sampling.plain:
        raise UnsupportedRegimeError(
            f"the exact repetition law is derived under plain Replace, not {regime!r}",
            supported=("Replace",))
    if model.unseen != "keep" or model.smoothing != 0:
        raise ValueError("collapse to repetition needs unseen='keep' and smoothing=0 (other "
                         "refit rules bring lost transitions back)")
    tol = check_tol(tol)
    V, C = model.vocab_size, model.contexts
    n = regime.n
    lengths = [L for L, k in segments(n, model.length or n).items() for _ in range(k)]
    mu = model.start_law()
    starts = {int(c): float(w) for c, w in enumerate(mu) if w > 0}
    table = tuple(tuple(Fraction(x).limit_denominator(10**9) for x in r)
                  for r in model.table)
    law = {table: 1.0}
    cdf, tail = [0.0], [1.0]
    absorbed = 0.0
    for _ in range(max_generations):
        new = defaultdict(float)
        for tab, p in law.items():
            for cnt, q in _counts_law(tab, V, C, starts, lengths).items():
                new[_refit(cnt, V, C, tab)] += p * q
        if len(new) > MAX_STATES:
            raise TooLargeError(f"the exact repetition law carries more than {MAX_STATES} "
                                "tables; use montecarlo.simulate(..., generations=None)")
        law = {}
        for tab, p in new.items():
            if _deterministic(tab, V, C, starts):
                absorbed += p
            else:
                law[tab] = p
        rest = float(sum(law.values()))
        cdf.append(absorbed)
        tail.append(rest)
        if rest < tol:
            break
    ratio = tail[-1] / tail[-2] if tail[-2] > 0 and len(tail) > 2 else 0.0
    return GenerationDistribution(np.array(cdf), np.array(tail),
                                  ratio=float(min(max(ratio, 0.0), 0.999999)),
                                  method="exact table chain")
