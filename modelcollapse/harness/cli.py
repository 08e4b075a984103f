"""``modelcollapse harness``: hook with ``add_parser(subparsers)`` and ``run(args)``.

In :func:`modelcollapse.cli.build_parser`::

    from .harness import cli as harness_cli
    harness_cli.add_parser(sub)

``add_parser`` sets ``func=run`` on the subparser.
"""

from __future__ import annotations

import argparse
import json


def add_parser(subparsers) -> argparse.ArgumentParser:
    from . import CONFIGS, REGIMES

    h = subparsers.add_parser(
        "harness", help="recursive training of a small transformer on real text",
        description="Train generation 0 of a small transformer on CPython's documentation, "
                    "then each next generation on its predecessor's samples; resumable.")
    h.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    h.add_argument("--regime", default="replace", metavar="SPEC",
                   help="a regime spec (replace:40000, mix:20000:20000, accumulate:40000, "
                        "most-recent:40000:4, ... with :temperature=T:top_k=K:top_p=P) or "
                        f"a bare kind sized by the config's corpus ({', '.join(REGIMES)}; "
                        "default replace)")
    h.add_argument("--real-fraction", type=float, default=None,
                   help="share of real tokens for a bare --regime mix (default 0.5)")
    h.add_argument("--generations", type=int, default=None,
                   help="last generation to train (default: the config's)")
    h.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature of the synthetic data (sets the regime's)")
    h.add_argument("--top-k", type=int, default=None, help="sample from the K likeliest")
    h.add_argument("--top-p", type=float, default=None, help="nucleus sampling mass")
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--init", default="scratch", choices=["scratch", "finetune"],
                   help="each generation from a fresh initialisation, or fine-tuned from "
                        "generation 0 (Shumailov et al.)")
    h.add_argument("--perplexity", action="store_true",
                   help="score every training sequence of every generation with "
                        "generation 0 (Shumailov et al.'s perplexity study)")
    h.add_argument("--epochs", type=float, default=None,
                   help="train generations >= 1 for this many passes over their corpus "
                        "(default: the config's iterations)")
    h.add_argument("--out", default="harness_runs", metavar="DIR",
                   help="results and checkpoints (a re-run continues from here)")
    h.add_argument("--figure", nargs="?", const="", default=None, metavar="FILE.png",
                   help="also draw drift and held-out loss of every run under --out "
                        "(default file: DIR/harness.png)")
    h.add_argument("--progress", action="store_true", help="print progress")
    h.add_argument("--json", action="store_true", help="print the summary as JSON")
    h.set_defaults(func=run)
    return h


def run(args) -> int:
    import dataclasses

    from ..files import check_output_path
    from . import CONFIGS, compare_regimes, plot_results, resolve_regime, run_harness

    regime = resolve_regime(args.regime, CONFIGS[args.config], args.real_fraction)
    policy = {k: v for k, v in (("temperature", args.temperature), ("top_k", args.top_k),
                                ("top_p", args.top_p)) if v is not None}
    if policy:
        from ..regimes import refuse_twice

        refuse_twice(args.regime, policy)
        regime = dataclasses.replace(regime, **policy)
    check_output_path(args.out, "--out", folder=True)  # before any training
    if args.figure:
        check_output_path(args.figure, "--figure", parents=True)
    res = run_harness(args.config, regime, args.generations, out_dir=args.out,
                      seed=args.seed, init=args.init, progress=args.progress,
                      perplexity=args.perplexity, epochs=args.epochs)
    out = {"results": res["results_path"], "summary": res["summary"],
           "drift": [g["l1_to_gen1"] for g in res["generations"]],
           "heldout_loss": [g["heldout_loss"] for g in res["generations"]],
           "trained_now": res["invocations"][-1]["trained"]}
    if args.figure is not None:
        out["figure"] = plot_results(args.out, args.figure or None)
        out["comparison"] = compare_regimes(args.out)["comparisons"]
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"results      : {out['results']}")
    print(f"trained now  : generations {out['trained_now']}")
    for g in res["generations"]:
        th = g["theory"]
        exp = "-" if th["expected_distinct"] is None else f"{th['expected_distinct']:.2f}"
        d = "   -   " if g["l1_to_gen1"] is None else f"{g['l1_to_gen1']:.4f}"
        print(f"generation {g['generation']:2d}: drift L1 {d}  held-out loss "
              f"{g['heldout_loss']:.4f} (ppl {g['heldout_perplexity']:.2f})  "
              f"real tokens kept {th['observed_distinct']} (theory {exp})")
    if args.perplexity:
        _print_perplexity(res)
    if "token_loss_statement" in res["summary"]:
        print(res["summary"]["token_loss_statement"])
    for c in out.get("comparison", []):
        print(c["statement"])
    if "figure" in out:
        print(f"figure       : {', '.join(out['figure'])}")
    return 0


def _print_perplexity(res) -> None:
    lo, hi = res["perplexity_study"]["real_range"]
    print(f"perplexity under generation 0 of each training sequence (real text's 1-99% "
          f"range {lo:.2f}..{hi:.2f}):")
    print("gen  sequences   5%      median   95%      max      below  above | unigram "
          "shift (theory sd)")
    for g in res["generations"]:
        p, t = g["perplexity"], g.get("perplexity_theory") or {}
        qs = p["quantiles"]
        sh = "" if t.get("shift_from_gen1") is None else f"{t['shift_from_gen1']:+.4f}"
        if sh and t.get("shift_sd_from_gen1") is not None:
            sh += f" ({t['shift_sd_from_gen1']:.4f})"
        print(f"{g['generation']:3d}  {p['sequences']:9d}  {qs['0.05']:7.2f}  {qs['0.5']:7.2f}"
              f"  {qs['0.95']:7.2f}  {qs['1']:7.2f}  {p['below_real']:5.3f}  "
              f"{p['above_real']:5.3f} | {sh}")


