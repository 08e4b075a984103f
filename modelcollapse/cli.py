"""The ``modelcollapse`` command line.

Subcommands:

``verify``
    Run every registered theorem's checks; one row per check; exit 1 if any fails.
``collapse-time``
    Expected total-collapse time (and quantiles) of a categorical model under any regime
    and sampling policy: exact where the toolkit has an exact solver, otherwise a named
    approximation, or why the regime never collapses.
``max-synthetic``
    The most synthetic samples per generation that keep Seddik's Thm 3 deviation bound
    below ``eps`` under ``Mix`` (and the paper's eq. (11) for comparison).
``forget``
    Time to forget a token seen ``count`` times among ``n``.
``simulate``
    Monte Carlo simulation of any model under any regime; prints a summary and writes
    the per-(replicate, generation) statistics to an ``.npz`` file.
``harness``
    Recursive training of a small JAX transformer on real text (resumable).
``figures``
    Paper-ready figures: exact theory overlaid on simulation, from saved data files.
``sweep``
    A parameter sweep described in a TOML file, on Dask (durable, resumable).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import __version__
from .files import check_output_path, write_text


def _parse_p(text: str):
    try:
        return [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--p must be comma-separated numbers, got {text!r}") from None


def _model_from_args(args):
    from .models import Categorical

    given = [x is not None for x in (args.p, args.zipf, args.wordfreq, args.uniform)]
    if sum(given) != 1:
        raise ValueError("give exactly one of --p, --zipf, --wordfreq, --uniform")
    if args.p is not None:
        return Categorical(args.p), f"p={args.p}"
    if args.uniform is not None:
        return Categorical.uniform(args.uniform), f"uniform({args.uniform})"
    if args.zipf is not None:
        return (Categorical.zipf(args.zipf, args.exponent),
                f"zipf({args.zipf}, exponent={args.exponent})")
    return (Categorical.from_wordfreq(args.wordfreq, top=args.top),
            f"wordfreq {args.wordfreq!r}, top {args.top}")


def _collapse_estimate(model, regime, args):
    """``(E[T] estimate, law or None, note)`` for any regime: exact where the toolkit has
    an exact solver, otherwise the approximation of ``method="auto"`` with its measured
    error band, and for regimes that never collapse ``(None, None, why)``."""
    from . import theory
    from .errors import TooLargeError
    from .regimes import MostRecent, Replace

    if regime.curation is not None and isinstance(regime, Replace):
        fix = theory.curated_fixation(model, regime)
        prob = [float(x) for x in fix.probabilities]
        top = sorted(range(len(prob)), key=lambda i: -prob[i])[:3]
        where = ", ".join(f"token {model.labels[i] if model.labels else i}: {prob[i]:.4g}"
                          for i in top)
        return (theory.Estimate(fix.mean_time, fix.method, fix.method == "chain"), None,
                f"curated: the chain fixes on one token; most likely {where}")
    if isinstance(regime, (Replace, MostRecent)):
        plain_replace = isinstance(regime, Replace) and regime.sampling.plain
        kw = {"method": args.method, "max_exact_n": args.max_exact_n} if plain_replace \
            else {}
        est = theory.expected_collapse_time(model, regime, **kw)
        law = None
        if (args.quantiles or args.plot) and (est.exact or not plain_replace):
            try:
                law = theory.collapse_time(model, regime, progress=args.progress)
            except TooLargeError:
                law = None  # the mean only (e.g. a law at an effective size > max_exact_n)
        notes = []
        if isinstance(regime, MostRecent):
            notes.append("T is the first Dirac fit; it is absorbed only once the window "
                         "holds the same Dirac K times")
        if not est.exact and est.error is not None:
            notes.append(f"relative error <= {est.error:.2g}: {est.basis}")
        return est, law, "; ".join(notes)
    why = {
        "Mix": "the real samples keep tokens alive, so the model never collapses",
        "Accumulate": "every token of the real block stays in the pool: no collapse",
        "AccumulateSubsample": "the pool keeps every real token: a Dirac fit is possible but "
                               "not absorbing",
        "RandomlySampled": "real draws keep arriving: a Dirac fit is possible but not "
                           "absorbing",
    }
    return None, None, why.get(type(regime).__name__, "no collapse")


def _curated_stationary(model, regime) -> dict:
    """The long-run answer of a curated ``Mix``: the exact chain's stationary law where
    it fits its cap, else the infinite-sample fixed point; and that fixed point's
    stability."""
    from . import theory
    from .errors import TooLargeError

    fixed = theory.real_data_stability(model, regime)
    out = {"spectral_radius": fixed.spectral_radius}
    try:
        st = theory.curated_stationary(model, regime)
        out.update(stationary_homozygosity=st.homozygosity, stationary_reward=st.reward,
                   stationary_method="exact chain")
    except TooLargeError:
        out.update(stationary_homozygosity=fixed.homozygosity,
                   stationary_reward=fixed.reward,
                   stationary_method="infinite-sample fixed point; the chain is too large")
    return out


def _stationary_homozygosity(model, regime) -> float:
    r""":math:`\lim_m E\sum_i (p_i^{(m)})^2` of a regime that does not collapse."""
    from . import theory
    from .regimes import Mix

    if isinstance(regime, Mix):  # S_m = L + beta^(m-1) (S_1 - L) with |beta| < 1
        return float(theory.homozygosity(model, regime, 10**8))
    return float(theory.stationary_homozygosity(model, regime))


PLOT_FORMATS = ("png", "pdf", "svg")


def _check_plot_path(path):
    """``--plot FILE``: a writable file with a known image format, checked before any
    work."""
    if path is None:
        return
    suffix = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else ""
    if suffix not in PLOT_FORMATS:
        raise ValueError(f"--plot {path!r}: the file name must end in "
                         f"{', '.join('.' + f for f in PLOT_FORMATS)}")
    check_output_path(path, "--plot")


def _plot_law(law, path, title: str) -> None:
    """The law's pmf and survival function side by side, written whole to ``path``."""
    from matplotlib.figure import Figure

    from .files import atomic_path

    fig = Figure(figsize=(9, 3.4), layout="constrained")
    left, right = fig.subplots(1, 2)
    law.plot(left, kind="pmf")
    law.plot(right, kind="sf")
    fig.suptitle(title, fontsize=10)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=str(path).rsplit(".", 1)[-1].lower(), dpi=120)


