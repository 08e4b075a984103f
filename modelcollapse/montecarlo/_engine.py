"""``simulate``: one verb for every model, regime and backend; the result object."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import WrongTypeError
from ..files import atomic_path, npz_path
from ..models import Model, check_positive_int
from ..regimes import Regime, as_regime
from . import _memory, _stats
from ._backends import BACKENDS, _kernel_class
from ._record import Recorder

__all__ = ["BACKENDS", "Problem", "SimulationResult", "check_problem", "load", "simulate"]

#: Upper limit on the generations of a run to collapse (``generations=None``).
MAX_GENERATIONS = 10_000_000
#: Largest sample size per generation: counts stay exact in float64.
MAX_SAMPLE = 2**53
#: Seconds of work between progress updates and interrupt checks: chunks of generations
#: are sized from the measured time of the previous ones, and kernels that can run
#: blocks of replicates within a chunk (numba) size those blocks to it.
CHUNK_SECONDS = 1.0
#: Least seconds between two refreshes of the progress bar's within-chunk note.
TICK_SECONDS = 0.5


@dataclass(frozen=True, eq=False)
class Problem:
    """What to simulate: a model, a regime and the per-run options, validated.

    ``plan`` is the regime's :class:`~modelcollapse.regimes.Plan` and ``sampling`` its
    sampling policy; the kernels read these, never the regime's class."""

    model: Model
    regime: Regime
    tokens: tuple[int, ...] = ()
    statistics: tuple[str, ...] = ()
    eps: float = 0.01

    @property
    def family(self) -> str:
        return _stats.family(self.model)

    @property
    def plan(self):
        return self.regime.plan()

    @property
    def sampling(self):
        return self.regime.sampling

    @property
    def curation(self):
        return self.regime.curation



def as_model(model) -> Model:
    """``model`` itself, or the model of a spec string (``TypeError`` otherwise)."""
    if isinstance(model, str):
        return Model.from_spec(model)
    _stats.family(model)
    return model


def check_problem(model, regime, tokens=(), statistics=None, eps=0.01) -> Problem:
    """The :class:`Problem` of ``simulate``'s arguments, validated (``ValueError`` /
    ``TypeError`` naming the bad argument), without simulating anything."""
    model = as_model(model)
    regime = as_regime(regime)
    fam = _stats.family(model)
    if not regime.sampling.plain and fam not in ("categorical", "ngram"):
        if fam != "gaussian" or regime.top_k is not None or regime.top_p is not None:
            raise ValueError("the sampling fields top_k and top_p apply to Categorical and "
                             "NGram models, temperature also to a Gaussian (samples from "
                             f"N(mu, T Sigma)); {regime!r} sets them")
    if regime.curation is not None:
        regime.curation.check_model(model)
    if isinstance(tokens, (str, int, np.integer)):
        tokens = [tokens]
    tok = tuple(model.token_index(t) for t in tokens) if fam == "categorical" else ()
    if tokens and fam != "categorical":
        raise ValueError("tokens applies to Categorical models only")
    allowed = _stats.STATISTICS[fam]
    if statistics is None:  # all but the opt-in ones
        statistics = tuple(s for s in allowed if s not in _stats.OPT_IN)
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
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"eps must be a number, got {eps!r}")
    eps = float(eps)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    problem = Problem(model, regime, tok, statistics, eps)
    plan = problem.plan
    for what, size in (("sample size n", plan.n), ("real sample size", plan.real)):
        if size > MAX_SAMPLE:
            raise ValueError(
                f"{regime!r}: {what} {size} is above 2**53, the largest count float64 "
                "holds exactly; the simulators count samples in float64")
    if fam in ("gaussian", "mixture"):
        # a Gaussian fit on n <= d samples is singular but its mean and trace are
        # defined (and sampled exactly: generalised Bartlett); a mixture needs n >= 2
        per_fit = plan.min_fit_size
        if per_fit < 2:
            raise ValueError(
                f"a {model.dim}-D Gaussian fit needs at least 2 samples per generation; "
                f"this regime gives {per_fit}")
    if fam == "regression" and model.design == "fixed" and plan.sources == "window":
        if plan.n % plan.window:
            raise ValueError("design='fixed' under MostRecent needs window to divide n")
    return problem


FORMAT = "modelcollapse.SimulationResult/2"
FORMAT_V1 = "modelcollapse.SimulationResult/1"


