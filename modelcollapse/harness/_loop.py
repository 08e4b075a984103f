"""The generational loop, its metrics and resumable checkpoints.

Layout of ``out_dir``::

    <config>-seed<seed>/                 shared by every regime of this config and seed
        gen_000.eqx  gen0.json  contexts.npy
        <regime>-T<temperature>/          e.g. replace-T1, mix0.5-T1, accumulate-T1
            results.json
            gen_001.eqx ...               the model of each finished generation
            samples_000.npy ...           N tokens sampled from generation k (trains k+1)

A generation is finished when its record is in ``results.json``; a re-run loads the last
finished model (and every saved sample corpus) and trains only what is missing.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from .._io import write_text

SCHEMA = "modelcollapse.harness/1"

DEFINITIONS = {
    "generation 0": "trained on N real tokens (the training split's first N); the ground-"
                    "truth proxy p^(0); its samples at temperature 1 give the 300 contexts",
    "generation m >= 1": "a fresh model (same architecture and hyper-parameters; with "
                         "shared_init every m >= 1 starts from the same initialisation and "
                         "mini-batch keys, else from its own) trained for the same number "
                         "of iterations on the corpus of its regime, built from samples of "
                         "generation m-1",
    "generation 1": "the first model trained on synthetic data; the reference of the drift",
    "init": "scratch: every generation m >= 1 is a fresh model (above); finetune (the "
            "setting of Shumailov et al. 2024): every generation m >= 1 starts from the "
            "trained generation-0 model and is fine-tuned on the corpus of its regime",
    "replace": "generation m trains on N tokens sampled from generation m-1",
    "mix": "generation m trains on round(r N) real tokens (the same real tokens every "
           "generation) + N - round(r N) tokens sampled from generation m-1",
    "accumulate": "generation m trains on the N real tokens + the N tokens sampled from "
                  "each of generations 0..m-1 ((m+1) N tokens)",
    "sampling": "sequences of sample_length tokens, each started from the newline (BOS) "
                "token, drawn from softmax(logits / temperature) with a context of at most "
                "`context` tokens, concatenated and truncated to N",
    "l1_to_gen1": "mean over the 300 contexts of sum_v |p_m(v|c) - p_1(v|c)| (next-token "
                  "distributions at temperature 1, after the full context c); 0 <= L1 <= 2",
    "l1_to_gen0": "the same against generation 0",
    "heldout_loss": "cross-entropy (nats/token) on held-out real text; perplexity = exp",
    "unigram": "statistics of the generated corpus (samples from generation m-1 that "
               "generation m trained on); tail = the rarest tokens of the real corpus "
               "holding at most tail_mass of its mass; lost = tokens of the real corpus "
               "absent from the generated corpus",
    "theory": "categorical analogue: p^(0) = real unigram q, p^(m) = empirical of N samples "
              "of p^(m-1); theory.expected_surviving_tokens(Categorical(q), Replace(N), m) "
              "vs the distinct tokens of the corpus sampled from generation m-1",
}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, obj) -> None:
    write_text(path, json.dumps(obj, indent=1))


def _save_model(path: Path, model) -> None:
    import equinox as eqx

    tmp = path.with_suffix(".tmp")
    eqx.tree_serialise_leaves(tmp, model)
    os.replace(tmp, path)


def _load_model(path: Path, config, vocab: int):
    import equinox as eqx
    import jax

    from ._model import make_model

    return eqx.tree_deserialise_leaves(path, make_model(config, vocab, jax.random.key(0)))


def _save_npy(path: Path, arr) -> None:
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, arr)
    os.replace(tmp, path)


def regime_label(regime: str, real_fraction: float | None) -> str:
    return f"mix{real_fraction:g}" if regime == "mix" else regime


def unigram_stats(corpus, real_counts, tail, vocab) -> dict:
    from ._data import unigram_counts

    c = unigram_counts(corpus, len(vocab))
    real_present = real_counts > 0
    lost = np.flatnonzero(real_present & (c == 0))
    new = np.flatnonzero(~real_present & (c > 0))
    return {"tokens": int(c.sum()), "distinct": int((c > 0).sum()),
            "tail_mass": float(c[tail].sum() / c.sum()),
            "tail_distinct": int((c[tail] > 0).sum()),
            "lost": [vocab[i] for i in lost], "lost_count": int(lost.size),
            "new": [vocab[i] for i in new],
            "counts": c.tolist()}


def _env() -> dict:
    import equinox
    import jax
    import optax

    return {"jax": jax.__version__, "equinox": equinox.__version__, "optax": optax.__version__,
            "backend": jax.default_backend(), "devices": [str(d) for d in jax.devices()],
            "python": platform.python_version(),
            "machine": platform.machine(), "cpu_count": os.cpu_count()}


def param_dtype(model) -> str:
    """The dtype(s) of the model's parameters, as the arrays actually have them (e.g.
    ``"float32"``; several joined by ``+``)."""
    import equinox as eqx
    import jax

    leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_inexact_array))
    return "+".join(sorted({str(x.dtype) for x in leaves}))


def _summary(res: dict) -> dict:
    """Where the neural model agrees with the categorical theory and where it departs."""
    gens = res["generations"]
    out: dict = {}
    synth = [g for g in gens if g["generation"] >= 1]
    if not synth:
        return out
    drift = [g["l1_to_gen1"] for g in synth]
    out["drift_last"] = drift[-1]
    out["drift_increase_per_generation"] = (
        float(np.polyfit(np.arange(len(drift)), drift, 1)[0]) if len(drift) > 1 else None)
    out["heldout_loss_gen0"] = gens[0]["heldout_loss"]
    out["heldout_loss_last"] = gens[-1]["heldout_loss"]
    th = [g["theory"] for g in synth if g["theory"].get("expected_distinct") is not None]
    if th:
        obs = np.array([t["observed_distinct"] for t in th], float)
        exp = np.array([t["expected_distinct"] for t in th])
        out["distinct_observed_minus_theory"] = (obs - exp).tolist()
        out["distinct_ratio_observed_over_theory"] = (obs / exp).tolist()
        agree = bool(np.all(np.abs(obs - exp) <= np.maximum(2.0, 0.05 * exp)))
        out["token_loss_agrees"] = agree
        out["token_loss_statement"] = (
            f"distinct tokens of the generated corpora {obs.astype(int).tolist()} vs "
            f"categorical theory {np.round(exp, 2).tolist()} (ratio "
            f"{np.round(obs / exp, 3).tolist()}): "
            + ("agrees within max(2 tokens, 5%)" if agree else
               ("the network loses MORE tokens than the categorical model"
                if (obs < exp).mean() > 0.5 else
                "the network loses FEWER tokens than the categorical model (softmax "
                "smoothing keeps rare tokens alive)")))
    regime = res["regime"]["name"]
    out["theory_expectation"] = (
        "fully synthetic: drift from generation 1 grows with m and the support shrinks "
        "(Seddik et al. Thm 1)" if regime == "replace" else
        "mixed with real data: the drift from generation 1 stays bounded "
        "(Seddik et al. Thm 3: E||p^(m)-p^(1)||_1 < sqrt(pi n/2) G_n(s) / N) and no real "
        "token can leave the training corpus" if regime == "mix" else
        "accumulating: the error stays bounded (Gerstgrasser et al. 2024)")
    return out


def run_loop(config, regime: str, real_fraction, generations: int, *, out_dir, seed: int,
             temperature: float, progress, init: str = "scratch") -> dict:
    import jax

    from . import _train
    from ._data import load_dataset, tail_set, unigram_counts
    from ._model import count_params, make_model

    log = progress if callable(progress) else (print if progress else (lambda *a: None))
    ds = load_dataset(config.tokenizer, config.heldout_fraction, config.vocab_size)
    n = config.corpus_tokens
    real = ds.real_corpus(n)
    real_counts = unigram_counts(real, ds.vocab_size)
    tail = tail_set(real_counts, config.tail_mass)
    root = Path(out_dir) / f"{config.name}-seed{seed}"
    rdir = root / (f"{regime_label(regime, real_fraction)}-T{temperature:g}"
                   + ("-finetune" if init == "finetune" else ""))
    rdir.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(seed)
    gkey = lambda m, what: jax.random.fold_in(jax.random.fold_in(key, m), what)  # noqa: E731

    params = {"config": config.to_dict(), "regime": regime, "real_fraction": real_fraction,
              "seed": seed, "temperature": temperature, "init": init}
    rpath = rdir / "results.json"
    if rpath.exists():
        res = json.loads(rpath.read_text())
        old = {"config": res["config"], "regime": res["regime"]["name"],
               "real_fraction": res["regime"]["real_fraction"], "seed": res["seed"],
               "temperature": res["temperature"], "init": res.get("init", "scratch")}
        if old != params:
            raise ValueError(f"{rpath} was written with other parameters; use another --out")
    else:
        n_real = round(real_fraction * n) if regime == "mix" else None
        res = {"schema": SCHEMA, "definitions": DEFINITIONS, **params,
               "config": config.to_dict(),
               "regime": {"name": regime, "real_fraction": real_fraction,
                          "real_tokens": n_real,
                          "synthetic_tokens": n - n_real if regime == "mix" else n},
               "data": {"source": "pydoc_data.topics (CPython documentation, English)",
                        "tokenizer": ds.tokenizer, "vocab_size": ds.vocab_size,
                        "vocab": list(ds.vocab), "text_chars": ds.text_chars,
                        "train_tokens": int(ds.train.size),
                        "heldout_tokens": int(ds.heldout.size),
                        "corpus_tokens": n, "bos": ds.vocab[ds.bos]},
               "real_unigram": {"distinct": int((real_counts > 0).sum()),
                                "tail_mass_threshold": config.tail_mass,
                                "tail_tokens": [ds.vocab[i] for i in tail],
                                "tail_mass": float(real_counts[tail].sum() / n),
                                "counts": real_counts.tolist()},
               "environment": _env(), "invocations": [], "generations": []}
    invocation = len(res["invocations"]) + 1
    inv = {"invocation": invocation, "started_at": _now(), "generations_requested": generations,
           "trained": []}
    res["invocations"].append(inv)
    res["generations_requested"] = max(generations, res.get("generations_requested", 0))

    def it_progress(what):
        if not progress:
            return None
        step = max(1, config.iterations // 5)
        return lambda i, tot: log(f"  {what}: iteration {i}/{tot}") if i % step == 0 else None

    # ---- generation 0 (shared by all regimes of this config and seed) ----
    g0path, g0json, cpath = root / "gen_000.eqx", root / "gen0.json", root / "contexts.npy"
    if g0path.exists() and g0json.exists() and cpath.exists():
        model0 = _load_model(g0path, config, ds.vocab_size)
        g0 = json.loads(g0json.read_text())
        contexts = np.load(cpath)
    else:
        log(f"[{config.name}] generation 0: training on {n} real tokens")
        model0 = make_model(config, ds.vocab_size, gkey(0, 0))
        model0, info = _train.train(model0, real, config, gkey(0, 1), it_progress("gen 0"))
        contexts = _train.sample_contexts(model0, config.contexts, config,
                                          jax.random.fold_in(key, 1_000_003), ds.bos)
        g0 = {"generation": 0, "trained_on": f"{n} real tokens", "training_tokens": n,
              "parameters": count_params(model0), **info,
              **_train.heldout_loss(model0, ds.heldout, config), "finished_at": _now()}
        _save_model(g0path, model0)
        _save_npy(cpath, contexts)
        _write_json(g0json, g0)
    p0 = np.asarray(_train.next_token_probs(model0, contexts))
    res["environment"]["dtype"] = param_dtype(model0)  # what the arrays are, not a claim
    if not res["generations"]:
        rec = dict(g0)
        rec.update({"l1_to_gen1": None, "l1_to_gen0": 0.0, "invocation": invocation,
                    "unigram": unigram_stats(real, real_counts, tail, ds.vocab),
                    "theory": {"observed_distinct": int((real_counts > 0).sum()),
                               "expected_distinct": int((real_counts > 0).sum())}})
        res["generations"].append(rec)
        inv["trained"].append(0)
        _write_json(rpath, res)

    done = len(res["generations"]) - 1
    prev = model0 if done == 0 else _load_model(rdir / f"gen_{done:03d}.eqx", config,
                                                ds.vocab_size)
    p1 = (None if done < 1 else
          np.asarray(_train.next_token_probs(_load_model(rdir / "gen_001.eqx", config,
                                                         ds.vocab_size), contexts)))
    from .. import theory
    from ..models import Categorical
    from ..regimes import Replace

    q = Categorical(real_counts / n)
    for m in range(done + 1, generations + 1):
        t0 = time.perf_counter()
        spath = rdir / f"samples_{m - 1:03d}.npy"
        if spath.exists():
            samples = np.load(spath)
            sinfo = {"sample_seconds": None, "sample_tokens_per_s": None}
        else:
            log(f"[{config.name} {rdir.name}] sampling {n} tokens from generation {m - 1}")
            samples, sinfo = _train.sample_corpus(prev, n, config, gkey(m - 1, 2), ds.bos,
                                                  temperature)
            _save_npy(spath, samples)
        if regime == "replace":
            data, desc = samples, f"{n} tokens sampled from generation {m - 1}"
        elif regime == "mix":
            k = res["regime"]["real_tokens"]
            data = np.concatenate([real[:k], samples[:n - k]])
            desc = f"{k} real tokens + {n - k} tokens sampled from generation {m - 1}"
        else:
            parts = [real] + [np.load(rdir / f"samples_{j:03d}.npy") for j in range(m)]
            data = np.concatenate(parts)
            desc = f"{n} real tokens + {n} tokens sampled from each of generations 0..{m - 1}"
        log(f"[{config.name} {rdir.name}] generation {m}: training on {desc}")
        mk = 1 if config.shared_init else m
        model = model0 if init == "finetune" else make_model(config, ds.vocab_size,
                                                               gkey(mk, 0))
        model, info = _train.train(model, data, config, gkey(mk, 1),
                                   it_progress(f"gen {m}"))
        pm = np.asarray(_train.next_token_probs(model, contexts))
        if m == 1:
            p1 = pm
        l1 = np.abs(pm - p1).sum(axis=1)
        l10 = np.abs(pm - p0).sum(axis=1)
        used = samples[:n - res["regime"]["real_tokens"]] if regime == "mix" else samples
        uni = unigram_stats(used, real_counts, tail, ds.vocab)
        train_distinct = int((unigram_counts(data, ds.vocab_size) > 0).sum())
        expected = float(theory.expected_surviving_tokens(q, Replace(n), m))
        surviving = int((real_counts > 0).sum()) - uni["lost_count"]
        th = {"observed_distinct": surviving,
              "observed_distinct_note": "tokens of the real corpus still present in the "
                                        "generated corpus (new tokens not counted)",
              "expected_distinct": expected if regime == "replace" else None,
              "replace_expected_distinct": expected,
              "training_corpus_distinct": train_distinct,
              "training_corpus_expected_distinct": (
                  expected if regime == "replace" else int((real_counts > 0).sum())),
              "ratio": surviving / expected}
        rec = {"generation": m, "trained_on": desc, "training_tokens": len(data), **info,
               **sinfo, **_train.heldout_loss(model, ds.heldout, config),
               "l1_to_gen1": float(l1.mean()), "l1_to_gen1_std": float(l1.std()),
               "l1_to_gen0": float(l10.mean()), "l1_to_gen0_std": float(l10.std()),
               "unigram": uni, "theory": th,
               "sample_preview": ds.decode(samples[:240]),
               "seconds": time.perf_counter() - t0, "invocation": invocation,
               "finished_at": _now()}
        _save_model(rdir / f"gen_{m:03d}.eqx", model)
        res["generations"].append(rec)
        inv["trained"].append(m)
        res["summary"] = _summary(res)
        _write_json(rpath, res)
        log(f"[{config.name} {rdir.name}] generation {m}: drift L1 {rec['l1_to_gen1']:.4f}, "
            f"held-out loss {rec['heldout_loss']:.4f}, real tokens kept {surviving} "
            f"(theory {expected:.2f}), {rec['seconds']:.1f}s")
        prev = model
    inv["finished_at"] = _now()
    res["summary"] = _summary(res)
    res["results_path"] = str(rpath)
    _write_json(rpath, res)
    if not math.isfinite(res["generations"][-1]["heldout_loss"]):
        raise FloatingPointError("non-finite held-out loss")
    return res