def add_perplexity_parser(subparsers) -> argparse.ArgumentParser:
    """``modelcollapse perplexity``: Shumailov et al.'s perplexity study."""
    from . import CONFIGS, PERPLEXITY_SETTINGS

    p = subparsers.add_parser(
        "perplexity", help="the perplexity study of Shumailov et al. on the harness",
        description="Fine-tune generation 0 of the harness on its own text generation "
                    "after generation, and score every training sequence with generation "
                    "0; resumable. Settings: "
                    + "; ".join(f"{k}: {v['label']}" for k, v in PERPLEXITY_SETTINGS.items()))
    p.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    p.add_argument("--setting", default="no-real", choices=sorted(PERPLEXITY_SETTINGS))
    p.add_argument("--generations", type=int, default=9,
                   help="last generation to train (default 9, as in the paper)")
    p.add_argument("--temperature", type=float, default=None,
                   help="sampling temperature of the synthetic text (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--snippets", default=None, metavar="GENS",
                   help="also print text written by these generations, e.g. 0,1,5,9 "
                        "(the same random key for each)")
    p.add_argument("--out", default="harness_runs", metavar="DIR",
                   help="results, scores (perplexity.npz) and checkpoints")
    p.add_argument("--progress", action="store_true", help="print progress")
    p.add_argument("--json", action="store_true", help="print the records as JSON")
    p.set_defaults(func=run_perplexity)
    return p


def _generation_list(text: str, last: int) -> list[int]:
    try:
        gens = [int(x) for x in text.split(",")]
    except ValueError:
        raise ValueError(f"--snippets must be generations such as 0,1,5,9, got {text!r}") \
            from None
    bad = [g for g in gens if not 0 <= g <= last]
    if bad:
        raise ValueError(f"--snippets: generations must be in 0..{last}, got {bad}")
    return gens


def run_perplexity(args) -> int:
    from ..files import check_output_path
    from . import run_perplexity_study
    from ._snippets import snippets

    gens = None if args.snippets is None else _generation_list(args.snippets,
                                                               args.generations)
    check_output_path(args.out, "--out", folder=True)  # before any training
    res = run_perplexity_study(args.config, args.setting, args.generations,
                               out_dir=args.out, seed=args.seed,
                               temperature=args.temperature, progress=args.progress)
    text = None if gens is None else snippets(res, gens, seed=args.seed)
    if args.json:
        keep = ("generation", "iterations", "epochs", "heldout_loss", "perplexity",
                "unigram_perplexity", "perplexity_theory")
        print(json.dumps({"results": res["results_path"], "regime": res["regime"]["spec"],
                          "perplexity_study": res["perplexity_study"],
                          "generations": [{k: g.get(k) for k in keep}
                                          for g in res["generations"]],
                          "snippets": text}, indent=1))
        return 0
    print(f"results      : {res['results_path']}")
    print(f"setting      : {args.setting} ({res['regime']['spec']}, fine-tuned from "
          f"generation 0, {res['epochs']:g} epochs)")
    _print_perplexity(res)
    for g, t in (text or {}).items():
        print(f"generation {g} writes: {t[0]!r}")
    return 0


def add_vae_parser(subparsers) -> argparse.ArgumentParser:
    """``modelcollapse vae``: the VAE chain on scikit-learn's digits."""
    from ._vae_config import VAE_CONFIGS

    v = subparsers.add_parser(
        "vae", help="recursive training of a VAE on handwritten digits (Shumailov et al.)",
        description="Train a VAE on scikit-learn's 8x8 digits, then each next generation on "
                    "images decoded from its predecessor's prior; resumable.")
    v.add_argument("--config", default="tiny", choices=sorted(VAE_CONFIGS))
    v.add_argument("--regime", default="replace", metavar="SPEC",
                   help="replace (the config's images per generation), replace:N, "
                        "mix:REAL:SYNTHETIC (the same real digits every generation) or "
                        "accumulate:N (N real digits, then N images of every generation "
                        "kept)")
    v.add_argument("--generations", type=int, default=5,
                   help="last generation to train (default 5)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--out", default="vae_runs", metavar="DIR",
                   help="results (vae.json) and models (a re-run continues from here)")
    v.add_argument("--progress", action="store_true", help="print each generation")
    v.add_argument("--json", action="store_true", help="print the results as JSON")
    v.set_defaults(func=run_vae)
    return v


def run_vae(args) -> int:
    from . import run_vae_chain

    res = run_vae_chain(args.config, args.regime, args.generations, seed=args.seed,
                        progress=args.progress, out_dir=args.out)
    if args.json:
        print(json.dumps({k: v for k, v in res.items() if k != "records"} | {
            "records": [{k: v for k, v in r.items() if k != "grid"}
                        for r in res["records"]]}, indent=1))
        return 0
    print(f"VAE chain, config {args.config}, regime {res['regime']}, seed {args.seed}: "
          f"classifier accuracy {res['classifier_accuracy']:.3f} on held-out real digits")
    print("gen  pixel var  pairwise  class entropy  homozygosity  neutral chain")
    for r in res["records"]:
        th = r.get("theory_homozygosity")
        print(f"{r['generation']:3d}  {r['pixel_variance']:9.4f}  {r['pairwise_distance']:8.3f}"
              f"  {r['class_entropy']:13.3f}  {r['class_homozygosity']:12.3f}  "
              + (f"{th:13.3f}" if th is not None else "            -"))
    print(f"results: {args.out}/vae.json")
    return 0
