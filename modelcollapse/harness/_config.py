"""Harness configurations."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class HarnessConfig:
    """Architecture, training and measurement parameters of one harness run.

    ``corpus_tokens`` is ``N``: the real corpus generation 0 (the truth, ``p^(0)``) is
    trained on, and the corpus size of a regime given by name only (``"replace"`` is
    ``Replace(N)``). ``sample_length`` (default ``context + 1``) is the length of each
    sampled sequence, BOS included: at most ``context + 1``, so every token is drawn
    given its whole history (what the key/value cache computes exactly).
    ``generations`` is the default last generation trained (generation 0 included, so
    ``generations + 1`` models are trained).
    ``shared_init``: every generation m >= 1 is a freshly initialised model, all from the
    *same* initialisation and mini-batch keys (common random numbers), so the drift from
    generation 1 measures what the data changed rather than init-to-init noise; ``False``
    gives each generation its own keys.
    """

    name: str
    context: int
    embedding: int
    layers: int
    heads: int
    dropout: float
    lr: float
    batch: int
    iterations: int
    corpus_tokens: int
    generations: int
    weight_decay: float = 0.1
    sample_length: int | None = None
    sample_batch: int = 256
    eval_tokens: int = 32_768
    contexts: int = 300
    tail_mass: float = 0.1
    tokenizer: str = "char"
    vocab_size: int = 2000
    heldout_fraction: float = 0.1
    shared_init: bool = True

    def __post_init__(self):
        if self.sample_length is None:
            object.__setattr__(self, "sample_length", self.context + 1)
        for f in ("context", "embedding", "layers", "heads", "batch", "iterations",
                  "corpus_tokens", "sample_length", "sample_batch", "eval_tokens",
                  "contexts", "vocab_size"):
            v = getattr(self, f)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{f} must be a positive integer, got {v!r}")
        if self.embedding % self.heads:
            raise ValueError("embedding must be divisible by heads")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not 0.0 < self.tail_mass < 1.0:
            raise ValueError(f"tail_mass must be in (0, 1), got {self.tail_mass!r}")
        if self.tokenizer not in ("char", "word"):
            raise ValueError(f"tokenizer must be 'char' or 'word', got {self.tokenizer!r}")
        if self.sample_length > self.context + 1:
            raise ValueError(
                f"sample_length must be <= context + 1 = {self.context + 1} (each sampled "
                f"token sees its whole history), got {self.sample_length}")
        if self.corpus_tokens <= self.context + 1:
            raise ValueError("corpus_tokens must exceed context + 1")

    def replace(self, **changes) -> HarnessConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS: dict[str, HarnessConfig] = {
    # CPU, seconds: the plumbing (files, resumption, CLI), not a research result
    "micro": HarnessConfig(name="micro", context=16, embedding=16, layers=1, heads=1,
                           dropout=0.0, lr=3e-3, batch=16, iterations=20,
                           corpus_tokens=4_000, generations=3,
                           sample_batch=40, eval_tokens=1_024, contexts=50),
    # CPU, under a minute end to end on 2 cores (the slow tier runs it)
    "tiny": HarnessConfig(name="tiny", context=32, embedding=64, layers=2, heads=2,
                          dropout=0.0, lr=3e-3, batch=32, iterations=500,
                          corpus_tokens=40_000, generations=3,
                          sample_batch=320, eval_tokens=16_384, contexts=300),
    # CPU, minutes per generation
    "small": HarnessConfig(name="small", context=64, embedding=96, layers=3, heads=3,
                           dropout=0.1, lr=2e-3, batch=32, iterations=400,
                           corpus_tokens=60_000, generations=4,
                           sample_batch=235, eval_tokens=32_768),
    # Seddik et al. 2024 §4.1 (nanoGPT shakespeare_char sizes); meant for a GPU
    "paper": HarnessConfig(name="paper", context=128, embedding=256, layers=8, heads=4,
                           dropout=0.2, lr=1e-3, batch=256, iterations=2000,
                           corpus_tokens=400_000, generations=10,
                           sample_batch=782, eval_tokens=40_960),
}
