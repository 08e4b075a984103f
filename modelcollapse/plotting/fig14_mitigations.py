"""Figure 14: mitigations computed: curation with and without real data, verifier quality,
and the tail's scaling law (Ferbach et al. 2024, Feng et al. 2024, Dohmatob et al. 2024).
"""

from __future__ import annotations

import numpy as np

from .. import montecarlo, theory
from ..curation import BestOfK, Verifier
from ..models import Categorical
from ..regimes import Mix, Replace
from ..sampling import SamplingPolicy
from ._common import mean_se
from .style import PALETTE, figure, panel_label

SEED = 14
P0 = (0.4, 0.3, 0.2, 0.1)
REWARD = (0.0, 0.5, 1.0, 1.5)
K = 4
N = 10


def compute(quick: bool = False) -> dict:
    G = 25 if quick else 40
    reps = 1000 if quick else 10_000
    model = Categorical(list(P0))
    cur = BestOfK(list(REWARD), K)
    m = np.arange(1, G + 1)
    rep = Replace(N, curation=cur)
    mix = Mix(N, N, curation=cur)
    chain = theory.curated_path(model, rep, m)
    chain_mix = theory.curated_path(model, mix, m)
    det_rep = theory.curated_path(model, rep, m, method="deterministic")
    det_mix = theory.curated_path(model, mix, m, method="deterministic")
    r = np.array(REWARD)
    sims = {}
    for j, (name, reg) in enumerate((("replace", rep), ("mix", mix))):
        res = montecarlo.simulate(model, reg, G, replicates=reps, seed=[SEED, j],
                                  tokens=range(4), statistics=["token_prob", "homozygosity"],
                                  record="all")
        sims[f"{name}_reward"], sims[f"{name}_reward_se"] = mean_se(
            res["token_prob"][:, 1:] @ r)
        sims[f"{name}_hom"], sims[f"{name}_hom_se"] = mean_se(res["homozygosity"][:, 1:])
    # verifier quality: a label right (token 0) or wrong (token 1), wrong at rate p0
    ratios = np.linspace(0.5, 1.0, 6 if quick else 11)
    wrong, n_v = 0.3, 20
    two = Categorical([1 - wrong, wrong])
    fix_wrong = [theory.curated_fixation(two, Replace(n_v, curation=Verifier([1.0, x])))
                 .probabilities[1] for x in ratios]
    kept = wrong * ratios / (wrong * ratios + (1 - wrong))
    # the tail: Zipf beta = 2
    beta = 2.0
    z = Categorical.zipf(10**5 if quick else 10**6, beta)
    T = np.round(np.logspace(1, 6, 26))
    tail = {"clean": theory.tail_test_error(z, T),
            "cut": theory.tail_test_error(z, T, policy=SamplingPolicy(top_k=100)),
            "recursive1": theory.tail_test_error(z, T, generations=1, samples=1000),
            "recursive5": theory.tail_test_error(z, T, generations=5, samples=1000)}
    share = 0.05
    clean = np.round(share * T).astype(int)
    tail["grokking"] = theory.tail_test_error(z, T - clean, policy=SamplingPolicy(top_k=100),
                                              clean=clean)
    return {"params": {"p0": list(P0), "reward": list(REWARD), "K": K, "n": N,
                       "generations": G, "replicates": reps, "seed": SEED,
                       "seed_rule": "seed=[SEED, 0] Replace, [SEED, 1] Mix",
                       "verifier_n": n_v, "wrong_rate": wrong, "zipf_beta": beta,
                       "zipf_tokens": z.size, "cut_k": 100, "T0": 1000,
                       "clean_share": share, "backend": "numba"},
            "m": m, "chain_reward": chain.reward, "chain_hom": chain.homozygosity,
            "chain_mix_reward": chain_mix.reward, "chain_mix_hom": chain_mix.homozygosity,
            "det_replace_reward": det_rep.reward, "det_mix_reward": det_mix.reward,
            "det_mix_hom": det_mix.homozygosity, **sims, "ratios": ratios,
            "fix_wrong": np.array(fix_wrong), "kept_wrong": kept, "T": T,
            **{f"tail_{k}": v for k, v in tail.items()},
            "exponent_T": theory.tail_exponents(beta).T}


