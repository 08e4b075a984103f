r"""Figure 10: the transformer's drift explained by n-gram chains (the harness's small
configuration, Seddik et al. Fig. 3 settings).

The harness's experiment rerun with character n-gram models of order 1 to 6 in place of
the network (:func:`modelcollapse.montecarlo.text_chain`: the same real corpus of
``N = 60,000`` characters, sequences of a newline and 64 tokens, fully synthetic, 50% and
80% real, 10 generations, refit rule ``keep``), measured with the harness's own metric
(mean L1 between the next-token rows of generation ``m`` and 1 over 300 contexts of 64
tokens sampled from generation 0), beside the network's committed runs
(``benchmarks/results/harness_small.json``, mean of 3 seeds) and the per-context theory.

Theory, per context: each context ``c`` is refitted to its visits, a Wright--Fisher step
of ``S_c`` draws (its count in the real corpus, times the synthetic share ``S/N``), so
that under ``Mix(R, S)`` (``a = R/N``) the squared deviation from generation 1 follows
``v_m = (1-a)^2 (v_{m-1} + 1/S_c)``, ``v_1 = 0`` (Replace: ``v_m = (m-1)/S_c``) and
``E|P^(m)_x - P^(1)_x| ~ sqrt(2/pi P_x(1-P_x) v_m)``; the drift is the mean over the 300
contexts of the sum over tokens: every context's own effective sample size, nothing
fitted. Calibration: one parameter, the network's effective corpus ``N/lambda`` (drift
scales as ``sqrt(lambda)``), fitted on generation 2 of the fully synthetic run against
the best order's theory; generations 3-10 and both plateaus (generations 6-10) are then
predictions.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

from ._io import committed_results
from .style import PALETTE, figure, panel_label

#: Where the network's committed runs are read (``MODELCOLLAPSE_HARNESS_SUMMARY``
#: overrides): the harness benchmark's summary in a clone of the repository.
ENV = "MODELCOLLAPSE_HARNESS_SUMMARY"
SUMMARY = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / \
    "harness_small.json"
ORDERS = (1, 2, 3, 4, 5, 6)
CONTEXTS = 300


def _tc():
    from ..montecarlo import textchain

    return textchain


def network_curves(harness: dict) -> dict[str, np.ndarray]:
    """Mean over seeds of the network's l1_to_gen1 per generation, by regime spec."""
    out: dict[str, list] = {}
    for run in harness["runs"]:
        spec = run["regime"]["spec"]
        curve = [g["l1_to_gen1"] if g.get("l1_to_gen1") is not None else np.nan
                 for g in run["generations"]]
        out.setdefault(spec, []).append(curve)
    return {k: np.nanmean(np.array(v, dtype=float), axis=0) for k, v in out.items()}


def theory_curve(flat, V, order, regime, generations, contexts, N) -> np.ndarray:
    """The per-context Wright--Fisher prediction of the drift (module docstring)."""
    # flat: generation 0's flattened model (the real corpus's), fitted once per order
    rows = _tc()._rows(*flat[:4], flat[4], contexts, order, V)
    counts = np.empty(contexts.shape[0])
    for r in range(contexts.shape[0]):  # visits of the row's context in the real corpus
        buf = contexts[r, -order:]
        a, b = _tc()._row_slice(*flat[:3], flat[4], buf, order, V)
        counts[r] = b - a
    plan = regime.plan()
    a = plan.real / (plan.real + plan.n) if plan.real else 0.0
    S = plan.n
    Sc = np.maximum(counts * S / N, 1e-12)
    s = np.sqrt(rows * (1 - rows)).sum(axis=1)
    v = np.zeros_like(Sc)
    out = [np.nan, np.nan]
    for _m in range(2, generations + 1):
        v = (1 - a) ** 2 * (v + 1 / Sc)
        out.append(float(np.mean(np.sqrt(2 / np.pi * v) * s)))
    return np.array(out)


