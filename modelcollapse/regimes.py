"""What each generation is trained on.

Notation of Seddik et al. 2024 (arXiv 2404.05090): ``p^(0)`` is the real distribution,
``p^(1)`` the first fitted model, ``p^(m)`` the model of generation ``m``.

A regime is data: a small frozen object with a class-level :attr:`~Regime.name`, a
spec string (``Mix(100, 100).spec == "mix:100:100"``, :meth:`Regime.from_spec`), a
dictionary form (:meth:`Regime.to_dict`, :meth:`Regime.from_dict`) and a
:class:`Plan` (:meth:`Regime.plan`) that says, backend-neutrally, where each
generation's training samples come from. The simulators read only the plan.

Every regime also carries the **sampling policy** of its synthetic data, as keyword
fields: ``temperature`` :math:`T`, ``top_k`` and ``top_p``. A synthetic sample of a
fitted model :math:`p` is drawn from

.. math:: q = \\mathrm{top\\_p}\\big(\\mathrm{top\\_k}(p^{1/T}/\\textstyle\\sum_i p_i^{1/T})\\big),

where ``top_k`` keeps the ``k`` most likely tokens and ``top_p`` the smallest set of most
likely tokens whose mass is at least ``p`` (ties broken towards the lower token index),
each renormalised. Real samples (model ``p^(0)``) are never transformed.

A regime may also carry a **curation** of its synthetic data (keyword ``curation``, a
:class:`~modelcollapse.curation.BestOfK` or :class:`~modelcollapse.curation.Verifier`):
which of the samples a fitted model emits are kept (:mod:`modelcollapse.curation`). In a
spec string: ``replace:100:best_of=4:reward=0,1,2`` or ``replace:100:accept=1,0.5,0``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

import numpy as np

from .curation import Curation, as_curation, from_spec_fields
from .errors import UnsupportedRegimeError, WrongTypeError
from .models import _spec_float, _spec_int, check_positive_int, registry_lookup
from .sampling import SamplingPolicy

__all__ = [
    "Accumulate",
    "AccumulateSubsample",
    "Mix",
    "MostRecent",
    "Plan",
    "RandomlySampled",
    "Regime",
    "Replace",
    "SamplingPolicy",
]

_SAMPLING = ("temperature", "top_k", "top_p")
_CURATION = ("best_of", "reward", "accept")


# ---------------------------------------------------------------------- plan
@dataclass(frozen=True)
class Plan:
    r"""Where each generation's training samples come from, backend-neutral.

    Generation :math:`m \ge 1` is fitted to the union of

    * the **real block**: ``real`` samples of :math:`p^{(0)}`, drawn once
      (``real_fresh=False``) or anew every generation (``real_fresh=True``); and
    * the **synthetic blocks** (from generation ``synthetic_from`` on), ``n`` samples in
      all, taken from earlier models according to ``sources``:

      - ``"last"``: all ``n`` from :math:`p^{(m-1)}`;
      - ``"window"``: ``n // k`` from each of the ``k = min(window, m)`` latest models
        :math:`p^{(m-k)}, \dots, p^{(m-1)}`;
      - ``"uniform"``: each of the ``n`` samples from a model drawn uniformly among
        :math:`p^{(0)}, \dots, p^{(m-1)}` (a multinomial allocation);

    then, by ``pool``: ``"none"`` fits that union; ``"accumulate"`` appends the new
    blocks to a pool kept from every earlier generation and fits the whole pool;
    ``"subsample"`` appends them likewise and fits ``n`` samples of the pool drawn
    without replacement. Samples of :math:`p^{(0)}` are plain draws; samples of a
    fitted model follow ``sampling``, then ``curation`` (which emitted samples are kept;
    ``None``: all). ``history`` is the number of latest models the synthetic blocks need
    (``None``: all of them).
    """

    n: int
    sources: str = "last"
    window: int = 1
    real: int = 0
    real_fresh: bool = False
    synthetic_from: int = 1
    pool: str = "none"
    sampling: SamplingPolicy = field(default_factory=SamplingPolicy)
    curation: Curation | None = None

    SOURCES: ClassVar[tuple[str, ...]] = ("last", "window", "uniform")
    POOLS: ClassVar[tuple[str, ...]] = ("none", "accumulate", "subsample")

    def __post_init__(self):
        if self.sources not in self.SOURCES:
            raise ValueError(f"sources must be one of {self.SOURCES}, got {self.sources!r}")
        if self.pool not in self.POOLS:
            raise ValueError(f"pool must be one of {self.POOLS}, got {self.pool!r}")

    @property
    def history(self) -> int | None:
        """Latest models the synthetic blocks read (``None``: every earlier model)."""
        return {"last": 1, "window": self.window, "uniform": None}[self.sources]

    @property
    def absorbing(self) -> bool:
        """True when a collapsed model stays collapsed: every generation is drawn from
        the previous model alone (no real data, no pool)."""
        return self.sources == "last" and self.real == 0 and self.pool == "none"

    def blocks(self, m: int, rng=None) -> list[tuple[int, int]]:
        """The synthetic blocks of generation ``m >= 1`` as ``(model index, count)``
        pairs (model 0 is the real distribution); ``rng`` draws the ``"uniform"``
        allocation. The real block and the pool are the caller's."""
        if m < self.synthetic_from:
            return []
        if self.sources == "last":
            return [(m - 1, self.n)]
        if self.sources == "window":
            k = min(self.window, m)
            return [(j, self.n // k) for j in range(m - k, m)]
        alloc = rng.multinomial(self.n, np.full(m, 1.0 / m))
        return [(j, int(a)) for j, a in enumerate(alloc) if a]

    def new_samples(self, m: int) -> int:
        """Synthetic samples generation ``m`` adds (``"window"`` rounds ``n`` down)."""
        if m < self.synthetic_from:
            return 0
        if self.sources == "window":
            k = min(self.window, m)
            return k * (self.n // k)
        return self.n

    def fit_size(self, m: int) -> int:
        """Samples the fit of generation ``m`` sees."""
        if self.pool == "subsample":
            return self.n
        if self.pool == "accumulate":  # the pool plans use sources="last"
            return self.real + max(0, m - self.synthetic_from + 1) * self.n
        return self.real + self.new_samples(m)

    @property
    def min_fit_size(self) -> int:
        """Fewest samples any generation is fitted to."""
        if self.pool == "subsample":
            return self.n
        if self.real and self.synthetic_from > 1:
            return self.real
        if self.sources == "window":
            return self.real + min(k * (self.n // k) for k in range(1, self.window + 1))
        return self.real + self.n


# ---------------------------------------------------------------------- regimes
@dataclass(frozen=True, repr=False)
class Regime:
    """Base class of the training regimes.

    Subclasses set the class-level :attr:`name` (their spec keyword), declare their
    size fields (positional in the spec, in order) and implement :meth:`plan`. The
    sampling fields ``temperature``, ``top_k`` and ``top_p`` are keyword-only and shared
    by every regime (see :class:`SamplingPolicy`).
    """

    name: ClassVar[str] = ""
    #: spec keywords that stand for this class with some fields fixed
    aliases: ClassVar[dict[str, dict]] = {}
    _registry: ClassVar[dict[str, type]] = {}

    temperature: float = field(default=1.0, kw_only=True)
    top_k: int | None = field(default=None, kw_only=True)
    top_p: float | None = field(default=None, kw_only=True)
    curation: Curation | None = field(default=None, kw_only=True)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("name"):
            for key in (cls.name, *cls.__dict__.get("aliases", {})):
                Regime._registry[key] = cls

    def __post_init__(self):
        pol = SamplingPolicy(self.temperature, self.top_k, self.top_p)
        object.__setattr__(self, "temperature", pol.temperature)
        object.__setattr__(self, "top_k", pol.top_k)
        object.__setattr__(self, "top_p", pol.top_p)
        object.__setattr__(self, "curation", as_curation(self.curation))

    # ------------------------------------------------------------------ data
    @property
    def sampling(self) -> SamplingPolicy:
        """The sampling policy of the synthetic data."""
        return SamplingPolicy(self.temperature, self.top_k, self.top_p)

    @classmethod
    def _size_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls) if not f.kw_only)

    def _kind(self) -> str:
        """The spec keyword: the class's name, or an alias whose fixed fields match."""
        for key, fixed in type(self).aliases.items():
            if all(getattr(self, k) == v for k, v in fixed.items()):
                return key
        return self.name

    @property
    def spec(self) -> str:
        """Spec string, e.g. ``"replace:1000"``, ``"mix:100:100"``,
        ``"most-recent:1000:4:temperature=0.8"``; :meth:`from_spec` reads it back."""
        fixed = type(self).aliases.get(self._kind(), {})
        parts = [self._kind()]
        parts += [str(getattr(self, f)) for f in self._size_fields() if f not in fixed]
        parts += [f"{k}={getattr(self, k)!r}" for k in _SAMPLING
                  if getattr(self, k) != _DEFAULTS[k]]
        if self.curation is not None:
            parts += [f"{k}={v}" for k, v in self.curation.spec_fields().items()]
        return ":".join(parts)

    def to_dict(self) -> dict:
        """``{"type": name, field: value, ...}`` (JSON-ready); :meth:`from_dict` inverts it."""
        d = {"type": self.name}
        d.update({f: getattr(self, f) for f in self._size_fields()})
        d.update({k: getattr(self, k) for k in _SAMPLING if getattr(self, k) != _DEFAULTS[k]})
        if self.curation is not None:
            d["curation"] = self.curation.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Regime:
        """A regime from :meth:`to_dict`'s output (also accepts the class name as type)."""
        if not isinstance(d, dict) or "type" not in d:
            raise ValueError(f"a regime dictionary needs a 'type' key, got {d!r}")
        d = dict(d)
        kind = d.pop("type")
        target = registry_lookup(Regime._registry, kind, "regime")
        fixed = target.aliases.get(kind, {})
        try:
            obj = target(**{**fixed, **d})
        except TypeError as exc:
            raise ValueError(f"bad fields for regime {kind!r}: {exc}") from None
        return _check_subclass(cls, obj)

    @classmethod
    def from_spec(cls, text: str) -> Regime:
        """Parse a spec string ``name:SIZE[:SIZE...][:key=value...]``.

        ========================== ==================================================
        ``replace:N``              :class:`Replace` ``(N)``
        ``mix:REAL:SYNTHETIC``     :class:`Mix` ``(REAL, SYNTHETIC)``
        ``mix-fresh:REAL:SYN``     :class:`Mix` ``(REAL, SYN, fresh=True)``
        ``accumulate:N``           :class:`Accumulate` ``(N)``
        ``accumulate-subsample:N`` :class:`AccumulateSubsample` ``(N)``
        ``most-recent:N:WINDOW``   :class:`MostRecent` ``(N, WINDOW)``
        ``randomly-sampled:N``     :class:`RandomlySampled` ``(N)``
        ========================== ==================================================

        Sampling fields follow as ``key=value``: ``replace:1000:temperature=0.7:top_p=0.9``,
        each at most once (a field given twice is a ``ValueError`` naming it); so do the
        curation fields: ``best_of=K`` with ``reward=r1,r2,...`` (``K`` may be ``inf``)
        or ``accept=a1,a2,...``.
        """
        if isinstance(text, Regime):
            return _check_subclass(cls, text)
        if not isinstance(text, str):
            raise WrongTypeError(
                f"a regime spec must be a string, got {type(text).__name__}")
        kind, _, rest = text.strip().partition(":")
        kind = kind.strip().lower()
        target = Regime._registry.get(kind)
        if target is None:
            raise ValueError(f"unknown regime {kind!r} in {text!r}; choose from "
                             f"{', '.join(sorted(Regime._registry))}")
        fixed = target.aliases.get(kind, {})
        sizes = [f for f in target._size_fields() if f not in fixed]
        args = [a.strip() for a in rest.split(":")] if rest.strip() else []
        pos = [a for a in args if "=" not in a]
        kw = {}
        for a in args:
            if "=" in a:
                k, v = (x.strip() for x in a.split("=", 1))
                if k in kw:
                    raise ValueError(f"{text!r}: the field {k!r} is given twice "
                                     f"({k}={kw[k]} and {k}={v}); give it once")
                kw[k] = v
        if len(pos) != len(sizes) or args[:len(pos)] != pos:
            raise ValueError(
                f"{text!r}: {kind} takes {len(sizes)} size argument(s) "
                f"({':'.join(s.upper() for s in sizes)}) before any key=value, got "
                f"{len(pos)}")
        values = dict(fixed)
        for name, a in zip(sizes, pos, strict=True):
            values[name] = _spec_int(a, name.upper(), text)
        cur = {k: kw.pop(k) for k in _CURATION if k in kw}
        values["curation"] = from_spec_fields(cur, text)
        for k, v in kw.items():
            if k not in _SAMPLING:
                raise ValueError(f"{text!r}: unknown field {k!r}; the fields are "
                                 f"{', '.join(_SAMPLING + _CURATION)}")
            values[k] = None if v.strip().lower() == "none" else (
                _spec_int(v, k, text) if k == "top_k" else _spec_float(v, k, text))
        return _check_subclass(cls, target(**values))

    def plan(self) -> Plan:
        """This regime's :class:`Plan`."""
        raise NotImplementedError

    def __repr__(self) -> str:
        args = [f"{f}={getattr(self, f)!r}" for f in self._size_fields()]
        args += [f"{k}={getattr(self, k)!r}" for k in _SAMPLING
                 if getattr(self, k) != _DEFAULTS[k]]
        if self.curation is not None:
            args.append(f"curation={self.curation!r}")
        return f"{type(self).__name__}({', '.join(args)})"


_DEFAULTS = {"temperature": 1.0, "top_k": None, "top_p": None}


def spec_fields(text) -> set[str]:
    """The ``key=value`` field names a regime spec string sets (``{"temperature"}`` for
    ``"replace:100:temperature=0.5"``); empty for anything but a string."""
    if not isinstance(text, str):
        return set()
    return {a.split("=", 1)[0].strip() for a in text.split(":") if "=" in a}


def _check_subclass(cls, obj):
    if not isinstance(obj, cls):
        raise ValueError(f"expected a {cls.__name__}, got {obj!r}")
    return obj


def refuse_curation(regime, what: str) -> None:
    """``UnsupportedRegimeError`` (a ``NotImplementedError``) when ``regime`` curates its
    synthetic data and ``what`` is derived without curation."""
    if isinstance(regime, Regime) and regime.curation is not None:
        raise UnsupportedRegimeError(
            f"{what} is derived without curation; {regime!r} curates its synthetic data: "
            "use the curation theory (modelcollapse.theory.curated_*) or simulate it with "
            "modelcollapse.montecarlo", ("no curation",))


def require_plain_sampling(regime, what: str) -> None:
    """``NotImplementedError`` when ``regime`` sets a sampling policy or a curation that
    ``what`` (an exact formula for plain sampling) does not cover."""
    refuse_curation(regime, what)
    if isinstance(regime, Regime) and not regime.sampling.plain:
        raise UnsupportedRegimeError(
            f"{what} is derived for plain sampling; {regime!r} sets a sampling policy "
            "(temperature / top_k / top_p): simulate it with modelcollapse.montecarlo",
            ("plain sampling: temperature=1, no top_k, no top_p",))


def accepts_regime_spec(func=None, *, curation: bool = False):
    """Decorator: ``func``'s ``regime`` argument may also be a spec string (such as
    ``"replace:100"`` or ``"most-recent:1000:4:temperature=0.8"``), read by
    :func:`as_regime`; any other value is passed through unchanged. Unless
    ``curation=True`` (``@accepts_regime_spec(curation=True)``), a regime that curates
    its synthetic data is refused (:func:`refuse_curation`): a function derived without
    curation never answers silently for a curated regime."""
    import functools
    import inspect

    if func is None:
        return functools.partial(accepts_regime_spec, curation=curation)
    pos = list(inspect.signature(func).parameters).index("regime")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if isinstance(kwargs.get("regime"), str):
            kwargs["regime"] = as_regime(kwargs["regime"])
        elif len(args) > pos and isinstance(args[pos], str):
            args = (*args[:pos], as_regime(args[pos]), *args[pos + 1:])
        if not curation:
            regime = kwargs.get("regime", args[pos] if len(args) > pos else None)
            refuse_curation(regime, func.__name__)
        return func(*args, **kwargs)

    return wrapper


def as_regime(regime) -> Regime:
    """``regime`` itself, or the regime of a spec string (``TypeError`` for other types)."""
    if isinstance(regime, Regime):
        return regime
    if isinstance(regime, str):
        try:
            return Regime.from_spec(regime)
        except ValueError as exc:
            raise ValueError(f"regime must be a Regime or a valid spec string: {exc}") from None
    raise WrongTypeError(
        f"regime must be a Regime or a spec string, got {type(regime).__name__}")


@dataclass(frozen=True, repr=False)
class Replace(Regime):
    r"""Fully synthetic: ``p^(1)`` from ``n`` real samples, ``p^(m)`` from ``n`` samples
    of ``p^(m-1)``.
    """

    name: ClassVar[str] = "replace"
    n: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "n", check_positive_int(self.n, "n"))

    def plan(self) -> Plan:
        return Plan(self.n, sampling=self.sampling,
                    curation=self.curation)


@dataclass(frozen=True, repr=False)
class Mix(Regime):
    r"""Partially synthetic: ``real`` real samples plus ``synthetic`` fresh samples of the
    previous model each generation; generation 1 is fitted to the ``real`` samples only.

    ``fresh=False`` (Seddik et al. §3.2): the *same* ``N`` real samples every
    generation, so :math:`p^{(m+1)} = (1-\alpha) p^{(1)} + \alpha\, \hat p_n(p^{(m)})`,
    :math:`\alpha = n/(N+n)`. ``fresh=True``: ``N`` new real samples every generation,
    :math:`p^{(m+1)} = (1-\alpha)\hat p_N(p^{(0)}) + \alpha\, \hat p_n(p^{(m)})` (mutation /
    immigration in population genetics: stationary, no collapse).
    """

    name: ClassVar[str] = "mix"
    aliases: ClassVar[dict[str, dict]] = {"mix": {"fresh": False},
                                          "mix-fresh": {"fresh": True}}
    real: int
    synthetic: int
    fresh: bool = False

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "real", check_positive_int(self.real, "real"))
        object.__setattr__(
            self, "synthetic", check_positive_int(self.synthetic, "synthetic")
        )
        if not isinstance(self.fresh, (bool, np.bool_)):
            raise ValueError(f"fresh must be True or False, got {self.fresh!r}")
        object.__setattr__(self, "fresh", bool(self.fresh))

    @property
    def alpha(self) -> float:
        """Synthetic share :math:`\\alpha = n/(N+n)`."""
        return self.synthetic / (self.real + self.synthetic)

    def plan(self) -> Plan:
        return Plan(self.synthetic, real=self.real, real_fresh=self.fresh,
                    synthetic_from=2, sampling=self.sampling,
                    curation=self.curation)


@dataclass(frozen=True, repr=False)
class MostRecent(Regime):
    r"""Most recent models (Seddik et al. §3.3): generation ``m`` is trained on
    ``floor(n/k)`` samples from each of the ``k = min(window, m)`` latest models
    :math:`p^{(m-k)}, \dots, p^{(m-1)}` (:math:`p^{(0)}` is the real distribution)."""

    name: ClassVar[str] = "most-recent"
    n: int
    window: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "n", check_positive_int(self.n, "n"))
        object.__setattr__(self, "window", check_positive_int(self.window, "window"))
        if self.window > self.n:
            raise ValueError(
                f"window must be <= n so that each model gives at least one sample; "
                f"got window={self.window}, n={self.n}"
            )

    def plan(self) -> Plan:
        return Plan(self.n, sources="window", window=self.window, sampling=self.sampling,
                    curation=self.curation)


