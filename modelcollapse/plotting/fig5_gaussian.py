"""Figure 5 (Shumailov et al. 2024): Gaussian refitting and the GMM experiment."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from .. import montecarlo, theory
from ..models import Gaussian, GaussianMixture
from ..regimes import Replace
from ._common import mean_se
from .style import OKABE_ITO, PALETTE, figure, panel_label

SEED = 5
M = 100
EPS = 0.1
ESTIMATORS = ("unbiased", "mle")


def compute(quick: bool = False) -> dict:
    G = 200 if quick else 1000
    reps = 500 if quick else 4000
    Ms = np.array([10, 30, 100] if quick else [10, 20, 50, 100, 200])
    G_gmm = 30 if quick else 400
    reps_gmm = 3 if quick else 12
    t = np.arange(G + 1)
    out = {}
    for k, est in enumerate(ESTIMATORS):
        model = Gaussian(0.0, 1.0, estimator=est)
        sim = montecarlo.simulate(model, Replace(M), G, replicates=reps, backend="numba",
                                  seed=[SEED, k], statistics=("logdet_ratio", "w2"), eps=EPS)
        lmean, lvar = theory.log_det_moments(model, Replace(M), t)
        out[f"{est}_logvar_exact"] = lmean
        out[f"{est}_logvar_sd_exact"] = np.sqrt(lvar)
        out[f"{est}_logvar_sim"], out[f"{est}_logvar_se"] = mean_se(sim["logdet_ratio"])
        out[f"{est}_w2sq_exact"] = theory.expected_w2sq(model, Replace(M), t)
        out[f"{est}_w2sq_sim"], out[f"{est}_w2sq_se"] = mean_se(sim["w2"] ** 2)
        q = np.empty((len(Ms), 3))
        qs = np.empty((len(Ms), 3))
        for j, Mj in enumerate(Ms):
            law = theory.gaussian_collapse_time(model, Replace(int(Mj)), EPS)
            q[j] = [law.quantile(x) for x in (0.05, 0.5, 0.95)]
            horizon = int(q[j, 2] * 2.5) + 10
            s2 = montecarlo.simulate(model, Replace(int(Mj)), horizon, replicates=reps // 2,
                                     backend="numba", seed=[SEED, k, int(Mj)],
                                     statistics=(), eps=EPS)
            ct = s2.collapse_time.astype(np.float64)
            ct[ct < 0] = np.inf  # not collapsed within 2.5 x the exact 95% quantile
            qs[j] = np.quantile(ct, [0.05, 0.5, 0.95])
        out[f"{est}_tau_exact"], out[f"{est}_tau_sim"] = q, qs
    gmm = montecarlo.simulate(GaussianMixture.blob(2, components=2), Replace(1000), G_gmm,
                              replicates=reps_gmm, backend="numba", seed=[SEED, 99])
    w, mu, cov = gmm["weights"], gmm["means"], gmm["covs"]
    # total covariance of the fitted mixture: sum_k w_k (C_k + mu_k mu_k^T) - mean mean^T
    mean = np.einsum("rgk,rgkd->rgd", w, mu)
    second = np.einsum("rgk,rgkde->rgde", w, cov + mu[..., :, None] * mu[..., None, :])
    total = second - mean[..., :, None] * mean[..., None, :]
    logdet = np.zeros(total.shape[:2])  # generation 0: the real N(0, I) blob
    logdet[:, 1:] = np.log(np.linalg.det(total[:, 1:]))
    out["gmm_logdet"] = logdet
    # the fitted components of every run at generation 1 and at the last generation
    out["gmm_means_first"], out["gmm_covs_first"] = mu[:, 1], cov[:, 1]
    out["gmm_means_last"], out["gmm_covs_last"] = mu[:, -1], cov[:, -1]
    out["gmm_mle_logdet_exact"] = theory.log_det_moments(
        Gaussian(np.zeros(2), np.eye(2), estimator="mle"), Replace(1000),
        np.arange(G_gmm + 1))[0]
    return {"params": {"M": M, "eps": EPS, "generations": G, "replicates": reps,
                       "collapse_M": Ms.tolist(), "collapse_replicates": reps // 2,
                       "gmm": "GaussianMixture.blob(2, components=2), Replace(1000), EM",
                       "gmm_generations": G_gmm, "gmm_replicates": reps_gmm, "seed": SEED,
                       "seed_rule": "seed=[SEED, estimator index] (a, b); [SEED, estimator "
                                    "index, M] (c); [SEED, 99] (d)",
                       "backend": "numba"},
            "t": np.arange(G + 1), "collapse_M": Ms, "t_gmm": np.arange(G_gmm + 1), **out}


def plot(data):
    r"""A Gaussian refitted every generation on :math:`M` of its own samples
    (Shumailov et al. 2024), by the unbiased estimator (divisor :math:`M-1`,
    Thm 3.1) and by maximum likelihood (divisor :math:`M`). (a) :math:`E\log(\sigma_t^2/
    \sigma_0^2)`, :math:`M = 100`: exact (lines; band ±1 exact standard deviation) and
    simulation means (points). The variance itself is a martingale for the unbiased fit,
    yet its logarithm drifts to :math:`-\infty`: the variance collapses almost surely.
    (b) :math:`E\,W_2^2` to the real Gaussian: exact (lines) against simulation means
    (points, ±2 s.e.); unbounded growth :math:`\ge t\sigma_0^2/M` for the unbiased fit,
    the limit :math:`2\sigma_0^2` for the MLE. For :math:`t \gg M` the unbiased mean is
    carried by exponentially rare runs and a finite simulation falls below it. (c)
    Collapse time :math:`\tau = \min\{t: \sigma_t < 0.1\,\sigma_0\}` against :math:`M`:
    exact 5%, 50%, 95% quantiles (lines, grid propagation of the log-variance walk)
    against simulated quantiles (points). (d) The GMM experiment: a two-component
    mixture fitted by EM to 1,000 samples of the previous fit, starting from one 2-D
    standard Gaussian blob; log generalised variance of the fitted mixture (grey: runs;
    colour: their mean) against the exact :math:`E\log\det` of a single 2-D Gaussian MLE
    fit (dashed; no closed form exists for EM). The data files also hold every run's fitted
    components at the first and the last generation.
    """
    P = data["params"]
    fig, axes = figure("double", 4.9, 2, 2)
    (ax, bx), (cx, dx) = axes
    t = data["t"]
    names = {"unbiased": "unbiased ($M-1$)", "mle": "MLE ($M$)"}
    pts = np.unique(np.linspace(0, len(t) - 1, 26).round().astype(int))
    for k, est in enumerate(ESTIMATORS):
        c = PALETTE[k]
        mu, sd = data[f"{est}_logvar_exact"], data[f"{est}_logvar_sd_exact"]
        ax.plot(t, mu, color=c, lw=1.1, label=f"{names[est]}, exact")
        ax.fill_between(t, mu - sd, mu + sd, color=c, alpha=0.15, lw=0)
        ax.plot(t[pts], data[f"{est}_logvar_sim"][pts], "o", color=c, ms=3, mfc="white",
                mew=0.8, label=f"{names[est]}, simulation")
        lp = np.unique(np.geomspace(1, len(t) - 1, 22).round().astype(int))
        bx.plot(t[1:], data[f"{est}_w2sq_exact"][1:], color=c, lw=1.1,
                label=f"{names[est]}, exact")
        bx.errorbar(t[lp], data[f"{est}_w2sq_sim"][lp],
                    yerr=2 * data[f"{est}_w2sq_se"][lp], fmt="o", color=c, ms=3,
                    mfc="white", mew=0.8, elinewidth=0.6, label=f"{names[est]}, simulation")
        Ms = data["collapse_M"]
        for j, (ls, mk) in enumerate((("--", "v"), ("-", "o"), (":", "^"))):
            cx.plot(Ms, data[f"{est}_tau_exact"][:, j], ls, color=c, lw=1.0)
            cx.plot(Ms, data[f"{est}_tau_sim"][:, j], mk, color=c, ms=3.2, mfc="white",
                    mew=0.8)
    ax.set_xlabel("generation $t$")
    ax.set_ylabel(r"$E\,\log(\sigma_t^2/\sigma_0^2)$")
    ax.legend(loc="lower left", fontsize=6.5)
    ax.set_xlim(0, t[-1])
    panel_label(ax, f"(a) log-variance, M = {P['M']}")
    bx.set_xscale("log")
    bx.set_yscale("log")
    bx.set_xlabel("generation $t$")
    bx.set_ylabel(r"$E\,W_2^2$ to the real Gaussian ($\sigma_0^2$ units)")
    bx.legend(loc="upper left", fontsize=6.5)
    bx.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    panel_label(bx, f"(b) Wasserstein-2, M = {P['M']}")
    cx.set_xscale("log")
    cx.set_yscale("log")
    cx.set_xlabel("samples per generation $M$")
    cx.set_ylabel(r"collapse time $\tau$ (generations)")
    cx.xaxis.set_major_formatter(FormatStrFormatter("%g"))
    for k, est in enumerate(ESTIMATORS):
        cx.plot([], [], color=PALETTE[k], lw=1.0, label=names[est])
    for ls, mk, q in (("--", "v", "5%"), ("-", "o", "median"), (":", "^", "95%")):
        cx.plot([], [], ls, marker=mk, color="k", ms=3.2, mfc="white", mew=0.8, lw=1.0,
                label=f"{q}: exact / simulated")
    lo, hi = cx.get_ylim()
    cx.set_ylim(lo, hi * 12)  # room for the legend above the lines
    cx.legend(loc="upper left", fontsize=6.3, ncols=2)
    panel_label(cx, rf"(c) collapse time, $\sigma_t < {P['eps']:g}\,\sigma_0$")
    tg = data["t_gmm"]
    ld = data["gmm_logdet"]
    for r in range(ld.shape[0]):
        dx.plot(tg, ld[r], color="0.7", lw=0.5)
    dx.plot(tg, ld.mean(axis=0), color=OKABE_ITO["green"], lw=1.2,
            label=f"EM, 2 components (mean of {ld.shape[0]} runs)")
    dx.plot(tg, data["gmm_mle_logdet_exact"], "k--", lw=0.9,
            label="single Gaussian MLE, exact")
    dx.set_xlabel("generation $t$")
    dx.set_ylabel(r"$\log\det\Sigma_t$ of the fitted mixture")
    dx.set_xlim(0, tg[-1])
    dx.legend(loc="lower left", fontsize=6.5)
    panel_label(dx, "(d) 2-component GMM by EM, 1,000 samples")
    return fig
