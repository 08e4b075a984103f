"""What is fitted each generation.

A model is a small immutable object shared by :mod:`modelcollapse.theory`,
:mod:`modelcollapse.montecarlo` and the harness, so that one object describes an
experiment everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

import numpy as np

from .errors import WrongTypeError

__all__ = ["Categorical", "Gaussian", "GaussianMixture", "LinearRegression", "Model"]

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


def check_positive_int(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise WrongTypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_real(value, name: str, *, finite: bool = False) -> float:
    """``value`` as a float: the one check of a real argument. ``WrongTypeError`` (a
    ``TypeError`` and ``ValueError``) for anything but a real number (strings, ``None``
    and booleans included); ``ValueError`` for NaN, which no argument accepts, and, with
    ``finite=True``, for an infinity (other ranges are the caller's to check)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise WrongTypeError(f"{name} must be a real number, got {value!r}")
    x = float(value)
    if finite and not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x}")
    if math.isnan(x):
        raise ValueError(f"{name} must be a number, got nan")
    return x


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
        raise WrongTypeError(f"model must be a Categorical, got {type(model).__name__}")
    return model


class Model:
    """Base class of the fitted models: a class-level :attr:`name` (its family), a
    dictionary form (:meth:`to_dict`, :meth:`from_dict`) and spec strings
    (:meth:`from_spec`; :attr:`spec` where the model has one).

    Spec strings (``kind:arg:arg``)::

        uniform:K                 Categorical.uniform(K)
        zipf:K[:EXPONENT]         Categorical.zipf(K, EXPONENT=1)
        geometric:K:RATIO         Categorical.geometric(K, RATIO)
        p:0.5,0.3,0.2             Categorical([0.5, 0.3, 0.2])
        wordfreq:LANG[:TOP]       Categorical.from_wordfreq(LANG, top=TOP=50000)
        gaussian:DIM[:VAR[:EST]]  Gaussian(0, VAR * I_DIM, estimator=EST="unbiased")
        mixture:DIM[:COMPONENTS]  GaussianMixture.blob(DIM, components=COMPONENTS=2)
        regression:DIM[:NOISE[:DESIGN]]   LinearRegression.isotropic(DIM, NOISE=1, DESIGN="fixed")
        ngram:V:ORDER[:SEED]      NGram.random(V, ORDER, seed=SEED=0)
        pydoc:ORDER[:TOK[:MAX]]   NGram.from_pydoc(ORDER, TOK="char", max_vocab=MAX)

    (the last two registered by :mod:`modelcollapse.ngram`, through
    :func:`register_spec_kind`).
    """

    __slots__ = ()
    #: the model family (``"categorical"``, ``"gaussian"``, ``"mixture"``, ``"regression"``)
    name = ""
    _registry: ClassVar[dict] = {}
    SPEC_KINDS = ("uniform", "zipf", "geometric", "p", "wordfreq", "gaussian", "mixture",
                  "regression")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            Model._registry[cls.name] = cls

    def _fields(self) -> dict:
        raise NotImplementedError

    def to_dict(self) -> dict:
        """``{"type": name, field: value, ...}`` with arrays as lists (JSON-ready)."""
        out = {"type": self.name}
        for k, v in self._fields().items():
            out[k] = v.tolist() if isinstance(v, np.ndarray) else v
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Model:
        """A model from :meth:`to_dict`'s output (the class name is accepted as type)."""
        if not isinstance(d, dict) or "type" not in d:
            raise ValueError(f"a model dictionary needs a 'type' key, got {d!r}")
        d = dict(d)
        kind = d.pop("type")
        target = registry_lookup(Model._registry, kind, "model")
        try:
            obj = target(**d)
        except TypeError as exc:
            raise ValueError(f"bad fields for model {kind!r}: {exc}") from None
        if not isinstance(obj, cls):
            raise ValueError(f"expected a {cls.__name__}, got {obj!r}")
        return obj

    @property
    def spec(self) -> str:
        """The spec string of this model, where one describes it exactly."""
        raise ValueError(f"{self!r} has no spec string; use to_dict()")

    @classmethod
    def from_spec(cls, text: str) -> Model:
        """A model from a spec string (see the class docstring)."""
        if isinstance(text, Model):
            obj = text
        elif not isinstance(text, str):
            raise WrongTypeError(f"a model spec must be a string, got {type(text).__name__}")
        else:
            obj = _parse_model_spec(text)
        if not isinstance(obj, cls):
            raise ValueError(f"expected a {cls.__name__}, got {obj!r}")
        return obj

    def _eq_key(self):
        return tuple((k, v.tobytes() if isinstance(v, np.ndarray) else v)
                     for k, v in self._fields().items())

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self._eq_key() == other._eq_key()

    def __hash__(self):
        return hash((type(self).__name__, self._eq_key()))


