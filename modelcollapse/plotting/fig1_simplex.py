"""Figure 1 (Seddik et al. 2024, Fig. 1): trajectories on the simplex under Replace."""

from __future__ import annotations

import numpy as np

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Replace
from ._common import ecdf
from .style import OKABE_ITO, PALETTE, figure, panel_label

SEED = 20240405
_VERTICES = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


def compute(quick: bool = False) -> dict:
    p0 = np.array([0.5, 0.3, 0.2])
    n = 30
    replicates = 400 if quick else 20_000
    shown = 12
    model, regime = Categorical(p0), Replace(n)
    sim = montecarlo.simulate(model, regime, None, replicates=replicates, backend="numba",
                              seed=SEED, statistics=("token_prob",), tokens=(0, 1, 2))
    paths = sim["token_prob"][:shown]  # (shown, G+1, 3)
    ct = sim.collapse_time
    last = sim["token_prob"][np.arange(replicates), ct]  # the Dirac each run ends in
    winner = np.argmax(last, axis=1)
    law = theory.collapse_time(model, regime)
    m = np.arange(1, int(np.quantile(ct, 0.999)) + 1)
    bounds = np.array([theory.seddik_collapse_probability_bounds(model, regime, int(k))
                       for k in m])
    return {
        "params": {"p0": p0.tolist(), "n": n, "replicates": replicates, "seed": SEED,
                   "trajectories_shown": shown, "backend": "numba",
                   "exact_mean_T": law.mean(),
                   "simulated_mean_T": float(ct.mean())},
        "paths": paths, "collapse_time": ct, "winner": winner, "m": m,
        "cdf_exact": law.cdf(m), "cdf_sim": ecdf(ct, m),
        "bound_lower": bounds[:, 0], "bound_upper": bounds[:, 1],
        "vertex_freq": np.bincount(winner, minlength=3) / replicates,
    }


def _xy(p):
    return np.asarray(p) @ _VERTICES


def plot(data):
    r"""Collapse on the simplex (Seddik et al. 2024, Fig. 1). (a) Twelve simulated
    trajectories of :math:`p^{(m)}` over three tokens under ``Replace(n=30)`` from
    :math:`p^{(0)} = (0.5, 0.3, 0.2)` (star); each run is coloured by the vertex (Dirac
    mass) in which it ends. Labels give the probability of ending at each vertex:
    exact :math:`p_i` (Seddik Prop. 1) and simulated frequency. (b) Law of the
    total-collapse time: exact :math:`P(T \le m)` (coalescent dual, line), empirical
    CDF of the simulation (points), and the bounds of Seddik Thm 1 eq. (7) (dashed;
    the lower bound is vacuous until :math:`m \approx n\ln n`).
    """
    P = data["params"]
    fig, (ax, bx) = figure("double", 2.7, 1, 2, width_ratios=[1, 1.25])
    tri = np.vstack([_VERTICES, _VERTICES[:1]])
    ax.plot(tri[:, 0], tri[:, 1], color="0.3", lw=0.8)
    for path, w in zip(data["paths"], data["winner"][: len(data["paths"])], strict=True):
        end = int(np.argmax(path.max(axis=1) >= 1.0)) or len(path) - 1
        xy = _xy(path[: end + 1])
        ax.plot(xy[:, 0], xy[:, 1], color=PALETTE[int(w)], lw=0.7, alpha=0.8)
        ax.plot(*xy[-1], "o", color=PALETTE[int(w)], ms=3)
    ax.plot(*_xy(P["p0"]), "*", color="k", ms=9, zorder=5, label=r"$p^{(0)}$")
    offsets = [(-0.02, -0.09, "center"), (1.02, -0.09, "center"), (0.5, 0.9, "center")]
    for i, (x, y, ha) in enumerate(offsets):
        ax.text(x, y, f"token {i + 1}: $p_{i + 1}$ = {P['p0'][i]:.2f}, sim "
                f"{data['vertex_freq'][i]:.3f}", ha=ha, fontsize=6.5, color=PALETTE[i])
    ax.set_aspect("equal")
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.13, 0.95)
    ax.axis("off")
    ax.legend(loc="upper left", fontsize=7)
    panel_label(ax, f"(a) trajectories, n = {P['n']}")

    m = data["m"]
    bx.plot(m, data["cdf_exact"], color="k", lw=1.1, label=r"exact $P(T\leq m)$")
    step = max(1, len(m) // 40)
    bx.plot(m[::step], data["cdf_sim"][::step], "o", color=OKABE_ITO["vermillion"], ms=3,
            mfc="none", mew=0.8, label=f"simulation ({P['replicates']:,} runs)")
    lo = np.clip(data["bound_lower"], 0, 1)
    bx.plot(m, lo, "--", color=OKABE_ITO["blue"], lw=0.9, label="Seddik eq. (7) bounds")
    bx.plot(m, data["bound_upper"], "--", color=OKABE_ITO["blue"], lw=0.9)
    bx.set_xlabel("generation $m$")
    bx.set_ylabel(r"$\rho_m = P(T \leq m)$")
    bx.set_ylim(-0.02, 1.02)
    bx.set_xlim(0, m[-1])
    bx.legend(loc="lower right")
    panel_label(bx, f"(b) total-collapse time, E[T] = {P['exact_mean_T']:.1f} generations")
    return fig
