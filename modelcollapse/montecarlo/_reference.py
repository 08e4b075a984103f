"""Reference simulators: plain NumPy multinomial loops, obviously correct, not fast."""

from __future__ import annotations

import numpy as np

from ..models import _check_positive_int, check_categorical
from ..regimes import Mix, Replace

__all__ = ["categorical_paths", "collapse_times"]


def categorical_paths(model, regime, generations: int, *, replicates: int, seed=None):
    r"""Simulate :math:`p^{(0)}, \dots, p^{(\text{generations})}` for each replicate.

    ``Replace(n)``: :math:`p^{(m)} = \mathrm{Mult}(n, p^{(m-1)})/n`.
    ``Mix(real=N, synthetic=n)``: :math:`p^{(1)} = \mathrm{Mult}(N, p^{(0)})/N` and
    :math:`p^{(m+1)} = (1-\alpha)p^{(1)} + \alpha\,\mathrm{Mult}(n, p^{(m)})/n`.

    Returns an array of shape ``(replicates, generations + 1, s)``.
    ``seed`` is anything accepted by :func:`numpy.random.default_rng`.
    """
    p0 = check_categorical(model).p
    generations = _check_positive_int(generations, "generations")
    replicates = _check_positive_int(replicates, "replicates")
    rng = np.random.default_rng(seed)
    out = np.empty((replicates, generations + 1, p0.size))
    out[:, 0] = p0
    if isinstance(regime, Replace):
        n = regime.n
        for m in range(1, generations + 1):
            out[:, m] = rng.multinomial(n, out[:, m - 1]) / n
    elif isinstance(regime, Mix):
        N, n, a = regime.real, regime.synthetic, regime.alpha
        out[:, 1] = rng.multinomial(N, np.broadcast_to(p0, (replicates, p0.size))) / N
        for m in range(2, generations + 1):
            out[:, m] = (1 - a) * out[:, 1] + a * rng.multinomial(n, out[:, m - 1]) / n
    else:
        raise NotImplementedError(
            f"the reference simulator covers Replace and Mix, not {type(regime).__name__}"
        )
    return out


def collapse_times(model, regime, *, replicates: int, seed=None,
                   max_generations: int = 10_000_000):
    """Simulate the total-collapse time ``T`` under ``Replace(n)``.

    Returns ``(T, winner)``: the first generation at which ``p^(m)`` is a Dirac mass,
    and the token it collapsed onto, for each replicate.
    """
    p0 = check_categorical(model).p
    if not isinstance(regime, Replace):
        raise ValueError("collapse_times needs Replace(n): other regimes do not collapse")
    replicates = _check_positive_int(replicates, "replicates")
    n = regime.n
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, np.broadcast_to(p0, (replicates, p0.size)))
    T = np.zeros(replicates, dtype=np.int64)
    winner = np.full(replicates, -1, dtype=np.int64)
    alive = np.arange(replicates)
    m = 1
    while alive.size:
        done = np.count_nonzero(counts[alive], axis=1) == 1
        idx = alive[done]
        T[idx] = m
        winner[idx] = np.argmax(counts[idx], axis=1)
        alive = alive[~done]
        if not alive.size:
            break
        if m >= max_generations:
            raise RuntimeError(f"{alive.size} replicates did not collapse by max_generations")
        counts[alive] = rng.multinomial(n, counts[alive] / n)
        m += 1
    return T, winner
