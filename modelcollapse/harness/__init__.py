"""Model collapse on a real neural language model.

A small decoder-only transformer (Equinox + Optax, float32) is trained on real English
text (CPython's documentation, ``pydoc_data.topics``), then retrained generation after
generation on its own samples under a regime of the toolkit (``Replace``, ``Mix``,
``Accumulate``, ... or their spec strings, with their sampling policies), as in Seddik
et al. 2024 §4.1; ``init="finetune"`` fine-tunes generation 0 instead (Shumailov et
al. 2024). Per generation the harness records
the L1 drift of next-token distributions from generation 1 over 300 contexts sampled from
generation 0, the held-out loss and perplexity, the unigram statistics of the generated
corpus, and the categorical theory's expected number of surviving tokens.

>>> from modelcollapse.harness import CONFIGS, run_harness
>>> res = run_harness(CONFIGS["tiny"], "replace", 3, out_dir="runs")  # doctest: +SKIP

JAX, Equinox and Optax are imported only when a run starts
(``pip install "modelcollapse[jax]"``).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import WrongTypeError
from ._config import CONFIGS, HarnessConfig
from ._data import Dataset, load_dataset
from ._vae_config import VAE_CONFIGS, VAEConfig

__all__ = ["CONFIGS", "PERPLEXITY_SETTINGS", "REGIMES", "VAE_CONFIGS", "Dataset",
           "HarnessConfig", "VAEConfig", "check_dependencies", "compare_regimes",
           "load_dataset", "load_results", "plot_results", "resolve_regime", "run_harness",
           "run_perplexity_study", "run_vae_chain"]


def run_vae_chain(config="tiny", regime="replace", generations: int = 3, *, seed: int = 0,
                  progress: bool = False, out_dir=None) -> dict:
    """The VAE chain of Shumailov et al. (2024) on scikit-learn's digits: see
    :func:`modelcollapse.harness._vae.run_vae_chain` (JAX, Equinox, Optax and
    scikit-learn are imported here, not with the package)."""
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:
        raise ImportError("the VAE chain needs scikit-learn (its digits and classifier): "
                          "pip install \"modelcollapse[jax]\"") from exc
    check_dependencies()
    from ._vae import run_vae_chain as run

    return run(config, regime, generations, seed=seed, progress=progress, out_dir=out_dir)

REGIMES = ("replace", "mix", "mix-fresh", "accumulate", "most-recent", "randomly-sampled")
"""Regime kinds the harness runs (every :class:`~modelcollapse.regimes.Regime` but
``AccumulateSubsample``, whose token-level subsample would cut sequences apart)."""


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


def resolve_regime(regime, config: HarnessConfig, real_fraction=None):
    """The :class:`~modelcollapse.regimes.Regime` a harness run trains under.

    ``regime`` is a Regime, a spec string (``"mix:20000:20000:temperature=0.8"``), or a
    bare kind of a one-size regime, sized by ``config.corpus_tokens`` = ``N``:
    ``"replace"`` is ``Replace(N)``, ``"accumulate"`` ``Accumulate(N)``,
    ``"randomly-sampled"`` ``RandomlySampled(N)``, and ``"mix"`` / ``"mix-fresh"``
    ``Mix(round(r N), N - round(r N))`` with ``r = real_fraction`` (default 0.5), the
    share of real tokens in each training corpus from generation 2 on."""
    from ..regimes import Mix, Regime, as_regime, refuse_curation

    if isinstance(regime, str) and ":" not in regime and regime.strip().lower() in REGIMES:
        kind = regime.strip().lower()
        n = config.corpus_tokens
        if real_fraction is not None and kind not in ("mix", "mix-fresh"):
            raise ValueError(f"real_fraction is only for a bare 'mix' regime, not {kind!r}")
        if kind in ("mix", "mix-fresh"):
            r = 0.5 if real_fraction is None else real_fraction
            if (isinstance(r, bool) or not isinstance(r, (int, float))
                    or not 0.0 < r < 1.0):
                raise ValueError(f"real_fraction must be in (0, 1) for mix, got {r!r}")
            k = round(r * n)
            if not 0 < k < n:
                raise ValueError("real_fraction leaves no real or no synthetic token")
            return Mix(k, n - k, fresh=kind == "mix-fresh")
        if kind == "most-recent":
            raise ValueError("most-recent needs a window: give a spec such as "
                             f"'most-recent:{n}:4'")
        return Regime.from_spec(f"{kind}:{n}")
    if real_fraction is not None:
        raise ValueError("real_fraction is only for a bare 'mix' regime (a Mix object or "
                         "spec gives its sizes)")
    try:
        regime = as_regime(regime)
    except WrongTypeError:
        raise
    except ValueError as exc:
        raise ValueError(f"unknown regime: {exc}") from None
    refuse_curation(regime, "the transformer harness (it trains on every sampled "
                            "sequence)")
    if regime.name not in REGIMES:
        raise ValueError(f"the harness runs the regimes {list(REGIMES)}, not "
                         f"{regime.name!r} (its token-level subsample would cut sampled "
                         "sequences apart)")
    fewest = regime.plan().min_fit_size
    if fewest <= config.context + 1:
        raise ValueError(f"{regime!r}: some generation would train on {fewest} tokens, not "
                         f"more than context + 1 = {config.context + 1}")
    return regime


def _check(config, regime, real_fraction, generations, seed):
    if isinstance(config, str):
        if config not in CONFIGS:
            raise ValueError(f"unknown config {config!r}; choose one of {sorted(CONFIGS)}")
        config = CONFIGS[config]
    if not isinstance(config, HarnessConfig):
        raise WrongTypeError(f"config must be a HarnessConfig or a name, got {config!r}")
    regime = resolve_regime(regime, config, real_fraction)
    if generations is None:
        generations = config.generations
    for name, v in (("generations", generations), ("seed", seed)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise WrongTypeError(f"{name} must be an integer, got {v!r}")
    if generations < 2:
        raise ValueError(f"generations must be an integer >= 2 (generation 1 is the drift "
                         f"reference), got {generations!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return config, regime, generations


def _check_epochs(epochs):
    if epochs is None:
        return None
    from ..models import check_real

    epochs = check_real(epochs, "epochs")
    if not 0 < epochs <= 10_000:
        raise ValueError(f"epochs must be in (0, 10000], got {epochs!r}")
    return epochs


def run_harness(config, regime, generations: int | None = None, *, out_dir,
                real_fraction: float | None = None, seed: int = 0, init: str = "scratch",
                perplexity: bool = False, epochs: float | None = None,
                progress=False) -> dict:
    """Train generations ``0..generations`` of the transformer under ``regime``.

    Generation 0, trained once on ``N = config.corpus_tokens`` real tokens, is the
    truth :math:`p^{(0)}`; generation :math:`m \\ge 1` is fitted to the corpus the regime
    gives it, exactly as in the toolkit's categorical chain, with "real samples" drawn
    from generation 0 and synthetic ones from the earlier generations under the regime's
    sampling policy (``temperature``, ``top_k``, ``top_p``).

    Parameters
    ----------
    config : HarnessConfig or {"micro", "tiny", "small", "paper"}
    regime : Regime, spec string or kind
        ``Replace(n)``, ``Mix(real, synthetic[, fresh])``, ``Accumulate(n)``,
        ``MostRecent(n, window)``, ``RandomlySampled(n)`` or their spec strings
        (``"mix:20000:20000:top_p=0.9"``); a bare kind (``"replace"``, ``"mix"``, ...)
        is sized by ``N`` (see :func:`resolve_regime`).
    generations : int, optional
        Last generation trained (default ``config.generations``); at least 2.
    out_dir : path
        Results and checkpoints go to ``out_dir/<config>-seed<seed>/<spec>/`` (the spec
        with ``:`` as ``_``; generation 0 is shared by all regimes one level up).
        Resumable: finished generations are loaded, not retrained.
    real_fraction : float in (0, 1), optional
        For a bare ``"mix"``: the share of real tokens (default 0.5).
    seed : int
        Every random key (initialisations, batches, dropout, sampling, contexts) is
        derived from it with ``jax.random.fold_in``.
    init : {"scratch", "finetune"}
        ``"scratch"``: every generation is a freshly initialised model; ``"finetune"``
        (Shumailov et al.'s setting): every generation fine-tunes the trained
        generation-0 model on its corpus (results in ``...-finetune/``).
    perplexity : bool
        Score every sequence of every generation's training corpus with generation 0
        (Shumailov et al.'s perplexity study; :mod:`modelcollapse.harness._perplexity`):
        per generation the quantiles, the share outside the real text's 1-99% range and
        a histogram in the results, every score in ``perplexity.npz``, and the
        categorical theory's law of the unigram score beside the measured one.
    epochs : float, optional
        Train every generation ``m >= 1`` for ``ceil(epochs * corpus tokens / (batch *
        context))`` iterations instead of ``config.iterations`` (generation 0 keeps the
        config's).
    progress : bool or callable
        Print progress (or pass each message to the callable).

    Returns
    -------
    dict
        The results (also in ``results.json``): parameters, definitions, one record per
        generation and a ``summary`` comparing with the categorical theory.

    Raises
    ------
    ValueError
        A bad argument, before any training or file is written.
    """
    config, regime, generations = _check(config, regime, real_fraction, generations, seed)
    if init not in ("scratch", "finetune"):
        raise ValueError(f"init must be 'scratch' or 'finetune', got {init!r}")
    if not isinstance(perplexity, bool):
        raise WrongTypeError(f"perplexity must be True or False, got {perplexity!r}")
    epochs = _check_epochs(epochs)
    check_dependencies()
    from ._loop import run_loop

    return run_loop(config, regime, generations, out_dir=Path(out_dir), seed=seed,
                    progress=progress, init=init, perplexity=perplexity, epochs=epochs)


PERPLEXITY_SETTINGS = {
    "no-real": {"real_fraction": None, "epochs": 5,
                "label": "no original data, 5 epochs",
                "regime": "Replace(N): every generation fine-tuned on N samples of the "
                          "previous one"},
    "real-10": {"real_fraction": 0.1, "epochs": 10,
                "label": "10% original data preserved, 10 epochs",
                "regime": "Mix(0.1 N, 0.9 N): the same 0.1 N samples of generation 0 in "
                          "every corpus (the real block fixed), plus 0.9 N samples of the "
                          "previous generation"},
}
"""Shumailov et al.'s two settings of the language-model study (Nature 2024, Fig. 1b):
fine-tuning from generation 0 for 5 epochs on fully synthetic data, or for 10 epochs with
10% of the original data preserved in every generation. The toolkit's "original data" is
generation 0's own text (generation 0 is the truth), so the second setting is a ``Mix``
whose real block is drawn once and kept."""


def run_perplexity_study(config="tiny", setting="no-real", generations: int = 9, *,
                         out_dir, seed: int = 0, temperature: float | None = None,
                         progress=False) -> dict:
    """One setting of Shumailov et al.'s perplexity study (:data:`PERPLEXITY_SETTINGS`):
    :func:`run_harness` with ``init="finetune"``, the setting's regime and epochs and
    ``perplexity=True``; generations ``0..generations`` (the paper shows 0 to 9).
    ``temperature`` sets the regime's sampling temperature (default 1; the paper decodes
    with beam search, which a temperature below 1 approaches)."""
    if setting not in PERPLEXITY_SETTINGS:
        raise ValueError(f"setting must be one of {sorted(PERPLEXITY_SETTINGS)}, got "
                         f"{setting!r}")
    s = PERPLEXITY_SETTINGS[setting]
    kind = "replace" if s["real_fraction"] is None else "mix"
    config, regime, generations = _check(config, kind, s["real_fraction"], generations, seed)
    if temperature is not None:
        import dataclasses

        regime = dataclasses.replace(regime, temperature=temperature)
    return run_harness(config, regime, generations, out_dir=out_dir, seed=seed,
                       init="finetune", perplexity=True, epochs=s["epochs"],
                       progress=progress)


def compare_regimes(results_dir) -> dict:
    """The fully synthetic vs mixed dichotomy from every ``results.json`` under
    ``results_dir`` (see :mod:`modelcollapse.harness._figure`)."""
    from ._figure import compare_regimes as _c

    return _c(results_dir)


def load_results(results_dir) -> list[dict]:
    """Every harness result under ``results_dir`` (``results.json`` files of runs and
    ``harness_*.json`` benchmark summaries), as dictionaries; files of another schema are
    skipped. Needs no JAX."""
    from ._figure import load_results as _load

    return _load(results_dir)


def plot_results(results_dir, out=None) -> list:
    """Figure of drift and held-out loss vs generation for each run found under
    ``results_dir``; returns the written paths (PNG and PDF)."""
    from ._figure import plot_results as _p

    return _p(results_dir, out)
