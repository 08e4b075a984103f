"""Parameter sweeps of theory functions and Monte Carlo simulations, serial or on Dask.

>>> import functools
>>> from modelcollapse import Categorical, Replace, theory
>>> from modelcollapse.sweep import sweep
>>> t = sweep(theory.expected_collapse_time, {"model": ["uniform:2", "uniform:3"],
...           "regime": ["replace:4"]}, client="serial", progress=False)
>>> [round(v, 6) for v in t["value"]]
[4.551724, 5.400511]

``sweep(task, grid, client=None, store=PATH, seed=0)``: see :func:`sweep`. Cells are keyed
by a hash of their parameters and the task; each cell's random stream is derived from
the sweep seed and its parameters only. ``client=None`` starts a ``LocalCluster``
(``dask.distributed``, imported only then); ``client="serial"`` is a plain loop.
"""

from ..models import Model
from ..regimes import Regime
from ._canon import canonical_json, digest
from ._core import SweepError, run_cell, sweep
from ._store import read_store
from ._task import Cell, Task, make_cells

__all__ = [
    "Cell",
    "SweepError",
    "Task",
    "canonical_json",
    "digest",
    "make_cells",
    "parse_model",
    "parse_regime",
    "read_store",
    "run_cell",
    "sweep",
    "to_xarray",
]


def to_xarray(table):
    """The table as an ``xarray.Dataset`` over a ``cell`` dimension; list columns
    (``*.trajectory``) become ``(cell, generation)`` arrays padded with NaN. Needs the
    optional ``xarray`` package."""
    try:
        import xarray as xr
    except ImportError as exc:
        raise ImportError("to_xarray needs xarray: pip install xarray") from exc
    import numpy as np

    data = {}
    for col in table.columns:
        values = list(table[col])
        if any(isinstance(v, (list, tuple, np.ndarray)) for v in values):
            width = max(len(v) for v in values if v is not None)
            arr = np.full((len(values), width), np.nan)
            for i, v in enumerate(values):
                if v is not None:
                    arr[i, :len(v)] = np.asarray(v, dtype=float)
            data[col] = (("cell", "generation"), arr)
        else:
            data[col] = (("cell",), np.asarray(values))
    return xr.Dataset(data, coords={"cell": np.asarray(table["cell_key"])})

#: A model from its spec string (:meth:`modelcollapse.models.Model.from_spec`).
parse_model = Model.from_spec
#: A regime from its spec string (:meth:`modelcollapse.regimes.Regime.from_spec`).
parse_regime = Regime.from_spec
