"""Memory sizes: reading a size such as ``"8GB"``, printing one, and the default limit
every long computation of the toolkit checks its estimate against before it allocates
(simulations, the harness's score arrays)."""

from __future__ import annotations

import os
import re

__all__ = ["default_limit", "format_bytes", "parse_bytes"]

_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9,
          "t": 1e12, "tb": 1e12, "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_bytes(value, name: str = "max_memory") -> int:
    """Bytes from an int or a string such as ``"8GB"``, ``"512 MiB"``, ``"1.5g"``."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a number of bytes or a size such as '8GB', "
                         f"got {value!r}")
    if isinstance(value, (int, float)):
        out = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([a-zA-Z]*)\s*", value)
        if not m or m.group(2).lower() not in _UNITS:
            raise ValueError(f"{name} must be a size such as '8GB' or '512MiB', got "
                             f"{value!r}")
        out = float(m.group(1)) * _UNITS[m.group(2).lower()]
    else:
        raise ValueError(f"{name} must be a number of bytes or a size such as '8GB', "
                         f"got {value!r}")
    if not out > 0 or out == float("inf"):
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return int(out)


def format_bytes(b: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def default_limit() -> int:
    """Half of this machine's physical memory (``MODELCOLLAPSE_MAX_MEMORY`` overrides)."""
    env = os.environ.get("MODELCOLLAPSE_MAX_MEMORY")
    if env:
        return parse_bytes(env, "MODELCOLLAPSE_MAX_MEMORY")
    try:
        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2)
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        return 4 * 10**9
