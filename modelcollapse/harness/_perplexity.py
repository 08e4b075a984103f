r"""The perplexity study of Shumailov et al. (2024): every training sequence of every
generation, scored by generation 0.

A generation's corpus is made of blocks (the real block, samples of earlier generations),
each the concatenation of sequences of ``sample_length`` tokens started from the BOS
token. Each block is cut back into its sequences (a trailing partial sequence, left by
truncating the block to its size, is dropped) and every sequence :math:`x_0 \dots x_{L-1}`
gets its log-perplexity under generation 0,

.. math:: \ell(x) = -\frac{1}{L-1}\sum_{t=1}^{L-1} \log p^{(0)}(x_t \mid x_{<t}),

(perplexity :math:`e^{\ell}`), and its *unigram* log-perplexity
:math:`\ell_1(x) = -\frac1{L-1}\sum_t \log q(x_t)` under the unigram law :math:`q` of
the real corpus: the observable for which the categorical chain's law is exact
(:func:`modelcollapse.theory.sequence_perplexity`). Generation 0's own corpus (the real
text) is cut into non-overlapping windows of ``sample_length`` tokens and scored the same
way; the 1% and 99% quantiles of its scores are the *real range*.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

QUANTILES = (0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0)
REAL_RANGE = (0.01, 0.99)
BINS = 120

DEFINITION = (
    "every sequence of generation m's training corpus (each block cut back into its "
    "sample_length-token sequences from BOS; generation 0: the real corpus cut into "
    "non-overlapping windows) scored by generation 0: log_perplexity = mean negative "
    "log-likelihood (nats) of tokens 1..L-1 given the sequence before them; "
    "unigram_log_perplexity = the same under the real corpus's unigram law q (the "
    "categorical theory's observable); real range = the 1% and 99% quantiles of the real "
    "text's scores; below_real / above_real = the share of sequences outside it; "
    "histogram: counts of log10(perplexity) in the bins given by 'edges_log10' (values "
    "outside them in the first or last bin); scores of every sequence: perplexity.npz")


def split_sequences(block, length: int) -> np.ndarray:
    """The ``(k, length)`` sequences of a sampled block (trailing partial one dropped)."""
    block = np.asarray(block)
    k = block.size // length
    return block[:k * length].reshape(k, length)


def score_bytes(sequences: int, length: int, vocab: int, batch: int) -> float:
    """Memory of scoring: one batch's float32 logits and the float64 scores kept."""
    return 4.0 * batch * length * vocab + 16.0 * sequences


def check_memory(sequences: int, length: int, vocab: int, batch: int, limit=None) -> None:
    """``TooLargeError`` before scoring if the batch's logits and the scores do not fit in
    ``limit`` bytes (default: half of the machine's memory, ``MODELCOLLAPSE_MAX_MEMORY``
    overrides)."""
    from ..errors import TooLargeError
    from ..memory import default_limit, format_bytes

    need = score_bytes(sequences, length, vocab, batch)
    limit = default_limit() if limit is None else limit
    if need > limit:
        raise TooLargeError(
            f"scoring {sequences} sequences of {length} tokens needs about "
            f"{format_bytes(need)} of memory, above {format_bytes(limit)}: lower the "
            "config's sample_batch (the scoring batch) or the corpus size, or raise "
            "MODELCOLLAPSE_MAX_MEMORY")


def model_log_perplexity(model, seqs: np.ndarray, batch: int) -> np.ndarray:
    """Per-sequence log-perplexity (nats) of ``seqs`` ``(k, L)`` under ``model``: the mean
    negative log-likelihood of tokens ``1..L-1``; batches of one jit shape (the last one
    padded)."""
    import jax.numpy as jnp

    from ._train import sequence_nll

    k = seqs.shape[0]
    check_memory(k, seqs.shape[1], int(model.head.out_features), batch)
    out = np.empty(k)
    b = max(1, min(batch, k))
    for i in range(0, k, b):
        chunk = seqs[i:i + b]
        pad = b - chunk.shape[0]
        if pad:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], pad, axis=0)])
        out[i:i + b] = np.asarray(sequence_nll(model, jnp.asarray(chunk, jnp.int32)),
                                  dtype=float)[:b - pad]
    return out


def unigram_log_perplexity(seqs: np.ndarray, log_q: np.ndarray) -> np.ndarray:
    """Per-sequence log-perplexity of tokens ``1..L-1`` under the unigram law ``q``."""
    return -log_q[seqs[:, 1:]].mean(axis=1)


def edges_log10(vocab: int) -> np.ndarray:
    """Histogram bins of log10(perplexity): ``[0, 2 log10 V]`` in :data:`BINS` bins."""
    return np.linspace(0.0, 2.0 * np.log10(vocab), BINS + 1)


def summary(log_ppl: np.ndarray, real_range, edges) -> dict:
    """Quantiles (of perplexity), mean and standard deviation of log-perplexity, the
    share outside the real range and the histogram of log10(perplexity)."""
    x = np.asarray(log_ppl, float)
    lo, hi = real_range
    h, _ = np.histogram(np.clip(x / np.log(10), edges[0], edges[-1]), edges)
    return {"sequences": int(x.size),
            "quantiles": {f"{q:g}": float(np.exp(np.quantile(x, q))) for q in QUANTILES},
            "mean_log": float(x.mean()), "std_log": float(x.std()),
            "below_real": float((x < lo).mean()), "above_real": float((x > hi).mean()),
            "histogram": h.astype(int).tolist()}


def save_scores(path: Path, scores: dict) -> None:
    """Every generation's per-sequence scores in one compressed ``.npz`` (float32),
    written whole (temporary name, then rename)."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, **{k: np.asarray(v, np.float32) for k, v in scores.items()})
    os.replace(tmp, path)


def load_scores(path: Path) -> dict:
    if not path.exists():
        return {}
    with np.load(path) as z:
        return {k: z[k].astype(float) for k in z.files}

