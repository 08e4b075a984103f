r"""High-order n-gram chains on real text, sparse: the harness's experiment with an n-gram
model in place of the network.

A dense table has :math:`V^{k+1}` entries (``1e14`` for characters at order 6), but a
corpus of ``N`` tokens visits at most ``N`` contexts. Here a model is, for every order
:math:`j = 0..k`, the sorted codes of the contexts its corpus visits and, for each, the
tokens that followed it (its occurrences): drawing from a context's maximum-likelihood
row is one uniform pick among its occurrences, and a context the corpus never visited
backs off to its longest visited suffix (:meth:`~modelcollapse.ngram.NGram.from_text`'s
rule), so every row is defined, as a softmax's is.

The recursion mirrors the harness (:mod:`modelcollapse.harness`): generation 0 is the
model of the first ``N`` real tokens; a corpus of generation ``m`` is the concatenation
of sequences of ``length`` tokens, each the newline (BOS) followed by tokens drawn one by
one given the sequence so far (padded with BOS before its start), cut to the regime's
size; each generation is refitted to its corpus (the stream's transitions, as the network
trains on the stream) by the rule ``unseen``: ``"backoff"`` (every order refitted, unseen
contexts back off in the new model) or ``"keep"`` (contexts of order ``k`` the corpus
does not visit keep their previous rows; the lower orders stay generation 0's). The drift
is the harness's metric: the mean, over ``contexts`` contexts of ``context_length`` tokens
sampled from generation 0, of the L1 distance between the next-token rows of generation
``m`` and of generation 1.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..models import check_positive_int
from ..regimes import as_regime, refuse_curation

__all__ = ["TextChainResult", "text_chain"]


class _Model:
    """Sorted context codes per order, their occurrence slices and next tokens (flat)."""

    def __init__(self, codes, lo, hi, nxt, level):
        self.codes, self.lo, self.hi, self.nxt, self.level = codes, lo, hi, nxt, level


def _pairs(stream: np.ndarray, V: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """``(context code, next token)`` of every position ``t >= j`` for order ``j``."""
    s = stream.astype(np.int64)
    code = np.zeros(s.size - j, dtype=np.int64)
    for i in range(j):
        code = code * V + s[i: s.size - j + i]
    return code, s[j:]


def _level(code: np.ndarray, nxt: np.ndarray):
    order = np.argsort(code, kind="stable")
    code, nxt = code[order], nxt[order]
    uniq, first = np.unique(code, return_index=True)
    last = np.append(first[1:], code.size)
    return uniq, first, last, nxt


def _fit(stream, V, k, prev=None, keep_from=None) -> _Model:
    """The model of ``stream``; with ``keep_from`` (the previous model), order-``k``
    contexts the stream does not visit keep their rows and the lower orders are
    ``keep_from``'s."""
    levels = []
    for j in range(k + 1):
        if keep_from is not None and j < k:
            levels.append(keep_from[j])
            continue
        code, nxt = _pairs(stream, V, j)
        if keep_from is not None:  # add the kept rows of contexts not visited now
            old = keep_from[k]
            unseen = ~np.isin(old[0], code)
            if unseen.any():
                idx = np.flatnonzero(unseen)
                lens = old[2][idx] - old[1][idx]
                oc = np.repeat(old[0][idx], lens)
                starts = np.repeat(old[1][idx] - np.cumsum(lens) + lens, lens)
                on = old[3][starts + np.arange(lens.sum())]
                code, nxt = np.concatenate([code, oc]), np.concatenate([nxt, on])
        levels.append(_level(code, nxt))
    return levels


def _flatten(levels):
    """Flat arrays for the compiled sampler: codes, lo, hi (into nxt), nxt, level
    offsets."""
    offs = np.zeros(len(levels) + 1, dtype=np.int64)
    codes, lo, hi, nxt = [], [], [], []
    base = 0
    for j, (c, f, last, n) in enumerate(levels):
        offs[j + 1] = offs[j] + c.size
        codes.append(c)
        lo.append(f + base)
        hi.append(last + base)
        nxt.append(n)
        base += n.size
    return (np.concatenate(codes), np.concatenate(lo), np.concatenate(hi),
            np.concatenate(nxt).astype(np.int64), offs)


