"""The contract between :func:`~modelcollapse.montecarlo.simulate` and a backend.

A backend module ``_<backend>.py`` exposes ``KERNELS = {family: KernelClass}`` for the
families ``"categorical"``, ``"gaussian"``, ``"mixture"`` and ``"regression"``. The
engine drives a kernel chunk by chunk (progress bar, Ctrl-C between chunks)::

    chunk = KernelClass.chunk_for(problem, replicates, target)  # at most, for memory
    scratch = KernelClass.scratch_bytes(problem, replicates)   # memory preflight
    k = KernelClass(problem, replicates, seed_seq)   # problem: _engine.Problem
    k.block_seconds, k.tick = budget, callback       # optional, see below
    parts = [k.initial()]                            # generation 0 (the real model)
    parts += [k.advance(g0, g1, keep)]               # generations g0+1 .. g1
    k.collapse_time, k.loss_time, k.absorbed()

The chunks are bounded in time: unless the caller fixes ``chunk``, the engine sizes
each from the measured time of the previous ones (about ``block_seconds``, at most
``chunk_for``) when the class's :attr:`Kernel.adaptive` is true. A kernel whose
replicates are independent may also run a chunk in blocks of replicates (each about
``block_seconds``), calling ``tick(fraction of the replicates done)`` between blocks,
so that progress shows and Ctrl-C is seen within a block even when one generation of
all replicates is long; a result never depends on the blocks.

``initial()`` and ``advance()`` return ``{name: array}`` for the names of
``kernel_names(problem)`` (the requested statistics, ``tv_*`` being derived by the
engine from ``l1_*``), each of shape ``(replicates, columns, ...)`` and float64 (see
:mod:`._stats` for the definitions and shapes): ``advance`` returns the generations of
``keep`` (an increasing int array within ``g0+1 .. g1``; ``None``: all of them), and
need compute the statistics of those generations only. ``collapse_time`` is an
int64 array ``(replicates,)`` (``-1`` while not collapsed) or ``None`` for families
without one; ``loss_time`` is ``(replicates, len(problem.tokens))`` for Categorical
(``-1`` while the token is present), else ``None``. The semantics of every regime are
those of :func:`._reference.reference_simulate` (raw samples); a kernel must agree
with it in distribution.
"""

from __future__ import annotations

import numpy as np

from ._engine import kernel_names

#: Minimum-norm least squares on every backend: eigenvalues of the Gram matrix ``A`` at
#: or below ``d * PINV_RTOL * max eigenvalue`` count as zero.
PINV_RTOL = 1e-12


class Kernel:
    """Base class: stores the problem and the per-replicate seeds."""

    collapse_time = None
    loss_time = None
    #: whether the engine may size chunks from measured time (a kernel that compiles
    #: one program per chunk length, JAX, keeps ``chunk_for``)
    adaptive = True
    #: time budget of one block of work (seconds), set by the engine; ``None``: no limit
    block_seconds = None
    #: ``tick(fraction)``: called between blocks of replicates within a chunk, if set
    tick = None

    def __init__(self, problem, replicates: int, seed_seq: np.random.SeedSequence):
        self.problem = problem
        self.model = problem.model
        self.regime = problem.regime
        self.R = replicates
        self.seed_seq = seed_seq
        self.names = kernel_names(problem)

    def replicate_seeds(self) -> list[np.random.SeedSequence]:
        """``SeedSequence(seed).spawn(R)``: replicate ``r``'s own stream."""
        return self.seed_seq.spawn(self.R)

    @classmethod
    def chunk_for(cls, problem, replicates: int, target: int) -> int:
        """Generations per :meth:`advance` call, before the kernel exists."""
        return max(1, min(target, 100))

    @classmethod
    def scratch_bytes(cls, problem, replicates: int) -> float:
        """Working memory of one :meth:`advance` call beyond the per-replicate state
        (bytes; samplers' temporaries), before the kernel exists: the memory preflight
        adds it. ``0`` unless a kernel allocates something that grows with ``n``."""
        return 0.0

    @staticmethod
    def select(out: dict, g0: int, keep) -> dict:
        """The columns of the generations ``keep`` of a chunk that starts after ``g0``."""
        if keep is None:
            return out
        cols = np.asarray(keep, dtype=np.int64) - g0 - 1
        return {k: v[:, cols] for k, v in out.items()}

    def absorbed(self) -> bool:
        return self.collapse_time is not None and bool(np.all(self.collapse_time >= 0))

    def initial(self) -> dict:
        raise NotImplementedError

    def advance(self, g0: int, g1: int, keep=None) -> dict:
        raise NotImplementedError
