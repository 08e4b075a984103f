"""Run the harness's ``small`` config on the CPU for replace / mix 50% / accumulate.

Writes ``benchmarks/results/harness_small_<regime>.json`` (each run's full results plus
the machine and the wall time), ``harness_small_comparison.json`` and the figure
``harness_small.png`` / ``.pdf``. Checkpoints go to ``--work`` (default
``/tmp/modelcollapse_harness_bench``), so an interrupted benchmark resumes.

    python benchmarks/bench_harness.py --generations 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from modelcollapse.harness import CONFIGS, compare_regimes, plot_results, run_harness

RESULTS = Path(__file__).parent / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="small", choices=sorted(CONFIGS))
    ap.add_argument("--generations", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default="/tmp/modelcollapse_harness_bench")
    ap.add_argument("--regimes", default="replace,mix:0.5,accumulate")
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    figdir = Path(args.work) / "collected"
    figdir.mkdir(parents=True, exist_ok=True)
    for spec in args.regimes.split(","):
        name, _, frac = spec.partition(":")
        t0 = time.perf_counter()
        res = run_harness(args.config, name, args.generations, out_dir=args.work,
                          real_fraction=float(frac) if frac else None, seed=args.seed,
                          progress=True)
        wall = time.perf_counter() - t0
        gens = res["generations"]
        res["benchmark"] = {
            "wall_seconds_this_call": wall, "cpu_count": os.cpu_count(),
            "train_tokens_per_s": [g.get("train_tokens_per_s") for g in gens],
            "sample_tokens_per_s": [g.get("sample_tokens_per_s") for g in gens],
            "note": "CPU run (no GPU lent); float32; the train rate counts "
                    "iterations*batch*context tokens; sampling re-runs the window per token "
                    "(no KV cache)"}
        label = name if not frac else f"mix{frac}"
        path = RESULTS / f"harness_{args.config}_{label}.json"
        path.write_text(json.dumps(res, indent=1))
        shutil.copy(path, figdir / path.name)
        print(f"{label}: drift {[g['l1_to_gen1'] for g in gens]}, held-out "
              f"{[round(g['heldout_loss'], 4) for g in gens]}, {wall:.0f}s", flush=True)
    comp = compare_regimes(figdir)
    (RESULTS / f"harness_{args.config}_comparison.json").write_text(json.dumps(comp, indent=1))
    print(plot_results(figdir, RESULTS / f"harness_{args.config}.png"))
    for c in comp["comparisons"]:
        print(c["statement"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
