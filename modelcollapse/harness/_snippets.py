"""Text written by the generations of a finished harness run, from one random key."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def snippets(res: dict, generations, *, count: int = 1, length: int | None = None,
             seed: int = 0) -> dict:
    """Text written by each of ``generations`` of a finished run (``res`` as
    :func:`~modelcollapse.harness.run_harness` returns it): ``count`` sequences per
    generation, each from the newline, with the *same* key for every generation (common
    random numbers: where the texts differ, the models do). ``{generation: [text]}``."""
    import jax
    import jax.numpy as jnp

    from ._config import HarnessConfig
    from ._data import load_dataset
    from ._loop import _load_model
    from ._train import _sample_cached

    config = HarnessConfig(**res["config"])
    rdir = Path(res["results_path"]).parent
    ds = load_dataset(config.tokenizer, config.heldout_fraction, config.vocab_size)
    length = config.sample_length if length is None else length
    key = jax.random.fold_in(jax.random.key(seed), 2_000_003)
    out = {}
    for g in generations:
        path = rdir.parent / "gen_000.eqx" if g == 0 else rdir / f"gen_{g:03d}.eqx"
        if not path.exists():
            raise ValueError(f"generation {g} of {rdir} is not trained")
        model = _load_model(path, config, ds.vocab_size)
        seqs = np.asarray(_sample_cached(model, key, jnp.int32(ds.bos), jnp.float32(1.0),
                                         count, length))
        out[g] = [ds.decode(s[1:]) for s in seqs]
    return out
