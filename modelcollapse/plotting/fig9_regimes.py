"""Figure 9: collapse time against n for every regime and sampling policy, on one page.

Exact theory where it exists (lines), seeded simulations over it (points, ±2 s.e.):
(a) the plain regimes that collapse (Replace; MostRecent against its effective-size
scaling), (b) sampling policies under Replace (exact lumped chain while it fits, the
large-n asymptotics beyond), (c, d) the regimes that do not collapse, through their exact
homozygosity.
"""

from __future__ import annotations

import math
import time

import numpy as np
from matplotlib.ticker import FixedLocator, FormatStrFormatter, LogLocator, NullFormatter

from .. import montecarlo, theory
from ..errors import TooLargeError, UnsupportedRegimeError
from ..models import Categorical
from ..regimes import Accumulate, AccumulateSubsample, Mix, MostRecent, RandomlySampled, Replace
from ..theory.categorical.diffusion import littler_rate
from ._common import log_grid, mean_se
from .style import OKABE_ITO, PALETTE, figure, panel_label

SEED = 9
P0 = (0.5, 0.3, 0.2)
#: Panel (a): MostRecent windows.
WINDOWS = (2, 4)
#: Panel (b): the sampling policies of ``Replace(n, **policy)``.
POLICIES = {"$T = 0.5$": {"temperature": 0.5}, "$T = 1$ (plain)": {},
            "$T = 2$": {"temperature": 2.0}, "top-$k$ = 2": {"top_k": 2},
            "top-$p$ = 0.8": {"top_p": 0.8}}
#: ``T = 2`` is simulated only while its exact E[T] (exponential in n) stays below this.
MAX_SIM_MEAN = {True: 2_000.0, False: 20_000.0}
#: Panels (c, d): the regimes that do not collapse, as functions of n.
STATIONARY = {"Mix($n$ real, $n$ synthetic)": lambda n: Mix(n, n),
              "Accumulate": Accumulate, "RandomlySampled": RandomlySampled,
              "AccumulateSubsample": AccumulateSubsample}
#: Panel (c): the n of the homozygosity curves.
N_C = 20
#: MostRecent runs last ``E[T] + HORIZON * N_e`` generations (P(T > horizon) ~ e^-12).
HORIZON = 12.0


def _model() -> Categorical:
    return Categorical(np.array(P0, dtype=np.float64))


def _settings(quick: bool) -> dict:
    if quick:
        S = {"n_exact": log_grid(60, 14, start=5), "n_sim": np.array([5, 10, 20, 40, 60]),
             "n_sim_T2": np.array([5, 6, 8, 10, 12]), "replicates": 100,
             "generations": 200, "n_d": np.array([5, 10, 20, 40, 60])}
    else:
        S = {"n_exact": log_grid(300, 28, start=5),
             "n_sim": np.array([5, 10, 20, 40, 60, 100, 150, 200, 300]),
             "n_sim_T2": np.array([5, 6, 8, 10, 12, 14, 16, 18]), "replicates": 1000,
             "generations": 2000, "n_d": np.array([5, 10, 20, 40, 60, 100, 200, 300])}
    # the lines pass through every simulated n (top-p's E[T] is not monotone in n)
    S["n_exact"] = np.union1d(S["n_exact"], np.union1d(S["n_sim"], S["n_sim_T2"]))
    return S


def _collapse_sim(model, regime, replicates, seed, generations=None):
    """Mean and standard error of the simulated collapse time, and the number of
    replicates that had not collapsed within ``generations`` (``None``: run to
    collapse)."""
    sim = montecarlo.simulate(model, regime, generations, replicates=replicates,
                              backend="numba", seed=seed, statistics=(), record="last")
    ct = sim.collapse_time
    done = ct[ct >= 0].astype(np.float64)
    return done.mean(), done.std(ddof=1) / math.sqrt(done.size), int((ct < 0).sum())


