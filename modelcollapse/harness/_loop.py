"""The generational loop, its metrics and resumable checkpoints.

Layout of ``out_dir``::

    <config>-seed<seed>/                 shared by every regime of this config and seed
        gen_000.eqx  gen0.json  contexts.npy
        <regime spec, ':' as '_'>[-finetune]/   e.g. replace_40000, mix_20000_20000
            results.json
            gen_001.eqx ...               the model of each finished generation
            real.npy                      the real block (samples of generation 0), if any
            samples_<m>_<j>.npy ...       tokens sampled from generation j for generation m

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

from ..files import write_text

SCHEMA = "modelcollapse.harness/2"

DEFINITIONS = {
    "generation 0": "p^(0), the truth: trained once on N real tokens (the training split's "
                    "first N), shared by every regime of a config and seed; its samples "
                    "are the 'real' data of the regimes and give the 300 contexts",
    "generation m >= 1": "p^(m), fitted to the training corpus the regime gives generation "
                         "m, exactly as in the toolkit's categorical chain (regimes.Plan): "
                         "a real block of samples of generation 0 (drawn once, or anew "
                         "every generation for mix-fresh) and synthetic blocks sampled from "
                         "earlier generations under the regime's sampling policy; "
                         "Replace(n): n samples of p^(m-1); Mix(R, S): generation 1 on R "
                         "samples of p^(0), then the same R plus S samples of p^(m-1); "
                         "Accumulate(n): n samples of p^(0), then also n samples of each of "
                         "p^(1..m-1) (m n tokens)",
    "generation 1": "the first fitted model; the reference of the drift",
    "init": "scratch: every generation m >= 1 is a freshly initialised model (with "
            "shared_init all from the same initialisation and mini-batch keys, else each "
            "its own) trained for the same number of iterations; finetune (the setting of "
            "Shumailov et al. 2024): every generation m >= 1 starts from the trained "
            "generation-0 model and is fine-tuned on its corpus",
    "sampling": "sequences of sample_length <= context + 1 tokens, each started from the "
                "newline (BOS) token, every token drawn given its whole history (key/value "
                "cache) from the regime's sampling policy: softmax(logits / temperature) "
                "cut to top_k, then top_p, renormalised (samples of generation 0 are "
                "plain draws); concatenated and truncated to the block's size",
    "l1_to_gen1": "mean over the 300 contexts of sum_v |p_m(v|c) - p_1(v|c)| (next-token "
                  "distributions at temperature 1, after the full context c); 0 <= L1 <= 2",
    "l1_to_gen0": "the same against generation 0",
    "heldout_loss": "cross-entropy (nats/token) on held-out real text; perplexity = exp",
    "unigram": "statistics of generation m's training corpus; tail = the rarest tokens of "
               "the real corpus holding at most tail_mass of its mass; lost = tokens of the "
               "real corpus absent from the training corpus",
    "epochs": "when set, every generation m >= 1 trains for ceil(epochs x its corpus "
              "tokens / (batch x context)) iterations (the config's iterations otherwise); "
              "generation 0 always trains for the config's iterations",
    "theory": "categorical analogue with p^(0) = q, the unigram law of the N real tokens: "
              "theory.expected_surviving_tokens(Categorical(q), regime, m) is the expected "
              "number of tokens with p^(m)_i > 0, i.e. present in generation m's training "
              "corpus; observed: tokens of the real corpus present in it",
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


def run_label(regime) -> str:
    """Directory name of a regime's run: its spec with ``:`` as ``_`` (for example
    ``replace_40000``, ``mix_20000_20000``, ``replace_40000_temperature=0.8``)."""
    return regime.spec.replace(":", "_")


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


def regime_info(regime) -> dict:
    """The regime as the results record it: its dictionary form, spec and a label."""
    from ..regimes import Mix, Replace

    if isinstance(regime, Replace):
        label = "fully synthetic"
    elif isinstance(regime, Mix):
        label = (f"{round(100 * (1 - regime.alpha))}% real"
                 + (" (fresh)" if regime.fresh else ""))
    else:
        label = regime.name
    if not regime.sampling.plain:
        label += ", " + ", ".join(f"{k}={getattr(regime, k):g}" for k in
                                  ("temperature", "top_k", "top_p")
                                  if getattr(regime, k) not in (None, 1.0))
    return {**regime.to_dict(), "name": regime.name, "spec": regime.spec, "label": label}


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
            f"distinct real tokens of the training corpora {obs.astype(int).tolist()} vs "
            f"categorical theory {np.round(exp, 2).tolist()} (ratio "
            f"{np.round(obs / exp, 3).tolist()}): "
            + ("agrees within max(2 tokens, 5%)" if agree else
               ("the network loses MORE tokens than the categorical model"
                if (obs < exp).mean() > 0.5 else
                "the network loses FEWER tokens than the categorical model (softmax "
                "smoothing keeps rare tokens alive)")))
    name = res["regime"]["name"]
    out["theory_expectation"] = (
        "fully synthetic: drift from generation 1 grows with m and the support shrinks "
        "(Seddik et al. Thm 1)" if name == "replace" else
        "mixed with real data: the drift from generation 1 stays bounded "
        "(Seddik et al. Thm 3: E||p^(m)-p^(1)||_1 < sqrt(pi n/2) G_n(s) / N) and no token "
        "of the real block can leave the training corpus" if name == "mix" else
        "accumulating: the error stays bounded (Gerstgrasser et al. 2024)"
        if name == "accumulate" else "")
    return out


def _expected_distinct(q, regime, m):
    from .. import theory
    from ..errors import TooLargeError, UnsupportedRegimeError

    try:
        return float(theory.expected_surviving_tokens(q, regime, m))
    except (UnsupportedRegimeError, TooLargeError, NotImplementedError):
        return None  # no exact solver for this regime at this size


def _ppl_theory(q, regime, m: int, config, res, centre: float) -> dict:
    """The categorical chain's law of the unigram log-perplexity of generation m's corpus
    (:func:`modelcollapse.theory.sequence_perplexity`, ``q`` the real unigram law, one
    token per draw) beside the measured one: the corpus's empirical law is ``p^(m)``, so
    its mean score (the centre) has the law's ``center_sd`` at ``m`` and its shift from
    generation 1 ``shift_sd``; the newest synthetic sequences are written by
    ``p^(m-1)`` (``width_sd`` at ``m - 1``)."""
    from .. import theory
    from ..errors import UnsupportedRegimeError

    g1 = next((g for g in res["generations"] if g["generation"] == 1), None)
    shift = None if g1 is None else centre - g1["unigram_perplexity"]["mean_log"]
    out = {"centre": centre, "shift_from_gen1": shift}
    try:
        law = theory.sequence_perplexity(q, regime, [m - 1, m], config.sample_length - 1)
    except UnsupportedRegimeError:
        out["theory"] = ("none: the law is derived for plain sampling (under a sampling "
                         "policy it is not linear in the fitted law)")
        return out
    out.update({"mean_log": law.mean, "center_sd": float(law.center_sd[1]),
                "width_sd": float(law.width_sd[0]), "drift": float(law.drift[1]),
                "shift_sd_from_gen1": None if law.shift_sd is None else
                float(law.shift_sd[1])})
    if shift is not None and out["shift_sd_from_gen1"]:
        out["shift_z"] = shift / out["shift_sd_from_gen1"]
    return out


def run_loop(config, regime, generations: int, *, out_dir, seed: int, progress,
             init: str = "scratch", perplexity: bool = False,
             epochs: float | None = None) -> dict:
    import jax

    from ..models import Categorical
    from . import _perplexity as _ppl
    from . import _train
    from ._data import load_dataset, tail_set, unigram_counts
    from ._model import count_params, make_model

    log = progress if callable(progress) else (print if progress else (lambda *a: None))
    plan = regime.plan()
    ds = load_dataset(config.tokenizer, config.heldout_fraction, config.vocab_size)
    n = config.corpus_tokens
    real = ds.real_corpus(n)
    real_counts = unigram_counts(real, ds.vocab_size)
    tail = tail_set(real_counts, config.tail_mass)
    root = Path(out_dir) / f"{config.name}-seed{seed}"
    rdir = root / (run_label(regime) + ("-finetune" if init == "finetune" else ""))
    rdir.mkdir(parents=True, exist_ok=True)
    key = jax.random.key(seed)
    gkey = lambda m, what: jax.random.fold_in(jax.random.fold_in(key, m), what)  # noqa: E731

    info_regime = regime_info(regime)
    params = {"config": config.to_dict(), "regime": info_regime, "seed": seed, "init": init,
              "perplexity": perplexity, "epochs": epochs}
    rpath = rdir / "results.json"
    if rpath.exists():
        res = json.loads(rpath.read_text())
        old = {k: res.get(k, False if k == "perplexity" else None) for k in params}
        if res.get("schema") != SCHEMA or old != params:
            raise ValueError(f"{rpath} was written with other parameters or by another "
                             "version of the harness; use another --out")
    else:
        res = {"schema": SCHEMA, "definitions": DEFINITIONS, **params,
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
    log_q = np.log(np.maximum(real_counts, 1) / n)  # tokens absent from q are never scored
    spath = rdir / "perplexity.npz"
    scores = _ppl.load_scores(spath) if perplexity else {}
    scored: dict = {}  # id(block) -> (block, its model scores, its unigram scores): each
    # block is scored once per invocation (the block is kept so that its id stays its own)

    def score_blocks(arrays):
        out_m, out_u = [], []
        for arr in arrays:
            if id(arr) not in scored:
                seqs = _ppl.split_sequences(arr, config.sample_length)
                scored[id(arr)] = (arr, _ppl.model_log_perplexity(model0, seqs,
                                                                   config.sample_batch),
                                   _ppl.unigram_log_perplexity(seqs, log_q))
            out_m.append(scored[id(arr)][1])
            out_u.append(scored[id(arr)][2])
        return np.concatenate(out_m), np.concatenate(out_u)

    if perplexity and "perplexity_study" not in res:
        rm, ru = score_blocks([real])
        lo, hi = (np.quantile(rm, f) for f in _ppl.REAL_RANGE)
        ulo, uhi = (np.quantile(ru, f) for f in _ppl.REAL_RANGE)
        res["perplexity_study"] = {
            "definition": _ppl.DEFINITION, "sequence_length": config.sample_length,
            "real_range_log": [float(lo), float(hi)],
            "real_range": [float(np.exp(lo)), float(np.exp(hi))],
            "unigram_real_range_log": [float(ulo), float(uhi)],
            "edges_log10": _ppl.edges_log10(ds.vocab_size).tolist()}
        scores.update({"gen_000": rm, "uni_000": ru})
        _ppl.save_scores(spath, scores)
    pinfo = res.get("perplexity_study")

    def ppl_records(rm, ru):
        edges = np.asarray(pinfo["edges_log10"])
        return {"perplexity": _ppl.summary(rm, pinfo["real_range_log"], edges),
                "unigram_perplexity": _ppl.summary(ru, pinfo["unigram_real_range_log"],
                                                   edges)}

    if not res["generations"]:
        rec = dict(g0)
        rec.update({"l1_to_gen1": None, "l1_to_gen0": 0.0, "invocation": invocation,
                    "unigram": unigram_stats(real, real_counts, tail, ds.vocab),
                    "theory": {"observed_distinct": int((real_counts > 0).sum()),
                               "expected_distinct": int((real_counts > 0).sum())}})
        if perplexity:
            rec.update(ppl_records(scores["gen_000"], scores["uni_000"]))
        res["generations"].append(rec)
        inv["trained"].append(0)
        _write_json(rpath, res)

    models: dict = {0: model0}

    def model_of(j):
        if j not in models:
            models[j] = _load_model(rdir / f"gen_{j:03d}.eqx", config, ds.vocab_size)
        return models[j]

    blocks: dict = {}  # path -> tokens, each block read or sampled once per invocation

    def block(path, j, count, k):
        """``count`` tokens sampled from generation ``j`` (saved in ``path``); the sample
        info is ``None`` unless the block was sampled just now."""
        if path in blocks:
            return blocks[path], None
        if path.exists():
            blocks[path] = np.load(path)
            return blocks[path], None
        log(f"[{config.name} {rdir.name}] sampling {count} tokens from generation {j}")
        pol = None if j == 0 else regime.sampling  # p^(0) draws are plain
        arr, si = _train.sample_corpus(model_of(j), count, config, k, ds.bos, pol)
        _save_npy(path, arr)
        blocks[path] = arr
        return arr, si

    def real_block(m):
        """The real block of generation ``m``: ``plan.real`` samples of generation 0,
        drawn once (at generation 1) or anew every generation (``real_fresh``)."""
        if plan.real_fresh:
            return block(rdir / f"real_{m:03d}.npy", 0, plan.real, gkey(m, 3))
        return block(rdir / "real.npy", 0, plan.real, gkey(1, 3))

    def new_blocks(m):
        """Generation m's new blocks: [(description, tokens, sample info)]."""
        out = []
        if plan.real and (plan.real_fresh or m == 1):
            arr, si = real_block(m)
            out.append((f"{plan.real} samples of generation 0 (real)", arr, si))
        rng = np.random.default_rng([seed, m])
        for j, count in plan.blocks(m, rng):
            arr, si = block(rdir / f"samples_{m:03d}_{j:03d}.npy", j, count,
                            jax.random.fold_in(gkey(m, 2), j))
            out.append((f"{count} samples of generation {j}", arr, si))
        return out

    def corpus(m):
        """Generation m's training corpus, its description and the new blocks' info."""
        fresh = new_blocks(m)
        parts = list(fresh)
        if plan.real and not plan.real_fresh and m > 1:
            parts.insert(0, (f"the same {plan.real} samples of generation 0 (real)",
                             real_block(m)[0], None))
        if plan.pool == "accumulate":
            parts = [p for k in range(1, m) for p in new_blocks(k)] + parts
        data = np.concatenate([p[1] for p in parts])
        return data, " + ".join(p[0] for p in parts), fresh, [p[1] for p in parts]

    done = len(res["generations"]) - 1
    p1 = None if done < 1 else np.asarray(_train.next_token_probs(model_of(1), contexts))
    q = Categorical(real_counts / n)
    for m in range(done + 1, generations + 1):
        t0 = time.perf_counter()
        data, desc, fresh, arrays = corpus(m)
        sinfo = [si for _, _, si in fresh if si is not None]
        log(f"[{config.name} {rdir.name}] generation {m}: training on {desc}")
        mk = 1 if config.shared_init else m
        model = model0 if init == "finetune" else make_model(config, ds.vocab_size,
                                                               gkey(mk, 0))
        cfg = config if epochs is None else config.replace(iterations=max(
            1, math.ceil(epochs * len(data) / (config.batch * config.context))))
        model, info = _train.train(model, data, cfg, gkey(mk, 1), it_progress(f"gen {m}"))
        info["iterations"] = cfg.iterations
        info["epochs"] = cfg.iterations * config.batch * config.context / len(data)
        models[m] = model
        pm = np.asarray(_train.next_token_probs(model, contexts))
        if m == 1:
            p1 = pm
        l1 = np.abs(pm - p1).sum(axis=1)
        l10 = np.abs(pm - p0).sum(axis=1)
        uni = unigram_stats(data, real_counts, tail, ds.vocab)
        expected = _expected_distinct(q, regime, m)
        surviving = int((real_counts > 0).sum()) - uni["lost_count"]
        th = {"observed_distinct": surviving,
              "observed_distinct_note": "tokens of the real corpus present in generation "
                                        "m's training corpus (new tokens not counted)",
              "expected_distinct": expected,
              "ratio": None if expected is None else surviving / expected}
        secs = sum(si["sample_seconds"] for si in sinfo)
        toks = sum(si["sample_tokens"] for si in sinfo)
        rec = {"generation": m, "trained_on": desc, "training_tokens": len(data), **info,
               "sample_seconds": secs if sinfo else None,
               "sample_tokens_per_s": toks / secs if sinfo and secs > 0 else None,
               **_train.heldout_loss(model, ds.heldout, config),
               "l1_to_gen1": float(l1.mean()), "l1_to_gen1_std": float(l1.std()),
               "l1_to_gen0": float(l10.mean()), "l1_to_gen0_std": float(l10.std()),
               "unigram": uni, "theory": th,
               "sample_preview": ds.decode(fresh[-1][1][:240]),
               "seconds": time.perf_counter() - t0, "invocation": invocation,
               "finished_at": _now()}
        if perplexity:
            rm, ru = score_blocks(arrays)
            scores.update({f"gen_{m:03d}": rm, f"uni_{m:03d}": ru})
            rec.update(ppl_records(rm, ru))
            rec["perplexity_theory"] = _ppl_theory(q, regime, m, config, res,
                                                   float(ru.mean()))
            _ppl.save_scores(spath, scores)
        _save_model(rdir / f"gen_{m:03d}.eqx", model)
        res["generations"].append(rec)
        inv["trained"].append(m)
        res["summary"] = _summary(res)
        _write_json(rpath, res)
        exp_s = "-" if expected is None else f"{expected:.2f}"
        log(f"[{config.name} {rdir.name}] generation {m}: drift L1 {rec['l1_to_gen1']:.4f}, "
            f"held-out loss {rec['heldout_loss']:.4f}, real tokens kept {surviving} "
            f"(theory {exp_s}), {rec['seconds']:.1f}s")
    inv["finished_at"] = _now()
    res["summary"] = _summary(res)
    # on disk relative to out_dir (no absolute path of this machine in the results);
    # the caller gets the path it can open
    res["results_path"] = rpath.relative_to(out_dir).as_posix()
    _write_json(rpath, res)
    res["results_path"] = str(rpath)
    if not math.isfinite(res["generations"][-1]["heldout_loss"]):
        raise FloatingPointError("non-finite held-out loss")
    return res