def _cmd_collapse_time(args) -> int:
    from . import theory
    from .regimes import Mix, Replace

    _check_plot_path(args.plot)
    model, desc = _model_from_args(args)
    regime = _regime_from_args(args)
    t0 = time.perf_counter()
    est, law, note = _collapse_estimate(model, regime, args)
    if args.plot and law is None:
        raise ValueError(
            f"--plot: no law of T to draw for {regime!r} ("
            + (note or f"E[T] by {est.method}, an approximation") + ")")
    result = {"model": desc, "vocabulary": model.size, "support": model.support_size,
              "regime": regime.spec}
    if est is not None:
        result.update(expected_collapse_time=float(est), method=est.method, exact=est.exact)
        if isinstance(regime, Replace) and regime.sampling.plain and regime.curation is None:
            result["diffusion"] = theory.diffusion_collapse_time(model, regime)
    else:
        result.update(expected_collapse_time=None, method=None, exact=None)
        if regime.sampling.plain and regime.curation is None:
            result["stationary_homozygosity"] = _stationary_homozygosity(model, regime)
        elif regime.curation is not None and isinstance(regime, Mix):
            result.update(_curated_stationary(model, regime))
    if note:
        result["note"] = note
    if law is not None:
        qs = [float(q) for q in args.quantiles.split(",")]
        result["quantiles"] = {str(q): law.quantile(q) for q in qs}
        result["std"] = law.std()
    result["seconds"] = round(time.perf_counter() - t0, 3)
    if args.plot:
        _plot_law(law, args.plot, f"collapse time T: {desc}, {regime!r}")
        result["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model      : {desc} ({model.support_size} tokens in the support)")
    print(f"regime     : {regime!r}")
    if est is None:
        print(f"E[T]       : none ({note})")
        if "stationary_homozygosity" in result:
            print(f"S_inf      : {result['stationary_homozygosity']:.6f} "
                  "(limit of E sum_i p_i^2; 1 would mean collapse)")
        if "stationary_reward" in result:
            print(f"reward_inf : {result['stationary_reward']:.6f} "
                  f"(limit of E v.p, v the curation's vector; {result['stationary_method']})")
        if "spectral_radius" in result:
            print(f"radius     : {result['spectral_radius']:.6f} (the infinite-sample map "
                  "at its fixed point; below 1: stable)")
    else:
        kind = "exact" if est.exact else "approximation"
        print(f"E[T]       : {float(est):.6f} generations  [method={est.method}, {kind}]")
        if note:
            print(f"note       : {note}")
    if "diffusion" in result:
        print(f"diffusion  : {result['diffusion']:.6f} generations (Kimura-Littler)")
    if "quantiles" in result:
        print(f"std        : {result['std']:.6f}")
        for q, v in result["quantiles"].items():
            print(f"quantile {q:<5}: {v:.0f}")
    if args.plot:
        print(f"plot       : {args.plot}")
    print(f"time       : {result['seconds']} s")
    return 0


