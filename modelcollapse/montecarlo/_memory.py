"""Memory a simulation needs, estimated before any work, and the limit it must fit.

The estimate adds the recorded statistics (replicates x kept columns x entries), one
chunk of kernel output, the per-replicate state of the family and plan (fits,
histories, pools, raw samples where a family keeps them), and the samplers' working
memory during a chunk (the kernel class's ``scratch_bytes``: what grows with the sample
size ``n``; a counts-based draw needs none). It is an estimate (within a
small factor of what the kernels allocate), made to refuse a request that cannot run
before it starts rather than to account for every byte.
"""

from __future__ import annotations

from ..errors import TooLargeError
from ..memory import default_limit, format_bytes, parse_bytes

__all__ = ["default_limit", "estimate", "format_bytes", "parse_bytes"]


def stat_entries(problem, name: str) -> int:
    """Float64 entries per replicate and generation of a statistic."""
    m = problem.model
    fam = problem.family
    if name == "token_prob":
        return max(1, len(problem.tokens))
    if fam == "gaussian" and name in ("mean", "var"):
        return m.dim
    if fam == "regression" and name == "coef":
        return m.dim
    if fam == "mixture":
        K, d = m.components, m.dim
        return {"weights": K, "means": K * d, "covs": K * d * d}[name]
    return 1


def state_bytes(problem, replicates: int, generations: int, backend: str) -> float:
    """Per-replicate state of the kernels, times the replicates (bytes)."""
    plan, m, fam = problem.plan, problem.model, problem.family
    R, G = replicates, max(1, generations)
    hist = plan.window if plan.sources == "window" else 1
    if fam == "categorical":
        if plan.sources == "uniform" and problem.curation is not None:
            hist = G + 1  # a curated RandomlySampled keeps every model
        V = m.size
        per = V * 8 * (6 + hist + bool(plan.real) + (plan.pool != "none"))
        if backend == "jax":
            per *= 2  # padded to a power of two
            if plan.pool == "subsample":
                per += G * plan.n * 8  # the token pool
        return R * per
    if fam == "ngram":
        hist = {"last": 1, "window": plan.window, "uniform": G + 1}[plan.sources]
        per = m.table.size * (8 * (3 + bool(plan.real) + (plan.pool != "none")) +
                              12 * hist)  # alias tables: float64 and int32
        if backend == "jax" and plan.pool == "subsample":
            per += G * plan.n * 8  # the token pool
        return R * per
    d = m.dim
    fit = plan.real + plan.n  # samples seen by one generation's fit (without pools)
    if fam == "gaussian":
        per = 8 * (4 * d * d + 4 * d) * (4 + hist)
        if plan.sources == "uniform":
            per += 8 * (2 * d * d + d) * G
        if plan.pool == "subsample":
            per += 8 * d * (G * plan.n + plan.real)
        return R * per
    if fam == "mixture":
        K = m.components
        per = 8 * fit * d * 3 + 8 * K * (d * d + d + 1) * (4 + hist) + 8 * fit * K * 2
        if plan.pool != "none":
            per += 8 * d * (G * plan.n + plan.real)
        if plan.sources == "uniform":
            per += 8 * K * (d * d + d + 1) * G + 8 * plan.n * d
        return R * per
    per = 8 * (4 * d * d + 4 * d) * (4 + hist)  # regression
    if m.design == "fixed":
        per += 8 * d * (plan.n + plan.real)
    if plan.sources == "uniform":
        per += 8 * d * G
    if plan.pool == "subsample":
        per += 8 * (d + 1) * (G * plan.n + plan.real)
    return R * per


def estimate(problem, names, replicates: int, generations: int, columns: int,
             chunk: int, backend: str, scratch: float = 0.0) -> dict:
    """Estimated bytes, by part: ``statistics`` (kept columns), ``chunk`` (one chunk of
    kernel output), ``state`` (per-replicate state), ``scratch`` (the samplers' working
    memory during a chunk: the kernel's ``scratch_bytes``); ``total``."""
    entries = sum(stat_entries(problem, n) for n in names)
    out = {"statistics": 8.0 * replicates * entries * columns,
           "chunk": 8.0 * replicates * entries * min(chunk, max(generations, 1)),
           "state": state_bytes(problem, replicates, generations, backend),
           "scratch": float(scratch)}
    out["total"] = sum(out.values())
    return out


def check(parts: dict, limit: int, what: str, problem=None) -> None:
    """``TooLargeError`` when the estimated ``total`` exceeds ``limit``; when the part
    that grows with the sample size dominates (``scratch``), the message names the
    regime's sample size ``n`` first."""
    if parts["total"] <= limit:
        return
    detail = ", ".join(f"{k} {format_bytes(v)}" for k, v in parts.items()
                       if k != "total" and v)
    advice = ("Keep fewer generations (record='last' or record=k for every k-th), fewer "
              "statistics (statistics=...), or fewer replicates")
    if parts.get("scratch", 0.0) > parts["total"] / 2 and problem is not None:
        advice = (f"Most of it is working memory that grows with the sample size per "
                  f"generation: use a smaller n than {problem.plan.n} in "
                  f"{problem.regime!r}, or fewer replicates")
    raise TooLargeError(
        f"{what} needs about {format_bytes(parts['total'])} of memory ({detail}), above "
        f"max_memory={format_bytes(limit)}. {advice}; or raise max_memory (or "
        f"MODELCOLLAPSE_MAX_MEMORY) if the machine has the memory.")
