"""The store: a directory with a ``sweep.json`` manifest and one Parquet file per
finished cell (``cells/<key>.parquet``, written atomically: temporary file + rename)."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_path, write_text

__all__ = ["FORMAT", "Store", "read_store"]

FORMAT = "modelcollapse.sweep/1"


class Store:
    def __init__(self, path):
        self.path = Path(path)
        self.cells_dir = self.path / "cells"
        self.manifest_path = self.path / "sweep.json"

    # ------------------------------------------------------------------ manifest
    def open(self, task_identity: dict, seed: int, grid_json: str, task_repr: str) -> None:
        """Create the store, or check that it belongs to the same task and seed."""
        manifest = {"format": FORMAT, "task": task_identity, "task_repr": task_repr,
                    "seed": int(seed)}
        if self.manifest_path.exists():
            old = self.manifest()
            if old.get("format") != FORMAT:
                raise ValueError(f"{self.path} is not a modelcollapse sweep store")
            if old.get("task") != task_identity or old.get("seed") != int(seed):
                raise ValueError(
                    f"the store {self.path} holds a different sweep ({old.get('task_repr')}, "
                    f"seed {old.get('seed')}); this one is {task_repr}, seed {seed}. Use "
                    "another store, or delete this one to start over")
            grids = old.get("grids", [])
        else:
            grids = []
        if grid_json not in grids:
            grids.append(grid_json)
        manifest["grids"] = grids
        self.cells_dir.mkdir(parents=True, exist_ok=True)
        write_text(self.manifest_path, json.dumps(manifest, indent=1))

    def manifest(self) -> dict:
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    # ------------------------------------------------------------------ cells
    def cell_path(self, key: str) -> Path:
        return self.cells_dir / f"{key}.parquet"

    def done_keys(self) -> set[str]:
        """Keys of the stored cells whose files are readable; a corrupt cell file is
        removed, with a warning, so that its cell is computed again."""
        if not self.cells_dir.exists():
            return set()
        import warnings

        import pyarrow.parquet as pq

        keys = set()
        for p in self.cells_dir.glob("*.parquet"):
            try:
                pq.read_metadata(p)
            except Exception as exc:  # any unreadable file is recomputed
                warnings.warn(f"sweep store {self.path}: cell file {p.name} is unreadable "
                              f"({type(exc).__name__}: {exc}); its cell will be computed "
                              "again", RuntimeWarning, stacklevel=2)
                p.unlink(missing_ok=True)
                continue
            keys.add(p.stem)
        return keys

    def write(self, row: dict) -> Path:
        import pandas as pd

        frame = pd.DataFrame([row])
        path = self.cell_path(row["cell_key"])
        with atomic_path(path) as tmp:
            frame.to_parquet(tmp, index=False)
        return path

    def read(self, keys=None):
        """The table of the finished cells (``keys``: these, in this order)."""
        import pandas as pd

        if keys is None:
            paths = sorted(self.cells_dir.glob("*.parquet")) if self.cells_dir.exists() else []
        else:
            paths = [self.cell_path(k) for k in keys]
        frames = [pd.read_parquet(p) for p in paths if p.exists()]
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)



def read_store(path):
    """The table (pandas DataFrame) of every finished cell in the store at ``path``."""
    store = Store(path)
    if not store.manifest_path.exists():
        raise ValueError(f"{path} is not a sweep store (no sweep.json)")
    return store.read()
