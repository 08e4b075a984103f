"""Recording policies: which generations' statistics a simulation keeps.

``record`` (an argument of :func:`~modelcollapse.montecarlo.simulate`):

``"all"``
    every generation (the default for a fixed number of generations);
``k`` (an int >= 1)
    generation 0, every ``k``-th generation and the last one;
``"last"``
    generation 0 and the last generation;
a sequence of generations (e.g. ``[1, 10, 100]``)
    generation 0, those generations (the ones the run reaches) and the last one;
``"auto"``
    ``"all"`` for a fixed number of generations; for a run to collapse, every
    generation until ``max_columns`` are kept, then every 2nd, 4th, ... (the kept
    columns are thinned to the multiples of a doubling stride): memory stays bounded
    however long the run.

The kernels compute the statistics of the requested generations only (and of the last
generation of each chunk, which the recorder keeps as "the latest"); collapse and
token-loss times are tracked at every generation whatever the policy.
"""

from __future__ import annotations

import numpy as np

from ..models import check_positive_int

__all__ = ["MAX_COLUMNS", "Recorder", "check_record"]

#: Columns an ``"auto"`` run to collapse keeps before thinning.
MAX_COLUMNS = 1024


def check_record(record):
    """``record`` validated: ``"all"``, ``"last"``, ``"auto"``, an int ``k >= 1``, or a
    sequence of generations (returned as a sorted tuple of distinct ints >= 0)."""
    if isinstance(record, str):
        if record not in ("all", "last", "auto"):
            raise ValueError(f"record must be 'all', 'last', 'auto', an int >= 1 or a "
                             f"sequence of generations, got {record!r}")
        return record
    if isinstance(record, (list, tuple, np.ndarray)):
        gens = np.asarray(record)
        if gens.ndim != 1 or gens.size == 0 or gens.dtype.kind not in "iu" \
                or np.any(gens < 0):
            raise ValueError("record as a sequence must list generations (integers >= 0), "
                             f"got {record!r}")
        return tuple(sorted({int(g) for g in gens}))
    return check_positive_int(record, "record")


class Recorder:
    """Keeps the recorded columns of a run, chunk by chunk.

    ``wanted(g0, g1)`` are the generations of ``g0+1 .. g1`` whose statistics the
    kernel must return (the policy's, plus ``g1``); ``add(gens, arrays)`` stores them;
    ``finish(last)`` returns ``(generations, {name: (R, columns, ...)})`` ending with the
    generation ``last``.
    """

    def __init__(self, record, *, to_collapse: bool, max_columns: int | None = None):
        record = check_record(record)
        if record == "auto":
            record = "thin" if to_collapse else "all"
        self.listed = frozenset(record) if isinstance(record, tuple) else None
        self.policy = "listed" if self.listed is not None else record
        self.stride = record if isinstance(record, int) else 1
        self.max_columns = MAX_COLUMNS if max_columns is None else max_columns
        self.gens: list[int] = []
        self.cols: list[dict] = []
        self.latest: tuple[int, dict] | None = None

    def columns_for(self, generations: int) -> int:
        """Columns kept by a run of ``generations`` generations (for memory estimates)."""
        if self.policy == "all":
            return generations + 1
        if self.policy == "last":
            return 2
        if self.policy == "thin":
            return min(generations, 2 * self.max_columns) + 1
        if self.policy == "listed":
            return sum(1 for g in self.listed if 0 < g <= generations) + 2
        return generations // self.stride + 2

    def _keeps(self, g: int) -> bool:
        if self.policy == "last":
            return g == 0
        if self.policy == "listed":
            return g == 0 or g in self.listed
        return g % self.stride == 0

    def wanted(self, g0: int, g1: int) -> np.ndarray:
        gens = [g for g in range(g0 + 1, g1 + 1) if self._keeps(g)] \
            if self.policy != "last" else []
        if not gens or gens[-1] != g1:
            gens.append(g1)
        return np.asarray(gens, dtype=np.int64)

    def add(self, gens, arrays: dict) -> None:
        for j, g in enumerate(gens):
            col = {k: v[:, j] for k, v in arrays.items()}
            if self._keeps(int(g)):
                self.gens.append(int(g))
                self.cols.append(col)
            self.latest = (int(g), col)
        if self.policy == "thin" and len(self.gens) > self.max_columns:
            self.stride *= 2
            keep = [i for i, g in enumerate(self.gens) if g % self.stride == 0]
            self.gens = [self.gens[i] for i in keep]
            self.cols = [self.cols[i] for i in keep]

    def finish(self, last: int):
        """The kept columns up to generation ``last`` (the latest column, whose state
        equals generation ``last``'s, closes the record when it was not kept)."""
        gens, cols = [], []
        for g, c in zip(self.gens, self.cols, strict=True):
            if g <= last:
                gens.append(g)
                cols.append(c)
        if (not gens or gens[-1] != last) and self.latest is not None:
            gens.append(last)
            cols.append(self.latest[1])
        names = cols[0].keys() if cols else ()
        stats = {k: np.stack([c[k] for c in cols], axis=1) for k in names}
        return np.asarray(gens, dtype=np.int64), stats