@dataclass(eq=False)
class SimulationResult:
    r"""Per-(replicate, generation) statistics of a simulation.

    ``result.statistic(name)`` (or ``result[name]``) is an array of shape
    ``(replicates, len(recorded), ...)``: column ``j`` is generation ``recorded[j]``
    (with ``record="all"``, ``recorded`` is ``0..generations`` and column ``m`` is
    generation ``m``), generation 0 being the real model. ``collapse_time`` is, per replicate, the
    first generation at which the model collapsed (Categorical: a single token left;
    Gaussian: :math:`(\det\Sigma_t/\det\Sigma_0)^{1/2d} < \varepsilon`), ``-1`` if it
    did not within the run (a Dirac :math:`p^{(0)}` gives 0, as generation 0 is already
    collapsed; the theory's :math:`T = \min\{m \ge 1: p^{(m)}\ \text{Dirac}\}` counts
    fitted models and is 1 there); ``token_loss_time[r, j]`` is the first generation with
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
    tokens: tuple[int, ...] = ()
    eps: float = 0.01
    interrupted: bool = False
    elapsed: float = 0.0
    recorded: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.recorded is None:
            self.recorded = np.arange(self.generations + 1, dtype=np.int64)

    @property
    def temperature(self) -> float:
        """The regime's sampling temperature."""
        return self.regime.temperature

    def statistic(self, name: str) -> np.ndarray:
        try:
            return self.statistics[name]
        except KeyError:
            raise ValueError(
                f"statistic {name!r} was not recorded; recorded: "
                f"{', '.join(self.statistics) or 'none'}") from None

    __getitem__ = statistic

    def at(self, name: str, m) -> np.ndarray:
        """The statistic ``name`` at generation(s) ``m`` (an int or a sequence): shape
        ``(replicates, ...)`` for an int, ``(replicates, len(m), ...)`` for a sequence.
        ``ValueError`` names the generations that were not recorded (see ``record``)."""
        arr = self.statistic(name)
        ms = np.asarray(m)
        if ms.dtype.kind not in "iu" or ms.ndim > 1:
            raise ValueError(f"m must be a generation or a sequence of them, got {m!r}")
        flat = np.atleast_1d(ms)
        cols = np.searchsorted(self.recorded, flat)
        ok = (cols < self.recorded.size) & (self.recorded[np.minimum(
            cols, self.recorded.size - 1)] == flat)
        if not ok.all():
            missing = ", ".join(str(int(g)) for g in flat[~ok])
            raise ValueError(
                f"generation(s) {missing} of {name!r} were not recorded (recorded: "
                f"{len(self.recorded)} generations from {int(self.recorded[0])} to "
                f"{int(self.recorded[-1])}); pass record=[...] (the generations wanted) "
                "or record='all' to simulate")
        return arr[:, cols[0]] if ms.ndim == 0 else arr[:, cols]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.statistics)

    @property
    def collapsed(self) -> np.ndarray:
        """Boolean mask of the replicates that collapsed within the run."""
        if self.collapse_time is None:
            raise ValueError(f"no collapse time is defined for {type(self.model).__name__}")
        return self.collapse_time >= 0

    def final_columns(self):
        """``(label, values over replicates)`` of every statistic at the last generation;
        vector statistics give one column per entry (mixture components sorted by weight,
        covariances by their trace)."""
        stats = self.statistics
        order = None
        if "weights" in stats:  # label switching: sort the components by weight
            order = np.argsort(-stats["weights"][:, -1], axis=1, kind="stable")
        for name, arr in stats.items():
            last = arr[:, -1]
            if last.ndim == 1:
                yield name, last
                continue
            if name == "covs":
                last = np.trace(last, axis1=-2, axis2=-1)
                name = "cov_trace"
            if order is not None and name in ("weights", "means", "cov_trace"):
                last = np.take_along_axis(last, order.reshape(order.shape + (1,) *
                                                              (last.ndim - 2)), axis=1)
            if last.ndim == 2:
                for j in range(last.shape[1]):
                    yield f"{name}[{j}]", last[:, j]
            elif last.ndim == 3:
                for j in range(last.shape[1]):
                    for a in range(last.shape[2]):
                        yield f"{name}[{j},{a}]", last[:, j, a]

    def summary(self) -> dict:
        """A JSON-ready summary: the run's parameters; per statistic at the last
        generation its mean, standard error and median over replicates (finite values);
        the collapse-time law of the replicates that collapsed."""

        def se(x):
            return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else math.nan

        out = {"model": repr(self.model), "regime": self.regime.spec,
               "backend": self.backend, "seed": _jsonable_seed(self.seed),
               "replicates": int(self.replicates), "generations": int(self.generations),
               "interrupted": bool(self.interrupted), "seconds": round(self.elapsed, 3),
               "final": {}}
        for name, last in self.final_columns():
            finite = last[np.isfinite(last)]
            if finite.size:
                out["final"][name] = {"mean": float(finite.mean()), "se": se(finite),
                                      "median": float(np.median(finite))}
        if self.collapse_time is not None:
            ct = self.collapse_time
            done = ct[ct >= 0].astype(np.float64)
            out["collapse_time"] = {
                "collapsed": int(done.size), "fraction": float(done.size / ct.size),
                "mean": float(done.mean()) if done.size else math.nan, "se": se(done),
                "quantiles": {str(q): float(np.quantile(done, q)) if done.size else math.nan
                              for q in (0.05, 0.5, 0.95)}}
        return out

    def __repr__(self) -> str:
        extra = ", interrupted" if self.interrupted else ""
        return (f"SimulationResult({self.model!r}, {self.regime!r}, backend={self.backend!r},"
                f" replicates={self.replicates}, generations={self.generations}, "
                f"statistics={list(self.statistics)}{extra})")

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the result, its parameters and its seed to ``path`` (``.npz`` is
        appended when missing), whole: a temporary file renamed into place."""
        path = npz_path(path)
        arrays = {f"stat_{k}": v for k, v in self.statistics.items()}
        if self.collapse_time is not None:
            arrays["collapse_time"] = self.collapse_time
        if self.token_loss_time is not None:
            arrays["token_loss_time"] = self.token_loss_time
        arrays["recorded"] = self.recorded
        meta = {
            "format": FORMAT,
            "model": self.model.to_dict(),
            "regime": self.regime.to_dict(), "regime_spec": self.regime.spec,
            "backend": self.backend, "seed": _jsonable_seed(self.seed),
            "replicates": self.replicates, "generations": self.generations,
            "tokens": list(self.tokens), "eps": self.eps,
            "interrupted": self.interrupted, "elapsed": self.elapsed,
            "version": _version(),
        }
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, meta=np.array(json.dumps(meta)), **arrays)
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




#: the ``meta`` entries every saved result has (``SimulationResult.save``)
_META_KEYS = ("model", "regime", "backend", "seed", "replicates", "generations", "tokens",
              "eps", "interrupted", "elapsed")


def load(path) -> SimulationResult:
    """Read a result written by :meth:`SimulationResult.save` (``ValueError`` naming the
    file and what is wrong for a missing, truncated, corrupt or foreign file)."""
    import zipfile

    def bad(why):
        return ValueError(f"{path} is not a readable modelcollapse simulation result "
                          f"(npz written by SimulationResult.save): {why}")

    if isinstance(path, (str, bytes, os.PathLike)):
        if not os.path.exists(path):
            raise ValueError(f"{path}: no such file")
        if not os.path.isfile(path):
            raise bad("it is not a file")
    try:
        if not zipfile.is_zipfile(path):  # np.load would try to unpickle it
            raise bad("it is not an .npz (zip) file")
        with np.load(path, allow_pickle=False) as f:
            if "meta" not in f.files:
                raise ValueError(f"it has no 'meta' entry (its entries: "
                                 f"{', '.join(f.files[:10]) or 'none'})")
            meta = json.loads(str(f["meta"]))
            if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, FORMAT_V1):
                raise ValueError("its 'meta' entry is not a modelcollapse result's")
            missing = [k for k in _META_KEYS if k not in meta]
            if missing:
                raise ValueError(f"its 'meta' entry has no {', '.join(map(repr, missing))}")
            if meta["format"] == FORMAT_V1:  # the temperature was a run option
                meta["regime"]["temperature"] = meta.pop("temperature", 1.0)
            stats = {k[5:]: f[k] for k in f.files if k.startswith("stat_")}
            ct = f["collapse_time"] if "collapse_time" in f.files else None
            lt = f["token_loss_time"] if "token_loss_time" in f.files else None
            rec = f["recorded"] if "recorded" in f.files else None
        model, regime = Model.from_dict(meta["model"]), Regime.from_dict(meta["regime"])
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except (ValueError, TypeError, OSError, EOFError, KeyError, zipfile.BadZipFile,
            json.JSONDecodeError) as exc:
        if str(exc).startswith(f"{path} is not a readable"):
            raise
        raise bad(exc) from None
    return SimulationResult(
        model=model, regime=regime,
        backend=meta["backend"], seed=meta["seed"], replicates=meta["replicates"],
        generations=meta["generations"], statistics=stats, collapse_time=ct,
        token_loss_time=lt, tokens=tuple(meta["tokens"]), recorded=rec,
        eps=meta["eps"], interrupted=meta["interrupted"], elapsed=meta["elapsed"])


# ---------------------------------------------------------------------- the verb
def simulate(model, regime, generations: int | None = None, *, replicates: int = 1000,
             backend: str = "numba", seed=None, statistics=None, tokens=(),
             eps: float = 0.01, progress: bool = False,
             chunk: int | None = None, max_generations: int = MAX_GENERATIONS,
             record="auto", max_memory=None, on_interrupt: str = "raise"
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
    model : Categorical, Gaussian, GaussianMixture, LinearRegression or a model spec
    regime : Regime or a regime spec string (e.g. ``"mix:100:100"``)
        What each generation is trained on, including the sampling policy of its
        synthetic data (``Replace(n, temperature=0.7, top_p=0.9)``: Categorical only).
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
        Which statistics to record (default: all of the model's family but
        ``raw_samples``; see :data:`STATISTICS` and :data:`DESCRIPTIONS`). ``()``
        records none (collapse times are still tracked). ``"raw_samples"``
        (Categorical): the samples drawn to build each generation's data, per
        replicate: ``n K`` for best of ``K``, the verifier's raw draws (its kept
        ``n`` plus a negative binomial :math:`\mathrm{NB}(n, E_q a)` where a backend
        draws the kept samples from their law), ``n`` for best of infinity or
        no curation; a real draw counts 1 (NaN at generation 0).
    tokens : sequence of int or str
        Categorical tokens whose probability (``token_prob``) and loss time to record.
    eps : float
        Gaussian collapse threshold: ``collapse_time`` is the first ``t`` with
        :math:`(\det\Sigma_t/\det\Sigma_0)^{1/(2d)} < \varepsilon`.
    progress : bool
        Show a progress bar (tqdm) over generations.
    chunk : int, optional
        Generations per kernel call. Default: sized from the measured time so that a
        call takes about a second (at most a memory-bound number of generations), and
        on ``"numba"`` a call's replicates run in blocks of about a second each, so
        that progress shows and Ctrl-C is seen within about a second whatever the
        replicates and vocabulary; the result does not depend on either.
    record : {"auto", "all", "last"}, int or sequence of int
        Which generations' statistics to keep: ``"all"``; an int ``k`` (generation 0,
        every ``k``-th and the last); ``"last"`` (generation 0 and the last); a sequence
        of generations (generation 0, those, and the last);
        ``"auto"`` (default): ``"all"`` for a fixed number of generations, and for a run
        to collapse every generation until 1024 columns are kept, then every 2nd,
        4th, ... (bounded memory). ``result.recorded`` lists the kept generations.
        Collapse and token-loss times are tracked at every generation regardless.
    max_memory : int or str, optional
        Refuse (``TooLargeError``, a ``ValueError``) before any work when the estimated
        memory exceeds this (bytes, or e.g. ``"8GB"``); default: half of the physical
        memory, or ``MODELCOLLAPSE_MAX_MEMORY``.
    on_interrupt : {"raise", "return"}
        What Ctrl-C (``KeyboardInterrupt``) does: ``"raise"`` (default) lets it
        propagate once the worker threads have stopped; ``"return"`` returns the
        generations finished so far, with ``interrupted=True``.

    Returns
    -------
    SimulationResult
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if on_interrupt not in ("raise", "return"):
        raise ValueError(f"on_interrupt must be 'raise' or 'return', got {on_interrupt!r}")
    replicates = check_positive_int(replicates, "replicates")
    problem = check_problem(model, regime, tokens, statistics, eps)
    model, regime = problem.model, problem.regime
    to_collapse = generations is None
    if to_collapse:
        ngram_ok = problem.family == "ngram" and model.unseen == "keep" and \
            model.smoothing == 0
        if (problem.family != "categorical" and not ngram_ok) or not problem.plan.absorbing:
            raise ValueError(
                "generations=None (run to collapse) needs a Categorical, or an NGram with "
                "unseen='keep' and smoothing=0, under Replace; other models and regimes "
                "need a number of generations")
        max_generations = check_positive_int(max_generations, "max_generations")
        target = max_generations
    else:
        target = check_positive_int(generations, "generations", minimum=0)
    if isinstance(seed, (bool, np.bool_)):
        raise WrongTypeError(f"seed must be None, a non-negative int, a sequence of them or "
                             f"a numpy.random.SeedSequence, got {seed!r}")
    try:
        seed_seq = seed if isinstance(seed, np.random.SeedSequence) else \
            np.random.SeedSequence(seed)
    except (TypeError, ValueError):
        raise ValueError(
            f"seed must be None, a non-negative int, a sequence of them or a "
            f"numpy.random.SeedSequence, got {seed!r}") from None
    cls = _kernel_class(backend, problem)
    recorder = Recorder(record, to_collapse=to_collapse)
    adaptive = chunk is None and cls.adaptive
    if chunk is None:
        chunk = cls.chunk_for(problem, replicates, target)
    chunk = check_positive_int(chunk, "chunk")
    limit = _memory.default_limit() if max_memory is None else \
        _memory.parse_bytes(max_memory)
    horizon = min(target, _memory_horizon(problem)) if to_collapse else target
    parts = _memory.estimate(problem, kernel_names(problem), replicates, horizon,
                             recorder.columns_for(horizon), chunk, backend,
                             cls.scratch_bytes(problem, replicates))
    _memory.check(parts, limit, f"simulate({replicates} replicates x {horizon} "
                  f"generations{' (expected)' if to_collapse else ''})", problem)
    kernel = cls(problem, replicates, seed_seq)
    budget = float(CHUNK_SECONDS)
    kernel.block_seconds = budget

    recorder.add([0], kernel.initial())
    done, interrupted = 0, False
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=None if to_collapse else target, unit="gen",
                   desc=f"simulate[{backend}]")

        shown = [-math.inf]

        def tick(fraction):  # within a chunk: the replicates done so far
            now = time.perf_counter()
            if now - shown[0] >= TICK_SECONDS:
                shown[0] = now
                gens = f"{done + 1}" if stop == done + 1 else f"s {done + 1}-{stop}"
                bar.set_postfix_str(f"generation{gens}: {fraction:.0%} of replicates")

        kernel.tick = tick
    size = 1 if adaptive else chunk  # generations in the next chunk
    stop = 0
    t0 = time.perf_counter()
    try:
        while done < target:
            if to_collapse and kernel.absorbed():
                break
            stop = min(done + size, target)
            keep = recorder.wanted(done, stop)
            t = time.perf_counter()
            recorder.add(keep, kernel.advance(done, stop, keep))
            ran, done = stop - done, stop  # kept, even if the bar's update is interrupted
            if adaptive:
                size = _next_chunk(size, ran, time.perf_counter() - t, budget, chunk)
            if bar is not None:
                if kernel.tick is not None:
                    bar.set_postfix_str("", refresh=False)  # the chunk's note is done
                bar.update(ran)
    except KeyboardInterrupt:
        if on_interrupt == "raise":
            raise
        interrupted = True
    finally:
        if bar is not None:
            bar.close()
    elapsed = time.perf_counter() - t0
    if to_collapse and not interrupted and not kernel.absorbed():
        raise RuntimeError(
            f"{int((kernel.collapse_time < 0).sum())} replicates did not collapse within "
            f"max_generations={max_generations}")
    if to_collapse and kernel.absorbed() and kernel.collapse_time.max() <= done:
        done = int(kernel.collapse_time.max())  # the last chunk may overshoot it
    recorded, stats = recorder.finish(done)
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
        tokens=problem.tokens, eps=problem.eps, interrupted=interrupted, elapsed=elapsed,
        recorded=recorded)


def _next_chunk(size: int, ran: int, seconds: float, budget: float, cap: int) -> int:
    """Generations of the next chunk: about ``budget`` seconds at the rate just
    measured (``ran`` generations in ``seconds``), at least 1, at most ``cap`` and four
    times the last size (a first chunk can be slow: compilation, caches)."""
    per = seconds / ran
    want = budget / per if per > 0 else math.inf
    return int(max(1, min(cap, 4 * size, want)))


def _memory_horizon(problem) -> int:
    """Generations a run to collapse is expected to need, for its memory estimate:
    four times the diffusion mean 2n (the law's upper tail is exponential)."""
    return 8 * problem.plan.n + 10


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

