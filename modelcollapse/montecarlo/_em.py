"""Expectation-maximisation for Gaussian mixtures, batched over replicates (NumPy).

Written by hand because the fit must be reproduced exactly by the Numba and JAX
kernels (a library EM such as scikit-learn's cannot run inside them); the algorithm is
the textbook one (Bishop 2006, §9.2.2) with scikit-learn's safeguards: ``reg_covar`` on
the covariance diagonal and ``10 * eps`` added to the component masses.
"""

from __future__ import annotations

import numpy as np

EPS10 = 10 * np.finfo(np.float64).eps


def em_init(X: np.ndarray, K: int):
    """Deterministic start from data ``X`` (R, n, d): ``K`` points at evenly spaced
    ranks of the projection on the leading principal axis, the sample covariance and
    equal weights."""
    R, n, d = X.shape
    mu = X.mean(axis=1)
    C = np.einsum("rni,rnj->rij", X - mu[:, None], X - mu[:, None]) / n
    _, U = np.linalg.eigh(C)
    proj = np.einsum("rnd,rd->rn", X, U[:, :, -1])
    order = np.argsort(proj, axis=1, kind="stable")
    ranks = ((np.arange(K) + 0.5) * n / K).astype(np.int64)
    idx = order[:, ranks]  # (R, K)
    means = np.take_along_axis(X, idx[:, :, None], axis=1)
    covs = np.broadcast_to(C[:, None], (R, K, d, d)).copy()
    weights = np.full((R, K), 1.0 / K)
    return weights, means, covs


def _log_resp(X, weights, means, covs):
    """Per-point component log-densities plus log-weights (R, n, K) and the mean
    log-likelihood (R,)."""
    _R, _n, d = X.shape
    L = np.linalg.cholesky(covs)  # (R, K, d, d)
    diff = X[:, None, :, :] - means[:, :, None, :]  # (R, K, n, d)
    z = np.linalg.solve(L[:, :, None], diff[..., None])[..., 0]  # (R, K, n, d)
    maha = (z * z).sum(-1)  # (R, K, n)
    logdet = 2 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)  # (R, K)
    with np.errstate(divide="ignore"):
        logw = np.log(weights)
    logp = (-0.5 * (maha + logdet[:, :, None] + d * np.log(2 * np.pi))
            + logw[:, :, None])  # (R, K, n)
    mx = logp.max(axis=1, keepdims=True)
    lse = mx[:, 0] + np.log(np.exp(logp - mx).sum(axis=1))  # (R, n)
    return logp - lse[:, None], lse.mean(axis=1)


def em_fit(X, weights, means, covs, *, max_iter: int, tol: float, reg_covar: float):
    """Run EM from the given start; each replicate stops when its mean log-likelihood
    improves by less than ``tol``, or after ``max_iter`` iterations."""
    weights, means, covs = (np.array(a, dtype=np.float64) for a in (weights, means, covs))
    R, n, d = X.shape
    eye = np.eye(d)
    active = np.ones(R, dtype=bool)
    prev = np.full(R, -np.inf)
    for _ in range(max_iter):
        if not active.any():
            break
        a = np.flatnonzero(active)
        logr, ll = _log_resp(X[a], weights[a], means[a], covs[a])
        resp = np.exp(logr)  # (r, K, n)
        Nk = resp.sum(axis=2) + EPS10  # (r, K)
        mu = np.einsum("rkn,rnd->rkd", resp, X[a]) / Nk[:, :, None]
        diff = X[a][:, None] - mu[:, :, None]  # (r, K, n, d)
        cov = np.einsum("rkn,rkni,rknj->rkij", resp, diff, diff) / Nk[:, :, None, None]
        weights[a] = Nk / n
        means[a] = mu
        covs[a] = cov + reg_covar * eye
        done = np.abs(ll - prev[a]) < tol
        prev[a] = ll
        active[a[done]] = False
    return weights, means, covs
