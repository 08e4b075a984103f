"""Small tasks for the sweep tests and examples (importable by Dask worker processes)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np

__all__ = ["draw", "logged_draw"]


def draw(x: float, y: int = 1, *, seed=None) -> dict:
    """A few numbers from the cell's stream, shifted by the parameters."""
    rng = np.random.default_rng(seed)
    u = rng.random(3)
    return {"u0": float(u[0]) + x, "u1": float(u[1]) * y, "u2": float(u[2]),
            "normal": float(rng.standard_normal())}


def logged_draw(x: float, y: int = 1, *, log_dir: str, delay: float = 0.0,
                fail_marker: str = "", seed=None) -> dict:
    """:func:`draw`, logging each execution (``start-*`` and ``end-*`` files in
    ``log_dir`` named by ``x``, ``y`` and this process), after sleeping ``delay`` seconds.

    If ``fail_marker`` names an existing file whose text is ``"x,y"`` of this cell, the
    file is removed and ``KeyboardInterrupt`` raised: an interruption, once.
    """
    log = Path(log_dir)
    tag = f"{x!r}_{y}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    (log / f"start-{tag}").write_text(str(os.getpid()))
    if fail_marker:
        marker = Path(fail_marker)
        if marker.exists() and marker.read_text() == f"{x!r},{y}":
            marker.unlink()
            raise KeyboardInterrupt
    if delay:
        time.sleep(delay)
    out = draw(x, y, seed=seed)
    (log / f"end-{tag}").write_text(str(os.getpid()))
    return out


def execution_pids(log_dir, x, y, kind: str = "end") -> list[int]:
    """The process ids of every execution of the cell ``(x, y)`` that finished
    (``kind="start"``: that began)."""
    return [int(p.read_text()) for p in Path(log_dir).glob(f"{kind}-{x!r}_{y}_*")]


def executions(log_dir, x, y, kind: str = "end") -> int:
    """How many times the cell ``(x, y)`` ran (``kind="start"``: began)."""
    return len(execution_pids(log_dir, x, y, kind))
