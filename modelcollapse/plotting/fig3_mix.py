"""Figure 3 (Seddik et al. 2024, Figs. 3–4): partially synthetic training (Mix)."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Mix
from ._common import mean_se
from .style import PALETTE, figure, panel_label

SEED = 3
VOCAB = 10
REAL = 50
DISTRIBUTIONS = {
    "uniform": lambda: Categorical.uniform(VOCAB),
    "Zipf (exponent 1)": lambda: Categorical.zipf(VOCAB, 1.0),
    "geometric (ratio 0.5)": lambda: Categorical.geometric(VOCAB, 0.5),
}


def _run(model, regime, G, replicates, seed):
    sim = montecarlo.simulate(model, regime, G, replicates=replicates, backend="numba",
                              seed=seed, statistics=("homozygosity", "l1_first"))
    S_mean, S_se = mean_se(sim["homozygosity"])
    D_mean, D_se = mean_se(sim["l1_first"][:, 1:])  # NaN at generation 0
    D_mean, D_se = np.r_[np.nan, D_mean], np.r_[np.nan, D_se]
    exact = theory.homozygosity(model, regime, np.arange(G + 1))
    return S_mean, S_se, D_mean, D_se, exact


def compute(quick: bool = False) -> dict:
    G = 40 if quick else 100
    replicates = 200 if quick else 4000
    ns = [10, 50, 250]
    n_fixed = 50
    names = list(DISTRIBUTIONS)
    rows = [("uniform", n) for n in ns] + [(d, n_fixed) for d in names]
    keys = ("S_mean", "S_se", "D_mean", "D_se", "S_exact")
    out = {k: np.empty((len(rows), G + 1)) for k in keys}
    bound = np.empty(len(rows))
    for i, (d, n) in enumerate(rows):
        model, regime = DISTRIBUTIONS[d](), Mix(real=REAL, synthetic=n)
        for k, v in zip(keys, _run(model, regime, G, replicates, [SEED, i]), strict=True):
            out[k][i] = v
        bound[i] = theory.seddik_deviation_bound(model, regime)
    return {"params": {"vocabulary": VOCAB, "real": REAL, "n_values": ns, "n_fixed": n_fixed,
                       "distributions": names, "rows": [list(r) for r in rows],
                       "generations": G, "replicates": replicates, "seed": SEED,
                       "seed_rule": "seed=[SEED, row index]", "backend": "numba",
                       "regime": "Mix(real=N, synthetic=n, fresh=False)"},
            "m": np.arange(G + 1), "bound": bound, **out}


def plot(data):
    r"""Partially synthetic training, ``Mix(real=N=50, synthetic=n)``: the same
    :math:`N` real samples every generation plus :math:`n` samples of the previous
    model, 10 tokens (Seddik et al. 2024, Figs. 3–4). Top:
    :math:`\sigma_m = S_m = E\sum_i (p_i^{(m)})^2`, exact closed form of eq. (9) (lines;
    the corrected form, see ``proofs.seddik_theorem2``) against simulation means (points,
    error bars ±2 s.e.), (a) for several :math:`n` from a uniform start, (b) for several
    initial distributions at :math:`n = 50`. Bottom: the deviation
    :math:`E\|p^{(m)} - p^{(1)}\|_1` (simulation mean, band ±2 s.e.; no closed form) and
    the bound of Seddik Thm 3 (dashed, :math:`m \ge 2`), which here exceeds the trivial
    bound 2 (grey) by two to three orders of magnitude (it depends on
    :math:`N, n, s` only, so the three curves of (d) share one bound). Generations on a
    log scale: :math:`\sigma_m` reaches its limit within a few generations.
    The deviation levels off: the
    real data anchor the model, and more synthetic data (larger :math:`n`) let it drift
    further.
    """
    P = data["params"]
    m = data["m"]
    fig, axes = figure("double", 4.6, 2, 2, sharex=True)
    rows = P["rows"]
    groups = [[i for i, (d, _) in enumerate(rows[: len(P["n_values"])])],
              list(range(len(P["n_values"]), len(rows)))]
    labels = [[f"n = {rows[i][1]}" for i in groups[0]], [rows[i][0] for i in groups[1]]]
    pts = np.unique(np.geomspace(1, len(m) - 1, 22).round().astype(int))
    for col, (idx, labs) in enumerate(zip(groups, labels, strict=True)):
        ax, bx = axes[0, col], axes[1, col]
        for k, (i, lab) in enumerate(zip(idx, labs, strict=True)):
            c = PALETTE[k]
            ax.plot(m[1:], data["S_exact"][i][1:], color=c, lw=1.1, label=lab)
            ax.errorbar(m[pts], data["S_mean"][i][pts], yerr=2 * data["S_se"][i][pts],
                        fmt="o", color=c, ms=2.8, mfc="white", mew=0.7, elinewidth=0.6)
            d, se = data["D_mean"][i], data["D_se"][i]
            bx.plot(m[2:], d[2:], color=c, lw=1.0, label=lab)
            bx.fill_between(m[2:], (d - 2 * se)[2:], (d + 2 * se)[2:], color=c, alpha=0.25,
                            lw=0)
            bx.plot(m[2:], np.full(len(m) - 2, data["bound"][i]), "--", color=c, lw=0.9)
        ax.plot([], [], "k-", lw=1.1, label="exact, eq. (9)")
        ax.plot([], [], "ko", ms=2.8, mfc="white", mew=0.7,
                label=f"simulation ({P['replicates']:,} runs)")
        if col == 0:
            ax.legend(loc="lower right", ncols=2, fontsize=6.5)
            ax.margins(y=0.35)
        else:
            ax.legend(loc="center", bbox_to_anchor=(0.5, 0.6), ncols=2, fontsize=6.5)
            ax.margins(y=0.1)
        ax.set_xscale("log")
        ax.set_ylabel(r"$\sigma_m = E\sum_i (p_i^{(m)})^2$")
        bx.axhline(2.0, color="0.6", lw=0.8)
        bx.set_yscale("log")
        bx.set_ylim(1e-2, 1e6)
        bx.plot([], [], "k--", lw=0.9, label="Seddik Thm 3 bound")
        bx.plot([], [], color="0.6", lw=0.8, label=r"trivial bound $\|\cdot\|_1 \leq 2$")
        bx.legend(loc="upper center", fontsize=6.5, ncols=2)
        bx.set_ylabel(r"$E\,\|p^{(m)} - p^{(1)}\|_1$")
        bx.set_xlabel("generation $m$")
        bx.set_xlim(1, m[-1])
        bx.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    panel_label(axes[0, 0], f"(a) uniform start, N = {P['real']} real")
    panel_label(axes[0, 1], f"(b) n = {P['n_fixed']}, N = {P['real']} real")
    panel_label(axes[1, 0], "(c) deviation from the first model")
    panel_label(axes[1, 1], "(d) deviation from the first model")
    for ax in axes[0]:
        ax.tick_params(labelbottom=True)
    return fig
