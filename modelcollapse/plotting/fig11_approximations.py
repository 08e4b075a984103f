"""Figure 11: the error of every approximation that ``method="auto"`` falls back to,
against ``n``, from the committed comparison of ``benchmarks/bench_approx.py``
(``benchmarks/results/approx_errors.json``), with the band the library reports.

(a) ``MostRecent(n, K)`` against the effective-size approximation, per window;
(b) ``Replace(n)`` with a temperature below 1 against the deterministic hazard, per
temperature (the largest n: the 50,000-word English model, simulated);
(c) top-k at ``T = 1`` against the shifted neutral chain, and plain ``Replace`` beyond
the exact coalescent's range against Littler's diffusion.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._io import committed_results
from .style import figure, panel_label

RESULTS = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / \
    "approx_errors.json"
#: Environment variable naming another comparison file.
ENV = "MODELCOLLAPSE_APPROX_RESULTS"


def compute(quick: bool = False) -> dict:
    """The committed comparison's errors, grouped per family and parameter, and the band
    the library reports on a grid of ``n`` (nothing is simulated: ``quick`` changes
    nothing)."""
    from ..theory.categorical import approximate

    path, d = committed_results(RESULTS, ENV, "comparison",
                                "run python benchmarks/bench_approx.py")
    rows = d["rows"]
    out: dict = {"params": {"source": str(path.name), "comparisons": len(rows)}}
    groups = {"effective-size": "window", "deterministic-hazard": "temperature",
              "window-hazard": "temperature", "top-k-neutral": "top_k", "diffusion": None}
    for fam, key in groups.items():
        sel = [r for r in rows if r["family"] == fam]
        for r in sel:
            g = f"{fam}|{r[key] if key else ''}|{r['reference']}"
            out.setdefault(g + "|n", []).append(r["n"])
            out.setdefault(g + "|err", []).append(r["mean_err"])
        ns = np.unique(np.geomspace(min(r["n"] for r in sel), 1e7, 60).astype(int))
        where = {"effective-size": {"window": 2, "rate": 2.0},
                 "deterministic-hazard": {"temperature": 0.3},
                 "window-hazard": {"temperature": 0.5, "window": 2}}.get(fam, {})
        band = [approximate.band(fam, int(n), **where)[0] for n in ns]
        out[f"band|{fam}|n"] = ns
        out[f"band|{fam}|err"] = np.array([np.nan if b is None else b for b in band])
    return {k: (np.asarray(v) if k != "params" else v) for k, v in out.items()}


def plot(data):
    """Measured relative error of the mean collapse time against ``n``, for every
    approximation that ``method="auto"`` falls back to beyond the exact solvers
    (``python benchmarks/bench_approx.py``; filled markers: against the exact solvers,
    open markers: against seeded simulation, the error then including five standard
    errors). The step line is the band the library reports for the easiest compared
    parameters (largest error measured at the largest compared size below ``n`` and
    above). (a) ``MostRecent(n, K)`` against ``Replace`` with the window's effective
    size: the error is a few generations of transient, so it falls like ``1/n``. (b) A
    temperature below 1 against the deterministic hazard: exact chains to ``n = 2999``,
    simulation of two-token models at ``10^4`` and ``10^5`` and of the 50,000-word English
    model at ``10^6``; diamonds: ``MostRecent(n, K)`` with a temperature against the
    window's deterministic hazard (dashed: its band). (c) Top-k at ``T = 1`` against the
    shifted neutral chain, and Littler's diffusion against the exact coalescent."""
    fig, axes = figure("double", 2.6, 1, 3)
    panels = [("effective-size", "window", "$K$", axes[0], "(a) MostRecent, $N_e$"),
              ("deterministic-hazard", "temperature", "$T$", axes[1],
               "(b) $T < 1$: hazard"),
              ("top-k-neutral", "top_k", "top-k $k$", axes[2], "(c) top-k; diffusion")]
    colors = ["C0", "C1", "C2", "C3", "C4", "C5"]
    for fam, _key, sym, ax, title in panels:
        keys = sorted({k.split("|")[1] for k in data if k.startswith(fam + "|")},
                      key=lambda s: float(s) if s else 0.0)
        for i, val in enumerate(keys):
            for ref, fill in (("exact", True), ("simulation", False)):
                g = f"{fam}|{val}|{ref}"
                if g + "|n" not in data:
                    continue
                c = colors[i % len(colors)]
                ax.plot(data[g + "|n"], data[g + "|err"], "o" if ref == "exact" else "s",
                        ms=3, color=c, mfc=c if fill else "none",
                        label=f"{sym} = {val}" if ref == "exact" or
                        f"{fam}|{val}|exact|n" not in data else None)
        ax.step(data[f"band|{fam}|n"], data[f"band|{fam}|err"], where="post", color="k",
                lw=0.8, label="reported band")
        if fam == "deterministic-hazard":  # MostRecent with a temperature: diamonds
            for i, val in enumerate(sorted(
                    {k.split("|")[1] for k in data if k.startswith("window-hazard|")
                     and not k.startswith("band|")}, key=float)):
                for ref, fill in (("exact", True), ("simulation", False)):
                    g = f"window-hazard|{val}|{ref}"
                    if g + "|n" in data:
                        c = colors[keys.index(val) % len(colors)] if val in keys \
                            else colors[i % len(colors)]
                        ax.plot(data[g + "|n"], data[g + "|err"], "D", ms=2.5, color=c,
                                mfc=c if fill else "none")
            ax.plot([], [], "D", ms=2.5, color="0.3", mfc="none",
                    label="MostRecent, $K$ = 2-8")
            ax.step(data["band|window-hazard|n"], data["band|window-hazard|err"],
                    where="post", color="0.45", lw=0.8, ls="--",
                    label="band, MostRecent")
        if fam == "top-k-neutral":
            for ref in ("exact",):
                g = f"diffusion||{ref}"
                ax.plot(data[g + "|n"], data[g + "|err"], "^", ms=3, color="0.45",
                        label="diffusion")
            ax.step(data["band|diffusion|n"], data["band|diffusion|err"], where="post",
                    color="0.45", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(bottom=1e-10 if fam == "deterministic-hazard" else 1e-6)
        ax.set_xlabel("$n$")
        ax.set_ylabel("relative error of $E[T]$")
        ax.legend(fontsize=6, ncol=1 if fam == "top-k-neutral" else 2, loc="lower left")
        panel_label(ax, title)
    return fig
