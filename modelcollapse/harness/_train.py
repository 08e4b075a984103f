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

from ..sampling import TOP_P_SLACK


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
    def step(model, opt_state, data, key, it):
        # the step's key is fold_in(key, it), folded inside the compiled step (one host
        # dispatch per step fewer; the same key bits as folding outside)
        kb, kd = jax.random.split(jax.random.fold_in(key, it))
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
        model, opt_state, loss = step(model, opt_state, data, key,
                                      np.asarray(it, dtype=np.uint32))
        losses.append(loss)
        if progress is not None:
            progress(it + 1, config.iterations)
    losses = np.asarray(jax.block_until_ready(jnp.stack(losses)))
    secs = time.perf_counter() - t0
    tail = losses[-max(1, len(losses) // 10):]
    toks = config.iterations * config.batch * config.context
    fpt = model_flops_per_token(model, config)
    return model, {"train_loss": float(tail.mean()), "train_loss_first": float(losses[0]),
                   "train_seconds": secs, "train_tokens_per_s": toks / secs,
                   "model_flops_per_token": fpt, "model_flops_per_s": fpt * toks / secs}


def model_flops_per_token(model, config) -> float:
    """Training FLOPs per token, forward and backward, as in the model FLOP utilisation
    of Chowdhery et al. 2022 (PaLM, App. B): ``6 P + 12 L d T`` with ``P`` the
    parameters outside the embeddings, ``L`` layers, width ``d`` and context ``T``
    (rematerialisation and the optimizer not counted). Divide ``model_flops_per_s`` by
    the device's peak to get the utilisation."""
    from ._model import count_params

    emb = model.tok.weight.size + model.pos.weight.size
    p = count_params(model) - emb
    return float(6 * p + 12 * config.layers * config.embedding * config.context)


@eqx.filter_jit
def _batch_loss(model, win):
    logits = jax.vmap(lambda t: model(t, inference=True))(win[:, :-1])
    return optax.softmax_cross_entropy_with_integer_labels(logits, win[:, 1:]).sum()


@eqx.filter_jit
def sequence_nll(model, seqs):
    """Per-sequence mean negative log-likelihood (nats) of tokens ``1..L-1`` of each row
    of ``seqs`` ``(k, L)``, each given the tokens before it (inference mode)."""
    logits = jax.vmap(lambda t: model(t, inference=True))(seqs[:, :-1])
    nll = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32),
                                                          seqs[:, 1:])
    return nll.mean(axis=1)


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


def _policy_logits(logits, temperature, top_k, top_p):
    """Log-weights of the sampling policy over the last axis: ``logits / temperature``,
    then ``top_k`` (the ``k`` largest; ties towards the lower index) and ``top_p`` (the
    smallest set of most likely tokens of mass >= ``top_p``, after ``top_k``); the
    tokens cut away get ``-inf``. The toolkit's one policy
    (:func:`modelcollapse.sampling.sampling_distribution`: the same tie rule and top-p
    slack :data:`~modelcollapse.sampling.TOP_P_SLACK`) applied to a network's softmax."""
    z = logits.astype(jnp.float32) / temperature
    v = z.shape[-1]
    if top_k is not None and top_k < v:
        _, idx = jax.lax.top_k(z, top_k)  # ties: lower index first
        keep = jnp.zeros(z.shape, bool)
        keep = jax.vmap(lambda k, i: k.at[i].set(True))(
            keep.reshape(-1, v), idx.reshape(-1, top_k)).reshape(z.shape)
        z = jnp.where(keep, z, -jnp.inf)
    if top_p is not None and top_p < 1.0:
        order = jnp.argsort(-z, axis=-1, stable=True)  # descending, ties: lower index
        p = jax.nn.softmax(jnp.take_along_axis(z, order, axis=-1), axis=-1)
        before = jnp.cumsum(p, axis=-1) - p  # mass of the tokens ranked above
        keep_sorted = before < top_p * (1 - TOP_P_SLACK)
        keep = jnp.zeros(z.shape, bool)
        keep = jnp.put_along_axis(keep, order, keep_sorted, axis=-1, inplace=False)
        z = jnp.where(keep, z, -jnp.inf)
    return z


def _draw(key, logits, temperature, top_k, top_p):
    """One token per row of ``logits`` under the sampling policy (Gumbel-max)."""
    z = _policy_logits(logits, temperature, top_k, top_p)
    return jax.random.categorical(key, z, axis=-1).astype(jnp.int32)


def _check_length(model, length):
    if length > model.block_size + 1:
        raise ValueError(
            f"sample length {length} exceeds context + 1 = {model.block_size + 1}: every "
            "token is drawn given its whole history, which the context must hold")


@eqx.filter_jit
def _sample_window(model, key, bos, temperature, num: int, length: int, top_k=None,
                   top_p=None):
    """The full-window sampler: ``num`` sequences of ``length <= block_size + 1``
    tokens, position 0 ``bos``; every step re-runs the model on the whole buffer
    (``O(length)`` work per token). The reference of :func:`_sample_cached`."""
    _check_length(model, length)
    win = min(model.block_size, length)
    buf = jnp.full((num, length), bos, dtype=jnp.int32)

    def body(t, carry):
        buf, key = carry
        key, sub = jax.random.split(key)
        s = jnp.clip(t - win + 1, 0, length - win)  # 0 whenever length <= block + 1
        w = jax.lax.dynamic_slice(buf, (0, s), (num, win))
        logits = jax.vmap(lambda x: model(x, inference=True))(w)
        logits = jax.lax.dynamic_index_in_dim(logits, t - s, axis=1, keepdims=False)
        nxt = _draw(sub, logits, temperature, top_k, top_p)
        return buf.at[:, t + 1].set(nxt), key

    buf, _ = jax.lax.fori_loop(0, length - 1, body, (buf, key))
    return buf


