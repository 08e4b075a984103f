"""Turn what a task returns into the columns of one row."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np

__all__ = ["flatten_result", "param_columns"]

_SCALARS = (int, float, bool, str, np.integer, np.floating, np.bool_)


def _scalar(x):
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x)
    return x


def _simulation_columns(res, trajectories: bool) -> dict:
    summary = res.summary()
    row = {"generations": summary["generations"], "replicates": summary["replicates"],
           "interrupted": summary["interrupted"]}
    for name, _ in res.final_columns():
        stat = summary["final"].get(name, {"mean": math.nan, "se": math.nan})
        row[f"{name}.mean"], row[f"{name}.se"] = stat["mean"], stat["se"]
    if "collapse_time" in summary:
        c = summary["collapse_time"]
        row["collapsed"] = c["fraction"]
        row["collapse_time.mean"], row["collapse_time.se"] = c["mean"], c["se"]
        for q, v in c["quantiles"].items():
            row[f"collapse_time.q{float(q):g}"] = v
    if trajectories:
        for name, arr in res.statistics.items():
            if arr.ndim == 2:  # (replicates, generations + 1): mean over replicates
                with np.errstate(all="ignore"):
                    row[f"{name}.trajectory"] = np.nanmean(arr, axis=0).astype(float).tolist()
    return row


def _law_columns(law) -> dict:
    row = {}
    for attr in ("p_loss", "defect"):
        v = getattr(law, attr, None)
        if isinstance(v, _SCALARS):
            row[attr] = _scalar(v)
    for name, call in (("mean", lambda: law.mean()), ("std", lambda: law.var() ** 0.5),
                       ("median", lambda: law.median()),
                       ("q0.05", lambda: law.quantile(0.05)),
                       ("q0.95", lambda: law.quantile(0.95))):
        try:
            row[name] = float(call())
        except Exception:  # not defined for this law (e.g. a defective one)
            continue
    return row


def flatten_result(value, trajectories: bool = False, prefix: str = "value") -> dict:
    """Columns of a result: scalars, ``Estimate`` (value, method, exact), mappings,
    short tuples, 1-D arrays (list columns), ``SimulationResult`` summaries and laws."""
    from ..montecarlo import SimulationResult
    from ..theory import Estimate

    if isinstance(value, SimulationResult):
        return _simulation_columns(value, trajectories)
    if isinstance(value, Estimate):
        return {prefix: float(value), f"{prefix}.method": value.method,
                f"{prefix}.exact": bool(value.exact)}
    if value is None or isinstance(value, _SCALARS):
        return {prefix: _scalar(value)}
    if isinstance(value, Mapping):
        row = {}
        for k, v in value.items():
            row.update(flatten_result(v, trajectories, prefix=str(k)))
        return row
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return {prefix: _scalar(value.item())}
        if value.ndim == 1:
            return {prefix: [_scalar(x) for x in value.tolist()]}
        return {prefix: np.asarray(value, dtype=float).ravel().tolist(),
                f"{prefix}.shape": list(value.shape)}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return flatten_result(dict(zip(value._fields, value, strict=True)), trajectories)
    if isinstance(value, (tuple, list)):
        row = {}
        for i, v in enumerate(value):
            row.update(flatten_result(v, trajectories, prefix=f"{prefix}[{i}]"))
        return row
    if hasattr(value, "mean") and hasattr(value, "quantile"):
        return {f"{prefix}.{k}" if prefix != "value" else k: v
                for k, v in _law_columns(value).items()}
    if dataclasses.is_dataclass(value):
        return flatten_result({f.name: getattr(value, f.name)
                               for f in dataclasses.fields(value)}, trajectories)
    return {prefix: repr(value)}


def param_columns(labels: Mapping, params: Mapping) -> dict:
    """Readable parameter columns: the value or its spec/repr, plus the scalar fields of
    toolkit objects (``regime.n``, ``regime.type``)."""
    row = {}
    for name, label in labels.items():
        row[name] = label
        obj = params[name]
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            row[f"{name}.type"] = type(obj).__name__
            for f in dataclasses.fields(obj):
                v = getattr(obj, f.name)
                if isinstance(v, _SCALARS):
                    row[f"{name}.{f.name}"] = _scalar(v)
            if hasattr(obj, "size") and isinstance(obj.size, int):
                row[f"{name}.size"] = obj.size
    return row
