"""The statistics watched over generations, vectorised over replicates (NumPy).

One definition serves the reference simulator and the NumPy backend; the Numba and
JAX kernels compute the same quantities in their own code and are tested against these.
"""

from __future__ import annotations

import numpy as np

from ..errors import WrongTypeError
from ..models import Model

#: Statistics recorded for each model family, in order. ``*_first`` compare with
#: p^(1) and are NaN at generation 0.
STATISTICS = {
    "categorical": ("support_size", "homozygosity", "entropy", "l1_real", "tv_real",
                    "kl_real", "l1_first", "tv_first", "kl_first", "token_prob",
                    "raw_samples"),
    "gaussian": ("mean", "var", "mean_sq_error", "trace_ratio", "logdet_ratio", "w2"),
    "mixture": ("weights", "means", "covs"),
    "regression": ("test_error", "coef"),
    "ngram": ("transitions", "dirac_mass", "homozygosity", "entropy", "l1_real", "tv_real",
              "l1_first", "tv_first", "unigram_l1", "distinct"),
}

DESCRIPTIONS = {
    "support_size": "number of tokens with p_i > 0",
    "homozygosity": "sum_i p_i^2",
    "entropy": "-sum_i p_i log p_i (nats)",
    "l1_real": "||p^(m) - p^(0)||_1",
    "tv_real": "total variation to p^(0) (half the L1 distance)",
    "kl_real": "KL(p^(m) || p^(0)) in nats (inf if p^(m) charges a token p^(0) does not)",
    "l1_first": "||p^(m) - p^(1)||_1 (NaN at generation 0)",
    "tv_first": "total variation to p^(1) (NaN at generation 0)",
    "kl_first": "KL(p^(m) || p^(1)) in nats (NaN at generation 0)",
    "token_prob": "p^(m)_i of the chosen tokens, shape (replicates, generations+1, k)",
    "raw_samples": "samples drawn to build generation m's data (NaN at generation 0): "
                   "each real draw counts 1, each kept synthetic sample what it cost "
                   "(K candidates for best of K, the verifier's raw draws until its n "
                   "are kept, 1 for best of infinity or no curation); samples reused "
                   "from a kept real block or a pool are not drawn again. Recorded "
                   "only when asked for",
    "mean": "fitted mean, shape (replicates, generations+1, d)",
    "var": "diagonal of the fitted covariance, shape (replicates, generations+1, d)",
    "mean_sq_error": "||mu_t - mu_0||^2",
    "trace_ratio": "tr Sigma_t / tr Sigma_0",
    "logdet_ratio": "log det Sigma_t - log det Sigma_0",
    "w2": "Wasserstein-2 distance from N(mu_t, Sigma_t) to the real N(mu_0, Sigma_0)",
    "weights": "fitted mixture weights, shape (replicates, generations+1, K)",
    "means": "fitted component means, shape (replicates, generations+1, K, d)",
    "covs": "fitted component covariances, shape (replicates, generations+1, K, d, d)",
    "test_error": "||w_t - w||^2, the excess test risk on an isotropic input",
    "coef": "fitted weights w_t, shape (replicates, generations+1, d)",
    "transitions": "n-gram: number of transitions with P_cx > 0 (entries of the table)",
    "dirac_mass": "n-gram: real stationary mass of the contexts whose row is a Dirac mass",
    "unigram_l1": "n-gram: ||f^(m) - u^(0)||_1, the token frequencies of generation m's "
                  "training corpus against the real stationary unigram law (NaN at "
                  "generation 0)",
    "distinct": "n-gram: distinct (k+1)-grams over (k+1)-grams (tokens) of generation m's "
                "training corpus, the distinct-n ratio (NaN at generation 0)",
}
#: Statistics recorded only when asked for (``statistics=[...]``), not by default: the
#: raw-sample count costs the Numba and JAX kernels extra draws under a verifier.
OPT_IN = frozenset({"raw_samples"})
#: n-gram statistics averaged over contexts weighted by the real model's stationary
#: context law pi0 (the harness's metric averages over contexts drawn from generation 0)
NGRAM_WEIGHTED = {"homozygosity": "sum_c pi0(c) sum_x P_cx^2",
                  "entropy": "sum_c pi0(c) H(P_c), nats",
                  "l1_real": "sum_c pi0(c) ||P_c - P0_c||_1",
                  "l1_first": "sum_c pi0(c) ||P_c - P1_c||_1 (NaN at generation 0)"}


def family(model) -> str:
    """The model family's key in :data:`STATISTICS` (``TypeError`` for other objects)."""
    if isinstance(model, Model) and model.name in STATISTICS:
        return model.name
    raise WrongTypeError(
        "model must be a Categorical, NGram, Gaussian, GaussianMixture or "
        f"LinearRegression, got {type(model).__name__}"
    )


