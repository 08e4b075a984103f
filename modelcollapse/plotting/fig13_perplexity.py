"""Figure 13: Shumailov et al.'s perplexity study (Nature 2024, Fig. 1b) on the harness,
from the committed run of ``benchmarks/bench_perplexity.py``
(``benchmarks/results/perplexity_small.json``): the perplexity under generation 0 of every
training sequence, per generation, in both settings and with a mode-seeking sampler; and
the shift of the unigram score against the categorical theory's sampling-only law.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import committed_results
from .style import figure, panel_label

RESULTS = (Path(__file__).resolve().parents[2] / "benchmarks" / "results"
           / "perplexity_small.json")
#: Environment variable naming another results file.
ENV = "MODELCOLLAPSE_PERPLEXITY_RESULTS"


def compute(quick: bool = False) -> dict:
    """The committed runs' histograms and unigram shifts (nothing is trained: ``quick``
    changes nothing)."""
    path, d = committed_results(RESULTS, ENV, "perplexity study",
                                "run python benchmarks/bench_perplexity.py")
    runs = list(d["runs"])
    out: dict = {"params": {"source": path.name, "comparisons": len(runs), "runs": runs,
                            "config": d["config"]["name"], "seed": d["seed"]},
                 "runs": np.array(runs)}
    for name, run in d["runs"].items():
        study = run["perplexity_study"]
        out[f"{name}|edges"] = np.array(study["edges_log10"])
        out[f"{name}|real_range"] = np.array(study["real_range"])
        short = {"no-real": "no real data, 5 epochs",
                 "real-10": "10% real kept, 10 epochs"}.get(run.get("setting", name),
                                                            run["label"])
        if run.get("temperature", 1.0) != 1.0:
            short += f", T = {run['temperature']:g}"
        out[f"{name}|label"] = np.array(short)
        hist = np.array([g["perplexity"]["histogram"] for g in run["generations"]])
        used = np.flatnonzero(hist.sum(axis=0))
        out[f"{name}|xmax"] = np.array(10.0 ** study["edges_log10"][used[-1] + 1])
        gens = run["generations"]
        out[f"{name}|generation"] = np.array([g["generation"] for g in gens])
        out[f"{name}|hist"] = np.array([g["perplexity"]["histogram"] for g in gens], float)
        out[f"{name}|median"] = np.array([g["perplexity"]["quantiles"]["0.5"] for g in gens])
        th = [g.get("perplexity_theory") or {} for g in gens]
        shift = np.array([np.nan if t.get("shift_from_gen1") is None
                          else t["shift_from_gen1"] for t in th], float)
        sd = np.array([np.nan if t.get("shift_sd_from_gen1") is None
                       else t["shift_sd_from_gen1"] for t in th], float)
        ok = np.isfinite(shift)  # from generation 2 on
        out[f"{name}|shift_generation"] = out[f"{name}|generation"][ok]
        out[f"{name}|shift"] = shift[ok]
        if np.isfinite(sd[ok]).all():  # the law exists (plain sampling)
            out[f"{name}|shift_sd"] = sd[ok]
    return out


def _histograms(ax, data, name):
    edges = 10.0 ** data[f"{name}|edges"]
    hist = data[f"{name}|hist"]
    gens = data[f"{name}|generation"]
    import matplotlib as mpl

    cmap = mpl.colormaps["viridis"]
    for g, h in zip(gens, hist, strict=True):
        dens = h / max(h.sum(), 1)
        ax.stairs(dens, edges, color=cmap(g / max(gens.max(), 1)),
                  lw=1.4 if g == 0 else 0.9, ls="--" if g == 0 else "-",
                  label="real text" if g == 0 else (f"m = {g}" if g in (1, gens.max())
                                                    else None))
    lo, hi = data[f"{name}|real_range"]
    ax.axvspan(lo, hi, color="0.9", zorder=0)
    ax.set_xscale("log")
    ax.set_xlim(1.0, 1.5 * max(float(data[f"{n}|xmax"]) for n in data["runs"]))
    ax.set_xlabel("perplexity under generation 0")
    ax.set_ylabel("share of sequences")


def plot(data):
    """The perplexity study on the harness (``small``, fine-tuned from generation 0, the
    paper's epochs; the paper: OPT-125m on wikitext2; ``python
    benchmarks/bench_perplexity.py``). (a)-(c) The perplexity, under generation 0, of
    every training sequence of generations 1 to 9 (colour: generation), beside the real
    text's own (dashed; grey: its 1-99% range): (a) no original data, 5 epochs a
    generation; (b) 10% of generation 0's text kept in every corpus, 10 epochs; (c) as
    (a) with the synthetic text sampled at temperature 0.7. Sampled at temperature 1,
    the histograms widen on both sides: a tail of sequences generation 0 finds likely
    and one it finds unlikely grow (7% of generation 9's sequences below and 8% above
    the real range, against 1.5% and 0.1% at generation 1), a little less with real data
    kept; a mode-seeking sampler moves the mass to sequences generation 0 finds likely,
    as the paper's beam search does, until nearly every sequence is the same run of
    characters. (d) The shift, from generation 1, of the corpus's mean unigram
    log-perplexity against the categorical chain's law for the same corpus size
    (shaded: two standard deviations of sampling alone, ``theory.sequence_perplexity``):
    by generation 9 the measured shifts are 15 and 18 of those standard deviations; the
    network's own errors, not resampling, move the histograms."""
    fig, axes = figure("double", 4.6, 2, 2)
    names = list(data["runs"])
    for ax, name, tag in zip(axes.flat[:3], names, "abc", strict=False):
        _histograms(ax, data, name)
        ax.legend(fontsize=5.5, loc="upper right")
        panel_label(ax, f"({tag}) {data[f'{name}|label']}")
    ax = axes.flat[3]
    for i, name in enumerate(names):
        g = data[f"{name}|shift_generation"]
        ax.plot(g, data[f"{name}|shift"], "o-", ms=3, color=f"C{i}",
                label=str(data[f"{name}|label"]))
        if f"{name}|shift_sd" in data:
            sd = data[f"{name}|shift_sd"]
            ax.fill_between(g, -2 * sd, 2 * sd, color=f"C{i}", alpha=0.25, lw=0,
                            label="sampling alone, ±2 sd" if i == 0 else None)
    ax.axhline(0.0, color="0.5", lw=0.8)
    ax.set_xlabel("generation $m$")
    ax.set_ylabel("unigram score shift from $m = 1$ (nats)")
    ax.legend(fontsize=5.5, loc="best")
    panel_label(ax, "(d) against sampling alone")
    return fig
