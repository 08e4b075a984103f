"""The n-gram model (modelcollapse.ngram): construction, validation, fitting from text and
the context chain, against computations written independently from the definitions."""

from __future__ import annotations

import itertools
import math
import pickle
from collections import Counter

import numpy as np
import pytest

from modelcollapse import NGram
from modelcollapse.errors import TooLargeError
from modelcollapse.models import Model

TEXT = "the cat sat on the mat; the rat ate the oat."


def _ml_rows(text: str, order: int) -> dict[str, dict[str, float]]:
    """Maximum-likelihood next-character laws of every visited context, by counting
    substrings (no shared code with the model)."""
    pairs = Counter((text[i:i + order], text[i + order]) for i in range(len(text) - order))
    visits = Counter()
    for (c, _), k in pairs.items():
        visits[c] += k
    return {c: {x: k / visits[c] for (c2, x), k in pairs.items() if c2 == c} for c in visits}


@pytest.mark.parametrize("order", [1, 2, 3])
def test_from_text_is_the_maximum_likelihood_fit(order):
    m = NGram.from_text(TEXT, order)
    assert m.labels == tuple(sorted(set(TEXT)))
    rows = _ml_rows(TEXT, order)
    for c, law in rows.items():
        want = np.zeros(m.vocab_size)
        for x, q in law.items():
            want[m.token_index(x)] = q
        np.testing.assert_allclose(m.row(c), want, rtol=0, atol=1e-15)
    # the check can fail: the reversed text gives other rows
    other = NGram.from_text(TEXT[::-1], order)
    assert any(not np.allclose(other.row(c), m.row(c)) for c in rows)


def test_unseen_contexts_back_off_to_the_lower_order():
    m = NGram.from_text(TEXT, 2)
    uni = Counter(TEXT)
    bi = _ml_rows(TEXT, 1)
    seen = set(_ml_rows(TEXT, 2))
    checked = 0
    for a, b in itertools.product(m.labels, repeat=2):
        if a + b in seen:
            continue
        row = m.row(a + b)
        if b in bi:  # the bigram row of the context's last character
            want = {x: q for x, q in bi[b].items()}
        else:  # down to the unigram frequencies
            want = {x: k / len(TEXT) for x, k in uni.items()}
        got = {x: row[m.token_index(x)] for x in m.labels if row[m.token_index(x)] > 0}
        assert got.keys() == want.keys() and all(abs(got[x] - want[x]) < 1e-15 for x in got)
        checked += 1
    assert checked > 100
    flat = NGram.from_text(TEXT, 2, unseen="uniform")
    assert not np.allclose(m.row(";;"), 1 / m.vocab_size) and ";;" not in seen
    np.testing.assert_allclose(flat.row(";;"), 1 / flat.vocab_size)


def test_additive_smoothing():
    m = NGram.from_text("abab", 1, smoothing=0.5)
    # a: 2 visits, both to b; b: 1 visit, to a (the text's last token has no successor)
    np.testing.assert_allclose(m.row("a"), [0.5 / 3, 2.5 / 3])
    np.testing.assert_allclose(m.row("b"), [1.5 / 2, 0.5 / 2])
    assert (m.table > 0).all()


def test_word_tokens_and_a_capped_vocabulary():
    m = NGram.from_text("a b a c a b", 1, "word", max_vocab=3)
    assert m.labels == (" ", "<unk>", "a")  # " " (5) and "a" (3) kept; b, c -> <unk>
    # after " ": b, a, c, a, b -> <unk>, a, <unk>, a, <unk>
    np.testing.assert_allclose(m.row(" "), [0.0, 0.6, 0.4])


def test_stationary_two_state_closed_form():
    a, b = 0.1, 0.3  # P = [[1-a, a], [b, 1-b]]: pi = (b, a)/(a+b)
    m = NGram([[1 - a, a], [b, 1 - b]])
    np.testing.assert_allclose(m.stationary(), [b / (a + b), a / (a + b)], atol=1e-13)
    with pytest.raises(AssertionError):  # control: the other way round is wrong
        np.testing.assert_allclose(m.stationary(), [a / (a + b), b / (a + b)], atol=1e-6)


