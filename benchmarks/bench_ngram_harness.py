"""Explain the network's drift with n-gram chains: the harness's experiment (small config,
Fig. 3 settings) run with character n-gram models of order 1 to 6 in place of the
network, beside the network's committed runs and the per-context theory.

Run: python benchmarks/bench_ngram_harness.py [--replicates 5] [--orders 1,2,3,4,5,6]
Writes benchmarks/results/ngram_harness.json. The computation is figure 10's
(:func:`modelcollapse.plotting.fig10_ngram.analyse`; its docstring states the chains, the
theory, the calibration and the residual); ``modelcollapse figures fig10`` draws it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from modelcollapse import __version__
from modelcollapse.files import write_text
from modelcollapse.plotting.fig10_ngram import ORDERS, analyse

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--orders", default=",".join(map(str, ORDERS)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(RESULTS / "ngram_harness.json"))
    args = ap.parse_args(argv)
    harness = json.loads((RESULTS / "harness_small.json").read_text())
    res = analyse(harness, orders=[int(x) for x in args.orders.split(",")],
                  replicates=args.replicates, seed=args.seed)
    out = {"benchmark": "ngram_harness", "version": __version__,
           "command": "python benchmarks/bench_ngram_harness.py", **res}
    text = json.dumps(out, indent=1).replace("NaN", "null")
    write_text(Path(args.out), text + "\n")
    fmt = {s: [None if v != v else round(v, 3) for v in c] for s, c in res["network"].items()}
    print("network:", json.dumps(fmt))
    for s in res["settings"]:
        print(s, {k: round(v, 3) for k, v in res["rms_chain_vs_network"][s].items()})
    print("best order:", res["best_order"])
    print("calibration:", json.dumps(res["calibration"]["errors"], indent=1),
          "lambda", round(res["calibration"]["lambda"], 3))
    print("network minus the best chain:", json.dumps(res["network_minus_best_chain"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