def _cmd_forget(args) -> int:
    from . import theory
    from .errors import UnsupportedRegimeError
    from .regimes import Replace

    _check_plot_path(args.plot)
    regime = _regime_from_args(args)
    if not (isinstance(regime, Replace) and regime.sampling.plain
            and regime.curation is None):
        why = ("under a sampling policy a word's fate depends on the whole distribution, "
               "not on its count alone: use modelcollapse.theory.token_loss(model, regime, "
               "token) (exact window chain, small n) or "
               if not regime.sampling.plain else "")
        raise UnsupportedRegimeError(
            f"the forgetting time of a word from its count is exact for Replace(n) with "
            f"plain sampling and no curation; {why}simulate {regime!r} "
            "(modelcollapse simulate --tokens ...)",
            ("replace",))
    t0 = time.perf_counter()
    ft = theory.forgetting_time(args.count, regime.n, method=args.method,
                                progress=args.progress)
    result = {"count": args.count, "n": regime.n, "regime": regime.spec,
              "p_loss": ft.p_loss, "mean": ft.mean(),
              "std": ft.var() ** 0.5, "median": ft.median(),
              "quantiles": {"0.1": ft.quantile(0.1), "0.9": ft.quantile(0.9)},
              "method": ft.method, "seconds": round(time.perf_counter() - t0, 3)}
    if args.plot:
        _plot_law(ft, args.plot, f"time to forget a token seen {args.count} times among "
                                 f"n={regime.n}, given loss")
        result["plot"] = str(args.plot)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"token seen {args.count} times among n={regime.n}; "
          f"P(ever lost) = {ft.p_loss:.6g}")
    print(f"given loss: mean {ft.mean():.4f}, std {result['std']:.4f}, median {ft.median():.0f}"
          f", 10%-90% [{ft.quantile(0.1):.0f}, {ft.quantile(0.9):.0f}] generations")
    if args.plot:
        print(f"plot: {args.plot}")
    return 0


def _cmd_verify(args) -> int:
    from . import proofs

    if args.list:
        chosen = [t for t in proofs.theorems() if args.only is None or args.only in t.key]
        if not chosen:
            raise ValueError(f"no theorem key contains {args.only!r}; see verify --list")
        width = max(len(t.key) for t in chosen)
        for t in chosen:
            print(f"{t.key:<{width}}  {t.title}")
        return 0
    for path, opt in ((args.markdown, "--markdown"), (args.json, "--json")):
        if path:
            check_output_path(path, opt)  # before the checks run
    t0 = time.perf_counter()
    rows = proofs.run(args.only)  # Ctrl-C propagates: exit 130, no rows, no files
    header = ("theorem", "claim", "method", "value", "reference", "verdict")
    table = [(r.theorem, r.claim, r.method, r.value, r.reference,
              "PASS" if r.passed else "FAIL") for r in rows]
    if args.markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(s.replace("|", "\\|") for s in row) + " |"
                  for row in table]
        write_text(args.markdown, "\n".join(lines) + "\n")
    if args.json:
        write_text(args.json, json.dumps([r.as_dict() for r in rows], indent=2))
    widths = [min(max(len(h), *(len(row[i]) for row in table)), cap)
              for i, (h, cap) in enumerate(zip(header, (22, 58, 30, 16, 30, 7), strict=True))]

    def line(cells):
        return "  ".join((c if len(c) <= w else c[: w - 1] + "…").ljust(w)
                         for c, w in zip(cells, widths, strict=True))

    print(line(header))
    print(line(["-" * w for w in widths]))
    for row in table:
        print(line(row))
    failed = sum(not r.passed for r in rows)
    secs = time.perf_counter() - t0
    print(f"\n{len(rows) - failed} passed, {failed} failed ({len(rows)} checks, {secs:.1f} s)")
    return 1 if failed else 0


