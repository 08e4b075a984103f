"""Scaling of a Monte Carlo sweep (64 cells) from 1 to 2 Dask workers on this machine.

    NUMBA_NUM_THREADS=1 python benchmarks/bench_sweep.py  # (set by the script)

Cells: ``montecarlo.simulate(Categorical.zipf(200), Replace(n), 300, replicates=400,
backend="numba")`` for ``n`` in 200, 400, 800, 1600 and 16 repetitions (``seed`` grid
entry). Every simulation runs on one thread (``NUMBA_NUM_THREADS=1``) so that the
workers, not numba's thread pool, provide the parallelism. Compared:

* ``plain``: a plain serial loop calling ``simulate`` with each cell's seed;
* ``sweep_serial``: ``sweep(..., client="serial")`` with a Parquet store;
* ``dask_1``/``dask_2``: ``sweep`` on a ``LocalCluster`` of 1 / 2 single-threaded worker
  processes (cluster start and numba warm-up timed separately).

Writes ``benchmarks/results/sweep_scaling.json``: wall times (best of ``--repeats``), the
speed-up from 1 to 2 workers, and the overhead per cell against the plain loop.
"""

from __future__ import annotations

import os

# One thread per simulation, here and in the workers (which inherit the environment).
os.environ["NUMBA_NUM_THREADS"] = "1"

import argparse
import functools
import json
import platform
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from modelcollapse import Categorical, Replace, montecarlo
from modelcollapse.sweep import Task, make_cells, sweep

NS = (200, 400, 800, 1600)
REPS = 16
GENERATIONS = 300
REPLICATES = 400
SEED = 2024
META = ("seconds", "worker", "pid")


def _task():
    return functools.partial(montecarlo.simulate, generations=GENERATIONS,
                             replicates=REPLICATES, backend="numba")


def _grid():
    return {"model": ["zipf:200"], "regime": [f"replace:{n}" for n in NS],
            "seed": list(range(REPS))}


def _warm():
    montecarlo.simulate(Categorical.zipf(20), Replace(10), 3, replicates=4, seed=0)
    return os.getpid()


def plain_loop() -> tuple[float, list[float]]:
    """The same 64 simulations in a plain loop (no sweep machinery)."""
    task = Task(_task())
    cells = make_cells(task, _grid())  # only for the per-cell seeds: done before timing
    model = Categorical.zipf(200)
    jobs = [(Replace(c.params["regime"].n), c.seed(SEED)) for c in cells]
    t0 = time.perf_counter()
    out = []
    for regime, seed in jobs:
        res = montecarlo.simulate(model, regime, GENERATIONS, replicates=REPLICATES,
                                  backend="numba", seed=seed)
        out.append(float(res.statistic("homozygosity")[:, -1].mean()))
    return time.perf_counter() - t0, out


def timed_sweep(client, store) -> tuple[float, pd.DataFrame]:
    t0 = time.perf_counter()
    table = sweep(_task(), _grid(), client=client, store=store, seed=SEED, progress=False)
    return time.perf_counter() - t0, table


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                         "sweep_scaling.json"))
    args = ap.parse_args()
    import distributed

    _warm()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    times: dict[str, list[float]] = {"plain": [], "sweep_serial": [], "dask_1": [],
                                     "dask_2": []}
    startup = {}
    tables = {}
    try:
        for r in range(args.repeats):
            t, plain_h = plain_loop()
            times["plain"].append(t)
            t, tables["sweep_serial"] = timed_sweep("serial", tmp / f"serial-{r}")
            times["sweep_serial"].append(t)
        for workers in (1, 2):
            t0 = time.perf_counter()
            with distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                          processes=True, dashboard_address=":0") as cl, \
                    distributed.Client(cl) as client:
                client.run(_warm)  # import modelcollapse, load numba kernels
                startup[f"dask_{workers}"] = time.perf_counter() - t0
                for r in range(args.repeats):
                    t, tables[f"dask_{workers}"] = timed_sweep(client,
                                                               tmp / f"dask{workers}-{r}")
                    times[f"dask_{workers}"].append(t)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    ref = tables["sweep_serial"].drop(columns=list(META))
    identical = all(t.drop(columns=list(META)).equals(ref) for t in tables.values())
    identical = identical and plain_h == ref["homozygosity.mean"].tolist()
    n = len(ref)
    best = {k: min(v) for k, v in times.items()}
    cell_seconds = tables["sweep_serial"]["seconds"]
    result = {
        "benchmark": "64-cell Monte Carlo sweep: zipf(200) x Replace(n), "
                     f"n in {list(NS)}, {REPS} repetitions, {GENERATIONS} generations, "
                     f"{REPLICATES} replicates, numba backend on 1 thread per process",
        "cells": n,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "distributed": distributed.__version__,
                    "note": "2 CPU cores shared with other work: timings are noisy"},
        "repeats": args.repeats,
        "seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "best_seconds": {k: round(v, 3) for k, v in best.items()},
        "cluster_startup_seconds": {k: round(v, 3) for k, v in startup.items()},
        "mean_cell_seconds": round(float(cell_seconds.mean()), 4),
        "speedup_1_to_2_workers": round(best["dask_1"] / best["dask_2"], 3),
        "speedup_plain_to_2_workers": round(best["plain"] / best["dask_2"], 3),
        "overhead_per_cell_ms": {
            k: round(1000 * (best[k] - best["plain"]) / n, 2)
            for k in ("sweep_serial", "dask_1")},
        "overhead_per_cell_ms_2_workers_vs_half_plain": round(
            1000 * (best["dask_2"] - best["plain"] / 2) / (n / 2), 2),
        "results_identical_across_modes": bool(identical),
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