# ---------------------------------------------------------------------- categorical
def _l1_kl(P: np.ndarray, ref: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    l1 = np.abs(P - ref).sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(P > 0, P * (np.log(P) - np.log(ref)), 0.0)
    return l1, terms.sum(axis=-1)


def categorical_stats(P, p0, p1, tokens, names, raw=None) -> dict:
    """Statistics of the fitted distributions ``P`` (shape ``(R, V)``) against the real
    ``p0`` and the first generation ``p1`` (``(R, V)``, or None at generation 0);
    ``raw``: the samples drawn to build the fit (``(R,)``; None: NaN, generation 0)."""
    P = np.atleast_2d(P)
    out = {}
    want = set(names)
    if "raw_samples" in want:
        out["raw_samples"] = np.full(P.shape[0], np.nan) if raw is None else \
            np.broadcast_to(np.asarray(raw, dtype=np.float64), (P.shape[0],)).copy()
    if "support_size" in want:
        out["support_size"] = np.count_nonzero(P, axis=1).astype(np.float64)
    if "homozygosity" in want:
        out["homozygosity"] = np.einsum("rv,rv->r", P, P)
    if "entropy" in want:
        with np.errstate(divide="ignore", invalid="ignore"):
            out["entropy"] = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=1)
    if want & {"l1_real", "tv_real", "kl_real"}:
        l1, kl = _l1_kl(P, p0)
        out["l1_real"], out["tv_real"], out["kl_real"] = l1, l1 / 2, kl
    if want & {"l1_first", "tv_first", "kl_first"}:
        if p1 is None:
            nan = np.full(P.shape[0], np.nan)
            out["l1_first"], out["tv_first"], out["kl_first"] = nan, nan, nan
        else:
            l1, kl = _l1_kl(P, p1)
            out["l1_first"], out["tv_first"], out["kl_first"] = l1, l1 / 2, kl
    if "token_prob" in want:
        out["token_prob"] = P[:, tokens]
    return {k: out[k] for k in names}


# ---------------------------------------------------------------------- gaussian
def _sqrtm_psd(S: np.ndarray) -> np.ndarray:
    lam, U = np.linalg.eigh(S)
    return (U * np.sqrt(np.maximum(lam, 0.0))) @ U.T


def gaussian_stats(mean, cov, mu0, cov0, names, logdet_ratio=None) -> dict:
    """Statistics of fitted Gaussians (``mean`` (R, d), ``cov`` (R, d, d)) against the
    real :math:`N(\\mu_0, \\Sigma_0)`; ``logdet_ratio``, when given, is taken as it is
    (kernels that carry a triangular factor know it exactly)."""
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    out = {}
    want = set(names)
    diff = mean - mu0
    if "mean" in want:
        out["mean"] = mean.copy()
    if "var" in want:
        out["var"] = np.diagonal(cov, axis1=1, axis2=2).copy()
    if "mean_sq_error" in want:
        out["mean_sq_error"] = np.einsum("rd,rd->r", diff, diff)
    if "trace_ratio" in want:
        out["trace_ratio"] = np.trace(cov, axis1=1, axis2=2) / np.trace(cov0)
    if "logdet_ratio" in want:
        out["logdet_ratio"] = np.asarray(logdet_ratio, dtype=np.float64).copy() \
            if logdet_ratio is not None else \
            np.linalg.slogdet(cov)[1] - np.linalg.slogdet(cov0)[1]
    if "w2" in want:
        h = _sqrtm_psd(cov0)
        lam = np.linalg.eigvalsh(h @ cov @ h)
        cross = np.sqrt(np.maximum(lam, 0.0)).sum(axis=1)
        w2sq = (np.einsum("rd,rd->r", diff, diff) + np.trace(cov, axis1=1, axis2=2)
                + np.trace(cov0) - 2 * cross)
        out["w2"] = np.sqrt(np.maximum(w2sq, 0.0))
    return {k: out[k] for k in names}


def regression_stats(W, w_true, names) -> dict:
    W = np.atleast_2d(W)
    out = {"test_error": ((W - w_true) ** 2).sum(axis=1), "coef": W.copy()}
    return {k: out[k] for k in names}


def mixture_stats(weights, means, covs, names) -> dict:
    out = {"weights": np.array(weights), "means": np.array(means), "covs": np.array(covs)}
    return {k: out[k] for k in names}


# ---------------------------------------------------------------------- n-gram
def ngram_stats(P, P0, P1, pi0, counts, names) -> dict:
    """Statistics of fitted tables ``P`` (``(R, C, V)``) against the real table ``P0``
    and the first fit ``P1`` (``(R, C, V)`` or None), contexts weighted by ``pi0``;
    ``counts`` (``(R, C, V)``) are the transition counts of each generation's training
    corpus (None at generation 0)."""
    P = np.asarray(P, dtype=np.float64)
    R = P.shape[0]
    want = set(names)
    out = {}
    nan = np.full(R, np.nan)
    if "transitions" in want:
        out["transitions"] = np.count_nonzero(P, axis=(1, 2)).astype(np.float64)
    if "dirac_mass" in want:
        out["dirac_mass"] = ((np.count_nonzero(P, axis=2) == 1) * pi0).sum(axis=1)
    if "homozygosity" in want:
        out["homozygosity"] = np.einsum("rcv,rcv->rc", P, P) @ pi0
    if "entropy" in want:
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.where(P > 0, P * np.log(P), 0.0).sum(axis=2)
        out["entropy"] = h @ pi0
    if want & {"l1_real", "tv_real"}:
        out["l1_real"] = np.abs(P - P0).sum(axis=2) @ pi0
        out["tv_real"] = out["l1_real"] / 2
    if want & {"l1_first", "tv_first"}:
        out["l1_first"] = nan.copy() if P1 is None else np.abs(P - P1).sum(axis=2) @ pi0
        out["tv_first"] = out["l1_first"] / 2
    if counts is None:
        for k in ("unigram_l1", "distinct"):
            out[k] = nan.copy()
    else:
        counts = np.asarray(counts, dtype=np.float64)
        total = counts.sum(axis=(1, 2))
        if "unigram_l1" in want:
            u0 = pi0 @ P0 if P0.ndim == 2 else np.einsum("c,rcv->rv", pi0, P0)
            f = counts.sum(axis=1) / np.maximum(total, 1)[:, None]
            out["unigram_l1"] = np.abs(f - u0).sum(axis=1)
        if "distinct" in want:
            out["distinct"] = np.count_nonzero(counts, axis=(1, 2)) / np.maximum(total, 1)
    return {k: out[k] for k in names}
