"""Real text, offline: CPython's English documentation (``pydoc_data.topics``).

The topics are joined in sorted-key order (deterministic), then split *contiguously*:
the first ``1 - heldout_fraction`` of the text is the training split, the rest the
held-out split. The real corpus of ``N`` tokens used by the harness is the first ``N``
tokens of the training split.

Tokenizers
----------
``char``: one token per character; the vocabulary is every character of the whole
text (103 symbols for CPython 3.11-3.13), so held-out text has no unknown token.
``word``: regex tokens (words, single punctuation marks, whitespace runs); the
``vocab_size - 1`` most frequent tokens of the training split plus ``<unk>``.
The beginning-of-sequence token used to start sampling is the newline.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..corpus import UNK, WORD_RE, load_text


@dataclass(frozen=True)
class Dataset:
    """Tokenized real text: ``train`` and ``heldout`` are int32 arrays of token ids."""

    vocab: tuple[str, ...]
    train: np.ndarray
    heldout: np.ndarray
    tokenizer: str
    bos: int
    text_chars: int

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in ids)

    def real_corpus(self, n: int) -> np.ndarray:
        """The first ``n`` tokens of the training split (the real corpus)."""
        if n > self.train.size:
            raise ValueError(
                f"corpus_tokens={n} exceeds the training split ({self.train.size} tokens)")
        return self.train[:n]


def _char_tokens(text: str):
    vocab = tuple(sorted(set(text)))
    index = {c: i for i, c in enumerate(vocab)}
    ids = np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
    return vocab, ids, index["\n"]


def _word_tokens(text: str, vocab_size: int, split_at: int):
    toks = WORD_RE.findall(text)
    # the split is made on characters, then mapped to a token position
    cum = np.cumsum([len(t) for t in toks])
    cut = int(np.searchsorted(cum, split_at))
    counts = Counter(toks[:cut])
    if "\n" not in counts:
        counts["\n"] = 1
    keep = [t for t, _ in counts.most_common(vocab_size - 1)]
    if "\n" not in keep:
        keep[-1] = "\n"
    vocab = (UNK, *sorted(keep))
    index = {t: i for i, t in enumerate(vocab)}
    ids = np.fromiter((index.get(t, 0) for t in toks), dtype=np.int32, count=len(toks))
    return vocab, ids, index["\n"], cut


def load_dataset(tokenizer: str = "char", heldout_fraction: float = 0.1,
                 vocab_size: int = 2000) -> Dataset:
    """Tokenize the CPython documentation and split it into train / held-out."""
    if not 0.0 < heldout_fraction < 1.0:
        raise ValueError(f"heldout_fraction must be in (0, 1), got {heldout_fraction!r}")
    text = load_text()
    split_at = round(len(text) * (1.0 - heldout_fraction))
    if tokenizer == "char":
        vocab, ids, bos = _char_tokens(text)
        cut = split_at
    elif tokenizer == "word":
        vocab, ids, bos, cut = _word_tokens(text, vocab_size, split_at)
    else:
        raise ValueError(f"tokenizer must be 'char' or 'word', got {tokenizer!r}")
    return Dataset(vocab=vocab, train=ids[:cut], heldout=ids[cut:], tokenizer=tokenizer,
                   bos=bos, text_chars=len(text))


def unigram_counts(ids: np.ndarray, vocab_size: int) -> np.ndarray:
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=vocab_size)


def tail_set(real_counts: np.ndarray, tail_mass: float) -> np.ndarray:
    """Indices of the rarest tokens of the real corpus whose total real mass is at most
    ``tail_mass`` (ties broken by token id, rarest first)."""
    q = real_counts / real_counts.sum()
    present = np.flatnonzero(real_counts > 0)
    order = present[np.lexsort((present, q[present]))]
    cum = np.cumsum(q[order])
    return np.sort(order[cum <= tail_mass + 1e-12])
