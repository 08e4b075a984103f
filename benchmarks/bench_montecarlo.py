"""Speed of the Monte Carlo backends against a baseline written like the papers' scripts.

Run: python benchmarks/bench_montecarlo.py [--quick] [--backends numba,numpy,jax]
Writes benchmarks/results/montecarlo.json and prints a Markdown table.

The baseline, run in the same process, is a Python loop over replicates and
generations that does what the published experiment code does: ``rng.multinomial(n, p)``
on the full probability vector (Replace), or drawing the ``n`` new tokens, concatenating
them to everything so far and refitting by counting the whole pool (Accumulate), or
drawing ``n`` Gaussian points and refitting mean and standard deviation (Gaussian). It
is timed on a subset of the replicates and scaled linearly (replicates are
independent, so its time is linear in their number); the subset is stated in the JSON.
Compile time (JIT) is measured separately by a first tiny run of each backend. Times
are the best of ``--repeats`` runs (default 3) for the baselines and the numba / numpy
backends, one run for jax.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numba
import numpy as np

from modelcollapse import Accumulate, Categorical, Gaussian, Replace, __version__, theory
from modelcollapse.montecarlo import simulate


# ---------------------------------------------------------------------- baselines
def baseline_replace_to_collapse(p0, n, replicates, seed):
    rng = np.random.default_rng(seed)
    T = np.empty(replicates, dtype=np.int64)
    for r in range(replicates):
        p = p0.copy()
        g = 0
        while True:
            g += 1
            p = rng.multinomial(n, p) / n
            if np.count_nonzero(p) == 1:
                break
        T[r] = g
    return T


def baseline_accumulate(p0, n, generations, replicates, seed):
    rng = np.random.default_rng(seed)
    V = p0.size
    out = np.empty(replicates)
    for r in range(replicates):
        data = [rng.choice(V, size=n, p=p0)]
        p = np.bincount(np.concatenate(data), minlength=V) / n
        for _ in range(1, generations):
            data.append(rng.choice(V, size=n, p=p))
            pool = np.concatenate(data)
            p = np.bincount(pool, minlength=V) / pool.size
        out[r] = np.dot(p, p)
    return out


def baseline_gaussian(n, generations, replicates, seed):
    rng = np.random.default_rng(seed)
    out = np.empty(replicates)
    for r in range(replicates):
        mu, sigma = 0.0, 1.0
        for _ in range(generations):
            x = rng.normal(mu, sigma, size=n)
            mu, sigma = x.mean(), x.std(ddof=1)
        out[r] = sigma**2
    return out


REPEATS = 1  # set by --repeats


def timed(fn, repeats=None):
    """``(result, seconds)``: the best of ``repeats`` calls (``REPEATS`` by default), as
    wall times on a shared machine fluctuate by tens of percent from run to run."""
    best, out = float("inf"), None
    for _ in range(REPEATS if repeats is None else repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def z(sample, mean, var):
    return float((np.mean(sample) - mean) / np.sqrt(var / len(sample)))


# ---------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer replicates everywhere")
    ap.add_argument("--backends", default="numba,numpy,jax")
    ap.add_argument("--workloads", default="1,2,3,4")
    ap.add_argument("--jax-replicates", type=int, default=None,
                    help="replicates of workloads 1 and 4 on jax, the slowest backend on "
                         "a CPU (default: as numba)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="time baselines and the numba/numpy backends as the best of this "
                         "many runs (jax: one run, its runs are long)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" /
                                         "montecarlo.json"))
    args = ap.parse_args(argv)
    global REPEATS
    REPEATS = max(1, args.repeats)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if "jax" in backends:
        try:
            import jax  # noqa: F401
        except ImportError:
            print("jax not installed: skipping the jax backend")
            backends.remove("jax")
    workloads = {int(w) for w in args.workloads.split(",")}
    q = args.quick
    rows = []
    compile_s = {}
    for b in backends:  # JIT / first-call cost, on tiny problems of each family
        t0 = time.perf_counter()
        simulate(Categorical.uniform(5), Replace(5), None, replicates=2, backend=b, seed=0,
                 statistics=())
        simulate(Categorical.uniform(5), Accumulate(5), 3, replicates=2, backend=b, seed=0,
                 statistics=("homozygosity",))
        simulate(Gaussian(), Replace(5), 3, replicates=2, backend=b, seed=0,
                 statistics=("var",))
        compile_s[b] = time.perf_counter() - t0

    def row(workload, desc, backend, seconds, replicates, baseline_s, extra):
        r = {"workload": workload, "description": desc, "backend": backend,
             "seconds": seconds, "replicates": replicates,
             "baseline_seconds_scaled": baseline_s,
             "speedup": baseline_s / seconds if baseline_s else None, **extra}
        rows.append(r)
        sp = f"{r['speedup']:.3g}x" if r["speedup"] else "-"
        print(f"  [{workload}] {backend:8s} {seconds:9.3f} s  speed-up {sp}  {extra}",
              flush=True)

    # 1. Categorical Replace, V = n = 1000, uniform, 1000 replicates, to collapse
    if 1 in workloads:
        model, reg = Categorical.uniform(1000), Replace(1000)
        R = 200 if q else 1000
        Rb = 10 if q else 40
        law_mean = float(theory.expected_collapse_time(model, reg))
        law_var = theory.collapse_time(model, reg).var()
        Tb, tb = timed(lambda: baseline_replace_to_collapse(model.p, 1000, Rb, 1))
        base = tb * R / Rb
        print(f"[1] baseline {tb:.2f} s for {Rb} replicates -> {base:.1f} s for {R}")
        for b in backends:
            Rj = args.jax_replicates if (b == "jax" and args.jax_replicates) else R
            res, t = timed(lambda b=b, Rj=Rj: simulate(model, reg, None, replicates=Rj,
                                                       backend=b, seed=1, statistics=()),
                           1 if b == "jax" else None)
            row(1, "Categorical Replace, V=n=1000 uniform, to collapse", b, t, Rj,
                tb * Rj / Rb,
                {"mean_T": float(res.collapse_time.mean()), "exact_E_T": law_mean,
                 "z_vs_exact": z(res.collapse_time, law_mean, law_var),
                 "baseline_replicates_timed": Rb,
                 "baseline_mean_T": float(Tb.mean())})

    # 2. Categorical Accumulate, V = n = 1000, 100 replicates, 1000 generations
    if 2 in workloads:
        model, reg = Categorical.uniform(1000), Accumulate(1000)
        R, G = (20, 300) if q else (100, 1000)
        Rb = 2 if q else 3
        _, tb = timed(lambda: baseline_accumulate(model.p, 1000, G, Rb, 2))
        base = tb * R / Rb
        print(f"[2] baseline {tb:.2f} s for {Rb} replicates -> {base:.1f} s for {R}")
        for b in backends:
            res, t = timed(lambda b=b: simulate(model, reg, G, replicates=R, backend=b,
                                                seed=2, statistics=("homozygosity",)),
                           1 if b == "jax" else None)
            row(2, f"Categorical Accumulate, V=n=1000, {G} generations", b, t, R, base,
                {"generations": G, "baseline_replicates_timed": Rb,
                 "mean_final_homozygosity": float(res["homozygosity"][:, -1].mean())})

    # 3. Gaussian 1-D Replace, n = 1000, 1000 replicates, 1000 generations
    if 3 in workloads:
        n = 1000
        R, G = (200, 1000) if q else (1000, 1000)
        Rb = 10 if q else 50
        model, reg = Gaussian(), Replace(n)
        _, tb = timed(lambda: baseline_gaussian(n, G, Rb, 3))
        base = tb * R / Rb
        print(f"[3] baseline {tb:.2f} s for {Rb} replicates -> {base:.1f} s for {R}")
        # exact: E log sigma_G^2 = G [psi((n-1)/2) + log(2/(n-1))], Var = G psi'((n-1)/2)
        from scipy.special import polygamma, psi
        mu = G * (psi((n - 1) / 2) + np.log(2 / (n - 1)))
        var = G * polygamma(1, (n - 1) / 2)
        for b in backends:
            res, t = timed(lambda b=b: simulate(model, reg, G, replicates=R, backend=b,
                                                seed=3, statistics=("logdet_ratio",)),
                           1 if b == "jax" else None)
            row(3, "Gaussian 1-D Replace, n=1000, 1000 generations", b, t, R, base,
                {"generations": G, "baseline_replicates_timed": Rb,
                 "z_E_log_var_vs_exact": z(res["logdet_ratio"][:, -1], mu, var)})

    # 4. Categorical Replace, GPT-2-sized Zipf vocabulary, n = 1e5, 100 generations
    if 4 in workloads:
        V, n = 50_257, 100_000
        model, reg = Categorical.zipf(V, 1.0), Replace(n)
        R, G = (10, 20) if q else (100, 100)
        for b in backends:
            Rb = R
            if b == "jax" and args.jax_replicates:
                Rb = args.jax_replicates
            res, t = timed(lambda b=b, Rb=Rb: simulate(model, reg, G, replicates=Rb,
                                                       backend=b, seed=4,
                                                       statistics=("support_size",)),
                           1 if b == "jax" else None)
            live = float(res["support_size"][:, :-1].sum())
            row(4, "Categorical Replace, Zipf V=50,257, n=1e5, throughput", b, t, Rb, None,
                {"generations": G, "token_updates_per_s": V * Rb * G / t,
                 "live_token_updates_per_s": live / t,
                 "mean_final_support": float(res["support_size"][:, -1].mean())})

    result = {
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "cpu_count": os.cpu_count(), "numba_threads": numba.get_num_threads(),
                    "python": platform.python_version()},
        "modelcollapse": __version__, "dtype": "float64", "compile_seconds": compile_s,
        "quick": q, "repeats": REPEATS, "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print("\n| workload | backend | seconds | speed-up vs baseline |")
    print("|---|---|---|---|")
    for r in rows:
        sp = f"{r['speedup']:.3g}x" if r["speedup"] else (
            f"{r['token_updates_per_s']:.3g} token-updates/s")
        print(f"| {r['workload']}. {r['description']} | {r['backend']} | "
              f"{r['seconds']:.2f} | {sp} |")
    print(f"\nwritten {args.out}")


if __name__ == "__main__":
    main()
