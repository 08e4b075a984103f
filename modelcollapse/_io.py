"""Files written whole: a temporary name in the target's folder, then an atomic rename.

A reader never sees a half-written file, and an interrupted write leaves the previous
file (if any) untouched. Output paths are checked before any work starts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "check_output_dir", "check_output_file", "write_text"]


def check_output_file(path, what: str = "output file") -> Path:
    """``path`` as a :class:`Path`, or a ``ValueError`` naming it when it cannot be
    written: it is a folder, or its folder does not exist or is not writable."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a folder; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"{what} {str(path)!r}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {str(path)!r}: folder {str(parent)!r} is not writable")
    return p


def check_output_dir(path, what: str = "output folder") -> Path:
    """``path`` as a :class:`Path` of a folder that exists or can be created (``ValueError``
    naming it otherwise: an existing file, or an ancestor that is not a writable folder)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{what} {str(path)!r} is a file, not a folder")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ValueError(f"{what} {str(path)!r}: {str(probe)!r} is not a writable folder")
    return p


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success rename it to ``path``
    (atomically), on any exception (Ctrl-C included) remove it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` whole (UTF-8)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
