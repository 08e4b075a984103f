"""Shumailov et al.'s perplexity study (Nature 2024, Fig. 1b) on the CPU, for figure 13:
the harness fine-tuned from generation 0 on its own text, in both settings (no original
data, 5 epochs; 10% original data preserved, 10 epochs), generations 0 to 9, every
training sequence scored by generation 0; and the first setting again with the synthetic
text sampled at temperature 0.7 (the paper decodes with 5-way beam search, a mode-seeking
decoder; ``--temperature 0`` skips this run).

Run: python benchmarks/bench_perplexity.py [--config tiny] [--generations 9]
Writes benchmarks/results/perplexity_<config>.json: per setting and generation the
perplexity summary (quantiles, share outside the real text's 1-99% range, histogram of
log10 perplexity), the unigram score with the categorical theory's law beside it, the
iterations and epochs trained, held-out loss and seconds; text snippets of generations
0, 1, 5 and 9 (the same random key for every generation); the wall time of each setting
and the machine. Checkpoints go to --work (default /tmp/modelcollapse_perplexity_bench):
an interrupted run resumes there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

from modelcollapse import __version__
from modelcollapse.files import write_text
from modelcollapse.harness import CONFIGS, PERPLEXITY_SETTINGS, run_perplexity_study

HERE = Path(__file__).parent
KEEP = ("generation", "training_tokens", "iterations", "epochs", "train_loss",
        "heldout_loss", "seconds", "perplexity", "unigram_perplexity", "perplexity_theory")


def snippet_table(path) -> str:
    """The docs' table of text written by generations 0, 1, 5 and 9 (markdown), from a
    results file of this benchmark: ``python benchmarks/bench_perplexity.py --table``."""
    d = json.loads(Path(path).read_text())
    runs = d["runs"]
    gens = list(next(iter(runs.values()))["snippets"])
    rows = ["| generation | " + " | ".join(r["label"] for r in runs.values()) + " |",
            "|---|" + "---|" * len(runs)]
    for g in gens:
        cells = []
        for r in runs.values():
            t = r["snippets"][g][0].replace("\n", "⏎").replace("|", "\\|")
            cells.append(f"`{t}`")
        rows.append(f"| {g} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--generations", type=int, default=9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--snippets", default="0,1,5,9",
                    help="generations whose text goes in the table")
    ap.add_argument("--temperature", type=float, default=0.7,
                    help="also run the no-real setting at this sampling temperature (a "
                         "mode-seeking decoder, as the paper's beam search is); 0: skip")
    ap.add_argument("--work", default="/tmp/modelcollapse_perplexity_bench")
    ap.add_argument("--table", action="store_true",
                    help="print the snippets table of the committed results; run nothing")
    args = ap.parse_args(argv)
    if args.table:
        print(snippet_table(HERE / "results" / f"perplexity_{args.config}.json"))
        return 0
    from modelcollapse.harness._snippets import snippets

    show = [g for g in (int(x) for x in args.snippets.split(",")) if g <= args.generations]
    runs = {}
    todo = [(name, name, None) for name in PERPLEXITY_SETTINGS]
    if args.temperature:
        todo.append((f"no-real-T{args.temperature:g}", "no-real", args.temperature))
    for key, name, temp in todo:
        setting = PERPLEXITY_SETTINGS[name]
        t0 = time.perf_counter()
        res = run_perplexity_study(args.config, name, args.generations, out_dir=args.work,
                                   seed=args.seed, temperature=temp, progress=True)
        wall = time.perf_counter() - t0
        runs[key] = {
            "setting": name, "temperature": 1.0 if temp is None else temp,
            "label": setting["label"] + ("" if temp is None else
                                         f", sampled at temperature {temp:g}"),
            "regime_meaning": setting["regime"],
            "regime": res["regime"]["spec"], "epochs": setting["epochs"],
            "wall_seconds_this_call": wall,
            "compute_seconds": sum(g.get("seconds", 0.0) or 0.0
                                   for g in res["generations"]),
            "perplexity_study": res["perplexity_study"],
            "generations": [{k: g.get(k) for k in KEEP} for g in res["generations"]],
            "snippets": {str(g): t for g, t in
                         snippets(res, show, count=2, seed=args.seed).items()}}
        print(f"{key}: {wall:.0f} s this call", flush=True)
    out = {"benchmark": "perplexity study (Shumailov et al. 2024, Fig. 1b)",
           "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                       "python": sys.version.split()[0]},
           "modelcollapse": __version__, "config": CONFIGS[args.config].to_dict(),
           "seed": args.seed, "generations": args.generations,
           "note": "seconds of generation 0 are shared by both settings (trained once); "
                   "compute_seconds sums the generations' recorded seconds",
           "runs": runs}
    path = HERE / "results" / f"perplexity_{args.config}.json"
    write_text(path, json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