def _decode_step(model, tok, pos, kc, vc):
    """Logits after token ``tok`` at position ``pos`` of one sequence, given the keys
    and values of positions ``< pos`` in the caches ``kc``, ``vc`` of shape
    ``(layers, block_size, heads, head_size)``; returns ``(logits, kc, vc)`` with
    position ``pos`` written. Inference mode (no dropout)."""
    x = model.tok(tok) + model.pos(pos)
    block = model.block_size
    visible = jnp.arange(block) <= pos
    for i, blk in enumerate(model.blocks):
        a = blk.attn
        h = blk.ln1(x)
        q = a.query_proj(h).reshape(a.num_heads, -1)
        k = a.key_proj(h).reshape(a.num_heads, -1)
        v = a.value_proj(h).reshape(a.num_heads, -1)
        kc = kc.at[i, pos].set(k)
        vc = vc.at[i, pos].set(v)
        s = jnp.einsum("hd,thd->ht", q / math.sqrt(q.shape[-1]), kc[i])
        s = jnp.where(visible[None, :], s, jnp.finfo(s.dtype).min)
        w = jax.nn.softmax(s, axis=-1)
        x = x + a.output_proj(jnp.einsum("ht,thd->hd", w, vc[i]).reshape(-1))
        x = x + blk.proj(jax.nn.gelu(blk.fc(blk.ln2(x))))
    return model.head(model.ln_f(x)), kc, vc


@eqx.filter_jit
def _sample_cached(model, key, bos, temperature, num: int, length: int, top_k=None,
                   top_p=None):
    """The same draws as :func:`_sample_window` (same key, same tokens up to float32
    rounding of the logits) with a key/value cache: one ``lax.scan`` over positions,
    each step runs the model on one new token per sequence (``O(1)`` projections and
    ``O(block_size)`` attention per token). ``length <= block_size + 1``."""
    _check_length(model, length)
    a = model.blocks[0].attn
    hd = a.query_proj.out_features // a.num_heads
    shape = (num, len(model.blocks), model.block_size, a.num_heads, hd)
    dt = model.tok.weight.dtype
    step = jax.vmap(_decode_step, in_axes=(None, 0, None, 0, 0))

    def body(carry, t):
        tok, kc, vc, key = carry
        key, sub = jax.random.split(key)
        logits, kc, vc = step(model, tok, t, kc, vc)
        nxt = _draw(sub, logits, temperature, top_k, top_p)
        return (nxt, kc, vc, key), nxt

    tok0 = jnp.full((num,), bos, dtype=jnp.int32)
    init = (tok0, jnp.zeros(shape, dt), jnp.zeros(shape, dt), key)
    _, toks = jax.lax.scan(body, init, jnp.arange(length - 1))
    return jnp.concatenate([tok0[:, None], toks.T], axis=1)


SAMPLERS = {"cache": _sample_cached, "window": _sample_window}


def sample_corpus(model, n_tokens: int, config, key, bos: int, sampling=None, *,
                  sampler: str = "cache"):
    """``n_tokens`` tokens sampled from ``model``: ``ceil(n / sample_length)`` independent
    sequences, each started from the newline (BOS) token, concatenated and truncated.
    Sequences are drawn in chunks of ``config.sample_batch`` (one fixed jit shape), chunk
    ``i`` with ``fold_in(key, i)``. ``sampling`` is a
    :class:`~modelcollapse.regimes.SamplingPolicy` (default plain); ``sampler``
    ``"cache"`` (key/value cache) or ``"window"`` (the full-window reference): the same
    tokens for the same key."""
    from ..regimes import SamplingPolicy

    sampling = SamplingPolicy() if sampling is None else sampling
    fn = SAMPLERS[sampler]
    length = config.sample_length
    nseq = -(-n_tokens // length)
    chunk = min(config.sample_batch, nseq)
    out = []
    t0 = time.perf_counter()
    for i in range(-(-nseq // chunk)):
        seqs = fn(model, jax.random.fold_in(key, i), jnp.int32(bos),
                  jnp.float32(sampling.temperature), chunk, length, sampling.top_k,
                  sampling.top_p)
        out.append(np.asarray(seqs).reshape(-1))
    corpus = np.concatenate(out)[:n_tokens].astype(np.int32)
    secs = time.perf_counter() - t0
    return corpus, {"sample_seconds": secs, "sample_tokens": n_tokens,
                    "sample_tokens_per_s": n_tokens / secs}


def sample_contexts(model, count: int, config, key, bos: int) -> np.ndarray:
    """``count`` contexts of ``context`` tokens sampled from ``model`` at temperature 1
    (each starts with the BOS token)."""
    return np.asarray(_sample_cached(model, key, jnp.int32(bos), jnp.float32(1.0), count,
                                     config.context))


@eqx.filter_jit
def next_token_probs(model, contexts):
    """Next-token distribution (temperature 1) after each full context: ``(count, V)``."""
    logits = jax.vmap(lambda x: model(x, inference=True)[-1])(contexts)
    return jax.nn.softmax(logits.astype(jnp.float32), axis=-1)
