"""Sweeps described in a TOML file (``modelcollapse sweep CONFIG.toml``).

.. code-block:: toml

    [task]
    function = "montecarlo.simulate"     # or "theory.expected_collapse_time",
    generations = 100                    # "package.module:function", ...
    replicates = 200                     # every other key: a fixed argument
    backend = "numba"

    [grid]                               # cartesian product of these lists
    model = ["zipf:200", "uniform:100"]  # spec strings, see below
    regime = ["replace:100", "mix:100:100"]
    seed = [0, 1]                        # independent repetitions (optional)

    # ...or an explicit list of cells instead of [grid]:
    # [[cells]]
    # model = "zipf:200"
    # regime = "replace:1000"

    [sweep]
    seed = 0                             # the sweep seed
    store = "runs/zipf"                  # relative to this file's folder
    workers = 2                          # LocalCluster size (default: CPU count)
    # scheduler = "tcp://10.0.0.1:8786"  # an existing Dask scheduler instead
    # serial = true                      # a plain loop, no Dask
    # retries = 1
    # trajectories = false

Model specs: ``uniform:K``, ``zipf:K[:EXPONENT]``, ``geometric:K:RATIO``,
``p:0.5,0.3,0.2``, ``wordfreq:LANG[:TOP]``, ``gaussian:DIM[:VAR[:ESTIMATOR]]``,
``mixture:DIM[:COMPONENTS]``, ``regression:DIM[:NOISE[:DESIGN]]``. Regime specs:
``replace:N``, ``mix:REAL:SYNTHETIC``, ``mix-fresh:REAL:SYNTHETIC``, ``accumulate:N``,
``accumulate-subsample:N``, ``most-recent:N:WINDOW``, ``randomly-sampled:N``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from ..models import Model
from ..regimes import Regime
from ._task import Task

__all__ = ["SweepConfig", "load_config", "resolve_function"]

_SWEEP_KEYS = {"seed", "store", "workers", "scheduler", "serial", "retries", "trajectories"}


def resolve_function(name: str):
    """``"montecarlo.simulate"``, ``"theory.X"`` (within modelcollapse), or a full
    ``"package.module:function"`` / ``"package.module.function"``."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"[task] function must be a name such as 'montecarlo.simulate', "
                         f"got {name!r}")
    name = name.strip()
    if ":" in name:
        mod, _, attr = name.partition(":")
        candidates = [(mod, attr)]
    else:
        mod, _, attr = name.rpartition(".")
        if not mod:
            raise ValueError(f"[task] function {name!r} needs a module, e.g. "
                             "'theory.expected_collapse_time'")
        candidates = [(f"modelcollapse.{mod}", attr), (mod, attr)]
    for mod, attr in candidates:
        try:
            module = import_module(mod)
        except ImportError:
            continue
        fn = getattr(module, attr, None)
        if callable(fn):
            return fn
    raise ValueError(f"[task] function {name!r} not found (tried "
                     f"{', '.join(m + '.' + a for m, a in candidates)})")


@dataclass
class SweepConfig:
    task: Task
    grid: object
    seed: int = 0
    store: Path | None = None
    workers: int | None = None
    scheduler: str | None = None
    serial: bool = False
    retries: int = 1
    trajectories: bool = False
    source: dict = field(default_factory=dict, repr=False)


def _fixed_value(name, value):
    if name == "model" and isinstance(value, str):
        return Model.from_spec(value)
    if name == "regime" and isinstance(value, str):
        return Regime.from_spec(value)
    return value


def load_config(path) -> SweepConfig:
    """Read and check a sweep config (``ValueError`` names the problem)."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ValueError(f"config file {path} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from None
    unknown = set(data) - {"task", "grid", "cells", "sweep"}
    if unknown:
        raise ValueError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected "
                         "[task], [grid] or [[cells]], [sweep]")
    task_tab = dict(data.get("task", {}))
    if "function" not in task_tab:
        raise ValueError(f"{path}: [task] needs function = 'montecarlo.simulate' (or another)")
    fn = resolve_function(task_tab.pop("function"))
    fixed = {k: _fixed_value(k, v) for k, v in task_tab.items()}
    task = Task(fn, **fixed)
    if ("grid" in data) == ("cells" in data):
        raise ValueError(f"{path}: give exactly one of [grid] (lists of values) and "
                         "[[cells]] (explicit cells)")
    grid = data["grid"] if "grid" in data else data["cells"]
    sw = dict(data.get("sweep", {}))
    bad = set(sw) - _SWEEP_KEYS
    if bad:
        raise ValueError(f"{path}: unknown [sweep] key(s) {', '.join(sorted(bad))}; known: "
                         f"{', '.join(sorted(_SWEEP_KEYS))}")
    store = sw.get("store")
    if store is not None:
        store = Path(store)
        if not store.is_absolute():
            store = path.parent / store
    return SweepConfig(task=task, grid=grid, seed=sw.get("seed", 0), store=store,
                       workers=sw.get("workers"), scheduler=sw.get("scheduler"),
                       serial=bool(sw.get("serial", False)), retries=sw.get("retries", 1),
                       trajectories=bool(sw.get("trajectories", False)), source=data)