@njit(cache=True)
def _find(codes, a, b, x):
    """Index of ``x`` in the sorted ``codes[a:b]``, or -1."""
    lo, hi = a, b
    while lo < hi:
        mid = (lo + hi) >> 1
        if codes[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < b and codes[lo] == x else -1


@njit(cache=True)
def _row_slice(codes, lo, hi, offs, buf, k, V):
    """The occurrence slice of the longest visited suffix of the context ``buf``
    (``k`` tokens, oldest first)."""
    for j in range(k, -1, -1):
        code = 0
        for i in range(k - j, k):
            code = code * V + buf[i]
        at = _find(codes, offs[j], offs[j + 1], code)
        if at >= 0:
            return lo[at], hi[at]
    return 0, 0


@njit(cache=True)
def _sample(rng, codes, lo, hi, nxt, offs, k, V, bos, count, length, out):
    """``count`` tokens: sequences of ``length`` (BOS, then draws), concatenated."""
    buf = np.empty(k, dtype=np.int64)
    t = 0
    while t < count:
        for i in range(k):
            buf[i] = bos
        out[t] = bos
        t += 1
        for _ in range(length - 1):
            if t >= count:
                break
            a, b = _row_slice(codes, lo, hi, offs, buf, k, V)
            x = nxt[a + rng.integers(0, b - a)]
            out[t] = x
            t += 1
            for i in range(k - 1):
                buf[i] = buf[i + 1]
            if k > 0:
                buf[k - 1] = x


@njit(cache=True)
def _rows(codes, lo, hi, nxt, offs, contexts, k, V):
    """Next-token rows (counts normalised) at the last ``k`` tokens of each context."""
    out = np.zeros((contexts.shape[0], V))
    buf = np.empty(k, dtype=np.int64)
    L = contexts.shape[1]
    for r in range(contexts.shape[0]):
        for i in range(k):
            buf[i] = contexts[r, L - k + i] if L - k + i >= 0 else contexts[r, 0]
        a, b = _row_slice(codes, lo, hi, offs, buf, k, V)
        for t in range(a, b):
            out[r, nxt[t]] += 1.0
        out[r] /= max(b - a, 1)
    return out


class TextChainResult(dict):
    """``{"l1_to_gen1": (replicates, generations+1), "support": ..., ...}`` with the
    run's parameters in ``.meta``."""

    meta: dict


def text_chain(ids, vocab_size: int, order: int, regime, generations: int, *,
               replicates: int = 3, seed=0, length: int = 65, bos: int = 0,
               contexts: int = 300, context_length: int = 64,
               unseen: str = "keep") -> TextChainResult:
    r"""Run the harness's recursion with an order-``order`` n-gram model of the real
    tokens ``ids`` (generation 0 is their model) under ``regime`` (``Replace`` or
    ``Mix``; real samples are samples of generation 0, as in the harness).

    Returns, per replicate and generation: ``l1_to_gen1`` (the harness's drift; NaN at
    generations 0 and 1), ``l1_to_gen0`` and ``support`` (distinct tokens of the
    generation's corpus).
    """
    ids = np.asarray(ids, dtype=np.int64)
    V = check_positive_int(vocab_size, "vocab_size")
    k = check_positive_int(order, "order")
    generations = check_positive_int(generations, "generations")
    replicates = check_positive_int(replicates, "replicates")
    length = check_positive_int(length, "length", minimum=2)  # BOS and one token
    contexts = check_positive_int(contexts, "contexts")
    context_length = check_positive_int(context_length, "context_length")
    if unseen not in ("keep", "backoff"):
        raise ValueError(f"unseen must be 'keep' or 'backoff', got {unseen!r}")
    if ids.ndim != 1 or ids.size <= k or ids.min() < 0 or ids.max() >= V:
        raise ValueError(f"ids must be more than {k} token ids in [0, {V})")
    regime = as_regime(regime)
    refuse_curation(regime, "text_chain (it refits on every sampled token)")
    plan = regime.plan()
    if plan.sources != "last" or plan.pool != "none" or not regime.sampling.plain:
        raise ValueError(f"text_chain runs Replace and Mix with plain sampling, not "
                         f"{regime!r}")
    seeds = np.random.SeedSequence(seed).spawn(replicates)
    gen0 = _fit(ids, V, k)
    flat0 = _flatten(gen0)
    rng0 = np.random.default_rng(np.random.SeedSequence(seed).spawn(replicates + 1)[-1])
    ctx = np.empty(contexts * context_length, dtype=np.int64)
    _sample(rng0, *flat0[:4], flat0[4], k, V, bos, ctx.size, context_length, ctx)
    ctx = ctx.reshape(contexts, context_length)
    p0 = _rows(*flat0[:4], flat0[4], ctx, k, V)
    G = generations
    out = {"l1_to_gen1": np.full((replicates, G + 1), np.nan),
           "l1_to_gen0": np.zeros((replicates, G + 1)),
           "support": np.full((replicates, G + 1), float(np.unique(ids).size))}
    for r, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        model, flat = gen0, flat0
        real = None
        p1 = None
        for m in range(1, G + 1):
            parts = []
            if plan.real:
                if real is None or plan.real_fresh:
                    real = np.empty(plan.real, dtype=np.int64)
                    _sample(rng, *flat0[:4], flat0[4], k, V, bos, plan.real, length, real)
                parts.append(real)
            if m >= plan.synthetic_from:
                syn = np.empty(plan.n, dtype=np.int64)
                _sample(rng, *flat[:4], flat[4], k, V, bos, plan.n, length, syn)
                parts.append(syn)
            corpus = np.concatenate(parts)
            model = _fit(corpus, V, k, keep_from=model if unseen == "keep" else None)
            flat = _flatten(model)
            pm = _rows(*flat[:4], flat[4], ctx, k, V)
            if m == 1:
                p1 = pm
            out["l1_to_gen1"][r, m] = np.abs(pm - p1).sum(axis=1).mean() if m > 1 \
                else np.nan
            out["l1_to_gen0"][r, m] = np.abs(pm - p0).sum(axis=1).mean()
            out["support"][r, m] = np.unique(corpus).size
    res = TextChainResult(out)
    res.meta = {"order": k, "regime": regime.spec, "generations": G,
                "replicates": replicates, "seed": seed, "length": length,
                "contexts": contexts, "context_length": context_length, "unseen": unseen,
                "tokens": int(ids.size), "vocab_size": V}
    return res
