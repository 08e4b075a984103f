"""Mini-syntax for models and regimes in sweep grids and TOML configs.

Models (``kind:arg:arg``)::

    uniform:K                 Categorical.uniform(K)
    zipf:K[:EXPONENT]         Categorical.zipf(K, EXPONENT=1)
    geometric:K:RATIO         Categorical.geometric(K, RATIO)
    p:0.5,0.3,0.2             Categorical([0.5, 0.3, 0.2])
    wordfreq:LANG[:TOP]       Categorical.from_wordfreq(LANG, top=TOP=50000)
    gaussian:DIM[:VAR[:EST]]  Gaussian(0, VAR * I_DIM, estimator=EST="unbiased")
    mixture:DIM[:COMPONENTS]  GaussianMixture.blob(DIM, components=COMPONENTS=2)
    regression:DIM[:NOISE[:DESIGN]]   LinearRegression.isotropic(DIM, NOISE=1, DESIGN="fixed")

Regimes::

    replace:N                 Replace(N)
    mix:REAL:SYNTHETIC        Mix(real=REAL, synthetic=SYNTHETIC)
    mix-fresh:REAL:SYNTHETIC  Mix(real=REAL, synthetic=SYNTHETIC, fresh=True)
    accumulate:N              Accumulate(N)
    accumulate-subsample:N    AccumulateSubsample(N)
    most-recent:N:WINDOW      MostRecent(N, WINDOW)
    randomly-sampled:N        RandomlySampled(N)
"""

from __future__ import annotations

__all__ = ["MODEL_KINDS", "REGIME_KINDS", "parse_model", "parse_regime"]

MODEL_KINDS = ("uniform", "zipf", "geometric", "p", "wordfreq", "gaussian", "mixture",
               "regression")
REGIME_KINDS = ("replace", "mix", "mix-fresh", "accumulate", "accumulate-subsample",
                "most-recent", "randomly-sampled")


def _int(text: str, what: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{what} in {spec!r} must be an integer, got {text!r}") from None


def _float(text: str, what: str, spec: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what} in {spec!r} must be a number, got {text!r}") from None


def _split(spec, kinds, what):
    if not isinstance(spec, str):
        raise ValueError(f"a {what} spec must be a string, got {spec!r}")
    kind, _, rest = spec.strip().partition(":")
    kind = kind.strip().lower()
    if kind not in kinds:
        raise ValueError(f"unknown {what} kind {kind!r} in {spec!r}; choose from "
                         f"{', '.join(kinds)}")
    args = [a.strip() for a in rest.split(":")] if rest else []
    return kind, args


def _nargs(spec, args, lo, hi):
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise ValueError(f"{spec!r} needs {want} ':'-separated arguments, got {len(args)}")


def parse_model(spec: str):
    """A model from its spec string (see the module docstring)."""
    from ..models import Categorical, Gaussian, GaussianMixture, LinearRegression

    kind, a = _split(spec, MODEL_KINDS, "model")
    if kind == "uniform":
        _nargs(spec, a, 1, 1)
        return Categorical.uniform(_int(a[0], "K", spec))
    if kind == "zipf":
        _nargs(spec, a, 1, 2)
        exp = _float(a[1], "exponent", spec) if len(a) > 1 else 1.0
        return Categorical.zipf(_int(a[0], "K", spec), exp)
    if kind == "geometric":
        _nargs(spec, a, 2, 2)
        return Categorical.geometric(_int(a[0], "K", spec), _float(a[1], "ratio", spec))
    if kind == "p":
        _nargs(spec, a, 1, 1)
        return Categorical([_float(x, "probability", spec) for x in a[0].split(",")
                            if x.strip()])
    if kind == "wordfreq":
        _nargs(spec, a, 1, 2)
        top = _int(a[1], "top", spec) if len(a) > 1 else 50_000
        return Categorical.from_wordfreq(a[0], top=top)
    if kind == "gaussian":
        _nargs(spec, a, 1, 3)
        dim = _int(a[0], "dim", spec)
        var = _float(a[1], "variance", spec) if len(a) > 1 else 1.0
        est = a[2] if len(a) > 2 else "unbiased"
        return Gaussian([0.0] * dim, var, estimator=est)
    if kind == "mixture":
        _nargs(spec, a, 1, 2)
        comps = _int(a[1], "components", spec) if len(a) > 1 else 2
        return GaussianMixture.blob(_int(a[0], "dim", spec), components=comps)
    _nargs(spec, a, 1, 3)
    noise = _float(a[1], "noise", spec) if len(a) > 1 else 1.0
    design = a[2] if len(a) > 2 else "fixed"
    return LinearRegression.isotropic(_int(a[0], "dim", spec), noise=noise, design=design)


def parse_regime(spec: str):
    """A regime from its spec string (see the module docstring)."""
    from .. import regimes as R

    kind, a = _split(spec, REGIME_KINDS, "regime")
    if kind in ("mix", "mix-fresh"):
        _nargs(spec, a, 2, 2)
        return R.Mix(real=_int(a[0], "REAL", spec), synthetic=_int(a[1], "SYNTHETIC", spec),
                     fresh=kind == "mix-fresh")
    if kind == "most-recent":
        _nargs(spec, a, 2, 2)
        return R.MostRecent(_int(a[0], "N", spec), _int(a[1], "WINDOW", spec))
    _nargs(spec, a, 1, 1)
    cls = {"replace": R.Replace, "accumulate": R.Accumulate,
           "accumulate-subsample": R.AccumulateSubsample,
           "randomly-sampled": R.RandomlySampled}[kind]
    return cls(_int(a[0], "N", spec))
