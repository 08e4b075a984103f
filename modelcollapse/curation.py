r"""Curation and verification: what is kept of the samples a fitted model emits.

A field of every regime (``Replace(100, curation=BestOfK(reward, k=4))``), like the
sampling policy, and one definition for the whole toolkit: the exact theory, every
simulator backend and the transformer harness use the transform of this module. The
sampling policy acts first (a fitted model :math:`p` emits from :math:`q = \pi(p)`,
:mod:`modelcollapse.sampling`); curation then decides which emitted samples become
training data. Real samples (those of :math:`p^{(0)}`) are never curated.

**Best of K** (:class:`BestOfK`; Ferbach et al. 2024, arXiv 2407.09499, their eq. (2)):
each kept sample is chosen among ``K`` independent candidates :math:`X_1, \dots, X_K \sim q`
by a Luce / Bradley--Terry choice on a reward :math:`r`: candidate :math:`j` with
probability :math:`e^{r(X_j)}/\sum_l e^{r(X_l)}`. With weights :math:`w = e^{r}`, the kept
sample has the law

.. math::

    \mathcal{C}_K(q)_x = K q_x w_x\, E\Big[\frac{1}{w_x + \sum_{j=2}^K w(X_j)}\Big]
    = q_x w_x \int_0^\infty e^{-\tau w_x/K}\Big(\sum_j q_j e^{-\tau w_j/K}\Big)^{K-1} d\tau,

(by :math:`1/s = \int_0^\infty e^{-ts}\,dt` and independence of the other ``K-1``
candidates; a 1-D integral, computed by adaptive quadrature). ``K = 1`` keeps ``q``; as
:math:`K \to \infty` the bracket tends to :math:`e^{-\tau E_q w}` and
:math:`\mathcal{C}_\infty(q) = q\,w / E_q[w]` (``k=math.inf``: the exponential tilt
:math:`q \propto q e^{r}`).

**Verifier** (:class:`Verifier`; Feng et al. 2024, arXiv 2406.07515): a sample :math:`x`
is kept with probability :math:`a(x)`, and samples are drawn until ``n`` are kept. The kept
samples are independent with law :math:`\mathcal{V}(q) = q\,a / E_q[a]`; the number of raw
samples needed for ``n`` is negative binomial with mean :math:`n / E_q[a]`.

:func:`curated_distribution` is the float64 map (rows of an array),
:func:`exact_curated_distribution` the same map in rational arithmetic by enumeration of
the candidates, written independently, and :func:`curate_samples` simulates the
selection itself (``K`` candidates per kept sample; rejection until ``n`` are kept).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import numpy as np

from .errors import TooLargeError, WrongTypeError
from .models import registry_lookup

__all__ = [
    "BestOfK",
    "Curation",
    "Verifier",
    "acceptance_rate",
    "as_curation",
    "curate_samples",
    "curated_distribution",
    "exact_curated_distribution",
    "expected_raw_samples",
]

#: A verifier needing more raw samples than this (in expectation) for one generation's
#: kept samples is refused before any work (:class:`~modelcollapse.errors.TooLargeError`).
MAX_RAW_SAMPLES = 10**11
#: Candidates (``kept x K``) drawn at once by :func:`curate_samples`.
CHUNK = 1 << 21
#: Relative and absolute tolerance of the quadrature of the best-of-K map.
QUAD_TOL = 1e-13


def _vector(values, name: str) -> tuple[float, ...]:
    if isinstance(values, (str, bytes)) or values is None:
        raise WrongTypeError(f"{name} must be a sequence of numbers, got {values!r}")
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise WrongTypeError(f"{name} must be a sequence of numbers, got {values!r}") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {arr.shape}")
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        raise ValueError(f"{name} must be finite; entry {bad[0]} is {arr[bad[0]]}")
    return tuple(float(v) for v in arr)


class Curation:
    """Base class of the curations (:class:`BestOfK`, :class:`Verifier`): a class-level
    :attr:`name`, a vector over the tokens (:attr:`vector`), spec fields and a dictionary
    form. ``size`` is the number of tokens it is defined on."""

    name: ClassVar[str] = ""
    _registry: ClassVar[dict[str, type]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            Curation._registry[cls.name] = cls

    @property
    def vector(self) -> np.ndarray:
        raise NotImplementedError

    @property
    def size(self) -> int:
        return self.vector.size

    def check_size(self, V: int) -> None:
        """``ValueError`` unless the curation is defined on ``V`` tokens."""
        if self.size != V:
            raise ValueError(f"the {self._field} vector has {self.size} entries, the model "
                             f"has {V} tokens; give one entry per token")

    def check_model(self, model) -> None:
        """``ValueError`` unless ``model`` is a Categorical model of :attr:`size` tokens
        (a reward or an acceptance is given per token)."""
        from .models import Categorical

        if type(model) is not Categorical:
            raise ValueError(f"curation (a reward or acceptance per token) applies to "
                             f"Categorical models only, not to a {type(model).__name__}")
        self.check_size(model.size)

    def to_dict(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, d: dict) -> Curation:
        """A curation from :meth:`to_dict`'s output."""
        if not isinstance(d, dict) or "type" not in d:
            raise ValueError(f"a curation dictionary needs a 'type' key, got {d!r}")
        d = dict(d)
        target = registry_lookup(Curation._registry, d.pop("type"), "curation")
        try:
            return target(**d)
        except TypeError as exc:
            raise ValueError(f"bad fields for curation {target.name!r}: {exc}") from None


