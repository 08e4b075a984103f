"""Figure 8: the transformer harness next to the categorical theory.

Reads the ``results.json`` files that :mod:`modelcollapse.harness` writes (one per
regime, below a harness output directory: ``--harness DIR`` on the command line,
``make_figure("fig8_harness", harness_dir=...)``, or the ``MODELCOLLAPSE_HARNESS_DIR``
environment variable) and is skipped when there are none. Per generation ``m >= 1`` it
takes the drift ``l1_to_gen1``, the held-out loss, and the number of real tokens still
present in the generated corpus with the categorical theory's prediction
(``theory.expected_surviving_tokens`` of the real unigram law with the same corpus
size), as the harness recorded them.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._io import FigureSkipped
from .style import PALETTE, figure, panel_label

ENV = "MODELCOLLAPSE_HARNESS_DIR"


def compute(quick: bool = False, harness_dir=None) -> dict:
    from ..harness._figure import _label, load_results

    d = harness_dir or os.environ.get(ENV)
    if not d:
        raise FigureSkipped(
            "no transformer-harness results: the harness has not been run (give --harness "
            f"DIR or set {ENV} to a directory with its results)")
    runs = load_results(d) if Path(d).exists() else []
    if not runs:
        raise FigureSkipped(f"no harness results under {d}")
    names = [_label(r) for r in runs]
    out = {"params": {"harness_dir": str(Path(d).resolve()), "regimes": names,
                      "results_files": [r["_path"] for r in runs],
                      "seeds": [r["seed"] for r in runs],
                      "theory_regimes": names}}
    for i, r in enumerate(runs):
        gens = [g for g in r["generations"] if g["generation"] >= 1]
        out[f"r{i}_generation"] = np.array([g["generation"] for g in gens], dtype=np.int64)
        out[f"r{i}_drift"] = np.array([g["l1_to_gen1"] for g in gens], dtype=np.float64)
        out[f"r{i}_loss"] = np.array([g["heldout_loss"] for g in gens], dtype=np.float64)
        out[f"r{i}_distinct"] = np.array([g["theory"]["observed_distinct"] for g in gens],
                                         dtype=np.float64)
        out[f"r{i}_distinct_theory"] = np.array(
            [g["theory"]["replace_expected_distinct"] for g in gens], dtype=np.float64)
    return out


def plot(data):
    r"""The transformer harness (Seddik et al. 2024, §4.1): (a) drift
    :math:`\|p^{(m)} - p^{(1)}\|_1` of next-token distributions, mean over 300 contexts
    sampled from generation 0, per generation and regime; (b) held-out loss (nats per
    token) on real text; (c) real tokens still present in the generated corpus (points)
    against the categorical theory of fully synthetic resampling with the same corpus
    size (dashed, ``theory.expected_surviving_tokens``).
    """
    from matplotlib.ticker import MaxNLocator

    P = data["params"]
    fig, (ax, bx, cx) = figure("double", 2.4, 1, 3)
    k = len(P["regimes"])
    for i, name in enumerate(P["regimes"]):
        c = PALETTE[i % len(PALETTE)]
        g = data[f"r{i}_generation"]
        ax.plot(g, data[f"r{i}_drift"], "o-", color=c, ms=3, lw=0.8, label=name)
        bx.plot(g, data[f"r{i}_loss"], "o-", color=c, ms=3, lw=0.8, label=name)
        dx = 0.08 * (i - (k - 1) / 2)  # side by side: counts often coincide
        cx.plot(g + dx, data[f"r{i}_distinct"], "o", color=c, ms=3)
    theory = max(range(k), key=lambda i: data[f"r{i}_generation"].size)
    cx.plot(data[f"r{theory}_generation"], data[f"r{theory}_distinct_theory"], "k--",
            lw=0.9, label="categorical theory (replace)")
    for a in (ax, bx, cx):
        a.set_xlabel("generation $m$")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(r"drift $\|p^{(m)} - p^{(1)}\|_1$")
    bx.set_ylabel("held-out loss (nats/token)")
    cx.set_ylabel("real tokens still generated")
    ax.legend(loc="upper left", fontsize=5.5)
    cx.legend(loc="lower left", fontsize=5.5)  # regimes: colours as in (a)
    panel_label(ax, "(a) drift")
    panel_label(bx, "(b) held-out loss")
    panel_label(cx, "(c) surviving tokens")
    return fig