def _panel_a(model, S, out, timing):
    t0 = time.perf_counter()
    n_ex, n_sim, R = S["n_exact"], S["n_sim"], S["replicates"]
    H = littler_rate(model.p) / 2  # E[T] ~ 2 N H (diffusion)
    out["a_n_exact"] = n_ex
    out["a_replace_exact"] = np.array([float(theory.expected_collapse_time(model, Replace(int(n))))
                                       for n in n_ex])
    out["a_n_sim"] = n_sim
    rows = [_collapse_sim(model, Replace(int(n)), R, [SEED, 0, 0, int(n)]) for n in n_sim]
    out["a_replace_sim_mean"] = np.array([r[0] for r in rows])
    out["a_replace_sim_se"] = np.array([r[1] for r in rows])
    out["a_replace_sim_exact"] = np.array(
        [float(theory.expected_collapse_time(model, Replace(int(n)))) for n in n_sim])
    censored = {}
    for k, K in enumerate(WINDOWS, start=1):
        out[f"a_mr{K}_ne"] = np.array([theory.most_recent_effective_size(int(n), K)
                                       for n in n_ex])
        out[f"a_mr{K}_scaling"] = 2.0 * H * out[f"a_mr{K}_ne"]
        ne_sim = np.array([theory.most_recent_effective_size(int(n), K) for n in n_sim])
        out[f"a_mr{K}_sim_scaling"] = 2.0 * H * ne_sim
        rows = []
        for n, ne in zip(n_sim, ne_sim, strict=True):
            G = math.ceil(2.0 * H * ne + HORIZON * ne)
            rows.append(_collapse_sim(model, MostRecent(int(n), K), R, [SEED, 0, k, int(n)],
                                      generations=G))
        out[f"a_mr{K}_sim_mean"] = np.array([r[0] for r in rows])
        out[f"a_mr{K}_sim_se"] = np.array([r[1] for r in rows])
        censored[f"MostRecent K={K}"] = [r[2] for r in rows]
    timing["a"] = round(time.perf_counter() - t0, 2)
    return {"diffusion_H": H, "most_recent_not_collapsed": censored,
            "most_recent_horizon": f"E_Ne + {HORIZON} N_e generations"}


def _exact_policy(model, regime, cache):
    """Exact E[T] (coalescent for plain Replace, lumped chain under a policy), or
    ``None`` beyond the chain's size cap."""
    if regime not in cache:
        try:
            cache[regime] = float(theory.expected_collapse_time(model, regime))
        except TooLargeError:
            cache[regime] = None
    return cache[regime]


def _panel_b(model, S, quick, out, timing):
    t0 = time.perf_counter()
    R = S["replicates"]
    caps, methods, cache = {}, {}, {}
    for i, (name, kw) in enumerate(POLICIES.items()):
        ex_n, ex = [], []
        for n in S["n_exact"]:
            v = _exact_policy(model, Replace(int(n), **kw), cache)
            if v is None:  # beyond the chain's cap: every larger n is too
                caps[name] = int(n)
                break
            ex_n.append(int(n))
            ex.append(v)
        out[f"b{i}_exact_n"], out[f"b{i}_exact_mean"] = np.array(ex_n), np.array(ex)
        try:
            asym = [theory.policy_collapse_time_asymptotic(model, Replace(int(n), **kw))
                    for n in S["n_exact"]]
        except UnsupportedRegimeError:
            asym = []
        if asym:
            out[f"b{i}_asym_n"] = S["n_exact"]
            out[f"b{i}_asym_mean"] = np.array([float(a) for a in asym])
            methods[name] = asym[0].method
        n_sim = S["n_sim_T2"] if kw.get("temperature", 1.0) > 1 else S["n_sim"]
        sims, exact_at = [], []
        for n in n_sim:
            v = _exact_policy(model, Replace(int(n), **kw), cache)
            if kw.get("temperature", 1.0) > 1 and (v is None or v > MAX_SIM_MEAN[quick]):
                break
            sims.append(_collapse_sim(model, Replace(int(n), **kw), R, [SEED, 1, i, int(n)]))
            exact_at.append(np.nan if v is None else v)
        out[f"b{i}_sim_n"] = n_sim[:len(sims)]
        out[f"b{i}_sim_mean"] = np.array([r[0] for r in sims])
        out[f"b{i}_sim_se"] = np.array([r[1] for r in sims])
        out[f"b{i}_sim_exact"] = np.array(exact_at)
    timing["b"] = round(time.perf_counter() - t0, 2)
    i2 = next(i for i, kw in enumerate(POLICIES.values()) if kw.get("temperature", 1) > 1)
    t2_n, t2 = out[f"b{i2}_exact_n"], out[f"b{i2}_exact_mean"]  # ln E[T]'s final slope
    slope = float(np.log(t2[-1] / t2[-2]) / (t2_n[-1] - t2_n[-2]))
    return {"policy_chain_cap_n": caps, "asymptotic_methods": methods,
            "T2_ld_rate": theory.policy_ld_rate(2.0), "T2_log_slope": slope}


