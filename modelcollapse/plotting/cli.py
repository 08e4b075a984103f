"""``modelcollapse figures``: one command per figure, and one for all.

Hook into :mod:`modelcollapse.cli`::

    from .plotting import cli as figures_cli
    figures_cli.add_parser(sub)          # sub = parser.add_subparsers(...)

The subparser sets ``func=run``.
"""

from __future__ import annotations

import argparse


def add_parser(subparsers) -> argparse.ArgumentParser:
    from . import NAMES

    p = subparsers.add_parser(
        "figures", help="regenerate the publication figures (data files, PDF, PNG)",
        description="Compute each figure's data (seeded; written as <name>_data.npz and "
                    "<name>_data.json) and render <name>.pdf and <name>.png. Figures: "
                    f"{NAMES[0]} ... {NAMES[-1]} (or 1..{len(NAMES)}), or 'all'.")
    p.add_argument("names", nargs="*", default=["all"], metavar="NAME",
                   help="figures to make (default: all)")
    p.add_argument("--quick", action="store_true",
                   help="small, fast settings (as in the test suite)")
    p.add_argument("--out", default="figures", metavar="DIR",
                   help="output directory (default: ./figures)")
    p.add_argument("--replot", action="store_true",
                   help="re-plot from the data files in --out; simulate nothing")
    p.add_argument("--format", default="pdf,png",
                   help="comma-separated figure formats (default: pdf,png)")
    p.add_argument("--harness", metavar="DIR",
                   help="transformer-harness results directory (figure 8)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    from ..files import check_output_path
    from . import NAMES, make_figure, resolve

    names = list(NAMES) if not args.names or "all" in args.names else \
        [resolve(n) for n in args.names]
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    check_output_path(args.out, "--out", folder=True)  # before any figure is computed
    status = 0
    for name in names:
        opts = {"harness_dir": args.harness} if name == "fig8_harness" and not args.replot \
            else {}
        try:
            res = make_figure(name, args.out, quick=args.quick, replot=args.replot,
                              formats=formats, **opts)
        except FileNotFoundError as exc:
            if name == "fig8_harness":
                print(f"{name}: skipped ({exc})")
                continue
            print(f"{name}: error: {exc}")
            status = 1
            continue
        if res.skipped:
            print(f"{name}: skipped ({res.skipped})")
            continue
        what = "replotted" if args.replot else f"computed in {res.compute_s:.1f} s"
        print(f"{name}: {what}, plotted in {res.plot_s:.1f} s -> "
              + ", ".join(str(f) for f in res.files))
    return status


def main(argv=None) -> int:
    """Stand-alone entry point (``python -m modelcollapse.plotting.cli``)."""
    parser = argparse.ArgumentParser(prog="modelcollapse")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["figures", *(argv or [])] if argv is None or
                             (argv and argv[0] != "figures") else argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main(sys.argv[1:]))