#: CLI options that fill a regime's size fields when ``--regime`` is a bare name
_SIZE_OPTIONS = {"n": "n", "synthetic": "n", "real": "real", "window": "window"}


def _regime_from_args(args):
    """The regime of ``--regime``: a spec (``most-recent:1000:4``) or a bare name whose
    sizes come from ``--n``/``--real``/``--window``; then the sampling options."""
    import dataclasses

    from .regimes import Regime

    text = args.regime.strip()
    if ":" not in text:
        cls = Regime._registry.get(text.lower())
        if cls is None:
            raise ValueError(f"unknown regime {text!r}; choose from "
                             f"{', '.join(sorted(Regime._registry))}")
        fixed = cls.aliases.get(text.lower(), {})
        sizes = [f for f in cls._size_fields() if f not in fixed]
        parts = [text]
        for f in sizes:
            value = getattr(args, _SIZE_OPTIONS[f])
            if value is None:
                raise ValueError(f"--regime {text} needs --{_SIZE_OPTIONS[f]} "
                                 f"({f.replace('_', ' ')} of {cls.__name__})")
            parts.append(str(value))
        unused = {_SIZE_OPTIONS[f] for f in _SIZE_OPTIONS} - {_SIZE_OPTIONS[f] for f in sizes}
        for opt in sorted(unused):
            if getattr(args, opt) is not None:
                users = sorted(k for k, c in Regime._registry.items()
                               if any(_SIZE_OPTIONS[f] == opt for f in c._size_fields()
                                      if f not in c.aliases.get(k, {})))
                raise ValueError(f"--{opt} applies to --regime {' / '.join(users)} only")
        text = ":".join(parts)
    elif any(getattr(args, o) is not None for o in ("n", "real", "window")):
        raise ValueError(f"--regime {text} is a full spec: leave out --n/--real/--window")
    regime = Regime.from_spec(text)
    sampling = {k: getattr(args, k) for k in ("temperature", "top_k", "top_p")
                if getattr(args, k, None) is not None}
    from .regimes import refuse_twice

    curation = {k: getattr(args, k) for k in ("best_of", "reward", "accept")
                if getattr(args, k, None) is not None}
    refuse_twice(text, {**sampling, **curation})
    if curation:
        from .curation import from_spec_fields

        sampling["curation"] = from_spec_fields(curation, "the command line")
    return dataclasses.replace(regime, **sampling) if sampling else regime



_NGRAM_OPTIONS = ("order", "corpus", "random", "tokenizer", "max_vocab", "length",
                  "unseen", "smoothing")


