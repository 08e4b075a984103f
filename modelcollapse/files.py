"""Files written whole: a temporary name in the target's folder, then an atomic rename.

A reader never sees a half-written file, and an interrupted write leaves the previous
file (if any) untouched. Output paths are checked before any work starts.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["atomic_path", "check_output_dir", "check_output_file", "check_output_path",
           "npz_path", "write_text"]


def check_output_path(path, what: str = "output", *, folder: bool = False,
                      parents: bool = False) -> Path:
    """The one check of an output path, before any work: ``path`` as a :class:`Path`, or
    a ``ValueError`` naming ``what`` and ``path`` when nothing could be written there.

    ``folder=False`` (a file): ``path`` is not an existing folder, and its folder exists
    (or, with ``parents=True``, can be created), is a folder and is writable.
    ``folder=True``: ``path`` is not an existing file (or anything but a folder), and it
    is a writable folder or can be created in one. *Writable* means that a temporary file
    could actually be created and removed there: ``os.access`` says yes under ``/proc`` and
    for root on read-only mounts. Nothing else is created.
    """
    p = Path(path)
    shown = repr(str(path))
    if folder:
        if os.path.lexists(p) and not os.path.isdir(p):
            raise ValueError(f"{what} {shown} is a file, not a folder")
        holder, may_create = p, True
    else:
        if os.path.isdir(p):
            raise ValueError(f"{what} {shown} is a folder; give a file name")
        holder = p.parent if str(p.parent) else Path(".")
        may_create = parents
    probe = holder
    if may_create:  # the nearest existing ancestor is where the first folder is created
        while not os.path.lexists(probe) and probe != probe.parent:
            probe = probe.parent
    if not os.path.exists(probe):
        raise ValueError(f"{what} {shown}: folder {str(probe)!r} does not exist")
    if not os.path.isdir(probe):
        raise ValueError(f"{what} {shown}: {str(probe)!r} is not a folder")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".modelcollapse-probe-", suffix=".tmp", dir=probe)
    except OSError as exc:
        raise ValueError(f"{what} {shown}: folder {str(probe)!r} is not writable (creating "
                         f"a file there fails: {exc.strerror or type(exc).__name__})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)
    return p


def check_output_file(path, what: str = "output file") -> Path:
    """:func:`check_output_path` for a file whose folder must exist."""
    return check_output_path(path, what)


def check_output_dir(path, what: str = "output folder") -> Path:
    """:func:`check_output_path` for a folder (created if missing)."""
    return check_output_path(path, what, folder=True)


@contextlib.contextmanager
def atomic_path(path, suffix: str = ".tmp"):
    """Yield a temporary path beside ``path`` (ending in ``suffix``, e.g. ``.tmp.csv`` for
    a writer that infers the format from the name); on success rename it to ``path``
    (atomically), on any exception (Ctrl-C included) remove it."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent or ".")
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


def npz_path(path) -> Path:
    """``path`` with ``.npz`` appended when missing, checked writable before any work
    (``ValueError`` naming it: a folder, a missing or read-only folder)."""
    p = Path(path)
    if p.is_dir():
        raise ValueError(f"output file {str(path)!r} is a folder; give a file name")
    if p.suffix != ".npz":
        p = p.with_name(p.name + ".npz")
    return check_output_file(p)
