"""The VAE chain's larger run, for figure 12: the ``small`` configuration (1,500 digits per
generation, latent 8, 60 epochs) for 10 generations, fully synthetic (``Replace(1500)``),
half real (``Mix(750, 750)``, the same real digits every generation) and accumulating
(``Accumulate(1500)``: 1,500 real digits and 1,500 images of every generation kept),
seed 0.

Run: python benchmarks/bench_vae.py [--generations 10] [--config small]
Writes benchmarks/results/vae_small.json: each run's records (statistics, 16 decoded
images per generation, training times), the classifier's held-out accuracy, the real
digits' own statistics for reference, and the wall time of each run. The models go to a
temporary folder and are not kept.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from modelcollapse import __version__
from modelcollapse.files import write_text
from modelcollapse.harness import VAE_CONFIGS, run_vae_chain

HERE = Path(__file__).parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="small", choices=sorted(VAE_CONFIGS))
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    from modelcollapse.harness._vae import fit_classifier, load_digits_data, measure

    cfg = VAE_CONFIGS[args.config]
    half = cfg.images // 2
    regimes = {"replace": f"replace:{cfg.images}", "mix": f"mix:{half}:{cfg.images - half}",
               "accumulate": f"accumulate:{cfg.images}"}
    runs = {}
    for name, spec in regimes.items():
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            res = run_vae_chain(cfg, spec, args.generations, seed=args.seed, out_dir=tmp,
                                progress=True)
            res["seconds"] = time.perf_counter() - t0
        runs[name] = res
        print(f"{name}: {res['seconds']:.0f} s", flush=True)
    X, _ = load_digits_data()
    clf, _ = fit_classifier(args.seed)
    real = measure(X, clf, cfg.pairs)
    real.pop("grid", None)
    out = {"machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                       "python": sys.version.split()[0]},
           "modelcollapse": __version__, "config": args.config, "seed": args.seed,
           "generations": args.generations, "real_digits": real, "runs": runs}
    path = HERE / "results" / f"vae_{args.config}.json"
    write_text(path, json.dumps(out, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
