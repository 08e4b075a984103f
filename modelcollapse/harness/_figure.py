"""Figure of drift and held-out loss over generations, and the regime comparison.

Reads every ``results.json`` under a directory (plotting only reads data files)."""

from __future__ import annotations

import json
from pathlib import Path

from ..files import atomic_path
from ._loop import SCHEMA


def load_results(results_dir) -> list[dict]:
    root = Path(results_dir)
    paths = sorted(root.rglob("results.json")) + sorted(root.glob("harness_*.json"))
    out = []
    for p in paths:
        try:
            r = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if r.get("schema") == SCHEMA:  # results of this version of the harness
            r["_path"] = str(p)
            out.append(r)
    return out


def _label(r) -> str:
    init = ", fine-tuned from gen. 0" if r.get("init") == "finetune" else ""
    return f"{r['config']['name']}: {r['regime']['label']}{init}, seed {r['seed']}"


def plot_results(results_dir, out=None) -> list[str]:
    """Two panels (L1 drift from generation 1; held-out loss) per run found; writes
    ``out`` as PNG and PDF (default ``<results_dir>/harness.png``)."""
    from matplotlib.figure import Figure

    runs = load_results(results_dir)
    if not runs:
        raise ValueError(f"no harness results.json under {results_dir}")
    fig = Figure(figsize=(7.0, 2.8), layout="constrained")
    a1, a2 = fig.subplots(1, 2)
    for r in runs:
        g = r["generations"]
        ms = [x["generation"] for x in g if x["l1_to_gen1"] is not None]
        d = [x["l1_to_gen1"] for x in g if x["l1_to_gen1"] is not None]
        a1.plot(ms, d, marker="o", ms=3, label=_label(r))
        a2.plot([x["generation"] for x in g], [x["heldout_loss"] for x in g], marker="o",
                ms=3, label=_label(r))
    a1.set(xlabel="generation m", ylabel=r"mean $\|p^{(m)}-p^{(1)}\|_1$ (300 contexts)",
           title="drift from generation 1")
    a2.set(xlabel="generation m", ylabel="held-out loss (nats/token)",
           title="held-out real text")
    a2.legend(fontsize=6)
    out = Path(out) if out is not None else Path(results_dir) / "harness.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = [str(out.with_suffix(".png")), str(out.with_suffix(".pdf"))]
    for p in paths:
        with atomic_path(p) as tmp:
            fig.savefig(tmp, dpi=150, format=Path(p).suffix[1:])
    fig.clear()
    return paths


def compare_regimes(results_dir) -> dict:
    """Fully synthetic vs mixed: last-generation drift and held-out loss of each run,
    grouped by (config, seed, init), with the ratio replace / other at the
    largest generation they share."""
    runs = load_results(results_dir)
    groups: dict = {}
    for r in runs:
        groups.setdefault((r["config"]["name"], r["seed"], r.get("init", "scratch")),
                          []).append(r)
    out = []
    for (cfg, seed, init), rs in sorted(groups.items()):
        rep = [r for r in rs if r["regime"]["name"] == "replace"]
        for r in rs:
            if r["regime"]["name"] == "replace" or not rep:
                continue
            m = min(len(rep[0]["generations"]), len(r["generations"])) - 1
            if m < 2:
                continue
            gr, go = rep[0]["generations"][m], r["generations"][m]
            ratio = gr["l1_to_gen1"] / go["l1_to_gen1"] if go["l1_to_gen1"] else None
            agrees = gr["l1_to_gen1"] > go["l1_to_gen1"]
            out.append({
                "config": cfg, "seed": seed, "init": init, "generation": m,
                "other": _label(r),
                "drift_replace": gr["l1_to_gen1"], "drift_other": go["l1_to_gen1"],
                "drift_ratio_replace_over_other": ratio,
                "heldout_loss_replace": gr["heldout_loss"],
                "heldout_loss_other": go["heldout_loss"],
                "agrees_with_theory": agrees,
                "statement": (
                    f"generation {m}: drift {gr['l1_to_gen1']:.4f} (fully synthetic) vs "
                    f"{go['l1_to_gen1']:.4f} ({_label(r)}), ratio "
                    f"{ratio if ratio is None else round(ratio, 2)}; "
                    + ("agrees with the dichotomy (synthetic-only drifts further)" if agrees
                       else "DEPARTS from the dichotomy (the mixed run drifts as much)"))})
    return {"comparisons": out}
