"""How fast does a Gaussian model of a real quantity forget its spread?

Real data, no download: the log10 frequencies of the 10,000 most frequent English
words (the `wordfreq` package). A Gaussian is fitted to them (generation 0) and then
refitted, generation after generation, on M = 100 samples of the previous fit: fully
synthetic (Replace), keeping everything (Accumulate), or with 10% fresh real data each
generation (Mix with N = 10 real, n = 90 synthetic). Theory first, then a seeded
simulation of the same numbers. Run: python examples/real_data_gaussian.py
"""

import numpy as np
import wordfreq

from modelcollapse import Accumulate, Gaussian, Mix, Replace, montecarlo, theory

freqs = sorted(wordfreq.get_frequency_dict("en", wordlist="best").values(), reverse=True)
x = np.log10(freqs[:10_000])
M, R, EPS = 100, 4000, 0.1
print(f"data: log10 frequency of the top 10,000 English words; mean {x.mean():.3f}, "
      f"std {x.std(ddof=1):.3f}; M = {M} samples per generation\n")

regimes = {"replace": Replace(M), "accumulate": Accumulate(M),
           "10% fresh real": Mix(real=10, synthetic=90, fresh=True)}
print(f"{'estimator':9s} {'regime':15s} {'E var_100/var_0':>16s} {'sim':>8s} "
      f"{'E var_1000/var_0':>17s} {'sim':>8s} {'limit':>7s}")
for est in ("unbiased", "mle"):
    model = Gaussian(x.mean(), x.var(ddof=1), estimator=est)
    for name, reg in regimes.items():
        th = theory.expected_trace_ratio(model, reg, [100, 1000, np.inf])
        sim = montecarlo.simulate(model, reg, 1000, replicates=R, seed=1,
                                  statistics=("trace_ratio",))["trace_ratio"]
        print(f"{est:9s} {name:15s} {th[0]:16.4g} {sim[:, 100].mean():8.4g} "
              f"{th[1]:17.4g} {sim[:, 1000].mean():8.4g} {th[2]:7.4g}")
        if name == "replace":  # the log-variance: a random walk, exact mean and variance
            m, v = theory.log_det_moments(model, reg, 1000)
            lv = np.log(sim[:, 1000])
            print(f"{'':9s} {'':15s} E log(var_1000/var_0) = {m:.3f} (sd {np.sqrt(v):.3f});"
                  f" simulated {lv.mean():.3f} (sd {lv.std():.3f})")

print(f"\ncollapse: first generation with std < {EPS} x the real std")
for est in ("unbiased", "mle"):
    model = Gaussian(x.mean(), x.var(ddof=1), estimator=est)
    mean, var = theory.log_det_moments(model, Replace(M), 1000)
    law = theory.gaussian_collapse_time(model, Replace(M), EPS)
    sim = montecarlo.simulate(model, Replace(M), 3000, replicates=R,
                              seed=2, statistics=(), eps=EPS)
    T = sim.collapse_time[sim.collapsed]
    q = [law.quantile(p) for p in (0.05, 0.5, 0.95)]
    print(f"  {est:8s} replace: median {q[1]:.0f} generations, 5%-95% [{q[0]:.0f}, "
          f"{q[2]:.0f}]; simulated median {np.median(T):.0f}, 5%-95% "
          f"[{np.quantile(T, 0.05):.0f}, {np.quantile(T, 0.95):.0f}] "
          f"({sim.collapsed.mean():.1%} collapsed by generation 3000)")
    for name in ("accumulate", "10% fresh real"):
        s = montecarlo.simulate(model, regimes[name], 1000, replicates=R, seed=3,
                                statistics=(), eps=EPS)
        print(f"  {est:8s} {name}: {s.collapsed.mean():.1%} of {R} runs collapsed in 1000 "
              f"generations")
