"""What is fitted each generation.

A model is a small immutable object shared by :mod:`modelcollapse.theory`,
:mod:`modelcollapse.montecarlo` and the harness, so that one object describes an
experiment everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

__all__ = ["Categorical"]

#: Largest deviation of ``sum(p)`` from 1 that is accepted (and then normalised away).
SUM_TOLERANCE = 1e-9


def _as_probability_vector(p, name: str = "p") -> np.ndarray:
    arr = np.asarray(p, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D probability vector, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must have at least one entry")
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"{name} must be finite; entry {bad} is {arr[bad]}")
    if np.any(arr < 0):
        bad = int(np.flatnonzero(arr < 0)[0])
        raise ValueError(f"{name} must be non-negative; entry {bad} is {arr[bad]}")
    total = float(arr.sum(dtype=np.float64))
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise ValueError(
            f"{name} must sum to 1 (within {SUM_TOLERANCE:g}); it sums to {total!r}. "
            "Use Categorical.from_counts for unnormalised weights."
        )
    return arr / total


def _check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def exact_probabilities(p) -> list[Fraction]:
    """Probabilities as ``fractions.Fraction``, for exact rational arithmetic.

    ``Fraction``/``int`` entries are taken as they are and must sum to exactly 1 (a
    ``ValueError`` otherwise). Float entries (and a :class:`Categorical`) are replaced
    by the nearest rationals with denominator at most ``10**12`` (so ``1/3`` stays
    ``1/3``), renormalised to sum to exactly 1.
    """
    values = p.p if isinstance(p, Categorical) else list(p)
    if all(isinstance(x, (Fraction, int)) and not isinstance(x, bool) for x in values):
        fr = [Fraction(x) for x in values]
        if sum(fr) != 1:
            raise ValueError(
                f"exact probabilities must sum to exactly 1, got {sum(fr)}")
        return fr
    fr = [x if isinstance(x, Fraction) else Fraction(float(x)).limit_denominator(10**12)
          for x in values]
    total = sum(fr)
    if total <= 0:
        raise ValueError("probabilities must have a positive total")
    return [x / total for x in fr]


def check_categorical(model) -> Categorical:
    """``model`` itself if it is a :class:`Categorical`, else a ``ValueError``."""
    if not isinstance(model, Categorical):
        raise ValueError(f"model must be a Categorical, got {type(model).__name__}")
    return model


@dataclass(frozen=True, eq=False)
class Categorical:
    r"""A next-token (categorical) distribution :math:`p` on :math:`\{0, \dots, s-1\}`.

    Fitting a categorical model to ``n`` samples by maximum likelihood gives the
    empirical frequencies, so one generation of recursive training is
    :math:`p' = X/n` with :math:`X \sim \mathrm{Multinomial}(n, p)` (Seddik et al. 2024,
    eqs. 1--2): the neutral Wright--Fisher model with ``s`` alleles.

    Parameters
    ----------
    p : array_like
        Probabilities: finite, non-negative, summing to 1 within ``1e-9`` (the vector
        is then normalised exactly). A ``ValueError`` names the first bad entry.
    labels : sequence of str, optional
        Token names (e.g. words), one per entry of ``p``.

    Examples
    --------
    >>> Categorical([0.5, 0.25, 0.25]).support_size
    3
    >>> Categorical.zipf(1000, exponent=1.1).p[:2].round(3)
    array([0.141, 0.066])
    """

    p: np.ndarray
    labels: tuple[str, ...] | None = field(default=None, repr=False)

    def __post_init__(self):
        arr = _as_probability_vector(self.p)
        arr.setflags(write=False)
        object.__setattr__(self, "p", arr)
        if self.labels is not None:
            labels = tuple(str(x) for x in self.labels)
            if len(labels) != arr.size:
                raise ValueError(
                    f"labels has {len(labels)} entries but p has {arr.size}"
                )
            object.__setattr__(self, "labels", labels)

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_counts(cls, counts, labels: Sequence[str] | None = None) -> Categorical:
        """Empirical distribution of non-negative ``counts`` (need not be integers)."""
        arr = np.asarray(counts, dtype=np.float64)
        if arr.ndim != 1 or arr.size == 0:
            raise ValueError(f"counts must be a non-empty 1-D array, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("counts must be finite")
        if np.any(arr < 0):
            bad = int(np.flatnonzero(arr < 0)[0])
            raise ValueError(f"counts must be non-negative; entry {bad} is {arr[bad]}")
        total = arr.sum()
        if total <= 0:
            raise ValueError("counts must have a positive total")
        return cls(arr / total, labels=labels)

    @classmethod
    def uniform(cls, k: int) -> Categorical:
        """Uniform distribution on ``k`` tokens."""
        k = _check_positive_int(k, "k")
        return cls(np.full(k, 1.0 / k))

    @classmethod
    def geometric(cls, k: int, ratio: float) -> Categorical:
        r"""Truncated geometric law :math:`p_i \propto \mathrm{ratio}^i`, ``0 < ratio <= 1``."""
        k = _check_positive_int(k, "k")
        ratio = float(ratio)
        if not (0.0 < ratio <= 1.0) or not np.isfinite(ratio):
            raise ValueError(f"ratio must be in (0, 1], got {ratio}")
        logw = np.arange(k) * np.log(ratio)
        w = np.exp(logw - logw.max())
        return cls(w / w.sum())

    @classmethod
    def zipf(cls, k: int, exponent: float = 1.0) -> Categorical:
        r"""Truncated Zipf law :math:`p_i \propto i^{-\mathrm{exponent}}`, ``i = 1..k``."""
        k = _check_positive_int(k, "k")
        exponent = float(exponent)
        if not np.isfinite(exponent) or exponent < 0:
            raise ValueError(f"exponent must be finite and >= 0, got {exponent}")
        w = np.arange(1, k + 1, dtype=np.float64) ** (-exponent)
        return cls(w / w.sum())

    @classmethod
    def from_wordfreq(
        cls, lang: str = "en", top: int = 50_000, wordlist: str = "best"
    ) -> Categorical:
        """Real word frequencies of the ``top`` most frequent words of ``lang``.

        Uses the offline frequency lists of the `wordfreq` package (install the
        ``wordfreq`` extra); frequencies are renormalised over the ``top`` words and the
        words are kept as :attr:`labels`.
        """
        top = _check_positive_int(top, "top")
        try:
            import wordfreq
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Categorical.from_wordfreq needs the optional 'wordfreq' package: "
                "pip install 'modelcollapse[wordfreq]'"
            ) from exc
        freqs = wordfreq.get_frequency_dict(lang, wordlist=wordlist)
        if not freqs:
            raise ValueError(f"wordfreq has no frequency list for lang={lang!r}")
        items = sorted(freqs.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
        if len(items) < top:
            raise ValueError(
                f"top={top} but wordfreq's {lang!r} list has only {len(items)} words"
            )
        words = [w for w, _ in items]
        counts = np.array([f for _, f in items], dtype=np.float64)
        return cls.from_counts(counts, labels=words)

    # ------------------------------------------------------------------ properties
    @property
    def size(self) -> int:
        """Vocabulary size ``s`` (including zero-probability tokens)."""
        return int(self.p.size)

    def __len__(self) -> int:
        return self.size

    @property
    def support_size(self) -> int:
        r""":math:`\tilde s = |\mathrm{supp}\, p|`."""
        return int(np.count_nonzero(self.p))

    @property
    def homozygosity(self) -> float:
        r""":math:`S_0 = \sum_i p_i^2`."""
        return float(np.dot(self.p, self.p))

    @property
    def is_dirac(self) -> bool:
        """True when all mass sits on one token (a collapsed model)."""
        return self.support_size == 1

    def token_index(self, token) -> int:
        """Index of ``token``: an integer index, or a label when labels are set."""
        if isinstance(token, (int, np.integer)) and not isinstance(token, bool):
            idx = int(token)
            if not 0 <= idx < self.size:
                raise ValueError(f"token index {idx} out of range for {self.size} tokens")
            return idx
        if isinstance(token, str):
            if self.labels is None:
                raise ValueError(f"token {token!r} given by name but the model has no labels")
            try:
                return self.labels.index(token)
            except ValueError:
                raise ValueError(f"token {token!r} is not in the vocabulary") from None
        raise ValueError(f"token must be an int index or a label, got {token!r}")

    def __repr__(self) -> str:
        return (
            f"Categorical(size={self.size}, support={self.support_size}, "
            f"max_p={self.p.max():.4g}, S0={self.homozygosity:.4g})"
        )
