"""Figure 6 (Gerstgrasser et al. 2024; Kazdan et al. 2024): replace vs accumulate."""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import FormatStrFormatter

from .. import montecarlo, theory
from ..models import Gaussian, LinearRegression
from ..regimes import Accumulate, AccumulateSubsample, Replace
from ._common import mean_se
from .style import OKABE_ITO, PALETTE, figure, panel_label

SEED = 7
DIM = 10
ROWS = 50
NOISE = 1.0
M = 20
REGIMES = ("replace", "accumulate", "accumulate-subsample")
_CLS = {"replace": Replace, "accumulate": Accumulate,
        "accumulate-subsample": AccumulateSubsample}


def compute(quick: bool = False) -> dict:
    G = 20 if quick else 100
    reps = 200 if quick else 2000
    t = np.arange(G + 1)
    reg_model = LinearRegression.isotropic(DIM, noise=NOISE, design="fixed")
    gauss = Gaussian(0.0, 1.0, estimator="mle")
    out = {}
    for i, name in enumerate(REGIMES):
        sim = montecarlo.simulate(reg_model, _CLS[name](ROWS), G, replicates=reps,
                                  backend="numba", seed=[SEED, 0, i],
                                  statistics=("test_error",))
        out[f"reg_{name}_sim"], out[f"reg_{name}_se"] = mean_se(sim["test_error"])
        sim = montecarlo.simulate(gauss, _CLS[name](M), G, replicates=reps, backend="numba",
                                  seed=[SEED, 1, i], statistics=("mean_sq_error",))
        out[f"gauss_{name}_sim"], out[f"gauss_{name}_se"] = mean_se(sim["mean_sq_error"])
        if name != "accumulate-subsample":  # no closed form: simulation only
            out[f"reg_{name}_exact"] = theory.regression_test_error(
                reg_model, _CLS[name](ROWS), t[1:])
            out[f"gauss_{name}_exact"] = theory.expected_mean_error(gauss, _CLS[name](M), t)
    ceiling = theory.accumulate_error_bound(reg_model, Accumulate(ROWS))
    return {"params": {"dim": DIM, "rows": ROWS, "noise": NOISE, "design": "fixed",
                       "gaussian_M": M, "gaussian_estimator": "mle", "generations": G,
                       "replicates": reps, "seed": SEED,
                       "seed_rule": "seed=[SEED, 0 (regression) or 1 (Gaussian), regime]",
                       "backend": "numba", "regression_ceiling": ceiling,
                       "gaussian_ceiling": float(np.pi**2 / 6 / M)},
            "t": t, **out}


def plot(data):
    r"""Replacing against accumulating data (Gerstgrasser et al. 2024; Kazdan et al.
    2024). (a) Linear regression, :math:`d = 10`, a fixed design of :math:`T = 50` rows,
    noise :math:`\sigma = 1`: test error :math:`E\|\hat w_t - w\|^2` when each
    generation is fitted to labels of the previous fit only (replace), to all labelled
    copies so far (accumulate), or to :math:`T` rows drawn from that pool
    (accumulate-subsample). Lines: exact, :math:`t\sigma^2 d/(T-d-1)` and
    :math:`(\sigma^2 d/(T-d-1))\sum_{i\le t} i^{-2}`; points: simulation means (±2 s.e.);
    dotted: the :math:`\pi^2/6` ceiling of accumulate. (b) Gaussian mean error
    :math:`E(\mu_t - \mu_0)^2`, MLE fits on :math:`M = 20` samples per generation,
    in units of :math:`\sigma_0^2`; ceiling :math:`(\pi^2/6)\sigma_0^2/M`.
    Accumulate-subsample has no closed form (simulation only): it grows without a
    ceiling, but far more slowly than replace.
    """
    P = data["params"]
    t = data["t"]
    fig, axes = figure("double", 2.7, 1, 2)
    pts = np.unique(np.geomspace(1, len(t) - 1, 18).round().astype(int))
    names = {"replace": "replace", "accumulate": "accumulate",
             "accumulate-subsample": "accumulate-subsample"}
    for ax, key in zip(axes, ("reg", "gauss"), strict=True):
        for i, name in enumerate(REGIMES):
            c = PALETTE[i]
            ex = data.get(f"{key}_{name}_exact")
            if ex is not None:
                tt = t[1:] if key == "reg" else t
                ax.plot(tt, ex, color=c, lw=1.1)
            ax.errorbar(t[pts], data[f"{key}_{name}_sim"][pts],
                        yerr=2 * data[f"{key}_{name}_se"][pts], fmt="o", color=c, ms=3,
                        mfc="white", mew=0.8, elinewidth=0.6, label=names[name])
        ceil = P["regression_ceiling" if key == "reg" else "gaussian_ceiling"]
        ax.axhline(ceil, color=OKABE_ITO["black"], ls=":", lw=0.9,
                   label=r"$\pi^2/6$ ceiling of accumulate")
        ax.plot([], [], "k-", lw=1.1, label="exact (lines)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("generation $t$")
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.legend(loc="upper left", fontsize=6.5)
    axes[0].set_ylabel(r"test error $E\|\hat w_t - w\|^2$")
    axes[1].set_ylabel(r"mean error $E(\mu_t-\mu_0)^2$ ($\sigma_0^2$ units)")
    panel_label(axes[0], f"(a) linear regression, d = {P['dim']}, T = {P['rows']}")
    panel_label(axes[1], f"(b) Gaussian mean, M = {P['gaussian_M']} (MLE)")
    return fig
