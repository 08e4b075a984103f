"""The shared figure style: fonts, line widths, a colour-blind-safe palette, paper sizes.

All figures are drawn inside :func:`style` (an ``rcParams`` context) on figures made by
:func:`figure`: plain :class:`matplotlib.figure.Figure` objects, not managed by pyplot,
written to files. The library never chooses matplotlib's backend (the command line
does); figures look the same in the test suite, on a headless server and in the paper.
"""

from __future__ import annotations

import contextlib

import matplotlib
from matplotlib.figure import Figure

#: Okabe & Ito (2008) colour-blind-safe palette (black last: it is used for theory).
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
#: The cycle used for series (yellow left out: too light on white paper).
PALETTE = [OKABE_ITO[k] for k in ("blue", "vermillion", "green", "orange", "purple", "sky")]
#: Paper column widths in inches (single and double column of a two-column paper).
WIDTHS = {"single": 3.5, "double": 7.2}
#: Resolution of the PNG files.
DPI = 250

RC = {
    "font.family": "serif",
    "font.serif": ["DejaVu Serif", "Times New Roman", "Times"],
    "mathtext.fontset": "dejavuserif",
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "xtick.minor.width": 0.4,
    "ytick.minor.width": 0.4,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": matplotlib.cycler(color=PALETTE),
    "legend.frameon": False,
    "legend.handlelength": 1.8,
    "legend.borderaxespad": 0.3,
    "savefig.dpi": DPI,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # embed TrueType: editable text in the vector PDF
    "ps.fonttype": 42,
    "figure.dpi": 100,
}


@contextlib.contextmanager
def style():
    """Context manager applying the shared ``rcParams``."""
    with matplotlib.rc_context(RC):
        yield


def figure(width: str | float = "single", height: float | None = None, nrows: int = 1,
           ncols: int = 1, **kwargs):
    """A figure and its axes sized for a paper column.

    Parameters
    ----------
    width : "single", "double" or float
        3.5 in (single column), 7.2 in (double column) or a width in inches.
    height : float, optional
        Height in inches (default: 0.75 of the width per row for a single column,
        2.4 in per row for a double column).
    nrows, ncols, **kwargs
        Passed to :meth:`matplotlib.figure.Figure.subplots` (``layout="constrained"`` is
        the figure's default).
    """
    w = WIDTHS[width] if isinstance(width, str) else float(width)
    if height is None:
        height = (0.75 * w if w <= WIDTHS["single"] else 2.4) * nrows
    layout = kwargs.pop("layout", "constrained")
    with style():
        fig = Figure(figsize=(w, height), layout=layout)
        axes = fig.subplots(nrows, ncols, **kwargs)
    return fig, axes


def panel_label(ax, text: str) -> None:
    """Bold panel letter ``(a)`` in the top-left corner, outside the data area."""
    ax.set_title(text, loc="left", fontweight="bold", fontsize=8.5)


def close(fig) -> None:
    """Release a figure's memory (it is not registered with pyplot)."""
    fig.clear()
