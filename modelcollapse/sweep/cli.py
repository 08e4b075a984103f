"""``modelcollapse sweep CONFIG.toml``: hook with ``add_parser(subparsers)`` and
``run(args)``.

In :func:`modelcollapse.cli.build_parser`::

    from .sweep import cli as sweep_cli
    sweep_cli.add_parser(sub)

``add_parser`` sets ``func=run`` on the subparser; ``run`` returns the exit status
(0: every cell done; 1: some cells failed; 130: interrupted). Errors in the config
raise ``ValueError`` (``modelcollapse.cli.main`` prints them and exits 2).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

__all__ = ["add_parser", "main", "run"]


DESCRIPTION = ("Run a task over a grid of parameters, in parallel on Dask (a local cluster "
               "by default), storing every finished cell; a re-run continues.")


def add_parser(subparsers) -> argparse.ArgumentParser:
    s = subparsers.add_parser(
        "sweep", help="run a parameter sweep described in a TOML file (Dask or serial)",
        description=DESCRIPTION)
    add_arguments(s)
    return s


def add_arguments(s) -> None:
    """The options of ``modelcollapse sweep`` on the parser ``s`` (sets ``func=run``)."""
    s.add_argument("config", metavar="CONFIG.toml", help="the sweep description")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, help="local worker processes (default: config, "
                                               "else the CPU count)")
    g.add_argument("--scheduler", metavar="ADDR",
                   help="use the Dask scheduler at ADDR (e.g. tcp://host:8786)")
    g.add_argument("--serial", action="store_true", help="plain loop in this process")
    s.add_argument("--store", metavar="DIR", help="the store (default: the config's)")
    s.add_argument("--seed", type=int, help="the sweep seed (default: the config's)")
    s.add_argument("--max-cells", type=int, help="compute at most this many new cells")
    s.add_argument("--out", metavar="FILE", help="also write the table (.csv or .parquet)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.add_argument("--json", action="store_true", help="print a JSON summary")
    s.set_defaults(func=run)


def run(args) -> int:
    from ..files import check_output_path
    from . import SweepError, sweep
    from ._config import load_config

    cfg = load_config(args.config)
    if args.serial or (cfg.serial and not (args.workers or args.scheduler)):
        client = "serial"
    else:
        client = args.scheduler or (None if args.workers else cfg.scheduler)
    workers = args.workers or cfg.workers
    store = args.store or cfg.store
    seed = cfg.seed if args.seed is None else args.seed
    if store is not None:  # before any cell runs
        check_output_path(store, "--store" if args.store else f"store (of {args.config})",
                          folder=True)
    if args.out:
        check_output_path(args.out, "--out")
    t0 = time.perf_counter()
    status = 0
    try:
        table = sweep(cfg.task, cfg.grid, client=client, store=store, seed=seed,
                      workers=workers, retries=cfg.retries, trajectories=cfg.trajectories,
                      progress=not args.no_progress, max_cells=args.max_cells)
    except KeyboardInterrupt:
        return 130
    except SweepError as exc:
        print(f"modelcollapse sweep: {exc}", file=sys.stderr)
        if store is None:
            return 1
        from ._store import read_store

        table, status = read_store(store), 1
    secs = time.perf_counter() - t0
    if args.out:  # written whole; the temporary name keeps the suffix pandas reads
        from pathlib import Path

        from ..files import atomic_path

        with atomic_path(args.out, suffix=".tmp" + "".join(Path(args.out).suffixes[-2:])) as tmp:
            if str(args.out).endswith(".parquet"):
                table.to_parquet(tmp, index=False)
            else:
                table.to_csv(tmp, index=False)
    summary = {"task": repr(cfg.task), "cells": len(table),
               "computed": table.attrs.get("computed"), "reused": table.attrs.get("reused"),
               "missing": table.attrs.get("missing"),
               "store": None if store is None else str(store), "out": args.out,
               "seconds": round(secs, 3)}
    if args.json:
        print(json.dumps(summary, indent=2))
        return status
    print(f"task     : {summary['task']}")
    print(f"cells    : {summary['cells']} in the table ({summary['computed']} computed now, "
          f"{summary['reused']} from the store, {summary['missing']} missing), {secs:.1f} s")
    if store is not None:
        print(f"store    : {store}")
    if args.out:
        print(f"written  : {args.out}")
    if len(table):
        import pandas as pd

        hide = {"cell_key", "seconds", "worker", "pid"}
        cols = [c for c in table.columns if c not in hide and "." not in c][:8]
        extra = [c for c in table.columns if c.endswith(".mean") or c == "value"][:4]
        with pd.option_context("display.width", 120, "display.max_columns", 12):
            print(table[list(dict.fromkeys(cols + extra))].head(20).to_string(index=False))
    return status


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m modelcollapse.sweep.cli CONFIG.toml``): the
    ``modelcollapse sweep`` command."""
    parser = argparse.ArgumentParser(prog="modelcollapse sweep", description=DESCRIPTION)
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except (ValueError, ImportError) as exc:  # bad config, or a missing optional extra
        parser.exit(2, f"modelcollapse sweep: error: {exc}\n")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