def _fmt(v: tuple[float, ...]) -> str:
    return ",".join(repr(x) if x != int(x) else str(int(x)) for x in v)


@dataclass(frozen=True)
class BestOfK(Curation):
    r"""Keep one of ``k`` candidates, chosen by a Luce / Bradley--Terry model of
    ``reward``: candidate :math:`j` with probability :math:`e^{r_j}/\sum_l e^{r_l}`.

    ``reward`` has one finite entry per token; ``k >= 1`` is an integer or ``math.inf``
    (the limit :math:`q \propto q\,e^{r}`). Adding a constant to ``reward`` changes
    nothing.
    """

    reward: tuple[float, ...]
    k: int | float = 2

    name: ClassVar[str] = "best-of"
    _field: ClassVar[str] = "reward"

    def __post_init__(self):
        object.__setattr__(self, "reward", _vector(self.reward, "reward"))
        k = self.k
        if isinstance(k, str) and k.strip().lower() in ("inf", "infinity"):
            k = math.inf
        if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)):
            raise WrongTypeError(f"k must be a positive integer or math.inf, got {k!r}")
        if k != math.inf:
            if not float(k).is_integer():
                raise ValueError(f"k must be a positive integer or math.inf, got {k}")
            k = int(k)
            if k < 1:
                raise ValueError(f"k (candidates per kept sample) must be >= 1, got {k}")
        object.__setattr__(self, "k", k)

    @property
    def vector(self) -> np.ndarray:
        return np.asarray(self.reward)

    @property
    def weights(self) -> np.ndarray:
        r""":math:`e^{r - \max r}` (the Luce weights, largest 1)."""
        r = self.vector
        return np.exp(r - r.max())

    def exact_weights(self) -> list[Fraction]:
        """The float Luce weights :attr:`weights` as exact rationals."""
        return [Fraction(float(w)) for w in self.weights]

    @property
    def limit(self) -> bool:
        """True for ``k = inf`` (the exponential tilt)."""
        return self.k == math.inf

    def spec_fields(self) -> dict[str, str]:
        return {"best_of": "inf" if self.limit else str(self.k), "reward": _fmt(self.reward)}

    def to_dict(self) -> dict:
        return {"type": self.name, "k": "inf" if self.limit else self.k,
                "reward": list(self.reward)}


@dataclass(frozen=True)
class Verifier(Curation):
    r"""Keep each emitted sample with probability ``acceptance[x]`` (in ``[0, 1]``, not
    all zero), drawing until the generation's ``n`` samples are kept."""

    acceptance: tuple[float, ...]

    name: ClassVar[str] = "verifier"
    _field: ClassVar[str] = "acceptance"

    def __post_init__(self):
        a = _vector(self.acceptance, "acceptance")
        bad = [i for i, v in enumerate(a) if not 0.0 <= v <= 1.0]
        if bad:
            raise ValueError(f"acceptance must be probabilities in [0, 1]; entry {bad[0]} "
                             f"is {a[bad[0]]}")
        if not any(a):
            raise ValueError("acceptance is zero for every token: nothing could ever be "
                             "kept")
        object.__setattr__(self, "acceptance", a)

    @property
    def vector(self) -> np.ndarray:
        return np.asarray(self.acceptance)

    def spec_fields(self) -> dict[str, str]:
        return {"accept": _fmt(self.acceptance)}

    def to_dict(self) -> dict:
        return {"type": self.name, "acceptance": list(self.acceptance)}


def as_curation(value) -> Curation | None:
    """``value`` itself (a :class:`Curation` or ``None``), or the curation of its
    dictionary form; ``TypeError`` for anything else."""
    if value is None or isinstance(value, Curation):
        return value
    if isinstance(value, dict):
        return Curation.from_dict(value)
    raise WrongTypeError(
        f"curation must be a BestOfK, a Verifier, a dict or None, got {type(value).__name__}")


