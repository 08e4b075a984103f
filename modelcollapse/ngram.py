r"""The n-gram language model: many contexts, each a categorical next-token distribution.

An order-``k`` Markov model on a vocabulary of ``V`` tokens (an ``(k+1)``-gram model) is a
transition table :math:`P` of shape :math:`(V^k, V)`: row :math:`c` is the next-token
distribution after the context :math:`c = (c_1, \dots, c_k)` (oldest token first), whose
row index is :math:`\sum_j c_j V^{k-j}` (the context read as a base-``V`` number). Text
is generated autoregressively: the next token is drawn from the row of the last ``k``
tokens. Fitting by maximum likelihood to a corpus gives the transition frequencies
:math:`\hat P_{cx} = N_{cx}/N_c` (counts of ``c`` followed by ``x`` over the visits of
``c``), so one context alone is the toolkit's categorical model with a random sample size
:math:`N_c` that depends on the model itself.

A context that the corpus never visits has no maximum-likelihood row; what it gets is a
choice every n-gram package makes (NLTK's ``nltk.lm``, KenLM). :meth:`NGram.from_text`
offers ``unseen="backoff"`` (the row of the order ``k - 1`` model of the same text, down to
the unigram frequencies; its default) or ``"uniform"``, and additive smoothing
``smoothing=alpha`` (:math:`(N_{cx} + \alpha)/(N_c + \alpha V)` on every row), which never
gives probability 0.

Recursive training (:func:`modelcollapse.montecarlo.simulate`) refits the model every
generation by the rule of its fields (:func:`refit`): ``unseen="keep"`` (the default: a
context that the generation's corpus never visits keeps its previous row, so a lost
transition never returns), ``"backoff"`` (the order ``k - 1`` model of the same
transition counts, :math:`\sum_{c_1} N_{(c_1, \dots, c_k) x}`, down to the unigram
counts; uniform if the corpus is empty) or ``"uniform"``, and ``smoothing``. A
generation's corpus of ``n`` tokens is ``n // length`` sequences of ``length`` tokens
(and one of ``n % length`` tokens; ``length=None``: one sequence of ``n``), each started
from the start context (``start``; ``"stationary"``: drawn from the stationary context
law of the *real* model, the same every generation) and generated autoregressively; the
tokens of a sequence are its ``n`` transitions, counted against their contexts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import TooLargeError, WrongTypeError
from .models import SUM_TOLERANCE, Model, check_positive_int, check_real, register_spec_kind

__all__ = ["MAX_TABLE_ENTRIES", "REFIT_UNSEEN", "NGram", "backoff_rows", "refit"]

#: Largest transition table (``V**(k+1)`` entries, 8 bytes each) the toolkit builds:
#: 800 MB. Larger requests are refused before any allocation.
MAX_TABLE_ENTRIES = 10**8
UNSEEN = ("backoff", "uniform")
#: What a refit gives a context its corpus never visits (:func:`refit`).
REFIT_UNSEEN = ("keep", "backoff", "uniform")


def _check_size(vocab: int, order: int, what: str = "the n-gram model") -> int:
    """``V**order`` (the number of contexts), or a ``TooLargeError`` naming the size and
    what to reduce, before any allocation."""
    entries = vocab ** (order + 1)
    if entries > MAX_TABLE_ENTRIES:
        raise TooLargeError(
            f"{what}: a table of V^(k+1) = {vocab}^{order + 1} = {entries:.3g} entries "
            f"({entries * 8 / 2**30:.3g} GiB) is above the limit of {MAX_TABLE_ENTRIES:.0e} "
            "entries; reduce the order or the vocabulary (from_text(..., max_vocab=...))")
    return vocab**order


def _context_rows(ids: np.ndarray, vocab: int, order: int) -> np.ndarray:
    """Row index of the context ending just before each position ``i >= order``."""
    rows = np.zeros(ids.size - order, dtype=np.int64)
    for j in range(order):
        rows = rows * vocab + ids[j: ids.size - order + j]
    return rows


def _transition_counts(ids: np.ndarray, vocab: int, order: int) -> np.ndarray:
    """``N[c, x]``: how often context ``c`` is followed by token ``x`` in ``ids``."""
    flat = _context_rows(ids, vocab, order) * vocab + ids[order:]
    return np.bincount(flat, minlength=vocab ** (order + 1)).reshape(vocab**order, vocab)


@dataclass(frozen=True, eq=False, repr=False)
class NGram(Model):
    r"""An order-``k`` Markov language model (n-gram model, ``n = k + 1``).

    Parameters
    ----------
    table : array_like, shape (V**order, V)
        Row ``c`` is the next-token distribution after context ``c`` (the context's
        tokens read as a base-``V`` number, oldest first). Every row finite,
        non-negative and summing to 1 within ``1e-9`` (rows off by more than ``1e-12``
        are then normalised); a ``ValueError`` names the first bad row.
    order : int, default 1
        ``k >= 1``: the number of previous tokens the next one depends on (1: a bigram
        model).
    start : "stationary" or int or sequence of int, default "stationary"
        How a sequence starts: its first context drawn from the stationary distribution of
        the context chain (:meth:`stationary_contexts`), or a fixed context (a row index,
        or the ``order`` token indices of the context, oldest first) such as a newline.
    labels : sequence of str, optional
        Token names, one per column (distinct).
    length : int, optional
        Tokens per generated sequence in recursive training (``None``: a generation's
        corpus, or each block of it, is one sequence).
    unseen : {"keep", "backoff", "uniform"}, default "keep"
        What a refit gives a context its corpus never visits (:func:`refit`).
    smoothing : float, default 0
        Additive smoothing :math:`\alpha \ge 0` of every refit row,
        :math:`(N_{cx}+\alpha)/(N_c+\alpha V)`.

    Examples
    --------
    >>> m = NGram([[0.9, 0.1], [0.3, 0.7]])
    >>> m.vocab_size, m.order, m.contexts
    (2, 1, 2)
    >>> m.stationary().round(4)
    array([0.75, 0.25])
    >>> NGram.from_text("abracadabra", order=1).row("a").round(3)
    array([0.  , 0.5 , 0.25, 0.25, 0.  ])
    """

    table: np.ndarray
    order: int = 1
    start: object = "stationary"
    labels: tuple[str, ...] | None = field(default=None)
    length: int | None = None
    unseen: str = "keep"
    smoothing: float = 0.0
    name = "ngram"

    def __post_init__(self):
        order = check_positive_int(self.order, "order")
        object.__setattr__(self, "order", order)
        if self.length is not None:
            object.__setattr__(self, "length", check_positive_int(self.length, "length"))
        if self.unseen not in REFIT_UNSEEN:
            raise ValueError(f"unseen must be one of {REFIT_UNSEEN}, got {self.unseen!r}")
        smoothing = check_real(self.smoothing, "smoothing", finite=True)
        if smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        object.__setattr__(self, "smoothing", smoothing)
        if isinstance(self.table, (str, bytes)) or self.table is None:
            raise WrongTypeError(f"table must be an array of probabilities, got "
                                 f"{type(self.table).__name__}")
        arr = np.array(self.table, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError(f"table must be 2-D with shape (V**order, V), got shape "
                             f"{arr.shape}")
        vocab = arr.shape[1]
        rows = _check_size(vocab, order)
        if arr.shape[0] != rows:
            raise ValueError(f"table has {arr.shape[0]} rows; a model of order {order} on "
                             f"{vocab} tokens has V**order = {rows} contexts")
        bad = ~np.isfinite(arr)
        if bad.any():
            r, x = (int(v[0]) for v in np.nonzero(bad))
            raise ValueError(f"table must be finite; row {r} has {arr[r, x]} at token {x}")
        if (arr < 0).any():
            r, x = (int(v[0]) for v in np.nonzero(arr < 0))
            raise ValueError(f"table must be non-negative; row {r} has {arr[r, x]} at token "
                             f"{x}")
        sums = arr.sum(axis=1)
        off = np.abs(sums - 1.0) > SUM_TOLERANCE
        if off.any():
            r = int(np.flatnonzero(off)[0])
            raise ValueError(f"every row of table must sum to 1 (within {SUM_TOLERANCE:g}); "
                             f"row {r} sums to {sums[r]!r}")
        # rows off by more than rounding are normalised; the others kept bit for bit, so
        # that a model read back from its dictionary equals the model
        fix = np.abs(sums - 1.0) > 1e-12
        arr[fix] /= sums[fix, None]
        arr.setflags(write=False)
        object.__setattr__(self, "table", arr)
        object.__setattr__(self, "start", self._check_start(self.start, vocab, order))
        if self.labels is not None:
            labels = tuple(str(x) for x in self.labels)
            if len(labels) != vocab:
                raise ValueError(f"labels has {len(labels)} entries but the vocabulary has "
                                 f"{vocab} tokens")
            if len(set(labels)) != vocab:
                raise ValueError("labels must be distinct")
            object.__setattr__(self, "labels", labels)

    @staticmethod
    def _check_start(start, vocab: int, order: int):
        if isinstance(start, str):
            if start != "stationary":
                raise ValueError(f"start must be 'stationary', a context row index or "
                                 f"{order} token indices, got {start!r}")
            return start
        if isinstance(start, (bool, np.bool_)):
            raise WrongTypeError(f"start must be 'stationary' or a context, got {start!r}")
        if isinstance(start, (int, np.integer)):
            row = int(start)
        else:
            try:
                toks = [int(t) for t in start]
            except (TypeError, ValueError):
                raise WrongTypeError(f"start must be 'stationary', a context row index or "
                                     f"{order} token indices, got {start!r}") from None
            if len(toks) != order or any(not 0 <= t < vocab for t in toks):
                raise ValueError(f"start must hold {order} token indices in [0, {vocab}), "
                                 f"got {start!r}")
            row = 0
            for t in toks:
                row = row * vocab + t
        if not 0 <= row < vocab**order:
            raise ValueError(f"start must be a context row index in [0, {vocab**order}), "
                             f"got {row}")
        return row

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_text(cls, text: str, order: int = 1, tokenizer: str = "char", *,
                  smoothing: float = 0.0, unseen: str = "backoff",
                  max_vocab: int | None = None, start="stationary",
                  length: int | None = None) -> NGram:
        r"""The maximum-likelihood model of ``text``: :math:`\hat P_{cx} = N_{cx}/N_c`.

        Parameters
        ----------
        text : str
            The corpus, one sequence.
        order : int, default 1
            ``k >= 1``; the text needs at least ``k + 1`` tokens.
        tokenizer : {"char", "word"}
            Characters, or word tokens (:func:`modelcollapse.corpus.tokenize`).
        smoothing : float, default 0
            Additive smoothing :math:`\alpha \ge 0` on every row,
            :math:`(N_{cx}+\alpha)/(N_c+\alpha V)`.
        unseen : {"backoff", "uniform"}
            The row of a context the text never visits (with ``smoothing=0``): the row
            of the order ``k - 1`` model of the same text for the context's last
            ``k - 1`` tokens (down to the unigram frequencies), or uniform.
        max_vocab : int, optional
            Keep the ``max_vocab - 1`` most frequent tokens and map the rest to
            ``"<unk>"`` (ties broken by the token's text).
        start : "stationary", "text", int or sequence of int
            ``"text"``: the text's first ``k`` tokens; else as for :class:`NGram`.
        length : int, optional
            As for :class:`NGram`.

        Returns
        -------
        NGram
            With the vocabulary (sorted) as ``labels``, ``smoothing`` as given (its
            refits smooth alike) and ``unseen="keep"`` (its refits keep the rows of the
            contexts they do not visit; ``dataclasses.replace(model, unseen=...)``
            changes it).

        Raises
        ------
        ValueError
            Text with fewer than ``k + 1`` tokens, ``smoothing < 0``, an unknown
            ``unseen`` or ``tokenizer``.
        TooLargeError
            A table of more than :data:`MAX_TABLE_ENTRIES` entries, before any allocation.
        """
        from .corpus import UNK, tokenize

        order = check_positive_int(order, "order")
        smoothing = check_real(smoothing, "smoothing", finite=True)
        if smoothing < 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        if unseen not in UNSEEN:
            raise ValueError(f"unseen must be one of {UNSEEN}, got {unseen!r}")
        tokens = tokenize(text, tokenizer)
        if len(tokens) < order + 1:
            raise ValueError(f"text has {len(tokens)} {tokenizer} tokens; a model of order "
                             f"{order} needs at least {order + 1}")
        vocab = sorted(set(tokens))
        if max_vocab is not None:
            max_vocab = check_positive_int(max_vocab, "max_vocab", minimum=2)
            if len(vocab) > max_vocab:
                freq: dict[str, int] = {}
                for t in tokens:
                    freq[t] = freq.get(t, 0) + 1
                keep = set(sorted(freq, key=lambda t: (-freq[t], t))[: max_vocab - 1])
                tokens = [t if t in keep else UNK for t in tokens]
                vocab = sorted(keep | {UNK})
        V = len(vocab)
        _check_size(V, order, "NGram.from_text")
        index = {t: i for i, t in enumerate(vocab)}
        ids = np.fromiter((index[t] for t in tokens), dtype=np.int64, count=len(tokens))
        table = cls._fit(ids, V, order, smoothing, unseen)
        if isinstance(start, str) and start == "text":
            start = [int(t) for t in ids[:order]]
        return cls(table, order=order, start=start, labels=vocab, length=length,
                   smoothing=smoothing)

    @staticmethod
    def _fit(ids: np.ndarray, vocab: int, order: int, smoothing: float,
             unseen: str) -> np.ndarray:
        counts = _transition_counts(ids, vocab, order).astype(np.float64)
        if smoothing > 0:
            counts += smoothing
        visits = counts.sum(axis=1)
        table = np.divide(counts, visits[:, None], out=np.zeros_like(counts),
                          where=visits[:, None] > 0)
        empty = visits == 0
        if empty.any():
            if unseen == "uniform":
                table[empty] = 1.0 / vocab
            else:  # the order k-1 model's row for the context's last k-1 tokens
                if order == 1:
                    lower = np.bincount(ids, minlength=vocab) / ids.size
                    table[empty] = lower
                else:
                    lower = NGram._fit(ids, vocab, order - 1, 0.0, unseen)
                    rows = np.flatnonzero(empty)
                    table[rows] = lower[rows % vocab ** (order - 1)]
        return table

    @classmethod
    def from_pydoc(cls, order: int = 1, tokenizer: str = "char", **kwargs) -> NGram:
        """:meth:`from_text` on CPython's documentation (:func:`modelcollapse.corpus.
        load_text`, the harness's offline corpus); keyword arguments as there."""
        from .corpus import load_text

        return cls.from_text(load_text(), order, tokenizer, **kwargs)

    @classmethod
    def random(cls, vocab: int, order: int = 1, *, seed=None, concentration: float = 1.0,
               start="stationary", **fields) -> NGram:
        r"""Rows drawn independently from a symmetric Dirichlet(``concentration``) law
        (seeded: ``seed`` as :func:`numpy.random.default_rng` takes it); ``fields``:
        ``length``, ``unseen``, ``smoothing``, ``labels`` as for :class:`NGram`."""
        vocab = check_positive_int(vocab, "vocab")
        order = check_positive_int(order, "order")
        concentration = check_real(concentration, "concentration", finite=True)
        if concentration <= 0:
            raise ValueError(f"concentration must be > 0, got {concentration}")
        rows = _check_size(vocab, order, "NGram.random")
        rng = np.random.default_rng(seed)
        table = rng.dirichlet(np.full(vocab, concentration), size=rows)
        return cls(table, order=order, start=start, **fields)

    # ------------------------------------------------------------------ properties
    @property
    def vocab_size(self) -> int:
        """``V``, the number of tokens."""
        return self.table.shape[1]

    @property
    def contexts(self) -> int:
        """``V**order``, the number of contexts (rows)."""
        return self.table.shape[0]

    def token_index(self, token) -> int:
        """Index of ``token``: an integer index, or a label when labels are set."""
        if isinstance(token, (int, np.integer)) and not isinstance(token, (bool, np.bool_)):
            if not 0 <= int(token) < self.vocab_size:
                raise ValueError(f"token index {token} out of range [0, {self.vocab_size})")
            return int(token)
        if self.labels is not None and isinstance(token, str):
            try:
                return self.labels.index(token)
            except ValueError:
                raise ValueError(f"token {token!r} is not in the vocabulary") from None
        raise ValueError(f"token must be an index in [0, {self.vocab_size}) or one of the "
                         f"labels, got {token!r}")

    def context_index(self, context) -> int:
        """Row index of ``context``: ``order`` tokens (indices or labels), oldest first;
        a string of ``order`` characters is read as labels."""
        toks = list(context)
        if len(toks) != self.order:
            raise ValueError(f"a context has {self.order} tokens, got {context!r}")
        row = 0
        for t in toks:
            row = row * self.vocab_size + self.token_index(t)
        return row

    def row(self, context) -> np.ndarray:
        """The next-token distribution after ``context`` (see :meth:`context_index`)."""
        return self.table[self.context_index(context)]

    def context_transitions(self):
        """The context chain as a sparse matrix :math:`Q` of shape :math:`(V^k, V^k)`:
        :math:`Q[c, c'] = P_{cx}` for :math:`c' = (c_2, \\dots, c_k, x)`."""
        from scipy import sparse

        V, C = self.vocab_size, self.contexts
        src = np.repeat(np.arange(C, dtype=np.int64), V)
        dst = (src * V + np.tile(np.arange(V, dtype=np.int64), C)) % C
        return sparse.csr_matrix((self.table.ravel(), (src, dst)), shape=(C, C))

    def stationary_contexts(self, *, tol: float = 1e-14, max_iterations: int = 1_000_000):
        r"""A stationary distribution :math:`\pi` of the context chain
        (:math:`\pi Q = \pi`): the limit of the lazy chain :math:`(I + Q)/2` started
        uniform over the contexts (the unique one when the chain is irreducible).

        An irreducible chain's law is found by one sparse solve of
        :math:`\pi(I - Q) = 0,\ \sum_c \pi_c = 1` (checked: finite, non-negative,
        residual below ``tol``); the power iteration answers otherwise. The default call's
        answer is kept on the model (computed once).

        Raises
        ------
        RuntimeError
            No convergence to ``tol`` (L1 change per step) within ``max_iterations``.
        """
        default = tol == 1e-14 and max_iterations == 1_000_000
        if default and "_stationary" in self.__dict__:
            return self.__dict__["_stationary"].copy()
        pi = self._stationary_solve(tol)
        if pi is None:
            pi = self._stationary_power(tol, max_iterations)
        if default:
            self.__dict__["_stationary"] = pi.copy()
        return pi

    def _stationary_solve(self, tol: float):
        import warnings

        from scipy import sparse
        from scipy.sparse import linalg

        Q = self.context_transitions()
        C = self.contexts
        A = (sparse.identity(C, format="csr") - Q).T.tolil()
        A[0, :] = 1.0
        b = np.zeros(C)
        b[0] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                pi = linalg.spsolve(A.tocsc(), b)
            except RuntimeError:
                return None
        if not np.all(np.isfinite(pi)) or pi.min() < -1e-12:
            return None
        pi = np.maximum(pi, 0.0)
        pi /= pi.sum()
        if np.abs(Q.T @ pi - pi).sum() > max(tol, 1e-12):
            return None
        return pi

    def _stationary_power(self, tol: float, max_iterations: int):
        Q = self.context_transitions().T.tocsr()
        pi = np.full(self.contexts, 1.0 / self.contexts)
        for _ in range(max_iterations):
            nxt = 0.5 * (pi + Q @ pi)
            nxt /= nxt.sum()
            if np.abs(nxt - pi).sum() < tol:
                return nxt
            pi = nxt
        raise RuntimeError(f"the context chain did not converge to tol={tol:g} within "
                           f"{max_iterations} steps")

    def stationary(self) -> np.ndarray:
        """The stationary unigram distribution: the law of the next token when the
        context is drawn from :meth:`stationary_contexts`."""
        return self.stationary_contexts() @ self.table

    def _fields(self) -> dict:
        return {"table": self.table, "order": self.order, "start": self.start,
                "labels": None if self.labels is None else list(self.labels),
                "length": self.length, "unseen": self.unseen, "smoothing": self.smoothing}

    def __repr__(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)!r}" for k, d in
                        (("length", None), ("unseen", "keep"), ("smoothing", 0.0))
                        if getattr(self, k) != d)
        return (f"NGram(vocab={self.vocab_size}, order={self.order}, "
                f"start={self.start!r}{extra})")

    def start_law(self) -> np.ndarray:
        """The law of a sequence's first context, shape ``(V**order,)``: a point mass
        on ``start``, or the stationary context law (:meth:`stationary_contexts`)."""
        if self.start == "stationary":
            return self.stationary_contexts()
        out = np.zeros(self.contexts)
        out[self.start] = 1.0
        return out


def backoff_rows(counts: np.ndarray, order: int) -> np.ndarray:
    r"""The backoff row of every context from transition counts ``counts`` (shape
    ``(..., V**order, V)``): the maximum-likelihood row of the order ``k - 1`` counts
    :math:`\sum_{c_1} N_{(c_1, \dots, c_k) x}` for the context's last ``k - 1`` tokens
    where those were visited, else of order ``k - 2``, ..., down to the unigram counts,
    and uniform where the counts are all zero."""
    counts = np.asarray(counts, dtype=np.float64)
    V = counts.shape[-1]
    lead = counts.shape[:-2]
    C = V**order
    out = np.full(counts.shape, 1.0 / V)
    done = np.zeros((*lead, C), dtype=bool)
    low = counts
    for j in range(order - 1, -1, -1):  # the order j counts, contexts of j tokens
        low = low.reshape((*lead, V, V ** j, V)).sum(axis=-3)
        visits = low.sum(axis=-1)
        rows = np.divide(low, visits[..., None], out=np.zeros_like(low),
                         where=visits[..., None] > 0)
        idx = np.arange(C) % V**j  # the context's last j tokens
        take = (visits[..., idx] > 0) & ~done
        out = np.where(take[..., None], rows[..., idx, :], out)
        done |= take
    return out


def refit(counts: np.ndarray, order: int, unseen: str = "keep", smoothing: float = 0.0,
          previous: np.ndarray | None = None) -> np.ndarray:
    r"""The fitted table of transition counts ``counts`` (shape ``(..., V**order, V)``).

    Visited rows: :math:`\hat P_{cx} = N_{cx}/N_c`; with ``smoothing`` :math:`\alpha > 0`
    every row is :math:`(N_{cx}+\alpha)/(N_c+\alpha V)`. A row with :math:`N_c = 0` (and
    :math:`\alpha = 0`) gets ``previous``'s row (``unseen="keep"``), the backoff row
    (:func:`backoff_rows`) or the uniform row.
    """
    counts = np.asarray(counts, dtype=np.float64)
    V = counts.shape[-1]
    if smoothing > 0:
        return (counts + smoothing) / (counts.sum(axis=-1, keepdims=True) + smoothing * V)
    visits = counts.sum(axis=-1, keepdims=True)
    table = np.divide(counts, visits, out=np.zeros_like(counts), where=visits > 0)
    empty = visits == 0
    if not empty.any():
        return table
    if unseen == "keep":
        if previous is None:
            raise ValueError("unseen='keep' needs the previous table")
        other = np.broadcast_to(previous, counts.shape)
    elif unseen == "backoff":
        other = backoff_rows(counts, order)
    elif unseen == "uniform":
        other = np.full(counts.shape, 1.0 / V)
    else:
        raise ValueError(f"unseen must be one of {REFIT_UNSEEN}, got {unseen!r}")
    return np.where(empty, other, table)


def _spec_random(args: list[str], spec: str) -> NGram:
    from .models import _spec_int

    seed = _spec_int(args[2], "seed", spec) if len(args) > 2 else 0
    return NGram.random(_spec_int(args[0], "V", spec), _spec_int(args[1], "order", spec),
                        seed=seed)


def _spec_pydoc(args: list[str], spec: str) -> NGram:
    from .models import _spec_int

    tokenizer = args[1] if len(args) > 1 else "char"
    kw = {"max_vocab": _spec_int(args[2], "max_vocab", spec)} if len(args) > 2 else {}
    return NGram.from_pydoc(_spec_int(args[0], "order", spec), tokenizer, **kw)


register_spec_kind("ngram", 2, 3, _spec_random, "ngram:V:ORDER[:SEED]",
                   "NGram.random(V, ORDER, seed=SEED=0)")
register_spec_kind("pydoc", 1, 3, _spec_pydoc, "pydoc:ORDER[:TOKENIZER[:MAX_VOCAB]]",
                   "NGram.from_pydoc(ORDER, TOKENIZER='char', max_vocab=MAX_VOCAB)")