def analyse(harness: dict, orders=ORDERS, replicates: int = 5, seed: int = 0) -> dict:
    """Chains, theory, calibration and residuals for every setting of the harness's
    committed summary ``harness`` (JSON-able dict; see the module docstring)."""
    from ..harness import load_dataset
    from ..montecarlo import text_chain
    from ..regimes import Regime

    warnings.filterwarnings("ignore", "Mean of empty slice", RuntimeWarning)
    warnings.filterwarnings("ignore", "Degrees of freedom", RuntimeWarning)
    t0 = time.perf_counter()
    net = network_curves(harness)
    cfg = harness["config"]
    N = int(cfg["corpus_tokens"])
    ctx_len = int(cfg["context"])
    length = int(cfg.get("sample_length") or ctx_len + 1)
    G = max(len(c) for c in net.values()) - 1
    ds = load_dataset("char")
    ids = ds.real_corpus(N).astype(np.int64)
    V = ds.vocab_size
    tc = _tc()
    chains: dict = {}
    for spec in net:
        chains[spec] = {}
        for k in orders:
            res = text_chain(ids, V, k, spec, G, replicates=replicates, seed=seed,
                             length=length, bos=ds.bos, contexts=CONTEXTS,
                             context_length=ctx_len)
            chains[spec][k] = np.nanmean(res["l1_to_gen1"], axis=0)
    theory: dict = {spec: {} for spec in net}
    for k in orders:  # the evaluation contexts, drawn as text_chain draws them
        flat0 = tc._flatten(tc._fit(ids, V, k))
        rng0 = np.random.default_rng(np.random.SeedSequence(seed).spawn(replicates + 1)[-1])
        buf = np.empty(CONTEXTS * ctx_len, dtype=np.int64)
        tc._sample(rng0, *flat0[:4], flat0[4], k, V, ds.bos, buf.size, ctx_len, buf)
        contexts = buf.reshape(CONTEXTS, ctx_len)
        for spec in net:
            theory[spec][k] = theory_curve(flat0, V, k, Regime.from_spec(spec), G, contexts,
                                           N)
    rep = next(s for s in net if s.startswith("replace"))
    gens = np.arange(G + 1)

    def rms(a, b):
        m = (gens >= 2) & np.isfinite(a) & np.isfinite(b)
        return float(np.sqrt(np.mean((a[m] - b[m]) ** 2)))

    match = {s: {k: rms(chains[s][k], net[s]) for k in orders} for s in net}
    best = min(orders, key=lambda k: sum(match[s][k] for s in net))
    lam = float((net[rep][2] / theory[rep][best][2]) ** 2)
    errors, predicted, floor = {}, {}, {}
    for s in net:
        pred = np.sqrt(lam) * theory[s][best]
        predicted[s] = pred
        if s == rep:
            sel = gens >= 3
            errors[s] = {"generations": "3-10", "mean_rel_error": float(np.nanmean(
                np.abs(net[s][sel] - pred[sel]) / net[s][sel]))}
        else:
            sel = gens >= 6
            a, b = float(np.nanmean(net[s][sel])), float(np.nanmean(pred[sel]))
            errors[s] = {"generations": "6-10 (plateau)", "network": a, "predicted": b,
                         "rel_error": (b - a) / a}
        d = net[s] - chains[s][best]
        floor[s] = {"generations_2_10": float(np.nanmean(d[gens >= 2])),
                    "generations_6_10": float(np.nanmean(d[gens >= 6]))}
    return {"settings": list(net), "orders": list(orders), "replicates": replicates,
            "seed": seed, "backend": "numba", "N": N, "generations": G, "sequence_length": length,
            "contexts": CONTEXTS, "context_length": ctx_len, "unseen": "keep",
            "labels": {r["regime"]["spec"]: r["regime"]["label"] for r in harness["runs"]},
            "seconds": round(time.perf_counter() - t0, 1),
            "network": {s: net[s].tolist() for s in net},
            "chains": {s: {str(k): chains[s][k].tolist() for k in orders} for s in net},
            "theory_per_context": {s: {str(k): theory[s][k].tolist() for k in orders}
                                   for s in net},
            "rms_chain_vs_network": {s: {str(k): match[s][k] for k in orders}
                                     for s in net},
            "best_order": best, "network_minus_best_chain": floor,
            "calibration": {"order": best, "lambda": lam,
                            "effective_corpus_fraction": 1 / lam,
                            "fitted_on": f"{rep}, generation 2",
                            "predicted": {s: predicted[s].tolist() for s in net},
                            "errors": errors}}


def compute(quick: bool = False) -> dict:
    _, harness = committed_results(
        SUMMARY, ENV, "harness summary",
        "the harness benchmark's JSON, benchmarks/results/harness_small.json in a clone "
        "of the repository")
    res = analyse(harness, orders=(1, 2, 3) if quick else ORDERS,
                  replicates=2 if quick else 5)
    out = {"params": res}
    for i, s in enumerate(res["settings"]):  # generations 2.. (drift from generation 1)
        out[f"s{i}_network"] = np.array(res["network"][s][2:])
        out[f"s{i}_chains"] = np.array([res["chains"][s][str(k)][2:] for k in res["orders"]])
        out[f"s{i}_calibrated"] = np.array(res["calibration"]["predicted"][s][2:])
    return out


def plot(data):
    """Figure 10. (a) Fully synthetic: the network's drift (black) against n-gram chains
    of order 1 to 6 (colours; the harness's metric, mean of 5 runs) and the per-context
    theory of the best order (dashed). (b) All three settings: the network (solid, filled
    markers), the best order's chain (open markers) and the one-parameter calibrated
    theory (dashed; fitted on generation 2 of the fully synthetic run only)."""
    p = data["params"]
    fig, axes = figure("double", 3.0, 1, 2)
    ax = axes[0]
    rep = next(s for s in p["settings"] if s.startswith("replace"))
    g = np.arange(p["generations"] + 1)
    ax.plot(g, p["network"][rep], "k-o", ms=3, label="transformer")
    for i, k in enumerate(p["orders"]):
        ax.plot(g, p["chains"][rep][str(k)], "-", color=PALETTE[i % len(PALETTE)],
                lw=1, label=f"order {k}")
    best = str(p["best_order"])
    ax.plot(g, p["theory_per_context"][rep][best], "--", color="0.4", lw=1,
            label=f"theory, order {best}")
    ax.set_xlabel("generation $m$")
    ax.set_ylabel(r"drift $\|p_m - p_1\|_1$ (mean over contexts)")
    ax.legend(fontsize=6, ncol=2)
    panel_label(ax, "(a) fully synthetic")
    ax = axes[1]
    for i, s in enumerate(p["settings"]):
        c = PALETTE[i % len(PALETTE)]
        lab = p["labels"].get(s, s)
        ax.plot(g, p["network"][s], "-o", color=c, ms=3, label=f"transformer, {lab}")
        ax.plot(g, p["chains"][s][best], ":o", color=c, ms=3, mfc="none")
        ax.plot(g, p["calibration"]["predicted"][s], "--", color=c, lw=1)
    ax.set_xlabel("generation $m$")
    panel_label(ax, f"(b) order-{best} chains (open), calibrated theory (dashed)")
    ax.legend(fontsize=6)
    return fig