def _panel_cd(model, S, out, timing):
    t0 = time.perf_counter()
    R, G = S["replicates"], S["generations"]
    m = np.arange(G + 1)
    m_pts = log_grid(G, 9)
    out["c_m"], out["c_m_sim"] = m, m_pts
    for i, make in enumerate(STATIONARY.values()):
        reg = make(N_C)
        out[f"c{i}_exact"] = theory.homozygosity(model, reg, m)
        sim = montecarlo.simulate(model, reg, G, replicates=R, backend="numba",
                                  seed=[SEED, 2, i, N_C], statistics=("homozygosity",))
        s, se = mean_se(sim["homozygosity"][:, m_pts])
        out[f"c{i}_sim_mean"], out[f"c{i}_sim_se"] = s, se
        out[f"c{i}_sim_exact"] = out[f"c{i}_exact"][m_pts]
    # (d): the limit S_inf against n; simulation at generation G against exact S_G
    n_d = S["n_d"]
    n_line = log_grid(int(n_d[-1]), 40, start=int(n_d[0]))
    out["d_n"], out["d_n_sim"] = n_line, n_d
    for i, make in enumerate(STATIONARY.values()):
        out[f"d{i}_stationary"] = np.array([_stationary(model, make(int(n))) for n in n_line])
        rows, exact_G = [], []
        for n in n_d:
            reg = make(int(n))
            sim = montecarlo.simulate(model, reg, G, replicates=R, backend="numba",
                                      seed=[SEED, 3, i, int(n)], statistics=("homozygosity",),
                                      record="last")
            rows.append(mean_se(sim["homozygosity"][:, -1]))
            exact_G.append(float(theory.homozygosity(model, reg, G)))
        out[f"d{i}_sim_mean"] = np.array([float(r[0]) for r in rows])
        out[f"d{i}_sim_se"] = np.array([float(r[1]) for r in rows])
        out[f"d{i}_sim_exact"] = np.array(exact_G)
    timing["cd"] = round(time.perf_counter() - t0, 2)
    return {"n_c": N_C}


def _stationary(model, regime) -> float:
    """:math:`S_\\infty`: closed form (genealogy), or Mix's fixed point ``L``."""
    if isinstance(regime, Mix):  # S_m = L + beta^(m-1) (S_1 - L), |beta| < 1
        return float(theory.homozygosity(model, regime, 10**9))
    return float(theory.stationary_homozygosity(model, regime))


def compute(quick: bool = False) -> dict:
    model = _model()
    S = _settings(quick)
    out, timing = {}, {}
    pa = _panel_a(model, S, out, timing)
    pb = _panel_b(model, S, quick, out, timing)
    pc = _panel_cd(model, S, out, timing)
    return {"params": {"p0": list(P0), "windows": list(WINDOWS), "policies": list(POLICIES),
                       "policy_kwargs": list(POLICIES.values()),
                       "stationary_regimes": list(STATIONARY),
                       "replicates": S["replicates"], "generations": S["generations"],
                       "seed": SEED,
                       "seed_rule": "seed=[SEED, panel (0 a, 1 b, 2 c, 3 d), series, n]",
                       "backend": "numba", "seconds_by_panel": timing,
                       "max_sim_mean_T2": MAX_SIM_MEAN[quick], **pa, **pb, **pc},
            **out}


def _points(ax, x, y, se, color, marker="o", **kw):
    ax.errorbar(x, y, yerr=2 * se, fmt=marker, color=color, ms=3.2, mfc="white", mew=0.8,
                elinewidth=0.7, capsize=0, zorder=3, **kw)


