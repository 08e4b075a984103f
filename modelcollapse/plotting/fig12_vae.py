"""Figure 12: the VAE chain (Shumailov et al. 2024's second system) on scikit-learn's
handwritten digits, from the committed run of ``benchmarks/bench_vae.py``
(``benchmarks/results/vae_small.json``): sample grids per generation, diversity, and the
class mix against the neutral categorical chain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import committed_results
from .style import figure, panel_label

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "vae_small.json"
#: Environment variable naming another results file.
ENV = "MODELCOLLAPSE_VAE_RESULTS"
#: Rows of the sample grid: (run, generation).
GRID_ROWS = (("replace", 0), ("replace", 1), ("replace", 2), ("replace", 3),
             ("mix", 1), ("mix", 5), ("mix", 10), ("accumulate", 5), ("accumulate", 10))
#: The runs drawn, with their colours (a run missing from the results file is skipped).
RUNS = (("replace", "C0"), ("mix", "C1"), ("accumulate", "C2"))
COLUMNS = 8


def compute(quick: bool = False) -> dict:
    """The committed run's statistics per generation and the sample grid (nothing is
    trained: ``quick`` changes nothing)."""
    path, d = committed_results(RESULTS, ENV, "VAE run",
                                "run python benchmarks/bench_vae.py")
    out: dict = {"params": {"source": path.name, "comparisons": len(d["runs"]),
                            "config": d["config"], "seed": d["seed"]}}
    for name, run in d["runs"].items():
        rec = run["records"]
        out[f"{name}|generation"] = np.array([r["generation"] for r in rec])
        for key in ("pixel_variance", "pairwise_distance", "class_entropy",
                    "class_homozygosity"):
            out[f"{name}|{key}"] = np.array([r[key] for r in rec])
        if "theory_homozygosity" in rec[0]:
            out[f"{name}|theory_homozygosity"] = np.array(
                [r["theory_homozygosity"] for r in rec])
    for key in ("pixel_variance", "pairwise_distance", "class_entropy"):
        out[f"real|{key}"] = np.array(d["real_digits"][key])
    rows = []
    for name, m in GRID_ROWS:
        if name not in d["runs"]:
            continue
        rec = d["runs"][name]["records"]
        g = min(m, len(rec) - 1)
        imgs = np.asarray(rec[g]["grid"][:COLUMNS]).reshape(-1, 8, 8)
        rows.append(np.concatenate([np.pad(im, 1, constant_values=0.0) for im in imgs], 1))
    out["grid"] = np.concatenate(rows, 0)
    out["grid_labels"] = np.array([f"{n} {m}" for n, m in GRID_ROWS if n in d["runs"]])
    return out


def plot(data):
    """The VAE chain on scikit-learn's 8 x 8 digits (``small``: 1,500 images per
    generation, latent 8; ``python benchmarks/bench_vae.py``). (a) Images decoded from
    the same latent draws at successive generations: fully synthetic
    (``Replace(1500)``, generations 0-3), half real (``Mix(750, 750)``, the same real
    digits every generation; generations 1, 5, 10) and accumulating (``Accumulate(1500)``:
    the real digits and every generation's images kept; generations 5, 10). (b)
    Diversity relative to the real digits: mean pixel variance and mean pairwise
    distance. Fully synthetic training collapses to one image by generation 3; half real
    data holds a plateau; accumulating slows the loss but does not stop it (the real
    share of the pool falls as 1/(m+1)). (c) The class mix under a classifier trained on
    real digits: its homozygosity :math:`\\sum_c q_c^2` against the neutral categorical chain from
    generation 0's mix (dashed; with the fixed real block's mix under ``Mix``, with the
    growing pool under ``Accumulate``), the drift a VAE that
    reproduced its training set's class mix would have: the network's loss of diversity
    is its fit's, far beyond sampling noise; real data bounds it."""
    fig, axes = figure("double", 2.8, 1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
    ax = axes[0]
    ax.imshow(data["grid"], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks(np.arange(len(data["grid_labels"])) * 10 + 5)
    ax.set_yticklabels([lab.replace("replace", "Replace, m =").replace("mix", "Mix, m =")
                        .replace("accumulate", "Accum., m =")
                        for lab in data["grid_labels"]], fontsize=6)
    panel_label(ax, "(a) samples")
    runs = [(n, c) for n, c in RUNS if f"{n}|generation" in data]
    ax = axes[1]
    for name, color in runs:
        g = data[f"{name}|generation"]
        ax.plot(g, data[f"{name}|pixel_variance"] / data["real|pixel_variance"], "o-",
                ms=3, color=color, label=f"{name.capitalize()}: variance")
        ax.plot(g, data[f"{name}|pairwise_distance"] / data["real|pairwise_distance"],
                "s--", ms=3, color=color, mfc="none", label=f"{name.capitalize()}: distance")
    ax.axhline(1.0, color="0.5", lw=0.8)
    ax.set_xlabel("generation $m$")
    ax.set_ylabel("relative to the real digits")
    ax.set_ylim(-0.03, 1.7)
    ax.set_yticks([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.legend(fontsize=5.5, loc="upper right", ncol=2)
    panel_label(ax, "(b) diversity")
    ax = axes[2]
    for name, color in runs:
        ax.plot(data[f"{name}|generation"], data[f"{name}|class_homozygosity"], "o-",
                ms=3, color=color, label=f"{name.capitalize()}: measured")
    for name, color in runs:
        if f"{name}|theory_homozygosity" in data:
            ax.plot(data[f"{name}|generation"], data[f"{name}|theory_homozygosity"], "--",
                    color=color, lw=1, label=f"neutral chain, {name.capitalize()}")
    ax.set_yscale("log")
    ax.set_xlabel("generation $m$")
    ax.set_ylabel(r"class homozygosity $\sum_c q_c^2$")
    ax.legend(fontsize=5.5, loc="upper right", bbox_to_anchor=(1.0, 0.72))
    panel_label(ax, "(c) class mix")
    return fig
