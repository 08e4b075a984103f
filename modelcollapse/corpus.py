"""Real text that ships offline: CPython's English documentation (``pydoc_data.topics``),
the corpus of the transformer harness and of the n-gram models built from text.

Nothing is downloaded: ``pydoc_data`` is part of the standard library.
"""

from __future__ import annotations

import re

__all__ = ["UNK", "WORD_RE", "load_text", "tokenize"]

#: Word tokens: words, single punctuation marks, whitespace runs.
WORD_RE = re.compile(r"\w+|[^\w\s]|\s+")
#: The unknown-word token of a truncated word vocabulary.
UNK = "<unk>"
TOKENIZERS = ("char", "word")


def load_text() -> str:
    """The whole of ``pydoc_data.topics``, topics in sorted-key order (deterministic), one
    blank line between topics (about 465 KB of English)."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k].strip("\n") for k in sorted(topics)) + "\n"


def tokenize(text: str, tokenizer: str = "char") -> list[str]:
    """``text`` as a list of tokens: ``"char"`` (one per character) or ``"word"``
    (:data:`WORD_RE`: words, single punctuation marks and whitespace runs, so that the
    tokens joined give the text back).

    Raises
    ------
    WrongTypeError
        ``text`` or ``tokenizer`` is not a string.
    ValueError
        An unknown ``tokenizer``.
    """
    from .errors import WrongTypeError

    if not isinstance(text, str):
        raise WrongTypeError(f"text must be a string, got {type(text).__name__}")
    if not isinstance(tokenizer, str):
        raise WrongTypeError(f"tokenizer must be a string, got {tokenizer!r}")
    if tokenizer == "char":
        return list(text)
    if tokenizer == "word":
        return WORD_RE.findall(text)
    raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}")
