import numpy as np
import pytest

from modelcollapse import (
    Accumulate,
    Categorical,
    Mix,
    MostRecent,
    RandomlySampled,
    Replace,
)


def test_categorical_normalises_and_is_read_only():
    m = Categorical([0.2, 0.3, 0.5])
    assert m.size == 3 and m.support_size == 3
    assert np.isclose(m.homozygosity, 0.04 + 0.09 + 0.25)
    with pytest.raises(ValueError):
        m.p[0] = 1.0
    # a list that sums to 1 within 1e-9 is normalised exactly
    m2 = Categorical([1 / 3] * 3)
    assert m2.p.sum() == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(
    ("p", "message"),
    [
        ([0.5, -0.1, 0.6], "non-negative; entry 1"),
        ([0.5, float("nan")], "finite; entry 1"),
        ([0.5, float("inf")], "finite"),
        ([0.5, 0.6], "sum to 1"),
        ([[0.5, 0.5]], "1-D"),
        ([], "at least one"),
    ],
)
def test_categorical_rejects_bad_vectors(p, message):
    with pytest.raises(ValueError, match=message):
        Categorical(p)


def test_constructors_match_their_definitions():
    u = Categorical.uniform(4)
    assert np.array_equal(u.p, np.full(4, 0.25))
    g = Categorical.geometric(5, 0.5)
    w = 0.5 ** np.arange(5)
    assert np.allclose(g.p, w / w.sum(), rtol=1e-15)
    z = Categorical.zipf(6, 1.5)
    w = np.array([1, 2, 3, 4, 5, 6], float) ** -1.5
    assert np.allclose(z.p, w / w.sum(), rtol=1e-15)
    c = Categorical.from_counts([2, 0, 6])
    assert np.array_equal(c.p, [0.25, 0.0, 0.75]) and c.support_size == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: Categorical.uniform(0), "k must be >= 1"),
        (lambda: Categorical.uniform(2.5), "k must be an integer"),
        (lambda: Categorical.geometric(3, 0.0), "ratio"),
        (lambda: Categorical.geometric(3, 1.5), "ratio"),
        (lambda: Categorical.zipf(3, -1), "exponent"),
        (lambda: Categorical.from_counts([1, -1]), "non-negative"),
        (lambda: Categorical.from_counts([0, 0]), "positive total"),
        (lambda: Categorical([0.5, 0.5], labels=["a"]), "labels has 1"),
    ],
)
def test_constructor_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_from_wordfreq_is_real_english():
    pytest.importorskip("wordfreq")
    m = Categorical.from_wordfreq("en", top=1000)
    assert m.size == 1000 and m.labels[0] == "the"
    assert np.all(np.diff(m.p) <= 0)
    assert m.token_index("the") == 0
    with pytest.raises(ValueError, match="not in the vocabulary"):
        m.token_index("zzzzqqq")
    with pytest.raises(ValueError, match="top"):
        Categorical.from_wordfreq("en", top=0)


def test_token_index_errors():
    m = Categorical([0.5, 0.5])
    with pytest.raises(ValueError, match="out of range"):
        m.token_index(2)
    with pytest.raises(ValueError, match="no labels"):
        m.token_index("a")


def test_regimes_validate_arguments():
    assert Replace(5).n == 5
    assert Mix(real=3, synthetic=1).alpha == 0.25
    assert MostRecent(10, 2).window == 2
    assert RandomlySampled(4).n == 4 and Accumulate(4).n == 4
    for call, message in [
        (lambda: Replace(0), "n must be >= 1"),
        (lambda: Replace(2.0), "n must be an integer"),
        (lambda: Replace(True), "n must be an integer"),
        (lambda: Mix(real=0, synthetic=3), "real must be >= 1"),
        (lambda: Mix(real=3, synthetic=-1), "synthetic must be >= 1"),
        (lambda: MostRecent(3, 5), "window must be <= n"),
        (lambda: MostRecent(3, 0), "window must be >= 1"),
        (lambda: RandomlySampled(-2), "n must be >= 1"),
        (lambda: Accumulate("4"), "n must be an integer"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()
    with pytest.raises(AttributeError):
        Replace(3).n = 4
