"""A small nanoGPT-style decoder-only transformer in Equinox (float32).

Pre-LayerNorm blocks: ``x + Dropout(MHA(LN(x)))`` with a causal mask, then
``x + Dropout(MLP(LN(x)))`` (4x width, GELU); learned token and position embeddings;
final LayerNorm and an untied linear head. Parameters and activations are float32.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp


class Block(eqx.Module):
    ln1: eqx.nn.LayerNorm
    attn: eqx.nn.MultiheadAttention
    ln2: eqx.nn.LayerNorm
    fc: eqx.nn.Linear
    proj: eqx.nn.Linear
    drop: eqx.nn.Dropout

    def __init__(self, d: int, heads: int, dropout: float, *, key):
        k1, k2, k3 = jax.random.split(key, 3)
        self.ln1 = eqx.nn.LayerNorm(d)
        self.attn = eqx.nn.MultiheadAttention(heads, d, dropout_p=dropout, use_query_bias=True,
                                              use_key_bias=True, use_value_bias=True,
                                              use_output_bias=True, key=k1)
        self.ln2 = eqx.nn.LayerNorm(d)
        self.fc = eqx.nn.Linear(d, 4 * d, key=k2)
        self.proj = eqx.nn.Linear(4 * d, d, key=k3)
        self.drop = eqx.nn.Dropout(dropout)

    def __call__(self, x, mask, *, key=None, inference: bool = False):
        ks = jax.random.split(key, 4) if key is not None else (None,) * 4
        h = jax.vmap(self.ln1)(x)
        h = self.attn(h, h, h, mask=mask, key=ks[0], inference=inference)
        x = x + self.drop(h, key=ks[1], inference=inference)
        h = jax.vmap(self.ln2)(x)
        h = jax.vmap(self.proj)(jax.nn.gelu(jax.vmap(self.fc)(h)))
        h = self.drop(h, key=ks[2], inference=inference)
        return x + h


class Transformer(eqx.Module):
    tok: eqx.nn.Embedding
    pos: eqx.nn.Embedding
    blocks: list
    ln_f: eqx.nn.LayerNorm
    head: eqx.nn.Linear
    drop: eqx.nn.Dropout
    block_size: int = eqx.field(static=True)

    def __init__(self, vocab: int, block_size: int, d: int, layers: int, heads: int,
                 dropout: float, *, key):
        keys = jax.random.split(key, layers + 3)
        self.tok = eqx.nn.Embedding(vocab, d, key=keys[0])
        self.pos = eqx.nn.Embedding(block_size, d, key=keys[1])
        self.blocks = [Block(d, heads, dropout, key=k) for k in keys[3:]]
        self.ln_f = eqx.nn.LayerNorm(d)
        self.head = eqx.nn.Linear(d, vocab, use_bias=False, key=keys[2])
        self.drop = eqx.nn.Dropout(dropout)
        self.block_size = block_size

    def __call__(self, tokens, *, key=None, inference: bool = False):
        """Logits of shape ``(T, vocab)`` for one sequence of ``T <= block_size`` ids."""
        t = tokens.shape[0]
        x = jax.vmap(self.tok)(tokens) + jax.vmap(self.pos)(jnp.arange(t))
        ks = jax.random.split(key, len(self.blocks) + 1) if key is not None else [None] * (
            len(self.blocks) + 1)
        x = self.drop(x, key=ks[-1], inference=inference)
        mask = jnp.tril(jnp.ones((t, t), dtype=bool))
        for blk, k in zip(self.blocks, ks[:-1], strict=False):
            x = blk(x, mask, key=k, inference=inference)
        x = jax.vmap(self.ln_f)(x)
        return jax.vmap(self.head)(x)


def make_model(config, vocab: int, key) -> Transformer:
    return Transformer(vocab, config.context, config.embedding, config.layers, config.heads,
                       config.dropout, key=key)


def count_params(model) -> int:
    return int(sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))))
