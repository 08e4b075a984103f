"""Training (Optax AdamW), held-out evaluation, sampling and next-token distributions."""

from __future__ import annotations

import functools
import math
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax


def make_optimizer(config):
    warmup = max(1, min(100, config.iterations // 10))
    sched = optax.warmup_cosine_decay_schedule(
        0.0, config.lr, warmup, max(config.iterations, warmup + 1), config.lr / 10)
    return optax.chain(optax.clip_by_global_norm(1.0),
                       optax.adamw(sched, b1=0.9, b2=0.99, weight_decay=config.weight_decay))


@functools.lru_cache(maxsize=8)
def _train_step(config):
    """One jit-compiled AdamW step for this config (cached, so every generation reuses the
    compiled function)."""
    opt = make_optimizer(config)
    ctx, batch = config.context, config.batch

    def loss_fn(model, x, y, key):
        keys = jax.random.split(key, x.shape[0])
        logits = jax.vmap(lambda t, k: model(t, key=k, inference=False))(x, keys)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @eqx.filter_jit
    def step(model, opt_state, data, key):
        kb, kd = jax.random.split(key)
        ix = jax.random.randint(kb, (batch,), 0, data.shape[0] - ctx)
        win = jax.vmap(lambda i: jax.lax.dynamic_slice(data, (i,), (ctx + 1,)))(ix)
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, win[:, :-1], win[:, 1:], kd)
        updates, opt_state = opt.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    return opt, step


def train(model, data: np.ndarray, config, key, progress=None):
    """Train ``model`` for ``config.iterations`` steps on random windows of ``data``.

    Returns ``(model, info)``; ``info`` has the final training loss (mean of the last 10%
    of steps), seconds and tokens/s (tokens processed = iterations * batch * context)."""
    opt, step = _train_step(config)
    opt_state = opt.init(eqx.filter(model, eqx.is_array))
    data = jnp.asarray(data, dtype=jnp.int32)
    losses = []
    t0 = time.perf_counter()
    for it in range(config.iterations):
        model, opt_state, loss = step(model, opt_state, data, jax.random.fold_in(key, it))
        losses.append(loss)
        if progress is not None:
            progress(it + 1, config.iterations)
    losses = np.asarray(jax.block_until_ready(jnp.stack(losses)))
    secs = time.perf_counter() - t0
    tail = losses[-max(1, len(losses) // 10):]
    toks = config.iterations * config.batch * config.context
    return model, {"train_loss": float(tail.mean()), "train_loss_first": float(losses[0]),
                   "train_seconds": secs, "train_tokens_per_s": toks / secs}


@eqx.filter_jit
def _batch_loss(model, win):
    logits = jax.vmap(lambda t: model(t, inference=True))(win[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, win[:, 1:]).sum()


def heldout_loss(model, heldout: np.ndarray, config) -> dict:
    """Mean cross-entropy (nats/token) over non-overlapping windows of the held-out text
    (at most ``config.eval_tokens`` predicted tokens); perplexity = exp(loss)."""
    ctx = config.context
    nwin = min((heldout.size - 1) // ctx, max(1, config.eval_tokens // ctx))
    wins = np.lib.stride_tricks.sliding_window_view(heldout, ctx + 1)[::ctx][:nwin]
    total, count = 0.0, 0
    for i in range(0, nwin, 256):
        w = jnp.asarray(wins[i:i + 256], dtype=jnp.int32)
        total += float(_batch_loss(model, w))
        count += w.shape[0] * ctx
    loss = total / count
    return {"heldout_loss": loss, "heldout_perplexity": math.exp(loss),
            "heldout_tokens": count}


@eqx.filter_jit
def _sample(model, key, bos, temperature, num: int, length: int):
    """``num`` sequences of ``length`` tokens: position 0 is ``bos``, each next token is
    drawn from softmax(logits / temperature) given (at most ``block_size``) previous ones.
    Without a KV cache each step re-runs the window (fixed shapes for jit)."""
    win = min(model.block_size, length)
    buf = jnp.full((num, length), bos, dtype=jnp.int32)

    def body(t, carry):
        buf, key = carry
        key, sub = jax.random.split(key)
        s = jnp.clip(t - win + 1, 0, length - win)
        w = jax.lax.dynamic_slice(buf, (0, s), (num, win))
        logits = jax.vmap(lambda x: model(x, inference=True))(w)
        logits = jax.lax.dynamic_index_in_dim(logits, t - s, axis=1, keepdims=False)
        nxt = jax.random.categorical(sub, logits / temperature, axis=-1)
        return buf.at[:, t + 1].set(nxt.astype(jnp.int32)), key

    buf, _ = jax.lax.fori_loop(0, length - 1, body, (buf, key))
    return buf


def sample_corpus(model, n_tokens: int, config, key, bos: int, temperature: float):
    """``n_tokens`` tokens sampled from ``model``: ``ceil(n / sample_length)`` independent
    sequences, each started from the newline (BOS) token, concatenated and truncated.
    Sequences are drawn in chunks of ``config.sample_batch`` (one fixed jit shape)."""
    length = config.sample_length
    nseq = -(-n_tokens // length)
    chunk = min(config.sample_batch, nseq)
    out = []
    t0 = time.perf_counter()
    for i in range(-(-nseq // chunk)):
        seqs = _sample(model, jax.random.fold_in(key, i), jnp.int32(bos),
                       jnp.float32(temperature), chunk, length)
        out.append(np.asarray(seqs).reshape(-1))
    corpus = np.concatenate(out)[:n_tokens].astype(np.int32)
    secs = time.perf_counter() - t0
    return corpus, {"sample_seconds": secs, "sample_tokens_per_s": n_tokens / secs}


def sample_contexts(model, count: int, config, key, bos: int) -> np.ndarray:
    """``count`` contexts of ``context`` tokens sampled from ``model`` at temperature 1
    (each starts with the BOS token)."""
    return np.asarray(_sample(model, key, jnp.int32(bos), jnp.float32(1.0), count,
                              config.context))


@eqx.filter_jit
def next_token_probs(model, contexts):
    """Next-token distribution (temperature 1) after each full context: ``(count, V)``."""
    logits = jax.vmap(lambda x: model(x, inference=True)[-1])(contexts)
    return jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
