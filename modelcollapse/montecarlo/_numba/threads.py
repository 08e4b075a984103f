"""The Numba backend's driver: per-replicate generators, the thread pool, the plan as
integer codes."""

from __future__ import annotations

import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numba
import numpy as np
from numba.typed import List

from .._kernel import Kernel

#: Plan codes: ``sources`` and ``pool`` as integers (their index in ``Plan.SOURCES`` /
#: ``Plan.POOLS``); the compiled loops read the plan as
#: ``(sources, n, window, real, real_fresh, synthetic_from, pool)``.
LAST, WINDOW, UNIFORM = range(3)
NONE, ACCUMULATE, SUBSAMPLE = range(3)


def plan_codes(plan) -> np.ndarray:
    """``(sources, n, window, real, real_fresh, synthetic_from, pool)`` as int64."""
    return np.array([plan.SOURCES.index(plan.sources), plan.n, plan.window, plan.real,
                     int(plan.real_fresh), plan.synthetic_from,
                     plan.POOLS.index(plan.pool)], dtype=np.int64)


class Threaded(Kernel):
    """Per-replicate generators and the thread pool.

    Each replicate owns a ``numpy.random.Generator`` seeded from its own child of
    ``SeedSequence(seed)`` and is advanced, a chunk of generations at a time, by one
    call of a ``nogil`` compiled function; a thread pool runs blocks of replicates
    concurrently, so a result does not depend on the number of threads.
    """

    #: Worker threads (``None``: ``numba.get_num_threads()``).
    workers: int | None = None

    def __init__(self, problem, replicates, seed_seq):
        super().__init__(problem, replicates, seed_seq)
        self.rngs = [np.random.default_rng(s) for s in self.replicate_seeds()]
        self._rng_list = None
        self.plan = plan = problem.plan
        self.codes = plan_codes(plan)
        self.n, self.N, self.window = plan.n, plan.real, plan.window

    def history_size(self, g1: int) -> int:
        """Slots of the fit history (fit ``j`` in slot ``j % H``)."""
        return {"last": 1, "window": self.window, "uniform": g1 + 1}[self.plan.sources]

    @staticmethod
    def _grow(a: np.ndarray, size: int, fill=0) -> np.ndarray:
        """``a`` with axis 1 grown to at least ``size`` (doubling), contents kept."""
        if a.shape[1] >= size:
            return a
        new = max(size, 2 * a.shape[1])
        out = np.full((a.shape[0], new, *a.shape[2:]), fill, dtype=a.dtype)
        out[:, :a.shape[1]] = a
        return out

    @property
    def rng_list(self):
        """The generators as a ``numba.typed.List`` (built once; shares their states)."""
        if self._rng_list is None:
            lst = List()
            for g in self.rngs:
                lst.append(g)
            self._rng_list = lst
        return self._rng_list

    @classmethod
    def threads_for(cls, replicates: int) -> int:
        """Worker threads that run ``replicates`` replicates (one block each)."""
        W = cls.workers if cls.workers is not None else numba.get_num_threads()
        return max(1, min(int(W), replicates))

    def _parallel(self, fn) -> None:
        """``fn(idx)`` on the replicates ``idx`` (int64 array), on the thread pool.

        Without a time budget (``block_seconds is None``): one strided block per thread.
        With one: contiguous blocks of replicates handed to the threads as they free
        up, each sized from the measured time per replicate so that it takes about
        ``block_seconds`` (starting at one replicate, at most doubling), and
        ``tick(fraction done)`` between blocks. Ctrl-C (or a ``KeyboardInterrupt`` from
        ``tick``) stops handing out blocks and waits for those in flight, each at most
        a block long, before it propagates. Replicate ``r`` only touches its own
        generator and state, so the result does not depend on the blocks."""
        R = self.R
        W = self.threads_for(R)
        self.rng_list  # noqa: B018 (build the typed list before the threads start)
        budget = self.block_seconds
        if budget is None:
            if W == 1:
                fn(np.arange(R, dtype=np.int64))
                return
            blocks = [np.arange(w, R, W, dtype=np.int64) for w in range(W)]
            with ThreadPoolExecutor(W) as ex:
                list(ex.map(fn, blocks))
            return

        def timed(idx):
            t = time.perf_counter()
            fn(idx)
            return idx.size, time.perf_counter() - t

        state = {"pos": 0, "size": 1, "per": None, "done": 0}

        def next_block():
            pos, size, per = state["pos"], state["size"], state["per"]
            if per is not None:
                size = int(max(1, min(2 * size, budget / per if per > 0 else 2 * size)))
            size = min(size, max(1, -(-(R - pos) // W)))  # leave work for every thread
            state["pos"], state["size"] = pos + size, size
            return np.arange(pos, pos + size, dtype=np.int64)

        def finished(k, secs):
            state["per"] = secs / k
            state["done"] += k
            if self.tick is not None:
                self.tick(state["done"] / R)

        if W == 1:  # in the calling thread: Ctrl-C is seen when a block returns
            while state["pos"] < R:
                finished(*timed(next_block()))
            return
        ex = ThreadPoolExecutor(W)
        try:
            running = set()
            while state["pos"] < R or running:
                while state["pos"] < R and len(running) < W:
                    running.add(ex.submit(timed, next_block()))
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    finished(*fut.result())
        finally:
            ex.shutdown(wait=True, cancel_futures=True)
