"""Canonical JSON of cell parameters and task identities: the basis of cell keys and seeds.

Two values that describe the same computation give the same canonical text on every
machine and Python process: floats are written with ``repr`` (shortest round-trip),
NumPy arrays with their dtype, shape and values, models and regimes with their type and
dictionary form (``to_dict``), other dataclasses with their type and fields, functions
with their qualified name.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np

from ..models import Model
from ..regimes import Regime

__all__ = ["canonical", "canonical_json", "digest", "qualname"]


def qualname(fn) -> str:
    """``module.qualname`` of a function or class (``functools.partial`` unwrapped)."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    mod = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        name = type(fn).__qualname__
        mod = type(fn).__module__
    return f"{mod}.{name}"


def _float(x: float):
    x = float(x)
    if math.isfinite(x):
        return {"float": repr(x)}
    return {"float": "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")}


def canonical(value):
    """A JSON-able structure describing ``value`` exactly (``TypeError`` if impossible)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, np.random.SeedSequence):
        return {"SeedSequence": canonical(value.entropy), "spawn_key": list(value.spawn_key)}
    if isinstance(value, np.ndarray):
        flat = [canonical(v) for v in value.ravel().tolist()]
        return {"ndarray": str(value.dtype), "shape": list(value.shape), "data": flat}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, Mapping):
        out = {}
        for k in sorted(value, key=str):
            if not isinstance(k, str):
                raise TypeError(f"mapping keys must be strings, got {k!r}")
            out[k] = canonical(value[k])
        return {"dict": out}
    if isinstance(value, (Model, Regime)):  # their data form (regime spec fields, model)
        return {"type": qualname(type(value)), "fields": canonical(value.to_dict())}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"type": qualname(type(value)), "fields": fields}
    if isinstance(value, functools.partial):
        return {"partial": qualname(value.func), "args": canonical(list(value.args)),
                "kwargs": canonical(dict(value.keywords))}
    if callable(value) and hasattr(value, "__qualname__"):
        return {"callable": qualname(value)}
    text = repr(value)
    if " at 0x" in text:
        raise TypeError(
            f"cannot describe {type(value).__name__} value {text} reproducibly (its repr "
            "holds a memory address); use numbers, strings, arrays, models and regimes")
    return {"repr": qualname(type(value)), "text": text}


def canonical_json(value) -> str:
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"))


def digest(value) -> str:
    """SHA-256 hex digest of the canonical JSON of ``value``."""
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()