@dataclass(frozen=True, repr=False)
class RandomlySampled(Regime):
    r"""Generation ``m`` is trained on ``n`` samples, each from a model drawn uniformly
    among :math:`p^{(0)}, \dots, p^{(m-1)}` (Seddik et al. §3.3). With a ``curation``,
    a sample drawn from :math:`p^{(0)}` is real (never curated) and one drawn from a
    fitted model :math:`p^{(j)}`, :math:`j \ge 1`, is curated as in every regime."""

    name: ClassVar[str] = "randomly-sampled"
    n: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "n", check_positive_int(self.n, "n"))

    def plan(self) -> Plan:
        return Plan(self.n, sources="uniform", sampling=self.sampling,
                    curation=self.curation)


@dataclass(frozen=True, repr=False)
class Accumulate(Regime):
    r"""All data so far (Gerstgrasser et al. 2024): generation 1 is fitted to ``n`` real
    samples; generation ``m`` to those plus ``n`` samples of each of
    :math:`p^{(1)}, \dots, p^{(m-1)}` (``m n`` samples in all)."""

    name: ClassVar[str] = "accumulate"
    n: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "n", check_positive_int(self.n, "n"))

    def plan(self) -> Plan:
        return Plan(self.n, pool="accumulate", sampling=self.sampling,
                    curation=self.curation)


@dataclass(frozen=True, repr=False)
class AccumulateSubsample(Regime):
    r"""Accumulate, then subsample (Kazdan et al. 2024): the pool grows as under
    :class:`Accumulate` (``n`` real samples, then ``n`` samples of each new model), and
    generation ``m`` is fitted to ``n`` samples drawn *without replacement* from the
    pool of ``m n``."""

    name: ClassVar[str] = "accumulate-subsample"
    n: int

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "n", check_positive_int(self.n, "n"))

    def plan(self) -> Plan:
        return Plan(self.n, pool="subsample", sampling=self.sampling,
                    curation=self.curation)


def refuse_twice(spec: str, options: dict) -> None:
    """A sampling field set both in a spec string and by its own command-line option
    (``options``: field -> value) is a ``ValueError`` naming both: one of them would
    silently win. Used by every command-line verb that takes ``--regime``."""
    twice = sorted(spec_fields(spec) & options.keys())
    if twice:
        k = twice[0]
        raise ValueError(f"--{k.replace('_', '-')} {options[k]} and {k}= in --regime "
                         f"{spec}: give it once")
