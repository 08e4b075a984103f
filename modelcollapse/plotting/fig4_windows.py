"""Figure 4 (Seddik et al. 2024, Fig. 6): Replace, MostRecent windows, RandomlySampled."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import MostRecent, RandomlySampled, Replace
from ._common import mean_se
from .style import PALETTE, figure, panel_label

SEED = 6
VOCAB = 20
N = 60


def _regimes():
    return {"Replace": Replace(N), "MostRecent, K = 2": MostRecent(N, 2),
            "MostRecent, K = 5": MostRecent(N, 5), "RandomlySampled": RandomlySampled(N)}


def compute(quick: bool = False) -> dict:
    G = 200 if quick else 1500
    replicates = 200 if quick else 2000
    model = Categorical.uniform(VOCAB)
    regs = _regimes()
    out = {k: np.empty((len(regs), G + 1)) for k in ("S_mean", "S_se", "D_mean", "D_se")}
    T = np.empty((len(regs), replicates), dtype=np.int64)
    for i, reg in enumerate(regs.values()):
        sim = montecarlo.simulate(model, reg, G, replicates=replicates, backend="numba",
                                  seed=[SEED, i], statistics=("homozygosity", "l1_first"))
        out["S_mean"][i], out["S_se"][i] = mean_se(sim["homozygosity"])
        d, se = mean_se(sim["l1_first"][:, 1:])
        out["D_mean"][i], out["D_se"][i] = np.r_[np.nan, d], np.r_[np.nan, se]
        T[i] = sim.collapse_time
    m = np.arange(G + 1)
    law = theory.collapse_time(model, Replace(N))
    return {"params": {"vocabulary": VOCAB, "n": N, "regimes": list(regs),
                       "regime_reprs": [repr(r) for r in regs.values()], "generations": G,
                       "replicates": replicates, "seed": SEED,
                       "seed_rule": "seed=[SEED, regime index]", "backend": "numba",
                       "exact_mean_T_replace": law.mean()},
            "m": m, "T_cdf_exact_replace": law.cdf(m),
            "S_exact_replace": theory.homozygosity(model, Replace(N), m),
            "collapse_time": T, **out}


def plot(data):
    r"""Other synthetic-data regimes (Seddik et al. 2024, Fig. 6), uniform start over 20
    tokens, :math:`n = 60` samples per generation: ``Replace`` (fully synthetic),
    ``MostRecent`` (:math:`\lfloor n/K\rfloor` samples of each of the :math:`K` latest
    models) and ``RandomlySampled`` (each sample from a model drawn uniformly among
    :math:`p^{(0)},\dots,p^{(m-1)}`, the real one included). (a)
    :math:`\sigma_m = E\sum_i (p_i^{(m)})^2`: exact eq. (6) for Replace (black line),
    simulation means for all (coloured lines). (b) Deviation
    :math:`E\|p^{(m)} - p^{(1)}\|_1` (simulation). Bands: ±2 s.e. (c) Histogram of the
    total-collapse time :math:`T` (simulation, logarithmic bins; dashed black: the
    exact law of :math:`T` under Replace, as expected counts per bin). Windows delay
    collapse roughly in
    proportion to :math:`K`; RandomlySampled keeps drawing from the real model with
    probability :math:`1/m` and collapses far later, if at all, within the run.
    """
    P = data["params"]
    m = data["m"]
    fig, axes = figure("double", 2.75, 1, 3)
    ax, bx, cx = axes
    for i, name in enumerate(P["regimes"]):
        c = PALETTE[i]
        s, se = data["S_mean"][i], data["S_se"][i]
        ax.plot(m, s, color=c, lw=1.0, label=name)
        ax.fill_between(m, s - 2 * se, s + 2 * se, color=c, alpha=0.25, lw=0)
        d, se = data["D_mean"][i], data["D_se"][i]
        bx.plot(m[1:], d[1:], color=c, lw=1.0, label=name)
        bx.fill_between(m[1:], (d - 2 * se)[1:], (d + 2 * se)[1:], color=c, alpha=0.25, lw=0)
    ax.plot(m, data["S_exact_replace"], "k--", lw=0.9, label="Replace, exact (eq. (6); law of $T$)")
    for a in (ax, bx):
        a.set_xscale("log")
        a.set_xlim(1, m[-1])
        a.set_xlabel("generation $m$")
        a.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_ylabel(r"$\sigma_m = E\sum_i (p_i^{(m)})^2$")
    ax.set_ylim(0, 1.02)
    handles, labels = ax.get_legend_handles_labels()
    bx.set_ylabel(r"$E\,\|p^{(m)} - p^{(1)}\|_1$")
    bx.set_ylim(0, 2.0)
    panel_label(ax, "(a) homozygosity")
    panel_label(bx, "(b) deviation from $p^{(1)}$")

    T = data["collapse_time"]
    G = int(m[-1])
    edges = np.unique(np.geomspace(10, G + 1, 36).round().astype(np.int64))
    notes = []
    for i, name in enumerate(P["regimes"]):
        t = T[i][T[i] >= 0]
        late = 1 - t.size / T.shape[1]
        if late > 0:
            notes.append(f"{name}: {late:.0%}")
        if t.size:
            cx.hist(t, bins=edges, histtype="step", color=PALETTE[i], lw=1.0)
    cdf = data["T_cdf_exact_replace"]
    expected = T.shape[1] * np.diff(cdf[np.minimum(edges - 1, len(cdf) - 1)])
    cx.stairs(expected, edges, color="k", ls="--", lw=0.9)
    if notes:
        cx.text(0.02, 0.98, f"not collapsed by {G}:\n" + "\n".join(notes),
                transform=cx.transAxes, va="top", fontsize=6.2)
    cx.set_xscale("log")
    cx.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    cx.set_xlabel("total-collapse time $T$ (generations)")
    cx.set_ylabel(f"runs (of {T.shape[1]:,})")
    cx.margins(y=0.35)
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels),
               fontsize=6.8)
    panel_label(cx, "(c) collapse time")
    return fig