def from_spec_fields(values: dict[str, str], spec: str) -> Curation | None:
    """The curation of a regime spec's ``best_of=K``, ``reward=r1,r2,...`` and
    ``accept=a1,a2,...`` fields (``None`` if none is given)."""
    if not values:
        return None

    def vec(key):
        try:
            return [float(x) for x in values[key].split(",")]
        except ValueError:
            raise ValueError(f"{key} in {spec!r} must be comma-separated numbers, got "
                             f"{values[key]!r}") from None

    if "accept" in values:
        if {"best_of", "reward"} & values.keys():
            raise ValueError(f"{spec!r}: give either accept= (a verifier) or best_of= with "
                             "reward= (best-of-K curation), not both")
        return Verifier(vec("accept"))
    if not {"best_of", "reward"} <= values.keys():
        raise ValueError(f"{spec!r}: best-of-K curation needs both best_of=K and "
                         "reward=r1,r2,...")
    k = values["best_of"].strip()
    if k.lower() not in ("inf", "infinity"):
        try:
            k = int(k)
        except ValueError:
            raise ValueError(f"best_of in {spec!r} must be an integer or inf, got "
                             f"{values['best_of']!r}") from None
    return BestOfK(vec("reward"), k)


# ---------------------------------------------------------------------- the map
def acceptance_rate(Q, curation: Verifier) -> np.ndarray:
    r""":math:`E_q[a] = \sum_x q_x a_x`, the share of emitted samples a verifier keeps
    (rows of ``Q``)."""
    return np.asarray(Q, dtype=np.float64) @ curation.vector


def expected_raw_samples(Q, n: int, curation: Verifier) -> np.ndarray:
    r"""Expected raw samples a verifier needs to keep ``n``: :math:`n / E_q[a]` (rows of
    ``Q``; ``inf`` where nothing can be kept)."""
    with np.errstate(divide="ignore"):
        return n / acceptance_rate(Q, curation)