def registry_lookup(registry: dict, kind, what: str) -> type:
    """The class registered under ``kind`` (its name, or its class name as older files
    wrote it); a ``ValueError`` listing the names otherwise."""
    target = registry.get(kind) or {c.__name__: c for c in registry.values()}.get(kind)
    if target is None:
        raise ValueError(f"unknown {what} type {kind!r}; choose from "
                         f"{', '.join(sorted(registry))}")
    return target


def _spec_int(text: str, what: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} in {spec!r} must be an integer, got {text!r}") from None


def _spec_float(text: str, what: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what} in {spec!r} must be a number, got {text!r}") from None


#: spec kinds of model families defined outside this module: kind -> (fewest arguments,
#: most arguments, parser(arguments, spec), syntax, meaning)
_SPEC_PARSERS: dict[str, tuple] = {}


def register_spec_kind(kind: str, lo: int, hi: int, parser, syntax: str, meaning: str):
    """Let :meth:`Model.from_spec` read ``kind:arg:...`` with ``lo`` to ``hi`` arguments
    through ``parser(arguments, spec)`` (how a model family in its own module adds its
    spec strings)."""
    if kind in Model.SPEC_KINDS or (kind in _SPEC_PARSERS and
                                    _SPEC_PARSERS[kind][2] is not parser):
        raise ValueError(f"model spec kind {kind!r} is already taken")
    _SPEC_PARSERS[kind] = (lo, hi, parser, syntax, meaning)


def _check_spec_arity(a: list, lo: int, hi: int, spec: str) -> None:
    if not lo <= len(a) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ValueError(f"{spec!r} needs {want} ':'-separated arguments, got {len(a)}")


def _parse_model_spec(spec: str) -> Model:
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    a = [x.strip() for x in rest.split(":")] if rest else []
    if kind in _SPEC_PARSERS:
        lo, hi, parser, _, _ = _SPEC_PARSERS[kind]
        _check_spec_arity(a, lo, hi, spec)
        return parser(a, spec)
    if kind not in Model.SPEC_KINDS:
        raise ValueError(f"unknown model kind {kind!r} in {spec!r}; choose from "
                         f"{', '.join((*Model.SPEC_KINDS, *_SPEC_PARSERS))}")
    lo, hi = {"uniform": (1, 1), "zipf": (1, 2), "geometric": (2, 2), "p": (1, 1),
              "wordfreq": (1, 2), "gaussian": (1, 3), "mixture": (1, 2),
              "regression": (1, 3)}[kind]
    _check_spec_arity(a, lo, hi, spec)
    if kind == "uniform":
        return Categorical.uniform(_spec_int(a[0], "K", spec))
    if kind == "zipf":
        exp = _spec_float(a[1], "exponent", spec) if len(a) > 1 else 1.0
        return Categorical.zipf(_spec_int(a[0], "K", spec), exp)
    if kind == "geometric":
        return Categorical.geometric(_spec_int(a[0], "K", spec),
                                     _spec_float(a[1], "ratio", spec))
    if kind == "p":
        return Categorical([_spec_float(x, "probability", spec) for x in a[0].split(",")
                            if x.strip()])
    if kind == "wordfreq":
        top = _spec_int(a[1], "top", spec) if len(a) > 1 else 50_000
        return Categorical.from_wordfreq(a[0], top=top)
    if kind == "gaussian":
        dim = _spec_int(a[0], "dim", spec)
        var = _spec_float(a[1], "variance", spec) if len(a) > 1 else 1.0
        est = a[2] if len(a) > 2 else "unbiased"
        return Gaussian([0.0] * check_positive_int(dim, "dim"), var, estimator=est)
    if kind == "mixture":
        comps = _spec_int(a[1], "components", spec) if len(a) > 1 else 2
        return GaussianMixture.blob(_spec_int(a[0], "dim", spec), components=comps)
    noise = _spec_float(a[1], "noise", spec) if len(a) > 1 else 1.0
    design = a[2] if len(a) > 2 else "fixed"
    return LinearRegression.isotropic(_spec_int(a[0], "dim", spec), noise=noise,
                                      design=design)


