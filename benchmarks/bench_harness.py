"""Seddik et al. 2024, Fig. 3, on the CPU: the transformer harness for several
generations under fully synthetic, 50% real and 80% real data, over several seeds; and
the key/value-cache sampler against the full-window sampler, side by side.

    python benchmarks/bench_harness.py --config tiny --generations 10 --seeds 0,1,2
    python benchmarks/bench_harness.py --sampler-speed
    python benchmarks/bench_harness.py --sampler-speed --sampler-configs paper \
        --sequences 8 --repeats 1

The first writes ``benchmarks/results/harness_<config>.json`` (per run and generation:
drift, held-out loss, surviving tokens and the categorical theory, the wall time, the
machine, and a summary per setting) and draws figure 8 from the runs
(``benchmarks/results/harness_<config>_figure/``; ``--gallery`` copies it to
``docs/figures/fig8_harness.png``), with the categorical theory for the same corpus size
beside the network. Checkpoints go to
``--work`` (default ``/tmp/modelcollapse_harness_bench``): an interrupted benchmark
resumes there. The second writes ``benchmarks/results/harness_sampler.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

from modelcollapse.files import write_text
from modelcollapse.harness import CONFIGS, resolve_regime, run_harness

RESULTS = Path(__file__).parent / "results"
DOCS_FIGURES = Path(__file__).parent.parent / "docs" / "figures"


def _setting(text: str, config):
    """``replace`` or ``mix:R`` (R = real share) -> a Regime sized by the config."""
    kind, _, frac = text.partition(":")
    return resolve_regime(kind, config, float(frac) if frac else None)


def fig3(args) -> int:
    config = CONFIGS[args.config]
    seeds = [int(s) for s in args.seeds.split(",")]
    regimes = [_setting(s, config) for s in args.settings.split(",")]
    runs, paths, t_all = [], [], time.perf_counter()
    for seed in seeds:
        for regime in regimes:
            t0 = time.perf_counter()
            res = run_harness(config, regime, args.generations, out_dir=args.work,
                              seed=seed, init=args.init, progress=True)
            wall = time.perf_counter() - t0
            keep = ("generation", "training_tokens", "heldout_loss", "l1_to_gen1",
                    "l1_to_gen1_std", "l1_to_gen0", "train_loss", "train_seconds",
                    "train_tokens_per_s", "model_flops_per_s", "sample_tokens_per_s",
                    "seconds")
            paths.append(Path(res["results_path"]))
            runs.append({  # the results file relative to --work: no path of this machine
                "seed": seed, "regime": res["regime"], "init": res["init"],
                "results_path": paths[-1].relative_to(args.work).as_posix(),
                "wall_seconds_this_call": wall,
                "generation_seconds": sum(g["seconds"] for g in res["generations"][1:]),
                "gen0_train_seconds": res["generations"][0]["train_seconds"],
                "generations": [{**{k: g.get(k) for k in keep},
                                 "observed_distinct": g["theory"]["observed_distinct"],
                                 "expected_distinct": g["theory"]["expected_distinct"]}
                                for g in res["generations"]],
                "summary": res["summary"]})
            print(f"seed {seed} {res['regime']['label']}: drift "
                  f"{[g['l1_to_gen1'] for g in res['generations']]}, {wall:.0f}s",
                  flush=True)
    out = {"benchmark": "harness_fig3", "config": config.to_dict(),
           "settings": [r.spec for r in regimes], "seeds": seeds, "init": args.init,
           "generations": args.generations,
           "wall_seconds_this_call": time.perf_counter() - t_all,
           "compute_seconds_all_runs": None,
           "machine": {"cpu_count": os.cpu_count(), "machine": platform.machine(),
                       "python": platform.python_version()},
           "dtype": json.loads(paths[0].read_text())
           ["environment"]["dtype"],
           "note": "seconds include other work sharing the machine; model FLOP/s as in "
                   "PaLM App. B (6 P + 12 L d T per trained token)",
           "peak_flops": args.peak_flops,
           "runs": runs}
    import shutil

    import numpy as np

    from modelcollapse.plotting import load_data, make_figure

    figdir = RESULTS / f"harness_{args.config}_figure"
    print(make_figure("fig8_harness", figdir, harness_dir=args.work,
                      config=args.config))
    data = load_data(figdir, "fig8_harness")
    summary = []
    for i, name in enumerate(data["params"]["settings"]):
        d, th = data[f"r{i}_drift"], data[f"r{i}_theory_l1_mean"]
        loss, sup = data[f"r{i}_loss"], data[f"r{i}_distinct"]
        row = {"setting": name, "seeds": data["params"]["seeds"][i],
               "last_generation": int(data[f"r{i}_generation"][-1]),
               "drift_last_mean": float(d[:, -1].mean()),
               "drift_last_range": [float(d[:, -1].min()), float(d[:, -1].max())],
               "drift_gen2_mean": float(d[:, 1].mean()),
               "categorical_drift_last": float(th[-1]),
               "categorical_drift_gen2": float(th[1]),
               "drift_over_categorical_last": float(d[:, -1].mean() / th[-1]),
               "heldout_loss_gen0_mean": float(data[f"r{i}_loss_gen0"].mean()),
               "heldout_loss_gen1_mean": float(loss[:, 0].mean()),
               "heldout_loss_last_mean": float(loss[:, -1].mean()),
               "heldout_loss_last_range": [float(loss[:, -1].min()),
                                           float(loss[:, -1].max())],
               "real_tokens_last_mean": float(sup[:, -1].mean()),
               "categorical_support_last": float(data[f"r{i}_theory_support_mean"][-1]),
               "drift_increase_last_half_mean": float(
                   (d[:, -1] - d[:, d.shape[1] // 2]).mean())}
        summary.append(row)
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v)
                          for k, v in row.items()}), flush=True)
    out["summary"] = summary
    import jax

    from modelcollapse.harness._model import make_model
    from modelcollapse.harness._train import model_flops_per_token

    vocab = json.loads(paths[0].read_text())["data"]["vocab_size"]
    fpt = model_flops_per_token(make_model(config, vocab, jax.random.key(0)), config)
    tps = float(np.median([g["train_tokens_per_s"] for r in runs
                           for g in r["generations"][1:]]))
    out["throughput"] = {
        "train_tokens_per_s_median": tps, "model_flops_per_token": fpt,
        "model_flops_per_s_median": tps * fpt,
        "model_flop_utilisation": tps * fpt / args.peak_flops if args.peak_flops else None}
    print(json.dumps(out["throughput"]), flush=True)
    # what the runs took when they were trained (resumed calls take ~0 s themselves)
    out["compute_seconds_all_runs"] = (
        sum(r["generation_seconds"] for r in runs)
        + sum({r["seed"]: r["gen0_train_seconds"] for r in runs}.values()))
    print(f"compute: {out['compute_seconds_all_runs'] / 60:.1f} min in all", flush=True)
    out["figure"] = str(figdir.relative_to(RESULTS.parent.parent))
    write_text(RESULTS / f"harness_{args.config}.json", json.dumps(out, indent=1))
    if args.gallery:
        shutil.copy(figdir / "fig8_harness.png", DOCS_FIGURES / "fig8_harness.png")
    return 0


def sampler_speed(args) -> int:
    """Tokens/s of the full-window and the cached sampler on the same model and key,
    alternating (best of ``--repeats`` after one compile call each)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from modelcollapse.harness._model import make_model
    from modelcollapse.harness._train import SAMPLERS

    rows = []
    for name in args.sampler_configs.split(","):
        config = CONFIGS[name]
        model = make_model(config, 103, jax.random.key(0))
        num, length = min(config.sample_batch, args.sequences), config.sample_length
        best = {}
        same = None
        for _ in range(args.repeats + 1):
            outs = {}
            for kind, fn in SAMPLERS.items():
                t0 = time.perf_counter()
                outs[kind] = np.asarray(fn(model, jax.random.key(1), jnp.int32(0),
                                           jnp.float32(1.0), num, length))
                dt = time.perf_counter() - t0
                best[kind] = dt if kind not in best else min(best[kind], dt)
            same = bool(np.array_equal(outs["cache"], outs["window"]))
        toks = num * (length - 1)
        row = {"config": name, "sequences": num, "length": length,
               "repeats": args.repeats,
               "tokens_per_s_window": toks / best["window"],
               "tokens_per_s_cache": toks / best["cache"],
               "speedup": best["window"] / best["cache"], "same_tokens": same}
        rows.append(row)
        print(row, flush=True)
    path = RESULTS / "harness_sampler.json"
    old = json.loads(path.read_text())["rows"] if path.exists() else []
    done = {r["config"] for r in rows}
    rows = [r for r in old if r["config"] not in done] + rows  # one row per config
    write_text(path, json.dumps(
        {"benchmark": "harness_sampler",
         "note": "untrained models (the cost does not depend on the weights); the first "
                 "call of each sampler compiles and is not timed; best of `repeats`",
         "machine": {"cpu_count": os.cpu_count(), "machine": platform.machine()},
         "rows": rows}, indent=1))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="tiny", choices=sorted(CONFIGS))
    ap.add_argument("--generations", type=int, default=10)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--settings", default="replace,mix:0.5,mix:0.8")
    ap.add_argument("--init", default="scratch", choices=["scratch", "finetune"])
    ap.add_argument("--work", default="/tmp/modelcollapse_harness_bench")
    ap.add_argument("--peak-flops", type=float, default=None,
                    help="the device's peak FLOP/s (float32), for the model FLOP "
                         "utilisation")
    ap.add_argument("--gallery", action="store_true",
                    help="also copy the figure to docs/figures/fig8_harness.png")
    ap.add_argument("--sampler-speed", action="store_true")
    ap.add_argument("--sampler-configs", default="tiny,small")
    ap.add_argument("--sequences", type=int, default=64,
                    help="sequences per sampler call (--sampler-speed)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    return sampler_speed(args) if args.sampler_speed else fig3(args)


if __name__ == "__main__":
    raise SystemExit(main())