def _best_of_rows(P: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    r""":math:`\mathcal{C}_K` of every row of ``P`` by one vector-valued quadrature (each
    row's weights scaled so that its largest weight on its support is 1: the Luce choice
    is scale-free, and every row's integrand then decays on the same scale)."""
    from scipy.integrate import quad_vec

    pos = P > 0
    top = np.where(pos, w[None, :], 0.0).max(axis=1, keepdims=True)
    ws = w[None, :] / top
    with np.errstate(divide="ignore"):
        logq = np.log(P)  # -inf off the support: no mass in the sum

    def f(tau):
        e = -tau * ws / k
        a = logq + e
        m = a.max(axis=1, keepdims=True)
        logs = m + np.log(np.exp(a - m).sum(axis=1, keepdims=True))
        return np.exp(e + (k - 1) * logs)

    val, _ = quad_vec(f, 0.0, np.inf, epsabs=QUAD_TOL, epsrel=QUAD_TOL, limit=10_000)
    out = np.where(pos, P * ws * val, 0.0)
    return out / out.sum(axis=1, keepdims=True)


#: Rows per vector-valued quadrature (bounds its memory).
QUAD_ROWS = 512


def curated_distribution(Q, curation: Curation | None) -> np.ndarray:
    r"""The law of a kept sample when the model emits from ``Q`` (rows), under
    ``curation``: :math:`\mathcal{C}_K(q)` for :class:`BestOfK` (the 1-D integral of
    the module docstring; the tilt :math:`q w / E_q w` for ``k = inf``), :math:`q a /
    E_q a` for :class:`Verifier`. ``None`` returns ``Q``.

    Raises ``ValueError`` where a verifier keeps nothing of a row (:math:`E_q a = 0`).
    """
    if curation is None:
        return Q
    Qa = np.asarray(Q, dtype=np.float64)
    P = np.atleast_2d(Qa)
    curation.check_size(P.shape[-1])
    if isinstance(curation, Verifier):
        acc = P @ curation.vector
        if np.any(acc <= 0):
            raise ValueError("the verifier keeps none of the tokens the model emits "
                             "(acceptance is zero on its whole support): nothing can be kept")
        out = P * curation.vector / acc[:, None]
    elif curation.limit or curation.k == 1:
        w = curation.weights if curation.k != 1 else np.ones(P.shape[-1])
        out = P * w
        out = out / out.sum(axis=1, keepdims=True)
    else:
        w = curation.weights
        out = np.concatenate([_best_of_rows(P[i:i + QUAD_ROWS], w, curation.k)
                              for i in range(0, P.shape[0], QUAD_ROWS)])
    return out.reshape(Qa.shape)


def exact_curated_distribution(x, curation: Curation) -> list[Fraction]:
    r"""The curated law in exact arithmetic: for :class:`BestOfK` with finite ``k``,
    by enumerating the other ``k - 1`` candidates as counts :math:`c` over the support,

    .. math:: \mathcal{C}_K(q)_x = K q_x w_x \sum_c \binom{K-1}{c} q^c \frac{1}{w_x + c\cdot w},

    with the Luce weights :meth:`BestOfK.exact_weights` (the float weights as
    rationals); the tilt for ``k = inf``; :math:`q a / E_q a` for :class:`Verifier`.
    Written independently of :func:`curated_distribution`.

    ``x``: a probability vector of Fractions (any order, summing to 1).
    """
    x = [Fraction(v) for v in x]
    curation.check_size(len(x))
    if isinstance(curation, Verifier):
        a = [Fraction(v) for v in curation.acceptance]
        tot = sum(xi * ai for xi, ai in zip(x, a, strict=True))
        if tot == 0:
            raise ValueError("the verifier keeps none of the tokens the model emits")
        return [xi * ai / tot for xi, ai in zip(x, a, strict=True)]
    w = curation.exact_weights()
    if curation.limit:
        tot = sum(xi * wi for xi, wi in zip(x, w, strict=True))
        return [xi * wi / tot for xi, wi in zip(x, w, strict=True)]
    K = curation.k
    sup = [i for i, v in enumerate(x) if v > 0]
    out = [Fraction(0)] * len(x)
    comps = list(_compositions(K - 1, len(sup)))
    for i in sup:
        acc = Fraction(0)
        for c in comps:
            coef = Fraction(math.factorial(K - 1))
            prob = Fraction(1)
            s = w[i]
            for cj, j in zip(c, sup, strict=True):
                coef /= math.factorial(cj)
                prob *= x[j] ** cj
                s += cj * w[j]
            acc += coef * prob / s
        out[i] = K * x[i] * w[i] * acc
    return out


def _compositions(n: int, k: int):
    if k == 1:
        yield (n,)
        return
    for first in range(n + 1):
        for rest in _compositions(n - first, k - 1):
            yield (first, *rest)


# ---------------------------------------------------------------------- simulation
def curate_samples(rng: np.random.Generator, q, n: int, curation: Curation | None):
    """Simulate the selection itself: ``n`` kept samples (token indices) of a model that
    emits from ``q``, and the number of raw samples drawn.

    :class:`BestOfK`: ``k`` candidates per kept sample, one chosen by the Luce rule
    (Gumbel-max on the log-weights: exact); ``k = inf`` draws the ``n`` from the limit
    law (``n`` raw samples).
    :class:`Verifier`: draws, accepts each with probability ``a(x)`` and stops at the
    ``n``-th kept sample (``ValueError`` if the verifier keeps none of ``q``'s support,
    :class:`~modelcollapse.errors.TooLargeError` if more than :data:`MAX_RAW_SAMPLES`
    raw samples are expected). ``None``: ``n`` plain draws.
    """
    q = np.asarray(q, dtype=np.float64)
    V = q.size
    if curation is None or (isinstance(curation, BestOfK) and curation.k == 1):
        return rng.choice(V, size=n, p=q), n
    curation.check_size(V)
    if isinstance(curation, BestOfK):
        if curation.limit:
            return rng.choice(V, size=n, p=curated_distribution(q, curation)), n
        K = curation.k
        logw = np.log(curation.weights)
        out = np.empty(n, dtype=np.int64)
        step = max(1, CHUNK // K)
        for s in range(0, n, step):
            e = min(n, s + step)
            cand = rng.choice(V, size=(e - s, K), p=q)
            score = logw[cand] + rng.gumbel(size=cand.shape)
            out[s:e] = cand[np.arange(e - s), np.argmax(score, axis=1)]
        return out, n * K
    a = curation.vector
    acc = float(q @ a)
    if acc <= 0:
        raise ValueError("the verifier keeps none of the tokens the model emits "
                         "(acceptance is zero on its whole support): nothing can be kept")
    if n / acc > MAX_RAW_SAMPLES:
        raise TooLargeError(
            f"the verifier keeps a share {acc:.3g} of what the model emits: about "
            f"{n / acc:.3g} raw samples for {n} kept, above MAX_RAW_SAMPLES = "
            f"{MAX_RAW_SAMPLES:.0e}")
    kept, raw = [], 0
    need = n
    while need > 0:
        batch = int(min(CHUNK, max(64, 1.2 * need / acc + 10)))
        tok = rng.choice(V, size=batch, p=q)
        ok = np.flatnonzero(rng.random(batch) < a[tok])
        if ok.size >= need:
            ok = ok[:need]
            raw += int(ok[-1]) + 1
        else:
            raw += batch
        kept.append(tok[ok])
        need -= ok.size
    return (np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)), raw