@dataclass(frozen=True, eq=False)
class Categorical(Model):
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
    array([0.179, 0.084])
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
        k = check_positive_int(k, "k")
        return cls(np.full(k, 1.0 / k))

    @classmethod
    def geometric(cls, k: int, ratio: float) -> Categorical:
        r"""Truncated geometric law :math:`p_i \propto \mathrm{ratio}^i`, ``0 < ratio <= 1``."""
        k = check_positive_int(k, "k")
        ratio = float(ratio)
        if not (0.0 < ratio <= 1.0) or not np.isfinite(ratio):
            raise ValueError(f"ratio must be in (0, 1], got {ratio}")
        logw = np.arange(k) * np.log(ratio)
        w = np.exp(logw - logw.max())
        return cls(w / w.sum())

    @classmethod
    def zipf(cls, k: int, exponent: float = 1.0) -> Categorical:
        r"""Truncated Zipf law :math:`p_i \propto i^{-\mathrm{exponent}}`, ``i = 1..k``."""
        k = check_positive_int(k, "k")
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
        top = check_positive_int(top, "top")
        try:
            import wordfreq
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "Categorical.from_wordfreq needs the optional 'wordfreq' package: "
                "pip install 'modelcollapse[wordfreq]'"
            ) from exc
        try:
            freqs = wordfreq.get_frequency_dict(lang, wordlist=wordlist)
        except LookupError as exc:  # an unknown language or list
            raise ValueError(f"wordfreq has no frequency list for lang={lang!r}, "
                             f"wordlist={wordlist!r}: {exc}") from None
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

    name = "categorical"

    def _fields(self) -> dict:
        return {"p": self.p, "labels": None if self.labels is None else list(self.labels)}

    @property
    def spec(self) -> str:
        return "p:" + ",".join(repr(float(x)) for x in self.p)

    def __repr__(self) -> str:
        return (
            f"Categorical(size={self.size}, support={self.support_size}, "
            f"max_p={self.p.max():.4g}, S0={self.homozygosity:.4g})"
        )


# ---------------------------------------------------------------------- continuous models
ESTIMATORS = ("unbiased", "mle")


def _check_estimator(estimator) -> str:
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be 'unbiased' or 'mle', got {estimator!r}")
    return estimator


