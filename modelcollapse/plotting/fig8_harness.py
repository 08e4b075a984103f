r"""Figure 8: the transformer harness next to the categorical theory (Seddik et al. 2024,
Fig. 3).

Reads the ``results.json`` files that :mod:`modelcollapse.harness` writes below a harness
output directory (``--harness DIR`` on the command line,
``make_figure("fig8_harness", harness_dir=...)``, or the ``MODELCOLLAPSE_HARNESS_DIR``
environment variable) and is skipped when there are none. Runs of the same config,
regime and init are one *setting*; its seeds give the band. Per generation ``m >= 1`` it
takes the drift ``l1_to_gen1``, the held-out loss and the number of real tokens present
in the training corpus. Beside them, the categorical chain with the same regime and
corpus size, started from the unigram law ``q`` of the real corpus: its drift
:math:`\|p^{(m)} - p^{(1)}\|_1` and support size, simulated exactly
(:func:`modelcollapse.montecarlo.simulate`, 2000 replicates, seed 0).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ._io import FigureSkipped
from .style import PALETTE, figure, panel_label

ENV = "MODELCOLLAPSE_HARNESS_DIR"
REPLICATES = 2000


def _settings(runs) -> dict:
    groups: dict = {}
    for r in runs:
        key = (r["config"]["name"], r["regime"]["spec"], r.get("init", "scratch"))
        groups.setdefault(key, []).append(r)
    return dict(sorted(groups.items(), key=lambda kv: (
        kv[0][0], kv[0][2], kv[1][0]["regime"]["name"] != "replace",
        kv[1][0]["regime"]["label"])))


def _theory(r, generations: int, quick: bool) -> dict:
    from ..models import Categorical
    from ..montecarlo import simulate
    from ..regimes import Regime

    counts = np.asarray(r["real_unigram"]["counts"], dtype=np.float64)
    q = Categorical(counts / counts.sum())
    res = simulate(q, Regime.from_spec(r["regime"]["spec"]), generations,
                   replicates=200 if quick else REPLICATES, seed=0,
                   statistics=("l1_first", "support_size"))
    l1 = np.asarray(res.statistic("l1_first"))[:, 1:]
    sup = np.asarray(res.statistic("support_size"), dtype=np.float64)[:, 1:]
    return {"l1_mean": l1.mean(0), "l1_lo": np.quantile(l1, 0.05, axis=0),
            "l1_hi": np.quantile(l1, 0.95, axis=0), "support_mean": sup.mean(0)}


def compute(quick: bool = False, harness_dir=None, config: str | None = None) -> dict:
    """``config``: only the runs of this harness configuration (default: every run)."""
    from ..harness import load_results

    d = harness_dir or os.environ.get(ENV)
    if not d:
        raise FigureSkipped(
            "no transformer-harness results: the harness has not been run (give --harness "
            f"DIR or set {ENV} to a directory with its results)")
    runs = load_results(d) if Path(d).exists() else []
    if config is not None:
        runs = [r for r in runs if r["config"]["name"] == config]
    if not runs:
        raise FigureSkipped(f"no harness results under {d}"
                            + (f" for config {config!r}" if config else ""))
    settings = _settings(runs)
    names, seeds, files = [], [], []
    out: dict = {}
    for i, ((cfg, _spec, init), rs) in enumerate(settings.items()):
        g = min(len(r["generations"]) for r in rs) - 1  # generations every seed has
        names.append(f"{cfg}: {rs[0]['regime']['label']}"
                     + (", fine-tuned" if init == "finetune" else ""))
        seeds.append(sorted(r["seed"] for r in rs))
        files.extend(Path(os.path.relpath(r["_path"], d)).as_posix() for r in rs)
        gens = [r["generations"][1:g + 1] for r in rs]
        out[f"r{i}_generation"] = np.arange(1, g + 1, dtype=np.int64)
        for key, field in (("drift", "l1_to_gen1"), ("loss", "heldout_loss")):
            out[f"r{i}_{key}"] = np.array([[x[field] for x in s] for s in gens], np.float64)
        out[f"r{i}_distinct"] = np.array(
            [[x["theory"]["observed_distinct"] for x in s] for s in gens], np.float64)
        out[f"r{i}_loss_gen0"] = np.array([r["generations"][0]["heldout_loss"] for r in rs])
        th = _theory(rs[0], g, quick)
        for k, v in th.items():
            out[f"r{i}_theory_{k}"] = np.asarray(v, dtype=np.float64)
    # no absolute path of this machine in the data: the folder's name, and the results
    # files relative to it
    out["params"] = {"harness_dir": Path(d).resolve().name, "settings": names,
                     "seeds": seeds, "results_files": files,
                     "theory_replicates": 200 if quick else REPLICATES,
                     "theory": "categorical chain, p^(0) = unigram law of the real corpus, "
                               "same regime (montecarlo.simulate, seed 0)"}
    return out


def _band(ax, x, rows, color, label, marker="o"):
    rows = np.atleast_2d(rows)
    ax.plot(x, rows.mean(0), marker + "-", color=color, ms=2.5, lw=0.9, label=label)
    if rows.shape[0] > 1:
        ax.fill_between(x, rows.min(0), rows.max(0), color=color, alpha=0.2, lw=0)


def plot(data):
    r"""The transformer harness (Seddik et al. 2024, §4.1, Fig. 3): (a) drift
    :math:`\|p^{(m)} - p^{(1)}\|_1` of next-token distributions, mean over 300 contexts
    sampled from generation 0, per generation and setting (line: mean over seeds; band:
    their range); (b) the categorical chain with the same regime and corpus size (mean;
    band: 5-95% of replicates); (c) held-out loss (nats per token) on real text (dotted:
    generation 0); (d) real tokens present in the training corpus (points) against the
    categorical chain's expected support (dashed).
    """
    from matplotlib.ticker import MaxNLocator

    P = data["params"]
    fig, axes = figure("double", 4.6, 2, 2)
    (ax, bx), (cx, dx) = axes
    for i, name in enumerate(P["settings"]):
        c = PALETTE[i % len(PALETTE)]
        g = data[f"r{i}_generation"]
        lab = f"{name} ({len(P['seeds'][i])} seeds)"
        _band(ax, g, data[f"r{i}_drift"], c, lab)
        bx.plot(g, data[f"r{i}_theory_l1_mean"], "s--", color=c, ms=2.5, lw=0.9,
                label=name)
        bx.fill_between(g, data[f"r{i}_theory_l1_lo"], data[f"r{i}_theory_l1_hi"],
                        color=c, alpha=0.15, lw=0)
        _band(cx, g, data[f"r{i}_loss"], c, name)
        cx.axhline(data[f"r{i}_loss_gen0"].mean(), color=c, lw=0.6, ls=":")
        _band(dx, g, data[f"r{i}_distinct"], c, name)
        dx.plot(g, data[f"r{i}_theory_support_mean"], "--", color=c, lw=0.9)
    for a in axes.flat:
        a.set_xlabel("generation $m$")
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(r"drift $\|p^{(m)} - p^{(1)}\|_1$")
    bx.set_ylabel(r"$E\|p^{(m)} - p^{(1)}\|_1$ (categorical)")
    cx.set_ylabel("held-out loss (nats/token)")
    dx.set_ylabel("real tokens in the corpus")
    ax.legend(loc="upper left", fontsize=5.5)
    panel_label(ax, "(a) transformer: drift from generation 1")
    panel_label(bx, "(b) categorical theory, same corpus size")
    panel_label(cx, "(c) held-out loss")
    panel_label(dx, "(d) surviving tokens (dashed: theory)")
    return fig
