"""``sweep``: run a task over a grid, serially or on a Dask cluster, into a durable store."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import time
from pathlib import Path

from ..files import check_output_path
from ._canon import canonical_json
from ._results import flatten_result, param_columns
from ._store import Store
from ._task import Cell, Task, make_cells

__all__ = ["SweepError", "run_cell", "sweep"]

_INSTALL_HINT = ('modelcollapse.sweep needs dask.distributed for parallel sweeps: '
                 'pip install "modelcollapse[sweep]" (or pip install "distributed>=2024.1" '
                 'pandas pyarrow); client="serial" runs without it')


#: seconds to wait for the scheduler at a given address (``client="tcp://..."``) before
#: giving up with a ``ValueError``; pass a connected ``distributed.Client`` to wait longer
SCHEDULER_TIMEOUT = 5.0


class SweepError(RuntimeError):
    """Some cells failed; every other cell is stored, and a re-run retries the failed ones.
    ``failures`` lists ``(cell_key, params, exception)``."""

    def __init__(self, message, failures):
        super().__init__(message)
        self.failures = failures


def _require_distributed():
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_INSTALL_HINT) from exc
    return distributed


def _worker_name() -> str:
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            w = get_worker()
            return str(w.name if w.name is not None else w.address)
        except ValueError:
            pass
    return "serial"


def run_cell(task: Task, cell: Cell, sweep_seed: int, trajectories: bool = False) -> dict:
    """Compute one cell and return its row (runs on a worker, or in the driver)."""
    params = {k: v for k, v in cell.params.items() if not (k == "seed" and task.takes_seed)}
    t0 = time.perf_counter()
    value = task(params, seed=cell.seed(sweep_seed))
    seconds = time.perf_counter() - t0
    if getattr(value, "interrupted", False):  # e.g. simulate(on_interrupt="return")
        raise KeyboardInterrupt(f"cell {cell.key} was interrupted; it is not stored")
    row = {"cell_key": cell.key}
    row.update(param_columns(cell.labels, cell.params))
    for k, v in flatten_result(value, trajectories).items():
        row[f"result.{k}" if k in row else k] = v
    row.update(seconds=seconds, worker=_worker_name(), pid=os.getpid())
    return row


def _tidy(table):
    """Columns in a fixed order: parameters, ``cell_key``, results, timing/worker."""
    tail = [c for c in ("seconds", "worker", "pid") if c in table.columns]
    if "cell_key" not in table.columns:
        return table
    first = [c for c in table.columns if c not in tail]
    return table[first + tail]


def _grid_json(grid) -> str:
    try:
        return canonical_json(grid if not hasattr(grid, "items") else dict(grid))
    except TypeError:
        return repr(grid)


class _Memory:
    """Stand-in for the store when ``store=None``."""

    def __init__(self):
        self.rows = {}

    def done_keys(self):
        return set(self.rows)

    def write(self, row):
        self.rows[row["cell_key"]] = row

    def read(self, keys):
        import pandas as pd

        rows = [self.rows[k] for k in keys if k in self.rows]
        return pd.DataFrame(rows) if rows else pd.DataFrame()


def _connect(client, workers, dashboard):
    """``(client, things to close, dashboard link)``."""
    distributed = _require_distributed()
    owned = []
    if client is None:
        n = workers or os.cpu_count() or 1
        cluster = distributed.LocalCluster(
            n_workers=n, threads_per_worker=1, processes=True,
            dashboard_address=":0", silence_logs=logging.ERROR,
            scheduler_kwargs=None if dashboard else {"dashboard": False})
        client = distributed.Client(cluster)
        owned = [client, cluster]
    elif isinstance(client, str):
        address = client
        try:
            client = distributed.Client(address, timeout=SCHEDULER_TIMEOUT)
        except OSError as exc:  # nothing listening, unknown host, timed out
            raise ValueError(
                f"no Dask scheduler answered at {address!r} within {SCHEDULER_TIMEOUT:g} s "
                f"({exc}); start one (dask scheduler) or check the address") from None
        except ValueError as exc:  # e.g. an unknown scheme
            raise ValueError(f"Dask scheduler address {address!r}: {exc}") from None
        owned = [client]
    elif not isinstance(client, distributed.Client):
        if hasattr(client, "scheduler_address"):  # a Cluster: LocalCluster, SLURMCluster...
            client = distributed.Client(client)
            owned = [client]
        else:
            raise ValueError("client must be None (a LocalCluster), 'serial', a scheduler "
                             "address, a distributed.Client or a Cluster, got "
                             f"{client!r}")
    link = None
    with contextlib.suppress(Exception):
        link = client.dashboard_link
    if link and owned and client is owned[0] and len(owned) == 2:
        import importlib.util

        if importlib.util.find_spec("bokeh") is None:  # no dashboard served without bokeh
            link = None
    return client, owned, link


def _close(owned) -> None:
    for thing in owned:
        with contextlib.suppress(Exception):
            thing.close()


def sweep(task, grid, *, client=None, store=None, seed: int = 0, workers: int | None = None,
          retries: int = 1, progress: bool = True, trajectories: bool = False,
          max_cells: int | None = None, on_cell=None, dashboard: bool = True):
    """Run ``task`` on every cell of ``grid``; return one row per cell (pandas DataFrame).

    Parameters
    ----------
    task : callable or Task
        A theory function, ``montecarlo.simulate`` or any function, with fixed arguments
        bound by ``functools.partial`` or :class:`Task`. If it takes ``seed``, every cell
        gets ``numpy.random.SeedSequence([seed, *entropy(cell parameters)])``: the same
        stream serially, in parallel, on any worker and when re-run alone.
    grid : mapping or list of mappings
        ``{name: [values]}`` (cartesian product, last name fastest) or an explicit list of
        cells ``[{name: value}, ...]``. ``model``/``regime`` may be spec strings
        (``"zipf:100"``, ``"replace:1000"``; see :meth:`modelcollapse.models.Model.from_spec` and
        :meth:`modelcollapse.regimes.Regime.from_spec`). A
        ``seed`` entry (for a task that takes ``seed``) labels independent repetitions:
        it enters the cell's stream, it is not passed verbatim.
    client : None, "serial", str, distributed.Client or a Dask cluster
        ``None``: an in-process ``LocalCluster`` of ``workers`` single-threaded worker
        processes, closed afterwards; ``"serial"``: a plain loop in this process; a
        scheduler address (``"tcp://host:8786"``); a ``Client``; or a cluster object
        (``dask_jobqueue.SLURMCluster(...)`` after ``.scale(...)``).
    store : path, optional
        Directory: ``sweep.json`` plus one Parquet file per finished cell, written as each
        cell finishes. Re-running skips the stored cells; a store of another task or seed
        is refused. ``None`` keeps results in memory only.
    seed : int
        The sweep seed (non-negative).
    retries : int
        Extra attempts of a cell that raised (cells on a worker that died are rescheduled
        by Dask regardless).
    trajectories : bool
        Also keep, for a ``SimulationResult``, the mean over replicates of each scalar
        statistic per generation (list columns ``<statistic>.trajectory``).
    max_cells : int, optional
        Compute at most this many new cells, then return (chunked runs).
    on_cell : callable, optional
        Called in the driver with each new row after it is stored.

    Returns
    -------
    pandas.DataFrame
        Parameter columns (values, spec strings or reprs, plus ``model.type``,
        ``regime.n``...), ``cell_key``, result columns, ``seconds``, ``worker``, ``pid``;
        rows in grid order. ``.attrs``: ``computed`` (cells run now), ``reused`` (read
        from the store), ``missing``.

    Raises
    ------
    ValueError
        Bad grid (before any work starts), or a store of another sweep.
    SweepError
        Some cells raised; the others are stored.
    KeyboardInterrupt
        After cancelling the cells in flight; the finished ones are stored.
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    if max_cells is not None and (not isinstance(max_cells, int) or max_cells < 0):
        raise ValueError(f"max_cells must be a non-negative int, got {max_cells!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be a non-negative int, got {retries!r}")
    task = Task.coerce(task)
    cells = make_cells(task, grid)
    if isinstance(client, str) and client == "serial":
        client, serial = None, True
    else:
        serial = False
        if client is None and workers is not None and workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
    if store is not None:
        check_output_path(store, "store", folder=True)
    owned = []
    if not serial and isinstance(client, str):  # an unreachable scheduler fails now,
        client, owned, link = _connect(client, None, dashboard)  # before the store is made
    try:
        if store is not None:
            sink = Store(store)
            sink.open(task.identity, seed, _grid_json(grid), repr(task))
        else:
            sink = _Memory()
        done = sink.done_keys()
    except BaseException:
        _close(owned)
        raise
    todo = [c for c in cells if c.key not in done]
    reused = len(cells) - len(todo)
    if max_cells is not None:
        todo = todo[:max_cells]

    from tqdm.auto import tqdm

    bar = tqdm(total=len(cells), initial=reused, unit="cell", desc="sweep",
               disable=not progress, smoothing=0.05, dynamic_ncols=True)
    say = bar.write if progress else (lambda s: None)
    if reused:
        say(f"sweep: {reused} of {len(cells)} cells already in {store}; "
            f"computing {len(todo)}")
    computed, failures = 0, []

    def finish(row):
        nonlocal computed
        sink.write(row)
        computed += 1
        bar.update(1)
        if on_cell is not None:
            on_cell(row)

    try:
        if todo and serial:
            for cell in todo:
                try:
                    row = run_cell(task, cell, seed, trajectories)
                except Exception as exc:
                    failures.append((cell.key, cell.labels, exc))
                    continue
                finish(row)
        elif todo:
            distributed = _require_distributed()
            n = min(workers or os.cpu_count() or 1, len(todo))
            if not owned:  # (a scheduler address is connected above)
                client, owned, link = _connect(client, n, dashboard)
            if link:
                say(f"sweep: Dask dashboard at {link}")
            futures = {}
            try:
                for cell in todo:
                    fut = client.submit(run_cell, task, cell, seed, trajectories,
                                        pure=False, retries=retries,
                                        key=f"sweep-cell-{cell.key}-{secrets.token_hex(4)}")
                    futures[fut] = cell
                for fut in distributed.as_completed(list(futures)):
                    cell = futures[fut]
                    if fut.status != "finished":
                        try:
                            exc = fut.exception()
                        except Exception as e:  # cancelled
                            exc = e
                        failures.append((cell.key, cell.labels, exc))
                        continue
                    row = fut.result()
                    fut.release()
                    finish(row)
            except BaseException:
                with contextlib.suppress(Exception):
                    client.cancel(list(futures))
                raise
    except KeyboardInterrupt:
        bar.close()
        print(f"sweep interrupted: {reused + computed} of {len(cells)} cells stored"
              f"{' in ' + str(store) if store is not None else ''}; re-run to compute the "
              "rest", file=sys.stderr)
        raise
    finally:
        bar.close()
        _close(owned)
    table = _tidy(sink.read([c.key for c in cells]))
    table.attrs.update(computed=computed, reused=reused,
                       missing=len(cells) - reused - computed,
                       store=None if store is None else str(Path(store)))
    if failures:
        _key, labels, exc = failures[0]
        raise SweepError(
            f"{len(failures)} of {len(todo)} cells failed (first: {labels}: "
            f"{type(exc).__name__}: {exc}); the {computed} others are stored; re-run to "
            "retry the failed ones", failures)
    return table