def _logx(ax, ticks=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)):
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot(data):
    r"""Collapse against the samples per generation :math:`n` for every regime and
    sampling policy, from :math:`p^{(0)} = (0.5, 0.3, 0.2)`. Solid lines: exact theory;
    dashed: approximations; points: simulation means (error bars: ±2 standard errors).
    (a) Expected total-collapse time :math:`E[T]` of the plain regimes that collapse:
    ``Replace(n)`` (exact, coalescent dual; :math:`E[T] \approx 1.55\,n`) and
    ``MostRecent(n, K)`` (each fit on :math:`\lfloor n/K\rfloor` samples of each of the
    :math:`K` latest models; :math:`T` its first single-token fit), against the
    effective-size scaling: Replace's diffusion value
    :math:`-2N_e\sum_i(1-p_i)\ln(1-p_i)` at :math:`N_e \approx n((K+1)/2)^2` (the Perron
    root of the two-lineage recursion), which the simulations approach from below.
    (b) ``Replace(n)`` under a sampling policy: the exact lumped chain on count
    partitions (solid, up to its size cap of about 150 samples over three tokens; black:
    plain sampling, the coalescent) and the large-:math:`n` asymptotics (dashed: the
    deterministic-hazard value for :math:`T < 1`, :math:`E[T] = \Theta(\log\log n)`;
    the diffusion value of the plain and of the renormalised top-:math:`k` law).
    Temperature 2 pulls the fit back towards uniform: :math:`E[T]` grows exponentially,
    :math:`\ln E[T] \sim c(2)\,n`, and is simulated only while it is small; top-:math:`p`
    = 0.8 collapses once the leading mass reaches 0.8 (not monotone in :math:`n`).
    (c, d) Regimes that keep real data or the history do not collapse: (c) exact
    homozygosity :math:`S_m = E\sum_i (p_i^{(m)})^2` against the generation at
    :math:`n = 20`; (d) its limit :math:`S_\infty` against :math:`n` (closed forms; Mix:
    the fixed point of its recursion), the points being the simulated :math:`S_m` at the
    last generation of the run (where the exact :math:`S_m` is within the markers of
    :math:`S_\infty`). Accumulate and RandomlySampled have the same :math:`S_m` exactly
    (the same two-lineage genealogy; dashed over solid). Dotted: :math:`S_0`.
    """
    P = data["params"]
    fig, axes = figure("double", 5.3, 2, 2)
    (ax, bx), (cx, dx) = axes
    black = OKABE_ITO["black"]

    # (a) the plain regimes that collapse
    n, ns = data["a_n_exact"], data["a_n_sim"]
    ax.plot(n, data["a_replace_exact"], color=black, lw=1.1, label="Replace, exact")
    _points(ax, ns, data["a_replace_sim_mean"], data["a_replace_sim_se"], black)
    for k, K in enumerate(P["windows"]):
        c = PALETTE[k]
        ax.plot(n, data[f"a_mr{K}_scaling"], "--", color=c, lw=1.0,
                label=f"MostRecent, $K = {K}$: $N_e$ scaling")
        _points(ax, ns * (1.03 + 0.03 * k), data[f"a_mr{K}_sim_mean"],
                data[f"a_mr{K}_sim_se"], c)
    ax.plot([], [], "o", color="0.3", ms=3.2, mfc="white", mew=0.8,
            label=f"simulation ({P['replicates']:,} runs)")
    _logx(ax)
    ax.set_yscale("log")
    ax.set_xlabel("samples per generation $n$")
    ax.set_ylabel("expected collapse time $E[T]$ (generations)")
    ax.legend(loc="upper left", fontsize=6.5)
    panel_label(ax, "(a) plain regimes that collapse")

    # (b) sampling policies under Replace
    ymax, note, n_exit = 1e5, None, None
    for i, name in enumerate(P["policies"]):
        c = PALETTE[i] if i != 1 else black
        en, em = data[f"b{i}_exact_n"], data[f"b{i}_exact_mean"]
        bx.plot(en, em, color=c, lw=1.1, label=name)
        if f"b{i}_asym_n" in data:
            bx.plot(data[f"b{i}_asym_n"], data[f"b{i}_asym_mean"], "--", color=c, lw=0.9)
        sn = data[f"b{i}_sim_n"]
        if sn.size:
            _points(bx, sn * (1 + 0.02 * (i - 2)), data[f"b{i}_sim_mean"],
                    data[f"b{i}_sim_se"], c)
        if em.size and em[-1] > ymax:  # the exponential curve leaves the axes
            slope = math.log(em[-1] / em[-2]) / (en[-1] - en[-2])
            j = int(np.argmax(em > ymax))  # where, in log-log
            t = math.log(ymax / em[j - 1]) / math.log(em[j] / em[j - 1])
            n_exit = en[j - 1] * (en[j] / en[j - 1]) ** t
            note = (c, f"{name}: $E[T] = 10^{{{math.log10(em[-1]):.0f}}}$ at $n = {en[-1]}$;\n"
                    f"$\\ln E[T]$: +{slope:.3f} per sample ($c(2) = {P['T2_ld_rate']:.3f}$)")
        cap = P["policy_chain_cap_n"].get(name)
        if cap is not None and en.size:
            bx.plot(en[-1], em[-1], "|", color=c, ms=6, mew=1.0)
    bx.plot([], [], "k--", lw=0.9, label="large-$n$ asymptotic")
    _logx(bx)
    bx.set_yscale("log")
    bx.set_ylim(1.5, ymax)
    bx.yaxis.set_major_locator(LogLocator(numticks=8))
    bx.set_xlabel("samples per generation $n$")
    bx.set_ylabel("expected collapse time $E[T]$ (generations)")
    # legend and note to the right of where the exponential curve leaves the axes
    x0, x1 = bx.get_xlim()
    frac = math.log(n_exit / x0) / math.log(x1 / x0) if note else 0.0
    ncols = 2 if frac < 0.4 else 1
    bx.legend(loc="upper left", bbox_to_anchor=(frac + 0.03, 1.0), fontsize=6.3, ncols=ncols)
    if note:
        bx.text(frac + 0.05, 0.78 if ncols == 2 else 0.56, note[1], transform=bx.transAxes,
                fontsize=6.2, color=note[0], va="top")
    panel_label(bx, "(b) Replace with a sampling policy")

    # (c) homozygosity against the generation, at one n
    m, mp = data["c_m"], data["c_m_sim"]
    S0 = float(np.sum(np.square(P["p0"])))
    for i, name in enumerate(P["stationary_regimes"]):
        c = PALETTE[i]
        dash = {"ls": (0, (3, 2)), "zorder": 2.5} if name == "Accumulate" else {}
        cx.plot(m[1:], data[f"c{i}_exact"][1:], color=c, lw=1.1, label=name, **dash)
        _points(cx, mp * (1 + 0.03 * (i - 1.5)), data[f"c{i}_sim_mean"], data[f"c{i}_sim_se"], c)
    cx.axhline(S0, color="0.5", ls=":", lw=0.8)
    _logx(cx, (1, 10, 100, 1000, 10000))
    cx.set_xlim(0.8, m[-1] * 1.15)
    cx.set_xlabel("generation $m$")
    cx.set_ylabel(r"homozygosity $S_m$")
    cx.legend(loc="upper left", fontsize=6.5)
    panel_label(cx, f"(c) no collapse: $S_m$ at $n = {P['n_c']}$")

    # (d) the stationary homozygosity against n
    nd, nds = data["d_n"], data["d_n_sim"]
    for i, name in enumerate(P["stationary_regimes"]):
        c = PALETTE[i]
        dash = {"ls": (0, (3, 2)), "zorder": 2.5} if name == "Accumulate" else {}
        dx.plot(nd, data[f"d{i}_stationary"], color=c, lw=1.1, label=name, **dash)
        _points(dx, nds * (1 + 0.03 * (i - 1.5)), data[f"d{i}_sim_mean"], data[f"d{i}_sim_se"], c)
    dx.axhline(S0, color="0.5", ls=":", lw=0.8, label="$S_0$ (real model)")
    _logx(dx)
    dx.set_xlabel("samples per generation $n$")
    dx.set_ylabel(r"stationary homozygosity $S_\infty$")
    dx.legend(loc="upper right", fontsize=6.5)
    panel_label(dx, f"(d) no collapse: $S_\\infty$ (points: $S_m$, $m = {P['generations']}$)")
    return fig