def plot(data):
    r"""Mitigations computed (``modelcollapse figures fig14``). (a) Best-of-K curation
    (Ferbach et al. 2024): a 4-token model retrained on :math:`n = 10` samples, each the
    Luce choice among :math:`K = 4` candidates by a reward :math:`(0, 0.5, 1, 1.5)`:
    expected reward of the fit, exact chain (line) and simulation of the selection itself
    (points, ±2 s.e.), against the infinite-sample recursion (dotted); with the same 10
    real samples kept each generation (Mix, equal shares; its exact chain on real and
    synthetic counts, line) the reward settles below the maximum. (b) Homozygosity
    :math:`E\sum_i p_i^2` of the same runs: without real data the chain fixes on one
    token (homozygosity 1); with real data it stays put (above the infinite-sample value,
    by the sampling noise of n = 10). (c) A
    verifier that keeps a right label with probability 1 and a wrong one with probability
    :math:`\psi`, a model wrong 30% of the time, retrained on :math:`n = 20` verified
    samples: the kept error rate :math:`p\psi/(p\psi + 1 - p)` and the probability that
    the chain fixes on the wrong label (exact chain, log scale); at :math:`\psi = 1` (no
    verification) it is the neutral 0.3, and it falls by orders of magnitude as soon as
    the verifier prefers the right label a little. (d) The tail (Dohmatob et al. 2024): test error
    of a memorising learner on Zipf data (:math:`\beta = 2`, exact sums) trained on
    :math:`T` samples of the real law, of its top-100 cut, of the first and fifth
    recursive generation fitted to :math:`T_0 = 1000` samples, and of the cut mixed with
    5% clean samples (grokking); the grey line has the paper's slope
    :math:`-(1 - 1/\beta)`.
    """
    P = data["params"]
    fig, axes = figure("double", 4.9, 2, 2)
    (ax, bx), (cx, dx) = axes
    m = data["m"]
    c0, c1, c2, c3, c4 = PALETTE[:5]
    ax.plot(m, data["chain_reward"], color=c0, lw=1.1, label="Replace, exact chain")
    ax.errorbar(m, data["replace_reward"], yerr=2 * data["replace_reward_se"], fmt="o",
                color=c0, ms=2.6, mfc="white", mew=0.7, elinewidth=0.5,
                label="Replace, simulation")
    ax.plot(m, data["det_replace_reward"], ":", color=c0, lw=1.0, label=r"Replace, $n=\infty$")
    ax.plot(m, data["chain_mix_reward"], color=c1, lw=1.1, label="Mix, exact chain")
    ax.errorbar(m, data["mix_reward"], yerr=2 * data["mix_reward_se"], fmt="s", color=c1,
                ms=2.6, mfc="white", mew=0.7, elinewidth=0.5, label="Mix, simulation")
    ax.plot(m, data["det_mix_reward"], ":", color=c1, lw=1.0, label=r"Mix, $n=\infty$")
    ax.axhline(max(P["reward"]), color="0.6", lw=0.6)
    ax.set_xlabel("generation $m$")
    ax.set_ylabel(r"expected reward $E[r\cdot p^{(m)}]$")
    ax.legend(loc="center right", fontsize=6.0, bbox_to_anchor=(1.0, 0.47), ncol=2,
              columnspacing=0.8, handlelength=1.6)
    panel_label(ax, f"(a) best-of-{P['K']} curation, n = {P['n']}")
    bx.plot(m, data["chain_hom"], color=c0, lw=1.1, label="Replace, exact chain")
    bx.errorbar(m, data["replace_hom"], yerr=2 * data["replace_hom_se"], fmt="o", color=c0,
                ms=2.6, mfc="white", mew=0.7, elinewidth=0.5, label="Replace, simulation")
    bx.plot(m, data["chain_mix_hom"], color=c1, lw=1.1, label="Mix, exact chain")
    bx.errorbar(m, data["mix_hom"], yerr=2 * data["mix_hom_se"], fmt="s", color=c1, ms=2.6,
                mfc="white", mew=0.7, elinewidth=0.5, label="Mix, simulation")
    bx.plot(m, data["det_mix_hom"], ":", color=c1, lw=1.0, label=r"Mix, $n=\infty$")
    bx.set_ylim(0, 1.05)
    bx.set_xlabel("generation $m$")
    bx.set_ylabel(r"homozygosity $E\sum_i (p_i^{(m)})^2$")
    bx.legend(loc="center right", fontsize=6.2, bbox_to_anchor=(1.0, 0.66))
    panel_label(bx, "(b) diversity")
    x = data["ratios"]
    cx.plot(x, data["kept_wrong"], color=c2, lw=1.1, label="kept error rate (one step)")
    cx.plot(x, data["fix_wrong"], "o-", color=c3, lw=1.0, ms=2.8, mfc="white", mew=0.7,
            label=f"P(fix on the wrong label), n = {P['verifier_n']}")
    cx.axhline(P["wrong_rate"], color="0.6", lw=0.6, ls="--")
    cx.set_yscale("log")
    cx.set_ylim(1e-6, 1)
    cx.set_xlabel(r"verifier's acceptance of a wrong label $\psi$ (right: 1)")
    cx.set_ylabel("probability")
    cx.legend(loc="lower right", fontsize=6.2)
    panel_label(cx, "(c) verifier quality")
    T = data["T"]
    for key, col, lab in (("clean", "k", "clean data"), ("cut", c0, "top-100 cut"),
                          ("recursive1", c1, "generation 1, $T_0 = 1000$"),
                          ("recursive5", c2, "generation 5, $T_0 = 1000$"),
                          ("grokking", c4, "top-100 cut + 5% clean")):
        dx.plot(T, data[f"tail_{key}"], color=col, lw=1.1, label=lab)
    ref = data["tail_clean"][0] * (T / T[0]) ** (-data["exponent_T"])
    dx.plot(T, ref, color="0.6", lw=0.8, ls="--",
            label=rf"slope $-(1-1/\beta) = {-data['exponent_T']:.2f}$")
    dx.set_xscale("log")
    dx.set_yscale("log")
    dx.set_xlabel("training samples $T$")
    dx.set_ylabel("test error")
    dx.legend(loc="lower left", fontsize=6.0)
    panel_label(dx, rf"(d) the tail, Zipf $\beta = {P['zipf_beta']:g}$")
    return fig
