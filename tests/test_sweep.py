"""modelcollapse.sweep: reproducible, durable, fault-tolerant sweeps (serial and Dask)."""

from __future__ import annotations

import functools
import os
import signal
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelcollapse import montecarlo, theory
from modelcollapse.sweep import SweepError, Task, make_cells, read_store, sweep, to_xarray
from modelcollapse.sweep._testing import execution_pids, executions, logged_draw

distributed = pytest.importorskip("distributed")

GRID = {"x": [0.0, 0.5, 1.0], "y": [1, 2, 3, 4]}  # 12 cells
META = ("seconds", "worker", "pid", "cell_key")  # cell_key: the task differs (log_dir)


def results(table: pd.DataFrame) -> pd.DataFrame:
    return table[[c for c in table.columns if c not in META]].reset_index(drop=True)


def task(log_dir, delay=0.0, fail_marker=""):
    return Task(logged_draw, log_dir=str(log_dir), delay=delay, fail_marker=str(fail_marker))


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.fixture
def serial_table(tmp_path):
    log = tmp_path / "serial-log"
    log.mkdir()
    return sweep(task(log), GRID, client="serial", seed=7, progress=False)


def _mk(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------- reproducibility
def test_two_workers_equal_serial(tmp_path, client, serial_table):
    log = _mk(tmp_path / "log")
    par = sweep(task(log), GRID, client=client, store=tmp_path / "store", seed=7,
                progress=False)
    assert len(par) == 12 and par.attrs["computed"] == 12
    pd.testing.assert_frame_equal(results(par), results(serial_table))
    assert set(par["worker"]) <= {str(w["name"]) for w in
                                  client.scheduler_info()["workers"].values()}
    # the store reads back the same table
    stored = read_store(tmp_path / "store").set_index("cell_key").loc[par["cell_key"]]
    assert stored["u0"].tolist() == par["u0"].tolist()


def test_simulate_two_workers_equal_serial(client):
    sim = functools.partial(montecarlo.simulate, generations=8, replicates=20,
                            backend="numpy")
    grid = {"model": ["uniform:5", "zipf:8:1.1"], "regime": ["replace:10", "mix:5:5"]}
    a = sweep(sim, grid, client="serial", seed=3, progress=False)
    b = sweep(sim, grid, client=client, seed=3, progress=False)
    pd.testing.assert_frame_equal(results(a), results(b))
    assert {"homozygosity.mean", "homozygosity.se", "collapse_time.mean",
            "regime.n"} <= set(a.columns)
    assert a["regime.type"].tolist() == ["Replace", "Mix"] * 2


def test_cell_alone_equals_its_value_in_the_sweep(tmp_path, serial_table):
    log = _mk(tmp_path / "log")
    alone = sweep(task(log), [{"x": 0.5, "y": 3}], client="serial", seed=7, progress=False)
    row = serial_table[(serial_table["x"] == 0.5) & (serial_table["y"] == 3)]
    pd.testing.assert_frame_equal(results(alone), results(row))
    # the stream depends on the sweep seed and the parameters, not on the position
    other = sweep(task(log), {"y": [3], "x": [1.0, 0.5]}, client="serial", seed=7,
                  progress=False)
    assert other["u0"].iloc[1] == row["u0"].iloc[0]
    changed = sweep(task(log), [{"x": 0.5, "y": 3}], client="serial", seed=8, progress=False)
    assert changed["u2"].iloc[0] != row["u2"].iloc[0]


def test_theory_function_without_seed():
    t = sweep(theory.expected_collapse_time, {"model": ["uniform:2"], "regime": ["replace:4"]},
              client="serial", progress=False)
    assert t["value"].iloc[0] == pytest.approx(4.551724, abs=1e-6)
    assert t["value.method"].iloc[0] == "coalescent" and bool(t["value.exact"].iloc[0])


def test_trajectories_and_xarray(tmp_path):
    """Per-generation means (``trajectories=True``) equal those of a direct simulate call
    with the cell's seed; ``to_xarray`` gives them as (cell, generation) arrays, from the
    returned table and from the store alike."""
    xr = pytest.importorskip("xarray")
    sim = functools.partial(montecarlo.simulate, generations=6, replicates=30,
                            backend="numpy", statistics=("homozygosity", "support_size"))
    grid = {"model": ["uniform:4", "zipf:5:1.1"], "regime": ["replace:5", "mix:4:4"]}
    table = sweep(sim, grid, client="serial", store=tmp_path / "s", seed=3, progress=False,
                  trajectories=True)
    cells = make_cells(Task(sim), grid)
    assert table["cell_key"].tolist() == [c.key for c in cells]
    for (_, row), cell in zip(table.iterrows(), cells, strict=True):
        direct = sim(**cell.params, seed=cell.seed(3))
        for stat in ("homozygosity", "support_size"):
            want = direct[stat].mean(axis=0)
            assert len(row[f"{stat}.trajectory"]) == 7
            np.testing.assert_allclose(row[f"{stat}.trajectory"], want, rtol=1e-12)
            assert row[f"{stat}.mean"] == pytest.approx(want[-1], rel=1e-12)
    for source in (table, read_store(tmp_path / "s")):
        ds = to_xarray(source)
        assert isinstance(ds, xr.Dataset)
        assert ds["homozygosity.trajectory"].dims == ("cell", "generation")
        assert ds["homozygosity.trajectory"].shape == (4, 7)
        assert sorted(ds["cell"].values) == sorted(c.key for c in cells)
        for i, key in enumerate(ds["cell"].values):
            row = table[table["cell_key"] == key].iloc[0]
            np.testing.assert_array_equal(ds["support_size.trajectory"].values[i],
                                          row["support_size.trajectory"])
            assert ds["regime"].values[i] == row["regime"]
    # a different seed gives different trajectories: the comparison above can fail
    other = sweep(sim, grid, client="serial", seed=4, progress=False, trajectories=True)
    assert not np.allclose(other["homozygosity.trajectory"].iloc[0],
                           table["homozygosity.trajectory"].iloc[0])


# ---------------------------------------------------------------------- fault tolerance
def test_killed_worker_loses_nothing(tmp_path, serial_table):
    log = _mk(tmp_path / "log")
    killed = {}

    def kill_one_in_flight(row):
        if killed:
            return
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # a cell that started and has not finished
            started = {p.name[len("start-"):]: p.stat().st_mtime for p in log.glob("start-*")}
            ended = {p.name[len("end-"):] for p in log.glob("end-*")}
            # the latest-started running cell: the most time left before it ends
            running = sorted(set(started) - ended, key=started.get, reverse=True)
            if running:
                x, y, pid, _ = running[0].split("_")
                killed.update(x=float(x), y=int(y), pid=int(pid))
                os.kill(int(pid), signal.SIGKILL)
                return
            time.sleep(0.02)
        raise AssertionError("no cell in flight")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        par = sweep(task(log, delay=0.25), GRID, client=c, store=tmp_path / "store", seed=7,
                    progress=False, on_cell=kill_one_in_flight)
    assert killed, "the callback did not run"
    pd.testing.assert_frame_equal(results(par), results(serial_table))
    # the killed cell ran again elsewhere
    assert executions(log, killed["x"], killed["y"], "start") >= 2
    redone = par[(par["x"] == killed["x"]) & (par["y"] == killed["y"])]
    assert redone["pid"].iloc[0] != killed["pid"]
    # every cell finished; a cell finished twice only if its first result was held in
    # the killed worker's memory, not yet gathered (Dask recomputes such results)
    for x in GRID["x"]:
        for y in GRID["y"]:
            pids = execution_pids(log, x, y)
            assert len(pids) >= 1
            assert len(pids) == 1 or pids.count(killed["pid"]) == len(pids) - 1, (x, y, pids)
    # the store holds every cell exactly once
    stored = read_store(tmp_path / "store")
    assert len(stored) == 12 and stored["cell_key"].is_unique


# ---------------------------------------------------------------------- resumability
def test_interrupted_serial_sweep_resumes(tmp_path, serial_table):
    log = _mk(tmp_path / "log")
    marker = tmp_path / "interrupt-here"
    marker.write_text("0.5,3")  # the 7th cell raises KeyboardInterrupt, once
    store = tmp_path / "store"
    with pytest.raises(KeyboardInterrupt):
        sweep(task(log, fail_marker=marker), GRID, client="serial", store=store, seed=7,
              progress=False)
    assert len(read_store(store)) == 6
    before = {p.name: p.stat().st_mtime_ns for p in (store / "cells").glob("*.parquet")}
    again = sweep(task(log, fail_marker=marker), GRID, client="serial", store=store, seed=7,
                  progress=False)
    assert again.attrs["computed"] == 6 and again.attrs["reused"] == 6
    assert all(executions(log, x, y) == 1 for x in GRID["x"] for y in GRID["y"])
    after = {p.name: p.stat().st_mtime_ns for p in (store / "cells").glob("*.parquet")}
    assert all(after[k] == v for k, v in before.items())  # stored cells untouched
    pd.testing.assert_frame_equal(results(again), results(serial_table))
    # a third run computes nothing
    assert sweep(task(log, fail_marker=marker), GRID, client="serial", store=store, seed=7,
                 progress=False).attrs["computed"] == 0


def test_interrupted_dask_sweep_resumes(tmp_path, client, serial_table):
    log = _mk(tmp_path / "log")
    store = tmp_path / "store"
    seen = []

    def interrupt_after_three(row):
        seen.append(row["cell_key"])
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(task(log, delay=0.15), GRID, client=client, store=store, seed=7,
              progress=False, on_cell=interrupt_after_three)
    stored = set(read_store(store)["cell_key"])
    assert stored == set(seen)
    before = {p.name: p.stat().st_mtime_ns for p in (store / "cells").glob("*.parquet")}
    again = sweep(task(log, delay=0.15), GRID, client=client, store=store, seed=7,
                  progress=False)
    assert again.attrs["computed"] == 12 - len(stored) and again.attrs["reused"] == len(stored)
    after = {p.name: p.stat().st_mtime_ns for p in (store / "cells").glob("*.parquet")}
    assert all(after[k] == v for k, v in before.items())
    pd.testing.assert_frame_equal(results(again), results(serial_table))


def test_max_cells_and_store_of_another_sweep(tmp_path, serial_table):
    log = _mk(tmp_path / "log")
    store = tmp_path / "store"
    part = sweep(task(log), GRID, client="serial", store=store, seed=7, progress=False,
                 max_cells=5)
    assert len(part) == 5 and part.attrs["missing"] == 7
    with pytest.raises(ValueError, match="holds a different sweep"):
        sweep(task(log), GRID, client="serial", store=store, seed=8, progress=False)
    with pytest.raises(ValueError, match="holds a different sweep"):
        sweep(Task(logged_draw, log_dir=str(log), delay=0.01), GRID, client="serial",
              store=store, seed=7, progress=False)


def test_failing_cells_are_reported_and_others_kept(tmp_path):
    def fn(x: float, seed=None):
        if x < 0:
            raise ValueError("negative")
        return x

    with pytest.raises(SweepError, match="1 of 3 cells failed") as info:
        sweep(fn, {"x": [1.0, -1.0, 2.0]}, client="serial", store=tmp_path / "s",
              progress=False)
    assert len(info.value.failures) == 1
    assert sorted(read_store(tmp_path / "s")["value"]) == [1.0, 2.0]


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("grid, message", [
    ({"x": [0.0], "z": [1]}, "unknown parameter 'z'"),
    ({"x": [], "y": [1]}, r"grid\['x'\] is an empty list"),
    ({"x": 0.5}, r"grid\['x'\] must be a list of values"),
    ({"x": "abc"}, r"grid\['x'\] must be a list of values"),
    ({"x": [0.0, "a"]}, "parameter 'x' must be float"),
    ({"x": [0.0], "y": [1.5]}, "parameter 'y' must be int"),
    ([{"x": 1.0}, {"x": 1.0}], "duplicates cell 0"),
    ([], "list of cells is empty"),
    ({}, "grid is empty"),
    ({"y": [1]}, "missing a required argument: 'x'"),
    ({"x": [1.0], "log_dir": ["elsewhere"]}, "both fixed in the task and varied"),
    (42, "grid must be a mapping"),
])
def test_bad_grid_fails_before_any_work(tmp_path, grid, message):
    log = _mk(tmp_path / "log")
    with pytest.raises(ValueError, match=message):
        sweep(task(log), grid, client="serial", store=tmp_path / "store", progress=False)
    assert not list(log.iterdir()) and not (tmp_path / "store").exists()


@pytest.mark.parametrize("grid, message", [
    ({"model": ["zipf:10"], "regime": ["replace:abc"]}, "N in 'replace:abc' must be an int"),
    ({"model": ["zipff:10"], "regime": ["replace:5"]}, "unknown model kind 'zipff'"),
    ({"model": [5], "regime": ["replace:5"]}, "'model' must be a model"),
    ({"model": ["gaussian:2"], "regime": ["replace:1"]}, "needs at least 2 samples"),
    ({"model": ["uniform:3"], "regime": ["replace:5"], "statistics": [["nope"]]},
     "unknown statistic 'nope'"),
    ({"model": ["uniform:3"], "regime": ["replace:5"], "generations": ["10"]},
     "parameter 'generations' must be int"),
])
def test_bad_simulate_grid_fails_up_front(grid, message):
    sim = functools.partial(montecarlo.simulate, replicates=10, backend="numpy")
    with pytest.raises(ValueError, match=message):
        make_cells(Task(sim), grid)


def test_seed_fixed_in_task_is_refused():
    with pytest.raises(ValueError, match="do not fix the task's seed"):
        Task(montecarlo.simulate, seed=1)


# ---------------------------------------------------------------------- command line
def test_cli_runs_a_toml_config(tmp_path, capsys):
    from modelcollapse.sweep import cli

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(
        '[task]\nfunction = "montecarlo.simulate"\ngenerations = 5\nreplicates = 10\n'
        'backend = "numpy"\n\n[grid]\nmodel = ["uniform:4", "zipf:6:1.1"]\n'
        'regime = ["replace:8", "mix:4:4"]\n\n[sweep]\nseed = 1\nstore = "store"\n')
    out = tmp_path / "table.csv"
    assert cli.main([str(cfg), "--serial", "--no-progress", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "4 computed now" in text
    table = pd.read_csv(out)
    assert len(table) == 4 and (tmp_path / "store" / "sweep.json").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # written whole
    direct = sweep(functools.partial(montecarlo.simulate, generations=5, replicates=10,
                                     backend="numpy"),
                   {"model": ["uniform:4", "zipf:6:1.1"], "regime": ["replace:8", "mix:4:4"]},
                   client="serial", seed=1, progress=False)
    assert table["cell_key"].tolist() == direct["cell_key"].tolist()
    assert table["homozygosity.mean"].tolist() == pytest.approx(
        direct["homozygosity.mean"].tolist(), rel=1e-12)
    assert cli.main([str(cfg), "--serial", "--no-progress"]) == 0
    assert "0 computed now, 4 from the store" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('[task]\nfunction = "theory.expected_collapse_time"\n[grid]\nn = [1]\n')
    with pytest.raises(SystemExit) as exc:
        cli.main([str(bad), "--serial"])
    assert exc.value.code == 2
    assert "unknown parameter 'n'" in capsys.readouterr().err


def test_an_interrupted_simulation_is_never_stored(tmp_path, monkeypatch):
    """A simulate cell that returns an interrupted result (on_interrupt="return") is not
    a finished cell: the sweep stops with KeyboardInterrupt and stores nothing for it."""
    from modelcollapse import montecarlo
    from modelcollapse.montecarlo._numpy import core as _numpy_core

    def interrupted(self, g0, g1, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_numpy_core._VectorKernel, "advance", interrupted)
    store = tmp_path / "store"
    t = functools.partial(montecarlo.simulate, generations=50, replicates=2,
                          backend="numpy", on_interrupt="return")
    with pytest.raises(KeyboardInterrupt):
        sweep(t, {"model": ["uniform:3"], "regime": ["replace:4"]}, client="serial",
              store=store, progress=False)
    assert len(read_store(store)) == 0


def test_a_corrupt_cell_file_is_recomputed_with_a_warning(tmp_path, serial_table):
    log = _mk(tmp_path / "log")
    store = tmp_path / "store"
    first = sweep(task(log), GRID, client="serial", store=store, seed=7, progress=False)
    victim = sorted((store / "cells").glob("*.parquet"))[3]
    victim.write_bytes(victim.read_bytes()[:40])  # truncated
    with pytest.warns(RuntimeWarning, match="unreadable"):
        again = sweep(task(log), GRID, client="serial", store=store, seed=7, progress=False)
    assert again.attrs["computed"] == 1 and again.attrs["reused"] == len(first) - 1
    pd.testing.assert_frame_equal(results(again), results(first))


def test_a_bad_store_is_refused_before_any_cell(tmp_path):
    """sweep(store=...) names a store that is a file, or lies in one, before any cell
    runs (the task would fail the test); a good store is the control."""
    f = tmp_path / "a-file"
    f.write_text("x")

    def never(x):
        raise AssertionError("a cell ran")

    for bad, match in ((f, "is a file, not a folder"), (f / "st", "is not a folder")):
        with pytest.raises(ValueError, match=match):
            sweep(never, {"x": [1]}, client="serial", store=bad, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    table = sweep(lambda x: x + 1, {"x": [1]}, client="serial", store=tmp_path / "ok",
                  progress=False)
    assert table["value"].tolist() == [2] and (tmp_path / "ok" / "sweep.json").exists()


def test_an_unreachable_scheduler_is_a_quick_one_line_error(tmp_path, capsys, monkeypatch):
    """Nothing listens on port 1: a one-line error naming the address after the (short)
    connect timeout, and no store made; a scheduler that listens (the module's cluster,
    given by its address) is the control."""
    from modelcollapse.cli import main
    from modelcollapse.sweep import _core

    monkeypatch.setattr(_core, "SCHEDULER_TIMEOUT", 0.5)
    cfg = tmp_path / "t.toml"
    cfg.write_text('[task]\nfunction = "theory.expected_collapse_time"\n'
                   '[grid]\nmodel = ["uniform:2"]\nregime = ["replace:4"]\n')
    t0 = time.perf_counter()
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(cfg), "--scheduler", "tcp://127.0.0.1:1", "--store",
              str(tmp_path / "store"), "--no-progress"])
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 10
    assert exc.value.code == 2 and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "'tcp://127.0.0.1:1'" in err, err
    assert not (tmp_path / "store").exists()


def test_a_scheduler_address_connects_before_the_store(tmp_path, client):
    log = _mk(tmp_path / "log")
    table = sweep(task(log), {"x": [0.0], "y": [1, 2]}, client=client.scheduler.address,
                  store=tmp_path / "store", seed=7, progress=False)
    assert table.attrs["computed"] == 2 and len(read_store(tmp_path / "store")) == 2
    again = sweep(task(log), {"x": [0.0], "y": [1, 2]}, client=client.scheduler.address,
                  store=tmp_path / "store", seed=7, progress=False)  # all stored
    assert again.attrs["reused"] == 2 and client.status == "running"