def _as_mean_cov(mean, cov, name: str = "") -> tuple[np.ndarray, np.ndarray]:
    """``mean`` as a 1-D float64 vector and ``cov`` as a symmetric positive-definite
    matrix; a scalar ``cov`` is a variance (1-D) or ``cov * I``."""
    mu = np.atleast_1d(np.asarray(mean, dtype=np.float64))
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"{name}mean must be a scalar or a 1-D vector, got shape {mu.shape}")
    if not np.all(np.isfinite(mu)):
        raise ValueError(f"{name}mean must be finite")
    d = mu.size
    c = np.asarray(cov, dtype=np.float64)
    if c.ndim == 0:
        c = float(c) * np.eye(d)
    elif c.ndim == 1 and d == 1 and c.size == 1:
        c = c.reshape(1, 1)
    if c.shape != (d, d):
        raise ValueError(f"{name}cov must be a scalar or a {d}x{d} matrix, got shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name}cov must be finite")
    if not np.allclose(c, c.T, rtol=1e-12, atol=0.0):
        raise ValueError(f"{name}cov must be symmetric")
    c = c / 2 + c.T / 2  # no overflow near the largest float
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name}cov must be finite")
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        raise ValueError(f"{name}cov must be positive definite") from None
    return mu, c


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Gaussian(Model):
    r"""A Gaussian :math:`N(\mu, \Sigma)` in ``d`` dimensions, refitted each generation by
    the sample mean and the sample covariance (Shumailov et al. 2024, §3 and Thm 3.1).

    One generation on ``M`` samples is, exactly (Cochran's theorem),
    :math:`\mu' = \mu + \Sigma^{1/2} Z/\sqrt M` and
    :math:`\Sigma' = \Sigma^{1/2} W \Sigma^{1/2}/\mathrm{den}` with :math:`Z \sim N(0, I)`
    and :math:`W \sim \mathrm{Wishart}_d(M-1, I)` independent; ``den = M - 1`` for
    ``estimator="unbiased"`` and ``den = M`` for ``"mle"``. The headline results differ:
    the unbiased variance is a martingale yet tends to 0 almost surely; the MLE variance
    decays in expectation as :math:`((M-1)/M)^t`.

    Parameters
    ----------
    mean : float or array_like, shape (d,)
    cov : float or array_like, shape (d, d)
        Variance (1-D), ``cov * I`` (a scalar in ``d`` dimensions) or a symmetric
        positive-definite matrix.
    estimator : {"unbiased", "mle"}
    """

    mean: np.ndarray = 0.0
    cov: np.ndarray = 1.0
    estimator: str = "unbiased"

    def __post_init__(self):
        mu, c = _as_mean_cov(self.mean, self.cov)
        object.__setattr__(self, "mean", _frozen(mu))
        object.__setattr__(self, "cov", _frozen(c))
        object.__setattr__(self, "estimator", _check_estimator(self.estimator))

    @property
    def dim(self) -> int:
        return int(self.mean.size)

    @property
    def std(self) -> float:
        """Standard deviation of a 1-D Gaussian."""
        if self.dim != 1:
            raise ValueError("std is defined for a 1-D Gaussian; use cov")
        return float(np.sqrt(self.cov[0, 0]))

    name = "gaussian"

    def _fields(self) -> dict:
        return {"mean": self.mean, "cov": self.cov, "estimator": self.estimator}

    @property
    def spec(self) -> str:
        v = self.cov[0, 0]
        if np.any(self.mean != 0) or np.any(self.cov != v * np.eye(self.dim)):
            return super().spec
        return f"gaussian:{self.dim}:{float(v)!r}:{self.estimator}"

    def __repr__(self) -> str:
        if self.dim == 1:
            return (f"Gaussian(mean={self.mean[0]:.6g}, var={self.cov[0, 0]:.6g}, "
                    f"estimator={self.estimator!r})")
        return f"Gaussian(dim={self.dim}, estimator={self.estimator!r})"


@dataclass(frozen=True, eq=False)
class GaussianMixture(Model):
    r"""A Gaussian mixture :math:`\sum_k w_k N(\mu_k, \Sigma_k)`, refitted each generation
    by expectation-maximisation with ``components`` components (Shumailov et al. 2024:
    two components fitted to 1,000 samples per generation, from one 2-D blob).

    EM is warm-started from the previous generation's fit; generation 1 starts from
    ``components`` sample points spread along the leading principal axis (evenly spaced
    ranks of the projection), the sample covariance and equal weights. It runs until the
    mean log-likelihood improves by less than ``tol`` or for ``max_iter`` iterations.
    ``reg_covar`` is added to the diagonal of every fitted covariance (as scikit-learn
    does) so that a component on one point stays non-singular.
    """

    weights: np.ndarray
    means: np.ndarray
    covs: np.ndarray
    components: int | None = None
    max_iter: int = 100
    tol: float = 1e-8
    reg_covar: float = 1e-6

    def __post_init__(self):
        w = np.atleast_1d(np.asarray(self.weights, dtype=np.float64))
        K = w.size
        means = np.asarray(self.means, dtype=np.float64)
        if means.ndim == 1 and K == means.size:  # 1-D components given as scalars
            means = means.reshape(K, 1)
        if means.ndim != 2 or means.shape[0] != K:
            raise ValueError(f"means must have shape ({K}, d), got {means.shape}")
        d = means.shape[1]
        covs = np.asarray(self.covs, dtype=np.float64)
        if covs.ndim == 1 and covs.size == K and d == 1:
            covs = covs.reshape(K, 1, 1)
        if covs.shape != (K, d, d):
            raise ValueError(f"covs must have shape ({K}, {d}, {d}), got {covs.shape}")
        _as_probability_vector(w, "weights")
        checked = [_as_mean_cov(means[k], covs[k], f"component {k} ") for k in range(K)]
        object.__setattr__(self, "weights", _frozen(w / w.sum()))
        object.__setattr__(self, "means", _frozen(np.array([m for m, _ in checked])))
        object.__setattr__(self, "covs", _frozen(np.array([c for _, c in checked])))
        comps = K if self.components is None else self.components
        object.__setattr__(self, "components", check_positive_int(comps, "components"))
        object.__setattr__(self, "max_iter", check_positive_int(self.max_iter, "max_iter"))
        for name in ("tol", "reg_covar"):
            v = float(getattr(self, name))
            if not np.isfinite(v) or v < 0:
                raise ValueError(f"{name} must be finite and >= 0, got {v}")
            object.__setattr__(self, name, v)

    @classmethod
    def blob(cls, dim: int = 2, components: int = 2, **kwargs) -> GaussianMixture:
        """One standard Gaussian blob in ``dim`` dimensions, fitted with ``components``
        components (Shumailov et al.'s GMM experiment)."""
        dim = check_positive_int(dim, "dim")
        return cls([1.0], np.zeros((1, dim)), np.eye(dim)[None], components=components,
                   **kwargs)

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    name = "mixture"

    def _fields(self) -> dict:
        return {"weights": self.weights, "means": self.means, "covs": self.covs,
                "components": self.components, "max_iter": self.max_iter, "tol": self.tol,
                "reg_covar": self.reg_covar}

    @property
    def spec(self) -> str:
        blob = GaussianMixture.blob(self.dim, components=self.components)
        if blob != self:
            return super().spec
        return f"mixture:{self.dim}:{self.components}"

    def __repr__(self) -> str:
        return (f"GaussianMixture(dim={self.dim}, true_components={self.weights.size}, "
                f"fitted_components={self.components})")


