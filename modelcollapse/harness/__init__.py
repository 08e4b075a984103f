"""Model collapse on a real neural language model.

A small decoder-only transformer (Equinox + Optax, float32) is trained on real English
text (CPython's documentation, ``pydoc_data.topics``), then retrained generation after
generation on its own samples under a regime (``replace``, ``mix`` with a real fraction
``r``, ``accumulate``), as in Seddik et al. 2024 §4.1. Per generation the harness records
the L1 drift of next-token distributions from generation 1 over 300 contexts sampled from
generation 0, the held-out loss and perplexity, the unigram statistics of the generated
corpus, and the categorical theory's expected number of surviving tokens.

>>> from modelcollapse.harness import CONFIGS, run_harness
>>> res = run_harness(CONFIGS["tiny"], "replace", 3, out_dir="runs")  # doctest: +SKIP

JAX, Equinox and Optax are imported only when a run starts
(``pip install "modelcollapse[jax]"``).
"""

from __future__ import annotations

import math
from pathlib import Path

from ._config import CONFIGS, HarnessConfig

__all__ = ["CONFIGS", "REGIMES", "HarnessConfig", "check_dependencies", "compare_regimes",
           "plot_results", "run_harness"]

REGIMES = ("replace", "mix", "accumulate")


def check_dependencies() -> None:
    """Raise an ``ImportError`` naming the extra to install if JAX, Equinox or Optax is
    missing."""
    missing = []
    for mod in ("jax", "equinox", "optax"):
        try:
            __import__(mod)
        except ImportError:
            missing.append(mod)
    if missing:
        raise ImportError(
            f"modelcollapse.harness needs {', '.join(missing)}: "
            'pip install "modelcollapse[jax]"')


def _check(config, regime, real_fraction, generations, seed, temperature):
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"unknown config {config!r}; choose one of {sorted(CONFIGS)}")
        config = CONFIGS[config]
    if not isinstance(config, HarnessConfig):
        raise ValueError(f"config must be a HarnessConfig or a name, got {config!r}")
    if regime not in REGIMES:
        raise ValueError(f"unknown regime {regime!r}; choose one of {list(REGIMES)}")
    if regime == "mix":
        if real_fraction is None:
            real_fraction = 0.5
        if not (isinstance(real_fraction, (int, float)) and 0.0 < real_fraction < 1.0):
            raise ValueError(f"real_fraction must be in (0, 1) for mix, got {real_fraction!r}")
        k = round(real_fraction * config.corpus_tokens)
        if not 0 < k < config.corpus_tokens:
            raise ValueError("real_fraction leaves no real or no synthetic token")
        real_fraction = float(real_fraction)
    elif real_fraction is not None:
        raise ValueError(f"real_fraction is only for the mix regime, not {regime!r}")
    if generations is None:
        generations = config.generations
    if isinstance(generations, bool) or not isinstance(generations, int) or generations < 2:
        raise ValueError(f"generations must be an integer >= 2 (generation 1 is the drift "
                         f"reference), got {generations!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    return config, real_fraction, generations, float(temperature)


def run_harness(config, regime: str, generations: int | None = None, *, out_dir,
                real_fraction: float | None = None, seed: int = 0, temperature: float = 1.0,
                init: str = "scratch", progress=False) -> dict:
    """Train generations ``0..generations`` of the transformer under ``regime``.

    Parameters
    ----------
    config : HarnessConfig or {"tiny", "small", "paper"}
    regime : {"replace", "mix", "accumulate"}
    generations : int, optional
        Last generation trained (default ``config.generations``); at least 2.
    out_dir : path
        Results and checkpoints go to ``out_dir/<config>-seed<seed>/<regime>-T<temp>/``
        (generation 0 is shared by all regimes one level up). Resumable: finished
        generations are loaded, not retrained.
    real_fraction : float in (0, 1), optional
        Share of real tokens in each training corpus for ``mix`` (default 0.5).
    seed : int
        Every random key (initialisations, batches, dropout, sampling, contexts) is
        derived from it with ``jax.random.fold_in``.
    temperature : float
        Sampling temperature of the synthetic corpora.
    init : {"scratch", "finetune"}
        ``"scratch"``: every generation is a freshly initialised model; ``"finetune"``
        (Shumailov et al.'s setting): every generation fine-tunes the trained
        generation-0 model on its predecessor's samples (results in ``...-finetune/``).
    progress : bool or callable
        Print progress (or pass each message to the callable).

    Returns
    -------
    dict
        The results (also in ``results.json``): parameters, definitions, one record per
        generation and a ``summary`` comparing with the categorical theory.
    """
    config, real_fraction, generations, temperature = _check(
        config, regime, real_fraction, generations, seed, temperature)
    if init not in ("scratch", "finetune"):
        raise ValueError(f"init must be 'scratch' or 'finetune', got {init!r}")
    check_dependencies()
    from ._loop import run_loop

    return run_loop(config, regime, real_fraction, generations, out_dir=Path(out_dir),
                    seed=seed, temperature=temperature, progress=progress, init=init)


def compare_regimes(results_dir) -> dict:
    """The fully synthetic vs mixed dichotomy from every ``results.json`` under
    ``results_dir`` (see :mod:`modelcollapse.harness._figure`)."""
    from ._figure import compare_regimes as _c

    return _c(results_dir)


def plot_results(results_dir, out=None) -> list:
    """Figure of drift and held-out loss vs generation for each run found under
    ``results_dir``; returns the written paths (PNG and PDF)."""
    from ._figure import plot_results as _p

    return _p(results_dir, out)