def test_stationary_contexts_against_a_dense_eigenvector():
    m = NGram.random(3, 2, seed=4)
    V, C = 3, 9
    Q = np.zeros((C, C))
    for c1, c2, x in itertools.product(range(V), repeat=3):
        Q[c1 * V + c2, c2 * V + x] = m.table[c1 * V + c2, x]
    w, vecs = np.linalg.eig(Q.T)
    v = np.real(vecs[:, np.argmin(np.abs(w - 1))])
    np.testing.assert_allclose(m.stationary_contexts(), v / v.sum(), atol=1e-12)
    np.testing.assert_allclose(m.context_transitions().toarray(), Q, atol=0)


def test_random_is_seeded():
    a, b = NGram.random(4, 2, seed=7), NGram.random(4, 2, seed=7)
    assert a == b and a.table.shape == (16, 4)
    assert NGram.random(4, 2, seed=8) != a
    np.testing.assert_allclose(a.table.sum(axis=1), 1.0, atol=1e-15)


def test_dictionary_spec_and_pickle_round_trips():
    m = NGram.from_text(TEXT, 2, start="text")
    assert m.start == m.context_index(TEXT[:2])
    assert Model.from_dict(m.to_dict()) == m
    assert pickle.loads(pickle.dumps(m)) == m
    assert Model.from_spec("ngram:3:2:5") == NGram.random(3, 2, seed=5)
    assert Model.from_spec("ngram:3:2") == NGram.random(3, 2, seed=0)
    pyd = Model.from_spec("pydoc:1")
    assert pyd.vocab_size > 90 and pyd.order == 1 and "\n" in pyd.labels
    with pytest.raises(ValueError, match="needs 2 to 3"):
        Model.from_spec("ngram:3")
    with pytest.raises(ValueError, match=r"unknown model kind.*ngram.*pydoc"):
        Model.from_spec("ngramm:3:1")


@pytest.mark.parametrize("call,error,match", [
    (lambda: NGram([[0.5, 0.5], [0.5, 0.5]], order=0), ValueError, "order must be >= 1"),
    (lambda: NGram([[0.5, 0.5], [0.5, 0.5]], order=1.5), TypeError, "order must be an int"),
    (lambda: NGram([[0.5, 0.6], [0.5, 0.5]]), ValueError, "row 0 sums to"),
    (lambda: NGram([[0.5, 0.5], [math.nan, 1.0]]), ValueError, "row 1 has nan"),
    (lambda: NGram([[1.5, -0.5], [0.5, 0.5]]), ValueError, "non-negative; row 0"),
    (lambda: NGram([[0.5, 0.5]] * 3), ValueError, "has 3 rows.*2 contexts"),
    (lambda: NGram([0.5, 0.5]), ValueError, "2-D"),
    (lambda: NGram("ab"), TypeError, "table must be an array"),
    (lambda: NGram([[1.0, 0.0], [0.0, 1.0]], start=2), ValueError, "row index in"),
    (lambda: NGram([[1.0, 0.0], [0.0, 1.0]], start="first"), ValueError, "start must be"),
    (lambda: NGram([[1.0, 0.0], [0.0, 1.0]], labels=["a", "a"]), ValueError, "distinct"),
    (lambda: NGram.from_text("", 1), ValueError, "has 0 char tokens"),
    (lambda: NGram.from_text("ab", 2), ValueError, "needs at least 3"),
    (lambda: NGram.from_text("abc", 1, "bytes"), ValueError, "tokenizer must be one of"),
    (lambda: NGram.from_text("abc", 1, smoothing=math.nan), ValueError, "smoothing"),
    (lambda: NGram.from_text("abc", 1, smoothing=-1), ValueError, "smoothing must be >= 0"),
    (lambda: NGram.from_text("abc", 1, unseen="keep"), ValueError, "unseen must be"),
    (lambda: NGram.from_text(b"abc", 1), TypeError, "text must be a string"),
    (lambda: NGram.random(3, 1, concentration=0), ValueError, "concentration must be > 0"),
])
def test_bad_input_is_a_clear_error(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_too_large_tables_are_refused_before_any_allocation():
    with pytest.raises(TooLargeError, match=r"50000\^3.*reduce the order or the vocabulary"):
        NGram.random(50_000, 2)
    with pytest.raises(TooLargeError, match="max_vocab"):
        NGram.from_pydoc(4)  # 103^5 entries
    assert NGram.random(100, 2, seed=0).contexts == 10_000  # control: 10^6 entries fit
