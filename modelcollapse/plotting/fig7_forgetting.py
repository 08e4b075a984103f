"""Figure 7 (Suresh et al. 2025): forgetting words, and a real vocabulary shrinking."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from .. import montecarlo, theory
from ..models import Categorical
from ..regimes import Replace
from .style import OKABE_ITO, PALETTE, figure, panel_label

SEED = 8
N_FORGET = 1000


def compute(quick: bool = False) -> dict:
    counts = np.array([1, 2, 5, 10] if quick else [1, 2, 3, 5, 7, 10, 15, 20, 30, 40])
    copies = 2 if quick else 3
    reps = 100 if quick else 2000
    # every token's count is an exact Wright-Fisher chain X' ~ Bin(n, X/n) from X_0 = c
    # (its marginal under the multinomial); the remaining mass is one large token
    c_of = np.repeat(counts, copies)
    p = np.r_[c_of, N_FORGET - c_of.sum()] / N_FORGET
    sim = montecarlo.simulate(Categorical(p), Replace(N_FORGET), None, replicates=reps,
                              backend="numba", seed=[SEED, 0], statistics=(),
                              tokens=tuple(range(c_of.size)))
    lt = sim.token_loss_time  # (reps, tokens); -1 where the token fixed instead
    sim_median, sim_mean, sim_se, exact_median, exact_mean = (np.empty(len(counts))
                                                              for _ in range(5))
    q10, q90 = np.empty(len(counts)), np.empty(len(counts))
    for j, c in enumerate(counts):
        x = lt[:, c_of == c].ravel()
        x = x[x >= 0].astype(np.float64)  # conditioned on loss
        sim_median[j], sim_mean[j] = np.median(x), x.mean()
        sim_se[j] = x.std(ddof=1) / np.sqrt(x.size)
        f = theory.forgetting_time(int(c), N_FORGET)
        exact_median[j], exact_mean[j] = f.median(), f.mean()
        q10[j], q90[j] = f.quantile(0.1), f.quantile(0.9)
    # a real vocabulary: the most frequent English words (wordfreq, offline)
    top = 2000 if quick else 20_000
    ns = [10_000] if quick else [10_000, 100_000]
    G = 30 if quick else 200
    vocab = Categorical.from_wordfreq("en", top=top)
    m = np.arange(G + 1)
    ms = np.unique(np.geomspace(1, G, 14 if quick else 24).round().astype(np.int64))
    surv_exact, surv_sim, surv_lo, surv_hi = [], [], [], []
    sreps = 4 if quick else 16
    for i, n in enumerate(ns):
        surv_exact.append(theory.expected_surviving_tokens(vocab, Replace(n), m))
        s = montecarlo.simulate(vocab, Replace(n), G, replicates=sreps, backend="numba",
                                seed=[SEED, 1, i], statistics=("support_size",))
        surv_sim.append(s["support_size"].mean(axis=0))
        b = np.array([theory.suresh_unigram_bounds(vocab, Replace(n), int(k)) for k in ms])
        surv_lo.append(b[:, 0])
        surv_hi.append(b[:, 1])
    return {"params": {"n_forget": N_FORGET, "counts": counts.tolist(), "copies": copies,
                       "forget_replicates": reps, "vocabulary": f"wordfreq en, top {top}",
                       "top": top, "vocab_n": ns, "vocab_generations": G,
                       "vocab_replicates": sreps, "seed": SEED,
                       "seed_rule": "seed=[SEED, 0] (a); [SEED, 1, n index] (b)",
                       "backend": "numba"},
            "counts": counts, "sim_median": sim_median, "sim_mean": sim_mean,
            "sim_se": sim_se, "exact_median": exact_median, "exact_mean": exact_mean,
            "exact_q10": q10, "exact_q90": q90, "m": m, "m_bounds": ms,
            "surv_exact": np.array(surv_exact), "surv_sim": np.array(surv_sim),
            "suresh_lower": np.array(surv_lo), "suresh_upper": np.array(surv_hi)}


def plot(data):
    r"""Forgetting (Suresh et al. 2025). (a) Generations until a word seen :math:`c`
    times among :math:`n = 1000` samples is lost, given that it is lost, under
    ``Replace(n)``: exact median and mean (lines; band: exact 10–90% quantiles) against
    simulation (points; mean ±2 s.e.), and Suresh et al.'s rate :math:`2c/\ln 2`
    (dotted). The median grows linearly in :math:`c`; the mean is far larger, carried by
    the runs in which the word first drifts to high counts. (b) Expected number of
    distinct words left after :math:`m` generations, starting from the most frequent
    English words (``wordfreq``), :math:`n` samples per generation: exact (lines,
    coalescent dual), simulation means (points) and the unigram bounds of Suresh et
    al. (band between dashed lines).
    """
    P = data["params"]
    fig, (ax, bx) = figure("double", 2.8, 1, 2)
    c = data["counts"]
    ax.fill_between(c, data["exact_q10"], data["exact_q90"], color=PALETTE[0], alpha=0.15,
                    lw=0, label="exact 10–90% quantiles")
    ax.plot(c, data["exact_median"], color=PALETTE[0], lw=1.1, label="exact median")
    ax.plot(c, data["sim_median"], "o", color=PALETTE[0], ms=3.2, mfc="white", mew=0.8,
            label="simulated median")
    ax.plot(c, data["exact_mean"], color=PALETTE[1], lw=1.1, label="exact mean")
    ax.errorbar(c, data["sim_mean"], yerr=2 * data["sim_se"], fmt="s", color=PALETTE[1],
                ms=3, mfc="white", mew=0.8, elinewidth=0.6, label="simulated mean")
    ax.plot(c, 2 * c / np.log(2), ":", color=OKABE_ITO["black"], lw=1.0,
            label=r"$2c/\ln 2$ (Suresh et al.)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    ax.set_xlabel("times the word was seen, $c$")
    ax.set_ylabel("generations to forget (given loss)")
    ax.legend(loc="upper left", fontsize=6.3)
    panel_label(ax, f"(a) forgetting time, n = {P['n_forget']:,}")
    m = data["m"]
    ms = data["m_bounds"]
    pts = np.unique(np.geomspace(1, len(m) - 1, 16).round().astype(int))
    for i, n in enumerate(P["vocab_n"]):
        col = PALETTE[i]
        bx.plot(m[1:], data["surv_exact"][i][1:], color=col, lw=1.1,
                label=f"n = {n:,}: exact")
        bx.plot(m[pts], data["surv_sim"][i][pts], "o", color=col, ms=3.2, mfc="white",
                mew=0.8, label=f"n = {n:,}: simulation")
        bx.fill_between(ms, data["suresh_lower"][i], data["suresh_upper"][i], color=col,
                        alpha=0.12, lw=0)
        bx.plot(ms, data["suresh_lower"][i], "--", color=col, lw=0.7)
        bx.plot(ms, data["suresh_upper"][i], "--", color=col, lw=0.7)
    bx.plot([], [], "k--", lw=0.7, label="Suresh et al. bounds")
    bx.axhline(P["top"], color="0.6", lw=0.7)
    bx.text(1.1, P["top"] * 0.82, "generation 0: every word", fontsize=6.3, color="0.4",
            va="top")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    bx.set_xlabel("generation $m$")
    bx.set_ylabel("distinct words left")
    bx.legend(loc="lower left", fontsize=6.3)
    panel_label(bx, f"(b) English vocabulary, top {P['top']:,} words")
    return fig
