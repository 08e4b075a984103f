"""The Monte Carlo engine's bars, measured side by side in one process.

Run: python benchmarks/bench_engine.py [--quick] [--repeats 3]
Writes benchmarks/results/engine.json and prints a Markdown table.

1. Categorical ``Replace``, K = n = 1000 (uniform), every replicate run to collapse:
   the Numba backend with no statistics and with the default statistics, and the NumPy
   backend, as speed-ups over the papers'-style loop (``rng.multinomial(n, p)`` on the
   full vector, one replicate at a time; timed on a subset of replicates and scaled,
   as in ``bench_montecarlo.py``). The mean collapse time is compared with the exact
   E[T] (z-score).
2. Peak memory of ``modelcollapse simulate --uniform 100 --n 10000 --generations
   collapse`` (1000 replicates, default statistics), in a child process.
3. A 3-D Gaussian under ``Replace(10)`` for 200 generations on every backend: whether
   every log-determinant is finite, and the z-score of their mean against
   ``theory.log_det_moments``.
4. The layout: ``isinstance`` tests on concrete regime classes in ``montecarlo/`` and
   its longest module.
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np

import modelcollapse
from modelcollapse import Categorical, Gaussian, Replace, __version__, theory
from modelcollapse.montecarlo import simulate

sys.path.insert(0, str(Path(__file__).parent))
from bench_montecarlo import baseline_replace_to_collapse


def best_of(fn, repeats):
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def numpy_binomial_ns():
    """NumPy's cost per conditional-binomial draw of a multinomial whose parameters
    change at every call (1,000 rows of 30 tokens, n = 1,000): the floor of the NumPy
    counts kernel."""
    rng = np.random.default_rng(0)
    c = rng.multinomial(1000, np.full(30, 1 / 30), size=1000)
    _, t = best_of(lambda: [rng.multinomial(1000, c / 1000) for _ in range(20)], 3)
    return t / 20 / c.size * 1e9


def workload1(R, base_R, repeats):
    model, reg = Categorical.uniform(1000), Replace(1000)
    law = theory.collapse_time(model, reg)
    simulate(model, reg, None, replicates=4, backend="numba", seed=0)  # compile
    _, base = best_of(lambda: baseline_replace_to_collapse(model.p, 1000, base_R, 1), 1)
    base *= R / base_R
    rows = {"baseline_seconds_scaled": base, "baseline_replicates_timed": base_R,
            "replicates": R, "exact_mean": law.mean(),
            "numpy_binomial_ns_per_draw": numpy_binomial_ns()}
    print(f"  numpy binomial draw: {rows['numpy_binomial_ns_per_draw']:.0f} ns")
    for label, kw in (("numba, no statistics", {"backend": "numba", "statistics": ()}),
                      ("numba, default statistics", {"backend": "numba"}),
                      ("numpy, no statistics", {"backend": "numpy", "statistics": ()}),
                      ("numpy, default statistics", {"backend": "numpy"})):
        res, t = best_of(lambda kw=kw: simulate(model, reg, None, replicates=R, seed=1,
                                                **kw), repeats)
        ct = res.collapse_time
        rows[label] = {"seconds": t, "speedup": base / t,
                       "z_mean_vs_exact": float((ct.mean() - law.mean())
                                                / np.sqrt(law.var() / ct.size))}
        print(f"  {label:28s} {t:8.3f} s   {base / t:6.1f}x the papers' loop")
    return rows


def workload2():
    cmd = [sys.executable, "-m", "modelcollapse", "simulate", "--uniform", "100", "--n",
           "10000", "--generations", "collapse", "--json"]
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # kB on Linux
    summary = json.loads(out.stdout)
    print(f"  --uniform 100 --n 10000 to collapse: peak {peak / 1e6:.0f} MB, {secs:.1f} s, "
          f"{summary['generations']} generations")
    return {"peak_rss_bytes": peak, "seconds": secs, "generations": summary["generations"],
            "recorded_columns_bound": 1024}


def workload3(R):
    model = Gaussian(np.zeros(3), np.eye(3))
    mean, var = theory.log_det_moments(model, Replace(10), 200)
    out = {}
    backends = ["numpy", "numba"]
    try:
        import jax  # noqa: F401
        backends.append("jax")
    except ImportError:
        pass
    for b in backends:
        res = simulate(model, Replace(10), 200, replicates=R, backend=b, seed=0,
                       statistics=("logdet_ratio",))
        ld = res["logdet_ratio"]
        z = float((ld[:, -1].mean() - mean) / np.sqrt(var / R))
        out[b] = {"all_finite": bool(np.isfinite(ld).all()), "z_vs_exact": z}
        print(f"  d=3, M=10, 200 generations, {b:5s}: finite {out[b]['all_finite']}, "
              f"z = {z:+.2f}")
    return out


def layout():
    from modelcollapse import regimes

    names = {n for n in dir(regimes) if isinstance(getattr(regimes, n), type)
             and issubclass(getattr(regimes, n), regimes.Regime)
             and getattr(regimes, n) is not regimes.Regime}
    root = Path(modelcollapse.__file__).parent / "montecarlo"
    count, longest = 0, ("", 0)
    for f in sorted(root.rglob("*.py")):
        text = f.read_text()
        n = len(text.splitlines())
        if n > longest[1]:
            longest = (str(f.relative_to(root.parent)), n)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
                count += bool({x.id for x in ast.walk(node.args[1])
                               if isinstance(x, ast.Name)} & names)
    print(f"  isinstance on regime classes in montecarlo/: {count}; longest module "
          f"{longest[0]} ({longest[1]} lines)")
    return {"isinstance_regime_tests": count, "longest_module": longest[0],
            "longest_module_lines": longest[1]}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "engine.json"))
    args = ap.parse_args(argv)
    R = 200 if args.quick else 1000
    print("workload 1: categorical Replace K = n = 1000 to collapse")
    w1 = workload1(R, 20 if args.quick else 100, args.repeats)
    print("workload 2: memory of a long run to collapse")
    w2 = workload2()
    print("workload 3: multivariate Gaussian stability")
    w3 = workload3(100 if args.quick else 400)
    print("layout")
    lay = layout()
    out = {"machine": {"platform": platform.platform(), "python": platform.python_version(),
                       "cpus_numba": numba.get_num_threads()},
           "version": __version__, "quick": args.quick, "dtype": "float64",
           "replace_to_collapse": w1, "memory_long_collapse_run": w2,
           "gaussian_d3_stability": w3, "layout": lay}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out).with_suffix(".json.tmp")
    tmp.write_text(json.dumps(out, indent=2))
    tmp.replace(args.out)
    print("\n| bar | measured |\n|---|---|")
    for label in ("numba, no statistics", "numba, default statistics",
                  "numpy, no statistics", "numpy, default statistics"):
        print(f"| workload 1, {label} | {w1[label]['speedup']:.1f}x the papers' loop |")
    print(f"| `--uniform 100 --n 10000 --generations collapse` | peak "
          f"{w2['peak_rss_bytes'] / 1e6:.0f} MB |")
    for b, v in w3.items():
        print(f"| d=3, M=10, 200 generations, {b} | finite: {v['all_finite']}, "
              f"z = {v['z_vs_exact']:+.2f} |")
    print(f"| isinstance on regime classes in montecarlo/ | {lay['isinstance_regime_tests']} |")
    print(f"| longest montecarlo module | {lay['longest_module_lines']} lines |")


if __name__ == "__main__":
    main()
