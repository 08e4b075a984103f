"""Helpers shared by the figure modules."""

from __future__ import annotations

import numpy as np

from .style import OKABE_ITO

THEORY_KW = {"color": OKABE_ITO["black"], "lw": 1.0}


def ecdf(samples, grid):
    """Empirical ``P(X <= g)`` of ``samples`` at each ``g`` in ``grid``."""
    s = np.sort(np.asarray(samples, dtype=np.float64))
    return np.searchsorted(s, np.asarray(grid, dtype=np.float64), side="right") / max(s.size, 1)


def mean_se(x, axis=0):
    """Mean and standard error over ``axis`` ignoring NaNs."""
    x = np.asarray(x, dtype=np.float64)
    k = np.sum(np.isfinite(x), axis=axis)
    m = np.nanmean(x, axis=axis)
    sd = np.nanstd(x, axis=axis, ddof=1) if x.shape[axis] > 1 else np.zeros_like(m)
    return m, sd / np.sqrt(np.maximum(k, 1))


def log_grid(stop: int, num: int, start: int = 1) -> np.ndarray:
    """About ``num`` distinct integers spread logarithmically over ``[start, stop]``."""
    return np.unique(np.geomspace(start, stop, num).round().astype(np.int64))


def seed_of(params: dict, key: str = "seed") -> int:
    return int(params[key])
