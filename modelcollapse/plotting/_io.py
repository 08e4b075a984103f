"""Data files of the figures: ``<name>_data.npz`` (arrays) and ``<name>_data.json``
(parameters, seeds, scalars). Plotting reads only these files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..files import atomic_path, write_text


class FigureSkipped(Exception):
    """Raised by a figure's ``compute`` when its data cannot be produced here (e.g. the
    transformer harness has not been run); the message says why."""


def committed_results(default: Path, env: str, what: str, how: str) -> tuple[Path, dict]:
    """The committed benchmark results a figure is drawn from: the JSON file named by the
    environment variable ``env``, else ``default``; ``FigureSkipped`` (saying ``how`` to
    make it) when there is none."""
    import os

    path = Path(os.environ.get(env) or default)
    if not path.exists():
        raise FigureSkipped(f"no committed {what} at {path} ({how}, or set {env})")
    with open(path, encoding="utf-8") as f:
        return path, json.load(f)


def data_paths(out_dir, name: str) -> tuple[Path, Path]:
    out = Path(out_dir)
    return out / f"{name}_data.npz", out / f"{name}_data.json"


def _jsonable(x):
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return x


def save_data(data: dict, out_dir, name: str) -> tuple[Path, Path]:
    """Write ``data``: its ``"params"`` entry (a JSON-able dict) to the JSON file, every
    array to the ``.npz`` file."""
    npz, js = data_paths(out_dir, name)
    npz.parent.mkdir(parents=True, exist_ok=True)
    arrays = {k: np.asarray(v) for k, v in data.items() if k != "params"}
    with atomic_path(npz) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    write_text(js, json.dumps(_jsonable(data.get("params", {})), indent=2, allow_nan=True)
               + "\n")
    return npz, js


def load_data(out_dir, name: str) -> dict:
    """Read what :func:`save_data` wrote (``FileNotFoundError`` if it is missing)."""
    npz, js = data_paths(out_dir, name)
    if not npz.exists() or not js.exists():
        raise FileNotFoundError(
            f"no data for figure {name!r} in {Path(out_dir)} (expected {npz.name} and "
            f"{js.name}); run it once without --replot")
    with np.load(npz, allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    data["params"] = json.loads(js.read_text(encoding="utf-8"))
    return data
