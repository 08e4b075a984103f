"""The sparse text chain (modelcollapse.montecarlo.textchain) against the dense n-gram
model of the same text, and its recursion's basic laws (compiled: slow tier, but for the
argument checks)."""

from __future__ import annotations

import numpy as np
import pytest

from modelcollapse import NGram
from modelcollapse.montecarlo import textchain as tc

TEXT = "the cat sat on the mat; the rat ate the oat.\n" * 3


def _ids():
    vocab = sorted(set(TEXT))
    return np.array([vocab.index(c) for c in TEXT]), vocab


@pytest.mark.slow
@pytest.mark.parametrize("order", [1, 2, 3])
def test_generation_zero_rows_are_the_dense_model_with_backoff(order):
    ids, vocab = _ids()
    flat = tc._flatten(tc._fit(ids, len(vocab), order))
    dense = NGram.from_text(TEXT, order)
    rng = np.random.default_rng(0)
    ctx = rng.integers(0, len(vocab), size=(200, order + 2))
    ctx[:50, -order:] = ids[5:5 + order]  # some visited contexts too
    rows = tc._rows(*flat[:4], flat[4], ctx, order, len(vocab))
    for r in range(ctx.shape[0]):
        np.testing.assert_allclose(rows[r], dense.row(ctx[r, -order:]), atol=1e-12)


@pytest.mark.slow
def test_drift_grows_and_real_data_holds_it():
    ids, vocab = _ids()
    rep = tc.text_chain(ids, len(vocab), 2, "replace:120", 6, replicates=20, seed=1,
                        length=12, contexts=50, context_length=8)
    mix = tc.text_chain(ids, len(vocab), 2, "mix:96:24", 6, replicates=20, seed=1,
                        length=12, contexts=50, context_length=8)
    d, dm = rep["l1_to_gen1"].mean(axis=0), mix["l1_to_gen1"].mean(axis=0)
    assert np.isnan(d[:2]).all() and d[6] > d[2] > 0
    assert dm[6] < d[6]
    assert (rep["support"][:, -1] <= len(vocab)).all()


def test_bad_input():
    ids, vocab = _ids()
    with pytest.raises(ValueError, match="Replace and Mix"):
        tc.text_chain(ids, len(vocab), 1, "accumulate:10", 2)
    with pytest.raises(ValueError, match="token ids"):
        tc.text_chain(ids, 3, 1, "replace:10", 2)
    with pytest.raises(ValueError, match="length must be >= 2"):
        tc.text_chain(ids, len(vocab), 1, "replace:10", 2, length=1)
    with pytest.raises(ValueError, match="more than 3 token ids"):
        tc.text_chain(ids[:3], len(vocab), 3, "replace:10", 2)
    with pytest.raises(ValueError, match="unseen"):
        tc.text_chain(ids, len(vocab), 1, "replace:10", 2, unseen="uniform")