DESIGNS = ("fixed", "fresh")


@dataclass(frozen=True, eq=False)
class LinearRegression(Model):
    r"""Linear regression :math:`y = x^\top w + \sigma\varepsilon`, :math:`x \sim N(0, I_d)`,
    refitted each generation by least squares (minimum-norm when under-determined),
    the setting of Gerstgrasser et al. 2024 and Dohmatob et al. 2024.

    The next generation's labels are the previous model's predictions plus fresh noise
    :math:`\sigma\varepsilon`. ``design="fixed"``: every generation relabels the same
    design rows (drawn once per replicate; under :class:`~modelcollapse.regimes.Mix` the
    real and the synthetic rows are two fixed blocks); ``design="fresh"``: new rows
    :math:`x \sim N(0, I_d)` for every sample. The test error is
    :math:`\lVert \hat w - w\rVert^2`, the excess risk on a fresh isotropic input.

    Parameters
    ----------
    w : array_like, shape (d,)
        True weights of the real data.
    noise : float
        Label noise standard deviation :math:`\sigma \ge 0` (0: noise-free labels, the
        setting of Dohmatob et al.'s exponential collapse when ``d`` exceeds the sample
        size).
    design : {"fixed", "fresh"}
    """

    w: np.ndarray
    noise: float = 1.0
    design: str = "fixed"

    def __post_init__(self):
        w = np.atleast_1d(np.asarray(self.w, dtype=np.float64))
        if w.ndim != 1 or w.size == 0 or not np.all(np.isfinite(w)):
            raise ValueError(f"w must be a finite non-empty 1-D vector, got {self.w!r}")
        object.__setattr__(self, "w", _frozen(w))
        noise = float(self.noise)
        if not np.isfinite(noise) or noise < 0:
            raise ValueError(f"noise must be finite and >= 0, got {self.noise!r}")
        object.__setattr__(self, "noise", noise)
        if self.design not in DESIGNS:
            raise ValueError(f"design must be 'fixed' or 'fresh', got {self.design!r}")

    @classmethod
    def isotropic(cls, dim: int, noise: float = 1.0, design: str = "fixed"):
        """True weights :math:`w = (1, \\dots, 1)/\\sqrt d` (unit norm)."""
        dim = check_positive_int(dim, "dim")
        return cls(np.full(dim, 1.0 / np.sqrt(dim)), noise=noise, design=design)

    @property
    def dim(self) -> int:
        return int(self.w.size)

    name = "regression"

    def _fields(self) -> dict:
        return {"w": self.w, "noise": self.noise, "design": self.design}

    @property
    def spec(self) -> str:
        if LinearRegression.isotropic(self.dim, self.noise, self.design) != self:
            return super().spec
        return f"regression:{self.dim}:{self.noise!r}:{self.design}"

    def __repr__(self) -> str:
        return (f"LinearRegression(dim={self.dim}, noise={self.noise:.6g}, "
                f"design={self.design!r})")
