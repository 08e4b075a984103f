"""``simulate``: one verb for every model, regime and backend; the result object."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path

import numpy as np

from ..models import (
    Categorical,
    Gaussian,
    GaussianMixture,
    LinearRegression,
    _check_positive_int,
)
from ..regimes import (
    Accumulate,
    AccumulateSubsample,
    Mix,
    MostRecent,
    RandomlySampled,
    Regime,
    Replace,
)
from . import _stats

__all__ = ["BACKENDS", "Problem", "SimulationResult", "load", "simulate"]

BACKENDS = ("numpy", "numba", "jax")
#: Upper limit on the generations of a run to collapse (``generations=None``).
MAX_GENERATIONS = 10_000_000
_REGIMES = (Replace, Mix, Accumulate, AccumulateSubsample, MostRecent, RandomlySampled)


@dataclass(frozen=True, eq=False)
class Problem:
    """What to simulate: a model, a regime and the per-run options, validated."""

    model: object
    regime: Regime
    temperature: float = 1.0
    tokens: tuple[int, ...] = ()
    statistics: tuple[str, ...] = ()
    eps: float = 0.01

    @property
    def family(self) -> str:
        return _stats.family(self.model)

    @property
    def min_sample(self) -> int:
        """Fewest samples any generation is fitted to."""
        r = self.regime
        if isinstance(r, Mix):
            return r.real
        if isinstance(r, MostRecent):
            return min(k * (r.n // k) for k in range(1, r.window + 1))
        return r.n


def _check_problem(model, regime, temperature, tokens, statistics, eps) -> Problem:
    fam = _stats.family(model)
    if not isinstance(regime, _REGIMES):
        raise ValueError(
            "regime must be Replace, Mix, Accumulate, AccumulateSubsample, MostRecent or "
            f"RandomlySampled, got {regime!r}")
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be finite and > 0, got {temperature}")
    if temperature != 1.0 and fam != "categorical":
        raise ValueError("temperature applies to Categorical models only")
    if isinstance(tokens, (str, int, np.integer)):
        tokens = [tokens]
    tok = tuple(model.token_index(t) for t in tokens) if fam == "categorical" else ()
    if tokens and fam != "categorical":
        raise ValueError("tokens applies to Categorical models only")
    allowed = _stats.STATISTICS[fam]
    if statistics is None:
        statistics = allowed
    elif isinstance(statistics, str):
        statistics = (statistics,)
    statistics = tuple(statistics)
    for s in statistics:
        if s not in allowed:
            raise ValueError(
                f"unknown statistic {s!r} for a {type(model).__name__}; choose from "
                f"{', '.join(allowed)}")
    if "token_prob" in statistics and not tok:
        statistics = tuple(s for s in statistics if s != "token_prob")
    eps = float(eps)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    problem = Problem(model, regime, temperature, tok, statistics, eps)
    if fam in ("gaussian", "mixture"):
        need = 2 if fam == "mixture" else model.dim + 1
        per_fit = problem.min_sample
        if per_fit < need:
            raise ValueError(
                f"a {model.dim}-D Gaussian fit needs at least {need} samples per "
                f"generation (a non-singular covariance); this regime gives {per_fit}")
    if fam == "regression" and model.design == "fixed" and isinstance(regime, MostRecent):
        if regime.n % regime.window:
            raise ValueError("design='fixed' under MostRecent needs window to divide n")
    return problem


@dataclass(eq=False)
class SimulationResult:
    r"""Per-(replicate, generation) statistics of a simulation.

    ``result.statistic(name)`` (or ``result[name]``) is an array of shape
    ``(replicates, generations + 1, ...)``: index ``m`` along axis 1 is generation
    ``m``, with generation 0 the real model. ``collapse_time`` is, per replicate, the
    first generation at which the model collapsed (Categorical: a single token left;
    Gaussian: :math:`(\det\Sigma_t/\det\Sigma_0)^{1/2d} < \varepsilon`), ``-1`` if it
    did not within the run; ``token_loss_time[r, j]`` is the first generation with
    ``p_i = 0`` for the ``j``-th chosen token.
    """

    model: object
    regime: Regime
    backend: str
    seed: object
    replicates: int
    generations: int
    statistics: dict = field(repr=False)
    collapse_time: np.ndarray | None = field(repr=False)
    token_loss_time: np.ndarray | None = field(repr=False)
    temperature: float = 1.0
    tokens: tuple[int, ...] = ()
    eps: float = 0.01
    interrupted: bool = False
    elapsed: float = 0.0

    def statistic(self, name: str) -> np.ndarray:
        try:
            return self.statistics[name]
        except KeyError:
            raise ValueError(
                f"statistic {name!r} was not recorded; recorded: "
                f"{', '.join(self.statistics) or 'none'}") from None

    __getitem__ = statistic

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.statistics)

    @property
    def collapsed(self) -> np.ndarray:
        """Boolean mask of the replicates that collapsed within the run."""
        if self.collapse_time is None:
            raise ValueError(f"no collapse time is defined for {type(self.model).__name__}")
        return self.collapse_time >= 0

    def __repr__(self) -> str:
        extra = ", interrupted" if self.interrupted else ""
        return (f"SimulationResult({self.model!r}, {self.regime!r}, backend={self.backend!r},"
                f" replicates={self.replicates}, generations={self.generations}, "
                f"statistics={list(self.statistics)}{extra})")

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the result, its parameters and its seed to ``path`` (``.npz``)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_suffix(path.suffix + ".npz") if path.suffix else \
                path.with_suffix(".npz")
        arrays = {f"stat_{k}": v for k, v in self.statistics.items()}
        if self.collapse_time is not None:
            arrays["collapse_time"] = self.collapse_time
        if self.token_loss_time is not None:
            arrays["token_loss_time"] = self.token_loss_time
        meta = {
            "format": "modelcollapse.SimulationResult/1",
            "model": _model_to_dict(self.model),
            "regime": _regime_to_dict(self.regime),
            "backend": self.backend, "seed": _jsonable_seed(self.seed),
            "replicates": self.replicates, "generations": self.generations,
            "temperature": self.temperature, "tokens": list(self.tokens), "eps": self.eps,
            "interrupted": self.interrupted, "elapsed": self.elapsed,
            "version": _version(),
        }
        np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)
        return path


def _version() -> str:
    from .. import __version__
    return __version__


def _jsonable_seed(seed):
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    if isinstance(seed, (list, tuple)):
        return [int(s) for s in seed]
    return repr(seed)


def _model_to_dict(model) -> dict:
    if isinstance(model, Categorical):
        return {"type": "Categorical", "p": model.p.tolist(),
                "labels": list(model.labels) if model.labels else None}
    if isinstance(model, Gaussian):
        return {"type": "Gaussian", "mean": model.mean.tolist(), "cov": model.cov.tolist(),
                "estimator": model.estimator}
    if isinstance(model, GaussianMixture):
        return {"type": "GaussianMixture", "weights": model.weights.tolist(),
                "means": model.means.tolist(), "covs": model.covs.tolist(),
                "components": model.components, "max_iter": model.max_iter,
                "tol": model.tol, "reg_covar": model.reg_covar}
    return {"type": "LinearRegression", "w": model.w.tolist(), "noise": model.noise,
            "design": model.design}


def _model_from_dict(d: dict):
    d = dict(d)
    kind = d.pop("type")
    cls = {"Categorical": Categorical, "Gaussian": Gaussian,
           "GaussianMixture": GaussianMixture, "LinearRegression": LinearRegression}[kind]
    return cls(**d)


def _regime_to_dict(regime) -> dict:
    return {"type": type(regime).__name__, **regime.__dict__}


def _regime_from_dict(d: dict):
    d = dict(d)
    cls = {c.__name__: c for c in _REGIMES}[d.pop("type")]
    return cls(**d)


def load(path) -> SimulationResult:
    """Read a result written by :meth:`SimulationResult.save`."""
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        if meta.get("format") != "modelcollapse.SimulationResult/1":
            raise ValueError(f"{path} is not a modelcollapse simulation result")
        stats = {k[5:]: f[k] for k in f.files if k.startswith("stat_")}
        ct = f["collapse_time"] if "collapse_time" in f.files else None
        lt = f["token_loss_time"] if "token_loss_time" in f.files else None
    return SimulationResult(
        model=_model_from_dict(meta["model"]), regime=_regime_from_dict(meta["regime"]),
        backend=meta["backend"], seed=meta["seed"], replicates=meta["replicates"],
        generations=meta["generations"], statistics=stats, collapse_time=ct,
        token_loss_time=lt, temperature=meta["temperature"], tokens=tuple(meta["tokens"]),
        eps=meta["eps"], interrupted=meta["interrupted"], elapsed=meta["elapsed"])


# ---------------------------------------------------------------------- the verb
def _kernel_class(backend: str, family: str):
    mod = import_module(f"._{backend}", __package__)
    return mod.KERNELS[family]


def simulate(model, regime, generations: int | None = None, *, replicates: int = 1000,
             backend: str = "numba", seed=None, statistics=None, tokens=(),
             temperature: float = 1.0, eps: float = 0.01, progress: bool = False,
             chunk: int | None = None, max_generations: int = MAX_GENERATIONS
             ) -> SimulationResult:
    r"""Simulate recursive training: ``replicates`` independent chains of ``generations``
    generations of ``model`` under ``regime``.

    Every backend is exact (no approximation of the model): Categorical generations
    are multinomial draws on counts (conditional binomials over the surviving tokens),
    accumulated data are running counts or pooled sufficient statistics, and a Gaussian
    fit is drawn from its exact law, :math:`\bar x \sim N(\mu, \Sigma/M)` and
    :math:`(M-1)S \sim \mathrm{Wishart}_d(M-1, \Sigma)` (Bartlett), instead of from
    ``M`` points. Gaussian mixtures (EM), accumulate-subsample pools of continuous data
    and fixed-design regression under ``RandomlySampled`` are simulated on raw samples.

    Parameters
    ----------
    model : Categorical, Gaussian, GaussianMixture or LinearRegression
    regime : Replace, Mix, Accumulate, AccumulateSubsample, MostRecent or RandomlySampled
    generations : int or None
        Generations after the real model; ``None`` runs a Categorical under
        ``Replace`` until every replicate has collapsed (at most ``max_generations``).
    replicates : int
    backend : {"numba", "numpy", "jax"}
        ``"numba"`` runs replicates in parallel threads; ``"jax"`` vectorises them
        (``vmap``/``lax.scan``, float64) on the default JAX device (a GPU when present).
    seed : int, sequence of int or numpy.random.SeedSequence
        Replicate ``r`` draws from ``SeedSequence(seed).spawn(replicates)[r]`` (numba,
        jax) so results do not depend on the number of threads; the numpy backend
        vectorises over replicates from one generator seeded with ``seed``.
    statistics : sequence of str, optional
        Which statistics to record (default: all of the model's family; see
        :data:`STATISTICS`). ``()`` records none (collapse times are still tracked).
    tokens : sequence of int or str
        Categorical tokens whose probability (``token_prob``) and loss time to record.
    temperature : float
        Categorical sampling temperature :math:`T`: synthetic samples are drawn from
        :math:`p^{1/T}/\sum_i p_i^{1/T}` (real samples are never tempered).
    eps : float
        Gaussian collapse threshold: ``collapse_time`` is the first ``t`` with
        :math:`(\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon`.
    progress : bool
        Show a progress bar (tqdm) over generations.
    chunk : int, optional
        Generations per kernel call (the granularity of progress and of Ctrl-C).

    Returns
    -------
    SimulationResult
        Interrupting (Ctrl-C) returns the generations finished so far, with
        ``interrupted=True``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    replicates = _check_positive_int(replicates, "replicates")
    problem = _check_problem(model, regime, temperature, tokens, statistics, eps)
    to_collapse = generations is None
    if to_collapse:
        if problem.family != "categorical" or not isinstance(regime, Replace):
            raise ValueError(
                "generations=None (run to collapse) needs a Categorical under Replace; "
                "other regimes need a number of generations")
        max_generations = _check_positive_int(max_generations, "max_generations")
        target = max_generations
    else:
        target = _check_positive_int(generations, "generations", minimum=0)
    try:
        seed_seq = seed if isinstance(seed, np.random.SeedSequence) else \
            np.random.SeedSequence(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"seed must be None, a non-negative int, a sequence of them or a "
            f"numpy.random.SeedSequence, got {seed!r}") from None
    kernel = _kernel_class(backend, problem.family)(problem, replicates, seed_seq)
    if chunk is None:
        chunk = kernel.default_chunk(target)
    chunk = _check_positive_int(chunk, "chunk")

    parts = {k: [v] for k, v in kernel.initial().items()}
    done, interrupted = 0, False
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=None if to_collapse else target, unit="gen",
                   desc=f"simulate[{backend}]")
    t0 = time.perf_counter()
    try:
        while done < target:
            if to_collapse and kernel.absorbed():
                break
            stop = min(done + chunk, target)
            out = kernel.advance(done, stop)
            for k, v in out.items():
                parts[k].append(v)
            if bar is not None:
                bar.update(stop - done)
            done = stop
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    if to_collapse and not interrupted and not kernel.absorbed():
        raise RuntimeError(
            f"{int((kernel.collapse_time < 0).sum())} replicates did not collapse within "
            f"max_generations={max_generations}")
    stats = {k: np.concatenate(v, axis=1) for k, v in parts.items()}
    if to_collapse and kernel.absorbed():  # the last chunk may overshoot the last collapse
        done = int(kernel.collapse_time.max())
        stats = {k: v[:, :done + 1] for k, v in stats.items()}
    for a, b in (("tv_real", "l1_real"), ("tv_first", "l1_first")):
        if a in problem.statistics:
            stats[a] = stats[b] / 2
    stats = {k: stats[k] for k in problem.statistics}
    ct = kernel.collapse_time
    ct = None if ct is None else np.where((ct >= 0) & (ct <= done), ct, -1)
    lt = kernel.loss_time
    lt = None if lt is None else np.where((lt >= 0) & (lt <= done), lt, -1)
    return SimulationResult(
        model=model, regime=regime, backend=backend, seed=seed, replicates=replicates,
        generations=done, statistics=stats, collapse_time=ct, token_loss_time=lt,
        temperature=problem.temperature, tokens=problem.tokens, eps=problem.eps,
        interrupted=interrupted, elapsed=elapsed)


def kernel_names(problem) -> tuple[str, ...]:
    """Statistics a kernel must compute: the requested ones, with ``tv_*`` computed from
    ``l1_*``."""
    names = []
    for s in problem.statistics:
        s = {"tv_real": "l1_real", "tv_first": "l1_first"}.get(s, s)
        if s not in names:
            names.append(s)
    return tuple(names)


def log_eps_threshold(problem) -> float:
    """Collapse when ``logdet_ratio < 2 d log(eps)``."""
    return 2 * problem.model.dim * math.log(problem.eps)
