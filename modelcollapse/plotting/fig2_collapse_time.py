"""Figure 2 (Seddik et al. 2024, Fig. 2): expected total-collapse time against n."""

from __future__ import annotations

import numpy as np

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Replace
from .style import PALETTE, figure

SEED = 2
VOCAB = 600
DISTRIBUTIONS = {
    "uniform": lambda: Categorical.uniform(VOCAB),
    "Zipf (exponent 2)": lambda: Categorical.zipf(VOCAB, 2.0),
    "geometric (ratio 0.8)": lambda: Categorical.geometric(VOCAB, 0.8),
}


def compute(quick: bool = False) -> dict:
    ns = np.array([10, 50, 100] if quick else [10, 25, 50, 100, 150, 200, 300, 400])
    replicates = 20 if quick else 100
    names = list(DISTRIBUTIONS)
    shape = (len(names), len(ns))
    out = {k: np.empty(shape) for k in ("exact_mean", "q05", "q50", "q95", "lower",
                                         "upper", "sim_mean", "sim_se")}
    for i, name in enumerate(names):
        model = DISTRIBUTIONS[name]()
        for j, n in enumerate(ns):
            regime = Replace(int(n))
            law = theory.collapse_time(model, regime)
            out["exact_mean"][i, j] = law.mean()
            for q, key in ((0.05, "q05"), (0.5, "q50"), (0.95, "q95")):
                out[key][i, j] = law.quantile(q)
            lo, hi = theory.seddik_expected_collapse_time_bounds(model, regime)
            out["lower"][i, j], out["upper"][i, j] = lo, hi
            sim = montecarlo.simulate(model, regime, None, replicates=replicates,
                                      backend="numba", seed=[SEED, i, int(n)],
                                      statistics=())
            ct = sim.collapse_time.astype(np.float64)
            out["sim_mean"][i, j] = ct.mean()
            out["sim_se"][i, j] = ct.std(ddof=1) / np.sqrt(ct.size)
    return {"params": {"vocabulary": VOCAB, "distributions": names, "replicates": replicates,
                       "seed": SEED, "seed_rule": "seed=[SEED, distribution index, n]",
                       "backend": "numba"},
            "n": ns, **out}


def plot(data):
    r"""Expected total-collapse time :math:`E[T]` against the samples per generation
    :math:`n` under ``Replace(n)``, for three initial distributions over 600 tokens
    (Seddik et al. 2024, Fig. 2). Lines: our exact :math:`E[T]` (coalescent dual),
    with the exact 5–95% quantile band of :math:`T` (shaded); points: simulation means
    (error bars: ±2 standard errors); dashed: the lower bound of Seddik Thm 1
    eq. (8). The upper bound :math:`1 + (1-S_0)n(n-1)` lies far above the axis
    (:math:`\approx 1.6\cdot10^5` at n = 400). The paper had only the bounds and the
    simulations; the exact mean grows linearly in :math:`n`, like
    :math:`-2n\sum_i (1-p_i)\ln(1-p_i)` (Kimura's diffusion; :math:`\to 2n` for a flat
    start), and a concentrated start (geometric) collapses sooner.
    """
    P = data["params"]
    fig, ax = figure("single", 2.7)
    n = data["n"]
    for i, name in enumerate(P["distributions"]):
        c = PALETTE[i]
        ax.fill_between(n, data["q05"][i], data["q95"][i], color=c, alpha=0.12, lw=0)
        for q in ("q05", "q95"):
            ax.plot(n, data[q][i], color=c, lw=0.4, alpha=0.6)
        ax.plot(n, data["exact_mean"][i], color=c, lw=1.1, label=name)
        dx = (i - 1) * 0.008 * n[-1]  # side by side, not on top of each other
        ax.errorbar(n + dx, data["sim_mean"][i], yerr=2 * data["sim_se"][i], fmt="o", color=c,
                    ms=3, mfc="white", mew=0.8, elinewidth=0.7, capsize=0)
        ax.plot(n, data["lower"][i], "--", color=c, lw=0.8)
    ax.plot([], [], "k-", lw=1.1, label="exact $E[T]$ (band: 5–95%)")
    ax.plot([], [], "ko", ms=3, mfc="white", mew=0.8,
            label=f"simulation mean ({P['replicates']} runs)")
    ax.plot([], [], "k--", lw=0.8, label="Seddik eq. (8) lower bound")
    ax.set_xlabel("samples per generation $n$")
    ax.set_ylabel("total-collapse time $T$ (generations)")
    ax.set_xlim(0, n[-1] * 1.03)
    ax.set_ylim(0, None)
    ax.legend(loc="upper left", fontsize=6.5)
    ax.set_title(f"Replace, {P['vocabulary']} tokens", fontsize=8)
    return fig
