"""Error of every approximation that ``method="auto"`` falls back to, measured against the
exact solvers over the range where both run and against seeded simulation beyond it.

Run: python benchmarks/bench_approx.py [--quick] [--only FAMILY[,FAMILY]]
Writes benchmarks/results/approx_errors.json (every comparison) and the bands that the
library reports, modelcollapse/theory/categorical/approx_bands.json. --only re-measures
some families and merges them into the committed results; --quick writes only a results
file under another name (approx_errors_partial.json).

For each comparison: the approximation (``approximate.approximate_collapse``, the value
``auto`` returns, without its band) against a reference, either exact (the window chain,
the sampling-policy chain, the exact coalescent) or simulated (``montecarlo.simulate``,
numba, seeded). Errors:

* mean: ``|approx / reference - 1|``, plus ``5 * se / reference`` for a simulated
  reference (se the standard error of the simulated mean);
* law: the Wasserstein-1 distance ``sum_m |F_approx(m) - F_reference(m)|`` (the mean
  absolute difference of the quantile functions) relative to the reference mean, plus,
  for a simulated reference, ``5 * sum_m sqrt(F_R (1 - F_R)) / sqrt(R)`` relative to it
  (R replicates; the mean W1 between R draws and their law is below that sum).

A family's band at size n is the largest such error among its comparisons at the largest
compared size n* <= n and above (``approximate.band``). The script also measures the
numba simulator's rate in replicate-generation-token steps per second, the cost model of
the refusals' estimates.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from modelcollapse import Categorical, MostRecent, Replace, __version__, montecarlo, theory
from modelcollapse.errors import TooLargeError
from modelcollapse.files import write_text
from modelcollapse.theory.categorical import approximate
from modelcollapse.theory.categorical.collapse import approximate_collapse
from modelcollapse.theory.categorical.diffusion import littler_rate
from modelcollapse.theory.categorical.replace_chain import MAX_EXACT_N

HERE = Path(__file__).parent
RESULTS = HERE / "results" / "approx_errors.json"
Z = 5.0  # standard errors added to a simulated mean's error


def wasserstein(a, b) -> float:
    """``W1 = sum_m |F_a(m) - F_b(m)|`` of two GenerationDistributions: the mean
    absolute difference of their quantile functions."""
    M = min(max(a.horizon, b.horizon), 5_000_000)
    m = np.arange(M + 1)
    return float(np.sum(np.abs(a.cdf(m) - b.cdf(m))))


def wasserstein_empirical(law, times) -> tuple[float, float]:
    """``W1`` against the empirical law of simulated times, and the statistical bound
    ``sum_m sqrt(F_R(m) (1 - F_R(m))) / sqrt(R)`` on the mean W1 between an empirical
    law of R draws and its own law (del Barrio, Gine & Matran 1999)."""
    times = np.sort(np.asarray(times))
    M = int(times.max())
    m = np.arange(M + 1)
    emp = np.searchsorted(times, m, side="right") / times.size
    w1 = float(np.sum(np.abs(law.cdf(m) - emp)))
    return w1, float(np.sum(np.sqrt(emp * (1 - emp)))) / math.sqrt(times.size)


def label(model) -> str:
    p = model.p
    return f"V={p.size}" if p.size > 6 else "(" + ",".join(f"{x:g}" for x in p) + ")"


def compare_exact(family, model, regime, exact_mean, exact_law, **params):
    t0 = time.perf_counter()
    ref = float(exact_mean(model, regime))
    ref_law = exact_law(model, regime) if exact_law is not None else None
    t_exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    approx = approximate_collapse(model, regime, False)
    law = approximate_collapse(model, regime, True) \
        if ref_law is not None else None
    t_approx = time.perf_counter() - t0
    if approx is None:
        return None
    row = {"family": family, "model": label(model), "regime": repr(regime),
           "n": regime.n, "rate": littler_rate(model.p), **params, "reference": "exact",
           "ref_mean": ref,
           "approx_mean": float(approx), "mean_err": abs(float(approx) / ref - 1),
           "law_err": wasserstein(law, ref_law) / ref if law is not None else None,
           "seconds_exact": t_exact, "seconds_approx": t_approx}
    return row


def compare_sim(family, model, regime, replicates, seed, generations=None, **params):
    approx = approximate_collapse(model, regime, False)
    if approx is None:
        return None
    law = approximate_collapse(model, regime, True)
    G = None
    if generations == 0:  # a hazard law: nothing survives its horizon
        G = 6 * law.horizon + 100
    elif generations is not None:  # MostRecent: P(T > m) decays like exp(-m / N_e)
        Ne = theory.most_recent_effective_size(regime.n, regime.window)
        G = int(float(approx) + generations * Ne)
    t0 = time.perf_counter()
    sim = montecarlo.simulate(model, regime, G, replicates=replicates, seed=seed,
                              backend="numba", statistics=[])
    secs = time.perf_counter() - t0
    ct = sim.collapse_time.astype(np.float64)
    if np.any(ct < 0):
        raise RuntimeError(f"{regime!r}: {int((ct < 0).sum())} replicates did not collapse "
                           f"within {G} generations")
    mean, se = ct.mean(), ct.std(ddof=1) / math.sqrt(ct.size)
    law_err = None
    if law is not None:
        w1, stat = wasserstein_empirical(law, ct)
        law_err = (w1 + Z * stat) / mean
    return {"family": family, "model": label(model), "regime": repr(regime),
            "n": regime.n, "rate": littler_rate(model.p), **params,
            "reference": "simulation", "replicates": replicates,
            "seed": seed, "ref_mean": mean, "ref_se": se, "approx_mean": float(approx),
            "mean_err": abs(float(approx) / mean - 1) + Z * se / mean,
            "raw_mean_err": abs(float(approx) / mean - 1),
            "z": (float(approx) - mean) / se if se > 0 else 0.0,
            "law_err": law_err, "seconds_sim": secs}


def _exact_rows(family, models, regimes, mean_fn, law_fn, keys, time_cap):
    rows = []
    for model in models:
        for params, ns in regimes:
            for n in ns:
                regime = params["make"](n)
                t0 = time.perf_counter()
                try:
                    row = compare_exact(family, model, regime, mean_fn, law_fn,
                                        **{k: params[k] for k in keys})
                except TooLargeError:
                    break
                if row is not None:
                    rows.append(row)
                    print(f"  {family:22s} {label(model):18s} {regime!r:40s} exact "
                          f"{row['ref_mean']:.5g} approx {row['approx_mean']:.5g} "
                          f"err {row['mean_err']:.3g} law {row['law_err']}", flush=True)
                if time.perf_counter() - t0 > time_cap:
                    break
    return rows


def _sim_rows(family, cases, keys):
    rows = []
    for model, regime, R, seed, G, params in cases:
        row = compare_sim(family, model, regime, R, seed, G, **{k: params[k] for k in keys})
        if row is not None:
            rows.append(row)
            print(f"  {family:22s} {label(model):18s} {regime!r:40s} sim "
                  f"{row['ref_mean']:.5g}±{row['ref_se']:.2g} approx {row['approx_mean']:.5g}"
                  f" z {row['z']:+.2f} err {row['mean_err']:.3g} ({row['seconds_sim']:.0f} s)",
                  flush=True)
    return rows


def effective_size(quick):
    from modelcollapse.theory.categorical.window_laws import (
        overlapping_collapse_time,
        overlapping_expected_collapse_time,
    )
    models = [Categorical([0.5, 0.5]), Categorical([0.9, 0.1]), Categorical([0.5, 0.3, 0.2])]
    windows = (2, 3) if quick else (2, 3, 4, 5)
    grid = {2: (5, 10, 20, 40, 80), 3: (6, 10, 20, 40), 4: (8, 12, 16), 5: (10,)}
    regs = [({"make": (lambda n, K=K: MostRecent(n, K)), "window": K},
             [n for n in grid[K] if not quick or n <= 20]) for K in windows]
    rows = _exact_rows("effective-size", models, regs, overlapping_expected_collapse_time,
                       overlapping_collapse_time, ["window"], 60)
    sims = [] if quick else [
        (m, MostRecent(n, K), R, [7, K, n, i], 16, {"window": K})
        for i, m in enumerate([Categorical([0.5, 0.5]), Categorical([0.9, 0.1])])
        for K, n, R in ((3, 100, 4000), (5, 100, 4000), (8, 100, 4000),
                        (2, 300, 4000), (3, 300, 4000), (5, 300, 4000), (8, 300, 2000),
                        (2, 1000, 4000), (5, 1000, 3000), (8, 1000, 1500),
                        (2, 3000, 3000), (5, 3000, 1500))]
    return rows + _sim_rows("effective-size", sims, ["window"])


def hazard(quick):
    from modelcollapse.theory.categorical.policy_laws import (
        policy_collapse_time,
        policy_expected_collapse_time,
    )
    models = [Categorical([0.6, 0.4]), Categorical([0.9, 0.1]),
              Categorical([0.5, 0.3, 0.2]), Categorical([0.4, 0.3, 0.2, 0.1])]
    temps = (0.5, 0.8) if quick else (0.3, 0.5, 0.8, 0.9, 0.95)
    ns = (10, 30, 100) if quick else (10, 30, 100, 300, 1000, 2999)
    regs = [({"make": (lambda n, T=T: Replace(n, temperature=T)), "temperature": T}, ns)
            for T in temps]
    if not quick:
        regs += [({"make": (lambda n: Replace(n, temperature=0.8, top_k=2)),
                   "temperature": 0.8}, ns),
                 ({"make": (lambda n: Replace(n, temperature=0.8, top_p=0.9)),
                   "temperature": 0.8}, ns)]
    rows = _exact_rows("deterministic-hazard", models, regs, policy_expected_collapse_time,
                       policy_collapse_time, ["temperature"], 60)
    english = Categorical.from_wordfreq("en", top=50_000)
    sims = [] if quick else [
        (m, Replace(n, temperature=T), 2000, [11, i, n, int(T * 100)], None,
         {"temperature": T})
        for i, m in enumerate([Categorical([0.6, 0.4]), Categorical([0.9, 0.1])])
        for n in (10_000, 100_000) for T in (0.3, 0.8, 0.95)] + [
        (english, Replace(10**6, temperature=T), 300, [12, int(T * 100)], None,
         {"temperature": T}) for T in (0.3, 0.5, 0.8, 0.9, 0.95)]
    return rows + _sim_rows("deterministic-hazard", sims, ["temperature"])


def window_hazard(quick):
    from modelcollapse.theory.categorical.window_laws import (
        overlapping_collapse_time,
        overlapping_expected_collapse_time,
    )
    models = [Categorical([0.6, 0.4]), Categorical([0.9, 0.1])]
    temps = (0.5, 0.8) if quick else (0.5, 0.8, 0.95)
    grid = {2: (6, 10, 20, 40, 80), 3: (6, 9, 15, 30)}
    regs = [({"make": (lambda n, K=K, T=T: MostRecent(n, K, temperature=T)),
              "temperature": T, "window": K},
             [n for n in grid[K] if not quick or n <= 20]) for K in (2, 3) for T in temps]
    rows = _exact_rows("window-hazard", models, regs, overlapping_expected_collapse_time,
                       overlapping_collapse_time, ["temperature", "window"], 60)
    english = Categorical.from_wordfreq("en", top=50_000)
    sims = [] if quick else [
        (m, MostRecent(n, K, temperature=T), 2000, [15, i, n, K, int(T * 100)], 0,
         {"temperature": T, "window": K})
        for i, m in enumerate(models) for n in (1000, 100_000) for K in (2, 5, 8)
        for T in (0.5, 0.95)] + [
        (english, MostRecent(10**6, K, temperature=T), 100, [16, K, int(T * 100)], 0,
         {"temperature": T, "window": K}) for K, T in ((2, 0.8), (5, 0.8), (5, 0.95))]
    return rows + _sim_rows("window-hazard", sims, ["temperature", "window"])


def top_k(quick):
    from modelcollapse.theory.categorical.policy_laws import (
        policy_collapse_time,
        policy_expected_collapse_time,
    )
    models = [Categorical([0.5, 0.3, 0.2]), Categorical([0.4, 0.3, 0.2, 0.1]),
              Categorical([0.3, 0.3, 0.2, 0.2])]
    ns = (10, 30) if quick else (10, 30, 100, 300)
    regs = [({"make": (lambda n, k=k: Replace(n, top_k=k)), "top_k": k}, ns) for k in (2, 3)]
    rows = _exact_rows("top-k-neutral", models, regs, policy_expected_collapse_time,
                       policy_collapse_time, ["top_k"], 60)
    sims = [] if quick else [
        (m, Replace(n, top_k=k), 4000, [14, i, n, k], None, {"top_k": k})
        for i, m in enumerate(models[:2]) for n in (1000, 3000) for k in (2, 3)]
    return rows + _sim_rows("top-k-neutral", sims, ["top_k"])


def diffusion(quick):
    from modelcollapse.theory.categorical.diffusion import diffusion_collapse_time
    models = [Categorical([0.5, 0.5]), Categorical([0.9, 0.1]), Categorical.uniform(10),
              Categorical.from_wordfreq("en", top=1000)]
    ns = (10**3, 10**4) if quick else (10**3, 10**4, 10**5, 10**6, MAX_EXACT_N)
    rows = []
    for model in models:
        for n in ns:
            t0 = time.perf_counter()
            ref = float(theory.expected_collapse_time(model, Replace(n), method="coalescent"))
            secs = time.perf_counter() - t0
            approx = diffusion_collapse_time(model, Replace(n))
            rows.append({"family": "diffusion", "model": label(model),
                         "regime": repr(Replace(n)), "n": n, "reference": "exact",
                         "ref_mean": ref, "approx_mean": approx,
                         "mean_err": abs(approx / ref - 1), "law_err": None,
                         "seconds_exact": secs})
            print(f"  diffusion {label(model):18s} n={n:<8d} exact {ref:.7g} approx "
                  f"{approx:.7g} err {abs(approx / ref - 1):.3g}", flush=True)
    return rows


FAMILIES = {"effective-size": effective_size, "deterministic-hazard": hazard,
            "window-hazard": window_hazard, "top-k-neutral": top_k,
            "diffusion": diffusion}


def simulator_rate() -> dict:
    """Replicate-generation-token steps per second of the numba simulator (after a
    warm-up), on a uniform model of V = 1000 tokens with n = 10**5 (few losses in 200
    generations, so the count is close to the work done)."""
    model, regime, R, G = Categorical.uniform(1000), Replace(100_000), 20, 200
    montecarlo.simulate(model, regime, 2, replicates=2, seed=0, statistics=[])
    t0 = time.perf_counter()
    montecarlo.simulate(model, regime, G, replicates=R, seed=0, statistics=[])
    secs = time.perf_counter() - t0
    return {"steps_per_second": R * G * 1000 / secs, "seconds": secs,
            "workload": "uniform V=1000, Replace(100000), 20 replicates x 200 generations"}


def domains(rows) -> dict:
    """Each family's compared range of each parameter, and the direction in which its
    error grows (``"above"``: larger is harder)."""
    def span(fam, key):
        vals = [r[key] for r in rows if r["family"] == fam]
        return [min(vals), max(vals)]
    out = {}
    for fam in {r["family"] for r in rows}:
        if fam == "effective-size":
            out[fam] = {"window": [*span(fam, "window"), "above"],
                        "rate": [span(fam, "rate")[0], 2.0, "below"]}
        elif fam == "deterministic-hazard":
            out[fam] = {"temperature": [*span(fam, "temperature"), "above"]}
        elif fam == "window-hazard":
            out[fam] = {"temperature": [*span(fam, "temperature"), "above"],
                        "window": [*span(fam, "window"), "above"]}
        else:
            out[fam] = {}
    return out


def bands(rows, domains) -> dict:
    """The table ``approximate.band`` reads: per family, its domain (each parameter's
    compared range and the direction in which the error grows) and one point per
    comparison (n, errors, parameters)."""
    fams = {}
    for fam, dom in domains.items():
        keys = list(dom)
        pts = [{"n": r["n"], "mean_err": r["mean_err"], "law_err": r["law_err"],
                **{k: r[k] for k in keys}} for r in rows if r["family"] == fam]
        pts.sort(key=lambda p: (p["n"], *(p[k] for k in keys)))
        fams[fam] = {"domain": dom, "points": pts}
    return fams


def write_bands(out: dict) -> None:
    table = {"generated_by": "python benchmarks/bench_approx.py",
             "modelcollapse": out["modelcollapse"],
             "simulator_steps_per_second": out["simulator"]["steps_per_second"],
             "families": bands(out["rows"], domains(out["rows"]))}
    write_text(approximate.BANDS_PATH, json.dumps(table, indent=1))
    print(f"wrote {approximate.BANDS_PATH}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small smoke run")
    ap.add_argument("--only", help="comma-separated families")
    ap.add_argument("--bands-only", action="store_true",
                    help=f"rewrite the bands from {RESULTS.name}; compute nothing")
    args = ap.parse_args(argv)
    if args.bands_only:
        with open(RESULTS, encoding="utf-8") as f:
            write_bands(json.load(f))
        return 0
    names = list(FAMILIES) if not args.only else args.only.split(",")
    for n in names:
        if n not in FAMILIES:
            ap.error(f"--only: unknown family {n!r}; choose from {', '.join(FAMILIES)}")
    t0 = time.perf_counter()
    rate = simulator_rate()
    print(f"simulator: {rate['steps_per_second']:.3g} steps/s", flush=True)
    rows, seconds = [], {}
    for name in names:
        t1 = time.perf_counter()
        rows += FAMILIES[name](args.quick)
        seconds[name] = time.perf_counter() - t1
    partial = args.quick
    if args.only and not args.quick and RESULTS.exists():  # merge into the committed run
        with open(RESULTS, encoding="utf-8") as f:
            old = json.load(f)
        rows = [r for r in old["rows"] if r["family"] not in names] + rows
        seconds = {**old.get("seconds", {}), **seconds}
        names = sorted({r["family"] for r in rows})
    out = {"machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                       "python": sys.version.split()[0]},
           "modelcollapse": __version__, "quick": args.quick, "families": names,
           "simulator": rate, "seconds": seconds,
           "total_seconds": time.perf_counter() - t0, "rows": rows}
    path = RESULTS if not partial else RESULTS.with_name("approx_errors_partial.json")
    write_text(path, json.dumps(out, indent=1))
    print(f"wrote {path}")
    if not partial:
        write_bands(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
