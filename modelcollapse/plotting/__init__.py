"""Publication figures: exact theory as lines, simulation as points or bands.

Each figure is a module ``figN_*.py`` with

``compute(quick=False) -> dict``
    runs the theory and the seeded simulations and returns arrays plus a JSON-able
    ``"params"`` entry (parameters, seeds, timings);
``plot(data) -> matplotlib.figure.Figure``
    draws the figure from that dict only; its docstring is the caption.

:func:`make_figure` writes ``<out>/<name>_data.npz`` and ``<name>_data.json`` (the data
with its seeds and parameters), then ``<name>.pdf`` (vector) and ``<name>.png``; with
``replot=True`` it reads the data files and simulates nothing. The command line is
``modelcollapse figures [NAME ...|all] [--quick] [--out DIR] [--replot]``
(:mod:`modelcollapse.plotting.cli`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

from ..files import atomic_path
from ._io import FigureSkipped, data_paths, load_data, save_data

#: The figures, in order; each is the module ``modelcollapse.plotting.<name>``. The
#: modules (and matplotlib) are imported on first use, so that building the
#: ``modelcollapse`` command line stays fast.
NAMES = ("fig1_simplex", "fig2_collapse_time", "fig3_mix", "fig4_windows",
         "fig5_gaussian", "fig6_accumulate", "fig7_forgetting", "fig8_harness",
         "fig9_regimes", "fig10_ngram", "fig11_approximations", "fig12_vae",
         "fig13_perplexity", "fig14_mitigations")
_STYLE_NAMES = ("DPI", "close", "figure", "style")


def _module(name: str):
    return import_module(f".{name}", __name__)


def __getattr__(attr):
    if attr == "FIGURES":  # name -> (compute, plot), in figure order
        return {name: (_module(name).compute, _module(name).plot) for name in NAMES}
    if attr in _STYLE_NAMES:
        return getattr(import_module(".style", __name__), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def resolve(name: str) -> str:
    """The registry name for ``name`` (a full name, ``fig3`` or ``3``)."""
    if name in NAMES:
        return name
    key = name if name.startswith("fig") else f"fig{name}"
    hits = [k for k in NAMES if k.split("_")[0] == key]
    if len(hits) != 1:
        raise ValueError(f"unknown figure {name!r}; choose from {', '.join(NAMES)} or 'all'")
    return hits[0]


def caption(name: str) -> str:
    """The figure's caption (its ``plot`` docstring)."""
    import inspect

    return inspect.cleandoc(_module(resolve(name)).plot.__doc__ or "")


@dataclass
class FigureResult:
    name: str
    files: list[Path] = field(default_factory=list)
    compute_s: float = 0.0
    plot_s: float = 0.0
    skipped: str | None = None


def make_figure(name: str, out_dir="figures", quick: bool = False, replot: bool = False,
                formats=("pdf", "png"), **options) -> FigureResult:
    """Compute (or, with ``replot``, read) a figure's data and render it.

    Parameters
    ----------
    name : str
        A key of :data:`FIGURES` (or ``fig3`` / ``3``).
    out_dir : path
        Where the data files and the figure files go (created if needed).
    quick : bool
        Small, fast settings (the test suite); the data files record it.
    replot : bool
        Read ``<name>_data.npz/json`` from ``out_dir`` instead of computing.
    formats : sequence of str
        Figure formats to write (default PDF and PNG).
    **options
        Passed to the figure's ``compute`` (e.g. ``harness_dir`` for figure 8).

    Returns
    -------
    FigureResult
        The files written and the compute and plot times; ``skipped`` holds the reason
        when the figure has no data here (figure 8 without harness results).
    """
    from .style import DPI, close, style

    name = resolve(name)
    mod = _module(name)
    compute, plot = mod.compute, mod.plot
    out = Path(out_dir)
    res = FigureResult(name)
    t0 = time.perf_counter()
    if replot:
        data = load_data(out, name)
    else:
        try:
            data = compute(quick=quick, **options)
        except FigureSkipped as exc:
            res.skipped = str(exc)
            return res
        res.compute_s = time.perf_counter() - t0
        data["params"] = {**data.get("params", {}), "figure": name, "quick": bool(quick),
                          "compute_seconds": round(res.compute_s, 2)}
        res.files.extend(save_data(data, out, name))
    t1 = time.perf_counter()
    with style():
        fig = plot(data)
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=DPI, format=fmt, metadata=_metadata(fmt, name))
            res.files.append(path)
    close(fig)
    res.plot_s = time.perf_counter() - t1
    return res


def _metadata(fmt: str, name: str) -> dict:
    if fmt == "pdf":  # fixed dates keep the PDF reproducible
        return {"Title": name, "Creator": "modelcollapse.plotting", "CreationDate": None}
    if fmt == "png":
        return {"Title": name, "Software": "modelcollapse.plotting"}
    return {}


__all__ = [
    "DPI",
    "FIGURES",
    "NAMES",
    "FigureResult",
    "FigureSkipped",
    "caption",
    "data_paths",
    "figure",
    "load_data",
    "make_figure",
    "resolve",
    "save_data",
    "style",
]
