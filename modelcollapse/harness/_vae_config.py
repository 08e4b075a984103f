"""Configurations of the VAE chain (Shumailov et al. 2024's second system), without
JAX: checked before anything is imported or written."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import WrongTypeError


@dataclass(frozen=True)
class VAEConfig:
    """Architecture, training and measurement parameters of one VAE chain.

    ``images`` is the training-set size ``N`` of every generation (the ``n`` of
    ``Replace(n)``: generation 0 is fitted to ``N`` real digits, generation ``m`` to
    ``N`` images decoded from prior samples of generation ``m - 1``). ``eval_images``
    images are decoded per generation from the *same* latent draws (common random
    numbers) to measure diversity and class proportions; ``pairs`` of them give the
    mean pairwise distance.
    """

    name: str
    images: int
    latent: int
    hidden: int
    epochs: int
    batch: int
    lr: float
    eval_images: int = 1000
    pairs: int = 300

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise WrongTypeError(f"name must be a string, got {self.name!r}")
        for f in ("images", "latent", "hidden", "epochs", "batch", "eval_images", "pairs"):
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, int):
                raise WrongTypeError(f"{f} must be a positive integer, got {v!r}")
            if v < 1:
                raise ValueError(f"{f} must be a positive integer, got {v!r}")
        if self.images > 1797:
            raise ValueError(f"images must be at most 1797 (the digits scikit-learn ships), "
                             f"got {self.images}")
        if self.pairs < 2 or self.pairs > self.eval_images:
            raise ValueError(f"pairs must be in [2, eval_images = {self.eval_images}], got "
                             f"{self.pairs}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)):
            raise WrongTypeError(f"lr must be a real number, got {self.lr!r}")
        if not 0 < self.lr < 1:
            raise ValueError(f"lr must be in (0, 1), got {self.lr!r}")

    def to_dict(self) -> dict:
        return asdict(self)


#: ``tiny``: the test suite's chain (a few seconds a generation on 2 CPU cores);
#: ``small``: the figure's.
VAE_CONFIGS = {
    "tiny": VAEConfig("tiny", images=300, latent=4, hidden=128, epochs=100, batch=50,
                      lr=3e-3, eval_images=500, pairs=200),
    "small": VAEConfig("small", images=1500, latent=8, hidden=256, epochs=60, batch=100,
                       lr=1e-3, eval_images=1000, pairs=300),
}