def _ngram_from_args(args):
    """The n-gram model of ``simulate --model ngram``: fitted to a text (CPython's
    documentation by default, or a UTF-8 file) or seeded random; its refit rule and
    sequence length from the options."""
    import dataclasses

    from .ngram import NGram

    order = 1 if args.order is None else args.order
    fields = {"length": args.length, "unseen": args.unseen or "keep",
              "smoothing": 0.0 if args.smoothing is None else args.smoothing}
    if args.random is not None:
        if args.corpus is not None or args.tokenizer is not None or \
                args.max_vocab is not None:
            raise ValueError("--random makes a random table: leave out --corpus, "
                             "--tokenizer and --max-vocab")
        model = NGram.random(args.random, order, seed=args.seed, **fields)
        return model, (f"random n-gram model, V={args.random}, order {order}, "
                       f"seed {args.seed}")
    from .corpus import load_text

    corpus = args.corpus or "pydoc"
    if corpus == "pydoc":
        text = load_text()
    else:
        try:
            with open(corpus, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            raise ValueError(f"--corpus {corpus}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"--corpus {corpus}: cannot read it as UTF-8 text "
                             f"({exc})") from None
    tok = args.tokenizer or "char"
    model = NGram.from_text(text, order, tok, max_vocab=args.max_vocab,
                            smoothing=fields["smoothing"], length=args.length)
    model = dataclasses.replace(model, unseen=fields["unseen"])
    return model, (f"{tok} n-gram model of {corpus}, order {order}, "
                   f"V={model.vocab_size}")


def _sim_model_from_args(args):
    from .models import Gaussian, GaussianMixture, LinearRegression

    if args.model != "ngram":
        given = [f"--{o.replace('_', '-')}" for o in _NGRAM_OPTIONS
                 if getattr(args, o) is not None]
        if given:
            verb = "describes" if len(given) == 1 else "describe"
            raise ValueError(f"{', '.join(given)} {verb} an n-gram model; not --model "
                             f"{args.model}")
    if args.model == "categorical":
        return _model_from_args(args)
    if args.model == "ngram":
        if any(x is not None for x in (args.p, args.zipf, args.wordfreq, args.uniform)):
            raise ValueError("--p/--uniform/--zipf/--wordfreq describe a categorical "
                             "model; for --model ngram use --corpus or --random")
        return _ngram_from_args(args)
    if any(x is not None for x in (args.p, args.zipf, args.wordfreq, args.uniform)):
        raise ValueError("--p/--uniform/--zipf/--wordfreq describe a categorical model; "
                         f"they do not apply to --model {args.model}")
    dim = 1 if args.dim is None else args.dim
    if args.model == "gaussian":
        return (Gaussian([0.0] * dim, args.var, estimator=args.estimator),
                f"N(0, {args.var:g} I_{dim}), {args.estimator} fit")
    if args.model == "mixture":
        dim = 2 if args.dim is None else args.dim
        return (GaussianMixture.blob(dim, components=args.components),
                f"one N(0, I_{dim}) blob fitted by EM with {args.components} components")
    return (LinearRegression.isotropic(dim, noise=args.noise, design=args.design),
            f"linear regression d={dim}, noise={args.noise:g}, {args.design} design")


def _cmd_simulate(args) -> int:
    import numpy as np

    from . import montecarlo

    model, desc = _sim_model_from_args(args)
    regime = _regime_from_args(args)
    if args.out:  # a bad path fails now, not after the simulation
        from .files import npz_path

        check_output_path(args.out, "--out")
        npz_path(args.out)  # the name with .npz appended, as the result is saved
    gens = None if args.generations == "collapse" else _parse_int(args.generations,
                                                                  "--generations")
    stats = None if args.statistics is None else \
        tuple(x.strip() for x in args.statistics.split(",") if x.strip())
    tokens = () if not args.tokens else \
        tuple(int(t) if t.strip().lstrip("-").isdigit() else t.strip()
              for t in args.tokens.split(","))
    res = montecarlo.simulate(
        model, regime, gens, replicates=args.replicates, backend=args.backend,
        seed=args.seed, statistics=stats, tokens=tokens, eps=args.eps,
        progress=args.progress, on_interrupt="return")
    path = res.save(args.out) if args.out else None
    summary = {**res.summary(), "model": desc, "seed": args.seed, "file": str(path or "")}
    status = 130 if res.interrupted else 0  # 128 + SIGINT, as a shell reports Ctrl-C
    if res.interrupted:
        print(f"modelcollapse simulate: interrupted after {res.generations} generations"
              + (f"; the partial result is in {path}" if path else ""), file=sys.stderr)
    if args.json:
        print(json.dumps(summary, indent=2))
        return status
    print(f"model      : {desc}")
    print(f"regime     : {regime!r}")
    print(f"backend    : {args.backend}, seed {args.seed}, {res.replicates} replicates, "
          f"{res.generations} generations{' (interrupted)' if res.interrupted else ''}, "
          f"{res.elapsed:.2f} s")
    if summary["final"]:
        print(f"\nat generation {res.generations} (mean ± s.e. over replicates; median):")
        for name, v in summary["final"].items():
            print(f"  {name:14s} {v['mean']:.6g} ± {v['se']:.2g}   median {v['median']:.6g}")
    if res.collapse_time is not None:
        c = summary["collapse_time"]
        print(f"\ncollapsed  : {c['collapsed']} of {res.replicates} replicates")
        if c["collapsed"]:
            q = ", ".join(f"q{k}={v:g}" for k, v in c["quantiles"].items())
            se = 0.0 if np.isnan(c["se"]) else c["se"]
            print(f"collapse T : mean {c['mean']:.6g} ± {se:.2g}; {q}")
    if path:
        print(f"\nwritten    : {path}")
    return status


def _parse_int(text, name):
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer or 'collapse', got {text!r}") from None


def _add_model_args(parser) -> None:
    g = parser.add_argument_group("model (give exactly one)")
    g.add_argument("--p", type=_parse_p,
                   help="probabilities, comma-separated (write --p=-0.1,... if the first "
                        "number is negative)")
    g.add_argument("--uniform", type=int, metavar="K", help="uniform over K tokens")
    g.add_argument("--zipf", type=int, metavar="K", help="Zipf law over K tokens")
    g.add_argument("--exponent", type=float, default=1.0, help="Zipf exponent (default 1)")
    g.add_argument("--wordfreq", metavar="LANG", help="real word frequencies (e.g. en)")
    g.add_argument("--top", type=int, default=50_000, help="words kept with --wordfreq")


def _add_regime_args(parser) -> None:
    parser.add_argument("--regime", default="replace", metavar="SPEC",
                        help="a regime spec (replace:1000, mix:100:100, mix-fresh:100:100, "
                             "accumulate:N, accumulate-subsample:N, most-recent:N:WINDOW, "
                             "randomly-sampled:N, optionally with :temperature=T:top_k=K:"
                             "top_p=P), or a bare name sized by --n/--real/--window "
                             "(default replace)")
    parser.add_argument("--n", type=int,
                        help="samples per generation (synthetic samples for mix)")
    parser.add_argument("--real", type=int, help="real samples per generation (mix)")
    parser.add_argument("--window", type=int, help="models in the window (most-recent)")


def _add_sampling_args(parser) -> None:
    g = parser.add_argument_group("sampling policy of the synthetic data (categorical)")
    g.add_argument("--temperature", type=float, help="sampling temperature T (default 1)")
    g.add_argument("--top-k", type=int, help="sample among the K most likely tokens only")
    g.add_argument("--top-p", type=float,
                   help="sample among the smallest set of most likely tokens of mass >= P")
    c = parser.add_argument_group("curation of the synthetic data (categorical)")
    c.add_argument("--best-of", metavar="K",
                   help="keep one of K candidates, chosen by a Luce model of --reward "
                        "(K may be inf: the limit q ~ q e^r)")
    c.add_argument("--reward", metavar="R1,R2,...", help="reward of each token (--best-of)")
    c.add_argument("--accept", metavar="A1,A2,...",
                   help="a verifier: keep a sample of token i with probability Ai")


def _cmd_max_synthetic(args) -> int:
    from . import theory
    from .regimes import Mix

    model, desc = _model_from_args(args)
    n = theory.seddik_max_synthetic(model, args.real, args.eps)
    s = model.support_size
    eq11 = theory.seddik_eq11_max_synthetic(args.real, args.eps, s)
    result = {"model": desc, "support": s, "real": args.real, "eps": args.eps,
              "max_synthetic": None if n == float("inf") else n,  # None: unbounded
              "eq11_as_printed": eq11}
    if 1 <= n < float("inf"):
        result["bound_at_max"] = theory.seddik_deviation_bound(model, Mix(args.real, int(n)))
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"model        : {desc} ({s} tokens in the support)")
    print(f"real samples : N = {args.real}, tolerated E||p^(m) - p^(1)||_1 <= {args.eps}")
    print(f"max n        : {n} synthetic samples per generation (Seddik Thm 3 bound, "
          f"solved exactly)")
    if "bound_at_max" in result:
        print(f"bound there  : {result['bound_at_max']:.6g}")
    print(f"eq. (11)     : {eq11:.4g} (as printed; its small-n case only)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelcollapse",
        description="Exact and Monte Carlo theory of model collapse.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="run every registered theorem's checks")
    v.add_argument("--only", help="run theorems whose key contains this text")
    v.add_argument("--list", action="store_true",
                   help="list the theorem keys and titles (with --only: those selected) "
                        "and run nothing")
    v.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    v.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    v.set_defaults(func=_cmd_verify)

    c = sub.add_parser("collapse-time",
                       help="expected total-collapse time of a categorical model")
    _add_model_args(c)
    _add_regime_args(c)
    _add_sampling_args(c)
    c.add_argument("--method", default="auto",
                   choices=["auto", "coalescent", "marginal", "chain", "diffusion"])
    c.add_argument("--max-exact-n", type=int, default=2_000_000,
                   help="largest n for which auto uses the exact solver")
    c.add_argument("--quantiles", default="0.05,0.5,0.95",
                   help="quantiles of T to report ('' for none)")
    c.add_argument("--progress", action="store_true", help="show a progress bar")
    c.add_argument("--plot", metavar="FILE",
                   help="also draw the law of T (.png, .pdf, .svg; exact laws only)")
    c.add_argument("--json", action="store_true", help="print JSON")
    c.set_defaults(func=_cmd_collapse_time)

    x = sub.add_parser("max-synthetic",
                       help="most synthetic samples per generation that keep Seddik's "
                            "Thm 3 deviation bound below EPS (same N real samples each "
                            "generation)")
    _add_model_args(x)
    x.add_argument("--real", type=int, required=True, help="real samples N")
    x.add_argument("--eps", type=float, required=True,
                   help="tolerated E||p^(m) - p^(1)||_1")
    x.add_argument("--json", action="store_true", help="print JSON")
    x.set_defaults(func=_cmd_max_synthetic)

    f = sub.add_parser("forget", help="time to forget a token seen COUNT times among N")
    f.add_argument("--count", type=int, required=True)
    _add_regime_args(f)
    _add_sampling_args(f)
    f.add_argument("--method", default="coalescent", choices=["coalescent", "marginal"])
    f.add_argument("--progress", action="store_true", help="show a progress bar")
    f.add_argument("--plot", metavar="FILE", help="also draw the law (.png, .pdf, .svg)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=_cmd_forget)

    s = sub.add_parser("simulate", help="Monte Carlo simulation of recursive training")
    s.add_argument("--model", default="categorical",
                   choices=["categorical", "ngram", "gaussian", "mixture", "regression"])
    g = s.add_argument_group("categorical model (give exactly one)")
    g.add_argument("--p", type=_parse_p, help="probabilities, comma-separated")
    g.add_argument("--uniform", type=int, metavar="K", help="uniform over K tokens")
    g.add_argument("--zipf", type=int, metavar="K", help="Zipf law over K tokens")
    g.add_argument("--exponent", type=float, default=1.0, help="Zipf exponent (default 1)")
    g.add_argument("--wordfreq", metavar="LANG", help="real word frequencies (e.g. en)")
    g.add_argument("--top", type=int, default=50_000, help="words kept with --wordfreq")
    g.add_argument("--tokens", help="tokens (indices or words) whose probability and loss "
                                    "time to record, comma-separated")
    k = s.add_argument_group("n-gram model (--model ngram)")
    k.add_argument("--order", type=int, help="tokens of context, k >= 1 (default 1: "
                                              "a bigram model)")
    k.add_argument("--corpus", metavar="TEXT", help="'pydoc' (CPython's documentation, "
                   "offline; the default) or a UTF-8 text file to fit generation 0 to")
    k.add_argument("--random", type=int, metavar="V",
                   help="a seeded random table over V tokens instead of a text")
    k.add_argument("--tokenizer", choices=["char", "word"], help="default char")
    k.add_argument("--max-vocab", type=int, help="keep the most frequent tokens, the "
                                                 "rest mapped to <unk>")
    k.add_argument("--length", type=int, help="tokens per generated sequence (default: "
                                              "one sequence per generation)")
    k.add_argument("--unseen", choices=["keep", "backoff", "uniform"],
                   help="what a refit gives a context its corpus never visits "
                        "(default keep)")
    k.add_argument("--smoothing", type=float, help="additive smoothing of every row "
                                                   "(default 0)")
    h = s.add_argument_group("continuous models")
    h.add_argument("--dim", type=int, help="dimension (default 1; 2 for mixture)")
    h.add_argument("--var", type=float, default=1.0, help="Gaussian variance (default 1)")
    h.add_argument("--estimator", default="unbiased", choices=["unbiased", "mle"])
    h.add_argument("--components", type=int, default=2, help="mixture components fitted")
    h.add_argument("--noise", type=float, default=1.0, help="regression noise sigma")
    h.add_argument("--design", default="fixed", choices=["fixed", "fresh"])
    h.add_argument("--eps", type=float, default=0.01,
                   help="Gaussian collapse threshold on the std ratio (default 0.01)")
    _add_regime_args(s)
    _add_sampling_args(s)
    s.add_argument("--generations", default="100",
                   help="generations, or 'collapse' to run a categorical (or n-gram, "
                        "--unseen keep) Replace chain until every replicate collapsed "
                        "(default 100)")
    s.add_argument("--replicates", type=int, default=1000)
    s.add_argument("--backend", default="numba", choices=["numba", "numpy", "jax"])
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--statistics", help="statistics to record, comma-separated "
                                        "(default: all of the model's but raw_samples, recorded "
                                        "only when asked for)")
    s.add_argument("--out", metavar="FILE.npz", help="write the result here")
    s.add_argument("--progress", action="store_true", help="show a progress bar")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.set_defaults(func=_cmd_simulate)

    from .harness import cli as harness_cli
    from .plotting import cli as figures_cli
    from .sweep import cli as sweep_cli

    harness_cli.add_parser(sub)
    harness_cli.add_vae_parser(sub)
    harness_cli.add_perplexity_parser(sub)
    figures_cli.add_parser(sub)
    sweep_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command in ("figures", "harness", "vae", "perplexity"):  # files, never windows
        import matplotlib

        matplotlib.use("Agg")
    try:
        return args.func(args)
    except (ValueError, ImportError, NotImplementedError) as exc:
        # bad input, a missing optional extra, or a regime without that theory
        parser.exit(2, f"modelcollapse {args.command}: error: {exc}\n")
    except KeyboardInterrupt:  # Ctrl-C: no traceback, no partial output, status 130
        parser.exit(130, f"modelcollapse {args.command}: interrupted\n")


def _interrupts_between_imports() -> None:
    """Ctrl-C handling of the program (never of :func:`main` or the library).

    Python raises ``KeyboardInterrupt`` wherever the main thread is; where that is in a
    module's initialisation (importing JAX, a Cython module registering its types) or
    in a garbage-collection callback (JAX registers one), extension code can swallow
    it, or report it as "Exception ignored", and the run goes on; an interrupted
    extension import can also crash the process. Here Ctrl-C is raised only outside
    imports and garbage-collection callbacks: inside one, it is delivered again 50 ms
    later, until it lands in ordinary code. An interrupt that still ends up in a
    finaliser or weakref callback (reported as unraisable) is delivered again too."""
    import gc
    import signal
    import threading

    main_thread = threading.main_thread().ident

    def later():  # a real signal to the main thread: it also ends a sleep or a wait
        threading.Timer(0.05, signal.pthread_kill, (main_thread, signal.SIGINT)).start()

    def unsafe(frame) -> bool:
        callbacks = {getattr(cb, "__code__", None) for cb in gc.callbacks}
        while frame is not None:
            code = frame.f_code
            if code.co_filename.startswith("<frozen importlib") or code in callbacks:
                return True
            frame = frame.f_back
        return False

    def handler(signum, frame):
        if unsafe(frame):
            later()
            return
        raise KeyboardInterrupt

    previous = sys.unraisablehook

    def hook(unraisable):
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            later()
            return
        previous(unraisable)

    signal.signal(signal.SIGINT, handler)
    sys.unraisablehook = hook


def entry(argv: list[str] | None = None):
    """The command line as a program (the ``modelcollapse`` script and ``python -m
    modelcollapse``): :func:`main`, and on Ctrl-C one line on stderr and status 130,
    every time.

    Only the program does this, never :func:`main` or the library: Ctrl-C is raised
    outside imports and garbage-collection callbacks, where extension code would lose
    it (:func:`_interrupts_between_imports`); once the command has its status, a further
    Ctrl-C is ignored; and an interrupted
    command that loaded JAX leaves with ``os._exit(130)`` after flushing its output,
    without the interpreter's teardown, where JAX's threads, still running the
    interrupted work, could crash the process (a segmentation fault at exit)."""
    import os
    import signal

    _interrupts_between_imports()
    try:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        except KeyboardInterrupt:  # before main's own handler (parsing, imports)
            sys.stderr.write("modelcollapse: interrupted\n")
            code = 130
    except KeyboardInterrupt:  # a second Ctrl-C while the first was reported
        code = 130
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the command is over: leave
    if code == 130 and ("jax" in sys.modules or "jaxlib" in sys.modules):
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(130)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
